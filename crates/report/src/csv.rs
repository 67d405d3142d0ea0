//! The run's findings as CSV, one row per finding, in the columns of
//! Inspector Classic's console export.
//!
//! Why it exists: spreadsheets and ticket imports read CSV. The first six
//! columns are the ones the Inspector Classic console listed and exported for
//! a finding (Severity, Date, Finding, Target, Template, Rules Package); the
//! rest carry the finding's anatomy (`docs/reports.md`). Quoting follows
//! RFC 4180 (CRLF rows; a field with a comma, quote, CR or LF is quoted and
//! its quotes doubled). A text field that a spreadsheet would read as a
//! formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`,
//! because findings carry attacker-influenced text.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::evidence_line;
use crate::run::RunReport;

/// The header row, in order.
pub const COLUMNS: [&str; 19] = [
    "Severity",
    "Date",
    "Finding",
    "Target",
    "Template",
    "Rules Package",
    "Rule",
    "Numeric Severity",
    "Asset",
    "AWS Agent ID",
    "Description",
    "Recommendation",
    "CVE ID",
    "CVSS2 Score",
    "CVSS2 Vector",
    "CVSS3 Score",
    "CVSS3 Vector",
    "Package Name",
    "Evidence",
];

/// Quotes one field per RFC 4180, defusing spreadsheet formulas.
pub fn field(text: &str) -> Cow<'_, str> {
    let formula = matches!(text.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    let needs_quotes = text.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !formula && !needs_quotes {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    if needs_quotes {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if needs_quotes {
        out.push('"');
    }
    Cow::Owned(out)
}

/// Writes the header and one row per finding. Streams row by row.
pub fn write_csv<W: Write>(report: &RunReport, out: &mut W) -> io::Result<()> {
    let header: Vec<Cow<str>> = COLUMNS.iter().map(|c| field(c)).collect();
    write!(out, "{}\r\n", header.join(","))?;
    let run = &report.run;
    let mut row: Vec<String> = Vec::with_capacity(COLUMNS.len());
    for (host, f) in report.findings() {
        let attr = |k: &str| f.attributes.get(k).map(String::as_str).unwrap_or("");
        let evidence: Vec<String> = f.evidence.iter().map(evidence_line).collect();
        row.clear();
        row.extend(
            [
                f.severity.as_str(),
                host.collected_at.as_str(),
                f.title.as_str(),
                run.target.as_str(),
                run.template.as_str(),
                f.package.as_str(),
                f.rule_id.as_str(),
            ]
            .map(String::from),
        );
        row.push(format!("{:.1}", f.numeric_severity));
        row.extend(
            [
                f.asset.as_str(),
                host.agent_id.as_deref().unwrap_or(""),
                f.description.as_str(),
                f.recommendation.as_str(),
                attr("CVE_ID"),
                attr("CVSS2_SCORE"),
                attr("CVSS2_VECTOR"),
                attr("CVSS3_SCORE"),
                attr("CVSS3_VECTOR"),
                attr("package_name"),
            ]
            .map(String::from),
        );
        row.push(evidence.join("\n"));
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(field(value).as_bytes())?;
        }
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::ReportType;
    use crate::run::tests::sample;
    use proptest::prelude::*;

    /// An RFC 4180 reader, written for the tests only, to read back what was written.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut rows = vec![];
        let mut row = vec![];
        let mut cell = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => cell.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut cell)),
                (false, '\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    row.push(std::mem::take(&mut cell));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => cell.push(c),
            }
        }
        rows
    }

    #[test]
    fn one_row_per_finding_in_export_columns() {
        let report = sample(ReportType::Finding);
        let mut buf = Vec::new();
        write_csv(&report, &mut buf).unwrap();
        let rows = parse(&String::from_utf8(buf).unwrap());
        assert_eq!(rows[0], COLUMNS.map(String::from).to_vec());
        assert_eq!(rows.len(), 1 + report.finding_count());
        assert!(rows.iter().all(|r| r.len() == COLUMNS.len()));
        assert_eq!(rows[1][0], "Critical");
        assert_eq!(rows[1][8], "web1");
        assert_eq!(rows[1][18], "/etc/ssh/sshd_config:33: <script>alert(1)</script> -- what was found");
    }

    #[test]
    fn quoting_and_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    proptest! {
        #[test]
        fn any_text_reads_back(cells in proptest::collection::vec(".{0,30}", 1..6)) {
            let line: Vec<String> = cells.iter().map(|c| field(c).into_owned()).collect();
            let text = format!("{}\r\n", line.join(","));
            let back = parse(&text);
            prop_assert_eq!(back.len(), 1);
            let expected: Vec<String> = cells
                .iter()
                .map(|c| if matches!(c.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')) { format!("'{c}") } else { c.clone() })
                .collect();
            prop_assert_eq!(&back[0], &expected);
        }
    }
}
