//! End-to-end test pieces both the Inspector protocol crate's tests and the
//! server's tests need: an HTTP server on loopback (the Inspector API, a
//! webhook receiver), a topic map file, and an AWS CLI environment that holds
//! only the test's credentials.
//!
//! Why it lives here and is included by `#[path]`: `warden-server` depends on
//! `warden-inspector`, not the other way round, and a dev-only crate for four
//! functions would cost more than it saves. This file names nothing of either
//! crate, so each crate's test `common` module (and the server's unit-test
//! `inspector_backend::test_support`) includes it as it is.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// What a webhook receiver got: the headers and body of every POST, in order.
pub type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// Serves `app` on a fresh loopback port, on a thread and runtime of its own
/// (two workers: a blocking client in the test must not starve it); the
/// server lives until the test process exits.
pub fn serve_on_loopback(app: axum::Router) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// Starts a real HTTP receiver of `POST /hook` on loopback. Every request is
/// recorded in `received` and answered with `answer(n)`, `n` counting the
/// requests so far, this one included (so a test can fail the first delivery).
pub fn webhook_receiver(received: Received, answer: fn(usize) -> StatusCode) -> SocketAddr {
    serve_on_loopback(axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let received = received.clone();
            async move {
                let mut requests = received.lock().unwrap();
                requests.push((headers, body));
                answer(requests.len())
            }
        }),
    ))
}

/// Writes a one-topic map (mode 0600, as `TopicMap::load` demands) and returns its path.
pub fn write_topic_map(dir: &Path, topic_arn: &str, url: &str, secret: &str) -> PathBuf {
    let path = dir.join("topics.toml");
    std::fs::write(&path, format!("[[topic]]\narn = \"{topic_arn}\"\nurl = \"{url}\"\nsecret = \"{secret}\"\n"))
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// Makes the AWS CLI (and boto3) use only what the test gives it: no config
/// or credentials files (`home` is a temporary directory), no instance
/// metadata, one attempt per call. Keeps PATH and the Python environment the
/// CLI needs to start.
pub fn aws_cli_env(cmd: &mut Command, home: &Path, access_key_id: &str, secret: &str, session_token: Option<&str>) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_ACCESS_KEY_ID", access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret);
    if let Some(token) = session_token {
        cmd.env("AWS_SESSION_TOKEN", token);
    }
    for var in ["PYENV_ROOT", "PYENV_VERSION", "PYTHONPATH"] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
}
