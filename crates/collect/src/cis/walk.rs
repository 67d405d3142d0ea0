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
//!
//! Why it is written against the system calls: on a build host the walk
//! meets hundreds of thousands of entries, and its cost is one `getdents64`
//! per directory block plus one `fstatat` per entry, relative to the open
//! directory (no path resolution from `/`). Symlinks are known from the
//! directory entry's type and never stat'ed. Names live in one buffer per
//! directory depth, reused across siblings; a path string is built only for
//! a directory to descend into or for a hit, and owner lookups are memoised
//! per id, so examining an entry allocates nothing.

use std::collections::{BTreeSet, HashMap};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use warden_model::{FileKind, FsWalk, MountEntry, PathStat, WalkHits};

use crate::ids::IdMap;
use crate::rootfs::RootFs;

/// Entries examined before the walk stops: a Debian or RHEL server image
/// has 20k-100k, a build or developer host several hundred thousand; at
/// about 1 µs of system time per entry the cap keeps the walk near a second.
pub const DEFAULT_CAP: u64 = 1_000_000;
/// Paths kept per kind of hit (the count is always exact up to the cap).
pub const MAX_LISTED: usize = 50;
/// In-root directories never descended into: kernel pseudo file systems.
pub const ALWAYS_SKIPPED: [&str; 2] = ["/proc", "/sys"];
/// Directories deeper than this are reported as unreadable (the walk holds
/// one open descriptor per level).
pub const MAX_DEPTH: usize = 256;
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
    let mut skip: BTreeSet<Vec<u8>> = ALWAYS_SKIPPED.iter().map(|s| s.as_bytes().to_vec()).collect();
    for m in mounts.unwrap_or_default() {
        if SKIPPED_FS_TYPES.contains(&m.fs_type.as_str()) && m.mount_point != "/" {
            skip.insert(m.mount_point.as_bytes().to_vec());
        }
    }
    let mut walker = Walker {
        ids,
        cap,
        skip,
        out: FsWalk { cap, owners_known: ids.knows_owners(), ..FsWalk::default() },
        unreadable: Vec::new(),
        path: Vec::new(),
        dirents: vec![0u8; 64 * 1024],
        levels: Vec::new(),
        users: HashMap::new(),
        groups: HashMap::new(),
    };
    let root = std::ffi::CString::new(fs.root().as_os_str().as_bytes()).unwrap_or_default();
    match open_dir(libc::AT_FDCWD, &root) {
        Ok(fd) => {
            if walker.visit(&fd, 0).is_err() {
                walker.out.partial = Some(format!("the walk stopped at its cap of {cap} entries"));
            }
        }
        Err(e) => walker.unreadable.push(format!("/: {e}")),
    }
    let mut out = walker.out;
    if out.partial.is_none() && !walker.unreadable.is_empty() {
        let shown: Vec<&str> = walker.unreadable.iter().take(5).map(String::as_str).collect();
        out.partial = Some(format!("{} entries could not be read ({})", walker.unreadable.len(), shown.join("; ")));
    }
    out
}

/// The cap was reached.
struct CapReached;

/// One directory's entries: NUL-terminated names in one buffer, and per
/// entry (offset, length without the NUL, `d_type`), sorted by name.
#[derive(Default)]
struct Level {
    names: Vec<u8>,
    entries: Vec<(usize, usize, u8)>,
}

struct Walker<'a> {
    ids: &'a IdMap,
    cap: u64,
    skip: BTreeSet<Vec<u8>>,
    out: FsWalk,
    unreadable: Vec<String>,
    /// The in-root path of the directory being listed (`""` for the root).
    path: Vec<u8>,
    /// The `getdents64` buffer.
    dirents: Vec<u8>,
    /// Entry lists by depth, reused across siblings.
    levels: Vec<Level>,
    users: HashMap<u32, bool>,
    groups: HashMap<u32, bool>,
}

impl Walker<'_> {
    fn visit(&mut self, dir: &OwnedFd, depth: usize) -> Result<(), CapReached> {
        if self.levels.len() <= depth {
            self.levels.resize_with(depth + 1, Level::default);
        }
        let mut level = std::mem::take(&mut self.levels[depth]);
        let listed = self.list(dir.as_raw_fd(), &mut level);
        let result = match listed {
            Ok(()) => self.examine(dir, depth, &level),
            Err(e) => {
                let shown = if self.path.is_empty() { "/".into() } else { String::from_utf8_lossy(&self.path) };
                self.unreadable.push(format!("{shown}: {e}"));
                Ok(())
            }
        };
        self.levels[depth] = level;
        result
    }

    /// Reads every entry of the directory (but `.` and `..`) into `level`, sorted by name.
    fn list(&mut self, fd: RawFd, level: &mut Level) -> std::io::Result<()> {
        level.names.clear();
        level.entries.clear();
        loop {
            // SAFETY: the buffer is valid for writes of its length; the kernel writes at most that many bytes.
            let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, self.dirents.as_mut_ptr(), self.dirents.len()) };
            if n < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if n == 0 {
                break;
            }
            let filled = &self.dirents[..n as usize];
            let mut at = 0;
            // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
            while at + 19 <= filled.len() {
                let reclen = u16::from_ne_bytes([filled[at + 16], filled[at + 17]]) as usize;
                if reclen == 0 || at + reclen > filled.len() {
                    break;
                }
                let d_type = filled[at + 18];
                let name_field = &filled[at + 19..at + reclen];
                let len = name_field.iter().position(|&b| b == 0).unwrap_or(name_field.len());
                let name = &name_field[..len];
                if name != b"." && name != b".." {
                    level.entries.push((level.names.len(), len, d_type));
                    level.names.extend_from_slice(name);
                    level.names.push(0);
                }
                at += reclen;
            }
        }
        let names = &level.names;
        level.entries.sort_unstable_by(|a, b| names[a.0..a.0 + a.1].cmp(&names[b.0..b.0 + b.1]));
        Ok(())
    }

    fn examine(&mut self, dir: &OwnedFd, depth: usize, level: &Level) -> Result<(), CapReached> {
        for &(offset, len, d_type) in &level.entries {
            if self.out.examined >= self.cap {
                return Err(CapReached);
            }
            self.out.examined += 1;
            if d_type == libc::DT_LNK {
                continue; // never followed, never stat'ed
            }
            let name = &level.names[offset..offset + len];
            // SAFETY: every name in the buffer is followed by its NUL.
            let cname = unsafe { CStr::from_bytes_with_nul_unchecked(&level.names[offset..offset + len + 1]) };
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            // SAFETY: a valid directory descriptor, a NUL-terminated name and a stat buffer to fill.
            let rc =
                unsafe { libc::fstatat(dir.as_raw_fd(), cname.as_ptr(), st.as_mut_ptr(), libc::AT_SYMLINK_NOFOLLOW) };
            if rc != 0 {
                let e = std::io::Error::last_os_error();
                self.unreadable.push(format!("{}: cannot stat: {e}", self.child_path(name)));
                continue;
            }
            // SAFETY: fstatat returned 0, so it filled the buffer.
            let st = unsafe { st.assume_init() };
            let kind = st.st_mode & libc::S_IFMT;
            if kind == libc::S_IFLNK {
                continue;
            }
            let mode = st.st_mode & 0o7777;
            let is_dir = kind == libc::S_IFDIR;
            let ww_file = kind == libc::S_IFREG && mode & 0o002 != 0;
            let ww_dir = is_dir && mode & 0o002 != 0 && mode & 0o1000 == 0;
            let (unowned, ungrouped) = if self.out.owners_known {
                (!self.user_known(st.st_uid), !self.group_known(st.st_gid))
            } else {
                (false, false)
            };
            if ww_file || ww_dir || unowned || ungrouped {
                let stat = PathStat {
                    path: self.child_path(name),
                    kind: match kind {
                        libc::S_IFDIR => FileKind::Dir,
                        libc::S_IFREG => FileKind::File,
                        _ => FileKind::Other,
                    },
                    mode,
                    uid: st.st_uid,
                    gid: st.st_gid,
                    owner: self.ids.user(st.st_uid),
                    group: self.ids.group(st.st_gid),
                };
                let out = &mut self.out;
                for (hit, hits) in [
                    (ww_file, &mut out.world_writable_files),
                    (ww_dir, &mut out.world_writable_dirs_without_sticky),
                    (unowned, &mut out.unowned),
                    (ungrouped, &mut out.ungrouped),
                ] {
                    if hit {
                        record(hits, &stat);
                    }
                }
            }
            if is_dir {
                self.descend(dir, name, cname, depth)?;
            }
        }
        Ok(())
    }

    fn descend(&mut self, dir: &OwnedFd, name: &[u8], cname: &CStr, depth: usize) -> Result<(), CapReached> {
        let parent_len = self.path.len();
        self.path.push(b'/');
        self.path.extend_from_slice(name);
        let result = if self.skip.contains(&self.path) {
            self.out.skipped.push(String::from_utf8_lossy(&self.path).into_owned());
            Ok(())
        } else if depth + 1 >= MAX_DEPTH {
            self.unreadable.push(format!("{}: deeper than {MAX_DEPTH} levels", String::from_utf8_lossy(&self.path)));
            Ok(())
        } else {
            match open_dir(dir.as_raw_fd(), cname) {
                Ok(child) => self.visit(&child, depth + 1),
                Err(e) => {
                    self.unreadable.push(format!("{}: {e}", String::from_utf8_lossy(&self.path)));
                    Ok(())
                }
            }
        };
        self.path.truncate(parent_len);
        result
    }

    fn child_path(&self, name: &[u8]) -> String {
        let mut p = String::with_capacity(self.path.len() + 1 + name.len());
        p.push_str(&String::from_utf8_lossy(&self.path));
        p.push('/');
        p.push_str(&String::from_utf8_lossy(name));
        p
    }

    fn user_known(&mut self, uid: u32) -> bool {
        let ids = self.ids;
        *self.users.entry(uid).or_insert_with(|| ids.user(uid).is_some())
    }

    fn group_known(&mut self, gid: u32) -> bool {
        let ids = self.ids;
        *self.groups.entry(gid).or_insert_with(|| ids.group(gid).is_some())
    }
}

/// Opens a directory relative to `at` without following a symlink.
fn open_dir(at: RawFd, name: &CStr) -> std::io::Result<OwnedFd> {
    // SAFETY: a NUL-terminated path; the flags ask for a directory only.
    let fd = unsafe {
        libc::openat(at, name.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openat returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn record(hits: &mut WalkHits, stat: &PathStat) {
    hits.count += 1;
    if hits.paths.len() < MAX_LISTED {
        hits.paths.push(stat.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

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

    /// The same answers as a plain `std::fs` walk, on a tree with a directory
    /// larger than one `getdents64` buffer, varied modes, owners and symlinks.
    #[test]
    fn agrees_with_a_std_fs_reference_walk() {
        use std::os::unix::fs::{lchown, symlink};
        let dir = tree();
        let p = dir.path();
        let big = p.join("usr/share/big");
        std::fs::create_dir_all(&big).unwrap();
        let as_root = std::fs::metadata(p).unwrap().uid() == 0;
        for i in 0..3000u32 {
            let f = big.join(format!("file-with-a-rather-long-name-to-fill-the-buffer-{i:05}"));
            std::fs::write(&f, b"").unwrap();
            let mode = [0o644, 0o666, 0o600, 0o4755, 0o777][i as usize % 5];
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            if as_root && i % 7 == 0 {
                lchown(&f, Some(4000 + i % 3), Some(0)).unwrap();
            }
            if i % 11 == 0 {
                symlink("/etc/passwd", big.join(format!("link-{i:05}"))).unwrap();
            }
        }
        std::fs::create_dir(big.join("open-dir")).unwrap();
        std::fs::set_permissions(big.join("open-dir"), std::fs::Permissions::from_mode(0o777)).unwrap();
        let fs = RootFs::open(p).unwrap();
        let (ids, _) = IdMap::load(&fs);
        let w = walk(&fs, &ids, DEFAULT_CAP, None);
        // Reference: std::fs, lstat per entry, /proc not descended.
        let (mut examined, mut ww_files, mut ww_dirs, mut unowned) = (0u64, Vec::new(), Vec::new(), 0u64);
        let mut stack = vec![(p.to_path_buf(), String::new())];
        while let Some((host, path)) = stack.pop() {
            for e in std::fs::read_dir(&host).unwrap() {
                let e = e.unwrap();
                examined += 1;
                let child = format!("{path}/{}", e.file_name().to_string_lossy());
                let m = std::fs::symlink_metadata(e.path()).unwrap();
                if m.file_type().is_symlink() {
                    continue;
                }
                if m.is_file() && m.mode() & 0o002 != 0 {
                    ww_files.push(child.clone());
                }
                if m.is_dir() && m.mode() & 0o002 != 0 && m.mode() & 0o1000 == 0 {
                    ww_dirs.push(child.clone());
                }
                if ids.user(m.uid()).is_none() {
                    unowned += 1;
                }
                if m.is_dir() && child != "/proc" {
                    stack.push((e.path(), child));
                }
            }
        }
        ww_files.sort();
        ww_dirs.sort();
        assert_eq!(w.partial, None);
        assert_eq!(w.examined, examined);
        assert_eq!(w.world_writable_files.count, ww_files.len() as u64);
        let listed: Vec<String> = w.world_writable_files.paths.iter().map(|s| s.path.clone()).collect();
        assert_eq!(listed, ww_files[..MAX_LISTED], "the first paths in name order");
        assert_eq!(w.world_writable_dirs_without_sticky.count, ww_dirs.len() as u64);
        assert_eq!(w.unowned.count, unowned);
        if as_root {
            assert!(unowned >= 3000 / 7, "{unowned}");
            assert_eq!(w.unowned.paths[0].uid, 4000);
        }
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
