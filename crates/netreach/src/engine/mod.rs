//! The symbolic reachability engine.
//!
//! Why it exists: "which ports of which interface can be reached from the
//! internet, from on-premises, from peered VPCs, and from which addresses" is
//! a question about every packet at once. The engine answers it exactly with
//! set algebra ([`crate::sets`]) over address and port intervals, never by
//! enumerating packets, and follows the semantics of `docs/netreach.md` — the
//! same ones the concrete [`crate::walker`] implements hop by hop, which the
//! differential test checks packet by packet.
//!
//! An answer is a list of [`Reachability`] records. For one (interface,
//! destination address, kind, via, protocol) there may be several records:
//! each is a rectangle `ports × sources`, and the records of one key are
//! disjoint; their union is exactly the set of (source, port) pairs the walker
//! delivers.

mod explain;
mod parts;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use explain::{Explanation, why};
pub use parts::internet;

use crate::model::{Interface, Network, PortRange, Protocol, RouteTarget};
use crate::sets::{AddrSet, RangeSet};
use crate::walker::table_of;
use parts::{Members, Piece, RouteMap};

/// Where reachable traffic comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReachabilityKind {
    /// Public IPv4/IPv6 space through an internet gateway.
    Internet,
    /// Any address through a virtual private gateway.
    Vgw,
    /// The peer VPC's addresses through an active peering connection.
    PeeredVpc,
}

/// One rectangle of reachability: these sources reach these ports of this address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reachability {
    /// The interface reached.
    pub interface_id: String,
    /// Its instance, if any.
    pub instance_id: Option<String>,
    /// Its VPC.
    pub vpc_id: String,
    /// Its subnet.
    pub subnet_id: String,
    /// Where the traffic comes from.
    pub kind: ReachabilityKind,
    /// The internet gateway, virtual private gateway or peering connection crossed.
    pub via: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination ports, disjoint and sorted (`0-65535` for protocols without ports).
    pub ports: Vec<PortRange>,
    /// Source addresses as disjoint sorted prefixes.
    pub sources: Vec<IpNet>,
    /// The address the packets are sent to (public IPv4 for the internet, else private/IPv6).
    pub destination: IpAddr,
    /// The private address of the interface that receives them.
    pub private_address: IpAddr,
    /// Components crossed in order: gateway, route table, ACL, groups, interface, instance.
    pub path: Vec<String>,
    /// The security groups that admit some of this traffic.
    pub security_groups: Vec<String>,
}

impl Reachability {
    /// Whether this record admits a packet from `src` to `port` (the port is ignored for protocols without ports).
    pub fn admits(&self, src: IpAddr, port: u16) -> bool {
        (!self.protocol.has_ports() || self.ports.iter().any(|r| r.contains(port)))
            && self.sources.iter().any(|n| n.contains(&src))
    }
}

/// The protocols the engine reports: TCP, UDP, ICMP (IPv4), ICMPv6 (IPv6), every other protocol number named by
/// an ACL entry or security group rule, and last [`Protocol::All`], which in a [`Reachability`] stands for
/// "every other protocol number" (they are all treated alike, since only `all` rules can match them).
pub fn protocols(net: &Network) -> Vec<Protocol> {
    let mut others = BTreeSet::new();
    for a in net.network_acls.values() {
        for e in &a.entries {
            if let Protocol::Other(n) = e.protocol {
                others.insert(n);
            }
        }
    }
    for g in net.security_groups.values() {
        for r in &g.ingress {
            if let Protocol::Other(n) = r.protocol {
                others.insert(n);
            }
        }
    }
    let mut v = vec![Protocol::Tcp, Protocol::Udp, Protocol::Icmp, Protocol::Icmpv6];
    v.extend(others.into_iter().map(Protocol::Other));
    v.push(Protocol::All);
    v
}

/// The protocol a packet of protocol `p` is reported under, given [`protocols`]`(net)`.
pub fn reported_as(protocols: &[Protocol], p: Protocol) -> Protocol {
    if protocols.contains(&p) { p } else { Protocol::All }
}

/// A protocol number no rule names (stands for all of them).
fn unnamed(protocols: &[Protocol]) -> Protocol {
    (0..=255u8)
        .map(Protocol::Other)
        .find(|p| !protocols.contains(p) && !matches!(p, Protocol::Other(1 | 6 | 17 | 58)))
        .unwrap_or(Protocol::Other(255))
}

/// The admission of one (ACL, groups, protocol): per port piece, the sources passing the ACL both ways and some group, and each group's sources.
type Admission = Vec<Piece<(AddrSet, Vec<(String, AddrSet)>)>>;

struct Ctx<'a> {
    net: &'a Network,
    internet: AddrSet,
    members: Members,
    routes: HashMap<String, Arc<RouteMap>>,
    admission: HashMap<(String, String, Vec<String>, Protocol), Arc<Admission>>,
    protocols: Vec<Protocol>,
}

impl<'a> Ctx<'a> {
    fn routes(&mut self, rtb: &str) -> Arc<RouteMap> {
        if let Some(m) = self.routes.get(rtb) {
            return m.clone();
        }
        let m = Arc::new(self.net.route_tables.get(rtb).map(|t| parts::route_map(self.net, t)).unwrap_or_default());
        self.routes.insert(rtb.to_string(), m.clone());
        m
    }

    /// VPCs whose members a group reference in `vpc` covers: itself and its actively peered VPCs.
    fn group_scope(&self, vpc: &str) -> Vec<String> {
        let mut v = vec![vpc.to_string()];
        for pc in self.net.peerings.values().filter(|p| p.active) {
            if pc.requester_vpc == vpc {
                v.push(pc.accepter_vpc.clone());
            } else if pc.accepter_vpc == vpc {
                v.push(pc.requester_vpc.clone());
            }
        }
        v
    }

    fn admission(&mut self, acl: &str, vpc: &str, groups: &[String], p: Protocol) -> Arc<Admission> {
        let key = (acl.to_string(), vpc.to_string(), groups.to_vec(), p);
        if let Some(a) = self.admission.get(&key) {
            return a.clone();
        }
        let entries = &self.net.network_acls[acl].entries;
        let inbound = parts::acl_inbound(entries, p);
        let ret = parts::acl_return(entries, p);
        let scope = self.group_scope(vpc);
        let sg = parts::sg_admit(self.net, groups, p, &scope, &self.members);
        // Merge the two piecewise maps.
        let mut out: Admission = Vec::new();
        let (mut i, mut j) = (0, 0);
        let mut lo: u32 = 0;
        while lo <= 65535 {
            while inbound[i].hi < lo as u16 {
                i += 1;
            }
            while sg[j].hi < lo as u16 {
                j += 1;
            }
            let hi = inbound[i].hi.min(sg[j].hi);
            let acl_ok = inbound[i].val.intersect(&ret);
            let mut union = AddrSet::none();
            let mut per = Vec::new();
            for (g, s) in &sg[j].val {
                let s = s.intersect(&acl_ok);
                if !s.is_empty() {
                    union = union.union(&s);
                    per.push((g.clone(), s));
                }
            }
            out.push(Piece { lo: lo as u16, hi, val: (union, per) });
            lo = hi as u32 + 1;
        }
        let a = Arc::new(out);
        self.admission.insert(key, a.clone());
        a
    }
}

/// Whether the interface can receive anything: running instance (or none), known subnet.
fn interface_up(net: &Network, eni: &Interface) -> bool {
    let inst_ok = match &eni.instance_id {
        None => true,
        Some(i) => net.instances.get(i).is_some_and(|i| i.running),
    };
    inst_ok && net.subnets.contains_key(&eni.subnet_id)
}

/// Computes every inbound reachability of every interface of `net`.
pub fn analyse(net: &Network) -> Vec<Reachability> {
    let mut ctx = Ctx::new(net);
    let mut out = Vec::new();
    for eni in net.interfaces.values() {
        analyse_interface(&mut ctx, eni, &mut out);
    }
    out
}

/// The reachability of one interface.
pub fn analyse_one(net: &Network, interface_id: &str) -> Vec<Reachability> {
    let mut ctx = Ctx::new(net);
    let mut out = Vec::new();
    if let Some(eni) = net.interfaces.get(interface_id) {
        analyse_interface(&mut ctx, eni, &mut out);
    }
    out
}

impl<'a> Ctx<'a> {
    fn new(net: &'a Network) -> Ctx<'a> {
        Ctx {
        net,
        internet: internet(),
        members: parts::members(net),
        routes: HashMap::new(),
        admission: HashMap::new(),
        protocols: protocols(net),
        }
    }
}

/// One (kind, via, destination, private address, source set) to evaluate.
struct Entry {
    kind: ReachabilityKind,
    via: String,
    dst: IpAddr,
    private: IpAddr,
    sources: AddrSet,
}

fn analyse_interface(ctx: &mut Ctx, eni: &Interface, out: &mut Vec<Reachability>) {
    let net = ctx.net;
    if !interface_up(net, eni) {
        return;
    }
    let vpc = eni.vpc_id.as_str();
    let Some(table) = table_of(net, &eni.subnet_id, vpc) else { return };
    let acl = net
        .network_acls
        .values()
        .find(|a| a.subnet_ids.iter().any(|s| s == &eni.subnet_id))
        .or_else(|| net.network_acls.values().find(|a| a.default && a.vpc_id == vpc));
    let Some(acl) = acl else { return };
    let rm = ctx.routes(&table.id);
    let mut entries: Vec<Entry> = Vec::new();
    // Internet.
    let mut publics: Vec<(IpAddr, IpAddr)> = eni
        .public_ips
        .iter()
        .filter(|(_, pr)| eni.private_ips.contains(pr))
        .map(|(pb, pr)| (IpAddr::V4(*pb), IpAddr::V4(*pr)))
        .chain(eni.ipv6_ips.iter().map(|a| (IpAddr::V6(*a), IpAddr::V6(*a))))
        .collect();
    publics.sort();
    publics.dedup_by_key(|x| x.0);
    let mut privates: Vec<IpAddr> = eni.addresses().collect();
    privates.sort();
    privates.dedup();
    for g in net.internet_gateways.values().filter(|g| g.vpc_ids.iter().any(|v| v == vpc)) {
        let s = ctx.internet.intersect(&parts::routed_to(&rm, &RouteTarget::InternetGateway(g.id.clone())));
        for &(dst, private) in &publics {
            let sources = s.family(dst.is_ipv6());
            entries.push(Entry { kind: ReachabilityKind::Internet, via: g.id.clone(), dst, private, sources });
        }
    }
    // Virtual private gateways.
    for g in net.vpn_gateways.values().filter(|g| g.vpc_ids.iter().any(|v| v == vpc)) {
        let s = parts::routed_to(&rm, &RouteTarget::VpnGateway(g.id.clone()));
        for &dst in &privates {
            entries.push(Entry { kind: ReachabilityKind::Vgw, via: g.id.clone(), dst, private: dst, sources: s.family(dst.is_ipv6()) });
        }
    }
    // Peerings.
    for pc in net.peerings.values().filter(|p| p.active) {
        let peer = if pc.requester_vpc == vpc {
            &pc.accepter_vpc
        } else if pc.accepter_vpc == vpc {
            &pc.requester_vpc
        } else {
            continue;
        };
        let (Some(mine), Some(theirs)) = (net.vpcs.get(vpc), net.vpcs.get(peer.as_str())) else { continue };
        if peer == vpc {
            continue;
        }
        let cidrs = |v: &crate::model::Vpc| -> Vec<IpNet> {
            v.cidrs_v4.iter().map(|n| IpNet::V4(*n)).chain(v.cidrs_v6.iter().map(|n| IpNet::V6(*n))).collect()
        };
        let (mine, theirs) = (cidrs(mine), cidrs(theirs));
        if parts::overlap(&mine, &theirs) {
            continue;
        }
        let target = RouteTarget::Peering(pc.id.clone());
        let back = parts::routed_to(&rm, &target).intersect(&AddrSet::nets(&theirs));
        if back.is_empty() {
            continue;
        }
        let peer_subnets: Vec<_> = net.subnets.values().filter(|s| &s.vpc_id == peer).collect();
        for &dst in &privates {
            let mut from = AddrSet::none();
            for s in &peer_subnets {
                let Some(t) = table_of(net, &s.id, peer) else { continue };
                let m = ctx.routes(&t.id);
                if parts::routes_addr_to(&m, dst, &target) {
                    let nets: Vec<IpNet> =
                        s.cidr_v4.map(IpNet::V4).into_iter().chain(s.cidrs_v6.iter().map(|n| IpNet::V6(*n))).collect();
                    from = from.union(&AddrSet::nets(&nets));
                }
            }
            let sources = from.intersect(&back).family(dst.is_ipv6());
            entries.push(Entry { kind: ReachabilityKind::PeeredVpc, via: pc.id.clone(), dst, private: dst, sources });
        }
    }
    let mut groups = eni.security_group_ids.clone();
    groups.sort();
    groups.dedup();
    let protos = ctx.protocols.clone();
    for e in entries {
        if e.sources.is_empty() {
            continue;
        }
        for &p in &protos {
            if (p == Protocol::Icmp && e.dst.is_ipv6()) || (p == Protocol::Icmpv6 && e.dst.is_ipv4()) {
                continue;
            }
            let eval = if p == Protocol::All { unnamed(&protos) } else { p };
            let adm = ctx.admission(&acl.id, vpc, &groups, eval);
            emit(eni, table.id.as_str(), acl.id.as_str(), &e, p, &adm, out);
        }
    }
}

/// Intersects an admission with the entry's sources and emits one record per distinct source set.
fn emit(eni: &Interface, rtb: &str, acl: &str, e: &Entry, p: Protocol, adm: &Admission, out: &mut Vec<Reachability>) {
    // (sources, ports, groups), grouped by equal source set.
    let mut acc: Vec<(AddrSet, Vec<(u128, u128)>, BTreeSet<String>)> = Vec::new();
    for piece in adm.iter() {
        let (union, per) = &piece.val;
        if !union.intersects(&e.sources) {
            continue;
        }
        let s = union.intersect(&e.sources);
        let gs: BTreeSet<String> = per.iter().filter(|(_, gs)| gs.intersects(&s)).map(|(g, _)| g.clone()).collect();
        match acc.iter_mut().find(|(x, _, _)| *x == s) {
            Some((_, ports, g)) => {
                ports.push((piece.lo as u128, piece.hi as u128));
                g.extend(gs);
            }
            None => acc.push((s, vec![(piece.lo as u128, piece.hi as u128)], gs)),
        }
    }
    for (s, ports, gs) in acc {
        let ports: Vec<PortRange> = RangeSet::from_ranges(ports)
            .ranges()
            .iter()
            .map(|&(a, b)| PortRange { from: a as u16, to: b as u16 })
            .collect();
        let mut security_groups: Vec<String> = Vec::new();
        for g in &eni.security_group_ids {
            if gs.contains(g) && !security_groups.contains(g) {
                security_groups.push(g.clone());
            }
        }
        let mut path = vec![e.via.clone(), rtb.to_string(), acl.to_string()];
        path.extend(security_groups.iter().cloned());
        path.push(eni.id.clone());
        if let Some(i) = &eni.instance_id {
            path.push(i.clone());
        }
        out.push(Reachability {
            interface_id: eni.id.clone(),
            instance_id: eni.instance_id.clone(),
            vpc_id: eni.vpc_id.clone(),
            subnet_id: eni.subnet_id.clone(),
            kind: e.kind,
            via: e.via.clone(),
            protocol: p,
            ports,
            sources: s.to_prefixes(),
            destination: e.dst,
            private_address: e.private,
            path,
            security_groups,
        });
    }
}

#[cfg(test)]
mod tests;
