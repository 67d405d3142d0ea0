//! End-to-end tests of the fleet service on loopback: a real `warden serve`,
//! real `warden agent` processes collecting this host, real runs. No mocks.
//! No assertion is about time: every wait polls for an outcome.

mod fleet;

use fleet::{Fleet, agent_status, states, wait_for};
use serde_json::json;
use std::time::Duration;

const FULL_SEQUENCE: [&str; 9] = [
    "CREATED",
    "START_DATA_COLLECTION_PENDING",
    "START_DATA_COLLECTION_IN_PROGRESS",
    "COLLECTING_DATA",
    "STOP_DATA_COLLECTION_PENDING",
    "DATA_COLLECTED",
    "START_EVALUATING_RULES_PENDING",
    "EVALUATING_RULES",
    "COMPLETED",
];

/// Three agents with different tags; a target selecting two by tag; a
/// 20-second run: exact state sequence, per-agent status, findings from the
/// agents' real host with evidence, user attributes and exclusions.
#[test]
fn a_twenty_second_run_over_two_of_three_agents() {
    let mut f = Fleet::start();
    let web_prod = f.add_agent("web-prod", "role=web,env=prod");
    let web_dev = f.add_agent("web-dev", "role=web,env=dev");
    let db = f.add_agent("db", "role=db,env=prod");
    let run = f.start_run(
        "web",
        json!([{"key": "role", "value": "web"}]),
        20,
        &["best-practices", "cve", "runtime-behavior"],
    );
    let r = f.wait_run(&run);

    assert_eq!(states(&r), FULL_SEQUENCE, "{r:#}");
    let times: Vec<i64> =
        r["state_changes"].as_array().unwrap().iter().map(|c| c["changed_at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "state times are ordered: {times:?}");
    assert_eq!(r["data_collected"], true);
    let ids: Vec<&str> = r["agents"].as_array().unwrap().iter().map(|a| a["agent_id"].as_str().unwrap()).collect();
    let mut expected = vec![web_prod.as_str(), web_dev.as_str()];
    expected.sort();
    assert_eq!(ids, expected, "the target selects the two web agents, not {db}");
    for a in &expected {
        assert_eq!(agent_status(&r, a), "collected");
        let agent = r["agents"].as_array().unwrap().iter().find(|x| x["agent_id"] == *a).unwrap();
        let runtime = agent["telemetry"].as_array().unwrap().iter().find(|t| t["kind"] == "runtime").unwrap();
        assert!(runtime["count"].as_u64().unwrap() >= 1, "samples were taken during the run: {agent}");
    }

    let findings = f.findings(&run);
    assert!(!findings.is_empty());
    for a in &expected {
        let mine: Vec<_> = findings.iter().filter(|x| x["agent_id"] == *a).collect();
        assert!(mine.iter().any(|x| x["package"] == "best-practices"), "best-practices findings for {a}");
        assert!(
            mine.iter().any(|x| x["package"] == "runtime-behavior"),
            "runtime behaviour is evaluated from the samples (findings, or the no-issues finding) for {a}"
        );
        assert!(
            mine.iter().all(|x| x["package"] == "best-practices" || x["package"] == "runtime-behavior"),
            "cve is excluded, not reported"
        );
        for x in &mine {
            assert!(!x["evidence"].as_array().unwrap().is_empty(), "evidence: {x}");
            assert_eq!(x["user_attributes"], json!([{"key": "team", "value": "ops"}]));
            assert_eq!(x["asset"]["agent_id"], *a);
            assert!(x["numeric_severity"].is_number());
        }
    }
    assert!(findings.iter().all(|x| x["agent_id"] != db.as_str()));
    let counts = &r["finding_counts"];
    let total: u64 =
        ["Critical", "High", "Medium", "Low", "Informational"].iter().map(|s| counts[s].as_u64().unwrap()).sum();
    assert_eq!(total as usize, findings.len());
    let exclusions = r["exclusions"].as_array().unwrap();
    assert_eq!(exclusions.len(), 2, "cve (no --vulndb), for each agent: {exclusions:?}");
    assert!(exclusions.iter().any(|e| e["package"] == "cve" && e["reason"].as_str().unwrap().contains("--vulndb")));

    let metrics = f.raw("GET", "/metrics", &[], None);
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("warden_runs{state=\"COMPLETED\"} 1"), "{text}");
    assert!(text.contains("warden_agents{health=\"HEALTHY\"} 3"), "{text}");
    assert!(text.contains("route=\"/agent/v1/runs/{run}/telemetry\""));
    assert_eq!(f.raw("GET", "/readyz", &[], None).status, 200);
}

/// The fixture's instance search-1, which the test host plays.
const SEARCH_1: &str = "i-0a9e1f1ee7c4b3a28";

/// The address the test host's agent reports that search-1 is given.
fn test_host_ip() -> String {
    warden_agent::host_info()
        .ipv4_addresses
        .iter()
        .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.octets()[0] != 198))
        .expect("the test host needs a non-loopback IPv4 address outside 198.0.0.0/8 (the other instance's range)")
        .clone()
}

/// Another address in the test host's /24: search-1 moved away from the agent.
fn moved_ip(agent_ip: &str) -> String {
    let (net, last) = agent_ip.rsplit_once('.').unwrap();
    let last: u8 = last.parse().unwrap();
    format!("{net}.{}", if last == 250 { 251 } else { 250 })
}

/// The fixture network with the test host as instance search-1: the
/// template's placeholders become the host's address and its /24 and /16.
fn write_network(dir: &std::path::Path, agent_ip: &str) {
    let octets: Vec<&str> = agent_ip.split('.').collect();
    let subnet = format!("{}.{}.{}.0/24", octets[0], octets[1], octets[2]);
    let vpc = format!("{}.{}.0.0/16", octets[0], octets[1]);
    let from =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws/fleet-agent/999988887777/eu-west-1");
    let to = dir.join("999988887777/eu-west-1");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let text =
                text.replace("@AGENT_IP@", agent_ip).replace("@SUBNET_CIDR@", &subnet).replace("@VPC_CIDR@", &vpc);
            std::fs::write(to.join(path.file_name().unwrap()), text).unwrap();
        }
    }
}

/// Network Reachability in a fleet run (`warden serve --aws DIR`): the
/// agent is matched to instance search-1 by its address and gets that
/// instance's findings only, with the path and, from its own snapshot,
/// whether something listens (this test listens on 9200, nothing on 9300).
/// The folder is read again at the next run's evaluation: moved to another
/// address, the instance no longer matches and the agent is excluded, saying why.
#[test]
fn network_reachability_for_the_agents_own_instance() {
    let agent_ip = test_host_ip();
    let aws = tempfile::tempdir().unwrap();
    write_network(aws.path(), &agent_ip);
    // Something listens on 9200 (this listener, or whatever already holds the port) during the run.
    let _listener = std::net::TcpListener::bind("0.0.0.0:9200");
    let mut f = Fleet::start_with(&["--aws", aws.path().to_str().unwrap()], None);
    let agent = f.add_agent("search", "role=search");
    let run = f.start_run("search", json!([{"key": "role", "value": "search"}]), 3, &["network-reachability"]);
    let r = f.wait_run(&run);
    assert_eq!(r["state"], "COMPLETED", "{r:#}");
    assert_eq!(r["exclusions"], json!([]), "the agent matched an instance: {r:#}");
    let findings = f.findings(&run);
    let attr = |x: &serde_json::Value, k: &str| {
        x["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == k)
            .map(|a| a["value"].as_str().unwrap().to_string())
    };
    let port = |p: &str| {
        findings
            .iter()
            .find(|x| attr(x, "PORT").as_deref() == Some(p))
            .unwrap_or_else(|| panic!("a finding for port {p}: {findings:#?}"))
    };
    assert!(findings.iter().all(|x| x["agent_id"] == agent.as_str() && x["package"] == "network-reachability"));
    assert!(
        findings.iter().all(|x| attr(x, "INSTANCE_ID").as_deref() == Some(SEARCH_1)),
        "only the agent's own instance: {findings:#?}"
    );
    for (p, rule_type) in [("9200", "RecognizedPortWithListener"), ("9300", "RecognizedPortNoListener")] {
        let x = port(p);
        assert_eq!(attr(x, "RULE_TYPE").as_deref(), Some(rule_type), "{x:#}");
        assert_eq!(attr(x, "REACHABILITY_TYPE").as_deref(), Some("Internet"));
        assert_eq!(attr(x, "PORT_GROUP_NAME").as_deref(), Some("Elasticsearch"));
        assert_eq!(attr(x, "PROTOCOL").as_deref(), Some("TCP"));
        for (k, v) in [
            ("VPC", "vpc-0a9e1f1ee7c4b3a21"),
            ("SUBNET", "subnet-0a9e1f1ee7c4b3a22"),
            ("ENI", "eni-0a9e1f1ee7c4b3a27"),
            ("ACL", "acl-0a9e1f1ee7c4b3a25"),
            ("ROUTE_TABLE", "rtb-0a9e1f1ee7c4b3a24"),
            ("SECURITY_GROUP", "sg-0a9e1f1ee7c4b3a26"),
            ("IGW", "igw-0a9e1f1ee7c4b3a23"),
        ] {
            assert_eq!(attr(x, k).as_deref(), Some(v), "{k} of {x:#}");
        }
        assert_eq!(x["asset"]["agent_id"], agent.as_str());
        assert!(!x["evidence"].as_array().unwrap().is_empty(), "{x:#}");
    }
    assert!(attr(port("9200"), "PROCESS").is_some_and(|p| !p.is_empty()), "the listening process is named");

    // The folder changes: search-1 now has another address, read at the next evaluation.
    write_network(aws.path(), &moved_ip(&agent_ip));
    let template = r["template_id"].as_str().unwrap();
    let second = f.ok("POST", "/v1/runs", Some(json!({"template_id": template})))["id"].as_str().unwrap().to_string();
    let r = f.wait_run(&second);
    assert_eq!(r["state"], "COMPLETED", "{r:#}");
    assert!(f.findings(&second).is_empty());
    let exclusions = r["exclusions"].as_array().unwrap();
    assert_eq!(exclusions.len(), 1, "{exclusions:?}");
    assert_eq!(exclusions[0]["package"], "network-reachability");
    let reason = exclusions[0]["reason"].as_str().unwrap();
    assert!(reason.contains(&agent_ip) && reason.contains("no instance"), "{reason}");
}

/// `warden target ...` against the fleet's server; panics with its stderr on failure.
fn target_cli(f: &Fleet, args: &[&str]) -> String {
    let out = std::process::Command::new(fleet::WARDEN)
        .arg("target")
        .args(args)
        .args(["--server", &f.url, "--token", &f.token])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "warden target {args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Target and template of one network-reachability run over the `role=search` agent.
fn network_template(f: &Fleet) -> (String, String) {
    let target =
        f.ok("POST", "/v1/targets", Some(json!({"name": "search", "tags": [{"key": "role", "value": "search"}]})));
    let target = target["id"].as_str().unwrap().to_string();
    let template = f.ok(
        "POST",
        "/v1/templates",
        Some(json!({"target_id": target, "name": "net", "duration_seconds": 3, "packages": ["network-reachability"]})),
    );
    (target, template["id"].as_str().unwrap().to_string())
}

/// Runs the template; the findings, each of search-1 (the agent's instance).
fn network_run(f: &Fleet, template: &str) -> (serde_json::Value, Vec<serde_json::Value>) {
    let run = f.ok("POST", "/v1/runs", Some(json!({"template_id": template})))["id"].as_str().unwrap().to_string();
    let r = f.wait_run(&run);
    assert_eq!(r["state"], "COMPLETED", "{r:#}");
    (r, f.findings(&run))
}

fn instance_of(finding: &serde_json::Value) -> Option<&str> {
    let attrs = finding["attributes"].as_array()?;
    attrs.iter().find(|a| a["key"] == "INSTANCE_ID")?["value"].as_str()
}

/// Network Reachability from data uploaded for the target with the CLI, on
/// a server started WITHOUT `--aws`: the agent is matched to search-1 and
/// the evidence names the upload; cleared, the next run is excluded with
/// `no-network-data`.
#[test]
fn network_reachability_from_data_uploaded_for_the_target() {
    let agent_ip = test_host_ip();
    let aws = tempfile::tempdir().unwrap();
    write_network(aws.path(), &agent_ip);
    let mut f = Fleet::start();
    f.add_agent("search", "role=search");
    let (target, template) = network_template(&f);

    let loaded = target_cli(&f, &["network-load", &target, "--aws", aws.path().to_str().unwrap()]);
    assert!(loaded.contains(&format!("target {target}: ")) && loaded.contains("2 instances"), "{loaded}");
    let shown: serde_json::Value = serde_json::from_str(&target_cli(&f, &["network-show", &target, "--json"])).unwrap();
    assert_eq!(shown["instances"], 2, "{shown:#}");
    let sha = shown["sha256"].as_str().unwrap().to_string();

    let (r, findings) = network_run(&f, &template);
    assert_eq!(r["exclusions"], json!([]), "the agent matched an instance: {r:#}");
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|x| instance_of(x) == Some(SEARCH_1)), "{findings:#?}");
    let evidence = findings[0]["evidence"].to_string();
    assert!(
        evidence.contains(&format!("network description: uploaded for target {target} (sha256 {sha}")),
        "{evidence}"
    );

    target_cli(&f, &["network-clear", &target]);
    let (status, _) = f.api("GET", &format!("/v1/targets/{target}/network"), None);
    assert_eq!(status, 404);
    let (r, findings) = network_run(&f, &template);
    assert!(findings.is_empty());
    let exclusions = r["exclusions"].as_array().unwrap();
    assert_eq!(exclusions.len(), 1, "{exclusions:?}");
    assert_eq!(exclusions[0]["kind"], "no-network-data", "{exclusions:?}");
    assert!(exclusions[0]["reason"].as_str().unwrap().contains("network-load"), "{exclusions:?}");
}

/// Uploaded data beats the server's `--aws` folder: the folder has search-1
/// at another address (no match), the upload at the agent's. Cleared, the
/// run falls back to the folder, and the exclusion names it.
#[test]
fn uploaded_network_data_beats_the_servers_folder() {
    let agent_ip = test_host_ip();
    let (folder, upload) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_network(folder.path(), &moved_ip(&agent_ip));
    write_network(upload.path(), &agent_ip);
    let mut f = Fleet::start_with(&["--aws", folder.path().to_str().unwrap()], None);
    f.add_agent("search", "role=search");
    let (target, template) = network_template(&f);
    target_cli(&f, &["network-load", &target, "--aws", upload.path().to_str().unwrap()]);

    let (r, findings) = network_run(&f, &template);
    assert_eq!(r["exclusions"], json!([]), "matched in the upload, not the folder: {r:#}");
    assert!(!findings.is_empty() && findings.iter().all(|x| instance_of(x) == Some(SEARCH_1)), "{findings:#?}");

    target_cli(&f, &["network-clear", &target]);
    let (r, findings) = network_run(&f, &template);
    assert!(findings.is_empty());
    let reason = r["exclusions"][0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains(&agent_ip) && reason.contains("no instance"), "{reason}");
    assert!(reason.contains(&format!("network description: --aws {}", folder.path().display())), "{reason}");
}

/// A wrong `--aws` folder stops the server at start, naming the option.
#[test]
fn serve_refuses_an_unreadable_aws_folder() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder");
    let out = std::process::Command::new(fleet::WARDEN)
        .args(["serve", "--listen", "127.0.0.1:0", "--aws"])
        .arg(&missing)
        .env("WARDEN_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--aws") && stderr.contains("no-such-folder"), "{stderr}");
}

/// Stop early evaluates what was collected; cancel ends CANCELED without findings.
#[test]
fn stop_early_and_cancel() {
    let mut f = Fleet::start();
    let a = f.add_agent("a", "role=app");
    let run = f.start_run("app", json!([{"key": "role"}]), 3600, &["best-practices"]);
    f.wait_collecting(&run);
    let stopped = f.ok("POST", &format!("/v1/runs/{run}/stop"), Some(json!({"action": "START_EVALUATION"})));
    assert_eq!(stopped["stop_action"], "START_EVALUATION");
    let r = f.wait_run(&run);
    assert_eq!(states(&r), FULL_SEQUENCE);
    assert_eq!(agent_status(&r, &a), "collected");
    assert!(!f.findings(&run).is_empty(), "what was collected is evaluated");

    let template = r["template_id"].as_str().unwrap();
    let second = f.ok("POST", "/v1/runs", Some(json!({"template_id": template})))["id"].as_str().unwrap().to_string();
    f.wait_collecting(&second);
    f.ok("POST", &format!("/v1/runs/{second}/stop"), Some(json!({"action": "SKIP_EVALUATION"})));
    let r = f.wait_run(&second);
    assert_eq!(r["state"], "CANCELED");
    assert_eq!(states(&r).last().unwrap(), "CANCELED");
    assert!(f.findings(&second).is_empty(), "a canceled run has no findings");
    let (status, body) = f.api("POST", &format!("/v1/runs/{second}/stop"), None);
    assert_eq!(status, 409, "an ended run cannot be stopped: {body}");
    // The agent is told to stop, and drops the run.
    wait_for(Duration::from_secs(30), || {
        let agent = f.ok("GET", &format!("/v1/agents/{a}"), None);
        (agent["health_code"] == "IDLE").then_some(())
    });
}

/// An agent killed mid-run stops reporting: the run ends COMPLETED_WITH_ERRORS,
/// the killed agent timed out, the other evaluated.
#[test]
fn an_agent_killed_mid_run_completes_with_errors() {
    let mut f = Fleet::start();
    let alive = f.add_agent("alive", "fleet=x");
    let doomed = f.add_agent("doomed", "fleet=x");
    let run = f.start_run("x", json!([{"key": "fleet", "value": "x"}]), 10, &["best-practices"]);
    f.wait_collecting(&run);
    f.kill_agent(&doomed);
    let r = f.wait_run(&run);
    assert_eq!(r["state"], "COMPLETED_WITH_ERRORS", "{r:#}");
    assert_eq!(agent_status(&r, &alive), "collected");
    assert_eq!(agent_status(&r, &doomed), "timed_out");
    assert!(r["failure"].as_str().unwrap().contains(&doomed));
    let findings = f.findings(&run);
    assert!(findings.iter().any(|x| x["agent_id"] == alive.as_str()));
    let dead = f.ok("GET", &format!("/v1/agents/{doomed}"), None);
    assert_eq!(dead["health"], "UNHEALTHY");
}

/// The server is killed with SIGKILL mid-run and restarted: the run
/// completes, and every document each agent produced was stored.
#[test]
fn a_server_killed_mid_run_resumes_and_loses_no_telemetry() {
    let mut f = Fleet::start();
    let a = f.add_agent("a", "dur=1");
    let b = f.add_agent("b", "dur=1");
    let run = f.start_run("dur", json!([{"key": "dur"}]), 14, &["best-practices"]);
    f.wait_collecting(&run);
    f.kill_server();
    // Agents keep sampling and spool while the server is down.
    std::thread::sleep(Duration::from_secs(6));
    f.restart_server();
    let r = f.wait_run(&run);
    assert_eq!(states(&r), FULL_SEQUENCE, "{r:#}");
    for id in [&a, &b] {
        assert_eq!(agent_status(&r, id), "collected");
        let agent = r["agents"].as_array().unwrap().iter().find(|x| x["agent_id"] == id.as_str()).unwrap();
        let received: u64 = agent["telemetry"].as_array().unwrap().iter().map(|t| t["count"].as_u64().unwrap()).sum();
        let produced = agent["reported_last_seq"].as_u64().unwrap() + 1;
        assert_eq!(received, produced, "every document the agent produced is stored: {agent}");
        assert!(produced >= 4, "samples taken while the server was down were delivered: {agent}");
    }
}

/// A target that selects nobody fails the run at once.
#[test]
fn a_run_without_agents_fails() {
    let f = Fleet::start();
    let run = f.start_run("empty", json!([{"key": "nobody"}]), 5, &["best-practices"]);
    let r = f.wait_run(&run);
    assert_eq!(states(&r), ["CREATED", "FAILED"]);
    assert!(r["failure"].as_str().unwrap().contains("selects no enrolled agent"));
}

/// TLS end to end: `--init-tls` makes a CA and a server certificate, the
/// server serves HTTPS, the agent pins the CA and completes a run; a client
/// trusting only the public roots is refused by the handshake.
#[test]
fn tls_with_a_pinned_ca() {
    let certs = tempfile::tempdir().unwrap();
    let out =
        std::process::Command::new(fleet::WARDEN).args(["serve", "--init-tls"]).arg(certs.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(certs.path().join("server.key")).unwrap().permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);
    let again =
        std::process::Command::new(fleet::WARDEN).args(["serve", "--init-tls"]).arg(certs.path()).output().unwrap();
    assert!(!again.status.success(), "existing certificates are never overwritten");

    let cert = certs.path().join("server.pem").display().to_string();
    let key = certs.path().join("server.key").display().to_string();
    let mut f = Fleet::start_with(&["--tls-cert", &cert, "--tls-key", &key], Some(certs.path().join("ca.pem")));
    assert!(f.url.starts_with("https://127.0.0.1:"), "{}", f.url);
    let a = f.add_agent("tls", "tls=yes");
    let run = f.start_run("tls", json!([{"key": "tls"}]), 3, &["best-practices"]);
    let r = f.wait_run(&run);
    assert_eq!(r["state"], "COMPLETED", "{r:#}");
    assert_eq!(agent_status(&r, &a), "collected");

    let public_roots = warden_agent::http::client(None, Duration::from_secs(10)).unwrap();
    let refused = warden_agent::http::send(&public_roots, "GET", &format!("{}/healthz", f.url), &[], None);
    assert!(refused.is_err(), "an unpinned client does not trust the private CA");
}
