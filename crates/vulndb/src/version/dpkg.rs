//! Debian package version ordering (`.deb`, dpkg/apt).
//!
//! Why it exists: Debian advisories (OVAL, the security tracker) say "fixed in
//! `1:2.3-4+deb12u1`"; deciding whether an installed package is vulnerable is
//! one version comparison, and it must agree with dpkg/apt bit for bit
//! (epochs, `~` pre-releases, `+debNuM` backports) or Warden reports false
//! positives and, worse, misses real ones.
//!
//! # Algorithm (reference: dpkg `lib/dpkg/version.c` `dpkg_version_compare` /
//! `verrevcmp`, and `lib/dpkg/parsehelp.c` `parseversion`, dpkg 1.21)
//!
//! A version is `[epoch:]upstream[-revision]`:
//! - the epoch is everything before the FIRST `:` (missing: `0`);
//! - the revision is everything after the LAST `-` of the rest (missing: empty,
//!   which compares equal to `0`);
//! - epoch, then upstream, then revision are compared with `verrevcmp`.
//!
//! `verrevcmp` alternates two phases until both strings are exhausted:
//! 1. the non-digit prefixes are compared byte by byte with `order()`: `~`
//!    is `-1` (before everything, even the end of the string), the end of the
//!    string and digits are `0`, ASCII letters are their code, any other byte
//!    is its code `+ 256` (letters sort before non-letters);
//! 2. the digit runs are compared numerically: leading zeros are skipped, then
//!    the longer run is larger, else the first differing digit decides. This
//!    is exact for arbitrarily long runs (no integer conversion, no overflow).
//!
//! Bytes `>= 0x80` get `order() = (signed char) + 256`, i.e. `byte` itself,
//! because dpkg and apt run `order()` on a plain `char`, signed on amd64 (the
//! platform of our oracle). Only ASCII counts as digit or letter (`c_isdigit`,
//! `c_isalpha`).
//!
//! # Invalid input
//!
//! dpkg's `parseversion` rejects some strings (empty, embedded blanks, an
//! empty or non-numeric epoch, an empty upstream or revision) and only warns on
//! others (upstream not starting with a digit, bytes outside `[A-Za-z0-9.+~-:]`).
//! [`validate`] reports both kinds. [`compare`] never fails and never panics.
//! On every string dpkg accepts it is exactly dpkg's order; on the others it
//! follows apt's `debVersioningSystem::DoCmpVersion` (apt-pkg/deb/debversion.cc,
//! what `apt_pkg.version_compare` runs), so that it stays total and matches
//! our oracle:
//! - the epoch is compared with `verrevcmp` too: numeric order for numeric
//!   epochs (without dpkg's `INT_MAX` limit), apt's order for the rest;
//! - a leading `:` does not start an (empty) epoch: it stays in the upstream;
//! - a missing revision is `0`, and apt's `CmpFragment` differs from
//!   `verrevcmp` in one way: an EMPTY part is older than any non-empty one
//!   (newer if that one starts with `~`), even `0`. Only invalid strings have
//!   an empty part (`1.0-` has an empty revision: `1.0- < 1.0`; `1:` an empty
//!   upstream), so dpkg's order is unchanged;
//! - a `-` right at the start of the upstream (`1:-5`) does not start a
//!   revision: apt then ignores the rest (`1:-5 = 1:-7 = 1:`).
//!
//! Blanks are not trimmed: callers pass field values, not raw lines.
//!
//! The comparison works on byte slices and does not allocate.
use std::cmp::Ordering;

/// `(epoch, upstream, revision)` as sub-slices of the input (`None`: no revision); never allocates.
fn split(v: &[u8]) -> (&[u8], &[u8], Option<&[u8]>) {
    let (epoch, rest) = match v.iter().position(|&c| c == b':') {
        Some(i) if i > 0 => (&v[..i], &v[i + 1..]),
        _ => (&b""[..], v),
    };
    match rest.iter().rposition(|&c| c == b'-') {
        // apt: a `-` at the start of the upstream leaves an empty upstream and no revision.
        Some(0) => (epoch, &b""[..], None),
        Some(i) => (epoch, &rest[..i], Some(&rest[i + 1..])),
        None => (epoch, rest, None),
    }
}

/// apt's `CmpFragment`: `verrevcmp`, except that an empty part sorts before any non-empty one (after it if that
/// one starts with `~`). Only reachable with versions dpkg rejects.
fn cmp_fragment(a: &[u8], b: &[u8]) -> Ordering {
    match (a.first(), b.first()) {
        (None, None) => Ordering::Equal,
        (None, Some(&c)) => {
            if c == b'~' {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(&c), None) => {
            if c == b'~' {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        _ => verrevcmp(a, b),
    }
}

/// dpkg's `order()`: the weight of one byte of a non-digit run (`None` is the end of the string).
#[inline]
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        // `c + 256` on a signed `char`: bytes >= 0x80 are negative there.
        Some(c) => i32::from(c as i8) + 256,
    }
}

/// dpkg's `verrevcmp` over byte slices: compares one version part (epoch, upstream or revision).
pub fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0usize, 0usize);
    let at = |k: usize| a.get(k).copied();
    let bt = |k: usize| b.get(k).copied();
    let is_digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
    while i < a.len() || j < b.len() {
        // Phase 1: the non-digit runs, byte by byte with `order()`.
        while (i < a.len() && !is_digit(at(i))) || (j < b.len() && !is_digit(bt(j))) {
            let (ac, bc) = (order(at(i)), order(bt(j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        // Phase 2: the digit runs, numerically, without converting them.
        while at(i) == Some(b'0') {
            i += 1;
        }
        while bt(j) == Some(b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while is_digit(at(i)) && is_digit(bt(j)) {
            if first_diff == Ordering::Equal {
                first_diff = at(i).cmp(&bt(j));
            }
            i += 1;
            j += 1;
        }
        if is_digit(at(i)) {
            return Ordering::Greater;
        }
        if is_digit(bt(j)) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// Compares two Debian versions `[epoch:]upstream[-revision]` as dpkg and apt do. Total; never panics.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a.as_bytes());
    let (eb, ub, rb) = split(b.as_bytes());
    verrevcmp(ea, eb).then_with(|| cmp_fragment(ua, ub)).then_with(|| {
        // A missing revision is `0`.
        cmp_fragment(ra.unwrap_or(b"0"), rb.unwrap_or(b"0"))
    })
}

/// Checks `v` against dpkg's `parseversion` rules.
///
/// Returns `Err` for what dpkg rejects (empty, blanks, bad epoch, empty upstream or revision) and also for
/// what dpkg only warns about (upstream not starting with a digit, invalid characters); the message says which.
pub fn validate(v: &str) -> Result<(), String> {
    let s = v.as_bytes();
    if s.is_empty() {
        return Err("version string is empty".into());
    }
    if s.iter().any(|c| *c == b' ' || *c == b'\t') {
        return Err("version string has embedded spaces".into());
    }
    let (epoch_end, rest) = match s.iter().position(|&c| c == b':') {
        Some(i) => (Some(i), &s[i + 1..]),
        None => (None, s),
    };
    if let Some(i) = epoch_end {
        let epoch = &s[..i];
        if epoch.is_empty() {
            return Err("epoch in version is empty".into());
        }
        if !epoch.iter().all(u8::is_ascii_digit) {
            return Err("epoch in version is not number".into());
        }
        let digits = epoch.iter().skip_while(|&&c| c == b'0').count();
        if digits > 10 || epoch.iter().fold(0u64, |n, &c| n.saturating_mul(10) + u64::from(c - b'0')) > i32::MAX as u64
        {
            return Err("epoch in version is too big".into());
        }
        if rest.is_empty() {
            return Err("nothing after colon in version number".into());
        }
    }
    let (upstream, revision) = match rest.iter().rposition(|&c| c == b'-') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if revision.is_some_and(<[u8]>::is_empty) {
        return Err("revision number is empty".into());
    }
    if upstream.is_empty() {
        return Err("version number is empty".into());
    }
    if !upstream[0].is_ascii_digit() {
        return Err("version number does not start with digit (dpkg warning)".into());
    }
    if upstream.iter().any(|&c| !c.is_ascii_alphanumeric() && !b".-+~:".contains(&c)) {
        return Err("invalid character in version number (dpkg warning)".into());
    }
    if revision.unwrap_or_default().iter().any(|&c| !c.is_ascii_alphanumeric() && !b".+~".contains(&c)) {
        return Err("invalid character in revision number (dpkg warning)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn dpkg_reference_cases() {
        // From dpkg's t/t-version.c and Debian policy §5.6.12.
        let cases = [
            ("0", "0", Equal),
            ("0", "00", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~", Greater),
            ("1.0~~", "1.0~~a", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0+", Less),
            ("1.0a", "1.0+", Less),
            ("1:0", "0:9", Greater),
            ("0:1.0", "1.0", Equal),
            ("1.0-0", "1.0", Equal),
            ("1.0-1", "1.0", Greater),
            ("2.30-1", "2.3-1", Greater),
            ("1.2.3-4+deb12u1", "1.2.3-4", Greater),
            ("1-2-3", "1-2-2", Greater),
            ("1.0-a-b", "1.0-a", Greater),
            ("99999999999999999999999", "99999999999999999999998", Greater),
            ("00000000000000000000001", "1", Equal),
            ("1a", "1.", Less),
            ("1", "", Greater),
            // Invalid for dpkg; apt's order.
            ("1.0-", "1.0", Less),
            ("1:", "1:0", Less),
            ("1.0-", "1.0-~", Greater),
            ("1:-5", "1:-7", Equal),
            ("1.0-0~", "1.0-", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn validate_follows_parseversion() {
        assert!(validate("1:2.3-4+deb12u1").is_ok());
        assert!(validate("2.3~rc1").is_ok());
        assert!(validate("").is_err());
        assert!(validate(":1").is_err());
        assert!(validate("a:1").is_err());
        assert!(validate("1:").is_err());
        assert!(validate("1.0-").is_err());
        assert!(validate("-1").is_err());
        assert!(validate("abc").is_err());
        assert!(validate("1 2").is_err());
        assert!(validate("3000000000:1").is_err());
        assert!(validate("1.0-a_b").is_err());
    }
}
