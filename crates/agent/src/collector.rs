//! What the agent collects for a run: the seam between the agent loop and
//! the collectors.
//!
//! Why a trait: the loop (scheduling, spooling, delivery) must not change
//! when the runtime sampler (`warden_collect::runtime`) arrives. At a run's
//! start the agent calls [`RunCollector::snapshot`] once; every sampling
//! interval it calls [`RunCollector::sample`] (the runtime sampler's delta); at the
//! end, [`RunCollector::end_run`] so per-run state (deduplication) is freed.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::value::RawValue;

use warden_collect::runtime::{Sampler, SamplerConfig};

/// Collection for runs.
pub trait RunCollector {
    /// The full host snapshot, as `warden collect` writes it (package
    /// inventories and the facts the CIS content needs included), serialized.
    ///
    /// Serialized JSON rather than a `serde_json::Value`: a `Value` tree of a
    /// host snapshot takes several times the memory of its text, and the
    /// agent's memory budget is 20 MB.
    fn snapshot(&mut self) -> Result<Box<RawValue>, String>;
    /// One runtime sample for `run`, or `None` when there is nothing new.
    fn sample(&mut self, run: &str) -> Option<Box<RawValue>>;
    /// The run ended: drop its state.
    fn end_run(&mut self, run: &str);
}

/// The host collector: the snapshot from `warden_collect`, and one runtime
/// [`Sampler`] per run, so each run's deltas start with a full resync and
/// end with the run (a sampler keeps what it has sent in order to send only
/// changes).
pub struct HostCollector {
    /// Root to collect (`/` on a real agent).
    pub root: PathBuf,
    /// The runtime samplers of the runs in progress.
    pub samplers: HashMap<String, Sampler>,
}

impl HostCollector {
    /// A collector of the host under `root`.
    pub fn new(root: PathBuf) -> HostCollector {
        HostCollector { root, samplers: HashMap::new() }
    }
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
    fn snapshot(&mut self) -> Result<Box<RawValue>, String> {
        let snapshot = warden_collect::collect(&self.root, &full_snapshot_options()).map_err(|p| p.to_string())?;
        serde_json::value::to_raw_value(&snapshot).map_err(|e| e.to_string())
    }

    fn sample(&mut self, run: &str) -> Option<Box<RawValue>> {
        let root = self.root.clone();
        let sampler = self.samplers.entry(run.to_string()).or_insert_with(|| {
            Sampler::new(SamplerConfig { proc_root: root.join("proc"), root, ..SamplerConfig::default() })
        });
        let delta = sampler.sample(warden_collect::runtime::unix_now());
        serde_json::value::to_raw_value(&delta).ok()
    }

    fn end_run(&mut self, run: &str) {
        self.samplers.remove(run);
    }
}
