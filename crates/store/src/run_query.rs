//! Store values for the Inspector API's templates and runs: the run listing
//! query and its keyset, the outcome of an exclusive run start, and a
//! template's run summary.
//!
//! Why they live apart from `model.rs`: they are the Inspector area's
//! additions (migration 0002), and `ListAssessmentRuns` pages over a table
//! that grows without bound, so its filter must reach the database as a
//! query instead of being applied to a loaded list.

use serde::{Deserialize, Serialize};

use crate::model::{Run, RunState, UnixMillis};

/// An inclusive time window; an open end does not constrain. A set window
/// never matches a run whose time is unset (a run not started has no start time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Earliest time matched.
    pub from: Option<UnixMillis>,
    /// Latest time matched.
    pub to: Option<UnixMillis>,
}

impl TimeRange {
    /// Whether either end is set.
    pub fn is_set(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

/// Which runs to list (Inspector's `ListAssessmentRuns` with its
/// `AssessmentRunFilter`): fields AND-ed, values of one list OR-ed, an empty
/// list not constraining.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunQuery {
    /// Runs of these templates only.
    pub template_ids: Vec<String>,
    /// Inspector name pattern: `*` matches any run of characters, every other
    /// character itself (case-sensitive).
    pub name_pattern: Option<String>,
    /// Runs in one of these states.
    pub states: Vec<RunState>,
    /// Shortest duration matched, seconds.
    pub min_duration_seconds: Option<u64>,
    /// Longest duration matched, seconds.
    pub max_duration_seconds: Option<u64>,
    /// `Some`: runs with at least one of these package ids (`Some(empty)` matches none).
    pub packages: Option<Vec<String>>,
    /// Window on `started_at`.
    pub started: TimeRange,
    /// Window on `completed_at`.
    pub completed: TimeRange,
    /// Window on `state_changed_at`.
    pub state_changed: TimeRange,
}

/// Where a page of runs continues: runs are listed newest first
/// (`created_at` descending, then id descending), and the next page starts
/// strictly after this key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPageKey {
    /// The last listed run's creation time.
    pub created_at: UnixMillis,
    /// The last listed run's id.
    pub id: String,
}

/// A listed run: enough to name it (its ARN embeds target and template) and to continue paging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    /// The run.
    pub id: String,
    /// Its template.
    pub template_id: String,
    /// The template's target.
    pub target_id: String,
    /// When it was created.
    pub created_at: UnixMillis,
}

impl RunRef {
    /// The key that continues a listing after this run.
    pub fn page_key(&self) -> RunPageKey {
        RunPageKey { created_at: self.created_at, id: self.id.clone() }
    }
}

/// An agent that is already in a run not yet ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusyAgent {
    /// The agent.
    pub agent_id: String,
    /// The run it is in.
    pub run_id: String,
    /// That run's template.
    pub template_id: String,
    /// That template's target.
    pub target_id: String,
}

/// What an exclusive run start did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // a run is what callers want; boxing it buys nothing here
pub enum RunStart {
    /// The run was created (state CREATED) with the agents assigned.
    Started(Run),
    /// Nothing was created: these agents are in runs not yet ended.
    AgentsBusy(Vec<BusyAgent>),
}

/// How many runs a template has and which is the newest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRunSummary {
    /// Existing runs of the template.
    pub run_count: u64,
    /// The newest run (by creation time), if any.
    pub last_run_id: Option<String>,
}
