//! Assessment templates (create, delete, describe, list) and their tags
//! (`SetTagsForResource`, `ListTagsForResource`).

use super::*;

impl StoreBackend {
    pub(crate) async fn create_assessment_template(
        &self,
        _ctx: &RequestContext,
        _request: CreateAssessmentTemplateRequest,
    ) -> Result<CreateAssessmentTemplateResponse, ApiError> {
        Err(unsupported("CreateAssessmentTemplate"))
    }

    pub(crate) async fn delete_assessment_template(
        &self,
        _ctx: &RequestContext,
        _request: DeleteAssessmentTemplateRequest,
    ) -> Result<(), ApiError> {
        Err(unsupported("DeleteAssessmentTemplate"))
    }

    pub(crate) async fn describe_assessment_templates(
        &self,
        _ctx: &RequestContext,
        _request: DescribeAssessmentTemplatesRequest,
    ) -> Result<DescribeAssessmentTemplatesResponse, ApiError> {
        Err(unsupported("DescribeAssessmentTemplates"))
    }

    pub(crate) async fn list_assessment_templates(
        &self,
        _ctx: &RequestContext,
        _request: ListAssessmentTemplatesRequest,
    ) -> Result<ListAssessmentTemplatesResponse, ApiError> {
        Err(unsupported("ListAssessmentTemplates"))
    }

    pub(crate) async fn list_tags_for_resource(
        &self,
        _ctx: &RequestContext,
        _request: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, ApiError> {
        Err(unsupported("ListTagsForResource"))
    }

    pub(crate) async fn set_tags_for_resource(
        &self,
        _ctx: &RequestContext,
        _request: SetTagsForResourceRequest,
    ) -> Result<(), ApiError> {
        Err(unsupported("SetTagsForResource"))
    }
}
