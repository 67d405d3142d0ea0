//! Inspector-style Network Reachability findings from the engine's records.
//!
//! Why it exists: the engine answers "what can reach what" as rectangles of
//! ports × sources; an assessment needs Inspector Classic's finding types
//! (`RecognizedPortWithListener`, `RecognizedPortNoListener`,
//! `RecognizedPortNoAgent`, `UnrecognizedPortWithListener`, `NetworkExposure`,
//! spec §8.8) with their attributes, wording and a per-service severity. This
//! is a pure function of the network, the records and what is known about
//! listening sockets, so it is tested with plain values. The severity table
//! and the listener matching are documented in `docs/netreach.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use warden_model::{Evidence, Finding, Outcome, RuleOutcome, Severity};

use crate::engine::{Reachability, ReachabilityKind};
use crate::model::{Network, PortRange, Protocol};
use crate::sets::RangeSet;

/// The rules package name.
pub const PACKAGE_NAME: &str = "Network Reachability";
/// The package id on the command line.
pub const PACKAGE_ID: &str = "network-reachability";
/// Rule id of the package's summary outcome.
pub const SCAN_RULE_ID: &str = "net-scan";
/// Rule id of the aggregate finding.
pub const EXPOSURE_RULE_ID: &str = "Aggregate network exposure";

/// How bad an exposed recognized service is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// Remote administration, file sharing, directory, databases: High from the internet, Medium otherwise.
    Sensitive,
    /// Infrastructure services (WINS, DHCP, syslog, printing): Medium from the internet, Low otherwise.
    Infrastructure,
    /// Web services, meant to be public: Informational.
    Web,
}

impl Tier {
    /// The severity of a finding for this tier and reachability type.
    pub fn severity(self, kind: ReachabilityKind) -> Severity {
        let internet = from_internet(kind);
        match self {
            Tier::Sensitive if internet => Severity::High,
            Tier::Sensitive => Severity::Medium,
            Tier::Infrastructure if internet => Severity::Medium,
            Tier::Infrastructure => Severity::Low,
            Tier::Web => Severity::Informational,
        }
    }
}

/// One recognized service: (name, tier, TCP ports, UDP ports), Inspector's table (spec §8.8).
pub type Service = (&'static str, Tier, &'static [u16], &'static [u16]);

/// Inspector's recognized ports, in its order. Port 111 is both NFS and RPC.
pub const RECOGNIZED: &[Service] = &[
    ("SMB", Tier::Sensitive, &[445], &[445]),
    ("NetBIOS", Tier::Sensitive, &[137, 139], &[137, 138]),
    ("LDAP", Tier::Sensitive, &[389], &[389]),
    ("LDAP over TLS", Tier::Sensitive, &[636], &[]),
    ("Global catalog LDAP", Tier::Sensitive, &[3268], &[]),
    ("Global catalog LDAP over TLS", Tier::Sensitive, &[3269], &[]),
    ("NFS", Tier::Sensitive, &[111, 2049, 4045, 1110], &[111, 2049, 4045, 1110]),
    ("Kerberos", Tier::Sensitive, &[88, 464, 543, 544, 749, 751], &[88, 464, 749, 750, 751, 752]),
    ("RPC", Tier::Sensitive, &[111, 135, 530], &[111, 135, 530]),
    ("WINS", Tier::Infrastructure, &[1512, 42], &[1512, 42]),
    ("DHCP", Tier::Infrastructure, &[67, 68, 546, 547], &[67, 68, 546, 547]),
    ("Syslog", Tier::Infrastructure, &[601], &[514]),
    ("Print services", Tier::Infrastructure, &[515], &[]),
    ("Telnet", Tier::Sensitive, &[23], &[23]),
    ("FTP", Tier::Sensitive, &[21], &[21]),
    ("SSH", Tier::Sensitive, &[22], &[22]),
    ("RDP", Tier::Sensitive, &[3389], &[3389]),
    ("MongoDB", Tier::Sensitive, &[27017, 27018, 27019, 28017], &[]),
    ("SQL Server", Tier::Sensitive, &[1433], &[1434]),
    ("MySQL", Tier::Sensitive, &[3306], &[]),
    ("PostgreSQL", Tier::Sensitive, &[5432], &[]),
    ("Oracle", Tier::Sensitive, &[1521, 1630], &[]),
    ("Elasticsearch", Tier::Sensitive, &[9300, 9200], &[]),
    ("HTTP", Tier::Web, &[80], &[80]),
    ("HTTPS", Tier::Web, &[443], &[443]),
];

fn ports_of(s: &Service, p: Protocol) -> &'static [u16] {
    match p {
        Protocol::Tcp => s.2,
        Protocol::Udp => s.3,
        _ => &[],
    }
}

/// Whether (protocol, port) is in the recognized table.
pub fn is_recognized(p: Protocol, port: u16) -> bool {
    RECOGNIZED.iter().any(|s| ports_of(s, p).contains(&port))
}

/// A socket listening on a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The bound address; `None` for a wildcard (`0.0.0.0`, `::`), which listens on every address.
    pub address: Option<IpAddr>,
    /// The port.
    pub port: u16,
    /// The process (executable path or name), empty when unknown.
    pub process: String,
}

/// What an agent (a host snapshot) knows about one host's listening sockets.
/// Knowing a host with no listener at all is different from not knowing it:
/// the first gives `RecognizedPortNoListener`, the second `RecognizedPortNoAgent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostListeners {
    /// Instance id (`i-...`) or private IP address of one of its interfaces.
    pub host: String,
    /// Every listening socket.
    pub listeners: Vec<Listener>,
}

/// Whether the traffic comes from the internet (directly or through a load balancer).
pub fn from_internet(k: ReachabilityKind) -> bool {
    matches!(k, ReachabilityKind::Internet | ReachabilityKind::LoadBalancer)
}

fn kind_attr(k: ReachabilityKind) -> &'static str {
    match k {
        ReachabilityKind::Internet | ReachabilityKind::LoadBalancer => "Internet",
        ReachabilityKind::Vgw => "VGW",
        ReachabilityKind::PeeredVpc => "PeeredVPC",
        ReachabilityKind::TransitGateway => "TransitGateway",
    }
}

fn kind_words(k: ReachabilityKind) -> &'static str {
    match k {
        ReachabilityKind::Internet | ReachabilityKind::LoadBalancer => "the internet",
        ReachabilityKind::Vgw => "a Virtual Private Gateway",
        ReachabilityKind::PeeredVpc => "a peered VPC",
        ReachabilityKind::TransitGateway => "a transit gateway",
    }
}

fn via_key(k: ReachabilityKind) -> &'static str {
    match k {
        ReachabilityKind::Internet => "IGW",
        ReachabilityKind::Vgw => "VGW",
        ReachabilityKind::PeeredVpc => "PEERING_CONNECTION",
        ReachabilityKind::TransitGateway => "TGW_ATTACHMENT",
        ReachabilityKind::LoadBalancer => "LOAD_BALANCER",
    }
}

fn proto_name(p: Protocol) -> &'static str {
    if p == Protocol::Udp { "UDP" } else { "TCP" }
}

/// The admitting groups among `groups` that have an inbound rule for (p, port).
fn groups_for(net: &Network, groups: &[Arc<str>], p: Protocol, port: u16) -> Vec<String> {
    let v: Vec<String> = groups
        .iter()
        .filter(|g| {
            net.security_groups
                .get(&***g)
                .is_some_and(|sg| sg.ingress.iter().any(|r| r.protocol.admits(p) && r.ports.contains(port)))
        })
        .map(|g| g.to_string())
        .collect();
    if v.is_empty() { groups.iter().map(|g| g.to_string()).collect() } else { v }
}

/// The records of one (interface, kind, via, protocol, port), merged.
struct Hit<'a> {
    first: &'a Reachability,
    sources: BTreeSet<IpNet>,
    groups: BTreeSet<String>,
}

type HitKey = (Arc<str>, ReachabilityKind, Arc<str>, Protocol, u16);

fn knowledge<'h>(hosts: &'h [HostListeners], r: &Reachability) -> Option<&'h HostListeners> {
    let ip = r.private_address.to_string();
    hosts.iter().find(|h| r.instance_id.as_deref() == Some(h.host.as_str()) || h.host == ip)
}

fn applies(l: &Listener, r: &Reachability, p: Protocol, port: u16) -> bool {
    l.protocol == p && l.port == port && l.address.is_none_or(|a| a == r.private_address)
}

/// Produces the findings of every reachable TCP/UDP port of `records` (from
/// [`crate::engine::analyse`] on `net`), given the listener knowledge of `hosts`.
/// Findings are in a stable order: by interface, kind, protocol, port, service.
pub fn findings(net: &Network, records: &[Reachability], hosts: &[HostListeners]) -> Vec<Finding> {
    let mut hits: BTreeMap<HitKey, Hit> = BTreeMap::new();
    for r in records {
        if !r.protocol.has_ports() {
            continue;
        }
        let host = knowledge(hosts, r);
        let mut ports: BTreeSet<u16> = BTreeSet::new();
        for s in RECOGNIZED {
            ports.extend(ports_of(s, r.protocol).iter().copied());
        }
        if let Some(h) = host {
            ports.extend(
                h.listeners.iter().filter(|l| l.address.is_none_or(|a| a == r.private_address)).map(|l| l.port),
            );
        }
        for port in ports {
            if !r.ports.iter().any(|pr| pr.contains(port)) {
                continue;
            }
            let key = (r.interface_id.clone(), r.kind, r.via.clone(), r.protocol, port);
            let hit =
                hits.entry(key).or_insert_with(|| Hit { first: r, sources: BTreeSet::new(), groups: BTreeSet::new() });
            hit.sources.extend(r.sources.iter().copied());
            hit.groups.extend(groups_for(net, &r.security_groups, r.protocol, port));
        }
    }
    // Reachable directly from the internet: reported without the load balancers that also reach it.
    let direct: BTreeSet<(&str, Protocol, u16)> = hits
        .keys()
        .filter(|k| k.1 == ReachabilityKind::Internet)
        .map(|(eni, _, _, p, port)| (&**eni, *p, *port))
        .collect();
    let mut out = Vec::new();
    for ((eni, kind, _, p, port), hit) in &hits {
        if *kind == ReachabilityKind::LoadBalancer && direct.contains(&(&**eni, *p, *port)) {
            continue;
        }
        let r = hit.first;
        let host = knowledge(hosts, r);
        let listener = host.and_then(|h| h.listeners.iter().find(|l| applies(l, r, *p, *port)));
        let groups: Vec<String> = hit.groups.iter().cloned().collect();
        let services: Vec<&Service> = RECOGNIZED.iter().filter(|s| ports_of(s, *p).contains(port)).collect();
        if services.is_empty() {
            if let Some(l) = listener {
                out.push(port_finding(net, r, hit, &groups, *kind, *p, *port, None, Some(l), true));
            }
            continue;
        }
        for s in services {
            out.push(port_finding(net, r, hit, &groups, *kind, *p, *port, Some(s), listener, host.is_some()));
        }
    }
    out.extend(exposure(net, records));
    out
}

#[allow(clippy::too_many_arguments)]
fn port_finding(
    net: &Network,
    r: &Reachability,
    hit: &Hit,
    groups: &[String],
    kind: ReachabilityKind,
    p: Protocol,
    port: u16,
    service: Option<&Service>,
    listener: Option<&Listener>,
    agent: bool,
) -> Finding {
    let target = r.instance_id.as_deref().unwrap_or(&r.interface_id).to_string();
    let on = match &r.instance_id {
        Some(i) => format!("On instance {i}"),
        None => format!("On network interface {}", r.interface_id),
    };
    let from = kind_words(kind);
    let proto = proto_name(p);
    let (rule_type, rule_id, severity, title) = match service {
        Some(s) => {
            let rule_type = match (listener, agent) {
                (Some(_), _) => "RecognizedPortWithListener",
                (None, true) => "RecognizedPortNoListener",
                (None, false) => "RecognizedPortNoAgent",
            };
            (
                rule_type,
                format!("Recognized port reachable from {}", from.trim_start_matches("the ")),
                s.1.severity(kind),
                format!("{on}, {proto} port {port} which is associated with '{}' is reachable from {from}", s.0),
            )
        }
        None => (
            "UnrecognizedPortWithListener",
            format!("Unrecognized port with listener reachable from {}", from.trim_start_matches("the ")),
            Severity::Low,
            format!(
                "{on}, {proto} port {port}, which is not a recognized port, has a listener and is reachable from {from}"
            ),
        ),
    };
    // Path with the interface's groups that admit this port only (a load balancer's groups come before the
    // target's ACL and stay).
    let last_acl = r.path.iter().rposition(|c| c.starts_with("acl-")).map_or(0, |i| i + 1);
    let mut path: Vec<String> = r.path[..last_acl].iter().map(|c| c.to_string()).collect();
    path.extend(r.path[last_acl..].iter().filter(|c| !c.starts_with("sg-")).map(|c| c.to_string()));
    let at = path.iter().position(|c| **c == *r.interface_id).unwrap_or(path.len());
    path.splice(at..at, groups.iter().cloned());
    let acl = r.path.iter().rev().find(|c| c.starts_with("acl-")).map(|c| c.to_string());
    let rtb = r.path.iter().rev().find(|c| c.starts_with("rtb-")).map(|c| c.to_string());
    let mut a = BTreeMap::new();
    a.insert("RULE_TYPE".to_string(), rule_type.to_string());
    a.insert("REACHABILITY_TYPE".to_string(), kind_attr(kind).to_string());
    if let Some(i) = &r.instance_id {
        a.insert("INSTANCE_ID".to_string(), i.to_string());
    }
    a.insert("PORT".to_string(), port.to_string());
    a.insert("PROTOCOL".to_string(), proto.to_string());
    if let Some(s) = service {
        a.insert("PORT_GROUP_NAME".to_string(), s.0.to_string());
    }
    a.insert("VPC".to_string(), r.vpc_id.to_string());
    a.insert("SUBNET".to_string(), r.subnet_id.to_string());
    a.insert("ENI".to_string(), r.interface_id.to_string());
    if let Some(acl) = &acl {
        a.insert("ACL".to_string(), acl.clone());
    }
    if let Some(rtb) = &rtb {
        a.insert("ROUTE_TABLE".to_string(), rtb.clone());
    }
    a.insert("SECURITY_GROUP".to_string(), groups.join(","));
    a.insert(via_key(kind).to_string(), r.via.to_string());
    match kind {
        ReachabilityKind::LoadBalancer => {
            a.insert("IGW".to_string(), r.path[0].to_string());
            let ports: Vec<String> = r.listener_ports.iter().map(|p| p.to_string()).collect();
            a.insert("LISTENER_PORT".to_string(), ports.join(","));
            if let Some(i) = r.path.iter().position(|c| *c == r.via)
                && let Some(tg) = r.path.get(i + 1).filter(|tg| **tg != r.via)
            {
                a.insert("TARGET_GROUP".to_string(), tg.to_string());
            }
        }
        ReachabilityKind::TransitGateway => {
            if let Some(att) = net.tgw_attachments.get(&*r.via) {
                a.insert("TRANSIT_GATEWAY".to_string(), att.tgw_id.clone());
            }
        }
        _ => {}
    }
    if let Some(l) = listener.filter(|l| !l.process.is_empty()) {
        a.insert("PROCESS".to_string(), l.process.clone());
    }
    let service_words = match service {
        Some(s) => format!("{proto} port {port} ('{}')", s.0),
        None => format!("{proto} port {port}"),
    };
    let listener_words = match (listener, agent) {
        (Some(l), _) if !l.process.is_empty() => format!("The process {} is listening on it.", l.process),
        (Some(_), _) => "A process is listening on it.".to_string(),
        (None, true) => "No process was seen listening on it.".to_string(),
        (None, false) => "No host snapshot (agent) of this instance was given, so whether a process listens on \
            it is not known."
            .to_string(),
    };
    let description = format!(
        "{service_words} of {target} is reachable from {from} (address {}) through: VPC {}, subnet {}, {}{}network \
         ACL {}, security group(s) {}, ENI {}. {listener_words}",
        r.destination,
        r.vpc_id,
        r.subnet_id,
        kind_component(kind, &r.via, r),
        rtb.as_deref().map(|t| format!("route table {t}, ")).unwrap_or_default(),
        acl.as_deref().unwrap_or("-"),
        groups.join(", "),
        r.interface_id,
    );
    let noun = if groups.len() == 1 { "security group" } else { "security groups" };
    let recommendation = if kind == ReachabilityKind::LoadBalancer {
        let ports: Vec<String> = r.listener_ports.iter().map(|p| p.to_string()).collect();
        format!(
            "Restrict or remove listener {} of load balancer {}, or edit the {noun} {} to stop admitting the load \
             balancer on port {port}, if it is not needed.",
            ports.join(", "),
            r.via,
            groups.join(", ")
        )
    } else {
        format!(
            "Edit the {noun} {} to remove access from {from} on port {port}, if it is not needed.",
            groups.join(", ")
        )
    };
    let sources: Vec<String> = hit.sources.iter().map(|s| s.to_string()).collect();
    let evidence =
        vec![message(format!("path: {}", path.join(" -> "))), message(format!("sources: {}", sources.join(", ")))];
    finding(rule_id, severity, target, title, description, recommendation, evidence, a)
}

fn kind_component(kind: ReachabilityKind, via: &str, r: &Reachability) -> String {
    match kind {
        ReachabilityKind::Internet => format!("internet gateway {via}, "),
        ReachabilityKind::Vgw => format!("virtual private gateway {via}, "),
        ReachabilityKind::PeeredVpc => format!("peering connection {via}, "),
        ReachabilityKind::TransitGateway => format!("transit gateway attachment {via}, "),
        ReachabilityKind::LoadBalancer => {
            let ports: Vec<String> = r.listener_ports.iter().map(|p| p.to_string()).collect();
            format!("internet gateway {}, load balancer {via} (listener {}), ", r.path[0], ports.join(", "))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule_id: String,
    severity: Severity,
    asset: String,
    title: String,
    description: String,
    recommendation: String,
    evidence: Vec<Evidence>,
    attributes: BTreeMap<String, String>,
) -> Finding {
    Finding {
        rule_id,
        package: PACKAGE_NAME.to_string(),
        title,
        severity,
        numeric_severity: severity.numeric(),
        asset,
        description,
        recommendation,
        evidence,
        attributes,
    }
}

fn message(text: String) -> Evidence {
    Evidence { message: text, path: None, line: None, text: None, is_default: false }
}

/// `22, 80-90`.
pub fn port_list(set: &RangeSet) -> String {
    set.ranges()
        .iter()
        .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
        .collect::<Vec<_>>()
        .join(", ")
}

fn range_set(ranges: impl IntoIterator<Item = PortRange>) -> RangeSet {
    RangeSet::from_ranges(ranges.into_iter().map(|r| (r.from as u128, r.to as u128)).collect())
}

/// One `NetworkExposure` finding per (interface, admitting security group):
/// the TCP and UDP ports reachable (any reachability type) that the group's
/// inbound rules cover.
fn exposure(net: &Network, records: &[Reachability]) -> Vec<Finding> {
    type Acc<'a> = (&'a Reachability, RangeSet, RangeSet, BTreeSet<&'static str>);
    let mut acc: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for r in records.iter().filter(|r| r.protocol.has_ports()) {
        for g in r.security_groups.iter() {
            let rule_ports = match net.security_groups.get(&**g) {
                Some(sg) => range_set(sg.ingress.iter().filter(|x| x.protocol.admits(r.protocol)).map(|x| x.ports)),
                None => range_set([PortRange::ALL]),
            };
            let ports = range_set(r.ports.iter().copied()).intersect(&rule_ports);
            if ports.is_empty() {
                continue;
            }
            let e = acc
                .entry((r.interface_id.to_string(), g.to_string()))
                .or_insert_with(|| (r, RangeSet::empty(), RangeSet::empty(), BTreeSet::new()));
            if r.protocol == Protocol::Tcp {
                e.1 = e.1.union(&ports);
            } else {
                e.2 = e.2.union(&ports);
            }
            e.3.insert(kind_attr(r.kind));
        }
    }
    acc.into_iter()
        .map(|((eni, sg), (r, tcp, udp, kinds))| {
            let target = r.instance_id.as_deref().map(str::to_string).unwrap_or_else(|| eni.clone());
            let (tcp, udp) = (port_list(&tcp), port_list(&udp));
            let mut a = BTreeMap::new();
            a.insert("RULE_TYPE".to_string(), "NetworkExposure".to_string());
            a.insert("REACHABILITY_TYPE".to_string(), kinds.into_iter().collect::<Vec<_>>().join(","));
            if let Some(i) = &r.instance_id {
                a.insert("INSTANCE_ID".to_string(), i.to_string());
            }
            a.insert("VPC".to_string(), r.vpc_id.to_string());
            a.insert("SUBNET".to_string(), r.subnet_id.to_string());
            a.insert("ENI".to_string(), eni.clone());
            a.insert("SECURITY_GROUP".to_string(), sg.clone());
            if !tcp.is_empty() {
                a.insert("TCP_PORTS".to_string(), tcp.clone());
            }
            if !udp.is_empty() {
                a.insert("UDP_PORTS".to_string(), udp.clone());
            }
            let mut parts = Vec::new();
            if !tcp.is_empty() {
                parts.push(format!("TCP {tcp}"));
            }
            if !udp.is_empty() {
                parts.push(format!("UDP {udp}"));
            }
            let ports = parts.join("; ");
            finding(
                EXPOSURE_RULE_ID.to_string(),
                Severity::Informational,
                target.clone(),
                format!("On {target}, network interface {eni} with security group {sg} has ports reachable from outside its VPC: {ports}"),
                format!(
                    "Aggregate network exposure of network interface {eni} ({target}, VPC {}, subnet {}) through \
                     security group {sg}: {ports}.",
                    r.vpc_id, r.subnet_id
                ),
                format!("Review security group {sg}: keep open only the ports that must be reachable."),
                vec![message(format!("reachable through {sg}: {ports}"))],
                a,
            )
        })
        .collect()
}

/// The package's summary outcome: fail when a port is reachable, could not
/// evaluate when nothing is but the network was loaded with `warnings`, pass
/// otherwise. `warnings` are also listed as evidence.
pub fn summary(records: &[Reachability], warnings: &[String]) -> RuleOutcome {
    let mut internet: BTreeMap<&str, u64> = BTreeMap::new();
    let mut private: BTreeMap<&str, u64> = BTreeMap::new();
    let mut seen: BTreeSet<(&str, bool, Protocol, u16, u16)> = BTreeSet::new();
    for r in records.iter().filter(|r| r.protocol.has_ports()) {
        let host = r.instance_id.as_deref().unwrap_or(&r.interface_id);
        for pr in r.ports.iter() {
            // Records of one key may repeat ports with other sources: count each port once.
            if !seen.insert((host, from_internet(r.kind), r.protocol, pr.from, pr.to)) {
                continue;
            }
            let n = u64::from(pr.to - pr.from) + 1;
            let m = if from_internet(r.kind) { &mut internet } else { &mut private };
            *m.entry(host).or_default() += n;
        }
    }
    let plural = |n: u64, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    let mut reason = format!(
        "{} on {} reachable from the internet",
        plural(internet.values().sum(), "port"),
        plural(internet.len() as u64, "instance")
    );
    if !private.is_empty() {
        reason.push_str(&format!(
            "; {} on {} reachable from a VGW, peered VPC or transit gateway",
            plural(private.values().sum(), "port"),
            plural(private.len() as u64, "instance")
        ));
    }
    let outcome = if !internet.is_empty() || !private.is_empty() {
        Outcome::Fail
    } else if !warnings.is_empty() {
        reason = format!("no port reachable, but the network description is incomplete ({} warnings)", warnings.len());
        Outcome::CouldNotEvaluate
    } else {
        Outcome::Pass
    };
    RuleOutcome {
        rule_id: SCAN_RULE_ID.to_string(),
        package: PACKAGE_NAME.to_string(),
        title: "Ports reachable from outside the VPC".to_string(),
        severity: Severity::High,
        outcome,
        reason,
        evidence: warnings.iter().map(|w| message(format!("load warning: {w}"))).collect(),
    }
}

#[cfg(test)]
mod tests;
