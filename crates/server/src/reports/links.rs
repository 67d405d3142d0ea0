//! Pre-signed download links of report files, like S3 pre-signed URLs: the
//! link itself is the credential, so any HTTP client can fetch the report
//! without SigV4, until the link expires.
//!
//! Why HMAC over (job, expiry): a link cannot be altered to name another
//! report or a later expiry without the key, and the key never leaves the
//! server (it is derived from the Inspector master key). Signatures are
//! compared in constant time (`aws_lc_rs::hmac::verify`).

use aws_lc_rs::hmac;

/// The label the signing key is derived under from the master key.
pub const SIGNING_KEY_LABEL: &str = "warden report links v1";

/// How long a link works: 15 minutes, as the console's S3 report links.
pub const LINK_TTL_SECONDS: i64 = 15 * 60;

/// Signs and checks report links.
pub struct LinkSigner {
    key: hmac::Key,
}

/// Why a link was refused (all are answered 403 without saying which).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// `expires` or `signature` missing or not in their shape.
    Malformed(&'static str),
    /// The expiry has passed.
    Expired,
    /// The signature does not match the job and expiry.
    BadSignature,
}

impl LinkSigner {
    /// A signer with the key derived from the Inspector master key.
    pub fn from_master(master: &warden_inspector::credentials::MasterKey) -> LinkSigner {
        LinkSigner::new(&master.derive(SIGNING_KEY_LABEL))
    }

    /// A signer with this key.
    pub fn new(key: &[u8; 32]) -> LinkSigner {
        LinkSigner { key: hmac::Key::new(hmac::HMAC_SHA256, key) }
    }

    fn message(job: &str, expires: i64) -> String {
        format!("GET /reports/{job}\nexpires={expires}")
    }

    /// The signature (lowercase hex) of a link to `job` valid until `expires` (unix seconds).
    pub fn sign(&self, job: &str, expires: i64) -> String {
        warden_store::hex_encode(hmac::sign(&self.key, Self::message(job, expires).as_bytes()).as_ref())
    }

    /// The link to `job` under `base_url`, valid until `expires`.
    pub fn url(&self, base_url: &str, job: &str, expires: i64) -> String {
        format!(
            "{}/reports/{job}?expires={expires}&signature={}",
            base_url.trim_end_matches('/'),
            self.sign(job, expires)
        )
    }

    /// Checks a link's query values at `now` (unix seconds).
    pub fn verify(
        &self,
        job: &str,
        expires: Option<&str>,
        signature: Option<&str>,
        now: i64,
    ) -> Result<(), LinkRefusal> {
        let expires = expires.ok_or(LinkRefusal::Malformed("expires is missing"))?;
        if expires.is_empty() || expires.len() > 12 || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LinkRefusal::Malformed("expires is not unix seconds"));
        }
        let expires: i64 = expires.parse().map_err(|_| LinkRefusal::Malformed("expires is not unix seconds"))?;
        let signature = signature.ok_or(LinkRefusal::Malformed("signature is missing"))?;
        let bytes = hex_decode(signature).ok_or(LinkRefusal::Malformed("signature is not 64 hex digits"))?;
        // The signature first: an expired link with a forged signature says "bad signature".
        hmac::verify(&self.key, Self::message(job, expires).as_bytes(), &bytes)
            .map_err(|_| LinkRefusal::BadSignature)?;
        if now > expires {
            return Err(LinkRefusal::Expired);
        }
        Ok(())
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn signer() -> LinkSigner {
        LinkSigner::from_master(&warden_inspector::credentials::MasterKey::from_bytes([7; 32]))
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let s = signer();
        let sig = s.sign("0-abcdEFGH", 1_000);
        assert_eq!(sig.len(), 64);
        assert_eq!(s.verify("0-abcdEFGH", Some("1000"), Some(&sig), 1_000), Ok(()));
        assert_eq!(s.verify("0-abcdEFGH", Some("1000"), Some(&sig), 1_001), Err(LinkRefusal::Expired));
        assert_eq!(s.verify("0-abcdEFGX", Some("1000"), Some(&sig), 10), Err(LinkRefusal::BadSignature), "other job");
        assert_eq!(
            s.verify("0-abcdEFGH", Some("1001"), Some(&sig), 10),
            Err(LinkRefusal::BadSignature),
            "later expiry"
        );
        let other = LinkSigner::from_master(&warden_inspector::credentials::MasterKey::from_bytes([8; 32]));
        assert_eq!(other.verify("0-abcdEFGH", Some("1000"), Some(&sig), 10), Err(LinkRefusal::BadSignature));
        assert!(matches!(s.verify("0-abcdEFGH", None, Some(&sig), 10), Err(LinkRefusal::Malformed(_))));
        assert!(matches!(s.verify("0-abcdEFGH", Some("-5"), Some(&sig), 10), Err(LinkRefusal::Malformed(_))));
        assert!(matches!(s.verify("0-abcdEFGH", Some("1000"), Some(&sig[..62]), 10), Err(LinkRefusal::Malformed(_))));
        assert!(matches!(s.verify("0-abcdEFGH", Some("1000"), None, 10), Err(LinkRefusal::Malformed(_))));
        let url = s.url("https://w.example:8443/", "0-abcdEFGH", 1_000);
        assert_eq!(url, format!("https://w.example:8443/reports/0-abcdEFGH?expires=1000&signature={sig}"));
    }

    proptest! {
        /// Changing any one hex digit of a signature makes it fail.
        #[test]
        fn any_altered_digit_is_refused(at in 0usize..64, digit in 0u8..16) {
            let s = signer();
            let sig = s.sign("0-abcdEFGH", 5_000);
            let mut altered = sig.clone().into_bytes();
            altered[at] = b"0123456789abcdef"[digit as usize];
            prop_assume!(altered != sig.as_bytes());
            let altered = String::from_utf8(altered).unwrap();
            prop_assert_eq!(s.verify("0-abcdEFGH", Some("5000"), Some(&altered), 1), Err(LinkRefusal::BadSignature));
        }
    }
}
