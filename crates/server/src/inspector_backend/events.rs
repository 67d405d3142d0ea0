//! Event subscriptions (`SubscribeToEvent`, `UnsubscribeFromEvent`,
//! `ListEventSubscriptions`) and the `notifications[]` of a run.
//!
//! Why here: subscriptions live in `warden_inspector::events::Events` (their
//! own tables, keyed by template ARN); this file checks that the template
//! exists first, as Inspector did, and turns the notifications the event
//! publisher (`crate::inspector_events`) recorded on a run into the wire shape.

use warden_store::RunNotification;

use super::*;

/// The model's bound on `AssessmentRunNotificationList`.
const RUN_NOTIFICATIONS_MAX: usize = 50;

impl StoreBackend {
    pub(crate) async fn list_event_subscriptions(
        &self,
        _ctx: &RequestContext,
        request: ListEventSubscriptionsRequest,
    ) -> Result<ListEventSubscriptionsResponse, ApiError> {
        let events = self.subscriptions()?;
        if let Some(arn) = &request.resource_arn {
            self.template_for_arn(arn)?;
        }
        events.list(&self.pager, &request)
    }

    pub(crate) async fn subscribe_to_event(
        &self,
        _ctx: &RequestContext,
        request: SubscribeToEventRequest,
    ) -> Result<(), ApiError> {
        let events = self.subscriptions()?;
        self.template_for_arn(&request.resource_arn)?;
        events.subscribe(&request, timestamp(crate::now_ms()))
    }

    pub(crate) async fn unsubscribe_from_event(
        &self,
        _ctx: &RequestContext,
        request: UnsubscribeFromEventRequest,
    ) -> Result<(), ApiError> {
        let events = self.subscriptions()?;
        self.template_for_arn(&request.resource_arn)?;
        events.unsubscribe(&request)
    }

    /// The `notifications[]` of a run (what `DescribeAssessmentRuns` shows):
    /// the first 50 the event publisher recorded, oldest first.
    pub(crate) fn run_notifications(&self, run_id: &str) -> Result<Vec<AssessmentRunNotification>, ApiError> {
        let stored = self
            .store
            .run_notifications(run_id, RUN_NOTIFICATIONS_MAX)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        stored.iter().map(wire_notification).collect()
    }

    fn subscriptions(&self) -> Result<&warden_inspector::events::Events, ApiError> {
        self.events.as_deref().ok_or_else(|| ApiError::UnsupportedFeature {
            message: "event subscriptions need a topic map: this server was started without one, so no SNS topic \
                      ARN can be subscribed (docs/inspector-api.md, Events)"
                .to_string(),
        })
    }
}

/// A stored notification in the wire shape (the enum values were written
/// from the same types, so a value that does not parse is a corrupt row).
pub(crate) fn wire_notification(n: &RunNotification) -> Result<AssessmentRunNotification, ApiError> {
    let parse = |what: &str, v: &str| ApiError::internal(format!("stored notification {what} {v:?} is not valid"));
    let event: InspectorEvent =
        serde_json::from_value(serde_json::Value::String(n.event.clone())).map_err(|_| parse("event", &n.event))?;
    let sns_publish_status_code = n
        .sns_status
        .as_ref()
        .map(|s| serde_json::from_value(serde_json::Value::String(s.clone())).map_err(|_| parse("status", s)))
        .transpose()?;
    Ok(AssessmentRunNotification {
        date: timestamp(n.date),
        event,
        message: n.message.clone(),
        error: n.error,
        sns_topic_arn: n.sns_topic_arn.clone(),
        sns_publish_status_code,
    })
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
