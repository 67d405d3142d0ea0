//! `warden net load DIR`: load a folder of AWS CLI describe-* JSON and show
//! what was understood.
//!
//! Why it exists: before any reachability question is asked, the operator
//! sees how many resources of each type were loaded and every warning
//! (dangling references, malformed files), so a partial dump is noticed. The
//! loading itself is `warden_netreach::load`; this file only prints.

use std::fmt::Write as _;
use std::path::Path;

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

/// `warden net exposure DIR`: every (interface, protocol, ports, sources)
/// reachable from the internet, with its path. `json` prints the records.
pub fn exposure(dir: &Path, json: bool) -> Result<(), String> {
    use warden_netreach::engine::{self, ReachabilityKind};
    let loaded = load::load_dir(dir).map_err(|e| e.to_string())?;
    let mut records: Vec<_> =
        engine::analyse(&loaded.network).into_iter().filter(|r| r.kind == ReachabilityKind::Internet).collect();
    records.sort_by(|a, b| (&a.interface_id, a.protocol, &a.ports).cmp(&(&b.interface_id, b.protocol, &b.ports)));
    if json {
        let text = serde_json::to_string_pretty(&records).map_err(|e| e.to_string())? + "\n";
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
        let _ = writeln!(
            out,
            "{} {} {:?} ports {} from {}{more} at {}\n    path: {}",
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
    } else if from.starts_with("vgw-") {
        (Origin::Vgw(from.to_string()), None)
    } else if from.starts_with("pcx-") {
        (Origin::Peering(from.to_string()), None)
    } else {
        let net: ipnet::IpNet = from
            .parse()
            .or_else(|_| from.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| format!("{from:?}: expected internet, vgw-..., pcx-... or a CIDR"))?;
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
    use warden_netreach::{engine, findings};
    let loaded = load::load_dir(dir).map_err(|e| e.to_string())?;
    let records = engine::analyse(&loaded.network);
    let mut warnings: Vec<String> = loaded
        .network
        .warnings
        .iter()
        .map(|w| {
            let file = w.file.as_deref().filter(|f| *f != w.resource).map(|f| format!(" ({f})")).unwrap_or_default();
            format!("{}{file}: {}", w.resource, w.message)
        })
        .collect();
    if loaded.summary.files_skipped > 0 {
        warnings
            .push(format!("{} file(s) skipped (unreadable or not describe-* output)", loaded.summary.files_skipped));
    }
    let hosts = snapshot_listeners(snapshot);
    let found = findings::findings(&loaded.network, &records, &hosts);
    let partial = !warnings.is_empty() || loaded.summary.partial;
    Ok((vec![findings::summary(&records, &warnings)], found, partial))
}

/// The snapshot's listening sockets as listener knowledge. The snapshot does
/// not know its EC2 instance id, so the host is keyed by every specific
/// address (not wildcard, not loopback) its sockets are bound to; with only
/// wildcard or loopback sockets, no interface is matched (findings say "no agent").
pub fn snapshot_listeners(snapshot: &warden_model::Snapshot) -> Vec<warden_netreach::findings::HostListeners> {
    use warden_model::Transport;
    use warden_netreach::findings::{HostListeners, Listener};
    use warden_netreach::model::Protocol;
    let Some(sockets) = snapshot.listening.value() else { return Vec::new() };
    let listeners: Vec<Listener> = sockets
        .iter()
        .filter_map(|s| {
            let ip: std::net::IpAddr = s.address.trim_matches(['[', ']']).parse().ok()?;
            if ip.is_loopback() {
                return None;
            }
            Some(Listener {
                protocol: if s.transport == Transport::Tcp { Protocol::Tcp } else { Protocol::Udp },
                address: (!ip.is_unspecified()).then_some(ip),
                port: s.port,
                process: s.exe.clone().or_else(|| s.process.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let hosts: std::collections::BTreeSet<std::net::IpAddr> = listeners.iter().filter_map(|l| l.address).collect();
    hosts.into_iter().map(|ip| HostListeners { host: ip.to_string(), listeners: listeners.clone() }).collect()
}
