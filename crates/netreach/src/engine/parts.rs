//! Symbolic building blocks: route tables, network ACLs and security groups as
//! sets of addresses, piecewise over ports.
//!
//! Why it exists: each component is turned once into sets (cached by the
//! caller per table, ACL and group list), so the per-interface work is only a
//! few intersections.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{AclEntry, Network, PortRange, Protocol, RouteDestination, RouteTable, RouteTarget, SgPeer};
use crate::sets::AddrSet;
use crate::walker::{EPHEMERAL, NON_PUBLIC_V4, NON_PUBLIC_V6};

/// The internet: every address outside the non-public ranges.
pub fn internet() -> AddrSet {
    let non: Vec<IpNet> =
        NON_PUBLIC_V4.iter().chain(NON_PUBLIC_V6.iter()).map(|s| s.parse().expect("constant prefix")).collect();
    AddrSet::all().subtract(&AddrSet::nets(&non))
}

/// A route table as the set of destinations each (non-blackhole) target receives.
pub type RouteMap = Vec<(RouteTarget, AddrSet)>;

/// Longest-prefix match, symbolically: routes sorted by (longer prefix, origin, table order), each takes what is left.
pub fn route_map(net: &Network, t: &RouteTable) -> RouteMap {
    let mut exp: Vec<((u8, u8, usize), IpNet)> = Vec::new();
    for (i, r) in t.routes.iter().enumerate() {
        let ps: Vec<IpNet> = match &r.destination {
            RouteDestination::Cidr(n) => vec![*n],
            RouteDestination::PrefixList(id) => net.prefix_lists.get(id).map(|p| p.cidrs.clone()).unwrap_or_default(),
        };
        for n in ps {
            exp.push(((255 - n.prefix_len(), r.origin as u8, i), n));
        }
    }
    exp.sort_by_key(|e| e.0);
    let mut left = AddrSet::all();
    let mut out: RouteMap = Vec::new();
    for ((_, _, i), n) in exp {
        let m = left.intersect(&AddrSet::net(&n));
        if m.is_empty() {
            continue;
        }
        left = left.subtract(&m);
        let r = &t.routes[i];
        if r.blackhole {
            continue;
        }
        match out.iter_mut().find(|(tg, _)| tg == &r.target) {
            Some((_, s)) => *s = s.union(&m),
            None => out.push((r.target.clone(), m)),
        }
    }
    out
}

/// The destinations `m` sends to `target`.
pub fn routed_to(m: &RouteMap, target: &RouteTarget) -> AddrSet {
    m.iter().find(|(t, _)| t == target).map(|(_, s)| s.clone()).unwrap_or_default()
}

/// Whether `m` sends `a` to `target`.
pub fn routes_addr_to(m: &RouteMap, a: IpAddr, target: &RouteTarget) -> bool {
    m.iter().any(|(t, s)| t == target && s.contains(a))
}

/// One piece of a function over ports: `lo..=hi` maps to a value.
#[derive(Clone, Debug)]
pub struct Piece<T> {
    /// First port.
    pub lo: u16,
    /// Last port.
    pub hi: u16,
    /// The value on the whole interval.
    pub val: T,
}

/// Port interval boundaries (starting points) induced by `ranges`, within `lo..=hi`.
fn cuts(ranges: impl Iterator<Item = PortRange>, lo: u16, hi: u16) -> Vec<(u16, u16)> {
    let mut b: BTreeSet<u32> = BTreeSet::new();
    b.insert(lo as u32);
    for r in ranges {
        for q in [r.from as u32, r.to as u32 + 1] {
            if q > lo as u32 && q <= hi as u32 {
                b.insert(q);
            }
        }
    }
    let v: Vec<u32> = b.into_iter().collect();
    (0..v.len()).map(|i| (v[i] as u16, if i + 1 < v.len() { (v[i + 1] - 1) as u16 } else { hi })).collect()
}

fn matches(rp: Protocol, ports: PortRange, p: Protocol, port: u16) -> bool {
    rp.admits(p) && (!rp.has_ports() || ports.contains(port))
}

/// First-match evaluation of one ACL direction for protocol `p` and one port: the addresses allowed.
fn acl_eval(entries: &[&AclEntry], p: Protocol, port: u16) -> AddrSet {
    let mut left = AddrSet::all();
    let mut allowed = AddrSet::none();
    for e in entries {
        if !matches(e.protocol, e.ports, p, port) {
            continue;
        }
        let m = left.intersect(&AddrSet::net(&e.cidr));
        if m.is_empty() {
            continue;
        }
        left = left.subtract(&m);
        if e.allow {
            allowed = allowed.union(&m);
        }
        if left.is_empty() {
            break;
        }
    }
    allowed
}

fn sorted(entries: &[AclEntry], egress: bool) -> Vec<&AclEntry> {
    let mut v: Vec<&AclEntry> = entries.iter().filter(|e| e.egress == egress).collect();
    v.sort_by_key(|e| e.rule_number);
    v
}

fn port_ranges_of<'a>(entries: &'a [&'a AclEntry], p: Protocol) -> impl Iterator<Item = PortRange> + 'a {
    entries.iter().filter(move |e| e.protocol.has_ports() && e.protocol.admits(p)).map(|e| e.ports)
}

/// An ACL's decision on the first packet of a flow, for protocol `p`, in one direction (`egress`: outbound, the
/// remote address is the destination; else inbound, the remote is the source): the remote addresses allowed,
/// piecewise over the flow's destination port.
pub fn acl_leg(entries: &[AclEntry], p: Protocol, egress: bool) -> Vec<Piece<AddrSet>> {
    let es = sorted(entries, egress);
    let iv = if p.has_ports() { cuts(port_ranges_of(&es, p), 0, 65535) } else { vec![(0, 65535)] };
    let mut out: Vec<Piece<AddrSet>> = Vec::new();
    for (lo, hi) in iv {
        let val = acl_eval(&es, p, lo);
        match out.last_mut() {
            Some(l) if l.val == val => l.hi = hi,
            _ => out.push(Piece { lo, hi, val }),
        }
    }
    out
}

/// The remote addresses whose return traffic some ephemeral port lets through, in direction `egress` (the
/// return of an inbound flow goes out: `egress` true).
pub fn acl_return(entries: &[AclEntry], p: Protocol, egress: bool) -> AddrSet {
    let es = sorted(entries, egress);
    if !p.has_ports() {
        return acl_eval(&es, p, 0);
    }
    let mut s = AddrSet::none();
    for (lo, _) in cuts(port_ranges_of(&es, p), EPHEMERAL.0, EPHEMERAL.1) {
        s = s.union(&acl_eval(&es, p, lo));
    }
    s
}

/// The value of a piecewise map at `port`.
pub fn at<T>(m: &[Piece<T>], port: u16) -> Option<&T> {
    let i = m.partition_point(|x| x.hi < port);
    m.get(i).filter(|x| x.lo <= port).map(|x| &x.val)
}

/// Members of each security group: their interfaces' private addresses, by the member's VPC.
pub type Members = BTreeMap<String, BTreeMap<String, AddrSet>>;

/// Collects [`Members`].
pub fn members(net: &Network) -> Members {
    // Keyed by borrowed ids while collecting: copying both ids for every (interface, group) was most of the cost.
    let mut raw: BTreeMap<&str, BTreeMap<&str, Vec<IpAddr>>> = BTreeMap::new();
    for i in net.interfaces.values() {
        for g in &i.security_group_ids {
            raw.entry(g.as_str()).or_default().entry(i.vpc_id.as_str()).or_default().extend(i.addresses());
        }
    }
    raw.into_iter()
        .map(|(g, m)| (g.to_string(), m.into_iter().map(|(v, a)| (v.to_string(), AddrSet::addrs(a))).collect()))
        .collect()
}

/// Security groups, symbolically, for protocol `p`: per port piece, per group, the peers its inbound (or, with
/// `egress`, outbound) rules admit. Group references cover the members in `vpcs`, and every address for the groups
/// in `everyone` (a load balancer's own groups, on its traffic).
pub fn sg_admit(
    net: &Network,
    groups: &[String],
    p: Protocol,
    vpcs: &[String],
    members: &Members,
    egress: bool,
    everyone: &[String],
) -> Vec<Piece<Vec<(String, AddrSet)>>> {
    let sgs: Vec<_> = groups.iter().filter_map(|g| net.security_groups.get(g)).collect();
    let sg_rules: Vec<&Vec<crate::model::SgRule>> =
        sgs.iter().map(|s| if egress { &s.egress } else { &s.ingress }).collect();
    let iv = if p.has_ports() {
        cuts(
            sg_rules
                .iter()
                .copied()
                .flatten()
                .filter(|r| r.protocol.has_ports() && r.protocol.admits(p))
                .map(|r| r.ports),
            0,
            65535,
        )
    } else {
        vec![(0, 65535)]
    };
    // Each peer's address set, once.
    let peer_set = |peer: &SgPeer| -> AddrSet {
        match peer {
            SgPeer::Cidr(n) => AddrSet::net(n),
            SgPeer::PrefixList(id) => net.prefix_lists.get(id).map(|pl| AddrSet::nets(&pl.cidrs)).unwrap_or_default(),
            SgPeer::Group(g) if everyone.contains(g) => AddrSet::all(),
            SgPeer::Group(g) => {
                let mut s = AddrSet::none();
                if let Some(m) = members.get(g) {
                    for v in vpcs {
                        if let Some(a) = m.get(v) {
                            s = s.union(a);
                        }
                    }
                }
                s
            }
        }
    };
    // Only rules of protocol `p` (or all) can match: the others' peers (group members can be many) are not built.
    let peers: Vec<Vec<AddrSet>> = sg_rules
        .iter()
        .map(|rs| rs.iter().map(|r| if r.protocol.admits(p) { peer_set(&r.peer) } else { AddrSet::none() }).collect())
        .collect();
    let mut out: Vec<Piece<Vec<(String, AddrSet)>>> = Vec::new();
    for (lo, hi) in iv {
        let mut val = Vec::new();
        for (k, sg) in sgs.iter().enumerate() {
            let mut s = AddrSet::none();
            for (j, r) in sg_rules[k].iter().enumerate() {
                if matches(r.protocol, r.ports, p, lo) {
                    s = s.union(&peers[k][j]);
                }
            }
            if !s.is_empty() {
                val.push((sg.id.clone(), s));
            }
        }
        match out.last_mut() {
            Some(l) if l.val == val => l.hi = hi,
            _ => out.push(Piece { lo, hi, val }),
        }
    }
    out
}

/// Whether the IPv4/IPv6 CIDRs of two VPCs overlap.
pub fn overlap(a: &[IpNet], b: &[IpNet]) -> bool {
    AddrSet::nets(a).intersects(&AddrSet::nets(b))
}
