//! RPM package version ordering (`.rpm`: RHEL, Amazon Linux, SUSE, Fedora).
//!
//! Why it exists: RPM advisories (OVAL, ALAS, RHSA) give a fixed EVR such as
//! `1:2.3.4-5.el9_2`; an installed package is vulnerable when its EVR sorts
//! before it, and the ordering must be rpm's own, including the `~`
//! (pre-release) and `^` (post-release snapshot) separators of rpm >= 4.15.
//!
//! # Algorithm
//!
//! [`rpmvercmp`] is rpm's `rpmvercmp()` (`rpmio/rpmvercmp.c`, rpm 4.15 to
//! 4.19), applied to one field (epoch, version or release):
//! - identical strings are equal;
//! - loop: skip bytes that are not ASCII alphanumerics, `~` or `^` on both sides;
//! - `~` sorts before anything, including the end of the string;
//! - `^` sorts after the end of the string but before anything else;
//! - if either side ended, stop;
//! - take the maximal run of digits (if the left side starts with a digit)
//!   or of letters from both sides; if the right run is empty the types differ
//!   and the numeric side is newer;
//! - numeric runs: strip leading zeros, the longer run wins, else `strcmp`
//!   (exact for any length); alphabetic runs: `strcmp`;
//! - after the loop, the side with something left over is newer (separators
//!   alone never count: `1.0` equals `1.0.` and `1..0`).
//!
//! [`compare`] is the comparison of full `[epoch:]version[-release]` strings
//! done by `rpm.vercmp()` in rpm's Lua (rpm >= 4.16, `rpmio/rpmlua.c`), which
//! parses both sides with `rpmverParse` and compares with `rpmverCmp`
//! (`rpmio/rpmver.c`):
//! - `parseEVR`: the epoch is the leading run of digits if (and only if) it is
//!   followed by `:` (`:1.0` has epoch `0`); the release is after the LAST `-`
//!   of what follows the epoch digits; no `-` means no release;
//! - a missing epoch is `0`; epochs are compared with `rpmvercmp` too (so `01`
//!   equals `1`, and no integer overflow);
//! - versions are compared with `rpmvercmp`;
//! - releases: `compare_values`: both missing is equal, a missing release is
//!   OLDER than any present one (even an empty one, `1.0-`), two present
//!   releases are compared with `rpmvercmp`. So `1.0 < 1.0-1` here. (rpm's
//!   dependency matching, `rpmverOverlap`/`rpmdsCompare`, instead lets a range
//!   without release match any release; that is a matching rule, not an
//!   ordering, and belongs to the matcher.)
//!
//! The result is a total preorder; it does not depend on the locale (rpm's
//! `risdigit`/`risalpha` are ASCII only).
//!
//! # Invalid input
//!
//! rpm's Lua raises an error for an empty string (`rpmverParse` returns NULL);
//! [`compare`] treats it as the empty version instead, so it is total and never
//! panics. C strings end at NUL: a NUL byte ends the field here too.
//! [`validate`] reports what rpm itself refuses in a package EVR.
//!
//! The comparison works on byte slices and does not allocate.
use std::cmp::Ordering;

/// Truncates at the first NUL, as a C string would be.
#[inline]
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// rpm's `rpmvercmp()`: compares one field (epoch, version or release) of two EVRs.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    vercmp_bytes(c_str(a.as_bytes()), c_str(b.as_bytes()))
}

fn vercmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let is_sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        while i < a.len() && is_sep(a[i]) {
            i += 1;
        }
        while j < b.len() && is_sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        // Tilde: before everything, even the end.
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // Caret: after the end, before everything else.
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else { break };
        let isnum = ca.is_ascii_digit();
        let class = |c: &u8| if isnum { c.is_ascii_digit() } else { c.is_ascii_alphabetic() };
        let ea = i + a[i..].iter().take_while(|c| class(c)).count();
        let eb = j + b[j..].iter().take_while(|c| class(c)).count();
        // `ea > i` always holds: a[i] is alphanumeric.
        if eb == j {
            return if isnum { Ordering::Greater } else { Ordering::Less };
        }
        let (mut sa, mut sb) = (&a[i..ea], &b[j..eb]);
        if isnum {
            while let [b'0', rest @ ..] = sa {
                sa = rest;
            }
            while let [b'0', rest @ ..] = sb {
                sb = rest;
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
        i = ea;
        j = eb;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// `(epoch, version, release)` per rpm's `parseEVR`; `None` epoch means missing (`"0"`).
fn parse_evr(s: &[u8]) -> (Option<&[u8]>, &[u8], Option<&[u8]>) {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (epoch, version_start) = if s.get(digits) == Some(&b':') {
        (Some(if digits == 0 { &b"0"[..] } else { &s[..digits] }), digits + 1)
    } else {
        (None, 0)
    };
    // `strrchr(s, '-')` where s is the epoch terminator: the last `-` after the leading digits.
    match s[digits..].iter().rposition(|&c| c == b'-').map(|p| p + digits) {
        Some(dash) if dash >= version_start => (epoch, &s[version_start..dash], Some(&s[dash + 1..])),
        // A `-` can only be found at or after the epoch terminator; kept for totality.
        _ => (epoch, &s[version_start..], None),
    }
}

/// Compares two `[epoch:]version[-release]` strings exactly as `rpm.vercmp()` (rpm's Lua) does.
///
/// A missing release sorts before any present one, as in `rpmverCmp`. Total; never panics.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = parse_evr(c_str(a.as_bytes()));
    let (eb, vb, rb) = parse_evr(c_str(b.as_bytes()));
    vercmp_bytes(ea.unwrap_or(b"0"), eb.unwrap_or(b"0")).then_with(|| vercmp_bytes(va, vb)).then_with(|| {
        match (ra, rb) {
            (Some(ra), Some(rb)) => vercmp_bytes(ra, rb),
            (ra, rb) => ra.is_some().cmp(&rb.is_some()),
        }
    })
}

/// Checks an EVR string as rpm would accept it in a package header or dependency.
///
/// Rejects the empty string (rpm's Lua errors on it), NUL bytes, whitespace, a non-numeric epoch, an empty
/// version or release, and `-` inside the version (rpm's `rpmbuild` refuses `-` in Version and Release).
pub fn validate(v: &str) -> Result<(), String> {
    let s = v.as_bytes();
    if s.is_empty() {
        return Err("empty version".into());
    }
    if s.iter().any(|c| *c == 0 || c.is_ascii_whitespace()) {
        return Err("version contains whitespace or NUL".into());
    }
    let colon = s.iter().position(|&c| c == b':');
    if colon.is_some_and(|i| i == 0 || !s[..i].iter().all(u8::is_ascii_digit)) {
        return Err("epoch is not a number".into());
    }
    let (_, version, release) = parse_evr(s);
    if version.is_empty() {
        return Err("empty version".into());
    }
    if version.contains(&b'-') {
        return Err("`-` in version".into());
    }
    if release.is_some_and(<[u8]>::is_empty) {
        return Err("empty release".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn rpm_reference_cases() {
        // From rpm's tests/rpmvercmp.at.
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0.1", "2.0.1a", Less),
            ("5.5p1", "5.5p2", Less),
            ("5.5p10", "5.5p1", Greater),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "8", Less),
            ("5.5p1", "5.5.p1", Equal),
            ("5.6p1", "5.5.p1", Greater),
            ("10b2", "10a1", Greater),
            ("1b.fc17", "1b.fc17", Equal),
            ("1.fc17", "1g.fc17", Less),
            ("1.0a", "1.0", Greater),
            ("a+", "a_", Equal),
            ("+a", "_a", Equal),
            ("+", "_", Equal),
            ("1.0~rc1", "1.0~rc1", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0", Greater),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.01", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("1.0^20160101^git1", "1.0^20160101", Greater),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
            ("1.0^git1", "1.0^git1~pre", Greater),
            ("000000000000000000000000000000001", "1", Equal),
            ("123456789012345678901234567890", "123456789012345678901234567889", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(rpmvercmp(a, b), want, "{a} vs {b}");
            assert_eq!(rpmvercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn evr_cases() {
        assert_eq!(compare("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(compare("0:1.0-1", "1.0-1"), Equal);
        assert_eq!(compare(":1.0", "1.0"), Equal);
        assert_eq!(compare("1.0", "1.0-5"), Less);
        assert_eq!(compare("1.0-", "1.0"), Greater);
        assert_eq!(compare("1.0-1", "1.0-2"), Less);
        assert_eq!(compare("1.0-1-2", "1.0-1-1"), Greater);
        assert_eq!(compare("a:1", "a:1"), Equal);
        assert_eq!(compare("", "0"), Less);
        assert!(validate("1:2.3-4.el9").is_ok());
        assert!(validate("").is_err());
        assert!(validate("x:1").is_err());
        assert!(validate("1.0-").is_err());
        assert!(validate("1-0-1").is_err());
    }
}
