//! Errors as Inspector and the AWS front end put them on the wire.
//!
//! Why it exists: SDKs pick the exception from `__type` (ignoring any
//! `namespace#` prefix) and read `message`, `errorCode` and `canRetry`; a
//! wrong name or status makes the AWS CLI print something unhelpful or retry
//! for nothing. Every refusal of the protocol layer and of a backend goes
//! through [`ApiError`], so the shape is decided in one place (spec §1, §4).

use serde_json::{Map, Value, json};

use crate::types::{
    AccessDeniedErrorCode, AgentAlreadyRunningAssessment, InvalidCrossAccountRoleErrorCode, InvalidInputErrorCode,
    LimitExceededErrorCode, NoSuchEntityErrorCode,
};

/// Namespace of Inspector's own exceptions in `__type`.
const INSPECTOR_NAMESPACE: &str = "com.amazonaws.inspector";
/// Namespace of the AWS front end's protocol and authentication errors.
const CORAL_NAMESPACE: &str = "com.amazon.coral.service";

/// A refused request: one of the model's eleven exceptions, or one of the
/// errors the AWS front end answers before the service sees the request.
#[allow(missing_docs)] // variant fields: see the variant
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// `InvalidInputException`. `code` is `None` only when nothing in the
    /// request can be blamed on one member (the body is not JSON at all): the
    /// model's `InvalidInputErrorCode` has no value for that, and an invented
    /// value would break SDKs that parse the enum strictly.
    InvalidInput { code: Option<InvalidInputErrorCode>, message: String },
    /// `NoSuchEntityException`: a well-formed ARN that names nothing.
    NoSuchEntity { code: NoSuchEntityErrorCode, message: String },
    /// `AccessDeniedException`.
    AccessDenied { code: AccessDeniedErrorCode, message: String },
    /// `LimitExceededException`.
    LimitExceeded { code: LimitExceededErrorCode, message: String },
    /// `InvalidCrossAccountRoleException`.
    InvalidCrossAccountRole { code: InvalidCrossAccountRoleErrorCode, message: String },
    /// `AssessmentRunInProgressException`: the runs (at most 10 listed) that block a delete or a report.
    AssessmentRunInProgress { assessment_run_arns: Vec<String>, truncated: bool, message: String },
    /// `AgentsAlreadyRunningAssessmentException`.
    AgentsAlreadyRunningAssessment { agents: Vec<AgentAlreadyRunningAssessment>, truncated: bool, message: String },
    /// `UnsupportedFeatureException`.
    UnsupportedFeature { message: String },
    /// `PreviewGenerationInProgressException` (the model gives it no `canRetry`).
    PreviewGenerationInProgress { message: String },
    /// `ServiceTemporarilyUnavailableException` (retryable).
    ServiceTemporarilyUnavailable { message: String },
    /// `InternalException`: HTTP 500, retryable; the only `fault` in the model.
    Internal { message: String },
    /// `X-Amz-Target` names no operation of this service.
    UnknownOperation { target: String },
    /// The body is over the server's limit (HTTP 413).
    RequestTooLarge { limit: usize },
    /// Authentication failed (SigV4); see [`AuthErrorKind`].
    Auth { kind: AuthErrorKind, message: String },
}

/// The AWS front end's authentication errors, by the name the CLI prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthErrorKind {
    /// No `Authorization` header at all.
    MissingAuthenticationToken,
    /// An `Authorization` header that is not a complete SigV4 header.
    IncompleteSignature,
    /// Unknown access key id, revoked key, or a wrong or missing session token.
    UnrecognizedClient,
    /// Signature mismatch, wrong scope, or a clock outside ±15 minutes.
    InvalidSignature,
    /// The session credentials have expired.
    ExpiredToken,
}

impl AuthErrorKind {
    fn name(self) -> &'static str {
        match self {
            AuthErrorKind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            AuthErrorKind::IncompleteSignature => "IncompleteSignatureException",
            AuthErrorKind::UnrecognizedClient => "UnrecognizedClientException",
            AuthErrorKind::InvalidSignature => "InvalidSignatureException",
            AuthErrorKind::ExpiredToken => "ExpiredTokenException",
        }
    }
}

impl ApiError {
    /// An `InvalidInputException` with a code.
    pub fn invalid_input(code: InvalidInputErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::InvalidInput { code: Some(code), message: message.into() }
    }

    /// A `NoSuchEntityException`.
    pub fn no_such_entity(code: NoSuchEntityErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::NoSuchEntity { code, message: message.into() }
    }

    /// An `InternalException`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::Internal { message: message.into() }
    }

    /// The exception name, without namespace (what the CLI prints in parentheses).
    pub fn name(&self) -> &'static str {
        match self {
            ApiError::InvalidInput { .. } => "InvalidInputException",
            ApiError::NoSuchEntity { .. } => "NoSuchEntityException",
            ApiError::AccessDenied { .. } => "AccessDeniedException",
            ApiError::LimitExceeded { .. } => "LimitExceededException",
            ApiError::InvalidCrossAccountRole { .. } => "InvalidCrossAccountRoleException",
            ApiError::AssessmentRunInProgress { .. } => "AssessmentRunInProgressException",
            ApiError::AgentsAlreadyRunningAssessment { .. } => "AgentsAlreadyRunningAssessmentException",
            ApiError::UnsupportedFeature { .. } => "UnsupportedFeatureException",
            ApiError::PreviewGenerationInProgress { .. } => "PreviewGenerationInProgressException",
            ApiError::ServiceTemporarilyUnavailable { .. } => "ServiceTemporarilyUnavailableException",
            ApiError::Internal { .. } => "InternalException",
            ApiError::UnknownOperation { .. } => "UnknownOperationException",
            ApiError::RequestTooLarge { .. } => "RequestEntityTooLargeException",
            ApiError::Auth { kind, .. } => kind.name(),
        }
    }

    /// The `__type` value: `namespace#Name`.
    pub fn wire_type(&self) -> String {
        let namespace = match self {
            ApiError::UnknownOperation { .. } | ApiError::RequestTooLarge { .. } | ApiError::Auth { .. } => {
                CORAL_NAMESPACE
            }
            _ => INSPECTOR_NAMESPACE,
        };
        format!("{namespace}#{}", self.name())
    }

    /// HTTP status: 500 for `InternalException`, 413 for an oversized body,
    /// 400 for everything else (the model has no status overrides; spec §4).
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Internal { .. } => 500,
            ApiError::RequestTooLarge { .. } => 413,
            _ => 400,
        }
    }

    /// Whether the client may retry at once (`canRetry`).
    pub fn can_retry(&self) -> bool {
        matches!(self, ApiError::Internal { .. } | ApiError::ServiceTemporarilyUnavailable { .. })
    }

    /// The human-readable message.
    pub fn message(&self) -> String {
        match self {
            ApiError::InvalidInput { message, .. }
            | ApiError::NoSuchEntity { message, .. }
            | ApiError::AccessDenied { message, .. }
            | ApiError::LimitExceeded { message, .. }
            | ApiError::InvalidCrossAccountRole { message, .. }
            | ApiError::AssessmentRunInProgress { message, .. }
            | ApiError::AgentsAlreadyRunningAssessment { message, .. }
            | ApiError::UnsupportedFeature { message }
            | ApiError::PreviewGenerationInProgress { message }
            | ApiError::ServiceTemporarilyUnavailable { message }
            | ApiError::Internal { message }
            | ApiError::Auth { message, .. } => message.clone(),
            ApiError::UnknownOperation { target } if target.is_empty() => {
                "missing X-Amz-Target header (expected InspectorService.<Operation>)".to_string()
            }
            ApiError::UnknownOperation { target } => format!("unknown operation {target:?}"),
            ApiError::RequestTooLarge { limit } => format!("request body is over {limit} bytes"),
        }
    }

    /// The `errorCode` member, where the exception has one.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            ApiError::InvalidInput { code, .. } => code.map(|c| c.as_str()),
            ApiError::NoSuchEntity { code, .. } => Some(code.as_str()),
            ApiError::AccessDenied { code, .. } => Some(code.as_str()),
            ApiError::LimitExceeded { code, .. } => Some(code.as_str()),
            ApiError::InvalidCrossAccountRole { code, .. } => Some(code.as_str()),
            _ => None,
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), Value::String(self.wire_type()));
        body.insert("message".into(), Value::String(self.message()));
        if let Some(code) = self.error_code() {
            body.insert("errorCode".into(), Value::String(code.into()));
        }
        match self {
            ApiError::AssessmentRunInProgress { assessment_run_arns, truncated, .. } => {
                body.insert("assessmentRunArns".into(), json!(assessment_run_arns));
                body.insert("assessmentRunArnsTruncated".into(), json!(truncated));
            }
            ApiError::AgentsAlreadyRunningAssessment { agents, truncated, .. } => {
                body.insert("agents".into(), serde_json::to_value(agents).unwrap_or(Value::Null));
                body.insert("agentsTruncated".into(), json!(truncated));
            }
            _ => {}
        }
        // The model gives every Inspector exception `canRetry` except this one;
        // the front end's errors carry only `message`.
        let inspector_own = self.wire_type().starts_with(INSPECTOR_NAMESPACE);
        if inspector_own && !matches!(self, ApiError::PreviewGenerationInProgress { .. }) {
            body.insert("canRetry".into(), Value::Bool(self.can_retry()));
        }
        Value::Object(body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_body_has_the_documented_members() {
        let e = ApiError::invalid_input(InvalidInputErrorCode::InvalidMaxResults, "bad");
        assert_eq!(
            e.body(),
            json!({"__type": "com.amazonaws.inspector#InvalidInputException", "message": "bad",
                   "errorCode": "INVALID_MAX_RESULTS", "canRetry": false})
        );
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn internal_is_a_retryable_500_and_auth_errors_are_coral_shaped() {
        let e = ApiError::internal("boom");
        assert_eq!((e.status(), e.body()["canRetry"].as_bool()), (500, Some(true)));
        let a = ApiError::Auth { kind: AuthErrorKind::UnrecognizedClient, message: "nope".into() };
        assert_eq!(
            a.body(),
            json!({"__type": "com.amazon.coral.service#UnrecognizedClientException", "message": "nope"})
        );
    }

    #[test]
    fn run_in_progress_lists_the_runs() {
        let e = ApiError::AssessmentRunInProgress {
            assessment_run_arns: vec!["arn:r".into()],
            truncated: false,
            message: "busy".into(),
        };
        let b = e.body();
        assert_eq!(b["assessmentRunArns"], json!(["arn:r"]));
        assert_eq!(b["assessmentRunArnsTruncated"], json!(false));
        assert_eq!(b.get("errorCode"), None);
    }
}
