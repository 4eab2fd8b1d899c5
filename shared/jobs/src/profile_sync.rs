//! Job 2: two-way profile sync (Intercom contacts <-> Zendesk users, companies <->
//! organizations), event-driven and by scheduled reconciliation.
//!
//! One symmetric algorithm, whichever side an event names: read the profile (the webhook is only
//! a hint), drop our own echo (loop guard: the Zendesk actor is the bridge, or the mapped values
//! equal what the bridge last wrote), find the peer (stored ids, the id written on the record,
//! external id, normalised email; ambiguous answers are recorded under
//! `PROFILE#AMBIGUOUS#<entity>` and never guessed), create it when missing, then let
//! [`bridge_domain::profiles::plan`] decide every differing field against the last agreed values
//! and write both sides. The pair's state ([`PairState`]: ids, baseline, audit records) lives at
//! `PROFILE#IC#<contact|company>:<id>`, with a pointer at `PROFILE#ZD#<user|organization>:<id>`.

use std::collections::BTreeMap;
use std::time::Duration;

use bridge_domain::event::Kind;
use bridge_domain::event::QueuedEvent;
use bridge_domain::event::Vendor;
use bridge_domain::keys::DocKey;
use bridge_domain::loop_guard;
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::{Helpdesk, PortError, Service, Store};
use bridge_domain::profiles::directory::ProfileDirectory;
use bridge_domain::profiles::{self, Candidates, KindMapping, PairState, PeerMatch, Profile, ProfilesConfig, Rule};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{load_written, record_written};
use crate::{JobError, JobResult, Outcome, Ports, Side};

pub mod alerts;
pub mod backfill;
pub mod rate;
pub mod reconcile;

#[cfg(test)]
mod tests;

/// The loop-guard field name used for profiles.
const GUARD_FIELD: &str = "profile";
/// How long to wait before retrying a pair whose state changed under us.
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// Pointer from a Zendesk record to its pair's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pointer {
    intercom_id: String,
}

/// An ambiguous match, kept for operators.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Ambiguity {
    by: profiles::MatchedBy,
    candidates: Vec<String>,
    at: Timestamp,
}

/// What one pair sync did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairOutcome {
    /// Fields written to Intercom.
    pub to_intercom: usize,
    /// Fields written to Zendesk.
    pub to_zendesk: usize,
    /// Conflicts settled by owner, newest-wins or tie.
    pub conflicts: usize,
    /// Values that could not be converted.
    pub cast_failures: usize,
    /// The peer was created.
    pub created_peer: bool,
}

/// Why a profile was not synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The record no longer exists.
    Gone,
    /// Not a synced record (a lead, an agent).
    OutOfScope(&'static str),
    /// The bridge's own write coming back.
    Echo(&'static str),
    /// Several peers match.
    Ambiguous(Vec<String>),
    /// No peer and creating is off.
    NoPeer,
}

/// Result of syncing one profile.
pub type PairResult = Result<Result<PairOutcome, Skip>, JobError>;

/// Runs job 2 for one queued event (`contact:`, `company:`, `user:` or `organization:` entity).
pub async fn run<S, I, Z>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> JobResult
where
    S: Store,
    I: ProfileDirectory,
    Z: Helpdesk + ProfileDirectory,
{
    let Some(cfg) = p.config.profiles.as_ref() else {
        return Ok(Outcome::Skipped("profile sync is not configured".into()));
    };
    let Some((side, kind, id)) = Kind::of_entity(&event.entity) else {
        return Err(crate::wrong_entity(event, "a contact, company, user or organization"));
    };
    if kind == Kind::Org && cfg.companies.is_none() {
        return Ok(Outcome::Skipped("company sync is not configured".into()));
    }
    if side == Vendor::Zendesk && actor_is_own(p, event).await {
        return Ok(Outcome::LoopSuppressed(format!("{}: changed by the bridge's own user", event.entity)));
    }
    let sync = Sync::new(p, cfg);
    let Some(profile) = p.side(side).get(kind, &id).await? else {
        return Ok(Outcome::Skipped(format!("{} no longer exists", event.entity)));
    };
    describe(&event.entity.to_string(), sync.sync_profile(profile, true).await?)
}

fn describe(entity: &str, r: Result<PairOutcome, Skip>) -> JobResult {
    Ok(match r {
        Ok(o) => Outcome::Done(format!(
            "{entity}: {} field(s) to intercom, {} to zendesk, {} conflict(s), {} cast failure(s){}",
            o.to_intercom,
            o.to_zendesk,
            o.conflicts,
            o.cast_failures,
            if o.created_peer { ", peer created" } else { "" }
        )),
        Err(Skip::Echo(why)) => Outcome::LoopSuppressed(format!("{entity}: {why}")),
        Err(Skip::Ambiguous(ids)) => Outcome::Skipped(format!("{entity}: ambiguous match ({} candidates)", ids.len())),
        Err(Skip::Gone) => Outcome::Skipped(format!("{entity} no longer exists")),
        Err(Skip::OutOfScope(why)) => Outcome::Skipped(format!("{entity}: {why}")),
        Err(Skip::NoPeer) => Outcome::Skipped(format!("{entity}: no peer and create_missing is off")),
    })
}

/// The Zendesk actor of an event payload is the bridge's own user.
async fn actor_is_own<S, I, Z: Helpdesk>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> bool {
    let actor = event.payload.pointer("/detail/actor_id").and_then(|v| match v {
        serde_json::Value::String(s) => s.parse::<u64>().ok(),
        serde_json::Value::Number(n) => n.as_u64(),
        _ => None,
    });
    let Some(actor) = actor else { return false };
    match p.zendesk.own_user_id().await {
        Ok(own) => own.get() == actor,
        Err(_) => false,
    }
}

/// One sync run's context.
pub struct Sync<'a, S, I, Z> {
    /// The store.
    pub store: &'a S,
    /// Intercom's directory.
    pub intercom: &'a I,
    /// Zendesk's directory.
    pub zendesk: &'a Z,
    /// The `profiles:` section.
    pub cfg: &'a ProfilesConfig,
    /// Now.
    pub now: Timestamp,
}

impl<S, I, Z> std::fmt::Debug for Sync<'_, S, I, Z> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sync").field("now", &self.now).finish_non_exhaustive()
    }
}

fn conflict(detail: String) -> JobError {
    JobError::Retry { after: Some(BUSY_RETRY), source: PortError::Conflict { service: Service::Store, detail } }
}

impl<'a, S: Store, I: ProfileDirectory, Z: ProfileDirectory> Sync<'a, S, I, Z> {
    /// The context of a run over `p`'s adapters.
    pub fn new(p: &Ports<'a, S, I, Z>, cfg: &'a ProfilesConfig) -> Self {
        Self { store: p.store, intercom: p.intercom, zendesk: p.zendesk, cfg, now: p.clock.now() }
    }

    /// One side's directory.
    fn dir(&self, side: Vendor) -> Side<'a, I, Z> {
        match side {
            Vendor::Intercom => Side::Intercom(self.intercom),
            Vendor::Zendesk => Side::Zendesk(self.zendesk),
        }
    }

    fn mapping(&self, kind: Kind) -> Option<&'a KindMapping> {
        self.cfg.mapping(kind)
    }

    /// Loads the pair state for an Intercom id.
    async fn load_state(&self, kind: Kind, intercom_id: &str) -> Result<(PairState, Option<u64>), JobError> {
        let key = DocKey::Profile { side: Vendor::Intercom, kind, id: intercom_id.to_string() };
        Ok(match self.store.load::<PairState>(&key).await? {
            Some(v) => (v.value, Some(v.version)),
            None => (PairState::default(), None),
        })
    }

    /// The Intercom id a Zendesk record is paired with, if stored.
    async fn pointer(&self, kind: Kind, zendesk_id: &str) -> Result<Option<String>, JobError> {
        let key = DocKey::Profile { side: Vendor::Zendesk, kind, id: zendesk_id.to_string() };
        Ok(self.store.load::<Pointer>(&key).await?.map(|p| p.value.intercom_id))
    }

    /// Syncs one profile with its peer. `guard`: drop the bridge's own echo first.
    pub async fn sync_profile(&self, src: Profile, guard: bool) -> PairResult {
        let kind = src.kind;
        let Some(mapping) = self.mapping(kind) else {
            return Ok(Err(Skip::OutOfScope("company sync is not configured")));
        };
        if let Some(why) = out_of_scope(self.cfg, &src) {
            return Ok(Err(Skip::OutOfScope(why)));
        }
        if guard {
            let (written, _) = load_written(self.store, &DocKey::written_profile(src.side, src.kind, &src.id)).await?;
            let fp = profiles::mapped_fingerprint(mapping, &src);
            if loop_guard::judge(&written, GUARD_FIELD, &fp, false).is_echo() {
                return Ok(Err(Skip::Echo("values equal the bridge's last write")));
            }
        }
        // Which Intercom id holds the state.
        let known_ic = match src.side {
            Vendor::Intercom => Some(src.id.clone()),
            Vendor::Zendesk => self.pointer(kind, &src.id).await?,
        };
        let (state, version) = match &known_ic {
            Some(ic) => self.load_state(kind, ic).await?,
            None => (PairState::default(), None),
        };
        let peer_side = src.side.other();
        let stored_peer = match peer_side {
            Vendor::Intercom => known_ic.clone().filter(|_| src.side == Vendor::Zendesk),
            Vendor::Zendesk => state.zendesk_id.clone(),
        };
        let mut created_peer = false;
        let peer = match self.find_peer(&src, stored_peer).await? {
            PeerMatch::Found { id, .. } => match self.dir(peer_side).get(kind, &id).await? {
                Some(p) => p,
                None => return Ok(Err(Skip::Gone)),
            },
            PeerMatch::Ambiguous { by, ids } => {
                let doc = Ambiguity { by, candidates: ids.clone(), at: self.now };
                let key = DocKey::ProfileAmbiguous { side: src.side, kind: src.kind, id: src.id.clone() };
                let old = self.store.load::<Ambiguity>(&key).await?.map(|v| v.version);
                let _ = self.store.save(&key, &doc, old).await?;
                tracing::warn!(entity = %src.entity(), candidates = ids.len(), by = ?by, "ambiguous profile match");
                return Ok(Err(Skip::Ambiguous(ids)));
            }
            PeerMatch::None if !self.cfg.create_missing => return Ok(Err(Skip::NoPeer)),
            PeerMatch::None => {
                created_peer = true;
                self.create_peer(mapping, &src).await?
            }
        };
        let (ic, zd) = match src.side {
            Vendor::Intercom => (src, peer),
            Vendor::Zendesk => (peer, src),
        };
        // A pair found for the first time on the Zendesk side may already have state.
        let (state, version) = if known_ic.as_deref() == Some(ic.id.as_str()) {
            (state, version)
        } else {
            self.load_state(kind, &ic.id).await?
        };
        self.settle_pair(mapping, ic, zd, state, version, created_peer).await
    }

    async fn find_peer(&self, src: &Profile, stored: Option<String>) -> Result<PeerMatch, JobError> {
        let peer_dir = self.dir(src.side.other());
        // The stored id, or the id the bridge wrote on the record, if it still exists.
        let written_id = match (src.kind, self.cfg.id_field(src.side)) {
            (Kind::Person, Some(f)) => src.text(&f).map(str::to_string),
            _ => None,
        };
        for id in [stored, written_id].into_iter().flatten() {
            if peer_dir.get(src.kind, &id).await?.is_some() {
                return Ok(profiles::match_peer(src, &Candidates { stored: Some(id), ..Candidates::default() }));
            }
        }
        let mut c = Candidates::default();
        if let Some(ext) = src.external_id() {
            c.by_external_id = peer_dir.find_by_external_id(src.kind, ext).await?;
        }
        let ext_found = src.external_id().is_some_and(|e| c.by_external_id.iter().any(|p| p.external_id() == Some(e)));
        if src.kind == Kind::Person
            && !ext_found
            && let Some(email) = src.email()
        {
            c.by_email = peer_dir.find_by_email(&profiles::normalise_email(email)).await?;
            c.by_email.retain(|p| out_of_scope(self.cfg, p).is_none());
        }
        Ok(profiles::match_peer(src, &c))
    }

    /// Creates the peer with the matching keys and every value that may flow from `src`.
    async fn create_peer(&self, mapping: &KindMapping, src: &Profile) -> Result<Profile, JobError> {
        let values = peer_values(self.cfg, mapping, src, self.now);
        Ok(self.dir(src.side.other()).write(src.kind, None, &values).await?)
    }

    /// Decides and writes a matched pair, then saves its state.
    async fn settle_pair(
        &self,
        mapping: &KindMapping,
        ic: Profile,
        zd: Profile,
        mut state: PairState,
        version: Option<u64>,
        created_peer: bool,
    ) -> PairResult {
        let kind = ic.kind;
        let plan = profiles::plan(mapping, &self.cfg.conflicts, &ic, &zd, &state.baseline, self.now);
        let mut to_ic = plan.intercom.values.clone();
        let mut to_zd = plan.zendesk.values.clone();
        if kind == Kind::Person {
            if let Some(f) = self.cfg.id_field(Vendor::Intercom)
                && ic.text(&f) != Some(zd.id.as_str())
            {
                to_ic.insert(f, FieldValue::Text(zd.id.clone()));
            }
            if let Some(f) = self.cfg.id_field(Vendor::Zendesk)
                && zd.text(&f) != Some(ic.id.as_str())
            {
                to_zd.insert(f, FieldValue::Text(ic.id.clone()));
            }
        }
        let outcome = PairOutcome {
            to_intercom: plan.intercom.values.len(),
            to_zendesk: plan.zendesk.values.len(),
            conflicts: plan
                .audit
                .iter()
                .filter(|a| matches!(a.rule, Rule::Owner | Rule::NewestWins | Rule::Tie))
                .count(),
            cast_failures: plan.audit.iter().filter(|a| a.rule == Rule::CastFailed).count(),
            created_peer,
        };
        for a in &plan.audit {
            tracing::info!(ic_id = %ic.id, zd_id = %zd.id, field = %a.field, rule = ?a.rule, winner = ?a.winner, "profile field decided");
        }
        if !to_ic.is_empty() {
            let after = self.intercom.write(kind, Some(&ic.id), &to_ic).await?;
            let fp = profiles::mapped_fingerprint(mapping, &after);
            let key = DocKey::written_profile(Vendor::Intercom, kind, &after.id);
            record_written(self.store, &key, GUARD_FIELD, Some(fp)).await?;
        }
        if !to_zd.is_empty() {
            let after = self.zendesk.write(kind, Some(&zd.id), &to_zd).await?;
            let fp = profiles::mapped_fingerprint(mapping, &after);
            let key = DocKey::written_profile(Vendor::Zendesk, kind, &after.id);
            record_written(self.store, &key, GUARD_FIELD, Some(fp)).await?;
        }
        if kind == Kind::Person && self.cfg.companies.is_some() {
            self.sync_membership(&ic, &zd).await?;
        }
        let new_pair = state.zendesk_id.as_deref() != Some(zd.id.as_str());
        state.intercom_id = Some(ic.id.clone());
        state.zendesk_id = Some(zd.id.clone());
        state.baseline = plan.baseline;
        state.push_audit(plan.audit);
        state.synced_at = self.now;
        let key = DocKey::Profile { side: Vendor::Intercom, kind, id: ic.id.clone() };
        if !self.store.save(&key, &state, version).await? {
            return Err(conflict(format!("{key} changed during the sync")));
        }
        if new_pair {
            let ptr = DocKey::Profile { side: Vendor::Zendesk, kind, id: zd.id.clone() };
            let old = self.store.load::<Pointer>(&ptr).await?.map(|v| v.version);
            let _ = self.store.save(&ptr, &Pointer { intercom_id: ic.id.clone() }, old).await?;
        }
        Ok(Ok(outcome))
    }

    /// Company membership: the contact's first company becomes the user's organization when the
    /// user has none; the user's organization is attached to the contact when missing.
    async fn sync_membership(&self, ic: &Profile, zd: &Profile) -> Result<(), JobError> {
        if let Some(company) = ic.orgs.first()
            && zd.orgs.is_empty()
            && let Some(org) = self.org_peer(Vendor::Intercom, company).await?
        {
            self.zendesk.join_org(&zd.id, &org).await?;
        }
        if let Some(org) = zd.orgs.first()
            && let Some(company) = self.org_peer(Vendor::Zendesk, org).await?
            && !ic.orgs.contains(&company)
        {
            self.intercom.join_org(&ic.id, &company).await?;
        }
        Ok(())
    }

    /// The peer id of an organization, syncing it first when it has no pair yet.
    async fn org_peer(&self, side: Vendor, id: &str) -> Result<Option<String>, JobError> {
        let ic_id = match side {
            Vendor::Intercom => Some(id.to_string()),
            Vendor::Zendesk => self.pointer(Kind::Org, id).await?,
        };
        if let Some(ic_id) = &ic_id {
            let (state, _) = self.load_state(Kind::Org, ic_id).await?;
            let peer = if side == Vendor::Intercom { state.zendesk_id } else { state.intercom_id };
            if peer.is_some() {
                return Ok(peer);
            }
        }
        let Some(org) = self.dir(side).get(Kind::Org, id).await? else { return Ok(None) };
        // Organizations have no membership of their own: this recursion is one level deep.
        let result = Box::pin(self.sync_profile(org, false)).await?;
        if result.is_err() {
            return Ok(None);
        }
        let ic_id = match side {
            Vendor::Intercom => Some(id.to_string()),
            Vendor::Zendesk => self.pointer(Kind::Org, id).await?,
        };
        let Some(ic_id) = ic_id else { return Ok(None) };
        let (state, _) = self.load_state(Kind::Org, &ic_id).await?;
        Ok(if side == Vendor::Intercom { state.zendesk_id } else { state.intercom_id })
    }
}

trait SidePrefix {
    fn side_prefix(&self) -> &'static str;
}

impl SidePrefix for Profile {
    fn side_prefix(&self) -> &'static str {
        match self.side {
            Vendor::Intercom => "intercom",
            Vendor::Zendesk => "zendesk",
        }
    }
}

/// The values a new peer of `src` is created with, in the other side's field paths: the
/// matching keys (name, email, external id; organizations without an external id get
/// `<side>-<id>`) and every mapped value that may flow from `src`.
pub fn peer_values(
    cfg: &ProfilesConfig,
    mapping: &KindMapping,
    src: &Profile,
    now: Timestamp,
) -> BTreeMap<String, FieldValue> {
    let to = src.side.other();
    let mut values: BTreeMap<String, FieldValue> = BTreeMap::new();
    let keys: &[&str] = match src.kind {
        Kind::Person => &["name", "email", "external_id"],
        Kind::Org => &["name", "external_id"],
    };
    for k in keys {
        if let Some(v) = src.values.get(*k).filter(|v| **v != FieldValue::Null) {
            values.insert((*k).to_string(), v.clone());
        }
    }
    if src.kind == Kind::Org && !values.contains_key("external_id") {
        // Organizations are matched on external id: use the other side's id.
        values.insert("external_id".into(), FieldValue::Text(format!("{}-{}", src.side_prefix(), src.id)));
    }
    let (ic_view, zd_view) = empty_pair(src);
    let plan = profiles::plan(mapping, &cfg.conflicts, &ic_view, &zd_view, &BTreeMap::new(), now);
    let writes = if to == Vendor::Zendesk { plan.zendesk.values } else { plan.intercom.values };
    values.extend(writes);
    values
}

/// The pair as seen when the peer does not exist yet (an empty profile on the other side).
fn empty_pair(src: &Profile) -> (Profile, Profile) {
    let empty = Profile {
        side: src.side.other(),
        kind: src.kind,
        id: String::new(),
        values: BTreeMap::new(),
        orgs: Vec::new(),
        role: None,
        updated_at: Timestamp(0),
    };
    match src.side {
        Vendor::Intercom => (src.clone(), empty),
        Vendor::Zendesk => (empty, src.clone()),
    }
}

/// Why a profile is not synced at all, if it is not.
pub fn out_of_scope(cfg: &ProfilesConfig, p: &Profile) -> Option<&'static str> {
    if p.kind != Kind::Person {
        return None;
    }
    match (p.side, p.role.as_deref()) {
        (Vendor::Intercom, Some("lead")) if !cfg.include_leads => Some("leads are not synced"),
        (Vendor::Zendesk, Some(role)) if role != "end-user" => Some("agents and admins are not synced"),
        _ => None,
    }
}
