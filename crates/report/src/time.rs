//! RFC 3339 timestamps read back into seconds, and durations in words.
//!
//! Why it exists: a run report shows how long a run took, and the only times
//! it has are the RFC 3339 strings of the assessments (or of the server's
//! run). Warden has no date crate; this is the small inverse of the
//! collector's formatter (`crates/collect/src/time.rs`).

/// Seconds since the epoch of an RFC 3339 timestamp
/// (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` and a space
/// for `T` are accepted). The fraction is dropped. `None` when it is not one.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // 60 is a leap second; it is counted as the next second's start.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || ob[3] != b':' {
                return None;
            }
            let sign = match ob[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh: i64 = rest[1..3].parse().ok().filter(|_| rest[1..3].bytes().all(|c| c.is_ascii_digit()))?;
            let mm: i64 = rest[4..6].parse().ok().filter(|_| rest[4..6].bytes().all(|c| c.is_ascii_digit()))?;
            if hh > 23 || mm > 59 {
                return None;
            }
            sign * (hh * 3600 + mm * 60)
        }
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A duration as `2 h 05 min 09 s`, `5 min 09 s` or `9 s`.
pub fn duration_words(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h} h {m:02} min {s:02} s")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(parse_rfc3339("2026-11-28T18:50:33Z"), Some(1_795_891_833));
        assert_eq!(parse_rfc3339("2026-11-28T19:50:33.123+01:00"), Some(1_795_891_833));
        assert_eq!(parse_rfc3339("2026-11-28t18:50:33z"), Some(1_795_891_833));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "2026-11-28",
            "2026-11-28T18:50:33",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T18:50:33.Z",
            "2026-11-28T18:50:33+1:00",
            "+026-11-28T18:50:33Z",
            "2026-11-28T18:50:33+01:60",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(9), "9 s");
        assert_eq!(duration_words(309), "5 min 09 s");
        assert_eq!(duration_words(7509), "2 h 05 min 09 s");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = parse_rfc3339(&s);
        }

        #[test]
        fn fields_add_up(y in 1..9999i64, m in 1..=12i64, d in 1..=28i64, hh in 0..24i64, mm in 0..60i64, ss in 0..60i64,
                         off_h in 0..24i64, off_m in 0..60i64, fraction in "[0-9]{0,9}") {
            let midnight = parse_rfc3339(&format!("{y:04}-{m:02}-{d:02}T00:00:00Z")).unwrap();
            let frac = if fraction.is_empty() { String::new() } else { format!(".{fraction}") };
            let t = parse_rfc3339(&format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}{frac}Z")).unwrap();
            prop_assert_eq!(t - midnight, hh * 3600 + mm * 60 + ss);
            let east = parse_rfc3339(&format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}+{off_h:02}:{off_m:02}")).unwrap();
            prop_assert_eq!(t - east, off_h * 3600 + off_m * 60);
            // The next day starts 86 400 s after this one.
            let next = if d < 28 { Some(format!("{y:04}-{m:02}-{:02}T00:00:00Z", d + 1)) } else { None };
            if let Some(next) = next {
                prop_assert_eq!(parse_rfc3339(&next).unwrap() - midnight, 86_400);
            }
        }
    }
}
