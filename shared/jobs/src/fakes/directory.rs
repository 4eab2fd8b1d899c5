//! One vendor's profiles in memory (job 2 and erasure): records by kind and id, a logical clock
//! for `updated_at`, every write and deletion recorded. Held by [`super::FakeIntercom`] and
//! [`super::FakeZendesk`], which answer the directory and eraser ports with it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bridge_domain::event::{Kind, Vendor};
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::{PortError, PortResult, Service};
use bridge_domain::profiles::directory::{BulkPoll, BulkRecord, BulkStarted, ProfilePage};
use bridge_domain::profiles::{CatalogField, Profile};

/// A fake bulk job: polls still answered `Running`, then the ids.
pub type FakeJob = (u32, Vec<Option<String>>);

/// One side's profiles.
pub struct FakeDirectory {
    side: Vendor,
    /// The profiles by kind and id.
    pub records: Mutex<BTreeMap<(Kind, String), Profile>>,
    next: AtomicU64,
    /// The logical clock of `updated_at` (advances 10 per write).
    pub clock: Mutex<i64>,
    /// How many profile writes were made (bulk records included).
    pub writes: AtomicU64,
    /// Every single write as (id, values), in order.
    pub written: Mutex<Vec<(String, BTreeMap<String, FieldValue>)>>,
    /// Every deletion, in order.
    pub deleted: Mutex<Vec<String>>,
    /// The custom-field catalog.
    pub catalog: Mutex<Vec<CatalogField>>,
    /// When set, bulk writes are jobs (Zendesk-like): id -> (polls answered `Running` before
    /// `Done`, the ids). Unknown ids are `Gone`.
    pub jobs: Mutex<Option<BTreeMap<String, FakeJob>>>,
    /// Calls that polled jobs (one `poll_jobs` call counts once, however many jobs it asks about).
    pub polls: AtomicU64,
}

impl FakeDirectory {
    /// An empty directory of `side`.
    pub fn new(side: Vendor) -> Self {
        Self {
            side,
            records: Mutex::default(),
            next: AtomicU64::new(100),
            clock: Mutex::new(1_000),
            writes: AtomicU64::new(0),
            written: Mutex::default(),
            deleted: Mutex::default(),
            catalog: Mutex::default(),
            jobs: Mutex::default(),
            polls: AtomicU64::new(0),
        }
    }

    /// Which side this is.
    pub fn side(&self) -> Vendor {
        self.side
    }

    fn tick(&self) -> i64 {
        let mut c = self.clock.lock().unwrap();
        *c += 10;
        *c
    }

    fn service(&self) -> Service {
        match self.side {
            Vendor::Intercom => Service::Intercom,
            Vendor::Zendesk => Service::Zendesk,
        }
    }

    /// A human edit (not through the bridge).
    pub fn human_sets(&self, kind: Kind, id: &str, field: &str, v: FieldValue) {
        let at = self.tick();
        let mut r = self.records.lock().unwrap();
        let p = r.get_mut(&(kind, id.to_string())).unwrap();
        p.values.insert(field.into(), v);
        p.updated_at = Timestamp(at);
    }

    /// Adds a profile with a role (`user`, `lead`, `end-user`, `agent`...) and values.
    pub fn seed(&self, kind: Kind, id: &str, role: &str, values: &[(&str, FieldValue)]) {
        let p = Profile {
            side: self.side,
            kind,
            id: id.into(),
            values: values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            orgs: vec![],
            role: Some(role.into()),
            updated_at: Timestamp(self.tick()),
        };
        self.records.lock().unwrap().insert((kind, id.into()), p);
    }

    /// A field of a stored profile.
    pub fn value(&self, kind: Kind, id: &str, field: &str) -> Option<FieldValue> {
        self.records.lock().unwrap().get(&(kind, id.to_string())).and_then(|p| p.values.get(field).cloned())
    }

    /// Every profile of a kind.
    pub fn all(&self, kind: Kind) -> Vec<Profile> {
        self.records.lock().unwrap().values().filter(|p| p.kind == kind).cloned().collect()
    }

    /// Creates (`id` None) or updates a profile; updating one that is gone is not found.
    fn put(&self, kind: Kind, id: Option<&str>, values: &BTreeMap<String, FieldValue>) -> PortResult<Profile> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let at = self.tick();
        let mut r = self.records.lock().unwrap();
        let id = match id {
            Some(id) if !r.contains_key(&(kind, id.to_string())) => {
                return Err(PortError::NotFound { service: self.service(), what: format!("profile {id}") });
            }
            Some(id) => id.to_string(),
            None => self.next.fetch_add(1, Ordering::Relaxed).to_string(),
        };
        let p = r.entry((kind, id.clone())).or_insert_with(|| Profile {
            side: self.side,
            kind,
            id,
            values: BTreeMap::new(),
            orgs: vec![],
            role: Some(if self.side == Vendor::Intercom { "user" } else { "end-user" }.into()),
            updated_at: Timestamp(at),
        });
        p.values.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        p.updated_at = Timestamp(at);
        Ok(p.clone())
    }

    pub(super) fn get(&self, kind: Kind, id: &str) -> Option<Profile> {
        self.records.lock().unwrap().get(&(kind, id.to_string())).cloned()
    }

    pub(super) fn find_by_external_id(&self, kind: Kind, external_id: &str) -> Vec<Profile> {
        self.all(kind).into_iter().filter(|p| p.external_id() == Some(external_id)).collect()
    }

    pub(super) fn find_by_email(&self, email: &str) -> Vec<Profile> {
        self.all(Kind::Person)
            .into_iter()
            .filter(|p| p.email().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .collect()
    }

    pub(super) fn write(
        &self,
        kind: Kind,
        id: Option<&str>,
        values: &BTreeMap<String, FieldValue>,
    ) -> PortResult<Profile> {
        self.written.lock().unwrap().push((id.unwrap_or_default().to_string(), values.clone()));
        self.put(kind, id, values)
    }

    pub(super) fn join_org(&self, person: &str, org: &str) {
        if let Some(p) = self.records.lock().unwrap().get_mut(&(Kind::Person, person.to_string())) {
            p.orgs = vec![org.to_string()];
        }
    }

    pub(super) fn changed_since(&self, kind: Kind, since: Timestamp) -> ProfilePage {
        let items = self.all(kind).into_iter().filter(|p| p.updated_at >= since).collect();
        ProfilePage { items, next: None, total: None }
    }

    /// Pages of `per_page` in id order; the cursor is the offset of the next page.
    pub(super) fn list_page(&self, kind: Kind, cursor: Option<&str>, per_page: u32) -> ProfilePage {
        let all = self.all(kind);
        let from = cursor.and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(all.len());
        let to = from.saturating_add(per_page.max(1) as usize).min(all.len());
        let next = (to < all.len()).then(|| to.to_string());
        ProfilePage { items: all[from..to].to_vec(), next, total: Some(all.len() as u64) }
    }

    pub(super) fn start_many(&self, kind: Kind, records: &[BulkRecord]) -> BulkStarted {
        let out: Vec<Option<String>> = records.iter().map(|r| self.put(kind, None, r).ok().map(|p| p.id)).collect();
        match self.jobs.lock().unwrap().as_mut() {
            Some(jobs) => {
                let id = format!("job-{}", jobs.len() + 1);
                jobs.insert(id.clone(), (1, out));
                BulkStarted::Job(id)
            }
            None => BulkStarted::Done(out),
        }
    }

    pub(super) fn poll_many(&self, job: &str) -> BulkPoll {
        self.polls.fetch_add(1, Ordering::Relaxed);
        self.poll_one(job)
    }

    /// One call about several jobs (Zendesk `show_many`).
    pub(super) fn poll_jobs(&self, jobs: &[(&str, usize)]) -> Vec<BulkPoll> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        jobs.iter().map(|(job, _)| self.poll_one(job)).collect()
    }

    fn poll_one(&self, job: &str) -> BulkPoll {
        match self.jobs.lock().unwrap().as_mut().and_then(|jobs| jobs.get_mut(job)) {
            None => BulkPoll::Gone,
            Some((running, _)) if *running > 0 => {
                *running -= 1;
                BulkPoll::Running
            }
            Some((_, ids)) => BulkPoll::Done(ids.clone()),
        }
    }

    pub(super) fn delete_person(&self, id: &str) -> bool {
        self.deleted.lock().unwrap().push(id.into());
        self.records.lock().unwrap().remove(&(Kind::Person, id.to_string())).is_some()
    }
}

/// Implements [`ProfileDirectory`](bridge_domain::profiles::directory::ProfileDirectory) and
/// [`PersonEraser`](bridge_domain::erasure::PersonEraser) for a fake vendor by its `profiles`.
macro_rules! profiles_of {
    ($fake:ty) => {
        impl bridge_domain::profiles::directory::ProfileDirectory for $fake {
            fn side(&self) -> bridge_domain::event::Vendor {
                self.profiles.side()
            }
            async fn get(
                &self,
                kind: bridge_domain::event::Kind,
                id: &str,
            ) -> bridge_domain::ports::PortResult<Option<bridge_domain::profiles::Profile>> {
                Ok(self.profiles.get(kind, id))
            }
            async fn find_by_external_id(
                &self,
                kind: bridge_domain::event::Kind,
                external_id: &str,
            ) -> bridge_domain::ports::PortResult<Vec<bridge_domain::profiles::Profile>> {
                Ok(self.profiles.find_by_external_id(kind, external_id))
            }
            async fn find_by_email(
                &self,
                email: &str,
            ) -> bridge_domain::ports::PortResult<Vec<bridge_domain::profiles::Profile>> {
                Ok(self.profiles.find_by_email(email))
            }
            async fn write(
                &self,
                kind: bridge_domain::event::Kind,
                id: Option<&str>,
                values: &std::collections::BTreeMap<String, bridge_domain::model::FieldValue>,
            ) -> bridge_domain::ports::PortResult<bridge_domain::profiles::Profile> {
                self.profiles.write(kind, id, values)
            }
            async fn join_org(&self, person: &str, org: &str) -> bridge_domain::ports::PortResult<()> {
                self.profiles.join_org(person, org);
                Ok(())
            }
            async fn changed_since(
                &self,
                kind: bridge_domain::event::Kind,
                since: bridge_domain::model::Timestamp,
                _cursor: Option<&str>,
            ) -> bridge_domain::ports::PortResult<bridge_domain::profiles::directory::ProfilePage> {
                Ok(self.profiles.changed_since(kind, since))
            }
            async fn list_page(
                &self,
                kind: bridge_domain::event::Kind,
                cursor: Option<&str>,
                per_page: u32,
            ) -> bridge_domain::ports::PortResult<bridge_domain::profiles::directory::ProfilePage> {
                Ok(self.profiles.list_page(kind, cursor, per_page))
            }
            async fn start_many(
                &self,
                kind: bridge_domain::event::Kind,
                records: &[bridge_domain::profiles::directory::BulkRecord],
            ) -> bridge_domain::ports::PortResult<bridge_domain::profiles::directory::BulkStarted> {
                Ok(self.profiles.start_many(kind, records))
            }
            async fn poll_many(
                &self,
                job: &str,
                _records: usize,
            ) -> bridge_domain::ports::PortResult<bridge_domain::profiles::directory::BulkPoll> {
                Ok(self.profiles.poll_many(job))
            }
            async fn poll_jobs(
                &self,
                jobs: &[(&str, usize)],
            ) -> bridge_domain::ports::PortResult<Vec<bridge_domain::profiles::directory::BulkPoll>> {
                Ok(self.profiles.poll_jobs(jobs))
            }
            async fn catalog(
                &self,
                _kind: bridge_domain::event::Kind,
            ) -> bridge_domain::ports::PortResult<Vec<bridge_domain::profiles::CatalogField>> {
                Ok(self.profiles.catalog.lock().unwrap().clone())
            }
            fn rate_limit(&self) -> Option<bridge_domain::profiles::directory::RateObservation> {
                None
            }
        }

        impl bridge_domain::erasure::PersonEraser for $fake {
            fn side(&self) -> bridge_domain::event::Vendor {
                self.profiles.side()
            }
            async fn delete_person(&self, id: &str) -> bridge_domain::ports::PortResult<bool> {
                Ok(self.profiles.delete_person(id))
            }
        }
    };
}

pub(crate) use profiles_of;
