//! Hand-checked scenarios.

use std::net::IpAddr;

use ipnet::IpNet;

use super::*;
use crate::model::*;
use crate::walker::Origin;

pub(super) fn n(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub(super) fn route(d: &str, t: RouteTarget) -> Route {
    Route { destination: RouteDestination::Cidr(n(d)), target: t, origin: RouteOrigin::Static, blackhole: false }
}

pub(super) fn local(d: &str) -> Route {
    Route {
        destination: RouteDestination::Cidr(n(d)),
        target: RouteTarget::Local,
        origin: RouteOrigin::Local,
        blackhole: false,
    }
}

pub(super) fn allow_all(egress: bool, rule: u16) -> AclEntry {
    AclEntry {
        rule_number: rule,
        egress,
        protocol: Protocol::All,
        allow: true,
        cidr: n("0.0.0.0/0"),
        ports: PortRange::ALL,
    }
}

pub(super) fn tcp_rule(from: u16, to: u16, peer: SgPeer) -> SgRule {
    SgRule { protocol: Protocol::Tcp, ports: PortRange { from, to }, peer }
}

/// A VPC `vpc-{k}` with one subnet, a main route table (local only), a default allow-all ACL, one SG, one ENI at `.10`.
pub(super) fn add_vpc(net: &mut Network, k: u8, cidr: &str) {
    let v = format!("vpc-{k}");
    let c: IpNet = n(cidr);
    let IpNet::V4(c4) = c else { panic!() };
    let sub = ipnet::Ipv4Net::new(c4.network(), 24).unwrap();
    net.vpcs
        .insert(v.clone(), Vpc { id: v.clone(), account: None, region: None, cidrs_v4: vec![c4], cidrs_v6: vec![] });
    let s = format!("subnet-{k}");
    net.subnets.insert(
        s.clone(),
        Subnet { id: s.clone(), vpc_id: v.clone(), cidr_v4: Some(sub), cidrs_v6: vec![], availability_zone: None },
    );
    let t = format!("rtb-{k}");
    net.route_tables.insert(
        t.clone(),
        RouteTable {
            id: t,
            vpc_id: v.clone(),
            main: true,
            subnet_ids: vec![],
            gateway_ids: vec![],
            routes: vec![local(cidr)],
        },
    );
    let a = format!("acl-{k}");
    net.network_acls.insert(
        a.clone(),
        NetworkAcl {
            id: a,
            vpc_id: v.clone(),
            default: true,
            subnet_ids: vec![],
            entries: vec![allow_all(false, 100), allow_all(true, 100)],
        },
    );
    let g = format!("sg-{k}");
    net.security_groups.insert(
        g.clone(),
        SecurityGroup { id: g.clone(), vpc_id: v.clone(), name: g.clone(), ingress: vec![], egress: vec![] },
    );
    let e = format!("eni-{k}");
    let i = format!("i-{k}");
    let ip = std::net::Ipv4Addr::from(u32::from(sub.network()) + 10);
    net.interfaces.insert(
        e.clone(),
        Interface {
            id: e.clone(),
            vpc_id: v,
            subnet_id: s,
            private_ips: vec![ip],
            ipv6_ips: vec![],
            public_ips: vec![],
            security_group_ids: vec![g],
            instance_id: Some(i.clone()),
            interface_type: "interface".into(),
            description: String::new(),
        },
    );
    net.instances.insert(i.clone(), Instance { id: i, running: true, interface_ids: vec![e], name: None });
}

/// VPC 0 (10.0.0.0/16) with an IGW, a default route to it, SSH open to the world, and a public IP.
fn public_ssh() -> Network {
    let mut net = Network::default();
    add_vpc(&mut net, 0, "10.0.0.0/16");
    net.internet_gateways.insert("igw-0".into(), Gateway { id: "igw-0".into(), vpc_ids: vec!["vpc-0".into()] });
    net.route_tables
        .get_mut("rtb-0")
        .unwrap()
        .routes
        .push(route("0.0.0.0/0", RouteTarget::InternetGateway("igw-0".into())));
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(22, 22, SgPeer::Cidr(n("0.0.0.0/0"))));
    net.interfaces.get_mut("eni-0").unwrap().public_ips =
        vec![("54.1.2.3".parse().unwrap(), "10.0.0.10".parse().unwrap())];
    net
}

pub(super) fn of(r: &[Reachability], kind: ReachabilityKind, p: Protocol) -> Vec<&Reachability> {
    r.iter().filter(|x| x.kind == kind && x.protocol == p).collect()
}

pub(super) fn blocked(e: &Explanation) -> String {
    e.attempts.iter().flat_map(|a| a.delivery.blocked_by.iter().cloned()).collect::<Vec<_>>().join("\n")
}

#[test]
fn public_subnet_with_ssh_open() {
    let net = public_ssh();
    let r = analyse(&net);
    let tcp = of(&r, ReachabilityKind::Internet, Protocol::Tcp);
    assert_eq!(tcp.len(), 1);
    assert_eq!(*tcp[0].ports, [PortRange { from: 22, to: 22 }]);
    assert_eq!(tcp[0].destination, "54.1.2.3".parse::<IpAddr>().unwrap());
    assert_eq!(tcp[0].private_address, "10.0.0.10".parse::<IpAddr>().unwrap());
    assert_eq!(strs(&tcp[0].path), ["igw-0", "rtb-0", "acl-0", "sg-0", "eni-0", "i-0"]);
    assert_eq!(*tcp[0].sources, *internet().family(false).to_prefixes());
    assert!(tcp[0].sources.contains(&n("8.0.0.0/7")));
    assert!(of(&r, ReachabilityKind::Internet, Protocol::Udp).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 22, &Origin::Internet, Some(n("8.8.8.8/32")));
    assert!(e.reachable, "{e}");
    let e = why(&net, "i-0", Protocol::Tcp, 23, &Origin::Internet, None);
    assert!(!e.reachable && blocked(&e).contains("SG sg-0 has no inbound rule for tcp/23"), "{e}");
    // Stopped: nothing.
    let mut stopped = net.clone();
    stopped.instances.get_mut("i-0").unwrap().running = false;
    assert!(analyse(&stopped).is_empty());
}

#[test]
fn public_ip_without_igw_route() {
    let mut net = public_ssh();
    net.route_tables.get_mut("rtb-0").unwrap().routes.truncate(1);
    assert!(analyse(&net).is_empty());
    let e = why(&net, "eni-0", Protocol::Tcp, 22, &Origin::Internet, None);
    assert!(!e.reachable);
    assert!(blocked(&e).contains("route table rtb-0 has no route for 1.0.0.0 (return path)"), "{e}");
}

#[test]
fn nacl_deny_before_allow() {
    let mut net = public_ssh();
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(80, 80, SgPeer::Cidr(n("0.0.0.0/0"))));
    net.network_acls.get_mut("acl-0").unwrap().entries.push(AclEntry {
        rule_number: 90,
        egress: false,
        protocol: Protocol::Tcp,
        allow: false,
        cidr: n("0.0.0.0/0"),
        ports: PortRange { from: 22, to: 22 },
    });
    let r = analyse(&net);
    let tcp = of(&r, ReachabilityKind::Internet, Protocol::Tcp);
    assert_eq!(tcp.len(), 1);
    assert_eq!(*tcp[0].ports, [PortRange { from: 80, to: 80 }]);
    let e = why(&net, "i-0", Protocol::Tcp, 22, &Origin::Internet, None);
    assert!(blocked(&e).contains("NACL acl-0 rule 90 denies tcp/22 inbound"), "{e}");
    // Every blocker is listed: port 23 is refused by nothing in the ACL but by the SG.
    let e = why(&net, "i-0", Protocol::Tcp, 23, &Origin::Internet, None);
    assert!(blocked(&e).contains("SG sg-0"), "{e}");
}

#[test]
fn nacl_blocking_only_the_return_path() {
    let mut net = public_ssh();
    let acl = net.network_acls.get_mut("acl-0").unwrap();
    acl.entries.retain(|e| !e.egress);
    acl.entries.push(AclEntry {
        rule_number: 100,
        egress: true,
        protocol: Protocol::Tcp,
        allow: true,
        cidr: n("0.0.0.0/0"),
        ports: PortRange { from: 0, to: 1023 },
    });
    assert!(of(&analyse(&net), ReachabilityKind::Internet, Protocol::Tcp).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 22, &Origin::Internet, None);
    let b = blocked(&e);
    assert!(b.contains("outbound denies the return traffic") && !b.contains("inbound"), "{e}");
    // Opening the Linux ephemeral range is enough: some ephemeral port gets back.
    net.network_acls.get_mut("acl-0").unwrap().entries.push(AclEntry {
        rule_number: 110,
        egress: true,
        protocol: Protocol::Tcp,
        allow: true,
        cidr: n("0.0.0.0/0"),
        ports: PortRange { from: 32768, to: 60999 },
    });
    assert_eq!(of(&analyse(&net), ReachabilityKind::Internet, Protocol::Tcp).len(), 1);
}

/// VPC 0 (database, 10.0/16) and VPC 1 (app, 10.1/16) peered; the database admits the app's group.
fn peered() -> Network {
    let mut net = Network::default();
    add_vpc(&mut net, 0, "10.0.0.0/16");
    add_vpc(&mut net, 1, "10.1.0.0/16");
    net.peerings.insert(
        "pcx-1".into(),
        Peering {
            id: "pcx-1".into(),
            requester_vpc: "vpc-1".into(),
            accepter_vpc: "vpc-0".into(),
            requester_cidrs: vec![],
            accepter_cidrs: vec![],
            active: true,
        },
    );
    net.route_tables.get_mut("rtb-0").unwrap().routes.push(route("10.1.0.0/16", RouteTarget::Peering("pcx-1".into())));
    net.route_tables.get_mut("rtb-1").unwrap().routes.push(route("10.0.0.0/16", RouteTarget::Peering("pcx-1".into())));
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(5432, 5432, SgPeer::Group("sg-1".into())));
    net
}

#[test]
fn sg_reference_across_peering() {
    let net = peered();
    let r = analyse(&net);
    let p = of(&r, ReachabilityKind::PeeredVpc, Protocol::Tcp);
    assert_eq!(p.len(), 1, "{r:#?}");
    assert_eq!(&*p[0].interface_id, "eni-0");
    assert_eq!(&*p[0].via, "pcx-1");
    assert_eq!(*p[0].sources, [n("10.1.0.10/32")]);
    assert_eq!(*p[0].ports, [PortRange { from: 5432, to: 5432 }]);
    assert!(why(&net, "i-0", Protocol::Tcp, 5432, &Origin::Peering("pcx-1".into()), None).reachable);
    // Inactive peering: no path, and the group reference no longer reaches across.
    let mut off = net.clone();
    off.peerings.get_mut("pcx-1").unwrap().active = false;
    assert!(analyse(&off).is_empty());
    let e = why(&off, "i-0", Protocol::Tcp, 5432, &Origin::Peering("pcx-1".into()), Some(n("10.1.0.10/32")));
    let b = blocked(&e);
    assert!(b.contains("peering pcx-1 is not active") && b.contains("SG sg-0 has no inbound rule"), "{e}");
}

#[test]
fn overlapping_peering_has_no_path() {
    let mut net = peered();
    net.vpcs.get_mut("vpc-1").unwrap().cidrs_v4.push("10.0.0.0/8".parse().unwrap());
    assert!(of(&analyse(&net), ReachabilityKind::PeeredVpc, Protocol::Tcp).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 5432, &Origin::Peering("pcx-1".into()), Some(n("10.1.0.10/32")));
    assert!(blocked(&e).contains("overlap"), "{e}");
}

#[test]
fn vgw_only_database() {
    let mut net = Network::default();
    add_vpc(&mut net, 0, "10.0.0.0/16");
    net.vpn_gateways.insert("vgw-0".into(), Gateway { id: "vgw-0".into(), vpc_ids: vec!["vpc-0".into()] });
    let mut r = route("192.168.0.0/16", RouteTarget::VpnGateway("vgw-0".into()));
    r.origin = RouteOrigin::Propagated;
    net.route_tables.get_mut("rtb-0").unwrap().routes.push(r);
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(3306, 3306, SgPeer::Cidr(n("0.0.0.0/0"))));
    net.interfaces.get_mut("eni-0").unwrap().public_ips =
        vec![("54.1.2.3".parse().unwrap(), "10.0.0.10".parse().unwrap())];
    let r = analyse(&net);
    assert!(of(&r, ReachabilityKind::Internet, Protocol::Tcp).is_empty());
    let v = of(&r, ReachabilityKind::Vgw, Protocol::Tcp);
    assert_eq!(v.len(), 1);
    assert_eq!(*v[0].sources, [n("192.168.0.0/16")]);
    assert_eq!(*v[0].ports, [PortRange { from: 3306, to: 3306 }]);
    let e = why(&net, "i-0", Protocol::Tcp, 3306, &Origin::Internet, None);
    assert!(blocked(&e).contains("no internet gateway attached to vpc-0"), "{e}");
}

/// A path as plain strings.
pub(super) fn strs(path: &[std::sync::Arc<str>]) -> Vec<&str> {
    path.iter().map(|c| &**c).collect()
}
