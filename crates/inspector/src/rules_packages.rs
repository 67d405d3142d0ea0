//! The rules-package catalogue: AWS's real per-region ARNs mapped to
//! Warden's packages, served by `ListRulesPackages` and `DescribeRulesPackages`.
//!
//! Why it exists: scripts hard-code the rules-package ARNs of their region
//! (spec §8.1) when they create templates; those ARNs must keep meaning the
//! same package here. Every real ARN of every region maps to one Warden
//! package id; where AWS never published a package in a region, Warden names
//! it under the server's own account with a fixed id.

use crate::arn::ArnKind;
use crate::arn::{ArnContext, InspectorArn, Resource, ResourceId};
use crate::batch::BatchRequest;
use crate::error::ApiError;
use crate::paging::{ARN_PAGE, Pager};
use crate::types::{
    DescribeRulesPackagesRequest, DescribeRulesPackagesResponse, ListRulesPackagesRequest, ListRulesPackagesResponse,
    RulesPackage,
};

/// One rules package as Warden implements it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageInfo {
    /// Warden's id (`warden assess --package ...`).
    pub warden_id: &'static str,
    /// The name `DescribeRulesPackages` returns (Inspector's, unchanged).
    pub name: &'static str,
    /// Version string.
    pub version: &'static str,
    /// What the package checks.
    pub description: &'static str,
    /// The id Warden uses where AWS has no ARN for the region.
    warden_arn_id: &'static str,
}

/// Provider reported for every package.
pub const PROVIDER: &str = "Warden";

/// Warden's five packages, in catalogue order.
pub const PACKAGES: [PackageInfo; 5] = [
    PackageInfo {
        warden_id: "cve",
        name: "Common Vulnerabilities and Exposures",
        version: "1.1",
        description: "The rules in this package help verify whether the instances in your assessment targets are exposed to common vulnerabilities and exposures (CVEs): installed packages are matched against imported advisory feeds.",
        warden_arn_id: "0-WardenC1",
    },
    PackageInfo {
        warden_id: "cis",
        name: "CIS Operating System Security Configuration Benchmarks",
        version: "1.0",
        description: "The CIS Security Benchmarks program provides well-defined, unbiased and consensus-based industry best practices to help organizations assess and improve their security.",
        warden_arn_id: "0-WardenC2",
    },
    PackageInfo {
        warden_id: "best-practices",
        name: "Security Best Practices",
        version: "1.1",
        description: "The rules in this package help determine whether your systems are configured securely.",
        warden_arn_id: "0-WardenB1",
    },
    PackageInfo {
        warden_id: "network-reachability",
        name: "Network Reachability",
        version: "1.1",
        description: "The rules in this package help determine which ports of your instances are reachable from outside their VPC, and through which network components.",
        warden_arn_id: "0-WardenN1",
    },
    PackageInfo {
        warden_id: "runtime-behavior",
        name: "Runtime Behavior Analysis",
        version: "1.0",
        description: "The rules in this package analyze the behavior of your instances during an assessment run and provide guidance on how to make them more secure.",
        warden_arn_id: "0-WardenR1",
    },
];

/// AWS's rules-package ids of one region, in [`PACKAGES`] order
/// (CVE, CIS, Security Best Practices, Network Reachability, Runtime Behavior
/// Analysis); `None` where AWS never offered the package there (spec §8.1).
struct RegionArns {
    region: &'static str,
    owner: &'static str,
    ids: [Option<&'static str>; 5],
}

const REGIONS: &[RegionArns] = &[
    RegionArns {
        region: "us-east-2",
        owner: "646659390643",
        ids: [Some("0-JnA8Zp85"), Some("0-m8r61nnh"), Some("0-AxKmMHPX"), Some("0-cE4kTR30"), Some("0-UCYZFKPV")],
    },
    RegionArns {
        region: "us-east-1",
        owner: "316112463485",
        ids: [Some("0-gEjTy7T7"), Some("0-rExsr2X8"), Some("0-R01qwB5Q"), Some("0-PmNV0Tcd"), Some("0-gBONHN9h")],
    },
    RegionArns {
        region: "us-west-1",
        owner: "166987590008",
        ids: [Some("0-TKgzoVOa"), Some("0-xUY8iRqX"), Some("0-byoQRFYm"), Some("0-TxmXimXF"), Some("0-yeYxlt0x")],
    },
    RegionArns {
        region: "us-west-2",
        owner: "758058086616",
        ids: [Some("0-9hgA516p"), Some("0-H5hpSawc"), Some("0-JJOtZiqQ"), Some("0-rD1z6dpl"), Some("0-vg5GGHSD")],
    },
    RegionArns {
        region: "ap-south-1",
        owner: "162588757376",
        ids: [Some("0-LqnJE9dO"), Some("0-PSUlX14m"), Some("0-fs0IZZBj"), Some("0-YxKfjFu1"), Some("0-EhMQZy6C")],
    },
    RegionArns {
        region: "ap-northeast-2",
        owner: "526946625049",
        ids: [Some("0-PoGHMznc"), Some("0-T9srhg1z"), Some("0-2WRpmi4n"), Some("0-s3OmLzhL"), Some("0-PoYq7lI7")],
    },
    RegionArns {
        region: "ap-southeast-2",
        owner: "454640832652",
        ids: [Some("0-D5TGAxiR"), Some("0-Vkd2Vxjq"), Some("0-asL6HRgN"), Some("0-FLcuV4Gz"), Some("0-P8Tel2Xj")],
    },
    RegionArns {
        region: "ap-northeast-1",
        owner: "406045910587",
        ids: [Some("0-gHP9oWNT"), Some("0-7WNjqgGu"), Some("0-bBUQnxMq"), Some("0-YI95DVd7"), Some("0-knGBhqEu")],
    },
    RegionArns {
        region: "eu-central-1",
        owner: "537503971621",
        ids: [Some("0-wNqHa8M9"), Some("0-nZrAVuv8"), Some("0-ZujVHEPB"), Some("0-6yunpJ91"), Some("0-0GMUM6fg")],
    },
    RegionArns {
        region: "eu-west-1",
        owner: "357557129151",
        ids: [Some("0-ubA5XvBh"), Some("0-sJBhCr0F"), Some("0-SnojL3Z6"), Some("0-SPzU33xe"), Some("0-lLmwe1zd")],
    },
    RegionArns {
        region: "eu-west-2",
        owner: "146838936955",
        ids: [Some("0-kZGCqcE1"), Some("0-IeCjwf1W"), Some("0-XApUiSaP"), Some("0-AizSYyNq"), None],
    },
    RegionArns {
        region: "eu-north-1",
        owner: "453420244670",
        ids: [Some("0-IgdgIewd"), Some("0-Yn8jlX7f"), Some("0-HfBQSbSf"), Some("0-52Sn74uu"), None],
    },
    RegionArns {
        region: "us-gov-east-1",
        owner: "206278770380",
        ids: [Some("0-3IFKFuOb"), Some("0-pTLCdIww"), Some("0-vlgEGcVD"), None, Some("0-850TmCFX")],
    },
    RegionArns {
        region: "us-gov-west-1",
        owner: "850862329162",
        ids: [Some("0-4oQgcI4G"), Some("0-Ac4CFOuc"), Some("0-rOTGqe5G"), None, Some("0-JMyjuzoW")],
    },
];

/// The Warden package an ARN names: any region's real AWS ARN, or one of
/// Warden's own (`rulespackage/0-Warden..` under any account).
pub fn package_for_arn(arn: &str) -> Option<&'static PackageInfo> {
    let parsed = InspectorArn::parse(arn)?;
    let Resource::RulesPackage(id) = &parsed.resource else { return None };
    if let Some(p) = PACKAGES.iter().find(|p| p.warden_arn_id == id.as_str()) {
        return Some(p);
    }
    let region = REGIONS.iter().find(|r| r.region == parsed.region && r.owner == parsed.account)?;
    let index = region.ids.iter().position(|i| *i == Some(id.as_str()))?;
    Some(&PACKAGES[index])
}

/// The catalogue one server serves for its region.
pub struct Catalogue {
    /// ARN and package, in [`PACKAGES`] order.
    entries: Vec<(String, &'static PackageInfo)>,
}

impl Catalogue {
    /// The ARNs for `ctx`'s region: AWS's where it published one, Warden's
    /// own under the server's account elsewhere.
    pub fn new(ctx: &ArnContext) -> Catalogue {
        let region = REGIONS.iter().find(|r| r.region == ctx.region);
        let entries = PACKAGES
            .iter()
            .enumerate()
            .map(|(i, package)| {
                let arn = match region.and_then(|r| r.ids[i].map(|id| (r.owner, id))) {
                    Some((owner, id)) => {
                        format!("arn:{}:inspector:{}:{owner}:rulespackage/{id}", ctx.partition, ctx.region)
                    }
                    None => {
                        let id = ResourceId::parse(package.warden_arn_id).expect("catalogue ids are valid");
                        ctx.arn(Resource::RulesPackage(id)).to_string()
                    }
                };
                (arn, package)
            })
            .collect();
        Catalogue { entries }
    }

    /// The ARN this server lists for a Warden package id.
    pub fn arn_of(&self, warden_id: &str) -> Option<&str> {
        self.entries.iter().find(|(_, p)| p.warden_id == warden_id).map(|(a, _)| a.as_str())
    }

    /// Serves `ListRulesPackages`.
    pub fn list(
        &self,
        pager: &Pager,
        request: &ListRulesPackagesRequest,
    ) -> Result<ListRulesPackagesResponse, ApiError> {
        let arns: Vec<String> = self.entries.iter().map(|(a, _)| a.clone()).collect();
        let (page, next_token) = pager.page(
            "ListRulesPackages",
            request,
            request.next_token.as_deref(),
            request.max_results,
            ARN_PAGE,
            &arns,
        )?;
        Ok(ListRulesPackagesResponse { rules_package_arns: page, next_token })
    }

    /// Serves `DescribeRulesPackages`: any region's AWS ARN is known; the
    /// returned `arn` is the one asked for.
    pub fn describe(&self, request: &DescribeRulesPackagesRequest) -> DescribeRulesPackagesResponse {
        let batch = BatchRequest::new(&request.rules_package_arns, ArnKind::RulesPackage);
        let (rules_packages, failed_items) = batch.finish(|_, text| {
            package_for_arn(text).map(|p| RulesPackage {
                arn: text.to_string(),
                name: p.name.to_string(),
                version: p.version.to_string(),
                provider: PROVIDER.to_string(),
                description: Some(p.description.to_string()),
            })
        });
        DescribeRulesPackagesResponse { rules_packages, failed_items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::FailedItemErrorCode;

    #[test]
    fn every_published_arn_maps_to_its_package() {
        let cases = [
            ("arn:aws:inspector:us-west-2:758058086616:rulespackage/0-9hgA516p", "cve"),
            ("arn:aws:inspector:us-east-1:316112463485:rulespackage/0-R01qwB5Q", "best-practices"),
            ("arn:aws:inspector:eu-west-1:357557129151:rulespackage/0-SPzU33xe", "network-reachability"),
            ("arn:aws:inspector:ap-northeast-1:406045910587:rulespackage/0-knGBhqEu", "runtime-behavior"),
            ("arn:aws-us-gov:inspector:us-gov-west-1:850862329162:rulespackage/0-Ac4CFOuc", "cis"),
        ];
        for (arn, id) in cases {
            assert_eq!(package_for_arn(arn).map(|p| p.warden_id), Some(id), "{arn}");
        }
        let total: usize = REGIONS.iter().map(|r| r.ids.iter().flatten().count()).sum();
        assert_eq!(total, 66);
        // An id of one region under another region's owner is not a package.
        assert_eq!(package_for_arn("arn:aws:inspector:us-east-1:316112463485:rulespackage/0-9hgA516p"), None);
    }

    #[test]
    fn regions_without_a_published_arn_get_wardens_own() {
        let c = Catalogue::new(&ArnContext::new("eu-west-2", "123456789012"));
        assert_eq!(c.arn_of("cve"), Some("arn:aws:inspector:eu-west-2:146838936955:rulespackage/0-kZGCqcE1"));
        let rba = c.arn_of("runtime-behavior").unwrap();
        assert_eq!(rba, "arn:aws:inspector:eu-west-2:123456789012:rulespackage/0-WardenR1");
        assert_eq!(package_for_arn(rba).map(|p| p.warden_id), Some("runtime-behavior"));
        let local = Catalogue::new(&ArnContext::new("local-1", "000000000000"));
        assert!(local.entries.iter().all(|(a, p)| package_for_arn(a) == Some(p)));
    }

    #[test]
    fn describe_reports_unknown_arns_as_failed_items() {
        let c = Catalogue::new(&ArnContext::new("us-east-1", "123456789012"));
        let known = "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-H5hpSawc".to_string();
        let unknown = "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-zzzzzzzz".to_string();
        let r = c.describe(&DescribeRulesPackagesRequest {
            rules_package_arns: vec![known.clone(), unknown.clone()],
            locale: None,
        });
        assert_eq!(r.rules_packages.len(), 1);
        assert_eq!(r.rules_packages[0].name, "CIS Operating System Security Configuration Benchmarks");
        assert_eq!(r.rules_packages[0].arn, known);
        assert_eq!(r.failed_items[&unknown].failure_code, FailedItemErrorCode::ItemDoesNotExist);
    }
}
