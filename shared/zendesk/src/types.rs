//! Wire types: the JSON Zendesk sends and accepts. Reading is tolerant (every field has a
//! default, unknown fields are ignored); writing skips what is not set.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `via` on tickets, comments and audits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Via {
    /// Channel name (`api`, `web`, `email`, …) or, in some payloads, a numeric channel id.
    pub channel: Value,
    /// Where it came from; `rel` is `follow_up` for follow-ups.
    pub source: Option<ViaSource>,
}

impl Via {
    /// The channel as text (numeric ids rendered as digits).
    pub fn channel_name(&self) -> Option<String> {
        match &self.channel {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// `via.source`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViaSource {
    /// Origin details (for follow-ups: the closed parent ticket).
    pub from: Value,
    /// Destination details.
    pub to: Value,
    /// Relation (`follow_up`, `merge`, `trigger`, …).
    pub rel: Option<String>,
}

/// One custom field value, `{"id": 27642, "value": "pro"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomFieldValue {
    /// Field id.
    pub id: u64,
    /// Value; its type depends on the field type.
    pub value: Value,
}

/// A ticket as the API returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZdTicket {
    /// Ticket id.
    pub id: u64,
    /// API URL.
    pub url: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// First comment's text.
    pub description: Option<String>,
    /// `new`, `open`, `pending`, `hold`, `solved`, `closed`.
    pub status: Option<String>,
    /// `low`, `normal`, `high`, `urgent` or null.
    pub priority: Option<String>,
    /// `question`, `incident`, `problem`, `task` or null.
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    /// Requester.
    pub requester_id: Option<u64>,
    /// Submitter.
    pub submitter_id: Option<u64>,
    /// Assignee.
    pub assignee_id: Option<u64>,
    /// Group.
    pub group_id: Option<u64>,
    /// Organization.
    pub organization_id: Option<u64>,
    /// Tags.
    pub tags: Vec<String>,
    /// External id (not unique).
    pub external_id: Option<String>,
    /// How the ticket was created.
    pub via: Option<Via>,
    /// Custom field values.
    pub custom_fields: Vec<CustomFieldValue>,
    /// Follow-ups created from this (closed) ticket.
    pub followup_ids: Vec<u64>,
    /// `{id, score, comment}` or null.
    pub satisfaction_rating: Option<Value>,
    /// Creation time (ISO 8601).
    pub created_at: Option<String>,
    /// Last update (ISO 8601).
    pub updated_at: Option<String>,
}

/// A ticket comment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZdComment {
    /// Comment id.
    pub id: u64,
    /// `Comment` or `VoiceComment`.
    #[serde(rename = "type")]
    pub comment_type: Option<String>,
    /// Author.
    pub author_id: Option<u64>,
    /// Text body.
    pub body: Option<String>,
    /// HTML body.
    pub html_body: Option<String>,
    /// Plain text.
    pub plain_body: Option<String>,
    /// Public reply or internal note.
    pub public: bool,
    /// Audit that created it.
    pub audit_id: Option<u64>,
    /// Channel.
    pub via: Option<Via>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Files.
    pub attachments: Vec<ZdAttachment>,
}

/// A file on a comment or an upload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZdAttachment {
    /// Attachment id.
    pub id: u64,
    /// File name.
    pub file_name: String,
    /// Download URL (may be on another host; may need the credentials when private).
    pub content_url: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Shown inline in the comment body.
    pub inline: bool,
}

/// `POST /uploads` answer: `{upload: {token, attachment}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZdUpload {
    /// The token to name in a comment's `uploads`.
    pub token: String,
    /// The uploaded file.
    pub attachment: Option<ZdAttachment>,
}

/// A user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZdUser {
    /// User id.
    pub id: u64,
    /// Name.
    pub name: Option<String>,
    /// Primary email.
    pub email: Option<String>,
    /// `end-user`, `agent`, `admin`.
    pub role: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Default organization.
    pub organization_id: Option<u64>,
    /// Phone.
    pub phone: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom field values by field key.
    pub user_fields: BTreeMap<String, Value>,
    /// False when deleted.
    pub active: Option<bool>,
    /// Suspended.
    pub suspended: Option<bool>,
    /// Time zone.
    pub time_zone: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update.
    pub updated_at: Option<String>,
}

/// An organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZdOrganization {
    /// Organization id.
    pub id: u64,
    /// Unique name.
    pub name: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Email domains.
    pub domain_names: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom field values by field key.
    pub organization_fields: BTreeMap<String, Value>,
    /// Group new tickets are routed to.
    pub group_id: Option<u64>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update.
    pub updated_at: Option<String>,
}

/// An agent group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Group {
    /// Group id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Account default group.
    pub default: bool,
    /// Deleted.
    pub deleted: bool,
    /// Public group.
    pub is_public: Option<bool>,
}

/// A dropdown / multiselect option.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FieldOption {
    /// Option id.
    pub id: Option<u64>,
    /// Display name.
    pub name: String,
    /// Value (also the tag it adds).
    pub value: String,
}

/// A ticket, user or organization field definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FieldDefinition {
    /// Field id.
    pub id: u64,
    /// Key (user and organization fields; values are keyed by it).
    pub key: Option<String>,
    /// `text`, `tagger`, `checkbox`, … (system types for built-in ticket fields).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Title.
    pub title: String,
    /// Active.
    pub active: bool,
    /// Required (ticket fields).
    pub required: bool,
    /// Tag added by a checkbox field.
    pub tag: Option<String>,
    /// Options of a dropdown / multiselect.
    pub custom_field_options: Vec<FieldOption>,
}

/// A CSAT rating.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SatisfactionRating {
    /// Rating id.
    pub id: u64,
    /// `offered`, `unoffered`, `good`, `bad`.
    pub score: String,
    /// Customer comment.
    pub comment: Option<String>,
    /// Reason for a bad rating.
    pub reason: Option<String>,
    /// Rated ticket.
    pub ticket_id: Option<u64>,
    /// Requester.
    pub requester_id: Option<u64>,
    /// Assignee at rating time.
    pub assignee_id: Option<u64>,
    /// Group at rating time.
    pub group_id: Option<u64>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update.
    pub updated_at: Option<String>,
}

/// `{calendar, business}` minutes; null until the milestone happens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Minutes {
    /// Calendar minutes.
    pub calendar: Option<i64>,
    /// Business-hours minutes.
    pub business: Option<i64>,
}

/// A ticket's metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TicketMetric {
    /// Metric id.
    pub id: u64,
    /// Ticket.
    pub ticket_id: u64,
    /// Times reopened.
    pub reopens: i64,
    /// Public agent replies.
    pub replies: i64,
    /// Assignees the ticket had.
    pub assignee_stations: i64,
    /// Groups the ticket passed through.
    pub group_stations: i64,
    /// First reply time.
    pub reply_time_in_minutes: Minutes,
    /// First resolution time.
    pub first_resolution_time_in_minutes: Minutes,
    /// Full resolution time.
    pub full_resolution_time_in_minutes: Minutes,
    /// Agent wait time.
    pub agent_wait_time_in_minutes: Minutes,
    /// Requester wait time.
    pub requester_wait_time_in_minutes: Minutes,
    /// Time on hold.
    pub on_hold_time_in_minutes: Minutes,
    /// When solved (latest).
    pub solved_at: Option<String>,
    /// When first assigned.
    pub initially_assigned_at: Option<String>,
    /// When the latest comment was added.
    pub latest_comment_added_at: Option<String>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update.
    pub updated_at: Option<String>,
}

/// A background job (`job_status`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobStatus {
    /// Job id (`V3-…`).
    pub id: String,
    /// `queued`, `working`, `completed`, `failed`.
    pub status: String,
    /// Tasks in total.
    pub total: Option<i64>,
    /// Tasks done.
    pub progress: Option<i64>,
    /// Worker message.
    pub message: Option<String>,
    /// Per-item results (shape differs per job type) or `{success}`.
    pub results: Value,
    /// Poll URL.
    pub url: Option<String>,
}

impl JobStatus {
    /// Whether the job reached `completed` or `failed`.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed")
    }
    /// The per-item results, tolerant of the different shapes.
    pub fn result_items(&self) -> Vec<JobResult> {
        match &self.results {
            Value::Array(items) => items.iter().filter_map(|v| serde_json::from_value(v.clone()).ok()).collect(),
            _ => Vec::new(),
        }
    }
}

/// One entry of `job_status.results`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobResult {
    /// Position in the request (create_many).
    pub index: Option<i64>,
    /// Record id.
    pub id: Option<u64>,
    /// `Created`, `Updated`, …
    pub status: Option<String>,
    /// `create`, `update`, …
    pub action: Option<String>,
    /// False on failure.
    pub success: Option<bool>,
    /// Error code on failure.
    pub error: Option<String>,
    /// External id, when the job echoes it.
    pub external_id: Option<String>,
}

/// A comment to write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommentWrite {
    /// Plain text body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// HTML body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_body: Option<String>,
    /// Public reply (true) or internal note (false).
    pub public: bool,
    /// Author; omitted = the API user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<u64>,
    /// Upload tokens of the files to attach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<String>,
}

/// `requester` on create: creates the end user when the email is unknown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequesterWrite {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// A ticket body for create or update. Only set fields are sent; `tags` here **replaces**
/// the list, so the bridge leaves it `None` on updates and uses the tag endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketWrite {
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Comment to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<CommentWrite>,
    /// Requester by id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<u64>,
    /// Requester by name and email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<RequesterWrite>,
    /// Organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<u64>,
    /// Priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
    /// Assignee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<u64>,
    /// Full tag list (replaces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// External id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Custom field values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    /// Create as a follow-up of this closed ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_followup_source_id: Option<u64>,
}

/// A user body for create_or_update / update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserWrite {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email (only honoured on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// External id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Default organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<u64>,
    /// Role; omitted = end-user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Custom field values by key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub user_fields: BTreeMap<String, Value>,
    /// Skip the verification email for new users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify_email: Option<bool>,
}

/// An organization body for create_or_update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrganizationWrite {
    /// Name (unique).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// External id (the matching key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Custom field values by key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub organization_fields: BTreeMap<String, Value>,
    /// Tags (replaces).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// `POST /tickets/{target}/merge` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MergeRequest {
    /// Source ticket ids.
    pub ids: Vec<u64>,
    /// Comment added to the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_comment: Option<String>,
    /// Comment added to each source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_comment: Option<String>,
    /// Whether the target comment is public.
    pub target_comment_is_public: bool,
    /// Whether the source comments are public.
    pub source_comment_is_public: bool,
}

/// A created ticket and whether Zendesk replayed it from the idempotency store.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedTicket {
    /// The ticket.
    pub ticket: ZdTicket,
    /// `x-idempotency-lookup: hit`: an earlier request with the same key created it.
    pub idempotency_hit: bool,
}

/// Result of a create_or_update call.
#[derive(Debug, Clone, PartialEq)]
pub struct Upserted<T> {
    /// The record.
    pub record: T,
    /// 201 (created) rather than 200 (updated).
    pub created: bool,
}

/// Filters of the satisfaction ratings list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingsQuery {
    /// `good`, `bad`, `received`, `offered`, … (see the API).
    pub score: Option<String>,
    /// Unix seconds, inclusive lower bound.
    pub start_time: Option<i64>,
    /// Unix seconds, upper bound.
    pub end_time: Option<i64>,
}

/// Where an incremental export starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportStart {
    /// The first run: Unix seconds (at least a minute in the past).
    StartTime(i64),
    /// A later run: the `after_cursor` stored from the previous one.
    Cursor(String),
}

/// Everything an incremental export returned up to `end_of_stream` (or the page cap).
#[derive(Debug, Clone, PartialEq)]
pub struct Export<T> {
    /// Records, possibly with repeats.
    pub items: Vec<T>,
    /// Cursor to store for the next run.
    pub after_cursor: Option<String>,
    /// True when the stream ended (false when the page cap stopped it).
    pub end_of_stream: bool,
}
