//! Loading a folder of AWS CLI describe-* JSON into the [`Network`] model
//! ([`load_dir`]), or the same files held in memory ([`load_files`], e.g. a
//! bundle uploaded for one fleet target): one core reads both.
//!
//! Why it exists: the simplest way to assess an AWS estate without giving
//! Warden credentials is to run the read-only `aws ec2 describe-*` and
//! `aws elbv2 describe-*` calls (any account, any region), save what they
//! print, and hand Warden the folder.
//!
//! # Layout rules
//!
//! - Every `*.json` file anywhere under the folder is read (other files are
//!   ignored, hidden entries skipped). Each file holds exactly one CLI call's
//!   output and is recognised by its top-level key, not its name: `Vpcs`,
//!   `Subnets`, `RouteTables`, `InternetGateways`,
//!   `EgressOnlyInternetGateways`, `NatGateways`, `VpnGateways`,
//!   `VpcPeeringConnections`, `TransitGateways`, `TransitGatewayAttachments`,
//!   `TransitGatewayRouteTables`, `Routes` (search-transit-gateway-routes),
//!   `NetworkAcls`, `SecurityGroups`, `SecurityGroupRules`,
//!   `ManagedPrefixLists`/`PrefixLists`, `Entries`
//!   (get-managed-prefix-list-entries), `NetworkInterfaces`, `Reservations`,
//!   `Addresses`, `LoadBalancers` (elbv2), `LoadBalancerDescriptions`
//!   (classic), `Listeners`, `TargetGroups`, `TargetHealthDescriptions`.
//!   Other keys beside a recognised one (`NextToken`) are ignored; a file with
//!   no recognised key gets a warning "not a recognised describe-* output".
//! - Answers that do not name their resource are named by the file: the file
//!   stem is the resource's id or ARN with every character outside
//!   `[A-Za-z0-9._-]` replaced by `_` ([`sanitize`]). That is
//!   `describe-target-health/<target group ARN>.json`,
//!   `search-transit-gateway-routes/<tgw-rtb-id>.json` and
//!   `get-managed-prefix-list-entries/<pl-id>.json`. Calls made per
//!   resource go in a sub-folder named after the command (the folder name is
//!   a convention only; the key and the file stem decide).
//! - Accounts and regions: a path component of exactly 12 digits is the
//!   account, one shaped like a region (`us-east-1`, `eu-central-2`,
//!   `us-gov-west-1`) is the region, so `<account>/<region>/...` (or just
//!   `<region>/...`) works. Without them the account comes from `OwnerId`
//!   and the region from the subnets' ARNs. Ids are unique across AWS, so
//!   every account and region merges into one [`Network`].
//!
//! - `warden-collect.json` at the top of the folder is the manifest of
//!   `warden net collect`: it is not a describe-* output and gets no
//!   warning; when it says a call failed or was incomplete, the load is
//!   marked partial with a warning naming those calls (a failed call wrote no
//!   file, so nothing else would tell). See [`manifest`].
//! - `Associations` (get-transit-gateway-route-table-associations) and
//!   `TransitGatewayRouteTablePropagations`
//!   (get-transit-gateway-route-table-propagations) are per-table answers
//!   named by the table id like `Routes`. An association fills in the
//!   attachment's route table when its attachment record has none;
//!   propagations are read for their references only (what they install is
//!   already in the table's search-transit-gateway-routes answer).
//!
//! Nothing in the input is fatal: a malformed file becomes a warning with its
//! line and column (the summary is then marked partial), a malformed record a
//! warning naming it, a dangling or contradictory reference a warning naming
//! the resource and its file. Only a folder that cannot be read at all is an
//! error.

mod check;
mod compute;
mod elb;
mod manifest;
mod security;
mod shapes;
mod vpc;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::{Network, Warning};

/// What loading a folder produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Loaded {
    /// The network (its `warnings` hold everything the loader found wrong).
    pub network: Network,
    /// What was read.
    pub summary: Summary,
}

/// Counts of what was read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// JSON files read and recognised.
    pub files_loaded: usize,
    /// JSON files skipped (unreadable, malformed, or not a describe-* output).
    pub files_skipped: usize,
    /// Some file could not be read or parsed: the network is incomplete.
    pub partial: bool,
}

/// The folder could not be read at all.
#[derive(Debug)]
pub struct LoadError {
    /// The folder.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The manifest `warden net collect` writes at the top of its folder (not a
/// describe-* output; read for the calls that failed).
pub const MANIFEST: &str = "warden-collect.json";

/// Replaces every character outside `[A-Za-z0-9._-]` by `_`: how a resource
/// id or ARN becomes a file name.
pub fn sanitize(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

/// Counts per resource type, in a fixed order (for printing).
pub fn counts(net: &Network) -> Vec<(&'static str, usize)> {
    vec![
        ("vpcs", net.vpcs.len()),
        ("subnets", net.subnets.len()),
        ("route_tables", net.route_tables.len()),
        ("internet_gateways", net.internet_gateways.len()),
        ("egress_only_gateways", net.egress_only_gateways.len()),
        ("nat_gateways", net.nat_gateways.len()),
        ("vpn_gateways", net.vpn_gateways.len()),
        ("peerings", net.peerings.len()),
        ("transit_gateways", net.transit_gateways.len()),
        ("tgw_attachments", net.tgw_attachments.len()),
        ("tgw_route_tables", net.tgw_route_tables.len()),
        ("network_acls", net.network_acls.len()),
        ("security_groups", net.security_groups.len()),
        ("prefix_lists", net.prefix_lists.len()),
        ("interfaces", net.interfaces.len()),
        ("instances", net.instances.len()),
        ("load_balancers", net.load_balancers.len()),
        ("target_groups", net.target_groups.len()),
        ("warnings", net.warnings.len()),
    ]
}

/// The recognised outputs, in the order they are applied (referenced things first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Vpcs,
    Subnets,
    InternetGateways,
    EgressOnlyGateways,
    VpnGateways,
    NatGateways,
    Peerings,
    TransitGateways,
    TgwRouteTables,
    TgwAttachments,
    TgwRoutes,
    TgwAssociations,
    TgwPropagations,
    PrefixLists,
    PrefixListEntries,
    RouteTables,
    NetworkAcls,
    SecurityGroups,
    SecurityGroupRules,
    NetworkInterfaces,
    Reservations,
    Addresses,
    TargetGroups,
    TargetHealth,
    LoadBalancers,
    ClassicLoadBalancers,
    Listeners,
}

/// Top-level key → kind.
const KEYS: &[(&str, Kind)] = &[
    ("Vpcs", Kind::Vpcs),
    ("Subnets", Kind::Subnets),
    ("InternetGateways", Kind::InternetGateways),
    ("EgressOnlyInternetGateways", Kind::EgressOnlyGateways),
    ("VpnGateways", Kind::VpnGateways),
    ("NatGateways", Kind::NatGateways),
    ("VpcPeeringConnections", Kind::Peerings),
    ("TransitGateways", Kind::TransitGateways),
    ("TransitGatewayRouteTables", Kind::TgwRouteTables),
    ("TransitGatewayAttachments", Kind::TgwAttachments),
    ("Routes", Kind::TgwRoutes),
    ("Associations", Kind::TgwAssociations),
    ("TransitGatewayRouteTablePropagations", Kind::TgwPropagations),
    ("ManagedPrefixLists", Kind::PrefixLists),
    ("PrefixLists", Kind::PrefixLists),
    ("Entries", Kind::PrefixListEntries),
    ("RouteTables", Kind::RouteTables),
    ("NetworkAcls", Kind::NetworkAcls),
    ("SecurityGroups", Kind::SecurityGroups),
    ("SecurityGroupRules", Kind::SecurityGroupRules),
    ("NetworkInterfaces", Kind::NetworkInterfaces),
    ("Reservations", Kind::Reservations),
    ("Addresses", Kind::Addresses),
    ("TargetGroups", Kind::TargetGroups),
    ("TargetHealthDescriptions", Kind::TargetHealth),
    ("LoadBalancers", Kind::LoadBalancers),
    ("LoadBalancerDescriptions", Kind::ClassicLoadBalancers),
    ("Listeners", Kind::Listeners),
];

/// Where a record came from.
#[derive(Clone, Debug)]
struct Source {
    /// Path relative to the folder, `/`-separated.
    file: String,
    /// File name without `.json`: names the resource of per-resource answers.
    stem: String,
    /// Account from the folder structure.
    account: Option<String>,
    /// Region from the folder structure.
    region: Option<String>,
}

/// One recognised list from one file.
struct Record {
    kind: Kind,
    src: Source,
    items: Vec<Value>,
}

/// Loads every describe-* output under `dir`: lists its `*.json` files,
/// reads them, and hands them to the same core as [`load_files`].
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError { path: dir.to_path_buf(), source })?;
    let mut b = Builder::default();
    let mut paths = Vec::new();
    collect_files(dir, entries, &mut paths, &mut b);
    let files = paths.into_iter().map(|path| (relative(dir, &path), Contents::Disk(path))).collect();
    Ok(load_core(b, files))
}

/// Loads describe-* outputs held in memory, as (path relative to the
/// folder, `/`-separated; contents) pairs, exactly as [`load_dir`] would
/// load a folder holding those files: the same layout rules (account and
/// region folders, file stems naming resources, the manifest at the top),
/// the same warnings. Paths that `load_dir` would not read (a component
/// starting with `.`, a name not ending in `.json`) are ignored likewise.
pub fn load_files(files: &[(String, Vec<u8>)]) -> Loaded {
    let files = files
        .iter()
        .filter(|(path, _)| is_listed(path))
        .map(|(path, bytes)| (path.clone(), Contents::Memory(bytes)))
        .collect();
    load_core(Builder::default(), files)
}

/// Whether a relative path is one [`collect_files`] would list.
fn is_listed(path: &str) -> bool {
    !path.split('/').any(|c| c.starts_with('.'))
        && Path::new(path).extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Where a file's contents are: read from disk one file at a time (so a
/// large folder is never held in memory twice), or already in memory.
enum Contents<'a> {
    Disk(PathBuf),
    Memory(&'a [u8]),
}

impl Contents<'_> {
    fn read(&self) -> Result<Cow<'_, [u8]>, String> {
        match self {
            Contents::Disk(path) => std::fs::read(path).map(Cow::Owned).map_err(|e| format!("cannot read file: {e}")),
            Contents::Memory(bytes) => Ok(Cow::Borrowed(bytes)),
        }
    }
}

/// The one loading core: files in path order (component by component, so
/// "which definition came first" does not depend on where the files came
/// from), each parsed into records, records applied in dependency order.
fn load_core(mut b: Builder, mut files: Vec<(String, Contents<'_>)>) -> Loaded {
    files.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
    let mut records = Vec::new();
    for (file, contents) in files {
        read_file(file, contents, &mut records, &mut b);
    }
    records.sort_by_key(|r| r.kind);
    for r in records {
        b.apply(r);
    }
    b.finish();
    Loaded { network: b.net, summary: b.summary }
}

/// Recursively lists `*.json` files; unreadable sub-folders become warnings.
fn collect_files(root: &Path, entries: std::fs::ReadDir, out: &mut Vec<PathBuf>, b: &mut Builder) {
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // Follows symlinks; a loop ends at the OS's path length limit as an unreadable folder.
        if path.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(sub) => collect_files(root, sub, out, b),
                Err(e) => {
                    let rel = relative(root, &path);
                    b.skip(&rel, &rel, format!("cannot read folder: {e}"));
                }
            }
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            out.push(path);
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `cn-north-1`, `eu-central-2`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1].iter().all(|p| p.bytes().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|c| c.is_ascii_digit())
}

/// Parses one file (`file` relative, `/`-separated) into records.
fn read_file(file: String, contents: Contents<'_>, records: &mut Vec<Record>, b: &mut Builder) {
    let dirs: Vec<&str> = file.split('/').collect();
    let dirs = &dirs[..dirs.len().saturating_sub(1)];
    let src = Source {
        stem: Path::new(&file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        account: dirs.iter().rev().find(|d| is_account(d)).map(|d| d.to_string()),
        region: dirs.iter().rev().find(|d| is_region(d)).map(|d| d.to_string()),
        file,
    };
    let text = match contents.read() {
        Ok(bytes) => bytes,
        Err(message) => return b.skip(&src.file, &src.file, message),
    };
    let is_manifest = src.file == MANIFEST;
    let value: Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("malformed JSON at {}:{}:{}: {e}", src.file, e.line(), e.column());
            return b.skip(&src.file, &src.file, message);
        }
    };
    if is_manifest {
        return manifest::apply(&src.file, value, b);
    }
    let Value::Object(map) = value else {
        return b.unrecognised(&src.file, "top level is not an object");
    };
    let mut found = false;
    for (key, value) in map {
        let Some(&(_, kind)) = KEYS.iter().find(|(k, _)| *k == key) else { continue };
        found = true;
        match value {
            Value::Array(items) => records.push(Record { kind, src: src.clone(), items }),
            Value::Null => {}
            _ => b.warn(&src.file, &src.file, format!("`{key}` is not a list; ignored")),
        }
    }
    if found {
        b.summary.files_loaded += 1;
    } else {
        b.unrecognised(&src.file, "no known top-level key");
    }
}

/// The model being filled, with what the conversion needs on the side.
#[derive(Default)]
struct Builder {
    net: Network,
    summary: Summary,
    /// Resource id → the file it came from (for warnings).
    origin: HashMap<String, String>,
    /// Region of each VPC as its subnets' ARNs tell it.
    vpc_region_from_arn: HashMap<String, String>,
    /// Listener ARNs already applied (a merged file and per-LB files may both hold one).
    listeners_seen: std::collections::HashSet<String>,
    /// Prefix lists that had an entries file (or inline CIDRs).
    prefix_lists_with_entries: std::collections::HashSet<String>,
    /// Interfaces synthesized from instances (no describe-network-interfaces record).
    synthesized: BTreeMap<String, String>,
}

impl Builder {
    fn warn(&mut self, resource: &str, file: &str, message: String) {
        self.net.warnings.push(Warning { resource: resource.to_string(), file: Some(file.to_string()), message });
    }

    /// Warns about a resource using the file it was loaded from, if known.
    fn warn_res(&mut self, resource: &str, message: String) {
        let file = self.origin.get(resource).cloned();
        self.net.warnings.push(Warning { resource: resource.to_string(), file, message });
    }

    fn skip(&mut self, resource: &str, file: &str, message: String) {
        self.summary.files_skipped += 1;
        self.summary.partial = true;
        self.warn(resource, file, message);
    }

    fn unrecognised(&mut self, file: &str, why: &str) {
        self.summary.files_skipped += 1;
        self.warn(file, file, format!("not a recognised describe-* output ({why}); skipped"));
    }

    /// Records where `id` came from; warns if it was already loaded from elsewhere.
    /// Returns false if it was already loaded (the caller keeps the first).
    fn claim(&mut self, id: &str, src: &Source) -> bool {
        if let Some(first) = self.origin.get(id) {
            if *first != src.file {
                let message = format!("also defined in {}; the first definition ({first}) is kept", src.file);
                self.warn(id, &src.file, message);
            }
            return false;
        }
        self.origin.insert(id.to_string(), src.file.clone());
        true
    }

    fn apply(&mut self, r: Record) {
        for (i, item) in r.items.into_iter().enumerate() {
            match r.kind {
                Kind::Vpcs => self.item(&r.src, i, item, Self::vpc),
                Kind::Subnets => self.item(&r.src, i, item, Self::subnet),
                Kind::InternetGateways => self.item(&r.src, i, item, Self::internet_gateway),
                Kind::EgressOnlyGateways => self.item(&r.src, i, item, Self::egress_only_gateway),
                Kind::VpnGateways => self.item(&r.src, i, item, Self::vpn_gateway),
                Kind::NatGateways => self.item(&r.src, i, item, Self::nat_gateway),
                Kind::Peerings => self.item(&r.src, i, item, Self::peering),
                Kind::TransitGateways => self.item(&r.src, i, item, Self::transit_gateway),
                Kind::TgwRouteTables => self.item(&r.src, i, item, Self::tgw_route_table),
                Kind::TgwAttachments => self.item(&r.src, i, item, Self::tgw_attachment),
                Kind::TgwRoutes => self.item(&r.src, i, item, Self::tgw_route),
                Kind::TgwAssociations => self.item(&r.src, i, item, Self::tgw_association),
                Kind::TgwPropagations => self.item(&r.src, i, item, Self::tgw_propagation),
                Kind::PrefixLists => self.item(&r.src, i, item, Self::prefix_list),
                Kind::PrefixListEntries => self.item(&r.src, i, item, Self::prefix_list_entry),
                Kind::RouteTables => self.item(&r.src, i, item, Self::route_table),
                Kind::NetworkAcls => self.item(&r.src, i, item, Self::network_acl),
                Kind::SecurityGroups => self.item(&r.src, i, item, Self::security_group),
                Kind::SecurityGroupRules => self.item(&r.src, i, item, Self::security_group_rule),
                Kind::NetworkInterfaces => self.item(&r.src, i, item, Self::interface),
                Kind::Reservations => self.item(&r.src, i, item, Self::reservation),
                Kind::Addresses => self.item(&r.src, i, item, Self::address),
                Kind::TargetGroups => self.item(&r.src, i, item, Self::target_group),
                Kind::TargetHealth => self.item(&r.src, i, item, Self::target_health),
                Kind::LoadBalancers => self.item(&r.src, i, item, Self::load_balancer),
                Kind::ClassicLoadBalancers => self.item(&r.src, i, item, Self::classic_load_balancer),
                Kind::Listeners => self.item(&r.src, i, item, Self::listener),
            }
        }
    }

    /// Deserializes one record and applies it; a record of the wrong shape is a warning.
    fn item<T: DeserializeOwned>(&mut self, src: &Source, index: usize, value: Value, f: fn(&mut Self, &Source, T)) {
        match serde_json::from_value::<T>(value) {
            Ok(t) => f(self, src, t),
            Err(e) => self.warn(&format!("{}[{index}]", src.file), &src.file, format!("record skipped: {e}")),
        }
    }

    fn finish(&mut self) {
        for (vpc_id, region) in std::mem::take(&mut self.vpc_region_from_arn) {
            if let Some(vpc) = self.net.vpcs.get_mut(&vpc_id) {
                vpc.region.get_or_insert(region);
            }
        }
        self.check();
    }
}

/// A required id, or a warning naming the record.
fn required(b: &mut Builder, src: &Source, what: &str, id: Option<String>) -> Option<String> {
    match id.filter(|s| !s.is_empty()) {
        Some(id) => Some(id),
        None => {
            b.warn(&src.file, &src.file, format!("a record without {what} skipped"));
            None
        }
    }
}

#[cfg(test)]
mod tests;
