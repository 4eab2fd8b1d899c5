//! Profiles and erasure in a shadow run: reads go through, every profile write is recorded as a
//! planned [`Action`] and answered with the profile as it would be afterwards (kept in an
//! overlay, so later reads in the same run see it); deletions and dead-letter purges are
//! recorded, never made.

use std::collections::BTreeMap;

use bridge_domain::erasure::{DeadLetterPurge, PersonEraser};
use bridge_domain::event::{Entity, Kind, Vendor};
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::PortResult;
use bridge_domain::profiles::directory::{
    BulkPoll, BulkRecord, BulkStarted, ProfileDirectory, ProfilePage, RateObservation,
};
use bridge_domain::profiles::{CatalogField, Profile};

use super::{Action, Plan, Shadowed};

fn side_name(side: Vendor) -> &'static str {
    match side {
        Vendor::Intercom => "intercom",
        Vendor::Zendesk => "zendesk",
    }
}

impl<D> Shadowed<'_, D> {
    fn overlay(&self, kind: Kind, id: &str) -> Option<Profile> {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).get(&(kind, id.to_string())).cloned()
    }
    fn remember(&self, profile: Profile) {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).insert((profile.kind, profile.id.clone()), profile);
    }
}

impl<D: ProfileDirectory> ProfileDirectory for Shadowed<'_, D> {
    fn side(&self) -> Vendor {
        self.inner.side()
    }
    async fn get(&self, kind: Kind, id: &str) -> PortResult<Option<Profile>> {
        match self.overlay(kind, id) {
            Some(p) => Ok(Some(p)),
            None => self.inner.get(kind, id).await,
        }
    }
    async fn find_by_external_id(&self, kind: Kind, external_id: &str) -> PortResult<Vec<Profile>> {
        self.inner.find_by_external_id(kind, external_id).await
    }
    async fn find_by_email(&self, email: &str) -> PortResult<Vec<Profile>> {
        self.inner.find_by_email(email).await
    }
    async fn write(&self, kind: Kind, id: Option<&str>, values: &BTreeMap<String, FieldValue>) -> PortResult<Profile> {
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
    }
    async fn join_org(&self, person: &str, org: &str) -> PortResult<()> {
        self.plan.record(Action::JoinOrganization {
            side: side_name(self.inner.side()),
            person: person.to_string(),
            org: org.to_string(),
        });
        Ok(())
    }
    async fn changed_since(&self, kind: Kind, since: Timestamp, cursor: Option<&str>) -> PortResult<ProfilePage> {
        self.inner.changed_since(kind, since, cursor).await
    }
    async fn list_page(&self, kind: Kind, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
        self.inner.list_page(kind, cursor, per_page).await
    }
    async fn start_many(&self, kind: Kind, records: &[BulkRecord]) -> PortResult<BulkStarted> {
        let side = self.inner.side();
        self.plan.record(Action::WriteProfiles {
            side: side_name(side),
            entity: kind.entity_word(side),
            count: records.len(),
        });
        Ok(BulkStarted::Done(records.iter().map(|_| Some(format!("shadow-{}", self.plan.stand_in_id()))).collect()))
    }
    async fn poll_many(&self, _job: &str, _records: usize) -> PortResult<BulkPoll> {
        // Shadow bulk writes finish at once ([`BulkStarted::Done`]): there is no job to poll.
        Ok(BulkPoll::Gone)
    }
    async fn poll_jobs(&self, jobs: &[(&str, usize)]) -> PortResult<Vec<BulkPoll>> {
        // As `poll_many`: nothing to poll, and no call made.
        Ok(vec![BulkPoll::Gone; jobs.len()])
    }
    async fn catalog(&self, kind: Kind) -> PortResult<Vec<CatalogField>> {
        self.inner.catalog(kind).await
    }
    fn rate_limit(&self) -> Option<RateObservation> {
        self.inner.rate_limit()
    }
}

impl<E: PersonEraser> PersonEraser for Shadowed<'_, E> {
    fn side(&self) -> Vendor {
        self.inner.side()
    }
    async fn delete_person(&self, id: &str) -> PortResult<bool> {
        self.plan.record(Action::DeletePerson { side: side_name(self.inner.side()), id: id.to_string() });
        Ok(true)
    }
}

/// The dead-letter queues in a shadow run: a purge is recorded, nothing is removed.
#[derive(Debug)]
pub struct ShadowDeadLetters<'a> {
    pub(super) plan: &'a Plan,
}

impl DeadLetterPurge for ShadowDeadLetters<'_> {
    async fn purge_dead_letters(
        &self,
        _matches: &(dyn Fn(&Entity, &serde_json::Value) -> bool + Send + Sync),
    ) -> PortResult<usize> {
        self.plan.record(Action::PurgeDeadLetters);
        Ok(0)
    }
}
