//! The SQLite side of per-target network data (migration 0006).
//!
//! Why a file of its own: each domain of [`crate::FleetStore`] implements its
//! own sub-trait in its own file; this one is [`TargetNetworkStore`], so
//! `sqlite.rs` only registers the migration and this module.

use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, from_json, json};
use crate::{
    Result, StoreError, TargetNetwork, TargetNetworkBundle, TargetNetworkStore, TargetNetworkUpload, TargetStore,
    UnixMillis,
};

const METADATA_COLUMNS: &str =
    "target_id, sha256, bytes, stored_bytes, files, instances, network_interfaces, warnings, uploaded_at";

fn metadata_from(r: &Row) -> rusqlite::Result<TargetNetwork> {
    Ok(TargetNetwork {
        target_id: r.get(0)?,
        sha256: r.get(1)?,
        bytes: r.get::<_, i64>(2)? as u64,
        stored_bytes: r.get::<_, i64>(3)? as u64,
        files: r.get::<_, i64>(4)? as u64,
        instances: r.get::<_, i64>(5)? as u64,
        network_interfaces: r.get::<_, i64>(6)? as u64,
        warnings: from_json("warnings", &r.get::<_, String>(7)?)?,
        uploaded_at: r.get(8)?,
    })
}

impl TargetNetworkStore for SqliteStore {
    fn put_target_network(
        &self,
        target_id: &str,
        upload: &TargetNetworkUpload,
        now: UnixMillis,
    ) -> Result<TargetNetwork> {
        self.get_target(target_id)?;
        let inserted = self.with(|c| {
            c.execute(
                "INSERT INTO target_networks (target_id, encoding, bundle, sha256, bytes, stored_bytes, files,
                     instances, network_interfaces, warnings, uploaded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (target_id) DO UPDATE SET encoding = excluded.encoding, bundle = excluded.bundle,
                     sha256 = excluded.sha256, bytes = excluded.bytes, stored_bytes = excluded.stored_bytes,
                     files = excluded.files, instances = excluded.instances,
                     network_interfaces = excluded.network_interfaces, warnings = excluded.warnings,
                     uploaded_at = excluded.uploaded_at",
                params![
                    target_id,
                    upload.encoding,
                    upload.bundle,
                    upload.sha256,
                    upload.bytes as i64,
                    upload.bundle.len() as i64,
                    upload.files as i64,
                    upload.instances as i64,
                    upload.network_interfaces as i64,
                    json(&upload.warnings),
                    now
                ],
            )
        });
        // The target may be deleted between the check and the insert: the foreign key says so.
        match inserted {
            Ok(_) => {}
            Err(StoreError::Backend(e)) if e.contains("FOREIGN KEY") => {
                return Err(StoreError::NotFound("target", target_id.to_string()));
            }
            Err(e) => return Err(e),
        }
        self.get_target_network(target_id)?.ok_or_else(|| StoreError::NotFound("target", target_id.to_string()))
    }

    fn get_target_network(&self, target_id: &str) -> Result<Option<TargetNetwork>> {
        self.with(|c| {
            c.prepare_cached(&format!("SELECT {METADATA_COLUMNS} FROM target_networks WHERE target_id = ?1"))?
                .query_row([target_id], metadata_from)
                .optional()
        })
    }

    fn target_network_bundle(&self, target_id: &str) -> Result<Option<(TargetNetwork, TargetNetworkBundle)>> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {METADATA_COLUMNS}, encoding, bundle FROM target_networks WHERE target_id = ?1"
            ))?
            .query_row([target_id], |r| {
                Ok((metadata_from(r)?, TargetNetworkBundle { encoding: r.get(9)?, data: r.get(10)? }))
            })
            .optional()
        })
    }

    fn delete_target_network(&self, target_id: &str) -> Result<bool> {
        let n = self.with(|c| c.execute("DELETE FROM target_networks WHERE target_id = ?1", [target_id]))?;
        Ok(n > 0)
    }
}

#[cfg(test)]
#[path = "sqlite_target_network_tests.rs"]
mod tests;
