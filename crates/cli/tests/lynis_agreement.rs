//! Agreement with lynis (the Debian package, 3.0.x): where lynis checks the
//! same thing as a Security Best Practices rule, both tools run on the same
//! input and their verdicts are compared. Every disagreement is expected
//! explicitly, with the reason, so the test fails if it appears, disappears or
//! changes.
//!
//! How lynis decides (read from `/usr/share/lynis/include/`):
//! - SSH-7408 (`tests_ssh`) reads `sshd -T -C user=doesnotexist,host=none,addr=none`
//!   output, and only when SSH-7402 found a process named exactly `sshd`
//!   (`pgrep -x sshd`) and SSH-7406 got the version from `sshd -t -d`. The
//!   `sshd` is the first one on `PATH`; `--rootdir` does not apply. Of
//!   Warden's three sshd rules only `PermitRootLogin` is rated: good when it
//!   matches `FORCED-COMMANDS-ONLY|NO|PROHIBIT-PASSWORD|WITHOUT-PASSWORD`,
//!   weak for `YES`. It never rates `PasswordAuthentication`, and rates
//!   `Protocol` only for OpenSSH older than 7.4.
//! - AUTH-9286 (`tests_authentication`) reads `${ROOTDIR}etc/login.defs` only:
//!   `PASS_MAX_DAYS` unset or `99999` is "not configured", any other value is
//!   "configured". (It also rates `PASS_MIN_DAYS`, which no Warden rule has.)
//! - AUTH-9262 only looks for the library files `pam_cracklib.so`,
//!   `pam_passwdqc.so` or `pam_pwquality.so` in `${ROOTDIR}lib/security`,
//!   `${ROOTDIR}lib/x86_64-linux-gnu/security`, `${ROOTDIR}lib64/security`, ...
//!   (and the host's own `/usr/lib/security`, which ignores `--rootdir`); it
//!   never reads the PAM stack.
//! - KRNL-6000 (`tests_kernel_hardening`) compares the LIVE `sysctl -n KEY` with
//!   the profile (`kernel.randomize_va_space` expected `2`); it ignores
//!   `--rootdir` and persisted sysctl files. KRNL-5677 (`tests_kernel`) reports
//!   `cpu_nx=1` when `/proc/cpuinfo` has the `nx` flag.
//! - FILE-7524 (`tests_file_permissions`) checks the `permfile=`/`permdir=`
//!   entries of the profile (cron directories, `/etc/passwd`, ...), none of
//!   which is a directory of `sbp-system-dir-permissions`, and ignores
//!   `--rootdir`: there is nothing to compare.
//!
//! Roots: the live host (`/`) for KRNL-6000, KRNL-5677, AUTH-9262 and
//! AUTH-9286; the six fixture roots and the mmdebstrap Debian 12 root
//! (`WARDEN_TEST_DEBIAN_ROOTFS`) through `--rootdir` for AUTH-9262 and
//! AUTH-9286, and for SSH-7408 when the Debian root is there: its real
//! `sshd` runs in a chroot through a stand-in `sshd` first on lynis's `PATH`,
//! with the assessed root's `/etc/ssh` mounted over the Debian root's in a
//! private mount namespace (see `SshdStandIn`).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use warden_model::{Assessment, Outcome, RuleOutcome};

const ROOT_LOGIN: &str = "sbp-ssh-root-login";
const MAX_AGE: &str = "sbp-password-max-age";
const COMPLEXITY: &str = "sbp-password-complexity";
const ASLR: &str = "sbp-aslr";
const DEP: &str = "sbp-dep";

/// A lynis run limited to a few tests takes ~3 s alone, ~22 s when the eight
/// of this file share two cores; this only bounds a hung run.
const LYNIS_TIMEOUT: Duration = Duration::from_secs(120);

// The reasons the tools legitimately disagree.

/// lynis rates key-only root login as good; Warden, like Inspector's rule, passes only `no`.
const ROOT_LOGIN_BY_KEY: &str = "lynis SSH-7408 rates PermitRootLogin prohibit-password/without-password/forced-commands-only \
     as good (root can still log in, with a key); sbp-ssh-root-login passes only `no`";
/// lynis accepts any PASS_MAX_DAYS but 99999.
const MAX_AGE_ANY_VALUE: &str =
    "lynis AUTH-9286 counts any PASS_MAX_DAYS other than 99999 as configured; sbp-password-max-age requires 1..=365";
/// lynis reads login.defs only.
const MAX_AGE_ACCOUNTS: &str = "lynis AUTH-9286 reads only /etc/login.defs (the default for NEW accounts); \
     sbp-password-max-age also fails an existing account in /etc/shadow whose password does not expire within 365 days";
/// lynis checks that a library is installed, not that PAM uses it.
const COMPLEXITY_LIBRARY_ONLY: &str = "lynis AUTH-9262 only checks that a strength-checking PAM library is installed; \
     sbp-password-complexity checks that the password stack enforces it (not optional/sufficient) with all classes \
     required and remember >= 12";
/// Warden reads the PAM configuration, not the library directories.
const COMPLEXITY_CONFIG_ONLY: &str = "the root configures pam_pwquality in its password stack but carries no \
     pam_pwquality.so: sbp-password-complexity judges the PAM configuration only, lynis AUTH-9262 the library files only";
/// Warden also fails a host that weakens ASLR at the next boot.
const ASLR_PERSISTED: &str = "lynis KRNL-6000 reads the live value only; sbp-aslr also fails a persisted sysctl \
     setting that weakens ASLR at the next boot";
/// Warden also fails NX disabled by the kernel.
const DEP_DISABLED: &str = "lynis KRNL-5677 reads only the CPU's nx flag; sbp-dep also fails when the kernel has NX \
     disabled (noexec=off)";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Agree,
    Disagree(&'static str),
}
use Verdict::{Agree, Disagree};

/// One comparison: lynis's verdict in words, Warden's outcome, and whether they agree.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    rule: &'static str,
    lynis: String,
    warden: Outcome,
    verdict: Verdict,
}

fn row(rule: &'static str, lynis: &str, warden: Outcome, verdict: Verdict) -> Row {
    Row { rule, lynis: lynis.to_string(), warden, verdict }
}

// ---------------------------------------------------------------------------
// Running lynis

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false))
}

/// lynis, or None (after saying why) when the test cannot run here.
fn lynis_or_skip() -> Option<PathBuf> {
    if !is_root() {
        eprintln!("skipping: comparing with lynis needs root (lynis audits as root; fixture roots need owners)");
        return None;
    }
    let lynis = find_program("lynis");
    if lynis.is_none() {
        eprintln!("skipping: lynis is not installed (apt-get install lynis)");
    }
    lynis
}

/// The report and log of one lynis run.
struct LynisRun {
    what: String,
    report: String,
    log: String,
}

impl LynisRun {
    /// Log messages, without their timestamps.
    fn messages(&self) -> impl Iterator<Item = &str> {
        self.log.lines().map(|l| l.splitn(3, ' ').nth(2).unwrap_or(""))
    }

    fn has(&self, message: &str) -> bool {
        self.messages().any(|m| m == message)
    }

    fn assert_performed(&self, test: &str) {
        let prefix = format!("Performing test ID {test} ");
        assert!(
            self.messages().any(|m| m.starts_with(&prefix)),
            "{}: lynis did not perform {test}; log:\n{}",
            self.what,
            self.log
        );
    }

    fn report_has(&self, line: &str) -> bool {
        self.report.lines().any(|l| l == line)
    }

    fn suggests(&self, test: &str, text: &str) -> bool {
        self.report.lines().any(|l| l.starts_with(&format!("suggestion[]={test}|{text}|")))
    }
}

/// lynis finds its tools (and `sshd`) on PATH; the system directories only,
/// which also keeps its scan of every binary on PATH short.
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Runs `lynis audit system` for `tests` only, on `rootdir` (its
/// `--rootdir`) or the host, with report and log in a temporary directory.
/// `groups` are the include files holding the tests (`tests_GROUP`): lynis
/// otherwise reads all of them, which triples its run time.
fn run_lynis(
    lynis: &Path,
    what: &str,
    groups: &[&str],
    tests: &[&str],
    rootdir: Option<&Path>,
    sshd: Option<(&SshdStandIn, &Path)>,
) -> LynisRun {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report.dat");
    let log = tmp.path().join("lynis.log");
    let output = tmp.path().join("output.txt");
    let mut cmd = Command::new(lynis);
    cmd.args(["audit", "system", "--quick", "--no-colors", "--skip-plugins", "--tests-from-group"])
        .arg(groups.join(" "))
        .arg("--tests")
        .arg(tests.join(" "))
        .arg("--report-file")
        .arg(&report)
        .arg("--log-file")
        .arg(&log);
    if let Some(root) = rootdir {
        // lynis concatenates: `${ROOTDIR}etc/login.defs`.
        let mut dir = root.as_os_str().to_owned();
        dir.push("/");
        cmd.arg("--rootdir").arg(dir);
    }
    cmd.env("PATH", SYSTEM_PATH);
    if let Some((standin, ssh_etc)) = sshd {
        let mut path = standin.bin_dir().into_os_string();
        path.push(":");
        path.push(SYSTEM_PATH);
        cmd.env("PATH", path)
            .env("LYNIS_AGREEMENT_SSHD_ROOT", &standin.sshd_root)
            .env("LYNIS_AGREEMENT_SSH_ETC", ssh_etc);
    }
    cmd.current_dir(tmp.path())
        .stdin(Stdio::null())
        .stdout(fs::File::create(&output).unwrap())
        .stderr(fs::File::create(&output).unwrap())
        .process_group(0);
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LYNIS_TIMEOUT {
            // Its own process group: lynis and everything it started.
            let _ = Command::new("kill").arg("-KILL").arg("--").arg(format!("-{}", child.id())).status();
            let _ = child.wait();
            panic!("{what}: lynis still running after {LYNIS_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(100));
    };
    let out = fs::read_to_string(&output).unwrap_or_default();
    assert!(status.success(), "{what}: lynis failed ({status}):\n{out}");
    eprintln!("{what}: lynis {} took {:.1?}", tests.join(" "), started.elapsed());
    LynisRun {
        what: what.to_string(),
        report: fs::read_to_string(&report).unwrap_or_else(|e| panic!("{what}: no lynis report ({e}):\n{out}")),
        log: fs::read_to_string(&log).unwrap(),
    }
}

// ---------------------------------------------------------------------------
// An sshd lynis can query about another root

/// What lynis runs as `sshd`: the real sshd of `$LYNIS_AGREEMENT_SSHD_ROOT`
/// (the mmdebstrap Debian root), chrooted, in a private mount namespace where
/// `/run` is a fresh tmpfs holding the privilege separation directory that
/// `sshd -T` insists on, and `$LYNIS_AGREEMENT_SSH_ETC` is mounted over
/// `/etc/ssh`. Nothing is changed outside that namespace.
const SSHD_WRAPPER: &str = r#"#!/bin/sh
exec unshare --mount --propagation private -- /bin/sh -c '
set -e
root="$LYNIS_AGREEMENT_SSHD_ROOT"
mount -t tmpfs tmpfs "$root/run"
mkdir "$root/run/sshd"
mount --bind "$LYNIS_AGREEMENT_SSH_ETC" "$root/etc/ssh"
exec chroot "$root" /usr/sbin/sshd "$@"' sshd "$@"
"#;

/// The `sshd` stand-in on lynis's PATH, and a process named `sshd` (a copy of
/// `sleep`) so that lynis's SSH-7402 (`pgrep -x sshd`) finds a running
/// daemon and goes on to SSH-7406 and SSH-7408. Killed on drop.
struct SshdStandIn {
    dir: tempfile::TempDir,
    sshd_root: PathBuf,
    running: Child,
}

impl SshdStandIn {
    fn start(sshd_root: &Path) -> SshdStandIn {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["bin", "proc"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let wrapper = dir.path().join("bin/sshd");
        fs::write(&wrapper, SSHD_WRAPPER).unwrap();
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
        let idle = dir.path().join("proc/sshd");
        fs::copy(find_program("sleep").expect("sleep"), &idle).unwrap();
        let running = Command::new(&idle).arg("600").stdin(Stdio::null()).spawn().unwrap();
        SshdStandIn { dir, sshd_root: sshd_root.to_path_buf(), running }
    }

    fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// A copy of `root`'s `/etc/ssh` plus the Debian root's host keys (`sshd -T`
    /// exits without any), to be mounted over the Debian root's `/etc/ssh`.
    fn ssh_etc_for(&self, root: &Path, into: &Path) -> PathBuf {
        let target = into.join("etc-ssh");
        copy_tree(&root.join("etc/ssh"), &target);
        if root != self.sshd_root {
            for entry in fs::read_dir(self.sshd_root.join("etc/ssh")).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name();
                if name.to_string_lossy().starts_with("ssh_host_") {
                    let to = target.join(&name);
                    assert!(!to.exists(), "{} already has {:?}", root.display(), name);
                    fs::copy(entry.path(), to).unwrap(); // keeps the 0600 sshd requires
                }
            }
        }
        target
    }
}

impl Drop for SshdStandIn {
    fn drop(&mut self) {
        let _ = self.running.kill();
        let _ = self.running.wait();
    }
}

// ---------------------------------------------------------------------------
// lynis verdicts, and how they map to Warden's

fn reason(r: &RuleOutcome) -> String {
    format!("{:?}: {}; evidence: {:?}", r.outcome, r.reason, r.evidence)
}

/// SSH-7408 on PermitRootLogin, compared with sbp-ssh-root-login.
fn compare_root_login(run: &LynisRun, a: &Assessment) -> Row {
    run.assert_performed("SSH-7408");
    let value = run
        .messages()
        .find_map(|m| m.strip_prefix("Result: Option PermitRootLogin value is "))
        .unwrap_or_else(|| panic!("{}: lynis found no PermitRootLogin in sshd -T output; log:\n{}", run.what, run.log))
        .to_string();
    let rating = if run.has("Result: OpenSSH option PermitRootLogin is configured very well") {
        "good"
    } else if run.has("Result: OpenSSH option PermitRootLogin is in a weak configuration state and should be fixed") {
        "weak"
    } else if run.has("Result: OpenSSH option PermitRootLogin is configured reasonably") {
        "reasonable"
    } else {
        panic!("{}: no SSH-7408 rating of PermitRootLogin; log:\n{}", run.what, run.log)
    };
    // A suggestion in the report exactly when not good.
    let suggested =
        run.report.lines().any(|l| l.starts_with("suggestion[]=SSH-7408|") && l.contains("|PermitRootLogin ("));
    assert_eq!(suggested, rating != "good", "{}: report and log disagree on PermitRootLogin", run.what);
    let w = rule(a, ROOT_LOGIN);
    let verdict = match (rating, w.outcome) {
        ("good", Outcome::Pass) | ("weak" | "reasonable", Outcome::Fail) => Agree,
        ("good", Outcome::Fail) if value != "NO" => Disagree(ROOT_LOGIN_BY_KEY),
        _ => panic!("{}: unexplained: lynis {rating} {value}, Warden {}", run.what, reason(w)),
    };
    row(ROOT_LOGIN, &format!("{rating} {value}"), w.outcome, verdict)
}

/// AUTH-9286 on PASS_MAX_DAYS, compared with sbp-password-max-age.
fn compare_max_age(run: &LynisRun, a: &Assessment) -> Row {
    run.assert_performed("AUTH-9286");
    let days = run.messages().find_map(|m| m.strip_prefix("Result: max password age is ")?.strip_suffix(" days"));
    let unset = run.has("Result: password aging limits are not configured");
    assert!(days.is_some() != unset, "{}: AUTH-9286 gave no PASS_MAX_DAYS verdict; log:\n{}", run.what, run.log);
    assert_eq!(
        run.suggests("AUTH-9286", "Configure maximum password age in /etc/login.defs"),
        unset,
        "{}: report and log disagree on PASS_MAX_DAYS",
        run.what
    );
    let w = rule(a, MAX_AGE);
    let within = |d: &str| d.parse::<u32>().is_ok_and(|d| (1..=365).contains(&d));
    let cites_shadow = w.evidence.iter().any(|e| e.path.as_deref() == Some("/etc/shadow"));
    let verdict = match (days, w.outcome) {
        (None, Outcome::Fail) => Agree,
        (Some(d), Outcome::Pass) if within(d) => Agree,
        (Some(d), Outcome::Fail) if !within(d) => Disagree(MAX_AGE_ANY_VALUE),
        (Some(_), Outcome::Fail) if cites_shadow => Disagree(MAX_AGE_ACCOUNTS),
        _ => panic!("{}: unexplained: lynis PASS_MAX_DAYS {days:?}, Warden {}", run.what, reason(w)),
    };
    let lynis = days.map_or("not configured".to_string(), |d| format!("{d} days"));
    row(MAX_AGE, &lynis, w.outcome, verdict)
}

/// AUTH-9262 (strength-checking PAM library present), compared with sbp-password-complexity.
fn compare_complexity(run: &LynisRun, a: &Assessment) -> Row {
    run.assert_performed("AUTH-9262");
    let found = run.has("Result: found at least one PAM module for password strength testing");
    let none = run.has("Result: no PAM modules for password strength testing found");
    assert!(found != none, "{}: AUTH-9262 gave no verdict; log:\n{}", run.what, run.log);
    assert_eq!(
        run.suggests(
            "AUTH-9262",
            "Install a PAM module for password strength testing like pam_cracklib or pam_passwdqc"
        ),
        none
    );
    let modules: Vec<&str> = ["pam_cracklib", "pam_passwdqc", "pam_pwquality"]
        .into_iter()
        .filter(|m| run.report_has(&format!("{m}=1")))
        .collect();
    assert_eq!(found, !modules.is_empty(), "{}: report and log disagree on AUTH-9262", run.what);
    let w = rule(a, COMPLEXITY);
    let verdict = match (found, w.outcome) {
        (true, Outcome::Pass) | (false, Outcome::Fail) => Agree,
        (true, Outcome::Fail) => Disagree(COMPLEXITY_LIBRARY_ONLY),
        (false, Outcome::Pass) => Disagree(COMPLEXITY_CONFIG_ONLY),
        _ => panic!("{}: unexplained: lynis found {modules:?}, Warden {}", run.what, reason(w)),
    };
    let lynis = if found { format!("found {}", modules.join(",")) } else { "none".to_string() };
    row(COMPLEXITY, &lynis, w.outcome, verdict)
}

/// KRNL-6000 on kernel.randomize_va_space, compared with sbp-aslr.
fn compare_aslr(run: &LynisRun, a: &Assessment) -> Row {
    run.assert_performed("KRNL-6000");
    let key = "kernel.randomize_va_space";
    let equal = run.has(&format!("Result: sysctl key {key} contains equal expected and current value (2)"));
    let real = run.messages().find_map(|m| {
        m.strip_prefix(&format!(
            "Result: sysctl key {key} has a different value than expected in scan profile. Expected=2, Real="
        ))
    });
    assert!(equal != real.is_some(), "{}: KRNL-6000 did not rate {key}; log:\n{}", run.what, run.log);
    let w = rule(a, ASLR);
    let persisted = w.evidence.iter().any(|e| e.path.as_deref().is_some_and(|p| !p.starts_with("/proc/")));
    let verdict = match (equal, w.outcome) {
        (true, Outcome::Pass) | (false, Outcome::Fail) => Agree,
        (true, Outcome::Fail) if persisted => Disagree(ASLR_PERSISTED),
        _ => panic!("{}: unexplained: lynis {key} equal={equal} real={real:?}, Warden {}", run.what, reason(w)),
    };
    let lynis = if equal { "2 (as profile)".to_string() } else { format!("{} (profile: 2)", real.unwrap()) };
    row(ASLR, &lynis, w.outcome, verdict)
}

/// KRNL-5677 (CPU nx flag), compared with sbp-dep.
fn compare_dep(run: &LynisRun, a: &Assessment) -> Row {
    run.assert_performed("KRNL-5677");
    let nx = run.report_has("cpu_nx=1");
    assert_eq!(
        nx,
        run.has("NX: Yes") || run.has("Result: found No eXecute"),
        "{}: report and log disagree on NX",
        run.what
    );
    let w = rule(a, DEP);
    let cmdline = fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let verdict = match (nx, w.outcome) {
        (true, Outcome::Pass) | (false, Outcome::Fail) => Agree,
        (true, Outcome::Fail) if cmdline.split_whitespace().any(|t| t == "noexec=off") => Disagree(DEP_DISABLED),
        _ => panic!("{}: unexplained: lynis cpu_nx={nx}, Warden {}", run.what, reason(w)),
    };
    row(DEP, if nx { "cpu_nx=1" } else { "no nx" }, w.outcome, verdict)
}

fn print_rows(what: &str, rows: &[Row]) {
    for r in rows {
        eprintln!(
            "{what}: {:<24} lynis {:<24} Warden {:<8} {:?}",
            r.rule,
            r.lynis,
            format!("{:?}", r.warden),
            r.verdict
        );
    }
}

// ---------------------------------------------------------------------------
// The live host

/// Live-only facts (the running kernel) and the host's own password policy:
/// the host is whatever machine runs the test, so nothing is pinned, but
/// every disagreement must be one of the explained ones.
#[test]
fn live_host_agrees_with_lynis() {
    let Some(lynis) = lynis_or_skip() else { return };
    let x86 = cfg!(target_arch = "x86_64");
    let mut tests = vec!["AUTH-9262", "AUTH-9286", "KRNL-6000"];
    if x86 {
        tests.push("KRNL-5677"); // lynis runs it on x86_64 only
    }
    let (run, a) = thread::scope(|s| {
        let run = s
            .spawn(|| run_lynis(&lynis, "host", &["authentication", "kernel", "kernel_hardening"], &tests, None, None));
        let a = assess_root(Path::new("/"));
        (run.join().unwrap(), a)
    });
    let mut rows = vec![compare_max_age(&run, &a), compare_complexity(&run, &a), compare_aslr(&run, &a)];
    if x86 {
        rows.push(compare_dep(&run, &a));
    }
    print_rows("host", &rows);
    // A live host whose PAM stack names a module that is not installed cannot
    // change passwords at all; that is not a disagreement to accept here.
    assert_ne!(rows[1].verdict, Disagree(COMPLEXITY_CONFIG_ONLY), "host: {:?}", rows[1]);
}

// ---------------------------------------------------------------------------
// Root directories: the fixtures and the real Debian 12 root

struct RootCase {
    name: &'static str,
    /// Keeps the fixture copy alive.
    _dir: Option<tempfile::TempDir>,
    root: PathBuf,
}

/// A fixture root, with `edit` applied to the copy.
fn fixture_case(name: &'static str, edit: impl FnOnce(&Path)) -> RootCase {
    let dir = fixture_root(name).unwrap();
    let root = dir.path().join("root");
    edit(&root);
    RootCase { name, root, _dir: Some(dir) }
}

/// An empty stand-in for a PAM module's library (lynis only tests that the file exists).
fn install_pam_library(root: &Path, dir: &str, module: &str) {
    let dir = root.join(dir);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(module), b"").unwrap();
}

#[test]
fn root_directories_agree_with_lynis() {
    let Some(lynis) = lynis_or_skip() else { return };
    let rootfs =
        std::env::var_os("WARDEN_TEST_DEBIAN_ROOTFS").map(PathBuf::from).filter(|p| p.join("usr/sbin/sshd").is_file());
    if rootfs.is_none() {
        eprintln!(
            "WARDEN_TEST_DEBIAN_ROOTFS unset or without usr/sbin/sshd: no real sshd for lynis, so SSH-7408 and the \
             Debian root are not compared (scripts/make-debian-rootfs.sh builds it)"
        );
    }

    let mut cases = vec![
        // Debian 12 with libpam-pwquality installed, as its common-password
        // (pam_pwquality requisite) implies: the fixture holds configuration
        // only, so the library lynis looks for is added.
        fixture_case("debian-hardened", |r| {
            install_pam_library(r, "lib/x86_64-linux-gnu/security", "pam_pwquality.so")
        }),
        fixture_case("debian-weak", |_| {}),
        // Rocky 9 ships pam_pwquality.so in /usr/lib64/security (/lib64 -> usr/lib64).
        fixture_case("rhel-hardened", |r| {
            install_pam_library(r, "usr/lib64/security", "pam_pwquality.so");
            std::os::unix::fs::symlink("usr/lib64", r.join("lib64")).unwrap();
        }),
        // CentOS 7 with libpwquality installed but pam_pwquality only `optional` in password-auth.
        fixture_case("rhel-weak", |r| {
            install_pam_library(r, "usr/lib64/security", "pam_pwquality.so");
            std::os::unix::fs::symlink("usr/lib64", r.join("lib64")).unwrap();
        }),
        // As committed (PAM configured, no library), plus an account whose
        // password never expires although login.defs says 180 days.
        fixture_case("alpine-hardened", |r| {
            let path = r.join("etc/shadow");
            let shadow = fs::read_to_string(&path).unwrap();
            let edited = shadow.replace(":19700:1:180:14:::", ":19700:1:99999:14:::");
            assert_ne!(shadow, edited, "alpine-hardened's shadow changed: update this edit");
            fs::write(&path, edited).unwrap(); // keeps the file's 0640 root:shadow
        }),
        fixture_case("alpine-weak", |_| {}),
    ];
    if let Some(rootfs) = &rootfs {
        cases.push(RootCase { name: "debian12-rootfs", _dir: None, root: rootfs.clone() });
    }

    let standin = rootfs.as_deref().map(SshdStandIn::start);
    let mut groups = vec!["authentication"];
    let mut tests = vec!["AUTH-9262", "AUTH-9286"];
    if standin.is_some() {
        groups.push("ssh");
        tests.extend(["SSH-7402", "SSH-7406", "SSH-7408"]);
    }
    let started = Instant::now();
    let results: Vec<(LynisRun, Assessment)> = thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                let (lynis, groups, tests, standin) = (&lynis, &groups, &tests, standin.as_ref());
                s.spawn(move || {
                    let etc = tempfile::tempdir().unwrap();
                    let ssh = standin.map(|st| (st, st.ssh_etc_for(&case.root, etc.path())));
                    let run = run_lynis(
                        lynis,
                        case.name,
                        groups,
                        tests,
                        Some(&case.root),
                        ssh.as_ref().map(|(st, e)| (*st, e.as_path())),
                    );
                    (run, assess_root(&case.root))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    drop(standin);
    eprintln!("{} roots: {:.1?}", cases.len(), started.elapsed());

    use Outcome::{Fail, Pass};
    for (case, (run, a)) in cases.iter().zip(&results) {
        let mut rows = vec![compare_max_age(run, a), compare_complexity(run, a)];
        let mut want = match case.name {
            "debian-hardened" => {
                vec![row(MAX_AGE, "365 days", Pass, Agree), row(COMPLEXITY, "found pam_pwquality", Pass, Agree)]
            }
            "debian-weak" => vec![row(MAX_AGE, "not configured", Fail, Agree), row(COMPLEXITY, "none", Fail, Agree)],
            "rhel-hardened" => {
                vec![row(MAX_AGE, "90 days", Pass, Agree), row(COMPLEXITY, "found pam_pwquality", Pass, Agree)]
            }
            "rhel-weak" => vec![
                row(MAX_AGE, "not configured", Fail, Agree),
                // The library is installed but the stack only has it `optional`.
                row(COMPLEXITY, "found pam_pwquality", Fail, Disagree(COMPLEXITY_LIBRARY_ONLY)),
            ],
            "alpine-hardened" => vec![
                // login.defs says 180 days; the `ops` account never expires.
                row(MAX_AGE, "180 days", Fail, Disagree(MAX_AGE_ACCOUNTS)),
                // common-password enforces pam_pwquality, but /lib/security is absent
                // (and so is the host's /usr/lib/security, which lynis also searches).
                row(COMPLEXITY, "none", Pass, Disagree(COMPLEXITY_CONFIG_ONLY)),
            ],
            "alpine-weak" => vec![row(MAX_AGE, "not configured", Fail, Agree), row(COMPLEXITY, "none", Fail, Agree)],
            // mmdebstrap minbase + openssh-server: login.defs PASS_MAX_DAYS 99999, no libpam-pwquality.
            "debian12-rootfs" => {
                vec![row(MAX_AGE, "not configured", Fail, Agree), row(COMPLEXITY, "none", Fail, Agree)]
            }
            other => unreachable!("{other}"),
        };
        if rootfs.is_some() {
            rows.push(compare_root_login(run, a));
            want.push(match case.name {
                "debian-hardened" | "rhel-hardened" | "alpine-hardened" => row(ROOT_LOGIN, "good NO", Pass, Agree),
                "debian-weak" | "rhel-weak" => row(ROOT_LOGIN, "weak YES", Fail, Agree),
                // alpine-weak sets prohibit-password; the Debian root keeps
                // OpenSSH's default, which `sshd -T` prints as without-password.
                "alpine-weak" | "debian12-rootfs" => {
                    row(ROOT_LOGIN, "good WITHOUT-PASSWORD", Fail, Disagree(ROOT_LOGIN_BY_KEY))
                }
                other => unreachable!("{other}"),
            });
        }
        print_rows(case.name, &rows);
        assert_eq!(rows, want, "{}", case.name);
    }
}
