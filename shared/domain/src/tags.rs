//! Job 4 rules: tags shared between a conversation and its ticket.
//!
//! The bridge keeps, per link, the synced tags it last saw on each side and the tags it added
//! itself (ownership). Each run compares what both sides hold now with what it last saw and
//! plans the writes on the other side:
//! - a tag a human added on one side is added on the other (if absent), and the bridge then
//!   owns that copy;
//! - a tag a human removed on one side is removed on the other only when the bridge added that
//!   copy — the bridge never removes a tag it did not add;
//! - writes are add/remove of single tags, never a replacement of the whole list;
//! - tags Zendesk derives from dropdown (tagger) field values, configured ignores, and the tags
//!   job 3 puts on conversations are never synced.
//!
//! Intercom tag names compare case-insensitively (keys are lower case); Zendesk tags are slugs.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::model::FieldValue;
use crate::text::slug;

/// What to do with tags the mapping table does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unmapped {
    /// Sync them as a normalised slug (the Zendesk tag; used as is for the Intercom name).
    Slug,
    /// Leave them alone.
    #[default]
    Ignore,
}

/// `tag_sync:` — job 4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagSyncConfig {
    /// Intercom tag name -> Zendesk tag; used both ways.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Rule for tags not in the map.
    #[serde(default)]
    pub unmapped: Unmapped,
    /// Intercom tags never synced (case-insensitive).
    #[serde(default)]
    pub ignore_intercom: Vec<String>,
    /// Zendesk tags never synced.
    #[serde(default = "default_ignore_zendesk")]
    pub ignore_zendesk: Vec<String>,
}

fn default_ignore_zendesk() -> Vec<String> {
    vec!["closed_by_merge".into()]
}

impl TagSyncConfig {
    /// Checks the section; errors name the field path under `tag_sync`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut targets: BTreeMap<String, &str> = BTreeMap::new();
        for (ic, zd) in &self.map {
            let at = format!("tag_sync.map.{ic}");
            if ic.trim().is_empty() {
                return Err(ConfigError::new("tag_sync.map", "Intercom tag names must not be empty"));
            }
            if zd.is_empty() || slug(zd) != *zd {
                return Err(ConfigError::new(at, format!("{zd:?} is not a Zendesk tag; use {:?}", slug(zd))));
            }
            if let Some(other) = targets.insert(zd.clone(), ic) {
                return Err(ConfigError::new(at, format!("Zendesk tag {zd:?} is already mapped from {other:?}")));
            }
        }
        let keys: BTreeSet<String> = self.map.keys().map(|k| key(k)).collect();
        if keys.len() != self.map.len() {
            return Err(ConfigError::new("tag_sync.map", "Intercom tag names differ only in case"));
        }
        Ok(())
    }
}

/// The comparison key of an Intercom tag name.
pub fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The mapping, with the ignore sets resolved for one run.
#[derive(Debug, Clone)]
pub struct TagRules {
    ic_to_zd: BTreeMap<String, String>,
    zd_to_ic: BTreeMap<String, String>,
    unmapped: Unmapped,
    ignore_ic: BTreeSet<String>,
    ignore_zd: BTreeSet<String>,
}

impl TagRules {
    /// Rules from the config plus Intercom tags owned by other rules (job 3's status tags).
    pub fn new<'a>(config: &TagSyncConfig, reserved_intercom: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            ic_to_zd: config.map.iter().map(|(k, v)| (key(k), v.clone())).collect(),
            zd_to_ic: config.map.iter().map(|(k, v)| (v.clone(), k.trim().to_string())).collect(),
            unmapped: config.unmapped,
            ignore_ic: config
                .ignore_intercom
                .iter()
                .map(|t| key(t))
                .chain(reserved_intercom.into_iter().map(key))
                .collect(),
            ignore_zd: config.ignore_zendesk.iter().map(|t| t.trim().to_lowercase()).collect(),
        }
    }

    /// The Zendesk tag for an Intercom tag, if it is synced.
    pub fn to_zendesk(&self, intercom: &str) -> Option<String> {
        let k = key(intercom);
        if self.ignore_ic.contains(&k) {
            return None;
        }
        let z = match self.ic_to_zd.get(&k) {
            Some(z) => z.clone(),
            None if self.unmapped == Unmapped::Slug => slug(intercom),
            None => return None,
        };
        (!z.is_empty() && !self.ignore_zd.contains(&z)).then_some(z)
    }

    /// The Intercom tag name for a Zendesk tag, if it is synced.
    pub fn to_intercom(&self, zendesk: &str) -> Option<String> {
        if self.ignore_zd.contains(zendesk) {
            return None;
        }
        let name = match self.zd_to_ic.get(zendesk) {
            Some(n) => n.clone(),
            None if self.unmapped == Unmapped::Slug => zendesk.to_string(),
            None => return None,
        };
        (!self.ignore_ic.contains(&key(&name)) && self.to_zendesk(&name).as_deref() == Some(zendesk)).then_some(name)
    }
}

/// Tags Zendesk derived from field values on the ticket (dropdown options are tags).
pub fn derived_tags(custom_fields: &BTreeMap<u64, FieldValue>) -> BTreeSet<String> {
    custom_fields
        .values()
        .filter_map(|v| match v {
            FieldValue::Text(t) if !t.trim().is_empty() => Some(t.trim().to_lowercase()),
            _ => None,
        })
        .collect()
}

/// What the bridge last saw and owns, per link.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TagState {
    /// Synced Intercom tag keys seen after the last run.
    pub intercom_seen: BTreeSet<String>,
    /// Synced Zendesk tags seen after the last run.
    pub zendesk_seen: BTreeSet<String>,
    /// Intercom tag keys the bridge added and still owns.
    pub intercom_owned: BTreeSet<String>,
    /// Zendesk tags the bridge added and still owns.
    pub zendesk_owned: BTreeSet<String>,
}

/// The writes of one run and the state after them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagPlan {
    /// Intercom tag names to add.
    pub add_intercom: Vec<String>,
    /// Intercom tag names to remove (as they are spelled on the conversation).
    pub remove_intercom: Vec<String>,
    /// Zendesk tags to add.
    pub add_zendesk: Vec<String>,
    /// Zendesk tags to remove.
    pub remove_zendesk: Vec<String>,
    /// State to store once the writes are done.
    pub next: TagState,
}

impl TagPlan {
    /// No writes.
    pub fn is_empty(&self) -> bool {
        self.add_intercom.is_empty()
            && self.remove_intercom.is_empty()
            && self.add_zendesk.is_empty()
            && self.remove_zendesk.is_empty()
    }
}

/// Plans one run. `state` is `None` the first time (then only additions happen: the union).
/// `intercom_now` are the conversation's tag names, `zendesk_now` the ticket's tags, and
/// `derived` the ticket's dropdown-derived tags.
pub fn plan(
    rules: &TagRules,
    state: Option<&TagState>,
    intercom_now: &[String],
    zendesk_now: &[String],
    derived: &BTreeSet<String>,
) -> TagPlan {
    let empty = TagState::default();
    let prev = state.unwrap_or(&empty);
    // Synced tags currently present, by key, with the spelling found on the conversation.
    let ic_names: BTreeMap<String, String> =
        intercom_now.iter().filter(|n| rules.to_zendesk(n).is_some()).map(|n| (key(n), n.trim().to_string())).collect();
    let ic_now: BTreeSet<String> = ic_names.keys().cloned().collect();
    let zd_now: BTreeSet<String> = zendesk_now
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !derived.contains(t) && rules.to_intercom(t).is_some())
        .collect();

    let ic_added: Vec<&String> = ic_now.difference(&prev.intercom_seen).collect();
    let ic_removed: Vec<&String> = prev.intercom_seen.difference(&ic_now).collect();
    let zd_added: Vec<&String> = zd_now.difference(&prev.zendesk_seen).collect();
    let zd_removed: Vec<&String> = prev.zendesk_seen.difference(&zd_now).collect();

    let mut next = TagState {
        intercom_seen: ic_now.clone(),
        zendesk_seen: zd_now.clone(),
        intercom_owned: prev.intercom_owned.intersection(&ic_now).cloned().collect(),
        zendesk_owned: prev.zendesk_owned.intersection(&zd_now).cloned().collect(),
    };
    let mut out = TagPlan::default();

    // Removals follow only onto copies the bridge owns, and only when nothing else on the
    // removing side still maps to the same tag.
    for k in &ic_removed {
        let Some(z) = rules.to_zendesk(k) else { continue };
        let still_wanted = ic_now.iter().any(|other| rules.to_zendesk(other).as_deref() == Some(z.as_str()));
        if !still_wanted && zd_now.contains(&z) && next.zendesk_owned.remove(&z) {
            next.zendesk_seen.remove(&z);
            out.remove_zendesk.push(z);
        }
    }
    for z in &zd_removed {
        let Some(name) = rules.to_intercom(z) else { continue };
        let k = key(&name);
        if ic_now.contains(&k) && next.intercom_owned.remove(&k) {
            next.intercom_seen.remove(&k);
            out.remove_intercom.push(ic_names.get(&k).cloned().unwrap_or(name));
        }
    }
    // Additions: present on one side, absent on the other. When the other side's copy was
    // removed since the last run too, the addition wins: Intercom reports no removals, so a
    // removal seen late is older than the addition that made the bridge look.
    for k in &ic_added {
        let Some(z) = rules.to_zendesk(k) else { continue };
        if !zd_now.contains(&z) && !next.zendesk_seen.contains(&z) {
            next.zendesk_seen.insert(z.clone());
            next.zendesk_owned.insert(z.clone());
            out.add_zendesk.push(z);
        }
    }
    for z in &zd_added {
        let Some(name) = rules.to_intercom(z) else { continue };
        let k = key(&name);
        if !ic_now.contains(&k) && !next.intercom_seen.contains(&k) {
            next.intercom_seen.insert(k.clone());
            next.intercom_owned.insert(k);
            out.add_intercom.push(name);
        }
    }
    out.next = next;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(unmapped: Unmapped) -> TagRules {
        let cfg = TagSyncConfig {
            map: BTreeMap::from([("VIP".to_string(), "vip_customer".to_string())]),
            unmapped,
            ignore_intercom: vec!["escalate".into()],
            ignore_zendesk: default_ignore_zendesk(),
        };
        TagRules::new(&cfg, ["zd-solved"])
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn mapping_and_normalisation_both_ways() {
        let r = rules(Unmapped::Slug);
        let table: [(&str, Option<&str>); 6] = [
            ("VIP", Some("vip_customer")),
            ("vip", Some("vip_customer")),
            ("Needs Review!", Some("needs_review")),
            ("escalate", None),
            ("ZD-Solved", None),
            ("closed by merge", None),
        ];
        for (ic, zd) in table {
            assert_eq!(r.to_zendesk(ic).as_deref(), zd, "{ic}");
        }
        assert_eq!(r.to_intercom("vip_customer").as_deref(), Some("VIP"));
        assert_eq!(r.to_intercom("needs_review").as_deref(), Some("needs_review"));
        assert_eq!(r.to_intercom("closed_by_merge"), None);
        let strict = rules(Unmapped::Ignore);
        assert_eq!(strict.to_zendesk("billing"), None);
        assert_eq!(strict.to_intercom("billing"), None);
        assert_eq!(strict.to_zendesk("vip").as_deref(), Some("vip_customer"));
    }

    #[test]
    fn runs_plan_the_expected_writes() {
        let r = rules(Unmapped::Slug);
        let none = BTreeSet::new();
        let st = |ics: &[&str], zds: &[&str], ico: &[&str], zdo: &[&str]| TagState {
            intercom_seen: set(ics),
            zendesk_seen: set(zds),
            intercom_owned: set(ico),
            zendesk_owned: set(zdo),
        };
        // (name, state, intercom now, zendesk now, add_ic, remove_ic, add_zd, remove_zd)
        type Row<'a> = (
            &'a str,
            Option<TagState>,
            &'a [&'a str],
            &'a [&'a str],
            &'a [&'a str],
            &'a [&'a str],
            &'a [&'a str],
            &'a [&'a str],
        );
        let table: Vec<Row> = vec![
            ("first run is a union", None, &["VIP", "a"], &["b"], &["b"], &[], &["vip_customer", "a"], &[]),
            ("human add on intercom", Some(st(&[], &[], &[], &[])), &["VIP"], &[], &[], &[], &["vip_customer"], &[]),
            ("human add on zendesk", Some(st(&[], &[], &[], &[])), &[], &["vip_customer"], &["VIP"], &[], &[], &[]),
            (
                "echo of our write is no change",
                Some(st(&["vip"], &["vip_customer"], &[], &["vip_customer"])),
                &["VIP"],
                &["vip_customer"],
                &[],
                &[],
                &[],
                &[],
            ),
            (
                "removal follows an owned copy",
                Some(st(&["vip"], &["vip_customer"], &[], &["vip_customer"])),
                &[],
                &["vip_customer"],
                &[],
                &[],
                &[],
                &["vip_customer"],
            ),
            (
                "removal never touches a human copy",
                Some(st(&["vip"], &["vip_customer"], &[], &[])),
                &[],
                &["vip_customer"],
                &[],
                &[],
                &[],
                &[],
            ),
            (
                "zendesk removal follows an owned intercom copy",
                Some(st(&["vip"], &["vip_customer"], &["vip"], &[])),
                &["vip"],
                &[],
                &[],
                &["vip"],
                &[],
                &[],
            ),
            (
                "zendesk removal keeps a human intercom copy",
                Some(st(&["vip"], &["vip_customer"], &[], &[])),
                &["VIP"],
                &[],
                &[],
                &[],
                &[],
                &[],
            ),
            (
                "ignored and reserved tags stay put",
                Some(st(&[], &[], &[], &[])),
                &["escalate", "zd-solved"],
                &["closed_by_merge"],
                &[],
                &[],
                &[],
                &[],
            ),
            ("already present on the other side", Some(st(&[], &[], &[], &[])), &["a"], &["a"], &[], &[], &[], &[]),
        ];
        for (name, state, ic, zd, add_ic, rm_ic, add_zd, rm_zd) in table {
            let p = plan(&r, state.as_ref(), &s(ic), &s(zd), &none);
            assert_eq!(p.add_intercom, s(add_ic), "{name}: add_intercom");
            assert_eq!(p.remove_intercom, s(rm_ic), "{name}: remove_intercom");
            let mut got_add_zd = p.add_zendesk.clone();
            got_add_zd.sort();
            let mut want_add_zd = s(add_zd);
            want_add_zd.sort();
            assert_eq!(got_add_zd, want_add_zd, "{name}: add_zendesk");
            assert_eq!(p.remove_zendesk, s(rm_zd), "{name}: remove_zendesk");
        }
    }

    #[test]
    fn a_second_run_after_the_writes_plans_nothing() {
        let r = rules(Unmapped::Slug);
        let none = BTreeSet::new();
        let first = plan(&r, None, &s(&["VIP"]), &s(&["billing"]), &none);
        let after = plan(&r, Some(&first.next), &s(&["VIP", "billing"]), &s(&["billing", "vip_customer"]), &none);
        assert!(after.is_empty(), "{after:?}");
        assert_eq!(after.next.zendesk_owned, set(&["vip_customer"]));
        assert_eq!(after.next.intercom_owned, set(&["billing"]));
    }

    #[test]
    fn dropdown_derived_tags_are_ignored() {
        let r = rules(Unmapped::Slug);
        let fields = BTreeMap::from([(7u64, FieldValue::Text("plan_gold".into())), (8, FieldValue::Bool(true))]);
        let derived = derived_tags(&fields);
        assert_eq!(derived, set(&["plan_gold"]));
        let p = plan(&r, Some(&TagState::default()), &[], &s(&["plan_gold", "urgent"]), &derived);
        assert_eq!(p.add_intercom, s(&["urgent"]));
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |yaml: &str| serde_norway::from_str::<TagSyncConfig>(yaml).unwrap().validate().unwrap_err().field;
        assert_eq!(bad("map: { VIP: 'Vip Customer' }"), "tag_sync.map.VIP");
        assert_eq!(bad("map: { a: x, b: x }"), "tag_sync.map.b");
        assert_eq!(bad("map: { A: x, a: y }"), "tag_sync.map");
        assert!(serde_norway::from_str::<TagSyncConfig>("map: { VIP: vip }").unwrap().validate().is_ok());
    }
}
