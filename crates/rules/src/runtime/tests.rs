//! Each rule on hand-built observations: it fires, and its passing
//! counterpart stays quiet.

use super::*;
use warden_model::runtime::{ElfProperties, ProcessRecord, RUNTIME_SCHEMA_VERSION, RuntimeDelta, SharedObjectRecord};

const T0: u64 = 1_700_000_000;

fn listener(transport: Transport, address: &str, port: u16) -> ListenerRecord {
    ListenerRecord {
        transport,
        address: address.into(),
        port,
        uid: 0,
        pid: Some(100 + u32::from(port)),
        exe: Some(format!("/usr/sbin/daemon{port}")),
        seen: Seen::default(),
    }
}

fn connection(direction: Direction, port: u16, remote: &str, exe: &str) -> ConnectionRecord {
    ConnectionRecord {
        direction,
        service_port: port,
        remote_address: remote.into(),
        exe: Some(exe.into()),
        local_address: "10.0.0.5".into(),
        remote_port: if direction == Direction::Outbound { port } else { 40_000 },
        pid: Some(4242),
        connections: 1,
        seen: Seen::default(),
    }
}

fn executable(
    path: &str,
    owner: PackageOwner,
    stack: StackExec,
    protector: StackProtector,
    class: u8,
) -> ExecutableRecord {
    ExecutableRecord {
        path: path.into(),
        sha256: format!("{:064x}", path.len()),
        elf: Some(ElfProperties { class, machine: 62, static_linked: false, stack, stack_protector: protector }),
        elf_error: None,
        owner,
        pid: 77,
        euid: 0,
        seen: Seen::default(),
    }
}

fn mode(_path: &str, mode: u32, uid: u32, gid: u32) -> FileMode {
    FileMode { mode, uid, gid }
}

fn root_process() -> ProcessRecord {
    ProcessRecord {
        exe: "/usr/sbin/cron".into(),
        euid: 0,
        parent_exe: None,
        user: Some("root".into()),
        comm: "cron".into(),
        pid: 9,
        ppid: 1,
        instances: 1,
        seen: Seen::default(),
    }
}

fn object(path: &str, chain: Vec<FileMode>) -> SharedObjectRecord {
    SharedObjectRecord {
        path: path.into(),
        loaded_by: "/usr/sbin/cron".into(),
        chain,
        stat_error: None,
        pid: 9,
        seen: Seen::default(),
    }
}

/// Observations of two samples ten seconds apart, everything present in both.
#[derive(Default)]
struct Build {
    delta: RuntimeDelta,
}

impl Build {
    fn listener(mut self, l: ListenerRecord) -> Self {
        self.delta.listeners.upserts.push(l);
        self
    }
    fn connection(mut self, c: ConnectionRecord) -> Self {
        self.delta.connections.upserts.push(c);
        self
    }
    fn executable(mut self, e: ExecutableRecord) -> Self {
        self.delta.executables.upserts.push(e);
        self
    }
    fn object(mut self, o: SharedObjectRecord) -> Self {
        self.delta.shared_objects.upserts.push(o);
        self
    }
    fn done(mut self) -> RuntimeObservations {
        let mut obs = RuntimeObservations::default();
        self.delta.processes.upserts.push(root_process());
        self.delta.schema_version = RUNTIME_SCHEMA_VERSION;
        self.delta.sampler = "test".into();
        (self.delta.seq, self.delta.at, self.delta.interval_secs, self.delta.resync) = (1, T0, 10, true);
        obs.merge(&self.delta);
        let next = RuntimeDelta {
            schema_version: RUNTIME_SCHEMA_VERSION,
            sampler: "test".into(),
            seq: 2,
            at: T0 + 10,
            interval_secs: 10,
            ..RuntimeDelta::default()
        };
        obs.merge(&next);
        obs
    }
}

fn findings_of(obs: &RuntimeObservations, rule: &str) -> Vec<Finding> {
    let (outcomes, findings, _) = evaluate(obs, "host1");
    let outcome = outcomes.iter().find(|o| o.rule_id == rule).unwrap();
    let mine: Vec<Finding> = findings.into_iter().filter(|f| f.rule_id == rule).collect();
    let expected = if mine.is_empty() { Outcome::Pass } else { Outcome::Fail };
    assert_eq!(outcome.outcome, expected, "{outcome:?}");
    mine
}

#[test]
fn login_client_protocols_fire_on_outbound_telnet_only() {
    let obs = Build::default()
        .connection(connection(Direction::Outbound, 23, "192.0.2.10", "/usr/bin/telnet.netkit"))
        .connection(connection(Direction::Outbound, 22, "192.0.2.10", "/usr/bin/ssh"))
        .connection(connection(Direction::Inbound, 23, "192.0.2.11", "/usr/sbin/in.telnetd"))
        .done();
    let f = findings_of(&obs, CLIENT_LOGIN.id);
    assert_eq!(f.len(), 1, "{f:#?}");
    let a = &f[0].attributes;
    assert_eq!(a["EXE"], "/usr/bin/telnet.netkit");
    assert_eq!(
        (a["PORT"].as_str(), a["REMOTE_ADDRESS"].as_str(), a["PROTOCOL"].as_str()),
        ("23", "192.0.2.10", "Telnet")
    );
    assert_eq!(
        (a["PID"].as_str(), a["FIRST_SEEN"].as_str(), a["LAST_SEEN"].as_str()),
        ("4242", "2023-11-14T22:13:20Z", "2023-11-14T22:13:30Z")
    );
    assert!(f[0].evidence[0].message.contains("in 2 samples"), "{:?}", f[0].evidence);
    assert_eq!(f[0].severity, Severity::Medium);

    let quiet = Build::default().connection(connection(Direction::Outbound, 22, "192.0.2.10", "/usr/bin/ssh")).done();
    assert!(findings_of(&quiet, CLIENT_LOGIN.id).is_empty());
}

#[test]
fn general_client_protocols_group_remotes_per_program() {
    let obs = Build::default()
        .connection(connection(Direction::Outbound, 80, "192.0.2.1", "/usr/bin/curl"))
        .connection(connection(Direction::Outbound, 80, "192.0.2.2", "/usr/bin/curl"))
        .connection(connection(Direction::Outbound, 443, "192.0.2.3", "/usr/bin/curl"))
        .connection(connection(Direction::Outbound, 389, "192.0.2.4", "/usr/sbin/sssd"))
        .done();
    let f = findings_of(&obs, CLIENT_GENERAL.id);
    let summary: Vec<(&str, &str, usize)> = f
        .iter()
        .map(|f| (f.attributes["EXE"].as_str(), f.attributes["REMOTE_ADDRESS"].as_str(), f.evidence.len()))
        .collect();
    assert_eq!(summary, [("/usr/bin/curl", "192.0.2.1,192.0.2.2", 2), ("/usr/sbin/sssd", "192.0.2.4", 1)]);
    assert!(findings_of(&obs, CLIENT_LOGIN.id).is_empty());
    let quiet = Build::default().connection(connection(Direction::Outbound, 443, "192.0.2.3", "/usr/bin/curl")).done();
    assert!(findings_of(&quiet, CLIENT_GENERAL.id).is_empty());
}

#[test]
fn unused_ports_are_listeners_without_inbound_connections() {
    let obs = Build::default()
        .listener(listener(Transport::Tcp, "0.0.0.0", 22))
        .listener(listener(Transport::Tcp, "127.0.0.1", 631))
        .listener(listener(Transport::Tcp, "10.0.0.5", 8080))
        .listener(listener(Transport::Udp, "0.0.0.0", 68))
        .connection(connection(Direction::Inbound, 22, "192.0.2.9", "/usr/sbin/sshd"))
        // An inbound connection to 8080 on another local address does not use the 10.0.0.5 listener.
        .connection(ConnectionRecord {
            local_address: "10.0.0.6".into(),
            ..connection(Direction::Inbound, 8080, "192.0.2.9", "x")
        })
        .done();
    let f = findings_of(&obs, UNUSED_PORTS.id);
    let ports: Vec<&str> = f.iter().map(|f| f.attributes["PORT"].as_str()).collect();
    assert_eq!(ports, ["8080", "631"], "in key order: transport, address, port");
    assert_eq!(
        (f[0].attributes["ADDRESS"].as_str(), f[0].attributes["SAMPLE_INTERVAL_SECONDS"].as_str()),
        ("10.0.0.5", "10")
    );
    assert!(f[0].evidence[0].message.contains("no inbound connection"), "{:?}", f[0].evidence);
    assert_eq!(f[0].severity, Severity::Informational);
}

#[test]
fn server_protocols_by_transport_and_port() {
    let obs = Build::default()
        .listener(listener(Transport::Tcp, "0.0.0.0", 21))
        .listener(listener(Transport::Udp, "0.0.0.0", 161))
        .listener(listener(Transport::Udp, "0.0.0.0", 21))
        .listener(listener(Transport::Tcp, "0.0.0.0", 443))
        .done();
    let f = findings_of(&obs, SERVER_PROTOCOLS.id);
    let got: Vec<(&str, &str, &str)> = f
        .iter()
        .map(|f| (f.attributes["TRANSPORT"].as_str(), f.attributes["PORT"].as_str(), f.attributes["PROTOCOL"].as_str()))
        .collect();
    assert_eq!(got, [("tcp", "21", "FTP"), ("udp", "161", "SNMP")]);
    assert_eq!(f[0].attributes["EXE"], "/usr/sbin/daemon21");
    let quiet = Build::default().listener(listener(Transport::Tcp, "0.0.0.0", 443)).done();
    assert!(findings_of(&quiet, SERVER_PROTOCOLS.id).is_empty());
}

#[test]
fn dep_and_cookies_judge_third_party_executables_only() {
    let dpkg = || PackageOwner::NotOwned { database: "/var/lib/dpkg".into() };
    let packaged = PackageOwner::Package { name: "coreutils".into(), database: "/var/lib/dpkg".into() };
    let unknown = PackageOwner::Unknown { reason: "rpm".into() };
    let obs = Build::default()
        .executable(executable("/opt/app/execstack", dpkg(), StackExec::Executable, StackProtector::Present, 64))
        .executable(executable("/opt/app/nossp", dpkg(), StackExec::NonExecutable, StackProtector::Absent, 64))
        .executable(executable("/opt/app/good", dpkg(), StackExec::NonExecutable, StackProtector::Present, 64))
        .executable(executable("/opt/app/unmarked64", dpkg(), StackExec::Unmarked, StackProtector::Unknown, 64))
        .executable(executable("/opt/app/unmarked32", dpkg(), StackExec::Unmarked, StackProtector::Unknown, 32))
        .executable(executable("/usr/bin/packaged", packaged, StackExec::Executable, StackProtector::Absent, 64))
        .executable(executable(
            "/usr/bin/rpm-owned",
            unknown.clone(),
            StackExec::Executable,
            StackProtector::Absent,
            64,
        ))
        .executable(executable("/usr/local/bin/rpm-local", unknown, StackExec::Executable, StackProtector::Absent, 64))
        .done();
    let exes =
        |rule: &str| -> Vec<String> { findings_of(&obs, rule).iter().map(|f| f.attributes["EXE"].clone()).collect() };
    assert_eq!(exes(NO_DEP.id), ["/opt/app/execstack", "/opt/app/unmarked32", "/usr/local/bin/rpm-local"]);
    assert_eq!(exes(NO_STACK_COOKIES.id), ["/opt/app/nossp", "/usr/local/bin/rpm-local"]);
    let f = findings_of(&obs, NO_DEP.id);
    assert!(f[0].evidence[0].message.contains("not listed by any package of /var/lib/dpkg"), "{:?}", f[0].evidence);
    assert_eq!((f[0].attributes["PID"].as_str(), f[0].attributes["STACK"].as_str()), ("77", "executable"));
}

#[test]
fn writable_chains() {
    let dir = 0o040_000;
    let file = 0o100_000;
    let lib = "/usr/lib/x.so";
    let root_chain = |leaf: FileMode| {
        vec![leaf, mode("/usr/lib", dir | 0o755, 0, 0), mode("/usr", dir | 0o755, 0, 0), mode("/", dir | 0o755, 0, 0)]
    };
    assert_eq!(writable_by_non_root(lib, &root_chain(mode(lib, file | 0o644, 0, 0))), None);
    assert_eq!(
        writable_by_non_root(lib, &root_chain(mode(lib, file | 0o646, 0, 0))).unwrap(),
        "the file /usr/lib/x.so is world-writable (mode 0646)"
    );
    assert!(writable_by_non_root(lib, &root_chain(mode(lib, file | 0o664, 0, 50))).unwrap().contains("group 50"));
    assert_eq!(writable_by_non_root(lib, &root_chain(mode(lib, file | 0o664, 0, 0))), None, "group root");
    assert!(writable_by_non_root(lib, &root_chain(mode(lib, file | 0o644, 1000, 0))).unwrap().contains("uid 1000"));
    // /tmp is world-writable but sticky: a root-owned file in it cannot be replaced; a plain world-writable directory can.
    let sticky =
        vec![mode("/tmp/x.so", file | 0o755, 0, 0), mode("/tmp", dir | 0o1777, 0, 0), mode("/", dir | 0o755, 0, 0)];
    assert_eq!(writable_by_non_root("/tmp/x.so", &sticky), None);
    let open =
        vec![mode("/srv/d/x.so", file | 0o755, 0, 0), mode("/srv/d", dir | 0o777, 0, 0), mode("/", dir | 0o755, 0, 0)];
    assert_eq!(
        writable_by_non_root("/srv/d/x.so (deleted)", &open).unwrap(),
        "directory /srv/d is world-writable (mode 0777)"
    );
    let link = vec![mode("/lib", 0o120_777, 0, 0)];
    assert_eq!(writable_by_non_root("/lib", &link), None, "a symlink's mode bits mean nothing");
}

#[test]
fn root_process_with_writable_object_fires_and_stays_quiet() {
    let dir = 0o040_000;
    let bad = object(
        "/srv/plugins/libx.so",
        vec![
            mode("/srv/plugins/libx.so", 0o100_755, 0, 0),
            mode("/srv/plugins", dir | 0o777, 0, 0),
            mode("/srv", dir | 0o755, 0, 0),
            mode("/", dir | 0o755, 0, 0),
        ],
    );
    let good = object(
        "/usr/lib/libc.so.6",
        vec![
            mode("/usr/lib/libc.so.6", 0o100_755, 0, 0),
            mode("/usr/lib", dir | 0o755, 0, 0),
            mode("/usr", dir | 0o755, 0, 0),
            mode("/", dir | 0o755, 0, 0),
        ],
    );
    let obs = Build::default().object(bad).object(good.clone()).done();
    let f = findings_of(&obs, ROOT_WRITABLE_OBJECT.id);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(
        (f[0].attributes["EXE"].as_str(), f[0].attributes["SHARED_OBJECT"].as_str()),
        ("/usr/sbin/cron", "/srv/plugins/libx.so")
    );
    assert!(f[0].attributes["WRITABLE_BECAUSE"].contains("/srv/plugins is world-writable"));
    let quiet = Build::default().object(good).done();
    assert!(findings_of(&quiet, ROOT_WRITABLE_OBJECT.id).is_empty());
}

#[test]
fn no_samples_cannot_be_evaluated() {
    let (outcomes, findings, partial) = evaluate(&RuntimeObservations::default(), "h");
    assert_eq!(outcomes.len(), 7);
    assert!(outcomes.iter().all(|o| o.outcome == Outcome::CouldNotEvaluate));
    assert!(findings.is_empty() && partial);
}

#[test]
fn rule_documentation_is_generated_from_the_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules/runtime-behavior.md");
    let generated = markdown();
    if std::env::var_os("WARDEN_BLESS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        committed, generated,
        "docs/rules/runtime-behavior.md is stale: run `WARDEN_BLESS=1 cargo test -p warden-rules runtime`"
    );
    let mut ids: Vec<&str> = rules().iter().map(|r| r.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 7);
    assert!(ids.iter().all(|id| id.starts_with("rba-")));
}
