//! `/v1/targets/{id}/network` through the real router over a real SQLite
//! store, with the real describe-* fixtures of `tests/fixtures/aws/`; and the
//! description a run of the target is evaluated against (uploaded beats
//! `--aws`). Nothing is mocked.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::reports::tests::{admin_token, state_in};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws").join(name)
}

/// `{"files": {...}}` of every file under a fixture folder.
fn fixture_body(name: &str) -> Vec<u8> {
    fn walk(root: &Path, dir: &Path, files: &mut serde_json::Map<String, Value>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else if path.extension().is_some_and(|e| e == "json") {
                let rel = path.strip_prefix(root).unwrap().to_str().unwrap().to_string();
                files.insert(rel, serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap());
            }
        }
    }
    let mut files = serde_json::Map::new();
    walk(&fixture(name), &fixture(name), &mut files);
    serde_json::to_vec(&json!({ "files": files })).unwrap()
}

/// One request through the real router: (status, JSON answer or Null).
pub(crate) async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Vec<u8>,
    content_length: Option<usize>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(n) = content_length {
        req = req.header("content-length", n.to_string());
    }
    let resp = crate::router(state.clone()).oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn target(state: &AppState, name: &str) -> String {
    state.store.create_target(name, None, &[], now_ms()).unwrap().id
}

/// A server state in a temporary folder (kept while the first value lives),
/// its admin token, a target and the target's network route.
fn server_with_target() -> (tempfile::TempDir, AppState, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let state = state_in(dir.path());
    let token = admin_token(&state);
    let t = target(&state, "web");
    let uri = format!("/v1/targets/{t}/network");
    (dir, state, token, t, uri)
}

#[tokio::test]
async fn upload_show_replace_and_clear() {
    let (_dir, state, token, t, uri) = server_with_target();

    // moto-world: real moto output under <account>/<region>/.
    let expected = warden_netreach::load::load_dir(&fixture("moto-world")).unwrap();
    let (status, v) = call(&state, "PUT", &uri, Some(&token), fixture_body("moto-world"), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["target_id"], t.as_str());
    assert_eq!(v["files"], 20);
    assert_eq!(v["instances"], expected.network.instances.len());
    assert_eq!(v["network_interfaces"], expected.network.interfaces.len());
    assert_eq!(v["warnings"].as_array().unwrap().len(), expected.network.warnings.len());
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    assert!(v["bytes"].as_u64().unwrap() > v["stored_bytes"].as_u64().unwrap(), "stored compressed: {v}");
    assert!(v["uploaded"].as_str().unwrap().ends_with('Z'));
    let (status, shown) = call(&state, "GET", &uri, Some(&token), vec![], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown, v);

    // The same files with other whitespace hash the same.
    let reformatted: Value = serde_json::from_slice(&fixture_body("moto-world")).unwrap();
    let pretty = serde_json::to_vec_pretty(&reformatted).unwrap();
    let (_, again) = call(&state, "PUT", &uri, Some(&token), pretty, None).await;
    assert_eq!(again["sha256"], v["sha256"]);

    // Another upload replaces it; warnings are answered, not refused.
    let handmade = warden_netreach::load::load_dir(&fixture("handmade")).unwrap();
    assert!(!handmade.network.warnings.is_empty());
    let (status, replaced) = call(&state, "PUT", &uri, Some(&token), fixture_body("handmade"), None).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_ne!(replaced["sha256"], v["sha256"]);
    assert_eq!(replaced["instances"], handmade.network.instances.len());
    assert_eq!(replaced["warnings"].as_array().unwrap().len(), handmade.network.warnings.len());
    assert!(replaced["warnings"][0]["message"].is_string());
    let (_, shown) = call(&state, "GET", &uri, Some(&token), vec![], None).await;
    assert_eq!(shown["sha256"], replaced["sha256"]);

    let (status, _) = call(&state, "DELETE", &uri, Some(&token), vec![], None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = call(&state, "GET", &uri, Some(&token), vec![], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(v["error"]["message"].as_str().unwrap().contains("no network data"), "{v}");
    let (status, _) = call(&state, "DELETE", &uri, Some(&token), vec![], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admin_token_required_and_unknown_targets_are_404() {
    let (_dir, state, token, t, uri) = server_with_target();
    for method in ["PUT", "GET", "DELETE"] {
        let (status, _) = call(&state, method, &uri, None, fixture_body("handmade"), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} without a token");
        let (status, _) = call(&state, method, &uri, Some("wdn_adm_wrong"), fixture_body("handmade"), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} with a wrong token");
        let (status, v) =
            call(&state, method, "/v1/targets/0-missing0/network", Some(&token), fixture_body("handmade"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} of an unknown target: {v}");
    }
    assert_eq!(state.store.get_target_network(&t).unwrap(), None, "nothing was stored without the token");
}

#[tokio::test]
async fn bad_bundles_are_400_naming_what_is_wrong() {
    let (_dir, state, token, t, uri) = server_with_target();
    let cases: Vec<(&[u8], &str)> = vec![
        (b"{\"files\": {\"a.json\": {\"Vpcs\": [", "invalid JSON body"),
        (b"", "empty body"),
        (b"{\"files\": {}}", "the bundle is empty"),
        (b"{\"file\": {}}", "unknown field"),
        (b"{\"files\": {\"x/vpcs.json\": \"{\\\"Vpcs\\\": []}\"}}", "files[\"x/vpcs.json\"]: not a JSON object"),
        (b"{\"files\": {\"x/list.json\": [1, 2]}}", "files[\"x/list.json\"]: not a JSON object"),
        (b"{\"files\": {\"../vpcs.json\": {\"Vpcs\": []}}}", "files[\"../vpcs.json\"]"),
        (b"{\"files\": {\"vpcs.txt\": {\"Vpcs\": []}}}", "files[\"vpcs.txt\"]: only *.json"),
        (b"{\"files\": {\"a.json\": {\"Vpcs\": []}, \"a.json\": {\"Subnets\": []}}}", "given twice"),
        (b"{\"files\": {\"s3.json\": {\"Buckets\": []}}}", "no file holds a recognised describe-* list"),
    ];
    for (body, needle) in cases {
        let (status, v) = call(&state, "PUT", &uri, Some(&token), body.to_vec(), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {v}", String::from_utf8_lossy(body));
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    assert_eq!(state.store.get_target_network(&t).unwrap(), None);
}

#[tokio::test]
async fn the_upload_limit_is_its_own() {
    let (_dir, state, token, _, uri) = server_with_target();
    // Over the global 1 MiB, under 64 MiB: accepted.
    let padding = "x".repeat(3 << 20);
    let body = serde_json::to_vec(&json!({"files": {"vpcs.json": {"Vpcs": [], "NextToken": padding}}})).unwrap();
    let len = body.len();
    let (status, v) = call(&state, "PUT", &uri, Some(&token), body, Some(len)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Declared over 64 MiB: 413 before the body is read.
    let (status, v) = call(&state, "PUT", &uri, Some(&token), vec![], Some(NETWORK_BODY_LIMIT + 1)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    // Sent over 64 MiB without a declared length: cut at the limit, 413.
    let huge = vec![b' '; NETWORK_BODY_LIMIT + 1];
    let (status, _) = call(&state, "PUT", &uri, Some(&token), huge, None).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Other routes keep 1 MiB.
    let (status, _) = call(&state, "POST", "/v1/targets", Some(&token), vec![], Some(2 << 20)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn deleting_the_target_deletes_its_network_data() {
    let (_dir, state, token, t, _) = server_with_target();
    let (status, _) =
        call(&state, "PUT", &format!("/v1/targets/{t}/network"), Some(&token), fixture_body("handmade"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&state, "DELETE", &format!("/v1/targets/{t}"), Some(&token), vec![], None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(state.store.get_target_network(&t).unwrap(), None);
    let again = target(&state, "web");
    let (status, _) = call(&state, "GET", &format!("/v1/targets/{again}/network"), Some(&token), vec![], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_run_uses_the_upload_before_the_servers_folder() {
    let (_dir, state, token, t, _) = server_with_target();
    let store = state.store.as_ref();
    let moto = fixture("moto-world");

    // Nothing uploaded: the server's folder, named as such.
    let NetworkDescription::Loaded { source, analysis } = NetworkDescription::for_target(store, &t, Some(&moto)) else {
        panic!("the --aws folder loads")
    };
    assert_eq!(source, format!("--aws {}", moto.display()));
    assert!(analysis.network.instances.contains_key("i-9ff9ec716ae40311d"));
    assert!(matches!(NetworkDescription::for_target(store, &t, None), NetworkDescription::NotConfigured));

    // Uploaded: that, whatever the folder holds.
    let (_, v) =
        call(&state, "PUT", &format!("/v1/targets/{t}/network"), Some(&token), fixture_body("handmade"), None).await;
    let NetworkDescription::Loaded { source, analysis } = NetworkDescription::for_target(store, &t, Some(&moto)) else {
        panic!("the upload loads")
    };
    let sha = v["sha256"].as_str().unwrap();
    assert!(source.starts_with(&format!("uploaded for target {t} (sha256 {sha}, at ")), "{source}");
    let handmade = warden_netreach::load::load_dir(&fixture("handmade")).unwrap();
    assert_eq!(analysis.network, handmade.network, "the upload is loaded as load_dir loads the folder");
    // Another target still gets the folder.
    let other = target(&state, "db");
    let NetworkDescription::Loaded { source, .. } = NetworkDescription::for_target(store, &other, Some(&moto)) else {
        panic!()
    };
    assert!(source.starts_with("--aws "));
}
