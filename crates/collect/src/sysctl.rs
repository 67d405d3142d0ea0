//! STUB: replaced by a helper.
use warden_model::{Fact, Sourced, SysctlConfig};
use crate::RootFs;
/// Collect.
pub fn collect(_fs: &RootFs) -> Fact<SysctlConfig> { Fact::NotCollected { reason: "todo".into() } }
/// Boot cmdline.
pub fn boot_cmdline(_fs: &RootFs) -> Fact<Vec<Sourced<String>>> { Fact::NotCollected { reason: "todo".into() } }
