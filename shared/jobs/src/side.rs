//! One side's adapter, chosen at run time. Job 2 and erasure run one algorithm for both
//! directions; [`Side`] lets that code hold "the source" and "the peer" without boxing the
//! ports: it is a directory (and an eraser) itself, forwarding to the side it holds.

use std::collections::BTreeMap;

use bridge_domain::erasure::PersonEraser;
use bridge_domain::event::{Kind, Vendor};
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::PortResult;
use bridge_domain::profiles::directory::{
    BulkPoll, BulkRecord, BulkStarted, ProfileDirectory, ProfilePage, RateObservation,
};
use bridge_domain::profiles::{CatalogField, Profile};

/// Intercom's or Zendesk's adapter.
#[derive(Debug)]
pub enum Side<'a, I, Z> {
    /// Intercom.
    Intercom(&'a I),
    /// Zendesk.
    Zendesk(&'a Z),
}

impl<I, Z> Clone for Side<'_, I, Z> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, Z> Copy for Side<'_, I, Z> {}

/// Calls `$call` on whichever adapter the side holds.
macro_rules! either {
    ($side:expr, $d:ident => $call:expr) => {
        match $side {
            Side::Intercom($d) => $call,
            Side::Zendesk($d) => $call,
        }
    };
}

impl<I: ProfileDirectory, Z: ProfileDirectory> ProfileDirectory for Side<'_, I, Z> {
    fn side(&self) -> Vendor {
        match self {
            Side::Intercom(_) => Vendor::Intercom,
            Side::Zendesk(_) => Vendor::Zendesk,
        }
    }
    async fn get(&self, kind: Kind, id: &str) -> PortResult<Option<Profile>> {
        either!(self, d => d.get(kind, id).await)
    }
    async fn find_by_external_id(&self, kind: Kind, external_id: &str) -> PortResult<Vec<Profile>> {
        either!(self, d => d.find_by_external_id(kind, external_id).await)
    }
    async fn find_by_email(&self, email: &str) -> PortResult<Vec<Profile>> {
        either!(self, d => d.find_by_email(email).await)
    }
    async fn write(&self, kind: Kind, id: Option<&str>, values: &BTreeMap<String, FieldValue>) -> PortResult<Profile> {
        either!(self, d => d.write(kind, id, values).await)
    }
    async fn join_org(&self, person: &str, org: &str) -> PortResult<()> {
        either!(self, d => d.join_org(person, org).await)
    }
    async fn changed_since(&self, kind: Kind, since: Timestamp, cursor: Option<&str>) -> PortResult<ProfilePage> {
        either!(self, d => d.changed_since(kind, since, cursor).await)
    }
    async fn list_page(&self, kind: Kind, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
        either!(self, d => d.list_page(kind, cursor, per_page).await)
    }
    async fn start_many(&self, kind: Kind, records: &[BulkRecord]) -> PortResult<BulkStarted> {
        either!(self, d => d.start_many(kind, records).await)
    }
    async fn poll_many(&self, job: &str, records: usize) -> PortResult<BulkPoll> {
        either!(self, d => d.poll_many(job, records).await)
    }
    async fn poll_jobs(&self, jobs: &[(&str, usize)]) -> PortResult<Vec<BulkPoll>> {
        either!(self, d => d.poll_jobs(jobs).await)
    }
    async fn catalog(&self, kind: Kind) -> PortResult<Vec<CatalogField>> {
        either!(self, d => d.catalog(kind).await)
    }
    fn rate_limit(&self) -> Option<RateObservation> {
        either!(self, d => d.rate_limit())
    }
}

impl<I: PersonEraser, Z: PersonEraser> PersonEraser for Side<'_, I, Z> {
    fn side(&self) -> Vendor {
        match self {
            Side::Intercom(_) => Vendor::Intercom,
            Side::Zendesk(_) => Vendor::Zendesk,
        }
    }
    async fn delete_person(&self, id: &str) -> PortResult<bool> {
        either!(self, d => d.delete_person(id).await)
    }
}
