//! The `profiles:` section (job 2): which fields are mapped, which way they flow, how conflicts
//! are settled, where the ids are written back, and the checks of the section.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::event::{Kind, Vendor};

/// Which way a field flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Intercom to Zendesk only.
    IntercomToZendesk,
    /// Zendesk to Intercom only.
    ZendeskToIntercom,
    /// Both ways.
    #[default]
    Both,
}

impl Direction {
    /// True when values may flow from `from`.
    pub fn allows_from(self, from: Vendor) -> bool {
        match self {
            Direction::Both => true,
            Direction::IntercomToZendesk => from == Vendor::Intercom,
            Direction::ZendeskToIntercom => from == Vendor::Zendesk,
        }
    }
}

/// How a value is converted between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text.
    #[default]
    String,
    /// A number (whole or decimal).
    Number,
    /// true / false.
    Boolean,
    /// A calendar date: Unix seconds on Intercom, `YYYY-MM-DD` on Zendesk.
    Date,
    /// A text value that must be one of `options`.
    Dropdown,
}

/// What an absent or null source value does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NullPolicy {
    /// A null never overwrites a value on the other side.
    #[default]
    Skip,
    /// A null clears the other side.
    Clear,
}

/// One mapped field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// Field path on Intercom (`name`, `email`, `phone`, `external_id`, `plan`,
    /// `custom_attributes.<name>`).
    pub intercom: String,
    /// Field path on Zendesk (`name`, `email`, `phone`, `external_id`, `user_fields.<key>`,
    /// `organization_fields.<key>`).
    pub zendesk: String,
    /// Which way it flows.
    #[serde(default)]
    pub direction: Direction,
    /// Type used for the conversion.
    #[serde(default, rename = "type")]
    pub field_type: FieldType,
    /// Allowed values of a dropdown (Zendesk option values).
    #[serde(default)]
    pub options: Vec<String>,
    /// Null handling.
    #[serde(default)]
    pub nulls: NullPolicy,
    /// The side that wins every conflict on this field (otherwise the newest change wins).
    #[serde(default)]
    pub owner: Option<Vendor>,
}

/// Fields of one kind of record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindMapping {
    /// The mapped fields.
    #[serde(default)]
    pub fields: Vec<FieldMapping>,
}

/// How conflicting changes are settled when a field has no owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictSettings {
    /// Two update times closer than this are a tie.
    #[serde(default = "default_skew")]
    pub skew_seconds: i64,
    /// Who wins a tie.
    #[serde(default = "default_tie")]
    pub tie_breaker: Vendor,
}

fn default_skew() -> i64 {
    5
}

fn default_tie() -> Vendor {
    Vendor::Intercom
}

impl Default for ConflictSettings {
    fn default() -> Self {
        Self { skew_seconds: default_skew(), tie_breaker: default_tie() }
    }
}

/// Where each side's id is written on the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdFields {
    /// Intercom contact custom attribute receiving the Zendesk user id.
    #[serde(default = "default_ic_id_attribute")]
    pub intercom_contact_attribute: Option<String>,
    /// Zendesk user field (key) receiving the Intercom contact id.
    #[serde(default = "default_zd_id_field")]
    pub zendesk_user_field: Option<String>,
}

fn default_ic_id_attribute() -> Option<String> {
    Some("zendesk_user_id".into())
}

fn default_zd_id_field() -> Option<String> {
    Some("intercom_contact_id".into())
}

impl Default for IdFields {
    fn default() -> Self {
        Self { intercom_contact_attribute: default_ic_id_attribute(), zendesk_user_field: default_zd_id_field() }
    }
}

/// The `profiles:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesConfig {
    /// Contacts <-> users.
    #[serde(default)]
    pub contacts: KindMapping,
    /// Companies <-> organizations (membership follows when set).
    #[serde(default)]
    pub companies: Option<KindMapping>,
    /// Sync Intercom leads too (users only by default).
    #[serde(default)]
    pub include_leads: bool,
    /// Create the peer when no match exists.
    #[serde(default = "yes")]
    pub create_missing: bool,
    /// Conflict settings.
    #[serde(default)]
    pub conflicts: ConflictSettings,
    /// Id write-back fields.
    #[serde(default)]
    pub ids: IdFields,
    /// Custom fields that drift detection ignores (paths as in the mapping).
    #[serde(default)]
    pub ignore_fields: Vec<String>,
}

fn yes() -> bool {
    true
}

const STANDARD_PERSON: [&str; 4] = ["name", "email", "phone", "external_id"];
const STANDARD_ORG_IC: [&str; 4] = ["name", "external_id", "plan", "monthly_spend"];
const STANDARD_ORG_ZD: [&str; 2] = ["name", "external_id"];

/// Custom-field prefix of a kind on a side.
pub fn custom_prefix(side: Vendor, kind: Kind) -> &'static str {
    match (side, kind) {
        (Vendor::Intercom, _) => "custom_attributes.",
        (Vendor::Zendesk, Kind::Person) => "user_fields.",
        (Vendor::Zendesk, Kind::Org) => "organization_fields.",
    }
}

/// True when `path` names a field that exists in principle on that side and kind.
pub fn valid_path(side: Vendor, kind: Kind, path: &str) -> bool {
    let standard: &[&str] = match (side, kind) {
        (_, Kind::Person) => &STANDARD_PERSON,
        (Vendor::Intercom, Kind::Org) => &STANDARD_ORG_IC,
        (Vendor::Zendesk, Kind::Org) => &STANDARD_ORG_ZD,
    };
    standard.contains(&path)
        || path.strip_prefix(custom_prefix(side, kind)).is_some_and(|k| !k.is_empty() && !k.contains('.'))
}

impl ProfilesConfig {
    /// The mapping of a kind (`None` when companies are not synced).
    pub fn mapping(&self, kind: Kind) -> Option<&KindMapping> {
        match kind {
            Kind::Person => Some(&self.contacts),
            Kind::Org => self.companies.as_ref(),
        }
    }

    /// The id write-back field on `side` for persons (the field holding the other side's id).
    pub fn id_field(&self, side: Vendor) -> Option<String> {
        match side {
            Vendor::Intercom => self.ids.intercom_contact_attribute.as_ref().map(|a| format!("custom_attributes.{a}")),
            Vendor::Zendesk => self.ids.zendesk_user_field.as_ref().map(|k| format!("user_fields.{k}")),
        }
    }

    /// Checks the section; errors name the field path (`profiles.contacts.fields[2].zendesk`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.conflicts.skew_seconds < 0 {
            return Err(ConfigError::new("profiles.conflicts.skew_seconds", "must not be negative"));
        }
        for (kind, name) in [(Kind::Person, "contacts"), (Kind::Org, "companies")] {
            let Some(m) = self.mapping(kind) else { continue };
            let mut seen_ic = BTreeSet::new();
            let mut seen_zd = BTreeSet::new();
            for (i, f) in m.fields.iter().enumerate() {
                let at = |leaf: &str| format!("profiles.{name}.fields[{i}].{leaf}");
                if !valid_path(Vendor::Intercom, kind, &f.intercom) {
                    return Err(ConfigError::new(at("intercom"), "not a standard field or custom_attributes.<name>"));
                }
                let zd_hint = match kind {
                    Kind::Person => "not a standard field or user_fields.<key>",
                    Kind::Org => "not a standard field or organization_fields.<key>",
                };
                if !valid_path(Vendor::Zendesk, kind, &f.zendesk) {
                    return Err(ConfigError::new(at("zendesk"), zd_hint));
                }
                if !seen_ic.insert(f.intercom.as_str()) {
                    return Err(ConfigError::new(at("intercom"), "mapped twice"));
                }
                if !seen_zd.insert(f.zendesk.as_str()) {
                    return Err(ConfigError::new(at("zendesk"), "mapped twice"));
                }
                if f.field_type == FieldType::Dropdown && f.options.is_empty() {
                    return Err(ConfigError::new(at("options"), "a dropdown needs its options"));
                }
                if f.field_type != FieldType::Dropdown && !f.options.is_empty() {
                    return Err(ConfigError::new(at("options"), "only dropdown fields take options"));
                }
                if let Some(owner) = f.owner
                    && !f.direction.allows_from(owner)
                {
                    return Err(ConfigError::new(at("owner"), "the owner must be a side the field flows from"));
                }
            }
        }
        Ok(())
    }
}
