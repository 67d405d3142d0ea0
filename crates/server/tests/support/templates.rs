//! The template request the server's unit tests and end-to-end tests start
//! from. Why a file of its own, included by `#[path]`: the end-to-end tests
//! cannot see the library's `#[cfg(test)]` modules, and this needs only
//! `warden_store`.

use warden_store::NewTemplate;

/// A template `nightly` of `packages` on `target_id`: an hour's collection,
/// 30 s sampling, no user attributes (tests change what they need).
pub fn nightly(target_id: &str, packages: &[&str]) -> NewTemplate {
    NewTemplate {
        target_id: target_id.into(),
        name: "nightly".into(),
        duration_seconds: 3600,
        sampling_interval_seconds: 30,
        packages: packages.iter().map(|p| p.to_string()).collect(),
        user_attributes: vec![],
    }
}
