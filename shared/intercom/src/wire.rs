//! Intercom's JSON as the client reads it. Every field is optional or defaulted and the odd
//! shapes Intercom sends (ids as numbers or strings, `0` for "unassigned", ISO or Unix times,
//! `per_page` as a string, `pages.next` as object/string/null/`{}`) are accepted.
//!
//! Timestamps are Unix seconds; ids are strings (`None` for the "unassigned" forms).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::de;

/// `pages` of a list or search response (cursor or page-number style).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Pages {
    /// Current page (1-based).
    #[serde(deserialize_with = "de::opt_u64")]
    pub page: Option<u64>,
    /// Page size (sometimes sent as a string).
    #[serde(deserialize_with = "de::opt_u64")]
    pub per_page: Option<u64>,
    /// Number of pages.
    #[serde(deserialize_with = "de::opt_u64")]
    pub total_pages: Option<u64>,
    /// `{starting_after}` (cursor lists), a URL string (page-number lists), null, `{}`, or absent.
    pub next: Option<Value>,
}

impl Pages {
    /// The cursor of the next page, when `next` is an object with a non-empty `starting_after`.
    pub fn next_cursor(&self) -> Option<String> {
        match self.next.as_ref()? {
            Value::Object(m) => {
                m.get("starting_after").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
            }
            _ => None,
        }
    }

    /// Whether a page-number list has a further page (`next` is a URL, or `page < total_pages`).
    pub fn has_next_page(&self) -> bool {
        match &self.next {
            Some(Value::String(s)) if !s.is_empty() => true,
            Some(Value::Object(m)) if !m.is_empty() => true,
            _ => matches!((self.page, self.total_pages), (Some(p), Some(t)) if p < t),
        }
    }
}

/// A reference `{type, id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Reference {
    /// Object type (`admin`, `team`, `contact`, `company`, `nobody_admin`, …).
    #[serde(rename = "type", deserialize_with = "de::string")]
    pub kind: String,
    /// Id; `None` for null/0.
    #[serde(deserialize_with = "de::id")]
    pub id: Option<String>,
    /// Customer's id (contact references).
    #[serde(deserialize_with = "de::opt_string")]
    pub external_id: Option<String>,
}

/// A tag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Tag {
    /// Tag id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Tag name (case-insensitive in Intercom).
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// When it was applied (tagging responses and conversation tags).
    #[serde(deserialize_with = "de::timestamp")]
    pub applied_at: Option<i64>,
}

/// `{type:"tag.list", tags:[…]}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TagList {
    /// Tags.
    pub tags: Vec<Tag>,
}

/// An addressable list `{data:[{type,id,url}], total_count, has_more}` (contact tags,
/// companies, notes; at most 10 entries).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AddressableList {
    /// The references.
    pub data: Vec<Reference>,
    /// Total number of referenced objects.
    #[serde(deserialize_with = "de::opt_u64")]
    pub total_count: Option<u64>,
    /// More than `data` holds.
    #[serde(deserialize_with = "de::opt_bool")]
    pub has_more: Option<bool>,
}

/// Author of a part or of the source message.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Author {
    /// `admin`, `user`, `lead`, `contact`, `bot`, `team`.
    #[serde(rename = "type", deserialize_with = "de::string")]
    pub kind: String,
    /// Author id.
    #[serde(deserialize_with = "de::id")]
    pub id: Option<String>,
    /// Display name.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Email.
    #[serde(deserialize_with = "de::opt_string")]
    pub email: Option<String>,
}

/// An attachment of a part.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PartAttachment {
    /// File name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// Download URL (a public signed link that expires).
    #[serde(deserialize_with = "de::string")]
    pub url: String,
    /// MIME type.
    #[serde(deserialize_with = "de::opt_string")]
    pub content_type: Option<String>,
    /// Size in bytes.
    #[serde(deserialize_with = "de::opt_u64")]
    pub filesize: Option<u64>,
}

/// The opening message of a conversation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Source {
    /// Channel type (`conversation`, `email`, …).
    #[serde(rename = "type", deserialize_with = "de::string")]
    pub kind: String,
    /// Source message id.
    #[serde(deserialize_with = "de::id")]
    pub id: Option<String>,
    /// `customer_initiated`, `admin_initiated`, …
    #[serde(deserialize_with = "de::opt_string")]
    pub delivered_as: Option<String>,
    /// Subject.
    #[serde(deserialize_with = "de::opt_string")]
    pub subject: Option<String>,
    /// Body (HTML on REST, plain text in 2.15+ webhooks).
    #[serde(deserialize_with = "de::opt_string")]
    pub body: Option<String>,
    /// Author.
    #[serde(deserialize_with = "de::nested")]
    pub author: Option<Author>,
    /// Attachments.
    #[serde(deserialize_with = "de::nested")]
    pub attachments: Option<Vec<PartAttachment>>,
}

/// A conversation part.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConversationPart {
    /// Part id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// `comment`, `note`, `assignment`, `close`, `open`, … (an open set).
    #[serde(deserialize_with = "de::string")]
    pub part_type: String,
    /// Body, or None for bodiless events.
    #[serde(deserialize_with = "de::opt_string")]
    pub body: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "de::timestamp")]
    pub created_at: Option<i64>,
    /// Author.
    #[serde(deserialize_with = "de::nested")]
    pub author: Option<Author>,
    /// New assignee (assignment parts).
    #[serde(deserialize_with = "de::nested")]
    pub assigned_to: Option<Reference>,
    /// Attachments.
    #[serde(deserialize_with = "de::nested")]
    pub attachments: Option<Vec<PartAttachment>>,
    /// Set when created through the API.
    #[serde(deserialize_with = "de::opt_string")]
    pub app_package_code: Option<String>,
    /// Tags on this part (tagging events).
    #[serde(deserialize_with = "de::nested")]
    pub tags: Option<Vec<Tag>>,
}

/// `{type:"conversation_part.list", conversation_parts, total_count}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConversationParts {
    /// Parts (at most the 500 most recent on retrieve; only the causing part in webhooks).
    pub conversation_parts: Vec<ConversationPart>,
    /// The true number of parts.
    #[serde(deserialize_with = "de::opt_u64")]
    pub total_count: Option<u64>,
}

/// `{type:"contact.list", contacts:[…]}` of a conversation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConversationContacts {
    /// Contact references.
    pub contacts: Vec<Reference>,
}

/// CSAT rating of a conversation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConversationRating {
    /// 1-5.
    #[serde(deserialize_with = "de::opt_u64")]
    pub rating: Option<u64>,
    /// Free-text remark (personal data: do not log).
    #[serde(deserialize_with = "de::opt_string")]
    pub remark: Option<String>,
    /// When the rating was requested.
    #[serde(deserialize_with = "de::timestamp")]
    pub created_at: Option<i64>,
    /// Last update.
    #[serde(deserialize_with = "de::timestamp")]
    pub updated_at: Option<i64>,
    /// The rated teammate.
    #[serde(deserialize_with = "de::nested")]
    pub teammate: Option<Reference>,
    /// The rating contact.
    #[serde(deserialize_with = "de::nested")]
    pub contact: Option<Reference>,
}

/// A conversation (retrieve, list, search, reply/manage responses, webhook items).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Conversation {
    /// Conversation id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Title.
    #[serde(deserialize_with = "de::opt_string")]
    pub title: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "de::timestamp")]
    pub created_at: Option<i64>,
    /// Last update.
    #[serde(deserialize_with = "de::timestamp")]
    pub updated_at: Option<i64>,
    /// Customer waiting since.
    #[serde(deserialize_with = "de::timestamp")]
    pub waiting_since: Option<i64>,
    /// Snoozed until.
    #[serde(deserialize_with = "de::timestamp")]
    pub snoozed_until: Option<i64>,
    /// `open`, `closed`, `snoozed`.
    #[serde(deserialize_with = "de::opt_string")]
    pub state: Option<String>,
    /// Open flag.
    #[serde(deserialize_with = "de::opt_bool")]
    pub open: Option<bool>,
    /// Read flag.
    #[serde(deserialize_with = "de::opt_bool")]
    pub read: Option<bool>,
    /// `none|low|medium|high|urgent` (2.16) or `priority|not_priority` (older).
    #[serde(deserialize_with = "de::opt_string")]
    pub priority: Option<String>,
    /// Assigned admin (None for 0/null).
    #[serde(deserialize_with = "de::id")]
    pub admin_assignee_id: Option<String>,
    /// Assigned team (None for 0/null).
    #[serde(deserialize_with = "de::id")]
    pub team_assignee_id: Option<String>,
    /// Tags.
    #[serde(deserialize_with = "de::nested")]
    pub tags: Option<TagList>,
    /// The opening message.
    #[serde(deserialize_with = "de::nested")]
    pub source: Option<Source>,
    /// Contacts.
    #[serde(deserialize_with = "de::nested")]
    pub contacts: Option<ConversationContacts>,
    /// Conversation custom attributes.
    #[serde(deserialize_with = "de::object")]
    pub custom_attributes: Map<String, Value>,
    /// Parts (retrieve and webhooks only).
    #[serde(deserialize_with = "de::nested")]
    pub conversation_parts: Option<ConversationParts>,
    /// CSAT rating.
    #[serde(deserialize_with = "de::nested")]
    pub conversation_rating: Option<ConversationRating>,
    /// `statistics` as sent (times may be ISO strings in webhooks).
    pub statistics: Option<Value>,
}

/// A contact (user or lead).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// Intercom id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Customer's id.
    #[serde(deserialize_with = "de::opt_string")]
    pub external_id: Option<String>,
    /// `user` or `lead`.
    #[serde(deserialize_with = "de::string")]
    pub role: String,
    /// Email.
    #[serde(deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// Phone.
    #[serde(deserialize_with = "de::opt_string")]
    pub phone: Option<String>,
    /// Name.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Owner admin.
    #[serde(deserialize_with = "de::id")]
    pub owner_id: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "de::timestamp")]
    pub created_at: Option<i64>,
    /// Last update.
    #[serde(deserialize_with = "de::timestamp")]
    pub updated_at: Option<i64>,
    /// Custom attributes.
    #[serde(deserialize_with = "de::object")]
    pub custom_attributes: Map<String, Value>,
    /// Tag references (no names; at most 10).
    #[serde(deserialize_with = "de::nested")]
    pub tags: Option<AddressableList>,
    /// Company references (at most 10).
    #[serde(deserialize_with = "de::nested")]
    pub companies: Option<AddressableList>,
}

/// A company.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Company {
    /// Intercom id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Customer's id (immutable after creation).
    #[serde(deserialize_with = "de::opt_string")]
    pub company_id: Option<String>,
    /// Name.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// `{type:"plan", id, name}` on read (often `{}`); a plain string is accepted too.
    pub plan: Option<Value>,
    /// Monthly spend.
    #[serde(deserialize_with = "de::opt_f64")]
    pub monthly_spend: Option<f64>,
    /// Size.
    #[serde(deserialize_with = "de::opt_u64")]
    pub size: Option<u64>,
    /// Website.
    #[serde(deserialize_with = "de::opt_string")]
    pub website: Option<String>,
    /// Industry.
    #[serde(deserialize_with = "de::opt_string")]
    pub industry: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "de::timestamp")]
    pub created_at: Option<i64>,
    /// Last update.
    #[serde(deserialize_with = "de::timestamp")]
    pub updated_at: Option<i64>,
    /// Custom attributes.
    #[serde(deserialize_with = "de::object")]
    pub custom_attributes: Map<String, Value>,
    /// Tags.
    #[serde(deserialize_with = "de::nested")]
    pub tags: Option<TagList>,
}

impl Company {
    /// The plan name, from the object form (`plan.name`) or the string form.
    pub fn plan_name(&self) -> Option<String> {
        match self.plan.as_ref()? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Object(m) => m.get("name").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string),
            _ => None,
        }
    }
}

/// A segment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Segment {
    /// Segment id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// `user` or `contact`.
    #[serde(deserialize_with = "de::opt_string")]
    pub person_type: Option<String>,
    /// Member count (with `include_count=true`).
    #[serde(deserialize_with = "de::opt_u64")]
    pub count: Option<u64>,
}

/// A teammate.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Admin {
    /// Admin id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Name.
    #[serde(deserialize_with = "de::opt_string")]
    pub name: Option<String>,
    /// Email.
    #[serde(deserialize_with = "de::opt_string")]
    pub email: Option<String>,
    /// Away mode.
    #[serde(deserialize_with = "de::opt_bool")]
    pub away_mode_enabled: Option<bool>,
    /// Has an inbox seat.
    #[serde(deserialize_with = "de::opt_bool")]
    pub has_inbox_seat: Option<bool>,
    /// Teams the admin is in.
    pub team_ids: Vec<Value>,
    /// The workspace (`/me` only).
    pub app: Option<Value>,
}

/// A team.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Team {
    /// Team id.
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// Members.
    pub admin_ids: Vec<Value>,
}

/// A contact or company data attribute (schema entry).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DataAttribute {
    /// Id (custom attributes only).
    #[serde(deserialize_with = "de::id")]
    pub id: Option<String>,
    /// `contact` or `company`.
    #[serde(deserialize_with = "de::string")]
    pub model: String,
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// `custom_attributes.<name>` for custom ones.
    #[serde(deserialize_with = "de::opt_string")]
    pub full_name: Option<String>,
    /// Label.
    #[serde(deserialize_with = "de::opt_string")]
    pub label: Option<String>,
    /// `string|integer|float|boolean|date|…`.
    #[serde(deserialize_with = "de::string")]
    pub data_type: String,
    /// Custom attribute.
    #[serde(deserialize_with = "de::opt_bool")]
    pub custom: Option<bool>,
    /// Archived.
    #[serde(deserialize_with = "de::opt_bool")]
    pub archived: Option<bool>,
    /// Writable through the API.
    #[serde(deserialize_with = "de::opt_bool")]
    pub api_writable: Option<bool>,
}

/// A conversation attribute (2.16 `/conversations/attributes`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConversationAttribute {
    /// Id (an integer in the spec).
    #[serde(deserialize_with = "de::id")]
    pub id: Option<String>,
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// `string|integer|list|decimal|boolean|datetime|relationship|files`.
    #[serde(deserialize_with = "de::string")]
    pub data_type: String,
    /// Description.
    #[serde(deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// Required to close.
    #[serde(deserialize_with = "de::opt_bool")]
    pub required: Option<bool>,
    /// Archived.
    #[serde(deserialize_with = "de::opt_bool")]
    pub archived: Option<bool>,
}

/// A sent proactive message.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Message {
    /// Message id (the later conversation's `source.id`).
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// `inapp` or `email`.
    #[serde(deserialize_with = "de::string")]
    pub message_type: String,
    /// Creation time.
    #[serde(deserialize_with = "de::timestamp")]
    pub created_at: Option<i64>,
    /// Conversation id, when one was created.
    #[serde(deserialize_with = "de::id")]
    pub conversation_id: Option<String>,
}

/// `{data:[…], pages, total_count}` (contacts, companies, attributes lists).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, bound = "T: serde::de::DeserializeOwned")]
pub(crate) struct DataList<T> {
    pub data: Vec<T>,
    #[serde(deserialize_with = "de::nested")]
    pub pages: Option<Pages>,
    #[serde(deserialize_with = "de::opt_u64")]
    pub total_count: Option<u64>,
}

impl<T> Default for DataList<T> {
    fn default() -> Self {
        Self { data: Vec::new(), pages: None, total_count: None }
    }
}

/// `{type:"conversation.list", conversations, pages, total_count}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ConversationList {
    pub conversations: Vec<Conversation>,
    #[serde(deserialize_with = "de::nested")]
    pub pages: Option<Pages>,
    #[serde(deserialize_with = "de::opt_u64")]
    pub total_count: Option<u64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
