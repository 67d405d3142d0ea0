//! `warden assess --duration D [--sample-interval I]` and `warden bench --runtime`:
//! runtime sampling of this host, in-process.
//!
//! Why it exists: the Runtime Behavior Analysis package needs what the host
//! did over a run; the fleet agent samples on many hosts, and this module
//! does the same for one host from the command line, with the same sampler
//! (`warden_collect::runtime`) and the same rules (`warden_rules::runtime`).
//! The benchmark measures what sampling costs on this host and how large the
//! telemetry of a run grows, on this host and on simulated busy hosts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use warden_collect::runtime::{DEFAULT_INTERVAL, SampleCost, Sampler, SamplerConfig, run_for, unix_now};
use warden_model::Assessment;
use warden_model::runtime::{
    ConnectionRecord, Direction, FileMode, Observed, ProcessRecord, RUNTIME_SCHEMA_VERSION, RuntimeDelta,
    RuntimeObservations, Seen, SharedObjectRecord,
};

/// Parses a duration: a number with a unit `s`, `m`, `h` or `d` (`90s`,
/// `10m`, `1h`, `24h`); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration (examples: 90s, 10m, 1h, 24h)"))?;
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("unknown duration unit {other:?} in {text:?} (use s, m, h or d)")),
    };
    let secs = n.checked_mul(unit_secs).ok_or_else(|| format!("{text:?} is too long"))?;
    if secs == 0 {
        return Err("a duration must be at least 1s".to_string());
    }
    Ok(Duration::from_secs(secs))
}

/// Samples this host for `duration`, every `interval`; a progress line per
/// minute goes to standard error.
pub fn observe(duration: Duration, interval: Duration, root: &std::path::Path) -> Result<RuntimeObservations, String> {
    if root != std::path::Path::new("/") {
        return Err("--duration samples the running system: it cannot be combined with --root".to_string());
    }
    eprintln!("warden: sampling runtime behaviour for {} s, every {} s", duration.as_secs(), interval.as_secs());
    let config = SamplerConfig { interval, ..SamplerConfig::default() };
    let started = Instant::now();
    let mut last_report = Instant::now();
    let observations = run_for(config, duration, |_, _| {
        if last_report.elapsed() >= Duration::from_secs(60) {
            last_report = Instant::now();
            eprintln!("warden: {} s of {} s sampled", started.elapsed().as_secs(), duration.as_secs());
        }
    });
    Ok(observations)
}

/// Adds the Runtime Behavior Analysis package's outcomes and findings.
pub fn add_package(assessment: &mut Assessment, observations: &RuntimeObservations) {
    let (outcomes, findings, partial) = warden_rules::runtime::evaluate(observations, &assessment.asset);
    warden_rules::add_package(assessment, warden_rules::runtime::PACKAGE_NAME, outcomes, findings, partial);
}

/// The runtime package's rules, for `warden rules` (the package needs
/// `--duration`, so it is listed after the snapshot packages).
pub fn print_rules() {
    use warden_rules::runtime::{PACKAGE_ID, PACKAGE_NAME, rules};
    println!("{PACKAGE_NAME} ({PACKAGE_ID}, with --duration)");
    for r in rules() {
        println!("  {:<34} {:<13} {}", r.id, r.severity.as_str(), r.title);
    }
}

fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return Duration::ZERO;
    }
    // SAFETY: the call succeeded, so the struct is initialised.
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map(|v| v.len()).unwrap_or(0)
}

/// `warden bench --runtime`: samples this host `samples` times at the
/// default interval (so the deltas carry the churn a real run sees), and
/// reports the per-sample cost and the telemetry per hour; then simulates
/// busy hosts.
pub fn bench(samples: u32) -> Result<(), String> {
    let samples = samples.max(2);
    let per_hour = 3600 / DEFAULT_INTERVAL.as_secs();
    let mut sampler = Sampler::new(SamplerConfig::default());
    let mut costs: Vec<(SampleCost, Duration)> = Vec::new();
    let mut delta_bytes = Vec::new();
    for _ in 0..samples {
        if let Some((previous, _)) = costs.last() {
            std::thread::sleep(DEFAULT_INTERVAL.saturating_sub(previous.elapsed));
        }
        let cpu_before = cpu_time();
        let delta = sampler.sample(unix_now());
        costs.push((sampler.last_cost.clone(), cpu_time() - cpu_before));
        delta_bytes.push(json_len(&delta));
    }
    let obs = sampler.observations();
    let (first, rest) = costs.split_first().ok_or("no samples")?;
    let mut wall: Vec<Duration> = rest.iter().map(|(c, _)| c.elapsed).collect();
    wall.sort();
    let mut cpu: Vec<Duration> = rest.iter().map(|(_, c)| *c).collect();
    cpu.sort();
    let steady: usize = delta_bytes[1..].iter().sum::<usize>() / (delta_bytes.len() - 1);
    println!(
        "warden bench --runtime: {samples} samples of this host, every {} s (the default interval)",
        DEFAULT_INTERVAL.as_secs()
    );
    println!(
        "  first sample  {:8.3} ms wall, {:8.3} ms CPU, {} processes, {} executables hashed, delta {} bytes",
        ms(first.0.elapsed),
        ms(first.1),
        first.0.processes,
        first.0.files_hashed,
        delta_bytes[0]
    );
    println!(
        "  later samples median {:8.3} ms wall (min {:.3}, max {:.3}), median {:8.3} ms CPU = {:.3}% of one core at the {} s default interval",
        ms(wall[wall.len() / 2]),
        ms(wall[0]),
        ms(wall[wall.len() - 1]),
        ms(cpu[cpu.len() / 2]),
        cpu[cpu.len() / 2].as_secs_f64() / DEFAULT_INTERVAL.as_secs_f64() * 100.0,
        DEFAULT_INTERVAL.as_secs()
    );
    println!(
        "  tables        {} listeners, {} connections, {} processes, {} shared objects of root processes, {} executables",
        obs.listeners.len(),
        obs.connections.len(),
        obs.processes.len(),
        obs.shared_objects.len(),
        obs.executables.len()
    );
    println!(
        "  telemetry     first delta {} bytes, later deltas mean {steady} bytes -> {:.1} KiB in the first hour; merged observations {} bytes",
        delta_bytes[0],
        (steady as f64 * (per_hour - 1) as f64 + delta_bytes[0] as f64) / 1024.0,
        json_len(obs)
    );
    println!("  peak RSS      {} KiB", crate::bench::peak_rss_kib());
    println!("simulated busy hosts, one hour at the {} s interval ({per_hour} samples):", DEFAULT_INTERVAL.as_secs());
    for (processes, churn_percent) in [(100, 1), (1_000, 1), (1_000, 10), (10_000, 1), (10_000, 10)] {
        let r = simulate_hour(processes, churn_percent, per_hour);
        println!(
            "  {processes:>6} processes, {churn_percent:>2}% replaced per sample: {:>9.1} KiB of deltas per hour ({:>9.1} KiB shared objects), merged {:>8.1} KiB, {} records, merge {:.3} ms per delta",
            r.delta_bytes as f64 / 1024.0,
            r.shared_object_bytes as f64 / 1024.0,
            r.merged_bytes as f64 / 1024.0,
            r.records + r.shared_object_records,
            ms(r.merge_time) / per_hour as f64
        );
    }
    Ok(())
}

struct Simulation {
    delta_bytes: usize,
    /// Of `delta_bytes`, the shared-objects tables.
    shared_object_bytes: usize,
    shared_object_records: usize,
    merged_bytes: usize,
    records: usize,
    merge_time: Duration,
}

/// One simulated hour: `processes` processes of `processes / 10` programs,
/// each with one outbound connection; each sample `churn_percent` of them
/// exit and are replaced by new processes of the same programs with new
/// connections (new pids, new ephemeral ports), and one sample in ten a new
/// program appears. Root build tools (one per ten processes) come and go
/// as on a build host: each runs in two samples of three, as a new process
/// every sample, and maps six libraries five directories deep. Deltas are
/// computed and merged as the sampler does.
fn simulate_hour(processes: u32, churn_percent: u32, samples: u64) -> Simulation {
    let programs = (processes / 10).max(1);
    let mut merged = RuntimeObservations::default();
    let mut next_pid = 1000u32;
    let mut live: Vec<(u32, u32)> = (0..processes).map(|i| (i % programs, i + 1)).collect();
    let mut new_programs = 0u32;
    let mut seen_pids = std::collections::HashSet::new();
    let (mut delta_bytes, mut shared_object_bytes, mut merge_time) = (0usize, 0usize, Duration::ZERO);
    let tools = programs;
    for seq in 1..=samples {
        let replaced = (processes * churn_percent).div_ceil(100) as usize;
        for slot in 0..replaced {
            let at = (slot * 7 + seq as usize * 13) % live.len();
            next_pid += 1;
            live[at].1 = next_pid;
        }
        if seq % 10 == 0 {
            new_programs += 1;
            live[0].0 = programs + new_programs;
        }
        let mut process_table: BTreeMap<_, ProcessRecord> = BTreeMap::new();
        let mut connections: BTreeMap<_, ConnectionRecord> = BTreeMap::new();
        for (program, pid) in &live {
            let exe = format!("/usr/lib/app/worker-{program}");
            let is_new = u64::from(seen_pids.insert(*pid));
            let p = ProcessRecord {
                exe: exe.clone(),
                euid: 1000,
                parent_exe: Some("/usr/lib/systemd/systemd".into()),
                user: Some("app".into()),
                comm: format!("worker-{program}"),
                pid: *pid,
                ppid: 1,
                instances: is_new,
                seen: Seen::default(),
            };
            process_table.entry(p.key()).and_modify(|e| e.instances += p.instances).or_insert(p);
            let c = ConnectionRecord {
                direction: Direction::Outbound,
                service_port: 443,
                remote_address: format!("198.51.100.{}", program % 200),
                exe: Some(exe),
                local_address: "10.0.0.5".into(),
                remote_port: 443,
                pid: Some(*pid),
                connections: is_new,
                seen: Seen::default(),
            };
            connections.entry(c.key()).and_modify(|e| e.connections += c.connections).or_insert(c);
        }
        let mut shared_objects: BTreeMap<_, SharedObjectRecord> = BTreeMap::new();
        for tool in (0..tools).filter(|t| (u64::from(*t) + seq) % 3 != 0) {
            next_pid += 1;
            for library in 0..6 {
                let r = simulated_library(tool, library, next_pid);
                shared_objects.insert(r.key(), r);
            }
        }
        let delta = RuntimeDelta {
            schema_version: RUNTIME_SCHEMA_VERSION,
            sampler: "simulation".into(),
            seq,
            at: 1_700_000_000 + seq * DEFAULT_INTERVAL.as_secs(),
            interval_secs: DEFAULT_INTERVAL.as_secs(),
            resync: seq == 1,
            processes: merged.processes.diff(&process_table),
            connections: merged.connections.diff(&connections),
            shared_objects: merged.shared_objects.diff(&shared_objects),
            ..RuntimeDelta::default()
        };
        delta_bytes += json_len(&delta);
        shared_object_bytes += json_len(&delta.shared_objects);
        let started = Instant::now();
        merged.merge(&delta);
        merge_time += started.elapsed();
    }
    Simulation {
        delta_bytes,
        shared_object_bytes,
        shared_object_records: merged.shared_objects.len(),
        merged_bytes: json_len(&merged),
        records: merged.processes.len() + merged.connections.len(),
        merge_time,
    }
}

/// Library `library` of root build tool `tool`, as process `pid` maps it.
fn simulated_library(tool: u32, library: u32, pid: u32) -> SharedObjectRecord {
    let directory = FileMode { mode: 0o040_755, uid: 0, gid: 0 };
    SharedObjectRecord {
        path: format!("/usr/lib/x86_64-linux-gnu/toolchain/lib{library}.so.{library}"),
        loaded_by: format!("/usr/libexec/build/tool-{tool}"),
        chain: vec![
            FileMode { mode: 0o100_644, uid: 0, gid: 0 },
            directory,
            directory,
            directory,
            directory,
            directory,
        ],
        stat_error: None,
        pid,
        seen: Seen::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10w").unwrap_err().contains("unit"));
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn a_steady_simulated_host_sends_little() {
        let quiet = simulate_hour(100, 0, 60);
        let busy = simulate_hour(100, 10, 60);
        assert!(quiet.delta_bytes < busy.delta_bytes, "{} vs {}", quiet.delta_bytes, busy.delta_bytes);
        // 10 programs, plus one new every ten samples; a process and a connection record each.
        assert_eq!((quiet.records, busy.records), (32, 32));
        // 10 tools of 6 libraries each.
        assert_eq!(busy.shared_object_records, 60);
        assert!(busy.shared_object_bytes > 0 && busy.shared_object_bytes < busy.delta_bytes);
    }
}
