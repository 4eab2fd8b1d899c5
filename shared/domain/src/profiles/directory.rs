//! The port job 2 reads and writes profiles through, implemented by both vendor clients.
//!
//! The jobs run one symmetric algorithm over both sides: generic code takes the two
//! directories as type parameters and picks a side at run time through an enum of the two.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{CatalogField, Profile};
use crate::event::Kind;
use crate::event::Vendor;
use crate::model::{FieldValue, Timestamp};
use crate::ports::PortResult;

/// One page of a listing or of changes since a time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfilePage {
    /// The profiles on the page.
    pub items: Vec<Profile>,
    /// Where the next page starts (None = this was the last page).
    pub next: Option<String>,
    /// How many profiles the whole listing holds, when the vendor says (progress and ETA).
    pub total: Option<u64>,
}

/// What the vendor's rate-limit headers last said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RateObservation {
    /// Requests allowed per window.
    pub limit: Option<u32>,
    /// Requests left in the window.
    pub remaining: Option<u32>,
    /// Unix milliseconds at which the window refills.
    pub reset_at_ms: Option<i64>,
}

/// A record written in bulk: the values to set, matched on `external_id` (or `email`).
pub type BulkRecord = BTreeMap<String, FieldValue>;

/// What starting a bulk write gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkStarted {
    /// Written already (a vendor without bulk jobs): per record, the id on success.
    Done(Vec<Option<String>>),
    /// A vendor job (Zendesk `job_status` id) to poll with [`ProfileDirectory::poll_many`].
    Job(String),
}

/// Jobs one [`ProfileDirectory::poll_jobs`] call may ask about (Zendesk's `show_many` takes up
/// to 100 ids).
pub const MAX_JOBS_PER_POLL: usize = 100;

/// A polled bulk job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkPoll {
    /// Queued or working.
    Running,
    /// Finished: per record of the started batch, the id on success.
    Done(Vec<Option<String>>),
    /// The vendor no longer knows the job (Zendesk keeps job statuses for about an hour): its
    /// records were accepted, their outcome is unknown.
    Gone,
}

/// Profiles on one side.
pub trait ProfileDirectory: Send + Sync {
    /// Which side this is.
    fn side(&self) -> Vendor;
    /// A profile by id; `None` when it does not exist (or was merged away).
    fn get(&self, kind: Kind, id: &str) -> impl Future<Output = PortResult<Option<Profile>>> + Send;
    /// Profiles with this external id.
    fn find_by_external_id(
        &self,
        kind: Kind,
        external_id: &str,
    ) -> impl Future<Output = PortResult<Vec<Profile>>> + Send;
    /// Persons with this email.
    fn find_by_email(&self, email: &str) -> impl Future<Output = PortResult<Vec<Profile>>> + Send;
    /// Writes values (side field paths) onto a profile, or creates one when `id` is `None`.
    /// Returns the profile as stored afterwards.
    fn write(
        &self,
        kind: Kind,
        id: Option<&str>,
        values: &BTreeMap<String, FieldValue>,
    ) -> impl Future<Output = PortResult<Profile>> + Send;
    /// Makes `person` a member of `org` (its default organization on Zendesk).
    fn join_org(&self, person: &str, org: &str) -> impl Future<Output = PortResult<()>> + Send;
    /// Profiles changed at or after `since`, one page at a time from `cursor`. May return
    /// profiles changed somewhat earlier (Intercom rounds to the day); never fewer.
    fn changed_since(
        &self,
        kind: Kind,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> impl Future<Output = PortResult<ProfilePage>> + Send;
    /// Every profile, one page of about `per_page` at a time from `cursor` (backfill).
    fn list_page(
        &self,
        kind: Kind,
        cursor: Option<&str>,
        per_page: u32,
    ) -> impl Future<Output = PortResult<ProfilePage>> + Send;
    /// Starts creating or updating up to 100 profiles at once (Zendesk
    /// `create_or_update_many`: one job, returned without waiting for it; a vendor without bulk
    /// writes writes them one by one and answers [`BulkStarted::Done`]).
    fn start_many(&self, kind: Kind, records: &[BulkRecord]) -> impl Future<Output = PortResult<BulkStarted>> + Send;
    /// Polls a job from [`ProfileDirectory::start_many`] once; `records` is the size of the
    /// batch it was started with. Directories without jobs answer [`BulkPoll::Gone`].
    fn poll_many(&self, job: &str, records: usize) -> impl Future<Output = PortResult<BulkPoll>> + Send {
        let _ = (job, records);
        async { Ok(BulkPoll::Gone) }
    }
    /// Polls several jobs from [`ProfileDirectory::start_many`] at once: `jobs` holds each job's
    /// id and the size of the batch it was started with; the answer holds one [`BulkPoll`] per
    /// job, in the same order. Zendesk answers up to [`MAX_JOBS_PER_POLL`] jobs with one call
    /// (`GET /job_statuses/show_many`); this default polls each with
    /// [`ProfileDirectory::poll_many`].
    fn poll_jobs(&self, jobs: &[(&str, usize)]) -> impl Future<Output = PortResult<Vec<BulkPoll>>> + Send {
        async move {
            let mut out = Vec::with_capacity(jobs.len());
            for (job, records) in jobs {
                out.push(self.poll_many(job, *records).await?);
            }
            Ok(out)
        }
    }
    /// The custom-field catalog of a kind.
    fn catalog(&self, kind: Kind) -> impl Future<Output = PortResult<Vec<CatalogField>>> + Send;
    /// The last rate-limit headers seen, if any.
    fn rate_limit(&self) -> Option<RateObservation>;
}
