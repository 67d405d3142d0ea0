//! `warden bench`: wall time and peak memory of collection and evaluation.
//!
//! Why it exists: performance is a feature, and figures in notes must come
//! from a command anyone can rerun. It prints the median, minimum and maximum
//! of each stage over several iterations, and the process's peak RSS.

use std::path::Path;
use std::time::{Duration, Instant};

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:8.3} ms  min {:8.3} ms  max {:8.3} ms",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    )
}

/// Peak resident set size of this process, in KiB (getrusage).
pub fn peak_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return -1;
    }
    // SAFETY: rc == 0, so the struct was initialised.
    unsafe { usage.assume_init() }.ru_maxrss
}

/// Runs the benchmark and prints the figures.
pub fn run(root: &Path, iterations: u32) -> Result<(), String> {
    let options = warden_collect::Options::default();
    let mut collect_times = Vec::new();
    let mut assess_times = Vec::new();
    let mut total_times = Vec::new();
    let mut last = None;
    for _ in 0..iterations {
        let start = Instant::now();
        let snapshot = warden_collect::collect(root, &options).map_err(|p| p.to_string())?;
        let collected = Instant::now();
        let assessment = warden_rules::assess(&snapshot, warden_rules::packages(), None);
        let done = Instant::now();
        collect_times.push(collected - start);
        assess_times.push(done - collected);
        total_times.push(done - start);
        last = Some((snapshot, assessment));
    }
    let (snapshot, assessment) = last.ok_or("no iterations")?;
    let snapshot_bytes = serde_json::to_vec(&snapshot).map(|v| v.len()).unwrap_or(0);
    let entries: u64 = snapshot.system_paths.value().map(|v| v.iter().map(|d| d.entries_scanned).sum()).unwrap_or(0);
    println!("warden bench: root {} ({} iterations)", root.display(), iterations);
    println!("  collect   {}", stats(collect_times));
    println!("  evaluate  {}", stats(assess_times));
    println!("  total     {}", stats(total_times));
    println!("  snapshot  {snapshot_bytes} bytes of JSON, {entries} system-directory entries scanned");
    println!("  findings  {}  ({})", assessment.findings.len(), warden_report::summary_line(&assessment));
    println!("  peak RSS  {} KiB", peak_rss_kib());
    Ok(())
}

/// Growth: collection time on synthetic roots of growing size, one
/// dimension at a time (entries in a system directory, sshd drop-ins,
/// accounts in /etc/shadow), so a super-linear path shows up as a ratio.
pub fn run_scale() -> Result<(), String> {
    let base = std::env::temp_dir().join(format!("warden-bench-{}", std::process::id()));
    let result = scale_in(&base);
    let _ = std::fs::remove_dir_all(&base);
    result
}

fn scale_in(base: &Path) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    println!("warden bench --scale: median of 5 collections per size");
    let dims: [(&str, [usize; 3]); 3] = [
        ("entries in /usr/bin", [1_000, 10_000, 100_000]),
        ("sshd_config.d drop-ins", [10, 100, 1_000]),
        ("accounts in /etc/shadow", [100, 10_000, 100_000]),
    ];
    for (dim, sizes) in dims {
        let mut previous: Option<f64> = None;
        for n in sizes {
            let root = base.join(format!("{}-{n}", dim.split_whitespace().next().unwrap_or("x")));
            for d in ["etc/ssh/sshd_config.d", "usr/bin", "usr/sbin"] {
                std::fs::create_dir_all(root.join(d)).map_err(io)?;
            }
            std::fs::write(root.join("usr/sbin/sshd"), b"OpenSSH_9.2p1\0").map_err(io)?;
            std::fs::write(root.join("etc/ssh/sshd_config"), "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n")
                .map_err(io)?;
            match dim {
                "entries in /usr/bin" => {
                    for i in 0..n {
                        std::fs::write(root.join(format!("usr/bin/tool{i}")), b"").map_err(io)?;
                    }
                }
                "sshd_config.d drop-ins" => {
                    for i in 0..n {
                        let text = format!("# drop-in {i}\nMaxAuthTries {}\nAcceptEnv VAR{i}\n", 3 + i % 5);
                        std::fs::write(root.join(format!("etc/ssh/sshd_config.d/{i:05}.conf")), text).map_err(io)?;
                    }
                }
                _ => {
                    let mut passwd = String::new();
                    let mut shadow = String::new();
                    for i in 0..n {
                        passwd.push_str(&format!("user{i}:x:{}:100::/home/user{i}:/bin/sh\n", 1000 + i));
                        shadow.push_str(&format!("user{i}:$6$salt$hash{i}:19700:0:{}:7:::\n", 90 + i % 400));
                    }
                    std::fs::write(root.join("etc/passwd"), passwd).map_err(io)?;
                    std::fs::write(root.join("etc/shadow"), shadow).map_err(io)?;
                }
            }
            let mut samples = Vec::new();
            for _ in 0..5 {
                let start = Instant::now();
                let snapshot =
                    warden_collect::collect(&root, &warden_collect::Options::default()).map_err(|p| p.to_string())?;
                let _ = warden_rules::assess(&snapshot, warden_rules::packages(), None);
                samples.push(start.elapsed());
            }
            samples.sort();
            let ms = samples[2].as_secs_f64() * 1000.0;
            let growth = previous.map(|p| format!("  x{:.1} for x10 input", ms / p)).unwrap_or_default();
            println!("  {dim:<24} {n:>7}: {ms:9.3} ms{growth}");
            previous = Some(ms);
        }
    }
    println!("  peak RSS {} KiB", peak_rss_kib());
    Ok(())
}

/// The CVE path: import a feed into a fresh database (time, size), then
/// match this host's inventory warm, and synthetic inventories of 10x and
/// 100x that size whose packages all have advisories (the worst case).
pub fn run_cve(feed: &Path, root: &Path, iterations: u32) -> Result<(), String> {
    use warden_model::{InstalledPackage, OsFamily, OsRelease, PackageFormat, PackageInventory, Source};
    use warden_vulndb::matcher::{self, MatchOptions};
    use warden_vulndb::store::{ImportBatch, Store};

    let dir = std::env::temp_dir().join(format!("warden-bench-cve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("vulndb.sqlite");
    let result = (|| -> Result<(), String> {
        let start = Instant::now();
        let output = warden_vulndb::feeds::read_path(feed).map_err(|e| e.to_string())?;
        let parsed = start.elapsed();
        let n = output.advisories.len();
        let batch = ImportBatch {
            name: "bench".into(),
            location: feed.display().to_string(),
            format: "bench".into(),
            data_date: None,
            advisories: output.advisories,
            vulns: output.vulns,
            support: output.support,
        };
        let start = Instant::now();
        Store::import(&db, &[batch], "bench").map_err(|e| e.to_string())?;
        let stored = start.elapsed();
        let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        println!("warden bench --cve-feed {}", feed.display());
        println!(
            "  import    parse {:.3} s + store {:.3} s for {n} advisories; database {:.1} MB",
            parsed.as_secs_f64(),
            stored.as_secs_f64(),
            size as f64 / 1_048_576.0
        );
        let store = Store::open(&db).map_err(|e| e.to_string())?;
        let releases = store.release_counts().map_err(|e| e.to_string())?;
        let Some((distro, release, _)) = releases.first().cloned() else {
            return Err("the feed holds no advisories".into());
        };
        let os = OsRelease {
            path: "/etc/os-release".into(),
            id: distro.clone(),
            id_like: vec![],
            version_id: Some(release.clone()),
            version_codename: None,
            pretty_name: None,
            family: OsFamily::Other,
        };
        let options = MatchOptions { ignore_unfixed: false, today: "2026-01-01".into() };
        let snapshot = warden_collect::collect(root, &warden_collect::Options::default()).map_err(|p| p.to_string())?;
        let host: Vec<PackageInventory> = snapshot.packages.value().cloned().unwrap_or_default();
        let host_packages: usize = host.iter().map(|i| i.packages.len()).sum();
        let time = |inventories: &[PackageInventory]| -> Result<(Duration, usize), String> {
            let mut samples = Vec::new();
            let mut found = 0;
            for _ in 0..iterations {
                let start = Instant::now();
                let scan = matcher::scan(&store, &os, inventories, options.clone()).map_err(|e| e.to_string())?;
                samples.push(start.elapsed());
                found = scan.inventories.iter().map(|i| i.matches.len()).sum();
            }
            samples.sort();
            Ok((samples[samples.len() / 2], found))
        };
        let (t, found) = time(&host)?;
        println!(
            "  match     this host: {host_packages} packages in {:.3} ms (median of {iterations}, warm), {found} matches against {distro} {release}",
            t.as_secs_f64() * 1000.0
        );
        let names = store.package_names(&distro, &release).map_err(|e| e.to_string())?;
        for factor in [1usize, 10, 100] {
            let count = host_packages.max(700) * factor;
            let packages: Vec<InstalledPackage> = (0..count)
                .map(|i| {
                    let (name, _) = &names[i % names.len()];
                    InstalledPackage {
                        name: format!("{name}-bin{i}"),
                        version: "0.1-1".into(),
                        arch: None,
                        source_name: name.clone(),
                        source_version: "0.1-1".into(),
                        running_kernel: false,
                        source: Source::file("/var/lib/dpkg/status", i as u32 + 1),
                    }
                })
                .collect();
            let inv = [PackageInventory {
                format: PackageFormat::Dpkg,
                database: "/var/lib/dpkg/status".into(),
                packages,
                problems: vec![],
            }];
            let (t, found) = time(&inv)?;
            println!(
                "  match     synthetic x{factor:<3} {count:>7} packages, all with advisories: {:9.3} ms, {found} matches",
                t.as_secs_f64() * 1000.0
            );
        }
        println!("  peak RSS  {} KiB", peak_rss_kib());
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The CIS path. Synthetic Debian 12 roots with 1k, 10k and 100k files in
/// 100-file directories (every 500th world-writable, every 700th owned by an
/// unknown uid when run as root) show how collection plus evaluation grows
/// with the walk; then `root` is measured: collection with the CIS inputs,
/// collection without the walk (what the walk costs is the difference),
/// evaluation, the walk's facts, and the walk of each top-level directory
/// on its own (what dominates).
pub fn run_cis(root: &Path, iterations: u32) -> Result<(), String> {
    let base = std::env::temp_dir().join(format!("warden-bench-cis-{}", std::process::id()));
    let result = cis_synthetic(&base, iterations.min(5)).and_then(|()| cis_root(root, iterations));
    let _ = std::fs::remove_dir_all(&base);
    println!("  peak RSS  {} KiB", peak_rss_kib());
    result
}

fn cis_options() -> warden_rules::cis::CisOptions {
    warden_rules::cis::CisOptions { profile: warden_rules::cis::schema::Profile::Level2Server, tailoring: None }
}

/// Collects with `options` and evaluates the CIS package once: (collect, evaluate, snapshot).
fn cis_once(
    root: &Path,
    options: &warden_collect::Options,
) -> Result<(Duration, Duration, warden_model::Snapshot), String> {
    let start = Instant::now();
    let snapshot = warden_collect::collect(root, options).map_err(|p| p.to_string())?;
    let collected = Instant::now();
    let _ = warden_rules::assess_with(&snapshot, &[], None, Some(&cis_options()));
    Ok((collected - start, collected.elapsed(), snapshot))
}

fn cis_synthetic(base: &Path, iterations: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| e.to_string();
    let as_root = effective_uid() == 0;
    println!("warden bench --cis: synthetic Debian 12 roots, CIS level2-server, median of {iterations}");
    let options = crate::collect_options(true);
    let mut previous: Option<f64> = None;
    for n in [1_000usize, 10_000, 100_000] {
        let root = base.join(format!("files-{n}"));
        std::fs::create_dir_all(root.join("etc")).map_err(io)?;
        std::fs::write(
            root.join("etc/os-release"),
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        )
        .map_err(io)?;
        std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n").map_err(io)?;
        std::fs::write(root.join("etc/group"), "root:x:0:\n").map_err(io)?;
        for i in 0..n {
            let dir = root.join(format!("srv/data/d{:04}", i / 100));
            if i % 100 == 0 {
                std::fs::create_dir_all(&dir).map_err(io)?;
            }
            let file = dir.join(format!("f{i:06}"));
            std::fs::write(&file, b"").map_err(io)?;
            if i % 500 == 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).map_err(io)?;
            }
            if as_root && i % 700 == 0 {
                std::os::unix::fs::lchown(&file, Some(4242), Some(4242)).map_err(io)?;
            }
        }
        let mut totals = Vec::new();
        let mut last = None;
        for _ in 0..iterations {
            let (c, e, snap) = cis_once(&root, &options)?;
            totals.push(c + e);
            last = Some(snap);
        }
        totals.sort();
        let ms = totals[totals.len() / 2].as_secs_f64() * 1000.0;
        let walk = last.as_ref().and_then(|s| s.system_config.value()).and_then(|c| c.fs_walk.value().cloned());
        let (examined, ww, unowned) =
            walk.map(|w| (w.examined, w.world_writable_files.count, w.unowned.count)).unwrap_or_default();
        let growth = previous.map(|p| format!("  x{:.1} for x10 files", ms / p)).unwrap_or_default();
        println!(
            "  {n:>7} files: {ms:9.3} ms collect+evaluate, {examined} entries walked ({:.2} µs each), {ww} world-writable, {unowned} unowned{growth}",
            ms * 1000.0 / examined.max(1) as f64
        );
        previous = Some(ms);
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(())
}

fn cis_root(root: &Path, iterations: u32) -> Result<(), String> {
    let with_walk = crate::collect_options(true);
    let without_walk = warden_collect::Options { fs_walk_cap: 0, ..with_walk.clone() };
    let (mut collect_times, mut eval_times, mut total_times, mut no_walk_times) = (vec![], vec![], vec![], vec![]);
    let mut last = None;
    for _ in 0..iterations {
        let (c, e, snap) = cis_once(root, &with_walk)?;
        collect_times.push(c);
        eval_times.push(e);
        total_times.push(c + e);
        last = Some(snap);
        let (c, _, _) = cis_once(root, &without_walk)?;
        no_walk_times.push(c);
    }
    println!("warden bench --cis: root {} ({iterations} iterations, CIS level2-server)", root.display());
    println!("  collect            {}", stats(collect_times));
    println!("  collect, no walk   {}", stats(no_walk_times));
    println!("  evaluate           {}", stats(eval_times));
    println!("  total              {}", stats(total_times));
    let snap = last.ok_or("no iterations")?;
    if let Some(w) = snap.system_config.value().and_then(|c| c.fs_walk.value()) {
        println!(
            "  walk: {} entries examined (cap {}), {}; not descended: {}; hits: {} world-writable files, {} world-writable dirs without sticky, {} unowned, {} ungrouped",
            w.examined,
            w.cap,
            w.partial.as_deref().unwrap_or("complete"),
            if w.skipped.is_empty() { "none".to_string() } else { w.skipped.join(", ") },
            w.world_writable_files.count,
            w.world_writable_dirs_without_sticky.count,
            w.unowned.count,
            w.ungrouped.count
        );
    }
    // What dominates: each top-level directory walked on its own (same cap, ids of the root).
    let fs = warden_collect::RootFs::open(root).map_err(|p| p.to_string())?;
    let (ids, _) = warden_collect::ids::IdMap::load(&fs);
    let mut tops: Vec<_> = std::fs::read_dir(root)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name())
        .collect();
    tops.sort();
    let mut rows = Vec::new();
    for top in tops {
        let name = top.to_string_lossy().into_owned();
        if warden_collect::cis::walk::ALWAYS_SKIPPED.contains(&format!("/{name}").as_str()) {
            continue;
        }
        let Ok(sub) = warden_collect::RootFs::open(&root.join(&top)) else { continue };
        let start = Instant::now();
        let w = warden_collect::cis::walk::walk(&sub, &ids, warden_collect::cis::walk::DEFAULT_CAP, None);
        rows.push((w.examined, start.elapsed(), name));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    println!("  walk per top-level directory (largest first, mounts inside not skipped):");
    for (examined, took, name) in rows.iter().take(8) {
        println!("    /{name:<12} {examined:>8} entries {:9.3} ms", took.as_secs_f64() * 1000.0);
    }
    Ok(())
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
