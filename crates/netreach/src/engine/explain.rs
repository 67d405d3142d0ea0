//! `why`: is this interface or instance reachable on this port from there, and
//! if not, every component that blocks it.
//!
//! Why it exists: a finding needs its evidence. The engine finds a source
//! address that gets through (or, when none does, a representative source
//! from the requested range), and the [`crate::walker`] walks that packet,
//! collecting the path or every failed check, not only the first.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{ReachabilityKind, analyse_one, internet};
use crate::model::{Network, Protocol};
use crate::sets::AddrSet;
use crate::walker::{Delivery, Origin, Packet, deliver_to, show};

/// One packet tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Where it came from (the question's origin, or a load balancer listener for internet questions).
    pub origin: Origin,
    /// The interface.
    pub interface_id: String,
    /// The destination address.
    pub destination: IpAddr,
    /// The source address used (`None`: the requested range has no address of this family for this origin).
    pub source: Option<IpAddr>,
    /// What the walker found.
    pub delivery: Delivery,
}

/// The answer of [`why`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The interface or instance asked about.
    pub target: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Port.
    pub port: u16,
    /// Origin.
    pub origin: Origin,
    /// Whether some attempt was delivered.
    pub reachable: bool,
    /// One attempt per (interface, destination address).
    pub attempts: Vec<Attempt>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.reachable { "reachable" } else { "not reachable" };
        writeln!(f, "{} {} from {:?}: {verdict}", self.target, show(self.protocol, self.port), self.origin)?;
        for a in &self.attempts {
            let src = a.source.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
            let via = match &a.origin {
                Origin::LoadBalancer(lb, port) => format!(" through load balancer {lb} listener {port}"),
                _ => String::new(),
            };
            if a.delivery.delivered_to.is_some() {
                writeln!(f, "  {}{via} from {src}: {}", a.destination, a.delivery.path.join(" -> "))?;
            } else {
                writeln!(f, "  {}{via} from {src}: blocked", a.destination)?;
                for b in &a.delivery.blocked_by {
                    writeln!(f, "    - {b}")?;
                }
            }
        }
        if self.attempts.is_empty() {
            writeln!(f, "  no interface/address to try")?;
        }
        Ok(())
    }
}

/// Explains whether `target` (an interface or instance id) is reachable on `protocol`/`port` from `origin`,
/// optionally only from addresses in `source`.
pub fn why(
    net: &Network,
    target: &str,
    protocol: Protocol,
    port: u16,
    origin: &Origin,
    source: Option<IpNet>,
) -> Explanation {
    let enis: Vec<String> = if net.interfaces.contains_key(target) {
        vec![target.to_string()]
    } else {
        net.interfaces.values().filter(|i| i.instance_id.as_deref() == Some(target)).map(|i| i.id.clone()).collect()
    };
    let wanted = source.map(|n| AddrSet::net(&n)).unwrap_or_else(AddrSet::all);
    let forwards = super::edges::forwards(net, true);
    let mut attempts = Vec::new();
    for id in enis {
        let eni = &net.interfaces[&id];
        let mut tries: Vec<(Origin, IpAddr)> = match origin {
            Origin::Internet => eni
                .public_ips
                .iter()
                .map(|(p, _)| IpAddr::V4(*p))
                .chain(eni.ipv6_ips.iter().map(|a| IpAddr::V6(*a)))
                .map(|d| (Origin::Internet, d))
                .collect(),
            o => eni.addresses().map(|d| (o.clone(), d)).collect(),
        };
        // From the internet, also through every load balancer listener that forwards to this port.
        if *origin == Origin::Internet {
            for f in forwards.get(id.as_str()).into_iter().flatten() {
                let o = Origin::LoadBalancer(f.lb.id.clone(), f.listener_port);
                if f.protocol == protocol && f.port == port && !tries.contains(&(o.clone(), f.private)) {
                    tries.push((o, f.private));
                }
            }
        }
        let records = analyse_one(net, &id);
        for (origin, dst) in tries {
            let v6 = dst.is_ipv6();
            // A source that gets through, according to the engine.
            let mut src = None;
            for r in records.iter().filter(|r| r.destination == dst && r.protocol == protocol) {
                let ok = match &origin {
                    Origin::Internet => r.kind == ReachabilityKind::Internet,
                    Origin::Vgw(g) => r.kind == ReachabilityKind::Vgw && *r.via == **g,
                    Origin::Peering(x) => r.kind == ReachabilityKind::PeeredVpc && *r.via == **x,
                    Origin::TransitGateway(x) => r.kind == ReachabilityKind::TransitGateway && *r.via == **x,
                    Origin::LoadBalancer(lb, lport) => {
                        r.kind == ReachabilityKind::LoadBalancer && *r.via == **lb && r.listener_ports.contains(lport)
                    }
                };
                if ok && (!protocol.has_ports() || r.ports.iter().any(|p| p.contains(port))) {
                    src = AddrSet::nets(r.sources.iter()).intersect(&wanted).first(v6);
                    if src.is_some() {
                        break;
                    }
                }
            }
            // Else a representative source of the origin's space.
            if src.is_none() {
                let space = match &origin {
                    Origin::Internet | Origin::LoadBalancer(..) => internet(),
                    Origin::Vgw(_) => AddrSet::all(),
                    Origin::Peering(x) => peer_space(net, x, &eni.vpc_id),
                    Origin::TransitGateway(x) => tgw_space(net, x, &eni.vpc_id),
                };
                src = space.intersect(&wanted).first(v6).or_else(|| wanted.first(v6));
            }
            let delivery = match src {
                Some(s) => deliver_to(net, &Packet { origin: origin.clone(), src: s, dst, protocol, port }, &id),
                None => Delivery {
                    blocked_by: vec![format!(
                        "no {} source address in the requested range",
                        if v6 { "IPv6" } else { "IPv4" }
                    )],
                    ..Delivery::default()
                },
            };
            attempts.push(Attempt { origin, interface_id: id.clone(), destination: dst, source: src, delivery });
        }
    }
    let reachable = attempts.iter().any(|a| a.delivery.delivered_to.is_some());
    Explanation { target: target.to_string(), protocol, port, origin: origin.clone(), reachable, attempts }
}

/// The CIDRs of the VPC on the other side of peering `x` from `vpc` (everything if unknown).
fn peer_space(net: &Network, x: &str, vpc: &str) -> AddrSet {
    let Some(pc) = net.peerings.get(x) else { return AddrSet::all() };
    let peer = if pc.requester_vpc == vpc { &pc.accepter_vpc } else { &pc.requester_vpc };
    vpc_space(net, peer)
}

/// The addresses that may come in through TGW attachment `y` to `vpc`: what the table of `vpc`'s attachment
/// sends back to `y` (everything if that is unknown), within the other VPC's CIDRs for a VPC attachment.
fn tgw_space(net: &Network, y: &str, vpc: &str) -> AddrSet {
    let Some(a) = net.tgw_attachments.get(y) else { return AddrSet::all() };
    let back = crate::walker::vpc_attachment(net, &a.tgw_id, vpc)
        .and_then(|x| x.route_table_id.as_ref())
        .and_then(|t| net.tgw_route_tables.get(t))
        .map(|t| super::edges::tgw_route_map(t).into_iter().filter(|(to, _)| to == y).map(|(_, s)| s).collect())
        .unwrap_or_else(|| vec![AddrSet::all()]);
    let back = back.into_iter().fold(AddrSet::none(), |s, x| s.union(&x));
    let back = if back.is_empty() { AddrSet::all() } else { back };
    if a.resource_type == "vpc" { back.intersect(&vpc_space(net, &a.resource_id)) } else { back }
}

/// The CIDRs of a VPC (everything if unknown).
fn vpc_space(net: &Network, vpc: &str) -> AddrSet {
    net.vpcs.get(vpc).map(|v| AddrSet::nets(&v.cidrs())).unwrap_or_else(AddrSet::all)
}
