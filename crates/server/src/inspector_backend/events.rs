//! Event subscriptions (`SubscribeToEvent`, `UnsubscribeFromEvent`,
//! `ListEventSubscriptions`) and the `notifications[]` of a run.

use super::*;

impl StoreBackend {
    pub(crate) async fn list_event_subscriptions(
        &self,
        _ctx: &RequestContext,
        _request: ListEventSubscriptionsRequest,
    ) -> Result<ListEventSubscriptionsResponse, ApiError> {
        Err(unsupported("ListEventSubscriptions"))
    }

    pub(crate) async fn subscribe_to_event(
        &self,
        _ctx: &RequestContext,
        _request: SubscribeToEventRequest,
    ) -> Result<(), ApiError> {
        Err(unsupported("SubscribeToEvent"))
    }

    pub(crate) async fn unsubscribe_from_event(
        &self,
        _ctx: &RequestContext,
        _request: UnsubscribeFromEventRequest,
    ) -> Result<(), ApiError> {
        Err(unsupported("UnsubscribeFromEvent"))
    }

    /// The `notifications[]` of a run (what `DescribeAssessmentRuns` shows).
    #[allow(dead_code)] // called by runs.rs once DescribeAssessmentRuns lands
    pub(crate) fn run_notifications(&self, _run_id: &str) -> Result<Vec<AssessmentRunNotification>, ApiError> {
        Ok(Vec::new())
    }
}
