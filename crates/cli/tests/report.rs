//! End-to-end tests of `warden report` and `warden sbom`, each format read
//! back by a real consumer: headless Chromium (HTML, through its DOM and its
//! network log), poppler's pdftotext and pdftoppm (PDF), the official SARIF
//! 2.1.0 JSON schema with python `jsonschema`, python's `csv` module,
//! cyclonedx-python-lib's validator (CycloneDX 1.5), spdx-tools'
//! `pyspdxtools` (SPDX 2.3) and `dpkg-query` over the real Debian 12 root
//! (the SBOM's package set).
//!
//! Inputs are real assessments: the `debian12-old-packages` fixture root
//! assessed with the CVE package over the minbase OVAL feed and the best
//! practices package, and the same assessment as a second host whose host
//! name and evidence carry the strings a hostile host could plant in its
//! files (`<script>`, event handlers, CSV formulas).
//!
//! Tools: `scripts/install-test-deps.sh` installs chromium, poppler-utils and
//! a Python venv (`target/report-venv`, or `WARDEN_TEST_PYTHON`) with the
//! validators. Outside CI a missing tool skips its test with a note; with
//! `CI` set it fails.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, have_tool, import_db, warden, workspace};
use warden_model::Assessment;

/// Strings a host controls (file contents, host name) that must stay inert.
const HOSTILE: &str = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">=HYPERLINK(\"http://canary.invalid\")";
const HOSTILE_ASSET: &str = "evil<b onmouseover=alert(1)>host</b>";

/// Writes the two assessments under `dir` and returns their paths.
fn inputs(dir: &Path) -> (Vec<PathBuf>, Vec<Assessment>) {
    let db = import_db(dir, &[fixture("vuln/oval-definitions-bookworm-minbase.xml.bz2")]);
    let root = fixture("roots/debian12-old-packages").join("root");
    let first = dir.join("old-packages.json");
    let out = warden()
        .args(["assess", "--format", "json", "--package", "cve", "--package", "best-practices", "--root"])
        .arg(&root)
        .arg("--db")
        .arg(&db)
        .arg("-o")
        .arg(&first)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let a: Assessment = serde_json::from_str(&fs::read_to_string(&first).unwrap()).unwrap();
    assert!(a.findings.len() > 40, "the CVE package finds the old packages' vulnerabilities");

    let mut hostile = a.clone();
    hostile.asset = HOSTILE_ASSET.to_string();
    for f in &mut hostile.findings {
        f.asset = HOSTILE_ASSET.to_string();
        for e in &mut f.evidence {
            e.text = Some(HOSTILE.to_string());
        }
    }
    let second = dir.join("hostile.json");
    fs::write(&second, serde_json::to_string_pretty(&hostile).unwrap()).unwrap();
    (vec![first, second], vec![a, hostile])
}

/// `warden report --input ... --type TYPE --format FORMAT -o DIR/report.FORMAT`.
fn report(dir: &Path, inputs: &[PathBuf], report_type: &str, format: &str) -> PathBuf {
    let path = dir.join(format!("report-{report_type}.{format}"));
    let mut cmd = warden();
    cmd.arg("report");
    for i in inputs {
        cmd.arg("--input").arg(i);
    }
    let out = cmd.args(["--type", report_type, "--format", format, "-o"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "warden report failed: {}", String::from_utf8_lossy(&out.stderr));
    path
}

/// The Python that has the validators, or None (and a note) outside CI.
fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("WARDEN_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/report-venv/bin/python3"));
    let ok = Command::new(&candidate)
        .args(["-c", "import jsonschema, cyclonedx.validation.json, spdx_tools, packageurl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let msg = format!(
            "{} lacks jsonschema / cyclonedx-python-lib / spdx-tools (scripts/install-test-deps.sh)",
            candidate.display()
        );
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("skipping: {msg}");
        return None;
    }
    Some(candidate)
}

/// Runs a Python snippet with arguments; returns stdout, panicking with stderr on failure.
fn run_python(python: &Path, code: &str, args: &[&Path]) -> String {
    let out = Command::new(python).arg("-c").arg(code).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Headless Chromium with the flags that keep it from calling home. Every
/// host name resolves to nothing and every HTTP(S) request is sent to a
/// closed loopback port as its proxy, so no request can leave the machine
/// (the browser still tries its own update and account checks: they fail).
fn chromium(profile: &Path) -> Command {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        "--disable-features=DnsOverHttps",
    ]);
    cmd.arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

/// The DOM Chromium built from a file, serialised.
fn dump_dom(dir: &Path, html: &Path) -> String {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let out = chromium(profile.path()).arg("--dump-dom").arg(file_url(html)).output().unwrap();
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The URLs of the requests the page made, from Chromium's network log:
/// `URL_REQUEST_START_JOB` events whose network isolation key is the
/// `file://` document's (the browser's own background requests have other
/// keys and are not the page's).
fn page_requests(dir: &Path, html: &Path) -> Vec<String> {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let log = dir.join(format!("{}.netlog.json", html.file_name().unwrap().to_string_lossy()));
    let out = chromium(profile.path())
        .arg(format!("--log-net-log={}", log.display()))
        .arg("--net-log-capture-mode=Everything")
        .arg("--dump-dom")
        .arg(file_url(html))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let netlog: serde_json::Value = serde_json::from_str(&fs::read_to_string(&log).unwrap())
        .unwrap_or_else(|e| panic!("{}: not a complete net log: {e}", log.display()));
    let types = netlog["constants"]["logEventTypes"].as_object().expect("event types");
    let start_job = types["URL_REQUEST_START_JOB"].as_u64().expect("event type");
    let events = netlog["events"].as_array().expect("events");
    assert!(!events.is_empty(), "the net log recorded nothing");
    // No socket sent a byte (the only socket Chromium opens here is its IPv6
    // reachability probe, a UDP connect() that sends nothing).
    let sent: Vec<&str> = types
        .iter()
        .filter(|(name, _)| name.ends_with("_BYTES_SENT"))
        .filter(|(_, id)| events.iter().any(|e| e["type"] == **id))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(sent.is_empty(), "bytes were sent: {sent:?}");
    events
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| e["params"]["network_isolation_key"].as_str().is_some_and(|k| k.starts_with("file://")))
        .filter_map(|e| e["params"]["url"].as_str().map(String::from))
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .collect()
}

/// Start tags of an HTML document: (name, [(attribute, value)]), read with
/// quotes respected. Text cannot hold a `<` (it is escaped), so every `<`
/// starts markup.
fn start_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut tags = Vec::new();
    let b = html.as_bytes();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if i >= b.len() || !b[i].is_ascii_alphabetic() {
            continue;
        }
        let name_end = html[i..].find(|c: char| c.is_whitespace() || c == '>' || c == '/').map_or(b.len(), |e| i + e);
        let name = html[i..name_end].to_ascii_lowercase();
        let mut attrs = Vec::new();
        let mut j = name_end;
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                break;
            }
            let a_end = html[j..].find(|c: char| c.is_whitespace() || c == '=' || c == '>').map_or(b.len(), |e| j + e);
            let attr = html[j..a_end].to_ascii_lowercase();
            j = a_end;
            let mut value = String::new();
            if j < b.len() && b[j] == b'=' {
                j += 1;
                if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                    let q = b[j] as char;
                    let end = html[j + 1..].find(q).map_or(b.len(), |e| j + 1 + e);
                    value = html[j + 1..end].to_string();
                    j = end + 1;
                } else {
                    let end = html[j..].find(|c: char| c.is_whitespace() || c == '>').map_or(b.len(), |e| j + e);
                    value = html[j..end].to_string();
                    j = end;
                }
            }
            attrs.push((attr, value));
        }
        i = j.min(b.len());
        tags.push((name, attrs));
    }
    tags
}

/// What in the markup could run code or fetch something: script-capable or
/// fetching elements, event handler attributes, and attributes that name a URL.
fn active_markup(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (name, attrs) in start_tags(html) {
        if ["script", "img", "iframe", "object", "embed", "link", "base", "video", "audio", "source", "b", "form"]
            .contains(&name.as_str())
        {
            found.push(format!("<{name}>"));
        }
        for (attr, value) in attrs {
            let url_attr = ["src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "background"];
            if attr.starts_with("on") || url_attr.contains(&attr.as_str()) || value.contains("url(") {
                found.push(format!("<{name} {attr}={value:?}>"));
            }
        }
    }
    found
}

/// Counts non-overlapping occurrences.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[test]
fn html_renders_in_chromium_and_hostile_text_stays_text() {
    if !have_tool("chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (paths, assessments) = inputs(dir.path());
    let html = report(dir.path(), &paths, "full", "html");
    let dom = dump_dom(dir.path(), &html);

    // Nothing the hosts wrote became markup, and nothing ran.
    assert_eq!(active_markup(&dom), Vec::<String>::new(), "active markup in the DOM");
    assert!(start_tags(&dom).len() > 500, "the DOM was read");
    assert!(dom.contains("<title>Warden assessment report: Local assessment</title>"), "title untouched");
    assert!(dom.contains(&html_escape(HOSTILE)), "the hostile evidence is shown as text");
    assert!(dom.contains(&html_escape(HOSTILE_ASSET)), "the hostile host name is shown as text");

    // Structure: one host section per input, one article per finding, most severe first.
    let total: usize = assessments.iter().map(|a| a.findings.len()).sum();
    assert_eq!(count(&dom, "<section class=\"host\""), 2);
    assert_eq!(count(&dom, "<article class=\"finding\""), total);
    assert!(dom.contains(&format!("<td id=\"summary-findings\">{total}</td>")));
    for section in dom.split("<section class=\"host\"").skip(1) {
        let order: Vec<usize> = section
            .split("<article class=\"finding\" data-severity=\"")
            .skip(1)
            .map(|s| {
                ["Critical", "High", "Medium", "Low", "Informational"].iter().position(|x| s.starts_with(x)).unwrap()
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "findings ordered by severity: {order:?}");
    }
    for f in &assessments[0].findings {
        assert!(dom.contains(&html_escape(&f.title)), "finding {:?} is in the DOM", f.title);
        assert!(dom.contains(&html_escape(&f.recommendation)));
    }
    // FULL lists passed rules; the charts are inline SVG.
    assert!(dom.contains("data-outcome=\"pass\""));
    assert_eq!(count(&dom, "<svg"), 2);
}

#[test]
fn html_makes_no_network_request() {
    if !have_tool("chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (paths, _) = inputs(dir.path());
    let html = report(dir.path(), &paths, "finding", "html");
    let text = fs::read_to_string(&html).unwrap();
    // No address the document could fetch: no fetching element or URL
    // attribute, and a style sheet without url() or @import.
    assert_eq!(active_markup(&text), Vec::<String>::new(), "the report could fetch something");
    let style = &text[text.find("<style>").unwrap()..text.find("</style>").unwrap()];
    assert!(!style.contains("url(") && !style.contains("@import"), "the style sheet fetches nothing");
    // The hostile host text carries a URL, but only as escaped text.
    assert!(text.contains("=HYPERLINK(&quot;http://canary.invalid&quot;)"));
    assert_eq!(page_requests(dir.path(), &html), Vec::<String>::new(), "the report made requests");

    // The check can fail: a page with a stylesheet and an image to fetch is caught.
    let canary = dir.path().join("canary.html");
    fs::write(
        &canary,
        "<!DOCTYPE html><html><head><link rel=stylesheet href=\"https://canary.invalid/s.css\"></head>\
         <body><img src=\"http://canary.invalid/x.png\"></body></html>",
    )
    .unwrap();
    assert_eq!(active_markup(&fs::read_to_string(&canary).unwrap()).len(), 4, "the static check sees the canary");
    let caught = page_requests(dir.path(), &canary);
    assert!(caught.iter().any(|u| u.contains("canary.invalid/x.png")), "{caught:?}");
    assert!(caught.iter().any(|u| u.contains("canary.invalid/s.css")), "{caught:?}");
}

#[test]
fn pdf_has_every_finding_and_numbered_pages() {
    if !have_tool("pdftotext") || !have_tool("pdftoppm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (paths, assessments) = inputs(dir.path());
    let pdf = report(dir.path(), &paths, "full", "pdf");
    let out = Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // pdftotext ends every page with a form feed.
    let pages: Vec<&str> = text.split('\x0c').filter(|p| !p.trim().is_empty()).collect();
    let n = pages.len();
    assert!(n > 5, "{n} pages for about 100 findings");
    for (i, page) in pages.iter().enumerate() {
        assert!(page.contains(&format!("Page {} of {n}", i + 1)), "page {} has its number", i + 1);
    }
    // Titles may wrap over lines: compare with white space folded.
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for f in assessments.iter().flat_map(|a| &a.findings) {
        let title: String = f.title.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(folded.contains(&title), "finding {title:?} is in the PDF");
    }
    assert!(folded.contains("1. Executive summary") && folded.contains("3. Rules checked"));
    assert!(folded.contains(&HOSTILE.split_whitespace().collect::<Vec<_>>().join(" ")), "host text as written");

    // Every page renders.
    let prefix = dir.path().join("page");
    let out = Command::new("pdftoppm").args(["-r", "30", "-png"]).arg(&pdf).arg(&prefix).output().unwrap();
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let pngs = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".png"))
        .count();
    assert_eq!(pngs, n);
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (paths, assessments) = inputs(dir.path());
    let sarif = report(dir.path(), &paths, "finding", "sarif");
    let schema = fixture("reports/sarif-2.1.0-rtm.5.json");
    let code = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
log = json.load(open(sys.argv[2]))
jsonschema.Draft4Validator.check_schema(schema)
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.path))
for e in errors[:20]:
    print("INVALID", list(e.path), e.message[:300])
print("results", len(log["runs"][0]["results"]))
"#;
    let out = run_python(&python, code, &[&schema, &sarif]);
    assert!(!out.contains("INVALID"), "{out}");
    let total: usize = assessments.iter().map(|a| a.findings.len()).sum();
    assert!(out.contains(&format!("results {total}")), "{out}");

    // The validator can fail: a result without a message is refused.
    let mut log: serde_json::Value = serde_json::from_str(&fs::read_to_string(&sarif).unwrap()).unwrap();
    log["runs"][0]["results"][0].as_object_mut().unwrap().remove("message");
    log["runs"][0]["results"][1]["level"] = "severe".into();
    let broken = dir.path().join("broken.sarif");
    fs::write(&broken, log.to_string()).unwrap();
    let out = run_python(&python, code, &[&schema, &broken]);
    assert!(out.contains("INVALID"), "a broken log is caught: {out}");
}

#[test]
fn csv_reads_back_with_pythons_csv_module() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (paths, assessments) = inputs(dir.path());
    let csv = report(dir.path(), &paths, "finding", "csv");
    let code = r#"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
print(json.dumps(rows))
"#;
    let rows: Vec<Vec<String>> = serde_json::from_str(&run_python(&python, code, &[&csv])).unwrap();
    assert_eq!(rows[0][..6], ["Severity", "Date", "Finding", "Target", "Template", "Rules Package"]);
    let findings: Vec<_> = assessments.iter().flat_map(|a| &a.findings).collect();
    assert_eq!(rows.len(), 1 + findings.len());
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    for row in &rows[1..] {
        assert_eq!(row.len(), rows[0].len());
    }
    // Rows follow the report's order (host by host, most severe first): compare as sets.
    let got: BTreeSet<(String, String, String)> = rows[1..]
        .iter()
        .map(|r| (r[col("Asset")].clone(), r[col("Rule")].clone(), r[col("Finding")].clone()))
        .collect();
    let want: BTreeSet<(String, String, String)> =
        findings.iter().map(|f| (f.asset.clone(), f.rule_id.clone(), f.title.clone())).collect();
    assert_eq!(got, want);
    let cve = rows[1..].iter().find(|r| !r[col("CVE ID")].is_empty()).expect("a CVE row");
    assert!(cve[col("CVE ID")].starts_with("CVE-"));
    assert!(!cve[col("Package Name")].is_empty());
    // Multi-line, quoted, comma-bearing evidence survives; the formula is defused.
    let hostile = rows[1..].iter().find(|r| r[col("Asset")] == HOSTILE_ASSET).unwrap();
    assert!(hostile[col("Evidence")].contains(HOSTILE));
    assert!(rows.iter().flatten().all(|c| !c.starts_with('=')));
}

#[test]
fn markdown_and_json_describe_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, assessments) = inputs(dir.path());
    let total: usize = assessments.iter().map(|a| a.findings.len()).sum();
    let json = report(dir.path(), &paths, "full", "json");
    let run: warden_report::RunReport = serde_json::from_str(&fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(run.finding_count(), total);
    assert_eq!(run.report_type, warden_report::ReportType::Full);
    assert_eq!(run.hosts[0].rules.len(), assessments[0].rules.len(), "FULL keeps every rule");
    let md = fs::read_to_string(report(dir.path(), &paths, "finding", "markdown")).unwrap();
    assert!(md.len() <= 60_000);
    assert!(md.contains(&format!("| **Total** | **{total}** |")));
    assert!(!md.contains("<script") && !md.contains("<b "), "host text cannot open HTML");
}

#[test]
fn bad_inputs_are_named_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, "{\n  \"schema_version\": 1,\n  \"asset\": 7\n}\n").unwrap();
    let out = warden().args(["report", "--format", "html", "--input"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:", bad.display())), "{err}");

    let snapshot = dir.path().join("snap.json");
    fs::write(&snapshot, "{\"schema_version\": 1, \"warden_version\": \"x\"}").unwrap();
    let out = warden().args(["report", "--format", "csv", "--input"]).arg(&snapshot).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid assessment"));

    let out = warden().args(["report", "--format", "docx", "--input"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown format"));

    // A failed report leaves no file behind.
    let target = dir.path().join("out.html");
    let out =
        warden().args(["report", "--format", "html", "-o"]).arg(&target).arg("--input").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with("out.html"))
    );
}

// ---- SBOM ----

/// `warden sbom --root ROOT --format FORMAT -o FILE`.
fn sbom(root: &Path, format: &str, path: &Path) {
    let out = warden().args(["sbom", "--format", format, "--root"]).arg(root).arg("-o").arg(path).output().unwrap();
    assert!(out.status.success(), "warden sbom failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// (name, version, arch) of every installed package, from dpkg itself.
fn dpkg_installed(root: &Path) -> BTreeSet<(String, String, String)> {
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", root.join("var/lib/dpkg").display()))
        .args(["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n"])
        .output()
        .unwrap();
    assert!(out.status.success(), "dpkg-query: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            // `ii ` (installed) and the trigger states count as installed; `rc` (config files only) does not.
            matches!(f[0].trim(), "ii" | "it" | "iW" | "iU")
                .then(|| (f[1].to_string(), f[2].to_string(), f[3].to_string()))
        })
        .collect()
}

/// Validates a CycloneDX 1.5 file with cyclonedx-python-lib's strict JSON
/// validator (None when valid, else the error) and parses every purl with
/// packageurl-python: (type, namespace, name, version, arch, distro).
const CYCLONEDX_CHECK: &str = r#"
import json, sys
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.schema import SchemaVersion
from packageurl import PackageURL
text = open(sys.argv[1]).read()
error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
print("VALIDATION", "ok" if error is None else repr(error)[:2000])
for c in json.loads(text)["components"]:
    p = PackageURL.from_string(c["purl"])
    print("PKG", p.type, p.namespace, p.name, p.version, p.qualifiers.get("arch"), p.qualifiers.get("distro"), sep="\t")
"#;

/// The purls of a valid CycloneDX file, parsed by packageurl-python.
fn cyclonedx_purls(python: &Path, path: &Path) -> Vec<Vec<String>> {
    let out = run_python(python, CYCLONEDX_CHECK, &[path]);
    assert!(out.contains("VALIDATION ok"), "{out}");
    out.lines().filter_map(|l| l.strip_prefix("PKG\t")).map(|l| l.split('\t').map(String::from).collect()).collect()
}

/// pyspdxtools parses and validates (non-zero exit on any error).
fn assert_spdx_valid(python: &Path, path: &Path) {
    let out = Command::new(python.with_file_name("pyspdxtools")).arg("-i").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "pyspdxtools rejected {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sboms_of_the_alpine_and_ubuntu_fixture_roots_validate() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (root, kind, namespace, distro) in [
        ("alpine-3.20-packages", "apk", "alpine", "alpine-3.20.1"),
        ("ubuntu-22.04-packages", "deb", "ubuntu", "ubuntu-22.04"),
    ] {
        let root_dir = fixture(&format!("roots/{root}")).join("root");
        let (cdx, spdx) = (dir.path().join(format!("{root}.cdx.json")), dir.path().join(format!("{root}.spdx.json")));
        sbom(&root_dir, "cyclonedx", &cdx);
        sbom(&root_dir, "spdx", &spdx);
        assert_spdx_valid(&python, &spdx);
        let purls = cyclonedx_purls(&python, &cdx);
        assert!(purls.len() >= 3, "{root}: {purls:?}");
        // The oracle: package names and versions read straight from the database by Python.
        let oracle = if kind == "apk" {
            r#"
import sys
name = None
for line in open(sys.argv[1] + "/lib/apk/db/installed"):
    if line.startswith("P:"): name = line[2:].strip()
    if line.startswith("V:"): print(name, line[2:].strip(), sep="\t")
"#
        } else {
            r#"
import sys
for stanza in open(sys.argv[1] + "/var/lib/dpkg/status").read().split("\n\n"):
    f = dict(l.split(": ", 1) for l in stanza.splitlines() if ": " in l and not l.startswith(" "))
    if f.get("Status", "").endswith(" installed"): print(f["Package"], f["Version"], sep="\t")
"#
        };
        let want: BTreeSet<(String, String)> = run_python(&python, oracle, &[&root_dir])
            .lines()
            .map(|l| {
                let (n, v) = l.split_once('\t').unwrap();
                (n.to_string(), v.to_string())
            })
            .collect();
        let got: BTreeSet<(String, String)> = purls
            .iter()
            .map(|p| {
                assert_eq!((p[0].as_str(), p[1].as_str(), p[5].as_str()), (kind, namespace, distro), "{p:?}");
                (p[2].clone(), p[3].clone())
            })
            .collect();
        assert_eq!(got, want, "{root}: the SBOM's packages are the database's");
    }
}

#[test]
fn sboms_of_the_real_debian_root_validate_and_match_dpkg() {
    let Some(rootfs) = common::debian_rootfs_or_skip() else { return };
    if !have_tool("dpkg-query") {
        return;
    }
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cdx = dir.path().join("bom.cdx.json");
    let spdx = dir.path().join("bom.spdx.json");
    sbom(&rootfs, "cyclonedx", &cdx);
    sbom(&rootfs, "spdx", &spdx);

    let want = dpkg_installed(&rootfs);
    assert!(want.len() > 80, "the Debian 12 root has its minbase packages");

    // CycloneDX 1.5: cyclonedx-python-lib's strict JSON validator; purls parsed with packageurl-python.
    let mut got = BTreeSet::new();
    for p in cyclonedx_purls(&python, &cdx) {
        assert_eq!((p[0].as_str(), p[1].as_str(), p[5].as_str()), ("deb", "debian", "debian-12"), "{p:?}");
        got.insert((p[2].clone(), p[3].clone(), p[4].clone()));
    }
    assert_eq!(got, want, "CycloneDX components are dpkg's installed packages");

    // SPDX 2.3: pyspdxtools parses and validates.
    assert_spdx_valid(&python, &spdx);
    let tool = python.with_file_name("pyspdxtools");
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&spdx).unwrap()).unwrap();
    let spdx_set: BTreeSet<(String, String)> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["primaryPackagePurpose"] == "LIBRARY")
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["versionInfo"].as_str().unwrap().to_string()))
        .collect();
    let want_nv: BTreeSet<(String, String)> = want.iter().map(|(n, v, _)| (n.clone(), v.clone())).collect();
    assert_eq!(spdx_set, want_nv, "SPDX packages are dpkg's installed packages");

    // The validators can fail: a component without a type and an SPDX package without an id are refused.
    let mut bad: serde_json::Value = serde_json::from_str(&fs::read_to_string(&cdx).unwrap()).unwrap();
    bad["components"][0].as_object_mut().unwrap().remove("type");
    let bad_cdx = dir.path().join("bad.cdx.json");
    fs::write(&bad_cdx, bad.to_string()).unwrap();
    assert!(!run_python(&python, CYCLONEDX_CHECK, &[&bad_cdx]).contains("VALIDATION ok"));
    let mut bad = doc.clone();
    bad["packages"][1]["SPDXID"] = "not an id".into();
    let bad_spdx = dir.path().join("bad.spdx.json");
    fs::write(&bad_spdx, bad.to_string()).unwrap();
    assert!(!Command::new(&tool).arg("-i").arg(&bad_spdx).output().unwrap().status.success());
}

#[test]
fn sboms_are_deterministic_but_for_time_and_serial() {
    let Some(rootfs) = common::debian_rootfs_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    for format in ["cyclonedx", "spdx"] {
        let (a, b) = (dir.path().join(format!("a.{format}")), dir.path().join(format!("b.{format}")));
        sbom(&rootfs, format, &a);
        sbom(&rootfs, format, &b);
        let strip = |p: &Path| {
            let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap();
            let (x, y) = (v.clone(), &mut v);
            for key in ["serialNumber", "documentNamespace"] {
                y.as_object_mut().unwrap().remove(key);
            }
            y["metadata"].as_object_mut().map(|m| m.remove("timestamp"));
            y["creationInfo"].as_object_mut().map(|m| m.remove("created"));
            (x, v)
        };
        let ((ra, sa), (rb, sb)) = (strip(&a), strip(&b));
        assert_ne!(ra, rb, "{format}: serial or namespace differ between runs");
        assert_eq!(sa, sb, "{format}: the rest is identical");
    }
}

#[test]
fn sbom_of_a_snapshot_without_packages_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("empty-root");
    fs::create_dir_all(root.join("etc")).unwrap();
    let out = warden().args(["sbom", "--format", "spdx", "--root"]).arg(&root).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no package inventory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
