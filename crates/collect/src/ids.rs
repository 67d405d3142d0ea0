//! User and group names of the assessed root (`/etc/passwd`, `/etc/group`).
//!
//! Why it exists: modes and owners, socket owners and shadow entries are
//! reported with names as the assessed host knows them, which on a mounted
//! disk differ from the assessing machine's. Only names, ids and shells are
//! kept; `/etc/passwd`'s password field is ignored.

use std::collections::HashMap;

use warden_model::Problem;

use crate::rootfs::RootFs;

/// One `/etc/passwd` entry (no password field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Login shell.
    pub shell: String,
}

/// Id → name maps of the root.
#[derive(Clone, Debug, Default)]
pub struct IdMap {
    /// Entries of `/etc/passwd`, in file order.
    passwd: Vec<PasswdEntry>,
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
    /// Login name → index in `passwd` (the first entry of a name, as getpwnam finds it).
    by_name: HashMap<String, usize>,
}

impl IdMap {
    /// Reads `/etc/passwd` and `/etc/group`; problems are returned beside the
    /// (possibly partial) map so that collection goes on.
    pub fn load(fs: &RootFs) -> (IdMap, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut map = IdMap::default();
        match fs.read_text("/etc/passwd") {
            Ok(Some(text)) => map.set_passwd(parse_passwd(&text, "/etc/passwd", &mut problems)),
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
        match fs.read_text("/etc/group") {
            Ok(Some(text)) => {
                for (name, gid) in parse_group(&text, "/etc/group", &mut problems) {
                    map.groups.entry(gid).or_insert(name);
                }
            }
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
        (map, problems)
    }

    /// Whether `/etc/passwd` and `/etc/group` both gave entries, so a missing
    /// id means an unowned file rather than an unread table.
    pub fn knows_owners(&self) -> bool {
        !self.passwd.is_empty() && !self.groups.is_empty()
    }

    /// A map of these passwd entries only (no groups).
    pub fn from_passwd(entries: Vec<PasswdEntry>) -> IdMap {
        let mut map = IdMap::default();
        map.set_passwd(entries);
        map
    }

    fn set_passwd(&mut self, entries: Vec<PasswdEntry>) {
        for (i, e) in entries.iter().enumerate() {
            self.users.entry(e.uid).or_insert_with(|| e.name.clone());
            self.by_name.entry(e.name.clone()).or_insert(i);
        }
        self.passwd = entries;
    }

    /// Entries of `/etc/passwd`, in file order.
    pub fn passwd(&self) -> &[PasswdEntry] {
        &self.passwd
    }

    /// The user name of a uid.
    pub fn user(&self, uid: u32) -> Option<String> {
        self.users.get(&uid).cloned()
    }

    /// The group name of a gid.
    pub fn group(&self, gid: u32) -> Option<String> {
        self.groups.get(&gid).cloned()
    }

    /// The passwd entry of a login name.
    pub fn entry(&self, name: &str) -> Option<&PasswdEntry> {
        self.by_name.get(name).map(|&i| &self.passwd[i])
    }
}

/// Parses `/etc/passwd` text. Malformed lines become problems and are skipped.
pub fn parse_passwd(text: &str, path: &str, problems: &mut Vec<Problem>) -> Vec<PasswdEntry> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = (i + 1) as u32;
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with('+') || line.starts_with('-') {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() != 7 {
            problems.push(Problem::at_line(path, line_no, format!("expected 7 fields, found {}", fields.len())));
            continue;
        }
        match fields[2].parse::<u32>() {
            Ok(uid) => out.push(PasswdEntry { name: fields[0].to_string(), uid, shell: fields[6].to_string() }),
            Err(_) => problems.push(Problem::at_line(path, line_no, "uid is not a number")),
        }
    }
    out
}

/// Parses `/etc/group` text into (name, gid) pairs.
pub fn parse_group(text: &str, path: &str, problems: &mut Vec<Problem>) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with('+') || line.starts_with('-') {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        match fields.get(2).map(|g| g.parse::<u32>()) {
            Some(Ok(gid)) if fields.len() == 4 => out.push((fields[0].to_string(), gid)),
            _ => problems.push(Problem::at_line(path, (i + 1) as u32, "expected name:password:gid:members")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines_parse_and_bad_ones_are_named() {
        let mut problems = Vec::new();
        let text = "root:x:0:0:root:/root:/bin/bash\nbad line\nbob:x:1000:1000::/home/bob:/bin/sh\nx:x:notanumber:0::/:/bin/sh\n";
        let entries = parse_passwd(text, "/etc/passwd", &mut problems);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1], PasswdEntry { name: "bob".into(), uid: 1000, shell: "/bin/sh".into() });
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].line, Some(2));
        assert_eq!(problems[1].line, Some(4));
    }

    proptest::proptest! {
        #[test]
        fn passwd_and_group_parsers_never_panic(s in "\\PC*") {
            let mut p = Vec::new();
            let _ = parse_passwd(&s, "/etc/passwd", &mut p);
            let _ = parse_group(&s, "/etc/group", &mut p);
        }
    }
}
