//! Costs on the request path: SigV4 verification, and the protocol work the
//! router does before a backend method runs (JSON parse, model validation,
//! typed decode), at several request sizes; plus paging-token checks.
//!
//! Run: `cargo bench -p warden-inspector` (figures in docs/inspector-api.md).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use warden_inspector::credentials::StaticCredentials;
use warden_inspector::model::model;
use warden_inspector::paging::{ARN_PAGE, Pager};
use warden_inspector::sigv4::{SigV4Config, SignedRequest, authorization, verify};
use warden_inspector::timestamp::{format_amz_date, unix_now};
use warden_inspector::types::CreateAssessmentTemplateRequest;
use warden_inspector::validate::check_request;

fn sigv4(c: &mut Criterion) {
    let store = StaticCredentials::new([("AKIDBENCH", "bench-secret")]);
    let config = SigV4Config { region: Some("us-east-1".into()) };
    let now = unix_now();
    let date = format_amz_date(now);
    let mut group = c.benchmark_group("sigv4_verify");
    for size in [2usize, 1024, 16 * 1024, 200 * 1024] {
        let body = vec![b' '; size];
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("host", "127.0.0.1:8443"),
            ("x-amz-date", date.as_str()),
            ("x-amz-target", "InspectorService.ListFindings"),
        ];
        let names: Vec<String> = headers.iter().map(|(n, _)| n.to_string()).collect();
        let unsigned = SignedRequest { method: "POST", path: "/", query: "", headers: headers.to_vec(), body: &body };
        let auth = authorization(&unsigned, &names, "AKIDBENCH", "bench-secret", "us-east-1", &date);
        let mut all = headers.to_vec();
        all.push(("authorization", auth.as_str()));
        let req = SignedRequest { method: "POST", path: "/", query: "", headers: all, body: &body };
        assert!(verify(&req, &store, &config, now).is_ok());
        group.bench_with_input(BenchmarkId::from_parameter(size), &req, |b, req| {
            b.iter(|| verify(black_box(req), &store, &config, now).unwrap())
        });
    }
    group.finish();
}

fn template_request(rules_packages: usize, attributes: usize) -> Vec<u8> {
    let arns: Vec<String> = (0..rules_packages)
        .map(|i| format!("arn:aws:inspector:us-east-1:316112463485:rulespackage/0-{i:08}"))
        .collect();
    let attrs: Vec<Value> =
        (0..attributes).map(|i| json!({"key": format!("k{i}"), "value": "v".repeat(200)})).collect();
    json!({
        "assessmentTargetArn": "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa",
        "assessmentTemplateName": "nightly",
        "durationInSeconds": 3600,
        "rulesPackageArns": arns,
        "userAttributesForFindings": attrs,
    })
    .to_string()
    .into_bytes()
}

fn protocol(c: &mut Criterion) {
    let m = model();
    let op = m.operation("CreateAssessmentTemplate").unwrap();
    let mut group = c.benchmark_group("parse_validate_decode");
    for (packages, attributes) in [(1, 0), (5, 2), (50, 10)] {
        let body = template_request(packages, attributes);
        group.bench_with_input(BenchmarkId::from_parameter(format!("{}B", body.len())), &body, |b, body| {
            b.iter(|| {
                let v: Value = serde_json::from_slice(black_box(body)).unwrap();
                check_request(m, op, &v).unwrap();
                let typed: CreateAssessmentTemplateRequest = serde_json::from_value(v).unwrap();
                typed
            })
        });
    }
    group.finish();

    let pager = Pager::new(b"bench");
    let items: Vec<String> = (0..1000).map(|i| format!("arn-{i}")).collect();
    let query =
        json!({"assessmentRunArns": ["arn:aws:inspector:us-east-1:123456789012:target/0-a/template/0-b/run/0-c"]});
    let (_, token) = pager.page("ListFindings", &query, None, Some(100), ARN_PAGE, &items).unwrap();
    let token = token.unwrap();
    c.bench_function("paging_token_check_and_next_page", |b| {
        b.iter(|| pager.page("ListFindings", &query, Some(black_box(&token)), Some(100), ARN_PAGE, &items).unwrap())
    });
}

criterion_group!(benches, sigv4, protocol);
criterion_main!(benches);
