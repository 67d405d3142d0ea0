//! End-to-end: `warden net exposure` and `warden net why` on the moto world
//! fixture (`tests/fixtures/aws/moto-world`, see its README for what moto
//! leaves out). Expected answers are read off the fixture by hand: web-sg
//! admits SSH only from 203.0.113.0/24 and ICMP from anywhere; port 80 is
//! admitted only from alb-sg, so it is reachable only through the
//! internet-facing ALB (listener 80 → tg-web, web-1 and web-2, port 80), and
//! nothing else is open.

mod common;

use common::*;

fn fixture() -> String {
    workspace().join("tests/fixtures/aws/moto-world").display().to_string()
}

#[test]
fn exposure_lists_ssh_from_the_allowed_range_and_icmp() {
    let o = warden().args(["net", "exposure", "--json", &fixture()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let records: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let records = records.as_array().unwrap();
    let mut seen: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r["instance_id"].as_str().unwrap_or("-").to_string(),
                r["protocol"].as_str().unwrap_or("?").to_string(),
                r["ports"].to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 6, "{seen:?}");
    let through_lb: Vec<&serde_json::Value> = records.iter().filter(|r| r["kind"] == "load_balancer").collect();
    assert_eq!(through_lb.len(), 2, "web-1 and web-2 behind the ALB");
    for r in through_lb {
        assert_eq!(
            (r["protocol"].as_str(), r["ports"].clone()),
            (Some("tcp"), serde_json::json!([{"from": 80, "to": 80}]))
        );
        assert_eq!(r["listener_ports"], serde_json::json!([80]));
        assert!(r["via"].as_str().unwrap().contains(":loadbalancer/app/web-alb/"));
        let path: Vec<&str> = r["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert!(path.iter().any(|p| p.contains(":targetgroup/tg-web/")), "{path:?}");
        assert!(r["destination"].as_str().unwrap().starts_with("10.0."), "the target's private address");
    }
    let ssh: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["protocol"] == "tcp" && r["kind"] == "internet").collect();
    assert_eq!(ssh.len(), 2, "web-1 and web-2 expose SSH");
    for r in ssh {
        assert_eq!(r["ports"], serde_json::json!([{"from": 22, "to": 22}]));
        assert_eq!(r["sources"], serde_json::json!(["203.0.113.0/24"]));
        let path: Vec<&str> = r["path"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert!(path[0].starts_with("igw-") && path[1].starts_with("rtb-") && path[2].starts_with("acl-"), "{path:?}");
    }
}

#[test]
fn why_explains_paths_and_every_blocker() {
    let o = warden().args(["net", "exposure", "--json", &fixture()]).output().unwrap();
    let records: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let instance = records[0]["instance_id"].as_str().unwrap().to_string();
    let o = warden().args(["net", "why", &fixture(), &instance, "tcp/22", "--from", "203.0.113.7"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("reachable") && text.contains("igw-"), "{text}");
    let o = warden().args(["net", "why", &fixture(), &instance, "tcp/3306"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("not reachable"), "{text}");
    // Every security group of the interface is named as a blocker, not only the first.
    assert_eq!(text.matches("has no inbound rule for tcp/3306").count(), 2, "{text}");
    let o = warden().args(["net", "why", &fixture(), &instance, "tcp"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // Port 80: not directly (both groups are named), but through the load balancer.
    let o = warden().args(["net", "why", &fixture(), &instance, "tcp/80"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.matches("has no inbound rule for tcp/80").count(), 2, "{text}");
    assert!(text.contains("/web-alb/") && text.contains("listener 80 from 1.0.0.0: igw-"), "{text}");
}

/// A snapshot of the alpine-weak root (real `warden collect` output) with the
/// given host name and listening sockets: listening sockets are a live-only
/// fact, so a root directory cannot give them.
fn snapshot_listening(dir: &std::path::Path, name: &str, hostname: Option<&str>, sockets: serde_json::Value) -> String {
    let path = dir.join(name);
    let root = workspace().join("tests/fixtures/roots/alpine-weak");
    let o = warden().args(["collect", "--root"]).arg(&root).arg("-o").arg(&path).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut snapshot: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    snapshot["listening"] = serde_json::json!({ "status": "collected", "value": sockets });
    snapshot["host"]["hostname"] = serde_json::json!(hostname);
    std::fs::write(&path, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn exposure_with_several_snapshots_says_who_listens() {
    let dir = tempfile::tempdir().unwrap();
    let socket = |port: u16, exe: &str| {
        serde_json::json!({"transport": "tcp", "address": "0.0.0.0", "port": port, "inode": 1, "uid": 0,
            "user": "root", "pid": 10, "process": "p", "exe": exe})
    };
    // app-1 named by instance id; the bastion by its EC2 default host name (its private IP).
    let a = snapshot_listening(dir.path(), "a.json", None, serde_json::json!([socket(8443, "/usr/bin/app")]));
    let b = snapshot_listening(
        dir.path(),
        "b.json",
        Some("ip-10-30-2-30.eu-central-1.compute.internal"),
        serde_json::json!([socket(22, "/usr/sbin/sshd")]),
    );
    let world = workspace().join("tests/fixtures/aws/lb-tgw").display().to_string();
    let o = warden()
        .args(["net", "exposure", "--json", &world, "--snapshot", &format!("i-0app1={a}"), "--snapshot", &b])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 2, "the two load balancer paths");
    let mut rows: Vec<(String, String, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["attributes"]["PORT"].is_string())
        .map(|f| {
            let at = |k: &str| f["attributes"][k].as_str().unwrap_or("-").to_string();
            (f["asset"].as_str().unwrap().to_string(), at("RULE_TYPE"), at("PORT"), at("PROCESS"))
        })
        .collect();
    rows.sort();
    let s = |x: &str| x.to_string();
    assert_eq!(
        rows,
        [
            (s("i-0app1"), s("UnrecognizedPortWithListener"), s("8443"), s("/usr/bin/app")),
            (s("i-0bastion"), s("RecognizedPortWithListener"), s("22"), s("/usr/sbin/sshd")),
        ]
    );
    // Text output: the load balancer is named on both.
    let o = warden().args(["net", "exposure", &world, "--snapshot", &format!("i-0app1={a}")]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("UnrecognizedPortWithListener") && text.contains("(through arn:aws:elasticloadbalancing"),
        "{text}"
    );
    // A snapshot that names no host is refused loudly but not fatally.
    let c = snapshot_listening(dir.path(), "c.json", None, serde_json::json!([socket(22, "/usr/sbin/sshd")]));
    let o = warden().args(["net", "exposure", &world, "--snapshot", &c]).output().unwrap();
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no instance id given"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
