//! The one trait a store implements to serve the Inspector API, and the
//! dispatch from an operation name to its method.
//!
//! Why it exists: the protocol layer (this crate) and the fleet store grow
//! apart; they meet only here. Every method receives a request that already
//! passed the model's validation and was decoded into its typed struct, and
//! returns the typed response or an [`ApiError`]. The trait and the dispatch
//! table are generated from the same list of 37 operations
//! (`types::for_each_operation!`), so an operation cannot be forgotten.

use std::future::Future;

use serde_json::Value;

use crate::error::ApiError;
use crate::types::*;

/// Who is calling, for backends that audit or scope by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The SigV4 access key id that signed the request.
    pub access_key_id: String,
    /// The `x-amzn-RequestId` of the response.
    pub request_id: String,
}

macro_rules! define_backend {
    ($(($op:ident, $method:ident, $req:ty, $resp:ty)),* $(,)?) => {
        /// One method per Inspector Classic operation. Requests are validated
        /// against the model before a method is called; operations without an
        /// output shape return `()` (HTTP 200, empty body). Methods are async
        /// (the server is tokio + axum) and must be `Send`.
        pub trait InspectorBackend: Send + Sync + 'static {
            $(
                #[doc = concat!("Serves `InspectorService.", stringify!($op), "`.")]
                fn $method(
                    &self,
                    ctx: &RequestContext,
                    request: $req,
                ) -> impl Future<Output = Result<$resp, ApiError>> + Send;
            )*
        }

        /// A shared backend serves like the backend it shares.
        impl<T: InspectorBackend> InspectorBackend for std::sync::Arc<T> {
            $(
                fn $method(
                    &self,
                    ctx: &RequestContext,
                    request: $req,
                ) -> impl Future<Output = Result<$resp, ApiError>> + Send {
                    (**self).$method(ctx, request)
                }
            )*
        }

        /// Every operation's wire name, in the model's sorted order.
        pub const OPERATIONS: &[&str] = &[$(stringify!($op)),*];

        /// Decodes a validated JSON body into the operation's request type,
        /// calls the backend, and encodes the response (`None`: empty body).
        pub async fn dispatch<B: InspectorBackend>(
            backend: &B,
            ctx: &RequestContext,
            operation: &str,
            body: Value,
        ) -> Result<Option<Value>, ApiError> {
            match operation {
                $(
                    stringify!($op) => {
                        let request: $req = decode(body)?;
                        let response = backend.$method(ctx, request).await?;
                        encode(&response)
                    }
                )*
                other => Err(ApiError::UnknownOperation { target: other.to_string() }),
            }
        }
    };
}

crate::for_each_operation!(define_backend);

fn decode<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    // The model check ran first, so a failure here means the typed structs and
    // the model disagree: say so rather than blame the client's member.
    serde_json::from_value(body)
        .map_err(|e| ApiError::InvalidInput { code: None, message: format!("request could not be decoded: {e}") })
}

fn encode<T: serde::Serialize>(response: &T) -> Result<Option<Value>, ApiError> {
    match serde_json::to_value(response) {
        Ok(Value::Null) => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(ApiError::internal(format!("response could not be encoded: {e}"))),
    }
}

/// Position of an operation in [`OPERATIONS`].
pub fn operation_index(operation: &str) -> Option<usize> {
    OPERATIONS.iter().position(|o| *o == operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_without_output_answer_an_empty_body() {
        assert_eq!(encode(&()), Ok(None));
        let r = CreateAssessmentTargetResponse { assessment_target_arn: "arn".into() };
        assert_eq!(encode(&r), Ok(Some(serde_json::json!({"assessmentTargetArn": "arn"}))));
        assert_eq!(OPERATIONS.len(), 37);
        assert_eq!(operation_index("AddAttributesToFindings"), Some(0));
    }
}
