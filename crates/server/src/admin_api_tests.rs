//! `POST /v1/targets` with tags through the real router over a real SQLite
//! store (nothing mocked): a target refused for a taken name or a limit
//! leaves no resource group behind, so later targets with tags still fit
//! under `--limit-resource-groups`.

use serde_json::{Value, json};

use super::*;
use crate::reports::tests::admin_token;
use crate::target_network::api_tests::call;
use crate::{ServerConfig, prepare};

/// A server state in a temporary folder (kept while the first value lives)
/// with `limits`, and its admin token.
fn server_with_limits(limits: warden_store::Limits) -> (tempfile::TempDir, AppState, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().join("warden.db"));
    config.limits = limits;
    let state = prepare(config).unwrap();
    let token = admin_token(&state);
    (dir, state, token)
}

async fn post_target(state: &AppState, token: &str, name: &str, tag: &str) -> (StatusCode, Value) {
    let body = json!({ "name": name, "tags": [{ "key": "role", "value": tag }] });
    call(state, "POST", "/v1/targets", Some(token), serde_json::to_vec(&body).unwrap(), None).await
}

/// With room for 2 groups: a refused duplicate name must not use one up,
/// so the second distinct target with tags is still accepted.
#[tokio::test]
async fn taken_name_leaves_no_resource_group() {
    let (_dir, state, token) =
        server_with_limits(warden_store::Limits { resource_groups: 2, ..warden_store::Limits::UNLIMITED });

    let (status, web) = post_target(&state, &token, "web", "web").await;
    assert_eq!(status, StatusCode::CREATED, "{web}");
    assert_eq!(web["tags"], json!([{ "key": "role", "value": "web" }]));

    let (status, err) = post_target(&state, &token, "web", "web").await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(err.to_string().contains("already taken"), "{err}");

    let (status, db) = post_target(&state, &token, "db", "db").await;
    assert_eq!(status, StatusCode::CREATED, "the refused target used no group: {db}");

    let (status, err) = post_target(&state, &token, "cache", "cache").await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(err.to_string().contains("--limit-resource-groups"), "the group limit of 2 is reached: {err}");
    let (_, targets) = call(&state, "GET", "/v1/targets", Some(&token), vec![], None).await;
    assert_eq!(targets.as_array().unwrap().len(), 2, "{targets}");
}

/// With room for 1 target and 2 groups: the target refused at the target
/// limit takes its group with it, so after deleting the first target a new
/// one with tags fits (a group was left behind by the deleted target only).
#[tokio::test]
async fn target_limit_refusal_leaves_no_resource_group() {
    let (_dir, state, token) =
        server_with_limits(warden_store::Limits { targets: 1, resource_groups: 2, ..warden_store::Limits::UNLIMITED });

    let (status, web) = post_target(&state, &token, "web", "web").await;
    assert_eq!(status, StatusCode::CREATED, "{web}");
    let (status, err) = post_target(&state, &token, "db", "db").await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(err.to_string().contains("--limit-targets"), "{err}");

    let uri = format!("/v1/targets/{}", web["id"].as_str().unwrap());
    let (status, _) = call(&state, "DELETE", &uri, Some(&token), vec![], None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, db) = post_target(&state, &token, "db", "db").await;
    assert_eq!(status, StatusCode::CREATED, "only the deleted target's group counts: {db}");
}
