//! Model-driven request validation, and which `errorCode` each member gets.
//!
//! Why it exists: the server must refuse what the model refuses (required
//! members, types, lengths, patterns, enum values, list bounds, integer
//! ranges) even when a client skips its own checks, and must name the
//! offending member with the `InvalidInputErrorCode` a script expects. The
//! walk follows the embedded model; the code table below is the one place
//! that maps members to codes (documented in `docs/inspector-api.md`).

use std::fmt;

use serde_json::Value;

use crate::error::ApiError;
use crate::model::{Operation, ServiceModel, ShapeId, ShapeKind};
use crate::types::InvalidInputErrorCode as Code;

/// One step of the path to a bad value, printed the way AWS prints it
/// (`tags.1.member.key`).
#[allow(missing_docs)] // variant fields: see the variant
#[derive(Debug, Clone, PartialEq)]
pub enum PathSeg {
    /// A structure member, with the structure's shape name.
    Member { name: String, container: String },
    /// A list element (0-based; printed 1-based).
    Index(usize),
    /// A map entry.
    Key(String),
}

/// What was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    /// A required member is absent (or null).
    Missing,
    /// The JSON type does not match the shape.
    WrongType,
    /// String shorter than `min`.
    TooShort,
    /// String longer than `max`.
    TooLong,
    /// String does not match the shape's pattern.
    Pattern,
    /// String outside the enum.
    NotInEnum,
    /// Fewer list items or map entries than `min`.
    TooFew,
    /// More list items or map entries than `max`.
    TooMany,
    /// Number below `min`.
    BelowMin,
    /// Number above `max`.
    AboveMax,
}

/// The first violation found, in model member order.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Where.
    pub path: Vec<PathSeg>,
    /// What.
    pub kind: ViolationKind,
    /// The constraint, in AWS's words.
    pub constraint: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.kind == ViolationKind::Missing { "Value null" } else { "Value" };
        write!(
            f,
            "1 validation error detected: {value} at '{}' failed to satisfy constraint: {}",
            path_text(&self.path),
            self.constraint
        )
    }
}

/// `a.b.1.member.c` (AWS style; `[k]` for map keys).
pub fn path_text(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Member { name, .. } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            PathSeg::Index(i) => out.push_str(&format!(".{}.member", i + 1)),
            PathSeg::Key(k) => out.push_str(&format!("[{k:?}]")),
        }
    }
    out
}

/// Integer bounds of a shape: the model's `min`/`max`, plus the page-size
/// limit the model states only in prose ("default 10, maximum 500") for the
/// three `*MaxResults` shapes.
pub fn integer_range(model: &ServiceModel, id: ShapeId) -> (i64, i64) {
    let shape = &model.shapes[id];
    let (lo, hi) = match shape.kind {
        ShapeKind::Integer => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    if shape.name.ends_with("MaxResults") {
        return (1, 500);
    }
    (shape.min.map_or(lo, |m| m as i64), shape.max.map_or(hi, |m| m as i64))
}

/// Validates an operation's JSON input against the model.
pub fn validate_input(model: &ServiceModel, op: &Operation, body: &Value) -> Result<(), Violation> {
    let mut path = Vec::new();
    match op.input {
        Some(id) => check(model, id, body, &mut path),
        // `DescribeCrossAccountAccessRole`: no input shape; `{}` is what clients send.
        None if body.is_object() => Ok(()),
        None => {
            Err(Violation { path, kind: ViolationKind::WrongType, constraint: "Body must be a JSON object".into() })
        }
    }
}

fn violation(path: &[PathSeg], kind: ViolationKind, constraint: String) -> Result<(), Violation> {
    Err(Violation { path: path.to_vec(), kind, constraint })
}

fn check(model: &ServiceModel, id: ShapeId, v: &Value, path: &mut Vec<PathSeg>) -> Result<(), Violation> {
    let shape = &model.shapes[id];
    let wrong = |path: &[PathSeg], what: &str| {
        violation(path, ViolationKind::WrongType, format!("Member must be {what} (shape {})", shape.name))
    };
    match &shape.kind {
        ShapeKind::Structure { members, .. } => {
            let Some(obj) = v.as_object() else { return wrong(path, "an object") };
            for m in members {
                path.push(PathSeg::Member { name: m.name.clone(), container: shape.name.clone() });
                match obj.get(&m.name) {
                    None | Some(Value::Null) if m.required => {
                        return violation(path, ViolationKind::Missing, "Member must not be null".into());
                    }
                    None | Some(Value::Null) => {}
                    Some(value) => check(model, m.shape, value, path)?,
                }
                path.pop();
            }
            Ok(())
        }
        ShapeKind::List { member } => {
            let Some(items) = v.as_array() else { return wrong(path, "a list") };
            count_bounds(shape.min, shape.max, items.len(), path)?;
            for (i, item) in items.iter().enumerate() {
                path.push(PathSeg::Index(i));
                check(model, *member, item, path)?;
                path.pop();
            }
            Ok(())
        }
        ShapeKind::Map { key, value } => {
            let Some(obj) = v.as_object() else { return wrong(path, "a map") };
            count_bounds(shape.min, shape.max, obj.len(), path)?;
            for (k, item) in obj {
                path.push(PathSeg::Key(k.clone()));
                check(model, *key, &Value::String(k.clone()), path)?;
                check(model, *value, item, path)?;
                path.pop();
            }
            Ok(())
        }
        ShapeKind::String { enum_values, pattern } => {
            let Some(s) = v.as_str() else { return wrong(path, "a string") };
            let len = s.chars().count();
            if let Some(min) = shape.min
                && (len as f64) < min
            {
                return violation(
                    path,
                    ViolationKind::TooShort,
                    format!("Member must have length greater than or equal to {min}"),
                );
            }
            if let Some(max) = shape.max
                && (len as f64) > max
            {
                return violation(
                    path,
                    ViolationKind::TooLong,
                    format!("Member must have length less than or equal to {max}"),
                );
            }
            if let Some(values) = enum_values
                && !values.iter().any(|e| e == s)
            {
                return violation(
                    path,
                    ViolationKind::NotInEnum,
                    format!("Member must satisfy enum value set: [{}]", values.join(", ")),
                );
            }
            if let Some(re) = pattern
                && !re.is_match(s)
            {
                return violation(
                    path,
                    ViolationKind::Pattern,
                    format!("Member must satisfy regular expression pattern: {}", re.as_str()),
                );
            }
            Ok(())
        }
        ShapeKind::Integer | ShapeKind::Long => {
            let Some(n) = v.as_i64() else { return wrong(path, "an integer") };
            let (lo, hi) = integer_range(model, id);
            if n < lo {
                return violation(
                    path,
                    ViolationKind::BelowMin,
                    format!("Member must have value greater than or equal to {lo}"),
                );
            }
            if n > hi {
                return violation(
                    path,
                    ViolationKind::AboveMax,
                    format!("Member must have value less than or equal to {hi}"),
                );
            }
            Ok(())
        }
        ShapeKind::Double => {
            let Some(n) = v.as_f64() else { return wrong(path, "a number") };
            if shape.min.is_some_and(|m| n < m) {
                return violation(
                    path,
                    ViolationKind::BelowMin,
                    format!("Member must have value greater than or equal to {}", shape.min.unwrap_or_default()),
                );
            }
            if shape.max.is_some_and(|m| n > m) {
                return violation(
                    path,
                    ViolationKind::AboveMax,
                    format!("Member must have value less than or equal to {}", shape.max.unwrap_or_default()),
                );
            }
            Ok(())
        }
        ShapeKind::Boolean if v.is_boolean() => Ok(()),
        ShapeKind::Boolean => wrong(path, "a boolean"),
        ShapeKind::Timestamp if v.is_number() => Ok(()),
        ShapeKind::Timestamp => wrong(path, "a timestamp in epoch seconds"),
    }
}

fn count_bounds(min: Option<f64>, max: Option<f64>, n: usize, path: &[PathSeg]) -> Result<(), Violation> {
    if let Some(min) = min
        && (n as f64) < min
    {
        return violation(
            path,
            ViolationKind::TooFew,
            format!("Member must have length greater than or equal to {min}"),
        );
    }
    if let Some(max) = max
        && (n as f64) > max
    {
        return violation(path, ViolationKind::TooMany, format!("Member must have length less than or equal to {max}"));
    }
    Ok(())
}

/// The codes of one request member (and of the lists and key/value pairs under it).
struct CodeRule {
    /// Structure that holds the member; `None` matches any.
    container: Option<&'static str>,
    member: &'static str,
    /// A bad value (or a bad element of a list).
    value: Code,
    /// A list with too few or too many items.
    count: Option<Code>,
    /// A bad `key` inside an element.
    key: Option<Code>,
    /// A bad `value` inside an element.
    element_value: Option<Code>,
}

const fn rule(member: &'static str, value: Code, count: Option<Code>) -> CodeRule {
    CodeRule { container: None, member, value, count, key: None, element_value: None }
}

const fn pairs(
    container: Option<&'static str>,
    member: &'static str,
    whole: Code,
    count: Code,
    key: Code,
    value: Code,
) -> CodeRule {
    CodeRule { container, member, value: whole, count: Some(count), key: Some(key), element_value: Some(value) }
}

const fn within(container: &'static str, member: &'static str, value: Code) -> CodeRule {
    CodeRule { container: Some(container), member, value, count: None, key: None, element_value: None }
}

/// Member → code. Members the model gives no code of their own take the
/// code of the resource they belong to (marked "nearest").
const RULES: &[CodeRule] = &[
    rule("assessmentTargetArn", Code::InvalidAssessmentTargetArn, None),
    rule("assessmentTargetArns", Code::InvalidAssessmentTargetArn, Some(Code::InvalidNumberOfAssessmentTargetArns)),
    rule("previewAgentsArn", Code::InvalidAssessmentTargetArn, None),
    rule("assessmentTemplateArn", Code::InvalidAssessmentTemplateArn, None),
    rule(
        "assessmentTemplateArns",
        Code::InvalidAssessmentTemplateArn,
        Some(Code::InvalidNumberOfAssessmentTemplateArns),
    ),
    rule("assessmentRunArn", Code::InvalidAssessmentRunArn, None),
    rule("assessmentRunArns", Code::InvalidAssessmentRunArn, Some(Code::InvalidNumberOfAssessmentRunArns)),
    rule("findingArns", Code::InvalidFindingArn, Some(Code::InvalidNumberOfFindingArns)),
    rule("resourceGroupArn", Code::InvalidResourceGroupArn, None),
    rule("resourceGroupArns", Code::InvalidResourceGroupArn, Some(Code::InvalidNumberOfResourceGroupArns)),
    rule("rulesPackageArns", Code::InvalidRulesPackageArn, Some(Code::InvalidNumberOfRulesPackageArns)),
    rule("resourceArn", Code::InvalidResourceArn, None),
    // nearest: exclusions have no code; an exclusion ARN is a resource ARN.
    rule("exclusionArns", Code::InvalidResourceArn, None),
    rule("topicArn", Code::InvalidSnsTopicArn, None),
    rule("roleArn", Code::InvalidIamRoleArn, None),
    rule("assessmentTargetName", Code::InvalidAssessmentTargetName, None),
    rule("assessmentTemplateName", Code::InvalidAssessmentTemplateName, None),
    // nearest: a run name has no code; the run is the resource.
    rule("assessmentRunName", Code::InvalidAssessmentRunArn, None),
    rule("assessmentTargetNamePattern", Code::InvalidAssessmentTargetNamePattern, None),
    within("AssessmentTemplateFilter", "namePattern", Code::InvalidAssessmentTemplateNamePattern),
    // nearest: run names default to "Run N for <template name>".
    within("AssessmentRunFilter", "namePattern", Code::InvalidAssessmentTemplateNamePattern),
    rule("durationInSeconds", Code::InvalidAssessmentTemplateDuration, None),
    within("AssessmentTemplateFilter", "durationRange", Code::InvalidAssessmentTemplateDurationRange),
    within("AssessmentRunFilter", "durationRange", Code::InvalidAssessmentRunDurationRange),
    rule("startTimeRange", Code::InvalidAssessmentRunStartTimeRange, None),
    rule("completionTimeRange", Code::InvalidAssessmentRunCompletionTimeRange, None),
    rule("stateChangeTimeRange", Code::InvalidAssessmentRunStateChangeTimeRange, None),
    // nearest: findings are created when their run completes.
    rule("creationTimeRange", Code::InvalidAssessmentRunCompletionTimeRange, None),
    rule("states", Code::InvalidAssessmentRunState, Some(Code::InvalidNumberOfAssessmentRunStates)),
    // nearest: the stop action decides the run's final state.
    rule("stopAction", Code::InvalidAssessmentRunState, None),
    rule("severities", Code::InvalidSeverity, Some(Code::InvalidNumberOfSeverities)),
    rule("locale", Code::InvalidLocale, None),
    rule("event", Code::InvalidEvent, None),
    pairs(None, "tags", Code::InvalidTag, Code::InvalidNumberOfTags, Code::InvalidTagKey, Code::InvalidTagValue),
    pairs(
        None,
        "resourceGroupTags",
        Code::InvalidResourceGroupTagKey,
        Code::InvalidNumberOfResourceGroupTags,
        Code::InvalidResourceGroupTagKey,
        Code::InvalidResourceGroupTagValue,
    ),
    pairs(
        Some("FindingFilter"),
        "attributes",
        Code::InvalidAttribute,
        Code::InvalidNumberOfAttributes,
        Code::InvalidAttribute,
        Code::InvalidAttribute,
    ),
    pairs(
        Some("AddAttributesToFindingsRequest"),
        "attributes",
        Code::InvalidUserAttribute,
        Code::InvalidNumberOfUserAttributes,
        Code::InvalidUserAttributeKey,
        Code::InvalidUserAttributeValue,
    ),
    pairs(
        None,
        "userAttributes",
        Code::InvalidUserAttribute,
        Code::InvalidNumberOfUserAttributes,
        Code::InvalidUserAttributeKey,
        Code::InvalidUserAttributeValue,
    ),
    pairs(
        None,
        "userAttributesForFindings",
        Code::InvalidUserAttribute,
        Code::InvalidNumberOfUserAttributes,
        Code::InvalidUserAttributeKey,
        Code::InvalidUserAttributeValue,
    ),
    rule("attributeKeys", Code::InvalidUserAttributeKey, Some(Code::InvalidNumberOfUserAttributes)),
    rule("nextToken", Code::InvalidPaginationToken, None),
    rule("maxResults", Code::InvalidMaxResults, None),
    rule("agentIds", Code::InvalidAgentId, Some(Code::InvalidNumberOfAgentIds)),
    rule("autoScalingGroups", Code::InvalidAutoScalingGroup, Some(Code::InvalidNumberOfAutoScalingGroups)),
    rule("ruleNames", Code::InvalidRuleName, Some(Code::InvalidNumberOfRuleNames)),
    // nearest: the agent filter's health lists select agents.
    rule("agentHealths", Code::InvalidAgentId, None),
    rule("agentHealthCodes", Code::InvalidAgentId, None),
    // nearest: a report and a preview belong to a run and a template.
    rule("reportFileFormat", Code::InvalidAssessmentRunArn, None),
    rule("reportType", Code::InvalidAssessmentRunArn, None),
    rule("previewToken", Code::InvalidAssessmentTemplateArn, None),
    // A filter object of the wrong type: the code of its main criterion.
    within("ListAssessmentRunAgentsRequest", "filter", Code::InvalidAgentId),
    within("ListAssessmentRunsRequest", "filter", Code::InvalidAssessmentRunState),
    within("ListAssessmentTargetsRequest", "filter", Code::InvalidAssessmentTargetNamePattern),
    within("ListAssessmentTemplatesRequest", "filter", Code::InvalidAssessmentTemplateNamePattern),
    within("ListFindingsRequest", "filter", Code::InvalidSeverity),
];

fn find_rule(container: &str, member: &str) -> Option<&'static CodeRule> {
    RULES
        .iter()
        .find(|r| r.member == member && r.container == Some(container))
        .or_else(|| RULES.iter().find(|r| r.member == member && r.container.is_none()))
}

/// The documented code for a violation: the deepest member on the path
/// that has a rule decides; `None` when no member has one (the
/// conformance test checks that every request member of the model has).
pub fn error_code(violation: &Violation) -> Option<Code> {
    let path = &violation.path;
    for (i, seg) in path.iter().enumerate().rev() {
        let PathSeg::Member { name, container } = seg else { continue };
        let Some(rule) = find_rule(container, name) else { continue };
        let below = &path[i + 1..];
        if below.is_empty() && matches!(violation.kind, ViolationKind::TooFew | ViolationKind::TooMany) {
            return Some(rule.count.unwrap_or(rule.value));
        }
        let inner = below.iter().rev().find_map(|s| match s {
            PathSeg::Member { name, .. } => Some(name.as_str()),
            _ => None,
        });
        return Some(match inner {
            Some("key") => rule.key.unwrap_or(rule.value),
            Some("value") => rule.element_value.unwrap_or(rule.value),
            _ => rule.value,
        });
    }
    None
}

/// Validates and converts a violation into the `InvalidInputException` the client sees.
pub fn check_request(model: &ServiceModel, op: &Operation, body: &Value) -> Result<(), ApiError> {
    validate_input(model, op, body).map_err(|v| ApiError::InvalidInput { code: error_code(&v), message: v.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::model;
    use serde_json::json;

    fn code_of(op: &str, body: Value) -> Option<Code> {
        let m = model();
        match check_request(m, m.operation(op).unwrap(), &body) {
            Err(ApiError::InvalidInput { code, .. }) => code,
            other => panic!("{op} {body}: expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn codes_follow_the_member() {
        assert_eq!(code_of("ListFindings", json!({"maxResults": 0})), Some(Code::InvalidMaxResults));
        assert_eq!(code_of("ListFindings", json!({"maxResults": 501})), Some(Code::InvalidMaxResults));
        assert_eq!(code_of("ListFindings", json!({"nextToken": ""})), Some(Code::InvalidPaginationToken));
        assert_eq!(code_of("ListFindings", json!({"filter": {"severities": ["HIGH"]}})), Some(Code::InvalidSeverity));
        assert_eq!(code_of("DescribeFindings", json!({"findingArns": []})), Some(Code::InvalidNumberOfFindingArns));
        assert_eq!(code_of("StartAssessmentRun", json!({})), Some(Code::InvalidAssessmentTemplateArn));
        assert_eq!(
            code_of(
                "CreateAssessmentTemplate",
                json!({"assessmentTargetArn": "a", "assessmentTemplateName": "n",
                "durationInSeconds": 179, "rulesPackageArns": []})
            ),
            Some(Code::InvalidAssessmentTemplateDuration)
        );
        assert_eq!(
            code_of("SetTagsForResource", json!({"resourceArn": "a", "tags": [{"key": ""}]})),
            Some(Code::InvalidTagKey)
        );
        assert_eq!(
            code_of("SetTagsForResource", json!({"resourceArn": "a", "tags": [{"value": "v"}]})),
            Some(Code::InvalidTagKey)
        );
        assert_eq!(
            code_of("ListAssessmentTemplates", json!({"filter": {"durationRange": {"minSeconds": 1}}})),
            Some(Code::InvalidAssessmentTemplateDurationRange)
        );
        assert_eq!(
            code_of("ListAssessmentRuns", json!({"filter": {"durationRange": {"minSeconds": 1}}})),
            Some(Code::InvalidAssessmentRunDurationRange)
        );
        assert_eq!(
            code_of(
                "AddAttributesToFindings",
                json!({"findingArns": ["a"], "attributes": [{"key": "k", "value": ""}]})
            ),
            Some(Code::InvalidUserAttributeValue)
        );
        assert_eq!(
            code_of("ListFindings", json!({"filter": {"attributes": [{"key": "k", "value": ""}]}})),
            Some(Code::InvalidAttribute)
        );
        assert_eq!(
            code_of("SubscribeToEvent", json!({"resourceArn": "a", "event": "NOPE", "topicArn": "t"})),
            Some(Code::InvalidEvent)
        );
        assert_eq!(
            code_of("GetExclusionsPreview", json!({"assessmentTemplateArn": "a", "previewToken": "nope"})),
            Some(Code::InvalidAssessmentTemplateArn)
        );
    }

    #[test]
    fn messages_name_the_member_like_aws() {
        let m = model();
        let v = validate_input(
            m,
            m.operation("SetTagsForResource").unwrap(),
            &json!({"resourceArn": "a", "tags": [{"value": "v"}]}),
        )
        .unwrap_err();
        assert_eq!(
            v.to_string(),
            "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn wrong_json_types_are_refused() {
        assert_eq!(code_of("ListFindings", json!({"maxResults": "10"})), Some(Code::InvalidMaxResults));
        assert_eq!(code_of("ListFindings", json!({"maxResults": 1.5})), Some(Code::InvalidMaxResults));
        assert_eq!(
            code_of("ListFindings", json!({"filter": {"creationTimeRange": {"beginDate": "2020-01-01"}}})),
            Some(Code::InvalidAssessmentRunCompletionTimeRange)
        );
        assert_eq!(code_of("ListFindings", json!([])), None);
    }

    #[test]
    fn samples_are_valid_for_every_operation() {
        let m = model();
        for op in &m.operations {
            let body = op.input.map(|i| m.sample(i)).unwrap_or(json!({}));
            assert_eq!(validate_input(m, op, &body), Ok(()), "{}", op.name);
        }
    }
}
