//! People and companies on either side (contacts and users, companies and organizations),
//! Intercom segments, and the Zendesk records the bridge creates or updates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FieldValue, Timestamp};
use crate::ids::{CompanyId, ContactId, OrganizationId, SegmentId, UserId};

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
