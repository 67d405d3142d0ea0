//! Instance matching and per-instance findings on the moto world fixture
//! (`tests/fixtures/aws/moto-world`, see its README): web-1 is
//! i-9ff9ec716ae40311d at 10.0.1.10 (SSH from 203.0.113.0/24 through the
//! internet gateway, HTTP only through the ALB), web-2 is
//! i-3cee96c180a4e387d at 10.0.2.4, db-1 is i-21c0fc798668d05c6 at 10.1.1.4.

use std::path::Path;

use warden_model::{Fact, ListeningSocket, Snapshot, Transport};

use super::*;

const WEB1: &str = "i-9ff9ec716ae40311d";
const WEB2: &str = "i-3cee96c180a4e387d";

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn moto_world() -> Analysis {
    Analysis::load(&workspace().join("tests/fixtures/aws/moto-world")).unwrap()
}

/// A real snapshot of a fixture root, with the given listening sockets.
fn snapshot(listening: &[(Transport, &str, u16)]) -> Snapshot {
    let root = workspace().join("tests/fixtures/roots/debian-weak/root");
    let mut s = warden_collect::collect(&root, &warden_collect::Options::default()).unwrap();
    s.host.hostname = Some("web".into());
    s.listening = Fact::collected(
        listening
            .iter()
            .map(|(transport, address, port)| ListeningSocket {
                transport: *transport,
                address: address.to_string(),
                port: *port,
                inode: 1,
                uid: 0,
                user: Some("root".into()),
                pid: Some(1),
                process: Some("sshd".into()),
                exe: Some("/usr/sbin/sshd".into()),
            })
            .collect(),
    );
    s
}

fn matched(m: &InstanceMatch) -> &str {
    match m {
        InstanceMatch::Matched { instance_id, .. } => instance_id,
        InstanceMatch::Unmatched(reason) => panic!("unmatched: {reason}"),
    }
}

fn unmatched(m: InstanceMatch) -> String {
    match m {
        InstanceMatch::Unmatched(reason) => reason,
        other => panic!("matched: {other:?}"),
    }
}

#[test]
fn a_host_is_matched_by_its_private_address_or_its_reported_instance_id() {
    let a = moto_world();
    let by_ip = a.match_instance(None, &["192.0.2.7".into(), "10.0.1.10".into()]);
    assert_eq!(matched(&by_ip), WEB1);
    assert!(matches!(&by_ip, InstanceMatch::Matched { by, .. } if by.contains("10.0.1.10") && by.contains("eni-")));
    assert_eq!(matched(&a.match_instance(None, &["10.0.2.4".into()])), WEB2);
    // A reported instance id wins over addresses (which may be another instance's in an overlapping VPC).
    assert_eq!(matched(&a.match_instance(Some(WEB2), &["10.0.1.10".into()])), WEB2);
}

#[test]
fn unmatched_hosts_say_why() {
    let a = moto_world();
    let r = unmatched(a.match_instance(None, &["192.0.2.7".into()]));
    assert!(r.contains("192.0.2.7") && r.contains("no instance"), "{r}");
    let r = unmatched(a.match_instance(None, &["not an address".into()]));
    assert!(r.contains("no IPv4 address"), "{r}");
    let r = unmatched(a.match_instance(Some("i-0000000000000000f"), &["10.0.1.10".into()]));
    assert!(r.contains("i-0000000000000000f") && r.contains("not in the loaded"), "{r}");
    // Two instances with the same private address (overlapping VPCs): none is chosen.
    let mut a = a;
    let web2_eni = a.network.interfaces.values_mut().find(|e| e.instance_id.as_deref() == Some(WEB2)).unwrap();
    web2_eni.private_ips = vec!["10.0.1.10".parse().unwrap()];
    let r = unmatched(a.match_instance(None, &["10.0.1.10".into()]));
    assert!(r.contains("several instances") && r.contains(WEB1) && r.contains(WEB2), "{r}");
}

#[test]
fn the_instance_package_reports_that_instance_only_with_its_listeners() {
    let a = moto_world();
    let (outcomes, found) = a.instance_package(WEB1, &snapshot(&[(Transport::Tcp, "0.0.0.0", 22)]));
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].outcome, warden_model::Outcome::Fail);
    assert!(outcomes[0].reason.contains("on 1 instance reachable from the internet"), "{}", outcomes[0].reason);
    assert!(!found.is_empty());
    assert!(found.iter().all(|f| f.attributes.get("INSTANCE_ID").map(String::as_str) == Some(WEB1)), "{found:#?}");
    let port = |p: &str| found.iter().find(|f| f.attributes.get("PORT").map(String::as_str) == Some(p)).unwrap();
    let ssh = port("22");
    assert_eq!(ssh.attributes["RULE_TYPE"], "RecognizedPortWithListener");
    assert_eq!(ssh.attributes["REACHABILITY_TYPE"], "Internet");
    assert_eq!(ssh.attributes["IGW"], "igw-abd9e623ca5cc7f00");
    assert_eq!(ssh.attributes["SECURITY_GROUP"], "sg-04ceba8eb6d92d64a");
    // Known host, nothing on 80: no listener (not "no agent"), through the load balancer.
    let http = port("80");
    assert_eq!(http.attributes["RULE_TYPE"], "RecognizedPortNoListener");
    assert!(http.attributes.contains_key("LOAD_BALANCER"), "{http:?}");

    // The same host with no socket on 22 says so.
    let (_, found) = a.instance_package(WEB1, &snapshot(&[]));
    let ssh = found.iter().find(|f| f.attributes.get("PORT").map(String::as_str) == Some("22")).unwrap();
    assert_eq!(ssh.attributes["RULE_TYPE"], "RecognizedPortNoListener");
}

#[test]
fn the_whole_network_package_marks_undescribed_instances_no_agent() {
    let a = moto_world();
    // Listening on web-1's specific address: web-1 is known, web-2 is not.
    let hosts = snapshot_listeners(&snapshot(&[(Transport::Tcp, "10.0.1.10", 22)]), None);
    assert_eq!(hosts.iter().map(|h| h.host.as_str()).collect::<Vec<_>>(), ["10.0.1.10"]);
    let (_, found) = a.package(&hosts);
    let ssh_of = |i: &str| {
        found
            .iter()
            .find(|f| f.attributes.get("INSTANCE_ID").map(String::as_str) == Some(i) && f.attributes["PORT"] == "22")
            .map(|f| f.attributes["RULE_TYPE"].clone())
    };
    assert_eq!(ssh_of(WEB1).as_deref(), Some("RecognizedPortWithListener"));
    assert_eq!(ssh_of(WEB2).as_deref(), Some("RecognizedPortNoAgent"));
    assert!(a.is_partial(), "moto cannot produce two of the files: {:?}", a.warnings);
}

#[test]
fn ec2_default_host_names_spell_an_address() {
    assert_eq!(ec2_hostname_ip("ip-10-0-1-10"), Some(Ipv4Addr::new(10, 0, 1, 10)));
    assert_eq!(ec2_hostname_ip("ip-10-0-1-10.eu-west-1.compute.internal"), Some(Ipv4Addr::new(10, 0, 1, 10)));
    assert_eq!(ec2_hostname_ip("web-1"), None);
    assert_eq!(ec2_hostname_ip("ip-10-0-1"), None);
}
