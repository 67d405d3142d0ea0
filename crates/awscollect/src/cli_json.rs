//! Building the AWS CLI's JSON from SDK values.
//!
//! Why it exists: the SDK's types have no serde, and the folder must read as
//! if `aws ... describe-*` had written it. The CLI prints the botocore output
//! shape: PascalCase member names, a member absent from the answer is absent
//! from the JSON (never `null`), a list present on the wire is a JSON list
//! even when empty, enums are their wire strings, and timestamps are the
//! wire's ISO 8601 text. [`Obj`] writes exactly that from the SDK's
//! `Option` fields (`None` = absent on the wire), so every conversion is a
//! plain list of `(CLI name, SDK field)` pairs.

use aws_sdk_ec2::primitives::DateTime;
use serde_json::{Map, Value};

/// A JSON object under construction, one CLI member at a time.
#[derive(Default)]
pub(crate) struct Obj(Map<String, Value>);

impl Obj {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A string member.
    pub(crate) fn s(mut self, key: &str, v: Option<&str>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.to_string(), Value::String(v.to_string()));
        }
        self
    }

    /// An enum member: its wire string (unknown variants included).
    pub(crate) fn e<E: AsRef<str>>(self, key: &str, v: Option<&E>) -> Self {
        self.s(key, v.map(AsRef::as_ref))
    }

    /// A number or boolean member.
    pub(crate) fn n<N: Into<Value>>(mut self, key: &str, v: Option<N>) -> Self {
        if let Some(v) = v {
            self.0.insert(key.to_string(), v.into());
        }
        self
    }

    /// A timestamp member, as the CLI prints it ([`timestamp`]).
    pub(crate) fn t(self, key: &str, v: Option<&DateTime>) -> Self {
        let text = v.map(timestamp);
        self.s(key, text.as_deref())
    }

    /// A list of strings.
    pub(crate) fn strs(self, key: &str, v: Option<&Vec<String>>) -> Self {
        self.list(key, v, |s| Value::String(s.clone()))
    }

    /// A list member, each element converted by `f`.
    pub(crate) fn list<T>(mut self, key: &str, v: Option<&Vec<T>>, f: impl Fn(&T) -> Value) -> Self {
        if let Some(items) = v {
            self.0.insert(key.to_string(), Value::Array(items.iter().map(f).collect()));
        }
        self
    }

    /// A structure member, converted by `f`.
    pub(crate) fn obj<T>(mut self, key: &str, v: Option<&T>, f: impl Fn(&T) -> Value) -> Self {
        if let Some(v) = v {
            self.0.insert(key.to_string(), f(v));
        }
        self
    }

    pub(crate) fn done(self) -> Value {
        Value::Object(self.0)
    }
}

/// A timestamp as the AWS CLI v1 prints it by default
/// (`cli_timestamp_format = wire`): the ISO 8601 UTC text EC2 and ELB send,
/// `2024-01-15T10:30:00.000Z`, milliseconds always; microseconds when the
/// value has sub-millisecond precision (some emulators send it), so no
/// precision is lost. (CLI v2 prints `2024-01-15T10:30:00+00:00`; the
/// loader reads neither.)
pub fn timestamp(t: &DateTime) -> String {
    format_timestamp(t.secs(), t.subsec_nanos())
}

/// [`timestamp`] from seconds since the epoch and nanoseconds.
pub fn format_timestamp(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (in_day / 3600, in_day % 3600 / 60, in_day % 60);
    let micros = nanos / 1_000;
    let fraction = if micros.is_multiple_of(1_000) { format!("{:03}", micros / 1_000) } else { format!("{micros:06}") };
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{fraction}Z")
}

/// Proleptic Gregorian date of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, exact for every `i64` day in range).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::primitives::DateTimeFormat;
    use proptest::prelude::*;

    #[test]
    fn known_timestamps() {
        assert_eq!(format_timestamp(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_timestamp(1_705_314_600, 0), "2024-01-15T10:30:00.000Z");
        assert_eq!(format_timestamp(1_705_314_600, 123_000_000), "2024-01-15T10:30:00.123Z");
        assert_eq!(format_timestamp(1_705_314_600, 576_612_000), "2024-01-15T10:30:00.576612Z");
        assert_eq!(format_timestamp(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_timestamp(-1, 999_000_000), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn absent_members_are_absent_and_empty_lists_stay() {
        let v = Obj::new()
            .s("A", None)
            .s("B", Some("b"))
            .n::<i32>("C", None)
            .n("D", Some(false))
            .strs("E", Some(&vec![]))
            .strs("F", None)
            .done();
        assert_eq!(v, serde_json::json!({"B": "b", "D": false, "E": []}));
    }

    proptest! {
        /// The text parses back (as RFC 3339, by the SDK's own parser) to the
        /// same instant, truncated to microseconds, for every year 1..=9999.
        #[test]
        fn timestamp_round_trips(secs in -62_135_596_800i64..253_402_300_800, nanos in 0u32..1_000_000_000) {
            let text = format_timestamp(secs, nanos);
            let parsed = DateTime::from_str(&text, DateTimeFormat::DateTime).expect("parses");
            prop_assert_eq!(parsed.secs(), secs);
            prop_assert_eq!(parsed.subsec_nanos(), nanos / 1_000 * 1_000);
            // The date and time part agree with the SDK's formatter.
            let sdk = DateTime::from_secs_and_nanos(secs, 0).fmt(DateTimeFormat::DateTime).expect("formats");
            prop_assert_eq!(&text[..19], &sdk[..19]);
        }
    }
}
