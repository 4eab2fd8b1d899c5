//! Vendor-side setup (`bridge setup zendesk`): the bridge's event-subscribed webhook, its
//! signing secret, and the triggers of the trigger-JSON variant. Every step finds what exists
//! first (webhooks by name or endpoint, triggers by title), so running it again changes nothing.
//!
//! The Webhooks API is not in the Support OpenAPI file (reference `zendesk.md` §7.1); triggers are.
//! A webhook is either event-subscribed or trigger-connected (`conditional_ticket_events`) and
//! cannot be switched, so the trigger variant gets a second webhook of its own.

use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ZendeskClient;
use crate::client::{Call, ZdResult};
use crate::webhook::TRIGGER_CREATED_KIND;

/// Event types the deployed jobs consume (see `bridge_domain::routing::jobs`): ticket
/// events for jobs 3-6, user and organization events for profile sync (job 2), and
/// `user.deleted` for GDPR erasure.
pub const EVENT_SUBSCRIPTIONS: &[&str] = &[
    "zen:event-type:ticket.created",
    "zen:event-type:ticket.status_changed",
    "zen:event-type:ticket.comment_added",
    "zen:event-type:ticket.tags_changed",
    "zen:event-type:ticket.merged",
    "zen:event-type:ticket.priority_changed",
    "zen:event-type:user.created",
    "zen:event-type:user.deleted",
    "zen:event-type:user.merged",
    "zen:event-type:user.name_changed",
    "zen:event-type:user.external_id_changed",
    "zen:event-type:user.identity_created",
    "zen:event-type:user.identity_changed",
    "zen:event-type:user.identity_deleted",
    "zen:event-type:user.custom_field_changed",
    "zen:event-type:user.organization_membership_created",
    "zen:event-type:user.organization_membership_deleted",
    "zen:event-type:user.tags_changed",
    "zen:event-type:organization.created",
    "zen:event-type:organization.name_changed",
    "zen:event-type:organization.external_id_changed",
    "zen:event-type:organization.tags_changed",
    "zen:event-type:organization.custom_field_changed",
];

/// The only subscription of a trigger-connected webhook.
pub const CONDITIONAL_SUBSCRIPTION: &str = "conditional_ticket_events";

/// `kind` of the body sent by the update trigger.
pub const TRIGGER_UPDATED_KIND: &str = "ticket_trigger";

/// A webhook as listed by `GET /webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Webhook {
    /// ULID-like id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Target URL.
    pub endpoint: String,
    /// `active` or `inactive`.
    #[serde(default)]
    pub status: String,
    /// Event types, or `["conditional_ticket_events"]`.
    #[serde(default)]
    pub subscriptions: Vec<String>,
}

impl Webhook {
    /// True for a webhook used by triggers rather than event subscriptions.
    pub fn is_trigger_connected(&self) -> bool {
        self.subscriptions.iter().any(|s| s == CONDITIONAL_SUBSCRIPTION)
    }

    /// Needed event types this webhook does not subscribe to.
    pub fn missing_subscriptions(&self) -> Vec<&'static str> {
        EVENT_SUBSCRIPTIONS.iter().copied().filter(|e| !self.subscriptions.iter().any(|s| s == e)).collect()
    }
}

/// The webhook the bridge wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSpec {
    /// Display name (also how the bridge finds it again).
    pub name: String,
    /// The bridge's Zendesk ingress URL.
    pub endpoint: String,
    /// Event types or `[conditional_ticket_events]`.
    pub subscriptions: Vec<String>,
}

impl WebhookSpec {
    /// The event-subscribed webhook.
    pub fn events(name: &str, endpoint: &str) -> Self {
        Self {
            name: name.into(),
            endpoint: endpoint.into(),
            subscriptions: EVENT_SUBSCRIPTIONS.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    /// The trigger-connected webhook (same endpoint, its own name).
    pub fn triggers(name: &str, endpoint: &str) -> Self {
        Self {
            name: format!("{name} (triggers)"),
            endpoint: endpoint.into(),
            subscriptions: vec![CONDITIONAL_SUBSCRIPTION.into()],
        }
    }

    fn is_trigger_connected(&self) -> bool {
        self.subscriptions.iter().any(|s| s == CONDITIONAL_SUBSCRIPTION)
    }

    fn body(&self) -> Value {
        json!({ "webhook": {
            "name": self.name,
            "status": "active",
            "endpoint": self.endpoint,
            "http_method": "POST",
            "request_format": "json",
            "subscriptions": self.subscriptions,
        }})
    }

    fn matches(&self, w: &Webhook) -> bool {
        let mut want = self.subscriptions.clone();
        want.sort();
        let mut have = w.subscriptions.clone();
        have.sort();
        w.name == self.name && w.endpoint == self.endpoint && w.status == "active" && want == have
    }
}

/// What [`plan_webhook`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookPlan {
    /// None of that kind with this name or endpoint: create it.
    Create,
    /// Found (by name, else by endpoint) but different: update it.
    Update(String),
    /// Found and as wanted.
    Unchanged(String),
}

/// Pure decision: which existing webhook of the same kind (found by name first, then by
/// endpoint) is the bridge's, and does it need a change.
pub fn plan_webhook(existing: &[Webhook], spec: &WebhookSpec) -> WebhookPlan {
    let same_kind: Vec<&Webhook> =
        existing.iter().filter(|w| w.is_trigger_connected() == spec.is_trigger_connected()).collect();
    let found = same_kind
        .iter()
        .find(|w| w.name == spec.name)
        .or_else(|| same_kind.iter().find(|w| w.endpoint == spec.endpoint));
    match found {
        None => WebhookPlan::Create,
        Some(w) if spec.matches(w) => WebhookPlan::Unchanged(w.id.clone()),
        Some(w) => WebhookPlan::Update(w.id.clone()),
    }
}

/// The body template of the trigger-JSON variant (see [`crate::webhook`]), with its `kind`.
pub fn trigger_body(kind: &str) -> String {
    json!({
        "kind": kind,
        "ticket_id": "{{ticket.id}}",
        "status": "{{ticket.status}}",
        "external_id": "{{ticket.external_id}}",
        "updated_by": "{{current_user.id}}",
        "via": "{{ticket.via}}",
        "tags": "{{ticket.tags}}",
        "latest_public_comment": "{{ticket.latest_public_comment_html}}",
    })
    .to_string()
}

/// A trigger as the bridge writes and reads it (the fields it manages).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Trigger {
    /// Id (absent when creating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Title (how the bridge finds it again).
    pub title: String,
    /// Active.
    #[serde(default)]
    pub active: bool,
    /// `{"all":[…],"any":[…]}`.
    #[serde(default)]
    pub conditions: Value,
    /// `[{"field","value"}]`.
    #[serde(default)]
    pub actions: Vec<Value>,
}

/// The two triggers of the trigger-JSON variant, pointing at `webhook_id`: "ticket created"
/// (kind `ticket_created`) and "ticket updated" (kind `ticket_trigger`).
pub fn wanted_triggers(prefix: &str, webhook_id: &str) -> Vec<Trigger> {
    let one = |title: &str, update_type: &str, kind: &str| Trigger {
        id: None,
        title: format!("{prefix}: ticket {title}"),
        active: true,
        conditions: json!({ "all": [{ "field": "update_type", "operator": "is", "value": update_type }], "any": [] }),
        actions: vec![json!({ "field": "notification_webhook", "value": [webhook_id, trigger_body(kind)] })],
    };
    vec![one("created", "Create", TRIGGER_CREATED_KIND), one("updated", "Change", TRIGGER_UPDATED_KIND)]
}

/// What [`plan_trigger`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerPlan {
    /// No trigger with this title.
    Create,
    /// Found, different.
    Update(u64),
    /// Found, as wanted.
    Unchanged(u64),
}

/// Pure decision for one wanted trigger, by title.
pub fn plan_trigger(existing: &[Trigger], wanted: &Trigger) -> TriggerPlan {
    match existing.iter().find(|t| t.title == wanted.title) {
        None => TriggerPlan::Create,
        Some(t) => {
            let id = t.id.unwrap_or_default();
            let same_conditions = t.conditions.get("all") == wanted.conditions.get("all");
            if t.active && same_conditions && t.actions == wanted.actions {
                TriggerPlan::Unchanged(id)
            } else {
                TriggerPlan::Update(id)
            }
        }
    }
}

/// What a setup step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Created.
    Created,
    /// Existed and was updated.
    Updated,
    /// Existed as wanted.
    Unchanged,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        })
    }
}

impl ZendeskClient {
    /// `GET /webhooks` (cursor pagination).
    pub async fn list_webhooks(&self) -> ZdResult<Vec<Webhook>> {
        self.list_cursor(Call::get("/webhooks"), "webhooks", 100).await
    }

    /// `POST /webhooks`.
    pub async fn create_webhook(&self, spec: &WebhookSpec) -> ZdResult<Webhook> {
        self.send(&Call::new(Method::POST, "/webhooks").json(&spec.body())?).await?.take("webhook")
    }

    /// `PUT /webhooks/{id}` (answers 204).
    pub async fn update_webhook(&self, id: &str, spec: &WebhookSpec) -> ZdResult<()> {
        let path = format!("/webhooks/{}", crate::client::encode_segment(id));
        self.send(&Call::new(Method::PUT, path).json(&spec.body())?).await?;
        Ok(())
    }

    /// `GET /webhooks/{id}/signing_secret`: the secret, exactly as returned.
    pub async fn webhook_signing_secret(&self, id: &str) -> ZdResult<SecretString> {
        let path = format!("/webhooks/{}/signing_secret", crate::client::encode_segment(id));
        let reply = self.send(&Call::get(path)).await?;
        let mut json = reply.json()?;
        crate::client::take(&mut json, "signing_secret")
            .and_then(|mut s: Value| crate::client::take::<String>(&mut s, "secret"))
            .map(SecretString::from)
    }

    /// Creates or updates the webhook described by `spec`; returns its id.
    pub async fn ensure_webhook(&self, spec: &WebhookSpec) -> ZdResult<(String, Change)> {
        match plan_webhook(&self.list_webhooks().await?, spec) {
            WebhookPlan::Create => Ok((self.create_webhook(spec).await?.id, Change::Created)),
            WebhookPlan::Update(id) => {
                self.update_webhook(&id, spec).await?;
                Ok((id, Change::Updated))
            }
            WebhookPlan::Unchanged(id) => Ok((id, Change::Unchanged)),
        }
    }

    /// `GET /triggers` (offset pagination).
    pub async fn list_triggers(&self) -> ZdResult<Vec<Trigger>> {
        self.list_offset(Call::get("/triggers").query("per_page", 100), "triggers").await
    }

    /// `POST /triggers`.
    pub async fn create_trigger(&self, trigger: &Trigger) -> ZdResult<Trigger> {
        let body = json!({ "trigger": trigger });
        self.send(&Call::new(Method::POST, "/triggers").json(&body)?).await?.take("trigger")
    }

    /// `PUT /triggers/{id}`.
    pub async fn update_trigger(&self, id: u64, trigger: &Trigger) -> ZdResult<Trigger> {
        let body = json!({ "trigger": trigger });
        self.send(&Call::new(Method::PUT, format!("/triggers/{id}")).json(&body)?).await?.take("trigger")
    }

    /// Creates or updates the triggers of the trigger-JSON variant; returns (title, change).
    pub async fn ensure_triggers(&self, prefix: &str, webhook_id: &str) -> ZdResult<Vec<(String, Change)>> {
        let existing = self.list_triggers().await?;
        let mut out = Vec::new();
        for wanted in wanted_triggers(prefix, webhook_id) {
            let change = match plan_trigger(&existing, &wanted) {
                TriggerPlan::Create => {
                    self.create_trigger(&wanted).await?;
                    Change::Created
                }
                TriggerPlan::Update(id) => {
                    self.update_trigger(id, &wanted).await?;
                    Change::Updated
                }
                TriggerPlan::Unchanged(_) => Change::Unchanged,
            };
            out.push((wanted.title, change));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridge_domain::event::Vendor;
    use bridge_domain::routing::jobs;

    fn hook(id: &str, name: &str, endpoint: &str, subs: &[&str]) -> Webhook {
        Webhook {
            id: id.into(),
            name: name.into(),
            endpoint: endpoint.into(),
            status: "active".into(),
            subscriptions: subs.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    #[test]
    fn every_subscription_feeds_a_job_and_every_ticket_event_a_job_wants_is_subscribed() {
        for e in EVENT_SUBSCRIPTIONS {
            assert!(!jobs(Vendor::Zendesk, e).is_empty(), "{e} is routed to no job");
        }
        for e in ["ticket.created", "ticket.status_changed", "ticket.comment_added", "ticket.tags_changed"] {
            assert!(EVENT_SUBSCRIPTIONS.contains(&format!("zen:event-type:{e}").as_str()), "{e}");
        }
        assert!(EVENT_SUBSCRIPTIONS.contains(&"zen:event-type:user.deleted"), "erasure");
    }

    #[test]
    fn finds_the_webhook_by_name_then_endpoint_and_only_of_its_kind() {
        let spec = WebhookSpec::events("bridge", "https://x/webhooks/zendesk");
        assert_eq!(plan_webhook(&[], &spec), WebhookPlan::Create);
        let all: Vec<&str> = EVENT_SUBSCRIPTIONS.to_vec();
        let same = hook("A", "bridge", "https://x/webhooks/zendesk", &all);
        assert_eq!(plan_webhook(std::slice::from_ref(&same), &spec), WebhookPlan::Unchanged("A".into()));
        let renamed = hook("B", "old name", "https://x/webhooks/zendesk", &["zen:event-type:ticket.created"]);
        assert_eq!(plan_webhook(&[renamed], &spec), WebhookPlan::Update("B".into()));
        let trig = hook("C", "bridge", "https://x/webhooks/zendesk", &[CONDITIONAL_SUBSCRIPTION]);
        assert_eq!(plan_webhook(std::slice::from_ref(&trig), &spec), WebhookPlan::Create, "cannot switch kinds");
        let tspec = WebhookSpec::triggers("bridge", "https://x/webhooks/zendesk");
        assert_eq!(plan_webhook(&[same, trig], &tspec), WebhookPlan::Update("C".into()), "renamed by setup");
    }

    #[test]
    fn triggers_carry_the_documented_template_and_are_found_by_title() {
        let wanted = wanted_triggers("Bridge", "01W");
        assert_eq!(wanted.len(), 2);
        let created = &wanted[0];
        let value = &created.actions[0]["value"];
        assert_eq!(value[0], "01W");
        let body: Value = serde_json::from_str(value[1].as_str().unwrap_or_default()).unwrap_or_default();
        assert_eq!(body["kind"], TRIGGER_CREATED_KIND);
        assert_eq!(body["ticket_id"], "{{ticket.id}}");
        let mut existing = wanted.clone();
        existing[0].id = Some(7);
        existing[1].id = Some(8);
        assert_eq!(plan_trigger(&existing, &wanted[0]), TriggerPlan::Unchanged(7));
        let moved = wanted_triggers("Bridge", "01OTHER");
        assert_eq!(plan_trigger(&existing, &moved[1]), TriggerPlan::Update(8));
        assert_eq!(plan_trigger(&[], &wanted[1]), TriggerPlan::Create);
    }
}
