//! Zendesk webhooks: signature verification and payload parsing.
//!
//! Two payload kinds arrive:
//!
//! * **Event-subscribed webhooks** (fixed envelope): `{"type":"zen:event-type:ticket.status_changed",
//!   "account_id":…, "id":"<uuid>", "time":"…", "zendesk_event_version":"2022-11-06",
//!   "subject":"zen:ticket:5158", "detail":{…snapshot, ids as strings, enums UPPERCASE…},
//!   "event":{"current":"SOLVED","previous":"OPEN","meta":{…}}}` for ticket, user and
//!   organization events.
//! * **Trigger-connected webhooks** with the body template the bridge documents. Configure the
//!   trigger action `notification_webhook` with exactly this JSON (every placeholder quoted):
//!
//! ```json
//! {"kind":"ticket_trigger","ticket_id":"{{ticket.id}}","status":"{{ticket.status}}",
//!  "external_id":"{{ticket.external_id}}","updated_by":"{{current_user.id}}",
//!  "via":"{{ticket.via}}","tags":"{{ticket.tags}}",
//!  "latest_public_comment":"{{ticket.latest_public_comment_html}}"}
//! ```
//!
//!   New tickets (jobs 5 and 6) come from a second trigger with the condition "Ticket is
//!   Created" and the same body with `"kind":"ticket_created"` ([`TRIGGER_CREATED_KIND`]);
//!   the ingress queues it as `trigger.ticket_created`, distinct from updates.
//!
//!   A body the team built for another tool is read too: its ticket id is looked for under
//!   `ticket_id`, `ticketId`, `ticketID`, `ticket.id` and `id`, and the rest of it is ignored
//!   (the workers re-read the ticket).
//!
//!   Placeholders render as display text: statuses title-cased (`Open`), tags as one
//!   space-separated string, numbers as strings, and unknown or empty values as `""`. The
//!   parser accepts all of that (and plain JSON types), and treats a value still containing
//!   `{{` as absent.
//!
//! Nothing here panics on any input; every failure is a typed error.

use std::time::Duration;

use base64::Engine as _;
use bridge_domain::ids::{CommentId, GroupId, OrganizationId, TicketId, UserId};
use bridge_domain::model::{TicketPriority, TicketStatus, Timestamp};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Header carrying the base64 HMAC-SHA256 signature.
pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
/// Header carrying the signed timestamp (ISO 8601).
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";
/// Header carrying the invocation id (a fresh id per delivery attempt chain).
pub const INVOCATION_HEADER: &str = "x-zendesk-webhook-invocation-id";
/// Header carrying the webhook id.
pub const WEBHOOK_ID_HEADER: &str = "x-zendesk-webhook-id";
/// The freshness window the bridge applies (Zendesk publishes none).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// Why a webhook signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature header.
    #[error("missing signature")]
    MissingSignature,
    /// No timestamp header.
    #[error("missing signature timestamp")]
    MissingTimestamp,
    /// The signature is not base64 of a 32-byte MAC.
    #[error("malformed signature")]
    MalformedSignature,
    /// The timestamp is not ISO 8601.
    #[error("malformed signature timestamp")]
    MalformedTimestamp,
    /// The timestamp is older than the allowed age.
    #[error("stale timestamp ({age_secs}s old)")]
    Stale {
        /// Age in seconds.
        age_secs: i64,
    },
    /// The timestamp is further in the future than the allowed skew.
    #[error("timestamp {skew_secs}s in the future")]
    FromTheFuture {
        /// Skew in seconds.
        skew_secs: i64,
    },
    /// The signature does not match.
    #[error("signature mismatch")]
    Mismatch,
}

/// Computes the signature Zendesk sends: base64(HMAC-SHA256(secret, timestamp || body)).
pub fn sign(secret: &[u8], timestamp: &str, raw_body: &[u8]) -> String {
    let mut mac = new_mac(secret);
    mac.update(timestamp.as_bytes());
    mac.update(raw_body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn new_mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this never fails; fall back to an empty key anyway
    // rather than panic.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()))
}

/// Verifies a webhook over the exact raw body bytes. The secret is used exactly as Zendesk
/// shows it (it is *not* base64-decoded). Timestamps older than `max_age`, or further than
/// `max_age` in the future, are refused. The comparison is constant-time.
pub fn verify_signature(
    secret: &[u8],
    timestamp: Option<&str>,
    raw_body: &[u8],
    signature: Option<&str>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<(), SignatureError> {
    let signature = signature.map(str::trim).filter(|s| !s.is_empty()).ok_or(SignatureError::MissingSignature)?;
    let timestamp = timestamp.map(str::trim).filter(|s| !s.is_empty()).ok_or(SignatureError::MissingTimestamp)?;
    let signed_at = DateTime::parse_from_rfc3339(timestamp).map_err(|_| SignatureError::MalformedTimestamp)?;
    let age = now.signed_duration_since(signed_at.with_timezone(&Utc)).num_seconds();
    let limit = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    if age > limit {
        return Err(SignatureError::Stale { age_secs: age });
    }
    if -age > limit {
        return Err(SignatureError::FromTheFuture { skew_secs: -age });
    }
    let expected =
        base64::engine::general_purpose::STANDARD.decode(signature).map_err(|_| SignatureError::MalformedSignature)?;
    if expected.len() != 32 {
        return Err(SignatureError::MalformedSignature);
    }
    let mut mac = new_mac(secret);
    mac.update(timestamp.as_bytes());
    mac.update(raw_body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// Why a payload could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not a JSON object.
    #[error("body is not a JSON object")]
    NotJson,
    /// Neither an event envelope nor the trigger template.
    #[error("unrecognised payload shape")]
    UnknownShape,
    /// A required field is missing or empty.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// An id field does not hold a positive integer.
    #[error("invalid id in `{0}`")]
    InvalidId(&'static str),
}

/// A parsed Zendesk webhook.
#[derive(Debug, Clone, PartialEq)]
pub enum ZendeskEvent {
    /// An event-subscribed webhook.
    Subscribed(Box<SubscribedEvent>),
    /// A trigger-built body following the documented template.
    Trigger(TriggerEvent),
}

impl ZendeskEvent {
    /// The ticket the event is about, if any.
    pub fn ticket_id(&self) -> Option<TicketId> {
        match self {
            ZendeskEvent::Subscribed(e) => match e.subject {
                Subject::Ticket(id) => Some(id),
                _ => e.ticket.as_ref().map(|t| t.id),
            },
            ZendeskEvent::Trigger(t) => Some(t.ticket_id),
        }
    }
    /// Who made the change (`detail.actor_id` / `updated_by`).
    pub fn actor_id(&self) -> Option<UserId> {
        match self {
            ZendeskEvent::Subscribed(e) => e.actor_id,
            ZendeskEvent::Trigger(t) => t.updated_by,
        }
    }
}

/// What an event is about (`subject`, e.g. `zen:ticket:5158`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A ticket.
    Ticket(TicketId),
    /// A user.
    User(UserId),
    /// An organization.
    Organization(OrganizationId),
    /// Something else (kept verbatim).
    Other(String),
}

/// An event-subscribed webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribedEvent {
    /// Event id (dedup key).
    pub id: String,
    /// Full type, e.g. `zen:event-type:ticket.status_changed`.
    pub event_type: String,
    /// Account id, as text.
    pub account_id: Option<String>,
    /// When it happened.
    pub time: Option<Timestamp>,
    /// `zendesk_event_version`.
    pub version: Option<String>,
    /// What it is about.
    pub subject: Subject,
    /// Who made the change (`detail.actor_id`; "0"/absent = None).
    pub actor_id: Option<UserId>,
    /// `event.meta.sequence.id`: events of one write share it.
    pub sequence_id: Option<String>,
    /// The change.
    pub change: Change,
    /// Ticket snapshot, for ticket events.
    pub ticket: Option<TicketSnapshot>,
    /// User snapshot, for user events.
    pub user: Option<UserSnapshot>,
    /// Organization snapshot, for organization events.
    pub organization: Option<OrganizationSnapshot>,
}

impl SubscribedEvent {
    /// The short name, e.g. `ticket.status_changed`.
    pub fn name(&self) -> &str {
        self.event_type
            .strip_prefix("zen:event-type:")
            .or_else(|| self.event_type.strip_prefix("zen:event-type/"))
            .unwrap_or(&self.event_type)
    }
}

/// The `event` part, typed for the events the bridge reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `*.created`.
    Created,
    /// `ticket.status_changed` (statuses outside the six API ones, e.g. `DELETED`, are None).
    StatusChanged {
        /// Before.
        previous: Option<TicketStatus>,
        /// After.
        current: Option<TicketStatus>,
    },
    /// `ticket.priority_changed`.
    PriorityChanged {
        /// Before.
        previous: Option<TicketPriority>,
        /// After.
        current: Option<TicketPriority>,
    },
    /// `ticket.comment_added`.
    CommentAdded(EventComment),
    /// `*.tags_changed`.
    TagsChanged {
        /// Tags added.
        added: Vec<String>,
        /// Tags removed.
        removed: Vec<String>,
    },
    /// `ticket.merged` (this ticket was merged into `target`).
    Merged {
        /// The surviving ticket.
        target: Option<TicketId>,
    },
    /// `ticket.group_assignment_changed`.
    GroupChanged {
        /// Before.
        previous: Option<GroupId>,
        /// After.
        current: Option<GroupId>,
    },
    /// `ticket.agent_assignment_changed`.
    AssigneeChanged {
        /// Before.
        previous: Option<UserId>,
        /// After.
        current: Option<UserId>,
    },
    /// `*.custom_field_changed`.
    FieldChanged {
        /// Field key (users/orgs) or id (tickets), as text.
        field: Option<String>,
        /// Before.
        previous: Value,
        /// After.
        current: Value,
    },
    /// Any other `{previous, current}` change (`name_changed`, `external_id_changed`, …).
    ValueChanged {
        /// Before.
        previous: Value,
        /// After.
        current: Value,
    },
    /// Anything else; the raw `event` object.
    Other(Value),
}

/// A comment carried by `ticket.comment_added`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventComment {
    /// Comment id.
    pub id: Option<CommentId>,
    /// Body text.
    pub body: Option<String>,
    /// Public reply or internal note.
    pub is_public: bool,
    /// Author.
    pub author_id: Option<UserId>,
    /// Whether the author is an agent.
    pub author_is_staff: Option<bool>,
}

/// The ticket snapshot in `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSnapshot {
    /// Ticket id.
    pub id: TicketId,
    /// Status (None for `DELETED`, `ARCHIVED`, …).
    pub status: Option<TicketStatus>,
    /// Priority.
    pub priority: Option<TicketPriority>,
    /// Subject.
    pub subject: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Requester.
    pub requester_id: Option<UserId>,
    /// Assignee.
    pub assignee_id: Option<UserId>,
    /// Group.
    pub group_id: Option<GroupId>,
    /// Organization.
    pub organization_id: Option<OrganizationId>,
    /// Tags.
    pub tags: Vec<String>,
    /// `via.channel` (`web_service` for API changes).
    pub via_channel: Option<String>,
}

/// The user snapshot in `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSnapshot {
    /// User id.
    pub id: UserId,
    /// Email.
    pub email: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Organization.
    pub organization_id: Option<OrganizationId>,
}

/// The organization snapshot in `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationSnapshot {
    /// Organization id.
    pub id: OrganizationId,
    /// Name.
    pub name: Option<String>,
    /// External id.
    pub external_id: Option<String>,
}

/// `kind` of the body sent by the "Ticket is Created" trigger.
pub const TRIGGER_CREATED_KIND: &str = "ticket_created";

/// A trigger-built body (see the module docs for the template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerEvent {
    /// `kind` from the template (`ticket_trigger`).
    pub kind: Option<String>,
    /// Ticket id.
    pub ticket_id: TicketId,
    /// Status, parsed from the title-cased text.
    pub status: Option<TicketStatus>,
    /// External id.
    pub external_id: Option<String>,
    /// `{{current_user.id}}`: who made the change.
    pub updated_by: Option<UserId>,
    /// `{{ticket.via}}` as rendered (`Web Service`, `Web form`, `Mail`, …).
    pub via: Option<String>,
    /// Tags (space-separated in the rendered text).
    pub tags: Vec<String>,
    /// Latest public comment, as rendered.
    pub latest_public_comment: Option<String>,
}

impl TriggerEvent {
    /// True for the body of the "Ticket is Created" trigger.
    pub fn is_creation(&self) -> bool {
        self.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(TRIGGER_CREATED_KIND))
    }
}

/// Parses either payload kind. Never panics.
pub fn parse_event(raw_body: &[u8]) -> Result<ZendeskEvent, ParseError> {
    event_from_json(&parse_json(raw_body)?)
}

/// Reads a webhook body as JSON, for [`event_from_json`].
pub fn parse_json(raw_body: &[u8]) -> Result<Value, ParseError> {
    serde_json::from_slice(raw_body).map_err(|_| ParseError::NotJson)
}

/// [`parse_event`] of a body already read as JSON: the ingress parses a body once and queues
/// that same JSON.
pub fn event_from_json(json: &Value) -> Result<ZendeskEvent, ParseError> {
    if !json.is_object() {
        return Err(ParseError::NotJson);
    }
    let event_type = text(json.get("type"));
    if event_type.as_deref().is_some_and(|t| t.starts_with("zen:event-type")) {
        return parse_subscribed(json).map(|e| ZendeskEvent::Subscribed(Box::new(e)));
    }
    parse_trigger(json).map(ZendeskEvent::Trigger)
}

/// Where a trigger body built by a team (for this bridge or for another tool) keeps the ticket
/// id, in the order looked at: our template's `ticket_id`, the usual spellings, a nested
/// `ticket.id`, then a bare `id`. String or number.
const TICKET_ID_KEYS: [&str; 5] = ["/ticket_id", "/ticketId", "/ticketID", "/ticket/id", "/id"];

/// The ticket id of a trigger body: the first of [`TICKET_ID_KEYS`] that is present.
fn trigger_ticket_id(json: &Value) -> Result<TicketId, ParseError> {
    let Some((key, raw)) = TICKET_ID_KEYS.iter().find_map(|k| text(json.pointer(k)).map(|v| (*k, v))) else {
        return Err(ParseError::UnknownShape);
    };
    TicketId::parse(&raw).map_err(|_| ParseError::InvalidId(&key[1..]))
}

fn parse_subscribed(json: &Value) -> Result<SubscribedEvent, ParseError> {
    let event_type = text(json.get("type")).ok_or(ParseError::Missing("type"))?;
    let id = text(json.get("id")).ok_or(ParseError::Missing("id"))?;
    let detail = json.get("detail").unwrap_or(&Value::Null);
    let event = json.get("event").unwrap_or(&Value::Null);
    let subject_raw = text(json.get("subject")).unwrap_or_default();
    let subject = parse_subject(&subject_raw);
    let short = event_type.rsplit([':', '/']).next().unwrap_or_default().to_string();
    let resource = short.split('.').next().unwrap_or_default();
    let ticket = (resource == "ticket").then(|| ticket_snapshot(detail, &subject)).flatten();
    let user = (resource == "user").then(|| user_snapshot(detail, &subject)).flatten();
    let organization = (resource == "organization").then(|| org_snapshot(detail, &subject)).flatten();
    Ok(SubscribedEvent {
        id,
        change: parse_change(short.split('.').nth(1).unwrap_or_default(), event),
        event_type,
        account_id: text(json.get("account_id")),
        time: text(json.get("time")).and_then(|t| Timestamp::parse_rfc3339(&t)),
        version: text(json.get("zendesk_event_version")),
        subject,
        actor_id: id_of(detail.get("actor_id"), UserId::parse),
        sequence_id: text(event.pointer("/meta/sequence/id")),
        ticket,
        user,
        organization,
    })
}

fn parse_subject(raw: &str) -> Subject {
    let mut parts = raw.splitn(3, ':');
    let (_zen, kind, id) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
    let parsed = match kind {
        Some("ticket") => TicketId::parse(id).ok().map(Subject::Ticket),
        Some("user") => UserId::parse(id).ok().map(Subject::User),
        Some("organization") => OrganizationId::parse(id).ok().map(Subject::Organization),
        _ => None,
    };
    parsed.unwrap_or_else(|| Subject::Other(raw.to_string()))
}

fn parse_change(action: &str, event: &Value) -> Change {
    let current = || event.get("current").cloned().unwrap_or(Value::Null);
    let previous = || event.get("previous").cloned().unwrap_or(Value::Null);
    match action {
        "created" => Change::Created,
        "status_changed" => Change::StatusChanged {
            previous: text(event.get("previous")).and_then(|s| TicketStatus::parse(&s)),
            current: text(event.get("current")).and_then(|s| TicketStatus::parse(&s)),
        },
        "priority_changed" => Change::PriorityChanged {
            previous: text(event.get("previous")).and_then(|s| TicketPriority::parse(&s)),
            current: text(event.get("current")).and_then(|s| TicketPriority::parse(&s)),
        },
        "comment_added" => Change::CommentAdded(event_comment(event.get("comment").unwrap_or(&Value::Null))),
        "tags_changed" => Change::TagsChanged {
            added: tag_list(event.get("tags_added")),
            removed: tag_list(event.get("tags_removed")),
        },
        "merged" => Change::Merged {
            target: ["target_ticket_id", "target_id", "current"]
                .iter()
                .find_map(|k| id_of(event.get(*k), TicketId::parse)),
        },
        "group_assignment_changed" => Change::GroupChanged {
            previous: id_of(event.get("previous"), GroupId::parse),
            current: id_of(event.get("current"), GroupId::parse),
        },
        "agent_assignment_changed" => Change::AssigneeChanged {
            previous: id_of(event.get("previous"), UserId::parse),
            current: id_of(event.get("current"), UserId::parse),
        },
        "custom_field_changed" => Change::FieldChanged {
            field: event
                .get("field")
                .and_then(|f| text(f.get("key")).or_else(|| text(f.get("id"))).or_else(|| text(Some(f)))),
            previous: previous(),
            current: current(),
        },
        _ if event.get("current").is_some() || event.get("previous").is_some() => {
            Change::ValueChanged { previous: previous(), current: current() }
        }
        _ => Change::Other(event.clone()),
    }
}

fn parse_trigger(json: &Value) -> Result<TriggerEvent, ParseError> {
    let ticket_id = trigger_ticket_id(json)?;
    Ok(TriggerEvent {
        kind: text(json.get("kind")),
        ticket_id,
        status: text(json.get("status")).and_then(|s| TicketStatus::parse(&s)),
        external_id: text(json.get("external_id")),
        updated_by: id_of(json.get("updated_by"), UserId::parse),
        via: text(json.get("via")),
        tags: tag_list(json.get("tags")),
        latest_public_comment: text(json.get("latest_public_comment")),
    })
}

/// A non-empty, rendered text value (numbers as digits); unrendered `{{…}}` counts as absent.
fn text(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty() && !s.contains("{{")).then_some(s)
}

fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn id_of<T, E>(v: Option<&Value>, parse: impl Fn(&str) -> Result<T, E>) -> Option<T> {
    text(v).and_then(|s| parse(&s).ok())
}

/// Tags from an array or a space/comma-separated string.
fn tag_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(|i| text(Some(i))).collect(),
        Some(Value::String(s)) if !s.contains("{{") => {
            s.split([' ', ',']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
        }
        _ => Vec::new(),
    }
}

mod snapshots;
use snapshots::{event_comment, org_snapshot, ticket_snapshot, user_snapshot};

#[cfg(test)]
mod tests;
