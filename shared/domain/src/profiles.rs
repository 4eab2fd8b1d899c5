//! Job 2 rules: two-way profile sync between Intercom contacts/companies and Zendesk
//! users/organizations.
//!
//! Everything here is pure. A profile on either side is read into a vendor-neutral
//! [`Profile`] (values keyed by the field path used in the configuration: `name`, `email`,
//! `phone`, `external_id`, `plan`, `custom_attributes.<key>`, `user_fields.<key>`,
//! `organization_fields.<key>`); [`plan()`] compares the two sides of a matched pair field by
//! field against the last agreed values and returns the writes to make and one [`AuditRecord`]
//! per decision. [`match_peer`] picks the peer of a profile (stored id, then external id, then
//! normalised email; ambiguous answers are reported, never guessed). [`drift()`] compares a live
//! field catalog with the mapping.
//!
//! Submodules: [`directory`] (the port both vendor clients implement) and [`budget`] (the
//! shared rate budget rule); the rules, by concern and re-exported here: `config` (the
//! `profiles:` section and its checks), `values` (casts, canonical values, fingerprints),
//! `matching` (finding the peer), `plan` (deciding each field, the pair's state) and `drift`
//! (a live catalog against the mapping).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::Kind;
use crate::event::Vendor;
use crate::model::{FieldValue, Timestamp};

pub mod budget;
mod config;
pub mod directory;
mod drift;
mod matching;
mod plan;
mod values;

#[cfg(test)]
mod tests;

pub use config::{
    ConflictSettings, Direction, FieldMapping, FieldType, IdFields, KindMapping, NullPolicy, ProfilesConfig,
    custom_prefix, valid_path,
};
pub use drift::{CatalogField, DriftFinding, drift, type_fits};
pub use matching::{Candidates, MatchedBy, PeerMatch, match_peer, normalise_email};
pub use plan::{AUDIT_KEPT, AuditRecord, PairState, Rule, SideWrite, SyncPlan, plan};
pub use values::{CastError, canonical, mapped_fingerprint, to_side, value_key};

/// A contact, user, company or organization as job 2 sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Which system it lives in.
    pub side: Vendor,
    /// Person or organization.
    pub kind: Kind,
    /// Its id on that side.
    pub id: String,
    /// Values by field path (standard and custom).
    pub values: BTreeMap<String, FieldValue>,
    /// For a person: the ids (same side) of its companies / organization.
    pub orgs: Vec<String>,
    /// `user` / `lead` on Intercom, `end-user` / `agent` / `admin` on Zendesk.
    pub role: Option<String>,
    /// Last update on its side.
    pub updated_at: Timestamp,
}

impl Profile {
    /// A text value, if set.
    pub fn text(&self, field: &str) -> Option<&str> {
        match self.values.get(field) {
            Some(FieldValue::Text(s)) if !s.trim().is_empty() => Some(s.as_str()),
            _ => None,
        }
    }
    /// The primary email, if any.
    pub fn email(&self) -> Option<&str> {
        self.text("email")
    }
    /// The customer's own id, if any.
    pub fn external_id(&self) -> Option<&str> {
        self.text("external_id")
    }
    /// The entity string (`contact:<id>`, `organization:<id>`).
    pub fn entity(&self) -> String {
        format!("{}:{}", self.kind.entity_word(self.side), self.id)
    }
}
