//! `/etc/login.defs`: shadow-utils' site defaults (password aging for new
//! accounts, `ENCRYPT_METHOD`, `UMASK`, UID ranges).
//!
//! Why it exists: rules about password aging and hashing of *new* passwords
//! read these values; each value keeps the line that set it so a finding can
//! cite it.
//!
//! Semantics follow shadow-utils' `def_load()` in `lib/getdef.c` (the non-econf
//! build used by Debian, Ubuntu, RHEL, Amazon Linux, Alpine's shadow package):
//! - Trailing whitespace is dropped; a line whose first non-blank character is
//!   `#`, or that is blank, is ignored.
//! - The key runs up to the first space or tab. A key with nothing after it is
//!   silently ignored by shadow-utils; here it is also ignored but reported as
//!   a [`Problem`] so an operator sees the no-op line.
//! - The value starts after the run of spaces, tabs and `"` that follows the
//!   key and ends at the first `"`: `KEY "a b"` gives `a b`, and `KEY a "b"`
//!   gives `a ` (with the space). There are NO trailing comments:
//!   `PASS_MAX_DAYS 90 # note` has the value `90 # note`, which shadow's
//!   number parsing then rejects; the text is kept so a rule can say so.
//! - Every occurrence replaces the previous one (`putdef_str`): the LAST
//!   occurrence of a key wins.
//! - Keys are case-sensitive (`strcmp` in `def_find`).
//! - getdef reads with `fgets` into a 1024-byte buffer, so a line longer than
//!   1023 bytes is read as several lines; such a line is reported as a problem.
//!
//! Not covered: shadow-utils built with libeconf (openSUSE) also reads
//! `/usr/etc/login.defs` and `login.defs.d/` drop-ins; only `/etc/login.defs`
//! is read here.

use warden_model::{Fact, LoginDefs, Problem, Settings, Source, Sourced};

use crate::RootFs;

/// The file shadow-utils reads.
pub const LOGIN_DEFS_PATH: &str = "/etc/login.defs";

/// Longest line getdef's 1024-byte `fgets` buffer holds in one piece.
const GETDEF_MAX_LINE: usize = 1023;

/// Reads `/etc/login.defs`: absent when the file does not exist, failed when it
/// cannot be read; bad lines are problems inside the collected value.
pub fn collect(fs: &RootFs) -> Fact<LoginDefs> {
    match fs.read_text(LOGIN_DEFS_PATH) {
        Ok(Some(text)) => Fact::collected(parse(LOGIN_DEFS_PATH, &text)),
        Ok(None) => Fact::Absent { reason: format!("no {LOGIN_DEFS_PATH}: shadow-utils built-in defaults apply") },
        Err(problem) => Fact::Failed { problem },
    }
}

/// Parses login.defs text as shadow-utils' getdef does (see the module docs).
pub fn parse(path: &str, text: &str) -> LoginDefs {
    let mut settings = Settings::new();
    let mut problems = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if raw.len() > GETDEF_MAX_LINE {
            problems.push(Problem::at_line(
                path,
                line_no,
                format!(
                    "line is longer than {GETDEF_MAX_LINE} bytes; shadow-utils reads it in pieces, each as its own line"
                ),
            ));
        }
        // getdef trims with isspace(), which includes \r, \v and \f.
        let line = raw.trim_end_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        let name_start = line.trim_start_matches([' ', '\t']);
        if name_start.is_empty() || name_start.starts_with('#') {
            continue;
        }
        let Some(split) = name_start.find([' ', '\t']) else {
            problems.push(Problem::at_line(
                path,
                line_no,
                format!("key {name_start} has no value; shadow-utils ignores this line"),
            ));
            continue;
        };
        let key = &name_start[..split];
        let after_key = &name_start[split + 1..];
        let value_start = after_key.trim_start_matches([' ', '\t', '"']);
        let value = match value_start.find('"') {
            Some(quote) => &value_start[..quote],
            None => value_start,
        };
        settings.insert(key.to_string(), Sourced::new(value.to_string(), Source::file(path, line_no)));
    }
    LoginDefs { path: path.to_string(), settings, problems }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Excerpt of Debian 12's default /etc/login.defs (login 1:4.13+dfsg1-1).
    const DEBIAN_12: &str = "\
#
# /etc/login.defs - Configuration control definitions for the login package.
#
MAIL_DIR        /var/mail
#MAIL_FILE      .mail
FAILLOG_ENAB\t\tyes
LOG_UNKFAIL_ENAB\tno
ERASECHAR\t0177
KILLCHAR\t025
UMASK\t\t022
HOME_MODE\t0700
#
# Password aging controls:
#
#\tPASS_MAX_DAYS\tMaximum number of days a password may be used.
#\tPASS_MIN_DAYS\tMinimum number of days allowed between password changes.
#\tPASS_WARN_AGE\tNumber of days warning given before a password expires.
#
PASS_MAX_DAYS\t99999
PASS_MIN_DAYS\t0
PASS_WARN_AGE\t7
UID_MIN\t\t\t 1000
UID_MAX\t\t\t60000
ENV_SUPATH\tPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# ENCRYPT_METHOD SHA512
USERGROUPS_ENAB yes
";

    fn value<'a>(defs: &'a LoginDefs, key: &str) -> Option<&'a str> {
        defs.settings.get(key).map(|s| s.value.as_str())
    }

    #[test]
    fn debian_12_defaults_parse_with_their_lines() {
        let defs = parse(LOGIN_DEFS_PATH, DEBIAN_12);
        assert!(defs.problems.is_empty(), "{:?}", defs.problems);
        assert_eq!(value(&defs, "PASS_MAX_DAYS"), Some("99999"));
        assert_eq!(value(&defs, "PASS_MIN_DAYS"), Some("0"));
        assert_eq!(value(&defs, "PASS_WARN_AGE"), Some("7"));
        assert_eq!(value(&defs, "UMASK"), Some("022"));
        assert_eq!(value(&defs, "UID_MIN"), Some("1000"));
        assert_eq!(value(&defs, "ENCRYPT_METHOD"), None, "commented out");
        assert_eq!(defs.settings["PASS_MAX_DAYS"].source, Source::file(LOGIN_DEFS_PATH, 19));
    }

    #[test]
    fn uncommented_encrypt_method_and_last_occurrence_wins() {
        let text = format!("{DEBIAN_12}ENCRYPT_METHOD SHA512\nPASS_MAX_DAYS 90\n");
        let defs = parse(LOGIN_DEFS_PATH, &text);
        assert_eq!(value(&defs, "ENCRYPT_METHOD"), Some("SHA512"));
        assert_eq!(value(&defs, "PASS_MAX_DAYS"), Some("90"));
        assert_eq!(defs.settings["PASS_MAX_DAYS"].source, Source::file(LOGIN_DEFS_PATH, 28));
    }

    #[test]
    fn quotes_and_trailing_text_follow_getdef() {
        let text =
            "ENV_PATH \"PATH=/bin:/usr/bin\"\nA   \"x y\"  trailing\nB 90 # no inline comments\n  C\tv  \r\nlower 1\n";
        let defs = parse("/etc/login.defs", text);
        assert_eq!(value(&defs, "ENV_PATH"), Some("PATH=/bin:/usr/bin"));
        assert_eq!(value(&defs, "A"), Some("x y"));
        assert_eq!(value(&defs, "B"), Some("90 # no inline comments"));
        assert_eq!(value(&defs, "C"), Some("v"));
        assert_eq!(value(&defs, "lower"), Some("1"));
        assert_eq!(value(&defs, "LOWER"), None, "keys are case-sensitive");
    }

    #[test]
    fn key_without_value_is_a_problem_and_parsing_goes_on() {
        let defs = parse("/etc/login.defs", "PASS_MAX_DAYS\nPASS_MIN_DAYS 1\n");
        assert_eq!(defs.problems.len(), 1);
        assert_eq!(defs.problems[0].line, Some(1));
        assert_eq!(value(&defs, "PASS_MAX_DAYS"), None);
        assert_eq!(value(&defs, "PASS_MIN_DAYS"), Some("1"));
    }

    #[test]
    fn collect_distinguishes_absent_and_present() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        assert!(matches!(collect(&fs), Fact::Absent { .. }));
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/login.defs"), "PASS_MAX_DAYS 60\n").unwrap();
        let defs = collect(&fs);
        assert_eq!(defs.value().and_then(|d| value(d, "PASS_MAX_DAYS")), Some("60"));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = parse("/etc/login.defs", &text);
        }

        #[test]
        fn parse_never_panics_on_config_like_text(text in "([A-Z_#\" \t]{0,12}[ \t\"a-z0-9]{0,12}\r?\n){0,20}") {
            let defs = parse("/etc/login.defs", &text);
            for (key, _) in defs.settings {
                proptest::prop_assert!(!key.is_empty());
            }
        }
    }
}
