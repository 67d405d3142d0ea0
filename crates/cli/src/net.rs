//! `warden net load DIR`: load a folder of AWS CLI describe-* JSON and show
//! what was understood.
//!
//! Why it exists: before any reachability question is asked, the operator
//! sees how many resources of each type were loaded and every warning
//! (dangling references, malformed files), so a partial dump is noticed. The
//! loading itself is `warden_netreach::load`; this file only prints.

use std::fmt::Write as _;
use std::path::Path;

use warden_netreach::hosts::snapshot_listeners;
use warden_netreach::load::{self, Loaded};

/// Loads `dir` and prints counts and warnings (or, with `json`, the model).
/// Errors only when the folder cannot be read at all (exit 2).
pub fn load(dir: &Path, json: bool) -> Result<(), String> {
    let loaded = load::load_dir(dir).map_err(|e| e.to_string())?;
    let text = if json {
        serde_json::to_string_pretty(&loaded.network).map_err(|e| e.to_string())? + "\n"
    } else {
        render(&loaded)
    };
    crate::write_output(None, &text)
}

/// Counts per resource type, then the warnings, one per line.
fn render(loaded: &Loaded) -> String {
    let s = &loaded.summary;
    let mut out = String::new();
    let partial = if s.partial { " (PARTIAL: some files could not be read)" } else { "" };
    let _ = writeln!(out, "files loaded: {}, skipped: {}{partial}", s.files_loaded, s.files_skipped);
    for (name, n) in load::counts(&loaded.network) {
        let _ = writeln!(out, "{name:<22} {n}");
    }
    for w in &loaded.network.warnings {
        let file = w.file.as_deref().filter(|f| *f != w.resource).map(|f| format!(" ({f})")).unwrap_or_default();
        let _ = writeln!(out, "warning: {}{file}: {}", w.resource, w.message);
    }
    out
}

/// `warden net exposure DIR [--snapshot [HOST=]FILE ...]`: every (interface,
/// protocol, ports, sources) reachable from the internet, directly or through
/// a load balancer, with its path. With snapshots, also the findings of the
/// internet-reachable ports, which say whether a process listens on each
/// (see [`snapshot_listeners`] for how a snapshot is matched to instances).
/// `json` prints the records, or with snapshots `{"records": ..., "findings": ...}`.
pub fn exposure(dir: &Path, json: bool, snapshots: &[String]) -> Result<(), String> {
    use warden_netreach::engine::{self, ReachabilityKind};
    use warden_netreach::findings;
    let mut hosts = Vec::new();
    for arg in snapshots {
        let (label, file) = match arg.split_once('=') {
            Some((label, file)) if !label.is_empty() && !label.contains('/') => (Some(label), file),
            _ => (None, arg.as_str()),
        };
        let snapshot = crate::read_snapshot(Path::new(file))?;
        let found = snapshot_listeners(&snapshot, label);
        if found.is_empty() {
            eprintln!(
                "warning: {file}: no instance id given and no specific address or EC2 host name to match interfaces \
                 by; use --snapshot i-...={file}"
            );
        }
        hosts.extend(found);
    }
    let loaded = load::load_dir(dir).map_err(|e| e.to_string())?;
    let all = engine::analyse(&loaded.network);
    let internet = |k: ReachabilityKind| matches!(k, ReachabilityKind::Internet | ReachabilityKind::LoadBalancer);
    let found: Vec<_> = if snapshots.is_empty() {
        Vec::new()
    } else {
        findings::findings(&loaded.network, &all, &hosts)
            .into_iter()
            .filter(|f| f.attributes.get("REACHABILITY_TYPE").is_some_and(|t| t == "Internet"))
            .collect()
    };
    let mut records: Vec<_> = all.into_iter().filter(|r| internet(r.kind)).collect();
    records.sort_by(|a, b| {
        (&a.interface_id, a.protocol, &a.ports, &a.via).cmp(&(&b.interface_id, b.protocol, &b.ports, &b.via))
    });
    if json {
        let value = if snapshots.is_empty() {
            serde_json::to_value(&records)
        } else {
            serde_json::to_value(serde_json::json!({ "records": records, "findings": found }))
        };
        let text = value.and_then(|v| serde_json::to_string_pretty(&v)).map_err(|e| e.to_string())? + "\n";
        return crate::write_output(None, &text);
    }
    let mut out = String::new();
    for w in &loaded.network.warnings {
        let _ = writeln!(out, "warning: {}: {}", w.resource, w.message);
    }
    for r in &records {
        let ports: Vec<String> = r
            .ports
            .iter()
            .map(|p| if p.from == p.to { p.from.to_string() } else { format!("{}-{}", p.from, p.to) })
            .collect();
        let sources: Vec<String> = r.sources.iter().take(4).map(|s| s.to_string()).collect();
        let more = if r.sources.len() > 4 { format!(" (+{} more)", r.sources.len() - 4) } else { String::new() };
        let through = if r.kind == ReachabilityKind::LoadBalancer {
            let l: Vec<String> = r.listener_ports.iter().map(|p| p.to_string()).collect();
            format!(" through load balancer {} listener {}", r.via, l.join(","))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{} {} {:?} ports {} from {}{more} at {}{through}\n    path: {}",
            r.instance_id.as_deref().unwrap_or("-"),
            r.interface_id,
            r.protocol,
            ports.join(","),
            sources.join(" "),
            r.destination,
            r.path.join(" -> ")
        );
    }
    let _ = writeln!(out, "{} reachability records from the internet", records.len());
    for f in found.iter().filter(|f| f.attributes.contains_key("PORT")) {
        let at = |k: &str| f.attributes.get(k).map(String::as_str).unwrap_or("-");
        let _ = writeln!(
            out,
            "{:<13} {:<29} {} {}/{} {} {}{}",
            f.severity.as_str(),
            at("RULE_TYPE"),
            f.asset,
            at("PROTOCOL"),
            at("PORT"),
            at("PORT_GROUP_NAME"),
            at("PROCESS"),
            f.attributes.get("LOAD_BALANCER").map(|l| format!(" (through {l})")).unwrap_or_default()
        );
    }
    crate::write_output(None, &out)
}

/// `warden net why DIR TARGET PROTO/PORT [--from internet|vgw-..|pcx-..|CIDR]`.
pub fn why(dir: &Path, target: &str, proto_port: &str, from: &str) -> Result<bool, String> {
    use warden_netreach::engine::why;
    use warden_netreach::model::Protocol;
    use warden_netreach::walker::Origin;
    let (proto, port) =
        proto_port.split_once('/').ok_or_else(|| format!("{proto_port:?}: expected PROTO/PORT, e.g. tcp/22"))?;
    let protocol = Protocol::parse(proto).ok_or_else(|| format!("{proto:?}: unknown protocol"))?;
    let port: u16 = port.parse().map_err(|_| format!("{port:?}: not a port number"))?;
    let (origin, source) = if from == "internet" {
        (Origin::Internet, None)
    } else if from.starts_with("tgw-attach-") {
        (Origin::TransitGateway(from.to_string()), None)
    } else if from.starts_with("vgw-") {
        (Origin::Vgw(from.to_string()), None)
    } else if from.starts_with("pcx-") {
        (Origin::Peering(from.to_string()), None)
    } else {
        let net: ipnet::IpNet = from
            .parse()
            .or_else(|_| from.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| format!("{from:?}: expected internet, vgw-..., pcx-..., tgw-attach-... or a CIDR"))?;
        (Origin::Internet, Some(net))
    };
    let loaded = load::load_dir(dir).map_err(|e| e.to_string())?;
    let explanation = why(&loaded.network, target, protocol, port, &origin, source);
    crate::write_output(None, &format!("{explanation}\n"))?;
    Ok(explanation.reachable)
}

/// The `network-reachability` package of `warden assess --aws DIR`: loads the
/// folder, analyses it, and returns the package's outcomes and findings, and
/// whether the network description was incomplete (load warnings or skipped
/// files). The assessed host's listening sockets are the listener knowledge
/// (see [`snapshot_listeners`]).
pub fn assess_package(
    dir: &Path,
    snapshot: &warden_model::Snapshot,
) -> Result<(Vec<warden_model::RuleOutcome>, Vec<warden_model::Finding>, bool), String> {
    let analysis = warden_netreach::hosts::Analysis::load(dir)?;
    let (outcomes, found) = analysis.package(&snapshot_listeners(snapshot, None));
    Ok((outcomes, found, analysis.is_partial()))
}
