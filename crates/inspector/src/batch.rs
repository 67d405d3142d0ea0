//! `failedItems` for batch describes: which requested ARNs could not be served.
//!
//! Why it exists: `Describe*` never fails for one unknown ARN; it returns the
//! items it found plus a map `ARN → {failureCode, retryable}` (spec §1), and
//! every batch operation must tell a malformed ARN (`INVALID_ARN`), a repeated
//! one (`DUPLICATE_ARN`) and a missing one (`ITEM_DOES_NOT_EXIST`) apart the
//! same way. A store plans one lookup for the valid ARNs, then finishes.

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;

use crate::arn::{ArnKind, InspectorArn};
use crate::types::{FailedItemDetails, FailedItemErrorCode};

/// The requested ARNs, sorted into the ones to look up and the ones already failed.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// Well-formed ARNs of the expected kind, first occurrence of each, in request order.
    pub valid: Vec<InspectorArn>,
    valid_text: Vec<String>,
    failed: BTreeMap<String, FailedItemDetails>,
}

fn failure(code: FailedItemErrorCode) -> FailedItemDetails {
    FailedItemDetails { failure_code: code, retryable: false }
}

impl BatchRequest {
    /// Sorts `arns`: those of another kind than `kind` (or not ARNs) are
    /// `INVALID_ARN`, repeats are `DUPLICATE_ARN`.
    pub fn new(arns: &[String], kind: ArnKind) -> BatchRequest {
        let mut seen = HashSet::new();
        let mut out = BatchRequest { valid: Vec::new(), valid_text: Vec::new(), failed: BTreeMap::new() };
        for text in arns {
            if !seen.insert(text.as_str()) {
                out.failed.insert(text.clone(), failure(FailedItemErrorCode::DuplicateArn));
                continue;
            }
            match InspectorArn::parse(text) {
                Some(arn) if arn.kind() == kind => {
                    out.valid.push(arn);
                    out.valid_text.push(text.clone());
                }
                _ => {
                    out.failed.insert(text.clone(), failure(FailedItemErrorCode::InvalidArn));
                }
            }
        }
        out
    }

    /// The valid ARNs as text, for a store's `WHERE arn IN (...)`.
    pub fn valid_arns(&self) -> &[String] {
        &self.valid_text
    }

    /// The found items in request order, and `failedItems` with
    /// `ITEM_DOES_NOT_EXIST` for every valid ARN that `found` does not know.
    pub fn finish<T>(
        self,
        mut found: impl FnMut(&InspectorArn, &str) -> Option<T>,
    ) -> (Vec<T>, BTreeMap<String, FailedItemDetails>) {
        match self.try_finish(|arn, text| Ok::<_, Infallible>(found(arn, text))) {
            Ok(finished) => finished,
            Err(never) => match never {},
        }
    }

    /// [`finish`](Self::finish) for a lookup that can fail as a whole (a
    /// store error, an item that cannot be put on the wire): `Ok(None)` is a
    /// missing item, the first `Err` stops the lookup and is returned, since
    /// one broken item makes the whole answer untrustworthy.
    pub fn try_finish<T, E>(
        self,
        mut found: impl FnMut(&InspectorArn, &str) -> Result<Option<T>, E>,
    ) -> Result<(Vec<T>, BTreeMap<String, FailedItemDetails>), E> {
        let mut failed = self.failed;
        let mut items = Vec::new();
        for (arn, text) in self.valid.iter().zip(&self.valid_text) {
            match found(arn, text)? {
                Some(item) => items.push(item),
                None => {
                    failed.insert(text.clone(), failure(FailedItemErrorCode::ItemDoesNotExist));
                }
            }
        }
        Ok((items, failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_duplicate_and_missing_arns_are_told_apart() {
        let known = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa";
        let missing = "arn:aws:inspector:us-east-1:123456789012:target/0-bbbbbbbb";
        let template = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa/template/0-cccccccc";
        let arns: Vec<String> = [known, missing, "not-an-arn", known, template].map(String::from).to_vec();
        let batch = BatchRequest::new(&arns, ArnKind::Target);
        assert_eq!(batch.valid_arns(), &[known.to_string(), missing.to_string()]);
        let (items, failed) = batch.finish(|_, text| (text == known).then(|| text.to_string()));
        assert_eq!(items, vec![known.to_string()]);
        let code = |a: &str| failed[a].failure_code;
        assert_eq!(code(missing), FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(code("not-an-arn"), FailedItemErrorCode::InvalidArn);
        assert_eq!(code(known), FailedItemErrorCode::DuplicateArn);
        assert_eq!(code(template), FailedItemErrorCode::InvalidArn);
        assert_eq!(failed.len(), 4);
    }

    const FIRST: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-aaaaaaaa";
    const SECOND: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-bbbbbbbb";
    const THIRD: &str = "arn:aws:inspector:us-east-1:123456789012:target/0-cccccccc";

    #[test]
    fn try_finish_sorts_found_and_missing_like_finish() {
        let arns: Vec<String> = [FIRST, SECOND, "not-an-arn", THIRD].map(String::from).to_vec();
        let batch = BatchRequest::new(&arns, ArnKind::Target);
        let (items, failed) = batch
            .try_finish(|_, text| Ok::<_, String>((text != SECOND).then_some(text.len())))
            .expect("no lookup fails");
        assert_eq!(items, vec![FIRST.len(), THIRD.len()]);
        assert_eq!(failed[SECOND].failure_code, FailedItemErrorCode::ItemDoesNotExist);
        assert_eq!(failed["not-an-arn"].failure_code, FailedItemErrorCode::InvalidArn);
        assert_eq!(failed.len(), 2);
    }

    #[test]
    fn try_finish_returns_the_first_error_and_looks_no_further() {
        let arns: Vec<String> = [FIRST, SECOND, THIRD].map(String::from).to_vec();
        let batch = BatchRequest::new(&arns, ArnKind::Target);
        let mut asked = Vec::new();
        let outcome = batch.try_finish(|_, text| {
            asked.push(text.to_string());
            match text {
                FIRST => Ok(Some(())),
                other => Err(format!("store broke on {other}")),
            }
        });
        assert_eq!(outcome, Err(format!("store broke on {SECOND}")));
        assert_eq!(asked, vec![FIRST.to_string(), SECOND.to_string()]);
    }
}
