//! `warden net collect` against moto (a real AWS EC2/ELB API emulator) on
//! loopback, compared with the real AWS CLI on the same world.
//!
//! The test starts moto on a free port, builds a world with boto3
//! (`tests/moto/world.py`), dumps every answer with the AWS CLI
//! (`tests/moto/cli_dump.py`: the reference folder), runs the real `warden`
//! binary with `--endpoint-url`, and checks that
//! (a) both folders load into equal models, (b) the exposure answers are
//! equal, (c) the same files exist with the same top-level keys, and every
//! member Warden writes is present with an equal value in the CLI's answer.
//! moto is not AWS (docs: tests/fixtures/aws/README.md): what is compared
//! is Warden against the AWS CLI on the same answers, not against AWS truth.
//! moto does not paginate; paging is tested against a test double in
//! `crates/awscollect/tests/paging.rs`.
#![cfg(feature = "aws")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{have_tool, warden, workspace};
use serde_json::Value;
use warden_netreach::load::load_dir;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// A moto server on a free loopback port, killed (by its own PID) on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start(log: &Path) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !moto.answers() {
            assert!(Instant::now() < deadline, "moto did not answer on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// `GET /moto-api/` answers 200.
    fn answers(&self) -> bool {
        let addr = self.url.trim_start_matches("http://");
        let Ok(mut s) = TcpStream::connect(addr) else { return false };
        use std::io::Write;
        let request = format!("GET /moto-api/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        if s.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Environment for every AWS client here: static credentials, no IMDS, no
/// shared config from the machine running the test, one attempt per call.
fn aws_env(cmd: &mut Command, home: &Path) {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_CONFIG_FILE", home.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("aws-credentials"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_DEFAULT_REGION");
}

fn python(script: &str, args: &[&str], home: &Path) {
    let mut cmd = Command::new("python3");
    cmd.arg(workspace().join("crates/cli/tests/moto").join(script)).args(args);
    aws_env(&mut cmd, home);
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{script} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Every file under `dir`, relative, `/`-separated.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00)` as (date and time, microseconds).
fn instant(s: &str) -> Option<(&str, u32)> {
    let b = s.as_bytes();
    if s.len() < 20 || b[4] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    let rest = s[19..].strip_suffix('Z').or_else(|| s[19..].strip_suffix("+00:00"))?;
    let micros = match rest.strip_prefix('.') {
        None if rest.is_empty() => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|c| c.is_ascii_digit()) => {
            format!("{f:0<6}")[..6].parse().ok()?
        }
        _ => return None,
    };
    Some((&s[..19], micros))
}

/// Checks that every member of `ours` is in `theirs` with an equal value
/// (lists element by element, timestamps as instants); collects the member
/// paths of `theirs` that `ours` leaves out.
fn projection(path: &str, ours: &Value, theirs: &Value, mismatches: &mut Vec<String>, omitted: &mut BTreeSet<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => projection(&format!("{path}.{k}"), va, vb, mismatches, omitted),
                    None => mismatches.push(format!("{path}.{k}: written by warden, absent from the CLI's answer")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                omitted.insert(format!("{path}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                mismatches.push(format!("{path}: {} elements, the CLI has {}", a.len(), b.len()));
            }
            for (va, vb) in a.iter().zip(b) {
                projection(&format!("{path}[]"), va, vb, mismatches, omitted);
            }
        }
        (Value::String(a), Value::String(b)) if a != b => match (instant(a), instant(b)) {
            (Some(x), Some(y)) if x == y => {}
            _ => mismatches.push(format!("{path}: {a:?} vs the CLI's {b:?}")),
        },
        (a, b) if a != b => mismatches.push(format!("{path}: {a} vs the CLI's {b}")),
        _ => {}
    }
}

/// `warden net collect` of moto's world into `out`.
fn collect_cmd(moto: &Moto, out: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("warden"));
    cmd.args(["net", "collect", "--region", REGION, "--endpoint-url", &moto.url, "-o"]).arg(out);
    aws_env(&mut cmd, home);
    cmd
}

fn collect(moto: &Moto, out: &Path, home: &Path) -> std::process::Output {
    collect_cmd(moto, out, home).output().unwrap()
}

/// The AWS CLI's folder of moto's world, under `<dir>/<account>/<region>`.
fn cli_dump(moto: &Moto, dir: &Path, home: &Path) {
    let region = dir.join(ACCOUNT).join(REGION);
    python("cli_dump.py", &["--endpoint", &moto.url, "--region", REGION, "--out", region.to_str().unwrap()], home);
}

/// moto, in a temporary home, when moto, Python and the AWS CLI are installed.
fn moto_or_skip() -> Option<(tempfile::TempDir, Moto)> {
    if !have_tool("moto_server") || !have_tool("python3") || !have_tool("aws") {
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    let moto = Moto::start(&tmp.path().join("moto.log"));
    Some((tmp, moto))
}

#[test]
fn collect_matches_the_aws_cli_on_moto() {
    let Some((tmp, moto)) = moto_or_skip() else { return };
    let home = tmp.path();
    python("world.py", &["--endpoint", &moto.url], home);
    let cli_dir = home.join("cli");
    cli_dump(&moto, &cli_dir, home);
    let sdk_dir = home.join("sdk");
    let out = collect(&moto, &sdk_dir, home);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "warden net collect:\n{stderr}");

    // The manifest: one region, the account from STS, every call succeeded.
    let manifest: warden_awscollect::Manifest =
        serde_json::from_value(read_json(&sdk_dir.join("warden-collect.json"))).unwrap();
    assert!(!manifest.partial);
    assert_eq!(manifest.endpoint_url.as_deref(), Some(moto.url.as_str()));
    let region = &manifest.regions[0];
    assert_eq!(
        (region.region.as_str(), region.account.as_deref(), region.account_from.as_str()),
        (REGION, Some(ACCOUNT), "sts")
    );
    assert_eq!(region.folder, format!("{ACCOUNT}/{REGION}"));
    assert!(region.calls.iter().all(|c| c.error.is_none() && c.pages >= 1), "{:#?}", region.calls);

    // (c) The same files, recognised by the same top-level keys, and every
    // member Warden writes equal to the CLI's.
    let cli_files = files(&cli_dir);
    let mut sdk_files = files(&sdk_dir);
    assert!(sdk_files.remove("warden-collect.json"));
    assert_eq!(sdk_files, cli_files);
    assert_eq!(cli_files.len(), 36, "{cli_files:#?}");
    let written: BTreeSet<String> = region.calls.iter().filter_map(|c| c.file.clone()).collect();
    assert_eq!(written, cli_files, "the manifest names every file");
    let mut mismatches = Vec::new();
    let mut omitted = BTreeSet::new();
    let mut records = 0;
    for f in &cli_files {
        let (ours, theirs) = (read_json(&sdk_dir.join(f)), read_json(&cli_dir.join(f)));
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&ours), keys(&theirs), "{f}");
        let list = keys(&ours).remove(0);
        records += ours[&list].as_array().unwrap().len();
        // `describe-vpcs`, or the command folder of a per-resource answer.
        let name = f.split('/').nth(2).unwrap().trim_end_matches(".json");
        projection(name, &ours, &theirs, &mut mismatches, &mut omitted);
    }
    assert!(records > 100, "the world is not trivial ({records} records)");
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    let omitted_by_file: BTreeMap<&str, Vec<&str>> = omitted.iter().fold(BTreeMap::new(), |mut m, p| {
        let (file, member) = p.split_once('.').unwrap();
        m.entry(file).or_default().push(member);
        m
    });
    eprintln!("members the CLI prints and warden leaves out (moto's answers):\n{omitted_by_file:#?}");

    // (a) Equal models, with every kind of resource present.
    // The manifest of a complete run is skipped silently, and the per-table
    // TGW association and propagation answers are recognised.
    let cli = load_dir(&cli_dir).unwrap();
    let sdk = load_dir(&sdk_dir).unwrap();
    assert_eq!(sdk.summary, cli.summary);
    assert!(!sdk.summary.partial);
    let tgw_answers = written.iter().filter(|f| f.contains("/get-transit-gateway-route-table-")).count();
    assert!(tgw_answers >= 2, "the world has TGW association and propagation answers: {written:#?}");
    let unrecognised: Vec<_> = sdk.network.warnings.iter().filter(|w| w.message.contains("not a recognised")).collect();
    assert!(unrecognised.is_empty(), "{unrecognised:#?}");
    assert_eq!(sdk.network, cli.network);
    let n = &sdk.network;
    let counts = [
        n.vpcs.len(),
        n.subnets.len(),
        n.route_tables.len(),
        n.internet_gateways.len(),
        n.egress_only_gateways.len(),
        n.nat_gateways.len(),
        n.vpn_gateways.len(),
        n.peerings.len(),
        n.transit_gateways.len(),
        n.tgw_attachments.len(),
        n.tgw_route_tables.len(),
        n.network_acls.len(),
        n.security_groups.len(),
        n.prefix_lists.len(),
        n.interfaces.len(),
        n.instances.len(),
        n.load_balancers.len(),
        n.target_groups.len(),
    ];
    assert!(counts.iter().all(|c| *c > 0), "every resource type is exercised: {counts:?}");
    let web1_eni = n.interfaces.values().find(|i| i.private_ips.contains(&"10.0.1.10".parse().unwrap())).unwrap();
    assert_eq!(web1_eni.public_ips.len(), 1, "the Elastic IP replaced the launch-time public IP");
    assert!(n.prefix_lists.values().any(|p| p.cidrs.contains(&"198.51.100.0/24".parse().unwrap())));

    // (b) Equal exposure answers: the engine's records, and the command's output.
    let (ours, theirs) =
        (warden_netreach::engine::analyse(&sdk.network), warden_netreach::engine::analyse(&cli.network));
    assert!(!ours.is_empty());
    assert_eq!(ours, theirs);
    let exposure = |dir: &PathBuf| warden().args(["net", "exposure", "--json"]).arg(dir).output().unwrap();
    let (ours, theirs) = (exposure(&sdk_dir), exposure(&cli_dir));
    assert!(ours.status.success() && theirs.status.success());
    let records: Value = serde_json::from_slice(&ours.stdout).unwrap();
    assert!(records.as_array().is_some_and(|r| !r.is_empty()), "something is exposed in this world");
    assert_eq!(ours.stdout, theirs.stdout);

    // A second run into the same folder replaces it as a whole.
    std::fs::write(sdk_dir.join(ACCOUNT).join(REGION).join("stale.json"), "{}").unwrap();
    let again = collect(&moto, &sdk_dir, home);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(!sdk_dir.join(ACCOUNT).join(REGION).join("stale.json").exists());
}

/// A folder that is not an earlier collect output is never touched.
#[test]
fn refuses_a_foreign_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "keep").unwrap();
    let out = warden()
        .args(["net", "collect", "--region", REGION, "--endpoint-url", "http://127.0.0.1:9", "-o"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an earlier `warden net collect` output"));
    assert_eq!(std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(), "keep");
    let bad_region =
        warden().args(["net", "collect", "--region", "../etc", "-o"]).arg(tmp.path().join("new")).output().unwrap();
    assert_eq!(bad_region.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_region.stderr).contains("not a region name"));
    assert!(!tmp.path().join("new").exists());
}

/// Credentials never come from the instance metadata service: a profile
/// that names it as `credential_source` fails, and nothing connects to the
/// metadata endpoint (pointed at a loopback listener here) or anywhere else.
#[test]
fn never_asks_the_instance_metadata_service() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tmp.path().join("aws-config");
    std::fs::write(
        &config,
        "[profile on-ec2]\nrole_arn = arn:aws:iam::123456789012:role/audit\ncredential_source = Ec2InstanceMetadata\n",
    )
    .unwrap();
    let out_dir = tmp.path().join("out");
    let out = Command::new(assert_cmd::cargo::cargo_bin("warden"))
        .args(["net", "collect", "--region", REGION, "--profile", "on-ec2", "--endpoint-url"])
        .arg(format!("http://{addr}"))
        .arg("-o")
        .arg(&out_dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", tmp.path().join("none"))
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", format!("http://{addr}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "partial: every call failed\n{stderr}");
    let manifest: warden_awscollect::Manifest =
        serde_json::from_value(read_json(&out_dir.join("warden-collect.json"))).unwrap();
    let calls = &manifest.regions[0].calls;
    assert!(manifest.partial && calls.len() > 20);
    for c in calls {
        let e = c.error.as_ref().unwrap_or_else(|| panic!("{} succeeded without credentials", c.command));
        assert!(e.message.contains("credentials"), "{}: {}", c.command, e.message);
    }
    // Loading the folder of this run: partial, one warning naming the failed calls.
    let loaded = load_dir(&out_dir).unwrap();
    assert!(loaded.summary.partial);
    let [warning] = loaded.network.warnings.as_slice() else { panic!("{:#?}", loaded.network.warnings) };
    assert_eq!(warning.file.as_deref(), Some("warden-collect.json"));
    assert!(
        warning.message.contains(&format!("{} call(s) did not answer in full", calls.len())),
        "{}",
        warning.message
    );
    assert!(warning.message.contains(&format!("{REGION}: aws ec2 describe-vpcs failed")), "{}", warning.message);
    listener.set_nonblocking(true).unwrap();
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected to the metadata endpoint"
    );
}

/// Wall time and peak memory (the child's `ru_maxrss`) of a command.
fn measure(mut cmd: Command) -> (Duration, u64, std::process::ExitStatus) {
    let clock = Instant::now();
    #[expect(clippy::zombie_processes, reason = "reaped by wait4 below, which also returns its resource usage")]
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, by its PID; `status` and `usage` outlive the call.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let status = std::os::unix::process::ExitStatusExt::from_raw(status);
    (clock.elapsed(), usage.ru_maxrss as u64, status)
}

/// Collection time and peak memory against moto, for the small world and
/// worlds with 250 and 1,000 more instances (one interface each), beside
/// the AWS CLI's time for the same folder. Not a pass/fail test (no timed
/// assertions): it prints the figures. Run with
/// `cargo test --release -p warden --test net_collect bench_collect -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: builds worlds of 1,000+ instances in moto (about a minute)"]
fn bench_collect() {
    let Some((tmp, moto)) = moto_or_skip() else { return };
    let home = tmp.path();
    println!(
        "{:>9} {:>6} {:>8} {:>7} {:>12} {:>10} {:>10}",
        "instances", "ENIs", "records", "files", "warden s", "peak MiB", "aws-cli s"
    );
    for extra in [0, 250, 1000] {
        python("world.py", &["--endpoint", &moto.url, "--instances", &extra.to_string()], home);
        let out = home.join(format!("sdk-{extra}"));
        let (took, rss_kib, status) = measure(collect_cmd(&moto, &out, home));
        assert!(status.success());
        let cli_out = home.join(format!("cli-{extra}"));
        let clock = Instant::now();
        cli_dump(&moto, &cli_out, home);
        let cli_took = clock.elapsed();
        let loaded = load_dir(&out).unwrap();
        assert_eq!(loaded.network, load_dir(&cli_out).unwrap().network);
        let manifest: warden_awscollect::Manifest =
            serde_json::from_value(read_json(&out.join("warden-collect.json"))).unwrap();
        let records: usize = manifest.regions[0].calls.iter().filter(|c| c.service != "sts").map(|c| c.items).sum();
        println!(
            "{:>9} {:>6} {:>8} {:>7} {:>12.2} {:>10.1} {:>10.2}",
            loaded.network.instances.len(),
            loaded.network.interfaces.len(),
            records,
            files(&out).len(),
            took.as_secs_f64(),
            rss_kib as f64 / 1024.0,
            cli_took.as_secs_f64()
        );
    }
}
