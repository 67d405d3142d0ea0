//! Alpine package version ordering (`.apk`).
//!
//! Why it exists: Alpine's secdb says "fixed in `1.2.3-r4`" per package; an
//! installed package is vulnerable when its version sorts before it, using
//! apk's Gentoo-derived grammar, not dpkg's or rpm's.
//!
//! # Algorithm (reference: apk-tools `src/version.c`, the tokenizer rewrite
//! shipped since apk-tools 2.14 and in 3.x: `token_first`, `token_next`,
//! `token_cmp`, `apk_version_compare_fuzzy` with `fuzzy = false`)
//!
//! Grammar: `digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`. A version is
//! read as a sequence of typed tokens, in this order of types:
//! `INITIAL_DIGIT < DIGIT < LETTER < SUFFIX < SUFFIX_NO < COMMIT_HASH <
//! REVISION_NO < END < INVALID`:
//! - the first token is the leading digit run (`INITIAL_DIGIT`; no digits: `INVALID`);
//! - `.` + digits: `DIGIT` (only after a digit token);
//! - a digit run right after a suffix: `SUFFIX_NO` (after a letter it is invalid);
//! - one lowercase letter `a-z`: `LETTER` (only after a digit token);
//! - `_` + lowercase run: `SUFFIX`, which must be one of `alpha beta pre rc`
//!   (older than no suffix) or `cvs svn git hg p` (newer), in that order;
//! - `~` + lowercase hex run: `COMMIT_HASH`;
//! - `-r` + digits: `REVISION_NO`;
//! - the end of the string: `END`; anything else, or a token out of the
//!   order the grammar allows: `INVALID` (which stops the tokenizer).
//!
//! Comparison walks both token sequences while the types agree and are below
//! `END`: `DIGIT` runs compare as byte strings if either starts with `0`
//! (Gentoo rule: `1.01 < 1.1`), otherwise numerically, like
//! `INITIAL_DIGIT`, `SUFFIX_NO` and `REVISION_NO`; letters by byte; suffixes
//! by their rank; commit hashes as byte strings. At the first difference in
//! type: equal types (both `END` or both `INVALID`) are equal; else a
//! pre-release suffix (`_alpha` .. `_rc`) on either side makes that side older;
//! else the side with the HIGHER token type is older (so `1.0 < 1.0.1`,
//! `1.0-r1 < 1.0a`, and an invalid tail sorts before everything).
//!
//! Numbers are compared exactly at any length (leading zeros stripped, longer
//! is larger); apk-tools parses them into a `uint64_t` that wraps, a
//! difference only for runs longer than 19 digits, which no real version has.
//!
//! [`compare`] is total and never panics on any input; [`validate`] is
//! `apk_version_validate`. The comparison does not allocate.
use std::cmp::Ordering;

const INITIAL_DIGIT: u8 = 0;
const DIGIT: u8 = 1;
const LETTER: u8 = 2;
const SUFFIX: u8 = 3;
const SUFFIX_NO: u8 = 4;
const COMMIT_HASH: u8 = 5;
const REVISION_NO: u8 = 6;
const END: u8 = 7;
const INVALID: u8 = 8;

/// Suffix ranks as in apk-tools; `SUFFIX_NONE` (5) is the pivot between pre- and post-release.
const SUFFIX_NONE: u8 = 5;

fn suffix_value(s: &[u8]) -> Option<u8> {
    Some(match s {
        b"alpha" => 1,
        b"beta" => 2,
        b"pre" => 3,
        b"rc" => 4,
        b"cvs" => 6,
        b"svn" => 7,
        b"git" => 8,
        b"hg" => 9,
        b"p" => 10,
        _ => return None,
    })
}

/// One token: its type, its text, and for suffixes their rank.
struct Tokens<'a> {
    rest: &'a [u8],
    token: u8,
    value: &'a [u8],
    suffix: u8,
}

impl<'a> Tokens<'a> {
    /// `token_first`: the leading digit run.
    fn first(s: &'a [u8]) -> Self {
        let mut t = Tokens { rest: s, token: INITIAL_DIGIT, value: b"", suffix: 0 };
        t.digits();
        t
    }

    /// `token_parse_digits`: an empty run makes the token invalid.
    fn digits(&mut self) {
        let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
        self.value = &self.rest[..n];
        self.rest = &self.rest[n..];
        if n == 0 {
            self.token = INVALID;
        }
    }

    /// `token_next`: reads the next token, validating that its type may follow the previous one.
    fn next(&mut self) {
        let Some(&c) = self.rest.first() else {
            self.token = END;
            return;
        };
        match c {
            b'a'..=b'z' if self.token <= DIGIT => {
                self.value = &self.rest[..1];
                self.rest = &self.rest[1..];
                self.token = LETTER;
            }
            b'.' | b'0'..=b'9' if c != b'.' || self.token <= DIGIT => {
                if c == b'.' {
                    self.rest = &self.rest[1..];
                }
                match self.token {
                    INITIAL_DIGIT | DIGIT => self.token = DIGIT,
                    SUFFIX => self.token = SUFFIX_NO,
                    _ => {
                        self.token = INVALID;
                        return;
                    }
                }
                self.digits();
            }
            b'_' if self.token <= SUFFIX_NO => {
                self.rest = &self.rest[1..];
                let n = self.rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
                self.value = &self.rest[..n];
                self.rest = &self.rest[n..];
                match suffix_value(self.value) {
                    Some(v) => {
                        self.suffix = v;
                        self.token = SUFFIX;
                    }
                    None => self.token = INVALID,
                }
            }
            b'~' if self.token < COMMIT_HASH => {
                self.rest = &self.rest[1..];
                let n = self.rest.iter().take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')).count();
                self.value = &self.rest[..n];
                self.rest = &self.rest[n..];
                self.token = if n == 0 { INVALID } else { COMMIT_HASH };
            }
            b'-' if self.token < REVISION_NO && self.rest.starts_with(b"-r") => {
                self.rest = &self.rest[2..];
                self.token = REVISION_NO;
                self.digits();
            }
            _ => self.token = INVALID,
        }
    }
}

/// Numeric comparison of two digit runs of any length.
fn cmp_number(a: &[u8], b: &[u8]) -> Ordering {
    fn strip(s: &[u8]) -> &[u8] {
        &s[s.iter().take_while(|&&c| c == b'0').count()..]
    }
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `token_cmp`: two tokens of the same type.
fn token_cmp(a: &Tokens<'_>, b: &Tokens<'_>) -> Ordering {
    match a.token {
        DIGIT if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => a.value.cmp(b.value),
        INITIAL_DIGIT | DIGIT | SUFFIX_NO | REVISION_NO => cmp_number(a.value, b.value),
        LETTER => a.value.cmp(b.value),
        SUFFIX => a.suffix.cmp(&b.suffix),
        _ => a.value.cmp(b.value),
    }
}

/// Compares two Alpine versions as `apk version -t` does. Total; never panics.
pub fn compare(a: &str, b: &str) -> Ordering {
    let mut ta = Tokens::first(a.as_bytes());
    let mut tb = Tokens::first(b.as_bytes());
    while ta.token == tb.token && ta.token < END {
        match token_cmp(&ta, &tb) {
            Ordering::Equal => {}
            other => return other,
        }
        ta.next();
        tb.next();
    }
    if ta.token == tb.token {
        return Ordering::Equal;
    }
    if ta.token == SUFFIX && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.token == SUFFIX && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    // The side whose next token has the higher type is older.
    tb.token.cmp(&ta.token)
}

/// `apk_version_validate`: the whole string must tokenize up to `END`.
pub fn validate(v: &str) -> Result<(), String> {
    let mut t = Tokens::first(v.as_bytes());
    while t.token < END {
        t.next();
    }
    if t.token == END {
        Ok(())
    } else {
        let pos = v.len() - t.rest.len();
        Err(format!("invalid apk version {v:?} (near byte {pos})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn apk_cases() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0.1", Less),
            ("1.0_alpha1", "1.0", Less),
            ("1.0_p1", "1.0", Greater),
            ("1.0-r1", "1.0", Greater),
            ("1.0-r1", "1.0a", Less),
            ("1.01", "1.1", Less),
            ("1.0_rc1", "1.0_beta9", Greater),
            ("1.0~abc-r1", "1.0~abc-r0", Greater),
            ("99999999999999999999999", "99999999999999999999998", Greater),
            ("1.0", "", Greater),
            ("", "", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
        assert!(validate("1.2.3_rc1_p2~deadbeef-r4").is_ok());
        assert!(validate("1.2.3-1").is_err());
        assert!(validate("1.2_foo").is_err());
        assert!(validate("").is_err());
    }
}
