//! The run report as Markdown, sized for a pull-request comment.
//!
//! Why it exists: CI posts assessment results on pull requests, where
//! GitHub and GitLab render Markdown and cap a comment at 65,536 characters.
//! The summary always fits; findings follow, most severe first, host by
//! host, until [`MarkdownOptions::max_bytes`] would be passed, and a last line
//! says how many were left out. Host text is escaped so that it cannot open
//! HTML, links, tables or emphasis.

use std::io::{self, Write};

use warden_model::{Outcome, Severity};

use crate::evidence_line;
use crate::run::{ReportType, RunReport, rules_by_package};

/// How much to write.
#[derive(Clone, Copy, Debug)]
pub struct MarkdownOptions {
    /// Stop listing findings (and rules) before the output passes this many
    /// bytes; `None` lists everything.
    pub max_bytes: Option<usize>,
}

impl Default for MarkdownOptions {
    /// 60,000 bytes: under the 65,536-character comment limit of GitHub and GitLab.
    fn default() -> Self {
        MarkdownOptions { max_bytes: Some(60_000) }
    }
}

/// Escapes text for a Markdown paragraph or table cell: one line, no HTML,
/// no emphasis, links, code spans or cell breaks.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '{' | '}' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn severity_icon(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🟣",
        Severity::High => "🔴",
        Severity::Medium => "🟠",
        Severity::Low => "🔵",
        Severity::Informational => "⚪",
    }
}

/// Writes the Markdown report.
pub fn write_markdown<W: Write>(report: &RunReport, options: MarkdownOptions, out: &mut W) -> io::Result<()> {
    let mut text = String::new();
    let run = &report.run;
    let counts = report.severity_counts();
    text.push_str(&format!("## Warden assessment: {}\n\n", escape(&run.run_name)));
    if report.partial() {
        text.push_str(
            "> **Partial results:** some rules could not be evaluated or some facts could not be collected.\n\n",
        );
    }
    text.push_str("| | |\n| --- | --- |\n");
    for (k, v) in report.summary_rows().into_iter().filter(|(k, _)| !matches!(*k, "Run" | "Findings")) {
        text.push_str(&format!("| {k} | {} |\n", escape(&v)));
    }
    text.push_str("\n| Severity | Findings |\n| --- | ---: |\n");
    for s in Severity::ALL {
        text.push_str(&format!("| {} {s} | {} |\n", severity_icon(s), counts.get(s)));
    }
    text.push_str(&format!("| **Total** | **{}** |\n\n", report.finding_count()));
    out.write_all(text.as_bytes())?;
    let mut written = text.len();
    let budget = options.max_bytes.unwrap_or(usize::MAX);
    // Room kept for the closing line that says what was left out.
    let reserve = 200;
    let total = report.finding_count();
    let mut shown = 0usize;
    if total == 0 {
        let none = "No potential security issues found.\n";
        out.write_all(none.as_bytes())?;
        written += none.len();
    }
    'hosts: for host in report.hosts.iter().filter(|h| !h.findings.is_empty()) {
        let heading = format!(
            "### {} ({} finding{})\n\n| Severity | Rule | Finding | Evidence |\n| --- | --- | --- | --- |\n",
            escape(&host.asset),
            host.findings.len(),
            if host.findings.len() == 1 { "" } else { "s" }
        );
        if written + heading.len() + reserve > budget {
            break;
        }
        out.write_all(heading.as_bytes())?;
        written += heading.len();
        for f in &host.findings {
            let evidence: Vec<String> = f.evidence.iter().map(|e| escape(&evidence_line(e))).collect();
            let row = format!(
                "| {} {} | `{}` | {} | {} |\n",
                severity_icon(f.severity),
                f.severity,
                f.rule_id.replace('`', "'").replace('|', "/"),
                escape(&f.title),
                evidence.join("<br>")
            );
            if written + row.len() + reserve > budget {
                out.write_all(b"\n")?;
                break 'hosts;
            }
            out.write_all(row.as_bytes())?;
            written += row.len();
            shown += 1;
        }
        out.write_all(b"\n")?;
        written += 1;
    }
    if shown < total {
        writeln!(out, "_{} of {total} findings not shown here: see the full report._", total - shown)?;
        return Ok(());
    }
    if report.report_type == ReportType::Full {
        write_rules(report, budget, written, out)?;
    }
    Ok(())
}

fn write_rules<W: Write>(report: &RunReport, budget: usize, mut written: usize, out: &mut W) -> io::Result<()> {
    let heading = "### Rules checked\n\n| Host | Package | Rule | Outcome |\n| --- | --- | --- | --- |\n";
    out.write_all(heading.as_bytes())?;
    written += heading.len();
    let total: usize = report.hosts.iter().map(|h| h.rules.len()).sum();
    let mut shown = 0;
    'hosts: for host in &report.hosts {
        for (package, rules) in rules_by_package(&host.rules) {
            for r in rules {
                let mark = match r.outcome {
                    Outcome::Pass => "✅ pass",
                    Outcome::Fail => "❌ fail",
                    Outcome::NotApplicable => "➖ not applicable",
                    Outcome::CouldNotEvaluate => "⚠️ could not evaluate",
                    Outcome::Manual => "📝 manual",
                };
                let row = format!(
                    "| {} | {} | `{}` | {mark} |\n",
                    escape(&host.asset),
                    escape(package),
                    r.rule_id.replace('`', "'")
                );
                if written + row.len() + 100 > budget {
                    break 'hosts;
                }
                out.write_all(row.as_bytes())?;
                written += row.len();
                shown += 1;
            }
        }
    }
    if shown < total {
        writeln!(out, "\n_{} of {total} rule outcomes not shown here._", total - shown)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::tests::sample;

    fn md(t: ReportType, max: Option<usize>) -> String {
        let mut buf = Vec::new();
        write_markdown(&sample(t), MarkdownOptions { max_bytes: max }, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn lists_findings_and_escapes_host_text() {
        let m = md(ReportType::Finding, None);
        assert!(m.contains("| 🟣 Critical | 1 |"));
        assert!(m.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;"));
        assert!(!m.contains("<script>"));
        assert!(!m.contains("Rules checked"));
        assert!(md(ReportType::Full, None).contains("| db1 | Security Best Practices | `sbp-aslr` | ✅ pass |"));
    }

    #[test]
    fn stays_within_the_budget_and_says_what_was_left_out() {
        let full = md(ReportType::Finding, None);
        let cut = md(ReportType::Finding, Some(full.len() - 50));
        assert!(cut.len() <= full.len() - 50, "{} > {}", cut.len(), full.len() - 50);
        assert!(cut.contains("findings not shown here"));
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_is_one_inert_line(text in "\\PC{0,60}|[<>|*_`\\[\\]()\n]{0,20}") {
            let e = escape(&text);
            proptest::prop_assert!(!e.contains(['<', '>', '\n', '\r']));
            // Every markup character is preceded by a backslash.
            let chars: Vec<char> = e.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if "|*_`[]".contains(*c) {
                    proptest::prop_assert!(i > 0 && chars[i - 1] == '\\', "{:?} unescaped in {:?}", c, e);
                }
            }
        }
    }

    #[test]
    fn escape_blocks_markup() {
        assert_eq!(escape("a|b\n[x](y) *z*"), "a\\|b \\[x\\]\\(y\\) \\*z\\*");
    }
}
