//! Shared objects mapped by root processes: `/proc/PID/maps`, and the mode
//! and owner of each mapped file and of every directory above it.
//!
//! Why it exists: a process running as root that maps code from a file a
//! non-root user can change runs that user's code as root (Inspector's "Root
//! process with non-secure permissions"). A file can be changed by whoever
//! can write it, and replaced by whoever can write a directory on its path,
//! so the whole chain up to `/` is recorded; the rule decides.
//!
//! A shared object is a file-backed mapping with execute permission whose
//! path is not the process's own executable. Paths are resolved in the
//! sampler's mount namespace (a process in another container sees other
//! files under the same names; such processes' results name what the
//! sampler's namespace has at that path).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::os::unix::fs::MetadataExt;
use warden_model::runtime::{FileMode, ancestors};

/// One line of `/proc/PID/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapsEntry {
    /// `rwxp`-style permissions.
    pub perms: String,
    /// Inode of the mapped file (0 for anonymous mappings).
    pub inode: u64,
    /// The path, pseudo-name (`[heap]`) or `None` for anonymous mappings.
    pub path: Option<String>,
}

/// Parses one maps line: `address perms offset dev inode [pathname]`. The
/// pathname is the rest of the line after the padding and may hold spaces.
pub fn parse_maps_line(line: &str) -> Option<MapsEntry> {
    let mut rest = line;
    let mut fields = [""; 5];
    for field in &mut fields {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ').unwrap_or(rest.len());
        *field = &rest[..end];
        rest = &rest[end..];
    }
    let [address, perms, offset, dev, inode] = fields;
    let valid_hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-' || c == ':');
    if !valid_hex(address) || !valid_hex(offset) || !valid_hex(dev) || perms.len() != 4 {
        return None;
    }
    let inode = inode.parse().ok()?;
    let path = rest.trim_start_matches(' ');
    Some(MapsEntry { perms: perms.to_string(), inode, path: (!path.is_empty()).then(|| path.to_string()) })
}

/// The executable file-backed mappings of a maps text, other than `exe`,
/// without duplicates, sorted.
pub fn executable_objects(maps: &str, exe: Option<&str>) -> Vec<String> {
    let set: BTreeSet<String> = maps
        .lines()
        .filter_map(parse_maps_line)
        .filter(|e| e.inode != 0 && e.perms.as_bytes().get(2) == Some(&b'x'))
        .filter_map(|e| e.path)
        .filter(|p| p.starts_with('/') && Some(p.as_str()) != exe)
        .collect();
    set.into_iter().collect()
}

/// Modes and owners of the file and each directory above it up to `/`,
/// in the order of [`ancestors`]. `cache` holds what this sample already
/// stat'ed (libraries share their directories).
pub fn permission_chain(
    path: &str,
    cache: &mut HashMap<String, Result<FileMode, String>>,
) -> Result<Vec<FileMode>, String> {
    ancestors(path)
        .into_iter()
        .map(|p| {
            cache
                .entry(p.clone())
                .or_insert_with(|| {
                    fs::symlink_metadata(&p)
                        .map(|m| FileMode { mode: m.mode(), uid: m.uid(), gid: m.gid() })
                        .map_err(|e| format!("{p}: {e}"))
                })
                .clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d4c6a00000-55d4c6a28000 r--p 00000000 fd:01 1311234                    /usr/bin/bash
55d4c6a28000-55d4c6b01000 r-xp 00028000 fd:01 1311234                    /usr/bin/bash
7f1e2c000000-7f1e2c021000 rw-p 00000000 00:00 0 
7f1e2c200000-7f1e2c228000 r--p 00000000 fd:01 1316050                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e2c228000-7f1e2c3bd000 r-xp 00028000 fd:01 1316050                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e2c500000-7f1e2c501000 r-xp 00000000 fd:01 99                         /tmp/my dir/libx.so (deleted)
7f1e2c600000-7f1e2c601000 r--p 00000000 fd:01 98                         /usr/lib/locale/C.utf8/LC_CTYPE
7ffd1a1f3000-7ffd1a214000 rw-p 00000000 00:00 0                          [stack]
7ffd1a3e9000-7ffd1a3eb000 r-xp 00000000 00:00 0                          [vdso]
";

    #[test]
    fn executable_mappings_other_than_the_program() {
        assert_eq!(
            executable_objects(MAPS, Some("/usr/bin/bash")),
            ["/tmp/my dir/libx.so (deleted)", "/usr/lib/x86_64-linux-gnu/libc.so.6"]
        );
        let e = parse_maps_line("7f1e2c000000-7f1e2c021000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!((e.perms.as_str(), e.inode, e.path), ("rw-p", 0, None));
        assert_eq!(parse_maps_line("garbage"), None);
        assert_eq!(parse_maps_line(""), None);
    }

    #[test]
    fn chain_runs_to_the_root() {
        let mut cache = HashMap::new();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lib.so");
        fs::write(&file, b"x").unwrap();
        let chain = permission_chain(file.to_str().unwrap(), &mut cache).unwrap();
        assert_eq!(chain.len(), file.components().count());
        assert_eq!(chain[0].mode & 0o170_000, 0o100_000, "the file first");
        assert_eq!(chain.last().unwrap().mode & 0o170_000, 0o040_000, "/ last");
        assert!(permission_chain("/nonexistent/x.so", &mut cache).unwrap_err().contains("/nonexistent/x.so"));
    }

    #[test]
    fn this_process_maps_its_libraries() {
        let maps = fs::read_to_string("/proc/self/maps").unwrap();
        let exe = fs::read_link("/proc/self/exe").unwrap().display().to_string();
        let objects = executable_objects(&maps, Some(&exe));
        assert!(objects.iter().any(|p| p.contains("libc.so")), "{objects:?}");
        assert!(!objects.contains(&exe));
    }

    proptest::proptest! {
        #[test]
        fn maps_parser_never_panics(s in "\\PC*") {
            let _ = parse_maps_line(&s);
            let _ = executable_objects(&s, None);
        }
        #[test]
        fn maps_lines_round_trip(
            perms in "[r-][w-][x-][ps]",
            inode in 0u64..u64::MAX,
            path in proptest::option::of("/[a-z ]{1,20}"),
        ) {
            let line = format!("7f00-7f01 {perms} 00000000 fd:01 {inode}          {}", path.clone().unwrap_or_default());
            let e = parse_maps_line(&line).unwrap();
            proptest::prop_assert_eq!((e.perms, e.inode), (perms, inode));
            proptest::prop_assert_eq!(e.path.map(|p| p.trim_end().to_string()), path.map(|p| p.trim_end().to_string()));
        }
    }
}
