//! The request bodies of ticket, user and organization writes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The comment part of a ticket write.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CommentInput {
    /// Plain text.
    pub body: Option<String>,
    /// HTML.
    pub html_body: Option<String>,
    /// Public (default true).
    pub public: Option<bool>,
    /// Author.
    pub author_id: Option<u64>,
    /// Upload tokens whose files become the comment's attachments.
    pub uploads: Vec<String>,
}

/// `{id, value}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FieldInput {
    /// Field id.
    pub id: u64,
    /// Value.
    pub value: Value,
}

/// A ticket create/update body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TicketInput {
    /// Subject.
    pub subject: Option<String>,
    /// Comment.
    pub comment: Option<CommentInput>,
    /// Requester id.
    pub requester_id: Option<u64>,
    /// Requester as `{name, email}`, an email or an id.
    pub requester: Option<Value>,
    /// Submitter.
    pub submitter_id: Option<u64>,
    /// Organization.
    pub organization_id: Option<u64>,
    /// Priority.
    pub priority: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    /// Group.
    pub group_id: Option<u64>,
    /// Assignee.
    pub assignee_id: Option<u64>,
    /// Tags (replace).
    pub tags: Option<Vec<String>>,
    /// External id.
    pub external_id: Option<String>,
    /// Custom fields.
    pub custom_fields: Option<Vec<FieldInput>>,
    /// Alias of `custom_fields`.
    pub fields: Option<Vec<FieldInput>>,
    /// Follow-up source.
    pub via_followup_source_id: Option<u64>,
    /// Collision guard.
    pub safe_update: Option<bool>,
    /// `updated_at` the writer read.
    pub updated_stamp: Option<String>,
}

/// A user create/update body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserInput {
    /// Id (update by id).
    pub id: Option<u64>,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Organization.
    pub organization_id: Option<u64>,
    /// Phone.
    pub phone: Option<String>,
    /// Tags (replace).
    pub tags: Option<Vec<String>>,
    /// Custom fields by key.
    pub user_fields: Option<BTreeMap<String, Value>>,
    /// Ignored.
    pub skip_verify_email: Option<bool>,
}

/// An organization create/update body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OrgInput {
    /// Id (match by id).
    pub id: Option<u64>,
    /// Name.
    pub name: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Domains.
    pub domain_names: Option<Vec<String>>,
    /// Tags (replace).
    pub tags: Option<Vec<String>>,
    /// Custom fields by key.
    pub organization_fields: Option<BTreeMap<String, Value>>,
    /// Group.
    pub group_id: Option<u64>,
}
