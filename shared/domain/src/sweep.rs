//! The repair sweeps: each webhook job, on a schedule, reads what changed on the vendors since
//! its stored cursor and runs it through the same use case and intents as the webhook path, so a
//! lost webhook is repaired and nothing is done twice. Job 1's sweep also reads the open
//! conversations that have waited past a `waiting_minutes` rule, so time-based rules fire on
//! time, not only when some later event arrives.
//!
//! This module holds the `sweeps:` configuration, the feeds the sweeps read (ports) and the
//! arithmetic of their windows; `bridge_jobs::sweep` runs them.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::ids::{ConversationId, TicketId};
use crate::job::JobKind;
use crate::model::Timestamp;
use crate::ports::PortResult;

/// How far before the last run's start the next window begins: vendors' search indexes and
/// exports lag behind their writes by seconds, sometimes a minute.
pub const WINDOW_OVERLAP_SECS: i64 = 180;

/// The topic of the events a sweep hands to a use case (never sent by a vendor).
pub const SWEEP_TOPIC: &str = "bridge.sweep";

/// The `sweeps:` section. Absent: every sweep runs at its default interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepsConfig {
    /// How far back a sweep reads on its first run (and at most, after a long outage), in days.
    pub horizon_days: u32,
    /// Job 1 (escalation, follow-ups, time-based rules).
    pub escalate: SweepSchedule,
    /// Job 3 (status effects and public comments).
    pub ticket_status: SweepSchedule,
    /// Job 4 (tags of linked pairs).
    pub tag_sync: SweepSchedule,
    /// Jobs 5 and 6 (new tickets routed and acknowledged).
    pub ticket_intake: SweepSchedule,
}

impl Default for SweepsConfig {
    fn default() -> Self {
        Self {
            horizon_days: 7,
            escalate: SweepSchedule { enabled: true, every_minutes: 5 },
            ticket_status: SweepSchedule::default(),
            tag_sync: SweepSchedule::default(),
            ticket_intake: SweepSchedule::default(),
        }
    }
}

/// When one job's sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepSchedule {
    /// `false` switches the sweep off (its schedule then costs one read per run).
    pub enabled: bool,
    /// The least time between two runs, in minutes; a scheduled run that comes earlier does
    /// nothing (the template's schedules fire every 5 minutes).
    pub every_minutes: u32,
}

impl Default for SweepSchedule {
    fn default() -> Self {
        Self { enabled: true, every_minutes: 15 }
    }
}

impl SweepsConfig {
    /// The schedule of `job`'s sweep; `None` for a job without one (job 2 has its reconcile).
    pub fn schedule(&self, job: JobKind) -> Option<SweepSchedule> {
        match job {
            JobKind::Escalate => Some(self.escalate),
            JobKind::TicketStatus => Some(self.ticket_status),
            JobKind::TagSync => Some(self.tag_sync),
            JobKind::TicketIntake => Some(self.ticket_intake),
            JobKind::ProfileSync => None,
        }
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.horizon_days == 0 || self.horizon_days > 90 {
            return Err(ConfigError::new("sweeps.horizon_days", "must be between 1 and 90"));
        }
        for (name, s) in [
            ("escalate", self.escalate),
            ("ticket_status", self.ticket_status),
            ("tag_sync", self.tag_sync),
            ("ticket_intake", self.ticket_intake),
        ] {
            if s.every_minutes == 0 || s.every_minutes > 24 * 60 {
                return Err(ConfigError::new(format!("sweeps.{name}.every_minutes"), "must be between 1 and 1440"));
            }
        }
        Ok(())
    }
}

/// A sweep's stored progress (`DocKey::SweepCursor`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepCursor {
    /// Changes at or after this time are read by the next run.
    pub since: Option<Timestamp>,
    /// When the run in progress started (its end becomes the next `since`).
    pub run_started: Option<Timestamp>,
    /// The vendor's page cursor of the run in progress, per source, to resume after a timeout.
    pub pages: Vec<(String, String)>,
    /// The sources the run in progress has read to the end.
    pub sources_done: Vec<String>,
    /// Entities the last run examined inside the next window's overlap, with the `updated_at`
    /// it saw: the next run passes them unless they changed again, so a quiet system's sweep
    /// costs its feed reads and nothing else.
    pub edge: Vec<(String, Timestamp)>,
    /// When the last run finished.
    pub finished_at: Option<Timestamp>,
}

impl SweepCursor {
    /// Whether a run is due at `now`: the last one finished at least `every_minutes` ago (or
    /// one is in progress, paused by its deadline).
    pub fn due(&self, schedule: SweepSchedule, now: Timestamp) -> bool {
        if self.run_started.is_some() {
            return true;
        }
        // A minute of slack: a schedule firing every 5 minutes meets a 5-minute interval.
        self.finished_at.is_none_or(|at| now.0 - at.0 >= i64::from(schedule.every_minutes) * 60 - 60)
    }

    /// Where the window of a run started at `started` begins: the stored `since`, never older
    /// than the horizon.
    pub fn window_start(&self, started: Timestamp, horizon_days: u32) -> Timestamp {
        let horizon = Timestamp(started.0 - i64::from(horizon_days) * 86_400);
        match self.since {
            Some(since) if since > horizon => since,
            _ => horizon,
        }
    }

    /// The vendor page cursor of `source` in the run in progress.
    pub fn page(&self, source: &str) -> Option<&str> {
        self.pages.iter().find(|(s, _)| s == source).map(|(_, c)| c.as_str())
    }

    /// Remembers (or, with `None`, forgets) the page cursor of `source`.
    pub fn set_page(&mut self, source: &str, cursor: Option<String>) {
        self.pages.retain(|(s, _)| s != source);
        if let Some(c) = cursor {
            self.pages.push((source.to_string(), c));
        }
    }

    /// Whether the last run examined `entity` as it is now (same `updated_at`).
    pub fn seen(&self, entity: &str, updated_at: Timestamp) -> bool {
        self.edge.iter().any(|(e, at)| e == entity && *at == updated_at)
    }

    /// Closes a finished run: the next window starts a little before this one started; `edge`
    /// lists what this run examined from that point on.
    pub fn finish(&mut self, now: Timestamp, edge: Vec<(String, Timestamp)>) {
        if let Some(started) = self.run_started.take() {
            let since = Timestamp(started.0 - WINDOW_OVERLAP_SECS);
            self.since = Some(since);
            self.edge = edge.into_iter().filter(|(_, at)| *at >= since).collect();
        }
        self.pages.clear();
        self.sources_done.clear();
        self.finished_at = Some(now);
    }

    /// Ends a run without moving the window (a retryable failure: the next run reads it again).
    pub fn abandon(&mut self, now: Timestamp) {
        self.run_started = None;
        self.pages.clear();
        self.sources_done.clear();
        self.finished_at = Some(now);
    }
}

/// Something a feed lists: an id and when it was created and last updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed<Id> {
    /// The conversation or ticket.
    pub id: Id,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// One page of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage<T> {
    /// The entries, oldest change first where the vendor allows.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
}

impl<T> Default for FeedPage<T> {
    fn default() -> Self {
        Self { items: Vec::new(), next: None }
    }
}

/// Intercom conversations by time: the sources of job 1's and job 4's sweeps.
pub trait ConversationFeed: Send + Sync {
    /// Conversations updated at or after `since`, one page at a time from `cursor`.
    fn changed_conversations(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> impl Future<Output = PortResult<FeedPage<Changed<ConversationId>>>> + Send;
    /// Open conversations waiting for a reply since a time between `from` and `until`.
    fn waiting_conversations(
        &self,
        from: Timestamp,
        until: Timestamp,
        cursor: Option<&str>,
    ) -> impl Future<Output = PortResult<FeedPage<Changed<ConversationId>>>> + Send;
}

/// Zendesk tickets by time: the source of the sweeps of jobs 3 to 6.
pub trait TicketFeed: Send + Sync {
    /// Tickets updated (or created) at or after `since`, one page at a time from `cursor`.
    fn changed_tickets(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> impl Future<Output = PortResult<FeedPage<Changed<TicketId>>>> + Send;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_sweep_is_due_after_its_interval_or_while_paused() {
        let every = SweepSchedule { enabled: true, every_minutes: 15 };
        let mut c = SweepCursor::default();
        assert!(c.due(every, Timestamp(1_000)), "never ran");
        c.run_started = Some(Timestamp(1_000));
        c.finish(Timestamp(1_100), Vec::new());
        assert!(!c.due(every, Timestamp(1_100 + 10 * 60)), "ten minutes later");
        assert!(c.due(every, Timestamp(1_100 + 14 * 60)), "the five-minute schedule's third firing");
        c.run_started = Some(Timestamp(2_000));
        assert!(c.due(every, Timestamp(2_010)), "paused by its deadline: go on");
    }

    #[test]
    fn the_window_starts_before_the_last_run_and_never_before_the_horizon() {
        let mut c = SweepCursor::default();
        let now = Timestamp(100 * 86_400);
        assert_eq!(c.window_start(now, 7), Timestamp(93 * 86_400), "first run: the horizon");
        c.run_started = Some(Timestamp(now.0 - 600));
        let edge = vec![
            ("conversation:1".to_string(), Timestamp(now.0 - 700)),
            ("conversation:2".to_string(), Timestamp(now.0 - 1_000)),
        ];
        c.finish(now, edge);
        assert_eq!(c.since, Some(Timestamp(now.0 - 600 - WINDOW_OVERLAP_SECS)));
        assert_eq!(c.window_start(now, 7), Timestamp(now.0 - 600 - WINDOW_OVERLAP_SECS));
        assert!(c.seen("conversation:1", Timestamp(now.0 - 700)), "inside the overlap: remembered");
        assert!(!c.seen("conversation:1", Timestamp(now.0 - 650)), "changed again since");
        assert!(!c.seen("conversation:2", Timestamp(now.0 - 1_000)), "before the next window: not kept");
        assert_eq!(c.window_start(Timestamp(now.0 + 30 * 86_400), 7).0, now.0 + 23 * 86_400, "after an outage");
    }

    #[test]
    fn page_cursors_are_kept_per_source() {
        let mut c = SweepCursor::default();
        c.set_page("changed", Some("p2".into()));
        c.set_page("waiting", Some("w1".into()));
        c.set_page("changed", Some("p3".into()));
        assert_eq!((c.page("changed"), c.page("waiting")), (Some("p3"), Some("w1")));
        c.set_page("waiting", None);
        assert_eq!(c.page("waiting"), None);
    }

    #[test]
    fn by_default_job_1_sweeps_every_5_minutes_and_the_others_every_15_each_switchable_off() {
        let s: SweepsConfig = serde_norway::from_str("tag_sync: { enabled: false }").unwrap();
        assert_eq!(s.escalate, SweepSchedule { enabled: true, every_minutes: 5 });
        assert_eq!(s.ticket_status, SweepSchedule { enabled: true, every_minutes: 15 });
        assert_eq!(s.ticket_intake, SweepSchedule { enabled: true, every_minutes: 15 });
        assert_eq!(s.tag_sync, SweepSchedule { enabled: false, every_minutes: 15 });
        assert_eq!(s.horizon_days, 7);
    }

    #[test]
    fn the_section_is_checked() {
        let mut s = SweepsConfig::default();
        assert!(s.validate().is_ok());
        s.ticket_status.every_minutes = 0;
        assert!(s.validate().unwrap_err().to_string().contains("sweeps.ticket_status.every_minutes"));
        let s = SweepsConfig { horizon_days: 0, ..SweepsConfig::default() };
        assert!(s.validate().unwrap_err().to_string().contains("horizon_days"));
    }
}
