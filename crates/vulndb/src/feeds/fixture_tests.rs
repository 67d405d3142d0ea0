//! Parser tests on the small real excerpts (and the few hand-written files)
//! in `crates/vulndb/tests/fixtures/feeds/` (provenance in its README).

use std::cmp::Ordering;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::advisory::{FixStatus, PackageKind};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds").join(rel)
}

fn read(rel: &str) -> FeedOutput {
    read_path(&fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn fixed(v: &str) -> FixStatus {
    FixStatus::Fixed { version: v.to_string() }
}

fn find<'a>(out: &'a FeedOutput, vuln: &str, package: &str) -> Vec<&'a Advisory> {
    out.advisories.iter().filter(|a| a.vuln_id == vuln && a.package == package).collect()
}

/// A plain comparator for the tests (the real one is `crate::version::apk::compare`).
fn simple_cmp(a: &str, b: &str) -> Ordering {
    crate::version::apk::compare(a, b)
}

#[test]
fn debian_oval_excerpt() {
    let out = read("debian/oval-definitions-bookworm.xml");
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert!(out.advisories.iter().all(|a| a.distro == "debian"
        && a.release == "12"
        && a.package_kind == PackageKind::Source
        && a.feed == "debian-oval"
        && a.distro_severity.is_none()));
    let a = find(&out, "CVE-1999-0199", "glibc");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].status, fixed("2.2-1"));
    assert!(a[0].advisory_ids.is_empty());
    // "DPKG is earlier than 0": affected, no fix yet.
    assert_eq!(find(&out, "CVE-2010-4756", "glibc")[0].status, FixStatus::Unfixed);
    assert_eq!(find(&out, "CVE-2007-6755", "openssl")[0].status, FixStatus::Unfixed);
    // <dsa>DSA-5435</dsa> merged with the patch definition DSA-5435-1.
    let t = find(&out, "CVE-2022-47184", "trafficserver");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].status, fixed("9.2.0+ds-2+deb12u1"));
    assert_eq!(t[0].advisory_ids, vec!["DSA-5435-1"]);
    assert_eq!(find(&out, "CVE-2023-30631", "trafficserver")[0].advisory_ids, vec!["DSA-5435-1"]);
    // CVE-2023-33933 is named only by the DSA in this excerpt: its advisory
    // takes the DSA's own version (the real file has 9.2.0+ds-1~deb12u1 in
    // the DSA and 9.2.0+ds-2+deb12u1 in the CVE definitions; the CVE
    // definition's version wins where there is one).
    let only_dsa = find(&out, "CVE-2023-33933", "trafficserver");
    assert_eq!(only_dsa.len(), 1);
    assert_eq!(only_dsa[0].advisory_ids, vec!["DSA-5435-1"]);
    assert_eq!(only_dsa[0].status, fixed("9.2.0+ds-1~deb12u1"));
    // Descriptions become summaries.
    assert!(
        out.vulns
            .iter()
            .any(|v| v.id == "CVE-1999-0199"
                && v.summary.as_deref().is_some_and(|s| s.starts_with("manual/search.texi")))
    );
}

#[test]
fn debian_release_from_content_wins_over_name() {
    let data = std::fs::read(fixture("debian/oval-definitions-bookworm.xml")).unwrap();
    let out = debian_oval::parse(Cursor::new(&data), "oval-definitions-bullseye.xml").unwrap();
    assert!(out.advisories.iter().all(|a| a.release == "12"));
    assert!(out.problems.iter().any(|p| p.message.contains("file name says Debian 11")));
}

fn compress_to(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    if name.ends_with(".bz2") || name.ends_with(".bzip") {
        let mut e = bzip2::write::BzEncoder::new(f, bzip2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap();
    } else {
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap();
    }
    p
}

#[test]
fn compressed_inputs_by_magic_not_extension() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(fixture("debian/oval-definitions-bookworm.xml")).unwrap();
    let plain = read("debian/oval-definitions-bookworm.xml");
    let bz = compress_to(dir.path(), "oval-definitions-bookworm.xml.bz2", &data);
    assert_eq!(read_path(&bz).unwrap(), plain);
    let gz = compress_to(dir.path(), "oval-definitions-bookworm.xml.gz", &data);
    assert_eq!(read_path(&gz).unwrap(), plain);
    // gzip data under a misleading name: found by magic bytes.
    let odd = compress_to(dir.path(), "feed.bzip", &data);
    let renamed = dir.path().join("feed.dat");
    std::fs::rename(&odd, &renamed).unwrap();
    assert_eq!(read_path(&renamed).unwrap().advisories, plain.advisories);
    let mut s = String::new();
    open_decompressed(&bz).unwrap().read_to_string(&mut s).unwrap();
    assert_eq!(s.as_bytes(), &data[..]);
}

#[test]
fn osv_zip_with_many_members() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.zip");
    let mut zw = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for f in ["osv/debian/DSA-5514-1.json", "osv/rocky/RLSA-2023-5453.json", "osv/ubuntu/usn/USN-6859-1.json"] {
        zw.start_file(f.rsplit('/').next().unwrap(), opts).unwrap();
        zw.write_all(&std::fs::read(fixture(f)).unwrap()).unwrap();
    }
    zw.start_file("README.txt", opts).unwrap();
    zw.write_all(b"not a feed").unwrap();
    zw.finish().unwrap();
    let out = read_path(&path).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.advisories.len(), 2 + 6 + 2);
    assert!(open_decompressed(&path).is_err(), "several members: read_path is the way");
}

#[test]
fn ubuntu_oval_excerpt() {
    let out = read("ubuntu/com.ubuntu.jammy.usn.oval.xml");
    let bins = ["libssl3", "libssl-dev", "libssl-doc", "openssl"];
    let usn: Vec<_> = out.advisories.iter().filter(|a| a.advisory_ids == ["USN-6039-1"]).collect();
    assert_eq!(usn.len(), out.advisories.len());
    let cves: std::collections::BTreeSet<_> = usn.iter().map(|a| a.vuln_id.as_str()).collect();
    assert!(cves.len() >= 2 && cves.iter().all(|c| is_cve_id(c)), "{cves:?}");
    assert_eq!(usn.len(), cves.len() * bins.len());
    for a in &usn {
        assert_eq!(a.distro, "ubuntu");
        assert_eq!(a.release, "22.04");
        assert_eq!(a.package_kind, PackageKind::Binary);
        assert_eq!(a.status, fixed("3.0.2-0ubuntu1.9"));
        assert!(bins.contains(&a.package.as_str()));
        assert!(a.distro_severity.is_some());
    }
    // The kernel USN tests the running kernel: reported, not converted.
    assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
    assert!(out.problems[0].message.starts_with("USN-6004-1"));
    assert!(out.problems[0].location.contains("com.ubuntu.jammy.usn.oval.xml:"));
    assert!(out.vulns.iter().all(|v| v.cvss3_vector.as_deref().is_some_and(|s| s.starts_with("CVSS:3."))));
}

#[test]
fn alpine_secdb_excerpt() {
    let out = read("alpine/v3.20/main.json");
    assert!(out.advisories.iter().all(|a| a.distro == "alpine"
        && a.release == "3.20"
        && a.package_kind == PackageKind::Source
        && a.distro_severity.is_none()));
    assert_eq!(find(&out, "CVE-2021-26720", "avahi")[0].status, FixStatus::NotAffected);
    assert_eq!(find(&out, "CVE-2021-3468", "avahi")[0].status, fixed("0.8-r4"));
    // Listed under 20190514a-r0, 20190618-r0 and 20191112-r0: the highest wins.
    let u = find(&out, "CVE-2018-12126", "intel-ucode");
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].status, fixed("20191112-r0"));
    assert_eq!(find(&out, "CVE-2020-8694", "intel-ucode")[0].status, fixed("20201112-r0"));
    let x = find(&out, "CVE-2016-6258", "xen");
    assert_eq!(x[0].advisory_ids, vec!["XSA-182"]);
    assert_eq!(x[0].status, fixed("4.7.0-r0"));
    // The comparator is the caller's: a reversed one keeps the lowest.
    let data = std::fs::read(fixture("alpine/v3.20/main.json")).unwrap();
    let rev = alpine_secdb::parse(Cursor::new(&data), "main.json", |a, b| simple_cmp(b, a)).unwrap();
    assert_eq!(find(&rev, "CVE-2018-12126", "intel-ucode")[0].status, fixed("20190514a-r0"));

    let c = read("alpine/v3.20/community.json");
    assert_eq!(find(&c, "CVE-2022-41925", "tailscale")[0].status, FixStatus::NotAffected);
    assert_eq!(find(&c, "CVE-2022-41925", "tailscale")[0].advisory_ids, vec!["TS-2022-005"]);
    // "CVE-????-????? TS-2024-005": the malformed CVE is reported, TS- id kept.
    assert_eq!(find(&c, "TS-2024-005", "tailscale")[0].status, fixed("1.66.1-r0"));
    assert_eq!(c.problems.len(), 1);
    assert!(c.problems[0].location.contains("$.packages[0].pkg.secfixes[\"1.66.1-r0\"][0]"), "{:?}", c.problems);
}

#[test]
fn osv_records() {
    let u = read("osv/ubuntu");
    assert!(u.problems.is_empty(), "{:?}", u.problems);
    let glibc = find(&u, "CVE-2023-4911", "glibc");
    assert_eq!(glibc.len(), 2);
    let jammy = glibc.iter().find(|a| a.release == "22.04").unwrap();
    assert_eq!(jammy.status, fixed("2.35-0ubuntu3.4"));
    assert_eq!(jammy.distro, "ubuntu");
    assert_eq!(jammy.package_kind, PackageKind::Source);
    assert_eq!(jammy.advisory_ids, vec!["USN-6409-1"]);
    let ssh: Vec<_> = find(&u, "CVE-2024-6387", "openssh");
    assert_eq!(ssh.len(), 4, "UBUNTU-CVE and USN records, jammy and noble");
    assert!(
        ssh.iter().any(|a| a.advisory_ids == ["USN-6859-1"]
            && a.release == "24.04"
            && a.status == fixed("1:9.6p1-3ubuntu13.3"))
    );
    assert!(u.vulns.iter().any(|v| v.id == "CVE-2023-4911"
        && v.cvss3_vector.as_deref() == Some("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")));

    let d = read("osv/debian");
    let dsa = find(&d, "CVE-2023-4911", "glibc");
    assert_eq!(dsa.len(), 2);
    assert!(dsa.iter().all(|a| a.advisory_ids == ["DSA-5514-1"] && a.distro == "debian"));
    assert_eq!(dsa.iter().find(|a| a.release == "12").unwrap().status, fixed("2.36-9+deb12u3"));
    let open = find(&d, "CVE-2010-4756", "glibc");
    assert_eq!(open[0].status, FixStatus::Unfixed);
    assert_eq!(open[0].distro_severity.as_deref(), Some("unimportant"));
    // A DSA bundle gives no per-CVE VulnInfo; a DEBIAN-CVE record does.
    assert!(!d.vulns.iter().any(|v| v.id == "CVE-2023-4911"));
    assert!(d.vulns.iter().any(|v| v.id == "CVE-2010-4756"));

    let r = read("osv/rocky");
    assert_eq!(r.advisories.len(), 3 * 2);
    assert!(r.advisories.iter().all(|a| a.distro == "rocky"
        && a.release == "9"
        && a.package_kind == PackageKind::Binary
        && a.advisory_ids == ["RLSA-2023:5453"]
        && a.status == fixed("2.34-60.el9_2.7")));
}

#[test]
fn osv_lenient_and_problems() {
    let rec = r#"{"id":"CVE-2024-0001","unknown_field":{"x":1},"affected":[
        {"package":{"ecosystem":"Debian:12","name":"foo"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"1.0"}]}]},
        {"package":{"ecosystem":"PyPI","name":"bar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]},
        {"package":{"ecosystem":"Alpine:v3.20","name":"baz"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2-r0"}]}]},
        {"package":{"name":"nameless"}}]}"#;
    let out = osv::parse(Cursor::new(rec), "x.json").unwrap();
    assert_eq!(out.advisories.len(), 1);
    assert_eq!(out.advisories[0].release, "3.20");
    assert_eq!(out.problems.len(), 2, "{:?}", out.problems);
    assert!(out.problems.iter().any(|p| p.location == "x.json: $.affected[0].ranges[0]"));
    assert!(out.problems.iter().any(|p| p.location == "x.json: $.affected[3].package"));
}

#[test]
fn kev_excerpt() {
    let out = read("kev/known_exploited_vulnerabilities.json");
    assert!(out.problems.is_empty());
    assert_eq!(out.vulns.len(), 3);
    assert_eq!(out.vulns[0].id, "CVE-2026-8037");
    assert_eq!(out.vulns[0].kev_date_added.as_deref(), Some("2026-08-07"));
    assert_eq!(out.vulns[0].kev_ransomware, Some(false));
    assert_eq!(out.vulns[2].kev_ransomware, Some(true));
}

#[test]
fn cve5_records() {
    let out = read("cve5");
    assert!(out.problems.is_empty());
    assert_eq!(out.vulns.len(), 3);
    let get = |id: &str| out.vulns.iter().find(|v| v.id == id).unwrap();
    // CNA 3.0 wins over ADP 3.1.
    assert!(get("CVE-2023-22515").cvss3_vector.as_deref().unwrap().starts_with("CVSS:3.0/"));
    // ADP only.
    assert!(get("CVE-2024-41713").cvss3_vector.as_deref().unwrap().starts_with("CVSS:3.1/"));
    let both = get("CVE-2024-4978");
    assert!(both.cvss3_vector.as_deref().unwrap().starts_with("CVSS:3.1/"));
    assert!(both.cvss4_vector.as_deref().unwrap().starts_with("CVSS:4.0/"));
    assert!(out.vulns.iter().all(|v| v.summary.is_some()));
}

#[test]
fn epss_hand_made() {
    let out = read("epss/epss_scores-2024-01-15.csv");
    assert_eq!(out.vulns.len(), 3);
    assert_eq!(out.vulns[1].id, "CVE-2023-4911");
    assert_eq!(out.vulns[1].epss, Some(0.72159));
    assert_eq!(out.vulns[1].epss_percentile, Some(0.98056));
    let bad =
        epss::parse(Cursor::new("cve,epss,percentile\nCVE-1,0.5,0.5\nCVE-2,x,0.1\nCVE-3,1.5,0.2\n"), "e.csv").unwrap();
    assert_eq!(bad.vulns.len(), 1);
    assert_eq!(bad.problems.iter().map(|p| p.location.as_str()).collect::<Vec<_>>(), ["e.csv:3", "e.csv:4"]);
    let err = epss::parse(Cursor::new("#model_version:x\nfoo,bar\n"), "e.csv").unwrap_err().to_string();
    assert!(err.starts_with("e.csv:2:"), "{err}");
}

#[test]
fn security_support_lists() {
    let out = read("security-support");
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let ended: Vec<_> = out.support.iter().filter(|s| !s.limited).collect();
    assert_eq!(ended.len(), 16);
    let wpe = ended.iter().find(|s| s.package == "wpewebkit").unwrap();
    assert_eq!(wpe.release.as_deref(), Some("12"));
    assert_eq!(wpe.ended, Some(("2.38.6-1".to_string(), "2023-05-09".to_string())));
    assert_eq!(wpe.details.as_deref(), Some("https://bugs.debian.org/1035794"));
    let horde = ended.iter().find(|s| s.package == "php-horde.*").unwrap();
    assert!(horde.pattern);
    let limited: Vec<_> = out.support.iter().filter(|s| s.limited).collect();
    assert_eq!(limited.len(), 32);
    let b = limited.iter().find(|s| s.package == "binutils").unwrap();
    assert_eq!(b.release, None);
    assert!(b.details.as_deref().unwrap().starts_with("Only suitable for trusted content"));
}

#[test]
fn malformed_xml_names_file_and_line() {
    let data = std::fs::read_to_string(fixture("debian/oval-definitions-bookworm.xml")).unwrap();
    // Break a closing tag on a known line.
    let line = data.lines().position(|l| l.contains("</title>")).unwrap() + 1;
    let broken = data.replacen("</title>", "</titel>", 1);
    let err = debian_oval::parse(Cursor::new(broken), "deb.xml").unwrap_err().to_string();
    assert!(err.starts_with(&format!("deb.xml:{line}:")), "{err} (expected line {line})");
    // Truncated.
    let cut = &data[..data.len() / 2];
    let err = debian_oval::parse(Cursor::new(cut), "deb.xml").unwrap_err().to_string();
    assert!(err.starts_with("deb.xml:") && err.contains("end of file"), "{err}");
    // Wrong root.
    let err = ubuntu_oval::parse(Cursor::new("<html/>"), "u.xml").unwrap_err().to_string();
    assert_eq!(err, "u.xml:1: root element is <html>, not <oval_definitions>");
}

#[test]
fn malformed_json_names_file_line_and_path() {
    let err = kev::parse(Cursor::new("{\n  \"vulnerabilities\": [\n    {\"cveID\": }\n]}"), "kev.json").unwrap_err();
    assert!(err.to_string().starts_with("kev.json:3:"), "{err}");
    let err = kev::parse(Cursor::new("{\"count\": 1}"), "kev.json").unwrap_err();
    assert_eq!(err.to_string(), "kev.json: $.vulnerabilities: missing or not an array");
    let err = alpine_secdb::parse(Cursor::new("{\"packages\": []}"), "main.json", simple_cmp).unwrap_err();
    assert!(err.to_string().starts_with("main.json: $.distroversion"), "{err}");
    let err = cve5::parse(Cursor::new("{\"containers\": {}}"), "c.json").unwrap_err();
    assert_eq!(err.to_string(), "c.json: $.cveMetadata: missing");
    let err = osv::parse(Cursor::new("{\"affected\": []}"), "o.json").unwrap_err();
    assert_eq!(err.to_string(), "o.json: $.id: missing or not a string");
    // Partly bad KEV: good entries kept, the bad one reported with its path.
    let out = kev::parse(
        Cursor::new(r#"{"vulnerabilities":[{"cveID":"CVE-2024-0001","dateAdded":"2024-01-02","knownRansomwareCampaignUse":"Known"},{"dateAdded":"x"}]}"#),
        "kev.json",
    )
    .unwrap();
    assert_eq!(out.vulns.len(), 1);
    assert_eq!(out.problems[0].location, "kev.json: $.vulnerabilities[1].cveID");
}

#[test]
fn read_path_on_a_tree_skips_unknown_files_and_reports_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::copy(fixture("kev/known_exploited_vulnerabilities.json"), dir.path().join("a/kev.json")).unwrap();
    std::fs::write(dir.path().join("a/LICENSE"), "CC0").unwrap();
    std::fs::write(dir.path().join("a/b/broken.json"), "{\"cveMetadata\": {\"cveId\": ").unwrap();
    let out = read_path(dir.path()).unwrap();
    assert_eq!(out.vulns.len(), 3);
    assert_eq!(out.problems.len(), 1);
    assert!(out.problems[0].location.ends_with("broken.json"));
    assert!(out.problems[0].message.contains("broken.json:1:"), "{}", out.problems[0].message);
}

fn all_parsers(data: &[u8]) {
    let _ = debian_oval::parse(Cursor::new(data), "f");
    let _ = ubuntu_oval::parse(Cursor::new(data), "f");
    let _ = alpine_secdb::parse(Cursor::new(data), "f", simple_cmp);
    let _ = osv::parse(Cursor::new(data), "f");
    let _ = kev::parse(Cursor::new(data), "f");
    let _ = cve5::parse(Cursor::new(data), "f");
    let _ = epss::parse(Cursor::new(data), "f");
    let _ = debian_security_support::parse(Cursor::new(data), "security-support-ended.deb12");
    let _ = detect(Path::new("f"), data);
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            "[a-zA-Z0-9 :._-]{0,12}",
            Just("CVE-2023-4911".to_string()),
            Just("0".to_string()),
            Just("Debian:12".to_string()),
            Just("Known".to_string()),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("id".to_string()),
            Just("affected".to_string()),
            Just("package".to_string()),
            Just("ecosystem".to_string()),
            Just("name".to_string()),
            Just("ranges".to_string()),
            Just("events".to_string()),
            Just("fixed".to_string()),
            Just("introduced".to_string()),
            Just("vulnerabilities".to_string()),
            Just("cveID".to_string()),
            Just("packages".to_string()),
            Just("pkg".to_string()),
            Just("secfixes".to_string()),
            Just("distroversion".to_string()),
            Just("cveMetadata".to_string()),
            Just("cveId".to_string()),
            Just("containers".to_string()),
            Just("cna".to_string()),
            Just("adp".to_string()),
            Just("metrics".to_string()),
            Just("severity".to_string()),
            Just("upstream".to_string()),
            Just("aliases".to_string()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&data);
    }

    #[test]
    fn parsers_never_panic_on_json_ish(v in json_value()) {
        all_parsers(v.to_string().as_bytes());
    }

    #[test]
    fn oval_parsers_never_panic_on_mangled_real_xml(cut in 0usize..16000, pos in 0usize..16000, byte in any::<u8>()) {
        let mut data = std::fs::read(fixture("debian/oval-definitions-bookworm.xml")).unwrap();
        if pos < data.len() { data[pos] = byte; }
        data.truncate(cut.max(1));
        all_parsers(&data);
        let mut u = std::fs::read(fixture("ubuntu/com.ubuntu.jammy.usn.oval.xml")).unwrap();
        if pos < u.len() { u[pos] = byte; }
        let keep = cut.min(u.len());
        all_parsers(&u[..keep]);
    }
}
