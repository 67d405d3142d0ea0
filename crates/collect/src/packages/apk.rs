//! Installed Alpine packages: apk's `/lib/apk/db/installed`.
//!
//! Why it exists: Alpine hosts and images record their installed packages
//! there (apk-tools 2; the file lists only installed packages, there is no
//! status to filter on).
//!
//! Format (apk-tools `src/database.c`, `apk_db_index_read`, and the
//! `apk-package` field letters): stanzas separated by blank lines; every line
//! is one letter, `:`, value. Letters read: `P` name, `V` version (apk's full
//! `version-rN`), `A` architecture, `o` origin (the aports source package;
//! absent: the package's own name). The source version is the package
//! version: every subpackage of an aport is built with the aport's
//! `pkgver-rpkgrel`. Other letters (file lists `F`/`R`/`Z`, dependencies,
//! ...) are ignored. A trailing `\r` is dropped, a missing final newline is
//! fine, and non-UTF-8 bytes are replaced.
//!
//! Problems (the stanza is skipped, the others are kept; path and the line of
//! the stanza's first line or of the offending line): no `P`, no `V`, a line
//! that is not `letter:value`.

use warden_model::{InstalledPackage, PackageFormat, PackageInventory, Problem, Source};

use super::Outcome;
use crate::RootFs;

/// apk's installed database.
pub const INSTALLED_PATH: &str = "/lib/apk/db/installed";

/// Reads the installed database, when present.
pub fn collect(fs: &RootFs) -> Vec<Outcome> {
    match fs.read_text(INSTALLED_PATH) {
        Ok(Some(text)) => vec![Outcome::Read(parse(INSTALLED_PATH, &text))],
        Ok(None) => Vec::new(),
        Err(problem) => vec![Outcome::Unreadable(PackageFormat::Apk, INSTALLED_PATH.to_string(), problem)],
    }
}

#[derive(Default)]
struct Stanza<'a> {
    first_line: u32,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    origin: Option<&'a str>,
    bad: Option<u32>,
}

/// Parses the installed database text (see the module docs).
pub fn parse(path: &str, text: &str) -> PackageInventory {
    let mut inv = PackageInventory {
        format: PackageFormat::Apk,
        database: path.to_string(),
        packages: Vec::new(),
        problems: Vec::new(),
    };
    let mut stanza: Option<Stanza> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim_matches([' ', '\t']).is_empty() {
            if let Some(s) = stanza.take() {
                finish(path, s, &mut inv);
            }
            continue;
        }
        let s = stanza.get_or_insert_with(|| Stanza { first_line: line_no, ..Stanza::default() });
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b':' || !bytes[0].is_ascii_alphabetic() {
            s.bad.get_or_insert(line_no);
            continue;
        }
        let value = &line[2..];
        match bytes[0] {
            b'P' => s.name = Some(value),
            b'V' => s.version = Some(value),
            b'A' => s.arch = Some(value),
            b'o' => s.origin = Some(value),
            _ => {}
        }
    }
    if let Some(s) = stanza.take() {
        finish(path, s, &mut inv);
    }
    inv
}

fn finish(path: &str, s: Stanza, inv: &mut PackageInventory) {
    if let Some(line) = s.bad {
        inv.problems.push(Problem::at_line(
            path,
            line,
            format!("line is not `letter:value`; the stanza starting at line {} is skipped", s.first_line),
        ));
        return;
    }
    let at = |message: String| Problem::at_line(path, s.first_line, message);
    let Some(name) = s.name.filter(|n| !n.is_empty()) else {
        inv.problems.push(at("stanza has no P: (package name); skipped".to_string()));
        return;
    };
    let Some(version) = s.version.filter(|v| !v.is_empty()) else {
        inv.problems.push(at(format!("package {name}: no V: (version); skipped")));
        return;
    };
    inv.packages.push(InstalledPackage {
        name: name.to_string(),
        version: version.to_string(),
        arch: s.arch.filter(|a| !a.is_empty()).map(str::to_string),
        source_name: s.origin.filter(|o| !o.is_empty()).unwrap_or(name).to_string(),
        source_version: version.to_string(),
        running_kernel: false,
        source: Source::file(path, s.first_line),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Excerpt of an Alpine 3.19 `/lib/apk/db/installed`.
    const INSTALLED: &str = "\
C:Q1Ef6QzY4RFbUu7Z0GmPMvPbO+Na8=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407329
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1701862440
c:c4f5bd4a4cf58cbe0e2a4d7ec7b4d1ad1b76ff4d
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1rw3ZGf8ZTm+0RFDvQF5bOqp2jBI=

C:Q1xyz=
P:libcrypto3
V:3.1.4-r2
A:x86_64
o:openssl
D:so:libc.musl-x86_64.so.1

C:Q1abc=
P:alpine-baselayout-data
V:3.4.3-r2
A:x86_64
";

    #[test]
    fn reads_names_versions_origins_and_lines() {
        let inv = parse(INSTALLED_PATH, INSTALLED);
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        let got: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.source_name.as_str(), p.source.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("musl", "1.2.4_git20230717-r4", "musl", Source::file(INSTALLED_PATH, 1)),
                ("libcrypto3", "3.1.4-r2", "openssl", Source::file(INSTALLED_PATH, 19)),
                ("alpine-baselayout-data", "3.4.3-r2", "alpine-baselayout-data", Source::file(INSTALLED_PATH, 26)),
            ]
        );
        assert_eq!(inv.packages[1].source_version, "3.1.4-r2");
        assert_eq!(inv.packages[1].arch.as_deref(), Some("x86_64"));
    }

    #[test]
    fn corrupt_stanzas_are_problems() {
        let text = "P:a\nV:1\n\nV:2\n\nP:c\n\nP:d\ngarbage\nV:4\n\r\nP:e\r\nV:5";
        let inv = parse(INSTALLED_PATH, text);
        let names: Vec<_> = inv.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "e"]);
        let lines: Vec<_> = inv.problems.iter().map(|p| p.line.unwrap()).collect();
        assert_eq!(lines, [4, 6, 9]);
    }

    #[test]
    fn collect_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib/apk/db")).unwrap();
        std::fs::write(dir.path().join("lib/apk/db/installed"), INSTALLED).unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        let out = collect(&fs);
        let [Outcome::Read(inv)] = out.as_slice() else { panic!("{out:?}") };
        assert_eq!(inv.packages.len(), 3);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = parse(INSTALLED_PATH, &text);
        }

        #[test]
        fn parse_never_panics_on_stanza_like_text(text in "([PVAoxé]?:?[a-z0-9.-]{0,8}\r?\n|\n){0,30}") {
            let inv = parse(INSTALLED_PATH, &text);
            for p in inv.packages {
                proptest::prop_assert!(!p.name.is_empty() && !p.version.is_empty());
            }
        }

        #[test]
        fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse(INSTALLED_PATH, &String::from_utf8_lossy(&bytes));
        }
    }
}
