//! The walker's load balancer hop: a client on the internet, a listener, a
//! registered target.
//!
//! Why it exists: an instance in a private subnet is still exposed when an
//! internet-facing load balancer forwards to it. The packet is the client's
//! (`src`), addressed to the listener (`Origin::LoadBalancer(lb, port)`), and
//! arrives at the target's private address (`dst`) on the target port
//! (`port`). It passes when, through **some** subnet of the load balancer
//! (its node there receives the client and forwards), every check holds:
//!
//! - front end: the client is public IPv4; the subnet's route table sends it
//!   to an internet gateway attached to the load balancer's VPC; the subnet's
//!   NACL lets the listener port in and the return out; the load balancer's
//!   security groups admit it (an NLB without groups admits everything);
//! - forwarding: a listener of that protocol and port forwards to the target
//!   on that port (target groups: a *receiving* target, see
//!   [`crate::model::TargetGroup::receiving`]; classic: a registered instance
//!   and the listener's instance port); instance targets receive on their
//!   primary interface's primary private address;
//! - back end, load balancer side: the subnet's table sends the target
//!   address to `local`, its NACL lets the flow out and the return in, the
//!   load balancer's groups (if any) have an outbound rule for it;
//! - back end, target side, from the node's address — any address of the
//!   subnet that may be the node's ([`LoadBalancer::node_addresses`]:
//!   describe-load-balancers does not give them) — or, when the
//!   group preserves the client's address, from the client: the target's
//!   table sends the source to `local` (not checked with a preserved client
//!   address: the load balancer carries the reply), its NACL both ways, and
//!   its groups, where a reference to one of the load balancer's groups
//!   admits the load balancer's traffic.
//!
//! "Some node address" is decided exactly by trying the first address of each
//! range of node addresses and every boundary, inside them, of the prefixes
//! and addresses the target's checks name: between two consecutive
//! boundaries every check answers the same.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use super::{
    Delivery, Direction, Packet, acl_checks, acl_of, is_public, lookup, routes_to, sg_checks, show, table_of,
    target_name,
};
use crate::model::{
    Interface, LoadBalancer, LoadBalancerKind, Network, Protocol, RouteDestination, RouteTable, RouteTarget, SgPeer,
};

/// One way a listener forwards to the target: the target group (or the classic load balancer) and whether the
/// client's address is kept.
struct Forward {
    via: String,
    preserve: bool,
}

/// Delivers a load balancer packet to `eni` (addressed at `private`); the common interface checks are in `d` already.
#[allow(clippy::too_many_arguments)]
pub(super) fn deliver(
    net: &Network,
    p: &Packet,
    lb_id: &str,
    listener_port: u16,
    eni: &Interface,
    private: IpAddr,
    table: Option<&RouteTable>,
    mut d: Delivery,
) -> Delivery {
    let Some(lb) = net.load_balancers.get(lb_id) else {
        d.blocked_by.push(format!("load balancer {lb_id} not found"));
        return d;
    };
    if !lb.internet_facing {
        d.blocked_by.push(format!("load balancer {} is internal", lb.name));
    }
    if !p.src.is_ipv4() || !private.is_ipv4() {
        d.blocked_by.push("load balancers are followed over IPv4 only".into());
    } else if !is_public(p.src) {
        d.blocked_by.push(format!("{} is not an internet address", p.src));
    }
    if lb.vpc_id != eni.vpc_id {
        d.blocked_by.push(format!("load balancer {} is in {}, the target in {}", lb.name, lb.vpc_id, eni.vpc_id));
    }
    let forwards = forwards(net, lb, p.protocol, listener_port, eni, private, p.port, &mut d.blocked_by);
    let igws: Vec<&String> =
        net.internet_gateways.values().filter(|g| g.vpc_ids.contains(&lb.vpc_id)).map(|g| &g.id).collect();
    if igws.is_empty() {
        d.blocked_by.push(format!("no internet gateway attached to {}", lb.vpc_id));
    }
    if !d.blocked_by.is_empty() || forwards.is_empty() {
        return d;
    }
    let mut failures = Vec::new();
    for subnet in &lb.subnet_ids {
        for f in &forwards {
            match through(net, p, lb, subnet, &igws, listener_port, eni, private, table, f) {
                Ok(path) => {
                    d.path = path;
                    d.delivered_to = Some((eni.id.clone(), private));
                    return d;
                }
                Err(why) => failures.extend(why.into_iter().map(|w| format!("through {subnet} ({}): {w}", f.via))),
            }
        }
    }
    if lb.subnet_ids.is_empty() {
        failures.push(format!("load balancer {} has no subnet", lb.name));
    }
    failures.dedup();
    d.blocked_by.extend(failures);
    d
}

/// The listeners of (`p`, `listener_port`) that forward to `private` of `eni` on `port`; when there is none, why.
#[allow(clippy::too_many_arguments)]
fn forwards(
    net: &Network,
    lb: &LoadBalancer,
    p: Protocol,
    listener_port: u16,
    eni: &Interface,
    private: IpAddr,
    port: u16,
    blocked: &mut Vec<String>,
) -> Vec<Forward> {
    let primary = eni.instance_id.as_ref().and_then(|i| net.instances.get(i)).is_some_and(|i| {
        i.interface_ids.first() == Some(&eni.id) && eni.private_ips.first().map(|a| IpAddr::V4(*a)) == Some(private)
    });
    let is_instance_target = |id: &str| primary && eni.instance_id.as_deref() == Some(id);
    let mut out = Vec::new();
    let mut why = Vec::new();
    let listeners: Vec<_> = lb.listeners.iter().filter(|l| l.protocol == p && l.port == listener_port).collect();
    if listeners.is_empty() {
        blocked.push(format!("load balancer {} has no {} listener", lb.name, show(p, listener_port)));
        return out;
    }
    for l in listeners {
        if lb.kind == LoadBalancerKind::Classic {
            if l.instance_ids.iter().any(|i| is_instance_target(i)) && l.instance_port == Some(port) {
                out.push(Forward { via: lb.id.clone(), preserve: false });
            } else {
                why.push(format!("listener {} does not forward to {private} port {port}", show(p, listener_port)));
            }
            continue;
        }
        for tg_id in &l.target_group_ids {
            let Some(tg) = net.target_groups.get(tg_id) else {
                why.push(format!("target group {tg_id} not found"));
                continue;
            };
            let matches = |id: &str| match tg.target_type.as_str() {
                "ip" => id.parse::<IpAddr>().ok() == Some(private),
                _ => is_instance_target(id),
            };
            let on_port = |t: &crate::model::Target| t.port.or(tg.port) == Some(port);
            if tg.receiving().any(|t| matches(&t.id) && on_port(t)) {
                out.push(Forward { via: tg.id.clone(), preserve: tg.preserves_client_ip(lb.kind) });
            } else if let Some(t) = tg.targets.iter().find(|t| matches(&t.id) && on_port(t)) {
                let state = t.state.as_deref().unwrap_or("-");
                why.push(format!("target {} of {tg_id} is {state}: it receives nothing", t.id));
            } else {
                why.push(format!("target group {tg_id} does not send to {private} port {port}"));
            }
        }
    }
    if out.is_empty() {
        blocked.extend(why);
    }
    out
}

/// Every check through one subnet of the load balancer: Ok(path) or Err(every failure).
#[allow(clippy::too_many_arguments)]
fn through(
    net: &Network,
    p: &Packet,
    lb: &LoadBalancer,
    subnet: &str,
    igws: &[&String],
    listener_port: u16,
    eni: &Interface,
    private: IpAddr,
    table: Option<&RouteTable>,
    f: &Forward,
) -> Result<Vec<String>, Vec<String>> {
    let mut why = Vec::new();
    let Some(sub) = net.subnets.get(subnet) else { return Err(vec![format!("subnet {subnet} not found")]) };
    let Some(lb_table) = table_of(net, subnet, &lb.vpc_id) else {
        return Err(vec![format!("subnet {subnet} has no route table")]);
    };
    let Some(lb_acl) = acl_of(net, subnet, &lb.vpc_id) else {
        return Err(vec![format!("subnet {subnet} has no network ACL (deny)")]);
    };
    let mut path = Vec::new();
    // Front end.
    match lookup(net, lb_table, p.src) {
        Some(r) if r.blackhole => why.push(format!("route table {} blackholes {} (return path)", lb_table.id, p.src)),
        Some(r) => match &r.target {
            RouteTarget::InternetGateway(g) if igws.contains(&g) => path.push(g.clone()),
            t => why.push(format!(
                "route table {} routes {} to {}, not to an attached internet gateway (return path)",
                lb_table.id,
                p.src,
                target_name(t)
            )),
        },
        None => why.push(format!("route table {} has no route for {} (return path)", lb_table.id, p.src)),
    }
    path.extend([lb_table.id.clone(), lb_acl.id.clone()]);
    why.extend(acl_checks(lb_acl, Direction::Inbound, p.protocol, p.src, listener_port));
    if lb.security_group_ids.is_empty() {
        if lb.kind != LoadBalancerKind::Network {
            why.push(format!("load balancer {} has no security group", lb.name));
        }
    } else {
        let admitting: Vec<&String> = lb
            .security_group_ids
            .iter()
            .filter(|g| rule_admits(net, g, true, p.protocol, listener_port, p.src, &lb.vpc_id))
            .collect();
        if admitting.is_empty() {
            why.push(format!(
                "no security group of load balancer {} ({}) has an inbound rule for {} from {}",
                lb.name,
                lb.security_group_ids.join(", "),
                show(p.protocol, listener_port),
                p.src
            ));
        }
        path.extend(admitting.into_iter().cloned());
    }
    path.extend([lb.id.clone(), f.via.clone()]);
    // Back end, load balancer side.
    if let Err(e) = routes_to(net, lb_table, private, &RouteTarget::Local) {
        why.push(e);
    }
    why.extend(acl_checks(lb_acl, Direction::Outbound, p.protocol, private, p.port));
    if !lb.security_group_ids.is_empty()
        && !lb.security_group_ids.iter().any(|g| rule_admits(net, g, false, p.protocol, p.port, private, &lb.vpc_id))
    {
        why.push(format!(
            "no security group of load balancer {} has an outbound rule for {} to {private}",
            lb.name,
            show(p.protocol, p.port)
        ));
    }
    // Back end, target side.
    let target_path = if f.preserve {
        target_side(net, p, eni, table, p.src, false, &lb.security_group_ids)
    } else {
        let Some(cidr) = sub.cidr_v4 else {
            why.push(format!("subnet {subnet} has no IPv4 range"));
            return Err(why);
        };
        let mut first_failure = None;
        let mut found = None;
        for s in node_candidates(net, eni, table, &lb.node_addresses(net, sub)) {
            match target_side(net, p, eni, table, IpAddr::V4(s), true, &lb.security_group_ids) {
                Ok(path) => {
                    found = Some(path);
                    break;
                }
                Err(e) if first_failure.is_none() => first_failure = Some((s, e)),
                Err(_) => {}
            }
        }
        match (found, first_failure) {
            (Some(path), _) => Ok(path),
            (None, Some((s, e))) => Err(vec![format!(
                "no address of {subnet} ({cidr}) that the load balancer may use passes the target's checks, e.g. \
                 from {s}: {}",
                e.join("; ")
            )]),
            (None, None) => Err(vec![format!("{subnet} has no address left for the load balancer")]),
        }
    };
    match target_path {
        Ok(t) => path.extend(t),
        Err(e) => why.extend(e),
    }
    if why.is_empty() { Ok(path) } else { Err(why) }
}

/// Whether group `g` has an inbound (`ingress`) or outbound rule for (p, port) with a peer containing `a`.
fn rule_admits(net: &Network, g: &str, ingress: bool, p: Protocol, port: u16, a: IpAddr, vpc: &str) -> bool {
    let Some(sg) = net.security_groups.get(g) else { return false };
    let rules = if ingress { &sg.ingress } else { &sg.egress };
    rules.iter().any(|r| {
        r.protocol.admits(p)
            && (!r.protocol.has_ports() || r.ports.contains(port))
            && match &r.peer {
                SgPeer::Cidr(n) => n.contains(&a),
                SgPeer::PrefixList(id) => {
                    net.prefix_lists.get(id).is_some_and(|pl| pl.cidrs.iter().any(|n| n.contains(&a)))
                }
                SgPeer::Group(g) => super::group_member(net, g, vpc, a),
            }
    })
}

/// The target's checks from source `s`: its route back to `s` (when `route`), its NACL both ways, its groups.
fn target_side(
    net: &Network,
    p: &Packet,
    eni: &Interface,
    table: Option<&RouteTable>,
    s: IpAddr,
    route: bool,
    lb_groups: &[String],
) -> Result<Vec<String>, Vec<String>> {
    let mut why = Vec::new();
    let mut path = Vec::new();
    if let Some(t) = table {
        if route && let Err(e) = routes_to(net, t, s, &RouteTarget::Local) {
            why.push(format!("{e} (return path)"));
        }
        path.push(t.id.clone());
    }
    match acl_of(net, &eni.subnet_id, &eni.vpc_id) {
        None => why.push(format!("subnet {} has no network ACL (deny)", eni.subnet_id)),
        Some(acl) => {
            path.push(acl.id.clone());
            why.extend(acl_checks(acl, Direction::Inbound, p.protocol, s, p.port));
        }
    }
    match sg_checks(net, eni, p.protocol, p.port, s, lb_groups) {
        Ok(groups) => path.extend(groups),
        Err(e) => why.extend(e),
    }
    path.push(eni.id.clone());
    if let Some(i) = &eni.instance_id {
        path.push(i.clone());
    }
    if why.is_empty() { Ok(path) } else { Err(why) }
}

/// Addresses of the node ranges that cover every case of the target's checks: each range's first address, and
/// every start and end + 1 inside a range of the prefixes of the target's route table, NACL, groups (with their
/// prefix lists) and of the member addresses of the groups they reference.
fn node_candidates(net: &Network, eni: &Interface, table: Option<&RouteTable>, ranges: &[(u32, u32)]) -> Vec<Ipv4Addr> {
    let mut prefixes: Vec<IpNet> = Vec::new();
    let expand = |pl: &str| net.prefix_lists.get(pl).map(|l| l.cidrs.clone()).unwrap_or_default();
    if let Some(t) = table {
        for r in &t.routes {
            match &r.destination {
                RouteDestination::Cidr(n) => prefixes.push(*n),
                RouteDestination::PrefixList(pl) => prefixes.extend(expand(pl)),
            }
        }
    }
    if let Some(acl) = acl_of(net, &eni.subnet_id, &eni.vpc_id) {
        prefixes.extend(acl.entries.iter().map(|e| e.cidr));
    }
    for g in eni.security_group_ids.iter().filter_map(|g| net.security_groups.get(g)) {
        for r in &g.ingress {
            match &r.peer {
                SgPeer::Cidr(n) => prefixes.push(*n),
                SgPeer::PrefixList(pl) => prefixes.extend(expand(pl)),
                SgPeer::Group(m) => {
                    for i in net.interfaces.values().filter(|i| i.security_group_ids.contains(m)) {
                        prefixes.extend(i.addresses().map(IpNet::from));
                    }
                }
            }
        }
    }
    let mut points: Vec<u64> = ranges.iter().map(|r| r.0 as u64).collect();
    for n in prefixes {
        if let IpNet::V4(n) = n {
            for q in [u32::from(n.network()) as u64, u32::from(n.broadcast()) as u64 + 1] {
                if ranges.iter().any(|&(lo, hi)| (lo as u64..=hi as u64).contains(&q)) {
                    points.push(q);
                }
            }
        }
    }
    points.sort_unstable();
    points.dedup();
    points.into_iter().map(|q| Ipv4Addr::from(q as u32)).collect()
}
