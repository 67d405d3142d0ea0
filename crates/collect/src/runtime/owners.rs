//! Which installed package owns an executable: dpkg's file lists
//! (`/var/lib/dpkg/info/*.list`), apk's database (`/lib/apk/db/installed`)
//! or the file lists in rpm's package headers (`rpmdb.sqlite` or Berkeley DB
//! `Packages`).
//!
//! Why it exists: the DEP and stack-cookie rules are about *third-party*
//! executables, those the distribution did not build (Warden's definition,
//! in `docs/runtime.md`: not listed by any installed package). The
//! distribution builds its packages with its own hardening flags and answers
//! for them; a program built locally, copied in, or installed by a vendor
//! script is the host owner's to check.
//!
//! Lookups are lazy and batched: the file lists are read only for paths not
//! seen before, once per sample at most, and only lines whose file name
//! matches a wanted path's are compared (through `canonicalize`, so
//! `/bin/bash` in a list matches `/usr/bin/bash` on a merged-/usr system).
//! An rpm database is scanned one header at a time from SQLite (a Berkeley
//! DB is read whole, as the inventory reads it); rpm's `ndb` format is not
//! read, and its executables get [`PackageOwner::Unknown`], for which the
//! rules fall back to a path rule.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use warden_model::runtime::PackageOwner;

/// Largest file list or apk database read, in bytes.
const LIST_LIMIT: u64 = 64 * 1024 * 1024;

#[derive(Debug)]
enum Database {
    /// `/var/lib/dpkg/info` under the root.
    Dpkg(PathBuf),
    /// `/lib/apk/db/installed` under the root.
    Apk(PathBuf),
    /// An rpm directory under the root (the database is located at each scan).
    Rpm,
    None(String),
}

/// Package ownership lookups, cached per path.
#[derive(Debug)]
pub struct PackageOwners {
    root: PathBuf,
    database: Database,
    cache: HashMap<String, PackageOwner>,
    /// The rpm database's path once found (its name in [`PackageOwner`]s).
    rpm_database: String,
}

impl PackageOwners {
    /// Finds the package database of the root (dpkg first, then apk).
    pub fn new(root: &Path) -> Self {
        let dpkg = root.join("var/lib/dpkg/info");
        let apk = root.join("lib/apk/db/installed");
        let database = if dpkg.is_dir() {
            Database::Dpkg(dpkg)
        } else if apk.is_file() {
            Database::Apk(apk)
        } else if root.join("var/lib/rpm").is_dir() || root.join("usr/lib/sysimage/rpm").is_dir() {
            Database::Rpm
        } else {
            Database::None("no dpkg or apk database".to_string())
        };
        PackageOwners { root: root.to_path_buf(), database, cache: HashMap::new(), rpm_database: String::new() }
    }

    /// The owner of a path looked up before (by [`PackageOwners::resolve`]).
    pub fn get(&self, path: &str) -> Option<&PackageOwner> {
        self.cache.get(path)
    }

    /// Looks up the paths not looked up before, in one pass over the database.
    pub fn resolve<'a>(&mut self, paths: impl IntoIterator<Item = &'a str>) {
        let wanted: Vec<&str> = paths.into_iter().filter(|p| !self.cache.contains_key(*p)).collect();
        if wanted.is_empty() {
            return;
        }
        let scanned = match &self.database {
            Database::Dpkg(dir) => Ok(self.scan_dpkg(dir, &wanted)),
            Database::Apk(file) => Ok(self.scan_apk(file, &wanted)),
            Database::Rpm => self.scan_rpm(&wanted).map(|(database, found)| {
                self.rpm_database = database;
                found
            }),
            Database::None(reason) => Err(reason.clone()),
        };
        let found = match scanned {
            Ok(found) => found,
            Err(reason) => {
                for p in wanted {
                    self.cache.insert(p.to_string(), PackageOwner::Unknown { reason: reason.clone() });
                }
                return;
            }
        };
        let database = self.database_name();
        for p in wanted {
            let owner = match found.get(p) {
                Some(name) => PackageOwner::Package { name: name.clone(), database: database.clone() },
                None => PackageOwner::NotOwned { database: database.clone() },
            };
            self.cache.insert(p.to_string(), owner);
        }
    }

    fn database_name(&self) -> String {
        match &self.database {
            Database::Dpkg(_) => "/var/lib/dpkg".to_string(),
            Database::Apk(_) => "/lib/apk/db/installed".to_string(),
            Database::Rpm => self.rpm_database.clone(),
            Database::None(_) => String::new(),
        }
    }

    /// Whether a listed path names the wanted one: the same text, or the same
    /// file once both are canonicalized under the root.
    fn matcher<'w>(&'w self, wanted: &'w [&'w str]) -> impl Fn(&str) -> Option<&'w str> + 'w {
        let by_name: HashMap<&str, Vec<&'w str>> = wanted.iter().fold(HashMap::new(), |mut m, p| {
            let name = p.strip_suffix(" (deleted)").unwrap_or(p);
            m.entry(name.rsplit('/').next().unwrap_or(name)).or_default().push(*p);
            m
        });
        move |listed: &str| {
            let candidates = by_name.get(listed.rsplit('/').next().unwrap_or(listed))?;
            let live = |c: &str| c.strip_suffix(" (deleted)").unwrap_or(c).to_string();
            if let Some(exact) = candidates.iter().find(|c| live(c) == listed) {
                return Some(*exact);
            }
            let canonical = |p: &str| fs::canonicalize(self.root.join(live(p).trim_start_matches('/'))).ok();
            let listed = canonical(listed)?;
            candidates.iter().find(|c| canonical(c).as_ref() == Some(&listed)).copied()
        }
    }

    fn scan_dpkg(&self, dir: &Path, wanted: &[&str]) -> HashMap<String, String> {
        let matches = self.matcher(wanted);
        let mut found = HashMap::new();
        let Ok(entries) = fs::read_dir(dir) else { return found };
        let mut remaining: HashSet<&str> = wanted.iter().copied().collect();
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(package) = name.strip_suffix(".list") else { continue };
            let package = package.split(':').next().unwrap_or(package);
            // Streamed: one package's list can be several MB (google-cloud-cli's: 4 MB).
            let _unreadable_list_is_skipped =
                crate::rootfs::for_each_host_line(&entry.path().to_string_lossy(), LIST_LIMIT, |line| {
                    if let Some(p) = matches(line) {
                        found.entry(p.to_string()).or_insert_with(|| package.to_string());
                        remaining.remove(p);
                    }
                });
            if remaining.is_empty() {
                break;
            }
        }
        found
    }

    /// Every header's file list against the wanted paths; the database's
    /// path and the owners found, or why the database could not be read.
    fn scan_rpm(&self, wanted: &[&str]) -> Result<(String, HashMap<String, String>), String> {
        let fs = crate::RootFs::open(&self.root).map_err(|p| p.message)?;
        let matches = self.matcher(wanted);
        let mut found = HashMap::new();
        let database = crate::packages::rpm::for_each_file_list(&fs, |package, files| {
            for path in files {
                if let Some(p) = matches(&path) {
                    found.entry(p.to_string()).or_insert_with(|| package.to_string());
                }
            }
        })?;
        Ok((database, found))
    }

    fn scan_apk(&self, file: &Path, wanted: &[&str]) -> HashMap<String, String> {
        let matches = self.matcher(wanted);
        let mut found = HashMap::new();
        let (mut package, mut dir) = (String::new(), String::new());
        let _unreadable_database_finds_nothing =
            crate::rootfs::for_each_host_line(&file.to_string_lossy(), LIST_LIMIT, |line| {
                if let Some(p) = line.strip_prefix("P:") {
                    package = p.to_string();
                } else if let Some(d) = line.strip_prefix("F:") {
                    dir = d.to_string();
                } else if let Some(r) = line.strip_prefix("R:") {
                    let path = format!("/{dir}/{r}");
                    if let Some(p) = matches(&path) {
                        found.entry(p.to_string()).or_insert_with(|| package.clone());
                    }
                }
            });
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_lists_name_owners_across_merged_usr() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("var/lib/dpkg/info")).unwrap();
        fs::create_dir_all(r.join("usr/bin")).unwrap();
        std::os::unix::fs::symlink("usr/bin", r.join("bin")).unwrap();
        fs::write(r.join("usr/bin/bash"), b"").unwrap();
        fs::write(r.join("var/lib/dpkg/info/bash.list"), "/.\n/bin\n/bin/bash\n").unwrap();
        fs::write(r.join("var/lib/dpkg/info/libc6:amd64.list"), "/usr/bin/ldd\n").unwrap();
        let mut owners = PackageOwners::new(r);
        owners.resolve(["/usr/bin/bash", "/usr/bin/ldd", "/opt/vendor/agent"]);
        let name = |p: &str| match owners.get(p) {
            Some(PackageOwner::Package { name, .. }) => name.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(name("/usr/bin/bash"), "bash");
        assert_eq!(name("/usr/bin/ldd"), "libc6");
        assert_eq!(owners.get("/opt/vendor/agent"), Some(&PackageOwner::NotOwned { database: "/var/lib/dpkg".into() }));
    }

    /// A real rpm 4.18 SQLite database (`tests/fixtures/packages/rpm-files`,
    /// made by its `generate.sh` with rpmbuild and `rpm -i --justdb`):
    /// owners as `rpm -qf` gives them (`owners.txt`).
    #[test]
    fn rpm_headers_name_owners_as_rpm_qf_does() {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/packages/rpm-files");
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("var/lib/rpm")).unwrap();
        fs::copy(format!("{fixture}/rpmdb.sqlite"), r.join("var/lib/rpm/rpmdb.sqlite")).unwrap();
        let expected = fs::read_to_string(format!("{fixture}/owners.txt")).unwrap();
        let expected: Vec<(&str, &str)> = expected.lines().filter_map(|l| l.split_once(' ')).collect();
        assert_eq!(expected.len(), 5);
        let mut owners = PackageOwners::new(r);
        owners.resolve(expected.iter().map(|(p, _)| *p));
        for (path, owner) in &expected {
            let database = "/var/lib/rpm/rpmdb.sqlite".to_string();
            let want = match *owner {
                "-" => PackageOwner::NotOwned { database },
                name => PackageOwner::Package { name: name.to_string(), database },
            };
            assert_eq!(owners.get(path), Some(&want), "{path}");
        }
        // An ndb database is found but not read: unknown, saying so.
        let ndb = tempfile::tempdir().unwrap();
        fs::create_dir_all(ndb.path().join("usr/lib/sysimage/rpm")).unwrap();
        fs::write(ndb.path().join("usr/lib/sysimage/rpm/Packages.db"), b"").unwrap();
        let mut owners = PackageOwners::new(ndb.path());
        owners.resolve(["/usr/bin/x"]);
        assert!(
            matches!(owners.get("/usr/bin/x"), Some(PackageOwner::Unknown { reason }) if reason.contains("ndb")),
            "{:?}",
            owners.get("/usr/bin/x")
        );
    }

    #[test]
    fn apk_and_unknown_databases() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("lib/apk/db")).unwrap();
        fs::write(r.join("lib/apk/db/installed"), "P:busybox\nV:1.36\nF:bin\nR:busybox\n\nP:other\nF:usr/bin\nR:x\n")
            .unwrap();
        let mut owners = PackageOwners::new(r);
        owners.resolve(["/bin/busybox", "/usr/local/bin/tool"]);
        assert!(matches!(owners.get("/bin/busybox"), Some(PackageOwner::Package { name, .. }) if name == "busybox"));
        assert!(matches!(owners.get("/usr/local/bin/tool"), Some(PackageOwner::NotOwned { .. })));
        let empty = tempfile::tempdir().unwrap();
        let mut none = PackageOwners::new(empty.path());
        none.resolve(["/bin/x"]);
        assert!(matches!(none.get("/bin/x"), Some(PackageOwner::Unknown { .. })));
    }
}
