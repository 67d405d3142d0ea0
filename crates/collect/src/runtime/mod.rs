//! Runtime sampling: what the host does during an assessment run, read from
//! `/proc` every N seconds and sent as deltas.
//!
//! Why it exists: the Runtime Behavior Analysis package judges what
//! happened during a run (which ports listened and were used, where the
//! host connected, which root processes loaded which libraries, which
//! executables ran), and the same sampler serves `warden assess --duration`
//! (in-process) and the fleet agent (which sends each delta to the server).
//!
//! Use: make a [`Sampler`], call [`Sampler::sample`] with the current time
//! every interval (it blocks only for the `/proc` reads), and send or merge
//! the [`RuntimeDelta`] it returns; [`Sampler::observations`] is everything
//! merged so far. [`run_for`] does the loop for a fixed duration.
//!
//! What is read, and nothing else: `/proc/net/{tcp,tcp6,udp,udp6}`, and for
//! each process `/proc/PID/stat`, `status`, the `exe` link (and, to hash and
//! parse the executable, the file it links to), the `fd` links (socket
//! owners) and, for root processes, `maps`, plus the metadata of mapped files
//! and their directories and the package database's file lists. Never
//! `cmdline`, `environ` or process memory. The proc root is configurable so
//! tests can point it at a fixture tree. The sampler does not observe its
//! own process (its own sockets, maps and executable).
//!
//! One module per concern: [`processes`], [`connections`], [`maps`], [`elf`]
//! (bounded ELF reader and hash cache) and [`owners`] (package ownership).

pub mod connections;
pub mod elf;
pub mod maps;
pub mod owners;
pub mod processes;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use warden_model::Problem;
use warden_model::runtime::{
    ConnectionRecord, ExecutableRecord, ListenerRecord, Observed, PackageOwner, ProcessRecord, RUNTIME_SCHEMA_VERSION,
    RuntimeDelta, RuntimeObservations, Seen, SharedObjectRecord, fold_connections,
};

use crate::ids::IdMap;
use crate::live::{ProcNetSocket, read_socket_tables, socket_owners};
use crate::rootfs::RootFs;
use processes::ProcessInfo;

/// Default sampling interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// Where and how to sample.
#[derive(Clone, Debug)]
pub struct SamplerConfig {
    /// The proc file system (`/proc`, or a fixture tree in tests).
    pub proc_root: PathBuf,
    /// The root whose `/etc/passwd` names users and whose package database
    /// names executables' owners (`/`).
    pub root: PathBuf,
    /// The sampling interval, recorded in each delta.
    pub interval: Duration,
    /// Most files whose hash and ELF properties are cached.
    pub elf_cache_capacity: usize,
    /// Observe the sampler's own process too (off: its sockets, libraries
    /// and executable are Warden's, not the host's).
    pub observe_self: bool,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            proc_root: PathBuf::from("/proc"),
            root: PathBuf::from("/"),
            interval: DEFAULT_INTERVAL,
            elf_cache_capacity: 1024,
            observe_self: false,
        }
    }
}

/// What one sample cost, for the benchmark.
#[derive(Clone, Debug, Default)]
pub struct SampleCost {
    /// Wall time of the sample.
    pub elapsed: Duration,
    /// Processes read.
    pub processes: usize,
    /// Executables hashed and parsed (cache misses).
    pub files_hashed: u64,
}

/// The runtime sampler of one host. Keeps what it has sent (the merged
/// observations) to send only changes.
pub struct Sampler {
    config: SamplerConfig,
    id: String,
    seq: u64,
    merged: RuntimeObservations,
    ids: IdMap,
    elf: elf::ElfCache,
    owners: owners::PackageOwners,
    /// (pid, start time) of the previous sample: a process not in it is a new instance.
    instances: HashSet<(u32, u64)>,
    /// Connections of the previous sample and their program: a tuple not in
    /// it is a new connection, and a socket that lost its process (TIME_WAIT)
    /// keeps the program it had.
    tuples: HashMap<connections::Tuple, (Option<String>, Option<u32>)>,
    /// (pid, start time, exe) → executable key, so a running process's file is opened once.
    exe_keys: HashMap<(u32, u64, String), ExecutableKey>,
    /// ELF properties (or why none) of the executables of the previous sample.
    exe_facts: HashMap<ExecutableKey, ElfOutcome>,
    /// Cost of the latest sample.
    pub last_cost: SampleCost,
}

/// Path and content hash of an executable.
type ExecutableKey = (String, String);
/// ELF properties, or why there are none.
type ElfOutcome = (Option<warden_model::runtime::ElfProperties>, Option<String>);
/// The executable facts a sample found, by executable key.
type ExecutableFacts = BTreeMap<ExecutableKey, ExecutableRecord>;

impl Sampler {
    /// A sampler; its id is unique per instance (pid and start time).
    pub fn new(config: SamplerConfig) -> Sampler {
        let ids = RootFs::open(&config.root).map(|fs| IdMap::load(&fs).0).unwrap_or_default();
        let started = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let id = format!("{}-{}.{:09}", std::process::id(), started.as_secs(), started.subsec_nanos());
        Sampler {
            owners: owners::PackageOwners::new(&config.root),
            elf: elf::ElfCache::new(config.elf_cache_capacity),
            config,
            id,
            seq: 0,
            merged: RuntimeObservations::default(),
            ids,
            instances: HashSet::new(),
            tuples: HashMap::new(),
            exe_keys: HashMap::new(),
            exe_facts: HashMap::new(),
            last_cost: SampleCost::default(),
        }
    }

    /// Everything sampled so far, merged.
    pub fn observations(&self) -> &RuntimeObservations {
        &self.merged
    }

    /// Takes one sample at `at` (Unix seconds) and returns its delta.
    pub fn sample(&mut self, at: u64) -> RuntimeDelta {
        let started = Instant::now();
        let hashed_before = self.elf.misses;
        let proc_root = self.config.proc_root.clone();
        let skip = (!self.config.observe_self).then(std::process::id);
        let mut problems = Vec::new();
        let processes = processes::read_processes(&proc_root, skip).unwrap_or_else(|e| {
            problems.push(Problem::file(proc_root.display().to_string(), format!("cannot list processes: {e}")));
            BTreeMap::new()
        });
        let sockets = read_socket_tables(&proc_root).unwrap_or_else(|p| {
            problems.push(p);
            Vec::new()
        });
        let wanted: HashSet<u64> = sockets
            .iter()
            .filter(|s| s.is_listening() || connections::is_connection(s))
            .map(|s| s.inode)
            .filter(|&i| i != 0)
            .collect();
        let own_inodes = skip.map(|me| socket_inodes_of(&proc_root, me)).unwrap_or_default();
        let sockets: Vec<ProcNetSocket> = sockets.into_iter().filter(|s| !own_inodes.contains(&s.inode)).collect();
        let wanted: HashSet<u64> = wanted.difference(&own_inodes).copied().collect();
        let owners = socket_owners(&proc_root, &wanted);
        if !wanted.is_empty() && owners.is_empty() {
            problems.push(Problem::file(
                proc_root.join("PID/fd").display().to_string(),
                "no socket could be attributed to a process: run as root to see other users' processes",
            ));
        }

        let listeners = self.listeners(&sockets, &owners, &processes);
        let connections = self.connections(&sockets, &owners, &processes);
        let process_records = self.processes(&processes);
        let executables = self.executables(&processes, &mut problems);
        let shared_objects = self.shared_objects(&processes);

        self.seq += 1;
        let problems = problems.into_iter().filter(|p| !self.merged.problems.contains(p)).collect();
        let delta = RuntimeDelta {
            schema_version: RUNTIME_SCHEMA_VERSION,
            sampler: self.id.clone(),
            seq: self.seq,
            at,
            interval_secs: self.config.interval.as_secs().max(1),
            resync: self.seq == 1,
            listeners: self.merged.listeners.diff(&listeners),
            connections: self.merged.connections.diff(&connections),
            processes: self.merged.processes.diff(&process_records),
            shared_objects: self.merged.shared_objects.diff(&shared_objects),
            executables: self.merged.executables.diff(&executables),
            problems,
        };
        self.merged.merge(&delta);
        self.last_cost = SampleCost {
            elapsed: started.elapsed(),
            processes: processes.len(),
            files_hashed: self.elf.misses - hashed_before,
        };
        delta
    }

    fn listeners(
        &self,
        sockets: &[ProcNetSocket],
        owners: &HashMap<u64, u32>,
        processes: &BTreeMap<u32, ProcessInfo>,
    ) -> BTreeMap<<ListenerRecord as Observed>::Key, ListenerRecord> {
        let mut out: BTreeMap<_, ListenerRecord> = BTreeMap::new();
        for s in sockets.iter().filter(|s| s.is_listening()) {
            let pid = owners.get(&s.inode).copied();
            let record = ListenerRecord {
                transport: s.transport,
                address: connections::show(s.local),
                port: s.port,
                uid: s.uid,
                pid,
                exe: pid.and_then(|p| processes.get(&p)).and_then(|p| p.exe.clone()),
                seen: Seen::default(),
            };
            keep_lowest_pid(&mut out, record, |r| r.pid);
        }
        out
    }

    fn connections(
        &mut self,
        sockets: &[ProcNetSocket],
        owners: &HashMap<u64, u32>,
        processes: &BTreeMap<u32, ProcessInfo>,
    ) -> BTreeMap<<ConnectionRecord as Observed>::Key, ConnectionRecord> {
        let listeners: Vec<&ProcNetSocket> = sockets.iter().filter(|s| s.is_listening()).collect();
        let mut tuples = HashMap::new();
        let mut records = Vec::new();
        for s in sockets.iter().filter(|s| connections::is_connection(s)) {
            let direction = connections::direction(s, &listeners);
            let tuple = connections::tuple(s);
            let pid = owners.get(&s.inode).copied();
            let (exe, pid) = match pid {
                Some(p) => (processes.get(&p).and_then(|p| p.exe.clone()), Some(p)),
                None => self.tuples.get(&tuple).cloned().unwrap_or((None, None)),
            };
            let is_new = !self.tuples.contains_key(&tuple);
            tuples.insert(tuple, (exe.clone(), pid));
            let service_port = match direction {
                warden_model::runtime::Direction::Inbound => s.port,
                warden_model::runtime::Direction::Outbound => s.remote_port,
            };
            records.push(ConnectionRecord {
                direction,
                service_port,
                remote_address: connections::show(s.remote),
                exe,
                local_address: connections::show(s.local),
                remote_port: s.remote_port,
                pid,
                connections: u64::from(is_new),
                seen: Seen::default(),
            });
        }
        self.tuples = tuples;
        // Lowest pid first, so that folding (which keeps the latest
        // description) ends on a stable one.
        records.sort_by_key(|r| std::cmp::Reverse(r.pid));
        fold_connections(&self.merged.connections, records).into_iter().map(|r| (r.key(), r)).collect()
    }

    fn processes(
        &mut self,
        processes: &BTreeMap<u32, ProcessInfo>,
    ) -> BTreeMap<<ProcessRecord as Observed>::Key, ProcessRecord> {
        let mut out: BTreeMap<_, ProcessRecord> = BTreeMap::new();
        let mut instances = HashSet::new();
        for p in processes.values() {
            let Some(exe) = &p.exe else { continue };
            let instance = (p.pid, p.start_time);
            instances.insert(instance);
            let record = ProcessRecord {
                exe: exe.clone(),
                euid: p.euid,
                parent_exe: processes.get(&p.ppid).and_then(|parent| parent.exe.clone()),
                user: self.ids.user(p.euid),
                comm: p.comm.clone(),
                pid: p.pid,
                ppid: p.ppid,
                instances: u64::from(!self.instances.contains(&instance)),
                seen: Seen::default(),
            };
            // Pids ascend, so the first record of a key keeps the lowest pid.
            match out.get_mut(&record.key()) {
                Some(existing) => existing.instances += record.instances,
                None => {
                    out.insert(record.key(), record);
                }
            }
        }
        self.instances = instances;
        out
    }

    fn executables(&mut self, processes: &BTreeMap<u32, ProcessInfo>, problems: &mut Vec<Problem>) -> ExecutableFacts {
        let mut out: ExecutableFacts = BTreeMap::new();
        let mut keys = HashMap::new();
        let mut facts_by_key = std::mem::take(&mut self.exe_facts);
        for p in processes.values() {
            let Some(exe) = &p.exe else { continue };
            let id = (p.pid, p.start_time, exe.clone());
            let key = match self.exe_keys.get(&id) {
                Some(key) => key.clone(),
                None => {
                    let link = self.config.proc_root.join(p.pid.to_string()).join("exe");
                    let facts = File::open(&link).map_err(|e| e.to_string()).and_then(|mut f| self.elf.facts(&mut f));
                    match facts {
                        Ok(f) => {
                            let key = (exe.clone(), f.sha256.clone());
                            let (elf, error) = match f.elf {
                                Ok(e) => (Some(e), None),
                                Err(e) => (None, Some(e)),
                            };
                            facts_by_key.insert(key.clone(), (elf, error));
                            key
                        }
                        // The process exited, or we may not read its file: skip it this time.
                        Err(e) => {
                            if !e.contains("No such file") {
                                problems.push(Problem::file(exe.clone(), format!("cannot read the executable: {e}")));
                            }
                            continue;
                        }
                    }
                }
            };
            keys.insert(id, key.clone());
            if out.contains_key(&key) {
                continue;
            }
            let (elf, elf_error) = facts_by_key.get(&key).cloned().unwrap_or((None, None));
            out.insert(
                key.clone(),
                ExecutableRecord {
                    path: key.0.clone(),
                    sha256: key.1.clone(),
                    elf,
                    elf_error,
                    owner: PackageOwner::Unknown { reason: String::new() },
                    pid: p.pid,
                    euid: p.euid,
                    seen: Seen::default(),
                },
            );
        }
        self.exe_keys = keys;
        facts_by_key.retain(|key, _| out.contains_key(key));
        self.exe_facts = facts_by_key;
        self.owners.resolve(out.keys().map(|(path, _)| path.as_str()));
        for record in out.values_mut() {
            if let Some(owner) = self.owners.get(&record.path) {
                record.owner = owner.clone();
            }
        }
        out
    }

    fn shared_objects(
        &self,
        processes: &BTreeMap<u32, ProcessInfo>,
    ) -> BTreeMap<<SharedObjectRecord as Observed>::Key, SharedObjectRecord> {
        let mut out: BTreeMap<_, SharedObjectRecord> = BTreeMap::new();
        let mut chains = HashMap::new();
        for p in processes.values().filter(|p| p.euid == 0) {
            let Some(exe) = &p.exe else { continue };
            let maps_path = self.config.proc_root.join(p.pid.to_string()).join("maps");
            let Ok(text) = crate::rootfs::read_host_file(&maps_path.to_string_lossy(), 16 * 1024 * 1024) else {
                continue;
            };
            for path in maps::executable_objects(&text, Some(exe)) {
                let (chain, stat_error) = match maps::permission_chain(&path, &mut chains) {
                    Ok(chain) => (chain, None),
                    Err(e) => (Vec::new(), Some(e)),
                };
                let record = SharedObjectRecord {
                    path,
                    loaded_by: exe.clone(),
                    chain,
                    stat_error,
                    pid: p.pid,
                    seen: Seen::default(),
                };
                out.entry(record.key()).or_insert(record);
            }
        }
        out
    }
}

/// Inserts a record, keeping the one with the lowest pid for its key.
fn keep_lowest_pid<R: Observed>(out: &mut BTreeMap<R::Key, R>, record: R, pid: impl Fn(&R) -> Option<u32>) {
    let key = record.key();
    match out.get(&key) {
        Some(existing) if pid(existing).is_some() && (pid(&record).is_none() || pid(existing) <= pid(&record)) => {}
        _ => {
            out.insert(key, record);
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Samples for `duration` (a first sample at once, then one per interval,
/// and a last one at the end), calling `on_delta` with each delta; returns
/// everything merged.
pub fn run_for(
    config: SamplerConfig,
    duration: Duration,
    mut on_delta: impl FnMut(&RuntimeDelta, &SampleCost),
) -> RuntimeObservations {
    let interval = config.interval.max(Duration::from_millis(100));
    let mut sampler = Sampler::new(config);
    let started = Instant::now();
    let deadline = started + duration;
    let mut next = started;
    loop {
        let delta = sampler.sample(unix_now());
        on_delta(&delta, &sampler.last_cost);
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        next += interval;
        std::thread::sleep(next.min(deadline).saturating_duration_since(now));
    }
    sampler.merged
}

/// The socket inodes a process holds (its `fd` links).
fn socket_inodes_of(proc_root: &Path, pid: u32) -> HashSet<u64> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(fds) = std::fs::read_dir(proc_root.join(pid.to_string()).join("fd")) else { return HashSet::new() };
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| crate::live::socket_inode(target.as_os_str().as_bytes()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;
    use warden_model::runtime::{Direction, StackExec};

    /// A fixture /proc tree: pid 100 (root, a listener on 127.0.0.1:23 and a
    /// connection to it), pid 200 (uid 1000, a client connected to
    /// 127.0.0.1:23 and one to 192.0.2.7:80), their executables, and
    /// pid 100's maps naming a library in a world-writable directory.
    fn fixture_proc(dir: &Path, client_port: &str) -> PathBuf {
        let proc_root = dir.join("proc");
        let bin = dir.join("bin");
        let libs = dir.join("libs");
        fs::create_dir_all(proc_root.join("net")).unwrap();
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&libs).unwrap();
        fs::write(bin.join("server"), elf::tests::tiny_elf(Some(7), Some("puts"), true)).unwrap();
        fs::write(bin.join("client"), elf::tests::tiny_elf(Some(6), Some("__stack_chk_fail"), true)).unwrap();
        fs::write(libs.join("libx.so"), b"not really").unwrap();
        fs::set_permissions(&libs, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let tcp = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:0017 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0\n\
   1: 0100007F:0017 0100007F:{client_port} 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0 20 4 30 10 -1\n\
   2: 0100007F:{client_port} 0100007F:0017 01 00000000:00000000 00:00000000 00000000  1000        0 1003 1 0 20 4 30 10 -1\n\
   3: 0200000A:A000 070200C0:0050 01 00000000:00000000 00:00000000 00000000  1000        0 1004 1 0 20 4 30 10 -1\n"
        );
        fs::write(proc_root.join("net/tcp"), tcp).unwrap();
        fs::write(proc_root.join("net/udp"), "  sl  local_address rem_address   st\n").unwrap();
        for (pid, uid, exe, sockets) in [(100, 0, "server", vec![1001, 1002]), (200, 1000, "client", vec![1003, 1004])]
        {
            let d = proc_root.join(pid.to_string());
            fs::create_dir_all(d.join("fd")).unwrap();
            fs::write(
                d.join("stat"),
                format!("{pid} ({exe}) S 1 {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000{pid} 0 0\n"),
            )
            .unwrap();
            fs::write(d.join("status"), format!("Name:\t{exe}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")).unwrap();
            symlink(bin.join(exe), d.join("exe")).unwrap();
            for (fd, inode) in sockets.iter().enumerate() {
                symlink(format!("socket:[{inode}]"), d.join("fd").join(fd.to_string())).unwrap();
            }
            let maps = format!(
                "00400000-00401000 r-xp 00000000 fd:01 11 {}\n7f00-7f01 r-xp 00000000 fd:01 12 {}\n",
                bin.join(exe).display(),
                libs.join("libx.so").display()
            );
            fs::write(d.join("maps"), maps).unwrap();
        }
        proc_root
    }

    fn config(proc_root: PathBuf, root: &Path) -> SamplerConfig {
        SamplerConfig { proc_root, root: root.to_path_buf(), observe_self: true, ..SamplerConfig::default() }
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn a_fixture_proc_tree_is_sampled_into_every_table() {
        let dir = tempfile::tempdir().unwrap();
        let proc_root = fixture_proc(dir.path(), "9C40");
        let mut sampler = Sampler::new(config(proc_root, dir.path()));
        let first = sampler.sample(1000);
        assert!(first.resync && first.seq == 1);
        let obs = sampler.observations();
        let listeners: Vec<_> = obs.listeners.iter().map(|l| (l.address.as_str(), l.port, l.pid)).collect();
        assert_eq!(listeners, [("127.0.0.1", 23, Some(100))]);
        let conns: Vec<_> = obs
            .connections
            .iter()
            .map(|c| {
                (
                    c.direction,
                    c.service_port,
                    c.remote_address.as_str(),
                    c.pid,
                    c.exe.as_deref().map(|e| e.ends_with("client")),
                )
            })
            .collect();
        assert_eq!(
            conns,
            [
                (Direction::Inbound, 23, "127.0.0.1", Some(100), Some(false)),
                (Direction::Outbound, 23, "127.0.0.1", Some(200), Some(true)),
                (Direction::Outbound, 80, "192.0.2.7", Some(200), Some(true)),
            ]
        );
        let procs: Vec<_> = obs.processes.iter().map(|p| (p.pid, p.euid, p.instances)).collect();
        assert_eq!(procs, [(200, 1000, 1), (100, 0, 1)], "keyed by executable path: client sorts first");
        let exes: Vec<_> = obs.executables.iter().map(|e| e.elf.as_ref().map(|e| e.stack)).collect();
        assert_eq!(exes, [Some(StackExec::NonExecutable), Some(StackExec::Executable)]);
        assert!(
            obs.executables.iter().all(|e| matches!(e.owner, PackageOwner::Unknown { .. })),
            "no package database in the fixture root"
        );
        let objects: Vec<_> =
            obs.shared_objects.iter().map(|s| (s.path.ends_with("libx.so"), s.pid, s.chain.len() > 2)).collect();
        assert_eq!(objects, [(true, 100, true)], "only the root process's maps, its own executable left out");
        assert_eq!(obs.shared_objects.iter().next().unwrap().chain[1].mode & 0o777, 0o777);

        // Nothing changed: the next delta is empty and small.
        let second = sampler.sample(1010);
        assert!(second.listeners.is_empty() && second.connections.is_empty() && second.processes.is_empty());
        assert!(serde_json::to_string(&second).unwrap().len() < 120);
        assert_eq!(sampler.observations().listeners.iter().next().unwrap().seen.samples, 2);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn a_new_connection_is_counted_and_a_closed_one_goes() {
        let dir = tempfile::tempdir().unwrap();
        let proc_root = fixture_proc(dir.path(), "9C40");
        let mut sampler = Sampler::new(config(proc_root.clone(), dir.path()));
        sampler.sample(1000);
        // The client reconnects from another ephemeral port and the 80 connection closes.
        let tcp = fs::read_to_string(proc_root.join("net/tcp")).unwrap().replace("9C40", "9C41");
        let tcp: String = tcp.lines().filter(|l| !l.contains("070200C0")).map(|l| format!("{l}\n")).collect();
        fs::write(proc_root.join("net/tcp"), tcp).unwrap();
        let delta = sampler.sample(1010);
        assert_eq!(delta.connections.counts.len(), 2, "{delta:#?}");
        assert_eq!(delta.connections.gone.len(), 1);
        let obs = sampler.observations();
        let http = obs.connections.iter().find(|c| c.service_port == 80).unwrap();
        assert_eq!((http.seen.present, http.seen.last_seen, http.connections), (false, 1000, 1));
        let telnet =
            obs.connections.iter().find(|c| c.direction == Direction::Outbound && c.service_port == 23).unwrap();
        assert_eq!((telnet.connections, telnet.seen.samples), (2, 2));
    }

    #[test]
    fn a_missing_proc_root_is_a_problem_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut sampler = Sampler::new(config(dir.path().join("nope"), dir.path()));
        let delta = sampler.sample(1);
        assert!(delta.problems.iter().any(|p| p.message.contains("cannot list processes")), "{:?}", delta.problems);
        assert!(sampler.observations().problems.len() >= 2);
    }
}
