//! Planning the sync of a matched pair: each mapped field is compared against the last agreed
//! value and decided by one [`Rule`]; the pair's state keeps the new baseline and the audit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Profile;
use super::config::{ConflictSettings, Direction, FieldMapping, KindMapping, NullPolicy};
use super::values::{CastError, canonical, to_side, value_key};
use crate::event::Vendor;
use crate::model::{FieldValue, Timestamp};

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
