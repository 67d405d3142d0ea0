//! The collection timestamp, without a date crate.
//!
//! Why it exists: the snapshot records when it was taken (RFC 3339, UTC) and
//! nothing else in Warden needs calendar arithmetic.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the epoch as RFC 3339 UTC (shared with the rules, which
/// format runtime observation times).
pub use warden_model::runtime::rfc3339;

#[cfg(test)]
mod tests {
    #[test]
    fn known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_891_833), "2026-11-28T18:50:33Z");
    }
}
