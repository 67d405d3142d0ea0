//! Differential test: the symbolic engine against the concrete packet walker.
//!
//! Seeded random networks (1-3 VPCs, possibly overlapping CIDRs, LPM conflicts,
//! blackholes, main/explicit associations, IGW/VGW, active/inactive peerings,
//! NACLs with deny-before-allow and egress restrictions, SGs with CIDR,
//! prefix-list and group peers, ENIs with/without public IPs, running/stopped
//! instances) and packets biased toward the addresses and ports that matter.
//! For every packet and every interface it is addressed to:
//! walker delivers ⇔ an engine record of that interface/kind/via/protocol/destination admits (src, port).
//!
//! Scale with `WARDEN_DIFF_NETWORKS` (default 200), `WARDEN_DIFF_PACKETS` (per network, default 1000) and
//! `WARDEN_DIFF_SEED`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use warden_netreach::engine::{Reachability, ReachabilityKind, analyse, protocols, reported_as};
use warden_netreach::model::*;
use warden_netreach::walker::{Origin, Packet, deliver, deliver_to};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

fn n(s: &str) -> IpNet {
    s.parse().unwrap()
}

const VPC_V4: [&str; 5] = ["10.0.0.0/16", "10.1.0.0/16", "10.0.128.0/17", "172.16.0.0/16", "54.10.0.0/16"];
const EXTRA: [&str; 12] = [
    "0.0.0.0/0",
    "::/0",
    "1.0.0.0/8",
    "8.8.0.0/16",
    "8.8.8.0/24",
    "8.8.8.8/32",
    "10.0.0.0/8",
    "192.168.0.0/16",
    "203.0.113.0/24",
    "2001:db8::/32",
    "2600:1f18::/32",
    "100.64.0.0/10",
];
const VGW_DESTS: [&str; 4] = ["10.0.0.0/8", "192.168.0.0/16", "0.0.0.0/0", "172.16.0.0/12"];
const PROTOS: [Protocol; 6] =
    [Protocol::All, Protocol::Tcp, Protocol::Udp, Protocol::Icmp, Protocol::Icmpv6, Protocol::Other(47)];
const PORTS: [(u16, u16); 8] =
    [(22, 22), (80, 443), (0, 65535), (1024, 65535), (3306, 3306), (1000, 2000), (32768, 60999), (443, 443)];

fn gen_network(r: &mut Rng) -> Network {
    let mut net = Network::default();
    let nv = 1 + r.below(3);
    let mut prefixes: Vec<IpNet> = EXTRA.iter().map(|s| n(s)).collect();
    for v in 0..nv {
        let id = format!("vpc-{v}");
        let c4: Ipv4Net = r.pick(&VPC_V4).parse().unwrap();
        let c6: Ipv6Net = format!("2600:1f18:{:x}::/56", r.below(3) * 256).parse().unwrap();
        let has6 = r.chance(50);
        net.vpcs.insert(
            id.clone(),
            Vpc {
                id: id.clone(),
                account: None,
                region: None,
                cidrs_v4: vec![c4],
                cidrs_v6: if has6 { vec![c6] } else { vec![] },
            },
        );
        prefixes.push(IpNet::V4(c4));
        for s in 0..1 + r.below(3) {
            let sid = format!("subnet-{v}-{s}");
            let base = u32::from(c4.network()) + (s as u32) * 256 * (1 + r.below(2) as u32);
            let c: Ipv4Net = Ipv4Net::new(Ipv4Addr::from(base), 24).unwrap();
            let s6: Vec<Ipv6Net> = if has6 {
                let b = u128::from(c6.network()) + ((s as u128) << 64);
                vec![Ipv6Net::new(Ipv6Addr::from(b), 64).unwrap()]
            } else {
                vec![]
            };
            prefixes.push(IpNet::V4(c));
            prefixes.extend(s6.iter().map(|x| IpNet::V6(*x)));
            net.subnets.insert(
                sid.clone(),
                Subnet { id: sid, vpc_id: id.clone(), cidr_v4: Some(c), cidrs_v6: s6, availability_zone: None },
            );
        }
        if r.chance(75) {
            let g = format!("igw-{v}");
            net.internet_gateways.insert(g.clone(), Gateway { id: g, vpc_ids: vec![id.clone()] });
        }
        if r.chance(40) {
            let g = format!("vgw-{v}");
            net.vpn_gateways.insert(g.clone(), Gateway { id: g, vpc_ids: vec![id.clone()] });
        }
    }
    net.internet_gateways.insert("igw-loose".into(), Gateway { id: "igw-loose".into(), vpc_ids: vec![] });
    for k in 0..r.below(3) {
        let a = format!("vpc-{}", r.below(nv));
        let b = format!("vpc-{}", r.below(nv));
        let id = format!("pcx-{k}");
        net.peerings.insert(
            id.clone(),
            Peering {
                id,
                requester_vpc: a,
                accepter_vpc: b,
                requester_cidrs: vec![],
                accepter_cidrs: vec![],
                active: r.chance(75),
            },
        );
    }
    for k in 0..r.below(3) {
        let id = format!("pl-{k}");
        let cidrs = (0..1 + r.below(3)).map(|_| *r.pick(&prefixes)).collect();
        net.prefix_lists.insert(id.clone(), PrefixList { id, cidrs });
    }
    let vpc_ids: Vec<String> = net.vpcs.keys().cloned().collect();
    let subnet_ids: Vec<String> = net.subnets.keys().cloned().collect();
    let mut targets: Vec<RouteTarget> = vec![
        RouteTarget::Local,
        RouteTarget::NatGateway("nat-1".into()),
        RouteTarget::InternetGateway("igw-loose".into()),
        RouteTarget::Other("vpce-1".into()),
    ];
    targets.extend(net.internet_gateways.keys().map(|g| RouteTarget::InternetGateway(g.clone())));
    targets.extend(net.vpn_gateways.keys().map(|g| RouteTarget::VpnGateway(g.clone())));
    targets.extend(net.peerings.keys().map(|g| RouteTarget::Peering(g.clone())));
    let has_tgw = r.chance(60);
    if has_tgw {
        targets.push(RouteTarget::TransitGateway("tgw-0".into()));
        if r.chance(90) {
            net.transit_gateways.insert("tgw-0".into(), TransitGateway { id: "tgw-0".into() });
        }
    }
    let mut sgs: Vec<String> = Vec::new();
    for v in &vpc_ids {
        for k in 0..1 + r.below(4) {
            sgs.push(format!("sg-{v}-{k}"));
        }
    }
    sgs.push("sg-missing".into());
    let pls: Vec<String> = net.prefix_lists.keys().cloned().chain(["pl-missing".to_string()]).collect();
    for v in &vpc_ids {
        let vpc = net.vpcs[v].clone();
        let mine: Vec<String> = subnet_ids.iter().filter(|s| net.subnets[*s].vpc_id == *v).cloned().collect();
        // Route tables.
        for t in 0..1 + r.below(3) {
            let id = format!("rtb-{v}-{t}");
            let mut routes = vec![];
            for c in vpc.cidrs_v4.iter().map(|c| IpNet::V4(*c)).chain(vpc.cidrs_v6.iter().map(|c| IpNet::V6(*c))) {
                routes.push(Route {
                    destination: RouteDestination::Cidr(c),
                    target: RouteTarget::Local,
                    origin: RouteOrigin::Local,
                    blackhole: false,
                });
            }
            let igw = format!("igw-{}", &v[4..]);
            if r.chance(75) && net.internet_gateways.contains_key(&igw) {
                let d = if r.chance(50) { "0.0.0.0/0" } else { *r.pick(&["::/0", "0.0.0.0/1", "8.0.0.0/8"]) };
                routes.push(Route {
                    destination: RouteDestination::Cidr(n("::/0")),
                    target: RouteTarget::InternetGateway(igw.clone()),
                    origin: RouteOrigin::Static,
                    blackhole: false,
                });
                routes.push(Route {
                    destination: RouteDestination::Cidr(n(d)),
                    target: RouteTarget::InternetGateway(igw.clone()),
                    origin: RouteOrigin::Static,
                    blackhole: false,
                });
            }
            let vgw = format!("vgw-{}", &v[4..]);
            if r.chance(70) && net.vpn_gateways.contains_key(&vgw) {
                let d = if r.chance(50) { *r.pick(&prefixes) } else { n(VGW_DESTS[r.below(VGW_DESTS.len())]) };
                routes.push(Route {
                    destination: RouteDestination::Cidr(d),
                    target: RouteTarget::VpnGateway(vgw),
                    origin: RouteOrigin::Propagated,
                    blackhole: false,
                });
            }
            if has_tgw {
                let mut ds: Vec<IpNet> = vec![];
                if r.chance(50) {
                    ds.push(n("192.168.0.0/16"));
                }
                if r.chance(30) {
                    ds.push(*r.pick(&prefixes));
                }
                for other in vpc_ids.iter().filter(|o| *o != v) {
                    if r.chance(70) {
                        ds.push(IpNet::V4(net.vpcs[other].cidrs_v4[0]));
                    }
                }
                for d in ds {
                    routes.push(Route {
                        destination: RouteDestination::Cidr(d),
                        target: RouteTarget::TransitGateway("tgw-0".into()),
                        origin: RouteOrigin::Static,
                        blackhole: false,
                    });
                }
            }
            for pc in net.peerings.values().filter(|p| &p.requester_vpc == v || &p.accepter_vpc == v) {
                let other = if &pc.requester_vpc == v { &pc.accepter_vpc } else { &pc.requester_vpc };
                if r.chance(85) {
                    let d = IpNet::V4(net.vpcs[other].cidrs_v4[0]);
                    routes.push(Route {
                        destination: RouteDestination::Cidr(d),
                        target: RouteTarget::Peering(pc.id.clone()),
                        origin: RouteOrigin::Static,
                        blackhole: false,
                    });
                }
            }
            for _ in 0..r.below(7) {
                let destination = if r.chance(15) {
                    RouteDestination::PrefixList(r.pick(&pls).clone())
                } else {
                    RouteDestination::Cidr(*r.pick(&prefixes))
                };
                let origin = if r.chance(30) { RouteOrigin::Propagated } else { RouteOrigin::Static };
                routes.push(Route { destination, target: r.pick(&targets).clone(), origin, blackhole: r.chance(10) });
            }
            let subnet_ids = mine.iter().filter(|_| r.chance(30)).cloned().collect();
            let main = t == 0 && r.chance(90);
            net.route_tables.insert(
                id.clone(),
                RouteTable { id, vpc_id: v.clone(), main, subnet_ids, gateway_ids: vec![], routes },
            );
        }
        // Network ACLs.
        for a in 0..1 + r.below(2) {
            let id = format!("acl-{v}-{a}");
            let mut entries = vec![];
            for egress in [false, true] {
                if r.chance(70) {
                    for c in ["0.0.0.0/0", "::/0"] {
                        entries.push(AclEntry {
                            rule_number: 250,
                            egress,
                            protocol: Protocol::All,
                            allow: true,
                            cidr: n(c),
                            ports: PortRange::ALL,
                        });
                    }
                }
                for _ in 0..r.below(6) {
                    let (from, to) = *r.pick(&PORTS);
                    entries.push(AclEntry {
                        rule_number: 1 + r.below(300) as u16,
                        egress,
                        protocol: *r.pick(&PROTOS),
                        allow: r.chance(65),
                        cidr: *r.pick(&prefixes),
                        ports: PortRange { from, to },
                    });
                }
            }
            let subnet_ids = mine.iter().filter(|_| r.chance(30)).cloned().collect();
            net.network_acls.insert(
                id.clone(),
                NetworkAcl { id, vpc_id: v.clone(), default: a == 0 && r.chance(90), subnet_ids, entries },
            );
        }
        // Security groups.
        for g in sgs.iter().filter(|g| g.starts_with(&format!("sg-{v}-"))) {
            let mut ingress = vec![];
            if r.chance(60) {
                let c = if r.chance(50) { "0.0.0.0/0" } else { "::/0" };
                ingress.push(SgRule {
                    protocol: *r.pick(&[Protocol::All, Protocol::Tcp]),
                    ports: PortRange { from: 0, to: 65535 },
                    peer: SgPeer::Cidr(n(c)),
                });
            }
            for _ in 0..r.below(5) {
                let (from, to) = *r.pick(&PORTS);
                let peer = match r.below(6) {
                    0 => SgPeer::PrefixList(r.pick(&pls).clone()),
                    1 | 2 => SgPeer::Group(r.pick(&sgs).clone()),
                    3 => SgPeer::Cidr(n(if r.chance(50) { "0.0.0.0/0" } else { "::/0" })),
                    _ => SgPeer::Cidr(*r.pick(&prefixes)),
                };
                ingress.push(SgRule { protocol: *r.pick(&PROTOS), ports: PortRange { from, to }, peer });
            }
            let mut egress = vec![];
            if r.chance(70) {
                egress.push(SgRule {
                    protocol: Protocol::All,
                    ports: PortRange::ALL,
                    peer: SgPeer::Cidr(n("0.0.0.0/0")),
                });
            }
            for _ in 0..r.below(3) {
                let (from, to) = *r.pick(&PORTS);
                let peer = match r.below(3) {
                    0 => SgPeer::Group(r.pick(&sgs).clone()),
                    _ => SgPeer::Cidr(*r.pick(&prefixes)),
                };
                egress.push(SgRule { protocol: *r.pick(&PROTOS), ports: PortRange { from, to }, peer });
            }
            net.security_groups.insert(
                g.clone(),
                SecurityGroup { id: g.clone(), vpc_id: v.clone(), name: g.clone(), ingress, egress },
            );
        }
    }
    if has_tgw {
        gen_tgw(r, &mut net, &prefixes);
    }
    // Interfaces.
    let mut k = 0;
    for s in &subnet_ids {
        let sub = net.subnets[s].clone();
        for _ in 0..r.below(4) {
            k += 1;
            let id = format!("eni-{k}");
            let base = u32::from(sub.cidr_v4.unwrap().network());
            let mut private_ips = vec![Ipv4Addr::from(base + 4 + r.below(8) as u32)];
            if r.chance(20) {
                private_ips.push(Ipv4Addr::from(base + 20 + k as u32));
            }
            let ipv6_ips = sub
                .cidrs_v6
                .iter()
                .filter(|_| r.chance(70))
                .map(|c| Ipv6Addr::from(u128::from(c.network()) + 10 + k as u128))
                .collect();
            let public_ips = if r.chance(60) {
                vec![(Ipv4Addr::new(54, 200, (k / 250) as u8, (k % 250) as u8), private_ips[0])]
            } else {
                vec![]
            };
            let vsgs: Vec<String> = sgs
                .iter()
                .filter(|g| g.starts_with(&format!("sg-{}-", sub.vpc_id)) || (*g == "sg-missing" && r.chance(10)))
                .cloned()
                .collect();
            let security_group_ids = vsgs.iter().filter(|_| r.chance(70)).cloned().collect();
            let instance_id = match r.below(30) {
                0..=2 => None,
                3 => Some("i-missing".to_string()),
                _ => {
                    let iid = format!("i-{k}");
                    net.instances.insert(
                        iid.clone(),
                        Instance {
                            id: iid.clone(),
                            running: r.chance(80),
                            interface_ids: vec![id.clone()],
                            name: None,
                        },
                    );
                    Some(iid)
                }
            };
            net.interfaces.insert(
                id.clone(),
                Interface {
                    id,
                    vpc_id: sub.vpc_id.clone(),
                    subnet_id: s.clone(),
                    private_ips,
                    ipv6_ips,
                    public_ips,
                    security_group_ids,
                    instance_id,
                    interface_type: "interface".into(),
                    description: String::new(),
                },
            );
        }
    }
    gen_load_balancers(r, &mut net, &sgs);
    net
}

/// Transit gateway `tgw-0`: an attachment per VPC (mostly), a VPN attachment, route tables with per-VPC,
/// random and blackhole routes, associations (some missing or dangling).
fn gen_tgw(r: &mut Rng, net: &mut Network, prefixes: &[IpNet]) {
    let mut atts: Vec<String> = vec![];
    let vpcs: Vec<String> = net.vpcs.keys().cloned().collect();
    for v in &vpcs {
        if r.chance(80) {
            atts.push(format!("tgw-attach-{v}"));
        }
    }
    atts.push("tgw-attach-vpn".into());
    if r.chance(30) {
        atts.push("tgw-attach-peer".into());
    }
    let rtbs: Vec<String> = (0..1 + r.below(2)).map(|k| format!("tgw-rtb-{k}")).collect();
    for t in &rtbs {
        let mut routes = vec![];
        for v in &vpcs {
            let a = format!("tgw-attach-{v}");
            if atts.contains(&a) && r.chance(80) {
                routes.push((IpNet::V4(net.vpcs[v].cidrs_v4[0]), Some(a)));
            }
        }
        if r.chance(70) {
            routes.push((n("192.168.0.0/16"), Some("tgw-attach-vpn".to_string())));
        }
        for _ in 0..r.below(5) {
            let target = if r.chance(15) { None } else { Some(r.pick(&atts).clone()) };
            let d = if r.chance(50) { *r.pick(prefixes) } else { n(VGW_DESTS[r.below(VGW_DESTS.len())]) };
            routes.push((d, target));
        }
        net.tgw_route_tables.insert(t.clone(), TgwRouteTable { id: t.clone(), tgw_id: "tgw-0".into(), routes });
    }
    for a in atts {
        let (resource_type, resource_id) = match a.strip_prefix("tgw-attach-") {
            Some(v) if v.starts_with("vpc-") => ("vpc", v.to_string()),
            Some("vpn") => ("vpn", "vpn-1".to_string()),
            _ => ("peering", "tgw-attach-remote".to_string()),
        };
        let route_table_id = match r.below(20) {
            0 | 1 => None,
            2 => Some("tgw-rtb-missing".to_string()),
            _ => Some(r.pick(&rtbs).clone()),
        };
        net.tgw_attachments.insert(
            a.clone(),
            TgwAttachment {
                id: a,
                tgw_id: "tgw-0".into(),
                resource_type: resource_type.into(),
                resource_id,
                route_table_id,
            },
        );
    }
}

const TARGET_PORTS: [u16; 4] = [80, 8443, 22, 8080];
const LISTENER_PORTS: [u16; 4] = [80, 443, 22, 8443];
const STATES: [Option<&str>; 6] =
    [None, Some("healthy"), Some("healthy"), Some("unhealthy"), Some("unused"), Some("initial")];

/// Load balancers (ALB, NLB, classic; internal or internet-facing; with and without groups) in some VPCs, with
/// listeners, target groups of instance and ip targets in various health states, and some dangling references.
fn gen_load_balancers(r: &mut Rng, net: &mut Network, sgs: &[String]) {
    let vpcs: Vec<String> = net.vpcs.keys().cloned().collect();
    let enis: Vec<Interface> = net.interfaces.values().cloned().collect();
    for (k, v) in vpcs.iter().enumerate() {
        if !r.chance(70) {
            continue;
        }
        let kind = *r.pick(&[LoadBalancerKind::Application, LoadBalancerKind::Network, LoadBalancerKind::Classic]);
        let name = format!("lb-{k}");
        let id = match kind {
            LoadBalancerKind::Application => format!("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/{name}/1"),
            LoadBalancerKind::Network => format!("arn:aws:elasticloadbalancing:r:1:loadbalancer/net/{name}/1"),
            LoadBalancerKind::Classic => format!("classic/{name}"),
        };
        let mut subnet_ids: Vec<String> =
            net.subnets.values().filter(|s| &s.vpc_id == v && r.chance(70)).map(|s| s.id.clone()).collect();
        if r.chance(10) {
            subnet_ids.push("subnet-missing".into());
        }
        let lb_sg = format!("sg-lb-{k}");
        let security_group_ids: Vec<String> = if kind == LoadBalancerKind::Network && r.chance(50) {
            vec![]
        } else {
            let mut v: Vec<String> =
                sgs.iter().filter(|g| g.starts_with(&format!("sg-{v}-")) && r.chance(30)).cloned().collect();
            if r.chance(85) {
                v.insert(0, lb_sg.clone());
            }
            v
        };
        let (from, to) = if r.chance(70) { (0, 65535) } else { *r.pick(&PORTS) };
        let peer = SgPeer::Cidr(if r.chance(80) { n("0.0.0.0/0") } else { n("8.0.0.0/7") });
        let ingress =
            vec![SgRule { protocol: *r.pick(&[Protocol::Tcp, Protocol::All]), ports: PortRange { from, to }, peer }];
        let egress = if r.chance(80) {
            vec![SgRule { protocol: Protocol::All, ports: PortRange::ALL, peer: SgPeer::Cidr(n("0.0.0.0/0")) }]
        } else {
            vec![SgRule {
                protocol: Protocol::Tcp,
                ports: PortRange { from: 8000, to: 9000 },
                peer: SgPeer::Cidr(n("10.0.0.0/8")),
            }]
        };
        net.security_groups.insert(
            lb_sg.clone(),
            SecurityGroup { id: lb_sg.clone(), vpc_id: v.clone(), name: lb_sg.clone(), ingress, egress },
        );
        // Targets: mostly this VPC's interfaces.
        let mine: Vec<&Interface> = enis.iter().filter(|e| &e.vpc_id == v || r.chance(10)).collect();
        let mut listeners = vec![];
        for l in 0..1 + r.below(3) {
            let protocol =
                if kind == LoadBalancerKind::Network && r.chance(30) { Protocol::Udp } else { Protocol::Tcp };
            let port = *r.pick(&LISTENER_PORTS);
            if kind == LoadBalancerKind::Classic {
                let instance_ids = mine.iter().filter(|_| r.chance(60)).filter_map(|e| e.instance_id.clone()).collect();
                listeners.push(Listener {
                    protocol,
                    port,
                    target_group_ids: vec![],
                    instance_port: Some(*r.pick(&TARGET_PORTS)),
                    instance_ids,
                });
                continue;
            }
            let tg_id = format!("tg-{k}-{l}");
            let ip = r.chance(40);
            let mut targets = vec![];
            let picked: Vec<&&Interface> = mine.iter().filter(|_| r.chance(60)).collect();
            for e in picked {
                // Often, one of the target's groups admits the load balancer's group or its subnets.
                if r.chance(60)
                    && let Some(g) = e.security_group_ids.first()
                    && let Some(sg) = net.security_groups.get_mut(g)
                {
                    let peer = if r.chance(70) { SgPeer::Group(lb_sg.clone()) } else { SgPeer::Cidr(n("10.0.0.0/8")) };
                    sg.ingress.push(SgRule { protocol: Protocol::All, ports: PortRange::ALL, peer });
                }
                let tid = if ip {
                    e.private_ips[e.private_ips.len() - 1].to_string()
                } else {
                    match &e.instance_id {
                        Some(i) => i.clone(),
                        None => continue,
                    }
                };
                let port = if r.chance(20) { None } else { Some(*r.pick(&TARGET_PORTS)) };
                targets.push(Target { id: tid, port, state: r.pick(&STATES).map(String::from) });
            }
            net.target_groups.insert(
                tg_id.clone(),
                TargetGroup {
                    id: tg_id.clone(),
                    protocol,
                    port: Some(*r.pick(&TARGET_PORTS)),
                    target_type: if ip { "ip".into() } else { "instance".into() },
                    targets,
                },
            );
            let mut tgs = vec![tg_id];
            if r.chance(10) {
                tgs.push("tg-missing".into());
            }
            listeners.push(Listener {
                protocol,
                port,
                target_group_ids: tgs,
                instance_port: None,
                instance_ids: vec![],
            });
        }
        // Sometimes the dump has the load balancer's own interface (its address is then a node address).
        if let Some(sub) = subnet_ids.first().and_then(|s| net.subnets.get(s)).cloned()
            && r.chance(50)
        {
            let eni = format!("eni-lb-{k}");
            let description = match id.split_once(":loadbalancer/") {
                Some((_, suffix)) => format!("ELB {suffix}"),
                None => format!("ELB {name}"),
            };
            let ip = Ipv4Addr::from(u32::from(sub.cidr_v4.unwrap().network()) + 4 + r.below(8) as u32);
            net.interfaces.insert(
                eni.clone(),
                Interface {
                    id: eni,
                    vpc_id: v.clone(),
                    subnet_id: sub.id.clone(),
                    private_ips: vec![ip],
                    ipv6_ips: vec![],
                    public_ips: vec![],
                    security_group_ids: security_group_ids.clone(),
                    instance_id: None,
                    interface_type: "interface".into(),
                    description,
                },
            );
        }
        net.load_balancers.insert(
            id.clone(),
            LoadBalancer {
                id: id.clone(),
                name,
                kind,
                internet_facing: r.chance(80),
                vpc_id: v.clone(),
                subnet_ids,
                security_group_ids,
                listeners,
            },
        );
    }
}

/// Per load balancer, the (address, port, protocol) its listeners' registered targets receive on, whatever their
/// health (instance targets: the instance's first interface's first private IPv4).
fn lb_targets(net: &Network) -> HashMap<String, Vec<(IpAddr, u16, Protocol)>> {
    let mut out: HashMap<String, Vec<(IpAddr, u16, Protocol)>> = HashMap::new();
    let primary = |i: &str| -> Option<IpAddr> {
        let eni = net.interfaces.get(net.instances.get(i)?.interface_ids.first()?)?;
        Some(IpAddr::V4(*eni.private_ips.first()?))
    };
    for lb in net.load_balancers.values() {
        let v = out.entry(lb.id.clone()).or_default();
        for l in &lb.listeners {
            for i in &l.instance_ids {
                if let (Some(a), Some(port)) = (primary(i), l.instance_port) {
                    v.push((a, port, l.protocol));
                }
            }
            for tg in l.target_group_ids.iter().filter_map(|t| net.target_groups.get(t)) {
                for t in &tg.targets {
                    let a = if tg.target_type == "ip" { t.id.parse().ok() } else { primary(&t.id) };
                    if let (Some(a), Some(port)) = (a, t.port.or(tg.port)) {
                        v.push((a, port, l.protocol));
                    }
                }
            }
        }
    }
    out
}

/// Interesting addresses: boundaries of every prefix in the network, interface addresses, a few fixed ones.
fn interesting_addrs(net: &Network) -> Vec<IpAddr> {
    let mut nets: Vec<IpNet> = EXTRA.iter().map(|s| n(s)).collect();
    for v in net.vpcs.values() {
        nets.extend(v.cidrs_v4.iter().map(|c| IpNet::V4(*c)));
        nets.extend(v.cidrs_v6.iter().map(|c| IpNet::V6(*c)));
    }
    for s in net.subnets.values() {
        nets.extend(s.cidr_v4.map(IpNet::V4));
        nets.extend(s.cidrs_v6.iter().map(|c| IpNet::V6(*c)));
    }
    for a in net.network_acls.values() {
        nets.extend(a.entries.iter().map(|e| e.cidr));
    }
    for p in net.prefix_lists.values() {
        nets.extend(p.cidrs.iter().copied());
    }
    let mut out = vec![];
    for c in nets {
        for a in [c.network(), c.broadcast()] {
            out.push(a);
            out.push(step(a, 1));
            out.push(step(a, -1));
        }
    }
    for i in net.interfaces.values() {
        out.extend(i.addresses());
    }
    out.extend(
        ["8.8.8.8", "1.1.1.1", "54.200.0.1", "2001:db8::1", "10.0.0.5", "172.16.0.9"]
            .iter()
            .map(|s| s.parse::<IpAddr>().unwrap()),
    );
    out
}

fn step(a: IpAddr, d: i64) -> IpAddr {
    match a {
        IpAddr::V4(x) => IpAddr::V4(Ipv4Addr::from(u32::from(x).wrapping_add(d as u32))),
        IpAddr::V6(x) => IpAddr::V6(Ipv6Addr::from(u128::from(x).wrapping_add(d as i128 as u128))),
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[test]
fn engine_agrees_with_walker() {
    let networks = env("WARDEN_DIFF_NETWORKS", 200);
    let packets = env("WARDEN_DIFF_PACKETS", 1000);
    let seed = env("WARDEN_DIFF_SEED", 0x5eed);
    differential(networks, packets, seed);
}

/// The large run: 2,000 other networks × 1,000 packets (2M packets). About a minute in release:
/// `cargo test --release -p warden-netreach --test differential -- --ignored --nocapture`.
#[test]
#[ignore]
fn engine_agrees_with_walker_on_two_million_packets() {
    differential(2000, 1000, 0xb16_5eed);
}

/// Generates `networks` networks from `seed` and checks `packets` packets in each; panics on any disagreement.
fn differential(networks: u64, packets: u64, seed: u64) {
    let (mut total, mut delivered, mut bad) = (0u64, 0u64, 0u64);
    let mut reasons: HashMap<String, u64> = HashMap::new();
    let mut kinds: HashMap<String, u64> = HashMap::new();
    let mut engine_time = std::time::Duration::ZERO;
    let started = std::time::Instant::now();
    let all_ports: Vec<u16> = PORTS
        .iter()
        .flat_map(|&(a, b)| [a, b, a.wrapping_sub(1), b.wrapping_add(1)])
        .chain([22, 1023, 1024, 65535, 0, 8080, 8443, 8080, 8443, 80])
        .collect();
    for ni in 0..networks {
        let mut r = Rng(seed ^ ni.wrapping_mul(0x1234_5678_9abc));
        let net = gen_network(&mut r);
        let protos = protocols(&net);
        let t0 = std::time::Instant::now();
        let recs = analyse(&net);
        engine_time += t0.elapsed();
        let mut index: HashMap<(&str, IpAddr, Protocol), Vec<&Reachability>> = HashMap::new();
        for x in &recs {
            index.entry((&*x.interface_id, x.destination, x.protocol)).or_default().push(x);
        }
        let addrs = interesting_addrs(&net);
        let mut origins = vec![
            Origin::Internet,
            Origin::Vgw("vgw-x".into()),
            Origin::Peering("pcx-x".into()),
            Origin::Internet,
            Origin::Internet,
        ];
        origins.extend(net.vpn_gateways.keys().map(|g| Origin::Vgw(g.clone())));
        origins.extend(net.peerings.keys().map(|g| Origin::Peering(g.clone())));
        origins.extend(net.tgw_attachments.keys().map(|a| Origin::TransitGateway(a.clone())));
        origins.push(Origin::TransitGateway("tgw-attach-x".into()));
        for lb in net.load_balancers.values() {
            for l in &lb.listeners {
                // Load balancer packets are frequent: they need a listener, a target and a port to line up.
                for _ in 0..3 {
                    origins.push(Origin::LoadBalancer(lb.id.clone(), l.port));
                }
            }
            origins.push(Origin::LoadBalancer(lb.id.clone(), 9999));
        }
        let enis: Vec<&Interface> = net.interfaces.values().collect();
        let by_family: [Vec<IpAddr>; 2] =
            [0, 1].map(|f| addrs.iter().copied().filter(|a| a.is_ipv6() as usize == f).collect());
        let mut fitting: HashMap<(Origin, usize), Vec<IpAddr>> = HashMap::new();
        for o in &origins {
            for (f, fam) in by_family.iter().enumerate() {
                let v: Vec<IpAddr> = match o {
                    Origin::Internet | Origin::LoadBalancer(..) => {
                        fam.iter().copied().filter(|a| warden_netreach::walker::is_public(*a)).collect()
                    }
                    Origin::TransitGateway(x)
                        if net.tgw_attachments.get(x).is_some_and(|a| a.resource_type != "vpc") =>
                    {
                        fam.iter().copied().filter(|a| n("192.168.0.0/16").contains(a)).collect()
                    }
                    Origin::TransitGateway(x)
                        if net.tgw_attachments.get(x).is_some_and(|a| a.resource_type == "vpc") =>
                    {
                        let w = &net.tgw_attachments[x].resource_id;
                        enis.iter()
                            .filter(|e| &e.vpc_id == w)
                            .flat_map(|e| e.addresses())
                            .filter(|a| a.is_ipv6() as usize == f)
                            .collect()
                    }
                    Origin::Peering(x) if net.peerings.contains_key(x) => {
                        let pc = &net.peerings[x];
                        let vs = [&pc.requester_vpc, &pc.accepter_vpc];
                        enis.iter()
                            .filter(|e| vs.contains(&&e.vpc_id))
                            .flat_map(|e| e.addresses())
                            .filter(|a| a.is_ipv6() as usize == f)
                            .collect()
                    }
                    _ => vec![],
                };
                fitting.insert((o.clone(), f), v);
            }
        }
        let lb_targets = lb_targets(&net);
        for _ in 0..packets {
            let origin = if r.chance(5) { r.pick(&origins[..3]).clone() } else { r.pick(&origins[3..]).clone() };
            let lb_packet = matches!(origin, Origin::LoadBalancer(..));
            // Load balancer packets mostly go to a registered target on its port.
            let aimed = match &origin {
                Origin::LoadBalancer(lb, _) if r.chance(75) => {
                    lb_targets.get(lb).filter(|v| !v.is_empty()).map(|v| *r.pick(v))
                }
                _ => None,
            };
            let dst: IpAddr = if let Some((d, _, _)) = aimed {
                d
            } else if enis.is_empty() || r.chance(5) {
                *r.pick(&addrs)
            } else {
                let e = *r.pick(&enis);
                let mut c: Vec<IpAddr> = e.addresses().collect();
                c.extend(e.public_ips.iter().map(|(p, _)| IpAddr::V4(*p)));
                *r.pick(&c)
            };
            let v6 = dst.is_ipv6() as usize;
            let same = &by_family[v6];
            let empty = vec![];
            let fitting = fitting.get(&(origin.clone(), v6)).unwrap_or(&empty);
            let src = if r.chance(60) && !fitting.is_empty() {
                *r.pick(fitting)
            } else if r.chance(90) && !same.is_empty() {
                *r.pick(same)
            } else {
                *r.pick(&addrs)
            };
            let protocol = if let Some((_, _, p)) = aimed.filter(|_| r.chance(90)) {
                p
            } else if lb_packet && r.chance(85) {
                *r.pick(&[Protocol::Tcp, Protocol::Tcp, Protocol::Udp])
            } else {
                *r.pick(&[
                    Protocol::Tcp,
                    Protocol::Tcp,
                    Protocol::Udp,
                    Protocol::Icmp,
                    Protocol::Icmpv6,
                    Protocol::Other(47),
                    Protocol::Other(99),
                ])
            };
            let port = if let Some((_, port, _)) = aimed.filter(|_| r.chance(90)) {
                port
            } else if lb_packet && r.chance(70) {
                *r.pick(&TARGET_PORTS)
            } else if r.chance(85) {
                *r.pick(&all_ports)
            } else {
                r.next() as u16
            };
            let p = Packet { origin: origin.clone(), src, dst, protocol, port };
            let rp = reported_as(&protos, protocol);
            for e in &enis {
                let w = deliver_to(&net, &p, &e.id);
                let empty = vec![];
                let cands = index.get(&(e.id.as_str(), dst, rp)).unwrap_or(&empty);
                let hit = cands.iter().find(|x| {
                    (match &origin {
                        Origin::Internet => x.kind == ReachabilityKind::Internet,
                        Origin::Vgw(g) => x.kind == ReachabilityKind::Vgw && *x.via == **g,
                        Origin::Peering(g) => x.kind == ReachabilityKind::PeeredVpc && *x.via == **g,
                        Origin::TransitGateway(g) => x.kind == ReachabilityKind::TransitGateway && *x.via == **g,
                        Origin::LoadBalancer(lb, lp) => {
                            x.kind == ReachabilityKind::LoadBalancer && *x.via == **lb && x.listener_ports.contains(lp)
                        }
                    }) && x.admits(src, port)
                });
                if w.blocked_by.first().is_some_and(|b| b.contains("is not an address of")) {
                    assert!(hit.is_none());
                    continue;
                }
                if std::env::var("WARDEN_DIFF_DEBUG").is_ok() {
                    for b in &w.blocked_by {
                        let key: String = b.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                        *reasons.entry(key).or_insert(0u64) += 1;
                    }
                }
                total += 1;
                if w.delivered_to.is_some() {
                    delivered += 1;
                    let kind = match &origin {
                        Origin::Internet => "internet",
                        Origin::Vgw(_) => "vgw",
                        Origin::Peering(_) => "peering",
                        Origin::TransitGateway(_) => "transit gateway",
                        Origin::LoadBalancer(..) => "load balancer",
                    };
                    *kinds.entry(kind.to_string()).or_insert(0u64) += 1;
                }
                let agree = match (&w.delivered_to, hit) {
                    (Some(_), Some(h)) => match &origin {
                        Origin::Internet => true,
                        Origin::LoadBalancer(lb, _) => w.path.contains(lb),
                        _ => w.path.first().map(String::as_str) == Some(&*h.via),
                    },
                    (None, None) => true,
                    _ => false,
                };
                if !agree {
                    bad += 1;
                    if bad <= 5 {
                        eprintln!("DISAGREE network #{ni} {p:?} eni {}: walker {w:?}\nengine {hit:?}", e.id);
                        if bad == 1 {
                            eprintln!("{}", serde_json::to_string_pretty(&net).unwrap());
                        }
                    }
                }
            }
            // `deliver` picks an interface the packet is addressed to.
            let d = deliver(&net, &p);
            if let Some((eni, _)) = &d.delivered_to {
                assert!(index.get(&(eni.as_str(), dst, rp)).is_some_and(|v| v.iter().any(|x| x.admits(src, port))));
            }
        }
    }
    let mut rs: Vec<_> = reasons.into_iter().collect();
    rs.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (k, v) in rs.iter().take(25) {
        eprintln!("{v:>8} {k}");
    }
    eprintln!("delivered by origin: {kinds:?}");
    eprintln!("engine {engine_time:?} of {:?} total", started.elapsed());
    eprintln!(
        "differential: {networks} networks, {} packets, {total} (packet, addressed interface) checks, {delivered} delivered, {bad} disagreements",
        networks * packets
    );
    assert_eq!(bad, 0);
}
