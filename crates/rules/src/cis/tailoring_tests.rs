//! Unit tests of tailoring files: each validation error names the file, the
//! line and column, and the field; a valid file resolves CIS numbers to ids.
use super::*;
use crate::cis::embedded;

fn parse(text: &str) -> Result<Tailoring, String> {
    Tailoring::parse("site.toml", text, embedded().unwrap())
}

fn os(id: &str, version: &str) -> OsRelease {
    OsRelease {
        path: "/etc/os-release".into(),
        id: id.into(),
        id_like: vec![],
        version_id: Some(version.into()),
        version_codename: None,
        pretty_name: None,
        family: warden_model::OsFamily::Debian,
    }
}

fn err(text: &str) -> String {
    parse(text).expect_err("should be refused")
}

#[test]
fn valid_tailoring_resolves_ids_numbers_params_and_profile() {
    let t = parse(
        "[tailoring]\nbenchmark = \"cis-debian-12\"\nprofile = \"level2-server\"\n\
         disable = [\"deb12-1.1.1.1\", \"5.1.20\"]\n\n[params]\npass_max_days = 90\n",
    )
    .unwrap();
    assert_eq!(t.benchmark, "cis-debian-12");
    assert_eq!(t.profile, Some(Profile::Level2Server));
    assert_eq!(t.disabled, BTreeSet::from(["deb12-1.1.1.1".to_string(), "deb12-5.1.20".to_string()]));
    assert_eq!(t.params, BTreeMap::from([("pass_max_days".to_string(), Scalar::Int(90))]));
    let applied = t.apply_params(&embedded().unwrap()[0].content.params);
    assert_eq!(applied["pass_max_days"], Scalar::Int(90));
    assert_eq!(applied["pass_min_days"], Scalar::Int(1));
}

#[test]
fn unknown_rule_id_names_file_line_and_field() {
    let e = err("[tailoring]\nbenchmark = \"cis-debian-12\"\ndisable = [\"deb12-1.1.1.1\",\n  \"deb12-9.9.9\"]\n");
    assert_eq!(
        e,
        "site.toml:4:3: [tailoring] disable: unknown recommendation \"deb12-9.9.9\": cis-debian-12 has no rule \
         with this Warden id or CIS number"
    );
}

#[test]
fn unknown_param_is_refused() {
    let e = err("[tailoring]\nbenchmark = \"cis-debian-12\"\n[params]\npass_max_dayz = 90\n");
    assert!(e.starts_with("site.toml:4:1: [params] pass_max_dayz: unknown parameter: cis-debian-12 has "), "{e}");
    assert!(e.contains("pass_max_days"), "{e}");
}

#[test]
fn wrong_param_type_is_refused() {
    let e = err("[tailoring]\nbenchmark = \"cis-debian-12\"\n[params]\npass_max_days = \"90\"\n");
    assert_eq!(
        e,
        "site.toml:4:17: [params] pass_max_days: wrong type: expected an integer (like the default 365), found \
         string \"90\""
    );
}

#[test]
fn benchmark_mismatch_is_refused() {
    let e = err("[tailoring]\nbenchmark = \"cis-sles-15\"\n");
    assert!(
        e.starts_with(
            "site.toml:2:13: [tailoring] benchmark: unknown benchmark \"cis-sles-15\" (Warden has: cis-debian-12"
        ),
        "{e}"
    );
    // A known benchmark that is not the host's.
    let t = parse("[tailoring]\nbenchmark = \"cis-debian-12\"\n").unwrap();
    let alpine = os("alpine", "3.20.3");
    let e = t.check_host(embedded().unwrap(), Some(&alpine)).unwrap_err();
    assert_eq!(
        e,
        "site.toml:2:13: [tailoring] benchmark: benchmark mismatch: the tailoring is for \"cis-debian-12\" but the \
         assessed host (alpine 3.20.3) has no CIS benchmark"
    );
    let debian = os("debian", "12");
    t.check_host(embedded().unwrap(), Some(&debian)).unwrap();
}

#[test]
fn unknown_profile_and_unknown_key_are_refused() {
    let e = err("[tailoring]\nbenchmark = \"cis-debian-12\"\nprofile = \"level3\"\n");
    assert!(e.starts_with("site.toml:3:11: [tailoring] profile: unknown CIS profile \"level3\""), "{e}");
    let e = err("[tailoring]\nbenchmark = \"cis-debian-12\"\nenable = []\n");
    assert!(e.starts_with("site.toml:3:1: invalid CIS tailoring: unknown field `enable`"), "{e}");
    let e = err("[params]\npass_max_days = 90\n");
    assert!(e.starts_with("site.toml:1:1: invalid CIS tailoring: missing field `tailoring`"), "{e}");
}

#[test]
fn every_problem_is_reported() {
    let e = err("[tailoring]\nbenchmark = \"cis-debian-12\"\ndisable = [\"x\", \"y\"]\n[params]\nnope = 1\n");
    assert_eq!(e.lines().count(), 3, "{e}");
}
