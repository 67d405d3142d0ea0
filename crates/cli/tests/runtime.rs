//! Runtime Behavior Analysis end to end, with real processes: the test
//! builds small C programs with gcc, starts listeners on FTP/Telnet/HTTP
//! ports and clients that connect to them (on a loopback address of its
//! own, 127.88.X.Y, so it cannot clash with the host's services or reach
//! another machine), runs programs built with `-z execstack` and
//! `-fno-stack-protector`, and root processes that load a shared object from
//! a world-writable directory and from a root-only one. The real sampler
//! reads this host's /proc; the real rules judge. Every rule must fire on the
//! bad subject and stay quiet on its good counterpart.
//!
//! Needs root (to see every process's sockets and maps, and to bind ports
//! below 1024) and gcc; without them the tests say so and return.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use warden_collect::runtime::{Sampler, SamplerConfig};
use warden_model::Finding;
use warden_rules::runtime as rba;

/// A child process killed when the test ends, whatever happens.
struct Running {
    child: Child,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program args`, with `env`, and waits for its "ready" line.
fn start(program: &Path, args: &[&str], env: &[(&str, &Path)]) -> Running {
    let mut command = Command::new(program);
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("ready"), "{} {args:?} did not start: {line:?}", program.display());
    Running { child }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runtime").join(name)
}

fn gcc(out: &Path, flags: &[&str], source: &str) {
    let status = Command::new("gcc").args(["-O2", "-o"]).arg(out).args(flags).arg(fixture(source)).status().unwrap();
    assert!(status.success(), "gcc {flags:?} {source} failed");
}

/// Root and gcc, or a message saying why the test cannot run.
fn can_run() -> bool {
    if !common::is_root() {
        eprintln!("skipped: runtime tests need root");
        return false;
    }
    if Command::new("gcc").arg("--version").stdout(Stdio::null()).status().is_err() {
        eprintln!("skipped: runtime tests need gcc");
        return false;
    }
    true
}

/// This test's own loopback address (127.0.0.0/8 is all local on Linux).
fn loopback(salt: u32) -> String {
    let pid = std::process::id();
    format!("127.{}.{}.{}", 80 + salt, (pid >> 8) & 0xff, (pid & 0xff).max(1))
}

struct Programs {
    _dir: tempfile::TempDir,
    hardened: PathBuf,
    execstack: PathBuf,
    no_ssp: PathBuf,
    writable_plugin: PathBuf,
    safe_plugin: PathBuf,
}

fn build() -> Programs {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hardened = d.join("netprobe");
    let execstack = d.join("netprobe-execstack");
    let no_ssp = d.join("netprobe-nossp");
    gcc(&hardened, &["-fstack-protector-all", "-z", "noexecstack"], "netprobe.c");
    gcc(&execstack, &["-fstack-protector-all", "-z", "execstack"], "netprobe.c");
    gcc(&no_ssp, &["-fno-stack-protector", "-z", "noexecstack"], "netprobe.c");
    let writable = d.join("world-writable");
    let safe = d.join("root-only");
    for (sub, mode) in [(&writable, 0o777), (&safe, 0o755)] {
        fs::create_dir(sub).unwrap();
        gcc(&sub.join("libplugin.so"), &["-shared", "-fPIC"], "plugin.c");
        fs::set_permissions(sub, fs::Permissions::from_mode(mode)).unwrap();
    }
    Programs {
        hardened,
        execstack,
        no_ssp,
        writable_plugin: writable.join("libplugin.so"),
        safe_plugin: safe.join("libplugin.so"),
        _dir: dir,
    }
}

/// Findings of one rule, keyed by an attribute.
fn by(findings: &[Finding], rule: &str, attribute: &str) -> BTreeMap<String, Finding> {
    findings
        .iter()
        .filter(|f| f.rule_id == rule)
        .filter_map(|f| Some((f.attributes.get(attribute)?.clone(), f.clone())))
        .collect()
}

fn show(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn every_rule_fires_on_real_processes_and_stays_quiet_on_their_counterparts() {
    if !can_run() {
        return;
    }
    let p = build();
    let ip = loopback(8);
    let listen = |port: &str| start(&p.hardened, &["listen", &ip, port], &[]);
    let connect = |port: &str| start(&p.hardened, &["connect", &ip, port], &[]);
    let ftp = listen("21"); // nobody connects: unused, and an insecure server protocol
    let telnet = listen("23");
    let telnet_client = connect("23"); // outbound login protocol
    let http = listen("80");
    let http_client = connect("80"); // outbound plaintext protocol
    let ssh_like = listen("2222"); // the quiet counterparts: a used, non-plaintext port
    let ssh_client = connect("2222");
    let execstack = start(&p.execstack, &["sleep"], &[]);
    let no_ssp = start(&p.no_ssp, &["sleep"], &[]);
    let loads_writable = start(&p.hardened, &["sleep"], &[("LD_PRELOAD", &p.writable_plugin)]);
    let loads_safe = start(&p.hardened, &["sleep"], &[("LD_PRELOAD", &p.safe_plugin)]);

    let mut sampler = Sampler::new(SamplerConfig::default());
    let t0 = warden_collect::runtime::unix_now();
    sampler.sample(t0);
    sampler.sample(t0 + 1);
    let obs = sampler.observations();
    let (outcomes, findings, _) = rba::evaluate(obs, "this-host");
    assert_eq!(outcomes.len(), 7);
    let ours =
        |f: &&Finding| f.attributes.get("ADDRESS") == Some(&ip) || f.evidence.iter().any(|e| e.message.contains(&ip));
    let hardened = show(&p.hardened);

    // Insecure server protocols: 21, 23 and 80 on our address; 2222 is quiet.
    let servers = by(&findings.iter().filter(ours).cloned().collect::<Vec<_>>(), rba::SERVER_PROTOCOLS.id, "PORT");
    assert_eq!(servers.keys().map(String::as_str).collect::<Vec<_>>(), ["21", "23", "80"], "{servers:#?}");
    let f = &servers["21"];
    assert_eq!(
        (f.attributes["PID"].clone(), f.attributes["EXE"].clone(), f.attributes["PROTOCOL"].as_str()),
        (ftp.pid().to_string(), hardened.clone(), "FTP")
    );
    assert!(f.attributes.contains_key("FIRST_SEEN") && f.attributes.contains_key("LAST_SEEN"));

    // Unused ports: 21 had no connection; 23, 80 and 2222 had one.
    let unused = by(&findings.iter().filter(ours).cloned().collect::<Vec<_>>(), rba::UNUSED_PORTS.id, "PORT");
    assert_eq!(unused.keys().map(String::as_str).collect::<Vec<_>>(), ["21"], "{unused:#?}");

    // Client protocols: telnet (login, Medium) and http (general, Low) from our
    // client program to our address; the connection to 2222 is quiet.
    let to_us = |rule: &str| -> Vec<Finding> {
        findings
            .iter()
            .filter(|f| f.rule_id == rule && f.attributes.get("EXE") == Some(&hardened))
            .filter(|f| f.attributes["REMOTE_ADDRESS"].split(',').any(|a| a == ip))
            .cloned()
            .collect()
    };
    let login = to_us(rba::CLIENT_LOGIN.id);
    assert_eq!(login.len(), 1, "{login:#?}");
    assert_eq!((login[0].attributes["PORT"].as_str(), login[0].attributes["PROTOCOL"].as_str()), ("23", "Telnet"));
    assert_eq!(login[0].attributes["PID"], telnet_client.pid().to_string());
    let general = to_us(rba::CLIENT_GENERAL.id);
    assert_eq!(general.len(), 1, "{general:#?}");
    assert_eq!(
        (general[0].attributes["PORT"].as_str(), general[0].attributes["PID"].clone()),
        ("80", http_client.pid().to_string())
    );
    assert!(
        findings.iter().all(|f| f.attributes.get("PORT").map(String::as_str) != Some("2222")),
        "2222 is neither plaintext nor unused"
    );

    // DEP and stack cookies: the execstack and no-protector builds fire; the hardened build is quiet.
    let dep = by(&findings, rba::NO_DEP.id, "EXE");
    assert_eq!(dep[&show(&p.execstack)].attributes["PID"], execstack.pid().to_string());
    assert_eq!(dep[&show(&p.execstack)].attributes["STACK"], "executable");
    assert!(!dep.contains_key(&hardened) && !dep.contains_key(&show(&p.no_ssp)), "{:#?}", dep.keys());
    let cookies = by(&findings, rba::NO_STACK_COOKIES.id, "EXE");
    assert_eq!(cookies[&show(&p.no_ssp)].attributes["PID"], no_ssp.pid().to_string());
    assert!(!cookies.contains_key(&hardened) && !cookies.contains_key(&show(&p.execstack)), "{:#?}", cookies.keys());
    // A distribution program is not third-party: /usr/bin/... programs owned by dpkg never appear.
    let owned = obs
        .executables
        .iter()
        .filter(|e| matches!(e.owner, warden_model::runtime::PackageOwner::Package { .. }))
        .count();
    assert!(owned > 0 || !Path::new("/var/lib/dpkg/info").is_dir(), "some running program is a package's");

    // Root process with a shared object in a world-writable directory: High; the root-only directory is quiet.
    let objects = by(&findings, rba::ROOT_WRITABLE_OBJECT.id, "SHARED_OBJECT");
    let f = &objects[&show(&p.writable_plugin)];
    assert_eq!(
        (f.attributes["EXE"].clone(), f.attributes["PID"].clone()),
        (hardened.clone(), loads_writable.pid().to_string())
    );
    assert!(f.attributes["WRITABLE_BECAUSE"].contains("world-writable"), "{f:#?}");
    assert!(!objects.contains_key(&show(&p.safe_plugin)), "{:#?}", objects.keys());
    let safe_seen = obs.shared_objects.iter().any(|s| s.path == show(&p.safe_plugin));
    assert!(safe_seen, "the quiet counterpart was observed, not missed");
    drop((telnet, http, ssh_like, ssh_client, loads_safe));
}

#[test]
fn assess_with_a_duration_adds_the_runtime_package() {
    if !can_run() {
        return;
    }
    let p = build();
    let ip = loopback(9);
    let telnet = start(&p.hardened, &["listen", &ip, "23"], &[]);
    let out = common::warden()
        .args([
            "assess",
            "--duration",
            "2s",
            "--sample-interval",
            "1s",
            "--package",
            "runtime-behavior",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: warden_model::Assessment = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.packages, ["Runtime Behavior Analysis"]);
    assert_eq!(report.rules.len(), 7);
    let server = report
        .findings
        .iter()
        .find(|f| f.rule_id == rba::SERVER_PROTOCOLS.id && f.attributes.get("ADDRESS") == Some(&ip))
        .unwrap_or_else(|| panic!("no telnet server finding in {:#?}", report.findings));
    assert_eq!(
        (server.attributes["PORT"].as_str(), server.attributes["PID"].clone()),
        ("23", telnet.pid().to_string())
    );
    // Without --duration the runtime package cannot run.
    let out = common::warden().args(["assess", "--package", "runtime-behavior"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --duration"));
}
