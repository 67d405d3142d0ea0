//! Security tests of the fleet server on loopback: unauthenticated, wrong
//! token, bad signature, replayed and skewed requests are refused; an agent
//! cannot write to a run it is not part of; malformed and oversized bodies get
//! a 4xx and the server keeps serving. The "agents" here are identities the
//! test enrolls itself (a real key pair, real enrollment), so it can forge
//! exactly the requests a hostile agent would send.

mod fleet;

use fleet::Fleet;
use serde_json::{Value, json};
use warden_agent::http::{Signer, hex, unix_now};

/// An enrolled identity whose key the test holds.
fn enroll(f: &Fleet, tags: Value) -> Signer {
    let (pkcs8, public) = Signer::generate().unwrap();
    let body = json!({"token": f.enroll_token(1), "public_key": hex(&public), "tags": tags});
    let r = f.raw("POST", "/agent/v1/enroll", &[], Some(&serde_json::to_vec(&body).unwrap()));
    assert_eq!(r.status, 200, "{}", r.error_message());
    let id = serde_json::from_slice::<Value>(&r.body).unwrap()["agent_id"].as_str().unwrap().to_string();
    Signer::new(id, &pkcs8).unwrap()
}

/// Sends only the head of a request declaring `length` body bytes and
/// returns the status the server answers with (0 when it waits for the body).
fn declared_oversize(f: &Fleet, path: &str, length: usize) -> u16 {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", f.port)).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(3))).unwrap();
    write!(
        tcp,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 64];
    let n = tcp.read(&mut head).unwrap_or(0);
    String::from_utf8_lossy(&head[..n]).split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn heartbeat_body() -> Vec<u8> {
    serde_json::to_vec(&json!({"activity": "idle"})).unwrap()
}

fn signed(f: &Fleet, s: &Signer, path: &str, body: &[u8]) -> warden_agent::http::Response {
    f.raw("POST", path, &s.headers("POST", path, body, unix_now()), Some(body))
}

#[test]
fn operators_need_a_valid_token() {
    let f = Fleet::start();
    assert_eq!(f.raw("GET", "/v1/agents", &[], None).status, 401, "unauthenticated");
    let wrong = [("authorization", "Bearer wdn_adm_0000".to_string())];
    assert_eq!(f.raw("GET", "/v1/agents", &wrong, None).status, 401, "wrong token");
    let basic = [("authorization", "Basic abc".to_string())];
    assert_eq!(f.raw("GET", "/v1/runs", &basic, None).status, 401);
    // A token made through the API works and is shown only once.
    let made = f.ok("POST", "/v1/api-tokens", Some(json!({"name": "ci"})));
    let theirs = [("authorization", format!("Bearer {}", made["token"].as_str().unwrap()))];
    assert_eq!(f.raw("GET", "/v1/agents", &theirs, None).status, 200);
    let db = std::fs::read(f.dir.path().join("warden.db")).unwrap();
    let token = made["token"].as_str().unwrap().as_bytes();
    assert!(!db.windows(token.len()).any(|w| w == token), "tokens are stored as hashes only");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(f.dir.path().join("admin.token")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn enrollment_needs_a_live_token() {
    let f = Fleet::start();
    let token = f.enroll_token(1);
    let body = |t: &str| serde_json::to_vec(&json!({"token": t, "public_key": "ab".repeat(32)})).unwrap();
    assert_eq!(f.raw("POST", "/agent/v1/enroll", &[], Some(&body(&token))).status, 200);
    assert_eq!(f.raw("POST", "/agent/v1/enroll", &[], Some(&body(&token))).status, 401, "one use only");
    assert_eq!(f.raw("POST", "/agent/v1/enroll", &[], Some(&body("wdn_enr_nope"))).status, 401);
    let bad_key = serde_json::to_vec(&json!({"token": f.enroll_token(1), "public_key": "zz"})).unwrap();
    assert_eq!(f.raw("POST", "/agent/v1/enroll", &[], Some(&bad_key)).status, 400);
}

#[test]
fn agent_requests_must_be_signed_fresh_and_unique() {
    let f = Fleet::start();
    let s = enroll(&f, json!({}));
    let path = "/agent/v1/heartbeat";
    let body = heartbeat_body();
    assert_eq!(f.raw("POST", path, &[], Some(&body)).status, 401, "unsigned");

    let headers = s.headers("POST", path, &body, unix_now());
    assert_eq!(f.raw("POST", path, &headers, Some(&body)).status, 200);
    let replay = f.raw("POST", path, &headers, Some(&body));
    assert_eq!(replay.status, 401, "replayed");
    assert!(replay.error_message().contains("replayed"));

    let other_body = serde_json::to_vec(&json!({"activity": "running"})).unwrap();
    let tampered = s.headers("POST", path, &body, unix_now());
    assert_eq!(f.raw("POST", path, &tampered, Some(&other_body)).status, 401, "body changed after signing");

    let old = s.headers("POST", path, &body, unix_now() - 3600);
    let r = f.raw("POST", path, &old, Some(&body));
    assert_eq!(r.status, 401, "an hour-old request");
    assert!(r.error_message().contains("server clock"));

    let (pkcs8, _) = Signer::generate().unwrap();
    let impostor = Signer::new(s.agent_id.clone(), &pkcs8).unwrap();
    let r = f.raw("POST", path, &impostor.headers("POST", path, &body, unix_now()), Some(&body));
    assert_eq!(r.status, 401, "signed by another key");
    assert_eq!(r.error_message(), "bad signature");

    f.ok("POST", &format!("/v1/agents/{}/retire", s.agent_id), None);
    assert_eq!(signed(&f, &s, path, &body).status, 401, "a retired agent is refused");
}

#[test]
fn an_agent_cannot_write_to_another_agents_run() {
    let f = Fleet::start();
    let member = enroll(&f, json!({"role": "web"}));
    let outsider = enroll(&f, json!({"role": "db"}));
    // Heartbeats make both healthy; the target selects only the member.
    for s in [&member, &outsider] {
        assert_eq!(signed(&f, s, "/agent/v1/heartbeat", &heartbeat_body()).status, 200);
    }
    let run = f.start_run("web", json!([{"key": "role", "value": "web"}]), 600, &["best-practices"]);
    fleet::wait_for(std::time::Duration::from_secs(30), || (f.run(&run)["state"] == "COLLECTING_DATA").then_some(()));
    let path = format!("/agent/v1/runs/{run}/telemetry");
    let doc = serde_json::to_vec(&json!({"seq": 0, "kind": "runtime", "body": {"x": 1}})).unwrap();
    let r = signed(&f, &outsider, &path, &doc);
    assert_eq!(r.status, 403, "{}", r.error_message());
    let ok = signed(&f, &member, &path, &doc);
    assert_eq!(ok.status, 200, "{}", ok.error_message());
    let again = signed(&f, &member, &path, &doc);
    assert_eq!(serde_json::from_slice::<Value>(&again.body).unwrap()["duplicate"], true, "resends are idempotent");
    // A signature made for one run's path does not open another's.
    let headers = member.headers("POST", &path, &doc, unix_now());
    assert_eq!(f.raw("POST", "/agent/v1/runs/0-AAAAAAAA/telemetry", &headers, Some(&doc)).status, 401);
    f.ok("POST", &format!("/v1/runs/{run}/stop"), Some(json!({"action": "SKIP_EVALUATION"})));
    assert_eq!(
        signed(&f, &member, &path, &serde_json::to_vec(&json!({"seq": 1, "kind": "runtime", "body": {}})).unwrap())
            .status,
        409,
        "a canceled run takes no telemetry"
    );
}

#[test]
fn malformed_and_oversized_bodies_get_4xx() {
    let f = Fleet::start();
    let s = enroll(&f, json!({}));
    let bad = b"{\"activity\": ".to_vec();
    let r = signed(&f, &s, "/agent/v1/heartbeat", &bad);
    assert_eq!(r.status, 400);
    assert!(r.error_message().contains("line 1 column"), "{}", r.error_message());
    assert_eq!(signed(&f, &s, "/agent/v1/heartbeat", br#"{"activity": "exec"}"#).status, 400, "unknown activity");
    assert_eq!(signed(&f, &s, "/agent/v1/heartbeat?wait=x", &heartbeat_body()).status, 400);
    assert_eq!(f.raw("POST", "/agent/v1/enroll", &[], Some(b"[]")).status, 400);
    assert_eq!(f.raw("POST", "/agent/v1/enroll", &[], Some(b"")).status, 400);
    let (status, body) = f.api("POST", "/v1/targets", Some(json!({"name": ""})));
    assert_eq!(status, 400, "{body}");
    let (status, _) = f.api(
        "POST",
        "/v1/templates",
        Some(json!({"target_id": "0-x", "name": "t", "duration_seconds": 0, "packages": ["best-practices"]})),
    );
    assert_eq!(status, 400);
    let (status, body) = f.api(
        "POST",
        "/v1/templates",
        Some(json!({"target_id": "0-x", "name": "t", "duration_seconds": 60, "packages": ["rm -rf"]})),
    );
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown package"));

    // Declared over the limit: answered 413 before the body is read.
    assert_eq!(declared_oversize(&f, "/agent/v1/heartbeat", 2 << 20), 413, "over 1 MiB");
    assert_eq!(declared_oversize(&f, "/agent/v1/enroll", 2 << 20), 413);
    assert_eq!(declared_oversize(&f, "/v1/targets", 2 << 20), 413);
    assert_eq!(declared_oversize(&f, "/agent/v1/runs/0-AAAAAAAA/telemetry", 17 << 20), 413, "over 16 MiB");
    assert_ne!(declared_oversize(&f, "/agent/v1/runs/0-AAAAAAAA/telemetry", 2 << 20), 413, "telemetry may be larger");
    // Still serving.
    assert_eq!(f.raw("GET", "/healthz", &[], None).status, 200);
    assert_eq!(signed(&f, &s, "/agent/v1/heartbeat", &heartbeat_body()).status, 200);
}
