//! Conversations and what they hold: the opening message, parts and their files, tags applied,
//! the CSAT rating; and proactive messages.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Author of a part or source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthorRef {
    /// `admin`, `user`, `lead`, `bot`, `team`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// The opening message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Source {
    /// Message id.
    pub id: String,
    /// Channel type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `customer_initiated` / `admin_initiated`.
    pub delivered_as: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Author.
    pub author: AuthorRef,
}

/// A conversation part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Part {
    /// Id.
    pub id: String,
    /// `comment`, `note`, `assignment`, `close`, `open`, `snoozed`, …
    pub part_type: String,
    /// Body.
    pub body: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Author.
    pub author: AuthorRef,
    /// Assignee set by this part: (`admin`|`team`|`nobody_admin`, id).
    pub assigned_to: Option<(String, String)>,
    /// Set for parts created through the API.
    pub app_package_code: Option<String>,
    /// Tags applied to this part.
    pub tag_ids: Vec<String>,
    /// Files attached to this part.
    pub attachments: Vec<PartFile>,
}

/// A file on a part, served at `url` (public, like Intercom's signed CDN links).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartFile {
    /// File name.
    pub name: String,
    /// Where it is served.
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub filesize: u64,
}

/// A stored file's type and bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredFile {
    /// MIME type.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// CSAT rating.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rating {
    /// 1-5.
    pub rating: u8,
    /// Remark.
    pub remark: Option<String>,
    /// Requested at.
    pub created_at: i64,
    /// Answered/updated at.
    pub updated_at: i64,
    /// Rating contact.
    pub contact_id: String,
    /// Rated admin.
    pub teammate_id: Option<String>,
}

/// A conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Conversation {
    /// Id (long numeric string).
    pub id: String,
    /// Title.
    pub title: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Customer waiting since.
    pub waiting_since: Option<i64>,
    /// Snoozed until.
    pub snoozed_until: Option<i64>,
    /// `open`, `closed`, `snoozed`.
    pub state: String,
    /// Read.
    pub read: bool,
    /// `none|low|medium|high|urgent`.
    pub priority: String,
    /// Assigned admin.
    pub admin_assignee_id: Option<String>,
    /// Assigned team.
    pub team_assignee_id: Option<String>,
    /// Contacts.
    pub contact_ids: Vec<String>,
    /// Tags with the time they were applied and by whom.
    pub tags: Vec<AppliedTag>,
    /// Conversation attributes.
    pub custom_attributes: Map<String, Value>,
    /// Opening message.
    pub source: Source,
    /// Parts, oldest first.
    pub parts: Vec<Part>,
    /// CSAT rating.
    pub rating: Option<Rating>,
}

/// A tag on a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppliedTag {
    /// Tag id.
    pub id: String,
    /// When.
    pub applied_at: i64,
    /// Admin who applied it.
    pub applied_by: Option<String>,
}

/// A proactive message sent through `POST /messages`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    /// Id.
    pub id: String,
    /// `inapp` or `email`.
    pub message_type: String,
    /// Subject.
    pub subject: Option<String>,
    /// Body.
    pub body: String,
    /// Sending admin.
    pub from_admin: String,
    /// Recipient contact.
    pub to_contact: String,
    /// Created.
    pub created_at: i64,
}
