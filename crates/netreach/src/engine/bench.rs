//! A generated estate and a timing of [`super::analyse`] on it (for `warden bench`).
//!
//! Why it exists: the engine must stay fast on large estates (target: 100k
//! interfaces in under 2 s on 2 cores). The estate is proportional: per 100
//! interfaces one VPC (a /20 of 10/8) with 4 subnets, an IGW, 2 route tables
//! (public with a default route to the IGW, private with none) carrying 12
//! routes each (peering, VGW-propagated /24s), 2 ACLs of 12 entries, 10 security
//! groups of 5 rules (CIDR, prefix list and group peers); a VGW per two VPCs
//! and an active peering between consecutive VPCs.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv4Net};

use crate::model::*;

/// The timing of one analysis.
#[derive(Clone, Debug)]
pub struct BenchResult {
    /// Interfaces in the estate.
    pub interfaces: usize,
    /// Security groups, ACL entries and routes in the estate.
    pub groups: usize,
    /// ACL entries.
    pub acl_entries: usize,
    /// Routes.
    pub routes: usize,
    /// Reachability records found.
    pub records: usize,
    /// [`content_hash`] of the records, in output order: equal before and after an optimisation when no answer
    /// changed.
    pub content_hash: u64,
    /// Time to generate the estate.
    pub generate: Duration,
    /// Time to analyse it.
    pub analyse: Duration,
    /// CPU time (user + system, every thread) the analysis took: on a shared machine, wall time mostly
    /// measures the neighbours.
    pub analyse_cpu: Duration,
}

/// CPU time used by this process so far (user + system, every thread).
pub fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return Duration::ZERO;
    }
    // SAFETY: the call succeeded, so the struct is initialised.
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn next(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// Generates an estate of about `enis` interfaces (deterministic).
pub fn estate(enis: usize) -> Network {
    let mut net = Network::default();
    let mut rnd = 0x2545_f491_4f6c_dd1d_u64;
    let vpcs = enis.div_ceil(100).max(1);
    net.prefix_lists.insert(
        "pl-corp".into(),
        PrefixList {
            id: "pl-corp".into(),
            cidrs: vec!["198.51.100.0/24".parse().unwrap(), "203.0.113.0/24".parse().unwrap()],
        },
    );
    let cidr = |k: usize| Ipv4Net::new(Ipv4Addr::from((10u32 << 24) + ((k as u32 % 4096) << 12)), 20).unwrap();
    let mut eni_no = 0;
    for k in 0..vpcs {
        let v = format!("vpc-{k}");
        let c = cidr(k);
        net.vpcs
            .insert(v.clone(), Vpc { id: v.clone(), account: None, region: None, cidrs_v4: vec![c], cidrs_v6: vec![] });
        let igw = format!("igw-{k}");
        net.internet_gateways.insert(igw.clone(), Gateway { id: igw.clone(), vpc_ids: vec![v.clone()] });
        let vgw = format!("vgw-{}", k / 2);
        net.vpn_gateways
            .entry(vgw.clone())
            .or_insert_with(|| Gateway { id: vgw.clone(), vpc_ids: vec![] })
            .vpc_ids
            .push(v.clone());
        if k + 1 < vpcs {
            let p = format!("pcx-{k}");
            net.peerings.insert(
                p.clone(),
                Peering {
                    id: p,
                    requester_vpc: v.clone(),
                    accepter_vpc: format!("vpc-{}", k + 1),
                    requester_cidrs: vec![],
                    accepter_cidrs: vec![],
                    active: true,
                },
            );
        }
        let subnets: Vec<String> = (0..4).map(|s| format!("subnet-{k}-{s}")).collect();
        for (s, id) in subnets.iter().enumerate() {
            let sc = Ipv4Net::new(Ipv4Addr::from(u32::from(c.network()) + (s as u32) * 256), 24).unwrap();
            net.subnets.insert(
                id.clone(),
                Subnet {
                    id: id.clone(),
                    vpc_id: v.clone(),
                    cidr_v4: Some(sc),
                    cidrs_v6: vec![],
                    availability_zone: None,
                },
            );
        }
        for t in 0..2 {
            let mut routes = vec![Route {
                destination: RouteDestination::Cidr(IpNet::V4(c)),
                target: RouteTarget::Local,
                origin: RouteOrigin::Local,
                blackhole: false,
            }];
            if t == 0 {
                routes.push(Route {
                    destination: RouteDestination::Cidr("0.0.0.0/0".parse().unwrap()),
                    target: RouteTarget::InternetGateway(igw.clone()),
                    origin: RouteOrigin::Static,
                    blackhole: false,
                });
            }
            for (p, other) in [(k, k + 1), (k.wrapping_sub(1), k.wrapping_sub(1))] {
                if other < vpcs && other != k {
                    routes.push(Route {
                        destination: RouteDestination::Cidr(IpNet::V4(cidr(other))),
                        target: RouteTarget::Peering(format!("pcx-{p}")),
                        origin: RouteOrigin::Static,
                        blackhole: false,
                    });
                }
            }
            for _ in 0..9 {
                let a = Ipv4Addr::from((192u32 << 24) | (168 << 16) | ((next(&mut rnd) as u32 % 256) << 8));
                routes.push(Route {
                    destination: RouteDestination::Cidr(IpNet::V4(Ipv4Net::new(a, 24).unwrap())),
                    target: RouteTarget::VpnGateway(vgw.clone()),
                    origin: RouteOrigin::Propagated,
                    blackhole: false,
                });
            }
            let id = format!("rtb-{k}-{t}");
            let subnet_ids = if t == 1 { subnets[2..].to_vec() } else { vec![] };
            net.route_tables.insert(
                id.clone(),
                RouteTable { id, vpc_id: v.clone(), main: t == 0, subnet_ids, gateway_ids: vec![], routes },
            );
        }
        for a in 0..2 {
            let mut entries = Vec::new();
            for (i, port) in [22u16, 3389, 23, 445, 135].iter().enumerate() {
                entries.push(AclEntry {
                    rule_number: 10 + i as u16,
                    egress: false,
                    protocol: Protocol::Tcp,
                    allow: false,
                    cidr: "0.0.0.0/0".parse().unwrap(),
                    ports: PortRange { from: *port, to: *port },
                });
            }
            entries.push(AclEntry {
                rule_number: 50,
                egress: false,
                protocol: Protocol::Tcp,
                allow: true,
                cidr: "10.0.0.0/8".parse().unwrap(),
                ports: PortRange::ALL,
            });
            entries.push(AclEntry {
                rule_number: 100,
                egress: false,
                protocol: Protocol::All,
                allow: true,
                cidr: "0.0.0.0/0".parse().unwrap(),
                ports: PortRange::ALL,
            });
            entries.push(AclEntry {
                rule_number: 10,
                egress: true,
                protocol: Protocol::Udp,
                allow: false,
                cidr: "0.0.0.0/0".parse().unwrap(),
                ports: PortRange { from: 0, to: 1023 },
            });
            entries.push(AclEntry {
                rule_number: 20,
                egress: true,
                protocol: Protocol::Tcp,
                allow: true,
                cidr: "0.0.0.0/0".parse().unwrap(),
                ports: PortRange { from: 1024, to: 65535 },
            });
            entries.push(AclEntry {
                rule_number: 30,
                egress: true,
                protocol: Protocol::Tcp,
                allow: true,
                cidr: "10.0.0.0/8".parse().unwrap(),
                ports: PortRange::ALL,
            });
            entries.push(AclEntry {
                rule_number: 40,
                egress: true,
                protocol: Protocol::Icmp,
                allow: true,
                cidr: "0.0.0.0/0".parse().unwrap(),
                ports: PortRange::ALL,
            });
            entries.push(AclEntry {
                rule_number: 50,
                egress: true,
                protocol: Protocol::Udp,
                allow: true,
                cidr: "0.0.0.0/0".parse().unwrap(),
                ports: PortRange { from: 1024, to: 65535 },
            });
            let id = format!("acl-{k}-{a}");
            let subnet_ids = if a == 1 { vec![subnets[3].clone()] } else { vec![] };
            net.network_acls
                .insert(id.clone(), NetworkAcl { id, vpc_id: v.clone(), default: a == 0, subnet_ids, entries });
        }
        for g in 0..10 {
            let id = format!("sg-{k}-{g}");
            let mut ingress = Vec::new();
            for r in 0..5 {
                let port = [22u16, 80, 443, 5432, 8080, 3306, 6379][(next(&mut rnd) % 7) as usize];
                let peer = match (g + r) % 5 {
                    0 => SgPeer::Cidr("0.0.0.0/0".parse().unwrap()),
                    1 => SgPeer::PrefixList("pl-corp".into()),
                    2 => SgPeer::Group(format!("sg-{k}-{}", (g + 1) % 10)),
                    3 => SgPeer::Group(format!("sg-{}-{}", (k + 1) % vpcs, g)),
                    _ => SgPeer::Cidr(IpNet::V4(c)),
                };
                ingress.push(SgRule {
                    protocol: Protocol::Tcp,
                    ports: PortRange { from: port, to: port + (r as u16) * 10 },
                    peer,
                });
            }
            net.security_groups.insert(
                id.clone(),
                SecurityGroup { id: id.clone(), vpc_id: v.clone(), name: id, ingress, egress: vec![] },
            );
        }
        for s in 0..100.min(enis - eni_no) {
            let id = format!("eni-{eni_no}");
            eni_no += 1;
            let ip = Ipv4Addr::from(u32::from(c.network()) + (s as u32 / 25) * 256 + 4 + (s as u32 % 25));
            let n_sg = 1 + (next(&mut rnd) % 3) as usize;
            let security_group_ids = (0..n_sg).map(|_| format!("sg-{k}-{}", next(&mut rnd) % 10)).collect();
            let public_ips = if next(&mut rnd).is_multiple_of(2) {
                vec![(Ipv4Addr::from(0x3600_0000 + eni_no as u32), ip)]
            } else {
                vec![]
            };
            let iid = format!("i-{eni_no}");
            net.instances.insert(
                iid.clone(),
                Instance {
                    id: iid.clone(),
                    running: !next(&mut rnd).is_multiple_of(10),
                    interface_ids: vec![id.clone()],
                    name: None,
                },
            );
            net.interfaces.insert(
                id.clone(),
                Interface {
                    id,
                    vpc_id: v.clone(),
                    subnet_id: subnets[s / 25].clone(),
                    private_ips: vec![ip],
                    ipv6_ips: vec![],
                    public_ips,
                    security_group_ids,
                    instance_id: Some(iid),
                    interface_type: "interface".into(),
                    description: String::new(),
                },
            );
        }
    }
    net
}

/// A 64-bit FNV-1a hash of the records' JSON, in order: a fingerprint of every field of every record, to compare
/// the engine's answers on a generated estate before and after a change.
pub fn content_hash(records: &[super::Reachability]) -> u64 {
    struct Fnv(u64);
    impl std::io::Write for Fnv {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            for &b in buf {
                self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for r in records {
        serde_json::to_writer(&mut h, r).expect("a record serialises");
        std::io::Write::write_all(&mut h, b"\n").expect("hashing cannot fail");
    }
    h.0
}

/// Generates an estate of `enis` interfaces and times its analysis.
pub fn run(enis: usize) -> BenchResult {
    let t = Instant::now();
    let net = estate(enis);
    let generate = t.elapsed();
    let (t, cpu) = (Instant::now(), cpu_time());
    let out = super::analyse(&net);
    let (analyse, analyse_cpu) = (t.elapsed(), cpu_time().saturating_sub(cpu));
    let records = out.len();
    let content_hash = content_hash(&out);
    drop(out);
    BenchResult {
        interfaces: net.interfaces.len(),
        groups: net.security_groups.len(),
        acl_entries: net.network_acls.values().map(|a| a.entries.len()).sum(),
        routes: net.route_tables.values().map(|t| t.routes.len()).sum(),
        records,
        content_hash,
        generate,
        analyse,
        analyse_cpu,
    }
}

#[cfg(test)]
mod tests {
    /// `cargo test --release -p warden-netreach bench_print -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_print() {
        for n in [1_000, 10_000, 100_000] {
            let r = super::run(n);
            eprintln!("{r:?}");
        }
    }

    #[test]
    fn threaded_equals_sequential() {
        let net = super::estate(700);
        assert_eq!(crate::engine::analyse_threads(&net, 3), crate::engine::analyse_threads(&net, 1));
    }

    #[test]
    fn content_hash_sees_every_field_and_the_order() {
        let net = super::estate(300);
        let recs = crate::engine::analyse(&net);
        assert!(recs.len() > 2);
        let h = super::content_hash(&recs);
        assert_eq!(h, super::content_hash(&crate::engine::analyse(&net)));
        let mut ports = recs.clone();
        ports[1].ports = vec![crate::model::PortRange { from: 1, to: 2 }].into();
        assert_ne!(super::content_hash(&ports), h);
        let mut groups = recs.clone();
        groups[0].security_groups = Vec::new().into();
        assert_ne!(super::content_hash(&groups), h);
        let mut swapped = recs.clone();
        swapped.swap(0, recs.len() - 1);
        assert_ne!(super::content_hash(&swapped), h);
        assert_ne!(super::content_hash(&recs[1..]), h);
    }

    #[test]
    fn small_estate_analyses() {
        let r = super::run(300);
        assert_eq!(r.interfaces, 300);
        assert!(r.records > 0);
    }
}

#[cfg(test)]
mod prof {
    #[test]
    #[ignore]
    fn prof_10k() {
        let net = super::estate(10_000);
        let t = std::time::Instant::now();
        let n = crate::engine::analyse_threads(&net, 1).len();
        eprintln!("10k single-thread: {n} records in {:?}", t.elapsed());
    }
}
