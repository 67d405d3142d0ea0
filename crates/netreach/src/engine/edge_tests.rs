//! Hand-checked load balancer and transit gateway worlds: exact records and
//! paths, and every blocking component for the negative cases.

use super::tests::{add_vpc, allow_all, blocked, local, n, of, route, strs, tcp_rule};
use super::*;
use crate::findings::{HostListeners, Listener as Socket, findings};
use crate::model::*;
use crate::walker::Origin;

fn v4_internet() -> Vec<IpNet> {
    internet().family(false).to_prefixes()
}

/// VPC 0: private subnet-0 (eni-0 / i-0 at 10.0.0.10, no public IP, main table: local only), public subnet-pub
/// (10.0.1.0/24, table rtb-pub with a default route to igw-0). An internet-facing ALB in subnet-pub with group
/// sg-alb (443 from anywhere) forwards listener 443 to target group tg-web (instance targets, port 8443) holding
/// i-0; sg-0 admits 8443 from sg-alb only.
fn alb_world() -> Network {
    let mut net = Network::default();
    add_vpc(&mut net, 0, "10.0.0.0/16");
    net.internet_gateways.insert("igw-0".into(), Gateway { id: "igw-0".into(), vpc_ids: vec!["vpc-0".into()] });
    net.subnets.insert(
        "subnet-pub".into(),
        Subnet {
            id: "subnet-pub".into(),
            vpc_id: "vpc-0".into(),
            cidr_v4: Some("10.0.1.0/24".parse().unwrap()),
            cidrs_v6: vec![],
            availability_zone: None,
        },
    );
    net.route_tables.insert(
        "rtb-pub".into(),
        RouteTable {
            id: "rtb-pub".into(),
            vpc_id: "vpc-0".into(),
            main: false,
            subnet_ids: vec!["subnet-pub".into()],
            gateway_ids: vec![],
            routes: vec![local("10.0.0.0/16"), route("0.0.0.0/0", RouteTarget::InternetGateway("igw-0".into()))],
        },
    );
    let all_out = SgRule { protocol: Protocol::All, ports: PortRange::ALL, peer: SgPeer::Cidr(n("0.0.0.0/0")) };
    net.security_groups.insert(
        "sg-alb".into(),
        SecurityGroup {
            id: "sg-alb".into(),
            vpc_id: "vpc-0".into(),
            name: "alb".into(),
            ingress: vec![tcp_rule(443, 443, SgPeer::Cidr(n("0.0.0.0/0")))],
            egress: vec![all_out],
        },
    );
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(8443, 8443, SgPeer::Group("sg-alb".into())));
    net.load_balancers.insert(
        "alb".into(),
        LoadBalancer {
            id: "alb".into(),
            name: "alb".into(),
            kind: LoadBalancerKind::Application,
            internet_facing: true,
            vpc_id: "vpc-0".into(),
            subnet_ids: vec!["subnet-pub".into()],
            security_group_ids: vec!["sg-alb".into()],
            listeners: vec![Listener {
                protocol: Protocol::Tcp,
                port: 443,
                target_group_ids: vec!["tg-web".into()],
                instance_port: None,
                instance_ids: vec![],
            }],
        },
    );
    net.target_groups.insert(
        "tg-web".into(),
        TargetGroup {
            id: "tg-web".into(),
            protocol: Protocol::Tcp,
            port: Some(8443),
            target_type: "instance".into(),
            targets: vec![Target { id: "i-0".into(), port: Some(8443), state: Some("healthy".into()) }],
        },
    );
    net
}

fn lb_records(net: &Network) -> Vec<Reachability> {
    analyse(net).into_iter().filter(|r| r.kind == ReachabilityKind::LoadBalancer).collect()
}

#[test]
fn alb_forwards_443_to_8443_on_a_private_instance() {
    let net = alb_world();
    let r = analyse(&net);
    assert!(of(&r, ReachabilityKind::Internet, Protocol::Tcp).is_empty(), "the instance itself is private");
    let lb = lb_records(&net);
    assert_eq!(lb.len(), 1, "{lb:#?}");
    let x = &lb[0];
    assert_eq!((&*x.interface_id, &*x.via, x.protocol), ("eni-0", "alb", Protocol::Tcp));
    assert_eq!(*x.ports, [PortRange { from: 8443, to: 8443 }]);
    assert_eq!(x.listener_ports, vec![443]);
    assert_eq!(*x.sources, *v4_internet());
    assert_eq!(x.destination, "10.0.0.10".parse::<IpAddr>().unwrap());
    assert_eq!(
        strs(&x.path),
        ["igw-0", "rtb-pub", "acl-0", "sg-alb", "alb", "tg-web", "rtb-0", "acl-0", "sg-0", "eni-0", "i-0"]
    );
    let e = why(&net, "i-0", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(e.reachable, "{e}");
    assert!(e.to_string().contains("through load balancer alb listener 443"), "{e}");
    // The finding: reachable only through the load balancer, so it carries LOAD_BALANCER.
    let hosts = [HostListeners {
        host: "i-0".into(),
        listeners: vec![Socket { protocol: Protocol::Tcp, address: None, port: 8443, process: "/usr/bin/app".into() }],
    }];
    let f = findings(&net, &r, &hosts);
    let port = f.iter().find(|f| f.attributes.get("PORT").map(String::as_str) == Some("8443")).expect("8443");
    assert_eq!(port.attributes["RULE_TYPE"], "UnrecognizedPortWithListener");
    assert_eq!(port.attributes["REACHABILITY_TYPE"], "Internet");
    assert_eq!(port.attributes["LOAD_BALANCER"], "alb");
    assert_eq!(port.attributes["LISTENER_PORT"], "443");
    assert_eq!(port.attributes["TARGET_GROUP"], "tg-web");
    assert_eq!(port.attributes["IGW"], "igw-0");
    assert_eq!(port.attributes["SECURITY_GROUP"], "sg-0");
    assert_eq!(port.attributes["PROCESS"], "/usr/bin/app");
}

#[test]
fn alb_negative_cases_name_every_blocker() {
    // Internal load balancer.
    let mut net = alb_world();
    net.load_balancers.get_mut("alb").unwrap().internet_facing = false;
    assert!(lb_records(&net).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(!e.reachable && blocked(&e).contains("load balancer alb is internal"), "{e}");
    // The load balancer's group is closed.
    let mut net = alb_world();
    net.security_groups.get_mut("sg-alb").unwrap().ingress.clear();
    assert!(lb_records(&net).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(
        blocked(&e).contains("no security group of load balancer alb (sg-alb) has an inbound rule for tcp/443"),
        "{e}"
    );
    // The target's group admits neither the load balancer's group nor its subnet.
    let mut net = alb_world();
    net.security_groups.get_mut("sg-0").unwrap().ingress = vec![tcp_rule(8443, 8443, SgPeer::Cidr(n("10.0.9.0/24")))];
    assert!(lb_records(&net).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(
        blocked(&e).contains("no address of subnet-pub (10.0.1.0/24) that the load balancer may use passes"),
        "{e}"
    );
    // ... but admitting the load balancer's subnet is enough.
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(8443, 8443, SgPeer::Cidr(n("10.0.1.128/25"))));
    assert_eq!(lb_records(&net).len(), 1);
    // Unhealthy target while another is healthy; then unregistered.
    let mut net = alb_world();
    add_vpc_instance(&mut net, "eni-b", "i-b", "10.0.0.11");
    let tg = net.target_groups.get_mut("tg-web").unwrap();
    tg.targets[0].state = Some("unhealthy".into());
    tg.targets.push(Target { id: "i-b".into(), port: None, state: Some("healthy".into()) });
    let lb = lb_records(&net);
    assert_eq!(lb.iter().map(|r| &*r.interface_id).collect::<Vec<_>>(), ["eni-b"]);
    let e = why(&net, "i-0", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(!e.reachable, "{e}");
    // Every target unhealthy: the load balancer fails open and sends to all of them.
    net.target_groups.get_mut("tg-web").unwrap().targets[1].state = Some("unhealthy".into());
    assert_eq!(lb_records(&net).len(), 2);
    net.target_groups.get_mut("tg-web").unwrap().targets.clear();
    assert!(lb_records(&net).is_empty());
    // The target subnet's NACL blocks only the return path to the load balancer.
    let mut net = alb_world();
    net.network_acls.insert(
        "acl-priv".into(),
        NetworkAcl {
            id: "acl-priv".into(),
            vpc_id: "vpc-0".into(),
            default: false,
            subnet_ids: vec!["subnet-0".into()],
            entries: vec![
                allow_all(false, 100),
                AclEntry {
                    rule_number: 90,
                    egress: true,
                    protocol: Protocol::All,
                    allow: false,
                    cidr: n("10.0.1.0/24"),
                    ports: PortRange::ALL,
                },
                allow_all(true, 100),
            ],
        },
    );
    assert!(lb_records(&net).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(blocked(&e).contains("NACL acl-priv outbound denies the return traffic"), "{e}");
}

/// A second instance `iid` with interface `eni` at `ip` in subnet-0, carrying sg-0.
fn add_vpc_instance(net: &mut Network, eni: &str, iid: &str, ip: &str) {
    let mut e = net.interfaces["eni-0"].clone();
    e.id = eni.into();
    e.instance_id = Some(iid.into());
    e.private_ips = vec![ip.parse().unwrap()];
    net.interfaces.insert(eni.into(), e);
    net.instances
        .insert(iid.into(), Instance { id: iid.into(), running: true, interface_ids: vec![eni.into()], name: None });
}

#[test]
fn nlb_keeps_the_client_address() {
    let mut net = alb_world();
    let lb = net.load_balancers.get_mut("alb").unwrap();
    lb.kind = LoadBalancerKind::Network;
    lb.security_group_ids.clear();
    lb.listeners[0].port = 80;
    // Instance targets of an NLB see the client: admitting the NLB's subnet is not enough.
    net.security_groups.get_mut("sg-0").unwrap().ingress = vec![tcp_rule(8443, 8443, SgPeer::Cidr(n("10.0.1.0/24")))];
    assert!(lb_records(&net).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 8443, &Origin::Internet, None);
    assert!(blocked(&e).contains("SG sg-0 has no inbound rule for tcp/8443 from 1.0.0.0"), "{e}");
    // Admitting the clients: reachable from exactly the admitted public addresses.
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(8443, 8443, SgPeer::Cidr(n("203.0.113.0/24"))));
    let lb = lb_records(&net);
    assert_eq!(lb.len(), 1);
    assert_eq!(*lb[0].sources, [n("203.0.113.0/24")]);
    assert_eq!(lb[0].listener_ports, vec![80]);
    assert_eq!(
        strs(&lb[0].path),
        ["igw-0", "rtb-pub", "acl-0", "alb", "tg-web", "rtb-0", "acl-0", "sg-0", "eni-0", "i-0"]
    );
}

#[test]
fn classic_elb_forwards_to_the_instance_port() {
    let mut net = alb_world();
    let lb = net.load_balancers.get_mut("alb").unwrap();
    lb.kind = LoadBalancerKind::Classic;
    lb.listeners = vec![Listener {
        protocol: Protocol::Tcp,
        port: 443,
        target_group_ids: vec![],
        instance_port: Some(80),
        instance_ids: vec!["i-0".into()],
    }];
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(80, 80, SgPeer::Group("sg-alb".into())));
    let lb = lb_records(&net);
    assert_eq!(lb.len(), 1, "{lb:#?}");
    assert_eq!((&*lb[0].ports, lb[0].listener_ports.clone()), (&[PortRange { from: 80, to: 80 }][..], vec![443]));
    assert_eq!(strs(&lb[0].path[4..6]), ["alb", "alb"]);
    // HTTP through the load balancer only: an Internet finding that names it.
    let f = findings(&net, &analyse(&net), &[]);
    let http: Vec<_> =
        f.iter().filter(|f| f.attributes.get("PORT_GROUP_NAME").map(String::as_str) == Some("HTTP")).collect();
    assert_eq!(http.len(), 1);
    assert_eq!(http[0].attributes["REACHABILITY_TYPE"], "Internet");
    assert_eq!(http[0].attributes["LOAD_BALANCER"], "alb");
    assert_eq!(http[0].attributes["RULE_TYPE"], "RecognizedPortNoAgent");
    // Also reachable directly (public IP, port open to the world): one finding, without LOAD_BALANCER.
    net.security_groups.get_mut("sg-0").unwrap().ingress.push(tcp_rule(80, 80, SgPeer::Cidr(n("0.0.0.0/0"))));
    net.interfaces.get_mut("eni-0").unwrap().public_ips =
        vec![("54.1.2.3".parse().unwrap(), "10.0.0.10".parse().unwrap())];
    net.route_tables
        .get_mut("rtb-0")
        .unwrap()
        .routes
        .push(route("0.0.0.0/0", RouteTarget::InternetGateway("igw-0".into())));
    let f = findings(&net, &analyse(&net), &[]);
    let http: Vec<_> =
        f.iter().filter(|f| f.attributes.get("PORT_GROUP_NAME").map(String::as_str) == Some("HTTP")).collect();
    assert_eq!(http.len(), 1);
    assert!(!http[0].attributes.contains_key("LOAD_BALANCER"));
}

/// VPC 0 (10.0/16, database eni-0 admitting 5432 from 10/8 and 192.168/16) and VPC 1 (10.1/16) on transit
/// gateway tgw-1 with a VPN attachment; one TGW route table: 10.0/16 → att-0, 10.1/16 → att-1,
/// 192.168/16 → att-vpn, 10.66/16 blackhole.
fn tgw_world() -> Network {
    let mut net = Network::default();
    add_vpc(&mut net, 0, "10.0.0.0/16");
    add_vpc(&mut net, 1, "10.1.0.0/16");
    net.transit_gateways.insert("tgw-1".into(), TransitGateway { id: "tgw-1".into() });
    for (id, kind, res) in [("att-0", "vpc", "vpc-0"), ("att-1", "vpc", "vpc-1"), ("att-vpn", "vpn", "vpn-1")] {
        net.tgw_attachments.insert(
            id.into(),
            TgwAttachment {
                id: id.into(),
                tgw_id: "tgw-1".into(),
                resource_type: kind.into(),
                resource_id: res.into(),
                route_table_id: Some("tgw-rtb-1".into()),
            },
        );
    }
    net.tgw_route_tables.insert(
        "tgw-rtb-1".into(),
        TgwRouteTable {
            id: "tgw-rtb-1".into(),
            tgw_id: "tgw-1".into(),
            routes: vec![
                (n("10.0.0.0/16"), Some("att-0".into())),
                (n("10.1.0.0/16"), Some("att-1".into())),
                (n("192.168.0.0/16"), Some("att-vpn".into())),
                (n("10.66.0.0/16"), None),
            ],
        },
    );
    let tgw = RouteTarget::TransitGateway("tgw-1".into());
    let rtb0 = &mut net.route_tables.get_mut("rtb-0").unwrap().routes;
    rtb0.push(route("10.1.0.0/16", tgw.clone()));
    rtb0.push(route("192.168.0.0/16", tgw.clone()));
    net.route_tables.get_mut("rtb-1").unwrap().routes.push(route("10.0.0.0/16", tgw));
    let sg = &mut net.security_groups.get_mut("sg-0").unwrap().ingress;
    sg.push(tcp_rule(5432, 5432, SgPeer::Cidr(n("10.0.0.0/8"))));
    sg.push(tcp_rule(5432, 5432, SgPeer::Cidr(n("192.168.0.0/16"))));
    net
}

fn tgw_records(net: &Network) -> Vec<(String, Vec<IpNet>)> {
    analyse(net)
        .into_iter()
        .filter(|r| {
            r.kind == ReachabilityKind::TransitGateway && &*r.interface_id == "eni-0" && r.protocol == Protocol::Tcp
        })
        .map(|r| (r.via.to_string(), r.sources.to_vec()))
        .collect()
}

#[test]
fn transit_gateway_from_another_vpc_and_on_premises() {
    let net = tgw_world();
    assert_eq!(
        tgw_records(&net),
        [("att-1".to_string(), vec![n("10.1.0.0/24")]), ("att-vpn".to_string(), vec![n("192.168.0.0/16")])]
    );
    let r = analyse(&net);
    let x = r.iter().find(|r| &*r.via == "att-vpn" && r.protocol == Protocol::Tcp).unwrap();
    assert_eq!(strs(&x.path), ["att-vpn", "rtb-0", "acl-0", "sg-0", "eni-0", "i-0"]);
    assert!(why(&net, "i-0", Protocol::Tcp, 5432, &Origin::TransitGateway("att-vpn".into()), None).reachable);
    let f = findings(&net, &r, &[]);
    let pg = f.iter().find(|f| f.attributes.get("TGW_ATTACHMENT").map(String::as_str) == Some("att-vpn")).unwrap();
    assert_eq!(pg.attributes["REACHABILITY_TYPE"], "TransitGateway");
    assert_eq!(pg.attributes["TRANSIT_GATEWAY"], "tgw-1");
    assert_eq!(pg.severity, warden_model::Severity::Medium);
}

#[test]
fn transit_gateway_negative_cases() {
    // No return route in the VPC to the TGW for on-premises.
    let mut net = tgw_world();
    net.route_tables
        .get_mut("rtb-0")
        .unwrap()
        .routes
        .retain(|r| r.destination != RouteDestination::Cidr(n("192.168.0.0/16")));
    assert_eq!(tgw_records(&net).iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["att-1"]);
    let e = why(&net, "i-0", Protocol::Tcp, 5432, &Origin::TransitGateway("att-vpn".into()), None);
    assert!(blocked(&e).contains("route table rtb-0 has no route for 192.168.0.0 (return path)"), "{e}");
    // A blackhole in the TGW route table for the destination.
    let mut net = tgw_world();
    net.tgw_route_tables.get_mut("tgw-rtb-1").unwrap().routes[0].1 = None;
    assert!(tgw_records(&net).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 5432, &Origin::TransitGateway("att-1".into()), None);
    assert!(blocked(&e).contains("TGW route table tgw-rtb-1 blackholes 10.0.0.10"), "{e}");
    // The VPN attachment is associated with no route table; the other VPC does not route back to the TGW.
    let mut net = tgw_world();
    net.tgw_attachments.get_mut("att-vpn").unwrap().route_table_id = None;
    net.route_tables.get_mut("rtb-1").unwrap().routes.truncate(1);
    assert!(tgw_records(&net).is_empty());
    let e = why(&net, "i-0", Protocol::Tcp, 5432, &Origin::TransitGateway("att-1".into()), None);
    assert!(blocked(&e).contains("no route table of 10.1.0.0's subnet in vpc-1 routes 10.0.0.10 to tgw-1"), "{e}");
    let e = why(&net, "i-0", Protocol::Tcp, 5432, &Origin::TransitGateway("att-vpn".into()), None);
    assert!(blocked(&e).contains("attachment att-vpn is associated with no TGW route table"), "{e}");
}
