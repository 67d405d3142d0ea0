//! The run report as one self-contained, printable HTML file.
//!
//! Why it exists: Inspector Classic's HTML report is what people mail and
//! archive. Everything is inline (CSS, SVG charts): the file fetches nothing,
//! runs no script (a Content-Security-Policy says so too), and prints on A4
//! with the print style sheet. Every string from a host (titles, evidence,
//! attributes: attacker-influenced) goes through [`escape`], so a
//! `<script>` in a configuration file is shown as text and never runs.

use std::borrow::Cow;
use std::io::{self, Write};

use warden_model::{Finding, Outcome, Severity};

use crate::evidence_line;
use crate::run::{HostReport, ReportType, RunReport, rules_by_package, severity_index};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Colour of a severity (bars, badges, borders).
pub fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#6a1b9a",
        Severity::High => "#c62828",
        Severity::Medium => "#e65100",
        Severity::Low => "#1565c0",
        Severity::Informational => "#616161",
    }
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; border-bottom: 2px solid #333; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 17px; margin: 24px 0 8px; background: #eef1f5; padding: 6px 10px; } h4 { font-size: 15px; margin: 0 0 6px; } h5 { font-size: 13px; margin: 10px 0 2px; color: #444; }
.subtitle { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.meta th { width: 160px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
.finding { border: 1px solid #ccc; border-left: 6px solid #999; padding: 10px 14px; margin: 10px 0; break-inside: avoid; page-break-inside: avoid; }
.badge { display: inline-block; color: #fff; border-radius: 3px; padding: 0 6px; font-size: 12px; font-weight: 600; margin-right: 6px; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 4px 0; font-size: 13px; } .finding dt { color: #555; } .finding dd { margin: 0; }
.finding p { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
ul.evidence { margin: 2px 0; padding-left: 20px; } ul.evidence code, td code { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; }
.outcome-pass { color: #2e7d32; } .outcome-fail { color: #c62828; font-weight: 600; } .outcome-could_not_evaluate { color: #e65100; } .outcome-not_applicable, .outcome-manual { color: #757575; }
.partial { background: #fff3e0; border: 1px solid #e65100; padding: 8px 12px; }
footer { margin-top: 40px; color: #666; font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; page-break-after: avoid; } h3 { break-after: avoid; page-break-after: avoid; }
  .host { break-before: auto; } a { color: inherit; text-decoration: none; }
}
"#;

/// Writes the report as HTML. Streams: memory does not grow with the number of findings.
pub fn write_html<W: Write>(report: &RunReport, out: &mut W) -> io::Result<()> {
    let run = &report.run;
    let title = format!("Warden assessment report: {}", run.run_name);
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"Warden {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&run.warden_version),
        escape(&title)
    )?;
    writeln!(
        out,
        "<header><h1>Warden assessment report</h1><p class=\"subtitle\" id=\"report-type\" data-report-type=\"{:?}\">{} &middot; generated {}</p></header>",
        report.report_type,
        report.report_type.title(),
        escape(&run.generated_at)
    )?;
    write_summary(report, out)?;
    writeln!(out, "<section id=\"findings\">\n<h2>2. Findings</h2>")?;
    if report.finding_count() == 0 {
        writeln!(out, "<p id=\"no-findings\">No potential security issues found.</p>")?;
    }
    for (i, host) in report.hosts.iter().enumerate() {
        write_host_findings(i, host, out)?;
    }
    writeln!(out, "</section>")?;
    if report.report_type == ReportType::Full {
        write_rules_checked(report, out)?;
    }
    write_incomplete(report, out)?;
    writeln!(
        out,
        "<footer>Made by Warden {} from {} host(s). Severity order: Critical, High, Medium, Low, Informational.</footer>\n</body>\n</html>",
        escape(&run.warden_version),
        report.hosts.len()
    )
}

fn write_summary<W: Write>(report: &RunReport, out: &mut W) -> io::Result<()> {
    let counts = report.severity_counts();
    writeln!(out, "<section id=\"summary\">\n<h2>1. Executive summary</h2>")?;
    if report.partial() {
        writeln!(
            out,
            "<p class=\"partial\" id=\"partial\">Partial results: some rules could not be evaluated or some facts could not be collected (see section {}).</p>",
            if report.report_type == ReportType::Full { 4 } else { 3 }
        )?;
    }
    writeln!(out, "<table class=\"meta\" id=\"run-metadata\">")?;
    for (k, v) in report.summary_rows() {
        let id = k.to_ascii_lowercase().replace(' ', "-");
        writeln!(out, "<tr><th>{k}</th><td id=\"summary-{id}\">{}</td></tr>", escape(&v))?;
    }
    writeln!(out, "</table>")?;

    writeln!(out, "<table id=\"counts-by-severity\"><tr><th>Severity</th><th>Findings</th></tr>")?;
    for s in Severity::ALL {
        writeln!(out, "<tr data-severity=\"{s}\"><td>{s}</td><td class=\"num\">{}</td></tr>", counts.get(s))?;
    }
    writeln!(out, "</table>")?;

    let packages = report.package_counts();
    write!(out, "<table id=\"counts-by-package\"><tr><th>Rules package</th>")?;
    for s in Severity::ALL {
        write!(out, "<th>{s}</th>")?;
    }
    writeln!(out, "</tr>")?;
    for p in &packages {
        write!(out, "<tr><td>{}</td>", escape(&p.package))?;
        for s in Severity::ALL {
            write!(out, "<td class=\"num\">{}</td>", p.counts.get(s))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")?;

    writeln!(out, "<div class=\"charts\">")?;
    let bars: Vec<(String, [usize; 5])> = Severity::ALL
        .iter()
        .map(|s| {
            let mut row = [0; 5];
            row[severity_index(*s)] = counts.get(*s);
            (s.as_str().to_string(), row)
        })
        .collect();
    write_bar_chart(out, "chart-severity", "Findings by severity", &bars)?;
    let by_package: Vec<(String, [usize; 5])> =
        packages.iter().map(|p| (p.package.clone(), Severity::ALL.map(|s| p.counts.get(s)))).collect();
    write_bar_chart(out, "chart-package", "Findings by rules package", &by_package)?;
    writeln!(out, "</div>\n</section>")
}

/// A horizontal bar chart as inline SVG: one bar per row, stacked by
/// severity (a row of the severity chart has one non-zero part).
fn write_bar_chart<W: Write>(out: &mut W, id: &str, caption: &str, rows: &[(String, [usize; 5])]) -> io::Result<()> {
    const LABEL_W: f64 = 230.0;
    const BAR_W: f64 = 300.0;
    const ROW_H: f64 = 26.0;
    let max = rows.iter().map(|(_, r)| r.iter().sum::<usize>()).max().unwrap_or(0).max(1);
    let height = ROW_H * rows.len().max(1) as f64 + 26.0;
    let width = LABEL_W + BAR_W + 70.0;
    writeln!(
        out,
        "<figure id=\"{id}\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">",
        escape(caption),
        escape(caption)
    )?;
    for (i, (label, parts)) in rows.iter().enumerate() {
        let y = i as f64 * ROW_H;
        let shown: String = if label.chars().count() > 30 {
            label.chars().take(29).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LABEL_W - 8.0,
            y + 17.0,
            escape(&shown)
        )?;
        let mut x = LABEL_W;
        for (k, n) in parts.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let w = BAR_W * *n as f64 / max as f64;
            let sev = Severity::ALL[k];
            writeln!(
                out,
                "<rect class=\"bar\" data-severity=\"{sev}\" data-count=\"{n}\" x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"><title>{}: {n} {sev}</title></rect>",
                y + 4.0,
                ROW_H - 8.0,
                severity_colour(sev),
                escape(label)
            )?;
            x += w;
        }
        writeln!(out, "<text x=\"{:.1}\" y=\"{}\">{}</text>", x + 6.0, y + 17.0, parts.iter().sum::<usize>())?;
    }
    // Legend.
    let ly = ROW_H * rows.len().max(1) as f64 + 14.0;
    let mut lx = LABEL_W;
    for s in Severity::ALL {
        writeln!(
            out,
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{ly}\">{s}</text>",
            ly - 9.0,
            severity_colour(s),
            lx + 13.0
        )?;
        lx += 13.0 + 8.0 * s.as_str().len() as f64 + 10.0;
    }
    writeln!(out, "</svg></figure>")
}

fn write_host_findings<W: Write>(index: usize, host: &HostReport, out: &mut W) -> io::Result<()> {
    writeln!(
        out,
        "<section class=\"host\" id=\"host-{index}\" data-asset=\"{}\">\n<h3>{} <small>({}; {} finding{}{})</small></h3>",
        escape(&host.asset),
        escape(&host.asset),
        escape(host.os.as_deref().unwrap_or("unknown OS")),
        host.findings.len(),
        if host.findings.len() == 1 { "" } else { "s" },
        match &host.agent_id {
            Some(a) => format!("; agent {}", escape(a)),
            None => String::new(),
        }
    )?;
    if host.findings.is_empty() {
        writeln!(out, "<p>No potential security issues found on this host.</p>")?;
    }
    for f in &host.findings {
        write_finding(f, out)?;
    }
    writeln!(out, "</section>")
}

fn write_finding<W: Write>(f: &Finding, out: &mut W) -> io::Result<()> {
    let colour = severity_colour(f.severity);
    writeln!(
        out,
        "<article class=\"finding\" data-severity=\"{}\" data-rule=\"{}\" style=\"border-left-color:{colour}\">\n<h4><span class=\"badge\" style=\"background:{colour}\">{}</span>{}</h4>",
        f.severity,
        escape(&f.rule_id),
        f.severity,
        escape(&f.title)
    )?;
    writeln!(
        out,
        "<dl><dt>Rule</dt><dd><code>{}</code></dd><dt>Rules package</dt><dd>{}</dd><dt>Asset</dt><dd>{}</dd><dt>Numeric severity</dt><dd>{:.1}</dd>",
        escape(&f.rule_id),
        escape(&f.package),
        escape(&f.asset),
        f.numeric_severity
    )?;
    for (k, v) in &f.attributes {
        writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v))?;
    }
    writeln!(out, "</dl>")?;
    writeln!(out, "<h5>Description</h5><p class=\"description\">{}</p>", escape(&f.description))?;
    writeln!(out, "<h5>Recommendation</h5><p class=\"recommendation\">{}</p>", escape(&f.recommendation))?;
    writeln!(out, "<h5>Evidence</h5><ul class=\"evidence\">")?;
    for e in &f.evidence {
        writeln!(out, "<li><code>{}</code></li>", escape(&evidence_line(e)))?;
    }
    if f.evidence.is_empty() {
        writeln!(out, "<li>none recorded</li>")?;
    }
    writeln!(out, "</ul>\n</article>")
}

fn write_rules_checked<W: Write>(report: &RunReport, out: &mut W) -> io::Result<()> {
    writeln!(out, "<section id=\"rules-checked\">\n<h2>3. Rules checked</h2>")?;
    for host in &report.hosts {
        writeln!(out, "<h3>{}</h3>", escape(&host.asset))?;
        for (package, rules) in rules_by_package(&host.rules) {
            writeln!(
                out,
                "<table class=\"rules\" data-asset=\"{}\" data-package=\"{}\"><caption>{}</caption><tr><th>Outcome</th><th>Severity</th><th>Rule</th><th>Title</th><th>Reason</th></tr>",
                escape(&host.asset),
                escape(package),
                escape(package)
            )?;
            for r in rules {
                let class = match r.outcome {
                    Outcome::Pass => "pass",
                    Outcome::Fail => "fail",
                    Outcome::NotApplicable => "not_applicable",
                    Outcome::CouldNotEvaluate => "could_not_evaluate",
                    Outcome::Manual => "manual",
                };
                writeln!(
                    out,
                    "<tr data-outcome=\"{class}\"><td class=\"outcome-{class}\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    r.outcome.as_str(),
                    r.severity,
                    escape(&r.rule_id),
                    escape(&r.title),
                    escape(&r.reason)
                )?;
            }
            writeln!(out, "</table>")?;
        }
    }
    writeln!(out, "</section>")
}

/// Rules that could not be evaluated and collection problems: why a report is partial.
fn write_incomplete<W: Write>(report: &RunReport, out: &mut W) -> io::Result<()> {
    let any = report
        .hosts
        .iter()
        .any(|h| !h.problems.is_empty() || h.rules.iter().any(|r| r.outcome == Outcome::CouldNotEvaluate));
    if !any {
        return Ok(());
    }
    let number = if report.report_type == ReportType::Full { 4 } else { 3 };
    writeln!(out, "<section id=\"incomplete\">\n<h2>{number}. Not evaluated, and problems met</h2>")?;
    for host in &report.hosts {
        let unevaluated: Vec<_> = host.rules.iter().filter(|r| r.outcome == Outcome::CouldNotEvaluate).collect();
        if unevaluated.is_empty() && host.problems.is_empty() {
            continue;
        }
        writeln!(out, "<h3>{}</h3><ul>", escape(&host.asset))?;
        for r in unevaluated {
            writeln!(
                out,
                "<li><code>{}</code> could not be evaluated: {}</li>",
                escape(&r.rule_id),
                escape(&r.reason)
            )?;
        }
        for p in &host.problems {
            writeln!(out, "<li>{}</li>", escape(&p.to_string()))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::tests::sample;

    fn html(t: ReportType) -> String {
        let mut buf = Vec::new();
        write_html(&sample(t), &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_markup_and_reads_back(text in "\\PC{0,60}") {
            let e = escape(&text);
            proptest::prop_assert!(!e.contains(['<', '>', '"', '\'']));
            let back = e.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
            proptest::prop_assert_eq!(back, text);
        }
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn hostile_evidence_is_text() {
        let h = html(ReportType::Finding);
        assert!(!h.contains("<script>"), "no live script element");
        assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn nothing_is_fetched() {
        let h = html(ReportType::Full);
        for needle in ["src=", "href=", "url(", "@import", "<link", "<script", "<img", "<iframe", "<object"] {
            assert!(!h.contains(needle), "{needle} in the document");
        }
    }

    #[test]
    fn full_lists_rules_checked_and_finding_does_not() {
        let full = html(ReportType::Full);
        assert!(full.contains("id=\"rules-checked\""));
        assert!(full.contains("data-outcome=\"pass\""));
        let finding = html(ReportType::Finding);
        assert!(!finding.contains("id=\"rules-checked\""));
        assert!(finding.contains("could not be evaluated"), "unevaluated rules are always listed");
    }
}
