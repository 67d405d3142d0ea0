//! Records behind assessment reports: every rule checked in a run (for FULL
//! reports) and report jobs (`GetAssessmentReport` keeps one per run, file
//! format and report type, so repeated polls reuse it).
//!
//! Why a file of its own: the Inspector API's areas grow the store in
//! parallel; these types belong to the reports area only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use warden_model::RuleOutcome;

use crate::UnixMillis;

/// One rule checked for one agent in a run (passed ones included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRuleOutcome {
    /// The agent whose host was checked.
    pub agent_id: String,
    /// Package id (`best-practices`, `cve`, `cis`, `runtime`, ...).
    pub package_id: String,
    /// The outcome as the rules engine gave it (its `package` is the package name).
    pub outcome: RuleOutcome,
}

/// Where a report job is: Inspector's `ReportStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportJobStatus {
    /// Being generated.
    WorkInProgress,
    /// The file is ready.
    Completed,
    /// Generation failed (`failure` says why).
    Failed,
}

impl ReportJobStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportJobStatus::WorkInProgress => "WORK_IN_PROGRESS",
            ReportJobStatus::Completed => "COMPLETED",
            ReportJobStatus::Failed => "FAILED",
        }
    }
}

impl fmt::Display for ReportJobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportJobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [ReportJobStatus::WorkInProgress, ReportJobStatus::Completed, ReportJobStatus::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown report status {s:?}"))
    }
}

/// A report of one run in one file format and report type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportJob {
    /// Job id (`0-` + 8 characters); names the download.
    pub id: String,
    /// The run.
    pub run_id: String,
    /// `html`, `pdf`, `json`, `csv`, `sarif` or `markdown`.
    pub file_format: String,
    /// `FINDING` or `FULL`.
    pub report_type: String,
    /// Where it is.
    pub status: ReportJobStatus,
    /// The run's revision (see `ReportStore::report_source_revision`) the job
    /// generates, or generated, its file from.
    pub source_revision: String,
    /// The file under the server's reports directory, when COMPLETED.
    pub file_name: Option<String>,
    /// Its size.
    pub file_bytes: Option<u64>,
    /// Why it FAILED.
    pub failure: Option<String>,
    /// First asked for.
    pub created_at: UnixMillis,
    /// Last status change.
    pub updated_at: UnixMillis,
}

/// How a report job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportJobResult {
    /// The file (name under the reports directory) and its size.
    Completed {
        /// File name.
        file_name: String,
        /// Bytes.
        file_bytes: u64,
    },
    /// Why it failed.
    Failed(String),
}

#[cfg(test)]
#[path = "report_jobs_tests.rs"]
mod tests;
