//! Host fact collection: reads a root path into a [`Snapshot`].
//!
//! Why it exists: this is the one place where Warden touches the assessed
//! host. Everything here reads through [`RootFs`], so the same code assesses a
//! live host (`/`), a mounted disk, a container or an mmdebstrap tree; facts
//! that only a running kernel has (/proc) are read only when the root is the
//! machine's own `/`. Collection never stops at the first bad file: each fact
//! records its own failure (with path and line) and the others go on.
//!
//! One module per source of facts:
//! - [`os`]: `/etc/os-release`, host name.
//! - [`sshd`]: the effective sshd configuration (`Include`, `Match`, defaults).
//! - [`logindefs`]: the `/etc/login.defs` file.
//! - [`pam`]: the PAM password stack, `pwquality.conf`, `pwhistory.conf`.
//! - [`shadow`]: password aging from `/etc/shadow` (hashes dropped).
//! - [`perms`]: modes and owners of system directories.
//! - [`sysctl`]: persisted kernel parameters and boot command line.
//! - [`live`]: running-kernel facts: ASLR, NX, listening sockets.
//! - [`packages`]: installed-package inventories (dpkg, apk, rpm databases).
//! - [`cis`]: what the CIS benchmark probes read (modprobe.d, mounts, systemd
//!   links, live kernel parameters, the files the content names, a bounded
//!   file-system walk, audit, boot loader, firewall, AppArmor/SELinux).
//! - [`runtime`]: sampling what the host does during a run (listeners,
//!   connections, processes, root processes' shared objects, executables'
//!   ELF properties), as deltas for the Runtime Behavior Analysis package.
#![deny(missing_docs)]

pub mod cis;
pub mod ids;
pub mod live;
pub mod logindefs;
pub mod os;
pub mod packages;
pub mod pam;
pub mod perms;
pub mod rootfs;
pub mod runtime;
pub mod shadow;
pub mod sshd;
pub mod sysctl;
pub mod time;

use std::path::Path;

use warden_model::{Fact, Host, KernelFacts, Problem, SNAPSHOT_SCHEMA_VERSION, Snapshot};

pub use rootfs::RootFs;

/// Today's date (UTC), `YYYY-MM-DD`: the edge's clock, passed into pure code.
pub fn today() -> String {
    time::now_rfc3339()[..10].to_string()
}

/// Now, RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::now_rfc3339()
}

/// Options for [`collect`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Most entries examined directly in one system directory.
    pub max_entries_per_dir: u64,
    /// Files to stat into `system_config.files`. Collection does not know
    /// the rules: the CLI passes the paths the CIS content names
    /// (`warden_rules::cis::inputs()`).
    pub extra_files: Vec<String>,
    /// Files to stat and, when small regular files, read line by line into
    /// `system_config.files` (same origin). Files that hold secrets
    /// ([`cis::NEVER_READ`]) are only ever stat'ed.
    pub extra_text_files: Vec<String>,
    /// Kernel parameters (dotted keys) to read live from `/proc/sys` into
    /// `system_config.sysctl_live` (live roots only); same origin as `extra_files`.
    pub extra_sysctls: Vec<String>,
    /// Most entries the CIS file-system walk examines (world-writable and
    /// unowned paths); 0 skips the walk. The CLI sets
    /// [`cis::walk::DEFAULT_CAP`] when the CIS content needs it.
    pub fs_walk_cap: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_entries_per_dir: 100_000,
            extra_files: Vec::new(),
            extra_text_files: Vec::new(),
            extra_sysctls: Vec::new(),
            fs_walk_cap: 0,
        }
    }
}

/// Collects a snapshot of the root at `root`. Fails only when the root itself
/// cannot be opened; every other problem is recorded in the snapshot.
pub fn collect(root: &Path, options: &Options) -> Result<Snapshot, Problem> {
    let fs = RootFs::open(root)?;
    Ok(collect_from(&fs, options))
}

/// Collects a snapshot from an opened root.
pub fn collect_from(fs: &RootFs, options: &Options) -> Snapshot {
    let collected_at = time::now_rfc3339();
    let (ids, mut problems) = ids::IdMap::load(fs);
    let kernel = if fs.is_live() {
        live::kernel()
    } else {
        let reason = "live-only fact: the root is not the running system's /".to_string();
        KernelFacts {
            randomize_va_space: Fact::NotCollected { reason: reason.clone() },
            nx: Fact::NotCollected { reason },
        }
    };
    let listening = if fs.is_live() {
        live::listening(&ids)
    } else {
        Fact::NotCollected { reason: "live-only fact: the root is not the running system's /".to_string() }
    };
    let (accounts, p) = shadow::collect_with_problems(fs, &ids);
    problems.extend(p);
    let (system_paths, p) = perms::collect_with_problems(fs, &ids, options);
    problems.extend(p);
    let (sysctl, p) = sysctl::collect_with_problems(fs);
    problems.extend(p);
    let (boot_cmdline, p) = sysctl::boot_cmdline_with_problems(fs);
    problems.extend(p);
    let (system_config, p) = cis::collect_with_problems(fs, &ids, options);
    problems.extend(p);
    let snapshot = Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        warden_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at,
        root: fs.root().display().to_string(),
        live: fs.is_live(),
        host: Host { hostname: os::hostname(fs), os: os::os_release(fs), ec2_instance_id: os::ec2_instance_id(fs) },
        sshd: sshd::collect(fs),
        login_defs: logindefs::collect(fs),
        pam: pam::collect(fs),
        accounts,
        system_paths,
        sysctl,
        boot_cmdline,
        kernel,
        listening,
        packages: packages::collect(fs),
        system_config: Fact::collected(system_config),
        problems: Vec::new(),
    };
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Snapshot { problems, ..snapshot }
}
