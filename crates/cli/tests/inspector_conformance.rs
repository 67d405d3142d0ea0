//! Conformance of the REAL server (`warden serve`, store-backed backend,
//! real SQLite, keys from `warden apikey create`) with the Inspector model:
//! every operation is served for a minimal valid request (built from the
//! model: required members only), and a request missing any required member
//! is refused with the documented `errorCode`
//! (`crates/inspector/tests/fixtures/required_member_codes.txt`). Requests
//! are signed with SigV4 here and sent over loopback.

mod fleet;
mod inspector;

use std::path::Path;
use std::time::Duration;

use inspector::{Inspector, Options, REGION};
use serde_json::{Map, Value};
use warden_inspector::model::{ShapeId, ShapeKind, model};
use warden_inspector::sigv4::{SignedRequest, authorization};
use warden_inspector::timestamp::{format_amz_date, unix_now};

/// Signs and sends one request: (HTTP status, JSON answer or null).
fn call(h: &Inspector, operation: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string().into_bytes();
    let host = h.endpoint.trim_start_matches("http://").to_string();
    let target = format!("InspectorService.{operation}");
    let amz_date = format_amz_date(unix_now());
    let signed = [("host", host.as_str()), ("x-amz-date", amz_date.as_str()), ("x-amz-target", target.as_str())];
    let names: Vec<String> = signed.iter().map(|(n, _)| n.to_string()).collect();
    let req = SignedRequest { method: "POST", path: "/", query: "", headers: signed.to_vec(), body: &body };
    let auth = authorization(&req, &names, &h.access_key_id, &h.secret_access_key, REGION, &amz_date);
    let http = warden_agent::http::client(None, Duration::from_secs(60)).unwrap();
    let headers = [("x-amz-date", amz_date.clone()), ("x-amz-target", target), ("authorization", auth)];
    let resp = warden_agent::http::send(&http, "POST", &format!("{}/", h.endpoint), &headers, Some(&body))
        .unwrap_or_else(|e| panic!("{operation}: {e}\n--- server log ---\n{}", h.server_log()));
    let value = if resp.body.is_empty() { Value::Null } else { serde_json::from_slice(&resp.body).unwrap() };
    (resp.status, value)
}

/// A valid value of a shape with only its required members (at every depth).
fn minimal(id: ShapeId) -> Value {
    let m = model();
    match &m.shapes[id].kind {
        ShapeKind::Structure { members, .. } => Value::Object(
            members
                .iter()
                .filter(|mem| mem.required)
                .map(|mem| (mem.name.clone(), minimal(mem.shape)))
                .collect::<Map<_, _>>(),
        ),
        ShapeKind::List { member } => {
            let count = m.shapes[id].min.unwrap_or(1.0).max(1.0) as usize;
            Value::Array((0..count).map(|_| minimal(*member)).collect())
        }
        _ => m.sample(id),
    }
}

/// Removes the member at a path of `required_member_codes.txt`
/// (`filter.attributes.1.member.key`: names, 1-based list indexes).
fn remove_at(value: &mut Value, path: &str) {
    let parts: Vec<&str> = path.split('.').filter(|p| *p != "member").collect();
    let (last, parents) = parts.split_last().unwrap();
    let mut cur = value;
    for p in parents {
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get_mut(i - 1),
            Err(_) => cur.get_mut(*p),
        }
        .unwrap_or_else(|| panic!("{path}: no {p} in the request"));
    }
    cur.as_object_mut().unwrap().remove(*last).unwrap_or_else(|| panic!("{path}: no {last} to remove"));
}

/// Builds a request holding `path` (the minimal request may lack an optional parent, e.g. `filter`).
fn request_with(operation: &str, path: &str) -> Value {
    let m = model();
    let input = m.operation(operation).unwrap().input.unwrap();
    let mut body = minimal(input);
    let top = path.split('.').next().unwrap();
    if body.get(top).is_none() {
        let full = m.sample(input);
        body[top] = full[top].clone();
    }
    body
}

fn documented_codes() -> Vec<(String, String, String)> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../inspector/tests/fixtures/required_member_codes.txt");
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut p = l.split_whitespace();
            (p.next().unwrap().into(), p.next().unwrap().into(), p.next().unwrap().into())
        })
        .collect()
}

/// Every documented required member, removed from an otherwise valid
/// request: 400 `InvalidInputException` with the documented code, through
/// the real server's SigV4 and validation.
#[test]
fn a_request_missing_a_required_member_gets_the_documented_code() {
    let h = Inspector::start(Options::default());
    let codes = documented_codes();
    assert!(codes.len() >= 50, "the table lists every required member: {}", codes.len());
    for (operation, path, code) in codes {
        let mut body = request_with(&operation, &path);
        remove_at(&mut body, &path);
        let (status, reply) = call(&h, &operation, &body);
        let shown = format!("{operation} without {path}: {body} -> {status} {reply}");
        assert_eq!(status, 400, "{shown}");
        assert_eq!(reply["__type"], "com.amazonaws.inspector#InvalidInputException", "{shown}");
        assert_eq!(reply["errorCode"], code.as_str(), "{shown}");
        assert_eq!(reply["canRetry"], false, "{shown}");
    }
}

/// The operations served before the other areas land answer a minimal
/// request with something other than `UnsupportedFeatureException`.
#[test]
fn the_target_operations_are_served_by_the_real_server() {
    let h = Inspector::start(Options::default());
    for operation in [
        "CreateResourceGroup",
        "DescribeResourceGroups",
        "CreateAssessmentTarget",
        "DescribeAssessmentTargets",
        "ListAssessmentTargets",
        "UpdateAssessmentTarget",
        "DeleteAssessmentTarget",
        "ListRulesPackages",
        "DescribeRulesPackages",
    ] {
        let body = model().operation(operation).unwrap().input.map(minimal).unwrap_or(Value::Object(Map::new()));
        let (status, reply) = call(&h, operation, &body);
        assert_ne!(reply["__type"], "com.amazonaws.inspector#UnsupportedFeatureException", "{operation}: {reply}");
        assert!(status == 200 || reply["__type"].as_str().is_some_and(|t| t.starts_with("com.amazonaws.inspector#")));
    }
}

/// `POST /` has its own limit (256 KiB, Inspector's error shape), below the
/// fleet routes' 1 MiB: a declared oversize body (300 KiB, and 2 MiB, over
/// the fleet's limit too) is answered by the Inspector route before the body
/// is read or the signature checked; a signed small body is served.
#[test]
fn the_inspector_route_has_its_own_body_limit() {
    use std::io::{Read, Write};
    let h = Inspector::start(Options::default());
    for length in [300 * 1024, 2 << 20] {
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", h.fleet.port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            tcp,
            "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: InspectorService.CreateAssessmentTarget\r\n\
             Content-Type: application/x-amz-json-1.1\r\nContent-Length: {length}\r\n\r\n"
        )
        .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains("Exception") {
            match tcp.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{length} bytes: {answer}");
        assert!(answer.contains("RequestEntityTooLargeException"), "Inspector's shape, not the fleet's: {answer}");
    }
    let fits = serde_json::json!({"assessmentTargetName": "y".repeat(140)});
    let (status, reply) = call(&h, "CreateAssessmentTarget", &fits);
    assert_eq!(status, 200, "{reply}");
    assert!(reply["assessmentTargetArn"].is_string(), "{reply}");
}

/// All 37 operations: a minimal valid request gets an answer of the
/// model (200, or a modelled error such as `NoSuchEntityException` for the
/// made-up ARNs), never `UnsupportedFeatureException` or a 5xx.
#[test]
fn every_operation_is_served_by_the_real_server() {
    let h = Inspector::start(Options::default());
    let m = model();
    assert_eq!(m.operations.len(), 37);
    let mut unsupported = Vec::new();
    for op in &m.operations {
        let body = op.input.map(minimal).unwrap_or(Value::Object(Map::new()));
        let (status, reply) = call(&h, &op.name, &body);
        let kind = reply["__type"].as_str().unwrap_or("");
        if kind.ends_with("#UnsupportedFeatureException") || status >= 500 {
            unsupported.push(format!("{} {body} -> {status} {reply}", op.name));
        } else if status != 200 {
            assert!(
                kind.starts_with("com.amazonaws.inspector#"),
                "{}: not a modelled error: {status} {reply}",
                op.name
            );
        }
    }
    assert!(unsupported.is_empty(), "not served:\n{}\n--- server log ---\n{}", unsupported.join("\n"), h.server_log());
}
