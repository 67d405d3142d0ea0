//! Live collection of an AWS network's configuration through the AWS SDK
//! for Rust, written as the folder of AWS CLI output that
//! `warden_netreach::load` reads.
//!
//! Why it exists: `warden net collect` gathers, per region, the same
//! describe-* answers an operator would save with the AWS CLI — same file
//! names, same top-level keys, the CLI's JSON shapes — so the loader needs no
//! second input path and a collected folder can be diffed against, or mixed
//! with, CLI dumps. Layout, calls and the manifest: `docs/netreach.md`
//! ("Live collection").
//!
//! - [`calls`]: the calls and their paging; [`cli_json`], `ec2_network`,
//!   `ec2_endpoints`, `elb`: SDK records → CLI JSON, field by field;
//! - [`output`]: files streamed page by page, the staged output folder;
//! - `config`: credentials (never IMDS), retries, endpoint.
//!
//! Nothing the API answers is fatal: a call that fails (access denied,
//! throttled beyond the SDK's standard retries, timed out) is recorded with
//! its error in the manifest, its file is not written, the region and the
//! run are marked partial, and every other call still runs.
#![deny(missing_docs)]

pub mod calls;
pub mod cli_json;
mod config;
mod ec2_endpoints;
mod ec2_network;
mod elb;
pub mod output;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use aws_credential_types::Credentials;
pub use calls::CallError;
use calls::{Children, Clients, Op};
pub use config::disable_imds;
use output::{FileSink, MANIFEST, Staging};
use warden_netreach::load::sanitize;

/// What to collect and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Regions, each collected into its own `<account>/<region>` folder.
    pub regions: Vec<String>,
    /// A profile of the shared config/credentials files (else `AWS_PROFILE`
    /// or `default`).
    pub profile: Option<String>,
    /// Send every call to this endpoint (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Static credentials instead of the credentials chain (tests, embedding).
    pub static_credentials: Option<Credentials>,
    /// Attempts per request, first included (the SDK's standard retry
    /// policy: exponential backoff with jitter, throttling and transient
    /// errors retried).
    pub max_attempts: u32,
    /// The retry policy's first backoff.
    pub initial_backoff: Duration,
    /// Calls in flight at once per region.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            regions: Vec::new(),
            profile: None,
            endpoint_url: None,
            static_credentials: None,
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            concurrency: 8,
        }
    }
}

/// The manifest written as `warden-collect.json` at the top of the folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of this file.
    pub format: u32,
    /// `warden <version>`.
    pub tool: String,
    /// When the run started and ended (UTC, ISO 8601).
    pub started: String,
    /// When the run ended.
    pub finished: String,
    /// Some call failed: the folder is incomplete.
    pub partial: bool,
    /// The endpoint every call went to, when not AWS's.
    pub endpoint_url: Option<String>,
    /// The profile named on the command line.
    pub profile: Option<String>,
    /// One entry per region, in the order asked.
    pub regions: Vec<RegionManifest>,
}

/// One region's collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionManifest {
    /// The region.
    pub region: String,
    /// The account, when known.
    pub account: Option<String>,
    /// How the account is known: `sts` (GetCallerIdentity), `owner-id`
    /// (the records' `OwnerId`), or `unknown` (the folder is then just
    /// `<region>`).
    pub account_from: String,
    /// The region's folder, relative to the output folder.
    pub folder: String,
    /// Some call of this region failed.
    pub partial: bool,
    /// Every call made, in the order it finished.
    pub calls: Vec<CallRecord>,
}

/// One API call (all of its pages).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// `ec2`, `elbv2`, `elb` (or `sts`).
    pub service: String,
    /// The API operation.
    pub operation: String,
    /// The equivalent CLI command, `aws ec2 describe-vpcs`.
    pub command: String,
    /// The resource of a per-resource call (route table id, ARN, list id).
    pub resource: Option<String>,
    /// The file written, relative to the output folder; absent when the call failed.
    pub file: Option<String>,
    /// Records written: elements of the output's list (for describe-instances,
    /// reservations, not instances).
    pub items: usize,
    /// Pages received.
    pub pages: u32,
    /// When the call started (UTC, ISO 8601).
    pub started: String,
    /// How long it took, retries included.
    pub duration_ms: u64,
    /// Why it failed.
    pub error: Option<CallError>,
    /// Why its answer is incomplete though it succeeded.
    pub incomplete: Option<String>,
}

/// Now, as the manifest writes times.
fn now() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    cli_json::format_timestamp(t.as_secs() as i64, t.subsec_millis() * 1_000_000)
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`: the shape the loader
/// recognises as a region folder (anything else would also be unsafe as a
/// path component).
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    s.len() <= 32
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1].iter().all(|p| p.bytes().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|c| c.is_ascii_digit())
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

/// Collects every region of `options` into the folder `out` and writes the
/// manifest. Errors only when the folder cannot be used or written at all
/// (bad region names included); API failures are in the manifest.
pub async fn collect(options: &Options, out: &Path) -> Result<(PathBuf, Manifest), String> {
    if options.regions.is_empty() {
        return Err("name at least one region".into());
    }
    if let Some(bad) = options.regions.iter().find(|r| !is_region(r)) {
        return Err(format!("`{bad}` is not a region name (like us-east-1)"));
    }
    let staging = Staging::prepare(out)?;
    let started = now();
    let mut regions = Vec::new();
    for region in &options.regions {
        if regions.iter().any(|r: &RegionManifest| &r.region == region) {
            continue;
        }
        match collect_region(region, options, &staging.dir).await {
            Ok(r) => regions.push(r),
            Err(e) => {
                staging.discard();
                return Err(e);
            }
        }
    }
    let manifest = Manifest {
        format: 1,
        tool: format!("warden {}", env!("CARGO_PKG_VERSION")),
        started,
        finished: now(),
        partial: regions.iter().any(|r| r.partial),
        endpoint_url: options.endpoint_url.clone(),
        profile: options.profile.clone(),
        regions,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())? + "\n";
    let path = staging.dir.join(MANIFEST);
    if let Err(e) = std::fs::write(&path, text) {
        staging.discard();
        return Err(format!("{}: cannot write: {e}", path.display()));
    }
    let folder = staging.commit()?;
    Ok((folder, manifest))
}

/// The outcome of one call, from its task.
struct Finished {
    record: CallRecord,
    op: Op,
    /// Records kept for children and the account (parents and owner-naming calls only).
    observed: Vec<Value>,
}

/// Makes one call into `dir` (the region's staging folder).
async fn call(clients: Clients, op: Op, resource: Option<String>, dir: PathBuf, observe: bool) -> Finished {
    let info = op.info();
    let file = match &resource {
        Some(id) => format!("{}/{}.json", info.command, sanitize(id)),
        None => format!("{}.json", info.file),
    };
    let mut sink = FileSink::new(dir.join(&file), info.key, observe);
    let started = now();
    let clock = Instant::now();
    match calls::run(&clients, op, resource.as_deref(), &mut sink).await {
        Ok(counts) => {
            let observed = std::mem::take(&mut sink.observed);
            let incomplete = sink.incomplete.take();
            let error = sink.finish().err();
            // A parent whose file could not be written names no children.
            let observed = if error.is_none() { observed } else { Vec::new() };
            let mut record = record(&info, resource, started, clock, Some(file), counts, error);
            record.incomplete = incomplete;
            Finished { op, observed, record }
        }
        Err((counts, error)) => {
            sink.abandon();
            Finished {
                op,
                observed: Vec::new(),
                record: record(&info, resource, started, clock, None, counts, Some(error)),
            }
        }
    }
}

fn record(
    info: &calls::OpInfo,
    resource: Option<String>,
    started: String,
    clock: Instant,
    file: Option<String>,
    counts: calls::Counts,
    error: Option<CallError>,
) -> CallRecord {
    CallRecord {
        service: info.service.to_string(),
        operation: info.operation.to_string(),
        command: format!("aws {} {}", info.service, info.command),
        resource,
        file: if error.is_some() { None } else { file },
        items: counts.items,
        pages: counts.pages,
        started,
        duration_ms: clock.elapsed().as_millis() as u64,
        error,
        incomplete: None,
    }
}

/// Collects one region into `<staging>/<account>/<region>`.
async fn collect_region(region: &str, options: &Options, staging: &Path) -> Result<RegionManifest, String> {
    let sdk = config::load(region, options).await;
    let clients = Clients {
        ec2: aws_sdk_ec2::Client::new(&sdk),
        elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
        elb: aws_sdk_elasticloadbalancing::Client::new(&sdk),
    };
    let work = staging.join(format!(".{region}"));
    let mut records = Vec::new();

    let sts_started = now();
    let clock = Instant::now();
    let identity = aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await;
    let (mut account, sts_error) = match identity {
        Ok(o) => (o.account.filter(|a| is_account(a)), None),
        Err(e) => (None, Some(calls::CallError::from_sdk(&e))),
    };
    let mut account_from = if account.is_some() { "sts" } else { "unknown" };
    records.push(CallRecord {
        service: "sts".into(),
        operation: "GetCallerIdentity".into(),
        command: "aws sts get-caller-identity".into(),
        resource: None,
        file: None,
        items: usize::from(account.is_some()),
        pages: u32::from(sts_error.is_none()),
        started: sts_started,
        duration_ms: clock.elapsed().as_millis() as u64,
        error: sts_error.clone(),
        incomplete: None,
    });

    let limit = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut children = Children::default();
    let mut owner: Option<String> = None;
    // Region-wide calls first; then the per-resource calls their answers name.
    let top: Vec<(Op, Option<String>)> =
        Op::ALL.iter().filter(|op| op.info().parent.is_none()).map(|op| (*op, None)).collect();
    for phase in 0..2 {
        let jobs: Vec<(Op, Option<String>)> = if phase == 0 {
            top.clone()
        } else {
            let mut jobs = Vec::new();
            for (op, ids) in std::mem::take(&mut children.0) {
                jobs.extend(ids.into_iter().map(|id| (op, Some(id))));
            }
            jobs
        };
        let mut set = JoinSet::new();
        for (op, resource) in jobs {
            let observe = op.names_owner() || Op::ALL.iter().any(|c| c.info().parent.is_some_and(|(p, _)| p == op));
            let (clients, dir, limit) = (clients.clone(), work.clone(), limit.clone());
            set.spawn(async move {
                let _permit = limit.acquire_owned().await.expect("the semaphore is never closed");
                call(clients, op, resource, dir, observe).await
            });
        }
        while let Some(done) = set.join_next().await {
            let done = done.map_err(|e| format!("a collection task failed: {e}"))?;
            children.note(done.op, &done.observed);
            if owner.is_none() && done.op.names_owner() {
                owner = done
                    .observed
                    .iter()
                    .filter_map(|r| r.get("OwnerId").and_then(Value::as_str))
                    .find(|o| is_account(o))
                    .map(str::to_string);
            }
            records.push(done.record);
        }
    }
    if account.is_none() && owner.is_some() {
        account = owner;
        account_from = "owner-id";
    }
    let folder = match &account {
        Some(a) => format!("{a}/{region}"),
        None => region.to_string(),
    };
    let final_dir = staging.join(&folder);
    if let Some(parent) = final_dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    if work.exists() {
        std::fs::rename(&work, &final_dir).map_err(|e| format!("{}: {e}", final_dir.display()))?;
    } else {
        std::fs::create_dir_all(&final_dir).map_err(|e| format!("{}: {e}", final_dir.display()))?;
    }
    for r in &mut records {
        if let Some(f) = &mut r.file {
            *f = format!("{folder}/{f}");
        }
    }
    // The STS call only names the folder: its failure alone does not make the data partial.
    let partial = records.iter().any(|r| (r.error.is_some() && r.service != "sts") || r.incomplete.is_some());
    Ok(RegionManifest {
        region: region.to_string(),
        account,
        account_from: account_from.to_string(),
        folder,
        partial,
        calls: records,
    })
}
