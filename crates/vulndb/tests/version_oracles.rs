//! Differential and property tests of the version comparators.
//!
//! - `dpkg_pairs.txt` / `rpm_pairs.txt`: ≥ 20,000 real version pairs each with the
//!   verdict of the real tools (apt_pkg / dpkg, rpm's Lua `rpm.vercmp`), produced by
//!   `scripts/version-oracle-pairs.py` (see `tests/fixtures/versions/README.md`).
//!   0 disagreements allowed.
//! - `apk_version_cases.txt`: apk-tools' own test vectors, all must pass.
//! - When the oracles are installed (`/usr/bin/python3` with `apt_pkg`, `rpm`), a
//!   bounded live sample of fresh pairs is checked against them too.
//! - proptest: no panics, antisymmetry, reflexivity and transitivity.
use std::cmp::Ordering;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use warden_vulndb::version::{VersionScheme, apk, dpkg, rpm};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/versions").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sign(o: Ordering) -> i32 {
    o as i32
}

/// Checks every `A B sign` line; returns (pairs, disagreements as text).
fn check_pairs(text: &str, cmp: fn(&str, &str) -> Ordering) -> (usize, Vec<String>) {
    let mut bad = Vec::new();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f.len(), 3, "malformed fixture line {line:?}");
        let want: i32 = f[2].parse().unwrap();
        n += 1;
        let got = sign(cmp(f[0], f[1]));
        if got != want {
            bad.push(format!("{} {}: oracle {want}, ours {got}", f[0], f[1]));
        }
    }
    (n, bad)
}

fn assert_oracle_file(name: &str, cmp: fn(&str, &str) -> Ordering) {
    let (n, bad) = check_pairs(&fixture(name), cmp);
    println!("{name}: {n} oracle pairs, {} disagreements", bad.len());
    assert!(n >= 20_000, "{name}: only {n} pairs, the issue requires >= 20,000");
    assert!(bad.is_empty(), "{name}: {} disagreements, first: {:#?}", bad.len(), &bad[..bad.len().min(20)]);
}

#[test]
fn dpkg_matches_apt_pkg_oracle() {
    assert_oracle_file("dpkg_pairs.txt", dpkg::compare);
}

#[test]
fn rpm_matches_rpm_lua_oracle() {
    assert_oracle_file("rpm_pairs.txt", rpm::compare);
}

#[test]
fn apk_tools_vectors() {
    let text = fixture("apk_version_cases.txt");
    let mut n = 0;
    let mut bad = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 3, "malformed vector {line:?}");
        let want = match f[1] {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            op => panic!("bad op {op:?}"),
        };
        n += 1;
        if apk::compare(f[0], f[2]) != want || apk::compare(f[2], f[0]) != want.reverse() {
            bad.push(line.to_string());
        }
    }
    println!("apk_version_cases.txt: {n} vectors, {} failures", bad.len());
    assert_eq!(n, 728);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn scheme_dispatch() {
    assert_eq!(VersionScheme::Dpkg.compare("1.0~rc1", "1.0"), Ordering::Less);
    assert_eq!(VersionScheme::Rpm.compare("1.0^git1", "1.0"), Ordering::Greater);
    assert_eq!(VersionScheme::Apk.compare("1.0_rc1", "1.0"), Ordering::Less);
    assert!(VersionScheme::Dpkg.validate("1:1.0-1").is_ok());
    assert!(VersionScheme::Apk.validate("1.0-1").is_err());
}

// ---- live oracles (bounded; skipped when the tool is absent) ----

/// Deterministic fresh pairs: fixture versions recombined and mutated.
fn fresh_pairs(text: &str, count: usize) -> Vec<(String, String)> {
    let pool: Vec<&str> = text.lines().flat_map(|l| l.split(' ').take(2)).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let edits = ["~", "~rc1", "^1", "+b1", ".0", "a", "-1", "0", ".1~git"];
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let a = pool[next(pool.len())].to_string();
        let b = match next(3) {
            0 => pool[next(pool.len())].to_string(),
            1 => format!("{a}{}", edits[next(edits.len())]),
            _ => {
                let cut = 1 + next(a.len().max(1));
                format!("{}{}", &a[..cut.min(a.len())], edits[next(edits.len())])
            }
        };
        if a.is_char_boundary(a.len()) && !b.is_empty() && b.is_ascii() && a.is_ascii() {
            out.push(if next(2) == 0 { (a, b) } else { (b, a) });
        }
    }
    out
}

#[test]
fn dpkg_live_apt_pkg_sample() {
    let py = "/usr/bin/python3";
    let probe = Command::new(py).args(["-c", "import apt_pkg"]).status();
    if !matches!(probe, Ok(s) if s.success()) {
        println!("apt_pkg not available: live dpkg oracle skipped");
        return;
    }
    let pairs = fresh_pairs(&fixture("dpkg_pairs.txt"), 3000);
    let script = "import sys, apt_pkg\napt_pkg.init_system()\nfor l in sys.stdin:\n    a, b = l.split()\n    \
                  c = apt_pkg.version_compare(a, b)\n    print((c > 0) - (c < 0))\n";
    let mut child = Command::new(py).args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let got: Vec<i32> = String::from_utf8(out.stdout).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(got.len(), pairs.len());
    let bad: Vec<_> = pairs
        .iter()
        .zip(&got)
        .filter(|((a, b), want)| sign(dpkg::compare(a, b)) != **want)
        .map(|((a, b), want)| format!("{a} {b}: apt_pkg {want}"))
        .collect();
    println!("live apt_pkg sample: {} pairs, {} disagreements", pairs.len(), bad.len());
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn rpm_live_lua_sample() {
    if !matches!(Command::new("rpm").arg("--version").output(), Ok(o) if o.status.success()) {
        println!("rpm not available: live rpm oracle skipped");
        return;
    }
    let pairs = fresh_pairs(&fixture("rpm_pairs.txt"), 3000);
    let dir = tempfile::tempdir().unwrap();
    let (src, dst) = (dir.path().join("in.txt"), dir.path().join("out.txt"));
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    std::fs::write(&src, input).unwrap();
    let lua = format!(
        "%{{lua: local o = io.open('{}', 'w') for l in io.lines('{}') do local a, b = l:match('(%S+)%s+(%S+)') \
         o:write(rpm.vercmp(a, b) .. '\\n') end o:close()}}",
        dst.display(),
        src.display()
    );
    let status = Command::new("rpm").args(["--eval", &lua]).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let got: Vec<i32> =
        std::fs::read_to_string(&dst).unwrap().lines().map(|l| l.trim().parse::<i32>().unwrap().signum()).collect();
    assert_eq!(got.len(), pairs.len());
    let bad: Vec<_> = pairs
        .iter()
        .zip(&got)
        .filter(|((a, b), want)| sign(rpm::compare(a, b)) != **want)
        .map(|((a, b), want)| format!("{a} {b}: rpm {want}"))
        .collect();
    println!("live rpm.vercmp sample: {} pairs, {} disagreements", pairs.len(), bad.len());
    assert!(bad.is_empty(), "{bad:#?}");
}

// ---- properties ----

const SCHEMES: [VersionScheme; 3] = [VersionScheme::Dpkg, VersionScheme::Rpm, VersionScheme::Apk];

fn dpkg_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "([0-9]{1,2}:)?[0-9][0-9a-zA-Z.+~]{0,7}(-[0-9a-z.+~]{1,4})?",
        // Strings dpkg rejects (empty parts, odd colons and dashes): still a total order.
        "[0-9a:~.+-]{0,8}",
    ]
}

fn rpm_like() -> impl Strategy<Value = String> {
    "([0-9]{1,2}:)?[0-9a-z.~^_+]{0,8}(-[0-9a-z.~^_]{0,4})?"
}

fn apk_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,2}(\\.0?[0-9]{1,2}){0,2}[a-c]?(_(alpha|beta|pre|rc|cvs|p|git)[0-9]?){0,2}(~[0-9a-f]{1,3})?(-r[0-9]{1,2})?",
        "[0-9a-z._~-]{0,10}",
    ]
}

fn all_ordered(cmp: impl Fn(&str, &str) -> Ordering, v: [&str; 3]) -> Result<(), TestCaseError> {
    for (i, j, k) in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)] {
        let (a, b, c) = (v[i], v[j], v[k]);
        let (ab, bc, ac) = (cmp(a, b), cmp(b, c), cmp(a, c));
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert_ne!(ac, Ordering::Greater, "{:?} <= {:?} <= {:?} but not {:?} <= {:?}", a, b, c, a, c);
        }
        if ab == Ordering::Equal && bc == Ordering::Equal {
            prop_assert_eq!(ac, Ordering::Equal, "{:?} = {:?} = {:?}", a, b, c);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_total(a in any::<String>(), b in any::<String>()) {
        for s in SCHEMES {
            let ab = s.compare(&a, &b);
            prop_assert_eq!(ab, s.compare(&b, &a).reverse(), "{:?}", s);
            prop_assert_eq!(s.compare(&a, &a), Ordering::Equal);
            let _ = s.validate(&a);
        }
    }

    #[test]
    fn byte_soup_total(a in "[0-9a-zA-Z:~^._+\\-\u{0}\u{e9}]{0,12}", b in "[0-9a-zA-Z:~^._+\\-\u{0}\u{e9}]{0,12}") {
        for s in SCHEMES {
            prop_assert_eq!(s.compare(&a, &b), s.compare(&b, &a).reverse(), "{:?}", s);
            prop_assert_eq!(s.compare(&a, &a), Ordering::Equal);
        }
    }

    #[test]
    fn dpkg_transitive(a in dpkg_like(), b in dpkg_like(), c in dpkg_like()) {
        prop_assert_eq!(dpkg::compare(&a, &b), dpkg::compare(&b, &a).reverse());
        prop_assert_eq!(dpkg::compare(&a, &a), Ordering::Equal);
        all_ordered(dpkg::compare, [&a, &b, &c])?;
    }

    #[test]
    fn rpm_transitive(a in rpm_like(), b in rpm_like(), c in rpm_like()) {
        prop_assert_eq!(rpm::compare(&a, &b), rpm::compare(&b, &a).reverse());
        prop_assert_eq!(rpm::compare(&a, &a), Ordering::Equal);
        all_ordered(rpm::compare, [&a, &b, &c])?;
        all_ordered(rpm::rpmvercmp, [&a, &b, &c])?;
    }

    #[test]
    fn apk_transitive(a in apk_like(), b in apk_like(), c in apk_like()) {
        prop_assert_eq!(apk::compare(&a, &b), apk::compare(&b, &a).reverse());
        prop_assert_eq!(apk::compare(&a, &a), Ordering::Equal);
        all_ordered(apk::compare, [&a, &b, &c])?;
    }
}

/// Rough cost per comparison over the oracle pairs (meaningful with `--release`).
#[test]
fn comparison_cost() {
    let text = fixture("rpm_pairs.txt");
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split(' ').collect_tuple2()).collect();
    for s in SCHEMES {
        let start = std::time::Instant::now();
        let mut acc = 0i64;
        for _ in 0..4 {
            for (a, b) in &pairs {
                acc += s.compare(std::hint::black_box(a), std::hint::black_box(b)) as i64;
            }
        }
        let ns = start.elapsed().as_nanos() as f64 / (4 * pairs.len()) as f64;
        println!("{s:?}: {ns:.1} ns per comparison over {} pairs (checksum {acc})", pairs.len());
    }
}

trait Tuple2<'a> {
    fn collect_tuple2(self) -> Option<(&'a str, &'a str)>;
}

impl<'a, I: Iterator<Item = &'a str>> Tuple2<'a> for I {
    fn collect_tuple2(mut self) -> Option<(&'a str, &'a str)> {
        Some((self.next()?, self.next()?))
    }
}
