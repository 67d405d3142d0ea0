//! Shared JSON helpers for the JSON feeds (Alpine secdb, OSV, KEV, CVE 5).
//!
//! Why it exists: the JSON feeds are small per file, so they are read into a
//! `serde_json::Value` and walked by hand. That keeps the parsers lenient
//! (unknown fields ignored, one bad record does not sink the file) and lets
//! every problem name its JSON path (`$.vulnerabilities[3].dateAdded`).

use std::io::Read;

use serde_json::Value;

use super::FeedError;

/// Reads one JSON document; a syntax error names the file, line and column.
pub(crate) fn read_value(reader: impl Read, source: &str) -> Result<Value, FeedError> {
    serde_json::from_reader(reader).map_err(|e| match e.classify() {
        serde_json::error::Category::Io => FeedError::io(source, std::io::Error::other(e.to_string())),
        _ => FeedError::malformed(format!("{source}:{}:{}", e.line(), e.column()), format!("invalid JSON: {e}")),
    })
}

/// `obj.key` as a string, if it is one.
pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `obj.key` as an array (empty if absent or not an array).
pub(crate) fn arr_field<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// `source` + JSON path, for locations.
pub(crate) fn loc(source: &str, path: &str) -> String {
    format!("{source}: {path}")
}
