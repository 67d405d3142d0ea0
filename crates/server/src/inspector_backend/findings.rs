//! Findings: list with every `FindingFilter` field, describe, and user
//! attributes added and removed.
//!
//! Why it is shaped this way: `ListFindings` is the one Inspector list that
//! grows with the fleet (every run of every host adds findings), so the
//! filter is turned into a [`FindingPageQuery`] the store answers with SQL
//! over indexes, paged by finding id (`Cursor::After`), and never by loading
//! findings to filter them here.

use std::collections::{BTreeMap, HashMap};

use warden_inspector::paging::Cursor;
use warden_inspector::types::Attribute as WireAttribute;
use warden_store::{AUTO_SCALING_GROUP_TAG, FindingDetail, FindingKey, FindingPageQuery, UserAttributeEdit};

use super::*;

/// User attributes one finding may carry (spec §5; the model's `UserAttributeList`).
const USER_ATTRIBUTES_PER_FINDING: usize = 10;
/// `schemaVersion` of `Finding`, `InspectorServiceAttributes` and `AssetAttributes` (spec §8.3).
const SCHEMA_VERSION: i32 = 1;
/// Inspector's observed `confidence` (documented as "not used").
const CONFIDENCE: i32 = 10;

/// Inspector's numeric severity (spec §8.2: High 9, Medium 6, Low 3,
/// Informational 0). Warden's Critical is Inspector's High
/// (`StoreBackend::inspector_severity`); the system attribute
/// `WARDEN_SEVERITY` keeps it.
fn numeric_severity(severity: Severity) -> f64 {
    match severity {
        Severity::High => 9.0,
        Severity::Medium => 6.0,
        Severity::Low => 3.0,
        Severity::Informational | Severity::Undefined => 0.0,
    }
}

/// The Warden severities an Inspector severity filter value selects
/// (`Undefined`: none, Warden always assigns one).
fn warden_severities(severity: Severity) -> &'static [warden_model::Severity] {
    match severity {
        Severity::High => &[warden_model::Severity::Critical, warden_model::Severity::High],
        Severity::Medium => &[warden_model::Severity::Medium],
        Severity::Low => &[warden_model::Severity::Low],
        Severity::Informational => &[warden_model::Severity::Informational],
        Severity::Undefined => &[],
    }
}

/// An optional filter list; an empty list does not constrain (as if absent).
fn constraint(values: &Option<Vec<String>>) -> Option<Vec<String>> {
    values.as_ref().filter(|v| !v.is_empty()).cloned()
}

fn store_attributes(attributes: &[WireAttribute]) -> Vec<Attribute> {
    attributes.iter().map(|a| Attribute { key: a.key.clone(), value: a.value.clone() }).collect()
}

fn wire_attributes(attributes: &[Attribute]) -> Vec<WireAttribute> {
    attributes.iter().map(|a| WireAttribute { key: a.key.clone(), value: a.value.clone() }).collect()
}

/// Wire epoch seconds to the store's milliseconds.
fn millis(t: &Timestamp) -> UnixMillis {
    (t.0 * 1000.0).round() as UnixMillis
}

impl StoreBackend {
    pub(crate) async fn add_attributes_to_findings(
        &self,
        _ctx: &RequestContext,
        request: AddAttributesToFindingsRequest,
    ) -> Result<AddAttributesToFindingsResponse, ApiError> {
        let add = store_attributes(&request.attributes);
        let failed_items = self.edit_user_attributes(&request.finding_arns, &add, &[])?;
        Ok(AddAttributesToFindingsResponse { failed_items })
    }

    pub(crate) async fn describe_findings(
        &self,
        _ctx: &RequestContext,
        request: DescribeFindingsRequest,
    ) -> Result<DescribeFindingsResponse, ApiError> {
        let batch = BatchRequest::new(&request.finding_arns, ArnKind::Finding);
        let details = self.stored_findings(&batch)?;
        let (findings, failed_items) =
            batch.try_finish(|arn, text| match self.finding_key(arn).and_then(|key| details.get(&key)) {
                Some(detail) => self.describe_finding(text, detail).map(Some),
                None => Ok(None),
            })?;
        Ok(DescribeFindingsResponse { findings, failed_items })
    }

    pub(crate) async fn list_findings(
        &self,
        _ctx: &RequestContext,
        request: ListFindingsRequest,
    ) -> Result<ListFindingsResponse, ApiError> {
        let page =
            self.pager.start("ListFindings", &request, request.next_token.as_deref(), request.max_results, ARN_PAGE)?;
        let after = match &page.cursor {
            Cursor::Start => None,
            Cursor::After(id) => Some(id.clone()),
            Cursor::Offset(_) => {
                return Err(ApiError::invalid_input(
                    InvalidInputErrorCode::InvalidPaginationToken,
                    "nextToken is of another kind",
                ));
            }
        };
        let mut query = self.finding_page_query(&request)?;
        query.after = after;
        // One more than the page tells whether another page follows.
        query.limit = page.limit + 1;
        let mut keys = self.store.list_finding_keys(&query).map_err(|e| ApiError::internal(e.to_string()))?;
        let next_token = if keys.len() > page.limit {
            keys.truncate(page.limit);
            let last = keys.last().map(|k| k.id.clone()).unwrap_or_default();
            Some(self.pager.token(&page, &Cursor::After(last))?)
        } else {
            None
        };
        let finding_arns = keys.iter().map(|k| self.finding_arn(k)).collect::<Result<Vec<_>, _>>()?;
        Ok(ListFindingsResponse { finding_arns, next_token })
    }

    pub(crate) async fn remove_attributes_from_findings(
        &self,
        _ctx: &RequestContext,
        request: RemoveAttributesFromFindingsRequest,
    ) -> Result<RemoveAttributesFromFindingsResponse, ApiError> {
        let failed_items = self.edit_user_attributes(&request.finding_arns, &[], &request.attribute_keys)?;
        Ok(RemoveAttributesFromFindingsResponse { failed_items })
    }

    /// The store query for a `ListFindings` request (without paging):
    /// unknown runs are `NoSuchEntity`, malformed ARNs `InvalidInput`.
    fn finding_page_query(&self, request: &ListFindingsRequest) -> Result<FindingPageQuery, ApiError> {
        let mut query = FindingPageQuery::default();
        if let Some(arns) = request.assessment_run_arns.as_ref().filter(|a| !a.is_empty()) {
            let mut run_ids = Vec::with_capacity(arns.len());
            for arn in arns {
                run_ids.push(self.existing_run_id(arn)?);
            }
            query.run_ids = Some(run_ids);
        }
        let Some(filter) = &request.filter else { return Ok(query) };
        query.agent_ids = constraint(&filter.agent_ids);
        query.auto_scaling_groups = constraint(&filter.auto_scaling_groups);
        query.rule_ids = constraint(&filter.rule_names);
        query.severities = filter
            .severities
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| s.iter().flat_map(|s| warden_severities(*s).iter().copied()).collect());
        if let Some(arns) = filter.rules_package_arns.as_ref().filter(|a| !a.is_empty()) {
            let mut packages = Vec::new();
            for arn in arns {
                InspectorArn::parse_kind(arn, ArnKind::RulesPackage)?;
                // A well-formed ARN of no package Warden has matches no finding.
                if let Some(package) = warden_inspector::rules_packages::package_for_arn(arn) {
                    packages.push(package.warden_id.to_string());
                }
            }
            query.packages = Some(packages);
        }
        query.attributes = store_attributes(filter.attributes.as_deref().unwrap_or_default());
        query.user_attributes = store_attributes(filter.user_attributes.as_deref().unwrap_or_default());
        if let Some(range) = &filter.creation_time_range {
            query.created_from = range.begin_date.as_ref().map(millis);
            query.created_until = range.end_date.as_ref().map(millis);
            if let (Some(from), Some(until)) = (query.created_from, query.created_until)
                && from > until
            {
                return Err(ApiError::invalid_input(
                    InvalidInputErrorCode::InvalidAssessmentRunCompletionTimeRange,
                    "filter.creationTimeRange: beginDate is after endDate",
                ));
            }
        }
        Ok(query)
    }

    /// The store id of a run ARN that names a stored run of this server,
    /// its target and template included.
    fn existing_run_id(&self, arn: &str) -> Result<String, ApiError> {
        let id = self.run_id(arn)?;
        let run =
            self.store.get_run(&id).map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentRunDoesNotExist))?;
        let parsed = InspectorArn::parse_kind(arn, ArnKind::Run)?;
        match &parsed.resource {
            Resource::Run { target, template, .. }
                if target.as_str() == run.target_id && template.as_str() == run.template_id =>
            {
                Ok(id)
            }
            _ => Err(missing(NoSuchEntityErrorCode::AssessmentRunDoesNotExist, arn)),
        }
    }

    /// The stored findings a batch names, by their full key (a finding asked
    /// for under another run, template or target is not among them).
    fn stored_findings(&self, batch: &BatchRequest) -> Result<HashMap<FindingKey, FindingDetail>, ApiError> {
        let ids: Vec<String> = batch.valid.iter().filter_map(|a| self.finding_key(a)).map(|k| k.id).collect();
        let details = self.store.describe_findings(&ids).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(details.into_iter().map(|d| (d.key.clone(), d)).collect())
    }

    /// Adds and removes user attributes of the findings `arns` names; the
    /// `failedItems` of the request.
    fn edit_user_attributes(
        &self,
        arns: &[String],
        add: &[Attribute],
        remove: &[String],
    ) -> Result<BTreeMap<String, FailedItemDetails>, ApiError> {
        let batch = BatchRequest::new(arns, ArnKind::Finding);
        let stored = self.stored_findings(&batch)?;
        let ids: Vec<String> = stored.keys().map(|k| k.id.clone()).collect();
        let outcomes = self
            .store
            .edit_finding_user_attributes(&ids, add, remove, USER_ATTRIBUTES_PER_FINDING, crate::now_ms())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let outcomes: HashMap<String, UserAttributeEdit> = ids.into_iter().zip(outcomes).collect();
        let mut over_limit = Vec::new();
        let (_, mut failed) = batch.finish(|arn, text| {
            let key = self.finding_key(arn).filter(|k| stored.contains_key(k))?;
            match outcomes.get(&key.id)? {
                UserAttributeEdit::Updated => Some(()),
                UserAttributeEdit::LimitExceeded => {
                    over_limit.push(text.to_string());
                    Some(())
                }
                UserAttributeEdit::NotFound => None,
            }
        });
        for arn in over_limit {
            failed
                .insert(arn, FailedItemDetails { failure_code: FailedItemErrorCode::LimitExceeded, retryable: false });
        }
        Ok(failed)
    }

    /// The wire `Finding` of a stored one.
    fn describe_finding(&self, arn: &str, detail: &FindingDetail) -> Result<Finding, ApiError> {
        let f = &detail.finding.finding;
        let severity = StoreBackend::inspector_severity(f.severity);
        let numeric_severity = numeric_severity(severity);
        let run = &detail.key;
        let run_arn = self.arns.arn(Resource::Run {
            target: resource_id(&run.target_id)?,
            template: resource_id(&run.template_id)?,
            run: resource_id(&run.run_id)?,
        });
        let asset = &f.asset;
        let auto_scaling_group =
            asset.tags.iter().find(|t| t.key == AUTO_SCALING_GROUP_TAG).and_then(|t| t.value.clone());
        Ok(Finding {
            arn: arn.to_string(),
            schema_version: Some(SCHEMA_VERSION),
            service: Some("Inspector".to_string()),
            service_attributes: Some(InspectorServiceAttributes {
                schema_version: SCHEMA_VERSION,
                assessment_run_arn: Some(run_arn.to_string()),
                rules_package_arn: self.catalogue.arn_of(&f.package).map(str::to_string),
            }),
            asset_type: Some(AssetType::Ec2Instance),
            asset_attributes: Some(AssetAttributes {
                schema_version: SCHEMA_VERSION,
                agent_id: Some(asset.agent_id.clone()).filter(|a| !a.is_empty()),
                auto_scaling_group,
                // Warden's agents report neither an AMI nor their network
                // interfaces (only IPv4 addresses), so these stay absent.
                ami_id: None,
                hostname: asset.hostname.clone(),
                ipv4_addresses: Some(asset.ipv4_addresses.clone()),
                tags: Some(asset.tags.iter().map(|t| Tag { key: t.key.clone(), value: t.value.clone() }).collect()),
                network_interfaces: None,
            }),
            id: Some(f.rule_id.clone()),
            title: Some(f.title.clone()),
            description: Some(f.description.clone()),
            recommendation: Some(f.recommendation.clone()),
            severity: Some(severity),
            numeric_severity: Some(numeric_severity),
            confidence: Some(CONFIDENCE),
            indicator_of_compromise: Some(false),
            attributes: wire_attributes(&detail.system_attributes),
            user_attributes: wire_attributes(&f.user_attributes),
            created_at: timestamp(detail.finding.created_at),
            updated_at: timestamp(detail.finding.updated_at),
        })
    }
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
