//! Intercom conversations with their parts, the state changes the bridge makes on them and its
//! proactive messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FieldValue, Timestamp};
use crate::ids::{AdminId, ContactId, ConversationId, PartId, TeamId};

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
    /// Download URL (Intercom: a public signed CDN URL that expires).
    pub url: String,
    /// MIME type, when known.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Size in bytes, when known.
    #[serde(default)]
    pub size: Option<u64>,
}

/// A downloaded file, ready to be sent to the other side.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileData {
    /// File name.
    pub name: String,
    /// MIME type (`application/octet-stream` when the source did not say).
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FileData {
    // Neither the name nor the bytes: both may be personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileData").field("len", &self.bytes.len()).finish_non_exhaustive()
    }
}

/// The outcome of a download with a byte limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// The whole file.
    File(FileData),
    /// Larger than the limit: the download stopped at the limit.
    TooLarge {
        /// The size declared by the server, else the bytes counted before stopping.
        size: u64,
    },
}

/// Whether an admin's post is a reply to the customer or an internal note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminPost {
    /// A reply the customer sees.
    Reply,
    /// An internal note.
    Note,
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
