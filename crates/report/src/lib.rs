//! Renders an [`Assessment`] for people (a terminal report) and for programs
//! (stable JSON), renders whole runs as report files (HTML, PDF, JSON, CSV,
//! SARIF, Markdown: [`RunReport`] and [`write_report`]), and writes SBOMs
//! ([`sbom`]).
//!
//! Why it exists: reporting is kept apart from evaluation so that every
//! rules package and every way of running Warden prints the same way. The
//! JSON schema is documented in `docs/report-json.md`; the report formats in
//! `docs/reports.md`; the text report is for reading and may change.

#![deny(missing_docs)]

pub mod csv;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod run;
pub mod sarif;
pub mod sbom;
pub mod time;

use std::fmt::Write as _;
use std::io;

pub use run::{HostReport, ReportType, RunMetadata, RunReport};

use warden_model::{Assessment, Evidence, Outcome, Severity};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable report.
    Table,
    /// The [`Assessment`] as pretty JSON.
    Json,
}

/// Renders in the given format. `color` applies to the table only.
pub fn render(assessment: &Assessment, format: Format, color: bool) -> String {
    match format {
        Format::Table => render_table(assessment, color),
        Format::Json => render_json(assessment),
    }
}

/// The assessment as pretty JSON, with a trailing newline.
pub fn render_json(assessment: &Assessment) -> String {
    let mut s = serde_json::to_string_pretty(assessment).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; say so loudly if it ever does.
        format!("{{\"error\": \"cannot serialise assessment: {e}\"}}")
    });
    s.push('\n');
    s
}

/// A report file format (`warden report --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// One self-contained HTML file.
    Html,
    /// PDF (A4).
    Pdf,
    /// The [`RunReport`] as JSON.
    Json,
    /// One row per finding.
    Csv,
    /// SARIF 2.1.0.
    Sarif,
    /// Markdown for pull-request comments (at most 60,000 bytes).
    Markdown,
}

impl ReportFormat {
    /// Every format.
    pub const ALL: [ReportFormat; 6] = [
        ReportFormat::Html,
        ReportFormat::Pdf,
        ReportFormat::Json,
        ReportFormat::Csv,
        ReportFormat::Sarif,
        ReportFormat::Markdown,
    ];

    /// The format of a [`ReportFormat::name`].
    pub fn from_name(name: &str) -> Option<ReportFormat> {
        ReportFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The name used on the command line and as a file extension hint.
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Html => "html",
            ReportFormat::Pdf => "pdf",
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Sarif => "sarif",
            ReportFormat::Markdown => "markdown",
        }
    }
}

/// Writes `report` in `format`. HTML, JSON, CSV, SARIF and Markdown stream to
/// `out`; PDF is laid out in memory first (its footers need the page count).
pub fn write_report<W: io::Write>(report: &RunReport, format: ReportFormat, out: &mut W) -> io::Result<()> {
    match format {
        ReportFormat::Html => html::write_html(report, out),
        ReportFormat::Pdf => pdf::write_pdf(report, out),
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")
        }
        ReportFormat::Csv => csv::write_csv(report, out),
        ReportFormat::Sarif => sarif::write_sarif(report, out),
        ReportFormat::Markdown => markdown::write_markdown(report, markdown::MarkdownOptions::default(), out),
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Informational => "2",
        };
        self.wrap(code, s.as_str())
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
}

/// One evidence item as a line: `path:line: text  (message)`.
pub fn evidence_line(e: &Evidence) -> String {
    let mut out = String::new();
    match (&e.path, e.line) {
        (Some(p), Some(l)) => write!(out, "{p}:{l}: ").ok(),
        (Some(p), None) => write!(out, "{p}: ").ok(),
        (None, _) if e.is_default => write!(out, "(built-in default) ").ok(),
        (None, _) => None,
    };
    if let Some(t) = &e.text {
        write!(out, "{t} -- ").ok();
    }
    out.push_str(&e.message);
    out
}

/// The one-line summary: counts per severity and rule outcomes.
pub fn summary_line(a: &Assessment) -> String {
    let counts: Vec<String> =
        Severity::ALL.iter().map(|s| format!("{} {}", a.severity_counts.get(*s), s.as_str())).collect();
    let r = &a.rule_counts;
    format!(
        "{} findings ({}); rules: {} passed, {} failed, {} not applicable, {} could not evaluate{}",
        a.findings.len(),
        counts.join(", "),
        r.passed,
        r.failed,
        r.not_applicable,
        r.could_not_evaluate,
        if a.partial { " (partial: some facts could not be collected)" } else { "" }
    )
}

/// The human-readable report.
pub fn render_table(a: &Assessment, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let os = a.os.as_deref().unwrap_or("unknown OS");
    let mode = if a.live { "live host" } else { "root filesystem" };
    writeln!(
        out,
        "{} {} ({os}; {mode} {}; collected {})",
        p.bold("Warden assessment of"),
        p.bold(&a.asset),
        a.root,
        a.collected_at
    )
    .ok();
    writeln!(out, "Packages: {}", a.packages.join(", ")).ok();
    writeln!(out).ok();
    if a.findings.is_empty() && !a.partial {
        writeln!(out, "No potential security issues found.").ok();
    } else if a.findings.is_empty() {
        writeln!(out, "No findings, but some rules could not be evaluated (see below).").ok();
    }
    for f in &a.findings {
        if f.title.starts_with(&f.rule_id) {
            writeln!(out, "[{}] {}", p.severity(f.severity), p.bold(&f.title)).ok();
        } else {
            writeln!(out, "[{}] {} ({})", p.severity(f.severity), p.bold(&f.title), f.rule_id).ok();
        }
        for e in &f.evidence {
            writeln!(out, "    {}", evidence_line(e)).ok();
        }
        writeln!(out, "    {} {}", p.dim("Fix:"), f.recommendation).ok();
        writeln!(out).ok();
    }
    writeln!(out, "{}", p.bold("Rules")).ok();
    let width = a.rules.iter().map(|r| r.rule_id.len()).max().unwrap_or(0);
    for r in &a.rules {
        let verdict = match r.outcome {
            Outcome::Pass => p.wrap("32", "pass"),
            Outcome::Fail => p.wrap("31", "FAIL"),
            Outcome::NotApplicable => p.dim("n/a "),
            Outcome::CouldNotEvaluate => p.wrap("33", "????"),
            Outcome::Manual => p.dim("man."),
        };
        let sev = format!("{:<13}", r.severity.as_str());
        writeln!(out, "  {verdict}  {sev} {:<width$}  {}", r.rule_id, r.reason).ok();
    }
    if !a.problems.is_empty() {
        writeln!(out).ok();
        writeln!(out, "{}", p.bold("Problems met while collecting (results may be partial)")).ok();
        for problem in &a.problems {
            writeln!(out, "  {problem}").ok();
        }
    }
    writeln!(out).ok();
    writeln!(out, "{}", summary_line(a)).ok();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_model::*;

    fn assessment() -> Assessment {
        let finding = Finding {
            rule_id: "sbp-ssh-root-login".into(),
            package: "Security Best Practices".into(),
            title: "Disable root login over SSH".into(),
            severity: Severity::Medium,
            numeric_severity: 6.0,
            asset: "web1".into(),
            description: "d".into(),
            recommendation: "Set PermitRootLogin no".into(),
            evidence: vec![Evidence {
                message: "root can log in".into(),
                path: Some("/etc/ssh/sshd_config".into()),
                line: Some(33),
                text: Some("PermitRootLogin yes".into()),
                is_default: false,
            }],
            attributes: Default::default(),
        };
        let outcome = RuleOutcome {
            rule_id: finding.rule_id.clone(),
            package: finding.package.clone(),
            title: finding.title.clone(),
            severity: Severity::Medium,
            outcome: Outcome::Fail,
            reason: "sshd permits root login".into(),
            evidence: finding.evidence.clone(),
        };
        Assessment {
            schema_version: ASSESSMENT_SCHEMA_VERSION,
            warden_version: "t".into(),
            asset: "web1".into(),
            root: "/".into(),
            live: true,
            os: Some("Debian GNU/Linux 12 (bookworm)".into()),
            collected_at: "2026-11-28T00:00:00Z".into(),
            packages: vec!["Security Best Practices".into()],
            partial: false,
            severity_counts: SeverityCounts::of([&finding]),
            rule_counts: RuleSummary::of([&outcome]),
            findings: vec![finding],
            rules: vec![outcome],
            problems: vec![],
        }
    }

    #[test]
    fn table_cites_evidence_and_ends_with_summary() {
        let text = render_table(&assessment(), false);
        assert!(text.contains("[Medium] Disable root login over SSH (sbp-ssh-root-login)"));
        assert!(text.contains("/etc/ssh/sshd_config:33: PermitRootLogin yes -- root can log in"));
        assert!(!text.contains('\x1b'), "no colour codes when colour is off");
        assert_eq!(
            text.lines().last().unwrap(),
            "1 findings (0 Critical, 0 High, 1 Medium, 0 Low, 0 Informational); rules: 0 passed, 1 failed, 0 not applicable, 0 could not evaluate"
        );
        assert!(render_table(&assessment(), true).contains("\x1b[33mMedium\x1b[0m"));
    }

    #[test]
    fn json_round_trips() {
        let a = assessment();
        let back: Assessment = serde_json::from_str(&render_json(&a)).unwrap();
        assert_eq!(back, a);
    }
}
