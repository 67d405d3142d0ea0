//! The engine's paths through transit gateways and load balancers.
//!
//! Why it exists: both add a hop before the VPC's own checks, with their own
//! routing (TGW route tables) or their own front end (listeners, the load
//! balancer's subnets and groups). The semantics are those of
//! `docs/netreach.md` and of the walker's `tgw` and `lb` modules, computed
//! here with the same set algebra as the rest of the engine.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::parts::{self, at, routed_to, routes_addr_to};
use super::{Ctx, Entry, Reachability, ReachabilityKind};
use crate::model::{
    Interface, LoadBalancer, LoadBalancerKind, Network, NetworkAcl, PortRange, Protocol, RouteTable, RouteTarget,
    SgPeer, TgwAttachment, TgwRouteTable,
};
use crate::sets::AddrSet;

/// A TGW route table as the set of destinations each attachment receives (blackholes dropped).
pub type TgwRouteMap = Vec<(String, AddrSet)>;

/// Longest-prefix match over a TGW route table, symbolically (ties: table order, as the walker).
pub fn tgw_route_map(t: &TgwRouteTable) -> TgwRouteMap {
    let mut order: Vec<(u8, usize)> =
        t.routes.iter().enumerate().map(|(i, (n, _))| (255 - n.prefix_len(), i)).collect();
    order.sort_unstable();
    let mut left = AddrSet::all();
    let mut out: TgwRouteMap = Vec::new();
    for (_, i) in order {
        let (n, target) = &t.routes[i];
        let m = left.intersect(&AddrSet::net(n));
        if m.is_empty() {
            continue;
        }
        left = left.subtract(&m);
        let Some(target) = target else { continue };
        match out.iter_mut().find(|(a, _)| a == target) {
            Some((_, s)) => *s = s.union(&m),
            None => out.push((target.clone(), m)),
        }
    }
    out
}

fn tgw_routed_to(m: &TgwRouteMap, attachment: &str) -> AddrSet {
    m.iter().find(|(a, _)| a == attachment).map(|(_, s)| s.clone()).unwrap_or_default()
}

/// Per VPC, its attachment to each transit gateway (the first by id); per transit gateway, its attachments.
pub type TgwIndex<'a> = (
    std::collections::HashMap<&'a str, Vec<&'a TgwAttachment>>,
    std::collections::HashMap<&'a str, Vec<&'a TgwAttachment>>,
);

/// Builds the [`TgwIndex`].
pub fn tgw_index(net: &Network) -> TgwIndex<'_> {
    let (mut by_vpc, mut by_tgw): TgwIndex = Default::default();
    for a in net.tgw_attachments.values() {
        by_tgw.entry(a.tgw_id.as_str()).or_default().push(a);
        if a.resource_type == "vpc" {
            let v: &mut Vec<&TgwAttachment> = by_vpc.entry(a.resource_id.as_str()).or_default();
            if !v.iter().any(|x| x.tgw_id == a.tgw_id) {
                v.push(a);
            }
        }
    }
    (by_vpc, by_tgw)
}

fn vpc_nets(net: &Network, vpc: &str) -> AddrSet {
    net.vpcs.get(vpc).map(|v| AddrSet::nets(&v.cidrs())).unwrap_or_default()
}

impl<'a> Ctx<'a> {
    fn tgw_map(&mut self, rtb: Option<&'a String>) -> Option<Arc<TgwRouteMap>> {
        let rtb = rtb?;
        if let Some(m) = self.tgw_routes.get(rtb.as_str()) {
            return Some(m.clone());
        }
        let t = self.net.tgw_route_tables.get(rtb)?;
        let m = Arc::new(tgw_route_map(t));
        self.tgw_routes.insert(rtb.as_str(), m.clone());
        Some(m)
    }

    /// The transit gateway entries of an interface of `vpc` whose route table is `rm`.
    pub(super) fn tgw_entries(
        &mut self,
        vpc: &'a str,
        rm: &parts::RouteMap,
        privates: &[IpAddr],
        entries: &mut Vec<Entry<'a>>,
    ) {
        let net = self.net;
        let mine: Vec<&'a TgwAttachment> = self.ix.tgw.0.get(vpc).cloned().unwrap_or_default();
        for x in mine {
            let tgw = x.tgw_id.as_str();
            if !net.transit_gateways.contains_key(tgw) {
                continue;
            }
            let back_vpc = routed_to(rm, &RouteTarget::TransitGateway(tgw.to_string()));
            let Some(xmap) = self.tgw_map(x.route_table_id.as_ref()) else { continue };
            if back_vpc.is_empty() {
                continue;
            }
            let others: Vec<&'a TgwAttachment> = self.ix.tgw.1.get(tgw).cloned().unwrap_or_default();
            for y in others.into_iter().filter(|y| y.id != x.id) {
                let Some(ymap) = self.tgw_map(y.route_table_id.as_ref()) else { continue };
                let to_x = tgw_routed_to(&ymap, &x.id);
                let back = tgw_routed_to(&xmap, &y.id).intersect(&back_vpc);
                for &dst in privates.iter().filter(|d| to_x.contains(**d)) {
                    let mut sources = back.family(dst.is_ipv6());
                    if y.resource_type == "vpc" {
                        let w = y.resource_id.as_str();
                        let mut from = AddrSet::none();
                        let subnets = self.ix.subnets.get(w).cloned().unwrap_or_default();
                        for s in subnets {
                            let Some(t) = self.ix.table(&s.id, w) else { continue };
                            let m = self.routes(t);
                            if routes_addr_to(&m, dst, &RouteTarget::TransitGateway(tgw.to_string())) {
                                let nets: Vec<IpNet> = s
                                    .cidr_v4
                                    .map(IpNet::V4)
                                    .into_iter()
                                    .chain(s.cidrs_v6.iter().map(|n| IpNet::V6(*n)))
                                    .collect();
                                from = from.union(&AddrSet::nets(&nets));
                            }
                        }
                        sources = sources.intersect(&from).intersect(&vpc_nets(net, w));
                    }
                    let sources = self.intern(sources);
                    entries.push(Entry {
                        kind: ReachabilityKind::TransitGateway,
                        via: y.id.as_str(),
                        dst,
                        private: dst,
                        sources,
                    });
                }
            }
        }
    }
}

/// One way a load balancer listener forwards to an interface address.
#[derive(Clone)]
pub struct Forward<'a> {
    pub(super) lb: &'a LoadBalancer,
    pub(super) protocol: Protocol,
    pub(super) listener_port: u16,
    /// The target group's id (classic: the load balancer's).
    pub(super) via: &'a str,
    pub(super) port: u16,
    pub(super) private: IpAddr,
    pub(super) preserve: bool,
}

/// Every listener → target of every load balancer, by the target interface (instance targets: the primary
/// interface's primary private IPv4; ip targets: every interface with that address). Only the receiving targets
/// ([`crate::model::TargetGroup::receiving`]), or with `registered` every registered one (for explanations).
pub fn forwards(net: &Network, registered: bool) -> std::collections::HashMap<&str, Vec<Forward<'_>>> {
    let mut out: std::collections::HashMap<&str, Vec<Forward>> = Default::default();
    let primary = |instance: &str| -> Option<(&Interface, IpAddr)> {
        let i = net.instances.get(instance)?;
        let eni = net.interfaces.get(i.interface_ids.first()?)?;
        Some((eni, IpAddr::V4(*eni.private_ips.first()?)))
    };
    let needs_ips = net.target_groups.values().any(|t| t.target_type == "ip" && !t.targets.is_empty())
        && !net.load_balancers.is_empty();
    let mut by_addr: std::collections::HashMap<IpAddr, Vec<&Interface>> = Default::default();
    if needs_ips {
        for e in net.interfaces.values() {
            for a in e.addresses() {
                by_addr.entry(a).or_default().push(e);
            }
        }
    }
    for lb in net.load_balancers.values() {
        for l in &lb.listeners {
            if lb.kind == LoadBalancerKind::Classic {
                let Some(port) = l.instance_port else { continue };
                for i in &l.instance_ids {
                    if let Some((eni, private)) = primary(i).filter(|(e, _)| e.instance_id.as_deref() == Some(i)) {
                        out.entry(eni.id.as_str()).or_default().push(Forward {
                            lb,
                            protocol: l.protocol,
                            listener_port: l.port,
                            via: lb.id.as_str(),
                            port,
                            private,
                            preserve: false,
                        });
                    }
                }
                continue;
            }
            for tg in l.target_group_ids.iter().filter_map(|t| net.target_groups.get(t)) {
                let preserve = tg.preserves_client_ip(lb.kind);
                let targets: Vec<&crate::model::Target> =
                    if registered { tg.targets.iter().collect() } else { tg.receiving().collect() };
                for t in targets {
                    let Some(port) = t.port.or(tg.port) else { continue };
                    let hits: Vec<(&Interface, IpAddr)> = if tg.target_type == "ip" {
                        match t.id.parse::<IpAddr>() {
                            Ok(a) => by_addr.get(&a).into_iter().flatten().map(|e| (*e, a)).collect(),
                            Err(_) => Vec::new(),
                        }
                    } else {
                        primary(&t.id).into_iter().filter(|(e, _)| e.instance_id.as_deref() == Some(&t.id)).collect()
                    };
                    for (eni, private) in hits {
                        out.entry(eni.id.as_str()).or_default().push(Forward {
                            lb,
                            protocol: l.protocol,
                            listener_port: l.port,
                            via: tg.id.as_str(),
                            port,
                            private,
                            preserve,
                        });
                    }
                }
            }
        }
    }
    out
}

/// A record being built: sources, listener ports (one: records are per listener), path, admitting groups.
type LbAcc = (AddrSet, Vec<u16>, Vec<String>, Vec<String>);

impl<'a> Ctx<'a> {
    /// The addresses the load balancer's node in `subnet` may have (cached: computing them reads every interface).
    fn nodes(&mut self, lb: &'a LoadBalancer, subnet: &'a crate::model::Subnet) -> AddrSet {
        let key = (lb.id.as_str(), subnet.id.as_str());
        if let Some(s) = self.lb_nodes.get(&key) {
            return s.clone();
        }
        let ranges = lb.node_addresses(self.net, subnet).into_iter().map(|(a, b)| (a as u128, b as u128)).collect();
        let s = AddrSet { v4: crate::sets::RangeSet::from_ranges(ranges), v6: crate::sets::RangeSet::empty() };
        self.lb_nodes.insert(key, s.clone());
        s
    }

    /// The admitting groups of `eni` for (p, port) and their peers, where a reference to one of `lb_groups` admits
    /// every address.
    fn target_groups(
        &mut self,
        eni: &'a Interface,
        p: Protocol,
        port: u16,
        lb_groups: &[String],
    ) -> Vec<(String, AddrSet)> {
        let mut out = Vec::new();
        for g in &eni.security_group_ids {
            let Some(sg) = self.net.security_groups.get(g) else { continue };
            let wildcard = sg.ingress.iter().any(|r| {
                matches!(&r.peer, SgPeer::Group(x) if lb_groups.contains(x))
                    && r.protocol.admits(p)
                    && (!r.protocol.has_ports() || r.ports.contains(port))
            });
            let set = if wildcard {
                AddrSet::all()
            } else {
                let m = self.group(g.as_str(), eni.vpc_id.as_str(), p, false);
                at(&m, port).cloned().unwrap_or_default()
            };
            if !set.is_empty() && !out.iter().any(|(x, _)| x == g) {
                out.push((g.clone(), set));
            }
        }
        out
    }

    /// The load balancer records of `eni` (whose route table and ACL are `table` and `acl`).
    pub(super) fn lb_records(
        &mut self,
        eni: &'a Interface,
        ids: &super::EniIds,
        table: &'a RouteTable,
        acl: &'a NetworkAcl,
        out: &mut Vec<Reachability>,
    ) {
        let Some(fws) = self.ix.forwards.get(eni.id.as_str()).cloned() else { return };
        let net = self.net;
        let internet_v4 = self.internet.family(false);
        let target_rm = self.routes(&table.id);
        let mut acc: BTreeMap<(&'a str, Protocol, u16, IpAddr, u16), LbAcc> = BTreeMap::new();
        for f in fws {
            let lb = f.lb;
            let p = f.protocol;
            if !lb.internet_facing || lb.vpc_id != eni.vpc_id || !f.private.is_ipv4() {
                continue;
            }
            let igws: Vec<&'a str> = self.ix.igws.get(lb.vpc_id.as_str()).cloned().unwrap_or_default();
            if igws.is_empty() {
                continue;
            }
            let target_acl = self.acl_ok(acl.id.as_str(), p, false);
            let groups = self.target_groups(eni, p, f.port, &lb.security_group_ids);
            let sg_union = groups.iter().fold(AddrSet::none(), |s, (_, g)| s.union(g));
            let adm = at(&target_acl, f.port).cloned().unwrap_or_default().intersect(&sg_union);
            if adm.is_empty() {
                continue;
            }
            for subnet in &lb.subnet_ids {
                let Some(sub) = net.subnets.get(subnet) else { continue };
                let (Some(t), Some(a)) = (self.ix.table(subnet, &lb.vpc_id), self.ix.acl(subnet, &lb.vpc_id)) else {
                    continue;
                };
                let rm = self.routes(t);
                let mut via_igw = None;
                let mut front = AddrSet::none();
                for g in &igws {
                    let s = routed_to(&rm, &RouteTarget::InternetGateway(g.to_string())).intersect(&internet_v4);
                    if !s.is_empty() {
                        via_igw.get_or_insert(*g);
                        front = front.union(&s);
                    }
                }
                let lb_acl_in = self.acl_ok(a, p, false);
                front = front.intersect(at(&lb_acl_in, f.listener_port).unwrap_or(&AddrSet::none()));
                let mut lb_path_groups = Vec::new();
                if lb.security_group_ids.is_empty() {
                    if lb.kind != LoadBalancerKind::Network {
                        continue;
                    }
                } else {
                    let mut admitted = AddrSet::none();
                    for g in lb.security_group_ids.iter().filter(|g| net.security_groups.contains_key(*g)) {
                        let m = self.group(g.as_str(), lb.vpc_id.as_str(), p, false);
                        let s = at(&m, f.listener_port).cloned().unwrap_or_default().intersect(&front);
                        if !s.is_empty() {
                            lb_path_groups.push(g.clone());
                            admitted = admitted.union(&s);
                        }
                    }
                    front = admitted;
                }
                if front.is_empty() {
                    continue;
                }
                // Back end, load balancer side: concrete, the target address is known.
                if !routes_addr_to(&rm, f.private, &RouteTarget::Local) {
                    continue;
                }
                let lb_acl_out = self.acl_ok(a, p, true);
                if !at(&lb_acl_out, f.port).is_some_and(|s| s.contains(f.private)) {
                    continue;
                }
                if !lb.security_group_ids.is_empty() {
                    let mut out_ok = false;
                    for g in lb.security_group_ids.iter().filter(|g| net.security_groups.contains_key(*g)) {
                        let m = self.group(g.as_str(), lb.vpc_id.as_str(), p, true);
                        out_ok |= at(&m, f.port).is_some_and(|s| s.contains(f.private));
                    }
                    if !out_ok {
                        continue;
                    }
                }
                // Back end, target side.
                let (sources, from) = if f.preserve {
                    let s = front.intersect(&adm);
                    (s.clone(), s)
                } else {
                    let nodes =
                        self.nodes(lb, sub).intersect(&routed_to(&target_rm, &RouteTarget::Local)).intersect(&adm);
                    (if nodes.is_empty() { AddrSet::none() } else { front }, nodes)
                };
                if sources.is_empty() {
                    continue;
                }
                let e = acc.entry((lb.id.as_str(), p, f.port, f.private, f.listener_port)).or_insert_with(|| {
                    let mut path = vec![via_igw.unwrap_or_default().to_string(), t.to_string(), a.to_string()];
                    path.extend(lb_path_groups.iter().cloned());
                    path.extend([lb.id.clone(), f.via.to_string(), table.id.clone(), acl.id.clone()]);
                    (AddrSet::none(), Vec::new(), path, Vec::new())
                });
                e.0 = e.0.union(&sources);
                if !e.1.contains(&f.listener_port) {
                    e.1.push(f.listener_port);
                }
                for (g, s) in &groups {
                    if s.intersects(&from) && !e.3.contains(g) {
                        e.3.push(g.clone());
                    }
                }
            }
        }
        for ((lb, p, port, private, _), (sources, listener_ports, path, groups)) in acc {
            let security_groups: Vec<Arc<str>> =
                eni.security_group_ids.iter().filter(|g| groups.contains(g)).map(|g| self.name(g)).collect();
            let path: Vec<Arc<str>> = path.iter().map(|c| Arc::from(c.as_str())).collect();
            let ports: Arc<[PortRange]> = vec![PortRange { from: port, to: port }].into();
            out.push(ids.record(
                ReachabilityKind::LoadBalancer,
                self.name(lb),
                p,
                (ports, sources.to_prefixes().into()),
                (private, private),
                (ids.path(&path, &security_groups), security_groups.into()),
                listener_ports,
            ));
        }
    }
}
