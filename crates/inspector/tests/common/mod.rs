//! Shared pieces of the end-to-end tests: a signing client, a loopback
//! server, and the TEST DOUBLE backend.
//!
//! The backend here is a test double, on purpose: the store-backed backend
//! comes with the fleet store. It serves for real only what needs no store
//! (the rules-package catalogue) and a fixed list of template ARNs for
//! paging; every other operation answers `UnsupportedFeatureException`
//! naming the operation, which is what the conformance test uses to prove
//! that each operation reached its own backend method.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use warden_inspector::arn::ArnContext;
use warden_inspector::backend::{InspectorBackend, RequestContext};
use warden_inspector::credentials::CredentialStore;
use warden_inspector::error::ApiError;
use warden_inspector::paging::{ARN_PAGE, Pager};
use warden_inspector::router::{DEFAULT_BODY_LIMIT, InspectorService, router};
use warden_inspector::rules_packages::Catalogue;
use warden_inspector::sigv4::{SigV4Config, SignedRequest, authorization};
use warden_inspector::types::*;

// The webhook receiver, topic map and AWS CLI environment the server's tests share.
#[path = "../support/e2e_support.rs"]
mod e2e_support;
#[allow(unused_imports)] // a test binary uses only some of them
pub use e2e_support::*;

/// The test double (see the module comment).
pub struct DoubleBackend {
    pub pager: Pager,
    pub catalogue: Catalogue,
    pub templates: Vec<String>,
    /// Every call: operation name and request JSON as the backend received it.
    pub calls: Mutex<Vec<(String, Value)>>,
}

impl DoubleBackend {
    pub fn new(templates: usize) -> DoubleBackend {
        let ctx = ArnContext::new("us-east-1", "123456789012");
        let templates = (0..templates)
            .map(|i| format!("arn:aws:inspector:us-east-1:123456789012:target/0-TTTTTTTT/template/0-{i:08}"))
            .collect();
        DoubleBackend {
            pager: Pager::new(b"double paging key"),
            catalogue: Catalogue::new(&ctx),
            templates,
            calls: Mutex::new(Vec::new()),
        }
    }

    pub fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }

    fn serve(&self, operation: &str, request: Value) -> Result<Value, ApiError> {
        self.calls.lock().unwrap().push((operation.to_string(), request.clone()));
        match operation {
            "ListRulesPackages" => encode(self.catalogue.list(&self.pager, &decode(request)?)),
            "DescribeRulesPackages" => encode(Ok(self.catalogue.describe(&decode(request)?))),
            "ListAssessmentTemplates" => {
                let req: ListAssessmentTemplatesRequest = decode(request)?;
                let (page, next_token) = self.pager.page(
                    "ListAssessmentTemplates",
                    &req,
                    req.next_token.as_deref(),
                    req.max_results,
                    ARN_PAGE,
                    &self.templates,
                )?;
                encode(Ok(ListAssessmentTemplatesResponse { assessment_template_arns: page, next_token }))
            }
            other => Err(ApiError::UnsupportedFeature { message: format!("test double: {other} is not served") }),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::internal(e.to_string()))
}

fn encode<T: serde::Serialize>(v: Result<T, ApiError>) -> Result<Value, ApiError> {
    v.map(|r| serde_json::to_value(r).unwrap())
}

macro_rules! double_impl {
    ($(($op:ident, $method:ident, $req:ty, $resp:ty)),* $(,)?) => {
        impl InspectorBackend for DoubleBackend {
            $(
                async fn $method(&self, _ctx: &RequestContext, request: $req) -> Result<$resp, ApiError> {
                    let out = self.serve(stringify!($op), serde_json::to_value(&request).unwrap())?;
                    serde_json::from_value(out).map_err(|e| ApiError::internal(e.to_string()))
                }
            )*
        }
    };
}

warden_inspector::for_each_operation!(double_impl);

/// Requests as received, in `fake_inspector.py`'s log format
/// (`{method, path, headers: [[name, value]...], body}`).
pub type Capture = Arc<Mutex<Vec<Value>>>;

/// Serves `backend` on a fresh loopback port (on a thread of its own); the
/// server lives until the test process exits. Every request is recorded in `capture`.
pub fn serve(backend: Arc<DoubleBackend>, credentials: Arc<dyn CredentialStore>, capture: Capture) -> SocketAddr {
    let service = Arc::new(InspectorService {
        backend,
        credentials,
        sigv4: SigV4Config { region: Some("us-east-1".into()) },
        body_limit: DEFAULT_BODY_LIMIT,
    });
    let app = router(service).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let capture = capture.clone();
            async move {
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let headers: Vec<Value> = parts
                    .headers
                    .iter()
                    .map(|(n, v)| serde_json::json!([n.as_str(), v.to_str().unwrap_or("")]))
                    .collect();
                capture.lock().unwrap().push(serde_json::json!({
                    "method": parts.method.as_str(),
                    "path": parts.uri.to_string(),
                    "headers": headers,
                    "body": String::from_utf8_lossy(&bytes),
                }));
                next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
            }
        },
    ));
    serve_on_loopback(app)
}

/// Signs a request the way botocore does (header SigV4).
pub fn signed_headers(
    host: &str,
    target: &str,
    body: &[u8],
    akid: &str,
    secret: &str,
    amz_date: &str,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("content-type".to_string(), "application/x-amz-json-1.1".to_string()),
        ("host".to_string(), host.to_string()),
        ("x-amz-date".to_string(), amz_date.to_string()),
        ("x-amz-target".to_string(), target.to_string()),
    ];
    let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect(),
        body,
    };
    let auth = authorization(&req, &names, akid, secret, "us-east-1", amz_date);
    headers.push(("authorization".to_string(), auth));
    headers
}

/// Path of a fixture file.
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}
