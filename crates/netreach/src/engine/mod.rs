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

mod admit;
pub mod bench;
mod edges;
mod explain;
mod parts;
mod sources;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use explain::{Explanation, why};
pub use parts::internet;

use crate::model::{Interface, Network, PortRange, Protocol, RouteTarget};
use crate::sets::AddrSet;
use admit::{Admission, Groups, Shapes, shapes};
use parts::{Members, Piece, RouteMap};
use sources::PeerView;

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
    /// Another attachment of a transit gateway (`via` is that attachment): any
    /// address for VPN, Direct Connect and peering attachments, the other
    /// VPC's routed subnets for VPC attachments.
    TransitGateway,
    /// Public IPv4 clients through an internet-facing load balancer (`via` is
    /// its id); the ports are the target ports, `listener_ports` the listeners'.
    LoadBalancer,
}

/// One rectangle of reachability: these sources reach these ports of this address.
///
/// Ids are shared (`Arc<str>`) and so are the port and source lists of records with the same shape: an estate of
/// 100,000 interfaces has hundreds of thousands of records, and copying every string into each of them was most
/// of the analysis time and memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reachability {
    /// The interface reached.
    pub interface_id: Arc<str>,
    /// Its instance, if any.
    pub instance_id: Option<Arc<str>>,
    /// Its VPC.
    pub vpc_id: Arc<str>,
    /// Its subnet.
    pub subnet_id: Arc<str>,
    /// Where the traffic comes from.
    pub kind: ReachabilityKind,
    /// The internet gateway, virtual private gateway, peering connection, TGW attachment or load balancer crossed.
    pub via: Arc<str>,
    /// Protocol.
    pub protocol: Protocol,
    /// Destination ports, disjoint and sorted (`0-65535` for protocols without ports).
    pub ports: Arc<[PortRange]>,
    /// Source addresses as disjoint sorted prefixes.
    pub sources: Arc<[IpNet]>,
    /// The address the packets are sent to (public IPv4 for the internet, else private/IPv6).
    pub destination: IpAddr,
    /// The private address of the interface that receives them.
    pub private_address: IpAddr,
    /// Components crossed in order: gateway, route table, ACL, groups, interface, instance.
    pub path: Arc<[Arc<str>]>,
    /// The security groups that admit some of this traffic.
    pub security_groups: Arc<[Arc<str>]>,
    /// Load balancer records: the listener ports that forward to these ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listener_ports: Vec<u16>,
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

/// A small fast hasher for the caches (FxHash's multiply-rotate).
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// A hash map with [`Fx`].
type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

/// Lookups by subnet and VPC, built once (same resolution rules as the walker: first by id).
#[derive(Default)]
struct Index<'a> {
    explicit_rtb: FxMap<&'a str, &'a str>,
    main_rtb: FxMap<&'a str, &'a str>,
    explicit_acl: FxMap<&'a str, &'a str>,
    default_acl: FxMap<&'a str, &'a str>,
    igws: FxMap<&'a str, Vec<&'a str>>,
    vgws: FxMap<&'a str, Vec<&'a str>>,
    peerings: FxMap<&'a str, Vec<&'a crate::model::Peering>>,
    subnets: FxMap<&'a str, Vec<&'a crate::model::Subnet>>,
    tgw: edges::TgwIndex<'a>,
    forwards: HashMap<&'a str, Vec<edges::Forward<'a>>>,
}

impl<'a> Index<'a> {
    fn new(net: &'a Network) -> Index<'a> {
        let mut ix = Index::default();
        for t in net.route_tables.values() {
            for s in &t.subnet_ids {
                ix.explicit_rtb.entry(s.as_str()).or_insert(t.id.as_str());
            }
            if t.main {
                ix.main_rtb.entry(t.vpc_id.as_str()).or_insert(t.id.as_str());
            }
        }
        for a in net.network_acls.values() {
            for s in &a.subnet_ids {
                ix.explicit_acl.entry(s.as_str()).or_insert(a.id.as_str());
            }
            if a.default {
                ix.default_acl.entry(a.vpc_id.as_str()).or_insert(a.id.as_str());
            }
        }
        for g in net.internet_gateways.values() {
            let mut vs: Vec<&str> = g.vpc_ids.iter().map(|v| v.as_str()).collect();
            vs.sort_unstable();
            vs.dedup();
            for v in vs {
                ix.igws.entry(v).or_default().push(g.id.as_str());
            }
        }
        for g in net.vpn_gateways.values() {
            let mut vs: Vec<&str> = g.vpc_ids.iter().map(|v| v.as_str()).collect();
            vs.sort_unstable();
            vs.dedup();
            for v in vs {
                ix.vgws.entry(v).or_default().push(g.id.as_str());
            }
        }
        for p in net.peerings.values().filter(|p| p.active) {
            ix.peerings.entry(p.requester_vpc.as_str()).or_default().push(p);
            if p.accepter_vpc != p.requester_vpc {
                ix.peerings.entry(p.accepter_vpc.as_str()).or_default().push(p);
            }
        }
        for s in net.subnets.values() {
            ix.subnets.entry(s.vpc_id.as_str()).or_default().push(s);
        }
        for v in ix.igws.values_mut().chain(ix.vgws.values_mut()) {
            v.dedup();
        }
        ix.tgw = edges::tgw_index(net);
        ix.forwards = edges::forwards(net, false);
        ix
    }

    fn table(&self, subnet: &str, vpc: &str) -> Option<&'a str> {
        self.explicit_rtb.get(subnet).or_else(|| self.main_rtb.get(vpc)).copied()
    }

    fn acl(&self, subnet: &str, vpc: &str) -> Option<&'a str> {
        self.explicit_acl.get(subnet).or_else(|| self.default_acl.get(vpc)).copied()
    }
}

/// The sorted ids of the groups that admit something of one protocol.
type SmallKey<'a> = Vec<&'a str>;

/// What the threads of one analysis read and none changes: built once.
struct Shared<'a> {
    ix: Index<'a>,
    members: Members,
    protocols: Vec<Protocol>,
}

impl<'a> Shared<'a> {
    fn new(net: &'a Network) -> Shared<'a> {
        Shared { ix: Index::new(net), members: parts::members(net), protocols: protocols(net) }
    }
}

/// Admissions by the sorted groups of an interface that admit something of the protocol.
type ByGroups<'a> = FxMap<SmallKey<'a>, Arc<Admission<'a>>>;

/// Peering sources by which of the peer's subnets route the destination to the peering.
type BySubnetMask = FxMap<Vec<bool>, Arc<AddrSet>>;

/// Sources admitted, piecewise over ports.
type PortMap = Vec<Piece<AddrSet>>;

struct Ctx<'a> {
    net: &'a Network,
    /// Shared by the threads (and read while the caches fill).
    ix: &'a Index<'a>,
    internet: AddrSet,
    members: &'a Members,
    routes: FxMap<&'a str, Arc<RouteMap>>,
    /// By (ACL, VPC, protocol), then by the interface's sorted groups that admit something.
    admission: FxMap<(&'a str, &'a str, Protocol), ByGroups<'a>>,
    /// The internet (or VGW) sources a route table sends back to a gateway, by (table, gateway).
    gateway_sources: FxMap<(&'a str, &'a str), AddrSet>,
    /// By (table, peering, family), then by which subnets of the peer route the destination to it.
    peer_sources: FxMap<(&'a str, &'a str, bool), BySubnetMask>,
    /// Scratch space for the subnet mask of [`Ctx::peer_sources`].
    mask: Vec<bool>,
    /// [`Ctx::gateway_sources`] by (table, gateway, family).
    gateway_family: FxMap<(&'a str, &'a str, bool), Arc<AddrSet>>,
    /// By peering.
    peer_views: FxMap<&'a str, Option<Arc<PeerView>>>,
    acl_ok: FxMap<(&'a str, Protocol, bool), Arc<PortMap>>,
    /// By the addresses of the admission and of the source set; the value keeps the source set alive (and the
    /// admission cache keeps the admission) so that neither address is reused while the entry exists.
    shapes: FxMap<(usize, usize), (Arc<AddrSet>, Arc<Shapes<'a>>)>,
    /// Shared address sets, their restrictions and the source and port lists of the shapes.
    sets: admit::Sets,
    groups: FxMap<(&'a str, &'a str, Protocol, bool), Arc<PortMap>>,
    /// A group's inbound admission behind an ACL, by (group, ACL, VPC, protocol).
    behind_acl: FxMap<(&'a str, &'a str, &'a str, Protocol), Arc<admit::SharedMap>>,
    tgw_routes: FxMap<&'a str, Arc<edges::TgwRouteMap>>,
    lb_nodes: FxMap<(&'a str, &'a str), AddrSet>,
    /// Shared copies of the ids that records repeat.
    names: FxMap<&'a str, Arc<str>>,
    protocols: &'a [Protocol],
}

impl<'a> Ctx<'a> {
    fn routes(&mut self, rtb: &'a str) -> Arc<RouteMap> {
        if let Some(m) = self.routes.get(rtb) {
            return m.clone();
        }
        let m = Arc::new(self.net.route_tables.get(rtb).map(|t| parts::route_map(self.net, t)).unwrap_or_default());
        self.routes.insert(rtb, m.clone());
        m
    }

    /// VPCs whose members a group reference in `vpc` covers: itself and its actively peered VPCs.
    fn group_scope(&self, vpc: &str) -> Vec<String> {
        let mut v = vec![vpc.to_string()];
        for pc in self.ix.peerings.get(vpc).into_iter().flatten() {
            if pc.requester_vpc == vpc {
                v.push(pc.accepter_vpc.clone());
            } else if pc.accepter_vpc == vpc {
                v.push(pc.requester_vpc.clone());
            }
        }
        v
    }

    /// The remote addresses an ACL lets through both ways, piecewise over the flow's destination port: flows
    /// coming in (`egress` false: in, then the return out) or going out (`egress` true).
    fn acl_ok(&mut self, acl: &'a str, p: Protocol, egress: bool) -> Arc<PortMap> {
        let key = (acl, p, egress);
        if let Some(a) = self.acl_ok.get(&key) {
            return a.clone();
        }
        let entries = &self.net.network_acls[acl].entries;
        let ret = parts::acl_return(entries, p, !egress);
        let v: Vec<Piece<AddrSet>> = parts::acl_leg(entries, p, egress)
            .into_iter()
            .map(|x| Piece { lo: x.lo, hi: x.hi, val: x.val.intersect(&ret) })
            .collect();
        let a = Arc::new(v);
        self.acl_ok.insert(key, a.clone());
        a
    }

    /// The peers one security group's inbound (or, with `egress`, outbound) rules admit on an interface of
    /// `vpc`, piecewise over ports.
    fn group(&mut self, g: &'a str, vpc: &'a str, p: Protocol, egress: bool) -> Arc<PortMap> {
        let key = (g, vpc, p, egress);
        if let Some(a) = self.groups.get(&key) {
            return a.clone();
        }
        let scope = self.group_scope(vpc);
        let v: Vec<Piece<AddrSet>> = parts::sg_admit(self.net, &[g.to_string()], p, &scope, self.members, egress, &[])
            .into_iter()
            .map(|x| Piece { lo: x.lo, hi: x.hi, val: x.val.into_iter().next().map(|(_, s)| s).unwrap_or_default() })
            .collect();
        let a = Arc::new(v);
        self.groups.insert(key, a.clone());
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
///
/// Interfaces are split over the available cores (each thread keeps its own caches); the output is in
/// interface-id order whatever the number of threads.
pub fn analyse(net: &Network) -> Vec<Reachability> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    analyse_threads(net, if net.interfaces.len() < 2000 { 1 } else { threads })
}

/// [`analyse`] on `threads` threads.
///
/// Interfaces are taken VPC by VPC, and the caches that depend on a VPC (group peers, admissions, ACL and route
/// maps) are dropped between VPCs, so memory stays that of one VPC per thread; each thread takes whole VPCs.
fn analyse_threads(net: &Network, threads: usize) -> Vec<Reachability> {
    let mut enis: Vec<(usize, &Interface)> = net.interfaces.values().enumerate().collect();
    enis.sort_by(|a, b| (a.1.vpc_id.as_str(), a.0).cmp(&(b.1.vpc_id.as_str(), b.0)));
    // Cut into `threads` runs of whole VPCs.
    let target = enis.len().div_ceil(threads.max(1)).max(1);
    let mut runs: Vec<&[(usize, &Interface)]> = Vec::new();
    let mut start = 0;
    for i in 1..=enis.len() {
        let boundary = i == enis.len() || enis[i].1.vpc_id != enis[i - 1].1.vpc_id;
        if boundary && (i - start >= target || i == enis.len()) {
            runs.push(&enis[start..i]);
            start = i;
        }
    }
    let shared = Shared::new(net);
    let shared = &shared;
    let work = |run: &[(usize, &Interface)]| -> Vec<(usize, Vec<Reachability>)> {
        let mut ctx = Ctx::new(net, shared);
        let mut out = Vec::with_capacity(run.len());
        let mut vpc: Option<&str> = None;
        // Records are gathered here, then moved to a list of their exact size: growing each interface's list
        // from empty copied its records several times.
        let mut scratch: Vec<Reachability> = Vec::new();
        for (i, eni) in run {
            if vpc != Some(eni.vpc_id.as_str()) {
                ctx.forget_vpc();
                vpc = Some(eni.vpc_id.as_str());
            }
            analyse_interface(&mut ctx, eni, &mut scratch);
            let mut recs = Vec::with_capacity(scratch.len());
            recs.append(&mut scratch);
            out.push((*i, recs));
        }
        out
    };
    let mut parts: Vec<(usize, Vec<Reachability>)> = if runs.len() <= 1 {
        runs.first().map(|r| work(r)).unwrap_or_default()
    } else {
        std::thread::scope(|sc| {
            let handles: Vec<_> = runs.iter().map(|r| sc.spawn(move || work(r))).collect();
            handles.into_iter().flat_map(|h| h.join().expect("analysis thread")).collect()
        })
    };
    parts.sort_unstable_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(parts.iter().map(|(_, r)| r.len()).sum());
    for (_, recs) in parts {
        out.extend(recs);
    }
    out
}

/// The reachability of one interface.
pub fn analyse_one(net: &Network, interface_id: &str) -> Vec<Reachability> {
    let shared = Shared::new(net);
    let mut ctx = Ctx::new(net, &shared);
    let mut out = Vec::new();
    if let Some(eni) = net.interfaces.get(interface_id) {
        analyse_interface(&mut ctx, eni, &mut out);
    }
    out
}

impl<'a> Ctx<'a> {
    /// The shared copy of an id.
    fn name(&mut self, s: &'a str) -> Arc<str> {
        self.names.entry(s).or_insert_with(|| Arc::from(s)).clone()
    }

    /// Drops the caches that depend on the VPC being analysed (the shapes are keyed by the addresses of
    /// admissions and source sets, so they go with them).
    fn forget_vpc(&mut self) {
        self.names.clear();
        self.gateway_sources.clear();
        self.peer_sources.clear();
        self.gateway_family.clear();
        self.peer_views.clear();
        self.admission.clear();
        self.shapes.clear();
        self.sets = admit::Sets::default();
        self.groups.clear();
        self.behind_acl.clear();
        self.acl_ok.clear();
        self.routes.clear();
    }

    fn new(net: &'a Network, shared: &'a Shared<'a>) -> Ctx<'a> {
        Ctx {
            net,
            ix: &shared.ix,
            internet: internet(),
            members: &shared.members,
            routes: FxMap::default(),
            admission: FxMap::default(),
            gateway_sources: FxMap::default(),
            peer_sources: FxMap::default(),
            mask: Vec::new(),
            gateway_family: FxMap::default(),
            peer_views: FxMap::default(),
            acl_ok: FxMap::default(),
            shapes: FxMap::default(),
            sets: admit::Sets::default(),
            groups: FxMap::default(),
            behind_acl: FxMap::default(),
            tgw_routes: FxMap::default(),
            lb_nodes: FxMap::default(),
            names: FxMap::default(),
            protocols: &shared.protocols,
        }
    }
}

/// One (kind, via, destination, private address, source set) to evaluate.
struct Entry<'a> {
    kind: ReachabilityKind,
    via: &'a str,
    dst: IpAddr,
    private: IpAddr,
    /// Shared with the caches that made it: the shapes are cached by its address.
    sources: Arc<AddrSet>,
}

fn analyse_interface<'a>(ctx: &mut Ctx<'a>, eni: &'a Interface, out: &mut Vec<Reachability>) {
    let net = ctx.net;
    if !interface_up(net, eni) {
        return;
    }
    let vpc = eni.vpc_id.as_str();
    let Some(table) = ctx.ix.table(&eni.subnet_id, vpc).and_then(|t| net.route_tables.get(t)) else { return };
    let Some(acl) = ctx.ix.acl(&eni.subnet_id, vpc).and_then(|a| net.network_acls.get(a)) else { return };
    let rm = ctx.routes(&table.id);
    let ids = EniIds::new(eni, ctx.name(vpc), ctx.name(&eni.subnet_id));
    let ix = ctx.ix;
    let mut entries: Vec<Entry<'a>> = Vec::with_capacity(8);
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
    let igws: &[&'a str] =
        if publics.is_empty() { &[] } else { ix.igws.get(vpc).map(Vec::as_slice).unwrap_or_default() };
    for &g in igws {
        for &(dst, private) in &publics {
            let sources =
                ctx.gateway_family(table.id.as_str(), g, &rm, || RouteTarget::InternetGateway(g.to_string()), dst);
            entries.push(Entry { kind: ReachabilityKind::Internet, via: g, dst, private, sources });
        }
    }
    // Virtual private gateways.
    let vgws: &[&'a str] = ix.vgws.get(vpc).map(Vec::as_slice).unwrap_or_default();
    for &g in vgws {
        for &dst in &privates {
            let sources = ctx.gateway_family(table.id.as_str(), g, &rm, || RouteTarget::VpnGateway(g.to_string()), dst);
            entries.push(Entry { kind: ReachabilityKind::Vgw, via: g, dst, private: dst, sources });
        }
    }
    // Peerings.
    let peerings: &[&'a crate::model::Peering] = ix.peerings.get(vpc).map(Vec::as_slice).unwrap_or_default();
    for &pc in peerings {
        let Some(view) = ctx.peer_view(pc, vpc) else { continue };
        let back = ctx.gateway_sources(
            table.id.as_str(),
            &pc.id,
            &rm,
            || RouteTarget::Peering(pc.id.clone()),
            Some(&view.theirs),
        );
        if back.is_empty() {
            continue;
        }
        for &dst in &privates {
            let sources = ctx.peer_sources(table.id.as_str(), pc, &view, &back, dst);
            entries.push(Entry { kind: ReachabilityKind::PeeredVpc, via: pc.id.as_str(), dst, private: dst, sources });
        }
    }
    ctx.tgw_entries(vpc, &rm, &privates, &mut entries);
    let mut groups: Vec<&str> =
        eni.security_group_ids.iter().map(|g| g.as_str()).filter(|g| net.security_groups.contains_key(*g)).collect();
    groups.sort();
    groups.dedup();
    let protos = ctx.protocols;
    let unnamed = unnamed(protos);
    // One admission per protocol (None: admits nothing).
    let mut adms: Vec<(Protocol, Arc<Admission<'a>>)> = Vec::new();
    if entries.iter().any(|e| !e.sources.is_empty()) {
        for &p in protos {
            let eval = if p == Protocol::All { unnamed } else { p };
            let adm = ctx.admission(&acl.id, vpc, &groups, eval);
            if !adm.iter().all(|x| x.val.0.is_empty()) {
                adms.push((p, adm));
            }
        }
    }
    let mut paths: Paths<'a> = Vec::new();
    for e in entries {
        if e.sources.is_empty() {
            continue;
        }
        for (p, adm) in &adms {
            let p = *p;
            if (p == Protocol::Icmp && e.dst.is_ipv6()) || (p == Protocol::Icmpv6 && e.dst.is_ipv4()) {
                continue;
            }
            let key = (Arc::as_ptr(adm) as usize, Arc::as_ptr(&e.sources) as usize);
            let sh = match ctx.shapes.get(&key) {
                Some((_, sh)) => sh.clone(),
                None => {
                    let sh = Arc::new(shapes(adm, &e.sources, &mut ctx.sets));
                    ctx.shapes.insert(key, (e.sources.clone(), sh.clone()));
                    sh
                }
            };
            emit(ctx, eni, (&ids, &mut paths), (table.id.as_str(), acl.id.as_str()), &e, p, &sh, out);
        }
    }
    ctx.lb_records(eni, &ids, table, acl, out);
}

/// An interface's ids, shared by all its records.
struct EniIds {
    id: Arc<str>,
    instance: Option<Arc<str>>,
    vpc: Arc<str>,
    subnet: Arc<str>,
}

impl EniIds {
    /// `vpc` and `subnet`: the shared copies of the interface's VPC and subnet ids.
    fn new(eni: &Interface, vpc: Arc<str>, subnet: Arc<str>) -> EniIds {
        EniIds { id: eni.id.as_str().into(), instance: eni.instance_id.as_deref().map(Arc::from), vpc, subnet }
    }

    /// A record of this interface.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        kind: ReachabilityKind,
        via: Arc<str>,
        protocol: Protocol,
        (ports, sources): (Arc<[PortRange]>, Arc<[IpNet]>),
        (destination, private_address): (IpAddr, IpAddr),
        (path, security_groups): (Ids, Ids),
        listener_ports: Vec<u16>,
    ) -> Reachability {
        Reachability {
            interface_id: self.id.clone(),
            instance_id: self.instance.clone(),
            vpc_id: self.vpc.clone(),
            subnet_id: self.subnet.clone(),
            kind,
            via,
            protocol,
            ports,
            sources,
            destination,
            private_address,
            path,
            security_groups,
            listener_ports,
        }
    }

    /// `prefix`, the admitting groups, the interface and its instance.
    fn path(&self, prefix: &[Arc<str>], groups: &[Arc<str>]) -> Arc<[Arc<str>]> {
        prefix.iter().chain(groups).chain([&self.id]).chain(&self.instance).cloned().collect()
    }
}

/// A shared list of ids.
pub type Ids = Arc<[Arc<str>]>;

/// The paths and admitting groups already built for one interface, by (entry, groups): most of its records share
/// them.
type Paths<'a> = Vec<(&'a str, Groups<'a>, Ids, Ids)>;

/// Emits one record per distinct source set of `shapes`.
#[allow(clippy::too_many_arguments)]
fn emit<'a>(
    ctx: &mut Ctx<'a>,
    eni: &'a Interface,
    (ids, paths): (&EniIds, &mut Paths<'a>),
    (rtb, acl): (&'a str, &'a str),
    e: &Entry<'a>,
    p: Protocol,
    shapes: &Shapes<'a>,
    out: &mut Vec<Reachability>,
) {
    let via = ctx.name(e.via);
    for (s, ports, gs) in shapes {
        let (path, groups) = match paths.iter().find(|(v, g, _, _)| *v == e.via && g == gs) {
            Some((_, _, path, groups)) => (path.clone(), groups.clone()),
            None => {
                let mut groups: Vec<Arc<str>> = Vec::with_capacity(gs.len());
                for g in &eni.security_group_ids {
                    if gs.contains(g.as_str()) && !groups.iter().any(|x| **x == **g) {
                        groups.push(ctx.name(g));
                    }
                }
                let path = ids.path(&[via.clone(), ctx.name(rtb), ctx.name(acl)], &groups);
                let groups: Arc<[Arc<str>]> = groups.into();
                paths.push((e.via, gs.clone(), path.clone(), groups.clone()));
                (path, groups)
            }
        };
        out.push(ids.record(
            e.kind,
            via.clone(),
            p,
            (ports.clone(), s.clone()),
            (e.dst, e.private),
            (path, groups),
            Vec::new(),
        ));
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod edge_tests;
