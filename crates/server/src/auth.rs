//! Who is asking: operators by bearer token, agents by Ed25519 signature.
//!
//! Why this shape: the server must hold no secret that would let someone
//! impersonate an agent, so agents sign and the server keeps public keys.
//! A signature covers method, path, time, a nonce and the body's hash; the
//! time bounds replay to a window, and the nonce, remembered in the store for
//! that window, closes it (`docs/fleet/protocol.md`).

use axum::http::{HeaderMap, Method, Uri};
use warden_model::fleet::{
    AGENT_HEADER, MAX_CLOCK_SKEW_SECS, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signing_message,
};
use warden_store::{Agent, hex_encode, random_bytes, token_hash};

use crate::{ApiError, AppState, now_ms};

/// A new random secret: `prefix` and 64 hex digits (256 bits).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", hex_encode(&random_bytes::<32>()))
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex_encode(&sha2::Sha256::digest(bytes))
}

/// Decodes lowercase or uppercase hex.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

/// Checks the operator's `Authorization: Bearer TOKEN`.
pub async fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer TOKEN`"))?
        .trim()
        .to_string();
    let hash = token_hash(&token);
    if state.db(move |s| s.api_token_valid(&hash)).await? {
        Ok(())
    } else {
        Err(ApiError::unauthorized("unknown API token"))
    }
}

/// The signed headers of an agent request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// Agent id.
    pub agent_id: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// 32 hex digits.
    pub nonce: String,
    /// 64-byte signature.
    pub signature: Vec<u8>,
}

/// Parses the four signature headers; every malformed value is named.
pub fn parse_signed_headers(headers: &HeaderMap) -> Result<SignedHeaders, String> {
    let get = |name: &str| -> Result<&str, String> {
        headers
            .get(name)
            .ok_or_else(|| format!("missing header {name}"))?
            .to_str()
            .map_err(|_| format!("header {name} is not ASCII"))
    };
    let agent_id = get(AGENT_HEADER)?.to_string();
    if agent_id.is_empty() || agent_id.len() > 128 {
        return Err(format!("header {AGENT_HEADER}: not an agent id"));
    }
    let timestamp =
        get(TIMESTAMP_HEADER)?.parse::<i64>().map_err(|_| format!("header {TIMESTAMP_HEADER}: not unix seconds"))?;
    let nonce = get(NONCE_HEADER)?.to_string();
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("header {NONCE_HEADER}: expected 32 hex digits (128 bits)"));
    }
    let signature = hex_decode(get(SIGNATURE_HEADER)?)
        .filter(|s| s.len() == 64)
        .ok_or_else(|| format!("header {SIGNATURE_HEADER}: expected 128 hex digits (an Ed25519 signature)"))?;
    Ok(SignedHeaders { agent_id, timestamp, nonce: nonce.to_ascii_lowercase(), signature })
}

/// Whether `signature` is `public_key`'s Ed25519 signature of `message`.
pub fn signature_valid(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
    UnparsedPublicKey::new(&ED25519, public_key).verify(message, signature).is_ok()
}

/// Authenticates an agent request: headers well formed, clock within the
/// window, agent enrolled and not retired, signature valid, nonce unseen.
/// The nonce is remembered only after the signature checks, so nobody can
/// burn an agent's nonces.
pub async fn verify_agent(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Agent, ApiError> {
    let signed = parse_signed_headers(headers).map_err(ApiError::unauthorized)?;
    let now = now_ms();
    let skew = (now / 1000 - signed.timestamp).abs();
    if skew > MAX_CLOCK_SKEW_SECS {
        return Err(ApiError::unauthorized(format!(
            "request time is {skew} s away from the server clock (at most {MAX_CLOCK_SKEW_SECS} s)"
        )));
    }
    let id = signed.agent_id.clone();
    let agent = state
        .db(move |s| s.get_agent(&id))
        .await
        .map_err(|_| ApiError::unauthorized(format!("unknown agent {}", signed.agent_id)))?;
    if agent.retired_at.is_some() {
        return Err(ApiError::unauthorized(format!("agent {} is retired", agent.id)));
    }
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let message = signing_message(method.as_str(), path, signed.timestamp, &signed.nonce, &sha256_hex(body));
    if !signature_valid(&agent.public_key, message.as_bytes(), &signed.signature) {
        return Err(ApiError::unauthorized("bad signature"));
    }
    let (agent_id, nonce) = (agent.id.clone(), signed.nonce.clone());
    if !state.db(move |s| s.remember_nonce(&agent_id, &nonce, now)).await? {
        return Err(ApiError::unauthorized("replayed request: nonce already used"));
    }
    Ok(agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use proptest::prelude::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn headers_parse_and_name_what_is_wrong() {
        let sig = "ab".repeat(64);
        let nonce = "0f".repeat(16);
        let ok = headers(&[
            (AGENT_HEADER, "i-1"),
            (TIMESTAMP_HEADER, "17"),
            (NONCE_HEADER, &nonce),
            (SIGNATURE_HEADER, &sig),
        ]);
        let parsed = parse_signed_headers(&ok).unwrap();
        assert_eq!((parsed.timestamp, parsed.signature.len()), (17, 64));
        let missing = headers(&[(AGENT_HEADER, "i-1")]);
        assert!(parse_signed_headers(&missing).unwrap_err().contains(TIMESTAMP_HEADER));
        let short = headers(&[
            (AGENT_HEADER, "i-1"),
            (TIMESTAMP_HEADER, "17"),
            (NONCE_HEADER, "abc"),
            (SIGNATURE_HEADER, &sig),
        ]);
        assert!(parse_signed_headers(&short).unwrap_err().contains("32 hex"));
    }

    #[test]
    fn signatures_verify_only_for_the_signed_text() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let msg = signing_message("POST", "/agent/v1/heartbeat", 5, "00", &sha256_hex(b"{}"));
        let sig = key.sign(msg.as_bytes());
        assert!(signature_valid(key.public_key().as_ref(), msg.as_bytes(), sig.as_ref()));
        let other = signing_message("POST", "/agent/v1/heartbeat", 5, "00", &sha256_hex(b"{ }"));
        assert!(!signature_valid(key.public_key().as_ref(), other.as_bytes(), sig.as_ref()), "body changed");
        assert!(!signature_valid(&[0; 31], msg.as_bytes(), sig.as_ref()), "a malformed key never verifies");
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        assert_eq!(hex_decode("00ff10").unwrap(), vec![0, 255, 16]);
        assert!(hex_decode("0").is_none());
        assert!(hex_decode("zz").is_none());
        assert!(hex_decode("é1").is_none());
    }

    proptest! {
        #[test]
        fn header_parsing_never_panics(agent in ".{0,200}", ts in ".{0,30}", nonce in ".{0,40}", sig in ".{0,140}") {
            let mut h = HeaderMap::new();
            for (k, v) in [(AGENT_HEADER, agent), (TIMESTAMP_HEADER, ts), (NONCE_HEADER, nonce), (SIGNATURE_HEADER, sig)] {
                if let Ok(v) = v.parse() {
                    h.insert(k, v);
                }
            }
            let _ = parse_signed_headers(&h);
        }

        #[test]
        fn hex_decode_never_panics(s in ".{0,80}") {
            let _ = hex_decode(&s);
        }
    }
}
