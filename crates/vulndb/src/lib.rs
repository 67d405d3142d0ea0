//! Warden's vulnerability database: advisory feeds, version ordering per
//! package format, the local index and matching.
//!
//! Why it exists: the CVE rules package is only as good as its data and its
//! comparisons. Peers lose trust through wrong version ordering (epochs,
//! `~`, backports) and through ignoring unfixed vulnerabilities. This crate
//! keeps the three stages apart, as osv-scanner does:
//! - [`feeds`]: each publisher's format read as served (`.bz2`, `.gz`,
//!   `.zip`) into one normalised [`advisory::Advisory`] shape;
//! - [`version`]: dpkg, rpm and apk version ordering, differential-tested
//!   against the real tools;
//! - the store and the matcher (installed packages × advisories → matches
//!   with their reason).
#![deny(missing_docs)]

pub mod advisory;
pub mod feeds;
pub mod matcher;
pub mod store;
pub mod version;
