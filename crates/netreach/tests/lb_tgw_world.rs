//! End to end on the hand-written `tests/fixtures/aws/lb-tgw` folder (AWS
//! CLI shapes): describe-* JSON → model → engine → findings, every record and
//! finding read off the fixture by hand.
//!
//! The world: vpc-0app (10.30/16) with a public subnet (IGW) holding an
//! internet-facing ALB `web` (443 → target group `app`, port 8443: app-1
//! healthy, app-2 unhealthy) and an NLB `ssh` without groups (2222 → port 22
//! on the bastion, which admits 22 from anywhere: the NLB keeps the client's
//! address); a private subnet (main table: 10.40/16 and 192.168/16 to the
//! transit gateway) with app-1, app-2 (5432 from 10.40/16 and 192.168/16,
//! 8443 from the ALB's group) and the bastion; vpc-0data (10.40/16) and a VPN
//! on transit gateway tgw-0hub, one TGW route table with 192.168.99.0/24
//! blackholed.

use std::path::Path;

use warden_netreach::engine::{ReachabilityKind, analyse, why};
use warden_netreach::findings::{HostListeners, Listener, findings};
use warden_netreach::load::load_dir;
use warden_netreach::model::{Network, Protocol};
use warden_netreach::walker::Origin;

const ALB: &str = "arn:aws:elasticloadbalancing:eu-central-1:444455556666:loadbalancer/app/web/1a2b";
const NLB: &str = "arn:aws:elasticloadbalancing:eu-central-1:444455556666:loadbalancer/net/ssh/3c4d";

fn world() -> Network {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws/lb-tgw");
    let loaded = load_dir(&dir).expect("fixture folder");
    assert!(loaded.network.warnings.is_empty(), "{:#?}", loaded.network.warnings);
    assert_eq!((loaded.summary.files_loaded, loaded.summary.files_skipped), (18, 0));
    loaded.network
}

/// (interface, kind, via, protocol, ports, listener ports, sources) of every TCP record.
fn tcp_records(net: &Network) -> Vec<(String, ReachabilityKind, String, String, Vec<u16>, String)> {
    let mut v: Vec<_> = analyse(net)
        .into_iter()
        .filter(|r| r.protocol == Protocol::Tcp)
        .map(|r| {
            let ports = r.ports.iter().map(|p| format!("{}-{}", p.from, p.to)).collect::<Vec<_>>().join(",");
            let sources = if r.sources.len() > 3 {
                format!("{} prefixes", r.sources.len())
            } else {
                r.sources.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
            };
            (r.interface_id.to_string(), r.kind, r.via.to_string(), ports, r.listener_ports.clone(), sources)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn records_through_load_balancers_and_the_transit_gateway() {
    let net = world();
    let s = |x: &str| x.to_string();
    let got = tcp_records(&net);
    let internet_v4 = format!("{} prefixes", warden_netreach::engine::internet().family(false).to_prefixes().len());
    // 192.168.0.0/16 without the blackholed 192.168.99.0/24 is 8 prefixes.
    let without_99 = s("8 prefixes");
    let mut expected = vec![
        (
            s("eni-0app1"),
            ReachabilityKind::TransitGateway,
            s("tgw-attach-0data"),
            s("5432-5432"),
            vec![],
            s("10.40.1.0/24"),
        ),
        (
            s("eni-0app1"),
            ReachabilityKind::TransitGateway,
            s("tgw-attach-0vpn"),
            s("5432-5432"),
            vec![],
            without_99.clone(),
        ),
        (s("eni-0app1"), ReachabilityKind::LoadBalancer, s(ALB), s("8443-8443"), vec![443], internet_v4.clone()),
        (
            s("eni-0app2"),
            ReachabilityKind::TransitGateway,
            s("tgw-attach-0data"),
            s("5432-5432"),
            vec![],
            s("10.40.1.0/24"),
        ),
        (
            s("eni-0app2"),
            ReachabilityKind::TransitGateway,
            s("tgw-attach-0vpn"),
            s("5432-5432"),
            vec![],
            without_99.clone(),
        ),
        (
            s("eni-0bastion"),
            ReachabilityKind::TransitGateway,
            s("tgw-attach-0data"),
            s("22-22"),
            vec![],
            s("10.40.1.0/24"),
        ),
        (s("eni-0bastion"), ReachabilityKind::TransitGateway, s("tgw-attach-0vpn"), s("22-22"), vec![], without_99),
        (s("eni-0bastion"), ReachabilityKind::LoadBalancer, s(NLB), s("22-22"), vec![2222], internet_v4),
    ];
    expected.sort();
    assert_eq!(got, expected);
    let vpn = analyse(&net)
        .into_iter()
        .find(|r| &*r.via == "tgw-attach-0vpn" && &*r.interface_id == "eni-0app1" && r.protocol == Protocol::Tcp)
        .unwrap();
    assert!(!vpn.sources.iter().any(|n| n.contains(&"192.168.99.7".parse::<std::net::IpAddr>().unwrap())));
    assert!(vpn.sources.iter().any(|n| n.contains(&"192.168.98.7".parse::<std::net::IpAddr>().unwrap())));
    // Paths.
    let alb = analyse(&net).into_iter().find(|r| &*r.via == ALB).unwrap();
    let path: Vec<&str> = alb.path.iter().map(|c| &**c).collect();
    assert_eq!(
        path,
        [
            "igw-0app",
            "rtb-0pub",
            "acl-0app",
            "sg-0alb",
            ALB,
            "arn:aws:elasticloadbalancing:eu-central-1:444455556666:targetgroup/app/5e6f",
            "rtb-0main",
            "acl-0app",
            "sg-0app",
            "eni-0app1",
            "i-0app1"
        ]
    );
    // The unhealthy target is explained.
    let e = why(&net, "i-0app2", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(!e.reachable);
    let text = e.to_string();
    assert!(text.contains("target i-0app2 of") && text.contains("is unhealthy: it receives nothing"), "{text}");
    // From the data VPC through the transit gateway.
    let e = why(&net, "i-0app1", Protocol::Tcp, 5432, &Origin::TransitGateway("tgw-attach-0data".into()), None);
    assert!(e.reachable, "{e}");
    let e = why(&net, "i-0app1", Protocol::Tcp, 5432, &Origin::TransitGateway("tgw-attach-0vpn".into()), None);
    assert!(e.reachable, "{e}");
}

#[test]
fn findings_name_the_load_balancer_and_transit_gateway() {
    let net = world();
    let records = analyse(&net);
    let hosts = [HostListeners {
        host: "i-0app1".into(),
        listeners: vec![Listener {
            protocol: Protocol::Tcp,
            address: None,
            port: 8443,
            process: "/usr/bin/app".into(),
        }],
    }];
    let found = findings(&net, &records, &hosts);
    let mut rows: Vec<(String, String, String, String, String, String)> = found
        .iter()
        .map(|f| {
            let at = |k: &str| f.attributes.get(k).cloned().unwrap_or_else(|| "-".into());
            let via = match at("REACHABILITY_TYPE").as_str() {
                _ if at("RULE_TYPE") == "NetworkExposure" => at("TCP_PORTS"),
                "Internet" => at("LOAD_BALANCER"),
                "TransitGateway" => format!("{}/{}", at("TRANSIT_GATEWAY"), at("TGW_ATTACHMENT")),
                _ => at("TCP_PORTS"),
            };
            (f.asset.clone(), format!("{:?}", f.severity), at("RULE_TYPE"), at("REACHABILITY_TYPE"), at("PORT"), via)
        })
        .collect();
    rows.sort();
    let r = |a: &str, b: &str, c: &str, d: &str, e: &str, f: &str| {
        (a.to_string(), b.to_string(), c.to_string(), d.to_string(), e.to_string(), f.to_string())
    };
    let mut expected = vec![
        // app-1 has a snapshot: 8443 listens (reached through the ALB only), 5432 does not.
        r("i-0app1", "Low", "UnrecognizedPortWithListener", "Internet", "8443", ALB),
        r("i-0app1", "Medium", "RecognizedPortNoListener", "TransitGateway", "5432", "tgw-0hub/tgw-attach-0data"),
        r("i-0app1", "Medium", "RecognizedPortNoListener", "TransitGateway", "5432", "tgw-0hub/tgw-attach-0vpn"),
        r("i-0app1", "Informational", "NetworkExposure", "Internet,TransitGateway", "-", "5432, 8443"),
        r("i-0app2", "Medium", "RecognizedPortNoAgent", "TransitGateway", "5432", "tgw-0hub/tgw-attach-0data"),
        r("i-0app2", "Medium", "RecognizedPortNoAgent", "TransitGateway", "5432", "tgw-0hub/tgw-attach-0vpn"),
        r("i-0app2", "Informational", "NetworkExposure", "TransitGateway", "-", "5432"),
        // SSH through the NLB only: Internet, High, with the load balancer.
        r("i-0bastion", "High", "RecognizedPortNoAgent", "Internet", "22", NLB),
        r("i-0bastion", "Medium", "RecognizedPortNoAgent", "TransitGateway", "22", "tgw-0hub/tgw-attach-0data"),
        r("i-0bastion", "Medium", "RecognizedPortNoAgent", "TransitGateway", "22", "tgw-0hub/tgw-attach-0vpn"),
        r("i-0bastion", "Informational", "NetworkExposure", "Internet,TransitGateway", "-", "22"),
    ];
    expected.sort();
    assert_eq!(rows, expected);
    let ssh = found.iter().find(|f| f.attributes.get("LOAD_BALANCER").map(String::as_str) == Some(NLB)).unwrap();
    assert_eq!(ssh.attributes["LISTENER_PORT"], "2222");
    assert_eq!(ssh.attributes["IGW"], "igw-0app");
    assert_eq!(ssh.attributes["SECURITY_GROUP"], "sg-0bastion");
    assert_eq!(ssh.attributes["ACL"], "acl-0app");
    assert_eq!(ssh.attributes["ROUTE_TABLE"], "rtb-0main");
    let exposure =
        found.iter().find(|f| f.asset == "i-0app1" && f.attributes["RULE_TYPE"] == "NetworkExposure").unwrap();
    assert_eq!(exposure.attributes["TCP_PORTS"], "5432, 8443");
}
