//! Findings operations over a real in-memory SQLite fleet store: every
//! `FindingFilter` field, keyset paging, the full `Finding` shape,
//! `failedItems`, and user attributes added and removed.

use std::collections::BTreeSet;

use warden_model::{Evidence, Severity as WardenSeverity};
use warden_store::prelude::*;
use warden_store::{AssetAttributes, NewFinding, NewTemplate, SqliteStore};

use super::*;
use crate::inspector_backend::test_support::{ACCOUNT, CVE_US_EAST_1, REGION, backend_over, block_on, ctx, nightly};

/// `cis` in us-east-1 (any region's real ARN names the package).
const CIS_US_EAST_1: &str = "arn:aws:inspector:us-east-1:316112463485:rulespackage/0-rExsr2X8";

fn attr(k: &str, v: &str) -> Attribute {
    Attribute::new(k, v)
}

fn wire(k: &str, v: Option<&str>) -> WireAttribute {
    WireAttribute { key: k.into(), value: v.map(Into::into) }
}

/// A store with one target, one template and `runs` runs, and the backend over it.
struct Fixture {
    store: Arc<SqliteStore>,
    backend: StoreBackend,
    runs: Vec<warden_store::Run>,
}

impl Fixture {
    fn new(runs: usize) -> Fixture {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let target = store.create_target("web", None, &[], 1_000).unwrap();
        let template = store
            .create_template(
                &NewTemplate { user_attributes: vec![attr("team", "web")], ..nightly(&target.id, &["cve", "cis"]) },
                1_000,
            )
            .unwrap();
        let runs =
            (0..runs).map(|i| store.create_run(&template.id, Some(&format!("run {i}")), 1_000).unwrap()).collect();
        let backend = backend_over(store.clone());
        Fixture { store, backend, runs }
    }

    fn run_arn(&self, i: usize) -> String {
        let run = &self.runs[i];
        let template = self.store.get_template(&run.template_id).unwrap();
        self.backend.run_arn(&template, &run.id).unwrap()
    }

    /// Stores findings in run `run` made at `now`; returns their ARNs.
    fn add(&self, run: usize, findings: &[NewFinding], now: UnixMillis) -> Vec<String> {
        let r = &self.runs[run];
        let ids = self.store.insert_findings(&r.id, findings, now).unwrap();
        ids.iter()
            .map(|id| {
                self.backend
                    .finding_arn(&FindingKey {
                        id: id.clone(),
                        run_id: r.id.clone(),
                        template_id: r.template_id.clone(),
                        target_id: r.target_id.clone(),
                    })
                    .unwrap()
            })
            .collect()
    }

    fn list(&self, request: ListFindingsRequest) -> Result<ListFindingsResponse, ApiError> {
        block_on(self.backend.list_findings(&ctx(), request))
    }

    /// Every ARN the request lists, following `nextToken` with pages of `max`.
    fn list_all(&self, filter: Option<FindingFilter>, runs: Option<Vec<String>>, max: i32) -> Vec<String> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .list(ListFindingsRequest {
                    assessment_run_arns: runs.clone(),
                    filter: filter.clone(),
                    next_token: token,
                    max_results: Some(max),
                })
                .unwrap();
            assert!(page.finding_arns.len() <= max.min(100) as usize);
            out.extend(page.finding_arns);
            match page.next_token {
                Some(t) => token = Some(t),
                None => return out,
            }
        }
    }

    fn describe(&self, arns: Vec<String>) -> DescribeFindingsResponse {
        block_on(self.backend.describe_findings(&ctx(), DescribeFindingsRequest { finding_arns: arns, locale: None }))
            .unwrap()
    }
}

fn finding(agent: &str, package: &str, rule: &str, severity: WardenSeverity) -> NewFinding {
    NewFinding {
        agent_id: agent.into(),
        package: package.into(),
        rule_id: rule.into(),
        title: format!("Instance {agent} fails {rule}"),
        severity,
        numeric_severity: severity.numeric(),
        description: "what the rule checks".into(),
        recommendation: "how to fix it".into(),
        evidence: vec![],
        attributes: vec![],
        user_attributes: vec![attr("team", "web")],
        asset: AssetAttributes { agent_id: agent.into(), ..Default::default() },
    }
}

fn empty_filter() -> FindingFilter {
    // Every member is optional: the empty JSON object is the empty filter.
    serde_json::from_str("{}").expect("an empty FindingFilter")
}

fn set(arns: &[String]) -> BTreeSet<String> {
    arns.iter().cloned().collect()
}

fn no_such_entity(e: &ApiError) -> Option<NoSuchEntityErrorCode> {
    match e {
        ApiError::NoSuchEntity { code, .. } => Some(*code),
        _ => None,
    }
}

fn invalid_input(e: &ApiError) -> Option<InvalidInputErrorCode> {
    match e {
        ApiError::InvalidInput { code, .. } => *code,
        _ => None,
    }
}

#[test]
fn listing_pages_every_finding_once_at_most_100_a_page() {
    let fx = Fixture::new(2);
    let many: Vec<NewFinding> =
        (0..130).map(|i| finding("i-a", "cve", &format!("CVE-{i}"), WardenSeverity::Low)).collect();
    let mut all = fx.add(0, &many, 5_000);
    all.extend(fx.add(1, &many[..120], 5_000));

    let listed = fx.list_all(None, None, 500);
    assert_eq!(listed.len(), 250);
    assert_eq!(set(&listed), set(&all), "every finding once");
    let mut sorted = listed.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 250, "no finding repeated across pages");

    // maxResults above 100 still gives 100; absent gives the default 10.
    let first = fx
        .list(ListFindingsRequest { assessment_run_arns: None, filter: None, next_token: None, max_results: Some(500) })
        .unwrap();
    assert_eq!(first.finding_arns.len(), 100);
    assert!(first.next_token.is_some());
    let default = fx
        .list(ListFindingsRequest { assessment_run_arns: None, filter: None, next_token: None, max_results: None })
        .unwrap();
    assert_eq!(default.finding_arns.len(), 10);
    assert_eq!(fx.list_all(None, None, 7).len(), 250);

    // Finding ARNs embed their run: `…/run/R/finding/F`.
    let run0 = fx.run_arn(0);
    let of_run0 = fx.list_all(None, Some(vec![run0.clone()]), 100);
    assert_eq!(of_run0.len(), 130);
    assert!(of_run0.iter().all(|a| a.starts_with(&format!("{run0}/finding/0-"))), "{:?}", &of_run0[..2]);
    assert_eq!(fx.list_all(None, Some(vec![run0, fx.run_arn(1)]), 100).len(), 250);

    // A token is bound to its request: another filter cannot reuse it.
    let token = first.next_token.unwrap();
    let mut filter = empty_filter();
    filter.rule_names = Some(vec!["CVE-1".into()]);
    let e = fx
        .list(ListFindingsRequest {
            assessment_run_arns: None,
            filter: Some(filter),
            next_token: Some(token),
            max_results: Some(100),
        })
        .unwrap_err();
    assert_eq!(invalid_input(&e), Some(InvalidInputErrorCode::InvalidPaginationToken), "{e:?}");
}

#[test]
fn unknown_malformed_and_foreign_run_arns_are_refused() {
    let fx = Fixture::new(1);
    let run = fx.run_arn(0);
    let list = |arn: String| {
        fx.list(ListFindingsRequest {
            assessment_run_arns: Some(vec![arn]),
            filter: None,
            next_token: None,
            max_results: None,
        })
    };
    let unknown = format!("{}ZZZZZZZZ", &run[..run.len() - 8]);
    assert_eq!(no_such_entity(&list(unknown).unwrap_err()), Some(NoSuchEntityErrorCode::AssessmentRunDoesNotExist));
    let other_region = run.replace(REGION, "eu-west-1");
    assert_eq!(
        no_such_entity(&list(other_region).unwrap_err()),
        Some(NoSuchEntityErrorCode::AssessmentRunDoesNotExist)
    );
    // The run exists, but not under this template.
    let template_at = run.find("/template/0-").unwrap() + "/template/0-".len();
    let mut wrong_parent = run.clone();
    wrong_parent.replace_range(template_at..template_at + 8, "ZZZZZZZZ");
    assert_eq!(
        no_such_entity(&list(wrong_parent).unwrap_err()),
        Some(NoSuchEntityErrorCode::AssessmentRunDoesNotExist)
    );
    assert_eq!(
        invalid_input(&list("arn:aws:inspector:us-west-2:123456789012:target/0-aaaaaaaa".into()).unwrap_err()),
        Some(InvalidInputErrorCode::InvalidAssessmentRunArn)
    );
    // An empty list does not constrain.
    assert!(
        fx.list(ListFindingsRequest {
            assessment_run_arns: Some(vec![]),
            filter: None,
            next_token: None,
            max_results: None
        })
        .is_ok()
    );
}

#[test]
fn every_filter_field_selects_exactly_its_findings() {
    let fx = Fixture::new(1);
    let mut asg = finding("i-b", "cis", "1.1 Ensure x", WardenSeverity::Medium);
    asg.asset.tags = vec![attr("aws:autoscaling:groupName", "web-asg"), attr("env", "prod")];
    asg.attributes = vec![attr("BENCHMARK_RULE_ID", "1.1"), attr("CIS_BENCHMARK_PROFILE", "Level 1 - Server")];
    let mut cve = finding("i-a", "cve", "CVE-2024-1", WardenSeverity::Critical);
    cve.attributes = vec![attr("CVE_ID", "CVE-2024-1"), attr("package_name", "openssl")];
    cve.evidence = vec![Evidence {
        message: "openssl 3.0.1 is installed".into(),
        path: Some("/var/lib/dpkg/status".into()),
        line: Some(42),
        text: None,
        is_default: false,
    }];
    let mut other_cve = finding("i-b", "cve", "CVE-2024-2", WardenSeverity::High);
    other_cve.attributes = vec![attr("CVE_ID", "CVE-2024-2"), attr("package_name", "openssl")];
    let low = finding("i-c", "best-practices", "sbp-ssh-root-login", WardenSeverity::Low);
    let info = finding("i-c", "runtime-behavior", "rba-unused-port", WardenSeverity::Informational);
    let arns = fx.add(0, &[asg, cve, other_cve, low, info], 10_000);
    let late = fx.add(0, &[finding("i-d", "cve", "CVE-2024-3", WardenSeverity::Medium)], 20_000);
    let (asg, cve, other_cve, low, info, late) = (&arns[0], &arns[1], &arns[2], &arns[3], &arns[4], &late[0]);

    let listed = |edit: &dyn Fn(&mut FindingFilter)| {
        let mut f = empty_filter();
        edit(&mut f);
        set(&fx.list_all(Some(f), None, 2))
    };
    let expect = |arns: &[&String]| arns.iter().map(|a| a.to_string()).collect::<BTreeSet<_>>();

    assert_eq!(listed(&|_| {}).len(), 6);
    assert_eq!(listed(&|f| f.agent_ids = Some(vec!["i-b".into(), "i-d".into()])), expect(&[asg, other_cve, late]));
    assert_eq!(listed(&|f| f.auto_scaling_groups = Some(vec!["web-asg".into()])), expect(&[asg]));
    assert_eq!(
        listed(&|f| f.auto_scaling_groups = Some(vec!["prod".into()])),
        expect(&[]),
        "other tags are not groups"
    );
    assert_eq!(
        listed(&|f| f.rule_names = Some(vec!["CVE-2024-1".into(), "sbp-ssh-root-login".into()])),
        expect(&[cve, low])
    );
    // Inspector's High is Warden's High and Critical; Undefined is nothing Warden makes.
    assert_eq!(listed(&|f| f.severities = Some(vec![Severity::High])), expect(&[cve, other_cve]));
    assert_eq!(listed(&|f| f.severities = Some(vec![Severity::Low, Severity::Informational])), expect(&[low, info]));
    assert_eq!(listed(&|f| f.severities = Some(vec![Severity::Undefined])), expect(&[]));
    // Any region's ARN of a package names the package.
    let cve_here = fx.backend.catalogue.arn_of("cve").unwrap().to_string();
    assert_ne!(cve_here, CVE_US_EAST_1);
    assert_eq!(listed(&|f| f.rules_package_arns = Some(vec![CVE_US_EAST_1.into()])), expect(&[cve, other_cve, late]));
    assert_eq!(
        listed(&|f| f.rules_package_arns = Some(vec![cve_here.clone(), CIS_US_EAST_1.into()])),
        expect(&[asg, cve, other_cve, late])
    );
    let unknown_package = "arn:aws:inspector:us-east-1:316112463485:rulespackage/0-zzzzzzzz".to_string();
    assert_eq!(listed(&|f| f.rules_package_arns = Some(vec![unknown_package.clone()])), expect(&[]));
    // Attributes: every pair must be present; a key without a value matches any value.
    assert_eq!(
        listed(&|f| f.attributes = Some(vec![wire("package_name", Some("openssl"))])),
        expect(&[cve, other_cve])
    );
    assert_eq!(
        listed(
            &|f| f.attributes = Some(vec![wire("package_name", Some("openssl")), wire("CVE_ID", Some("CVE-2024-2"))])
        ),
        expect(&[other_cve])
    );
    assert_eq!(listed(&|f| f.attributes = Some(vec![wire("CIS_BENCHMARK_PROFILE", None)])), expect(&[asg]));
    // Evidence is filterable as the attributes DescribeFindings shows.
    assert_eq!(
        listed(&|f| f.attributes = Some(vec![wire("EVIDENCE_1_FILE", Some("/var/lib/dpkg/status"))])),
        expect(&[cve])
    );
    assert_eq!(listed(&|f| f.attributes = Some(vec![wire("WARDEN_SEVERITY", Some("Critical"))])), expect(&[cve]));
    // User attributes are the run's (from the template).
    assert_eq!(listed(&|f| f.user_attributes = Some(vec![wire("team", Some("web"))])).len(), 6);
    assert_eq!(listed(&|f| f.user_attributes = Some(vec![wire("team", Some("db"))])), expect(&[]));
    // Creation time range, both ends inclusive.
    let range =
        |b: Option<f64>, e: Option<f64>| TimestampRange { begin_date: b.map(Timestamp), end_date: e.map(Timestamp) };
    assert_eq!(listed(&|f| f.creation_time_range = Some(range(Some(20.0), None))), expect(&[late]));
    assert_eq!(listed(&|f| f.creation_time_range = Some(range(Some(10.0), Some(19.999)))).len(), 5);
    assert_eq!(listed(&|f| f.creation_time_range = Some(range(None, Some(20.0)))).len(), 6);
    // Fields are AND-ed.
    assert_eq!(
        listed(&|f| {
            f.agent_ids = Some(vec!["i-b".into()]);
            f.rules_package_arns = Some(vec![CVE_US_EAST_1.into()]);
            f.severities = Some(vec![Severity::High, Severity::Medium]);
        }),
        expect(&[other_cve])
    );

    let list_filter = |f: FindingFilter| {
        fx.list(ListFindingsRequest { assessment_run_arns: None, filter: Some(f), next_token: None, max_results: None })
    };
    let mut bad = empty_filter();
    bad.rules_package_arns = Some(vec!["arn:aws:inspector:us-east-1:316112463485:target/0-aaaaaaaa".into()]);
    assert_eq!(invalid_input(&list_filter(bad).unwrap_err()), Some(InvalidInputErrorCode::InvalidRulesPackageArn));
    let mut backwards = empty_filter();
    backwards.creation_time_range = Some(range(Some(30.0), Some(20.0)));
    let e = list_filter(backwards).unwrap_err();
    assert_eq!(invalid_input(&e), Some(InvalidInputErrorCode::InvalidAssessmentRunCompletionTimeRange));
    assert!(e.to_string().contains("creationTimeRange"), "{e}");
}

#[test]
fn describe_gives_the_full_finding_shape() {
    let fx = Fixture::new(1);
    let mut f = finding("i-0123456789abcdef0", "cve", "CVE-2024-1", WardenSeverity::Critical);
    f.title = "Instance web-1 is vulnerable to CVE-2024-1".into();
    f.attributes = vec![attr("CVE_ID", "CVE-2024-1"), attr("fixed_version", "3.0.2")];
    f.evidence = vec![
        Evidence {
            message: "openssl 3.0.1 is installed".into(),
            path: Some("/var/lib/dpkg/status".into()),
            line: Some(42),
            text: Some("Version: 3.0.1".into()),
            is_default: false,
        },
        Evidence { message: "built-in default".into(), path: None, line: None, text: None, is_default: true },
    ];
    f.asset = AssetAttributes {
        agent_id: "i-0123456789abcdef0".into(),
        hostname: Some("web-1".into()),
        ipv4_addresses: vec!["10.0.0.5".into()],
        tags: vec![attr("aws:autoscaling:groupName", "web-asg"), attr("env", "prod")],
    };
    let arn = fx.add(0, &[f], 1_700_000_000_123).remove(0);
    let out = fx.describe(vec![arn.clone()]);
    assert!(out.failed_items.is_empty(), "{:?}", out.failed_items);
    let d = &out.findings[0];
    assert_eq!(d.arn, arn);
    assert_eq!((d.schema_version, d.service.as_deref()), (Some(1), Some("Inspector")));
    let service = d.service_attributes.as_ref().unwrap();
    assert_eq!(service.schema_version, 1);
    assert_eq!(service.assessment_run_arn.as_deref(), Some(fx.run_arn(0).as_str()));
    // The server region's real ARN of the package.
    assert_eq!(
        service.rules_package_arn.as_deref(),
        Some("arn:aws:inspector:us-west-2:758058086616:rulespackage/0-9hgA516p")
    );
    assert_eq!(d.asset_type, Some(AssetType::Ec2Instance));
    let asset = d.asset_attributes.as_ref().unwrap();
    assert_eq!(asset.schema_version, 1);
    assert_eq!(asset.agent_id.as_deref(), Some("i-0123456789abcdef0"));
    assert_eq!(asset.auto_scaling_group.as_deref(), Some("web-asg"));
    assert_eq!(asset.hostname.as_deref(), Some("web-1"));
    assert_eq!(asset.ipv4_addresses.as_deref(), Some(&["10.0.0.5".to_string()][..]));
    assert_eq!(asset.tags.as_ref().unwrap().len(), 2);
    assert_eq!(d.id.as_deref(), Some("CVE-2024-1"));
    assert_eq!(d.title.as_deref(), Some("Instance web-1 is vulnerable to CVE-2024-1"));
    assert_eq!(d.description.as_deref(), Some("what the rule checks"));
    assert_eq!(d.recommendation.as_deref(), Some("how to fix it"));
    assert_eq!((d.severity, d.numeric_severity), (Some(Severity::High), Some(9.0)));
    assert_eq!((d.confidence, d.indicator_of_compromise), (Some(10), Some(false)));
    let keys: Vec<(&str, Option<&str>)> = d.attributes.iter().map(|a| (a.key.as_str(), a.value.as_deref())).collect();
    assert_eq!(
        keys,
        vec![
            ("CVE_ID", Some("CVE-2024-1")),
            ("fixed_version", Some("3.0.2")),
            ("WARDEN_SEVERITY", Some("Critical")),
            ("EVIDENCE_COUNT", Some("2")),
            ("EVIDENCE_1", Some("openssl 3.0.1 is installed")),
            ("EVIDENCE_1_FILE", Some("/var/lib/dpkg/status")),
            ("EVIDENCE_1_LINE", Some("42")),
            ("EVIDENCE_1_TEXT", Some("Version: 3.0.1")),
            ("EVIDENCE_2", Some("built-in default")),
            ("EVIDENCE_2_DEFAULT", Some("true")),
        ]
    );
    assert_eq!(d.user_attributes, vec![wire("team", Some("web"))]);
    assert_eq!((d.created_at.0, d.updated_at.0), (1_700_000_000.123, 1_700_000_000.123));

    // On the wire: Inspector's member names, epoch seconds.
    let json = serde_json::to_value(d).unwrap();
    assert_eq!(json["serviceAttributes"]["assessmentRunArn"], serde_json::json!(fx.run_arn(0)));
    assert_eq!(json["assetAttributes"]["autoScalingGroup"], "web-asg");
    assert_eq!(json["numericSeverity"], 9.0);
    assert_eq!(json["createdAt"], 1_700_000_000.123);
}

#[test]
fn describe_reports_malformed_duplicate_unknown_and_foreign_arns() {
    let fx = Fixture::new(2);
    let arns = fx.add(
        0,
        &[finding("i-a", "cis", "1.1", WardenSeverity::Low), finding("i-a", "cis", "1.2", WardenSeverity::Low)],
        1,
    );
    let unknown = format!("{}ZZZZZZZZ", &arns[0][..arns[0].len() - 8]);
    let foreign = arns[1].replace(ACCOUNT, "999999999999");
    // A stored finding named under another run.
    let under_other_run = arns[1].replace(&fx.runs[0].id, &fx.runs[1].id);
    let out = fx.describe(vec![
        arns[0].clone(),
        arns[0].clone(),
        "nope".into(),
        unknown.clone(),
        foreign.clone(),
        under_other_run.clone(),
    ]);
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].arn, arns[0]);
    let code = |a: &str| out.failed_items[a].failure_code;
    assert_eq!(code(&arns[0]), FailedItemErrorCode::DuplicateArn);
    assert_eq!(code("nope"), FailedItemErrorCode::InvalidArn);
    assert_eq!(code(&unknown), FailedItemErrorCode::ItemDoesNotExist);
    assert_eq!(code(&foreign), FailedItemErrorCode::ItemDoesNotExist);
    assert_eq!(code(&under_other_run), FailedItemErrorCode::ItemDoesNotExist);
    assert!(out.failed_items.values().all(|f| !f.retryable));
}

#[test]
fn user_attributes_are_added_replaced_limited_and_removed() {
    let fx = Fixture::new(1);
    let arns = fx.add(
        0,
        &[finding("i-a", "cis", "1.1", WardenSeverity::Low), finding("i-a", "cis", "1.2", WardenSeverity::Low)],
        1_000,
    );
    let (a, b) = (arns[0].clone(), arns[1].clone());
    let add = |arns: Vec<String>, attributes: Vec<WireAttribute>| {
        block_on(
            fx.backend
                .add_attributes_to_findings(&ctx(), AddAttributesToFindingsRequest { finding_arns: arns, attributes }),
        )
        .unwrap()
    };
    let remove = |arns: Vec<String>, keys: &[&str]| {
        block_on(fx.backend.remove_attributes_from_findings(
            &ctx(),
            RemoveAttributesFromFindingsRequest {
                finding_arns: arns,
                attribute_keys: keys.iter().map(|k| k.to_string()).collect(),
            },
        ))
        .unwrap()
    };
    let user = |arn: &str| fx.describe(vec![arn.to_string()]).findings.remove(0);

    let unknown = format!("{}ZZZZZZZZ", &a[..a.len() - 8]);
    let out =
        add(vec![a.clone(), unknown.clone(), "bad".into()], vec![wire("owner", Some("alice")), wire("ticket", None)]);
    assert_eq!(out.failed_items.len(), 2);
    assert_eq!(out.failed_items[&unknown].failure_code, FailedItemErrorCode::ItemDoesNotExist);
    assert_eq!(out.failed_items["bad"].failure_code, FailedItemErrorCode::InvalidArn);
    let f = user(&a);
    assert_eq!(f.user_attributes, vec![wire("team", Some("web")), wire("owner", Some("alice")), wire("ticket", None)]);
    assert!(f.updated_at.0 > f.created_at.0, "updatedAt is when attributes were added");
    assert_eq!(user(&b).user_attributes.len(), 1, "other findings untouched");

    // The same key again replaces the value in place; re-adding is idempotent.
    add(vec![a.clone()], vec![wire("owner", Some("bob"))]);
    add(vec![a.clone()], vec![wire("owner", Some("bob"))]);
    assert_eq!(
        user(&a).user_attributes,
        vec![wire("team", Some("web")), wire("owner", Some("bob")), wire("ticket", None)]
    );

    // ListFindings sees the edit.
    let mut filter = empty_filter();
    filter.user_attributes = Some(vec![wire("owner", Some("bob"))]);
    assert_eq!(fx.list_all(Some(filter), None, 10), vec![a.clone()]);

    // At most 10 per finding: `a` has 3, so 8 new keys are refused for it
    // (and it stays as it was) while `b` (1 + 8) takes them.
    let eight: Vec<WireAttribute> = (0..8).map(|i| wire(&format!("k{i}"), Some("v"))).collect();
    let out = add(vec![a.clone(), b.clone()], eight);
    assert_eq!(out.failed_items.len(), 1);
    assert_eq!(out.failed_items[&a].failure_code, FailedItemErrorCode::LimitExceeded);
    assert_eq!(user(&a).user_attributes.len(), 3);
    assert_eq!(user(&b).user_attributes.len(), 9);

    // Remove drops whole pairs by key; absent keys are no error.
    let out = remove(vec![a.clone(), b.clone(), a.clone()], &["owner", "k0", "missing"]);
    assert_eq!(out.failed_items.len(), 1);
    assert_eq!(out.failed_items[&a].failure_code, FailedItemErrorCode::DuplicateArn);
    assert_eq!(user(&a).user_attributes, vec![wire("team", Some("web")), wire("ticket", None)]);
    assert_eq!(user(&b).user_attributes.len(), 8);
    let mut filter = empty_filter();
    filter.user_attributes = Some(vec![wire("owner", None)]);
    assert!(fx.list_all(Some(filter), None, 10).is_empty(), "the removed attribute no longer matches");
}
