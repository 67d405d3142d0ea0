//! `ListFindings` and `DescribeFindings` served from a real SQLite fleet
//! store (a file on disk, WAL) holding 1k, 10k and 100k findings, through
//! `StoreBackend` and through the full HTTP router with SigV4.
//!
//! Why it exists: findings are the one Inspector list that grows with the
//! fleet; this shows that a page costs the same at 100k findings as at 1k
//! (keyset paging over the indexes of migration 0003), filtered or not,
//! first page or deep.
//!
//! Run: `cargo bench -p warden-server --bench inspector_findings` (figures
//! in docs/inspector-api.md). `WARDEN_BENCH_FINDINGS=1000,10000` picks the
//! sizes.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::http::Request;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tower::ServiceExt;
use warden_inspector::arn::ArnContext;
use warden_inspector::backend::{InspectorBackend, RequestContext};
use warden_inspector::credentials::StaticCredentials;
use warden_inspector::router::{InspectorService, router};
use warden_inspector::sigv4::{SigV4Config, SignedRequest, authorization};
use warden_inspector::timestamp::{format_amz_date, unix_now};
use warden_inspector::types::{
    Attribute, DescribeFindingsRequest, FindingFilter, ListFindingsRequest, ListFindingsResponse, Severity,
};
use warden_model::{Evidence, Severity as WardenSeverity};
use warden_server::inspector_backend::StoreBackend;
use warden_store::prelude::*;
use warden_store::{AssetAttributes, NewFinding, NewTemplate, SqliteStore};

const REGION: &str = "us-west-2";
const AKID: &str = "AKIDBENCHFINDINGS";
const SECRET: &str = "bench-findings-secret";
const RUNS: usize = 10;
const AGENTS: usize = 50;
const PACKAGES: [&str; 4] = ["cve", "cis", "best-practices", "runtime-behavior"];

/// One filled store and what the benchmarks ask of it.
struct Fleet {
    _dir: tempfile::TempDir,
    backend: Arc<StoreBackend>,
    app: axum::Router,
    /// The `nextToken` of the page that starts half-way through the findings.
    deep_token: String,
    /// The same for the High severity filter.
    deep_high_token: String,
    /// 100 finding ARNs.
    arns: Vec<String>,
}

fn finding(i: usize) -> NewFinding {
    let severity = WardenSeverity::ALL[i % WardenSeverity::ALL.len()];
    let agent = format!("i-{:017x}", i % AGENTS);
    NewFinding {
        agent_id: agent.clone(),
        package: PACKAGES[i % PACKAGES.len()].to_string(),
        rule_id: format!("CVE-2024-{}", i % 1000),
        title: format!("Instance {agent} is vulnerable to CVE-2024-{}", i % 1000),
        severity,
        numeric_severity: severity.numeric(),
        description: "A vulnerability in a package installed on the instance. ".repeat(8),
        recommendation: "Upgrade the package to the fixed version.".into(),
        evidence: vec![Evidence {
            message: format!("pkg{} 1.0-{} is installed", i % 300, i % 7),
            path: Some("/var/lib/dpkg/status".into()),
            line: Some((i % 5000) as u32 + 1),
            text: None,
            is_default: false,
        }],
        attributes: vec![
            warden_store::Attribute::new("CVE_ID", format!("CVE-2024-{}", i % 1000)),
            warden_store::Attribute::new("package_name", format!("pkg{}", i % 300)),
            warden_store::Attribute::new("fixed_version", "1.0-9"),
        ],
        user_attributes: vec![warden_store::Attribute::new("team", "web")],
        asset: AssetAttributes {
            agent_id: agent,
            hostname: Some(format!("web-{}", i % AGENTS)),
            ipv4_addresses: vec![format!("10.0.0.{}", i % AGENTS + 1)],
            tags: vec![warden_store::Attribute::new("aws:autoscaling:groupName", format!("asg-{}", i % 3))],
        },
    }
}

fn ctx() -> RequestContext {
    RequestContext { access_key_id: AKID.into(), request_id: "bench".into() }
}

fn list_request(filter: Option<FindingFilter>, token: Option<String>) -> ListFindingsRequest {
    ListFindingsRequest { assessment_run_arns: None, filter, next_token: token, max_results: Some(100) }
}

fn filter() -> FindingFilter {
    // Every member is optional: the empty JSON object is the empty filter.
    serde_json::from_str("{}").expect("an empty FindingFilter")
}

fn high() -> Option<FindingFilter> {
    Some(FindingFilter { severities: Some(vec![Severity::High]), ..filter() })
}

/// About 1 finding in 300.
fn one_package() -> Option<FindingFilter> {
    Some(FindingFilter {
        attributes: Some(vec![Attribute { key: "package_name".into(), value: Some("pkg7".into()) }]),
        ..filter()
    })
}

fn list(rt: &tokio::runtime::Runtime, backend: &StoreBackend, request: ListFindingsRequest) -> ListFindingsResponse {
    rt.block_on(InspectorBackend::list_findings(backend, &ctx(), request)).expect("ListFindings")
}

/// The token of the page starting half-way, walking there page by page.
fn token_half_way(
    rt: &tokio::runtime::Runtime,
    backend: &StoreBackend,
    filter: Option<FindingFilter>,
    n: usize,
) -> String {
    let mut token = None;
    for _ in 0..(n / 2 / 100).max(1) {
        token = list(rt, backend, list_request(filter.clone(), token)).next_token;
    }
    token.expect("more than one page")
}

fn fill(rt: &tokio::runtime::Runtime, n: usize) -> Fleet {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("warden.db")).expect("store"));
    let target = store.create_target("fleet", None, &[], 1).unwrap();
    let template = store
        .create_template(
            &NewTemplate {
                target_id: target.id.clone(),
                name: "nightly".into(),
                duration_seconds: 3600,
                sampling_interval_seconds: 30,
                packages: PACKAGES.iter().map(|p| p.to_string()).collect(),
                user_attributes: vec![warden_store::Attribute::new("team", "web")],
            },
            1,
        )
        .unwrap();
    let runs: Vec<_> =
        (0..RUNS).map(|i| store.create_run(&template.id, Some(&format!("run {i}")), 1).unwrap()).collect();
    let started = Instant::now();
    let per_run = n / RUNS;
    for (r, run) in runs.iter().enumerate() {
        for chunk in (0..per_run).collect::<Vec<_>>().chunks(1000) {
            let findings: Vec<NewFinding> = chunk.iter().map(|i| finding(r * per_run + i)).collect();
            store.insert_findings(&run.id, &findings, 1_700_000_000_000 + r as i64).unwrap();
        }
    }
    println!(
        "filled {n} findings in {:.1} s; database {:.1} MB",
        started.elapsed().as_secs_f64(),
        store.size_bytes() as f64 / 1e6
    );
    let backend = Arc::new(StoreBackend::new(
        store as Arc<dyn FleetStore>,
        ArnContext::new(REGION, "123456789012"),
        b"bench paging secret",
    ));
    let deep_token = token_half_way(rt, &backend, None, n);
    let deep_high_token = token_half_way(rt, &backend, high(), n / 5 * 2);
    let arns = list(rt, &backend, list_request(None, None)).finding_arns;
    assert_eq!(arns.len(), 100);
    let service = Arc::new(InspectorService {
        backend: backend.clone(),
        credentials: Arc::new(StaticCredentials::new([(AKID, SECRET)])),
        sigv4: SigV4Config { region: Some(REGION.into()) },
        body_limit: warden_inspector::router::DEFAULT_BODY_LIMIT,
    });
    Fleet { _dir: dir, backend, app: router(service), deep_token, deep_high_token, arns }
}

/// One signed request through the router; the status must be 200.
async fn call(app: &axum::Router, operation: &str, body: &[u8]) -> usize {
    let date = format_amz_date(unix_now());
    let target = format!("InspectorService.{operation}");
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("host", "127.0.0.1:8443"),
        ("x-amz-date", date.as_str()),
        ("x-amz-target", target.as_str()),
    ];
    let names: Vec<String> = headers.iter().map(|(n, _)| n.to_string()).collect();
    let signed = SignedRequest { method: "POST", path: "/", query: "", headers: headers.to_vec(), body };
    let auth = authorization(&signed, &names, AKID, SECRET, REGION, &date);
    let mut req = Request::post("/");
    for (n, v) in headers {
        req = req.header(n, v);
    }
    let req = req.header("authorization", auth).body(Body::from(body.to_vec())).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    bytes.len()
}

fn sizes() -> Vec<usize> {
    match std::env::var("WARDEN_BENCH_FINDINGS") {
        Ok(list) => list.split(',').map(|s| s.trim().parse().expect("WARDEN_BENCH_FINDINGS: numbers")).collect(),
        Err(_) => vec![1_000, 10_000, 100_000],
    }
}

fn findings(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut group = c.benchmark_group("inspector_findings");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for n in sizes() {
        let fleet = fill(&rt, n);
        let b = fleet.backend.as_ref();
        let cases: [(&str, ListFindingsRequest); 6] = [
            ("list_page1", list_request(None, None)),
            ("list_deep_page", list_request(None, Some(fleet.deep_token.clone()))),
            ("list_high_page1", list_request(high(), None)),
            ("list_high_deep_page", list_request(high(), Some(fleet.deep_high_token.clone()))),
            ("list_attribute_page1", list_request(one_package(), None)),
            (
                "list_run_agent_severity",
                ListFindingsRequest {
                    filter: Some(FindingFilter {
                        agent_ids: Some(vec![format!("i-{:017x}", 7), format!("i-{:017x}", 8)]),
                        severities: Some(vec![Severity::High, Severity::Medium]),
                        ..filter()
                    }),
                    ..list_request(None, None)
                },
            ),
        ];
        for (name, request) in cases {
            let page = list(&rt, b, request.clone());
            assert!(!page.finding_arns.is_empty(), "{name} at {n}: empty page");
            group.bench_with_input(BenchmarkId::new(name, n), &request, |bench, request| {
                bench.iter(|| list(&rt, b, black_box(request.clone())))
            });
        }
        for count in [10, 100] {
            let request = DescribeFindingsRequest { finding_arns: fleet.arns[..count].to_vec(), locale: None };
            group.bench_with_input(BenchmarkId::new(format!("describe_{count}"), n), &request, |bench, request| {
                bench.iter(|| {
                    let out = rt.block_on(InspectorBackend::describe_findings(b, &ctx(), black_box(request.clone())));
                    assert_eq!(out.expect("DescribeFindings").findings.len(), count);
                })
            });
        }
        // The whole request path: SigV4, model validation, backend, JSON.
        let list_body = serde_json::to_vec(&list_request(high(), None)).unwrap();
        group.bench_with_input(BenchmarkId::new("http_list_high_page1", n), &list_body, |bench, body| {
            bench.iter(|| rt.block_on(call(&fleet.app, "ListFindings", body)))
        });
        // The model allows 10 ARNs a DescribeFindings request.
        let describe_body =
            serde_json::to_vec(&DescribeFindingsRequest { finding_arns: fleet.arns[..10].to_vec(), locale: None })
                .unwrap();
        group.bench_with_input(BenchmarkId::new("http_describe_10", n), &describe_body, |bench, body| {
            bench.iter(|| rt.block_on(call(&fleet.app, "DescribeFindings", body)))
        });
    }
    group.finish();
}

criterion_group!(benches, findings);
criterion_main!(benches);
