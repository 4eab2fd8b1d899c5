//! Bulk backfill for job 2: every Intercom contact into Zendesk, resumable.
//!
//! Pages of at most 100 contacts are read from Intercom (contact search) and written to Zendesk
//! with one `create_or_update_many` job per page (the client polls the job status until it
//! completes). Zendesk matches each record on email or external id, so writing a page twice
//! changes nothing: after each page the cursor is saved in the store
//! (`PROFILE#BACKFILL#contact`), and a crash or a timeout costs at most that one page again.
//! Every vendor call goes through the shared [`SharedBudget`]s, so a backfill paces itself under
//! the limits even while the event-driven sync or another backfill runs.
//!
//! The backfill writes Zendesk only: each user gets the configured values that flow from
//! Intercom and the Intercom contact id in its id field. Pair state and the Zendesk id on the
//! contact follow lazily (the next event or reconciliation matches the pair by that id field),
//! which keeps the backfill at two requests per hundred contacts instead of one per contact.

use std::time::{Duration, Instant};

use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::Store;
use bridge_domain::profiles::Kind;
use bridge_domain::profiles::directory::BulkRecord;
use serde::{Deserialize, Serialize};

use super::rate::{RateClass, RateStats, SharedBudget};
use super::{out_of_scope, peer_values};
use crate::{JobError, Ports};

/// Store key of the backfill cursor.
pub const BACKFILL_KEY: &str = "PROFILE#BACKFILL#contact";
/// Contacts per page: one Zendesk bulk job holds at most 100 users.
pub const PAGE_SIZE: u32 = 100;
/// Requests one page costs on Zendesk: the bulk POST and about two job-status polls.
pub const BULK_CALLS: u32 = 3;
/// How many failed contact ids the cursor keeps for operators.
const FAILED_KEPT: usize = 100;

/// Progress of a backfill, stored after every page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillState {
    /// Cursor of the next Intercom page (None with `done` false: the first page).
    pub next: Option<String>,
    /// Pages written.
    pub pages: u64,
    /// Contacts read.
    pub read: u64,
    /// Users created or updated.
    pub written: u64,
    /// Contacts not synced (leads, or neither email nor external id to match on).
    pub skipped: u64,
    /// Contacts Zendesk refused.
    pub failed: u64,
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

/// How to run a backfill.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// Contacts per page (1 to 100).
    pub page_size: u32,
    /// Intercom's budget class.
    pub intercom: RateClass,
    /// Zendesk's budget class.
    pub zendesk: RateClass,
    /// Stop (paused, resumable) before starting a page after this instant.
    pub stop_at: Option<Instant>,
    /// Stop after this many pages in this run.
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
    /// Pages written by this run.
    pub pages_this_run: u64,
    /// Intercom budget use.
    pub intercom: RateStats,
    /// Zendesk budget use.
    pub zendesk: RateStats,
    /// Wall time of this run.
    pub elapsed: Duration,
}

fn encode(state: &BackfillState) -> Result<String, JobError> {
    serde_json::to_string(state).map_err(|e| JobError::permanent(format!("encode backfill cursor: {e}")))
}

/// The stored progress, if a backfill ever ran.
pub async fn load_state<S: Store>(store: &S) -> Result<Option<BackfillState>, JobError> {
    Ok(store.load(BACKFILL_KEY).await?.and_then(|v| serde_json::from_str(&v.body).ok()))
}

/// True when a backfill started and is not finished: what a scheduled continuation resumes.
pub async fn in_progress<S: Store>(store: &S) -> Result<bool, JobError> {
    Ok(load_state(store).await?.is_some_and(|s| !s.done))
}

/// Runs (or resumes) the backfill. `on_page` sees the progress after every stored page.
pub async fn backfill<P: Ports>(
    p: &P,
    opts: &BackfillOptions,
    on_page: &mut (dyn FnMut(&BackfillState) + Send),
) -> Result<BackfillReport, JobError> {
    let started = Instant::now();
    let Some(cfg) = p.config().profiles.as_ref() else {
        return Err(JobError::permanent("profile sync is not configured (no `profiles:` section)"));
    };
    let Some(dirs) = p.profile_directories() else {
        return Err(JobError::permanent("profile directories are not wired in this runtime"));
    };
    let store = p.store();
    let ic_budget = SharedBudget::new(store, opts.intercom.clone());
    let zd_budget = SharedBudget::new(store, opts.zendesk.clone());
    let stored = store.load(BACKFILL_KEY).await?;
    let mut version = stored.as_ref().map(|v| v.version);
    let previous: Option<BackfillState> = stored.and_then(|v| serde_json::from_str(&v.body).ok());
    let now = p.clock().now();
    let mut state = match previous {
        Some(s) if !opts.restart => s,
        _ => BackfillState { started_at: now, updated_at: now, ..BackfillState::default() },
    };
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
    let id_field = cfg.id_field(bridge_domain::loop_guard::Side::Zendesk);
    let mut pages = 0u64;
    loop {
        if opts.max_pages.is_some_and(|m| pages >= m) || opts.stop_at.is_some_and(|t| Instant::now() >= t) {
            return Ok(report(BackfillEnd::Paused, state, pages));
        }
        let cursor = state.next.clone();
        let page = ic_budget
            .metered(
                1,
                || dirs.intercom.rate_limit(),
                || dirs.intercom.list_page(Kind::Person, cursor.as_deref(), page_size),
            )
            .await?;
        let mut records: Vec<BulkRecord> = Vec::with_capacity(page.items.len());
        let mut sources: Vec<String> = Vec::with_capacity(page.items.len());
        let read = page.items.len() as u64;
        let mut skipped = 0u64;
        for contact in &page.items {
            if out_of_scope(cfg, contact).is_some() || (contact.email().is_none() && contact.external_id().is_none()) {
                skipped += 1;
                continue;
            }
            let mut values = peer_values(cfg, &cfg.contacts, contact, now);
            if let Some(f) = &id_field {
                values.insert(f.clone(), FieldValue::Text(contact.id.clone()));
            }
            records.push(values);
            sources.push(contact.id.clone());
        }
        let (mut written, mut failed) = (0u64, 0u64);
        if !records.is_empty() {
            let chunks = u32::try_from(records.len().div_ceil(100)).unwrap_or(1);
            let ids = zd_budget
                .metered(
                    BULK_CALLS * chunks,
                    || dirs.zendesk.rate_limit(),
                    || dirs.zendesk.write_many(Kind::Person, &records),
                )
                .await?;
            for (source, id) in sources.iter().zip(ids.iter().chain(std::iter::repeat(&None))) {
                if id.is_some() {
                    written += 1;
                } else {
                    failed += 1;
                    if state.failed_ids.len() < FAILED_KEPT {
                        state.failed_ids.push(source.clone());
                    }
                }
            }
        }
        state.pages += 1;
        state.read += read;
        state.skipped += skipped;
        state.written += written;
        state.failed += failed;
        state.total = page.total.or(state.total);
        state.done = page.next.is_none();
        state.next = page.next;
        state.updated_at = p.clock().now();
        if !store.save(BACKFILL_KEY, &encode(&state)?, version).await? {
            return Err(JobError::permanent("another backfill moved the cursor: only one backfill may run at a time"));
        }
        version = Some(version.map_or(1, |v| v + 1));
        pages += 1;
        tracing::info!(
            pages = state.pages,
            read = state.read,
            written = state.written,
            failed = state.failed,
            "backfill page stored"
        );
        on_page(&state);
        if state.done {
            return Ok(report(BackfillEnd::Finished, state, pages));
        }
    }
}
