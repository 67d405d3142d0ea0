//! Unit tests of the layout helpers and of `load_files` agreeing with `load_dir`; the fixture tests are in
//! `crates/netreach/tests/load.rs`.

use super::*;
use std::path::{Path, PathBuf};

#[test]
fn sanitize_replaces_everything_outside_the_safe_set() {
    assert_eq!(sanitize("arn:aws:x/y z.é-_1"), "arn_aws_x_y_z._-_1");
    assert_eq!(sanitize("tgw-rtb-0abc"), "tgw-rtb-0abc");
}

#[test]
fn account_and_region_components() {
    assert!(is_account("123456789012"));
    assert!(!is_account("12345678901"));
    for r in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4"] {
        assert!(is_region(r), "{r}");
    }
    for r in ["describe-target-health", "us-east", "east-1", "US-EAST-1", "a-b-1", "us--1"] {
        assert!(!is_region(r), "{r}");
    }
}

#[test]
fn cidr_parsing_truncates_and_accepts_bare_addresses() {
    assert_eq!(vpc::parse_cidr("10.0.1.5/16"), "10.0.0.0/16".parse().ok());
    assert_eq!(vpc::parse_cidr("10.0.1.5"), "10.0.1.5/32".parse().ok());
    assert_eq!(vpc::parse_cidr("x"), None);
}

/// Every file under `dir` as `load_files` takes them (relative `/` paths, contents).
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push((relative(root, &path), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

#[test]
fn load_files_agrees_with_load_dir_on_the_fixtures() {
    // Account/region folders (moto-world, fleet-agent), per-resource answers
    // (describe-target-health/<arn>.json), warnings (handmade has dangling references).
    for fixture in [
        "tests/fixtures/aws/moto-world",
        "tests/fixtures/aws/handmade",
        "tests/fixtures/aws/lb-tgw",
        "crates/cli/tests/fixtures/aws/fleet-agent",
    ] {
        let dir = repo_path(fixture);
        let from_disk = load_dir(&dir).unwrap();
        let mut files = files_under(&dir);
        // The order files are given in does not matter.
        files.reverse();
        let from_memory = load_files(&files);
        assert!(from_disk.summary.files_loaded > 0, "{fixture}");
        assert_eq!(from_memory, from_disk, "{fixture}");
    }
}

#[test]
fn load_files_keeps_warnings_and_ignores_what_load_dir_would_not_list() {
    let dir = tempfile::tempdir().unwrap();
    let broken = b"{\n  \"Vpcs\": [\n    {\"VpcId\": \"vpc-x\",}\n  ]\n}\n".to_vec();
    let files = vec![
        ("123456789012/us-east-1/broken.json".to_string(), broken.clone()),
        ("x.json".to_string(), br#"{"Buckets": []}"#.to_vec()),
        ("vpcs.json".to_string(), br#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#.to_vec()),
        (".hidden/vpcs.json".to_string(), br#"{"Vpcs": [{"VpcId": "vpc-2", "CidrBlock": "10.1.0.0/16"}]}"#.to_vec()),
        ("notes.txt".to_string(), b"not read".to_vec()),
    ];
    for (path, bytes) in &files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let from_memory = load_files(&files);
    assert_eq!(from_memory, load_dir(dir.path()).unwrap());
    assert_eq!(from_memory.summary, Summary { files_loaded: 1, files_skipped: 2, partial: true });
    assert_eq!(from_memory.network.vpcs.keys().collect::<Vec<_>>(), ["vpc-1"]);
    let w = &from_memory.network.warnings;
    assert!(w.iter().any(|w| w.message.contains("123456789012/us-east-1/broken.json:3:")), "{w:#?}");
    assert!(w.iter().any(|w| w.resource == "x.json" && w.message.contains("not a recognised")), "{w:#?}");
}
