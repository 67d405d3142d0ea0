//! Installed Debian packages: dpkg's status database.
//!
//! Why it exists: on Debian, Ubuntu and their images, `/var/lib/dpkg/status`
//! is the record of what is installed; distroless images have no dpkg and
//! instead one file per package in `/var/lib/dpkg/status.d/` (with the same
//! stanza format, sometimes a `NAME.md5sums` file beside each, which is
//! skipped, as are hidden files and directories).
//!
//! Format (deb822(5), dpkg's `lib/dpkg/parse.c`): stanzas separated by blank
//! lines (a line empty or only whitespace; several in a row count as one);
//! each line `Field: value`, field names case-insensitive; a line starting
//! with a space or tab continues the previous field (only multi-line fields
//! such as `Description` and `Conffiles` use them; the fields read here are
//! single-line). A trailing `\r` is dropped (CRLF files), a missing final
//! newline is fine, and bytes that are not UTF-8 are replaced.
//!
//! Fields read: `Package`, `Version`, `Architecture`, `Status`, `Source`
//! (`Source: name` or `Source: name (version)`; absent: the binary's own name
//! and version; without a version: the binary's version, as dpkg-query's
//! `${source:Version}` does).
//!
//! Which stanzas are installed packages — `Status: WANT FLAG STATE`:
//! - STATE `installed` ("correctly unpacked and configured", dpkg(1)) is kept.
//! - STATE `triggers-pending` and `triggers-awaited` are ALSO kept: dpkg only
//!   enters them after the package's files were unpacked and its postinst
//!   `configure` ran; only trigger processing (ldconfig, man-db, ...) by
//!   another package is outstanding. Their code is on disk and in use, and an
//!   interrupted `apt upgrade` leaves many packages in these states; hiding
//!   them would hide vulnerable packages.
//! - STATE `not-installed`, `config-files` (only configuration files are
//!   left), `half-installed`, `unpacked` and `half-configured` (installation or
//!   configuration started and did not finish) are not installed packages and
//!   are skipped silently.
//! - FLAG must be `ok`: `reinstreq` marks a broken package.
//! - WANT (the selection: `install`, `hold`, `deinstall`, `purge`, `unknown`)
//!   is what the administrator asked for, not the state: `deinstall ok
//!   installed` is still installed and is kept.
//! - In `status.d/` files (distroless), a stanza without `Status` is kept:
//!   those files are written only for installed packages and some generators
//!   omit the field. In `/var/lib/dpkg/status` a missing Status is a problem.
//!
//! Problems (the stanza is skipped, the others are kept; path and line of
//! the stanza's first line, or of the offending line): no `Package`, an
//! installed stanza with no `Version`, a `Status` that is not three known
//! words, a line that is neither `Field: value` nor a continuation.

use warden_model::{InstalledPackage, PackageFormat, PackageInventory, Problem, Source};

use super::Outcome;
use crate::RootFs;
use crate::rootfs::join;

/// dpkg's status database.
pub const STATUS_PATH: &str = "/var/lib/dpkg/status";
/// Distroless images: one status file per package.
pub const STATUS_D_PATH: &str = "/var/lib/dpkg/status.d";

/// Reads the status file and the status.d directory, when present.
pub fn collect(fs: &RootFs) -> Vec<Outcome> {
    let mut out = Vec::new();
    match fs.read_text(STATUS_PATH) {
        Ok(Some(text)) => out.push(Outcome::Read(parse(STATUS_PATH, &text))),
        Ok(None) => {}
        Err(problem) => out.push(Outcome::Unreadable(PackageFormat::Dpkg, STATUS_PATH.to_string(), problem)),
    }
    match fs.read_dir(STATUS_D_PATH) {
        Ok(Some(names)) => {
            let mut inv = PackageInventory {
                format: PackageFormat::Dpkg,
                database: STATUS_D_PATH.to_string(),
                packages: Vec::new(),
                problems: Vec::new(),
            };
            for name in names {
                if name.starts_with('.') || name.ends_with(".md5sums") {
                    continue;
                }
                let path = join(STATUS_D_PATH, &name);
                if matches!(fs.stat(&path), Ok(Some(m)) if m.is_dir()) {
                    continue;
                }
                match fs.read_text(&path) {
                    Ok(Some(text)) => parse_into(&path, &text, true, &mut inv.packages, &mut inv.problems),
                    Ok(None) => {}
                    Err(problem) => inv.problems.push(problem),
                }
            }
            out.push(Outcome::Read(inv));
        }
        Ok(None) => {}
        Err(problem) => out.push(Outcome::Unreadable(PackageFormat::Dpkg, STATUS_D_PATH.to_string(), problem)),
    }
    out
}

/// Parses a whole `/var/lib/dpkg/status` file (Status required).
pub fn parse(path: &str, text: &str) -> PackageInventory {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    parse_into(path, text, false, &mut packages, &mut problems);
    PackageInventory { format: PackageFormat::Dpkg, database: path.to_string(), packages, problems }
}

/// The fields of one stanza, borrowed from the text.
#[derive(Default)]
struct Stanza<'a> {
    first_line: u32,
    package: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    status: Option<&'a str>,
    source: Option<&'a str>,
    /// The first bad line and why.
    bad: Option<(u32, &'static str)>,
    /// A field has been seen (continuation lines are valid).
    has_field: bool,
}

/// Parses status text, appending installed packages and problems. With
/// `status_optional` (status.d files), a stanza without Status counts as installed.
pub fn parse_into(
    path: &str,
    text: &str,
    status_optional: bool,
    packages: &mut Vec<InstalledPackage>,
    problems: &mut Vec<Problem>,
) {
    let mut stanza: Option<Stanza> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let bytes = line.as_bytes();
        // Most lines are continuations (descriptions, conffiles): test them first.
        let first = bytes.first().copied();
        if first.is_none()
            || ((first == Some(b' ') || first == Some(b'\t')) && bytes.iter().all(|&b| b == b' ' || b == b'\t'))
        {
            if let Some(s) = stanza.take() {
                finish(path, s, status_optional, packages, problems);
            }
            continue;
        }
        let s = stanza.get_or_insert_with(|| Stanza { first_line: line_no, ..Stanza::default() });
        if first == Some(b' ') || first == Some(b'\t') {
            if !s.has_field && s.bad.is_none() {
                s.bad = Some((line_no, "continuation line before any field"));
            }
            continue;
        }
        // The field name runs to the first ':' and holds no blank.
        let Some(colon) = bytes.iter().position(|&b| b == b':' || b == b' ' || b == b'\t') else {
            s.bad.get_or_insert((line_no, "line is neither `Field: value` nor a continuation"));
            continue;
        };
        if bytes[colon] != b':' || colon == 0 {
            s.bad.get_or_insert((line_no, "invalid field name"));
            continue;
        }
        s.has_field = true;
        let name = &line[..colon];
        let slot = match colon {
            7 if name.eq_ignore_ascii_case("Package") => &mut s.package,
            7 if name.eq_ignore_ascii_case("Version") => &mut s.version,
            12 if name.eq_ignore_ascii_case("Architecture") => &mut s.arch,
            6 if name.eq_ignore_ascii_case("Status") => &mut s.status,
            6 if name.eq_ignore_ascii_case("Source") => &mut s.source,
            _ => continue,
        };
        *slot = Some(line[colon + 1..].trim_matches([' ', '\t']));
    }
    if let Some(s) = stanza.take() {
        finish(path, s, status_optional, packages, problems);
    }
}

/// Whether a `Status` value is an installed package (see the module docs);
/// `Err` when it is not three known words.
pub fn status_is_installed(status: &str) -> Result<bool, String> {
    let mut words = status.split_ascii_whitespace();
    let (Some(want), Some(flag), Some(state), None) = (words.next(), words.next(), words.next(), words.next()) else {
        return Err(format!("Status {status:?} is not `want flag state`"));
    };
    if !matches!(want, "unknown" | "install" | "hold" | "deinstall" | "purge") {
        return Err(format!("Status {status:?}: unknown selection {want:?}"));
    }
    let installed = match state {
        "installed" | "triggers-pending" | "triggers-awaited" => true,
        "not-installed" | "config-files" | "half-installed" | "unpacked" | "half-configured" => false,
        _ => return Err(format!("Status {status:?}: unknown state {state:?}")),
    };
    match flag {
        "ok" => Ok(installed),
        "reinstreq" | "hold" | "hold-reinstreq" => Ok(false),
        _ => Err(format!("Status {status:?}: unknown flag {flag:?}")),
    }
}

fn finish(
    path: &str,
    s: Stanza,
    status_optional: bool,
    packages: &mut Vec<InstalledPackage>,
    problems: &mut Vec<Problem>,
) {
    let at = |message: String| Problem::at_line(path, s.first_line, message);
    if let Some((line, why)) = s.bad {
        problems.push(Problem::at_line(
            path,
            line,
            format!("{why}; the stanza starting at line {} is skipped", s.first_line),
        ));
        return;
    }
    let Some(name) = s.package.filter(|p| !p.is_empty()) else {
        problems.push(at("stanza has no Package field; skipped".to_string()));
        return;
    };
    match s.status.map(status_is_installed) {
        Some(Ok(true)) => {}
        Some(Ok(false)) => return,
        Some(Err(e)) => {
            problems.push(at(format!("package {name}: {e}; skipped")));
            return;
        }
        None if status_optional => {}
        None => {
            problems.push(at(format!("package {name}: no Status field; skipped")));
            return;
        }
    }
    let Some(version) = s.version.filter(|v| !v.is_empty()) else {
        problems.push(at(format!("package {name}: installed but no Version field; skipped")));
        return;
    };
    let (source_name, source_version) = match s.source {
        None | Some("") => (name, version),
        Some(src) => match src.split_once('(') {
            None => (src, version),
            Some((sname, rest)) => {
                let sver = rest.split_once(')').map_or(rest, |(v, _)| v).trim();
                (sname.trim_end(), if sver.is_empty() { version } else { sver })
            }
        },
    };
    packages.push(InstalledPackage {
        name: name.to_string(),
        version: version.to_string(),
        arch: s.arch.filter(|a| !a.is_empty()).map(str::to_string),
        source_name: source_name.to_string(),
        source_version: source_version.to_string(),
        running_kernel: false,
        source: Source::file(path, s.first_line),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "\
Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6168
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols for secure communication over the
 Internet.
 .
 It provides the libssl and libcrypto shared libraries.

Package: old-thing
Status: deinstall ok config-files
Architecture: all
Version: 1.0-1
Conffiles:
 /etc/old-thing.conf 0123456789abcdef0123456789abcdef obsolete

Package: libgcc-s1
Status: hold ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14

Package: man-db
Status: install ok triggers-pending
Architecture: amd64
Version: 2.11.2-2

Package: half
Status: install reinstreq half-installed
Architecture: amd64
Version: 1.0

Package: bash
Status: install ok installed
Architecture: amd64
Source: bash
Version: 5.2.15-2+b2
";

    #[test]
    fn installed_stanzas_with_sources_and_lines() {
        let inv = parse(STATUS_PATH, STATUS);
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        let got: Vec<_> = inv
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.source_name.as_str(), p.source_version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
                ("libgcc-s1", "12.2.0-14", "gcc-12", "12.2.0-14"),
                ("man-db", "2.11.2-2", "man-db", "2.11.2-2"),
                ("bash", "5.2.15-2+b2", "bash", "5.2.15-2+b2"),
            ]
        );
        assert_eq!(inv.packages[0].arch.as_deref(), Some("amd64"));
        assert_eq!(inv.packages[0].source, Source::file(STATUS_PATH, 1));
        assert_eq!(inv.packages[1].source, Source::file(STATUS_PATH, 26));
    }

    #[test]
    fn status_words() {
        assert_eq!(status_is_installed("install ok installed"), Ok(true));
        assert_eq!(status_is_installed("hold ok installed"), Ok(true));
        assert_eq!(status_is_installed("deinstall ok installed"), Ok(true));
        assert_eq!(status_is_installed("install ok triggers-awaited"), Ok(true));
        assert_eq!(status_is_installed("install ok unpacked"), Ok(false));
        assert_eq!(status_is_installed("install ok half-configured"), Ok(false));
        assert_eq!(status_is_installed("deinstall ok config-files"), Ok(false));
        assert_eq!(status_is_installed("purge ok not-installed"), Ok(false));
        assert!(status_is_installed("install ok").is_err());
        assert!(status_is_installed("install ok installed extra").is_err());
        assert!(status_is_installed("install ok sideways").is_err());
    }

    #[test]
    fn corrupt_stanzas_are_problems_and_the_rest_is_kept() {
        let text = "Package: a\nStatus: install ok installed\nVersion: 1\n\n\
                    Status: install ok installed\nVersion: 2\n\n\
                    Package: c\nStatus: install ok installed\n\n\
                    Package: d\nthis is garbage\nStatus: install ok installed\nVersion: 4\n\n\
                    \x20continuation first\nPackage: e\n\n\
                    Package: f\nStatus: install ok\nVersion: 6\n\n\
                    Package: g\nVersion: 7\n\n\
                    Package: h\nStatus: install ok installed\nVersion: 8";
        let inv = parse(STATUS_PATH, text);
        let names: Vec<_> = inv.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "h"]);
        let lines: Vec<_> = inv.problems.iter().map(|p| p.line.unwrap()).collect();
        assert_eq!(lines, [5, 8, 12, 16, 19, 23], "{:#?}", inv.problems);
        assert!(inv.problems[2].message.contains("starting at line 11"));
    }

    #[test]
    fn crlf_missing_newline_and_binary_garbage() {
        let crlf = "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\nArchitecture: all\r\n\r\nPackage: b\r\nStatus: install ok installed\r\nVersion: 2";
        let inv = parse(STATUS_PATH, crlf);
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        assert_eq!(inv.packages.len(), 2);
        assert_eq!(inv.packages[0].arch.as_deref(), Some("all"));
        assert_eq!(inv.packages[1].version, "2");
        let garbage = String::from_utf8_lossy(&[0xff, 0xfe, b':', 0, b'\n', 0x80, b'\n', b'\n']).into_owned();
        let _ = parse(STATUS_PATH, &garbage);
    }

    #[test]
    fn source_with_version_and_odd_spacing() {
        let text = "Package: x\nStatus: install ok installed\nVersion: 1:2.0-1+b1\nSource:  src   (1:2.0-1)  \n\n\
                    Package: y\nstatus: install ok installed\nVERSION: 3\nsource: ysrc ()\n";
        let inv = parse(STATUS_PATH, text);
        assert_eq!((inv.packages[0].source_name.as_str(), inv.packages[0].source_version.as_str()), ("src", "1:2.0-1"));
        assert_eq!((inv.packages[1].source_name.as_str(), inv.packages[1].source_version.as_str()), ("ysrc", "3"));
    }

    #[test]
    fn distroless_status_d() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("var/lib/dpkg/status.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("base-files"), "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n")
            .unwrap();
        std::fs::write(d.join("base-files.md5sums"), "0123  etc/debian_version\n").unwrap();
        std::fs::write(
            d.join("libc6"),
            "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u4\n",
        )
        .unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        let out = collect(&fs);
        assert_eq!(out.len(), 1);
        let Outcome::Read(inv) = &out[0] else { panic!() };
        assert_eq!(inv.database, STATUS_D_PATH);
        assert!(inv.problems.is_empty(), "{:?}", inv.problems);
        let names: Vec<_> = inv.packages.iter().map(|p| (p.name.as_str(), p.source_name.as_str())).collect();
        assert_eq!(names, [("base-files", "base-files"), ("libc6", "glibc")]);
        assert_eq!(inv.packages[1].source, Source::file("/var/lib/dpkg/status.d/libc6", 1));
    }

    #[test]
    fn this_hosts_status_parses_quickly() {
        let Ok(text) = std::fs::read_to_string(STATUS_PATH) else {
            eprintln!("no {STATUS_PATH} on this host; skipped");
            return;
        };
        let start = std::time::Instant::now();
        let runs = 20;
        let mut count = 0;
        for _ in 0..runs {
            count = parse(STATUS_PATH, &text).packages.len();
        }
        let per_run = start.elapsed() / runs;
        eprintln!("{STATUS_PATH}: {count} installed packages, {} bytes, {per_run:?} per parse", text.len());
        assert!(count > 0);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = parse(STATUS_PATH, &text);
        }

        #[test]
        fn parse_never_panics_on_stanza_like_text(
            text in "((Package|Version|Status|Source|Architecture|X)?:? ?[a-z0-9 ().:~+-]{0,12}\r?\n|[ \t][^\n]{0,5}\n|\n){0,30}"
        ) {
            let inv = parse(STATUS_PATH, &text);
            for p in inv.packages {
                proptest::prop_assert!(!p.name.is_empty() && !p.version.is_empty());
            }
        }

        #[test]
        fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse(STATUS_PATH, &String::from_utf8_lossy(&bytes));
        }
    }
}
