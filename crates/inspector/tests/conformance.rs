//! Conformance with the embedded model: every operation is dispatched to its
//! own backend method, every request and response shape round-trips through
//! the typed structs with the model's member names, and a request missing any
//! required member (at any depth) is refused with the documented code
//! (`tests/fixtures/required_member_codes.txt`, also in docs/inspector-api.md).
//! Requests go through the real router, signed with SigV4; the backend is the
//! test double of `common` (it needs no store for this).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;
use warden_inspector::backend::OPERATIONS;
use warden_inspector::credentials::StaticCredentials;
use warden_inspector::model::{ShapeId, ShapeKind, model};
use warden_inspector::router::{InspectorService, router};
use warden_inspector::sigv4::SigV4Config;
use warden_inspector::timestamp::{format_amz_date, unix_now};
use warden_inspector::types::*;
use warden_inspector::validate::{PathSeg, Violation, ViolationKind, error_code, path_text};

const AKID: &str = "AKIDCONFORMANCE";
const SECRET: &str = "conformance-secret";

fn app(body_limit: usize) -> (axum::Router, Arc<common::DoubleBackend>) {
    let backend = Arc::new(common::DoubleBackend::new(3));
    let service = Arc::new(InspectorService {
        backend: backend.clone(),
        credentials: Arc::new(StaticCredentials::new([(AKID, SECRET)])),
        sigv4: SigV4Config { region: Some("us-east-1".into()) },
        body_limit,
    });
    (router(service), backend)
}

async fn call(app: &axum::Router, target: &str, body: &[u8]) -> (u16, Value) {
    let headers = common::signed_headers("inspector.test", target, body, AKID, SECRET, &format_amz_date(unix_now()));
    let mut req = Request::post("/");
    for (n, v) in &headers {
        req = req.header(n, v);
    }
    let resp = app.clone().oneshot(req.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
}

fn op_input(name: &str) -> Value {
    let m = model();
    m.operation(name).unwrap().input.map(|i| m.sample(i)).unwrap_or(json!({}))
}

#[tokio::test]
async fn every_operation_is_dispatched_to_its_own_method() {
    let m = model();
    let mut names: Vec<&str> = m.operations.iter().map(|o| o.name.as_str()).collect();
    names.sort();
    assert_eq!(OPERATIONS, names.as_slice());
    let (app, backend) = app(1 << 20);
    for op in OPERATIONS {
        let body = op_input(op);
        let (status, reply) = call(&app, &format!("InspectorService.{op}"), body.to_string().as_bytes()).await;
        match *op {
            // The double serves these for real.
            "DescribeRulesPackages" => {
                assert_eq!(status, 200, "{op}: {reply}");
                assert_eq!(
                    reply,
                    json!({"rulesPackages": [], "failedItems": {"x": {"failureCode": "INVALID_ARN", "retryable": false}}})
                );
            }
            "ListRulesPackages" | "ListAssessmentTemplates" => {
                assert_eq!(status, 400, "{op}: {reply}"); // the sample's nextToken "x" was not issued here
                assert_eq!(reply["errorCode"], "INVALID_PAGINATION_TOKEN", "{op}: {reply}")
            }
            _ => {
                assert_eq!(status, 400, "{op}: {reply}");
                assert_eq!(reply["__type"], "com.amazonaws.inspector#UnsupportedFeatureException");
                assert_eq!(reply["message"], format!("test double: {op} is not served"));
            }
        }
        let calls = backend.calls();
        let (called, received) = calls.last().unwrap();
        assert_eq!(called, op);
        // The backend saw exactly what was sent: no member lost or renamed.
        assert_eq!(received, &body, "{op}");
    }
}

macro_rules! round_trips {
    ($(($op:ident, $method:ident, $req:ty, $resp:ty)),* $(,)?) => {
        /// Decodes and re-encodes a sample request and response of `op`.
        fn round_trip(op: &str, request: &Value, response: &Value) -> (Value, Value) {
            match op {
                $(
                    stringify!($op) => {
                        let req: $req = serde_json::from_value(request.clone()).unwrap_or_else(|e| panic!("{op} request: {e}"));
                        let resp: $resp = serde_json::from_value(response.clone()).unwrap_or_else(|e| panic!("{op} response: {e}"));
                        (serde_json::to_value(req).unwrap(), serde_json::to_value(resp).unwrap())
                    }
                )*
                _ => unreachable!("{op}"),
            }
        }
    };
}

warden_inspector::for_each_operation!(round_trips);

#[test]
fn typed_structs_carry_every_member_with_its_wire_name() {
    let m = model();
    for op in &m.operations {
        let request = op_input(&op.name);
        let response = op.output.map(|o| m.sample(o)).unwrap_or(Value::Null);
        let (req, resp) = round_trip(&op.name, &request, &response);
        assert_eq!(req, request, "{} request", op.name);
        assert_eq!(resp, response, "{} response", op.name);
    }
}

/// Paths (as member-name lists with list indices) of every required member
/// in a sample request, at any depth.
fn required_paths(id: ShapeId, prefix: &mut Vec<PathSeg>, out: &mut Vec<Vec<PathSeg>>) {
    let m = model();
    let shape = &m.shapes[id];
    match &shape.kind {
        ShapeKind::Structure { members, .. } => {
            for member in members {
                prefix.push(PathSeg::Member { name: member.name.clone(), container: shape.name.clone() });
                if member.required {
                    out.push(prefix.clone());
                }
                required_paths(member.shape, prefix, out);
                prefix.pop();
            }
        }
        ShapeKind::List { member } => {
            prefix.push(PathSeg::Index(0));
            required_paths(*member, prefix, out);
            prefix.pop();
        }
        _ => {}
    }
}

fn remove_at(value: &mut Value, path: &[PathSeg]) {
    let (last, parents) = path.split_last().unwrap();
    let mut cur = value;
    for seg in parents {
        cur = match seg {
            PathSeg::Member { name, .. } => cur.get_mut(name).unwrap(),
            PathSeg::Index(i) => cur.get_mut(*i).unwrap(),
            PathSeg::Key(k) => cur.get_mut(k).unwrap(),
        };
    }
    let PathSeg::Member { name, .. } = last else { panic!("required path ends in a member") };
    cur.as_object_mut().unwrap().remove(name);
}

#[tokio::test]
async fn a_request_missing_any_required_member_gets_the_documented_code() {
    // WARDEN_WRITE_REQUIRED_CODES=1 rewrites the table from what the server
    // answers (then review the diff: it is the documented contract).
    let rewrite = std::env::var_os("WARDEN_WRITE_REQUIRED_CODES").is_some();
    let mut written = String::from(
        "# Operation, path of a required request member, errorCode when it is missing.\n# Checked by tests/conformance.rs; documented in docs/inspector-api.md.\n",
    );
    let documented: BTreeMap<String, String> = std::fs::read_to_string(common::fixture("required_member_codes.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split_whitespace();
            let (op, path, code) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            (format!("{op} {path}"), code.to_string())
        })
        .collect();
    let (app, _) = app(1 << 20);
    let m = model();
    let mut seen = Vec::new();
    for op in &m.operations {
        let Some(input) = op.input else { continue };
        let mut paths = Vec::new();
        required_paths(input, &mut Vec::new(), &mut paths);
        for path in paths {
            let mut body = m.sample(input);
            remove_at(&mut body, &path);
            let (status, reply) =
                call(&app, &format!("InspectorService.{}", op.name), body.to_string().as_bytes()).await;
            let key = format!("{} {}", op.name, path_text(&path));
            if rewrite {
                written.push_str(&format!("{key} {}\n", reply["errorCode"].as_str().unwrap_or("-")));
                continue;
            }
            assert_eq!(status, 400, "{key}: {reply}");
            assert_eq!(reply["__type"], "com.amazonaws.inspector#InvalidInputException", "{key}");
            assert_eq!(reply["canRetry"], false, "{key}");
            let expected = documented
                .get(&key)
                .unwrap_or_else(|| panic!("{key} is not in required_member_codes.txt (got {})", reply["errorCode"]));
            assert_eq!(reply["errorCode"].as_str(), Some(expected.as_str()), "{key}: {reply}");
            assert!(
                reply["message"].as_str().unwrap().contains(&format!("Value null at '{}'", path_text(&path))),
                "{key}"
            );
            seen.push(key);
        }
    }
    if rewrite {
        std::fs::write(common::fixture("required_member_codes.txt"), written).unwrap();
        return;
    }
    assert_eq!(seen.len(), documented.len(), "required_member_codes.txt lists members the model does not require");
}

/// Every request member, at any depth, has a code when it is wrong (no
/// member falls through to an `InvalidInputException` without `errorCode`).
#[test]
fn every_request_member_has_an_error_code() {
    fn walk(id: ShapeId, path: &mut Vec<PathSeg>, missing: &mut Vec<String>) {
        let m = model();
        let shape = &m.shapes[id];
        match &shape.kind {
            ShapeKind::Structure { members, .. } => {
                for member in members {
                    path.push(PathSeg::Member { name: member.name.clone(), container: shape.name.clone() });
                    let v = Violation { path: path.clone(), kind: ViolationKind::WrongType, constraint: String::new() };
                    if error_code(&v).is_none() {
                        missing.push(path_text(path));
                    }
                    walk(member.shape, path, missing);
                    path.pop();
                }
            }
            ShapeKind::List { member } => {
                path.push(PathSeg::Index(0));
                walk(*member, path, missing);
                path.pop();
            }
            _ => {}
        }
    }
    let m = model();
    let mut missing = Vec::new();
    for op in &m.operations {
        if let Some(input) = op.input {
            walk(input, &mut Vec::new(), &mut missing);
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}

#[tokio::test]
async fn protocol_errors_have_aws_shapes() {
    let (app, _) = app(64);
    let (status, reply) = call(&app, "InspectorService.NoSuchOperation", b"{}").await;
    assert_eq!((status, reply["__type"].as_str()), (400, Some("com.amazon.coral.service#UnknownOperationException")));
    let (status, reply) = call(&app, "DynamoDB_20120810.ListTables", b"{}").await;
    assert_eq!((status, reply["__type"].as_str()), (400, Some("com.amazon.coral.service#UnknownOperationException")));
    let (status, reply) = call(&app, "InspectorService.ListFindings", b"{\"maxResults\": ").await;
    assert_eq!(status, 400);
    assert_eq!(reply["__type"], "com.amazonaws.inspector#InvalidInputException");
    assert!(reply["message"].as_str().unwrap().starts_with("request body is not valid JSON"), "{reply}");
    let (status, reply) = call(&app, "InspectorService.ListFindings", b"[1, 2]").await;
    assert_eq!((status, reply["__type"].as_str()), (400, Some("com.amazonaws.inspector#InvalidInputException")));
    let (status, reply) = call(&app, "InspectorService.ListFindings", &[b' '; 65]).await;
    assert_eq!(
        (status, reply["__type"].as_str()),
        (413, Some("com.amazon.coral.service#RequestEntityTooLargeException"))
    );
    // No Authorization header at all.
    let resp = app
        .clone()
        .oneshot(
            Request::post("/").header("x-amz-target", "InspectorService.ListFindings").body(Body::from("{}")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(resp.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");
    // Operations without an output shape answer 200 with an empty body:
    // checked through the double's ListRulesPackages instead (a real answer).
    let (status, reply) = call(&app, "InspectorService.ListRulesPackages", b"{}").await;
    assert_eq!(status, 200);
    assert_eq!(reply["rulesPackageArns"].as_array().unwrap().len(), 5);
}
