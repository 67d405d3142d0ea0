//! `warden bench`: wall time and peak memory of collection and evaluation.
//!
//! Why it exists: performance is a feature, and figures in notes must come
//! from a command anyone can rerun. It prints the median, minimum and maximum
//! of each stage over several iterations, and the process's peak RSS.

use std::path::Path;
use std::time::{Duration, Instant};

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:8.3} ms  min {:8.3} ms  max {:8.3} ms",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    )
}

/// Peak resident set size of this process, in KiB (getrusage).
pub fn peak_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return -1;
    }
    // SAFETY: rc == 0, so the struct was initialised.
    unsafe { usage.assume_init() }.ru_maxrss
}

/// Runs the benchmark and prints the figures.
pub fn run(root: &Path, iterations: u32) -> Result<(), String> {
    let options = warden_collect::Options::default();
    let mut collect_times = Vec::new();
    let mut assess_times = Vec::new();
    let mut total_times = Vec::new();
    let mut last = None;
    for _ in 0..iterations {
        let start = Instant::now();
        let snapshot = warden_collect::collect(root, &options).map_err(|p| p.to_string())?;
        let collected = Instant::now();
        let assessment = warden_rules::assess(&snapshot, warden_rules::packages());
        let done = Instant::now();
        collect_times.push(collected - start);
        assess_times.push(done - collected);
        total_times.push(done - start);
        last = Some((snapshot, assessment));
    }
    let (snapshot, assessment) = last.ok_or("no iterations")?;
    let snapshot_bytes = serde_json::to_vec(&snapshot).map(|v| v.len()).unwrap_or(0);
    let entries: u64 = snapshot.system_paths.value().map(|v| v.iter().map(|d| d.entries_scanned).sum()).unwrap_or(0);
    println!("warden bench: root {} ({} iterations)", root.display(), iterations);
    println!("  collect   {}", stats(collect_times));
    println!("  evaluate  {}", stats(assess_times));
    println!("  total     {}", stats(total_times));
    println!("  snapshot  {snapshot_bytes} bytes of JSON, {entries} system-directory entries scanned");
    println!("  findings  {}  ({})", assessment.findings.len(), warden_report::summary_line(&assessment));
    println!("  peak RSS  {} KiB", peak_rss_kib());
    Ok(())
}
