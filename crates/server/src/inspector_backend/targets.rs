//! Resource groups, assessment targets and the rules-package catalogue.

use super::*;

impl StoreBackend {
    pub(crate) async fn create_resource_group(
        &self,
        _ctx: &RequestContext,
        request: CreateResourceGroupRequest,
    ) -> Result<CreateResourceGroupResponse, ApiError> {
        let tags: Vec<Attribute> =
            request.resource_group_tags.into_iter().map(|t| Attribute { key: t.key, value: t.value }).collect();
        let group = self
            .store
            .create_resource_group(&tags, crate::now_ms())
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::ResourceGroupDoesNotExist))?;
        Ok(CreateResourceGroupResponse { resource_group_arn: self.group_arn(&group.id)? })
    }

    pub(crate) async fn describe_resource_groups(
        &self,
        _ctx: &RequestContext,
        request: DescribeResourceGroupsRequest,
    ) -> Result<DescribeResourceGroupsResponse, ApiError> {
        let batch = BatchRequest::new(&request.resource_group_arns, ArnKind::ResourceGroup);
        let (resource_groups, failed_items) = batch.finish(|arn, text| {
            let Some(Resource::ResourceGroup(id)) = self.owned(arn) else { return None };
            let group = self.store.get_resource_group(id.as_str()).ok()?;
            Some(ResourceGroup {
                arn: text.to_string(),
                tags: group.tags.into_iter().map(|t| ResourceGroupTag { key: t.key, value: t.value }).collect(),
                created_at: timestamp(group.created_at),
            })
        });
        Ok(DescribeResourceGroupsResponse { resource_groups, failed_items })
    }

    pub(crate) async fn create_assessment_target(
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
                other => store_error(other, NoSuchEntityErrorCode::ResourceGroupDoesNotExist),
            })?;
        Ok(CreateAssessmentTargetResponse { assessment_target_arn: self.target_arn(&target.id)? })
    }

    pub(crate) async fn describe_assessment_targets(
        &self,
        _ctx: &RequestContext,
        request: DescribeAssessmentTargetsRequest,
    ) -> Result<DescribeAssessmentTargetsResponse, ApiError> {
        let batch = BatchRequest::new(&request.assessment_target_arns, ArnKind::Target);
        let (assessment_targets, failed_items) = batch.try_finish(|arn, _| {
            let Some(Resource::Target(id)) = self.owned(arn) else { return Ok(None) };
            let Ok(target) = self.store.get_target(id.as_str()) else { return Ok(None) };
            self.describe_target(&target).map(Some)
        })?;
        Ok(DescribeAssessmentTargetsResponse { assessment_targets, failed_items })
    }

    pub(crate) async fn list_assessment_targets(
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

    pub(crate) async fn update_assessment_target(
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

    pub(crate) async fn delete_assessment_target(
        &self,
        _ctx: &RequestContext,
        request: DeleteAssessmentTargetRequest,
    ) -> Result<(), ApiError> {
        let id = self.target_id(&request.assessment_target_arn)?;
        self.store.delete_target(&id).map_err(|e| {
            self.delete_error(
                e,
                "the target has assessment runs in progress",
                NoSuchEntityErrorCode::AssessmentTargetDoesNotExist,
            )
        })
    }

    pub(crate) async fn list_rules_packages(
        &self,
        _ctx: &RequestContext,
        request: ListRulesPackagesRequest,
    ) -> Result<ListRulesPackagesResponse, ApiError> {
        self.catalogue.list(&self.pager, &request)
    }

    pub(crate) async fn describe_rules_packages(
        &self,
        _ctx: &RequestContext,
        request: DescribeRulesPackagesRequest,
    ) -> Result<DescribeRulesPackagesResponse, ApiError> {
        Ok(self.catalogue.describe(&request))
    }
}
