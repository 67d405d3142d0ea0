//! Per-target AWS network data: the records and the [`TargetNetworkStore`]
//! trait (migration 0006).
//!
//! Why it exists: one `warden serve --aws DIR` folder serving every target
//! does not fit a fleet whose targets live in different accounts; an admin
//! uploads each target's describe-* files and runs of that target are
//! evaluated against them. Why a trait of its own (a supertrait of
//! [`crate::FleetStore`], so every store has it and `dyn FleetStore` callers
//! reach it, like every domain of the store): its SQLite implementation
//! stays in `sqlite_target_network.rs`.

use serde::{Deserialize, Serialize};

use crate::{Result, UnixMillis};

/// One load warning of an uploaded bundle, as the loader reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetNetworkWarning {
    /// The resource (or file) concerned.
    pub resource: String,
    /// The file it came from, relative to the bundle.
    pub file: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// What is stored for an upload, besides the target and the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetNetworkUpload {
    /// How `bundle` is compressed (`gzip`).
    pub encoding: String,
    /// The bundle, compressed.
    pub bundle: Vec<u8>,
    /// SHA-256 of the uncompressed bundle, lowercase hex.
    pub sha256: String,
    /// Size of the uncompressed bundle.
    pub bytes: u64,
    /// Describe-* files in the bundle.
    pub files: u64,
    /// EC2 instances the bundle describes.
    pub instances: u64,
    /// Network interfaces the bundle describes.
    pub network_interfaces: u64,
    /// What the loader warned about.
    pub warnings: Vec<TargetNetworkWarning>,
}

/// The stored network data of a target, without the bundle itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetNetwork {
    /// The target.
    pub target_id: String,
    /// SHA-256 of the uncompressed bundle, lowercase hex.
    pub sha256: String,
    /// Size of the uncompressed bundle.
    pub bytes: u64,
    /// Size as stored (compressed).
    pub stored_bytes: u64,
    /// Describe-* files in the bundle.
    pub files: u64,
    /// EC2 instances the bundle describes.
    pub instances: u64,
    /// Network interfaces the bundle describes.
    pub network_interfaces: u64,
    /// What the loader warned about at upload.
    pub warnings: Vec<TargetNetworkWarning>,
    /// When it was uploaded.
    pub uploaded_at: UnixMillis,
}

/// A stored bundle as it was uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetNetworkBundle {
    /// How `data` is compressed (`gzip`).
    pub encoding: String,
    /// The compressed bundle.
    pub data: Vec<u8>,
}

/// Per-target network data in the fleet store.
pub trait TargetNetworkStore {
    /// Stores `upload` as the target's network data, replacing any earlier
    /// upload (`NotFound` when the target does not exist).
    fn put_target_network(
        &self,
        target_id: &str,
        upload: &TargetNetworkUpload,
        now: UnixMillis,
    ) -> Result<TargetNetwork>;
    /// The target's network data, if any was uploaded (no target: `None` too).
    fn get_target_network(&self, target_id: &str) -> Result<Option<TargetNetwork>>;
    /// The target's network data with its bundle, if any was uploaded.
    fn target_network_bundle(&self, target_id: &str) -> Result<Option<(TargetNetwork, TargetNetworkBundle)>>;
    /// Removes the target's network data; false when there was none.
    fn delete_target_network(&self, target_id: &str) -> Result<bool>;
}
