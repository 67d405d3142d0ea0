//! The Amazon Inspector Classic API (2016-02-16) as Warden's fleet server speaks it.
//!
//! Why it exists: scripts written for Inspector Classic (the AWS CLI, boto3,
//! any SDK) keep working against `warden serve` with only `--endpoint-url`
//! changed. This crate is the protocol layer and nothing more: it knows the
//! wire format, the model's constraints, SigV4, ARNs, paging and the
//! rules-package catalogue, and hands every validated, typed request to an
//! [`backend::InspectorBackend`]. The fleet store implements that one trait;
//! `docs/inspector-api.md` lists which store data each method needs.

#![deny(missing_docs)]

pub mod arn;
pub mod backend;
pub mod batch;
pub mod credentials;
pub mod db;
pub mod error;
pub mod events;
pub mod model;
pub mod paging;
pub mod router;
pub mod rules_packages;
pub mod sigv4;
pub mod timestamp;
pub mod types;
pub mod validate;
