#!/usr/bin/env python3
"""Dump every describe-* answer `warden net collect` gathers, with the real AWS
CLI, into the folder layout the netreach loader reads: the reference that the
SDK-written folder is compared with (crates/cli/tests/net_collect.rs).

Usage: cli_dump.py --endpoint URL --region R --out DIR

Each command is `aws <service> <command> --endpoint-url URL --region R
--output json`, run through the AWS CLI's own driver (awscli.clidriver, the
code behind the `aws` executable) in this one process, one driver for every
command, because starting the CLI for each of ~40 commands costs 20-60 s on a
busy machine (loading the EC2 model each time). The CLI follows every
NextToken/NextMarker itself.
Per-resource answers go to `<command>/<sanitized id or ARN>.json`.
"""
import argparse
import contextlib
import io
import json
import os
import re
import sys

from awscli.clidriver import create_clidriver

TOP = [
    ("ec2", "describe-vpcs", "describe-vpcs", []),
    ("ec2", "describe-subnets", "describe-subnets", []),
    ("ec2", "describe-route-tables", "describe-route-tables", []),
    ("ec2", "describe-internet-gateways", "describe-internet-gateways", []),
    ("ec2", "describe-egress-only-internet-gateways", "describe-egress-only-internet-gateways", []),
    ("ec2", "describe-nat-gateways", "describe-nat-gateways", []),
    ("ec2", "describe-vpn-gateways", "describe-vpn-gateways", []),
    ("ec2", "describe-vpc-peering-connections", "describe-vpc-peering-connections", []),
    ("ec2", "describe-transit-gateways", "describe-transit-gateways", []),
    ("ec2", "describe-transit-gateway-attachments", "describe-transit-gateway-attachments", []),
    ("ec2", "describe-transit-gateway-route-tables", "describe-transit-gateway-route-tables", []),
    ("ec2", "describe-network-acls", "describe-network-acls", []),
    ("ec2", "describe-security-groups", "describe-security-groups", []),
    ("ec2", "describe-security-group-rules", "describe-security-group-rules", []),
    ("ec2", "describe-managed-prefix-lists", "describe-managed-prefix-lists", []),
    ("ec2", "describe-network-interfaces", "describe-network-interfaces", []),
    ("ec2", "describe-instances", "describe-instances", []),
    ("ec2", "describe-addresses", "describe-addresses", []),
    ("elbv2", "describe-load-balancers", "describe-load-balancers", []),
    ("elbv2", "describe-target-groups", "describe-target-groups", []),
    ("elb", "describe-load-balancers", "describe-load-balancers-classic", []),
]

# (service, command, parent file, parent list key, id member, id option, extra args)
PER_RESOURCE = [
    ("ec2", "search-transit-gateway-routes", "describe-transit-gateway-route-tables", "TransitGatewayRouteTables",
     "TransitGatewayRouteTableId", "--transit-gateway-route-table-id", ["--filters", "Name=type,Values=static,propagated"]),
    ("ec2", "get-transit-gateway-route-table-associations", "describe-transit-gateway-route-tables",
     "TransitGatewayRouteTables", "TransitGatewayRouteTableId", "--transit-gateway-route-table-id", []),
    ("ec2", "get-transit-gateway-route-table-propagations", "describe-transit-gateway-route-tables",
     "TransitGatewayRouteTables", "TransitGatewayRouteTableId", "--transit-gateway-route-table-id", []),
    ("ec2", "get-managed-prefix-list-entries", "describe-managed-prefix-lists", "PrefixLists", "PrefixListId",
     "--prefix-list-id", []),
    ("elbv2", "describe-listeners", "describe-load-balancers", "LoadBalancers", "LoadBalancerArn",
     "--load-balancer-arn", []),
    ("elbv2", "describe-target-health", "describe-target-groups", "TargetGroups", "TargetGroupArn",
     "--target-group-arn", []),
]


def sanitize(s):
    return re.sub(r"[^A-Za-z0-9._-]", "_", s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    common = ["--endpoint-url", args.endpoint, "--region", args.region, "--output", "json"]

    driver = create_clidriver()

    def aws(argv):
        buf, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            rc = driver.main(argv + common)
        if rc != 0:
            sys.exit(f"aws {' '.join(argv)} failed ({rc}): {err.getvalue()}")
        return buf.getvalue()

    def write(rel, text):
        path = os.path.join(args.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    answers = {}
    for svc, cmd, name, extra in TOP:
        text = aws([svc, cmd] + extra)
        answers[name] = json.loads(text)
        write(name + ".json", text)
    for svc, cmd, parent, key, member, option, extra in PER_RESOURCE:
        for record in answers[parent][key]:
            rid = record[member]
            write(f"{cmd}/{sanitize(rid)}.json", aws([svc, cmd, option, rid] + extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
