//! End-to-end: `warden assess --aws DIR` adds the Network Reachability
//! package on the moto world fixture (`tests/fixtures/aws/moto-world`).
//! Expected findings read off the fixture: web-1 and web-2 admit SSH from
//! 203.0.113.0/24 through the internet gateway (no agent: the assessed root
//! is not either instance); the database admits PostgreSQL from the peered
//! VPC's web subnets; ICMP has no port and gives no finding; HTTP on web-1
//! and web-2 is reachable only through the internet-facing ALB; plus one
//! aggregate exposure per (interface, security group).

mod common;

use common::*;

fn assess() -> serde_json::Value {
    let root = workspace().join("tests/fixtures/roots/alpine-weak");
    let aws = workspace().join("tests/fixtures/aws/moto-world");
    let o = warden()
        .args(["assess", "--format", "json", "--package", "network-reachability", "--root"])
        .arg(&root)
        .arg("--aws")
        .arg(&aws)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn moto_world_gives_exactly_these_findings() {
    let a = assess();
    assert_eq!(a["packages"], serde_json::json!(["Network Reachability"]));
    let rules = a["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["rule_id"], "net-scan");
    assert_eq!(rules[0]["outcome"], "fail");
    assert_eq!(
        rules[0]["reason"],
        "4 ports on 2 instances reachable from the internet; 1 port on 1 instance reachable from a VGW, peered VPC or \
         transit gateway"
    );
    // The two describe-* files moto cannot produce are load warnings: evidence, and a partial assessment.
    assert_eq!(rules[0]["evidence"].as_array().unwrap().len(), 3, "{}", rules[0]["evidence"]);
    assert_eq!(a["partial"], true);
    let seen: Vec<(String, String, String, String, String, String)> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let at = |k: &str| f["attributes"][k].as_str().unwrap_or("-").to_string();
            (
                f["severity"].as_str().unwrap().to_string(),
                at("RULE_TYPE"),
                at("REACHABILITY_TYPE"),
                format!("{}/{}", at("PROTOCOL"), at("PORT")),
                at("PORT_GROUP_NAME"),
                at("TCP_PORTS"),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    let row = |a: &str, b: &str, c: &str, d: &str, e: &str, f: &str| (s(a), s(b), s(c), s(d), s(e), s(f));
    assert_eq!(
        seen,
        [
            row("High", "RecognizedPortNoAgent", "Internet", "TCP/22", "SSH", "-"),
            row("High", "RecognizedPortNoAgent", "Internet", "TCP/22", "SSH", "-"),
            row("Medium", "RecognizedPortNoAgent", "PeeredVPC", "TCP/5432", "PostgreSQL", "-"),
            row("Informational", "NetworkExposure", "PeeredVPC", "-/-", "-", "5432"),
            row("Informational", "NetworkExposure", "Internet", "-/-", "-", "22, 80"),
            row("Informational", "NetworkExposure", "Internet", "-/-", "-", "22, 80"),
            row("Informational", "RecognizedPortNoAgent", "Internet", "TCP/80", "HTTP", "-"),
            row("Informational", "RecognizedPortNoAgent", "Internet", "TCP/80", "HTTP", "-"),
        ]
    );
    let findings = a["findings"].as_array().unwrap();
    let mut ssh_instances = Vec::new();
    for f in &findings[..2] {
        let i = f["attributes"]["INSTANCE_ID"].as_str().unwrap();
        ssh_instances.push(i.to_string());
        assert_eq!(f["rule_id"], "Recognized port reachable from internet");
        assert_eq!(f["asset"], i);
        assert_eq!(
            f["title"],
            format!("On instance {i}, TCP port 22 which is associated with 'SSH' is reachable from the internet")
        );
        let sg = f["attributes"]["SECURITY_GROUP"].as_str().unwrap();
        assert!(sg.starts_with("sg-"));
        assert!(f["attributes"]["IGW"].as_str().unwrap().starts_with("igw-"));
        assert!(f["attributes"]["ACL"].as_str().unwrap().starts_with("acl-"));
        assert!(
            f["recommendation"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Edit the security group {sg} to remove access from the internet on port 22"))
        );
        assert_eq!(f["evidence"][1]["message"], "sources: 203.0.113.0/24");
    }
    assert_ne!(ssh_instances[0], ssh_instances[1]);
    let pg = &findings[2];
    assert_eq!(pg["rule_id"], "Recognized port reachable from a peered VPC");
    assert!(pg["attributes"]["PEERING_CONNECTION"].as_str().unwrap().starts_with("pcx-"));
    assert_eq!(pg["evidence"][1]["message"], "sources: 10.0.1.0/24, 10.0.2.0/23");
    assert!(findings[3..6].iter().all(|f| f["rule_id"] == "Aggregate network exposure"));
    // Port 80 only through the ALB: Internet, with the load balancer on the finding; SSH findings never carry it.
    assert!(findings[..2].iter().all(|f| f["attributes"].get("LOAD_BALANCER").is_none()));
    for f in &findings[6..] {
        assert_eq!(f["rule_id"], "Recognized port reachable from internet");
        let at = &f["attributes"];
        assert!(at["LOAD_BALANCER"].as_str().unwrap().contains(":loadbalancer/app/web-alb/"));
        assert!(at["TARGET_GROUP"].as_str().unwrap().contains(":targetgroup/tg-web/"));
        assert_eq!((at["LISTENER_PORT"].as_str(), at["IGW"].as_str().map(|s| &s[..4])), (Some("80"), Some("igw-")));
        assert!(f["recommendation"].as_str().unwrap().starts_with("Restrict or remove listener 80 of load balancer"));
    }
}

#[test]
fn network_package_without_aws_folder_is_refused() {
    let o = warden().args(["assess", "--package", "network-reachability"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--aws"));
}
