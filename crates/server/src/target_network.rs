//! Per-target AWS network data: `PUT|GET|DELETE /v1/targets/{id}/network`
//! and the uploaded bundle as a run's evaluation reads it.
//!
//! Why it exists: one `warden serve --aws DIR` folder serving every target
//! does not fit targets living in different accounts, or an admin who can
//! upload but not reach the server's disk. A target's describe-* files are
//! uploaded as one JSON body, checked by loading them exactly as
//! `warden net load` would ([`warden_netreach::load::load_files`]), and
//! stored gzip-compressed; runs of that target are evaluated against them
//! ([`crate::evaluate::NetworkDescription::for_target`]).
//!
//! The stored bundle is canonical JSON: `{"<relative path>": <file JSON>}`,
//! paths sorted, each file re-serialised compactly. Its SHA-256 and size are
//! what the API reports, so two uploads of the same files compare equal
//! whatever their whitespace.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;
use axum::{Json, Router};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use warden_netreach::hosts::Analysis;
use warden_netreach::load::{Loaded, load_files};
use warden_store::{FleetStore, TargetNetwork, TargetNetworkBundle, TargetNetworkUpload, TargetNetworkWarning};

use crate::auth::require_admin;
use crate::error::parse_json;
use crate::evaluate::NetworkDescription;
use crate::{ApiError, AppState, now_ms};

/// Largest upload body: a whole estate's describe-* output.
pub const NETWORK_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// How stored bundles are compressed.
pub const BUNDLE_ENCODING: &str = "gzip";
/// Longest relative path accepted for a file.
const MAX_PATH_CHARS: usize = 1024;

/// The routes (admin token required).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/v1/targets/{id}/network",
        put(put_network).layer(DefaultBodyLimit::max(NETWORK_BODY_LIMIT)).get(get_network).delete(delete_network),
    )
}

/// Whether a request path is the upload route (its body limit is [`NETWORK_BODY_LIMIT`]).
pub fn is_upload_path(path: &str) -> bool {
    path.strip_prefix("/v1/targets/")
        .and_then(|rest| rest.strip_suffix("/network"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// Files of a bundle: (relative path, the file's JSON re-serialised
/// compactly), sorted by path. Deserialised one file at a time, so a large
/// body never exists as one `serde_json::Value`.
#[derive(Debug, Default, PartialEq)]
pub struct BundleFiles(pub Vec<(String, Vec<u8>)>);

impl<'de> Deserialize<'de> for BundleFiles {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FilesVisitor;
        impl<'de> Visitor<'de> for FilesVisitor {
            type Value = BundleFiles;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object {\"<relative path>.json\": <describe-* JSON document>}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BundleFiles, A::Error> {
                let mut files: Vec<(String, Vec<u8>)> = Vec::new();
                while let Some(path) = map.next_key::<String>()? {
                    let value: serde_json::Value = map.next_value()?;
                    let json = serde_json::to_vec(&value).map_err(de::Error::custom)?;
                    files.push((path, json));
                }
                files.sort_by(|a, b| a.0.cmp(&b.0));
                if let Some(w) = files.windows(2).find(|w| w[0].0 == w[1].0) {
                    return Err(de::Error::custom(format!("files: {:?} given twice", w[0].0)));
                }
                Ok(BundleFiles(files))
            }
        }
        deserializer.deserialize_map(FilesVisitor)
    }
}

impl BundleFiles {
    /// The canonical bundle JSON (what is hashed and stored).
    pub fn canonical_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.iter().map(|(p, j)| p.len() + j.len() + 4).sum::<usize>() + 2);
        out.push(b'{');
        for (i, (path, json)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(serde_json::to_string(path).expect("a string serialises").as_bytes());
            out.push(b':');
            out.extend_from_slice(json);
        }
        out.push(b'}');
        out
    }

    /// Reads a stored bundle back.
    pub fn from_stored(bundle: &TargetNetworkBundle) -> Result<BundleFiles, String> {
        if bundle.encoding != BUNDLE_ENCODING {
            return Err(format!("unknown bundle encoding {:?}", bundle.encoding));
        }
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bundle.data.as_slice())
            .read_to_end(&mut json)
            .map_err(|e| format!("stored bundle does not decompress: {e}"))?;
        serde_json::from_slice(&json).map_err(|e| format!("stored bundle is not a files object: {e}"))
    }
}

/// `PUT /v1/targets/{id}/network` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutNetwork {
    files: BundleFiles,
}

/// Why a relative path is refused, if it is.
fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() || path.chars().count() > MAX_PATH_CHARS {
        return Some("a path of 1 to 1024 characters is expected");
    }
    if path.contains('\\') || path.contains('\0') {
        return Some("paths are '/'-separated and hold no backslash or NUL");
    }
    if path.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Some("a relative path without empty, '.' or '..' components is expected");
    }
    if path.split('/').any(|c| c.starts_with('.')) {
        return Some("hidden files and folders are not read by the loader");
    }
    if !std::path::Path::new(path).extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        return Some("only *.json files are read by the loader");
    }
    None
}

/// Checks and loads an upload body, and prepares what is stored: 400
/// naming the file for a bad path or a file that is not a JSON object, 400
/// when no file holds a recognised describe-* list.
pub fn prepare_upload(body: &[u8]) -> Result<TargetNetworkUpload, ApiError> {
    let req: PutNetwork = parse_json(body)?;
    let files = req.files;
    if files.0.is_empty() {
        return Err(ApiError::bad_request("files: the bundle is empty; at least one describe-* JSON file is expected"));
    }
    for (path, json) in &files.0 {
        if let Some(problem) = path_problem(path) {
            return Err(ApiError::bad_request(format!("files[{path:?}]: {problem}")));
        }
        if json.first() != Some(&b'{') {
            return Err(ApiError::bad_request(format!(
                "files[{path:?}]: not a JSON object; a describe-* output (e.g. {{\"Vpcs\": [...]}}) is expected"
            )));
        }
    }
    let loaded = load_files(&files.0);
    if loaded.summary.files_loaded == 0 {
        let reasons: Vec<String> = loaded.network.warnings.iter().take(5).map(|w| w.message.clone()).collect();
        return Err(ApiError::bad_request(format!(
            "files: no file holds a recognised describe-* list (Vpcs, Subnets, NetworkInterfaces, Reservations, ...): {}",
            reasons.join("; ")
        )));
    }
    let canonical = files.canonical_json();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&canonical).map_err(|e| ApiError::internal(format!("compressing the bundle: {e}")))?;
    let bundle = gz.finish().map_err(|e| ApiError::internal(format!("compressing the bundle: {e}")))?;
    Ok(TargetNetworkUpload {
        encoding: BUNDLE_ENCODING.to_string(),
        sha256: warden_store::hex_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &canonical).as_ref()),
        bytes: canonical.len() as u64,
        bundle,
        files: files.0.len() as u64,
        instances: loaded.network.instances.len() as u64,
        network_interfaces: loaded.network.interfaces.len() as u64,
        warnings: warnings_of(&loaded),
    })
}

fn warnings_of(loaded: &Loaded) -> Vec<TargetNetworkWarning> {
    loaded
        .network
        .warnings
        .iter()
        .map(|w| TargetNetworkWarning {
            resource: w.resource.clone(),
            file: w.file.clone(),
            message: w.message.clone(),
        })
        .collect()
}

/// What the routes answer: the stored metadata.
#[derive(Serialize)]
struct NetworkView {
    #[serde(flatten)]
    stored: TargetNetwork,
    /// When it was uploaded, RFC 3339 (beside `uploaded_at`, unix ms).
    uploaded: String,
}

fn view(stored: TargetNetwork) -> Json<NetworkView> {
    let uploaded = crate::reports::build::rfc3339_ms(stored.uploaded_at);
    Json(NetworkView { stored, uploaded })
}

async fn put_network(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<NetworkView>, ApiError> {
    require_admin(&state, &headers).await?;
    // An unknown target is a 404 before the body is looked at.
    let target_id = id.clone();
    state.db(move |s| s.get_target(&target_id)).await?;
    let upload = tokio::task::spawn_blocking(move || prepare_upload(&body))
        .await
        .map_err(|e| ApiError::internal(format!("loading the bundle failed: {e}")))??;
    let now = now_ms();
    Ok(view(state.db(move |s| s.put_target_network(&id, &upload, now)).await?))
}

async fn get_network(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<NetworkView>, ApiError> {
    require_admin(&state, &headers).await?;
    let target_id = id.clone();
    state.db(move |s| s.get_target(&target_id)).await?;
    match state.db(move |s| s.get_target_network(&id)).await? {
        Some(stored) => Ok(view(stored)),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no network data uploaded for this target")),
    }
}

async fn delete_network(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&state, &headers).await?;
    let target_id = id.clone();
    state.db(move |s| s.get_target(&target_id)).await?;
    if state.db(move |s| s.delete_target_network(&id)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no network data uploaded for this target"))
    }
}

/// The description uploaded for `target_id`, loaded and analysed; `None`
/// when nothing was uploaded. A stored bundle that cannot be read (or a
/// store failure) is [`NetworkDescription::Unreadable`], never a silent
/// fall-back to `--aws`.
pub fn uploaded_description(store: &dyn FleetStore, target_id: &str) -> Option<NetworkDescription> {
    let (stored, bundle) = match store.target_network_bundle(target_id) {
        Ok(Some(found)) => found,
        Ok(None) => return None,
        Err(e) => {
            return Some(NetworkDescription::Unreadable {
                source: format!("uploaded for target {target_id}"),
                error: e.to_string(),
            });
        }
    };
    let source = format!(
        "uploaded for target {target_id} (sha256 {}, at {})",
        stored.sha256,
        crate::reports::build::rfc3339_ms(stored.uploaded_at)
    );
    Some(match BundleFiles::from_stored(&bundle) {
        Ok(files) => {
            NetworkDescription::Loaded { source, analysis: Arc::new(Analysis::from_loaded(load_files(&files.0))) }
        }
        Err(error) => NetworkDescription::Unreadable { source, error },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_json_files() {
        for ok in ["a.json", "123456789012/us-east-1/describe-vpcs.json", "x/Y.JSON"] {
            assert_eq!(path_problem(ok), None, "{ok}");
        }
        for bad in ["", "/abs.json", "a//b.json", "../x.json", "a/./b.json", ".hidden/x.json", "x.txt", "a\\b.json"] {
            assert!(path_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn the_bundle_round_trips_through_storage_canonically() {
        let body = br#"{"files": {"b/vpcs.json": {"Vpcs": [ {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"} ]},
            "a.json": {"Subnets": []}}}"#;
        let upload = prepare_upload(body).unwrap();
        let files =
            BundleFiles::from_stored(&TargetNetworkBundle { encoding: upload.encoding, data: upload.bundle }).unwrap();
        let paths: Vec<&str> = files.0.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["a.json", "b/vpcs.json"]);
        let canonical = files.canonical_json();
        assert_eq!(
            String::from_utf8(canonical.clone()).unwrap(),
            r#"{"a.json":{"Subnets":[]},"b/vpcs.json":{"Vpcs":[{"CidrBlock":"10.0.0.0/16","VpcId":"vpc-1"}]}}"#
        );
        assert_eq!(upload.bytes, canonical.len() as u64);
        assert_eq!(upload.sha256.len(), 64);
        assert_eq!(upload.files, 2);
    }

    #[test]
    fn upload_route_paths() {
        assert!(is_upload_path("/v1/targets/0-abcdEFGH/network"));
        assert!(!is_upload_path("/v1/targets//network"));
        assert!(!is_upload_path("/v1/targets/a/b/network"));
        assert!(!is_upload_path("/v1/targets/0-abcdEFGH"));
    }
}

#[cfg(test)]
#[path = "target_network_tests.rs"]
pub(crate) mod api_tests;
