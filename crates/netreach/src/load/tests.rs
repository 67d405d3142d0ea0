//! Unit tests of the layout helpers; the fixture tests are in
//! `crates/netreach/tests/load.rs`.

use super::*;

#[test]
fn sanitize_replaces_everything_outside_the_safe_set() {
    assert_eq!(sanitize("arn:aws:x/y z.é-_1"), "arn_aws_x_y_z._-_1");
    assert_eq!(sanitize("tgw-rtb-0abc"), "tgw-rtb-0abc");
}

#[test]
fn account_and_region_components() {
    assert!(is_account("123456789012"));
    assert!(!is_account("12345678901"));
    for r in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4"] {
        assert!(is_region(r), "{r}");
    }
    for r in ["describe-target-health", "us-east", "east-1", "US-EAST-1", "a-b-1", "us--1"] {
        assert!(!is_region(r), "{r}");
    }
}

#[test]
fn cidr_parsing_truncates_and_accepts_bare_addresses() {
    assert_eq!(vpc::parse_cidr("10.0.1.5/16"), "10.0.0.0/16".parse().ok());
    assert_eq!(vpc::parse_cidr("10.0.1.5"), "10.0.1.5/32".parse().ok());
    assert_eq!(vpc::parse_cidr("x"), None);
}
