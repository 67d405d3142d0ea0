//! The HTTP edge of the agent and the CLI: a blocking ureq client on rustls
//! (aws-lc-rs), optionally trusting only one CA, and request signing.
//!
//! Why blocking: the agent must stay small (no async runtime), and the CLI
//! makes one call at a time. Why a pinned CA: an agent talks to its own
//! server, so trusting the public roots would only widen who can answer.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use warden_model::fleet::{AGENT_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signing_message};

/// Largest answer read from a server.
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// What went wrong with a request.
#[derive(Debug)]
pub enum TransportError {
    /// Could not reach the server or the exchange broke (retry later).
    Unreachable(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Unreachable(m) => write!(f, "server unreachable: {m}"),
        }
    }
}

/// A response: status and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The server's error message, or the body as text.
    pub fn error_message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).trim().to_string())
    }
}

/// A blocking HTTP client. With `ca`, only that CA (PEM) is trusted;
/// otherwise the Mozilla roots.
pub fn client(ca: Option<&Path>, timeout: Duration) -> Result<ureq::Agent, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider);
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: cannot read CA: {e}", ca.display()))?;
        let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(format!("{}: no PEM certificate found", ca.display()));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
    }
    Ok(ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(timeout))
        .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent())
}

/// Sends a request; `headers` are added as given.
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Option<&[u8]>,
) -> Result<Response, TransportError> {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.unwrap_or_default().to_vec())
        .map_err(|e| TransportError::Unreachable(format!("bad request: {e}")))?;
    let resp = agent.run(req).map_err(|e| TransportError::Unreachable(e.to_string()))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .with_config()
        .limit(MAX_RESPONSE)
        .read_to_vec()
        .map_err(|e| TransportError::Unreachable(format!("reading the answer: {e}")))?;
    Ok(Response { status, body })
}

/// An agent identity that signs requests.
pub struct Signer {
    /// The agent id.
    pub agent_id: String,
    key: Ed25519KeyPair,
}

impl Signer {
    /// From a PKCS#8 Ed25519 key.
    pub fn new(agent_id: String, pkcs8: &[u8]) -> Result<Signer, String> {
        let key = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| format!("agent key unreadable: {e}"))?;
        Ok(Signer { agent_id, key })
    }

    /// A new key pair: (PKCS#8 document, public key).
    pub fn generate() -> Result<(Vec<u8>, Vec<u8>), String> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|e| format!("key generation failed: {e}"))?;
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| e.to_string())?;
        Ok((pkcs8.as_ref().to_vec(), key.public_key().as_ref().to_vec()))
    }

    /// The four authentication headers for `METHOD path` with `body`, at `now` (unix seconds).
    pub fn headers(&self, method: &str, path: &str, body: &[u8], now: i64) -> Vec<(&'static str, String)> {
        use sha2::Digest;
        let mut nonce = [0u8; 16];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random generator failed");
        let nonce = hex(&nonce);
        let message = signing_message(method, path, now, &nonce, &hex(&sha2::Sha256::digest(body)));
        let signature = hex(self.key.sign(message.as_bytes()).as_ref());
        vec![
            (AGENT_HEADER, self.agent_id.clone()),
            (TIMESTAMP_HEADER, now.to_string()),
            (NONCE_HEADER, nonce),
            (SIGNATURE_HEADER, signature),
        ]
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
