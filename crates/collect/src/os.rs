//! Host identity: `/etc/os-release` and the host name.
//!
//! Why it exists: rules differ by distribution (package names, PAM layout,
//! defaults), so the snapshot records which OS the root holds and a coarse
//! [`OsFamily`].
//!
//! Semantics (os-release(5)): `/etc/os-release` is read; only when it does
//! not exist is `/usr/lib/os-release` read (an unreadable `/etc/os-release`
//! is a failure, not a reason to fall back, since that is what systemd does).
//! Neither file → [`Fact::Absent`]. Lines are `KEY=value` with shell-like
//! quoting: double quotes (inside which `\` escapes `"`, `\`, `$` and `` ` ``),
//! single quotes (literal) and unquoted backslash escapes. Blank lines and
//! lines starting with `#` are ignored; malformed lines are skipped, as
//! systemd's parser does. A missing `ID` defaults to `linux` (os-release(5)).
//!
//! The host name is the first non-comment line of `/etc/hostname`; when the
//! root is live and that file is missing or holds no name, the running
//! kernel's `/proc/sys/kernel/hostname` is used.

use std::collections::HashMap;

use warden_model::{Fact, OsFamily, OsRelease};

use crate::RootFs;
use crate::rootfs::read_host_file;

/// The os-release files, in lookup order.
pub const OS_RELEASE_PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// The host name of the root (see the module documentation).
pub fn hostname(fs: &RootFs) -> Option<String> {
    let from_file = match fs.read_text("/etc/hostname") {
        Ok(Some(text)) => parse_hostname(&text),
        // Unreadable: say nothing rather than guess; the kernel's name is
        // only used when the file is simply missing or empty.
        Err(_) => return None,
        Ok(None) => None,
    };
    if from_file.is_some() || !fs.is_live() {
        return from_file;
    }
    read_host_file("/proc/sys/kernel/hostname", 4096).ok().and_then(|text| parse_hostname(&text))
}

/// The EC2 instance id of a live Nitro instance: its DMI board asset tag
/// (`/sys/devices/virtual/dmi/id/board_asset_tag`), which EC2 sets to the
/// instance id. Not read from a mounted root (its /sys is not that host's);
/// anything but a well-formed `i-` id (other clouds and vendors put asset
/// numbers there) is ignored.
pub fn ec2_instance_id(fs: &RootFs) -> Option<String> {
    if !fs.is_live() {
        return None;
    }
    let text = read_host_file("/sys/devices/virtual/dmi/id/board_asset_tag", 4096).ok()?;
    parse_ec2_instance_id(&text)
}

/// `i-` and 8 or 17 lowercase hex digits, trimmed; anything else is not an instance id.
pub fn parse_ec2_instance_id(text: &str) -> Option<String> {
    let id = text.trim();
    let hex = id.strip_prefix("i-")?;
    let well_formed =
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    well_formed.then(|| id.to_string())
}

/// The first line of a hostname file that is neither blank nor a comment, trimmed.
pub fn parse_hostname(text: &str) -> Option<String> {
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string)
}

/// Reads and parses the os-release file of the root.
pub fn os_release(fs: &RootFs) -> Fact<OsRelease> {
    for path in OS_RELEASE_PATHS {
        match fs.read_text(path) {
            Ok(Some(text)) => return Fact::collected(parse_os_release(&text, path)),
            Ok(None) => continue,
            Err(problem) => return Fact::Failed { problem },
        }
    }
    Fact::Absent { reason: "neither /etc/os-release nor /usr/lib/os-release exists".to_string() }
}

/// Parses os-release text read from `path`.
pub fn parse_os_release(text: &str, path: &str) -> OsRelease {
    let vars = parse_assignments(text);
    let non_empty = |key: &str| vars.get(key).filter(|v| !v.is_empty()).cloned();
    let id = non_empty("ID").unwrap_or_else(|| "linux".to_string());
    let id_like: Vec<String> =
        vars.get("ID_LIKE").map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default();
    let family = family_of(&id, &id_like);
    OsRelease {
        path: path.to_string(),
        id,
        id_like,
        version_id: non_empty("VERSION_ID"),
        version_codename: non_empty("VERSION_CODENAME"),
        pretty_name: non_empty("PRETTY_NAME"),
        family,
    }
}

/// Parses `KEY=value` lines (os-release, `/etc/default/grub`) into a map; a
/// later assignment of the same key replaces an earlier one, as in a shell.
pub fn parse_assignments(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in text.lines() {
        if let Some((key, value)) = parse_assignment(line) {
            vars.insert(key.to_string(), value);
        }
    }
    vars
}

/// One `KEY=value` line: the key and the unquoted value. `None` for blank
/// lines, comments and lines that are not assignments. A leading `export `
/// is accepted (some shell-sourced files use it).
pub fn parse_assignment(line: &str) -> Option<(&str, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").map(str::trim_start).unwrap_or(line);
    let (key, raw) = line.split_once('=')?;
    let valid_key = !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !key.as_bytes()[0].is_ascii_digit();
    if !valid_key {
        return None;
    }
    Some((key, shell_unquote(raw)))
}

/// Removes shell quoting from one shell word (the value after `=`): double
/// quotes (where `\` escapes only `"`, `\`, `$`, `` ` `` and a newline),
/// single quotes (literal) and unquoted `\x`. The word ends at the first
/// unquoted whitespace; what follows (e.g. a `# comment`) is ignored. An
/// unterminated quote takes the rest of the line. No expansion is done
/// (os-release(5) forbids it).
pub fn shell_unquote(raw: &str) -> String {
    shell_word(raw, None)
}

/// [`shell_unquote`] that also expands `$NAME` and `${NAME}` outside single
/// quotes from `vars` (unknown names expand to nothing, as in a shell).
/// Command substitution and other expansions are kept literally.
pub fn shell_word(raw: &str, vars: Option<&HashMap<String, String>>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => out.push(e),
                            Some('\n') => {}
                            Some(other) => {
                                out.push('\\');
                                out.push(other);
                            }
                            None => out.push('\\'),
                        },
                        '$' if vars.is_some() => expand(&mut chars, vars, &mut out),
                        other => out.push(other),
                    }
                }
            }
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '\\' => {
                if let Some(e) = chars.next() {
                    out.push(e);
                }
            }
            '$' if vars.is_some() => expand(&mut chars, vars, &mut out),
            c if c.is_whitespace() => break,
            other => out.push(other),
        }
    }
    out
}

/// Expands the variable reference after a `$` (already consumed).
fn expand(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    vars: Option<&HashMap<String, String>>,
    out: &mut String,
) {
    let braced = chars.peek() == Some(&'{');
    if braced {
        chars.next();
    }
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_alphanumeric() || c == '_' {
            name.push(c);
            chars.next();
        } else {
            break;
        }
    }
    if braced {
        if chars.peek() == Some(&'}') {
            chars.next();
        } else {
            // Not a plain ${NAME}: keep it as written.
            out.push_str("${");
            out.push_str(&name);
            return;
        }
    }
    if name.is_empty() {
        out.push('$');
        return;
    }
    if let Some(value) = vars.and_then(|v| v.get(&name)) {
        out.push_str(value);
    }
}

/// The family of an `ID` and `ID_LIKE`. `ID` decides when it is known;
/// otherwise the first `ID_LIKE` entry that names a known family does.
pub fn family_of(id: &str, id_like: &[String]) -> OsFamily {
    if let Some(family) = family_of_id(id) {
        return family;
    }
    id_like.iter().find_map(|like| family_of_id(like)).unwrap_or(OsFamily::Other)
}

fn family_of_id(id: &str) -> Option<OsFamily> {
    match id {
        "debian" | "ubuntu" => Some(OsFamily::Debian),
        "rhel" | "centos" | "rocky" | "almalinux" | "fedora" | "amzn" | "ol" => Some(OsFamily::Rhel),
        "alpine" => Some(OsFamily::Alpine),
        "sles" | "sled" | "suse" => Some(OsFamily::Suse),
        _ if id.starts_with("opensuse") => Some(OsFamily::Suse),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn fixture(name: &str) -> OsRelease {
        let path = format!("{}/tests/fixtures/os-release/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = fs::read_to_string(&path).expect("fixture exists");
        parse_os_release(&text, "/etc/os-release")
    }

    /// (fixture, ID, ID_LIKE, VERSION_ID, VERSION_CODENAME, PRETTY_NAME, family).
    type Expected = (
        &'static str,
        &'static str,
        &'static [&'static str],
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
        OsFamily,
    );

    #[test]
    fn real_distributions_parse_with_their_family() {
        let cases: [Expected; 7] = [
            (
                "debian-12",
                "debian",
                &[],
                Some("12"),
                Some("bookworm"),
                "Debian GNU/Linux 12 (bookworm)",
                OsFamily::Debian,
            ),
            ("ubuntu-24.04", "ubuntu", &["debian"], Some("24.04"), Some("noble"), "Ubuntu 24.04 LTS", OsFamily::Debian),
            (
                "rocky-9",
                "rocky",
                &["rhel", "centos", "fedora"],
                Some("9.4"),
                None,
                "Rocky Linux 9.4 (Blue Onyx)",
                OsFamily::Rhel,
            ),
            (
                "almalinux-9",
                "almalinux",
                &["rhel", "centos", "fedora"],
                Some("9.4"),
                None,
                "AlmaLinux 9.4 (Seafoam Ocelot)",
                OsFamily::Rhel,
            ),
            ("amzn-2023", "amzn", &["fedora"], Some("2023"), None, "Amazon Linux 2023.5.20240624", OsFamily::Rhel),
            ("alpine-3.20", "alpine", &[], Some("3.20.3"), None, "Alpine Linux v3.20", OsFamily::Alpine),
            ("sles-15", "sles", &["suse"], Some("15.5"), None, "SUSE Linux Enterprise Server 15 SP5", OsFamily::Suse),
        ];
        for (file, id, like, version, codename, pretty, family) in cases {
            let os = fixture(file);
            assert_eq!(os.id, id, "{file}");
            assert_eq!(os.id_like, like.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{file}");
            assert_eq!(os.version_id.as_deref(), version, "{file}");
            assert_eq!(os.version_codename.as_deref(), codename, "{file}");
            assert_eq!(os.pretty_name.as_deref(), Some(pretty), "{file}");
            assert_eq!(os.family, family, "{file}");
        }
    }

    #[test]
    fn shell_quoting_follows_os_release_5() {
        assert_eq!(shell_unquote(r#""a \"b\" \$c \\ \`d\` \n""#), r#"a "b" $c \ `d` \n"#);
        assert_eq!(shell_unquote(r#"'single \"x\" $y'"#), r#"single \"x\" $y"#);
        assert_eq!(shell_unquote(r"plain\ word"), "plain word");
        assert_eq!(shell_unquote(r#"ab"cd"'ef' # trailing comment"#), "abcdef");
        assert_eq!(shell_unquote(r#""unterminated"#), "unterminated");
        assert_eq!(shell_unquote(""), "");
        let vars: HashMap<String, String> = [("A".to_string(), "x y".to_string())].into();
        assert_eq!(shell_word(r#""$A ${A} $B '$A'" '$A' $"#, Some(&vars)), "x y x y  'x y'");
        assert_eq!(shell_word("pre${A}post${", Some(&vars)), "prex ypost${");
    }

    #[test]
    fn family_comes_from_id_then_id_like() {
        let like = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(family_of("linuxmint", &like(&["ubuntu", "debian"])), OsFamily::Debian);
        assert_eq!(family_of("opensuse-leap", &like(&["suse", "opensuse"])), OsFamily::Suse);
        assert_eq!(family_of("opensuse-tumbleweed", &[]), OsFamily::Suse);
        assert_eq!(family_of("ol", &like(&["fedora"])), OsFamily::Rhel);
        assert_eq!(family_of("eurolinux", &like(&["rhel", "fedora", "centos"])), OsFamily::Rhel);
        assert_eq!(family_of("arch", &[]), OsFamily::Other);
        assert_eq!(parse_os_release("", "/etc/os-release").id, "linux");
    }

    #[test]
    fn lookup_falls_back_to_usr_lib_and_reports_absence() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootFs::open(dir.path()).unwrap();
        assert!(matches!(os_release(&root), Fact::Absent { .. }));
        fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
        fs::write(dir.path().join("usr/lib/os-release"), "ID=alpine\nVERSION_ID=3.20.3\n").unwrap();
        let os = os_release(&root).value().cloned().unwrap();
        assert_eq!((os.path.as_str(), os.family), ("/usr/lib/os-release", OsFamily::Alpine));
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        // Debian's /etc/os-release is a relative symlink into /usr/lib.
        std::os::unix::fs::symlink("../usr/lib/os-release", dir.path().join("etc/os-release")).unwrap();
        assert_eq!(os_release(&root).value().map(|o| o.path.clone()).as_deref(), Some("/etc/os-release"));
        fs::remove_file(dir.path().join("etc/os-release")).unwrap();
        fs::create_dir(dir.path().join("etc/os-release")).unwrap();
        assert!(matches!(os_release(&root), Fact::Failed { .. }));
    }

    #[test]
    fn hostname_skips_comments_and_blank_lines() {
        assert_eq!(parse_hostname("# set by cloud-init\n\n  web-01 \nother\n").as_deref(), Some("web-01"));
        assert_eq!(parse_hostname("\n# only a comment\n"), None);
        let dir = tempfile::tempdir().unwrap();
        let root = RootFs::open(dir.path()).unwrap();
        // Not live: no fallback to the assessing machine's kernel name.
        assert_eq!(hostname(&root), None);
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/hostname"), "db-02\n").unwrap();
        assert_eq!(hostname(&root).as_deref(), Some("db-02"));
    }

    #[test]
    fn ec2_instance_ids_are_taken_only_when_well_formed() {
        assert_eq!(parse_ec2_instance_id("i-0abc123def4567890\n").as_deref(), Some("i-0abc123def4567890"));
        assert_eq!(parse_ec2_instance_id("i-1a2b3c4d").as_deref(), Some("i-1a2b3c4d"));
        for other in ["", "Default string", "i-", "i-0ABC123DEF4567890", "i-0abc123def456789", "x-0abc123def4567890"] {
            assert_eq!(parse_ec2_instance_id(other), None, "{other:?}");
        }
        // A mounted root's /sys is not that host's: never read.
        let dir = tempfile::tempdir().unwrap();
        let tag = dir.path().join("sys/devices/virtual/dmi/id");
        fs::create_dir_all(&tag).unwrap();
        fs::write(tag.join("board_asset_tag"), "i-0abc123def4567890\n").unwrap();
        assert_eq!(ec2_instance_id(&RootFs::open(dir.path()).unwrap()), None);
    }

    proptest::proptest! {
        #[test]
        fn os_release_parser_never_panics(s in "\\PC*") {
            let _ = parse_os_release(&s, "/etc/os-release");
            let _ = shell_unquote(&s);
            let _ = shell_word(&s, Some(&HashMap::new()));
        }
        #[test]
        fn os_release_parser_never_panics_on_quote_soup(s in "[A-Z_=\"'\\\\ #\n a-z]{0,200}") {
            let _ = parse_os_release(&s, "/etc/os-release");
        }
    }
}
