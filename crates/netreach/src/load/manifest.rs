//! The `warden net collect` manifest, `warden-collect.json`, as the loader
//! sees it.
//!
//! Why it exists: a call that failed during collection left no file (the AWS
//! CLI prints nothing on error either), so the folder alone looks complete.
//! Only the manifest says which answers are missing; a load of such a folder
//! must be marked partial, naming the calls. Only the members needed here are
//! read, leniently (the manifest's full type lives in `warden-awscollect`,
//! which depends on this crate), so a newer manifest with more members still
//! loads.

use serde::Deserialize;
use serde_json::Value;

use super::Builder;

/// How many failed calls a warning names before it only counts the rest.
const NAMED_CALLS: usize = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Manifest {
    partial: bool,
    regions: Vec<Region>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Region {
    region: String,
    partial: bool,
    calls: Vec<Call>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Call {
    command: String,
    resource: Option<String>,
    error: Option<CallError>,
    incomplete: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CallError {
    code: Option<String>,
    message: String,
}

/// One call that left the folder incomplete, as a warning names it.
fn describe(region: &str, call: &Call) -> Option<String> {
    let what = match (&call.error, &call.incomplete) {
        (Some(e), _) => match &e.code {
            Some(code) => format!("failed: {code}: {}", e.message),
            None => format!("failed: {}", e.message),
        },
        (None, Some(why)) => format!("incomplete: {why}"),
        (None, None) => return None,
    };
    let resource = call.resource.as_deref().map(|r| format!(" {r}")).unwrap_or_default();
    Some(format!("{region}: {}{resource} {what}", call.command))
}

/// Reads the manifest `file`: no warning when every call succeeded; the load
/// marked partial, with one warning naming the calls, when some did not.
pub(super) fn apply(file: &str, value: Value, b: &mut Builder) {
    let manifest: Manifest = match serde_json::from_value(value) {
        Ok(m) => m,
        Err(e) => {
            let message = format!("not a readable warden net collect manifest ({e}); whether a call failed is unknown");
            return b.skip(file, file, message);
        }
    };
    let failed: Vec<String> =
        manifest.regions.iter().flat_map(|r| r.calls.iter().filter_map(|c| describe(&r.region, c))).collect();
    let flagged = manifest.partial || manifest.regions.iter().any(|r| r.partial);
    if failed.is_empty() && !flagged {
        return;
    }
    b.summary.partial = true;
    let message = if failed.is_empty() {
        "the collect run is marked partial, though no call records an error; the folder may be incomplete".to_string()
    } else {
        let mut named = failed.iter().take(NAMED_CALLS).cloned().collect::<Vec<_>>().join("; ");
        if failed.len() > NAMED_CALLS {
            named.push_str(&format!("; and {} more", failed.len() - NAMED_CALLS));
        }
        format!("the collect run is incomplete, {} call(s) did not answer in full: {named}", failed.len())
    };
    b.warn(file, file, message);
}
