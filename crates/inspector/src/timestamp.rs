//! Inspector timestamps: epoch seconds with fractional milliseconds on the wire.
//!
//! Why it exists: the JSON 1.1 protocol sends `Timestamp` members as numbers
//! (`"createdAt": 1458680170.035`), never as strings, and SigV4 needs the same
//! instant as `YYYYMMDDTHHMMSSZ`; both conversions live here, without a date crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// An instant as epoch seconds (UTC), serialised as a JSON number.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub f64);

impl Timestamp {
    /// Now, to the millisecond (what the service reports).
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    /// The instant, rounded to the millisecond.
    pub fn from_system_time(t: SystemTime) -> Timestamp {
        let millis = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as f64,
            Err(e) => -(e.duration().as_millis() as f64),
        };
        Timestamp(millis / 1000.0)
    }

    /// Back to a `SystemTime` (saturating at the epoch for negative values).
    pub fn to_system_time(self) -> SystemTime {
        if self.0.is_finite() && self.0 > 0.0 { UNIX_EPOCH + Duration::from_secs_f64(self.0) } else { UNIX_EPOCH }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses SigV4's `YYYYMMDDTHHMMSSZ` into epoch seconds; `None` when it is
/// not exactly that form or names an impossible date or time.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day == 0 || day > month_days[month as usize - 1] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    Some(days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second))
}

/// Epoch seconds as SigV4's `YYYYMMDDTHHMMSSZ` (RFC 3339 without separators).
pub fn format_amz_date(secs: i64) -> String {
    warden_collect::time::rfc3339(secs).replace(['-', ':'], "")
}

/// Seconds since the epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip_on_known_instants() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in
            ["20230229T000000Z", "20231301T000000Z", "20230101T240000Z", "2023-01-01T00:00", "2023010lT000000Z", ""]
        {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_are_json_numbers_with_milliseconds() {
        let t = Timestamp::from_system_time(UNIX_EPOCH + Duration::from_millis(1_458_680_170_035));
        assert_eq!(serde_json::to_string(&t).unwrap(), "1458680170.035");
        let back: Timestamp = serde_json::from_str("1458680170.035").unwrap();
        assert_eq!(back, t);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = parse_amz_date(&s);
        }

        #[test]
        fn format_then_parse_is_identity(secs in 0i64..4_102_444_800) {
            proptest::prop_assert_eq!(parse_amz_date(&format_amz_date(secs)), Some(secs));
        }
    }
}
