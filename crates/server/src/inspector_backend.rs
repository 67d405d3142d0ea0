//! The Inspector Classic API served from the fleet store: the first slice of
//! the store-backed [`InspectorBackend`].
//!
//! Why it exists: `warden-inspector` is only the protocol layer; this module
//! is where its typed requests meet the [`FleetStore`]. Implemented so far:
//! resource groups (tags, whose pairs select agents by their tags, see
//! `ResourceGroup::matches`), assessment targets (create, describe with
//! `failedItems`, list with name pattern and `nextToken` paging, update,
//! delete with `AssessmentRunInProgressException`) and the rules-package
//! catalogue. Every other operation answers `UnsupportedFeatureException`
//! naming itself, so a client sees clearly what is not there yet rather than
//! an invented answer.

use std::sync::Arc;

use warden_inspector::arn::{ArnContext, ArnKind, InspectorArn, Resource, ResourceId};
use warden_inspector::backend::{InspectorBackend, RequestContext};
use warden_inspector::batch::BatchRequest;
use warden_inspector::error::ApiError;
use warden_inspector::paging::{ARN_PAGE, Pager};
use warden_inspector::rules_packages::Catalogue;
use warden_inspector::timestamp::Timestamp;
use warden_inspector::types::*;
use warden_store::{Attribute, FleetStore, StoreError, UnixMillis};

/// The fleet store seen through the Inspector API.
pub struct StoreBackend {
    store: Arc<dyn FleetStore>,
    arns: ArnContext,
    pager: Pager,
    catalogue: Catalogue,
}

impl StoreBackend {
    /// A backend over `store`, naming resources under `arns` (region and
    /// account), paging tokens keyed by `paging_secret`.
    pub fn new(store: Arc<dyn FleetStore>, arns: ArnContext, paging_secret: &[u8]) -> StoreBackend {
        let catalogue = Catalogue::new(&arns);
        StoreBackend { store, arns, pager: Pager::new(paging_secret), catalogue }
    }

    fn target_arn(&self, id: &str) -> Result<String, ApiError> {
        Ok(self.arns.arn(Resource::Target(resource_id(id)?)).to_string())
    }

    fn group_arn(&self, id: &str) -> Result<String, ApiError> {
        Ok(self.arns.arn(Resource::ResourceGroup(resource_id(id)?)).to_string())
    }

    /// The store id of a resource group ARN of this server (`NoSuchEntity` for another account's).
    fn group_id(&self, arn: &str) -> Result<String, ApiError> {
        let parsed = InspectorArn::parse_kind(arn, ArnKind::ResourceGroup)?;
        match (&parsed.resource, self.owns(&parsed)) {
            (Resource::ResourceGroup(id), true) => Ok(id.as_str().to_string()),
            _ => Err(missing(NoSuchEntityErrorCode::ResourceGroupDoesNotExist, arn)),
        }
    }

    fn target_id(&self, arn: &str) -> Result<String, ApiError> {
        let parsed = InspectorArn::parse_kind(arn, ArnKind::Target)?;
        match (&parsed.resource, self.owns(&parsed)) {
            (Resource::Target(id), true) => Ok(id.as_str().to_string()),
            _ => Err(missing(NoSuchEntityErrorCode::AssessmentTargetDoesNotExist, arn)),
        }
    }

    fn owns(&self, arn: &InspectorArn) -> bool {
        arn.partition == self.arns.partition && arn.region == self.arns.region && arn.account == self.arns.account
    }

    fn describe_target(&self, target: &warden_store::Target) -> Result<AssessmentTarget, ApiError> {
        Ok(AssessmentTarget {
            arn: self.target_arn(&target.id)?,
            name: target.name.clone(),
            resource_group_arn: target.resource_group_id.as_deref().map(|g| self.group_arn(g)).transpose()?,
            created_at: timestamp(target.created_at),
            updated_at: timestamp(target.updated_at),
        })
    }

    /// Resolves an optional resource group ARN to a stored group's id.
    fn existing_group(&self, arn: Option<&str>) -> Result<Option<String>, ApiError> {
        let Some(arn) = arn else { return Ok(None) };
        let id = self.group_id(arn)?;
        self.store
            .get_resource_group(&id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::ResourceGroupDoesNotExist))?;
        Ok(Some(id))
    }

    fn run_arns_in_progress(&self, ids: &[String]) -> Vec<String> {
        ids.iter()
            .filter_map(|id| {
                let run = self.store.get_run(id).ok()?;
                let template = self.store.get_template(&run.template_id).ok()?;
                let arn = self.arns.arn(Resource::Run {
                    target: ResourceId::parse(&template.target_id)?,
                    template: ResourceId::parse(&template.id)?,
                    run: ResourceId::parse(&run.id)?,
                });
                Some(arn.to_string())
            })
            .collect()
    }
}

fn resource_id(id: &str) -> Result<ResourceId, ApiError> {
    ResourceId::parse(id).ok_or_else(|| ApiError::internal(format!("stored id {id:?} is not an Inspector id")))
}

fn missing(code: NoSuchEntityErrorCode, arn: &str) -> ApiError {
    ApiError::no_such_entity(code, format!("{arn} does not exist"))
}

/// Epoch milliseconds to the wire's epoch seconds.
fn timestamp(ms: UnixMillis) -> Timestamp {
    Timestamp(ms as f64 / 1000.0)
}

fn store_error(e: StoreError, not_found: NoSuchEntityErrorCode) -> ApiError {
    match e {
        StoreError::NotFound(what, id) => ApiError::no_such_entity(not_found, format!("{what} {id} does not exist")),
        other => ApiError::internal(other.to_string()),
    }
}

/// Inspector's name patterns: `*` matches any run of characters, everything else itself.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

macro_rules! unsupported {
    ($(($op:literal, $method:ident, $req:ty, $resp:ty)),* $(,)?) => {
        $(
            async fn $method(&self, _ctx: &RequestContext, _request: $req) -> Result<$resp, ApiError> {
                Err(ApiError::UnsupportedFeature {
                    message: concat!($op, " is not served from the fleet store yet").to_string(),
                })
            }
        )*
    };
}

impl InspectorBackend for StoreBackend {
    async fn create_resource_group(
        &self,
        _ctx: &RequestContext,
        request: CreateResourceGroupRequest,
    ) -> Result<CreateResourceGroupResponse, ApiError> {
        let tags: Vec<Attribute> =
            request.resource_group_tags.into_iter().map(|t| Attribute { key: t.key, value: t.value }).collect();
        let group =
            self.store.create_resource_group(&tags, crate::now_ms()).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(CreateResourceGroupResponse { resource_group_arn: self.group_arn(&group.id)? })
    }

    async fn describe_resource_groups(
        &self,
        _ctx: &RequestContext,
        request: DescribeResourceGroupsRequest,
    ) -> Result<DescribeResourceGroupsResponse, ApiError> {
        let batch = BatchRequest::new(&request.resource_group_arns, ArnKind::ResourceGroup);
        let (resource_groups, failed_items) = batch.finish(|arn, text| {
            let Resource::ResourceGroup(id) = &arn.resource else { return None };
            if !self.owns(arn) {
                return None;
            }
            let group = self.store.get_resource_group(id.as_str()).ok()?;
            Some(ResourceGroup {
                arn: text.to_string(),
                tags: group.tags.into_iter().map(|t| ResourceGroupTag { key: t.key, value: t.value }).collect(),
                created_at: timestamp(group.created_at),
            })
        });
        Ok(DescribeResourceGroupsResponse { resource_groups, failed_items })
    }

    async fn create_assessment_target(
        &self,
        _ctx: &RequestContext,
        request: CreateAssessmentTargetRequest,
    ) -> Result<CreateAssessmentTargetResponse, ApiError> {
        let group = self.existing_group(request.resource_group_arn.as_deref())?;
        let target = self
            .store
            .create_target(&request.assessment_target_name, group.as_deref(), &[], crate::now_ms())
            .map_err(|e| match e {
                StoreError::Conflict(m) => {
                    ApiError::invalid_input(InvalidInputErrorCode::AssessmentTargetNameAlreadyTaken, m)
                }
                other => ApiError::internal(other.to_string()),
            })?;
        Ok(CreateAssessmentTargetResponse { assessment_target_arn: self.target_arn(&target.id)? })
    }

    async fn describe_assessment_targets(
        &self,
        _ctx: &RequestContext,
        request: DescribeAssessmentTargetsRequest,
    ) -> Result<DescribeAssessmentTargetsResponse, ApiError> {
        let batch = BatchRequest::new(&request.assessment_target_arns, ArnKind::Target);
        let mut internal = None;
        let (assessment_targets, failed_items) = batch.finish(|arn, _| {
            let Resource::Target(id) = &arn.resource else { return None };
            if !self.owns(arn) {
                return None;
            }
            let target = self.store.get_target(id.as_str()).ok()?;
            self.describe_target(&target).map_err(|e| internal = Some(e)).ok()
        });
        match internal {
            Some(e) => Err(e),
            None => Ok(DescribeAssessmentTargetsResponse { assessment_targets, failed_items }),
        }
    }

    async fn list_assessment_targets(
        &self,
        _ctx: &RequestContext,
        request: ListAssessmentTargetsRequest,
    ) -> Result<ListAssessmentTargetsResponse, ApiError> {
        let pattern = request.filter.as_ref().and_then(|f| f.assessment_target_name_pattern.as_deref());
        let mut targets = self.store.list_targets().map_err(|e| ApiError::internal(e.to_string()))?;
        targets.retain(|t| pattern.is_none_or(|p| name_matches(p, &t.name)));
        let arns = targets.iter().map(|t| self.target_arn(&t.id)).collect::<Result<Vec<_>, _>>()?;
        let (assessment_target_arns, next_token) = self.pager.page(
            "ListAssessmentTargets",
            &request,
            request.next_token.as_deref(),
            request.max_results,
            ARN_PAGE,
            &arns,
        )?;
        Ok(ListAssessmentTargetsResponse { assessment_target_arns, next_token })
    }

    async fn update_assessment_target(
        &self,
        _ctx: &RequestContext,
        request: UpdateAssessmentTargetRequest,
    ) -> Result<(), ApiError> {
        let id = self.target_id(&request.assessment_target_arn)?;
        let current = self
            .store
            .get_target(&id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist))?;
        let group = self.existing_group(request.resource_group_arn.as_deref())?;
        self.store
            .update_target(&id, &request.assessment_target_name, group.as_deref(), &current.agent_ids, crate::now_ms())
            .map_err(|e| match e {
                StoreError::Conflict(m) => {
                    ApiError::invalid_input(InvalidInputErrorCode::AssessmentTargetNameAlreadyTaken, m)
                }
                other => store_error(other, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist),
            })?;
        Ok(())
    }

    async fn delete_assessment_target(
        &self,
        _ctx: &RequestContext,
        request: DeleteAssessmentTargetRequest,
    ) -> Result<(), ApiError> {
        let id = self.target_id(&request.assessment_target_arn)?;
        self.store.delete_target(&id).map_err(|e| match e {
            StoreError::InProgress(runs) => {
                let arns = self.run_arns_in_progress(&runs);
                let truncated = arns.len() > 10;
                ApiError::AssessmentRunInProgress {
                    assessment_run_arns: arns.into_iter().take(10).collect(),
                    truncated,
                    message: "the target has assessment runs in progress".to_string(),
                }
            }
            other => store_error(other, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist),
        })
    }

    async fn list_rules_packages(
        &self,
        _ctx: &RequestContext,
        request: ListRulesPackagesRequest,
    ) -> Result<ListRulesPackagesResponse, ApiError> {
        self.catalogue.list(&self.pager, &request)
    }

    async fn describe_rules_packages(
        &self,
        _ctx: &RequestContext,
        request: DescribeRulesPackagesRequest,
    ) -> Result<DescribeRulesPackagesResponse, ApiError> {
        Ok(self.catalogue.describe(&request))
    }

    unsupported! {
        ("AddAttributesToFindings", add_attributes_to_findings, AddAttributesToFindingsRequest, AddAttributesToFindingsResponse),
        ("CreateAssessmentTemplate", create_assessment_template, CreateAssessmentTemplateRequest, CreateAssessmentTemplateResponse),
        ("CreateExclusionsPreview", create_exclusions_preview, CreateExclusionsPreviewRequest, CreateExclusionsPreviewResponse),
        ("DeleteAssessmentRun", delete_assessment_run, DeleteAssessmentRunRequest, ()),
        ("DeleteAssessmentTemplate", delete_assessment_template, DeleteAssessmentTemplateRequest, ()),
        ("DescribeAssessmentRuns", describe_assessment_runs, DescribeAssessmentRunsRequest, DescribeAssessmentRunsResponse),
        ("DescribeAssessmentTemplates", describe_assessment_templates, DescribeAssessmentTemplatesRequest, DescribeAssessmentTemplatesResponse),
        ("DescribeCrossAccountAccessRole", describe_cross_account_access_role, DescribeCrossAccountAccessRoleRequest, DescribeCrossAccountAccessRoleResponse),
        ("DescribeExclusions", describe_exclusions, DescribeExclusionsRequest, DescribeExclusionsResponse),
        ("DescribeFindings", describe_findings, DescribeFindingsRequest, DescribeFindingsResponse),
        ("GetAssessmentReport", get_assessment_report, GetAssessmentReportRequest, GetAssessmentReportResponse),
        ("GetExclusionsPreview", get_exclusions_preview, GetExclusionsPreviewRequest, GetExclusionsPreviewResponse),
        ("GetTelemetryMetadata", get_telemetry_metadata, GetTelemetryMetadataRequest, GetTelemetryMetadataResponse),
        ("ListAssessmentRunAgents", list_assessment_run_agents, ListAssessmentRunAgentsRequest, ListAssessmentRunAgentsResponse),
        ("ListAssessmentRuns", list_assessment_runs, ListAssessmentRunsRequest, ListAssessmentRunsResponse),
        ("ListAssessmentTemplates", list_assessment_templates, ListAssessmentTemplatesRequest, ListAssessmentTemplatesResponse),
        ("ListEventSubscriptions", list_event_subscriptions, ListEventSubscriptionsRequest, ListEventSubscriptionsResponse),
        ("ListExclusions", list_exclusions, ListExclusionsRequest, ListExclusionsResponse),
        ("ListFindings", list_findings, ListFindingsRequest, ListFindingsResponse),
        ("ListTagsForResource", list_tags_for_resource, ListTagsForResourceRequest, ListTagsForResourceResponse),
        ("PreviewAgents", preview_agents, PreviewAgentsRequest, PreviewAgentsResponse),
        ("RegisterCrossAccountAccessRole", register_cross_account_access_role, RegisterCrossAccountAccessRoleRequest, ()),
        ("RemoveAttributesFromFindings", remove_attributes_from_findings, RemoveAttributesFromFindingsRequest, RemoveAttributesFromFindingsResponse),
        ("SetTagsForResource", set_tags_for_resource, SetTagsForResourceRequest, ()),
        ("StartAssessmentRun", start_assessment_run, StartAssessmentRunRequest, StartAssessmentRunResponse),
        ("StopAssessmentRun", stop_assessment_run, StopAssessmentRunRequest, ()),
        ("SubscribeToEvent", subscribe_to_event, SubscribeToEventRequest, ()),
        ("UnsubscribeFromEvent", unsubscribe_from_event, UnsubscribeFromEventRequest, ()),
    }
}

#[cfg(test)]
mod tests;
