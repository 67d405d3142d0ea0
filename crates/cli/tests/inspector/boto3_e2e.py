#!/usr/bin/env python3
"""boto3 against a real `warden serve` (driven by crates/cli/tests/inspector_boto3.rs).

Usage: boto3_e2e.py ENDPOINT PHASE [ARG...]

Credentials, region and CA bundle come from the environment the Rust test
sets (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CA_BUNDLE). Each phase
checks what it can itself (assert, with the values in the message) and prints
one JSON document of what it saw for the Rust side to check against the
store. No retries: a failure is a failure (max_attempts 1).

Phases:
  targets N           create N targets, page them with the paginator, check waiters
  auth                a wrong secret and an unknown key fail with the right codes
  assess TAG_VALUE    group -> target -> template -> run, poll until COMPLETED
  findings RUN_ARN N  paginate N+ findings (filters too), describe them all,
                      attributes, run agents, exclusions, runs, templates, subscriptions
"""

import json
import sys
import time

import boto3
import botocore.config
import botocore.exceptions

ENDPOINT = sys.argv[1]
PHASE = sys.argv[2]
ARGS = sys.argv[3:]
CONFIG = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


def client(**kwargs):
    return boto3.session.Session(**kwargs).client(
        "inspector", endpoint_url=ENDPOINT, region_name="us-east-1", config=CONFIG
    )


def paginate(c, operation, page_size=None, **params):
    """Every page of a paginated operation: (pages, items)."""
    paginator = c.get_paginator(operation)
    config = {"PageSize": page_size} if page_size else {}
    pages = list(paginator.paginate(PaginationConfig=config, **params))
    key = paginator._pagination_cfg["result_key"]  # the model's result key, e.g. findingArns
    items = [item for page in pages for item in page[key]]
    return pages, items


def check_pages(pages, items, limit, what):
    sizes = [len(p[next(k for k in p if isinstance(p[k], list))]) for p in pages]
    assert all(s <= limit for s in sizes), f"{what}: a page over {limit}: {sizes}"
    assert len(items) == len(set(map(json.dumps, items))), f"{what}: duplicates across pages"
    return sizes


def phase_targets(n):
    c = client()
    before = len(paginate(c, "list_assessment_targets")[1])
    for i in range(n):
        c.create_assessment_target(assessmentTargetName=f"boto3-{i:04d}")
    pages, arns = paginate(c, "list_assessment_targets", page_size=40)
    sizes = check_pages(pages, arns, 40, "list_assessment_targets PageSize 40")
    assert len(arns) == before + n, f"{len(arns)} targets listed, {before + n} exist"
    big_pages, big = paginate(c, "list_assessment_targets", page_size=500)
    big_sizes = check_pages(big_pages, big, 100, "list_assessment_targets PageSize 500")
    assert sorted(big) == sorted(arns)
    _, rules = paginate(c, "list_rules_packages", page_size=2)
    assert len(rules) == 5, rules
    # botocore defines no waiters for Inspector Classic: say so, and check it stays true.
    waiters = c.waiter_names
    try:
        c.get_waiter("assessment_run_completed")
        raise AssertionError("botocore has an inspector waiter now: test it")
    except ValueError:
        pass
    print(json.dumps({"targets": len(arns), "pageSizes": sizes, "pageSizesAt500": big_sizes,
                      "rulesPackages": len(rules), "waiters": waiters}))


def phase_auth():
    creds = boto3.session.Session().get_credentials()
    codes = {}
    for name, key, secret in [("badsecret", creds.access_key, creds.secret_key + "x"),
                              ("unknown", "AKIAUNKNOWNUNKNOWN42", creds.secret_key)]:
        c = client(aws_access_key_id=key, aws_secret_access_key=secret)
        try:
            c.list_rules_packages()
            raise AssertionError(f"{name}: request was accepted")
        except botocore.exceptions.ClientError as e:
            codes[name] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
    print(json.dumps(codes))


def phase_assess(tag_value):
    c = client()
    rules = c.list_rules_packages()["rulesPackageArns"]
    packages = c.describe_rules_packages(rulesPackageArns=rules)["rulesPackages"]
    chosen = [p["arn"] for p in packages if "Best Practices" in p["name"] or "Runtime" in p["name"]]
    assert len(chosen) == 2, packages
    group = c.create_resource_group(resourceGroupTags=[{"key": "inspector", "value": tag_value}])
    target = c.create_assessment_target(assessmentTargetName=f"boto3-{tag_value}",
                                        resourceGroupArn=group["resourceGroupArn"])
    template = c.create_assessment_template(
        assessmentTargetArn=target["assessmentTargetArn"], assessmentTemplateName="boto3-template",
        durationInSeconds=180, rulesPackageArns=chosen,
        userAttributesForFindings=[{"key": "source", "value": "boto3"}])
    run_arn = c.start_assessment_run(assessmentTemplateArn=template["assessmentTemplateArn"],
                                     assessmentRunName="boto3-run")["assessmentRunArn"]
    deadline = time.monotonic() + 600
    while True:
        run = c.describe_assessment_runs(assessmentRunArns=[run_arn])["assessmentRuns"][0]
        if run["state"] in ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "ERROR", "CANCELED"):
            break
        assert time.monotonic() < deadline, f"run still {run['state']}"
        time.sleep(1)
    assert run["state"] == "COMPLETED", run
    print(json.dumps({"runArn": run_arn, "templateArn": template["assessmentTemplateArn"],
                      "targetArn": target["assessmentTargetArn"], "rulesPackageArns": chosen,
                      "findingCounts": run["findingCounts"]}, default=str))


def phase_findings(run_arn, at_least):
    c = client()
    pages, arns = paginate(c, "list_findings", page_size=100, assessmentRunArns=[run_arn])
    sizes = check_pages(pages, arns, 100, "list_findings")
    assert len(arns) >= at_least, f"{len(arns)} findings listed, at least {at_least} expected"
    # The default page (no PageSize) is 10 and the paginator still gets them all.
    default_pages, default_arns = paginate(c, "list_findings", assessmentRunArns=[run_arn])
    assert sorted(default_arns) == sorted(arns), "the same findings at the default page size"
    by_severity = {}
    for severity in ("High", "Medium", "Low", "Informational", "Undefined"):
        _, some = paginate(c, "list_findings", page_size=100, assessmentRunArns=[run_arn],
                           filter={"severities": [severity]})
        by_severity[severity] = len(some)
    assert sum(by_severity.values()) == len(arns), by_severity
    described = []
    # DescribeFindings takes at most 10 ARNs (the model's findingArns 1..10).
    for i in range(0, len(arns), 10):
        batch = c.describe_findings(findingArns=arns[i:i + 10])
        assert batch["failedItems"] == {}, batch["failedItems"]
        described.extend(batch["findings"])
    assert sorted(f["arn"] for f in described) == sorted(arns)
    for f in described:
        assert f["severity"] in by_severity and by_severity[f["severity"]] > 0, f
        assert f["assetType"] == "ec2-instance", f
    marked = arns[:10]
    result = c.add_attributes_to_findings(findingArns=marked, attributes=[{"key": "triage", "value": "boto3"}])
    assert result["failedItems"] == {}, result
    for f in c.describe_findings(findingArns=marked)["findings"]:
        assert {"key": "triage", "value": "boto3"} in f["userAttributes"], f
    removed = c.remove_attributes_from_findings(findingArns=marked[:5], attributeKeys=["triage"])
    assert removed["failedItems"] == {}, removed
    _, agents = paginate(c, "list_assessment_run_agents", page_size=1, assessmentRunArn=run_arn)
    _, exclusions = paginate(c, "list_exclusions", page_size=1, assessmentRunArn=run_arn)
    _, runs = paginate(c, "list_assessment_runs", page_size=1)
    _, templates = paginate(c, "list_assessment_templates", page_size=1)
    _, subscriptions = paginate(c, "list_event_subscriptions", page_size=1)
    print(json.dumps({"findings": len(arns), "pageSizes": sizes, "defaultPages": len(default_pages),
                      "bySeverity": by_severity, "described": len(described),
                      "agents": sorted(a["agentId"] for a in agents), "exclusions": len(exclusions),
                      "runs": runs, "templates": len(templates), "subscriptions": len(subscriptions)}))


PHASES = {
    "targets": lambda: phase_targets(int(ARGS[0])),
    "auth": phase_auth,
    "assess": lambda: phase_assess(ARGS[0]),
    "findings": lambda: phase_findings(ARGS[0], int(ARGS[1])),
}

if __name__ == "__main__":
    PHASES[PHASE]()
