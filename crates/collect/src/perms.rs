//! Modes and owners of the system directories and the entries directly in them.
//!
//! Why it exists: a group- or world-writable binary in `/usr/bin`, or one
//! owned by an ordinary user, lets that user run code as whoever runs the
//! binary next (usually root). Inspector-style rules need the directories'
//! own modes and the entries that do not conform.
//!
//! Semantics:
//! - The directories are [`SYSTEM_DIRS`]. One that does not exist is skipped
//!   (a merged-/usr system has no separate `/lib64`, a container may have no
//!   `/boot`); that is not a problem.
//! - A symlinked directory (merged /usr: `/bin -> usr/bin`) is followed inside
//!   the root. It is still reported under the name listed (`stat.path` =
//!   `/bin`), `resolved` names the in-root target (`/usr/bin`) and `stat` is
//!   the target's.
//! - Each real directory is scanned once: `/bin` and `/usr/bin` on a
//!   merged-/usr system share one scan, whose entries carry the REAL path
//!   (`/usr/bin/foo`), so a finding cites the same path whichever name led
//!   to it.
//! - Only entries directly in the directory are examined (not recursive),
//!   with `lstat` (the directory entry's own metadata, no symlink is
//!   followed). `entries_scanned` counts every entry examined, symlinks
//!   included; symlinks are never non-conforming (their mode is meaningless
//!   and their target is examined where it lives). The scan stops after
//!   `Options::max_entries_per_dir` entries and sets `truncated`.
//! - An entry is non-conforming when it is not owned by uid 0 or has the
//!   group-write (`0o020`) or other-write (`0o002`) bit.
//! - A directory that cannot be listed is still reported (its own mode is
//!   known) with `entries_scanned = 0`; the reason goes to the problems that
//!   [`collect_with_problems`] returns, for `snapshot.problems`. An entry
//!   that vanishes during the scan is skipped silently.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use warden_model::{Fact, FileKind, PathStat, Problem, SystemPath};

use crate::ids::IdMap;
use crate::rootfs::{io_message, join};
use crate::{Options, RootFs};

/// The system directories examined, in report order.
pub const SYSTEM_DIRS: [&str; 10] = [
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/lib",
    "/usr/lib",
    "/etc",
    "/boot",
];

/// Most per-entry problems reported for one directory (the rest are counted).
const MAX_ENTRY_PROBLEMS_PER_DIR: usize = 20;

/// The scan of one real directory, shared by every name that leads to it.
#[derive(Clone, Debug, Default)]
struct DirScan {
    entries_scanned: u64,
    truncated: bool,
    nonconforming: Vec<PathStat>,
    problem: Option<Problem>,
}

/// Collects the system directories, dropping per-directory problems. Prefer
/// [`collect_with_problems`], whose problems belong in `snapshot.problems`.
pub fn collect(fs: &RootFs, ids: &IdMap, options: &Options) -> Fact<Vec<SystemPath>> {
    collect_with_problems(fs, ids, options).0
}

/// Collects the system directories of [`SYSTEM_DIRS`] and the non-fatal
/// problems met (unlistable directory, unreadable entry, dangling symlink).
/// The fact is `Failed` only when directories exist but none could be
/// examined at all.
pub fn collect_with_problems(fs: &RootFs, ids: &IdMap, options: &Options) -> (Fact<Vec<SystemPath>>, Vec<Problem>) {
    collect_dirs(fs, ids, options, &SYSTEM_DIRS)
}

/// [`collect_with_problems`] over any list of absolute in-root directories.
pub fn collect_dirs(
    fs: &RootFs,
    ids: &IdMap,
    options: &Options,
    dirs: &[&str],
) -> (Fact<Vec<SystemPath>>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut paths = Vec::new();
    let mut scans: HashMap<PathBuf, DirScan> = HashMap::new();
    let mut failed_dirs = 0usize;
    for &dir in dirs {
        match examine_dir(fs, ids, options, dir, &mut scans, &mut problems) {
            Ok(Some(path)) => paths.push(path),
            Ok(None) => {}
            Err(problem) => {
                failed_dirs += 1;
                problems.push(problem);
            }
        }
    }
    if paths.is_empty() && failed_dirs > 0 {
        let problem =
            problems.first().cloned().unwrap_or_else(|| Problem::file("/", "no system directory could be examined"));
        return (Fact::Failed { problem }, problems);
    }
    (Fact::collected(paths), problems)
}

/// One listed directory: `Ok(None)` when it does not exist.
fn examine_dir(
    fs: &RootFs,
    ids: &IdMap,
    options: &Options,
    dir: &str,
    scans: &mut HashMap<PathBuf, DirScan>,
    problems: &mut Vec<Problem>,
) -> Result<Option<SystemPath>, Problem> {
    let Some(link_meta) = fs.lstat(dir)? else {
        return Ok(None);
    };
    let host_path = fs.resolve(dir)?;
    let resolved = if link_meta.file_type().is_symlink() { Some(in_root_path(fs.root(), &host_path)) } else { None };
    let Some(meta) = fs.stat(dir)? else {
        let target = resolved.unwrap_or_default();
        return Err(Problem::file(dir, format!("symbolic link to {target}, which does not exist")));
    };
    let stat = path_stat(dir.to_string(), &meta, ids);
    let scan = if meta.is_dir() {
        match scans.get(&host_path) {
            Some(scan) => scan.clone(),
            None => {
                let real_dir = resolved.clone().unwrap_or_else(|| dir.to_string());
                let scan = scan_dir(&host_path, &real_dir, ids, options.max_entries_per_dir, problems);
                scans.insert(host_path, scan.clone());
                scan
            }
        }
    } else {
        DirScan::default()
    };
    Ok(Some(SystemPath {
        stat,
        resolved,
        entries_scanned: scan.entries_scanned,
        truncated: scan.truncated,
        nonconforming: scan.nonconforming,
        problem: scan.problem,
    }))
}

/// Scans the entries directly in `host_dir`, naming them under `real_dir`.
fn scan_dir(host_dir: &Path, real_dir: &str, ids: &IdMap, max_entries: u64, problems: &mut Vec<Problem>) -> DirScan {
    let mut scan = DirScan::default();
    let entries = match fs::read_dir(host_dir) {
        Ok(entries) => entries,
        Err(e) => {
            let problem = Problem::file(real_dir, format!("cannot list directory: {}", io_message(&e)));
            problems.push(problem.clone());
            scan.problem = Some(problem);
            return scan;
        }
    };
    let mut entry_problems = 0usize;
    let mut note_problem = |problems: &mut Vec<Problem>, path: String, message: String| {
        entry_problems += 1;
        if entry_problems <= MAX_ENTRY_PROBLEMS_PER_DIR {
            problems.push(Problem::file(path, message));
        }
    };
    for entry in entries {
        if scan.entries_scanned >= max_entries {
            scan.truncated = true;
            break;
        }
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                note_problem(problems, real_dir.to_string(), format!("error while listing: {}", io_message(&e)));
                break;
            }
        };
        scan.entries_scanned += 1;
        // d_type is free; skip symlinks without a stat call when it is known.
        if entry.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
            continue;
        }
        let name = String::from_utf8_lossy(entry.file_name().as_bytes()).into_owned();
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                note_problem(problems, join(real_dir, &name), io_message(&e));
                continue;
            }
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        if is_nonconforming(meta.uid(), meta.mode()) {
            scan.nonconforming.push(path_stat(join(real_dir, &name), &meta, ids));
        }
    }
    if entry_problems > 0 {
        scan.problem = Some(Problem::file(real_dir, format!("{entry_problems} entries could not be examined")));
    }
    if entry_problems > MAX_ENTRY_PROBLEMS_PER_DIR {
        problems.push(Problem::file(
            real_dir,
            format!("{} more entries could not be examined", entry_problems - MAX_ENTRY_PROBLEMS_PER_DIR),
        ));
    }
    scan.nonconforming.sort_by(|a, b| a.path.cmp(&b.path));
    scan
}

/// Whether an entry with this owner and mode does not conform: not owned by
/// root, or writable by its group or by others.
pub fn is_nonconforming(uid: u32, mode: u32) -> bool {
    uid != 0 || mode & 0o022 != 0
}

/// The [`PathStat`] of `meta`, reported as `path`.
pub fn path_stat(path: String, meta: &Metadata, ids: &IdMap) -> PathStat {
    let file_type = meta.file_type();
    let kind = if file_type.is_symlink() {
        FileKind::Symlink
    } else if file_type.is_dir() {
        FileKind::Dir
    } else if file_type.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    };
    PathStat {
        path,
        kind,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        owner: ids.user(meta.uid()),
        group: ids.group(meta.gid()),
    }
}

/// The in-root form of a host path under `root` (`/` when it is the root itself).
fn in_root_path(root: &Path, host: &Path) -> String {
    let relative = host.strip_prefix(root).unwrap_or(host);
    let text = String::from_utf8_lossy(relative.as_os_str().as_bytes());
    format!("/{}", text.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, chown, symlink};
    use std::time::Instant;

    fn file_with_mode(path: &Path, mode: u32) {
        fs::write(path, b"#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A root with merged /usr: `/bin -> usr/bin`, `/sbin -> /usr/sbin` (absolute).
    fn merged_usr_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["usr/bin", "usr/sbin", "etc"] {
            fs::create_dir_all(root.join(d)).unwrap();
            fs::set_permissions(root.join(d), fs::Permissions::from_mode(0o755)).unwrap();
        }
        symlink("usr/bin", root.join("bin")).unwrap();
        symlink("/usr/sbin", root.join("sbin")).unwrap();
        file_with_mode(&root.join("usr/bin/good"), 0o755);
        file_with_mode(&root.join("usr/bin/group-writable"), 0o775);
        file_with_mode(&root.join("usr/bin/world-writable"), 0o757);
        file_with_mode(&root.join("usr/bin/setuid"), 0o4755);
        file_with_mode(&root.join("usr/bin/user-owned"), 0o755);
        chown(root.join("usr/bin/user-owned"), Some(1000), Some(1000)).unwrap();
        // A symlink to a world-writable file is skipped (its mode is meaningless).
        symlink("world-writable", root.join("usr/bin/link")).unwrap();
        fs::create_dir(root.join("usr/bin/subdir")).unwrap();
        fs::set_permissions(root.join("usr/bin/subdir"), fs::Permissions::from_mode(0o777)).unwrap();
        // Not recursive: nothing inside subdir is examined.
        file_with_mode(&root.join("usr/bin/subdir/deep"), 0o777);
        file_with_mode(&root.join("usr/sbin/ok"), 0o700);
        dir
    }

    fn ids() -> IdMap {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
            .unwrap();
        fs::write(dir.path().join("etc/group"), "root:x:0:\nalice:x:1000:\n").unwrap();
        let (map, problems) = IdMap::load(&RootFs::open(dir.path()).unwrap());
        assert!(problems.is_empty(), "{problems:?}");
        map
    }

    #[test]
    fn merged_usr_is_followed_and_nonconforming_entries_found() {
        let dir = merged_usr_root();
        let fs_ = RootFs::open(dir.path()).unwrap();
        let (fact, problems) = collect_with_problems(&fs_, &ids(), &Options::default());
        assert!(problems.is_empty(), "{problems:?}");
        let paths = fact.value().cloned().unwrap();
        let names: Vec<&str> = paths.iter().map(|p| p.stat.path.as_str()).collect();
        // Missing /lib, /usr/lib, /usr/local/*, /boot are skipped silently.
        assert_eq!(names, ["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/etc"]);
        let bin = &paths[0];
        assert_eq!(bin.resolved.as_deref(), Some("/usr/bin"));
        assert_eq!((bin.stat.kind, bin.stat.mode), (FileKind::Dir, 0o755));
        assert_eq!(paths[1].resolved.as_deref(), Some("/usr/sbin"));
        let usr_bin = &paths[2];
        assert_eq!(usr_bin.resolved, None);
        // good, group-writable, world-writable, setuid, user-owned, link, subdir.
        assert_eq!(usr_bin.entries_scanned, 7);
        assert!(!usr_bin.truncated);
        let bad: Vec<(&str, u32)> = usr_bin.nonconforming.iter().map(|p| (p.path.as_str(), p.mode)).collect();
        assert_eq!(
            bad,
            [
                ("/usr/bin/group-writable", 0o775),
                ("/usr/bin/subdir", 0o777),
                ("/usr/bin/user-owned", 0o755),
                ("/usr/bin/world-writable", 0o757),
            ]
        );
        let user_owned = &usr_bin.nonconforming[2];
        assert_eq!(
            (user_owned.uid, user_owned.owner.as_deref(), user_owned.group.as_deref()),
            (1000, Some("alice"), Some("alice"))
        );
        assert_eq!(usr_bin.nonconforming[1].kind, FileKind::Dir);
        // /bin shares /usr/bin's scan, entries under their real path.
        assert_eq!(bin.nonconforming, usr_bin.nonconforming);
        assert_eq!(bin.entries_scanned, usr_bin.entries_scanned);
    }

    #[test]
    fn the_scan_stops_at_the_bound() {
        let dir = merged_usr_root();
        let fs_ = RootFs::open(dir.path()).unwrap();
        let options = Options { max_entries_per_dir: 3, ..Options::default() };
        let (fact, _) = collect_with_problems(&fs_, &ids(), &options);
        let paths = fact.value().cloned().unwrap();
        let usr_bin = paths.iter().find(|p| p.stat.path == "/usr/bin").unwrap();
        assert_eq!((usr_bin.entries_scanned, usr_bin.truncated), (3, true));
        // Exactly at the bound with nothing left over is not truncated.
        let usr_sbin = paths.iter().find(|p| p.stat.path == "/usr/sbin").unwrap();
        let (fact, _) = collect_with_problems(&fs_, &ids(), &Options { max_entries_per_dir: 1, ..Options::default() });
        let exact = fact.value().unwrap().iter().find(|p| p.stat.path == "/usr/sbin").cloned().unwrap();
        assert_eq!((usr_sbin.entries_scanned, exact.entries_scanned, exact.truncated), (1, 1, false));
    }

    #[test]
    fn an_empty_root_has_no_system_dirs_and_dangling_links_are_problems() {
        let dir = tempfile::tempdir().unwrap();
        let fs_ = RootFs::open(dir.path()).unwrap();
        let (fact, problems) = collect_with_problems(&fs_, &IdMap::default(), &Options::default());
        assert_eq!(fact.value().map(Vec::len), Some(0));
        assert!(problems.is_empty());
        symlink("/nowhere", dir.path().join("bin")).unwrap();
        let (fact, problems) = collect_with_problems(&fs_, &IdMap::default(), &Options::default());
        assert!(matches!(fact, Fact::Failed { .. }), "{fact:?}");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "/bin");
        assert!(problems[0].message.contains("/nowhere"), "{}", problems[0]);
    }

    #[test]
    fn conformance_rule() {
        assert!(!is_nonconforming(0, 0o755));
        assert!(!is_nonconforming(0, 0o4755));
        assert!(!is_nonconforming(0, 0o1755));
        assert!(is_nonconforming(0, 0o775));
        assert!(is_nonconforming(0, 0o757));
        assert!(is_nonconforming(2, 0o755));
    }

    #[test]
    fn live_host_scan_is_fast() {
        let fs_ = RootFs::open(Path::new("/")).unwrap();
        let ids = IdMap::load(&fs_).0;
        let start = Instant::now();
        let (fact, problems) = collect_with_problems(&fs_, &ids, &Options::default());
        let elapsed = start.elapsed();
        let paths = fact.value().cloned().unwrap_or_default();
        let scanned: u64 = paths.iter().map(|p| p.entries_scanned).sum();
        eprintln!(
            "perms: {} dirs, {scanned} entries (shared scans counted per name), {} problems in {:?}",
            paths.len(),
            problems.len(),
            elapsed
        );
        for dir in ["/usr/bin", "/usr/lib"] {
            let start = Instant::now();
            let (fact, _) = collect_dirs(&fs_, &ids, &Options::default(), &[dir]);
            let n = fact.value().and_then(|v| v.first()).map(|p| p.entries_scanned).unwrap_or(0);
            eprintln!("perms: {dir}: {n} entries in {:?}", start.elapsed());
        }
        assert!(elapsed.as_secs() < 5, "system directory scan took {elapsed:?}");
    }
}
