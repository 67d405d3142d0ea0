//! Loading the describe-* fixtures under `tests/fixtures/aws/`: every field
//! the loader reads is asserted on the moto dump (real moto output) or the
//! hand-made fixture (what moto lacks), plus the failure paths: malformed
//! JSON, unknown outputs, unreadable folders, and arbitrary file contents.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use proptest::prelude::*;
use warden_netreach::load::{Loaded, load_dir, sanitize};
use warden_netreach::model::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws").join(name)
}

fn load(name: &str) -> Loaded {
    load_dir(&fixture(name)).expect("fixture folder readable")
}

fn net(s: &str) -> IpNet {
    s.parse().expect("test CIDR")
}

fn has_warning(n: &Network, resource: &str, needle: &str) -> bool {
    n.warnings.iter().any(|w| w.resource == resource && w.message.contains(needle))
}

const MOTO_TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg-web/1df37c7a229414c3";
const MOTO_LB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web-alb/f660e4cc09098eb0";

#[test]
fn moto_world_counts_and_values() {
    let l = load("moto-world");
    let n = &l.network;
    assert_eq!(l.summary.files_loaded, 18);
    assert_eq!(l.summary.files_skipped, 2);
    assert!(!l.summary.partial);
    let counts = [
        n.vpcs.len(),
        n.subnets.len(),
        n.route_tables.len(),
        n.internet_gateways.len(),
        n.vpn_gateways.len(),
        n.peerings.len(),
        n.network_acls.len(),
        n.security_groups.len(),
        n.interfaces.len(),
        n.instances.len(),
        n.load_balancers.len(),
        n.target_groups.len(),
    ];
    assert_eq!(counts, [3, 10, 6, 1, 1, 1, 4, 7, 3, 3, 1, 1]);
    // Only the two outputs Warden does not model are warned about.
    assert_eq!(n.warnings.len(), 2, "{:#?}", n.warnings);
    assert!(n.warnings.iter().all(|w| w.message.contains("not a recognised describe-* output")));
    assert!(n.warnings.iter().any(|w| w.resource.ends_with("describe-vpc-endpoints.json")));

    let vpc_a = &n.vpcs["vpc-c454068d884c361e2"];
    assert_eq!(vpc_a.cidrs_v4, vec!["10.0.0.0/16".parse().unwrap()]);
    assert_eq!(vpc_a.account.as_deref(), Some("123456789012"));
    assert_eq!(vpc_a.region.as_deref(), Some("us-east-1"));
    let s = &n.subnets["subnet-96dbdf50408f207ca"];
    assert_eq!((s.vpc_id.as_str(), s.cidr_v4), ("vpc-c454068d884c361e2", Some("10.0.1.0/24".parse().unwrap())));
    assert_eq!(s.availability_zone.as_deref(), Some("us-east-1a"));

    let rt = &n.route_tables["rtb-f92d87dc77fbd28b7"];
    assert!(!rt.main);
    assert_eq!(rt.subnet_ids, ["subnet-96dbdf50408f207ca", "subnet-13c7e1b853e666c30"]);
    assert_eq!(rt.routes.len(), 4);
    assert_eq!(rt.routes[0].target, RouteTarget::Local);
    assert_eq!(rt.routes[0].origin, RouteOrigin::Local);
    assert_eq!(rt.routes[1].destination, RouteDestination::Cidr(net("0.0.0.0/0")));
    assert_eq!(rt.routes[1].target, RouteTarget::InternetGateway("igw-abd9e623ca5cc7f00".into()));
    assert_eq!(rt.routes[1].origin, RouteOrigin::Static);
    assert_eq!(rt.routes[2].target, RouteTarget::Peering("pcx-5e38db7a7d4751e59".into()));
    assert_eq!(rt.routes[3].destination, RouteDestination::Cidr(net("::/0")));
    assert_eq!(n.route_tables.values().filter(|t| t.main).count(), 3);
    let rtb_b = &n.route_tables["rtb-30bffe0fb03665ace"];
    assert!(rtb_b.routes.iter().any(|r| r.target == RouteTarget::VpnGateway("vgw-7832c9fd85f6d367f".into())));

    assert_eq!(n.internet_gateways["igw-abd9e623ca5cc7f00"].vpc_ids, ["vpc-c454068d884c361e2"]);
    assert_eq!(n.vpn_gateways["vgw-7832c9fd85f6d367f"].vpc_ids, ["vpc-e5c230b73102e5a27"]);
    let p = &n.peerings["pcx-5e38db7a7d4751e59"];
    assert!(p.active);
    assert_eq!((p.requester_vpc.as_str(), p.accepter_vpc.as_str()), ("vpc-c454068d884c361e2", "vpc-e5c230b73102e5a27"));
    assert_eq!(
        (p.requester_cidrs.clone(), p.accepter_cidrs.clone()),
        (vec![net("10.0.0.0/16")], vec![net("10.1.0.0/16")])
    );

    let acl = &n.network_acls["acl-f75db468dbb9d2417"];
    assert!(!acl.default);
    assert_eq!(acl.subnet_ids, ["subnet-717903dfec4230a0f"]);
    assert_eq!(acl.entries.len(), 7);
    let e100 = &acl.entries[0];
    assert_eq!((e100.rule_number, e100.egress, e100.protocol, e100.allow), (100, false, Protocol::Tcp, false));
    assert_eq!(e100.ports, PortRange { from: 22, to: 22 });
    assert_eq!(acl.entries[3].protocol, Protocol::Icmp);
    assert_eq!(acl.entries[3].ports, PortRange::ALL);
    assert!(acl.entries[5].egress && acl.entries[5].ports == PortRange { from: 1024, to: 65535 });
    assert_eq!(n.network_acls.values().filter(|a| a.default).count(), 3);

    let web = &n.security_groups["sg-04ceba8eb6d92d64a"];
    assert_eq!(web.name, "web-sg");
    assert_eq!(web.ingress.len(), 3);
    assert!(web.ingress.contains(&SgRule {
        protocol: Protocol::Tcp,
        ports: PortRange { from: 80, to: 80 },
        peer: SgPeer::Group("sg-283311e508f133e1b".into())
    }));
    assert!(web.ingress.contains(&SgRule {
        protocol: Protocol::Icmp,
        ports: PortRange::ALL,
        peer: SgPeer::Cidr(net("0.0.0.0/0"))
    }));
    assert_eq!(
        web.egress,
        [SgRule { protocol: Protocol::All, ports: PortRange::ALL, peer: SgPeer::Cidr(net("0.0.0.0/0")) }]
    );
    // alb-sg: 443 from 0.0.0.0/0 and ::/0 split into two rules; 80 from 0.0.0.0/0.
    assert_eq!(n.security_groups["sg-283311e508f133e1b"].ingress.len(), 3);
    let app = &n.security_groups["sg-3edd7b42a4df6e320"];
    assert!(app.ingress.contains(&SgRule {
        protocol: Protocol::All,
        ports: PortRange::ALL,
        peer: SgPeer::Group("sg-3edd7b42a4df6e320".into())
    }));
    let db = &n.security_groups["sg-1e2b3c74719ff4ad2"];
    assert_eq!(db.egress.len(), 1);
    assert_eq!(db.ingress[1].peer, SgPeer::Cidr(net("::/0")));

    let eni = &n.interfaces["eni-78e9208414560afbe"];
    assert_eq!(eni.private_ips, [Ipv4Addr::new(10, 0, 1, 10)]);
    assert_eq!(eni.public_ips, [(Ipv4Addr::new(54, 214, 63, 54), Ipv4Addr::new(10, 0, 1, 10))]);
    assert_eq!(eni.security_group_ids, ["sg-04ceba8eb6d92d64a", "sg-3edd7b42a4df6e320"]);
    assert_eq!(eni.instance_id.as_deref(), Some("i-9ff9ec716ae40311d"));
    assert_eq!((eni.interface_type.as_str(), eni.description.as_str()), ("interface", "Primary network interface"));
    let web1 = &n.instances["i-9ff9ec716ae40311d"];
    assert!(web1.running);
    assert_eq!(web1.name.as_deref(), Some("web-1"));
    assert_eq!(web1.interface_ids, ["eni-78e9208414560afbe"]);

    let lb = &n.load_balancers[MOTO_LB];
    assert_eq!((lb.name.as_str(), lb.kind, lb.internet_facing), ("web-alb", LoadBalancerKind::Application, true));
    assert_eq!(lb.subnet_ids.len(), 2);
    assert_eq!(lb.security_group_ids, ["sg-283311e508f133e1b"]);
    assert_eq!(lb.listeners.len(), 1);
    assert_eq!((lb.listeners[0].protocol, lb.listeners[0].port), (Protocol::Tcp, 80));
    assert_eq!(lb.listeners[0].target_group_ids, [MOTO_TG]);
    let tg = &n.target_groups[MOTO_TG];
    assert_eq!((tg.protocol, tg.port, tg.target_type.as_str()), (Protocol::Tcp, Some(80), "instance"));
    let healthy = |id: &str, port: u16| Target { id: id.into(), port: Some(port), state: Some("healthy".into()) };
    assert_eq!(tg.targets, [healthy("i-9ff9ec716ae40311d", 80), healthy("i-3cee96c180a4e387d", 80)]);
}

#[test]
fn handmade_fixture_values() {
    let l = load("handmade");
    let n = &l.network;
    assert!(!l.summary.partial);
    assert_eq!(l.summary.files_loaded, 24);
    let v = &n.vpcs["vpc-0aaa"];
    assert_eq!(v.cidrs_v4, ["10.20.0.0/16".parse().unwrap(), "100.64.0.0/20".parse().unwrap()]);
    assert_eq!(v.cidrs_v6, ["2600:1f18:aaaa:bb00::/56".parse().unwrap()]);
    assert_eq!((v.account.as_deref(), v.region.as_deref()), (Some("111122223333"), Some("eu-west-1")));
    assert_eq!(n.subnets["subnet-0a1"].cidrs_v6, ["2600:1f18:aaaa:bb01::/64".parse().unwrap()]);

    let main = &n.route_tables["rtb-0main"];
    assert!(main.main && main.subnet_ids.is_empty());
    let route = |d: &str| main.routes.iter().find(|r| r.destination == RouteDestination::Cidr(net(d))).unwrap();
    assert_eq!(route("::/0").target, RouteTarget::EgressOnlyGateway("eigw-0e1".into()));
    assert_eq!(route("10.99.0.0/16").target, RouteTarget::TransitGateway("tgw-0t1".into()));
    assert_eq!(route("172.16.0.0/12").origin, RouteOrigin::Propagated);
    assert_eq!(route("172.16.0.0/12").target, RouteTarget::VpnGateway("vgw-0v1".into()));
    assert!(route("10.50.0.0/16").blackhole);
    assert!(!route("0.0.0.0/0").blackhole);
    assert_eq!(route("10.77.0.0/16").target, RouteTarget::Interface("eni-0w1".into()));
    assert_eq!(route("10.88.0.0/16").target, RouteTarget::Other("vpce-0s3".into()));
    let pl_route = main.routes.iter().find(|r| r.destination == RouteDestination::PrefixList("pl-0office".into()));
    assert_eq!(pl_route.unwrap().target, RouteTarget::NatGateway("nat-0n1".into()));
    assert_eq!(n.route_tables["rtb-0sub"].subnet_ids, ["subnet-0a2"]); // the disassociated one dropped
    assert_eq!(n.route_tables["rtb-0edge"].gateway_ids, ["igw-0live"]);

    assert_eq!(n.egress_only_gateways["eigw-0e1"].vpc_ids, ["vpc-0aaa"]);
    assert_eq!(n.nat_gateways.len(), 1); // the deleted one is gone
    assert_eq!(n.nat_gateways["nat-0n1"].subnet_id, "subnet-0a1");
    let p = &n.peerings["pcx-0p1"];
    assert!(!p.active);
    assert_eq!(p.requester_cidrs, [net("10.20.0.0/16"), net("100.64.0.0/20"), net("2600:1f18:aaaa:bb00::/56")]);
    assert_eq!((p.accepter_vpc.as_str(), p.accepter_cidrs.clone()), ("vpc-0remote", vec![net("10.40.0.0/16")]));

    assert!(n.transit_gateways.contains_key("tgw-0t1"));
    let att = &n.tgw_attachments["tgw-attach-0a1"];
    assert_eq!(
        (att.tgw_id.as_str(), att.resource_type.as_str(), att.resource_id.as_str()),
        ("tgw-0t1", "vpc", "vpc-0aaa")
    );
    assert_eq!(att.route_table_id.as_deref(), Some("tgw-rtb-0r1"));
    assert_eq!(n.tgw_attachments["tgw-attach-0vpn"].route_table_id, None);
    let trt = &n.tgw_route_tables["tgw-rtb-0r1"];
    assert_eq!(trt.tgw_id, "tgw-0t1");
    assert_eq!(
        trt.routes,
        [
            (net("10.20.0.0/16"), Some("tgw-attach-0a1".to_string())),
            (net("192.168.0.0/16"), Some("tgw-attach-0vpn".to_string())),
            (net("10.66.0.0/16"), None)
        ]
    );
    assert_eq!(n.prefix_lists["pl-0office"].cidrs, [net("198.51.100.0/24"), net("203.0.113.128/25")]);

    let def = &n.network_acls["acl-0def"];
    assert!(def.default);
    assert_eq!(def.subnet_ids, ["subnet-0a1"]);
    let deny = def.entries.iter().find(|e| e.rule_number == 32767 && !e.egress).unwrap();
    assert!(!deny.allow && deny.protocol == Protocol::All && deny.cidr == net("0.0.0.0/0"));
    assert!(def.entries.iter().any(|e| e.rule_number == 32768 && e.cidr == net("::/0")));
    let web = &n.network_acls["acl-0web"];
    let by = |r: u16| web.entries.iter().find(|e| e.rule_number == r && !e.egress).unwrap();
    assert_eq!((by(110).protocol, by(110).ports), (Protocol::Udp, PortRange { from: 1024, to: 65535 }));
    assert_eq!((by(120).protocol, by(120).ports), (Protocol::Icmp, PortRange::ALL));
    assert_eq!((by(130).protocol, by(130).cidr), (Protocol::Icmpv6, net("::/0")));

    let sg = &n.security_groups["sg-0web"];
    let tcp443 = |peer| SgRule { protocol: Protocol::Tcp, ports: PortRange { from: 443, to: 443 }, peer };
    assert!(sg.ingress.contains(&tcp443(SgPeer::PrefixList("pl-0office".into()))));
    assert!(sg.ingress.contains(&tcp443(SgPeer::Cidr(net("10.20.0.0/16")))));
    assert!(sg.ingress.contains(&tcp443(SgPeer::Cidr(net("::/0")))));
    assert!(sg.ingress.contains(&SgRule {
        protocol: Protocol::Icmp,
        ports: PortRange::ALL,
        peer: SgPeer::Cidr(net("0.0.0.0/0"))
    }));
    assert!(sg.ingress.contains(&SgRule {
        protocol: Protocol::Udp,
        ports: PortRange { from: 53, to: 53 },
        peer: SgPeer::Group("sg-0peer".into())
    }));
    assert!(sg.ingress.contains(&SgRule {
        protocol: Protocol::Tcp,
        ports: PortRange { from: 8000, to: 8100 },
        peer: SgPeer::Group("sg-0web".into())
    }));
    assert_eq!(sg.ingress.len(), 6);
    assert_eq!(sg.egress.len(), 2);

    let eni = &n.interfaces["eni-0w1"];
    assert_eq!(eni.private_ips, [Ipv4Addr::new(10, 20, 1, 10), Ipv4Addr::new(10, 20, 1, 11)]);
    assert_eq!(eni.ipv6_ips, ["2600:1f18:aaaa:bb01::10".parse::<std::net::Ipv6Addr>().unwrap()]);
    assert_eq!(
        eni.public_ips,
        [
            (Ipv4Addr::new(34, 240, 0, 10), Ipv4Addr::new(10, 20, 1, 10)),
            (Ipv4Addr::new(52, 0, 0, 10), Ipv4Addr::new(10, 20, 1, 11)) // the Elastic IP
        ]
    );
    assert_eq!(n.interfaces["eni-0nat"].interface_type, "nat_gateway");
    // Synthesized from the instance; its groups come from the instance (ENI entry had none).
    let w2 = &n.interfaces["eni-0w2"];
    assert_eq!((w2.subnet_id.as_str(), w2.instance_id.as_deref()), ("subnet-0a2", Some("i-0w2")));
    assert_eq!(w2.private_ips, [Ipv4Addr::new(10, 20, 2, 20)]);
    assert_eq!(w2.security_group_ids, ["sg-0lb"]);
    assert!(!n.instances["i-0w2"].running);
    assert_eq!(n.instances["i-0w1"].name.as_deref(), Some("web-1"));

    let classic = &n.load_balancers["classic/classic-web"];
    assert_eq!(
        (classic.kind, classic.internet_facing, classic.vpc_id.as_str()),
        (LoadBalancerKind::Classic, true, "vpc-0aaa")
    );
    assert_eq!(classic.subnet_ids, ["subnet-0a1", "subnet-0a2"]);
    assert_eq!(classic.security_group_ids, ["sg-0lb"]);
    assert_eq!(classic.listeners.len(), 2);
    let l80 = &classic.listeners[0];
    assert_eq!((l80.protocol, l80.port, l80.instance_port), (Protocol::Tcp, 80, Some(8080)));
    assert_eq!(l80.instance_ids, ["i-0w1", "i-0w2"]);
    assert_eq!((classic.listeners[1].port, classic.listeners[1].instance_port), (443, Some(8443)));

    let nlb_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/dns-nlb/50dc6c495c0c9188";
    let tg_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/dns-tg/73e2d6bc24d8a067";
    let nlb = &n.load_balancers[nlb_arn];
    assert_eq!((nlb.kind, nlb.internet_facing), (LoadBalancerKind::Network, false));
    assert!(nlb.security_group_ids.is_empty());
    let protos: Vec<_> = nlb.listeners.iter().map(|l| (l.protocol, l.port)).collect();
    assert_eq!(protos, [(Protocol::Tcp, 53), (Protocol::Udp, 53)]); // TCP_UDP: two listeners
    assert_eq!(nlb.listeners[0].target_group_ids, [tg_arn]); // TargetGroupArn and ForwardConfig, deduplicated
    let tg = &n.target_groups[tg_arn];
    assert_eq!((tg.target_type.as_str(), tg.port), ("ip", Some(53)));
    let target =
        |id: &str, port: u16, state: &str| Target { id: id.into(), port: Some(port), state: Some(state.into()) };
    assert_eq!(tg.targets, [target("10.20.1.10", 53, "healthy"), target("10.20.1.11", 5353, "unhealthy")]);
    assert_eq!(tg.receiving().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["10.20.1.10"]);
}

#[test]
fn handmade_dangling_references_are_warnings() {
    let n = load("handmade").network;
    assert!(has_warning(&n, "rtb-0main", "route 0.0.0.0/0 to unknown internet gateway igw-0deleted"));
    assert!(has_warning(&n, "eni-0orphan", "unknown subnet subnet-0unknown"));
    assert!(has_warning(&n, "pcx-0p1", "vpc-0remote"));
    assert!(has_warning(&n, "sg-0web", "unknown security group sg-0peer"));
    assert!(has_warning(&n, "eni-0w2", "taken from instance i-0w2"));
    let w = n.warnings.iter().find(|w| w.resource == "rtb-0main").unwrap();
    assert_eq!(w.file.as_deref(), Some("111122223333/eu-west-1/describe-route-tables.json"));
    let w = n.warnings.iter().find(|w| w.resource == "eni-0orphan").unwrap();
    assert_eq!(w.file.as_deref(), Some("111122223333/eu-west-1/describe-network-interfaces.json"));
    // The blackhole route to a deleted peering is expected, not a warning.
    assert!(!n.warnings.iter().any(|w| w.message.contains("pcx-0gone")));
    assert_eq!(n.warnings.len(), 5, "{:#?}", n.warnings);
}

/// Copies a fixture into a temporary folder to add broken files to it.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let dest = to.join(e.file_name());
            if e.path().is_dir() {
                copy(&e.path(), &dest)
            } else {
                std::fs::copy(e.path(), dest).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture(name), dir.path());
    dir
}

#[test]
fn malformed_json_is_a_warning_with_line_and_column_and_the_rest_loads() {
    let dir = copy_fixture("handmade");
    std::fs::write(dir.path().join("broken.json"), "{\n  \"Vpcs\": [\n    {\"VpcId\": \"vpc-x\",}\n  ]\n}\n").unwrap();
    let l = load_dir(dir.path()).unwrap();
    assert!(l.summary.partial);
    assert_eq!(l.summary.files_skipped, 1);
    let w = l.network.warnings.iter().find(|w| w.resource == "broken.json").expect("warning for broken.json");
    assert!(w.message.contains("broken.json:3:"), "{}", w.message);
    assert_eq!(w.file.as_deref(), Some("broken.json"));
    assert_eq!(l.network.vpcs.len(), 1);
    assert_eq!(l.network.interfaces.len(), 4);
}

#[test]
fn unknown_top_level_key_and_bad_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), r#"{"Buckets": []}"#).unwrap();
    std::fs::write(dir.path().join("list.json"), "[1, 2]").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    std::fs::write(
        dir.path().join("vpcs.json"),
        r#"{"Vpcs": [{"VpcId": 5}, {"CidrBlock": "10.0.0.0/8"}, {"VpcId": "vpc-1", "CidrBlock": "nonsense"}], "NextToken": null}"#,
    )
    .unwrap();
    let l = load_dir(dir.path()).unwrap();
    let n = &l.network;
    assert!(has_warning(n, "x.json", "not a recognised describe-* output"));
    assert!(has_warning(n, "list.json", "not a recognised describe-* output"));
    assert!(has_warning(n, "vpcs.json[0]", "record skipped"));
    assert!(has_warning(n, "vpcs.json", "without VpcId"));
    assert!(has_warning(n, "vpc-1", "`nonsense` is not a CIDR"));
    assert_eq!(n.vpcs.len(), 1);
    assert!(!l.summary.partial);
    assert_eq!((l.summary.files_loaded, l.summary.files_skipped), (1, 2));
}

#[test]
fn target_health_file_naming_no_group() {
    let dir = copy_fixture("moto-world");
    let th = dir.path().join("123456789012/us-east-1/describe-target-health");
    std::fs::write(th.join("arn_unknown.json"), r#"{"TargetHealthDescriptions": [{"Target": {"Id": "i-1"}}]}"#)
        .unwrap();
    let n = load_dir(dir.path()).unwrap().network;
    assert!(n.warnings.iter().any(|w| w.resource.ends_with("arn_unknown.json") && w.message.contains("target group")));
    assert_eq!(n.target_groups[MOTO_TG].targets.len(), 2);
    assert_eq!(
        sanitize(MOTO_TG),
        "arn_aws_elasticloadbalancing_us-east-1_123456789012_targetgroup_tg-web_1df37c7a229414c3"
    );
}

const LB_TGW_REGION: &str = "444455556666/eu-central-1";

/// The lb-tgw fixture with the attachments' own `Association` removed, so
/// only a get-transit-gateway-route-table-associations answer can tell.
fn lb_tgw_without_attachment_associations() -> tempfile::TempDir {
    let dir = copy_fixture("lb-tgw");
    let path = dir.path().join(LB_TGW_REGION).join("describe-transit-gateway-attachments.json");
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for a in doc["TransitGatewayAttachments"].as_array_mut().unwrap() {
        a.as_object_mut().unwrap().remove("Association");
    }
    std::fs::write(&path, doc.to_string()).unwrap();
    dir
}

fn write_tgw_answer(dir: &Path, command: &str, key: &str, records: serde_json::Value) {
    let folder = dir.join(LB_TGW_REGION).join(command);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("tgw-rtb-0hub.json"), serde_json::json!({ key: records }).to_string()).unwrap();
}

#[test]
fn tgw_associations_fill_in_missing_attachment_associations() {
    let dir = lb_tgw_without_attachment_associations();
    let before = load_dir(dir.path()).unwrap().network;
    assert!(before.tgw_attachments.values().all(|a| a.route_table_id.is_none()));
    write_tgw_answer(
        dir.path(),
        "get-transit-gateway-route-table-associations",
        "Associations",
        serde_json::json!([
            { "TransitGatewayAttachmentId": "tgw-attach-0app", "ResourceId": "vpc-0app", "ResourceType": "vpc", "State": "associated" },
            { "TransitGatewayAttachmentId": "tgw-attach-0data", "ResourceId": "vpc-0data", "ResourceType": "vpc", "State": "associated" },
            { "TransitGatewayAttachmentId": "tgw-attach-0vpn", "ResourceId": "vpn-0site", "ResourceType": "vpn", "State": "disassociated" },
            { "TransitGatewayAttachmentId": "tgw-attach-0gone", "State": "associated" },
            { "ResourceId": "vpc-0x" }
        ]),
    );
    let l = load_dir(dir.path()).unwrap();
    let n = &l.network;
    assert_eq!(n.tgw_attachments["tgw-attach-0app"].route_table_id.as_deref(), Some("tgw-rtb-0hub"));
    assert_eq!(n.tgw_attachments["tgw-attach-0data"].route_table_id.as_deref(), Some("tgw-rtb-0hub"));
    assert_eq!(n.tgw_attachments["tgw-attach-0vpn"].route_table_id, None, "a disassociated record adds nothing");
    assert!(has_warning(n, "tgw-attach-0gone", "no such attachment"));
    assert!(n.warnings.iter().any(|w| w.message.contains("without TransitGatewayAttachmentId")));
    assert!(!n.warnings.iter().any(|w| w.message.contains("not a recognised")), "{:#?}", n.warnings);
    // The association changes reachability: the TGW paths of the fixture exist again.
    let (with, without) = (warden_netreach::engine::analyse(n), warden_netreach::engine::analyse(&before));
    assert_ne!(with, without, "the associations open TGW paths");
    // As if the attachments said it, but for the VPN attachment, whose association record is `disassociated`.
    let mut expected = warden_netreach::engine::analyse(&load("lb-tgw").network);
    expected.retain(|r| &*r.via != "tgw-attach-0vpn");
    assert_eq!(with, expected);
}

#[test]
fn tgw_association_contradicting_the_attachment_is_a_warning() {
    let dir = copy_fixture("lb-tgw");
    let rtbs = dir.path().join(LB_TGW_REGION).join("describe-transit-gateway-route-tables.json");
    let other = r#"{"TransitGatewayRouteTables": [{"TransitGatewayRouteTableId": "tgw-rtb-0other", "TransitGatewayId": "tgw-0hub"}]}"#;
    std::fs::write(rtbs.with_file_name("more-route-tables.json"), other).unwrap();
    let folder = dir.path().join(LB_TGW_REGION).join("get-transit-gateway-route-table-associations");
    std::fs::create_dir_all(&folder).unwrap();
    let assoc = r#"{"Associations": [{"TransitGatewayAttachmentId": "tgw-attach-0app", "State": "associated"}]}"#;
    std::fs::write(folder.join("tgw-rtb-0other.json"), assoc).unwrap();
    std::fs::write(folder.join("tgw-rtb-0unknown.json"), assoc).unwrap();
    let n = load_dir(dir.path()).unwrap().network;
    assert_eq!(
        n.tgw_attachments["tgw-attach-0app"].route_table_id.as_deref(),
        Some("tgw-rtb-0hub"),
        "the attachment record is kept"
    );
    assert!(has_warning(&n, "tgw-attach-0app", "tgw-rtb-0hub is kept"), "{:#?}", n.warnings);
    assert!(
        n.warnings.iter().any(|w| w.resource.ends_with("tgw-rtb-0unknown.json")
            && w.message.contains("no known transit gateway route table"))
    );
}

#[test]
fn tgw_propagations_are_recognised_and_checked() {
    let dir = copy_fixture("lb-tgw");
    let before = load_dir(dir.path()).unwrap();
    write_tgw_answer(
        dir.path(),
        "get-transit-gateway-route-table-propagations",
        "TransitGatewayRouteTablePropagations",
        serde_json::json!([
            { "TransitGatewayAttachmentId": "tgw-attach-0app", "ResourceId": "vpc-0app", "ResourceType": "vpc", "State": "enabled" },
            { "TransitGatewayAttachmentId": "tgw-attach-0nowhere", "State": "enabled" }
        ]),
    );
    let after = load_dir(dir.path()).unwrap();
    assert_eq!(after.summary.files_loaded, before.summary.files_loaded + 1);
    assert_eq!(after.network.warnings.len(), before.network.warnings.len() + 1, "{:#?}", after.network.warnings);
    assert!(has_warning(&after.network, "tgw-attach-0nowhere", "propagates into TGW route table tgw-rtb-0hub"));
    let mut without_warnings = after.network.clone();
    without_warnings.warnings = before.network.warnings.clone();
    assert_eq!(without_warnings, before.network, "propagations add no model facts beyond the routes");
}

fn manifest(calls: serde_json::Value, partial: bool) -> String {
    serde_json::json!({
        "format": 1, "tool": "warden 0.1.0", "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:00:01Z",
        "partial": partial, "endpoint_url": null, "profile": null,
        "regions": [{ "region": "eu-central-1", "account": "444455556666", "account_from": "sts",
                      "folder": LB_TGW_REGION, "partial": partial, "calls": calls }]
    })
    .to_string()
}

#[test]
fn collect_manifest_is_skipped_silently_when_complete() {
    let dir = copy_fixture("lb-tgw");
    let before = load_dir(dir.path()).unwrap();
    let ok = serde_json::json!([{ "service": "ec2", "operation": "DescribeVpcs", "command": "aws ec2 describe-vpcs",
        "resource": null, "file": "x", "items": 2, "pages": 1, "started": "", "duration_ms": 3, "error": null, "incomplete": null }]);
    std::fs::write(dir.path().join("warden-collect.json"), manifest(ok, false)).unwrap();
    let after = load_dir(dir.path()).unwrap();
    assert_eq!(after, before, "a complete run's manifest changes nothing");
    // Only at the top: the same name deeper is an ordinary (unrecognised) file.
    std::fs::copy(dir.path().join("warden-collect.json"), dir.path().join(LB_TGW_REGION).join("warden-collect.json"))
        .unwrap();
    let deeper = load_dir(dir.path()).unwrap();
    assert!(deeper.network.warnings.iter().any(|w| w.resource.ends_with("eu-central-1/warden-collect.json")));
}

#[test]
fn collect_manifest_with_failed_calls_marks_the_load_partial() {
    let dir = copy_fixture("lb-tgw");
    let calls = serde_json::json!([
        { "command": "aws ec2 describe-vpcs", "error": null },
        { "command": "aws ec2 describe-security-groups", "error": { "code": "UnauthorizedOperation", "message": "not allowed" } },
        { "command": "aws ec2 search-transit-gateway-routes", "resource": "tgw-rtb-0hub", "error": null, "incomplete": "1000 routes, the API's limit" }
    ]);
    std::fs::write(dir.path().join("warden-collect.json"), manifest(calls, true)).unwrap();
    let l = load_dir(dir.path()).unwrap();
    assert!(l.summary.partial);
    let w: Vec<_> = l.network.warnings.iter().filter(|w| w.resource == "warden-collect.json").collect();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert!(w[0].message.contains("2 call(s)"), "{}", w[0].message);
    assert!(
        w[0].message
            .contains("eu-central-1: aws ec2 describe-security-groups failed: UnauthorizedOperation: not allowed")
    );
    assert!(w[0].message.contains("search-transit-gateway-routes tgw-rtb-0hub incomplete: 1000 routes"));
    assert!(!w[0].message.contains("describe-vpcs"));

    // Marked partial with no call named, and a manifest that is not one.
    std::fs::write(dir.path().join("warden-collect.json"), manifest(serde_json::json!([]), true)).unwrap();
    let l = load_dir(dir.path()).unwrap();
    assert!(l.summary.partial && has_warning(&l.network, "warden-collect.json", "marked partial"));
    std::fs::write(dir.path().join("warden-collect.json"), r#"{"regions": 3}"#).unwrap();
    let l = load_dir(dir.path()).unwrap();
    assert!(
        l.summary.partial
            && has_warning(&l.network, "warden-collect.json", "not a readable warden net collect manifest")
    );
}

#[test]
fn unreadable_folder_is_an_error() {
    assert!(load_dir(Path::new("/nonexistent/warden/fixture")).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary text in a file never panics the loader.
    #[test]
    fn never_panics_on_arbitrary_text(text in ".{0,200}") {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), &text).unwrap();
        let _ = load_dir(dir.path()).unwrap();
    }

    /// Arbitrary JSON as the collect manifest never panics the loader.
    #[test]
    fn never_panics_on_arbitrary_manifest(v in json_value(), calls in json_value()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("warden-collect.json"), v.to_string()).unwrap();
        let _ = load_dir(dir.path()).unwrap();
        let doc = serde_json::json!({ "partial": false, "regions": [{ "region": "r", "calls": [calls] }] });
        std::fs::write(dir.path().join("warden-collect.json"), doc.to_string()).unwrap();
        let _ = load_dir(dir.path()).unwrap();
    }

    /// Arbitrary JSON under every recognised key never panics the loader.
    #[test]
    fn never_panics_on_arbitrary_json(key in prop::sample::select(KEYS.to_vec()), v in json_value()) {
        let dir = tempfile::tempdir().unwrap();
        let doc = serde_json::json!({ key: [v.clone(), { "Routes": v.clone(), "Entries": v.clone() }] });
        std::fs::write(dir.path().join("tgw-rtb-1.json"), doc.to_string()).unwrap();
        std::fs::write(dir.path().join("b.json"), serde_json::json!({ key: v }).to_string()).unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        // Whatever was loaded (dangling load balancer, target, TGW references included) analyses without panic.
        let records = warden_netreach::engine::analyse(&loaded.network);
        let _ = warden_netreach::findings::findings(&loaded.network, &records, &[]);
    }

    /// A load balancer, target group, health and TGW world with arbitrary values in its fields loads, analyses and
    /// explains without panic, and every problem is a warning naming a resource.
    #[test]
    fn lb_and_tgw_shapes_never_panic(v in json_value(), w in json_value(), port in any::<i64>()) {
        let dir = tempfile::tempdir().unwrap();
        let tg = "arn:aws:elasticloadbalancing:r:1:targetgroup/t/1";
        let files = [
            ("lb.json", serde_json::json!({"LoadBalancers": [{"LoadBalancerArn": "lb-1", "Type": "application",
                "Scheme": "internet-facing", "VpcId": "vpc-1", "AvailabilityZones": [{"SubnetId": "s"}, v.clone()],
                "SecurityGroups": ["sg-1"]}]})),
            ("l.json", serde_json::json!({"Listeners": [{"LoadBalancerArn": "lb-1", "Port": port, "Protocol": "HTTP",
                "DefaultActions": [{"TargetGroupArn": tg}, w.clone()]}, v.clone()]})),
            ("tg.json", serde_json::json!({"TargetGroups": [{"TargetGroupArn": tg, "Port": port, "TargetType": "ip"}]})),
            ("describe-target-health/arn_aws_elasticloadbalancing_r_1_targetgroup_t_1.json",
                serde_json::json!({"TargetHealthDescriptions": [{"Target": {"Id": "10.0.0.1", "Port": port},
                "TargetHealth": w.clone()}, v.clone()]})),
            ("att.json", serde_json::json!({"TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "a",
                "TransitGatewayId": "tgw-1", "ResourceType": "vpc", "ResourceId": "vpc-1", "Association": v.clone()}]})),
            ("tgw-rtb-1.json", serde_json::json!({"Routes": [w.clone(), {"DestinationCidrBlock": "10.0.0.0/8",
                "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "a"}]}]})),
        ];
        std::fs::create_dir(dir.path().join("describe-target-health")).unwrap();
        for (name, doc) in files {
            std::fs::write(dir.path().join(name), doc.to_string()).unwrap();
        }
        let loaded = load_dir(dir.path()).unwrap();
        prop_assert!(loaded.network.warnings.iter().all(|w| !w.resource.is_empty() && !w.message.is_empty()));
        let records = warden_netreach::engine::analyse(&loaded.network);
        let _ = warden_netreach::findings::findings(&loaded.network, &records, &[]);
        let origin = warden_netreach::walker::Origin::TransitGateway("a".into());
        let _ = warden_netreach::engine::why(&loaded.network, "i-1", Protocol::Tcp, 80, &origin, None);
    }
}

const KEYS: &[&str] = &[
    "Vpcs",
    "Subnets",
    "RouteTables",
    "InternetGateways",
    "EgressOnlyInternetGateways",
    "NatGateways",
    "VpnGateways",
    "VpcPeeringConnections",
    "TransitGateways",
    "TransitGatewayAttachments",
    "TransitGatewayRouteTables",
    "Routes",
    "Associations",
    "TransitGatewayRouteTablePropagations",
    "NetworkAcls",
    "SecurityGroups",
    "SecurityGroupRules",
    "PrefixLists",
    "Entries",
    "NetworkInterfaces",
    "Reservations",
    "Addresses",
    "LoadBalancers",
    "LoadBalancerDescriptions",
    "Listeners",
    "TargetGroups",
    "TargetHealthDescriptions",
];

/// JSON values whose objects use field names the loader reads.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    const FIELDS: &[&str] = &[
        "VpcId",
        "SubnetId",
        "CidrBlock",
        "RouteTableId",
        "Routes",
        "Associations",
        "Main",
        "GatewayId",
        "Entries",
        "RuleNumber",
        "Protocol",
        "PortRange",
        "From",
        "To",
        "IpProtocol",
        "FromPort",
        "ToPort",
        "IpPermissions",
        "IpRanges",
        "CidrIp",
        "GroupId",
        "NetworkInterfaceId",
        "PrivateIpAddress",
        "PrivateIpAddresses",
        "Instances",
        "InstanceId",
        "NetworkInterfaces",
        "PublicIp",
        "LoadBalancerArn",
        "Port",
        "Type",
        "TargetGroupArn",
        "Target",
        "Id",
        "State",
        "Name",
        "Listener",
        "ListenerDescriptions",
        "LoadBalancerName",
        "TransitGatewayRouteTableId",
        "PrefixListId",
        "Cidr",
        "Association",
        "Groups",
        "DefaultActions",
        "ForwardConfig",
        "TargetGroups",
        "TargetHealth",
        "TargetType",
        "Attachment",
        "DeviceIndex",
        "Scheme",
        "SecurityGroups",
        "AvailabilityZones",
        "InstancePort",
        "TransitGatewayAttachmentId",
        "TransitGatewayId",
        "TransitGatewayAttachments",
        "ResourceType",
        "ResourceId",
        "DestinationCidrBlock",
        "Description",
    ];
    const STRINGS: &[&str] = &[
        "10.0.0.0/8",
        "::/0",
        "-1",
        "tcp",
        "6",
        "local",
        "igw-1",
        "running",
        "blackhole",
        "1.2.3.4",
        "x",
        "TCP_UDP",
        "internet-facing",
        "application",
        "network",
        "healthy",
        "unhealthy",
        "unused",
        "instance",
        "ip",
        "vpc",
        "vpn",
        "i-1",
        "a",
        "tgw-1",
        "tgw-rtb-1",
        "ELB app/x/1",
        "10.0.0.1",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        prop::sample::select(STRINGS.to_vec()).prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(prop::sample::select(FIELDS.to_vec()), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}
