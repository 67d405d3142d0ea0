//! `warden net collect --region R [--profile P] [--endpoint-url URL] -o DIR`:
//! the describe-* folder, collected live through the AWS SDK.
//!
//! Why it exists: it spares the operator thirty AWS CLI commands and their
//! file naming; the folder it writes is the one `warden net load`,
//! `exposure`, `why` and `assess --aws` read. The collection itself is
//! `warden_awscollect`; this file parses arguments, makes the runtime,
//! prints the summary and picks the exit code. Built without the `aws`
//! feature, the command exists and says so.
//!
//! Exit codes: 0 every call succeeded; 1 the folder was written but some
//! call failed (the manifest `warden-collect.json` says which); 2 nothing
//! was written (bad region, unusable output folder).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `warden net collect`.
#[derive(clap::Args)]
pub struct CollectArgs {
    /// A region to collect (repeatable; one `<account>/<region>` folder each).
    #[arg(long = "region", required = true, value_name = "REGION")]
    regions: Vec<String>,
    /// A profile of the shared AWS config/credentials files.
    #[arg(long)]
    profile: Option<String>,
    /// Send every call to this endpoint (an emulator such as moto, a VPC endpoint).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// The output folder: new, empty, or an earlier `warden net collect`
    /// output (replaced as a whole).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Attempts per request, the first included (the SDK's standard retry
    /// policy: exponential backoff with jitter on throttling and transient errors).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    max_attempts: u32,
    /// Calls in flight at once, per region.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    concurrency: u32,
}

/// Runs `warden net collect`.
#[cfg(feature = "aws")]
pub fn run(args: CollectArgs) -> Result<ExitCode, String> {
    use std::time::Instant;
    // SAFETY: nothing else runs yet: the runtime (and its threads) is built below.
    unsafe { warden_awscollect::disable_imds() };
    let options = warden_awscollect::Options {
        regions: args.regions,
        profile: args.profile,
        endpoint_url: args.endpoint_url,
        max_attempts: args.max_attempts,
        concurrency: args.concurrency as usize,
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let clock = Instant::now();
    let (folder, manifest) = runtime.block_on(warden_awscollect::collect(&options, &args.output))?;
    for region in &manifest.regions {
        let calls = region.calls.iter().filter(|c| c.service != "sts").count();
        let failed: Vec<_> = region.calls.iter().filter(|c| c.error.is_some()).collect();
        let items: usize = region.calls.iter().filter(|c| c.service != "sts").map(|c| c.items).sum();
        let account = region.account.as_deref().unwrap_or("account unknown");
        eprintln!(
            "{} ({account}): {calls} calls, {items} records, {} failed -> {}",
            region.region,
            failed.len(),
            folder.join(&region.folder).display()
        );
        for c in failed {
            let what = c.resource.as_deref().map(|r| format!(" {r}")).unwrap_or_default();
            let error = c.error.as_ref().map(|e| e.message.as_str()).unwrap_or_default();
            eprintln!("warden: warning: {} {}{what}: {error}", region.region, c.command);
        }
        for c in region.calls.iter().filter(|c| c.incomplete.is_some()) {
            let why = c.incomplete.as_deref().unwrap_or_default();
            eprintln!("warden: warning: {} {} incomplete: {why}", region.region, c.command);
        }
    }
    let partial = if manifest.partial { " (PARTIAL: see warden-collect.json)" } else { "" };
    eprintln!("collected in {:.1} s{partial}", clock.elapsed().as_secs_f64());
    Ok(if manifest.partial { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Runs `warden net collect` in a build without the AWS SDK.
#[cfg(not(feature = "aws"))]
pub fn run(_args: CollectArgs) -> Result<ExitCode, String> {
    Err("this warden was built without the `aws` feature; rebuild with it (the default) \
         or save the describe-* outputs with the AWS CLI (docs/netreach.md)"
        .into())
}
