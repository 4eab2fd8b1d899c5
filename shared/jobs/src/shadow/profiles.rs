//! Job 2's profile directories in a shadow run: reads go through, every write is recorded as a
//! planned [`Action`] and answered with the profile as it would be afterwards (kept in an overlay,
//! so later reads in the same run see it).

use std::collections::BTreeMap;
use std::sync::Mutex;

use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::profiles::directory::{
    BulkRecord, BulkStarted, DirFuture, ProfileDirectory, ProfilePage, RateObservation,
};
use bridge_domain::profiles::{CatalogField, Profile};

use super::{Action, Plan};

/// One side's directory, reading through and recording writes.
pub struct ShadowDirectory<'a> {
    inner: &'a dyn ProfileDirectory,
    plan: &'a Plan,
    written: Mutex<BTreeMap<(Kind, String), Profile>>,
}

impl std::fmt::Debug for ShadowDirectory<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShadowDirectory")
    }
}

impl<'a> ShadowDirectory<'a> {
    /// Wraps `inner`, recording into `plan`.
    pub fn new(inner: &'a dyn ProfileDirectory, plan: &'a Plan) -> Self {
        Self { inner, plan, written: Mutex::default() }
    }
    fn overlay(&self, kind: Kind, id: &str) -> Option<Profile> {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).get(&(kind, id.to_string())).cloned()
    }
    fn remember(&self, profile: Profile) {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).insert((profile.kind, profile.id.clone()), profile);
    }
}

fn side_name(side: Vendor) -> &'static str {
    if side == Vendor::Intercom { "intercom" } else { "zendesk" }
}

impl ProfileDirectory for ShadowDirectory<'_> {
    fn side(&self) -> Vendor {
        self.inner.side()
    }
    fn get<'b>(&'b self, kind: Kind, id: &'b str) -> DirFuture<'b, Option<Profile>> {
        Box::pin(async move {
            match self.overlay(kind, id) {
                Some(p) => Ok(Some(p)),
                None => self.inner.get(kind, id).await,
            }
        })
    }
    fn find_by_external_id<'b>(&'b self, kind: Kind, external_id: &'b str) -> DirFuture<'b, Vec<Profile>> {
        self.inner.find_by_external_id(kind, external_id)
    }
    fn find_by_email<'b>(&'b self, email: &'b str) -> DirFuture<'b, Vec<Profile>> {
        self.inner.find_by_email(email)
    }
    fn write<'b>(
        &'b self,
        kind: Kind,
        id: Option<&'b str>,
        values: &'b BTreeMap<String, FieldValue>,
    ) -> DirFuture<'b, Profile> {
        Box::pin(async move {
            let side = self.inner.side();
            self.plan.record(Action::WriteProfile {
                side: side_name(side),
                entity: kind.entity_word(side),
                id: id.map(str::to_string),
                fields: values.keys().cloned().collect(),
            });
            let before = match id {
                Some(id) => self.get(kind, id).await?,
                None => None,
            };
            let mut profile = before.unwrap_or_else(|| Profile {
                side,
                kind,
                id: format!("shadow-{}", self.plan.stand_in_id()),
                values: BTreeMap::new(),
                orgs: Vec::new(),
                role: None,
                updated_at: Timestamp::default(),
            });
            profile.values.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
            self.remember(profile.clone());
            Ok(profile)
        })
    }
    fn join_org<'b>(&'b self, person: &'b str, org: &'b str) -> DirFuture<'b, ()> {
        let side = self.inner.side();
        self.plan.record(Action::JoinOrganization {
            side: side_name(side),
            person: person.to_string(),
            org: org.to_string(),
        });
        Box::pin(async { Ok(()) })
    }
    fn changed_since<'b>(
        &'b self,
        kind: Kind,
        since: Timestamp,
        cursor: Option<&'b str>,
    ) -> DirFuture<'b, ProfilePage> {
        self.inner.changed_since(kind, since, cursor)
    }
    fn list_page<'b>(&'b self, kind: Kind, cursor: Option<&'b str>, per_page: u32) -> DirFuture<'b, ProfilePage> {
        self.inner.list_page(kind, cursor, per_page)
    }
    fn start_many<'b>(&'b self, kind: Kind, records: &'b [BulkRecord]) -> DirFuture<'b, BulkStarted> {
        let side = self.inner.side();
        self.plan.record(Action::WriteProfiles {
            side: side_name(side),
            entity: kind.entity_word(side),
            count: records.len(),
        });
        let ids = records.iter().map(|_| Some(format!("shadow-{}", self.plan.stand_in_id()))).collect();
        Box::pin(async move { Ok(BulkStarted::Done(ids)) })
    }
    fn catalog(&self, kind: Kind) -> DirFuture<'_, Vec<CatalogField>> {
        self.inner.catalog(kind)
    }
    fn rate_limit(&self) -> Option<RateObservation> {
        self.inner.rate_limit()
    }
}
