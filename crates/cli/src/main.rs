//! The `warden` command: a thin layer over the library crates.
//!
//! Why it exists: argument parsing, reading and writing files, exit codes and
//! choosing an output format live here and nowhere else, so the collectors,
//! the rules and the report writers stay reusable by the agent and server.
//!
//! Exit codes (documented in README.md):
//! - 0: completed, and no finding at or above `--fail-on` (when given);
//! - 1: completed, and at least one finding at or above `--fail-on`;
//! - 2: could not run: bad arguments, an unreadable root or snapshot, an unwritable output.

mod apikey;
mod bench;
mod bench_fleet;
mod cve;
mod db;
mod fetch;
mod fleet;
mod fleet_client;
mod fleet_network;
mod net;
mod net_collect;
mod report_bench;
mod report_cmd;
mod runtime;
mod sbom;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use warden_model::{SNAPSHOT_SCHEMA_VERSION, Severity, Snapshot};
use warden_report::Format;
use warden_rules::Package;

#[derive(Parser)]
#[command(name = "warden", version, about = "Security assessment for Linux hosts", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Collect a host snapshot (JSON) from a root filesystem.
    Collect {
        /// Root filesystem to read: `/` for this host, or a mounted disk, container or image tree.
        #[arg(long, default_value = "/")]
        root: PathBuf,
        /// Write the snapshot here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Assess a host (or a snapshot) and report findings ordered by severity.
    Assess {
        /// Root filesystem to assess.
        #[arg(long, default_value = "/", conflicts_with = "snapshot")]
        root: PathBuf,
        /// Assess a snapshot written by `warden collect` instead of reading a root.
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Output format (default: table on a terminal, json otherwise).
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
        /// Write the report here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Exit with status 1 when a finding of this severity or higher exists.
        #[arg(long, value_parser = parse_severity)]
        fail_on: Option<Severity>,
        /// Rules packages to run: `best-practices`, `cve`, `cis`, `network-reachability` (default: best-practices and
        /// cve, plus network-reachability with `--aws`). Repeatable.
        #[arg(long = "package", value_parser = parse_package)]
        packages: Vec<String>,
        /// Vulnerability database for the CVE package (default: see README).
        #[arg(long, env = "WARDEN_DB")]
        db: Option<PathBuf>,
        /// CVE package: leave out vulnerabilities that have no fix yet.
        #[arg(long)]
        ignore_unfixed: bool,
        /// CIS package: the profile to report (level1-server, level2-server,
        /// level1-workstation, level2-workstation; default: the tailoring's, else level1-server).
        #[arg(long)]
        cis_profile: Option<warden_rules::cis::schema::Profile>,
        /// CIS package: a tailoring file (disabled recommendations, parameter
        /// values, profile; see docs/cis.md). Implies `--package cis`.
        #[arg(long, value_name = "FILE")]
        cis_tailoring: Option<PathBuf>,
        /// Network Reachability package: a folder of `aws ec2/elbv2 describe-*`
        /// JSON outputs to analyse (see docs/netreach.md). Implies `--package network-reachability`.
        #[arg(long, value_name = "DIR")]
        aws: Option<PathBuf>,
        /// Runtime Behavior Analysis package: sample this host for this long
        /// (`90s`, `10m`, `1h`, `24h`) after collecting the snapshot (see docs/runtime.md).
        #[arg(long, value_parser = runtime::parse_duration, conflicts_with = "snapshot")]
        duration: Option<std::time::Duration>,
        /// With `--duration`: the sampling interval.
        #[arg(long, value_parser = runtime::parse_duration, default_value = "10s")]
        sample_interval: std::time::Duration,
    },
    /// Manage the local vulnerability database used by the CVE package.
    Db {
        #[command(subcommand)]
        command: DbCommand,
        /// The database file (default: see README).
        #[arg(long, env = "WARDEN_DB", global = true)]
        db: Option<PathBuf>,
    },
    /// List the rules of every package.
    Rules {
        /// Print each package's full rule documentation as Markdown.
        #[arg(long)]
        markdown: bool,
    },
    /// Measure collection and evaluation time and peak memory.
    Bench {
        /// Root filesystem to assess.
        #[arg(long, default_value = "/")]
        root: PathBuf,
        /// Repetitions.
        #[arg(long, default_value_t = 20)]
        iterations: u32,
        /// Instead, measure growth on synthetic roots of increasing size.
        #[arg(long)]
        scale: bool,
        /// Instead, measure the CVE path: import this feed, then match this
        /// host's packages and synthetic inventories 10x and 100x larger.
        #[arg(long, value_name = "FEED")]
        cve_feed: Option<PathBuf>,
        /// Instead, measure network reachability analysis on generated
        /// estates of 1k, 10k and 100k interfaces.
        #[arg(long)]
        net: bool,
        /// Instead, sample this host's runtime behaviour `--iterations` times
        /// (per-sample cost, telemetry per hour) and simulate busy hosts.
        #[arg(long)]
        runtime: bool,
        /// `warden bench fleet`: load-test the fleet server, measure an agent.
        #[command(subcommand)]
        mode: Option<bench_fleet::BenchMode>,
        /// Instead, measure every report format on runs of 1k, 10k and 50k findings.
        #[arg(long)]
        report: bool,
        /// One report case, FORMAT:N (what `--report` runs in each child process).
        #[arg(long, hide = true, requires = "report")]
        report_case: Option<String>,
        /// Instead, measure the CIS package: synthetic roots of 1k, 10k and
        /// 100k files (the bounded walk), then `--root` (collection with and
        /// without the walk, evaluation, the walk per top-level directory).
        #[arg(long)]
        cis: bool,
    },
    /// API keys (SigV4 credentials) of the Inspector-compatible API.
    Apikey(apikey::ApikeyArgs),
    /// The fleet service: serve, agent, token, apitoken, agents, target, template, run, findings.
    #[command(flatten)]
    Fleet(fleet::FleetCommand),
    /// Render assessment results as a report: HTML, PDF, JSON, CSV, SARIF or Markdown (docs/reports.md).
    Report(report_cmd::ReportArgs),
    /// Write a software bill of materials (CycloneDX 1.5 or SPDX 2.3 JSON) of the installed packages.
    Sbom(sbom::SbomArgs),
    /// AWS network reachability.
    Net {
        #[command(subcommand)]
        command: NetCommand,
    },
}

#[derive(Subcommand)]
enum NetCommand {
    /// Load a folder of `aws ec2/elbv2 describe-*` JSON outputs and print what
    /// was loaded (counts per resource type and warnings).
    Load {
        /// The folder (`<account>/<region>/...` sub-folders name accounts and regions).
        dir: PathBuf,
        /// Print the loaded network model as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// List every port of every interface reachable from the internet (directly
    /// or through a load balancer), with its path.
    Exposure {
        /// The describe-* folder.
        dir: PathBuf,
        /// Print the reachability records as JSON (with `--snapshot`: records and findings).
        #[arg(long)]
        json: bool,
        /// A host snapshot (`warden collect`) giving an instance's listening sockets, as
        /// `[INSTANCE_ID_OR_PRIVATE_IP=]FILE`; findings then say whether a process listens. Repeatable.
        #[arg(long = "snapshot", value_name = "[HOST=]FILE")]
        snapshots: Vec<String>,
    },
    /// Explain whether PROTO/PORT of an instance or interface is reachable:
    /// the path, or every component that blocks it (exit 0 reachable, 1 not).
    Why {
        /// The describe-* folder.
        dir: PathBuf,
        /// Instance id or interface id.
        target: String,
        /// e.g. `tcp/22`.
        port: String,
        /// `internet` (directly and through load balancers), a `vgw-...`, a `pcx-...`, a `tgw-attach-...`, or a
        /// source CIDR/address (from the internet).
        #[arg(long, default_value = "internet")]
        from: String,
    },
    /// Collect the describe-* folder live through the AWS SDK (one
    /// `<account>/<region>` folder per region, and a `warden-collect.json` manifest).
    Collect(net_collect::CollectArgs),
}

#[derive(Subcommand)]
enum DbCommand {
    /// Import advisory feeds (files, `.bz2`/`.gz`/`.zip`, or directories),
    /// replacing earlier imports of the same file name. All or nothing.
    Import {
        /// Feed files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Download the advisory feeds (or read `--from` files, directories and
    /// URLs) into the cache beside the database, then import them. All or nothing.
    Update {
        /// A feed directory, file, or `http(s)://` URL (`URL#sha256=HEX` to
        /// pin its hash). Repeatable; replaces the default sources.
        #[arg(long = "from", value_name = "DIR|FILE|URL")]
        from: Vec<String>,
    },
    /// Show the imported sources, counts per release, and staleness
    /// (exit 1 when the newest import is over a week old).
    Status,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Table,
    Json,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_package(s: &str) -> Result<String, String> {
    let mut ids: Vec<&str> = warden_rules::packages().iter().map(|p| p.id).collect();
    ids.push(warden_rules::cve::PACKAGE_ID);
    ids.push(warden_rules::cis::PACKAGE_ID);
    ids.push(warden_netreach::findings::PACKAGE_ID);
    ids.push(warden_rules::runtime::PACKAGE_ID);
    if ids.contains(&s) { Ok(s.to_string()) } else { Err(format!("unknown package {s:?} (known: {})", ids.join(", "))) }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("warden: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Collect { root, output } => {
            let snapshot = collect(&root, true)?;
            let json = serde_json::to_string_pretty(&snapshot).map_err(|e| e.to_string())? + "\n";
            write_output(output.as_deref(), &json)?;
            for p in &snapshot.problems {
                eprintln!("warden: warning: {p}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Assess {
            root,
            snapshot,
            format,
            output,
            fail_on,
            mut packages,
            db,
            ignore_unfixed,
            cis_profile,
            cis_tailoring,
            aws,
            duration,
            sample_interval,
        } => {
            if duration.is_none() && packages.iter().any(|p| p == warden_rules::runtime::PACKAGE_ID) {
                return Err("--package runtime-behavior needs --duration (how long to sample this host)".to_string());
            }
            let net_id = warden_netreach::findings::PACKAGE_ID;
            if aws.is_none() && packages.iter().any(|p| p == net_id) {
                return Err(format!("--package {net_id} needs --aws DIR (a folder of describe-* JSON outputs)"));
            }
            // A bad tailoring file is refused before anything is collected.
            let tailoring = cis_tailoring.as_deref().map(warden_rules::cis::tailoring::Tailoring::load).transpose()?;
            if tailoring.is_some() && !packages.iter().any(|p| p == warden_rules::cis::PACKAGE_ID) {
                if packages.is_empty() {
                    packages.extend(warden_rules::packages().iter().map(|p| p.id.to_string()));
                    packages.push(warden_rules::cve::PACKAGE_ID.to_string());
                }
                packages.push(warden_rules::cis::PACKAGE_ID.to_string());
            }
            let snapshot = match snapshot {
                Some(path) => read_snapshot(&path)?,
                None => collect(&root, packages.iter().any(|p| p == warden_rules::cis::PACKAGE_ID))?,
            };
            let observations = duration.map(|d| runtime::observe(d, sample_interval, &root)).transpose()?;
            let wanted = |id: &str| packages.is_empty() || packages.iter().any(|p| p == id);
            let rule_packages: Vec<Package> =
                warden_rules::packages().iter().filter(|p| wanted(p.id)).copied().collect();
            let cve_scan = wanted(warden_rules::cve::PACKAGE_ID).then(|| {
                let db = db.unwrap_or_else(cve::default_db_path);
                let today = warden_collect::today();
                cve::scan(&snapshot, &db, warden_vulndb::matcher::MatchOptions { ignore_unfixed, today })
            });
            // Opt-in while the content is young: the default set is best-practices and cve.
            if let Some(t) = &tailoring {
                t.check_host(warden_rules::cis::embedded()?, snapshot.host.os.value())?;
            }
            let cis = packages.iter().any(|p| p == warden_rules::cis::PACKAGE_ID).then(|| {
                let profile = cis_profile
                    .or(tailoring.as_ref().and_then(|t| t.profile))
                    .unwrap_or(warden_rules::cis::schema::Profile::Level1Server);
                warden_rules::cis::CisOptions { profile, tailoring }
            });
            let mut assessment = warden_rules::assess_with(&snapshot, &rule_packages, cve_scan.as_ref(), cis.as_ref());
            if let Some(dir) = &aws {
                let (outcomes, findings, partial) = net::assess_package(dir, &snapshot)?;
                let name = warden_netreach::findings::PACKAGE_NAME;
                warden_rules::add_package(&mut assessment, name, outcomes, findings, partial);
            }
            if let Some(observations) = &observations {
                runtime::add_package(&mut assessment, observations);
            }
            let to_terminal = output.is_none() && std::io::stdout().is_terminal();
            let format = match format {
                Some(OutputFormat::Table) => Format::Table,
                Some(OutputFormat::Json) => Format::Json,
                None if to_terminal => Format::Table,
                None => Format::Json,
            };
            let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            write_output(output.as_deref(), &warden_report::render(&assessment, format, color))?;
            if output.is_some() || format == Format::Json {
                // Keep the one-line summary visible when the report goes elsewhere.
                eprintln!("{}", warden_report::summary_line(&assessment));
            }
            let failing = fail_on.is_some_and(|t| assessment.findings.iter().any(|f| f.severity >= t));
            Ok(if failing { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Db { command, db } => {
            let db = db.unwrap_or_else(cve::default_db_path);
            let now = warden_collect::now_rfc3339();
            match command {
                DbCommand::Import { paths } => {
                    db::import(&db, &paths, &now)?;
                    Ok(ExitCode::SUCCESS)
                }
                DbCommand::Update { from } => {
                    db::update(&db, &from, &now)?;
                    Ok(ExitCode::SUCCESS)
                }
                DbCommand::Status => Ok(if db::status(&db, &now)? { ExitCode::from(1) } else { ExitCode::SUCCESS }),
            }
        }
        Command::Rules { markdown: true } => {
            for p in warden_rules::packages() {
                print!("{}", warden_rules::package_markdown(p));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { markdown: false } => {
            for p in warden_rules::packages() {
                println!("{} ({})", p.name, p.id);
                for r in p.rules {
                    println!("  {:<28} {:<13} {}", r.meta.id, r.meta.severity.as_str(), r.meta.title);
                }
            }
            runtime::print_rules();
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { mode: Some(mode), .. } => {
            bench_fleet::run(mode)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { report: true, report_case, .. } => {
            match report_case {
                Some(case) => report_bench::run_case(&case)?,
                None => report_bench::run_all()?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            report_cmd::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sbom(args) => {
            sbom::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { net: true, .. } => {
            for n in [1_000, 10_000, 100_000] {
                let r = warden_netreach::engine::bench::run(n);
                println!(
                    "net: {:>7} interfaces, {:>6} groups, {:>6} ACL entries, {:>6} routes: analysed in {:>9.3} ms \
                     ({:>9.3} ms CPU), {} records, content hash {:016x}",
                    r.interfaces,
                    r.groups,
                    r.acl_entries,
                    r.routes,
                    r.analyse.as_secs_f64() * 1000.0,
                    r.analyse_cpu.as_secs_f64() * 1000.0,
                    r.records,
                    r.content_hash
                );
            }
            println!("  peak RSS {} KiB", bench::peak_rss_kib());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { runtime: true, iterations, .. } => {
            runtime::bench(iterations)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { cis: true, root, iterations, .. } => {
            bench::run_cis(&root, iterations.max(1))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { cve_feed: Some(feed), root, iterations, .. } => {
            bench::run_cve(&feed, &root, iterations.max(1))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { scale: true, .. } => {
            bench::run_scale()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Apikey(args) => apikey::run(args).map(|()| ExitCode::SUCCESS),
        Command::Fleet(command) => fleet::run(command),
        Command::Net { command: NetCommand::Exposure { dir, json, snapshots } } => {
            net::exposure(&dir, json, &snapshots)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Net { command: NetCommand::Why { dir, target, port, from } } => {
            Ok(if net::why(&dir, &target, &port, &from)? { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Net { command: NetCommand::Collect(args) } => net_collect::run(args),
        Command::Net { command: NetCommand::Load { dir, json } } => {
            net::load(&dir, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            root,
            iterations,
            scale: false,
            cve_feed: None,
            net: false,
            runtime: false,
            report: false,
            mode: None,
            cis: false,
            ..
        } => {
            bench::run(&root, iterations.max(1))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Collects a snapshot; with `for_cis`, also the files and kernel
/// parameters the CIS content names (a snapshot written by `warden collect`
/// always has them, so it can be assessed with every package later).
fn collect(root: &Path, for_cis: bool) -> Result<Snapshot, String> {
    warden_collect::collect(root, &collect_options(for_cis)).map_err(|p| p.to_string())
}

/// The collection options of [`collect`] (also used by `warden bench --cis`).
fn collect_options(for_cis: bool) -> warden_collect::Options {
    let mut options = warden_collect::Options::default();
    if for_cis {
        let inputs = warden_rules::cis::inputs();
        options.extra_files = inputs.stat_files;
        options.extra_text_files = inputs.text_files;
        options.extra_sysctls = inputs.sysctls;
        if inputs.fs_walk {
            options.fs_walk_cap = warden_collect::cis::walk::DEFAULT_CAP;
        }
    }
    options
}

/// Reads a snapshot, naming the file, line and column of any error, and
/// refusing other schema versions.
fn read_snapshot(path: &Path) -> Result<Snapshot, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read snapshot: {e}"))?;
    #[derive(serde::Deserialize)]
    struct Header {
        schema_version: Option<u32>,
    }
    let header: Header =
        serde_json::from_str(&text).map_err(|e| format!("{shown}:{}:{}: not a snapshot: {e}", e.line(), e.column()))?;
    match header.schema_version {
        Some(SNAPSHOT_SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "{shown}: snapshot schema version {v} is not supported (this Warden reads version {SNAPSHOT_SCHEMA_VERSION})"
            ));
        }
        None => return Err(format!("{shown}: not a snapshot: missing field `schema_version`")),
    }
    serde_json::from_str(&text).map_err(|e| format!("{shown}:{}:{}: invalid snapshot: {e}", e.line(), e.column()))
}

fn write_output(path: Option<&Path>, text: &str) -> Result<(), String> {
    match path {
        Some(p) => {
            // Only a regular file (or a new one) is replaced atomically: a
            // device, FIFO or /dev/stdout must be written in place, never
            // renamed over (as root that would replace /dev/null itself).
            let regular_or_new = match std::fs::metadata(p) {
                Ok(meta) => meta.is_file(),
                Err(e) => e.kind() == std::io::ErrorKind::NotFound,
            };
            if !regular_or_new {
                return std::fs::OpenOptions::new()
                    .write(true)
                    .open(p)
                    .and_then(|mut f| f.write_all(text.as_bytes()))
                    .map_err(|e| format!("{}: cannot write: {e}", p.display()));
            }
            // Write beside the target and rename, so a failure never leaves half a report.
            let mut tmp_name = p.file_name().unwrap_or_default().to_os_string();
            tmp_name.push(format!(".warden-tmp-{}", std::process::id()));
            let tmp = p.with_file_name(tmp_name);
            if let Err(e) = std::fs::write(&tmp, text) {
                let _ = std::fs::remove_file(&tmp);
                return Err(format!("{}: cannot write: {e}", tmp.display()));
            }
            std::fs::rename(&tmp, p).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("{}: cannot write: {e}", p.display())
            })
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`warden assess | head`) is not an error worth a message.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(format!("cannot write to standard output: {e}")),
            }
        }
    }
}
