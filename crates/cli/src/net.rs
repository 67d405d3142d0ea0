//! `warden net load DIR`: load a folder of AWS CLI describe-* JSON and show
//! what was understood.
//!
//! Why it exists: before any reachability question is asked, the operator
//! sees how many resources of each type were loaded and every warning
//! (dangling references, malformed files), so a partial dump is noticed. The
//! loading itself is `warden_netreach::load`; this file only prints.

use std::fmt::Write as _;
use std::path::Path;

use warden_netreach::load::{self, Loaded};

/// Loads `dir` and prints counts and warnings (or, with `json`, the model).
/// Errors only when the folder cannot be read at all (exit 2).
pub fn load(dir: &Path, json: bool) -> Result<(), String> {
    let loaded = load::load_dir(dir).map_err(|e| e.to_string())?;
    let text = if json {
        serde_json::to_string_pretty(&loaded.network).map_err(|e| e.to_string())? + "\n"
    } else {
        render(&loaded)
    };
    crate::write_output(None, &text)
}

/// Counts per resource type, then the warnings, one per line.
fn render(loaded: &Loaded) -> String {
    let s = &loaded.summary;
    let mut out = String::new();
    let partial = if s.partial { " (PARTIAL: some files could not be read)" } else { "" };
    let _ = writeln!(out, "files loaded: {}, skipped: {}{partial}", s.files_loaded, s.files_skipped);
    for (name, n) in load::counts(&loaded.network) {
        let _ = writeln!(out, "{name:<22} {n}");
    }
    for w in &loaded.network.warnings {
        let file = w.file.as_deref().filter(|f| *f != w.resource).map(|f| format!(" ({f})")).unwrap_or_default();
        let _ = writeln!(out, "warning: {}{file}: {}", w.resource, w.message);
    }
    out
}
