//! STUB: replaced by a helper.
use warden_model::{Fact, SystemPath};
use crate::{ids::IdMap, Options, RootFs};
/// Collect.
pub fn collect(_fs: &RootFs, _ids: &IdMap, _o: &Options) -> Fact<Vec<SystemPath>> { Fact::NotCollected { reason: "todo".into() } }
