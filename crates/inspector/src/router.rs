//! The HTTP face: one `POST /` route dispatched on `X-Amz-Target`.
//!
//! Why it exists: the AWS JSON 1.1 protocol is the same for every operation
//! (spec §1): authenticate (SigV4), pick the operation from
//! `X-Amz-Target: InspectorService.<Operation>`, validate the JSON body
//! against the model, call the backend, answer
//! `application/x-amz-json-1.1` with `x-amzn-RequestId`. Every refusal, from
//! an oversized body to a bad signature, leaves in the error shape SDKs parse.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use crate::backend::{InspectorBackend, RequestContext, dispatch};
use crate::credentials::CredentialStore;
use crate::error::ApiError;
use crate::model::{TARGET_PREFIX, model};
use crate::sigv4::{SigV4Config, SignedRequest, verify};
use crate::validate::check_request;

/// The media type of requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Default body limit: Inspector's largest request (a template with 50
/// rules-package ARNs and 10 attributes) is about 20 KB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// Everything the route needs: the backend, the key store and the settings.
pub struct InspectorService<B> {
    /// Serves the operations.
    pub backend: B,
    /// Looks up SigV4 keys.
    pub credentials: Arc<dyn CredentialStore>,
    /// SigV4 settings (accepted region).
    pub sigv4: SigV4Config,
    /// Largest accepted body, bytes.
    pub body_limit: usize,
}

/// The router: `POST /` for every operation.
pub fn router<B: InspectorBackend>(service: Arc<InspectorService<B>>) -> Router {
    Router::new().route("/", post(handle::<B>)).with_state(service)
}

/// A random UUID (v4) for `x-amzn-RequestId` and message ids.
pub fn request_id() -> String {
    let mut b = [0u8; 16];
    // Fails only when the OS has no randomness source at all.
    aws_lc_rs::rand::fill(&mut b).expect("system random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn reply(status: u16, body: Option<Value>, request_id: &str, error: Option<&ApiError>) -> Response {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Some(e) = error
        && let Ok(v) = HeaderValue::from_str(e.name())
    {
        headers.insert("x-amzn-errortype", v);
    }
    response
}

fn error_reply(e: &ApiError, request_id: &str) -> Response {
    reply(e.status(), Some(e.body()), request_id, Some(e))
}

async fn handle<B: InspectorBackend>(State(service): State<Arc<InspectorService<B>>>, request: Request) -> Response {
    let request_id = request_id();
    match serve(&service, request, &request_id).await {
        Ok(body) => reply(200, body, &request_id, None),
        Err(e) => error_reply(&e, &request_id),
    }
}

async fn serve<B: InspectorBackend>(
    service: &InspectorService<B>,
    request: Request,
    request_id: &str,
) -> Result<Option<Value>, ApiError> {
    let (parts, body) = request.into_parts();
    let too_large = ApiError::RequestTooLarge { limit: service.body_limit };
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > service.body_limit) {
        return Err(too_large);
    }
    let body = to_bytes(body, service.body_limit).await.map_err(|_| too_large)?;
    let headers: Vec<(&str, &str)> =
        parts.headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let signed = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body: &body,
    };
    let principal = verify(&signed, service.credentials.as_ref(), &service.sigv4, crate::timestamp::unix_now())?;

    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    let model = model();
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|name| model.operation(name))
        .ok_or_else(|| ApiError::UnknownOperation { target: target.to_string() })?;

    let json: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::InvalidInput {
            code: None,
            message: format!("request body is not valid JSON: {e}"),
        })?
    };
    check_request(model, operation, &json)?;
    let ctx = RequestContext { access_key_id: principal.access_key_id, request_id: request_id.to_string() };
    dispatch(&service.backend, &ctx, &operation.name, json).await
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_reply(&self, &request_id())
    }
}
