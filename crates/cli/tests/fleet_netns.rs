//! The fleet across network namespaces: the server in one namespace, two
//! agents in two others, routed through a fourth, as on separate hosts.
//!
//! It takes about 15 s and needs root (CI runs as root); without root it
//! says so and does nothing.
//!
//! SAFETY, as in the recipes (§6), on a subnet of its own so it cannot meet
//! other tests' topologies: first a blackhole route for 10.98.0.0/16 in the
//! root namespace; every process that uses a namespace address runs inside
//! a namespace (`ip netns exec`), the root namespace never addresses one; the
//! namespaces and the route are deleted at the end, also on failure.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");
const NAMESPACES: [&str; 4] = ["wf-rtr", "wf-srv", "wf-a1", "wf-a2"];
const SERVER: &str = "http://10.98.2.2:7443";

fn ip(args: &[&str]) -> bool {
    Command::new("ip").args(args).status().is_ok_and(|s| s.success())
}

struct Topology {
    children: Vec<Child>,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in NAMESPACES {
            ip(&["netns", "del", ns]);
        }
        ip(&["route", "del", "blackhole", "10.98.0.0/16"]);
    }
}

fn up() -> Topology {
    assert!(ip(&["route", "replace", "blackhole", "10.98.0.0/16"]), "safety route first");
    let t = Topology { children: vec![] };
    for ns in NAMESPACES {
        assert!(ip(&["netns", "add", ns]), "ip netns add {ns}");
        assert!(ip(&["-n", ns, "link", "set", "lo", "up"]));
    }
    for (ns, veth, peer, net) in [("wf-a1", "a1", "r1", 1), ("wf-srv", "s0", "r2", 2), ("wf-a2", "a2", "r3", 3)] {
        assert!(ip(&["link", "add", veth, "netns", ns, "type", "veth", "peer", "name", peer, "netns", "wf-rtr"]));
        assert!(ip(&["-n", ns, "addr", "add", &format!("10.98.{net}.2/24"), "dev", veth]));
        assert!(ip(&["-n", ns, "link", "set", veth, "up"]));
        assert!(ip(&["-n", "wf-rtr", "addr", "add", &format!("10.98.{net}.1/24"), "dev", peer]));
        assert!(ip(&["-n", "wf-rtr", "link", "set", peer, "up"]));
        assert!(ip(&["-n", ns, "route", "add", "default", "via", &format!("10.98.{net}.1")]));
    }
    assert!(
        Command::new("ip")
            .args(["netns", "exec", "wf-rtr", "sysctl", "-qw", "net.ipv4.ip_forward=1"])
            .status()
            .unwrap()
            .success()
    );
    t
}

/// `warden ARGS` inside a namespace; stdout.
fn warden_in(ns: &str, token: &str, args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, WARDEN])
        .args(args)
        .args(["--server", SERVER, "--token", token])
        .output()
        .unwrap();
    assert!(out.status.success(), "warden {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn server_and_agents_in_separate_namespaces() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut topo = up();
    let server = Command::new("ip")
        .args(["netns", "exec", "wf-srv", WARDEN, "serve", "--listen", "10.98.2.2:7443", "--heartbeat-seconds", "1"])
        .env("WARDEN_DATA_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    topo.children.push(server);
    let token_file = dir.path().join("admin.token");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !token_file.exists() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let token = std::fs::read_to_string(&token_file).unwrap().trim().to_string();

    let mut ids = Vec::new();
    for (ns, role) in [("wf-a1", "web"), ("wf-a2", "db")] {
        let enroll = warden_in(ns, &token, &["token", "create"]);
        let state = dir.path().join(ns);
        let agent = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                WARDEN,
                "agent",
                "--server",
                SERVER,
                "--enroll-token",
                &enroll,
                "--tags",
                &format!("role={role}"),
            ])
            .arg("--state-dir")
            .arg(&state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        topo.children.push(agent);
        let creds = state.join("credentials.json");
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            if let Some(id) = std::fs::read_to_string(&creds)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["agent_id"].as_str().map(str::to_string))
            {
                break id;
            }
            assert!(Instant::now() < deadline, "agent in {ns} did not enroll");
            std::thread::sleep(Duration::from_millis(200));
        };
        ids.push(id);
    }

    let agents: Value = serde_json::from_str(&warden_in("wf-a1", &token, &["agents", "list", "--json"])).unwrap();
    let addresses: Vec<String> = agents
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["host"]["ipv4_addresses"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()))
        .collect();
    assert!(
        addresses.contains(&"10.98.1.2".to_string()) && addresses.contains(&"10.98.3.2".to_string()),
        "{addresses:?}"
    );

    let target = warden_in("wf-srv", &token, &["target", "create", "all"]);
    let template =
        warden_in("wf-srv", &token, &["template", "create", "--target", &target, "--name", "t", "--duration", "10s"]);
    let run = warden_in("wf-srv", &token, &["run", "start", &template]);
    let state = warden_in("wf-srv", &token, &["run", "wait", &run, "--timeout", "120s"]);
    assert_eq!(state, "COMPLETED");
    let shown: Value = serde_json::from_str(&warden_in("wf-srv", &token, &["run", "show", &run])).unwrap();
    for id in &ids {
        let a = shown["agents"].as_array().unwrap().iter().find(|a| a["agent_id"] == id.as_str()).unwrap();
        assert_eq!(a["status"], "collected", "{a}");
    }
    let findings: Value =
        serde_json::from_str(&warden_in("wf-srv", &token, &["findings", "--run", &run, "--json"])).unwrap();
    for id in &ids {
        assert!(findings.as_array().unwrap().iter().any(|f| f["agent_id"] == id.as_str()), "findings for {id}");
    }
}
