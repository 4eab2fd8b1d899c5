//! The vendor-neutral model: people, companies, conversations with their parts, tickets and
//! the link between a conversation and its ticket. Adapters translate vendor JSON into these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{
    AdminId, CommentId, CompanyId, ContactId, ConversationId, GroupId, OrganizationId, PartId, SegmentId, TeamId,
    TicketId, UserId,
};

/// Seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// RFC 3339 text, e.g. `2026-11-29T09:14:47Z`.
    pub fn to_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp(self.0, 0)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| self.0.to_string())
    }
    /// Parses RFC 3339 / ISO 8601 text.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        chrono::DateTime::parse_from_rfc3339(s).ok().map(|d| Self(d.timestamp()))
    }
    /// This instant plus `secs` seconds.
    pub fn plus(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }
}

/// A scalar custom-field value, common to Intercom attributes and Zendesk fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// Explicit null / cleared.
    Null,
    /// true / false.
    Bool(bool),
    /// Whole number.
    Int(i64),
    /// Decimal number.
    Float(f64),
    /// Text (also dates in ISO form and dropdown values).
    Text(String),
}

impl FieldValue {
    /// The value as text for a text-only vendor field; `None` for null.
    pub fn as_text(&self) -> Option<String> {
        match self {
            FieldValue::Null => None,
            FieldValue::Text(s) => Some(s.clone()),
            FieldValue::Int(n) => Some(n.to_string()),
            FieldValue::Float(f) => Some(f.to_string()),
            FieldValue::Bool(b) => Some(b.to_string()),
        }
    }
}

/// Who wrote a conversation part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorRole {
    /// A teammate.
    Admin,
    /// A signed-up customer.
    User,
    /// An anonymous visitor.
    Lead,
    /// Fin or another bot.
    Bot,
    /// A team (system messages).
    Team,
}

impl AuthorRole {
    /// Customers are users and leads.
    pub fn is_customer(self) -> bool {
        matches!(self, AuthorRole::User | AuthorRole::Lead)
    }
    /// Display label used in transcripts.
    pub fn label(self) -> &'static str {
        match self {
            AuthorRole::Admin => "agent",
            AuthorRole::User => "customer",
            AuthorRole::Lead => "lead",
            AuthorRole::Bot => "bot",
            AuthorRole::Team => "team",
        }
    }
}

/// Author of a part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Author {
    /// Role of the author.
    pub role: AuthorRole,
    /// Vendor id of the author (admin id or contact id).
    pub id: Option<String>,
    /// Display name, if known.
    pub name: Option<String>,
    /// Email, if known (never logged).
    pub email: Option<String>,
}

/// The kind of a conversation part that matters to the bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// The opening message (Intercom keeps it in `source`).
    Opening,
    /// A visible message.
    Comment,
    /// An internal note.
    Note,
    /// Assignment change.
    Assignment,
    /// Conversation closed.
    Close,
    /// Conversation reopened.
    Open,
    /// Anything else (state changes, attribute updates, ratings…).
    Other(String),
}

/// A file attached to a part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// Download URL.
    pub url: String,
}

/// One message or event in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Part id (`source` id for the opening message).
    pub id: PartId,
    /// What kind of part it is.
    pub kind: PartKind,
    /// Who wrote it.
    pub author: Author,
    /// HTML (or plain text) body; None for bodiless events.
    pub body: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Attachments as links.
    pub attachments: Vec<Attachment>,
    /// Set when the part was created through the API (the vendor's app code); our own writes.
    pub app_package_code: Option<String>,
}

/// Conversation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// Open.
    Open,
    /// Closed.
    Closed,
    /// Snoozed.
    Snoozed,
}

/// Conversation priority (Intercom 2.16: none/low/medium/high/urgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationPriority {
    /// No priority.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

/// An Intercom conversation with the parts the API returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Conversation id.
    pub id: ConversationId,
    /// Title or the opening message's subject.
    pub title: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update.
    pub updated_at: Timestamp,
    /// Since when the customer waits for an admin reply (None once an admin replied).
    pub waiting_since: Option<Timestamp>,
    /// State.
    pub state: ConversationState,
    /// Priority.
    pub priority: ConversationPriority,
    /// Assigned admin, if any.
    pub admin_assignee: Option<AdminId>,
    /// Assigned team, if any.
    pub team_assignee: Option<TeamId>,
    /// Contacts in the conversation; the first is the requester.
    pub contacts: Vec<ContactId>,
    /// Tag names.
    pub tags: Vec<String>,
    /// Conversation custom attributes.
    pub attributes: BTreeMap<String, FieldValue>,
    /// The opening message followed by the parts, oldest first.
    pub parts: Vec<Part>,
    /// How many parts the conversation has in total (opening message included); larger than
    /// `parts.len()` when the API capped the list.
    pub parts_total: usize,
}

/// A person on either side: an Intercom contact or a Zendesk user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person<Id, OrgId> {
    /// Id on its own side.
    pub id: Id,
    /// Display name.
    pub name: Option<String>,
    /// Primary email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// The customer's own id for the person.
    pub external_id: Option<String>,
    /// `user`/`lead` on Intercom, `end-user`/`agent`/`admin` on Zendesk.
    pub role: String,
    /// Organizations / companies the person belongs to.
    pub org_ids: Vec<OrgId>,
    /// Custom attributes (Intercom) or `user_fields` (Zendesk), by key.
    pub fields: BTreeMap<String, FieldValue>,
    /// Tags on the person.
    pub tags: Vec<String>,
    /// Last update on its own side.
    pub updated_at: Timestamp,
}

/// An Intercom contact.
pub type Contact = Person<ContactId, CompanyId>;
/// A Zendesk user.
pub type User = Person<UserId, OrganizationId>;

/// A company on either side: an Intercom company or a Zendesk organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Org<Id> {
    /// Id on its own side.
    pub id: Id,
    /// Name.
    pub name: Option<String>,
    /// The customer's own id (`company_id` on Intercom, `external_id` on Zendesk).
    pub external_id: Option<String>,
    /// Plan name (Intercom), if any.
    pub plan: Option<String>,
    /// Monthly spend (Intercom), if any.
    pub monthly_spend: Option<f64>,
    /// Custom attributes / `organization_fields`, by key.
    pub fields: BTreeMap<String, FieldValue>,
    /// Tags.
    pub tags: Vec<String>,
    /// Last update on its own side.
    pub updated_at: Timestamp,
}

/// An Intercom company.
pub type Company = Org<CompanyId>;
/// A Zendesk organization.
pub type Organization = Org<OrganizationId>;

/// An Intercom segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Segment id.
    pub id: SegmentId,
    /// Segment name.
    pub name: String,
}

/// Zendesk ticket status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    /// new
    New,
    /// open
    Open,
    /// pending
    Pending,
    /// hold
    Hold,
    /// solved
    Solved,
    /// closed
    Closed,
}

impl TicketStatus {
    /// Parses any case (`OPEN`, `Open`, `open`; event payloads use upper case, triggers title case).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "new" => Self::New,
            "open" => Self::Open,
            "pending" => Self::Pending,
            "hold" | "on-hold" | "on_hold" => Self::Hold,
            "solved" => Self::Solved,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Hold => "hold",
            Self::Solved => "solved",
            Self::Closed => "closed",
        }
    }
}

/// Zendesk ticket priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketPriority {
    /// low
    Low,
    /// normal
    Normal,
    /// high
    High,
    /// urgent
    Urgent,
}

impl TicketPriority {
    /// Parses any case.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "low" => Self::Low,
            "normal" => Self::Normal,
            "high" => Self::High,
            "urgent" => Self::Urgent,
            _ => return None,
        })
    }
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }
}

/// A Zendesk ticket as the bridge reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Ticket id.
    pub id: TicketId,
    /// Subject.
    pub subject: Option<String>,
    /// Status.
    pub status: TicketStatus,
    /// Priority.
    pub priority: Option<TicketPriority>,
    /// Requester.
    pub requester_id: Option<UserId>,
    /// Assignee agent.
    pub assignee_id: Option<UserId>,
    /// Group.
    pub group_id: Option<GroupId>,
    /// Organization.
    pub organization_id: Option<OrganizationId>,
    /// Tags.
    pub tags: Vec<String>,
    /// External id (the bridge stores the conversation reference here).
    pub external_id: Option<String>,
    /// `via.channel` (`web`, `email`, `api`, …).
    pub via_channel: Option<String>,
    /// Source ticket when this is a follow-up of a closed ticket.
    pub followup_source_id: Option<TicketId>,
    /// Custom field values by field id.
    pub custom_fields: BTreeMap<u64, FieldValue>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update.
    pub updated_at: Timestamp,
}

/// A comment on a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketComment {
    /// Comment id (None before it is created).
    pub id: Option<CommentId>,
    /// HTML body.
    pub html_body: String,
    /// Public reply (true) or internal note (false).
    pub public: bool,
    /// Author; None = the API user.
    pub author_id: Option<UserId>,
    /// Creation time, when read back.
    pub created_at: Option<Timestamp>,
}

/// What the bridge asks Zendesk to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    /// Subject.
    pub subject: String,
    /// First comment (the transcript).
    pub comment: TicketComment,
    /// Requester.
    pub requester_id: UserId,
    /// Organization, if the requester has one.
    pub organization_id: Option<OrganizationId>,
    /// Priority.
    pub priority: Option<TicketPriority>,
    /// Group.
    pub group_id: Option<GroupId>,
    /// Tags.
    pub tags: Vec<String>,
    /// External id carrying the conversation reference.
    pub external_id: Option<String>,
    /// Custom field values by field id.
    pub custom_fields: BTreeMap<u64, FieldValue>,
    /// Create as a follow-up of this closed ticket.
    pub followup_source_id: Option<TicketId>,
}

/// A change to an existing ticket, applied in one update (one audit).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TicketUpdate {
    /// New status.
    pub status: Option<TicketStatus>,
    /// New priority.
    pub priority: Option<TicketPriority>,
    /// New group.
    pub group_id: Option<GroupId>,
    /// New assignee.
    pub assignee_id: Option<UserId>,
    /// A comment to add.
    pub comment: Option<TicketComment>,
    /// Custom field values to set.
    pub custom_fields: BTreeMap<u64, FieldValue>,
}

/// Fields the bridge writes when it creates or updates a Zendesk user.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserUpsert {
    /// Name (Zendesk requires one on create).
    pub name: String,
    /// Email (matching key; only honoured on create).
    pub email: Option<String>,
    /// External id (matching key).
    pub external_id: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Default organization.
    pub organization_id: Option<OrganizationId>,
    /// `user_fields` by key.
    pub fields: BTreeMap<String, FieldValue>,
}

/// Fields the bridge writes when it creates or updates a Zendesk organization.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OrganizationUpsert {
    /// Name (unique in Zendesk).
    pub name: String,
    /// External id (matching key).
    pub external_id: Option<String>,
    /// `organization_fields` by key.
    pub fields: BTreeMap<String, FieldValue>,
}

/// A state change of an Intercom conversation made by the bridge's admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ConversationChange {
    /// Close, with an optional message to the customer.
    Close {
        /// Message shown to the customer.
        body: Option<String>,
    },
    /// Reopen.
    Open,
    /// Snooze until a time.
    Snooze {
        /// Wake-up time.
        until: Timestamp,
    },
    /// Assign to an admin or team (`None` unassigns).
    Assign {
        /// Admin assignee.
        admin: Option<AdminId>,
        /// Team assignee.
        team: Option<TeamId>,
    },
}

/// How a proactive message is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    /// Email.
    Email,
    /// In-app message.
    InApp,
}

/// A proactive Intercom message from an admin to a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// Delivery channel.
    pub channel: MessageChannel,
    /// Sending admin.
    pub from: AdminId,
    /// Recipient.
    pub to: ContactId,
    /// Subject (email only).
    pub subject: Option<String>,
    /// HTML body.
    pub body: String,
}

/// One entry in a link's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LinkEvent {
    /// The link was created by an escalation.
    Created {
        /// Ticket created.
        ticket: TicketId,
        /// When.
        at: Timestamp,
    },
    /// The ticket was merged into another; the link moved to the target.
    Merged {
        /// Source (now closed).
        from: TicketId,
        /// Target (live).
        to: TicketId,
        /// When.
        at: Timestamp,
    },
    /// A follow-up of a closed ticket became the live ticket.
    FollowUp {
        /// Closed ticket.
        from: TicketId,
        /// Follow-up.
        to: TicketId,
        /// When.
        at: Timestamp,
    },
    /// The conversation's contact was merged into another contact.
    ContactMerged {
        /// Old contact.
        from: ContactId,
        /// Surviving contact.
        to: ContactId,
        /// When.
        at: Timestamp,
    },
}

/// The link between an Intercom conversation and its live Zendesk ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The live ticket.
    pub ticket_id: TicketId,
    /// Every ticket that has been linked (merged sources, closed parents), live one last.
    pub tickets: Vec<TicketId>,
    /// The requester on the Zendesk side.
    pub requester_id: Option<UserId>,
    /// The contact on the Intercom side.
    pub contact_id: Option<ContactId>,
    /// Optimistic-concurrency version, bumped on every update.
    pub version: u64,
    /// What happened to the link, oldest first.
    pub history: Vec<LinkEvent>,
}

impl Link {
    /// A new link created by an escalation.
    pub fn new(
        conversation_id: ConversationId,
        ticket_id: TicketId,
        requester_id: Option<UserId>,
        contact_id: Option<ContactId>,
        at: Timestamp,
    ) -> Self {
        Self {
            conversation_id,
            ticket_id,
            tickets: vec![ticket_id],
            requester_id,
            contact_id,
            version: 1,
            history: vec![LinkEvent::Created { ticket: ticket_id, at }],
        }
    }
}

/// The SLA target Zendesk applied to a ticket (the `slas.policy_metrics` sideload), for the
/// first reply when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    /// Metric name (`first_reply_time`, `next_reply_time`, …).
    pub metric: String,
    /// When the target is breached.
    pub breach_at: Option<Timestamp>,
    /// The target in minutes, when known.
    pub target_minutes: Option<u64>,
}
