//! Per-account resource limits: how many targets, templates, runs, resource
//! groups and agents in running assessments the store holds at most.
//!
//! Why they live in the store: Amazon Inspector Classic documents these
//! limits (`LimitExceededException`), and a limit is only a limit if the
//! count and the insert cannot interleave with another create. The store is
//! the one place both APIs (Inspector's and the admin `/v1`) create through,
//! so it checks inside the inserting transaction and both APIs only map
//! [`crate::StoreError::LimitExceeded`] to their own error shape.

use std::fmt;

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Assessment targets (Inspector default 50).
    Targets,
    /// Assessment templates (Inspector default 500).
    Templates,
    /// Existing assessment runs, whatever their state (Inspector default 50,000).
    Runs,
    /// Distinct agents in runs that have not ended (Inspector default 500).
    AgentsInRuns,
    /// Resource groups (number undocumented by AWS; Warden's default 1,000).
    ResourceGroups,
}

impl LimitKind {
    /// What is counted, in words ("assessment targets").
    pub fn noun(self) -> &'static str {
        match self {
            LimitKind::Targets => "assessment targets",
            LimitKind::Templates => "assessment templates",
            LimitKind::Runs => "assessment runs",
            LimitKind::AgentsInRuns => "agents in running assessments",
            LimitKind::ResourceGroups => "resource groups",
        }
    }

    /// The `warden serve` flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            LimitKind::Targets => "--limit-targets",
            LimitKind::Templates => "--limit-templates",
            LimitKind::Runs => "--limit-runs",
            LimitKind::AgentsInRuns => "--limit-agents-in-runs",
            LimitKind::ResourceGroups => "--limit-resource-groups",
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// The configured limits; [`Limits::default`] is Inspector Classic's,
/// [`Limits::UNLIMITED`] what a store has until the server sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most assessment targets.
    pub targets: u64,
    /// Most assessment templates.
    pub templates: u64,
    /// Most existing runs (any state).
    pub runs: u64,
    /// Most distinct agents across runs that have not ended.
    pub agents_in_runs: u64,
    /// Most resource groups.
    pub resource_groups: u64,
}

/// Inspector's documented default for targets.
pub const DEFAULT_TARGET_LIMIT: u64 = 50;
/// Inspector's documented default for templates.
pub const DEFAULT_TEMPLATE_LIMIT: u64 = 500;
/// Inspector's documented default for existing runs.
pub const DEFAULT_RUN_LIMIT: u64 = 50_000;
/// Inspector's documented default for agents in running assessments.
pub const DEFAULT_AGENTS_IN_RUNS_LIMIT: u64 = 500;
/// AWS documents that a resource group limit exists but not its value: a generous default.
pub const DEFAULT_RESOURCE_GROUP_LIMIT: u64 = 1_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            targets: DEFAULT_TARGET_LIMIT,
            templates: DEFAULT_TEMPLATE_LIMIT,
            runs: DEFAULT_RUN_LIMIT,
            agents_in_runs: DEFAULT_AGENTS_IN_RUNS_LIMIT,
            resource_groups: DEFAULT_RESOURCE_GROUP_LIMIT,
        }
    }
}

impl Limits {
    /// No limit at all: what a store is opened with until the server sets its own.
    pub const UNLIMITED: Limits = Limits {
        targets: u64::MAX,
        templates: u64::MAX,
        runs: u64::MAX,
        agents_in_runs: u64::MAX,
        resource_groups: u64::MAX,
    };

    /// The configured maximum of `kind`.
    pub fn of(&self, kind: LimitKind) -> u64 {
        match kind {
            LimitKind::Targets => self.targets,
            LimitKind::Templates => self.templates,
            LimitKind::Runs => self.runs,
            LimitKind::AgentsInRuns => self.agents_in_runs,
            LimitKind::ResourceGroups => self.resource_groups,
        }
    }
}
