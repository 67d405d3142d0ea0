//! The Runtime Behavior Analysis package: Inspector Classic's seven rules
//! about what a host did during a run (`shared/spec/inspector-classic.md`
//! §8.7), evaluated on merged [`RuntimeObservations`].
//!
//! Why it exists: some risks show only while a host runs: a program that
//! logs in with telnet, a port nobody uses, a root daemon loading a library
//! from a world-writable directory, a locally built program without NX or
//! stack cookies. The sampler (`warden-collect`'s `runtime`) records what it
//! saw; these rules are pure functions of that record, so the CLI and the
//! fleet server give the same answer.
//!
//! One finding per subject (a listener, a program's use of one protocol, an
//! executable, a root program's shared object); each carries its evidence
//! in words and as attributes: `PID`, `EXE`, `PORT`, `REMOTE_ADDRESS`,
//! `FIRST_SEEN`, `LAST_SEEN` (RFC 3339), and rule-specific ones. The exact
//! semantics are in each rule's description and in `docs/runtime.md`.

use std::collections::BTreeMap;

use warden_model::runtime::{
    ConnectionRecord, Direction, ExecutableRecord, FileMode, ListenerRecord, PackageOwner, RuntimeObservations, Seen,
    SharedObjectRecord, StackExec, StackProtector, ancestors, rfc3339,
};
use warden_model::{Evidence, Finding, Outcome, RuleOutcome, Severity, Transport};

use crate::RuleMeta;

#[cfg(test)]
mod tests;

/// Package name, as Inspector named it.
pub const PACKAGE_NAME: &str = "Runtime Behavior Analysis";
/// Short id for the command line.
pub const PACKAGE_ID: &str = "runtime-behavior";

/// Login protocols whose clients send credentials in clear: (port, protocol).
pub const LOGIN_CLIENT_PORTS: &[(u16, &str)] =
    &[(21, "FTP"), (23, "Telnet"), (512, "rexec"), (513, "rlogin"), (514, "rsh")];
/// Other unencrypted client protocols: (port, protocol).
pub const GENERAL_CLIENT_PORTS: &[(u16, &str)] =
    &[(25, "SMTP"), (80, "HTTP"), (110, "POP3"), (143, "IMAP"), (389, "LDAP")];
/// Unencrypted server protocols: (transport, port, protocol).
pub const SERVER_PORTS: &[(Transport, u16, &str)] = &[
    (Transport::Tcp, 21, "FTP"),
    (Transport::Tcp, 23, "Telnet"),
    (Transport::Tcp, 25, "SMTP"),
    (Transport::Tcp, 80, "HTTP"),
    (Transport::Tcp, 110, "POP3"),
    (Transport::Tcp, 143, "IMAP"),
    (Transport::Udp, 161, "SNMP"),
    (Transport::Udp, 162, "SNMP trap"),
    (Transport::Tcp, 512, "rexec"),
    (Transport::Tcp, 513, "rlogin"),
    (Transport::Tcp, 514, "rsh"),
];
/// Where a distribution installs programs: the fallback notion of "not
/// third-party" when no package database lists files (see [`is_third_party`]).
pub const DISTRO_PATHS: &[&str] =
    &["/bin/", "/sbin/", "/lib/", "/lib64/", "/usr/bin/", "/usr/sbin/", "/usr/lib/", "/usr/lib64/", "/usr/libexec/"];

/// Non-secure client protocols (login).
pub const CLIENT_LOGIN: RuleMeta = RuleMeta {
    id: "rba-client-login-protocols",
    title: "Non-Secure Client Protocols (Login)",
    severity: Severity::Medium,
    description: "A program on this host connected out to a login service that sends credentials in clear text: \
        FTP (TCP 21), Telnet (23), rexec (512), rlogin (513) or rsh (514). Fails for every outbound TCP connection \
        to one of these remote ports seen in any sample (a connection is outbound when its local port is not a port \
        this host listens on; loopback connections count, since Warden cannot see where a local relay forwards \
        them). Protocols are recognized by port only. One finding per program and protocol.",
    recommendation: "Use SSH (ssh, sftp, scp) instead, and remove the telnet, rsh, rlogin and ftp clients from the host.",
};

/// Non-secure client protocols (general).
pub const CLIENT_GENERAL: RuleMeta = RuleMeta {
    id: "rba-client-general-protocols",
    title: "Non-Secure Client Protocols (General)",
    severity: Severity::Low,
    description: "A program on this host connected out with an unencrypted protocol: SMTP (TCP 25), HTTP (80), \
        POP3 (110), IMAP (143) or LDAP (389). Fails for every outbound TCP connection to one of these remote ports \
        seen in any sample (loopback included). Protocols are recognized by port only: STARTTLS upgrades on SMTP, \
        IMAP, POP3 or LDAP cannot be seen in the socket tables, so such connections are reported too. One finding \
        per program and protocol.",
    recommendation: "Use the encrypted variants: HTTPS, IMAPS (993), POP3S (995), SMTP submission over TLS (465), \
        LDAPS (636), or make sure STARTTLS is required.",
};

/// Unused listening TCP ports.
pub const UNUSED_PORTS: RuleMeta = RuleMeta {
    id: "rba-unused-listening-ports",
    title: "Unused Listening TCP Ports",
    severity: Severity::Informational,
    description: "A TCP port listened during the run and accepted no connection: no sample saw an inbound \
        connection on that port (to the listener's address, or any address for a wildcard listener). Connections \
        are seen while they are open and, for 60 seconds after the host closes them first, in TIME_WAIT; a \
        connection that opens and closes between two samples, closed by the peer first, can be missed, so the \
        sampling interval (in the evidence) bounds what \"no connection\" means. Loopback listeners count. One \
        finding per listening address and port.",
    recommendation: "Stop the service if it is not needed, or bind it to the addresses that need it and restrict \
        access with a firewall or security group.",
};

/// Non-secure server protocols.
pub const SERVER_PROTOCOLS: RuleMeta = RuleMeta {
    id: "rba-server-protocols",
    title: "Non-Secure Server Protocols",
    severity: Severity::Informational,
    description: "The host served an unencrypted protocol during the run: a listener on TCP 21 (FTP), 23 (Telnet), \
        25 (SMTP), 80 (HTTP), 110 (POP3), 143 (IMAP), 512 (rexec), 513 (rlogin), 514 (rsh), or UDP 161/162 (SNMP; \
        the socket does not show whether SNMP v1/v2c or v3 is served, so every SNMP listener is reported). \
        Protocols are recognized by port only. One finding per listening address and port.",
    recommendation: "Replace with encrypted protocols: SSH/SFTP/SCP for Telnet, FTP, rsh, rlogin and rexec; HTTPS; \
        IMAPS, POP3S and SMTP over TLS; SNMPv3 with authentication and privacy.",
};

/// Software without DEP.
pub const NO_DEP: RuleMeta = RuleMeta {
    id: "rba-software-without-dep",
    title: "Software Without Data Execution Prevention (DEP)",
    severity: Severity::Medium,
    description: "A third-party executable ran with an executable stack: its PT_GNU_STACK program header has the \
        execute flag, or (32-bit programs) it has no PT_GNU_STACK header, which makes the kernel map the stack \
        executable. Third-party means not listed by any installed package of the host's package database (dpkg, \
        apk, rpm); where none lists files (rpm's ndb format, none), outside the distribution's directories \
        (/bin, /sbin, /lib, /lib64, /usr/bin, /usr/sbin, /usr/lib, /usr/lib64, /usr/libexec). Distribution \
        packages are built and answered for by the distribution; see docs/runtime.md. One finding per executable (path and \
        content hash).",
    recommendation: "Rebuild the program without `-z execstack` (and fix any assembly file lacking a \
        `.note.GNU-stack` section), or ask its vendor for a build with a non-executable stack.",
};

/// Software without stack cookies.
pub const NO_STACK_COOKIES: RuleMeta = RuleMeta {
    id: "rba-software-without-stack-cookies",
    title: "Software Without Stack Cookies",
    severity: Severity::Medium,
    description: "A third-party executable (as defined for the DEP rule) ran and is dynamically linked, and its \
        dynamic symbol table references none of `__stack_chk_fail`, `__stack_chk_fail_local`, \
        `__stack_chk_guard`: it was built without a stack protector. Statically linked programs cannot be \
        judged this way (the C library brings these symbols either way) and are not reported. A program that \
        has no function the protector would instrument looks the same as one built without it. One finding per \
        executable.",
    recommendation: "Rebuild with `-fstack-protector-strong` (Debian: use the flags of `dpkg-buildflags`), or ask \
        its vendor for a hardened build.",
};

/// Root process loading a non-root-writable shared object.
pub const ROOT_WRITABLE_OBJECT: RuleMeta = RuleMeta {
    id: "rba-root-process-writable-object",
    title: "Root Process with Non-Secure Permissions",
    severity: Severity::High,
    description: "A process running with effective uid 0 mapped executable code from a file that a non-root \
        user can change: the file is owned by a non-root user, group-writable with a non-root group, or \
        world-writable; or a directory on its path is owned by a non-root user, or is group- (non-root group) or \
        world-writable without the sticky bit, so the file can be replaced. Executable mappings of \
        /proc/PID/maps other than the program itself count as shared objects. One finding per root program and \
        shared object.",
    recommendation: "Make the library and every directory above it owned by root and writable only by root, or \
        stop the root process from loading it (LD_PRELOAD, LD_LIBRARY_PATH, dlopen paths, RPATH).",
};

/// A rule: metadata and a pure check of the observations.
type Check = (RuleMeta, fn(&RuntimeObservations) -> Judgement);

/// The rules, in reporting order (Inspector's).
const CHECKS: [Check; 7] = [
    (CLIENT_LOGIN, |obs| client_rule(obs, LOGIN_CLIENT_PORTS)),
    (CLIENT_GENERAL, |obs| client_rule(obs, GENERAL_CLIENT_PORTS)),
    (UNUSED_PORTS, unused_ports),
    (SERVER_PROTOCOLS, server_protocols),
    (NO_DEP, |obs| executables_rule(obs, without_dep, "STACK")),
    (NO_STACK_COOKIES, |obs| executables_rule(obs, without_cookies, "STACK_PROTECTOR")),
    (ROOT_WRITABLE_OBJECT, root_writable_objects),
];

/// The rules' metadata, in reporting order.
pub fn rules() -> Vec<RuleMeta> {
    CHECKS.iter().map(|(meta, _)| *meta).collect()
}

/// One failing subject: evidence and attributes of one finding.
struct Hit {
    evidence: Vec<Evidence>,
    attributes: BTreeMap<String, String>,
}

/// A rule's verdict: its hits, or why there are none.
struct Judgement {
    hits: Vec<Hit>,
    /// What was examined (a pass's reason), or why nothing could be.
    examined: String,
    could_not_evaluate: bool,
}

fn when(secs: u64) -> String {
    rfc3339(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn seen_text(seen: &Seen) -> String {
    format!("first seen {}, last seen {}, in {} samples", when(seen.first_seen), when(seen.last_seen), seen.samples)
}

fn plain_evidence(message: String, text: Option<String>) -> Evidence {
    Evidence { message, path: None, line: None, text, is_default: false }
}

fn attributes(pairs: &[(&str, Option<String>)]) -> BTreeMap<String, String> {
    pairs.iter().filter_map(|(k, v)| Some((k.to_string(), v.clone()?))).collect()
}

fn pid_text(pid: Option<u32>) -> String {
    pid.map_or("no process (socket not held, e.g. TIME_WAIT)".to_string(), |p| format!("pid {p}"))
}

fn client_rule(obs: &RuntimeObservations, ports: &[(u16, &str)]) -> Judgement {
    let outbound: Vec<&ConnectionRecord> =
        obs.connections.iter().filter(|c| c.direction == Direction::Outbound).collect();
    let mut groups: BTreeMap<(Option<String>, u16), Vec<&ConnectionRecord>> = BTreeMap::new();
    for c in &outbound {
        if ports.iter().any(|(p, _)| *p == c.service_port) {
            groups.entry((c.exe.clone(), c.service_port)).or_default().push(c);
        }
    }
    let hits = groups
        .into_iter()
        .map(|((exe, port), conns)| {
            let protocol = ports.iter().find(|(p, _)| *p == port).map_or("?", |(_, n)| n);
            let program = exe.clone().unwrap_or_else(|| "an unknown program".to_string());
            let evidence = conns
                .iter()
                .map(|c| {
                    plain_evidence(
                        format!(
                            "{program} ({}) connected to {} port {port} ({protocol}): {} connection(s), {}",
                            pid_text(c.pid),
                            c.remote_address,
                            c.connections,
                            seen_text(&c.seen)
                        ),
                        Some(format!("{} -> {}:{port}", c.local_address, c.remote_address)),
                    )
                })
                .collect();
            let first = conns.iter().map(|c| c.seen.first_seen).min().unwrap_or(0);
            let last = conns.iter().map(|c| c.seen.last_seen).max().unwrap_or(0);
            let remotes: Vec<&str> = conns.iter().map(|c| c.remote_address.as_str()).collect();
            Hit {
                evidence,
                attributes: attributes(&[
                    ("PROTOCOL", Some(protocol.to_string())),
                    ("EXE", exe),
                    ("PID", conns.iter().find_map(|c| c.pid).map(|p| p.to_string())),
                    ("PORT", Some(port.to_string())),
                    ("REMOTE_ADDRESS", Some(remotes.join(","))),
                    ("FIRST_SEEN", Some(when(first))),
                    ("LAST_SEEN", Some(when(last))),
                ]),
            }
        })
        .collect();
    Judgement {
        hits,
        examined: format!("{} outbound connection record(s) examined", outbound.len()),
        could_not_evaluate: false,
    }
}

fn listener_hit(l: &ListenerRecord, message: String, extra: (&str, Option<String>)) -> Hit {
    let transport = match l.transport {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    };
    Hit {
        evidence: vec![plain_evidence(message, Some(format!("{transport} {}:{}", l.address, l.port)))],
        attributes: attributes(&[
            ("TRANSPORT", Some(transport.to_string())),
            ("ADDRESS", Some(l.address.clone())),
            ("PORT", Some(l.port.to_string())),
            ("PID", l.pid.map(|p| p.to_string())),
            ("EXE", l.exe.clone()),
            ("FIRST_SEEN", Some(when(l.seen.first_seen))),
            ("LAST_SEEN", Some(when(l.seen.last_seen))),
            extra,
        ]),
    }
}

fn owner_text(l: &ListenerRecord) -> String {
    match (&l.exe, l.pid) {
        (Some(exe), Some(pid)) => format!("{exe} (pid {pid}, uid {})", l.uid),
        _ => format!("an unidentified process (uid {})", l.uid),
    }
}

fn is_wildcard(address: &str) -> bool {
    address == "0.0.0.0" || address == "::"
}

fn unused_ports(obs: &RuntimeObservations) -> Judgement {
    let tcp: Vec<&ListenerRecord> = obs.listeners.iter().filter(|l| l.transport == Transport::Tcp).collect();
    let hits = tcp
        .iter()
        .filter(|l| {
            !obs.connections.iter().any(|c| {
                c.direction == Direction::Inbound
                    && c.service_port == l.port
                    && (is_wildcard(&l.address) || c.local_address == l.address)
            })
        })
        .map(|l| {
            listener_hit(
                l,
                format!(
                    "{} listened on TCP {}:{} and no inbound connection was seen ({}; sampled every {} s)",
                    owner_text(l),
                    l.address,
                    l.port,
                    seen_text(&l.seen),
                    obs.interval_secs
                ),
                ("SAMPLE_INTERVAL_SECONDS", Some(obs.interval_secs.to_string())),
            )
        })
        .collect();
    Judgement { hits, examined: format!("{} TCP listener(s) examined", tcp.len()), could_not_evaluate: false }
}

fn server_protocols(obs: &RuntimeObservations) -> Judgement {
    let hits = obs
        .listeners
        .iter()
        .filter_map(|l| {
            let (_, _, protocol) = SERVER_PORTS.iter().find(|(t, p, _)| *t == l.transport && *p == l.port)?;
            Some(listener_hit(
                l,
                format!("{} served {protocol} on {}:{} ({})", owner_text(l), l.address, l.port, seen_text(&l.seen)),
                ("PROTOCOL", Some(protocol.to_string())),
            ))
        })
        .collect();
    Judgement { hits, examined: format!("{} listener(s) examined", obs.listeners.len()), could_not_evaluate: false }
}

/// Whether an executable is third-party: not listed by an installed package
/// of the host's package database; without a database that lists files,
/// outside [`DISTRO_PATHS`].
pub fn is_third_party(e: &ExecutableRecord) -> bool {
    match &e.owner {
        PackageOwner::Package { .. } => false,
        PackageOwner::NotOwned { .. } => true,
        PackageOwner::Unknown { .. } => !DISTRO_PATHS.iter().any(|dir| e.path.starts_with(dir)),
    }
}

fn owner_description(e: &ExecutableRecord) -> String {
    match &e.owner {
        PackageOwner::Package { name, .. } => format!("package {name}"),
        PackageOwner::NotOwned { database } => format!("not listed by any package of {database}"),
        PackageOwner::Unknown { reason } => format!("outside the distribution's directories ({reason})"),
    }
}

fn executable_hit(e: &ExecutableRecord, finding: String, key: &str, value: String) -> Hit {
    Hit {
        evidence: vec![Evidence {
            message: format!(
                "{} (pid {}, euid {}), {}: {finding}; {}",
                e.path,
                e.pid,
                e.euid,
                owner_description(e),
                seen_text(&e.seen)
            ),
            path: Some(e.path.strip_suffix(" (deleted)").unwrap_or(&e.path).to_string()),
            line: None,
            text: Some(format!("sha256 {}", e.sha256)),
            is_default: false,
        }],
        attributes: attributes(&[
            ("EXE", Some(e.path.clone())),
            ("SHA256", Some(e.sha256.clone())),
            ("PID", Some(e.pid.to_string())),
            ("FIRST_SEEN", Some(when(e.seen.first_seen))),
            ("LAST_SEEN", Some(when(e.seen.last_seen))),
            (key, Some(value)),
        ]),
    }
}

fn executables_rule(
    obs: &RuntimeObservations,
    fails: fn(&ExecutableRecord) -> Option<(String, String)>,
    key: &str,
) -> Judgement {
    let third_party: Vec<&ExecutableRecord> = obs.executables.iter().filter(|e| is_third_party(e)).collect();
    let unreadable = obs.executables.iter().filter(|e| e.elf.is_none()).count();
    let hits = third_party
        .iter()
        .filter_map(|e| fails(e).map(|(finding, value)| executable_hit(e, finding, key, value)))
        .collect();
    Judgement {
        hits,
        examined: format!(
            "{} executable(s) seen, {} third-party; {unreadable} not readable as ELF",
            obs.executables.len(),
            third_party.len()
        ),
        could_not_evaluate: obs.executables.is_empty(),
    }
}

fn without_dep(e: &ExecutableRecord) -> Option<(String, String)> {
    let elf = e.elf.as_ref()?;
    match elf.stack {
        StackExec::Executable => Some(("PT_GNU_STACK has the execute flag".into(), "executable".into())),
        StackExec::Unmarked if elf.class == 32 => Some((
            "32-bit program without PT_GNU_STACK: the kernel maps its stack executable".into(),
            "unmarked".into(),
        )),
        _ => None,
    }
}

fn without_cookies(e: &ExecutableRecord) -> Option<(String, String)> {
    let elf = e.elf.as_ref()?;
    (elf.stack_protector == StackProtector::Absent)
        .then(|| ("dynamically linked, no __stack_chk_fail in its dynamic symbols".into(), "absent".into()))
}

/// Why a non-root user can change the file at `path`, if one can, given
/// the modes of the file and its directories (`chain`, in [`ancestors`] order).
pub fn writable_by_non_root(path: &str, chain: &[FileMode]) -> Option<String> {
    const S_IFMT: u32 = 0o170_000;
    const S_IFLNK: u32 = 0o120_000;
    const STICKY: u32 = 0o1000;
    for (i, (m, p)) in chain.iter().zip(ancestors(path)).enumerate() {
        let what = if i == 0 { "the file" } else { "directory" };
        if m.uid != 0 {
            return Some(format!("{what} {p} is owned by uid {}", m.uid));
        }
        if m.mode & S_IFMT == S_IFLNK {
            continue;
        }
        let protected_dir = i > 0 && m.mode & STICKY != 0;
        if m.mode & 0o002 != 0 && !protected_dir {
            return Some(format!("{what} {p} is world-writable (mode {:04o})", m.mode & 0o7777));
        }
        if m.mode & 0o020 != 0 && m.gid != 0 && !protected_dir {
            return Some(format!("{what} {p} is writable by group {} (mode {:04o})", m.gid, m.mode & 0o7777));
        }
    }
    None
}

fn root_writable_objects(obs: &RuntimeObservations) -> Judgement {
    let unexamined = obs.shared_objects.iter().filter(|s| s.chain.is_empty()).count();
    let hits = obs
        .shared_objects
        .iter()
        .filter_map(|s: &SharedObjectRecord| {
            let why = writable_by_non_root(&s.path, &s.chain)?;
            Some(Hit {
                evidence: vec![Evidence {
                    message: format!(
                        "root process {} (pid {}) mapped {}: {why}; {}",
                        s.loaded_by,
                        s.pid,
                        s.path,
                        seen_text(&s.seen)
                    ),
                    path: Some(s.path.clone()),
                    line: None,
                    text: s.chain.first().map(|m| format!("mode {:04o} uid {} gid {}", m.mode & 0o7777, m.uid, m.gid)),
                    is_default: false,
                }],
                attributes: attributes(&[
                    ("EXE", Some(s.loaded_by.clone())),
                    ("PID", Some(s.pid.to_string())),
                    ("SHARED_OBJECT", Some(s.path.clone())),
                    ("WRITABLE_BECAUSE", Some(why)),
                    ("FIRST_SEEN", Some(when(s.seen.first_seen))),
                    ("LAST_SEEN", Some(when(s.seen.last_seen))),
                ]),
            })
        })
        .collect();
    Judgement {
        hits,
        examined: format!(
            "{} shared object mapping(s) of root processes examined, {unexamined} could not be stat'ed",
            obs.shared_objects.len()
        ),
        could_not_evaluate: obs.processes.iter().all(|p| p.euid != 0),
    }
}

/// The package's outcomes and findings for one host's observations.
/// Returns `partial` too: true when sampling met problems or lost deltas.
pub fn evaluate(obs: &RuntimeObservations, asset: &str) -> (Vec<RuleOutcome>, Vec<Finding>, bool) {
    let mut outcomes = Vec::new();
    let mut findings = Vec::new();
    let sampled = format!(
        "{} samples every {} s{}",
        obs.samples,
        obs.interval_secs,
        match (obs.first_sample, obs.last_sample) {
            (Some(f), Some(l)) => format!(" from {} to {}", when(f), when(l)),
            _ => String::new(),
        }
    );
    for (meta, check) in &CHECKS {
        let outcome = |outcome, reason: String| RuleOutcome {
            rule_id: meta.id.to_string(),
            package: PACKAGE_NAME.to_string(),
            title: meta.title.to_string(),
            severity: meta.severity,
            outcome,
            reason,
            evidence: Vec::new(),
        };
        if obs.is_empty() {
            outcomes.push(outcome(Outcome::CouldNotEvaluate, "no runtime sample was taken".to_string()));
            continue;
        }
        let judgement = check(obs);
        if judgement.hits.is_empty() && judgement.could_not_evaluate {
            outcomes.push(outcome(
                Outcome::CouldNotEvaluate,
                format!("nothing to examine: {} ({sampled})", judgement.examined),
            ));
            continue;
        }
        let verdict = if judgement.hits.is_empty() { Outcome::Pass } else { Outcome::Fail };
        let reason = format!("{} finding(s); {} ({sampled})", judgement.hits.len(), judgement.examined);
        outcomes.push(outcome(verdict, reason));
        for hit in judgement.hits {
            findings.push(Finding {
                rule_id: meta.id.to_string(),
                package: PACKAGE_NAME.to_string(),
                title: meta.title.to_string(),
                severity: meta.severity,
                numeric_severity: meta.severity.numeric(),
                asset: asset.to_string(),
                description: meta.description.to_string(),
                recommendation: meta.recommendation.to_string(),
                evidence: hit.evidence,
                attributes: hit.attributes,
            });
        }
    }
    let partial = obs.is_empty() || obs.gaps > 0 || obs.dropped > 0 || !obs.problems.is_empty();
    (outcomes, findings, partial)
}

/// The package's rules as Markdown (`docs/rules/runtime-behavior.md`, test-checked).
pub fn markdown() -> String {
    crate::rules_markdown(PACKAGE_NAME, PACKAGE_ID, &rules(), "`WARDEN_BLESS=1 cargo test -p warden-rules runtime`")
}
