//! Assessment templates (create, delete, describe, list) and their tags
//! (`SetTagsForResource`, `ListTagsForResource`).
//!
//! Why templates keep the rules package ARNs they were given: Inspector
//! describes a template (and its runs) with exactly the ARNs it was created
//! with, and a client may name another region's real ARN or Warden's own
//! (`rules_packages::package_for_arn`); the store keeps both the ARNs and the
//! Warden package ids the scheduler evaluates. Templates are immutable, as
//! in Inspector; tags are the only thing that changes.

use std::collections::BTreeSet;

use warden_inspector::rules_packages::package_for_arn;
use warden_store::NewTemplate;

use super::*;

/// Inspector's `AssessmentRunDuration` bounds, seconds.
const DURATION_SECONDS: std::ops::RangeInclusive<u64> = 180..=86_400;
/// Most tags a template carries (`TagList`).
const MAX_TAGS: usize = 10;

impl StoreBackend {
    pub(crate) async fn create_assessment_template(
        &self,
        _ctx: &RequestContext,
        request: CreateAssessmentTemplateRequest,
    ) -> Result<CreateAssessmentTemplateResponse, ApiError> {
        let target_id = self.target_id(&request.assessment_target_arn)?;
        self.store
            .get_target(&target_id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist))?;
        let duration_seconds = u64::try_from(request.duration_in_seconds)
            .ok()
            .filter(|d| DURATION_SECONDS.contains(d))
            .ok_or_else(|| {
                ApiError::invalid_input(
                    InvalidInputErrorCode::InvalidAssessmentTemplateDuration,
                    format!("durationInSeconds: 180 to 86400 seconds (got {})", request.duration_in_seconds),
                )
            })?;
        let packages = package_ids(&request.rules_package_arns)?;
        let user_attributes = user_attributes(request.user_attributes_for_findings.unwrap_or_default())?;
        let new = NewTemplate {
            target_id,
            name: request.assessment_template_name,
            duration_seconds,
            sampling_interval_seconds: crate::admin_api::DEFAULT_SAMPLING_SECONDS,
            packages,
            user_attributes,
        };
        let template = self
            .store
            .create_inspector_template(&new, &request.rules_package_arns, crate::now_ms())
            .map_err(|e| match e {
                StoreError::Conflict(m) => {
                    ApiError::invalid_input(InvalidInputErrorCode::AssessmentTemplateNameAlreadyTaken, m)
                }
                other => store_error(other, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist),
            })?;
        Ok(CreateAssessmentTemplateResponse { assessment_template_arn: self.template_arn(&template)? })
    }

    pub(crate) async fn delete_assessment_template(
        &self,
        _ctx: &RequestContext,
        request: DeleteAssessmentTemplateRequest,
    ) -> Result<(), ApiError> {
        let template = self.stored_template(&request.assessment_template_arn)?;
        self.store.delete_template(&template.id).map_err(|e| {
            self.delete_error(
                e,
                "the template has assessment runs in progress",
                NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist,
            )
        })
    }

    pub(crate) async fn describe_assessment_templates(
        &self,
        _ctx: &RequestContext,
        request: DescribeAssessmentTemplatesRequest,
    ) -> Result<DescribeAssessmentTemplatesResponse, ApiError> {
        let batch = BatchRequest::new(&request.assessment_template_arns, ArnKind::Template);
        let (assessment_templates, failed_items) = batch.try_finish(|arn, _| {
            let Some(Resource::Template { target, template }) = self.owned(arn) else { return Ok(None) };
            match self.store.get_template(template.as_str()) {
                Ok(stored) if stored.target_id == target.as_str() => self.describe_template(&stored).map(Some),
                _ => Ok(None),
            }
        })?;
        Ok(DescribeAssessmentTemplatesResponse { assessment_templates, failed_items })
    }

    pub(crate) async fn list_assessment_templates(
        &self,
        _ctx: &RequestContext,
        request: ListAssessmentTemplatesRequest,
    ) -> Result<ListAssessmentTemplatesResponse, ApiError> {
        let mut target_ids = BTreeSet::new();
        for arn in request.assessment_target_arns.iter().flatten() {
            let id = self.target_id(arn)?;
            self.store
                .get_target(&id)
                .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTargetDoesNotExist))?;
            target_ids.insert(id);
        }
        let filter = request.filter.as_ref();
        let wanted_packages = match filter.and_then(|f| f.rules_package_arns.as_deref()) {
            Some(arns) => Some(known_package_ids(arns)?),
            None => None,
        };
        let durations = filter.and_then(|f| f.duration_range.as_ref());
        let pattern = filter.and_then(|f| f.name_pattern.as_deref());

        let mut templates = if target_ids.is_empty() {
            self.store.list_templates(None).map_err(|e| ApiError::internal(e.to_string()))?
        } else {
            let mut all = Vec::new();
            for id in &target_ids {
                all.extend(self.store.list_templates(Some(id)).map_err(|e| ApiError::internal(e.to_string()))?);
            }
            all
        };
        templates.retain(|t| {
            pattern.is_none_or(|p| name_matches(p, &t.name))
                && durations.is_none_or(|d| duration_in_range(t.duration_seconds, d))
                && wanted_packages.as_ref().is_none_or(|w| t.packages.iter().any(|p| w.contains(p)))
        });
        // Oldest first: a template made while a client pages lands on a later page.
        templates.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let arns = templates.iter().map(|t| self.template_arn(t)).collect::<Result<Vec<_>, _>>()?;
        let (assessment_template_arns, next_token) = self.pager.page(
            "ListAssessmentTemplates",
            &request,
            request.next_token.as_deref(),
            request.max_results,
            ARN_PAGE,
            &arns,
        )?;
        Ok(ListAssessmentTemplatesResponse { assessment_template_arns, next_token })
    }

    pub(crate) async fn list_tags_for_resource(
        &self,
        _ctx: &RequestContext,
        request: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, ApiError> {
        let template = self.tagged_template(&request.resource_arn)?;
        let tags = self
            .store
            .template_tags(&template.id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist))?;
        Ok(ListTagsForResourceResponse { tags: tags.into_iter().map(|t| Tag { key: t.key, value: t.value }).collect() })
    }

    pub(crate) async fn set_tags_for_resource(
        &self,
        _ctx: &RequestContext,
        request: SetTagsForResourceRequest,
    ) -> Result<(), ApiError> {
        let template = self.tagged_template(&request.resource_arn)?;
        let tags = request.tags.unwrap_or_default();
        if tags.len() > MAX_TAGS {
            return Err(ApiError::invalid_input(
                InvalidInputErrorCode::InvalidNumberOfTags,
                format!("tags: at most {MAX_TAGS} (got {})", tags.len()),
            ));
        }
        let mut keys = BTreeSet::new();
        for tag in &tags {
            if !keys.insert(tag.key.as_str()) {
                return Err(ApiError::invalid_input(
                    InvalidInputErrorCode::InvalidTagKey,
                    format!("tags: key {:?} appears more than once", tag.key),
                ));
            }
        }
        let tags: Vec<Attribute> = tags.into_iter().map(|t| Attribute { key: t.key, value: t.value }).collect();
        self.store
            .set_template_tags(&template.id, &tags)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist))
    }

    /// The stored template a template ARN of this server names; the ARN's
    /// target must be the template's own, else it names nothing.
    pub(super) fn stored_template(&self, arn: &str) -> Result<warden_store::Template, ApiError> {
        let id = self.template_id(arn)?;
        let parsed = InspectorArn::parse_kind(arn, ArnKind::Template)?;
        let template = self
            .store
            .get_template(&id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist))?;
        match &parsed.resource {
            Resource::Template { target, .. } if target.as_str() == template.target_id => Ok(template),
            _ => Err(missing(NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist, arn)),
        }
    }

    /// The template a `resourceArn` of the tag operations names: Inspector
    /// tags assessment templates only, so any other ARN is invalid input.
    fn tagged_template(&self, arn: &str) -> Result<warden_store::Template, ApiError> {
        match InspectorArn::parse(arn) {
            Some(parsed) if parsed.kind() == ArnKind::Template => self.stored_template(arn),
            _ => Err(ApiError::invalid_input(
                InvalidInputErrorCode::InvalidResourceArn,
                format!("resourceArn: {arn:?} is not an assessment template ARN (only templates carry tags)"),
            )),
        }
    }

    /// The rules package ARNs of a template: as given at creation, or for a
    /// template made through the fleet API, this server's ARN of each package.
    pub(super) fn template_package_arns(&self, template: &warden_store::Template) -> Result<Vec<String>, ApiError> {
        let stored = self
            .store
            .template_rules_package_arns(&template.id)
            .map_err(|e| store_error(e, NoSuchEntityErrorCode::AssessmentTemplateDoesNotExist))?;
        Ok(stored.unwrap_or_else(|| {
            template.packages.iter().filter_map(|p| self.catalogue.arn_of(p).map(str::to_string)).collect()
        }))
    }

    fn describe_template(&self, template: &warden_store::Template) -> Result<AssessmentTemplate, ApiError> {
        let summary = self.store.template_run_summary(&template.id).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(AssessmentTemplate {
            arn: self.template_arn(template)?,
            name: template.name.clone(),
            assessment_target_arn: self.target_arn(&template.target_id)?,
            duration_in_seconds: i32::try_from(template.duration_seconds).unwrap_or(i32::MAX),
            rules_package_arns: self.template_package_arns(template)?,
            user_attributes_for_findings: template
                .user_attributes
                .iter()
                .map(|a| warden_inspector::types::Attribute { key: a.key.clone(), value: a.value.clone() })
                .collect(),
            last_assessment_run_arn: summary.last_run_id.map(|run| self.run_arn(template, &run)).transpose()?,
            assessment_run_count: i32::try_from(summary.run_count).unwrap_or(i32::MAX),
            created_at: timestamp(template.created_at),
        })
    }
}

/// Warden package ids for `rulesPackageArns`, each package once, in request
/// order: a malformed ARN is `INVALID_RULES_PACKAGE_ARN`, a well-formed one
/// naming no package Warden serves is `RULES_PACKAGE_DOES_NOT_EXIST`.
fn package_ids(arns: &[String]) -> Result<Vec<String>, ApiError> {
    let mut ids: Vec<String> = Vec::new();
    for arn in arns {
        InspectorArn::parse_kind(arn, ArnKind::RulesPackage)?;
        let package =
            package_for_arn(arn).ok_or_else(|| missing(NoSuchEntityErrorCode::RulesPackageDoesNotExist, arn))?;
        if !ids.iter().any(|id| id == package.warden_id) {
            ids.push(package.warden_id.to_string());
        }
    }
    Ok(ids)
}

/// The package ids a filter's `rulesPackageArns` name; a well-formed ARN of
/// no known package matches nothing rather than failing the listing.
pub(super) fn known_package_ids(arns: &[String]) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    for arn in arns {
        InspectorArn::parse_kind(arn, ArnKind::RulesPackage)?;
        if let Some(package) = package_for_arn(arn) {
            ids.push(package.warden_id.to_string());
        }
    }
    Ok(ids)
}

/// `userAttributesForFindings` as store attributes; keys must be unique.
fn user_attributes(attributes: Vec<warden_inspector::types::Attribute>) -> Result<Vec<Attribute>, ApiError> {
    let mut keys = BTreeSet::new();
    for a in &attributes {
        if !keys.insert(a.key.as_str()) {
            return Err(ApiError::invalid_input(
                InvalidInputErrorCode::InvalidUserAttributeKey,
                format!("userAttributesForFindings: key {:?} appears more than once", a.key),
            ));
        }
    }
    Ok(attributes.into_iter().map(|a| Attribute { key: a.key, value: a.value }).collect())
}

/// Whether `seconds` is within an inclusive `DurationRange` (open ends do not constrain).
fn duration_in_range(seconds: u64, range: &DurationRange) -> bool {
    let at_least = range.min_seconds.is_none_or(|min| i64::from(min) <= seconds as i64);
    let at_most = range.max_seconds.is_none_or(|max| seconds as i64 <= i64::from(max));
    at_least && at_most
}

#[cfg(test)]
#[path = "templates_tests.rs"]
pub(crate) mod tests;
