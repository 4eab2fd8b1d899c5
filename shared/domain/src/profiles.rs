//! Job 2 rules: two-way profile sync between Intercom contacts/companies and Zendesk
//! users/organizations.
//!
//! Everything here is pure. A profile on either side is read into a vendor-neutral
//! [`Profile`] (values keyed by the field path used in the configuration: `name`, `email`,
//! `phone`, `external_id`, `plan`, `custom_attributes.<key>`, `user_fields.<key>`,
//! `organization_fields.<key>`); [`plan`] compares the two sides of a matched pair field by field
//! against the last agreed values and returns the writes to make and one [`AuditRecord`] per
//! decision. [`match_peer`] picks the peer of a profile (stored id, then external id, then
//! normalised email; ambiguous answers are reported, never guessed). [`drift`] compares a live
//! field catalog with the mapping.
//!
//! Submodules: [`directory`] (the port both vendor clients implement) and [`budget`] (the
//! shared rate budget rule).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::event::Kind;
use crate::event::Vendor;
use crate::model::{FieldValue, Timestamp};

pub mod budget;
pub mod directory;

#[cfg(test)]
mod tests;

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

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

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
        let err = |field: String, message: &str| ConfigError {
            line: None,
            column: None,
            field,
            message: message.to_string(),
        };
        if self.conflicts.skew_seconds < 0 {
            return Err(err("profiles.conflicts.skew_seconds".into(), "must not be negative"));
        }
        for (kind, name) in [(Kind::Person, "contacts"), (Kind::Org, "companies")] {
            let Some(m) = self.mapping(kind) else { continue };
            let mut seen_ic = BTreeSet::new();
            let mut seen_zd = BTreeSet::new();
            for (i, f) in m.fields.iter().enumerate() {
                let at = |leaf: &str| format!("profiles.{name}.fields[{i}].{leaf}");
                if !valid_path(Vendor::Intercom, kind, &f.intercom) {
                    return Err(err(at("intercom"), "not a standard field or custom_attributes.<name>"));
                }
                let zd_hint = match kind {
                    Kind::Person => "not a standard field or user_fields.<key>",
                    Kind::Org => "not a standard field or organization_fields.<key>",
                };
                if !valid_path(Vendor::Zendesk, kind, &f.zendesk) {
                    return Err(err(at("zendesk"), zd_hint));
                }
                if !seen_ic.insert(f.intercom.as_str()) {
                    return Err(err(at("intercom"), "mapped twice"));
                }
                if !seen_zd.insert(f.zendesk.as_str()) {
                    return Err(err(at("zendesk"), "mapped twice"));
                }
                if f.field_type == FieldType::Dropdown && f.options.is_empty() {
                    return Err(err(at("options"), "a dropdown needs its options"));
                }
                if f.field_type != FieldType::Dropdown && !f.options.is_empty() {
                    return Err(err(at("options"), "only dropdown fields take options"));
                }
                if let Some(owner) = f.owner
                    && !f.direction.allows_from(owner)
                {
                    return Err(err(at("owner"), "the owner must be a side the field flows from"));
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Casts
// ---------------------------------------------------------------------------------------------

/// Why a value cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CastError {
    /// Not a number.
    #[error("not a number")]
    NotNumber,
    /// Not a boolean.
    #[error("not a boolean")]
    NotBoolean,
    /// Not a date.
    #[error("not a date")]
    NotDate,
    /// Not one of the dropdown's options.
    #[error("not one of the field's options")]
    NotAnOption,
}

fn is_blank(v: &FieldValue) -> bool {
    matches!(v, FieldValue::Null) || matches!(v, FieldValue::Text(s) if s.trim().is_empty())
}

/// Converts a side's raw value into the comparable canonical form of `ty`
/// (`Null`, `Text`, `Bool`, `Int`/`Float`, dates as `YYYY-MM-DD` text).
pub fn canonical(ty: FieldType, options: &[String], raw: &FieldValue) -> Result<FieldValue, CastError> {
    if is_blank(raw) {
        return Ok(FieldValue::Null);
    }
    Ok(match ty {
        FieldType::String => FieldValue::Text(match raw {
            FieldValue::Text(s) => s.clone(),
            FieldValue::Int(n) => n.to_string(),
            FieldValue::Float(f) => f.to_string(),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::Null => return Ok(FieldValue::Null),
        }),
        FieldType::Number => match raw {
            FieldValue::Int(n) => FieldValue::Int(*n),
            FieldValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => FieldValue::Int(*f as i64),
            FieldValue::Float(f) => FieldValue::Float(*f),
            FieldValue::Text(s) => {
                let s = s.trim();
                if let Ok(n) = s.parse::<i64>() {
                    FieldValue::Int(n)
                } else {
                    let f = s.parse::<f64>().map_err(|_| CastError::NotNumber)?;
                    if !f.is_finite() {
                        return Err(CastError::NotNumber);
                    }
                    canonical(ty, options, &FieldValue::Float(f))?
                }
            }
            _ => return Err(CastError::NotNumber),
        },
        FieldType::Boolean => FieldValue::Bool(match raw {
            FieldValue::Bool(b) => *b,
            FieldValue::Int(0) => false,
            FieldValue::Int(1) => true,
            FieldValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => true,
                "false" | "no" | "0" => false,
                _ => return Err(CastError::NotBoolean),
            },
            _ => return Err(CastError::NotBoolean),
        }),
        FieldType::Date => FieldValue::Text(match raw {
            FieldValue::Int(secs) => chrono::DateTime::from_timestamp(*secs, 0)
                .map(|d| d.date_naive().to_string())
                .ok_or(CastError::NotDate)?,
            FieldValue::Float(f) => chrono::DateTime::from_timestamp(*f as i64, 0)
                .map(|d| d.date_naive().to_string())
                .ok_or(CastError::NotDate)?,
            FieldValue::Text(s) => {
                let s = s.trim();
                let day = s.get(..10).unwrap_or(s);
                chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| CastError::NotDate)?.to_string()
            }
            _ => return Err(CastError::NotDate),
        }),
        FieldType::Dropdown => {
            let text = match raw {
                FieldValue::Text(s) => s.trim().to_string(),
                FieldValue::Int(n) => n.to_string(),
                FieldValue::Bool(b) => b.to_string(),
                FieldValue::Float(f) => f.to_string(),
                FieldValue::Null => return Ok(FieldValue::Null),
            };
            // Zendesk option values are lower-case tags; Intercom values are free text.
            let found = options.iter().find(|o| o.eq_ignore_ascii_case(&text) || tag_form(o) == tag_form(&text));
            FieldValue::Text(found.cloned().ok_or(CastError::NotAnOption)?)
        }
    })
}

fn tag_form(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// The canonical value as `side` stores it (dates become Unix seconds on Intercom).
pub fn to_side(ty: FieldType, side: Vendor, canonical: &FieldValue) -> FieldValue {
    match (ty, side, canonical) {
        (FieldType::Date, Vendor::Intercom, FieldValue::Text(day)) => {
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| FieldValue::Int(d.and_utc().timestamp()))
                .unwrap_or(FieldValue::Null)
        }
        _ => canonical.clone(),
    }
}

/// A stable text form of a canonical value (for baselines and fingerprints).
pub fn value_key(v: &FieldValue) -> String {
    match v {
        FieldValue::Null => "null".into(),
        FieldValue::Bool(b) => format!("b:{b}"),
        FieldValue::Int(n) => format!("n:{n}"),
        FieldValue::Float(f) => format!("n:{f}"),
        FieldValue::Text(s) => format!("s:{s}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/// Normalised email: trimmed, lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// How a peer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The id stored by an earlier sync (or written on the record).
    StoredId,
    /// The external id.
    ExternalId,
    /// The normalised email.
    Email,
}

/// Result of [`match_peer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMatch {
    /// Exactly one peer.
    Found {
        /// Its id.
        id: String,
        /// How.
        by: MatchedBy,
    },
    /// No peer: create one (if configured).
    None,
    /// Several candidates: reported, never guessed.
    Ambiguous {
        /// The step that found several.
        by: MatchedBy,
        /// Their ids (sorted).
        ids: Vec<String>,
    },
}

/// Candidates for the peer of a profile, as looked up by the job.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The peer id from the store or the id field written on the record, if it still exists.
    pub stored: Option<String>,
    /// Peers with the same external id.
    pub by_external_id: Vec<Profile>,
    /// Peers with the same normalised email (persons only).
    pub by_email: Vec<Profile>,
}

/// Picks the peer: stored id first, then external id, then normalised email.
pub fn match_peer(source: &Profile, c: &Candidates) -> PeerMatch {
    if let Some(id) = &c.stored {
        return PeerMatch::Found { id: id.clone(), by: MatchedBy::StoredId };
    }
    let pick = |list: Vec<&Profile>, by: MatchedBy| -> Option<PeerMatch> {
        let mut ids: Vec<String> = list.iter().map(|p| p.id.clone()).collect();
        ids.sort();
        ids.dedup();
        match ids.len() {
            0 => None,
            1 => ids.pop().map(|id| PeerMatch::Found { id, by }),
            _ => Some(PeerMatch::Ambiguous { by, ids }),
        }
    };
    if let Some(ext) = source.external_id() {
        let list = c.by_external_id.iter().filter(|p| p.external_id() == Some(ext)).collect();
        if let Some(m) = pick(list, MatchedBy::ExternalId) {
            return m;
        }
    }
    if source.kind == Kind::Person
        && let Some(email) = source.email().map(normalise_email)
    {
        let list = c.by_email.iter().filter(|p| p.email().map(normalise_email).as_deref() == Some(email.as_str()));
        if let Some(m) = pick(list.collect(), MatchedBy::Email) {
            return m;
        }
    }
    PeerMatch::None
}

// ---------------------------------------------------------------------------------------------
// Planning a sync of a matched pair
// ---------------------------------------------------------------------------------------------

/// Which rule decided a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Only one side changed since the last agreed value.
    OneSideChanged,
    /// The field flows one way only.
    Direction,
    /// The field's owner wins.
    Owner,
    /// The newer update wins.
    NewestWins,
    /// Update times within the skew tolerance: the tie breaker wins.
    Tie,
    /// First sync: the only side with a value fills the other.
    Fill,
    /// The value could not be converted; nothing written.
    CastFailed,
    /// A null was not propagated (null policy `skip`).
    NullSkipped,
}

/// One decision on one field (kept in the pair's state and counted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The field (Intercom path).
    pub field: String,
    /// Intercom's value (canonical).
    pub intercom: FieldValue,
    /// Zendesk's value (canonical).
    pub zendesk: FieldValue,
    /// The rule applied.
    pub rule: Rule,
    /// The side whose value now holds on both (None when nothing was written).
    pub winner: Option<Vendor>,
    /// When.
    pub at: Timestamp,
}

/// The writes to make on one side.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SideWrite {
    /// Values by field path of that side, already in the side's form.
    pub values: BTreeMap<String, FieldValue>,
}

/// What [`plan`] decided for a pair.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncPlan {
    /// Writes to Intercom.
    pub intercom: SideWrite,
    /// Writes to Zendesk.
    pub zendesk: SideWrite,
    /// One record per field that differed.
    pub audit: Vec<AuditRecord>,
    /// The agreed canonical values after the writes (new baseline), by Intercom path.
    pub baseline: BTreeMap<String, String>,
}

/// Compares a matched pair field by field against the last agreed values (`baseline`, by
/// Intercom path, as [`value_key`]) and decides every difference.
pub fn plan(
    mapping: &KindMapping,
    conflicts: &ConflictSettings,
    ic: &Profile,
    zd: &Profile,
    baseline: &BTreeMap<String, String>,
    now: Timestamp,
) -> SyncPlan {
    let mut out = SyncPlan { baseline: baseline.clone(), ..SyncPlan::default() };
    for f in &mapping.fields {
        let raw_ic = ic.values.get(&f.intercom).cloned().unwrap_or(FieldValue::Null);
        let raw_zd = zd.values.get(&f.zendesk).cloned().unwrap_or(FieldValue::Null);
        let a = canonical(f.field_type, &f.options, &raw_ic);
        let b = canonical(f.field_type, &f.options, &raw_zd);
        let record = |a: &FieldValue, b: &FieldValue, rule: Rule, winner: Option<Vendor>| AuditRecord {
            field: f.intercom.clone(),
            intercom: a.clone(),
            zendesk: b.clone(),
            rule,
            winner,
            at: now,
        };
        let (a, b) = match (a, b) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                let shown = |r: Result<FieldValue, CastError>, raw: FieldValue| r.unwrap_or(raw);
                out.audit.push(record(&shown(a, raw_ic), &shown(b, raw_zd), Rule::CastFailed, None));
                continue;
            }
        };
        if a == b {
            out.baseline.insert(f.intercom.clone(), value_key(&a));
            continue;
        }
        let base = baseline.get(&f.intercom);
        let a_changed = base.is_none_or(|k| *k != value_key(&a));
        let b_changed = base.is_none_or(|k| *k != value_key(&b));
        let (winner, rule) = decide(f, conflicts, ic, zd, &a, &b, base.is_some(), a_changed, b_changed);
        let Some(winner) = winner else {
            out.audit.push(record(&a, &b, rule, None));
            continue;
        };
        let value = if winner == Vendor::Intercom { &a } else { &b };
        if *value == FieldValue::Null && f.nulls == NullPolicy::Skip {
            out.audit.push(record(&a, &b, Rule::NullSkipped, None));
            continue;
        }
        match winner {
            Vendor::Intercom => {
                out.zendesk.values.insert(f.zendesk.clone(), to_side(f.field_type, Vendor::Zendesk, value));
            }
            Vendor::Zendesk => {
                out.intercom.values.insert(f.intercom.clone(), to_side(f.field_type, Vendor::Intercom, value));
            }
        }
        out.baseline.insert(f.intercom.clone(), value_key(value));
        out.audit.push(record(&a, &b, rule, Some(winner)));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn decide(
    f: &FieldMapping,
    conflicts: &ConflictSettings,
    ic: &Profile,
    zd: &Profile,
    a: &FieldValue,
    b: &FieldValue,
    has_base: bool,
    a_changed: bool,
    b_changed: bool,
) -> (Option<Vendor>, Rule) {
    // One-way fields: the source side always holds.
    match f.direction {
        Direction::IntercomToZendesk => return (Some(Vendor::Intercom), Rule::Direction),
        Direction::ZendeskToIntercom => return (Some(Vendor::Zendesk), Rule::Direction),
        Direction::Both => {}
    }
    if has_base && a_changed != b_changed {
        return (Some(if a_changed { Vendor::Intercom } else { Vendor::Zendesk }), Rule::OneSideChanged);
    }
    if !has_base && f.owner.is_none() {
        match (a, b) {
            (FieldValue::Null, _) => return (Some(Vendor::Zendesk), Rule::Fill),
            (_, FieldValue::Null) => return (Some(Vendor::Intercom), Rule::Fill),
            _ => {}
        }
    }
    if let Some(owner) = f.owner {
        return (Some(owner), Rule::Owner);
    }
    let gap = ic.updated_at.0 - zd.updated_at.0;
    if gap.abs() <= conflicts.skew_seconds {
        (Some(conflicts.tie_breaker), Rule::Tie)
    } else if gap > 0 {
        (Some(Vendor::Intercom), Rule::NewestWins)
    } else {
        (Some(Vendor::Zendesk), Rule::NewestWins)
    }
}

/// The fingerprint of a profile's mapped values as `side` holds them, for the loop guard:
/// equal to the fingerprint recorded after the bridge's own write means "our echo".
pub fn mapped_fingerprint(mapping: &KindMapping, profile: &Profile) -> String {
    let items = mapping.fields.iter().map(|f| {
        let path = if profile.side == Vendor::Intercom { &f.intercom } else { &f.zendesk };
        let raw = profile.values.get(path).cloned().unwrap_or(FieldValue::Null);
        let v = canonical(f.field_type, &f.options, &raw).unwrap_or(raw);
        format!("{path}={}", value_key(&v))
    });
    crate::loop_guard::fingerprint(items)
}

// ---------------------------------------------------------------------------------------------
// Per-pair state
// ---------------------------------------------------------------------------------------------

/// How many audit records a pair keeps.
pub const AUDIT_KEPT: usize = 50;

/// State of one synced pair, kept under [`state_key`] of its Intercom side.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PairState {
    /// The Intercom id.
    pub intercom_id: Option<String>,
    /// The Zendesk id.
    pub zendesk_id: Option<String>,
    /// Last agreed canonical values, by Intercom path.
    #[serde(default)]
    pub baseline: BTreeMap<String, String>,
    /// Latest decisions, oldest first (at most [`AUDIT_KEPT`]).
    #[serde(default)]
    pub audit: Vec<AuditRecord>,
    /// When the pair was last synced.
    #[serde(default)]
    pub synced_at: Timestamp,
}

impl PairState {
    /// Appends audit records, keeping the newest [`AUDIT_KEPT`].
    pub fn push_audit(&mut self, records: impl IntoIterator<Item = AuditRecord>) {
        self.audit.extend(records);
        let excess = self.audit.len().saturating_sub(AUDIT_KEPT);
        self.audit.drain(..excess);
    }
}

// ---------------------------------------------------------------------------------------------
// Schema drift
// ---------------------------------------------------------------------------------------------

/// One custom field of a live catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogField {
    /// Path as in the mapping (`custom_attributes.plan`, `user_fields.tier`).
    pub path: String,
    /// The vendor's type (`string`, `integer`, `dropdown`, `checkbox`, …).
    pub data_type: String,
    /// Dropdown option values.
    pub options: Vec<String>,
}

/// A difference between a catalog and the mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum DriftFinding {
    /// A custom field nothing maps.
    Unmapped {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
    },
    /// A mapped custom field that no longer exists.
    Missing {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
    },
    /// A mapped field whose type no longer fits.
    TypeChanged {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
        /// The configured type.
        expected: FieldType,
        /// The vendor's type now.
        actual: String,
    },
    /// Configured dropdown options the field no longer offers.
    OptionsChanged {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
        /// Options in the config the field lacks.
        missing: Vec<String>,
    },
}

impl DriftFinding {
    /// True for findings that make the mapping wrong (not just incomplete).
    pub fn is_error(&self) -> bool {
        !matches!(self, DriftFinding::Unmapped { .. })
    }
}

/// True when a vendor type can carry a configured type.
pub fn type_fits(expected: FieldType, vendor_type: &str) -> bool {
    let t = vendor_type.to_ascii_lowercase();
    match expected {
        FieldType::String => matches!(t.as_str(), "string" | "text" | "textarea" | "regexp" | "dropdown" | "tagger"),
        FieldType::Number => matches!(t.as_str(), "integer" | "float" | "decimal" | "number"),
        FieldType::Boolean => matches!(t.as_str(), "boolean" | "checkbox"),
        FieldType::Date => matches!(t.as_str(), "date" | "integer"),
        FieldType::Dropdown => matches!(t.as_str(), "dropdown" | "tagger" | "string" | "text"),
    }
}

/// Compares one side's live catalog of a kind with the mapping.
pub fn drift(config: &ProfilesConfig, side: Vendor, kind: Kind, catalog: &[CatalogField]) -> Vec<DriftFinding> {
    let mut out = Vec::new();
    let prefix = custom_prefix(side, kind);
    let fields: &[FieldMapping] = config.mapping(kind).map(|m| m.fields.as_slice()).unwrap_or(&[]);
    let path_of = |f: &FieldMapping| if side == Vendor::Intercom { f.intercom.clone() } else { f.zendesk.clone() };
    let mut known: BTreeSet<String> = fields.iter().map(path_of).collect();
    if kind == Kind::Person
        && let Some(id_field) = config.id_field(side)
    {
        known.insert(id_field);
    }
    known.extend(config.ignore_fields.iter().cloned());
    for c in catalog.iter().filter(|c| c.path.starts_with(prefix)) {
        if !known.contains(&c.path) {
            out.push(DriftFinding::Unmapped { side, kind, path: c.path.clone() });
        }
    }
    for f in fields {
        let path = path_of(f);
        if !path.starts_with(prefix) {
            continue;
        }
        let Some(live) = catalog.iter().find(|c| c.path == path) else {
            out.push(DriftFinding::Missing { side, kind, path });
            continue;
        };
        if !type_fits(f.field_type, &live.data_type) {
            out.push(DriftFinding::TypeChanged {
                side,
                kind,
                path: path.clone(),
                expected: f.field_type,
                actual: live.data_type.clone(),
            });
            continue;
        }
        if side == Vendor::Zendesk && f.field_type == FieldType::Dropdown && !live.options.is_empty() {
            let missing: Vec<String> = f.options.iter().filter(|o| !live.options.contains(o)).cloned().collect();
            if !missing.is_empty() {
                out.push(DriftFinding::OptionsChanged { side, kind, path, missing });
            }
        }
    }
    out
}
