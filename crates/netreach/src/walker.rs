//! The concrete packet walker: one packet, hop by hop, plain loops.
//!
//! Why it exists: it is the reference the symbolic [`crate::engine`] is
//! checked against. It is deliberately simple (no indexes, no set algebra,
//! no shared code with the engine beside the model and [`is_public`]) so that
//! it can be read against `docs/netreach.md` line by line. It also records
//! *every* failing check, not only the first, which is what
//! [`crate::engine::why`] reports.

use std::net::IpAddr;

use ipnet::IpNet;

mod lb;
mod tgw;

pub(crate) use tgw::vpc_attachment;

use crate::model::{
    AclEntry, Interface, Network, NetworkAcl, Protocol, Route, RouteDestination, RouteTable, RouteTarget, SgPeer,
};

/// Address ranges that are not internet (public) IPv4 space.
pub const NON_PUBLIC_V4: [&str; 9] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
];

/// Address ranges that are not internet (public) IPv6 space.
pub const NON_PUBLIC_V6: [&str; 5] = ["::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"];

/// Whether `a` is a public (internet) address: outside [`NON_PUBLIC_V4`] and [`NON_PUBLIC_V6`].
pub fn is_public(a: IpAddr) -> bool {
    static NON: std::sync::LazyLock<Vec<IpNet>> = std::sync::LazyLock::new(|| {
        NON_PUBLIC_V4.iter().chain(NON_PUBLIC_V6.iter()).map(|n| n.parse().expect("constant prefix")).collect()
    });
    !NON.iter().any(|n| n.contains(&a))
}

/// Where a packet comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The internet, through an internet gateway attached to the destination's VPC.
    Internet,
    /// On-premises, through this virtual private gateway.
    Vgw(String),
    /// A peered VPC, through this peering connection.
    Peering(String),
    /// The internet, through this load balancer's listener on this port; the
    /// packet's `dst` and `port` are the target's address and port, `src` the client's.
    LoadBalancer(String, u16),
    /// Another attachment of a transit gateway: this attachment (VPN, Direct
    /// Connect, peering, or another VPC's) is where the packet enters the TGW.
    TransitGateway(String),
}

/// One inbound packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Where it enters the VPC.
    pub origin: Origin,
    /// Source address.
    pub src: IpAddr,
    /// Destination address (for the internet: a public IPv4 or an IPv6 address).
    pub dst: IpAddr,
    /// Protocol (not [`Protocol::All`]).
    pub protocol: Protocol,
    /// Destination port (ignored unless TCP or UDP).
    pub port: u16,
}

/// What happened to a packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The interface and private address it reached.
    pub delivered_to: Option<(String, IpAddr)>,
    /// Components crossed, in order: gateway, route table, ACL, admitting groups, interface, instance.
    pub path: Vec<String>,
    /// Every check that failed (empty when delivered).
    pub blocked_by: Vec<String>,
}

/// Human spelling of a protocol/port pair.
pub fn show(p: Protocol, port: u16) -> String {
    match p {
        Protocol::Tcp => format!("tcp/{port}"),
        Protocol::Udp => format!("udp/{port}"),
        Protocol::Icmp => "icmp".into(),
        Protocol::Icmpv6 => "icmpv6".into(),
        Protocol::All => "all".into(),
        Protocol::Other(n) => format!("proto {n}"),
    }
}

/// Delivers `p` to whichever interface it is addressed to (the first one that accepts it).
pub fn deliver(net: &Network, p: &Packet) -> Delivery {
    let mut last: Option<Delivery> = None;
    for eni in net.interfaces.values() {
        if private_target(eni, p).is_none() {
            continue;
        }
        let d = deliver_to(net, p, &eni.id);
        if d.delivered_to.is_some() {
            return d;
        }
        last = Some(d);
    }
    last.unwrap_or_else(|| Delivery {
        blocked_by: vec![format!("no interface has address {}", p.dst)],
        ..Delivery::default()
    })
}

/// The private address of `eni` that `p` reaches, if it is addressed to `eni`.
fn private_target(eni: &Interface, p: &Packet) -> Option<IpAddr> {
    match (&p.origin, p.dst) {
        (Origin::Internet, IpAddr::V4(d)) => eni
            .public_ips
            .iter()
            .find(|(pb, pr)| *pb == d && eni.private_ips.contains(pr))
            .map(|(_, pr)| IpAddr::V4(*pr)),
        (Origin::Internet, IpAddr::V6(d)) => eni.ipv6_ips.contains(&d).then_some(p.dst),
        _ => eni.addresses().any(|a| a == p.dst).then_some(p.dst),
    }
}

/// The route table of a subnet: its explicit association, else its VPC's main table.
pub(crate) fn table_of<'a>(net: &'a Network, subnet: &str, vpc: &str) -> Option<&'a RouteTable> {
    for t in net.route_tables.values() {
        if t.subnet_ids.iter().any(|s| s == subnet) {
            return Some(t);
        }
    }
    net.route_tables.values().find(|t| t.main && t.vpc_id == vpc)
}

/// The route `a` takes: longest prefix, then local < static < propagated, then table order.
pub(crate) fn lookup<'a>(net: &Network, t: &'a RouteTable, a: IpAddr) -> Option<&'a Route> {
    let mut best: Option<((u8, u8, usize), &Route)> = None;
    for (i, r) in t.routes.iter().enumerate() {
        let prefixes: Vec<IpNet> = match &r.destination {
            RouteDestination::Cidr(n) => vec![*n],
            RouteDestination::PrefixList(id) => net.prefix_lists.get(id).map(|p| p.cidrs.clone()).unwrap_or_default(),
        };
        for n in prefixes {
            if !n.contains(&a) {
                continue;
            }
            let key = (255 - n.prefix_len(), r.origin as u8, i);
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((key, r));
            }
        }
    }
    best.map(|(_, r)| r)
}

/// Whether table `t` sends `a` to `target` (and not into a blackhole). Err: why not.
pub(crate) fn routes_to(net: &Network, t: &RouteTable, a: IpAddr, target: &RouteTarget) -> Result<(), String> {
    match lookup(net, t, a) {
        Some(r) if r.blackhole => Err(format!("route table {} blackholes {a}", t.id)),
        Some(r) if &r.target == target => Ok(()),
        Some(r) => {
            Err(format!("route table {} routes {a} to {}, not {}", t.id, target_name(&r.target), target_name(target)))
        }
        None => Err(format!("route table {} has no route for {a}", t.id)),
    }
}

pub(crate) fn target_name(t: &RouteTarget) -> String {
    match t {
        RouteTarget::Local => "local".into(),
        RouteTarget::InternetGateway(x)
        | RouteTarget::EgressOnlyGateway(x)
        | RouteTarget::NatGateway(x)
        | RouteTarget::VpnGateway(x)
        | RouteTarget::Peering(x)
        | RouteTarget::TransitGateway(x)
        | RouteTarget::Interface(x)
        | RouteTarget::Instance(x)
        | RouteTarget::Other(x) => x.clone(),
    }
}

/// Whether an ACL entry or SG rule for (`rp`, `ports`) matches protocol `p` and `port`.
fn proto_port_match(rp: Protocol, ports: crate::model::PortRange, p: Protocol, port: u16) -> bool {
    rp.admits(p) && (!rp.has_ports() || ports.contains(port))
}

/// First matching entry of one direction, in rule-number order: `Some(entry)` or implicit deny (`None`).
pub(crate) fn acl_first(entries: &[AclEntry], egress: bool, p: Protocol, addr: IpAddr, port: u16) -> Option<&AclEntry> {
    let mut sorted: Vec<&AclEntry> = entries.iter().filter(|e| e.egress == egress).collect();
    sorted.sort_by_key(|e| e.rule_number);
    sorted.into_iter().find(|e| proto_port_match(e.protocol, e.ports, p, port) && e.cidr.contains(&addr))
}

/// The client ephemeral ports the return path may use.
pub const EPHEMERAL: (u16, u16) = (1024, 65535);

/// Delivers `p` to interface `eni_id` only, recording every failed check.
pub fn deliver_to(net: &Network, p: &Packet, eni_id: &str) -> Delivery {
    let mut d = Delivery::default();
    let Some(eni) = net.interfaces.get(eni_id) else {
        d.blocked_by.push(format!("interface {eni_id} not found"));
        return d;
    };
    let Some(private) = private_target(eni, p) else {
        d.blocked_by.push(format!("{} is not an address of {eni_id} for this origin", p.dst));
        return d;
    };
    let blocked = &mut d.blocked_by;
    let vpc = eni.vpc_id.as_str();
    if p.src.is_ipv4() != p.dst.is_ipv4() {
        blocked.push(format!("source {} and destination {} are of different families", p.src, p.dst));
    }
    match p.protocol {
        Protocol::All => blocked.push("protocol `all` is not a packet protocol".into()),
        Protocol::Icmp if private.is_ipv6() => blocked.push("ICMP (v4) to an IPv6 address".into()),
        Protocol::Icmpv6 if private.is_ipv4() => blocked.push("ICMPv6 to an IPv4 address".into()),
        _ => {}
    }
    if let Some(iid) = &eni.instance_id {
        match net.instances.get(iid) {
            None => blocked.push(format!("instance {iid} not found")),
            Some(i) if !i.running => blocked.push(format!("instance {iid} is not running")),
            _ => {}
        }
    }
    if !net.subnets.contains_key(&eni.subnet_id) {
        blocked.push(format!("subnet {} not found", eni.subnet_id));
    }
    let table = table_of(net, &eni.subnet_id, vpc);
    if table.is_none() {
        blocked.push(format!("subnet {} has no route table", eni.subnet_id));
    }
    if let Origin::LoadBalancer(lb, listener_port) = &p.origin {
        return lb::deliver(net, p, lb, *listener_port, eni, private, table, d);
    }
    // The gateway / peering, and the return route to it.
    let via: String = match &p.origin {
        Origin::Internet => {
            if !is_public(p.src) {
                blocked.push(format!("{} is not an internet address", p.src));
            }
            let igws: Vec<&String> =
                net.internet_gateways.values().filter(|g| g.vpc_ids.iter().any(|v| v == vpc)).map(|g| &g.id).collect();
            if igws.is_empty() {
                blocked.push(format!("no internet gateway attached to {vpc}"));
            }
            let mut via = igws.first().map(|s| s.to_string()).unwrap_or_default();
            if let Some(t) = table {
                let r = lookup(net, t, p.src);
                match r {
                    Some(r)
                        if !r.blackhole
                            && matches!(&r.target, RouteTarget::InternetGateway(g) if igws.contains(&g)) =>
                    {
                        via = target_name(&r.target)
                    }
                    Some(r) if r.blackhole => {
                        blocked.push(format!("route table {} blackholes {} (return path)", t.id, p.src))
                    }
                    Some(r) => blocked.push(format!(
                        "route table {} routes {} to {}, not to an attached internet gateway (return path)",
                        t.id,
                        p.src,
                        target_name(&r.target)
                    )),
                    None => blocked.push(format!("route table {} has no route for {} (return path)", t.id, p.src)),
                }
            }
            via
        }
        Origin::Vgw(g) => {
            match net.vpn_gateways.get(g) {
                None => blocked.push(format!("virtual private gateway {g} not found")),
                Some(gw) if !gw.vpc_ids.iter().any(|v| v == vpc) => {
                    blocked.push(format!("{g} is not attached to {vpc}"))
                }
                _ => {}
            }
            if let Some(t) = table
                && let Err(e) = routes_to(net, t, p.src, &RouteTarget::VpnGateway(g.clone()))
            {
                blocked.push(format!("{e} (return path)"));
            }
            g.clone()
        }
        Origin::LoadBalancer(..) => unreachable!("handled above"),
        Origin::TransitGateway(entry) => {
            let tgw = tgw::checks(net, entry, vpc, p.src, private, blocked);
            if let (Some(t), Some(tgw)) = (table, &tgw)
                && let Err(e) = routes_to(net, t, p.src, &RouteTarget::TransitGateway(tgw.clone()))
            {
                blocked.push(format!("{e} (return path)"));
            }
            entry.clone()
        }
        Origin::Peering(x) => {
            peering_checks(net, x, vpc, p.src, private, blocked);
            if let Some(t) = table
                && let Err(e) = routes_to(net, t, p.src, &RouteTarget::Peering(x.clone()))
            {
                blocked.push(format!("{e} (return path)"));
            }
            x.clone()
        }
    };
    d.path.push(via);
    if let Some(t) = table {
        d.path.push(t.id.clone());
    }
    // Network ACL: inbound, then the return traffic outbound.
    match acl_of(net, &eni.subnet_id, vpc) {
        None => d.blocked_by.push(format!("subnet {} has no network ACL (deny)", eni.subnet_id)),
        Some(acl) => {
            d.path.push(acl.id.clone());
            d.blocked_by.extend(acl_checks(acl, Direction::Inbound, p.protocol, p.src, p.port));
        }
    }
    // Security groups: stateful, any rule of any group.
    match sg_checks(net, eni, p.protocol, p.port, p.src, &[]) {
        Ok(admitting) => d.path.extend(admitting),
        Err(refused) => d.blocked_by.extend(refused),
    }
    d.path.push(eni.id.clone());
    if let Some(i) = &eni.instance_id {
        d.path.push(i.clone());
    }
    if d.blocked_by.is_empty() {
        d.delivered_to = Some((eni.id.clone(), private));
    } else {
        d.path.clear();
    }
    d
}

/// The network ACL of a subnet: its explicit association, else its VPC's default ACL.
pub(crate) fn acl_of<'a>(net: &'a Network, subnet: &str, vpc: &str) -> Option<&'a NetworkAcl> {
    net.network_acls
        .values()
        .find(|a| a.subnet_ids.iter().any(|s| s == subnet))
        .or_else(|| net.network_acls.values().find(|a| a.default && a.vpc_id == vpc))
}

/// Which way the first packet of a flow crosses an ACL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The flow comes in from `remote` to `port`; its return goes out to `remote` on an ephemeral port.
    Inbound,
    /// The flow goes out to `remote` on `port`; its return comes in from `remote` on an ephemeral port.
    Outbound,
}

/// A stateless ACL both ways: the flow's packet, then its return on some ephemeral port. Every failure.
pub(crate) fn acl_checks(acl: &NetworkAcl, dir: Direction, p: Protocol, remote: IpAddr, port: u16) -> Vec<String> {
    let mut blocked = Vec::new();
    let what = show(p, port);
    let (first, words) = match dir {
        Direction::Inbound => (false, ("inbound", "from", "outbound")),
        Direction::Outbound => (true, ("outbound", "to", "inbound")),
    };
    match acl_first(&acl.entries, first, p, remote, port) {
        Some(e) if e.allow => {}
        Some(e) => blocked
            .push(format!("NACL {} rule {} denies {what} {} {} {remote}", acl.id, e.rule_number, words.0, words.1)),
        None => blocked
            .push(format!("NACL {} has no {} rule for {what} {} {remote} (implicit deny)", acl.id, words.0, words.1)),
    }
    let mut ports = vec![0u16];
    if p.has_ports() {
        ports = vec![EPHEMERAL.0];
        for e in &acl.entries {
            for q in [e.ports.from as u32, e.ports.to as u32 + 1] {
                if (EPHEMERAL.0 as u32..=EPHEMERAL.1 as u32).contains(&q) {
                    ports.push(q as u16);
                }
            }
        }
    }
    let back = ports.iter().any(|&q| acl_first(&acl.entries, !first, p, remote, q).is_some_and(|e| e.allow));
    if !back {
        blocked.push(format!(
            "NACL {} {} denies the return traffic ({} {} {remote} on every ephemeral port {}-{})",
            acl.id,
            words.2,
            show(p, 0).trim_end_matches("/0"),
            if dir == Direction::Inbound { "to" } else { "from" },
            EPHEMERAL.0,
            EPHEMERAL.1
        ));
    }
    blocked
}

/// Whether an SG rule's peer contains `src` (group references: members in `vpc` or actively peered VPCs, and every
/// address for the groups in `everyone`, the load balancer's own groups on its traffic).
fn peer_contains(net: &Network, peer: &SgPeer, vpc: &str, src: IpAddr, everyone: &[String]) -> bool {
    match peer {
        SgPeer::Cidr(n) => n.contains(&src),
        SgPeer::PrefixList(id) => net.prefix_lists.get(id).is_some_and(|pl| pl.cidrs.iter().any(|n| n.contains(&src))),
        SgPeer::Group(g) => everyone.contains(g) || group_member(net, g, vpc, src),
    }
}

/// The interface's groups admitting (p, port) from `src`: Ok(the admitting ones) or Err(why each refuses).
pub(crate) fn sg_checks(
    net: &Network,
    eni: &Interface,
    p: Protocol,
    port: u16,
    src: IpAddr,
    everyone: &[String],
) -> Result<Vec<String>, Vec<String>> {
    let what = show(p, port);
    let mut admitting = Vec::new();
    let mut refused = Vec::new();
    for gid in &eni.security_group_ids {
        let Some(sg) = net.security_groups.get(gid) else {
            refused.push(format!("SG {gid} not found"));
            continue;
        };
        let ok = sg.ingress.iter().any(|r| {
            proto_port_match(r.protocol, r.ports, p, port) && peer_contains(net, &r.peer, &eni.vpc_id, src, everyone)
        });
        if ok {
            admitting.push(gid.clone())
        } else {
            refused.push(format!("SG {gid} has no inbound rule for {what} from {src}"))
        }
    }
    if admitting.is_empty() {
        if refused.is_empty() {
            refused.push(format!("interface {} has no security group", eni.id));
        }
        return Err(refused);
    }
    Ok(admitting)
}

/// Whether `a` is a private address of an interface carrying group `g` in `vpc` or a VPC actively peered with it.
pub(crate) fn group_member(net: &Network, g: &str, vpc: &str, a: IpAddr) -> bool {
    net.interfaces.values().any(|i| {
        i.security_group_ids.iter().any(|x| x == g)
            && i.addresses().any(|x| x == a)
            && (i.vpc_id == vpc
                || net.peerings.values().any(|pc| {
                    pc.active
                        && ((pc.requester_vpc == vpc && pc.accepter_vpc == i.vpc_id)
                            || (pc.accepter_vpc == vpc && pc.requester_vpc == i.vpc_id))
                }))
    })
}

/// The VPC's CIDRs (both families).
pub(crate) fn vpc_cidrs(net: &Network, vpc: &str) -> Vec<IpNet> {
    net.vpcs.get(vpc).map(|v| v.cidrs()).unwrap_or_default()
}

/// Peering checks: active, joins `vpc` to another VPC, no overlap, the source is a peer address whose subnet routes `dst` back.
fn peering_checks(net: &Network, x: &str, vpc: &str, src: IpAddr, dst: IpAddr, blocked: &mut Vec<String>) {
    let Some(pc) = net.peerings.get(x) else {
        blocked.push(format!("peering {x} not found"));
        return;
    };
    if !pc.active {
        blocked.push(format!("peering {x} is not active"));
    }
    let peer = if pc.requester_vpc == vpc {
        &pc.accepter_vpc
    } else if pc.accepter_vpc == vpc {
        &pc.requester_vpc
    } else {
        blocked.push(format!("peering {x} does not join {vpc}"));
        return;
    };
    if peer == vpc || !net.vpcs.contains_key(peer) || !net.vpcs.contains_key(vpc) {
        blocked.push(format!("peering {x}: peer VPC {peer} unknown or the same VPC"));
        return;
    }
    let mine = vpc_cidrs(net, vpc);
    let theirs = vpc_cidrs(net, peer);
    if mine.iter().any(|a| theirs.iter().any(|b| a.contains(b) || b.contains(a))) {
        blocked.push(format!("peering {x}: CIDRs of {vpc} and {peer} overlap"));
    }
    if !theirs.iter().any(|n| n.contains(&src)) {
        blocked.push(format!("{src} is not in the CIDRs of {peer}"));
        return;
    }
    let mut found_subnet = false;
    for s in net.subnets.values().filter(|s| &s.vpc_id == peer) {
        let inside = s.cidr_v4.is_some_and(|n| IpNet::V4(n).contains(&src))
            || s.cidrs_v6.iter().any(|n| IpNet::V6(*n).contains(&src));
        if !inside {
            continue;
        }
        found_subnet = true;
        if let Some(t) = table_of(net, &s.id, peer)
            && routes_to(net, t, dst, &RouteTarget::Peering(x.to_string())).is_ok()
        {
            return;
        }
    }
    if found_subnet {
        blocked.push(format!("no route table of {src}'s subnet in {peer} routes {dst} to {x}"));
    } else {
        blocked.push(format!("{src} is in no subnet of {peer}"));
    }
}
