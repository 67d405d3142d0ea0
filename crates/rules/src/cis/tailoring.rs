//! CIS tailoring: a site's changes to a benchmark, kept outside the content.
//!
//! Why it exists: like an XCCDF tailoring file, a site disables the
//! recommendations it has accepted or compensated, and sets its own values
//! for the benchmark's parameters (a 90-day password age instead of 365),
//! without editing the embedded content. The file is validated against the
//! benchmark it names, and every error names the file, the line and column,
//! and the field. Disabled recommendations stay in the report as not
//! applicable ("disabled by tailoring FILE"), so nothing is silently dropped;
//! the score leaves them out. The format is documented in `docs/cis.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use warden_model::OsRelease;

use super::Benchmark;
use super::schema::{Profile, Scalar};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    tailoring: RawTailoring,
    #[serde(default)]
    params: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTailoring {
    benchmark: Spanned<String>,
    #[serde(default)]
    profile: Option<Spanned<String>>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
}

/// A validated tailoring file.
#[derive(Clone, Debug, PartialEq)]
pub struct Tailoring {
    /// The file it came from, as given (named in reasons and errors).
    pub file: String,
    /// The benchmark id it tailors (`[benchmark] id` of a content file).
    pub benchmark: String,
    /// Where `benchmark` is, as `line:column` (for the mismatch error).
    benchmark_at: String,
    /// Warden ids of the disabled recommendations.
    pub disabled: BTreeSet<String>,
    /// Parameter values replacing the benchmark's.
    pub params: BTreeMap<String, Scalar>,
    /// The profile to report, unless the command line names one.
    pub profile: Option<Profile>,
}

/// `line:column` (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{line}:{col}")
}

impl Tailoring {
    /// Reads and validates a tailoring file against the embedded benchmarks.
    pub fn load(path: &std::path::Path) -> Result<Tailoring, String> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: cannot read CIS tailoring: {e}"))?;
        Tailoring::parse(&file, &text, super::embedded()?)
    }

    /// Parses and validates a tailoring file against `benchmarks`. All
    /// problems are reported, each as `FILE:LINE:COL: FIELD: message`.
    pub fn parse(file: &str, text: &str, benchmarks: &[Benchmark]) -> Result<Tailoring, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| format!("{}: ", line_col(text, s.start))).unwrap_or_default();
            format!("{file}:{at}invalid CIS tailoring: {}", e.message().trim())
        })?;
        let mut problems = Vec::new();
        let mut problem = |span: Range<usize>, field: &str, message: String| {
            problems.push(format!("{file}:{}: {field}: {message}", line_col(text, span.start)));
        };
        let t = &raw.tailoring;
        let Some(bench) = benchmarks.iter().find(|b| b.content.benchmark.id == *t.benchmark.get_ref()) else {
            let known: Vec<&str> = benchmarks.iter().map(|b| b.content.benchmark.id.as_str()).collect();
            problem(
                t.benchmark.span(),
                "[tailoring] benchmark",
                format!("unknown benchmark {:?} (Warden has: {})", t.benchmark.get_ref(), known.join(", ")),
            );
            return Err(problems.join("\n"));
        };
        let bench_id = &bench.content.benchmark.id;
        let profile = t.profile.as_ref().and_then(|p| match p.get_ref().parse::<Profile>() {
            Ok(p) => Some(p),
            Err(e) => {
                problem(p.span(), "[tailoring] profile", e);
                None
            }
        });
        let mut disabled = BTreeSet::new();
        for d in &t.disable {
            let want = d.get_ref();
            match bench.content.rules.iter().find(|r| r.id == *want || r.number == *want) {
                Some(r) => {
                    disabled.insert(r.id.clone());
                }
                None => problem(
                    d.span(),
                    "[tailoring] disable",
                    format!(
                        "unknown recommendation {want:?}: {bench_id} has no rule with this Warden id or CIS number"
                    ),
                ),
            }
        }
        let base = &bench.content.params;
        let mut params = BTreeMap::new();
        for (name, value) in &raw.params {
            let field = format!("[params] {}", name.get_ref());
            let Some(default) = base.get(name.get_ref()) else {
                let known: Vec<&str> = base.keys().map(String::as_str).collect();
                problem(
                    name.span(),
                    &field,
                    format!(
                        "unknown parameter: {bench_id} has {}",
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ),
                );
                continue;
            };
            let given = match (default, value.get_ref()) {
                (Scalar::Int(_), toml::Value::Integer(i)) => Scalar::Int(*i),
                (Scalar::Str(_), toml::Value::String(s)) => Scalar::Str(s.clone()),
                (d, v) => {
                    let want = if matches!(d, Scalar::Int(_)) { "an integer" } else { "a string" };
                    problem(
                        value.span(),
                        &field,
                        format!("wrong type: expected {want} (like the default {d}), found {} {v}", v.type_str()),
                    );
                    continue;
                }
            };
            // The value must still fit every operator that uses it.
            let mut content = bench.content.clone();
            content.params.insert(name.get_ref().clone(), given.clone());
            for p in super::validate(&content) {
                problem(value.span(), &field, format!("value {given} does not fit the content: {p}"));
            }
            params.insert(name.get_ref().clone(), given);
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        Ok(Tailoring {
            file: file.to_string(),
            benchmark: bench_id.clone(),
            benchmark_at: line_col(text, t.benchmark.span().start),
            disabled,
            params,
            profile,
        })
    }

    /// Checks that the tailoring is for the benchmark Warden picks for this
    /// os-release; a mismatch is an error naming the file and the field.
    pub fn check_host(&self, benchmarks: &[Benchmark], os: Option<&OsRelease>) -> Result<(), String> {
        let Some(os) = os else { return Ok(()) };
        let host = format!("{} {}", os.id, os.version_id.as_deref().unwrap_or("?"));
        match super::for_os(benchmarks, os) {
            Some(b) if b.content.benchmark.id == self.benchmark => Ok(()),
            found => Err(format!(
                "{}:{}: [tailoring] benchmark: benchmark mismatch: the tailoring is for {:?} but the assessed host ({host}) {}",
                self.file,
                self.benchmark_at,
                self.benchmark,
                match found {
                    Some(b) => format!("uses {:?}", b.content.benchmark.id),
                    None => "has no CIS benchmark".to_string(),
                }
            )),
        }
    }

    /// The benchmark's parameters with the tailored values applied.
    pub fn apply_params(&self, base: &BTreeMap<String, Scalar>) -> BTreeMap<String, Scalar> {
        let mut p = base.clone();
        p.extend(self.params.iter().map(|(k, v)| (k.clone(), v.clone())));
        p
    }
}

#[cfg(test)]
#[path = "tailoring_tests.rs"]
mod tests;
