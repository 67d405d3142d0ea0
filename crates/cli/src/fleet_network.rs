//! `warden target network-load|network-show|network-clear`: a target's own
//! AWS network data on the server (`/v1/targets/{id}/network`).
//!
//! Why it exists: runs of a target are evaluated for Network Reachability
//! against the describe-* files uploaded for it (else the server's
//! `--aws DIR`). The upload body is built here, in process, from the folder
//! `warden net collect` writes: every `*.json` file under it (hidden entries
//! skipped, like the loader does), its path relative to the folder kept,
//! its bytes sent as they are after checking they are JSON.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::fleet::seg;
use crate::fleet_client::Client;

/// Every `*.json` file under `dir` (recursively, following symlinks, hidden
/// entries skipped), as (path relative to `dir`, `/`-separated; file), sorted.
fn json_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read folder: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(format!("{}: file name is not UTF-8", entry.path().display()));
            };
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
                let rel = path.strip_prefix(root).map_err(|e| e.to_string())?;
                let rel: Vec<&str> = rel.components().filter_map(|c| c.as_os_str().to_str()).collect();
                out.push((rel.join("/"), path));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// The `PUT /v1/targets/{id}/network` body for the folder `dir`:
/// `{"files": {"<relative path>": <file JSON>, ...}}`. A file that is not
/// JSON stops the upload, naming it (the server could not be sent it).
pub fn bundle_body(dir: &Path) -> Result<Vec<u8>, String> {
    let files = json_files(dir)?;
    if files.is_empty() {
        return Err(format!("{}: no *.json file (the folder `warden net collect` writes is expected)", dir.display()));
    }
    let mut body = b"{\"files\":{".to_vec();
    for (i, (rel, path)) in files.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
            .map_err(|e| format!("{}: not JSON (line {} column {}): {e}", path.display(), e.line(), e.column()))?;
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(serde_json::to_string(rel).expect("a string serialises").as_bytes());
        body.push(b':');
        body.extend_from_slice(&bytes);
    }
    body.extend_from_slice(b"}}");
    Ok(body)
}

/// `warden target network-load TARGET --aws DIR`.
pub fn load(c: &Client, target: &str, dir: &Path) -> Result<(), String> {
    let body = bundle_body(dir)?;
    let v = c.call_raw("PUT", &format!("/v1/targets/{}/network", seg(target)?), Some(body))?;
    c.print(&v, |v| {
        print_summary(v);
        for w in v["warnings"].as_array().into_iter().flatten().take(20) {
            eprintln!("warning: {}: {}", w["resource"].as_str().unwrap_or(""), w["message"].as_str().unwrap_or(""));
        }
    });
    Ok(())
}

/// `warden target network-show TARGET`.
pub fn show(c: &Client, target: &str) -> Result<(), String> {
    let v = c.call("GET", &format!("/v1/targets/{}/network", seg(target)?), None)?;
    c.print(&v, print_summary);
    Ok(())
}

/// `warden target network-clear TARGET`.
pub fn clear(c: &Client, target: &str) -> Result<(), String> {
    c.call("DELETE", &format!("/v1/targets/{}/network", seg(target)?), None)?;
    Ok(())
}

fn print_summary(v: &Value) {
    println!(
        "target {}: {} files, {} bytes, sha256 {}, uploaded {}",
        v["target_id"].as_str().unwrap_or(""),
        v["files"],
        v["bytes"],
        v["sha256"].as_str().unwrap_or(""),
        v["uploaded"].as_str().unwrap_or("")
    );
    println!(
        "{} instances, {} network interfaces, {} warnings",
        v["instances"],
        v["network_interfaces"],
        v["warnings"].as_array().map_or(0, |w| w.len())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_keeps_relative_paths_and_skips_hidden_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let region = dir.path().join("123456789012/us-east-1");
        std::fs::create_dir_all(&region).unwrap();
        std::fs::create_dir_all(dir.path().join(".cache")).unwrap();
        std::fs::write(region.join("describe-vpcs.json"), r#"{"Vpcs": []}"#).unwrap();
        std::fs::write(dir.path().join("warden-collect.json"), r#"{"regions": []}"#).unwrap();
        std::fs::write(dir.path().join(".cache/x.json"), "{}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not JSON").unwrap();
        let body: Value = serde_json::from_slice(&bundle_body(dir.path()).unwrap()).unwrap();
        let files = body["files"].as_object().unwrap();
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["123456789012/us-east-1/describe-vpcs.json", "warden-collect.json"]
        );
        assert_eq!(files["123456789012/us-east-1/describe-vpcs.json"], serde_json::json!({"Vpcs": []}));
    }

    #[test]
    fn a_file_that_is_not_json_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("broken.json"), "{\"Vpcs\": [").unwrap();
        let e = bundle_body(dir.path()).unwrap_err();
        assert!(e.contains("broken.json") && e.contains("not JSON"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        assert!(bundle_body(empty.path()).unwrap_err().contains("no *.json file"));
    }
}
