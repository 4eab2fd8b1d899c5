//! Bulk backfill for job 2: every Intercom contact into Zendesk, resumable.
//!
//! Pages of at most 100 contacts are read from Intercom (contact search) and written to Zendesk
//! with one `create_or_update_many` job per page. The jobs run on Zendesk's side while the next
//! pages are read and submitted: up to [`MAX_PENDING`] jobs are in flight, and only once no more
//! can be submitted (that many in flight, or every page read) are they polled, all of them with
//! one call (`GET /job_statuses/show_many`), with backoff while none has finished. A job needs
//! two polls at most (the first may find it `working`), so a round that finds the older half
//! finished makes room for the next pages: about 1 + 2 / [`MAX_PENDING`] Zendesk calls per page
//! (one poll per job per round cost 2 to 3 calls a page before), and the backfill runs at the
//! rate limit instead of waiting out each job in turn. Zendesk matches each record on email or external id,
//! so writing a page twice changes nothing: after each submitted page the cursor and the pending
//! job ids are saved in the store (`PROFILE#BACKFILL#contact`), and a crash or a timeout costs
//! at most that one page again (a resumed run polls the stored jobs). Every vendor call goes
//! through the shared [`SharedBudget`]s, so a backfill paces itself under the limits even while
//! the event-driven sync or another backfill runs.
//!
//! The backfill writes Zendesk only: each user gets the configured values that flow from
//! Intercom and the Intercom contact id in its id field. Pair state and the Zendesk id on the
//! contact follow lazily (the next event or reconciliation matches the pair by that id field),
//! which keeps the backfill at a few requests per hundred contacts (one Intercom search, one bulk
//! job and its polls) instead of one per contact.

use std::time::{Duration, Instant};

use bridge_domain::event::Kind;
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::Store;
use bridge_domain::profiles::directory::{BulkPoll, BulkRecord, BulkStarted, MAX_JOBS_PER_POLL, ProfileDirectory};
use serde::{Deserialize, Serialize};

use super::rate::{RateClass, RateStats, SharedBudget};
use super::{out_of_scope, peer_values};
use bridge_domain::keys::DocKey;

use crate::{JobError, Ports};

/// Contacts per page: one Zendesk bulk job holds at most 100 users.
pub const PAGE_SIZE: u32 = 100;
/// Bulk jobs in flight at once (submitted, not yet collected). Zendesk queues at most 30 jobs per
/// account; a job of 100 users finishes within a second or two, so most of these are finished
/// and waiting for the next poll round, and the rest of the 30 stays for everything else using
/// the account. One poll round asks about all of them in one call; 16 makes the polls about
/// 1 / 8 of the Zendesk calls (8 jobs cost 2 to 3 polls each when they were asked one by one),
/// and keeps the stored cursor small (16 x 100 contact ids, about 45 KB).
pub const MAX_PENDING: usize = 16;
/// Wait before the next poll round after one that collected something; while rounds collect
/// nothing the wait doubles up to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(2);
/// How many failed contact ids the cursor keeps for operators.
const FAILED_KEPT: usize = 100;

/// Progress of a backfill, stored after every page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillState {
    /// Cursor of the next Intercom page (None with `done` false: the first page).
    pub next: Option<String>,
    /// Pages read and submitted.
    pub pages: u64,
    /// Contacts read.
    pub read: u64,
    /// Users created or updated.
    pub written: u64,
    /// Contacts not synced (leads, or neither email nor external id to match on).
    pub skipped: u64,
    /// Contacts Zendesk refused.
    pub failed: u64,
    /// Contacts in jobs whose outcome Zendesk no longer knows (a backfill resumed more than
    /// about an hour after it stopped): accepted, not confirmed.
    #[serde(default)]
    pub unconfirmed: u64,
    /// Submitted jobs not yet collected, oldest first.
    #[serde(default)]
    pub pending: Vec<PendingJob>,
    /// The last page has been read (and submitted); `done` once `pending` is empty too.
    #[serde(default)]
    pub read_all: bool,
    /// The first refused contact ids (Intercom ids only).
    #[serde(default)]
    pub failed_ids: Vec<String>,
    /// Contacts in Intercom, as the first page said.
    pub total: Option<u64>,
    /// Every page is written.
    pub done: bool,
    /// When this backfill started.
    pub started_at: Timestamp,
    /// When the last page was written.
    pub updated_at: Timestamp,
}

/// A submitted bulk job and the Intercom ids of its records, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingJob {
    /// Zendesk job id.
    pub job: String,
    /// The Intercom contact id of each record of the job.
    pub sources: Vec<String>,
}

/// How to run a backfill.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// Contacts per page (1 to 100).
    pub page_size: u32,
    /// Intercom's budget class.
    pub intercom: RateClass,
    /// Zendesk's budget class.
    pub zendesk: RateClass,
    /// Stop (paused, resumable; jobs in flight are left for the next run) before starting a
    /// page after this instant, or as soon as a call would have to wait for a rate window that
    /// opens after it: a run never waits for the budget past `stop_at`, so it ends within about
    /// one page's round trips of it.
    pub stop_at: Option<Instant>,
    /// Stop after submitting this many pages in this run.
    pub max_pages: Option<u64>,
    /// Start over even when a previous backfill finished or is halfway.
    pub restart: bool,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        Self {
            page_size: PAGE_SIZE,
            intercom: RateClass::intercom(1666),
            zendesk: RateClass::zendesk(700),
            stop_at: None,
            max_pages: None,
            restart: false,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillEnd {
    /// Every page is written.
    Finished,
    /// Stopped before the deadline or the page cap; run again to continue.
    Paused,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    /// How it ended.
    pub end: BackfillEnd,
    /// The stored progress afterwards.
    pub state: BackfillState,
    /// Pages submitted by this run.
    pub pages_this_run: u64,
    /// Intercom budget use.
    pub intercom: RateStats,
    /// Zendesk budget use.
    pub zendesk: RateStats,
    /// Wall time of this run.
    pub elapsed: Duration,
}

/// The stored progress, if a backfill ever ran.
pub async fn load_state<S: Store>(store: &S) -> Result<Option<BackfillState>, JobError> {
    Ok(store.load::<BackfillState>(&DocKey::ProfileBackfill).await?.map(|v| v.value))
}

/// True when a backfill started and is not finished: what a scheduled continuation resumes.
pub async fn in_progress<S: Store>(store: &S) -> Result<bool, JobError> {
    Ok(load_state(store).await?.is_some_and(|s| !s.done))
}

/// Runs (or resumes) the backfill. `on_page` sees the progress after every stored page.
pub async fn backfill<S: Store, I: ProfileDirectory, Z: ProfileDirectory>(
    p: &Ports<'_, S, I, Z>,
    opts: &BackfillOptions,
    on_page: &mut (dyn FnMut(&BackfillState) + Send),
) -> Result<BackfillReport, JobError> {
    let started = Instant::now();
    let Some(cfg) = p.config.profiles.as_ref() else {
        return Err(JobError::permanent("profile sync is not configured (no `profiles:` section)"));
    };
    let store = p.store;
    let ic_budget = SharedBudget::new(store, opts.intercom.clone());
    let zd_budget = SharedBudget::new(store, opts.zendesk.clone());
    let stored = store.load::<BackfillState>(&DocKey::ProfileBackfill).await?;
    let mut version = stored.as_ref().map(|v| v.version);
    let previous = stored.map(|v| v.value);
    let now = p.clock.now();
    let fresh = previous.is_none() || opts.restart;
    let mut state = match previous {
        Some(s) if !opts.restart => s,
        _ => BackfillState { started_at: now, updated_at: now, ..BackfillState::default() },
    };
    // A new backfill is stored before its first page, so one that pauses at once (its deadline,
    // or a vendor's rate window opening after it) is in progress for the next run to continue.
    if fresh {
        if !store.save(&DocKey::ProfileBackfill, &state, version).await? {
            return Err(JobError::permanent("another backfill moved the cursor: only one backfill may run at a time"));
        }
        version = Some(version.map_or(1, |v| v + 1));
    }
    let report = |end, state: BackfillState, pages| BackfillReport {
        end,
        state,
        pages_this_run: pages,
        intercom: ic_budget.stats(),
        zendesk: zd_budget.stats(),
        elapsed: started.elapsed(),
    };
    if state.done {
        return Ok(report(BackfillEnd::Finished, state, 0));
    }
    let page_size = opts.page_size.clamp(1, PAGE_SIZE);
    let id_field = cfg.id_field(bridge_domain::event::Vendor::Zendesk);
    let mut pages = 0u64;
    // When the jobs in flight are next polled, and the delay after that while none finishes (this
    // run only: a resumed run polls its stored jobs once it cannot submit more).
    let mut next_poll = Instant::now();
    let mut poll_delay = POLL_FIRST;
    loop {
        if opts.max_pages.is_some_and(|m| pages >= m) || opts.stop_at.is_some_and(|t| Instant::now() >= t) {
            // Everything so far is stored, jobs in flight included: the next run goes on.
            return Ok(report(BackfillEnd::Paused, state, pages));
        }
        if !state.read_all && state.pending.len() < MAX_PENDING {
            // Read the next page and submit it.
            let cursor = state.next.clone();
            let Some(page) = ic_budget
                .metered(
                    1,
                    opts.stop_at,
                    || p.intercom.rate_limit(),
                    || p.intercom.list_page(Kind::Person, cursor.as_deref(), page_size),
                )
                .await?
            else {
                return Ok(report(BackfillEnd::Paused, state, pages));
            };
            let mut records: Vec<BulkRecord> = Vec::with_capacity(page.items.len());
            let mut sources: Vec<String> = Vec::with_capacity(page.items.len());
            for contact in &page.items {
                if out_of_scope(cfg, contact).is_some()
                    || (contact.email().is_none() && contact.external_id().is_none())
                {
                    state.skipped += 1;
                    continue;
                }
                let mut values = peer_values(cfg, &cfg.contacts, contact, now);
                if let Some(f) = &id_field {
                    values.insert(f.clone(), FieldValue::Text(contact.id.clone()));
                }
                records.push(values);
                sources.push(contact.id.clone());
            }
            if !records.is_empty() {
                let Some(started) = zd_budget
                    .metered(
                        1,
                        opts.stop_at,
                        || p.zendesk.rate_limit(),
                        || p.zendesk.start_many(Kind::Person, &records),
                    )
                    .await?
                else {
                    // Not submitted: the next run reads this page again.
                    return Ok(report(BackfillEnd::Paused, state, pages));
                };
                match started {
                    BulkStarted::Done(ids) => tally(&mut state, &sources, &ids),
                    BulkStarted::Job(job) => state.pending.push(PendingJob { job, sources }),
                }
            }
            state.pages += 1;
            state.read += page.items.len() as u64;
            state.total = page.total.or(state.total);
            state.read_all = page.next.is_none();
            state.next = page.next;
            pages += 1;
        } else if !state.pending.is_empty() {
            // Nothing more to submit now (MAX_PENDING jobs in flight, or every page read): one
            // call asks about every job in flight (Zendesk `job_statuses/show_many`).
            tokio::time::sleep_until(next_poll.into()).await;
            let asked: Vec<(String, usize)> = state.pending.iter().map(|j| (j.job.clone(), j.sources.len())).collect();
            let jobs: Vec<(&str, usize)> = asked.iter().map(|(id, n)| (id.as_str(), *n)).collect();
            let calls = u32::try_from(jobs.len().div_ceil(MAX_JOBS_PER_POLL)).unwrap_or(u32::MAX);
            let polled = zd_budget
                .metered(calls, opts.stop_at, || p.zendesk.rate_limit(), || p.zendesk.poll_jobs(&jobs))
                .await?;
            let Some(polled) = polled else {
                return Ok(report(BackfillEnd::Paused, state, pages));
            };
            let collected = collect(&mut state, polled);
            if collected == 0 {
                // Nothing finished yet: back off before asking again.
                next_poll = Instant::now() + poll_delay;
                poll_delay = (poll_delay * 2).min(POLL_MAX);
                continue;
            }
            next_poll = Instant::now() + POLL_FIRST;
            poll_delay = POLL_FIRST;
        } else {
            // Every page read and every job collected.
            state.done = true;
        }
        state.updated_at = p.clock.now();
        if !store.save(&DocKey::ProfileBackfill, &state, version).await? {
            return Err(JobError::permanent("another backfill moved the cursor: only one backfill may run at a time"));
        }
        version = Some(version.map_or(1, |v| v + 1));
        tracing::info!(
            pages = state.pages,
            read = state.read,
            written = state.written,
            failed = state.failed,
            pending = state.pending.len(),
            "backfill progress stored"
        );
        on_page(&state);
        if state.done {
            return Ok(report(BackfillEnd::Finished, state, pages));
        }
    }
}

/// Takes the finished jobs out of `state.pending` (`polled[i]` answers `state.pending[i]`; a job
/// without an answer stays pending) and counts their records; returns how many jobs it took.
fn collect(state: &mut BackfillState, polled: Vec<BulkPoll>) -> usize {
    let mut polled = polled.into_iter();
    let mut collected = 0;
    let mut still = Vec::with_capacity(state.pending.len());
    for job in std::mem::take(&mut state.pending) {
        match polled.next() {
            None | Some(BulkPoll::Running) => still.push(job),
            Some(BulkPoll::Done(ids)) => {
                tally(state, &job.sources, &ids);
                collected += 1;
            }
            Some(BulkPoll::Gone) => {
                tracing::warn!(job = %job.job, records = job.sources.len(), "bulk job no longer known to Zendesk");
                state.unconfirmed += job.sources.len() as u64;
                collected += 1;
            }
        }
    }
    state.pending = still;
    collected
}

/// Counts a collected batch: `ids[i]` is the Zendesk id written for `sources[i]` (None: refused).
fn tally(state: &mut BackfillState, sources: &[String], ids: &[Option<String>]) {
    for (n, source) in sources.iter().enumerate() {
        if ids.get(n).is_some_and(Option::is_some) {
            state.written += 1;
        } else {
            state.failed += 1;
            if state.failed_ids.len() < FAILED_KEPT {
                state.failed_ids.push(source.clone());
            }
        }
    }
}
