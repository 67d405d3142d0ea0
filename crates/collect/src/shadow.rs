//! `/etc/shadow`: password aging of every account, with the hash dropped.
//!
//! Why it exists: rules about maximum password age, warning days, inactive
//! locking and accounts with an empty password need the aging fields and a
//! coarse idea of the password field, never the hash itself.
//!
//! SECURITY: the second field (the hash) is classified into a
//! [`PasswordState`] the moment the line is split and is never stored,
//! logged, formatted into a [`Problem`] or returned. No problem message quotes
//! any part of a line: problems name the path, the line number and, for a bad
//! number, the field name.
//!
//! Format (`shadow(5)`): `name:hash:lastchg:min:max:warn:inactive:expire:reserved`,
//! exactly nine fields. Empty numeric fields mean "not set" and become `None`;
//! `-1`, which shadow-utils writes for an unset field in `struct spwd`, is
//! treated the same. Blank lines and NIS compat lines (`+`/`-`) are skipped.
//! A line with the wrong field count or a non-numeric field is reported; a
//! non-numeric field becomes `None` and the rest of the entry is kept (glibc's
//! `fgetspent` would skip such a line entirely, so the problem matters).
//!
//! Password field classification:
//! - empty → [`PasswordState::Empty`] (login without a password may work);
//! - leading `!` (`usermod -L`, `passwd -l`) followed by a crypt hash →
//!   [`PasswordState::Locked`]; `!`, `!!` or `!` before a non-hash (`!*`) →
//!   [`PasswordState::NoPassword`]: there is no hash to unlock;
//! - a crypt hash (`$id$...` such as `$6$`, `$y$`, `$2b$`, traditional DES
//!   of 13 characters, or BSDi `_` + 19) → [`PasswordState::Usable`];
//! - anything else (`*`, `*LK*`, `x`, junk) → [`PasswordState::NoPassword`]:
//!   `crypt(3)` can never produce it, so no password matches.
//!
//! The pure [`parse`] returns problems beside the entries because
//! [`AccountAging`] has no problems field; [`collect_with_problems`] hands
//! them to the caller for `Snapshot::problems`.

use warden_model::{AccountAging, Fact, PasswordState, Problem, Source};

use crate::RootFs;
use crate::ids::IdMap;

/// The shadow password file.
pub const SHADOW_PATH: &str = "/etc/shadow";

/// Names of the nine fields, for problem messages.
const FIELD_NAMES: [&str; 9] = [
    "user",
    "password",
    "last_change",
    "min_days",
    "max_days",
    "warn_days",
    "inactive_days",
    "expire_date",
    "reserved",
];

/// Reads `/etc/shadow`; line problems are dropped (see [`collect_with_problems`]).
pub fn collect(fs: &RootFs, ids: &IdMap) -> Fact<Vec<AccountAging>> {
    collect_with_problems(fs, ids).0
}

/// Reads `/etc/shadow` and returns the line problems beside the fact so the
/// caller can add them to `Snapshot::problems`. Absent when the file does not
/// exist; failed when it cannot be read (typically not running as root) or
/// when it has lines but none of them parses.
pub fn collect_with_problems(fs: &RootFs, ids: &IdMap) -> (Fact<Vec<AccountAging>>, Vec<Problem>) {
    let text = match fs.read_text(SHADOW_PATH) {
        Ok(Some(text)) => text,
        Ok(None) => return (Fact::Absent { reason: format!("no {SHADOW_PATH}") }, Vec::new()),
        Err(mut problem) => {
            if problem.message == "permission denied" {
                problem.message = "permission denied (reading /etc/shadow needs root)".to_string();
            }
            return (Fact::Failed { problem }, Vec::new());
        }
    };
    let (accounts, problems) = parse(SHADOW_PATH, &text, ids);
    if accounts.is_empty() && !problems.is_empty() {
        let problem =
            Problem::file(SHADOW_PATH, format!("no line could be parsed ({} malformed line(s))", problems.len()));
        return (Fact::Failed { problem }, problems);
    }
    (Fact::collected(accounts), problems)
}

/// Parses shadow text into aging entries (uid and shell from `ids`) and line
/// problems. Never panics; never keeps or reports the password field.
pub fn parse(path: &str, text: &str, ids: &IdMap) -> (Vec<AccountAging>, Vec<Problem>) {
    let mut accounts = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() || line.starts_with('+') || line.starts_with('-') {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() != FIELD_NAMES.len() {
            problems.push(Problem::at_line(
                path,
                line_no,
                format!("expected {} colon-separated fields, found {}; line skipped", FIELD_NAMES.len(), fields.len()),
            ));
            continue;
        }
        // A shifted or corrupt line could put a hash where the name belongs;
        // never let it into the snapshot as a user name.
        let user = fields[0];
        if user.is_empty() || user.starts_with('$') {
            problems.push(Problem::at_line(path, line_no, "field user is empty or not a user name; line skipped"));
            continue;
        }
        let password = classify_password(fields[1]);
        let mut number = |field: usize| -> Option<i64> {
            let text = fields[field].trim();
            if text.is_empty() {
                return None;
            }
            match text.parse::<i64>() {
                Ok(-1) => None,
                Ok(value) => Some(value),
                Err(_) => {
                    problems.push(Problem::at_line(
                        path,
                        line_no,
                        format!("field {} is not a number", FIELD_NAMES[field]),
                    ));
                    None
                }
            }
        };
        let last_change = number(2);
        let min_days = number(3);
        let max_days = number(4);
        let warn_days = number(5);
        let inactive_days = number(6);
        let expire_date = number(7);
        let passwd_entry = ids.entry(user);
        accounts.push(AccountAging {
            user: user.to_string(),
            uid: passwd_entry.map(|e| e.uid),
            shell: passwd_entry.map(|e| e.shell.clone()),
            password,
            last_change,
            min_days,
            max_days,
            warn_days,
            inactive_days,
            expire_date,
            source: Source::file(path, line_no),
        });
    }
    (accounts, problems)
}

/// Classifies a shadow password field (see the module docs). The field is
/// only inspected, never copied.
pub fn classify_password(field: &str) -> PasswordState {
    if field.is_empty() {
        return PasswordState::Empty;
    }
    if let Some(after_bang) = field.strip_prefix('!') {
        let rest = after_bang.trim_start_matches('!');
        return if looks_like_crypt_hash(rest) { PasswordState::Locked } else { PasswordState::NoPassword };
    }
    if looks_like_crypt_hash(field) { PasswordState::Usable } else { PasswordState::NoPassword }
}

/// Whether `crypt(3)` could have produced this string: `$id$...`, 13-char
/// traditional DES or 20-char BSDi extended DES, all in the crypt alphabet.
fn looks_like_crypt_hash(field: &str) -> bool {
    let crypt_alphabet = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/';
    if let Some(rest) = field.strip_prefix('$') {
        // `$id$` then at least one more non-empty part; parameters such as
        // `rounds=5000` or bcrypt's cost use `=`, `,` and `-`.
        let mut parts = rest.split('$');
        let id_ok = parts.next().is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()));
        let remaining: Vec<&str> = parts.collect();
        return id_ok
            && remaining.iter().any(|p| !p.is_empty())
            && remaining.iter().all(|p| p.chars().all(|c| crypt_alphabet(c) || matches!(c, '=' | ',' | '-')));
    }
    if let Some(rest) = field.strip_prefix('_') {
        return rest.len() == 19 && rest.chars().all(crypt_alphabet);
    }
    field.len() == 13 && field.chars().all(crypt_alphabet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PasswdEntry;
    use proptest::prelude::*;

    fn ids() -> IdMap {
        IdMap::from_passwd(vec![
            PasswdEntry { name: "root".into(), uid: 0, shell: "/bin/bash".into() },
            PasswdEntry { name: "alice".into(), uid: 1000, shell: "/bin/zsh".into() },
        ])
    }

    const YESCRYPT: &str = "$y$j9T$PaMXbdQZ1t5d8Zsg6Ud8a/$0bGkD2n3tmDbMDXmRX7OvoGj5Pp4rIj9z4Hq0EQtOR3";
    const SHA512: &str =
        "$6$rounds=5000$saltsalt$Hj5jyZ9d0p2QyB2vGkR0zJm7E4sYbqQvWcTgNn8xHl0PkFf3aUe6rDoC1iS9tLzM.wXyV/uA";

    #[test]
    fn every_password_state() {
        assert_eq!(classify_password(""), PasswordState::Empty);
        assert_eq!(classify_password(YESCRYPT), PasswordState::Usable);
        assert_eq!(classify_password(SHA512), PasswordState::Usable);
        assert_eq!(
            classify_password("$2b$12$abcdefghijklmnopqrstuuVwXyZ0123456789abcdefghijklmno"),
            PasswordState::Usable
        );
        assert_eq!(classify_password("abJnggxhB/yWI"), PasswordState::Usable, "DES");
        assert_eq!(classify_password(&format!("!{YESCRYPT}")), PasswordState::Locked);
        assert_eq!(classify_password(&format!("!!{SHA512}")), PasswordState::Locked);
        for none in ["*", "!", "!!", "*LK*", "x", "!*", "*$6$abc$def", "$", "$6$", "$6", "short", "!x"] {
            assert_eq!(classify_password(none), PasswordState::NoPassword, "{none:?}");
        }
    }

    #[test]
    fn debian_like_shadow_parses_with_passwd_data() {
        let text = format!(
            "root:{YESCRYPT}:19700:0:99999:7:::\n\
             daemon:*:19700:0:99999:7:::\n\
             alice:!{SHA512}:19800:1:90:14:30:20000:\n\
             nopass::19800::::::\n\
             \n+nisuser::::::::\n"
        );
        let (accounts, problems) = parse(SHADOW_PATH, &text, &ids());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(accounts.len(), 4);
        let root = &accounts[0];
        assert_eq!((root.uid, root.shell.as_deref()), (Some(0), Some("/bin/bash")));
        assert_eq!(root.password, PasswordState::Usable);
        assert_eq!(
            (root.last_change, root.min_days, root.max_days, root.warn_days),
            (Some(19700), Some(0), Some(99999), Some(7))
        );
        assert_eq!((root.inactive_days, root.expire_date), (None, None));
        assert_eq!(accounts[1].password, PasswordState::NoPassword);
        assert_eq!(accounts[1].uid, None, "daemon is not in this passwd");
        let alice = &accounts[2];
        assert_eq!(alice.password, PasswordState::Locked);
        assert_eq!((alice.inactive_days, alice.expire_date), (Some(30), Some(20000)));
        assert_eq!(alice.source, Source::file(SHADOW_PATH, 3));
        assert_eq!(accounts[3].password, PasswordState::Empty);
        assert_eq!(accounts[3].max_days, None);
    }

    #[test]
    fn bad_lines_are_problems_without_quoting_and_good_ones_are_kept() {
        let text = format!(
            "root:{SHA512}:19700:0:ninety:7:::\n\
             broken:{SHA512}:1\n\
             {SHA512}\n\
             alice:*:-1:0:90:7:::\n"
        );
        let (accounts, problems) = parse(SHADOW_PATH, &text, &ids());
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].max_days, None);
        assert_eq!(accounts[1].last_change, None, "-1 means unset");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0], Problem::at_line(SHADOW_PATH, 1, "field max_days is not a number"));
        assert_eq!(problems[1].line, Some(2));
        assert_eq!(problems[2].line, Some(3));
        for problem in &problems {
            assert!(!problem.message.contains("$6$"), "{problem}");
            assert!(!problem.message.contains("broken"), "{problem}");
        }
    }

    #[test]
    fn collect_reports_absent_and_all_bad_as_failed() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs::open(dir.path()).unwrap();
        assert!(matches!(collect(&fs, &ids()), Fact::Absent { .. }));
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/shadow"), "garbage\n").unwrap();
        let (fact, problems) = collect_with_problems(&fs, &ids());
        assert!(matches!(fact, Fact::Failed { .. }));
        assert_eq!(problems.len(), 1);
        std::fs::write(dir.path().join("etc/shadow"), "root:*:1:0:99999:7:::\ngarbage\n").unwrap();
        let (fact, problems) = collect_with_problems(&fs, &ids());
        assert_eq!(fact.value().map(Vec::len), Some(1));
        assert_eq!(problems.len(), 1);
    }

    fn crypt_chars() -> impl Strategy<Value = String> {
        "[A-Za-z0-9./]{20,90}"
    }

    proptest! {
        #[test]
        fn hashes_never_reach_json_or_problems(
            body in crypt_chars(),
            id in prop::sample::select(vec!["1", "5", "6", "y", "2b", "gy", "7"]),
            prefix in prop::sample::select(vec!["", "!", "!!"]),
            max in prop::sample::select(vec!["99999", "", "abc", "-1"]),
            broken in any::<bool>(),
        ) {
            let hash = format!("${id}${body}");
            let line = if broken {
                format!("root:{prefix}{hash}:19700:0:{max}:7::\n")
            } else {
                format!("root:{prefix}{hash}:19700:0:{max}:7:::\n")
            };
            let text = format!("{line}{hash}\nbob:{hash}:{hash}:{hash}:1:2:3:4:\n");
            let (accounts, problems) = parse(SHADOW_PATH, &text, &ids());
            let json = serde_json::to_string(&accounts).unwrap();
            // The random part alone is long enough to be unique.
            prop_assert!(!json.contains(&body), "hash leaked into JSON");
            for problem in &problems {
                prop_assert!(!problem.to_string().contains(&body), "hash leaked into a problem");
            }
            let debug = format!("{accounts:?}{problems:?}");
            prop_assert!(!debug.contains(&body), "hash leaked into Debug output");
        }

        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = parse(SHADOW_PATH, &text, &ids());
        }

        #[test]
        fn parse_never_panics_on_shadow_like_text(text in "([a-z$!*:0-9]{0,12}:{0,9}[0-9a-z-]{0,6}\n){0,10}") {
            let _ = parse(SHADOW_PATH, &text, &ids());
        }
    }
}
