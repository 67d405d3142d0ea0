//! Pieces the server's end-to-end tests share: a template over a real fleet
//! store, and (from the Inspector crate's tests) a webhook receiver, a topic
//! map file and the AWS CLI environment.

#![allow(dead_code)]

use warden_store::{FleetStore, Template};

#[path = "../support/templates.rs"]
mod templates;
pub use templates::nightly;

#[path = "../../../inspector/tests/support/e2e_support.rs"]
mod e2e_support;
#[allow(unused_imports)] // a test binary uses only some of them
pub use e2e_support::*;

/// A template named `nightly` of `packages` on the target.
pub fn nightly_template(store: &dyn FleetStore, target_id: &str, packages: &[&str]) -> Template {
    store.create_template(&nightly(target_id, packages), 1).unwrap()
}
