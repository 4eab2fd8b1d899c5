//! State changes shared by the REST handlers and the admin API, with the webhooks each one
//! emits. `via_api` marks changes made through the REST API (parts get the app's
//! `app_package_code`, as real Intercom sets it for API-created parts).

mod companies;
mod contacts;
mod conversations;
mod start;
mod tags;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ApiError;
use super::state::{AuthorRef, Conversation, Part, PartsView, State};

pub use companies::upsert_company;
pub use contacts::{
    attach_company, contact_tag, create_contact, delete_contact, live_contact, merge_contacts, update_contact,
};
pub use conversations::{
    conversation_response, manage, rate, reply, reply_with_files, set_priority, update_conversation,
};
pub use start::start_conversation;
pub use tags::{ensure_tag, tag_conversation, untag_conversation};

/// Who writes a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    /// A teammate.
    Admin(String),
    /// A contact.
    Contact(String),
}

/// A new assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum AssignTo {
    /// An admin (`"0"` unassigns).
    Admin(String),
    /// A team (`"0"` unassigns).
    Team(String),
}

/// A state change through `/parts`.
#[derive(Debug, Clone, PartialEq)]
pub enum Manage {
    /// Close (optional message to the customer).
    Close(Option<String>),
    /// Reopen.
    Open,
    /// Snooze until.
    Snooze(i64),
    /// Assign.
    Assign(AssignTo, Option<String>),
}

/// A conversation to seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConversationSeed {
    /// The customer (must exist).
    pub contact_id: String,
    /// Opening message.
    pub body: String,
    /// Subject / title.
    pub subject: Option<String>,
    /// Creation time (default: now minus the part count).
    pub created_at: Option<i64>,
    /// Extra parts, alternating customer comments and replies from `admin_id`.
    pub extra_parts: usize,
    /// Admin for the extra replies and the assignment.
    pub admin_id: Option<String>,
    /// Assigned team.
    pub team_assignee_id: Option<String>,
    /// Priority (`none` by default).
    pub priority: Option<String>,
    /// Tag names (created when missing).
    pub tags: Vec<String>,
    /// Conversation attributes.
    pub custom_attributes: Map<String, Value>,
    /// `open` (default), `closed` or `snoozed`.
    pub state: Option<String>,
    /// History in the past (reporting): a reply from `admin_id` at this time.
    pub admin_reply_at: Option<i64>,
    /// History in the past: closed by `admin_id` at this time (state becomes `closed`).
    pub closed_at: Option<i64>,
    /// History in the past: the customer's rating.
    pub rating: Option<RatingSeed>,
}

/// A rating given in the past.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RatingSeed {
    /// 1-5.
    pub rating: u8,
    /// Remark.
    pub remark: Option<String>,
    /// When the customer answered.
    pub rated_at: i64,
}

fn conv_mut<'a>(st: &'a mut State, id: &str) -> Result<&'a mut Conversation, ApiError> {
    st.conversations.get_mut(id).ok_or_else(|| ApiError::not_found("Resource Not Found"))
}

fn require_admin(st: &State, id: &str) -> Result<(), ApiError> {
    if st.admins.contains_key(id) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))
    }
}

fn author_of(st: &State, writer: &Writer) -> AuthorRef {
    match writer {
        Writer::Admin(id) => {
            let a = st.admins.get(id);
            AuthorRef {
                kind: "admin".into(),
                id: id.clone(),
                name: a.map(|a| a.name.clone()),
                email: a.map(|a| a.email.clone()),
            }
        }
        Writer::Contact(id) => {
            let c = st.contacts.get(id);
            AuthorRef {
                kind: c.map(|c| c.role.clone()).unwrap_or_else(|| "user".into()),
                id: id.clone(),
                name: c.and_then(|c| c.name.clone()),
                email: c.and_then(|c| c.email.clone()),
            }
        }
    }
}

/// Appends a part and returns its id.
fn push_part(st: &mut State, conv_id: &str, mut part: Part, via_api: Option<&str>) -> Result<String, ApiError> {
    let id = st.numeric_id(1_000_000_000);
    part.id = id.clone();
    part.created_at = part.created_at.max(st.now());
    part.app_package_code = via_api.map(str::to_string);
    let conv = conv_mut(st, conv_id)?;
    conv.updated_at = part.created_at;
    conv.parts.push(part);
    Ok(id)
}

fn conversation_item(st: &State, conv_id: &str, part_ids: &[String]) -> Value {
    st.conversations.get(conv_id).map(|c| st.conversation_json(c, PartsView::Only(part_ids))).unwrap_or(Value::Null)
}

fn str_field(body: &Value, key: &str) -> Option<String> {
    match body.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn validate_timestamps(body: &Value) -> Result<(), ApiError> {
    for key in ["signed_up_at", "last_seen_at", "remote_created_at"] {
        if let Some(v) = body.get(key)
            && !v.is_null()
            && v.as_i64().is_none_or(|n| n >= 100_000_000_000)
        {
            return Err(ApiError::invalid(format!("{key} must be a Unix timestamp in seconds")));
        }
    }
    Ok(())
}
