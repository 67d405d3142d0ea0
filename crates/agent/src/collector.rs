//! What the agent collects for a run: the seam between the agent loop and
//! the collectors.
//!
//! Why a trait: the loop (scheduling, spooling, delivery) must not change
//! when the runtime sampler (`warden_collect::runtime`) arrives. At a run's
//! start the agent calls [`RunCollector::snapshot`] once; every sampling
//! interval it calls [`RunCollector::sample`] (SEAM(runtime sampler)); at the
//! end, [`RunCollector::end_run`] so per-run state (deduplication) is freed.

use std::path::PathBuf;

/// Collection for runs.
pub trait RunCollector {
    /// The full host snapshot, as `warden collect` writes it (package
    /// inventories and the facts the CIS content needs included).
    fn snapshot(&mut self) -> Result<serde_json::Value, String>;
    /// One runtime sample for `run`, or `None` when there is nothing new.
    fn sample(&mut self, run: &str) -> Option<serde_json::Value>;
    /// The run ended: drop its state.
    fn end_run(&mut self, run: &str);
}

/// The host collector: the snapshot from `warden_collect`; the sampler is a
/// minimal placeholder (time, uptime, load, process count from `/proc`) until
/// the runtime sampler replaces it.
pub struct HostCollector {
    /// Root to collect (`/` on a real agent).
    pub root: PathBuf,
}

/// Collection options that make a snapshot every package can evaluate:
/// the files and kernel parameters the CIS content names.
pub fn full_snapshot_options() -> warden_collect::Options {
    let inputs = warden_rules::cis::inputs();
    warden_collect::Options {
        extra_files: inputs.stat_files,
        extra_text_files: inputs.text_files,
        extra_sysctls: inputs.sysctls,
        ..Default::default()
    }
}

impl RunCollector for HostCollector {
    fn snapshot(&mut self) -> Result<serde_json::Value, String> {
        let snapshot = warden_collect::collect(&self.root, &full_snapshot_options()).map_err(|p| p.to_string())?;
        serde_json::to_value(&snapshot).map_err(|e| e.to_string())
    }

    fn sample(&mut self, _run: &str) -> Option<serde_json::Value> {
        // SEAM(runtime sampler): replace with `warden_collect::runtime` sampling
        // (sockets, connections, processes, mapped objects, ELF properties),
        // deduplicated per run.
        let read = |p: &str| std::fs::read_to_string(p).ok();
        let uptime = read("/proc/uptime").and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok());
        let load: Vec<f64> = read("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).filter_map(|v| v.parse().ok()).collect())
            .unwrap_or_default();
        let processes = std::fs::read_dir("/proc")
            .map(|d| {
                d.flatten().filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit())).count()
            })
            .unwrap_or(0);
        Some(serde_json::json!({
            "sampler": "warden-basic/1",
            "time": crate::http::unix_now(),
            "uptime_seconds": uptime,
            "load_average": load,
            "processes": processes,
        }))
    }

    fn end_run(&mut self, _run: &str) {}
}
