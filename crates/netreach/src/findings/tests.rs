//! Classification tests on hand-made records: recognized vs not, listener /
//! no listener / no agent, severities per reachability type, aggregation.

use super::*;
use crate::model::{SecurityGroup, SgPeer, SgRule};

fn net(rules: &[(&str, Protocol, u16, u16)]) -> Network {
    let mut net = Network::default();
    for (g, p, a, b) in rules {
        let sg = net.security_groups.entry(g.to_string()).or_insert_with(|| SecurityGroup {
            id: g.to_string(),
            vpc_id: "vpc-1".into(),
            name: g.to_string(),
            ingress: vec![],
            egress: vec![],
        });
        sg.ingress.push(SgRule {
            protocol: *p,
            ports: PortRange { from: *a, to: *b },
            peer: SgPeer::Cidr("0.0.0.0/0".parse().unwrap()),
        });
    }
    net
}

fn rec(kind: ReachabilityKind, p: Protocol, ports: &[(u16, u16)], groups: &[&str]) -> Reachability {
    let via = match kind {
        ReachabilityKind::Internet => "igw-1",
        ReachabilityKind::Vgw => "vgw-1",
        ReachabilityKind::PeeredVpc => "pcx-1",
        ReachabilityKind::TransitGateway => "tgw-attach-1",
        ReachabilityKind::LoadBalancer => "lb-1",
    };
    let mut path: Vec<std::sync::Arc<str>> = vec![via.into(), "rtb-1".into(), "acl-1".into()];
    path.extend(groups.iter().map(|g| (*g).into()));
    path.extend(["eni-1".into(), "i-1".into()]);
    Reachability {
        interface_id: "eni-1".into(),
        instance_id: Some("i-1".into()),
        vpc_id: "vpc-1".into(),
        subnet_id: "subnet-1".into(),
        kind,
        via: via.into(),
        protocol: p,
        ports: ports.iter().map(|&(from, to)| PortRange { from, to }).collect(),
        sources: vec!["0.0.0.0/0".parse().unwrap()].into(),
        destination: "54.0.0.1".parse().unwrap(),
        private_address: "10.0.0.10".parse().unwrap(),
        path: path.into(),
        security_groups: groups.iter().map(|g| (*g).into()).collect(),
        listener_ports: vec![],
    }
}

fn listener(p: Protocol, port: u16, address: Option<&str>) -> Listener {
    Listener { protocol: p, address: address.map(|a| a.parse().unwrap()), port, process: "/usr/sbin/d".into() }
}

fn kinds(fs: &[Finding]) -> Vec<(String, String, String, Severity)> {
    fs.iter()
        .map(|f| {
            (
                f.attributes["RULE_TYPE"].clone(),
                f.attributes.get("PORT").cloned().unwrap_or_default(),
                f.attributes.get("PORT_GROUP_NAME").cloned().unwrap_or_default(),
                f.severity,
            )
        })
        .collect()
}

fn t(rule: &str, port: &str, group: &str, s: Severity) -> (String, String, String, Severity) {
    (rule.into(), port.into(), group.into(), s)
}

#[test]
fn ssh_without_agent_from_the_internet_is_high_with_inspector_wording() {
    let n = net(&[("sg-a", Protocol::Tcp, 22, 22)]);
    let fs = findings(&n, &[rec(ReachabilityKind::Internet, Protocol::Tcp, &[(22, 22)], &["sg-a"])], &[]);
    assert_eq!(
        kinds(&fs),
        [
            t("RecognizedPortNoAgent", "22", "SSH", Severity::High),
            t("NetworkExposure", "", "", Severity::Informational)
        ]
    );
    let f = &fs[0];
    assert_eq!(f.rule_id, "Recognized port reachable from internet");
    assert_eq!(f.title, "On instance i-1, TCP port 22 which is associated with 'SSH' is reachable from the internet");
    assert!(f.recommendation.starts_with("Edit the security group sg-a to remove access from the internet on port 22"));
    for (k, v) in [
        ("REACHABILITY_TYPE", "Internet"),
        ("INSTANCE_ID", "i-1"),
        ("PROTOCOL", "TCP"),
        ("VPC", "vpc-1"),
        ("SUBNET", "subnet-1"),
        ("ENI", "eni-1"),
        ("ACL", "acl-1"),
        ("SECURITY_GROUP", "sg-a"),
        ("IGW", "igw-1"),
    ] {
        assert_eq!(f.attributes[k], v, "{k}");
    }
    assert_eq!(f.evidence[0].message, "path: igw-1 -> rtb-1 -> acl-1 -> sg-a -> eni-1 -> i-1");
    assert_eq!(f.evidence[1].message, "sources: 0.0.0.0/0");
}

#[test]
fn severity_depends_on_service_and_reachability_type() {
    let n = net(&[("sg-a", Protocol::Tcp, 0, 65535)]);
    let cases = [
        (ReachabilityKind::Internet, 5432, Severity::High),
        (ReachabilityKind::Vgw, 5432, Severity::Medium),
        (ReachabilityKind::PeeredVpc, 3389, Severity::Medium),
        (ReachabilityKind::Internet, 515, Severity::Medium),
        (ReachabilityKind::PeeredVpc, 515, Severity::Low),
        (ReachabilityKind::Internet, 443, Severity::Informational),
        (ReachabilityKind::Vgw, 80, Severity::Informational),
    ];
    for (kind, port, sev) in cases {
        let fs = findings(&n, &[rec(kind, Protocol::Tcp, &[(port, port)], &["sg-a"])], &[]);
        assert_eq!(fs[0].severity, sev, "{kind:?} {port}");
    }
    let fs = findings(&n, &[rec(ReachabilityKind::Vgw, Protocol::Tcp, &[(22, 22)], &["sg-a"])], &[]);
    assert_eq!(fs[0].rule_id, "Recognized port reachable from a Virtual Private Gateway");
    assert_eq!(fs[0].attributes["VGW"], "vgw-1");
    let fs = findings(&n, &[rec(ReachabilityKind::PeeredVpc, Protocol::Tcp, &[(22, 22)], &["sg-a"])], &[]);
    assert_eq!(fs[0].rule_id, "Recognized port reachable from a peered VPC");
    assert_eq!(fs[0].attributes["PEERING_CONNECTION"], "pcx-1");
    assert_eq!(fs[0].attributes["REACHABILITY_TYPE"], "PeeredVPC");
}

#[test]
fn listener_knowledge_decides_the_rule_type() {
    let n = net(&[("sg-a", Protocol::Tcp, 20, 8080)]);
    let r = [rec(ReachabilityKind::Internet, Protocol::Tcp, &[(20, 8080)], &["sg-a"])];
    // A range: every recognized TCP port inside it gets a finding, without agent.
    let no_agent = findings(&n, &r, &[]);
    assert!(
        no_agent
            .iter()
            .filter(|f| f.rule_id != EXPOSURE_RULE_ID)
            .all(|f| f.attributes["RULE_TYPE"] == "RecognizedPortNoAgent")
    );
    assert!(no_agent.iter().any(|f| f.attributes.get("PORT_GROUP_NAME").is_some_and(|g| g == "MySQL")));
    // Port 111 is both NFS and RPC.
    assert_eq!(no_agent.iter().filter(|f| f.attributes.get("PORT").is_some_and(|p| p == "111")).count(), 2);
    let hosts = [HostListeners {
        host: "i-1".into(),
        listeners: vec![
            listener(Protocol::Tcp, 22, None),
            listener(Protocol::Tcp, 8080, Some("10.0.0.10")),
            listener(Protocol::Tcp, 8081, None),              // not reachable
            listener(Protocol::Tcp, 3306, Some("127.0.0.1")), // loopback only
            listener(Protocol::Udp, 8080, None),              // UDP is not reachable
        ],
    }];
    let fs = findings(&n, &r, &hosts);
    let by_port = |p: &str| fs.iter().filter(|f| f.attributes.get("PORT").is_some_and(|x| x == p)).collect::<Vec<_>>();
    assert_eq!(by_port("22")[0].attributes["RULE_TYPE"], "RecognizedPortWithListener");
    assert_eq!(by_port("22")[0].attributes["PROCESS"], "/usr/sbin/d");
    assert_eq!(by_port("3306")[0].attributes["RULE_TYPE"], "RecognizedPortNoListener");
    let u = by_port("8080");
    assert_eq!(
        kinds(&u.into_iter().cloned().collect::<Vec<_>>()),
        [t("UnrecognizedPortWithListener", "8080", "", Severity::Low)]
    );
    assert!(by_port("8081").is_empty());
    // Knowledge matched by private IP instead of instance id.
    let by_ip = [HostListeners { host: "10.0.0.10".into(), listeners: vec![] }];
    let fs = findings(&n, &r, &by_ip);
    assert!(
        fs.iter()
            .filter(|f| f.rule_id != EXPOSURE_RULE_ID)
            .all(|f| f.attributes["RULE_TYPE"] == "RecognizedPortNoListener")
    );
}

#[test]
fn exposure_aggregates_per_interface_and_group() {
    let n = net(&[("sg-a", Protocol::Tcp, 22, 22), ("sg-b", Protocol::Tcp, 80, 90), ("sg-b", Protocol::Udp, 53, 53)]);
    let r = [
        rec(ReachabilityKind::Internet, Protocol::Tcp, &[(22, 22), (80, 90)], &["sg-a", "sg-b"]),
        rec(ReachabilityKind::Vgw, Protocol::Udp, &[(53, 53)], &["sg-b"]),
        rec(ReachabilityKind::Internet, Protocol::Icmp, &[(0, 65535)], &["sg-a"]),
    ];
    let fs = findings(&n, &r, &[]);
    let exp: Vec<_> = fs.iter().filter(|f| f.rule_id == EXPOSURE_RULE_ID).collect();
    assert_eq!(exp.len(), 2);
    assert_eq!(exp[0].attributes["SECURITY_GROUP"], "sg-a");
    assert_eq!(exp[0].attributes["TCP_PORTS"], "22");
    assert!(!exp[0].attributes.contains_key("UDP_PORTS"));
    assert_eq!(exp[1].attributes["SECURITY_GROUP"], "sg-b");
    assert_eq!(exp[1].attributes["TCP_PORTS"], "80-90");
    assert_eq!(exp[1].attributes["UDP_PORTS"], "53");
    assert_eq!(exp[1].attributes["REACHABILITY_TYPE"], "Internet,VGW");
    assert!(exp.iter().all(|f| f.severity == Severity::Informational));
    // The HTTP finding names only the group that admits port 80.
    let http = fs.iter().find(|f| f.attributes.get("PORT").is_some_and(|p| p == "80")).unwrap();
    assert_eq!(http.attributes["SECURITY_GROUP"], "sg-b");
    assert!(http.evidence[0].message.contains("acl-1 -> sg-b -> eni-1"));
    assert!(
        !is_recognized(Protocol::Udp, 24) && is_recognized(Protocol::Udp, 514) && !is_recognized(Protocol::Tcp, 514)
    );
}

#[test]
fn summary_counts_ports_and_instances() {
    let r = [
        rec(ReachabilityKind::Internet, Protocol::Tcp, &[(22, 22), (80, 81)], &["sg-a"]),
        rec(ReachabilityKind::Internet, Protocol::Icmp, &[(0, 65535)], &["sg-a"]),
        rec(ReachabilityKind::Vgw, Protocol::Udp, &[(53, 53)], &["sg-a"]),
    ];
    let s = summary(&r, &[]);
    assert_eq!(s.outcome, Outcome::Fail);
    assert_eq!(
        s.reason,
        "3 ports on 1 instance reachable from the internet; 1 port on 1 instance reachable from a VGW, peered VPC or transit gateway"
    );
    assert_eq!(summary(&[], &[]).outcome, Outcome::Pass);
    let w = summary(&[], &["x".to_string()]);
    assert_eq!(w.outcome, Outcome::CouldNotEvaluate);
    assert_eq!(w.evidence.len(), 1);
}
