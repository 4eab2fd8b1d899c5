//! Zendesk tickets: status, priority, comments, what the bridge creates and updates, and the SLA
//! target Zendesk applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FieldValue, Timestamp};
use crate::ids::{CommentId, GroupId, OrganizationId, TicketId, UserId};

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

impl Ticket {
    /// The ticket a create request makes through the API (status `new`, via `api`): what the
    /// in-memory fake and the shadow run answer for [`NewTicket`].
    pub fn created_from(new: &NewTicket, id: TicketId, at: Timestamp) -> Self {
        Self {
            id,
            subject: Some(new.subject.clone()),
            status: TicketStatus::New,
            priority: new.priority,
            requester_id: Some(new.requester_id),
            assignee_id: None,
            group_id: new.group_id,
            organization_id: new.organization_id,
            tags: new.tags.clone(),
            external_id: new.external_id.clone(),
            via_channel: Some("api".into()),
            followup_source_id: new.followup_source_id,
            custom_fields: new.custom_fields.clone(),
            created_at: at,
            updated_at: at,
        }
    }
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
    /// Upload tokens of files to attach (write only: `comment.uploads`).
    #[serde(default)]
    pub uploads: Vec<UploadToken>,
    /// The comment's files, when read back.
    #[serde(default)]
    pub attachments: Vec<TicketAttachment>,
}

/// The token of a file uploaded to Zendesk (`POST /uploads`), attached by naming it in a
/// comment's `uploads`. Unattached uploads expire on their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UploadToken(pub String);

impl UploadToken {
    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A file on a ticket comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketAttachment {
    /// Attachment id (None when Zendesk sent none).
    pub id: Option<crate::ids::AttachmentId>,
    /// File name.
    pub file_name: String,
    /// Where to download it (may need the API credentials when private attachments are on).
    pub content_url: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Inline in the comment body (an image pasted in): still a file of the comment.
    #[serde(default)]
    pub inline: bool,
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
