//! Inspector ARNs: `arn:aws:inspector:REGION:ACCOUNT:target/0-XXXXXXXX/template/0-XXXXXXXX/...`.
//!
//! Why it exists: child ARNs embed their parents (a finding ARN names its run,
//! template and target), the kind of an ARN decides which `INVALID_*_ARN` code
//! a malformed one gets, and ids must look like Inspector's (`0-` and eight
//! letters or digits) so that scripts that parse them keep working.

use std::fmt;

use crate::error::ApiError;
use crate::types::InvalidInputErrorCode;

/// Partition, region and account that this server's ARNs carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnContext {
    /// `aws`, `aws-us-gov`, `aws-cn`.
    pub partition: String,
    /// e.g. `us-east-1`.
    pub region: String,
    /// Twelve digits.
    pub account: String,
}

impl ArnContext {
    /// A context; `partition` follows the region (`us-gov-*` → `aws-us-gov`, `cn-*` → `aws-cn`).
    pub fn new(region: &str, account: &str) -> ArnContext {
        let partition = if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else if region.starts_with("cn-") {
            "aws-cn"
        } else {
            "aws"
        };
        ArnContext { partition: partition.into(), region: region.into(), account: account.into() }
    }

    /// An ARN of this server for a resource.
    pub fn arn(&self, resource: Resource) -> InspectorArn {
        InspectorArn {
            partition: self.partition.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            resource,
        }
    }
}

/// A resource id: `0-` then 1 to 64 ASCII letters or digits (Inspector's own
/// are eight, e.g. `0-nvgVhaxX`; shorter ones are accepted because sample
/// data and old tests use them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(String);

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl ResourceId {
    /// Parses `0-XXXXXXXX`.
    pub fn parse(s: &str) -> Option<ResourceId> {
        let rest = s.strip_prefix("0-")?;
        let ok = (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| ResourceId(s.to_string()))
    }

    /// A fresh random id of Inspector's length (8 characters, 47 bits).
    pub fn random() -> ResourceId {
        let mut out = String::from("0-");
        while out.len() < 10 {
            let mut byte = [0u8; 1];
            // Fails only when the OS has no randomness at all.
            aws_lc_rs::rand::fill(&mut byte).expect("system random source");
            // 248 = 4 * 62: reject the rest so every character is equally likely.
            if byte[0] < 248 {
                out.push(ALPHABET[usize::from(byte[0] % 62)] as char);
            }
        }
        ResourceId(out)
    }

    /// A deterministic id for a number (base 62, at least 8 characters), for
    /// stores that key rows by an integer.
    pub fn from_number(mut n: u64) -> ResourceId {
        let mut digits = Vec::new();
        while n > 0 || digits.len() < 8 {
            digits.push(ALPHABET[(n % 62) as usize]);
            n /= 62;
        }
        digits.reverse();
        ResourceId(format!("0-{}", String::from_utf8_lossy(&digits)))
    }

    /// The id as written (`0-...`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an ARN names, with the ids of its parents.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // fields are the ids of the named resource and its parents
pub enum Resource {
    ResourceGroup(ResourceId),
    Target(ResourceId),
    Template { target: ResourceId, template: ResourceId },
    Run { target: ResourceId, template: ResourceId, run: ResourceId },
    Finding { target: ResourceId, template: ResourceId, run: ResourceId, finding: ResourceId },
    Exclusion { target: ResourceId, template: ResourceId, run: ResourceId, exclusion: ResourceId },
    RulesPackage(ResourceId),
}

/// The kind of resource an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ArnKind {
    ResourceGroup,
    Target,
    Template,
    Run,
    Finding,
    Exclusion,
    RulesPackage,
}

impl ArnKind {
    /// The `InvalidInputException` code for a malformed ARN of this kind.
    pub fn invalid_code(self) -> InvalidInputErrorCode {
        match self {
            ArnKind::ResourceGroup => InvalidInputErrorCode::InvalidResourceGroupArn,
            ArnKind::Target => InvalidInputErrorCode::InvalidAssessmentTargetArn,
            ArnKind::Template => InvalidInputErrorCode::InvalidAssessmentTemplateArn,
            ArnKind::Run => InvalidInputErrorCode::InvalidAssessmentRunArn,
            ArnKind::Finding => InvalidInputErrorCode::InvalidFindingArn,
            ArnKind::Exclusion => InvalidInputErrorCode::InvalidResourceArn,
            ArnKind::RulesPackage => InvalidInputErrorCode::InvalidRulesPackageArn,
        }
    }

    fn label(self) -> &'static str {
        match self {
            ArnKind::ResourceGroup => "resource group",
            ArnKind::Target => "assessment target",
            ArnKind::Template => "assessment template",
            ArnKind::Run => "assessment run",
            ArnKind::Finding => "finding",
            ArnKind::Exclusion => "exclusion",
            ArnKind::RulesPackage => "rules package",
        }
    }
}

/// A parsed Inspector ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InspectorArn {
    /// `aws`, `aws-us-gov`, ...
    pub partition: String,
    /// Region.
    pub region: String,
    /// Owner account (for rules packages: AWS's per-region account).
    pub account: String,
    /// The resource and its parents.
    pub resource: Resource,
}

impl InspectorArn {
    /// Parses an ARN; `None` unless it is exactly one of Inspector's forms.
    pub fn parse(s: &str) -> Option<InspectorArn> {
        let mut parts = s.splitn(6, ':');
        let (arn, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
        let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
        if arn != "arn" || service != "inspector" {
            return None;
        }
        let word = |w: &str| {
            !w.is_empty()
                && w.len() <= 32
                && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !partition.starts_with("aws") || !word(partition) || !word(region) {
            return None;
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let segs: Vec<&str> = resource.split('/').collect();
        let id = |i: usize| ResourceId::parse(segs[i]);
        let resource = match segs.as_slice() {
            ["resourcegroup", _] => Resource::ResourceGroup(id(1)?),
            ["rulespackage", _] => Resource::RulesPackage(id(1)?),
            ["target", _] => Resource::Target(id(1)?),
            ["target", _, "template", _] => Resource::Template { target: id(1)?, template: id(3)? },
            ["target", _, "template", _, "run", _] => Resource::Run { target: id(1)?, template: id(3)?, run: id(5)? },
            ["target", _, "template", _, "run", _, "finding", _] => {
                Resource::Finding { target: id(1)?, template: id(3)?, run: id(5)?, finding: id(7)? }
            }
            ["target", _, "template", _, "run", _, "exclusion", _] => {
                Resource::Exclusion { target: id(1)?, template: id(3)?, run: id(5)?, exclusion: id(7)? }
            }
            _ => return None,
        };
        Some(InspectorArn { partition: partition.into(), region: region.into(), account: account.into(), resource })
    }

    /// Parses an ARN that must be of one kind; otherwise the
    /// `InvalidInputException` with that kind's code.
    pub fn parse_kind(s: &str, kind: ArnKind) -> Result<InspectorArn, ApiError> {
        match InspectorArn::parse(s) {
            Some(a) if a.kind() == kind => Ok(a),
            _ => {
                Err(ApiError::invalid_input(kind.invalid_code(), format!("{s:?} is not a valid {} ARN", kind.label())))
            }
        }
    }

    /// The kind of resource.
    pub fn kind(&self) -> ArnKind {
        match self.resource {
            Resource::ResourceGroup(_) => ArnKind::ResourceGroup,
            Resource::Target(_) => ArnKind::Target,
            Resource::Template { .. } => ArnKind::Template,
            Resource::Run { .. } => ArnKind::Run,
            Resource::Finding { .. } => ArnKind::Finding,
            Resource::Exclusion { .. } => ArnKind::Exclusion,
            Resource::RulesPackage(_) => ArnKind::RulesPackage,
        }
    }

    fn with(&self, resource: Resource) -> InspectorArn {
        InspectorArn { resource, ..self.clone() }
    }

    /// The target this ARN belongs to (itself for a target).
    pub fn target_arn(&self) -> Option<InspectorArn> {
        match &self.resource {
            Resource::Target(t)
            | Resource::Template { target: t, .. }
            | Resource::Run { target: t, .. }
            | Resource::Finding { target: t, .. }
            | Resource::Exclusion { target: t, .. } => Some(self.with(Resource::Target(t.clone()))),
            _ => None,
        }
    }

    /// The template this ARN belongs to (itself for a template).
    pub fn template_arn(&self) -> Option<InspectorArn> {
        match &self.resource {
            Resource::Template { target, template }
            | Resource::Run { target, template, .. }
            | Resource::Finding { target, template, .. }
            | Resource::Exclusion { target, template, .. } => {
                Some(self.with(Resource::Template { target: target.clone(), template: template.clone() }))
            }
            _ => None,
        }
    }

    /// The run this ARN belongs to (itself for a run).
    pub fn run_arn(&self) -> Option<InspectorArn> {
        match &self.resource {
            Resource::Run { target, template, run }
            | Resource::Finding { target, template, run, .. }
            | Resource::Exclusion { target, template, run, .. } => {
                Some(self.with(Resource::Run { target: target.clone(), template: template.clone(), run: run.clone() }))
            }
            _ => None,
        }
    }

    /// A child ARN: a template under a target, a run under a template, a
    /// finding or exclusion under a run; `None` for any other pairing.
    pub fn child(&self, kind: ArnKind, id: ResourceId) -> Option<InspectorArn> {
        let resource = match (&self.resource, kind) {
            (Resource::Target(t), ArnKind::Template) => Resource::Template { target: t.clone(), template: id },
            (Resource::Template { target, template }, ArnKind::Run) => {
                Resource::Run { target: target.clone(), template: template.clone(), run: id }
            }
            (Resource::Run { target, template, run }, ArnKind::Finding) => {
                Resource::Finding { target: target.clone(), template: template.clone(), run: run.clone(), finding: id }
            }
            (Resource::Run { target, template, run }, ArnKind::Exclusion) => Resource::Exclusion {
                target: target.clone(),
                template: template.clone(),
                run: run.clone(),
                exclusion: id,
            },
            _ => return None,
        };
        Some(self.with(resource))
    }
}

impl fmt::Display for InspectorArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:inspector:{}:{}:", self.partition, self.region, self.account)?;
        match &self.resource {
            Resource::ResourceGroup(id) => write!(f, "resourcegroup/{id}"),
            Resource::RulesPackage(id) => write!(f, "rulespackage/{id}"),
            Resource::Target(t) => write!(f, "target/{t}"),
            Resource::Template { target, template } => write!(f, "target/{target}/template/{template}"),
            Resource::Run { target, template, run } => write!(f, "target/{target}/template/{template}/run/{run}"),
            Resource::Finding { target, template, run, finding } => {
                write!(f, "target/{target}/template/{template}/run/{run}/finding/{finding}")
            }
            Resource::Exclusion { target, template, run, exclusion } => {
                write!(f, "target/{target}/template/{template}/run/{run}/exclusion/{exclusion}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINDING: &str = "arn:aws:inspector:us-west-2:123456789012:target/0-0kFIPusq/template/0-4r1V2mAw/run/0-MKkpXXPE/finding/0-tyvmWvuq";

    #[test]
    fn observed_arns_parse_and_print_back() {
        for s in [
            FINDING,
            "arn:aws:inspector:us-west-2:123456789012:resourcegroup/0-AB6DMKnv",
            "arn:aws:inspector:us-west-2:758058086616:rulespackage/0-9hgA516p",
            "arn:aws-us-gov:inspector:us-gov-west-1:850862329162:rulespackage/0-4oQgcI4G",
            "arn:aws:inspector:us-west-2:123456789012:target/0-0kFIPusq/template/0-4r1V2mAw/run/0-MKkpXXPE/exclusion/0-fDxUk8Ls",
        ] {
            assert_eq!(InspectorArn::parse(s).map(|a| a.to_string()).as_deref(), Some(s));
        }
    }

    #[test]
    fn parents_are_derived_from_children() {
        let f = InspectorArn::parse(FINDING).unwrap();
        assert_eq!(f.kind(), ArnKind::Finding);
        assert_eq!(f.target_arn().unwrap().to_string(), "arn:aws:inspector:us-west-2:123456789012:target/0-0kFIPusq");
        assert_eq!(f.run_arn().unwrap().kind(), ArnKind::Run);
        let run = f.run_arn().unwrap();
        assert_eq!(run.child(ArnKind::Finding, ResourceId::parse("0-tyvmWvuq").unwrap()).unwrap(), f);
    }

    #[test]
    fn malformed_arns_are_refused_with_the_kind_code() {
        for s in [
            "arn:aws:inspector:us-west-2:12345678901:target/0-0kFIPusq",
            "arn:aws:ec2:us-west-2:123456789012:target/0-0kFIPusq",
            "arn:aws:inspector:us-west-2:123456789012:target/0-0kF/IPusq",
            "arn:aws:inspector:us-west-2:123456789012:target/1-0kFIPusq",
            "arn:aws:inspector:US-WEST-2:123456789012:target/0-0kFIPusq",
            "arn:aws:inspector:us-west-2:123456789012:target:0-0kFIPusq:template:0-4r1V2mAw",
        ] {
            assert_eq!(InspectorArn::parse(s), None, "{s}");
        }
        let e = InspectorArn::parse_kind(FINDING, ArnKind::Run).unwrap_err();
        assert_eq!(e.error_code(), Some("INVALID_ASSESSMENT_RUN_ARN"));
    }

    #[test]
    fn generated_ids_look_like_inspector_ids() {
        let ctx = ArnContext::new("eu-west-1", "123456789012");
        for _ in 0..200 {
            let id = ResourceId::random();
            assert_eq!(id.as_str().len(), 10);
            let arn = ctx.arn(Resource::Target(id)).to_string();
            assert_eq!(InspectorArn::parse(&arn).unwrap().to_string(), arn);
        }
        assert_eq!(ResourceId::from_number(0).as_str(), "0-00000000");
        assert_eq!(ResourceId::from_number(62).as_str(), "0-00000010");
        assert_eq!(ArnContext::new("us-gov-east-1", "123456789012").partition, "aws-us-gov");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in "\\PC{0,200}") {
            if let Some(a) = InspectorArn::parse(&s) {
                proptest::prop_assert_eq!(a.to_string(), s);
            }
        }

        #[test]
        fn structured_arns_round_trip(region in "[a-z]{2}-[a-z]{4,9}-[1-9]", account in "[0-9]{12}",
                                      ids in proptest::collection::vec("[A-Za-z0-9]{8}", 4)) {
            let s = format!("arn:aws:inspector:{region}:{account}:target/0-{}/template/0-{}/run/0-{}/finding/0-{}", ids[0], ids[1], ids[2], ids[3]);
            let a = InspectorArn::parse(&s).unwrap();
            proptest::prop_assert_eq!(a.kind(), ArnKind::Finding);
            proptest::prop_assert_eq!(a.to_string(), s);
        }
    }
}
