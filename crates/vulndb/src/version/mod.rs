//! Version ordering per package format (stand-in until the comparators land).
use std::cmp::Ordering;

/// A package format's version ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionScheme {
    /// dpkg.
    Dpkg,
    /// rpm.
    Rpm,
    /// apk.
    Apk,
}

impl VersionScheme {
    /// Compares two versions.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        a.cmp(b)
    }
}
