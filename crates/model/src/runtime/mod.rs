//! What a host did during an assessment run: listeners, TCP connections,
//! processes, shared objects mapped by root processes, and the ELF
//! properties of running executables.
//!
//! Why it exists: the Runtime Behavior Analysis package judges behaviour
//! over a run of minutes to a day, not one snapshot. A sampler on the host
//! (`warden-collect`'s `runtime` module) looks every N seconds; the rules
//! (`warden-rules`' `runtime` module) read the result. Between them travels
//! this module's data, and it must stay small for a 24 h run on a busy host,
//! so nothing here is a list of samples:
//!
//! - every observation is a *record* with a key (e.g. a listener's
//!   transport, address and port) and a [`Seen`] tally: first and last
//!   sample it was present in, how many samples, and whether it is present
//!   now;
//! - the sampler emits a [`RuntimeDelta`] per sample: records whose key is
//!   new (or came back, or whose counters moved) and keys that went away.
//!   A record that simply stays costs nothing: [`RuntimeObservations::merge`]
//!   advances `last_seen` and `samples` of every present record itself. A
//!   steady host therefore sends a few dozen bytes per sample;
//! - connections are keyed by service (port) and remote address, not by
//!   socket, and at most [`MAX_REMOTES_PER_SERVICE`] remote addresses are kept
//!   per service; the rest fold into one record whose remote address is
//!   [`OVERFLOW_ADDRESS`]. Every table holds at most [`MAX_RECORDS_PER_TABLE`]
//!   records; what does not fit is counted in `dropped`.
//!
//! Times are seconds since the Unix epoch, given by the caller (this crate
//! has no clock). The JSON form is documented in `docs/runtime.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Problem, Transport};

/// Version of the runtime observations and delta JSON.
///
/// 2: a [`FileMode`] is the array `[mode, uid, gid]` (was an object), and a
/// shared object's `pid` no longer makes a present record resend.
pub const RUNTIME_SCHEMA_VERSION: u32 = 2;
/// Most distinct remote addresses kept per (direction, service port, program).
pub const MAX_REMOTES_PER_SERVICE: usize = 32;
/// The remote address of the record that counts the connections beyond
/// [`MAX_REMOTES_PER_SERVICE`].
pub const OVERFLOW_ADDRESS: &str = "*";
/// Most records in one table; later new keys are counted in `dropped`.
pub const MAX_RECORDS_PER_TABLE: usize = 50_000;
/// Most distinct problems kept.
pub const MAX_PROBLEMS: usize = 100;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// When a record was observed. In a [`RuntimeDelta`] the tally is empty
/// (merging computes it), so every field is left out of the JSON when zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// First sample the record was present in (Unix seconds).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_seen: u64,
    /// Last sample the record was present in (Unix seconds).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub last_seen: u64,
    /// Number of samples it was present in.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub samples: u64,
    /// Present in the latest sample.
    #[serde(default, skip_serializing_if = "is_false")]
    pub present: bool,
}

/// A record of a runtime table: a key, descriptive fields, counters and a [`Seen`] tally.
pub trait Observed: Clone + PartialEq {
    /// What identifies the record across samples.
    type Key: Ord + Clone + std::fmt::Debug + Serialize + for<'de> Deserialize<'de>;
    /// The record's key.
    fn key(&self) -> Self::Key;
    /// The tally.
    fn seen(&self) -> &Seen;
    /// The tally, mutably.
    fn seen_mut(&mut self) -> &mut Seen;
    /// Takes the descriptive fields of a later observation of the same key
    /// and adds its counter.
    fn absorb(&mut self, later: &Self);
    /// The record's counter (distinct connections, process instances); 0
    /// for records that count nothing.
    fn counter(&self) -> u64 {
        0
    }
    /// The counter, for records that have one.
    fn counter_mut(&mut self) -> Option<&mut u64> {
        None
    }
    /// Blanks the fields that change often without changing what the record
    /// says (a process's pid, a connection's ephemeral port): they are sent
    /// with a record when it is new or comes back, not every time they change.
    fn clear_volatile(&mut self) {}
    /// What the sampler compares to decide whether a present record needs
    /// resending: the record without tally, counter and volatile fields.
    fn stable_description(&self) -> Self {
        let mut copy = self.without_tally();
        if let Some(n) = copy.counter_mut() {
            *n = 0;
        }
        copy.clear_volatile();
        copy
    }
    /// The record as a delta carries it: counter and description, no tally.
    fn without_tally(&self) -> Self {
        let mut copy = self.clone();
        *copy.seen_mut() = Seen::default();
        copy
    }
}

/// Records by key; JSON is a list of records sorted by key.
#[derive(Clone, Debug, PartialEq)]
pub struct Table<R: Observed> {
    records: BTreeMap<R::Key, R>,
}

impl<R: Observed> Default for Table<R> {
    fn default() -> Self {
        Table { records: BTreeMap::new() }
    }
}

impl<R: Observed> Table<R> {
    /// Records in key order.
    pub fn iter(&self) -> impl Iterator<Item = &R> {
        self.records.values()
    }
    /// The record of a key.
    pub fn get(&self, key: &R::Key) -> Option<&R> {
        self.records.get(key)
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
    /// Keys of the records present in the latest sample.
    pub fn present_keys(&self) -> impl Iterator<Item = &R::Key> {
        self.records.iter().filter(|(_, r)| r.seen().present).map(|(k, _)| k)
    }

    /// Applies a delta's upserts, counts and gones; returns how many new
    /// keys did not fit.
    fn apply(&mut self, delta: &TableDelta<R>) -> u64 {
        let mut dropped = 0;
        for key in &delta.gone {
            if let Some(r) = self.records.get_mut(key) {
                r.seen_mut().present = false;
            }
        }
        for (key, n) in &delta.counts {
            if let Some(counter) = self.records.get_mut(key).and_then(|r| r.counter_mut()) {
                *counter = counter.saturating_add(*n);
            }
        }
        for record in &delta.upserts {
            let key = record.key();
            let full = self.records.len() >= MAX_RECORDS_PER_TABLE;
            match self.records.get_mut(&key) {
                Some(existing) => {
                    existing.absorb(record);
                    existing.seen_mut().present = true;
                }
                None if full => dropped += 1,
                None => {
                    let mut fresh = record.clone();
                    *fresh.seen_mut() = Seen { present: true, ..Seen::default() };
                    self.records.insert(key, fresh);
                }
            }
        }
        dropped
    }

    /// Advances the tally of every present record to the sample at `at`.
    fn tally(&mut self, at: u64) {
        for r in self.records.values_mut() {
            let seen = r.seen_mut();
            if seen.present {
                if seen.samples == 0 {
                    seen.first_seen = at;
                }
                seen.first_seen = seen.first_seen.min(at);
                seen.last_seen = seen.last_seen.max(at);
                seen.samples += 1;
            }
        }
    }

    fn clear_presence(&mut self) {
        for r in self.records.values_mut() {
            r.seen_mut().present = false;
        }
    }

    /// The delta that turns this table's presence into `current`'s: whole
    /// records for keys that are new, came back or changed their stable
    /// description; only the counter for present records that counted more;
    /// and the present keys that are not in `current`.
    pub fn diff(&self, current: &BTreeMap<R::Key, R>) -> TableDelta<R> {
        let mut delta = TableDelta::default();
        for (key, record) in current {
            match self.records.get(key) {
                Some(old) if old.seen().present && old.stable_description() == record.stable_description() => {
                    if record.counter() > 0 {
                        delta.counts.push((key.clone(), record.counter()));
                    }
                }
                _ => delta.upserts.push(record.without_tally()),
            }
        }
        delta.gone = self.present_keys().filter(|k| !current.contains_key(k)).cloned().collect();
        delta
    }
}

impl<R: Observed + Serialize> Serialize for Table<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.records.values())
    }
}

impl<'de, R: Observed + Deserialize<'de>> Deserialize<'de> for Table<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = Vec::<R>::deserialize(deserializer)?;
        let mut records = BTreeMap::new();
        for r in list {
            records.insert(r.key(), r);
        }
        Ok(Table { records })
    }
}

/// One table's part of a [`RuntimeDelta`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "R: Serialize", deserialize = "R: Deserialize<'de>"))]
pub struct TableDelta<R: Observed> {
    /// Records new in this sample, back after an absence, or with new counts
    /// or a changed description (tally empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upserts: Vec<R>,
    /// Present records whose counter grew, and by how much.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub counts: Vec<(R::Key, u64)>,
    /// Keys present in the previous sample and absent from this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<R::Key>,
}

impl<R: Observed> Default for TableDelta<R> {
    fn default() -> Self {
        TableDelta { upserts: Vec::new(), counts: Vec::new(), gone: Vec::new() }
    }
}

impl<R: Observed> TableDelta<R> {
    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.counts.is_empty() && self.gone.is_empty()
    }
}

/// A listening socket (TCP LISTEN, or a bound unconnected UDP socket).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerRecord {
    /// TCP or UDP.
    pub transport: Transport,
    /// Bound address (`0.0.0.0`, `::`, `127.0.0.1`, ...).
    pub address: String,
    /// Port.
    pub port: u16,
    /// Socket owner uid.
    pub uid: u32,
    /// Lowest pid holding the socket, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// That process's executable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// Tally.
    #[serde(flatten)]
    pub seen: Seen,
}

impl Observed for ListenerRecord {
    type Key = (Transport, String, u16);
    fn key(&self) -> Self::Key {
        (self.transport, self.address.clone(), self.port)
    }
    fn seen(&self) -> &Seen {
        &self.seen
    }
    fn seen_mut(&mut self) -> &mut Seen {
        &mut self.seen
    }
    fn absorb(&mut self, later: &Self) {
        self.uid = later.uid;
        if later.pid.is_some() {
            self.pid = later.pid;
            self.exe = later.exe.clone();
        }
    }
}

/// Which end of a TCP connection this host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The local port is a port this host listens on: someone connected to us.
    Inbound,
    /// Any other connection: we connected to someone.
    Outbound,
}

/// TCP connections of one service: the same direction, service port,
/// remote address and (outbound) program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    /// Inbound or outbound.
    pub direction: Direction,
    /// The service's port: the local (listening) port of an inbound
    /// connection, the remote port of an outbound one.
    pub service_port: u16,
    /// The peer's address, or [`OVERFLOW_ADDRESS`] for the peers beyond the cap.
    pub remote_address: String,
    /// Outbound: the program that connected (part of the key). Inbound: the
    /// program that accepted (descriptive only). `None` when no process held
    /// the socket when sampled (e.g. TIME_WAIT) and it was not seen before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// Local address of a connection of the record (volatile: from the
    /// sample that last sent the whole record).
    pub local_address: String,
    /// The peer's port of that connection (ephemeral for inbound).
    pub remote_port: u16,
    /// Lowest pid holding one of the record's sockets in that sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Distinct connections (local and remote address and port) seen.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub connections: u64,
    /// Tally.
    #[serde(flatten)]
    pub seen: Seen,
}

/// Key of a [`ConnectionRecord`]: direction, service port, remote address, program (outbound only).
pub type ConnectionKey = (Direction, u16, String, Option<String>);

impl ConnectionRecord {
    /// The service this record belongs to, for the remote-address cap.
    fn service(&self) -> (Direction, u16, Option<String>) {
        (self.direction, self.service_port, self.key().3)
    }
}

impl Observed for ConnectionRecord {
    type Key = ConnectionKey;
    fn key(&self) -> Self::Key {
        let program = match self.direction {
            Direction::Outbound => self.exe.clone(),
            Direction::Inbound => None,
        };
        (self.direction, self.service_port, self.remote_address.clone(), program)
    }
    fn seen(&self) -> &Seen {
        &self.seen
    }
    fn seen_mut(&mut self) -> &mut Seen {
        &mut self.seen
    }
    fn absorb(&mut self, later: &Self) {
        self.local_address = later.local_address.clone();
        self.remote_port = later.remote_port;
        if later.pid.is_some() {
            self.pid = later.pid;
            self.exe = later.exe.clone();
        }
        self.connections = self.connections.saturating_add(later.connections);
    }
    fn counter(&self) -> u64 {
        self.connections
    }
    fn counter_mut(&mut self) -> Option<&mut u64> {
        Some(&mut self.connections)
    }
    fn clear_volatile(&mut self) {
        self.local_address.clear();
        self.remote_port = 0;
        self.pid = None;
    }
}

/// Processes running one executable as one effective user under one parent program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// Executable (`/proc/PID/exe`).
    pub exe: String,
    /// Effective uid (second field of `Uid:` in `/proc/PID/status`).
    pub euid: u32,
    /// The parent's executable, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_exe: Option<String>,
    /// User name of `euid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Command name (`/proc/PID/stat`) of the lowest pid (volatile: from
    /// the sample that last sent the whole record).
    pub comm: String,
    /// Lowest pid in that sample.
    pub pid: u32,
    /// That process's parent pid.
    pub ppid: u32,
    /// Distinct processes (pid and start time) seen.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub instances: u64,
    /// Tally.
    #[serde(flatten)]
    pub seen: Seen,
}

impl Observed for ProcessRecord {
    type Key = (String, u32, Option<String>);
    fn key(&self) -> Self::Key {
        (self.exe.clone(), self.euid, self.parent_exe.clone())
    }
    fn seen(&self) -> &Seen {
        &self.seen
    }
    fn seen_mut(&mut self) -> &mut Seen {
        &mut self.seen
    }
    fn absorb(&mut self, later: &Self) {
        self.user = later.user.clone();
        self.comm = later.comm.clone();
        self.pid = later.pid;
        self.ppid = later.ppid;
        self.instances = self.instances.saturating_add(later.instances);
    }
    fn counter(&self) -> u64 {
        self.instances
    }
    fn counter_mut(&mut self) -> Option<&mut u64> {
        Some(&mut self.instances)
    }
    fn clear_volatile(&mut self) {
        self.pid = 0;
        self.ppid = 0;
        self.comm.clear();
    }
}

/// Mode and owner of one path.
///
/// JSON: the array `[mode, uid, gid]`, not an object: a shared object's
/// chain repeats one per directory up to `/`, and field names would be most
/// of its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "(u32, u32, u32)", into = "(u32, u32, u32)")]
pub struct FileMode {
    /// `st_mode` permission and type bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
}

/// A shared object mapped executable by a process running with effective uid 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedObjectRecord {
    /// The mapped file as `/proc/PID/maps` names it.
    pub path: String,
    /// The loading process's executable.
    pub loaded_by: String,
    /// Mode and owner of the file, then of each directory above it up to
    /// `/`, in that order: entry `i` is the `i`-th ancestor of `path` (see
    /// [`ancestors`]); empty when the file could not be examined. Part of
    /// the key: a change of permissions during the run is a new record.
    pub chain: Vec<FileMode>,
    /// Why `chain` is empty, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat_error: Option<String>,
    /// Lowest pid of the latest sample that had it mapped.
    pub pid: u32,
    /// Tally.
    #[serde(flatten)]
    pub seen: Seen,
}

impl Observed for SharedObjectRecord {
    type Key = (String, String, Vec<FileMode>);
    fn key(&self) -> Self::Key {
        (self.path.clone(), self.loaded_by.clone(), self.chain.clone())
    }
    fn seen(&self) -> &Seen {
        &self.seen
    }
    fn seen_mut(&mut self) -> &mut Seen {
        &mut self.seen
    }
    fn absorb(&mut self, later: &Self) {
        self.pid = later.pid;
        self.stat_error = later.stat_error.clone();
    }
    fn clear_volatile(&mut self) {
        // Short-lived root processes change the lowest pid that maps a
        // library every few samples; the record says the same thing.
        self.pid = 0;
    }
}

impl From<(u32, u32, u32)> for FileMode {
    fn from((mode, uid, gid): (u32, u32, u32)) -> Self {
        FileMode { mode, uid, gid }
    }
}

impl From<FileMode> for (u32, u32, u32) {
    fn from(m: FileMode) -> Self {
        (m.mode, m.uid, m.gid)
    }
}

/// A path and the directories above it up to `/`, the order of
/// [`SharedObjectRecord::chain`]. A `" (deleted)"` suffix (the file was
/// replaced after it was mapped) is not part of the path.
pub fn ancestors(path: &str) -> Vec<String> {
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    std::path::Path::new(path).ancestors().map(|p| p.to_string_lossy().into_owned()).filter(|p| !p.is_empty()).collect()
}

/// Whether an executable's stack is executable (`PT_GNU_STACK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackExec {
    /// `PT_GNU_STACK` without `PF_X`: the stack is not executable (DEP/NX applies).
    NonExecutable,
    /// `PT_GNU_STACK` with `PF_X`: built with an executable stack.
    Executable,
    /// No `PT_GNU_STACK` header: the toolchain did not mark the stack, and
    /// the kernel's default for unmarked programs applies (executable on
    /// 32-bit x86 and several other architectures).
    Unmarked,
}

/// Whether an executable was built with stack cookies (stack protector).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackProtector {
    /// A dynamic symbol `__stack_chk_fail` (or `__stack_chk_fail_local`,
    /// `__stack_chk_guard`) is referenced.
    Present,
    /// The dynamic symbol table has no such symbol.
    Absent,
    /// Cannot tell: statically linked (the C library's own canary code is
    /// linked in either way) or no dynamic symbol table was found.
    Unknown,
}

/// ELF properties of an executable, read from its headers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfProperties {
    /// 32 or 64.
    pub class: u8,
    /// `e_machine` (62 = x86-64, 183 = AArch64, 3 = i386, ...).
    pub machine: u16,
    /// No `PT_INTERP` and no `PT_DYNAMIC`.
    pub static_linked: bool,
    /// DEP/NX stack marking.
    pub stack: StackExec,
    /// Stack cookies.
    pub stack_protector: StackProtector,
}

/// Which installed package owns a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PackageOwner {
    /// Listed by an installed package of this package database.
    Package {
        /// Package name.
        name: String,
        /// The database (`/var/lib/dpkg`, `/lib/apk/db/installed`).
        database: String,
    },
    /// No installed package of the database lists it.
    NotOwned {
        /// The database searched.
        database: String,
    },
    /// No file-ownership database could be read (none, or an unsupported format).
    Unknown {
        /// Why.
        reason: String,
    },
}

/// A running executable and its ELF properties.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutableRecord {
    /// Path (`/proc/PID/exe`).
    pub path: String,
    /// SHA-256 of the file's content, hex; empty when the file could not be read.
    pub sha256: String,
    /// ELF properties, when the file is a readable ELF executable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elf: Option<ElfProperties>,
    /// Why `elf` is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elf_error: Option<String>,
    /// Package ownership.
    pub owner: PackageOwner,
    /// Lowest pid running it in the latest sample it ran in.
    pub pid: u32,
    /// That process's effective uid.
    pub euid: u32,
    /// Tally.
    #[serde(flatten)]
    pub seen: Seen,
}

impl Observed for ExecutableRecord {
    type Key = (String, String);
    fn key(&self) -> Self::Key {
        (self.path.clone(), self.sha256.clone())
    }
    fn seen(&self) -> &Seen {
        &self.seen
    }
    fn seen_mut(&mut self) -> &mut Seen {
        &mut self.seen
    }
    fn absorb(&mut self, later: &Self) {
        self.elf = later.elf.clone();
        self.elf_error = later.elf_error.clone();
        self.owner = later.owner.clone();
        self.pid = later.pid;
        self.euid = later.euid;
    }
}

/// Which sampler sent the last delta merged, and its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaPosition {
    /// The sampler's id (unique per sampler instance).
    pub sampler: String,
    /// Sequence number of the last delta merged.
    pub seq: u64,
}

/// What a host did during a run, merged from every sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuntimeObservations {
    /// [`RUNTIME_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// First sample (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sample: Option<u64>,
    /// Last sample (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sample: Option<u64>,
    /// Samples merged.
    pub samples: u64,
    /// The sampling interval the sampler was asked for, in seconds (the
    /// largest of its deltas): connections shorter than this may be missed.
    pub interval_secs: u64,
    /// Listening sockets.
    pub listeners: Table<ListenerRecord>,
    /// TCP connections (every state but LISTEN, SYN_SENT, SYN_RECV and CLOSE).
    pub connections: Table<ConnectionRecord>,
    /// Processes.
    pub processes: Table<ProcessRecord>,
    /// Shared objects mapped by root processes.
    pub shared_objects: Table<SharedObjectRecord>,
    /// Running executables.
    pub executables: Table<ExecutableRecord>,
    /// New keys that did not fit in a table ([`MAX_RECORDS_PER_TABLE`]).
    pub dropped: u64,
    /// Deltas missing from the sequence (a gap, or a new sampler that did
    /// not start with a resync): presence may be stale.
    pub gaps: u64,
    /// Problems met while sampling (deduplicated, at most [`MAX_PROBLEMS`]).
    pub problems: Vec<Problem>,
    /// The last delta merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<DeltaPosition>,
}

impl Default for RuntimeObservations {
    fn default() -> Self {
        RuntimeObservations {
            schema_version: RUNTIME_SCHEMA_VERSION,
            first_sample: None,
            last_sample: None,
            samples: 0,
            interval_secs: 0,
            listeners: Table::default(),
            connections: Table::default(),
            processes: Table::default(),
            shared_objects: Table::default(),
            executables: Table::default(),
            dropped: 0,
            gaps: 0,
            problems: Vec::new(),
            position: None,
        }
    }
}

/// What one sample changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeDelta {
    /// [`RUNTIME_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The sampler's id, unique per sampler instance.
    pub sampler: String,
    /// 1 for the sampler's first delta, then +1 per sample.
    pub seq: u64,
    /// When the sample was taken (Unix seconds).
    pub at: u64,
    /// The sampling interval in seconds.
    pub interval_secs: u64,
    /// A sampler's first delta: it lists everything present, so the merge
    /// first marks every record absent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub resync: bool,
    /// Listener changes.
    #[serde(default, skip_serializing_if = "TableDelta::is_empty")]
    pub listeners: TableDelta<ListenerRecord>,
    /// Connection changes.
    #[serde(default, skip_serializing_if = "TableDelta::is_empty")]
    pub connections: TableDelta<ConnectionRecord>,
    /// Process changes.
    #[serde(default, skip_serializing_if = "TableDelta::is_empty")]
    pub processes: TableDelta<ProcessRecord>,
    /// Shared-object changes.
    #[serde(default, skip_serializing_if = "TableDelta::is_empty")]
    pub shared_objects: TableDelta<SharedObjectRecord>,
    /// Executable changes.
    #[serde(default, skip_serializing_if = "TableDelta::is_empty")]
    pub executables: TableDelta<ExecutableRecord>,
    /// Problems met in this sample that the observations do not have yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// What [`RuntimeObservations::merge`] did with a delta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeResult {
    /// Merged.
    Applied,
    /// Already merged (same sampler, sequence number not above the last): ignored,
    /// so resending a delta is harmless.
    Duplicate,
    /// Refused: a schema version this Warden does not read.
    UnsupportedVersion,
}

impl RuntimeObservations {
    /// Merges one sample's delta. Deltas of one sampler must come in
    /// sequence order; a repeated one is ignored; a missing one is counted
    /// in `gaps` (the delta is still merged).
    pub fn merge(&mut self, delta: &RuntimeDelta) -> MergeResult {
        if delta.schema_version != RUNTIME_SCHEMA_VERSION {
            return MergeResult::UnsupportedVersion;
        }
        match &self.position {
            Some(p) if p.sampler == delta.sampler => {
                if delta.seq <= p.seq {
                    return MergeResult::Duplicate;
                }
                self.gaps += delta.seq - p.seq - 1;
            }
            _ if !delta.resync || delta.seq != 1 => self.gaps += 1,
            _ => {}
        }
        if delta.resync {
            self.listeners.clear_presence();
            self.connections.clear_presence();
            self.processes.clear_presence();
            self.shared_objects.clear_presence();
            self.executables.clear_presence();
        }
        let connections = TableDelta {
            upserts: fold_connections(&self.connections, delta.connections.upserts.iter().cloned()),
            counts: delta.connections.counts.clone(),
            gone: delta.connections.gone.clone(),
        };
        self.dropped += self.listeners.apply(&delta.listeners)
            + self.connections.apply(&connections)
            + self.processes.apply(&delta.processes)
            + self.shared_objects.apply(&delta.shared_objects)
            + self.executables.apply(&delta.executables);
        self.listeners.tally(delta.at);
        self.connections.tally(delta.at);
        self.processes.tally(delta.at);
        self.shared_objects.tally(delta.at);
        self.executables.tally(delta.at);
        for problem in &delta.problems {
            if self.problems.len() < MAX_PROBLEMS && !self.problems.contains(problem) {
                self.problems.push(problem.clone());
            }
        }
        self.samples += 1;
        self.first_sample = Some(self.first_sample.map_or(delta.at, |f| f.min(delta.at)));
        self.last_sample = Some(self.last_sample.map_or(delta.at, |l| l.max(delta.at)));
        self.interval_secs = self.interval_secs.max(delta.interval_secs);
        self.position = Some(DeltaPosition { sampler: delta.sampler.clone(), seq: delta.seq });
        MergeResult::Applied
    }

    /// Whether anything was observed at all.
    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }
}

/// Applies the remote-address cap: in key order, a record of a new key
/// whose service already has [`MAX_REMOTES_PER_SERVICE`] remote addresses
/// becomes (and merges into) the service's [`OVERFLOW_ADDRESS`] record.
/// Deterministic, so the sampler (which folds before sending) and the
/// receiver (which folds again, finding nothing to fold) agree.
pub fn fold_connections(
    table: &Table<ConnectionRecord>,
    records: impl IntoIterator<Item = ConnectionRecord>,
) -> Vec<ConnectionRecord> {
    let mut remotes: BTreeMap<(Direction, u16, Option<String>), BTreeSet<String>> = BTreeMap::new();
    for r in table.iter() {
        remotes.entry(r.service()).or_default().insert(r.remote_address.clone());
    }
    let mut out: BTreeMap<ConnectionKey, ConnectionRecord> = BTreeMap::new();
    let mut sorted: Vec<ConnectionRecord> = records.into_iter().collect();
    sorted.sort_by_key(|r| r.key());
    for mut r in sorted {
        let known = remotes.entry(r.service()).or_default();
        if !known.contains(&r.remote_address) {
            if known.len() >= MAX_REMOTES_PER_SERVICE {
                r.remote_address = OVERFLOW_ADDRESS.to_string();
            }
            known.insert(r.remote_address.clone());
        }
        match out.get_mut(&r.key()) {
            Some(existing) => existing.absorb(&r),
            None => {
                out.insert(r.key(), r);
            }
        }
    }
    out.into_values().collect()
}

/// Seconds since the Unix epoch as RFC 3339 UTC (Howard Hinnant's civil_from_days).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests;
