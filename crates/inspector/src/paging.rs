//! `nextToken` paging: opaque, tamper-evident tokens bound to one query.
//!
//! Why it exists: the AWS CLI follows `nextToken` by itself, so a token must
//! survive a round trip through the client untouched, must not let a client
//! jump into another operation's or another filter's result, and must fit
//! `PaginationToken` (1-300 characters). A token is
//! `base64url(version | operation | query fingerprint | cursor | tag)`, the
//! tag being HMAC-SHA256 under the server's paging key (96 bits kept). The
//! cursor is either an offset (static lists) or the last key returned
//! (keyset paging for stores: `WHERE arn > ? ORDER BY arn`).

use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;

use crate::backend::operation_index;
use crate::error::ApiError;
use crate::types::InvalidInputErrorCode;

const VERSION: u8 = 1;
const TAG_LEN: usize = 12;
const FINGERPRINT_LEN: usize = 8;
const HEADER_LEN: usize = 1 + 1 + FINGERPRINT_LEN + 1;
/// The longest cursor that keeps a token within 300 characters.
pub const MAX_CURSOR_LEN: usize = 300 / 4 * 3 - HEADER_LEN - TAG_LEN;

/// Default and maximum page sizes of one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    /// Items when `maxResults` is absent.
    pub default: usize,
    /// Most items a page ever carries, whatever `maxResults` says.
    pub max: usize,
}

/// ARN lists (`ListReturnedArnList` is capped at 100 items in the model) and
/// `PreviewAgents` (`AgentPreviewList`, 100): default 10.
pub const ARN_PAGE: PageLimits = PageLimits { default: 10, max: 100 };
/// `ListExclusions`, `GetExclusionsPreview`: default 100 (model docs).
pub const EXCLUSION_PAGE: PageLimits = PageLimits { default: 100, max: 100 };
/// `ListAssessmentRunAgents` (`AssessmentRunAgentList`, 500): default 10.
pub const AGENT_PAGE: PageLimits = PageLimits { default: 10, max: 500 };
/// `ListEventSubscriptions` (`SubscriptionList`, 50): default 10.
pub const SUBSCRIPTION_PAGE: PageLimits = PageLimits { default: 10, max: 50 };

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The first page.
    Start,
    /// Skip this many items.
    Offset(u64),
    /// Items strictly after this key.
    After(String),
}

/// A decoded page request: where to start and how many items to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Where the page starts.
    pub cursor: Cursor,
    /// How many items at most.
    pub limit: usize,
    operation: u8,
    fingerprint: [u8; FINGERPRINT_LEN],
}

/// Issues and checks paging tokens.
pub struct Pager {
    key: hmac::Key,
}

impl Pager {
    /// A pager keyed by `secret` (derive it from the server's master key so
    /// that tokens survive a restart).
    pub fn new(secret: &[u8]) -> Pager {
        Pager { key: hmac::Key::new(hmac::HMAC_SHA256, secret) }
    }

    /// Decodes `nextToken` and `maxResults` for `operation`; `query` is the
    /// typed request (its `nextToken` and `maxResults` are ignored, every
    /// other member must be what it was when the token was issued).
    pub fn start<Q: Serialize>(
        &self,
        operation: &str,
        query: &Q,
        next_token: Option<&str>,
        max_results: Option<i32>,
        limits: PageLimits,
    ) -> Result<PageRequest, ApiError> {
        let limit = match max_results {
            None => limits.default,
            Some(n) if n >= 1 => (n as usize).min(limits.max),
            Some(n) => {
                return Err(ApiError::invalid_input(
                    InvalidInputErrorCode::InvalidMaxResults,
                    format!("maxResults must be at least 1 (got {n})"),
                ));
            }
        };
        let op = operation_index(operation)
            .ok_or_else(|| ApiError::internal(format!("paging for unknown operation {operation}")))?
            as u8;
        let fingerprint = fingerprint(query);
        let cursor = match next_token {
            None => Cursor::Start,
            Some(token) => self.decode(token, op, &fingerprint).ok_or_else(|| {
                ApiError::invalid_input(
                    InvalidInputErrorCode::InvalidPaginationToken,
                    "nextToken was not issued by this server for this request",
                )
            })?,
        };
        Ok(PageRequest { cursor, limit, operation: op, fingerprint })
    }

    fn decode(&self, token: &str, op: u8, fingerprint: &[u8; FINGERPRINT_LEN]) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return None;
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let expected = hmac::sign(&self.key, body);
        constant_time::verify_slices_are_equal(&expected.as_ref()[..TAG_LEN], tag).ok()?;
        if body[0] != VERSION || body[1] != op || body[2..2 + FINGERPRINT_LEN] != fingerprint[..] {
            return None;
        }
        let payload = &body[HEADER_LEN..];
        match body[HEADER_LEN - 1] {
            0 => Some(Cursor::Offset(u64::from_be_bytes(payload.try_into().ok()?))),
            1 => Some(Cursor::After(String::from_utf8(payload.to_vec()).ok()?)),
            _ => None,
        }
    }

    /// The token for the page after `page`, continuing at `cursor`.
    /// `Err` only for a key cursor over [`MAX_CURSOR_LEN`] bytes.
    pub fn token(&self, page: &PageRequest, cursor: &Cursor) -> Result<String, ApiError> {
        let (kind, payload): (u8, Vec<u8>) = match cursor {
            Cursor::Start => (0, 0u64.to_be_bytes().to_vec()),
            Cursor::Offset(n) => (0, n.to_be_bytes().to_vec()),
            Cursor::After(key) => (1, key.as_bytes().to_vec()),
        };
        if payload.len() > MAX_CURSOR_LEN {
            return Err(ApiError::internal(format!("paging key of {} bytes is over {MAX_CURSOR_LEN}", payload.len())));
        }
        let mut body = Vec::with_capacity(HEADER_LEN + payload.len() + TAG_LEN);
        body.extend([VERSION, page.operation]);
        body.extend(page.fingerprint);
        body.push(kind);
        body.extend(payload);
        let tag = hmac::sign(&self.key, &body);
        body.extend(&tag.as_ref()[..TAG_LEN]);
        Ok(URL_SAFE_NO_PAD.encode(body))
    }

    /// Pages an in-memory list by offset: the page's items and the next token
    /// (`None` on the last page).
    pub fn page<T: Clone, Q: Serialize>(
        &self,
        operation: &str,
        query: &Q,
        next_token: Option<&str>,
        max_results: Option<i32>,
        limits: PageLimits,
        items: &[T],
    ) -> Result<(Vec<T>, Option<String>), ApiError> {
        let page = self.start(operation, query, next_token, max_results, limits)?;
        let start = match &page.cursor {
            Cursor::Start => 0,
            Cursor::Offset(n) => usize::try_from(*n).unwrap_or(usize::MAX).min(items.len()),
            Cursor::After(_) => {
                return Err(ApiError::invalid_input(
                    InvalidInputErrorCode::InvalidPaginationToken,
                    "nextToken is of another kind",
                ));
            }
        };
        let end = start.saturating_add(page.limit).min(items.len());
        let next = if end < items.len() { Some(self.token(&page, &Cursor::Offset(end as u64))?) } else { None };
        Ok((items[start..end].to_vec(), next))
    }
}

/// SHA-256 over the canonical JSON of the request without its paging members.
fn fingerprint<Q: Serialize>(query: &Q) -> [u8; FINGERPRINT_LEN] {
    let mut value = serde_json::to_value(query).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("nextToken");
        map.remove("maxResults");
    }
    // serde_json's map is ordered by key, so equal requests serialise equally.
    let canonical = serde_json::to_vec(&value).unwrap_or_default();
    let hash = digest::digest(&digest::SHA256, &canonical);
    let mut out = [0u8; FINGERPRINT_LEN];
    out.copy_from_slice(&hash.as_ref()[..FINGERPRINT_LEN]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pager() -> Pager {
        Pager::new(b"test paging key")
    }

    #[test]
    fn pages_follow_tokens_to_the_end() {
        let items: Vec<u32> = (0..25).collect();
        let q = json!({"filter": {"namePattern": "x"}});
        let p = pager();
        let (first, t1) = p.page("ListAssessmentTemplates", &q, None, Some(10), ARN_PAGE, &items).unwrap();
        assert_eq!(first, (0..10).collect::<Vec<_>>());
        let (second, t2) = p.page("ListAssessmentTemplates", &q, t1.as_deref(), Some(10), ARN_PAGE, &items).unwrap();
        assert_eq!(second, (10..20).collect::<Vec<_>>());
        let (third, t3) = p.page("ListAssessmentTemplates", &q, t2.as_deref(), Some(10), ARN_PAGE, &items).unwrap();
        assert_eq!((third, t3), ((20..25).collect::<Vec<_>>(), None));
    }

    #[test]
    fn max_results_is_honoured_and_capped() {
        let items: Vec<u32> = (0..600).collect();
        let p = pager();
        let (page, _) = p.page("ListFindings", &json!({}), None, Some(500), ARN_PAGE, &items).unwrap();
        assert_eq!(page.len(), 100);
        let (page, _) = p.page("ListFindings", &json!({}), None, None, ARN_PAGE, &items).unwrap();
        assert_eq!(page.len(), 10);
        let e = p.page("ListFindings", &json!({}), None, Some(0), ARN_PAGE, &items).unwrap_err();
        assert_eq!(e.error_code(), Some("INVALID_MAX_RESULTS"));
    }

    #[test]
    fn tokens_are_bound_to_key_operation_and_query() {
        let items: Vec<u32> = (0..30).collect();
        let q = json!({"assessmentRunArns": ["a"]});
        let (_, token) = pager().page("ListFindings", &q, None, None, ARN_PAGE, &items).unwrap();
        let token = token.unwrap();
        let bad = |r: Result<(Vec<u32>, Option<String>), ApiError>| r.unwrap_err().error_code();
        let code = Some("INVALID_PAGINATION_TOKEN");
        assert_eq!(bad(Pager::new(b"other").page("ListFindings", &q, Some(&token), None, ARN_PAGE, &items)), code);
        assert_eq!(bad(pager().page("ListAssessmentRuns", &q, Some(&token), None, ARN_PAGE, &items)), code);
        assert_eq!(
            bad(pager().page(
                "ListFindings",
                &json!({"assessmentRunArns": ["b"]}),
                Some(&token),
                None,
                ARN_PAGE,
                &items
            )),
            code
        );
        // Changing maxResults between pages is allowed (the CLI's --page-size does it).
        assert!(pager().page("ListFindings", &q, Some(&token), Some(3), ARN_PAGE, &items).is_ok());
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[HEADER_LEN] ^= 1;
        assert_eq!(
            bad(pager().page("ListFindings", &q, Some(&URL_SAFE_NO_PAD.encode(bytes)), None, ARN_PAGE, &items)),
            code
        );
    }

    #[test]
    fn key_cursors_round_trip_and_fit_the_model() {
        let p = pager();
        let req = p.start("ListFindings", &json!({}), None, None, ARN_PAGE).unwrap();
        let arn = "arn:aws:inspector:ap-southeast-2:123456789012:target/0-aaaaaaaa/template/0-bbbbbbbb/run/0-cccccccc/finding/0-dddddddd";
        let token = p.token(&req, &Cursor::After(arn.into())).unwrap();
        assert!(token.len() <= 300);
        let next = p.start("ListFindings", &json!({}), Some(&token), None, ARN_PAGE).unwrap();
        assert_eq!(next.cursor, Cursor::After(arn.into()));
        assert!(p.token(&req, &Cursor::After("k".repeat(MAX_CURSOR_LEN))).unwrap().len() <= 300);
        assert!(p.token(&req, &Cursor::After("k".repeat(MAX_CURSOR_LEN + 1))).is_err());
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_tokens_never_panics(token in "\\PC{0,300}") {
            let refused = pager().start("ListFindings", &json!({}), Some(&token), None, ARN_PAGE).is_err();
            proptest::prop_assert!(refused);
        }

        #[test]
        fn decoding_arbitrary_base64_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..225)) {
            let token = URL_SAFE_NO_PAD.encode(bytes);
            let refused = pager().start("ListFindings", &json!({}), Some(&token), None, ARN_PAGE).is_err();
            proptest::prop_assert!(refused);
        }
    }
}
