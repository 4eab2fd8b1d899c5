//! The repair sweeps (see `bridge_domain::sweep`): a job reads what changed on the vendors
//! since its stored cursor and runs each entity through its own use case, with the same intents
//! as the webhook path, so a sweep never repeats what a webhook did and a webhook never repeats a
//! sweep. What a use case reports done is a repair: a webhook was lost.
//!
//! | job | sources (in this order) | use case |
//! |---|---|---|
//! | escalate | open conversations waiting past the shortest `waiting_minutes` (unlinked only), then conversations changed | `escalate::run` |
//! | ticket-status | tickets changed, linked only | `ticket_status::run` |
//! | tag-sync | tickets changed, then conversations changed, linked only | `tag_sync::run` |
//! | ticket-intake | tickets created since the window start | `intake::run` |
//!
//! The window starts at the stored cursor (the previous run's start less a few minutes), never
//! before the configured horizon. Vendor page cursors are stored after every page, so a run
//! stopped by its deadline resumes where it stopped. A run with a retryable failure keeps its
//! window for the next run; permanent failures are logged and passed.

use std::collections::BTreeMap;
use std::time::Instant;

use bridge_domain::escalation;
use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::{ConversationId, TicketId};
use bridge_domain::keys::DocKey;
use bridge_domain::model::Timestamp;
use bridge_domain::ports::{Helpdesk, Messenger, Store};
use bridge_domain::routing::JobKind;
use bridge_domain::sweep::{Changed, ConversationFeed, FeedPage, SWEEP_TOPIC, SweepCursor, SweepSchedule, TicketFeed};

use crate::{JobError, JobResult, Outcome, Ports};

/// How a sweep is run.
#[derive(Debug, Clone, Copy, Default)]
pub struct SweepOptions {
    /// Stop (and store the page cursors) once this instant has passed: a Lambda's deadline
    /// less a margin. `None`: run to the end.
    pub stop_at: Option<Instant>,
    /// Run even when the last run is more recent than the configured interval (`bridge
    /// reconcile`).
    pub force: bool,
    /// Stop (paused, cursors stored) after this many pages.
    pub max_pages: Option<u64>,
}

/// Why a sweep did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    /// `sweeps.<job>.enabled: false`.
    Disabled,
    /// The job itself is not configured.
    NotConfigured,
    /// The last run is more recent than `sweeps.<job>.every_minutes`.
    NotDue,
    /// The job is in shadow mode: its window moves on, nothing is read or repaired, so going
    /// live does not act on what happened while it was shadowed.
    Shadow,
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SweepReport {
    /// Entities read from the feeds.
    pub examined: u64,
    /// Repairs by source (`conversation`, `ticket`): what a lost webhook should have done.
    pub repaired: BTreeMap<&'static str, u64>,
    /// Job 1: escalations by a time-based rule on a waiting conversation (not a repair).
    pub fired_on_time: u64,
    /// Entities whose use case failed (logged with their ids).
    pub failed: u64,
    /// Stopped by the deadline; the next run resumes.
    pub paused: bool,
    /// Every repair, as `<entity>: <what was done>` (ids only).
    pub repairs: Vec<String>,
}

impl SweepReport {
    /// All repairs.
    pub fn repaired_total(&self) -> u64 {
        self.repaired.values().sum()
    }
}

/// Where a run is, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepProgress {
    /// The source being read.
    pub source: &'static str,
    /// Pages read so far in this run.
    pub pages: u64,
    /// Entities examined so far.
    pub examined: u64,
    /// Repairs so far.
    pub repaired: u64,
}

/// The sources a job's sweep reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Open conversations waiting past the shortest `waiting_minutes` (job 1).
    Waiting,
    /// Conversations changed in the window.
    Conversations,
    /// Tickets changed in the window.
    Tickets,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Waiting => "waiting",
            Source::Conversations => "conversation",
            Source::Tickets => "ticket",
        }
    }
}

fn sources(job: JobKind) -> &'static [Source] {
    match job {
        JobKind::Escalate => &[Source::Waiting, Source::Conversations],
        JobKind::TicketStatus | JobKind::TicketIntake => &[Source::Tickets],
        JobKind::TagSync => &[Source::Tickets, Source::Conversations],
        JobKind::ProfileSync => &[],
    }
}

/// Whether `job` has anything to sweep with this configuration.
fn configured<S, I, Z>(p: &Ports<'_, S, I, Z>, job: JobKind) -> bool {
    let c = p.config;
    match job {
        JobKind::Escalate => c.escalation.is_some(),
        JobKind::TicketStatus => c.ticket_status.is_some(),
        JobKind::TagSync => c.tag_sync.is_some(),
        JobKind::TicketIntake => c.routing.is_some() || c.acknowledgement.is_some(),
        JobKind::ProfileSync => false,
    }
}

/// Runs one sweep of `job` (escalate, ticket-status, tag-sync or ticket-intake).
pub async fn sweep<S, I, Z>(
    p: &Ports<'_, S, I, Z>,
    job: JobKind,
    opts: &SweepOptions,
    on_progress: &mut (dyn FnMut(&SweepProgress) + Send),
) -> Result<Result<SweepReport, NotRun>, JobError>
where
    S: Store,
    I: Messenger + ConversationFeed,
    Z: Helpdesk + TicketFeed,
{
    let Some(schedule) = p.config.sweeps.schedule(job) else {
        return Err(JobError::permanent(format!("{} has no sweep (its reconcile repairs it)", job.as_str())));
    };
    if !schedule.enabled {
        return Ok(Err(NotRun::Disabled));
    }
    if !configured(p, job) {
        return Ok(Err(NotRun::NotConfigured));
    }
    let key = DocKey::SweepCursor(job);
    let stored = p.store.load::<SweepCursor>(&key).await?;
    let mut version = stored.as_ref().map(|d| d.version);
    let mut cursor = stored.map(|d| d.value).unwrap_or_default();
    let now = p.clock.now();
    if p.config.shadow.contains(&job) {
        cursor = SweepCursor { since: Some(now), finished_at: Some(now), ..SweepCursor::default() };
        save(p.store, &key, &cursor, &mut version).await?;
        return Ok(Err(NotRun::Shadow));
    }
    if !opts.force && !cursor.due(schedule, now) {
        return Ok(Err(NotRun::NotDue));
    }
    let started = *cursor.run_started.get_or_insert(now);
    let since = cursor.window_start(started, p.config.sweeps.horizon_days);
    let seen = std::mem::take(&mut cursor.edge);
    let mut run = Run { p, job, report: SweepReport::default(), pages: 0, retry_later: false, seen, edge: Vec::new() };
    for &source in sources(job) {
        if cursor.sources_done.iter().any(|s| s == source.name()) {
            continue;
        }
        loop {
            let out_of_pages = opts.max_pages.is_some_and(|m| run.pages >= m);
            if out_of_pages || opts.stop_at.is_some_and(|t| Instant::now() >= t) {
                run.report.paused = true;
                save(p.store, &key, &cursor, &mut version).await?;
                return Ok(Ok(run.report));
            }
            let page = run.read(source, since, started, cursor.page(source.name())).await?;
            run.pages += 1;
            for item in page.items {
                run.handle(source, item, since).await;
            }
            on_progress(&SweepProgress {
                source: source.name(),
                pages: run.pages,
                examined: run.report.examined,
                repaired: run.report.repaired_total() + run.report.fired_on_time,
            });
            let Some(next) = page.next else {
                cursor.set_page(source.name(), None);
                cursor.sources_done.push(source.name().to_string());
                break;
            };
            // Stored so a run stopped by its deadline resumes here; the last page needs no save
            // of its own (the run's end saves).
            cursor.set_page(source.name(), Some(next));
            save(p.store, &key, &cursor, &mut version).await?;
        }
    }
    if run.retry_later {
        // Read the same window again next time; the intents keep what was done single.
        cursor.abandon(p.clock.now());
    } else {
        cursor.finish(p.clock.now(), std::mem::take(&mut run.edge));
    }
    save(p.store, &key, &cursor, &mut version).await?;
    let report = run.report;
    tracing::info!(
        job = job.as_str(),
        examined = report.examined,
        repaired = report.repaired_total(),
        fired_on_time = report.fired_on_time,
        failed = report.failed,
        "sweep"
    );
    Ok(Ok(report))
}

/// Saves the cursor, conditional on the version read; a concurrent run of the same sweep
/// makes this one stop (the other goes on).
async fn save<S: Store>(
    store: &S,
    key: &DocKey,
    cursor: &SweepCursor,
    version: &mut Option<u64>,
) -> Result<(), JobError> {
    if !store.save(key, cursor, *version).await? {
        return Err(crate::lifecycle::busy(format!("{key}: another run of this sweep is under way")));
    }
    *version = Some(version.map_or(1, |v| v + 1));
    Ok(())
}

/// One run's state.
struct Run<'p, 'a, S, I, Z> {
    p: &'p Ports<'a, S, I, Z>,
    job: JobKind,
    report: SweepReport,
    pages: u64,
    retry_later: bool,
    /// What the previous run examined in this window's overlap (entity, updated_at).
    seen: Vec<(String, Timestamp)>,
    /// What this run examined (entity, updated_at), for the next run.
    edge: Vec<(String, Timestamp)>,
}

/// A feed entry of either vendor.
enum Item {
    Conversation(Changed<ConversationId>),
    Ticket(Changed<TicketId>),
}

impl<S, I, Z> Run<'_, '_, S, I, Z>
where
    S: Store,
    I: Messenger + ConversationFeed,
    Z: Helpdesk + TicketFeed,
{
    async fn read(
        &self,
        source: Source,
        since: Timestamp,
        started: Timestamp,
        page: Option<&str>,
    ) -> Result<FeedPage<Item>, JobError> {
        let p = self.p;
        let conversations = |f: FeedPage<Changed<ConversationId>>| FeedPage {
            items: f.items.into_iter().map(Item::Conversation).collect(),
            next: f.next,
        };
        Ok(match source {
            Source::Conversations => conversations(p.intercom.changed_conversations(since, page).await?),
            Source::Waiting => {
                let Some(wait) = p.config.escalation.as_ref().and_then(escalation::shortest_wait) else {
                    return Ok(FeedPage::default());
                };
                let from = Timestamp(started.0 - i64::from(p.config.sweeps.horizon_days) * 86_400);
                let until = Timestamp(started.0 - i64::from(wait) * 60);
                conversations(p.intercom.waiting_conversations(from, until, page).await?)
            }
            Source::Tickets => {
                let f = p.zendesk.changed_tickets(since, page).await?;
                FeedPage { items: f.items.into_iter().map(Item::Ticket).collect(), next: f.next }
            }
        })
    }

    /// Runs one entity through the job's use case when it concerns the job.
    async fn handle(&mut self, source: Source, item: Item, since: Timestamp) {
        self.report.examined += 1;
        let (entity, updated_at) = match &item {
            Item::Conversation(c) => (format!("{}:{}", source.name(), c.id), c.updated_at),
            Item::Ticket(t) => (format!("{}:{}", source.name(), t.id), t.updated_at),
        };
        // Time moves a waiting conversation towards a longer `waiting_minutes` rule even when
        // it does not change: only the change feeds pass what the last run saw.
        if source != Source::Waiting {
            let unchanged = self.seen.iter().any(|(e, at)| *e == entity && *at == updated_at);
            self.edge.push((entity, updated_at));
            if unchanged {
                return;
            }
        }
        let p = self.p;
        let (entity, result) = match (self.job, item) {
            (JobKind::Escalate, Item::Conversation(c)) => {
                if source == Source::Waiting && matches!(p.store.link_by_conversation(&c.id).await, Ok(Some(_))) {
                    return;
                }
                let entity = Entity::Conversation(c.id);
                let result = crate::escalate::run(p, &self.event(&entity)).await;
                (entity, result)
            }
            (JobKind::TicketStatus, Item::Ticket(t)) => {
                if !self.linked_ticket(t.id).await {
                    return;
                }
                let entity = Entity::Ticket(t.id);
                let result = crate::ticket_status::run(p, &self.event(&entity)).await;
                (entity, result)
            }
            (JobKind::TagSync, Item::Ticket(t)) => {
                if !self.linked_ticket(t.id).await {
                    return;
                }
                let entity = Entity::Ticket(t.id);
                let result = crate::tag_sync::run(p, &self.event(&entity)).await;
                (entity, result)
            }
            (JobKind::TagSync, Item::Conversation(c)) => {
                if !matches!(p.store.link_by_conversation(&c.id).await, Ok(Some(_))) {
                    return;
                }
                let entity = Entity::Conversation(c.id);
                let result = crate::tag_sync::run(p, &self.event(&entity)).await;
                (entity, result)
            }
            (JobKind::TicketIntake, Item::Ticket(t)) if t.created_at >= since => {
                let entity = Entity::Ticket(t.id);
                let result = crate::intake::run(p, &self.event(&entity)).await;
                (entity, result)
            }
            _ => return,
        };
        self.record(source, &entity, result);
    }

    async fn linked_ticket(&self, id: TicketId) -> bool {
        matches!(self.p.store.link_by_ticket(id).await, Ok(Some(_)))
    }

    fn event(&self, entity: &Entity) -> QueuedEvent {
        let now = self.p.clock.now();
        QueuedEvent {
            vendor: entity.vendor(),
            delivery_id: format!("sweep-{}-{}", self.job.as_str(), now.0),
            topic: SWEEP_TOPIC.into(),
            entity: entity.clone(),
            received_at: now,
            payload: serde_json::Value::Null,
            trace_id: None,
            actors: Vec::new(),
        }
    }

    fn record(&mut self, source: Source, entity: &Entity, result: JobResult) {
        let job = self.job.as_str();
        match result {
            Ok(Outcome::Done(summary)) if source == Source::Waiting => {
                self.report.fired_on_time += 1;
                tracing::info!(job, entity = %entity, outcome = %summary, "time-based rule fired");
            }
            Ok(Outcome::Done(summary)) => {
                *self.report.repaired.entry(source.name()).or_default() += 1;
                tracing::warn!(job, entity = %entity, outcome = %summary, "repaired: a webhook was lost");
                self.report.repairs.push(format!("{entity}: {summary}"));
            }
            Ok(Outcome::Skipped(_) | Outcome::LoopSuppressed(_)) => {}
            Err(e) => {
                self.report.failed += 1;
                self.retry_later |= e.is_retryable();
                tracing::warn!(job, entity = %entity, error = %e, "sweep could not process an entity");
            }
        }
    }
}

/// Why a sweep did not run, in words.
pub fn describe(not_run: NotRun, schedule: Option<SweepSchedule>) -> String {
    match not_run {
        NotRun::Disabled => "switched off (sweeps.<job>.enabled: false)".into(),
        NotRun::NotConfigured => "the job is not configured".into(),
        NotRun::Shadow => "the job is in shadow mode".into(),
        NotRun::NotDue => match schedule {
            Some(s) => format!("not due (runs every {} minutes)", s.every_minutes),
            None => "not due".into(),
        },
    }
}

#[cfg(test)]
mod tests;
