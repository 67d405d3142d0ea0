//! Shared helpers for the end-to-end tests: fixture roots with real modes and
//! owners, and running the real `warden` binary.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, lchown};
use std::path::{Path, PathBuf};
use std::process::Output;

use warden_model::{Assessment, Outcome, RuleOutcome};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// Copies a directory tree, symlinks as symlinks; `fs::copy` keeps each file's mode.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let ft = entry.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if ft.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if entry.file_name() != ".gitkeep" {
            // `.gitkeep` only makes git keep an empty directory of a fixture
            // root (e.g. /var/log/audit); the root itself must not hold it.
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn normalise(path: &Path) {
    lchown(path, Some(0), Some(0)).unwrap();
    let meta = fs::symlink_metadata(path).unwrap();
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = if meta.is_dir() { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    if meta.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            normalise(&entry.unwrap().path());
        }
    }
}

/// Copies `tests/fixtures/roots/NAME/root` into a temporary directory and
/// applies `NAME.modes`. Needs root (to set owners); returns None otherwise.
pub fn fixture_root(name: &str) -> Option<tempfile::TempDir> {
    if !is_root() {
        eprintln!("skipping: fixture roots need root to set file owners");
        return None;
    }
    let fixtures = workspace().join("tests/fixtures/roots");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    copy_tree(&fixtures.join(name).join("root"), &root);
    normalise(&root);
    let manifest = fs::read_to_string(fixtures.join(format!("{name}.modes"))).unwrap();
    for line in manifest.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let path = root.join(f[0].trim_start_matches('/'));
        let mode = u32::from_str_radix(f[1], 8).unwrap();
        lchown(&path, Some(f[2].parse().unwrap()), Some(f[3].parse().unwrap())).unwrap();
        // chown clears setgid bits, so the mode goes last.
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }
    Some(dir)
}

/// A fixture root that is an overlay on another (see `tests/fixtures/roots/README.md`):
/// `BASE` is materialised as usual, then the files of `NAME/root` replace or
/// join its own, the paths listed in `NAME.remove` are deleted, every overlay
/// path is made `0:0` (`0755` directories, `0644` files) and `BASE.modes`
/// then `NAME.modes` are applied. Needs root, like every fixture root.
pub fn overlay_root(base: &str, name: &str) -> Option<tempfile::TempDir> {
    let dir = fixture_root(base)?;
    let root = dir.path().join("root");
    let fixtures = workspace().join("tests/fixtures/roots");
    let overlay = fixtures.join(name).join("root");
    copy_tree(&overlay, &root);
    let mut pending = vec![overlay.clone()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let target = root.join(entry.path().strip_prefix(&overlay).unwrap());
            lchown(&target, Some(0), Some(0)).unwrap();
            let ft = entry.file_type().unwrap();
            if ft.is_dir() {
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
                pending.push(entry.path());
            } else if ft.is_file() {
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
    }
    let lines = |file: String| -> Vec<String> {
        std::fs::read_to_string(fixtures.join(file))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(String::from)
            .collect()
    };
    for path in lines(format!("{name}.remove")) {
        let host = root.join(path.trim().trim_start_matches('/'));
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&host).unwrap(),
            Ok(_) => std::fs::remove_file(&host).unwrap(),
            Err(e) => panic!("{name}.remove: {path}: {e}"),
        }
    }
    for line in lines(format!("{base}.modes")).into_iter().chain(lines(format!("{name}.modes"))) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let path = root.join(f[0].trim_start_matches('/'));
        if std::fs::symlink_metadata(&path).is_err() {
            continue; // removed by the overlay
        }
        lchown(&path, Some(f[2].parse().unwrap()), Some(f[3].parse().unwrap())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(u32::from_str_radix(f[1], 8).unwrap()))
            .unwrap();
    }
    Some(dir)
}

pub fn warden() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("warden").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Runs `warden assess --format json` with extra arguments.
pub fn assess(args: &[&str]) -> (Assessment, Output) {
    let output = warden().arg("assess").arg("--format").arg("json").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let assessment: Assessment = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("not an assessment ({e}); stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&output.stderr))
    });
    (assessment, output)
}

/// Assesses a root with the Security Best Practices package only.
pub fn assess_root(root: &Path) -> Assessment {
    let (a, output) = assess(&["--root", root.to_str().unwrap(), "--package", "best-practices"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    a
}

pub fn rule<'a>(a: &'a Assessment, id: &str) -> &'a RuleOutcome {
    a.rules.iter().find(|r| r.rule_id == id).unwrap_or_else(|| panic!("no rule {id}"))
}

/// Asserts every rule's outcome, in package order, with a readable diff.
pub fn assert_outcomes(a: &Assessment, expected: &[(&str, Outcome)]) {
    let got: Vec<(String, Outcome)> = a.rules.iter().map(|r| (r.rule_id.clone(), r.outcome)).collect();
    let want: Vec<(String, Outcome)> = expected.iter().map(|(id, o)| (id.to_string(), *o)).collect();
    if got != want {
        let detail: Vec<String> =
            a.rules.iter().map(|r| format!("{} {:?}: {}", r.rule_id, r.outcome, r.reason)).collect();
        panic!("outcomes differ\n got: {got:?}\nwant: {want:?}\n{}", detail.join("\n"));
    }
}

/// Whether some evidence of the rule cites `path` at `line` with `text`.
pub fn cites(r: &RuleOutcome, path: &str, line: Option<u32>, text: &str) -> bool {
    r.evidence.iter().any(|e| e.path.as_deref() == Some(path) && e.line == line && e.text.as_deref() == Some(text))
}

pub fn assert_cites(r: &RuleOutcome, path: &str, line: Option<u32>, text: &str) {
    assert!(
        cites(r, path, line, text),
        "{} does not cite {path}:{line:?} {text:?}; evidence: {:#?}",
        r.rule_id,
        r.evidence
    );
}

// ---- CVE package helpers (tests/cve_*.rs) ----

/// A fixture file or directory under the workspace's `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    let p = workspace().join("tests/fixtures").join(rel);
    assert!(p.exists(), "missing fixture {}", p.display());
    p
}

/// The real Debian 12 root filesystem of `scripts/make-debian-rootfs.sh`:
/// None (and a note) when `WARDEN_TEST_DEBIAN_ROOTFS` is unset, a panic in CI.
pub fn debian_rootfs_or_skip() -> Option<PathBuf> {
    match std::env::var_os("WARDEN_TEST_DEBIAN_ROOTFS") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => {
            panic!("WARDEN_TEST_DEBIAN_ROOTFS must be set in CI (scripts/test.sh builds it)")
        }
        None => {
            eprintln!("skipping: WARDEN_TEST_DEBIAN_ROOTFS is not set (run scripts/test.sh)");
            None
        }
    }
}

/// Whether an external program (an oracle) is on PATH: false (and a note)
/// when it is missing, a panic in CI (`scripts/install-test-deps.sh` installs it).
pub fn have_tool(name: &str) -> bool {
    let found =
        std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()));
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("{name} must be installed in CI (scripts/install-test-deps.sh)");
        }
        eprintln!("skipping: {name} is not installed (scripts/install-test-deps.sh)");
    }
    found
}

/// `warden db import --db DIR/vulndb.sqlite FEED...`; returns the database path.
pub fn import_db(dir: &Path, feeds: &[PathBuf]) -> PathBuf {
    let db = dir.join("vulndb.sqlite");
    let out = warden().arg("db").arg("import").arg("--db").arg(&db).args(feeds).output().unwrap();
    assert!(out.status.success(), "import failed: {}", String::from_utf8_lossy(&out.stderr));
    db
}

/// `warden assess --package cve --root ROOT --db DB [extra]`, which must succeed.
pub fn assess_cve(root: &Path, db: &Path, extra: &[&str]) -> Assessment {
    let mut args = vec!["--package", "cve", "--root", root.to_str().unwrap(), "--db", db.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (a, output) = assess(&args);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    a
}

/// Every (vulnerability, installed binary package, status) of an assessment's
/// CVE findings, one per evidence line that cites a package database entry.
/// The status is read per package from the evidence's reason (`... < fixed
/// V`, `no fix available yet`, `will not fix`), not from the finding's
/// attributes, which describe its first package only.
pub fn cve_matches(a: &Assessment) -> std::collections::BTreeSet<(String, String, String)> {
    let mut out = std::collections::BTreeSet::new();
    for f in a.findings.iter().filter(|f| f.attributes.contains_key("CVE_ID")) {
        assert_eq!(f.attributes["CVE_ID"], f.rule_id);
        for e in f.evidence.iter().filter(|e| e.path.is_some() && e.line.is_some()) {
            let package = e.text.as_deref().unwrap().split(' ').next().unwrap().to_string();
            let status = if e.message.contains(" < fixed ") {
                "fixed"
            } else if e.message.contains("no fix available yet") {
                "unfixed"
            } else if e.message.contains("will not fix") {
                "will_not_fix"
            } else {
                panic!("{}: evidence with no status: {e:?}", f.rule_id)
            };
            out.insert((f.rule_id.clone(), package, status.to_string()));
        }
    }
    out
}

/// Owned triples from a literal table.
pub fn triples(list: &[(&str, &str, &str)]) -> std::collections::BTreeSet<(String, String, String)> {
    list.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

/// Asserts two sets of triples are equal, naming what each side has alone.
pub fn assert_same_set(
    got: &std::collections::BTreeSet<(String, String, String)>,
    want: &std::collections::BTreeSet<(String, String, String)>,
    what: &str,
) {
    let extra: Vec<_> = got.difference(want).collect();
    let missing: Vec<_> = want.difference(got).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: Warden reports {} pairs, expected {}\n only Warden: {extra:#?}\n only expected: {missing:#?}",
        got.len(),
        want.len()
    );
}

/// The 1-based line of `needle` (a whole line) in a file.
pub fn line_of(path: &Path, needle: &str) -> u32 {
    let text = fs::read_to_string(path).unwrap();
    text.lines().position(|l| l == needle).unwrap_or_else(|| panic!("{needle:?} not in {}", path.display())) as u32 + 1
}
