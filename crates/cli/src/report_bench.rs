//! `warden bench --report`: time and peak memory of every report format on
//! synthetic runs of 1k, 10k and 50k findings.
//!
//! Why it exists: a fleet run can hold tens of thousands of findings, and
//! the CSV, JSON and SARIF writers promise to stream. Peak RSS only ever
//! grows within a process, so each (format, size) case runs in a child
//! process of its own (`warden bench --report --report-case FORMAT:N`) and
//! prints the resident memory after building its input and at its peak: the
//! difference is what rendering cost.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::Command;
use std::time::Instant;

use warden_model::{Evidence, Finding, Outcome, RuleOutcome, Severity};
use warden_report::{HostReport, ReportFormat, ReportType, RunMetadata, RunReport};

/// Sizes measured.
pub const SIZES: [usize; 3] = [1_000, 10_000, 50_000];

/// A run of `findings` findings: 100 per host, 200 distinct rules over two
/// packages, text of realistic length, CVE attributes on half, and (FULL)
/// 60 rule outcomes per host.
pub fn synthetic(findings: usize) -> RunReport {
    let hosts = findings.div_ceil(100).max(1);
    let mut out = Vec::with_capacity(hosts);
    let mut made = 0;
    for h in 0..hosts {
        let asset = format!("ip-10-0-{}-{}.ec2.internal", h / 250, h % 250);
        let n = (findings - made).min(100);
        let findings: Vec<Finding> = (0..n)
            .map(|i| {
                let k = made + i;
                let rule = k % 200;
                let severity = Severity::ALL[k % 5];
                let cve = rule % 2 == 0;
                let mut attributes = BTreeMap::new();
                if cve {
                    attributes.insert("CVE_ID".to_string(), format!("CVE-2024-{:05}", rule));
                    attributes.insert("CVSS3_SCORE".to_string(), "7.5".to_string());
                    attributes.insert("CVSS3_VECTOR".to_string(), "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N".to_string());
                    attributes.insert("package_name".to_string(), format!("libexample{rule}"));
                }
                Finding {
                    rule_id: if cve { format!("CVE-2024-{rule:05}") } else { format!("sbp-rule-{rule}") },
                    package: if cve { "Common Vulnerabilities and Exposures" } else { "Security Best Practices" }.to_string(),
                    title: format!("Instance {asset} is affected by rule number {rule}, which checks a setting"),
                    severity,
                    numeric_severity: severity.numeric(),
                    asset: asset.clone(),
                    description: "A description of what the rule checks and why it matters for the security of the host, long enough to wrap over several lines in the PDF and the HTML reports, as Inspector's descriptions were. ".repeat(2),
                    recommendation: "Upgrade the package to the fixed version, or change the setting in the file named by the evidence and restart the service.".to_string(),
                    evidence: vec![
                        Evidence {
                            message: "the setting allows it".to_string(),
                            path: Some("/etc/ssh/sshd_config".to_string()),
                            line: Some(33),
                            text: Some("PermitRootLogin yes".to_string()),
                            is_default: false,
                        },
                        Evidence {
                            message: format!("installed version 1.{k} is before the fixed version"),
                            path: Some("/var/lib/dpkg/status".to_string()),
                            line: Some(1000 + k as u32),
                            text: None,
                            is_default: false,
                        },
                    ],
                    attributes,
                }
            })
            .collect();
        made += n;
        let rules = (0..60)
            .map(|r| RuleOutcome {
                rule_id: format!("sbp-rule-{r}"),
                package: "Security Best Practices".to_string(),
                title: format!("Rule {r}"),
                severity: Severity::Medium,
                outcome: if r % 3 == 0 { Outcome::Fail } else { Outcome::Pass },
                reason: "checked".to_string(),
                evidence: vec![],
            })
            .collect();
        out.push(HostReport {
            asset,
            os: Some("Debian GNU/Linux 12 (bookworm)".to_string()),
            agent_id: Some(format!("i-{h:017x}")),
            collected_at: "2026-11-28T10:00:00Z".to_string(),
            partial: false,
            findings,
            rules,
            problems: vec![],
        });
    }
    let run = RunMetadata {
        run_name: format!("bench-{findings}"),
        template: "Bench template".to_string(),
        target: "Bench fleet".to_string(),
        started_at: "2026-11-28T10:00:00Z".to_string(),
        completed_at: "2026-11-28T11:00:00Z".to_string(),
        rules_packages: vec!["Security Best Practices".to_string(), "Common Vulnerabilities and Exposures".to_string()],
        agents: Vec::new(),
        state: None,
        warden_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: "2026-11-28T11:00:00Z".to_string(),
    };
    RunReport::new(ReportType::Full, run, out)
}

/// Counts bytes written and drops them.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// User plus system CPU time of this process, in milliseconds (getrusage):
/// on a shared machine wall time includes waiting for a core, CPU time does not.
fn cpu_ms() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return f64::NAN;
    }
    // SAFETY: getrusage returned 0, so the struct was initialised.
    let u = unsafe { usage.assume_init() };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(u.ru_utime) + ms(u.ru_stime)
}

/// One case, in this process: `FORMAT:N`.
pub fn run_case(case: &str) -> Result<(), String> {
    let (name, n) = case.split_once(':').ok_or_else(|| format!("--report-case {case:?}: expected FORMAT:N"))?;
    let format = ReportFormat::from_name(name).ok_or_else(|| format!("--report-case: unknown format {name:?}"))?;
    let n: usize = n.parse().map_err(|e| format!("--report-case {case:?}: {e}"))?;
    let report = synthetic(n);
    let input_rss = crate::bench::peak_rss_kib();
    let mut sink = io::BufWriter::with_capacity(1 << 16, Counter(0));
    let start = Instant::now();
    let cpu_start = cpu_ms();
    warden_report::write_report(&report, format, &mut sink).map_err(|e| e.to_string())?;
    sink.flush().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let cpu = cpu_ms() - cpu_start;
    let bytes = sink.get_ref().0;
    println!(
        "{:<9} {:>6} findings: {:>9.1} ms wall {:>9.1} ms CPU  {:>11} bytes  RSS input {:>7} KiB  peak {:>7} KiB  (+{} KiB)",
        name,
        n,
        elapsed.as_secs_f64() * 1000.0,
        cpu,
        bytes,
        input_rss,
        crate::bench::peak_rss_kib(),
        crate::bench::peak_rss_kib() - input_rss
    );
    Ok(())
}

/// Every format at every size, each in a child process.
pub fn run_all() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    println!("warden bench --report: one child process per case (FULL report, 100 findings per host)");
    for n in SIZES {
        for format in ReportFormat::ALL {
            let case = format!("{}:{n}", format.name());
            let status = Command::new(&exe)
                .args(["bench", "--report", "--report-case", &case])
                .status()
                .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
            if !status.success() {
                return Err(format!("bench case {case} failed ({status})"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_runs_have_the_size_asked() {
        let r = super::synthetic(250);
        assert_eq!(r.finding_count(), 250);
        assert_eq!(r.hosts.len(), 3);
        assert!(r.findings().all(|(_, f)| !f.evidence.is_empty()));
    }
}
