//! `warden report`: render assessment results as a report file (HTML, PDF,
//! JSON, CSV, SARIF 2.1.0, Markdown; FINDING or FULL).
//!
//! Why it exists: `warden assess --format json` writes one JSON document per
//! host; people and tools want one report of the run. This module only reads
//! the inputs into a [`RunReport`] ([`ReportSource`]) and writes the file
//! atomically; rendering is `warden_report`'s. A run stored by the fleet
//! server (`warden report RUN`) is rendered by the server, which fills the
//! same [`RunReport`] from its store (`GET /v1/runs/{id}/report`); this
//! module writes the file it answers.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use warden_model::{ASSESSMENT_SCHEMA_VERSION, Assessment};
use warden_report::{ReportFormat, ReportType, RunReport};

/// `warden report` arguments: a stored RUN or `--input` files, not both.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["run", "inputs"])))]
pub struct ReportArgs {
    /// A run stored by the fleet server (`warden run list`): its id (`0-...`)
    /// or its Inspector ARN. The server renders it; see --server and --token.
    #[arg(value_name = "RUN", conflicts_with = "inputs")]
    run: Option<String>,
    /// An assessment written by `warden assess --format json` (repeatable: one host each).
    #[arg(long = "input", value_name = "ASSESSMENT.json")]
    inputs: Vec<PathBuf>,
    /// FINDING lists findings; FULL also lists every rule checked, passed ones included.
    #[arg(long = "type", value_enum, default_value = "finding")]
    report_type: TypeArg,
    /// Output format: html, pdf, json, csv, sarif or markdown.
    #[arg(long, value_parser = parse_format)]
    format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// How RUN's server is reached.
    #[command(flatten)]
    client: crate::fleet::ClientArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum TypeArg {
    Finding,
    Full,
}

fn parse_format(name: &str) -> Result<ReportFormat, String> {
    ReportFormat::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = ReportFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown format {name:?} (expected {})", names.join(", "))
    })
}

/// Where the run comes from.
pub enum ReportSource {
    /// Assessment JSON files, one host each.
    Files(Vec<PathBuf>),
}

impl ReportSource {
    /// Reads the run.
    pub fn load(&self, report_type: ReportType) -> Result<RunReport, String> {
        match self {
            ReportSource::Files(paths) => {
                let assessments = paths.iter().map(|p| read_assessment(p)).collect::<Result<Vec<_>, _>>()?;
                let now = warden_collect::now_rfc3339();
                Ok(RunReport::from_assessments(report_type, assessments, env!("CARGO_PKG_VERSION"), &now))
            }
        }
    }
}

/// Runs `warden report`.
pub fn run(args: ReportArgs) -> Result<(), String> {
    let report_type = match args.report_type {
        TypeArg::Finding => ReportType::Finding,
        TypeArg::Full => ReportType::Full,
    };
    if let Some(run) = &args.run {
        return server_report(run, report_type, args.format, &args.client, args.output.as_deref());
    }
    let report = ReportSource::Files(args.inputs).load(report_type)?;
    let format = args.format;
    let mut out = Output::open(args.output.as_deref())?;
    match warden_report::write_report(&report, format, &mut out) {
        Ok(()) => out.commit(),
        // A closed pipe (`warden report ... | head`) is not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && args.output.is_none() => Ok(()),
        Err(e) => Err(out.fail(e)),
    }?;
    if report.partial() {
        eprintln!("warden: warning: the report is partial: some rules could not be evaluated or facts collected");
    }
    Ok(())
}

/// The store id of RUN: an id as `warden run list` shows it, or a run ARN.
pub fn run_id(run: &str) -> Result<String, String> {
    use warden_inspector::arn::{ArnKind, InspectorArn, Resource};
    if run.starts_with("arn:") {
        let arn = InspectorArn::parse_kind(run, ArnKind::Run).map_err(|e| format!("RUN: {run:?}: {e}"))?;
        return match arn.resource {
            Resource::Run { run, .. } => Ok(run.as_str().to_string()),
            _ => Err(format!("RUN: {run:?} is not an assessment run ARN")),
        };
    }
    if warden_store::is_inspector_id(run) {
        Ok(run.to_string())
    } else {
        Err(format!("RUN: {run:?} is neither a run id (0- and 8 letters or digits) nor a run ARN"))
    }
}

/// `warden report RUN`: the server renders the stored run; the file is
/// written as `--input` reports are (atomically, or to standard output).
fn server_report(
    run: &str,
    report_type: ReportType,
    format: ReportFormat,
    client: &crate::fleet::ClientArgs,
    output: Option<&Path>,
) -> Result<(), String> {
    let id = run_id(run)?;
    let type_name = match report_type {
        ReportType::Finding => "finding",
        ReportType::Full => "full",
    };
    let client = crate::fleet_client::Client::new(client)?;
    let body = client.get_bytes(&format!("/v1/runs/{id}/report?type={type_name}&format={}", format.name()))?;
    let mut out = Output::open(output)?;
    match out.write_all(&body) {
        Ok(()) => out.commit(),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe && output.is_none() => Ok(()),
        Err(e) => Err(out.fail(e)),
    }
}

/// Reads one assessment, naming the file, line and column of any error and
/// refusing other schema versions.
pub fn read_assessment(path: &Path) -> Result<Assessment, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read assessment: {e}"))?;
    #[derive(serde::Deserialize)]
    struct Header {
        schema_version: Option<u32>,
    }
    let header: Header = serde_json::from_str(&text)
        .map_err(|e| format!("{shown}:{}:{}: not an assessment: {e}", e.line(), e.column()))?;
    match header.schema_version {
        Some(ASSESSMENT_SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "{shown}: assessment schema version {v} is not supported (this Warden reads version {ASSESSMENT_SCHEMA_VERSION})"
            ));
        }
        None => {
            return Err(format!(
                "{shown}: not an assessment (missing field `schema_version`; write one with `warden assess --format json`)"
            ));
        }
    }
    serde_json::from_str(&text).map_err(|e| format!("{shown}:{}:{}: invalid assessment: {e}", e.line(), e.column()))
}

/// Standard output, or a file written beside its final name and renamed into
/// place on success, so a failure never leaves half a report. A device or
/// FIFO (e.g. `/dev/stdout`) is written in place.
pub struct Output {
    writer: BufWriter<Box<dyn Write>>,
    rename: Option<(PathBuf, PathBuf)>,
}

impl Output {
    /// Opens the destination.
    pub fn open(path: Option<&Path>) -> Result<Output, String> {
        let Some(path) = path else {
            return Ok(Output { writer: BufWriter::new(Box::new(io::stdout().lock())), rename: None });
        };
        let cannot = |p: &Path, e: io::Error| format!("{}: cannot write: {e}", p.display());
        let regular_or_new = match std::fs::metadata(path) {
            Ok(meta) => meta.is_file(),
            Err(e) => e.kind() == io::ErrorKind::NotFound,
        };
        if !regular_or_new {
            let f = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| cannot(path, e))?;
            return Ok(Output { writer: BufWriter::new(Box::new(f)), rename: None });
        }
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".warden-tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let f = std::fs::File::create(&tmp).map_err(|e| cannot(&tmp, e))?;
        Ok(Output { writer: BufWriter::with_capacity(1 << 16, Box::new(f)), rename: Some((tmp, path.to_path_buf())) })
    }

    /// Flushes and moves the file into place.
    pub fn commit(mut self) -> Result<(), String> {
        match self.writer.flush() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe && self.rename.is_none() => return Ok(()),
            Err(e) => return Err(self.fail(e)),
        }
        if let Some((tmp, path)) = self.rename.take() {
            std::fs::rename(&tmp, &path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("{}: cannot write: {e}", path.display())
            })?;
        }
        Ok(())
    }

    /// Removes the temporary file and describes the error.
    pub fn fail(&mut self, e: io::Error) -> String {
        match self.rename.take() {
            Some((tmp, path)) => {
                let _ = std::fs::remove_file(&tmp);
                format!("{}: cannot write: {e}", path.display())
            }
            None => format!("cannot write to standard output: {e}"),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Not committed: leave nothing behind.
        if let Some((tmp, _)) = self.rename.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_is_an_id_or_a_run_arn() {
        assert_eq!(run_id("0-abcdEFGH").unwrap(), "0-abcdEFGH");
        let arn = "arn:aws:inspector:us-west-2:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb/run/0-cccccccc";
        assert_eq!(run_id(arn).unwrap(), "0-cccccccc");
        let target = "arn:aws:inspector:us-west-2:123456789012:target/0-aaaaaaaa";
        assert!(run_id(target).unwrap_err().starts_with("RUN: "));
        assert!(run_id("../etc/passwd").unwrap_err().contains("neither a run id"));
        assert!(run_id("0-abc/EFGH").is_err());
        assert!(run_id("").is_err());
    }
}
