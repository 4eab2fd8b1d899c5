//! The vendor-neutral model: people, companies, conversations with their parts, tickets and
//! the link between a conversation and its ticket. Adapters translate vendor JSON into these.
//!
//! The scalars every record uses ([`Timestamp`], [`FieldValue`]) are here; the records are in
//! `conversation`, `people`, `ticket` and `link`, all re-exported here.

use serde::{Deserialize, Serialize};

mod conversation;
mod link;
mod people;
mod ticket;

pub use conversation::{
    AdminPost, Attachment, Author, AuthorRole, Conversation, ConversationChange, ConversationPriority,
    ConversationState, Download, FileData, MessageChannel, OutboundMessage, Part, PartKind,
};
pub use link::{Link, LinkEvent};
pub use people::{Company, Contact, Org, Organization, OrganizationUpsert, Person, Segment, User, UserUpsert};
pub use ticket::{
    NewTicket, SlaTarget, Ticket, TicketAttachment, TicketComment, TicketPriority, TicketStatus, TicketUpdate,
    UploadToken,
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
