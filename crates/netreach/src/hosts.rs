//! The Network Reachability package for assessed hosts: a loaded, analysed
//! network plus what a Warden host snapshot knows about its listening sockets.
//!
//! Why it exists: `warden assess --aws DIR` (one host, the whole network) and
//! the fleet server (each agent, its own EC2 instance) produce the same
//! findings from the same inputs. Both go through [`Analysis`], so the
//! listener matching (`RecognizedPortWithListener` / `NoListener` /
//! `NoAgent`) and the load-warning handling exist once. How an agent is
//! matched to its instance is [`Analysis::match_instance`].

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use warden_model::{Finding, RuleOutcome, Snapshot, Transport};

use crate::engine::{self, Reachability};
use crate::findings::{self, HostListeners, Listener};
use crate::load;
use crate::model::{Network, Protocol};

/// A network description loaded from a folder of describe-* JSON and
/// analysed once; assessed for as many hosts as needed.
#[derive(Debug)]
pub struct Analysis {
    /// The network.
    pub network: Network,
    /// Every reachability record of the network ([`engine::analyse`]).
    pub records: Vec<Reachability>,
    /// Load warnings (`resource (file): message`) and skipped files, one line each.
    pub warnings: Vec<String>,
    /// Some file could not be read: the description is incomplete.
    pub partial: bool,
}

/// Which instance an assessed host is, or why none could be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstanceMatch {
    /// The instance (`i-...`) and how it was matched, for evidence.
    Matched {
        /// The instance id.
        instance_id: String,
        /// `instance id from the host snapshot` or `private address 10.0.1.10 (eni-...)`.
        by: String,
    },
    /// No instance, or more than one: the reason, for an exclusion.
    Unmatched(String),
}

impl Analysis {
    /// Loads `dir` ([`load::load_dir`]) and analyses it. Fails only when the
    /// folder cannot be read at all; bad files become warnings.
    pub fn load(dir: &Path) -> Result<Analysis, String> {
        let loaded = load::load_dir(dir).map_err(|e| e.to_string())?;
        Ok(Self::from_loaded(loaded))
    }

    /// Analyses an already loaded network.
    pub fn from_loaded(loaded: load::Loaded) -> Analysis {
        let records = engine::analyse(&loaded.network);
        let mut warnings: Vec<String> = loaded
            .network
            .warnings
            .iter()
            .map(|w| {
                let file =
                    w.file.as_deref().filter(|f| *f != w.resource).map(|f| format!(" ({f})")).unwrap_or_default();
                format!("{}{file}: {}", w.resource, w.message)
            })
            .collect();
        if loaded.summary.files_skipped > 0 {
            warnings.push(format!(
                "{} file(s) skipped (unreadable or not describe-* output)",
                loaded.summary.files_skipped
            ));
        }
        Analysis { network: loaded.network, records, warnings, partial: loaded.summary.partial }
    }

    /// Whether the package result is incomplete (load warnings or skipped files).
    pub fn is_partial(&self) -> bool {
        self.partial || !self.warnings.is_empty()
    }

    /// The package over the whole network with the listener knowledge of
    /// `hosts` (`warden assess --aws DIR`): the summary outcome and the
    /// findings of every instance; instances no host describes get
    /// `RecognizedPortNoAgent`.
    pub fn package(&self, hosts: &[HostListeners]) -> (Vec<RuleOutcome>, Vec<Finding>) {
        let found = findings::findings(&self.network, &self.records, hosts);
        (vec![findings::summary(&self.records, &self.warnings)], found)
    }

    /// The package for one instance only (a fleet agent's own instance), with
    /// its host's snapshot as listener knowledge: the summary outcome and the
    /// findings of that instance's interfaces (direct and through load balancers).
    pub fn instance_package(&self, instance_id: &str, snapshot: &Snapshot) -> (Vec<RuleOutcome>, Vec<Finding>) {
        let records: Vec<Reachability> =
            self.records.iter().filter(|r| r.instance_id.as_deref() == Some(instance_id)).cloned().collect();
        let hosts = snapshot_listeners(snapshot, Some(instance_id));
        let found = findings::findings(&self.network, &records, &hosts);
        (vec![findings::summary(&records, &self.warnings)], found)
    }

    /// The instance an assessed host is. The rule, in order:
    ///
    /// 1. `instance_id` (an EC2 instance id the host itself reported, e.g.
    ///    from its snapshot) when the network has that instance; when it does
    ///    not, unmatched (the description is of other instances, or stale) —
    ///    addresses are not tried, since they may belong to another instance
    ///    in an overlapping VPC.
    /// 2. Otherwise the host's private IPv4 `addresses` against the private
    ///    addresses of every interface attached to an instance: exactly one
    ///    instance must own them. None, or several (overlapping CIDRs across
    ///    VPCs or accounts), is unmatched, with the candidates named.
    pub fn match_instance(&self, instance_id: Option<&str>, addresses: &[String]) -> InstanceMatch {
        if let Some(id) = instance_id {
            return if self.network.instances.contains_key(id) {
                InstanceMatch::Matched { instance_id: id.to_string(), by: "instance id reported by the host".into() }
            } else {
                InstanceMatch::Unmatched(format!(
                    "the host reports EC2 instance {id}, which is not in the loaded AWS network description"
                ))
            };
        }
        let wanted: BTreeSet<Ipv4Addr> = addresses.iter().filter_map(|a| a.parse().ok()).collect();
        if wanted.is_empty() {
            return InstanceMatch::Unmatched(
                "the host reported no IPv4 address and no EC2 instance id to match an instance by".into(),
            );
        }
        let mut owners: BTreeSet<(&str, &str, Ipv4Addr)> = BTreeSet::new();
        let mut unattached: Vec<String> = Vec::new();
        for eni in self.network.interfaces.values() {
            for ip in eni.private_ips.iter().filter(|ip| wanted.contains(ip)) {
                match &eni.instance_id {
                    Some(i) => {
                        owners.insert((i.as_str(), eni.id.as_str(), *ip));
                    }
                    None => unattached.push(format!("{ip} ({}, no instance)", eni.id)),
                }
            }
        }
        let instances: BTreeSet<&str> = owners.iter().map(|o| o.0).collect();
        let list = |v: &[String]| v.join(", ");
        match instances.len() {
            1 => {
                let by: Vec<String> = owners.iter().map(|(_, eni, ip)| format!("{ip} ({eni})")).collect();
                InstanceMatch::Matched {
                    instance_id: owners.first().map(|o| o.0.to_string()).unwrap_or_default(),
                    by: format!("private address {}", list(&by)),
                }
            }
            0 => {
                let addrs: Vec<String> = wanted.iter().map(Ipv4Addr::to_string).collect();
                let mut reason = format!(
                    "no instance in the loaded AWS network description has the host's address(es) {}",
                    list(&addrs)
                );
                if !unattached.is_empty() {
                    reason.push_str(&format!("; matching interfaces without an instance: {}", list(&unattached)));
                }
                InstanceMatch::Unmatched(reason)
            }
            _ => {
                let all: Vec<String> = owners.iter().map(|(i, eni, ip)| format!("{i} via {ip} ({eni})")).collect();
                InstanceMatch::Unmatched(format!(
                    "the host's addresses match several instances ({}): overlapping address ranges, \
                     so none is chosen",
                    list(&all)
                ))
            }
        }
    }
}

/// The snapshot's listening sockets as listener knowledge. The host is keyed
/// by `label` when given (an instance id or private IP, from
/// `--snapshot i-...=FILE` or the fleet server's instance match), by the
/// private IPv4 of an EC2 default host name (`ip-10-0-1-10`,
/// `ip-10-0-1-10.ec2.internal`), and by every specific address (not wildcard,
/// not loopback) its sockets are bound to; with none of these, no interface
/// is matched (findings say "no agent"). A snapshot without listening
/// sockets (not collected) gives no knowledge at all.
pub fn snapshot_listeners(snapshot: &Snapshot, label: Option<&str>) -> Vec<HostListeners> {
    let Some(sockets) = snapshot.listening.value() else { return Vec::new() };
    let listeners: Vec<Listener> = sockets
        .iter()
        .filter_map(|s| {
            let ip: IpAddr = s.address.trim_matches(['[', ']']).parse().ok()?;
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
    let mut hosts: BTreeSet<String> = listeners.iter().filter_map(|l| l.address).map(|a| a.to_string()).collect();
    hosts.extend(snapshot.host.hostname.as_deref().and_then(ec2_hostname_ip).map(|a| a.to_string()));
    hosts.extend(label.map(str::to_string));
    hosts.into_iter().map(|host| HostListeners { host, listeners: listeners.clone() }).collect()
}

/// The private IPv4 address an EC2 default host name spells: `ip-10-0-1-10` or `ip-10-0-1-10.<region>.compute.internal`.
fn ec2_hostname_ip(name: &str) -> Option<Ipv4Addr> {
    let first = name.split('.').next()?;
    first.strip_prefix("ip-")?.replace('-', ".").parse().ok()
}

#[cfg(test)]
mod tests;
