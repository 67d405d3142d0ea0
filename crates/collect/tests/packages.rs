//! Package inventories through the public collection entry point: a real
//! Debian 12 root (when `WARDEN_TEST_DEBIAN_ROOTFS` names one) checked
//! against dpkg-query, and small roots holding the rpm fixtures.

use std::path::Path;
use std::process::Command;

use warden_collect::{Options, RootFs, collect_from};
use warden_model::{Fact, PackageFormat};

#[test]
fn debian_rootfs_matches_dpkg_query() {
    let Ok(root) = std::env::var("WARDEN_TEST_DEBIAN_ROOTFS") else {
        eprintln!("WARDEN_TEST_DEBIAN_ROOTFS is not set (e.g. /work/main/target/rootfs/debian12); skipped");
        return;
    };
    let admindir = Path::new(&root).join("var/lib/dpkg");
    let query = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args(["-W", "-f", "${db:Status-Status} ${Package} ${Version} ${source:Package} ${source:Version}\n"])
        .output();
    let Ok(query) = query else {
        eprintln!("no dpkg-query on this machine; skipped");
        return;
    };
    assert!(query.status.success(), "{}", String::from_utf8_lossy(&query.stderr));
    let mut want: Vec<String> = String::from_utf8(query.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(state, _)| matches!(*state, "installed" | "triggers-pending" | "triggers-awaited"))
        .map(|(_, rest)| rest.to_string())
        .collect();
    want.sort();

    let fs = RootFs::open(Path::new(&root)).unwrap();
    let snapshot = collect_from(&fs, &Options::default());
    let Fact::Collected { value } = &snapshot.packages else { panic!("{:?}", snapshot.packages) };
    assert_eq!(value.len(), 1, "one dpkg database");
    let inv = &value[0];
    assert_eq!((inv.format, inv.database.as_str()), (PackageFormat::Dpkg, "/var/lib/dpkg/status"));
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let mut got: Vec<String> = inv
        .packages
        .iter()
        .map(|p| format!("{} {} {} {}", p.name, p.version, p.source_name, p.source_version))
        .collect();
    got.sort();
    assert_eq!(got, want);
    eprintln!("{root}: {} installed packages, as dpkg-query says", got.len());
    assert!(got.len() > 50);
}

fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (fixture, dest) in files {
        let src = format!("{}/tests/fixtures/packages/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let dest = dir.path().join(dest.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(src, dest).unwrap();
    }
    dir
}

#[test]
fn rpm_roots_through_collect() {
    // RHEL 9 layout (sqlite) and RHEL 8 / Amazon Linux 2 layout (Berkeley DB).
    for (fixture, db) in [("rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite"), ("rpm/Packages", "/var/lib/rpm/Packages")]
    {
        let dir = root_with(&[(fixture, db)]);
        let snapshot = collect_from(&RootFs::open(dir.path()).unwrap(), &Options::default());
        let Fact::Collected { value } = &snapshot.packages else { panic!("{:?}", snapshot.packages) };
        assert_eq!(value.len(), 1);
        assert_eq!(value[0].database, db);
        let names: Vec<&str> = value[0].packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["kernel-core", "tzdata", "openssl-libs", "openssl", "hello"], "gpg-pubkey skipped");
        assert!(value[0].packages.iter().all(|p| !p.running_kernel), "not a live root");
        assert!(snapshot.all_problems().is_empty());
    }
}

#[test]
fn unreadable_only_database_fails_the_fact() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
    std::fs::write(dir.path().join("var/lib/rpm/Packages"), vec![0u8; 8192]).unwrap();
    let snapshot = collect_from(&RootFs::open(dir.path()).unwrap(), &Options::default());
    let Fact::Failed { problem } = &snapshot.packages else { panic!("{:?}", snapshot.packages) };
    assert_eq!(problem.path, "/var/lib/rpm/Packages");
    assert!(problem.message.contains("not a Berkeley DB"), "{problem}");
}

#[test]
fn an_unreadable_database_beside_a_good_one_is_an_empty_inventory_with_its_problem() {
    let dir = root_with(&[("rpm/rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite")]);
    std::fs::create_dir_all(dir.path().join("lib/apk/db/installed")).unwrap(); // a directory, not a file
    let snapshot = collect_from(&RootFs::open(dir.path()).unwrap(), &Options::default());
    let Fact::Collected { value } = &snapshot.packages else { panic!("{:?}", snapshot.packages) };
    assert_eq!(value.len(), 2);
    assert_eq!((value[0].format, value[0].packages.len()), (PackageFormat::Apk, 0));
    assert_eq!(value[0].problems.len(), 1);
    assert_eq!(value[1].packages.len(), 5);
    assert_eq!(snapshot.all_problems().len(), 1);
}
