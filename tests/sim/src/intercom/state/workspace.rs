//! The workspace's records: teammates, teams, tags, segments, contacts, companies, and the data
//! and conversation attributes defined on them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A teammate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Admin {
    /// Id (numeric string).
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Team ids.
    pub team_ids: Vec<String>,
    /// Away mode.
    pub away_mode_enabled: bool,
}

/// A team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    /// Id (numeric string).
    pub id: String,
    /// Name.
    pub name: String,
    /// Member admin ids.
    pub admin_ids: Vec<String>,
}

/// A tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tag {
    /// Id (numeric string).
    pub id: String,
    /// Name (case-insensitive).
    pub name: String,
}

/// A segment with explicit members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Segment {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `user` or `contact`.
    pub person_type: String,
    /// Contacts in the segment.
    pub contact_ids: Vec<String>,
    /// Creation time.
    pub created_at: i64,
}

/// A contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// Intercom id.
    pub id: String,
    /// `user` or `lead`.
    pub role: String,
    /// Customer's id.
    pub external_id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Owner admin id.
    pub owner_id: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Signed up.
    pub signed_up_at: Option<i64>,
    /// Last seen.
    pub last_seen_at: Option<i64>,
    /// Custom attributes.
    pub custom_attributes: Map<String, Value>,
    /// Tag ids.
    pub tag_ids: Vec<String>,
    /// Company ids (Intercom ids).
    pub company_ids: Vec<String>,
}

/// A company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Company {
    /// Intercom id.
    pub id: String,
    /// Customer's id.
    pub company_id: String,
    /// Name.
    pub name: Option<String>,
    /// Plan name.
    pub plan: Option<String>,
    /// Size.
    pub size: Option<i64>,
    /// Website.
    pub website: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Monthly spend (integer).
    pub monthly_spend: i64,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Remote created.
    pub remote_created_at: Option<i64>,
    /// Custom attributes.
    pub custom_attributes: Map<String, Value>,
    /// Tag ids.
    pub tag_ids: Vec<String>,
}

/// A contact or company data attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataAttribute {
    /// Id.
    pub id: u64,
    /// `contact` or `company`.
    pub model: String,
    /// Name.
    pub name: String,
    /// `string|integer|float|boolean|date`.
    pub data_type: String,
    /// Label.
    pub label: Option<String>,
    /// Custom (true) or standard.
    pub custom: bool,
    /// Archived.
    pub archived: bool,
}

/// A conversation attribute (2.16).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConversationAttribute {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Data type.
    pub data_type: String,
    /// Description.
    pub description: Option<String>,
    /// Required.
    pub required: bool,
    /// Archived.
    pub archived: bool,
    /// Created.
    pub created_at: i64,
}
