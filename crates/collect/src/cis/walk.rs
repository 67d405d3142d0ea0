//! A bounded walk of the local file systems for world-writable, unowned and
//! ungrouped paths (CIS 7.1.11-7.1.12 and their equivalents).
//!
//! Why it exists: these are the only CIS checks that look at every file, and
//! a naive walk of a large host takes minutes (OpenSCAP's take that long
//! here). The walk is bounded: it stops after [`DEFAULT_CAP`] entries (or the
//! cap given) and then says so in [`FsWalk::partial`], so a rule never passes
//! on half a tree. It never follows symlinks, never leaves the root, and
//! skips pseudo and remote file systems: `/proc` and `/sys` always, and on a
//! live host every mount point whose type is in [`SKIPPED_FS_TYPES`] (as
//! CIS's own `df --local` / `-xdev` audit commands do). Directory entries
//! are visited in name order, so the first paths listed are stable.

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use warden_model::{FsWalk, MountEntry, WalkHits};

use crate::ids::IdMap;
use crate::perms::path_stat;
use crate::rootfs::{RootFs, io_message};

/// Entries examined before the walk stops: a Debian or RHEL server image
/// has 20k-100k; the cap keeps a full CIS run on a large host near a second.
pub const DEFAULT_CAP: u64 = 200_000;
/// Paths kept per kind of hit (the count is always exact up to the cap).
pub const MAX_LISTED: usize = 50;
/// In-root directories never descended into: kernel pseudo file systems.
pub const ALWAYS_SKIPPED: [&str; 2] = ["/proc", "/sys"];
/// File-system types not walked on a live host: pseudo file systems (no
/// persistent files) and network file systems (another host's files).
pub const SKIPPED_FS_TYPES: [&str; 26] = [
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "pstore",
    "bpf",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "autofs",
    "binfmt_misc",
    "efivarfs",
    "selinuxfs",
    "nsfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "fuse.sshfs",
    "9p",
];

/// Walks the root. `mounts` is the live mount table (None on an image).
pub fn walk(fs: &RootFs, ids: &IdMap, cap: u64, mounts: Option<&[MountEntry]>) -> FsWalk {
    let mut out = FsWalk { cap, owners_known: ids.knows_owners(), ..FsWalk::default() };
    let mut skip: BTreeSet<String> = ALWAYS_SKIPPED.iter().map(|s| s.to_string()).collect();
    for m in mounts.unwrap_or_default() {
        if SKIPPED_FS_TYPES.contains(&m.fs_type.as_str()) && m.mount_point != "/" {
            skip.insert(m.mount_point.clone());
        }
    }
    let mut unreadable = Vec::new();
    // (host path, in-root path), popped last first; children pushed in reverse name order.
    let mut stack: Vec<(PathBuf, String)> = vec![(fs.root().to_path_buf(), "/".to_string())];
    'walk: while let Some((host, path)) = stack.pop() {
        let mut entries: Vec<_> = match std::fs::read_dir(&host) {
            Ok(rd) => rd.filter_map(Result::ok).collect(),
            Err(e) => {
                unreadable.push(format!("{path}: {}", io_message(&e)));
                continue;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        let mut dirs = Vec::new();
        for entry in entries {
            if out.examined >= cap {
                out.partial = Some(format!("the walk stopped at its cap of {cap} entries"));
                break 'walk;
            }
            out.examined += 1;
            let name = String::from_utf8_lossy(entry.file_name().as_bytes()).into_owned();
            let child = if path == "/" { format!("/{name}") } else { format!("{path}/{name}") };
            let Ok(meta) = entry.metadata() else {
                unreadable.push(format!("{child}: cannot stat"));
                continue;
            };
            let ft = meta.file_type();
            if ft.is_symlink() {
                continue;
            }
            let mode = meta.mode();
            let ww_file = ft.is_file() && mode & 0o002 != 0;
            let ww_dir = ft.is_dir() && mode & 0o002 != 0 && mode & 0o1000 == 0;
            let unowned = out.owners_known && ids.user(meta.uid()).is_none();
            let ungrouped = out.owners_known && ids.group(meta.gid()).is_none();
            for (hit, hits) in [
                (ww_file, &mut out.world_writable_files),
                (ww_dir, &mut out.world_writable_dirs_without_sticky),
                (unowned, &mut out.unowned),
                (ungrouped, &mut out.ungrouped),
            ] {
                if hit {
                    record(hits, || path_stat(child.clone(), &meta, ids));
                }
            }
            if ft.is_dir() {
                if skip.contains(&child) {
                    out.skipped.push(child);
                } else {
                    dirs.push((entry.path(), child));
                }
            }
        }
        stack.extend(dirs.into_iter().rev());
    }
    if out.partial.is_none() && !unreadable.is_empty() {
        let shown: Vec<&str> = unreadable.iter().take(5).map(String::as_str).collect();
        out.partial = Some(format!("{} entries could not be read ({})", unreadable.len(), shown.join("; ")));
    }
    out
}

fn record(hits: &mut WalkHits, stat: impl FnOnce() -> warden_model::PathStat) {
    hits.count += 1;
    if hits.paths.len() < MAX_LISTED {
        hits.paths.push(stat());
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for d in ["etc", "tmp", "srv/share", "proc/1", "var/data"] {
            std::fs::create_dir_all(p.join(d)).unwrap();
        }
        std::fs::write(p.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        std::fs::write(p.join("etc/group"), "root:x:0:\n").unwrap();
        std::fs::write(p.join("var/data/open"), "x").unwrap();
        std::fs::write(p.join("proc/1/status"), "x").unwrap();
        let set = |rel: &str, mode| std::fs::set_permissions(p.join(rel), std::fs::Permissions::from_mode(mode));
        set("tmp", 0o1777).unwrap();
        set("srv/share", 0o777).unwrap();
        set("var/data/open", 0o666).unwrap();
        set("proc/1/status", 0o666).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", p.join("srv/link")).unwrap();
        dir
    }

    #[test]
    fn finds_world_writable_and_skips_proc_and_symlinks() {
        let dir = tree();
        let fs = RootFs::open(dir.path()).unwrap();
        let (ids, _) = IdMap::load(&fs);
        let w = walk(&fs, &ids, DEFAULT_CAP, None);
        assert_eq!(w.partial, None);
        let paths = |h: &WalkHits| h.paths.iter().map(|s| s.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&w.world_writable_files), ["/var/data/open"]);
        assert_eq!(paths(&w.world_writable_dirs_without_sticky), ["/srv/share"]);
        assert_eq!(w.skipped, ["/proc"]);
        assert!(w.owners_known);
        // The tempdir's files belong to whoever runs the test: unowned unless that is root.
        let me = std::fs::metadata(dir.path()).unwrap().uid();
        assert_eq!(w.unowned.count == 0, me == 0);
    }

    #[test]
    fn the_cap_marks_the_result_partial() {
        let dir = tree();
        let fs = RootFs::open(dir.path()).unwrap();
        let (ids, _) = IdMap::load(&fs);
        let w = walk(&fs, &ids, 3, None);
        assert_eq!(w.examined, 3);
        assert_eq!(w.partial.as_deref(), Some("the walk stopped at its cap of 3 entries"));
    }

    #[test]
    fn live_pseudo_mounts_are_skipped_and_owners_unknown_without_passwd() {
        let dir = tree();
        std::fs::remove_file(dir.path().join("etc/passwd")).unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        let (ids, _) = IdMap::load(&fs);
        let mounts = [MountEntry {
            device: "tmpfs".into(),
            mount_point: "/srv/share".into(),
            fs_type: "nfs4".into(),
            options: vec![],
            source: warden_model::Source::Kernel { path: "/proc/self/mounts".into() },
        }];
        let w = walk(&fs, &ids, DEFAULT_CAP, Some(&mounts));
        assert!(w.skipped.contains(&"/srv/share".to_string()));
        assert!(!w.owners_known);
        assert_eq!(w.unowned.count, 0);
    }
}
