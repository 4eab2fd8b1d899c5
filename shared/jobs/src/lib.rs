//! The bridge's jobs as use cases over the domain ports.
//!
//! Each job reads the state that matters (the webhook is only a hint), asks the domain rules
//! what to do, and performs the actions through the ports. Jobs never name an AWS or HTTP type;
//! the runtime crate wires real adapters, tests wire in-memory fakes.

use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::erasure::{DeadLetterPurge, PersonEraser};
use bridge_domain::event::{QueuedEvent, Vendor};
use bridge_domain::keys::Intent;
use bridge_domain::ports::{Clock, Helpdesk, Messenger, PortError, Store};
use bridge_domain::profiles::directory::ProfileDirectory;
use bridge_domain::routing::{self, Handler, JobKind};

mod attachments;
pub mod contact_merge;
pub mod echo;
pub mod erasure;
pub mod escalate;
pub mod intake;
pub mod lifecycle;
pub mod profile_sync;
pub mod shadow;
mod side;
pub mod sweep;
pub mod tag_sync;
pub mod ticket_status;

pub use side::Side;

/// What a use case runs with: the three adapters and this run's context. Each use case names
/// the capabilities it needs as bounds on `S` (the store), `I` (Intercom) and `Z` (Zendesk);
/// the runtime builds one per batch with the configuration of that batch, tests build one over
/// the fakes in [`fakes`], shadow runs over the recording adapters in [`shadow`].
pub struct Ports<'a, S, I, Z> {
    /// DynamoDB (or a fake).
    pub store: &'a S,
    /// Intercom.
    pub intercom: &'a I,
    /// Zendesk.
    pub zendesk: &'a Z,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// The configuration of this batch (or scheduled run).
    pub config: &'a Config,
    /// A name for this worker process, used as the holder of intent leases.
    pub worker: &'a str,
}

impl<S, I, Z> Clone for Ports<'_, S, I, Z> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, I, Z> Copy for Ports<'_, S, I, Z> {}

impl<S, I, Z> std::fmt::Debug for Ports<'_, S, I, Z> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").field("worker", &self.worker).finish_non_exhaustive()
    }
}

impl<'a, S, I, Z> Ports<'a, S, I, Z> {
    /// One side's profile directory (or eraser), for the algorithms that treat both alike.
    pub fn side(&self, side: Vendor) -> Side<'a, I, Z> {
        match side {
            Vendor::Intercom => Side::Intercom(self.intercom),
            Vendor::Zendesk => Side::Zendesk(self.zendesk),
        }
    }
}

/// Everything the jobs use of Intercom: what [`run`] needs of its Intercom adapter.
pub trait Intercom: Messenger + ProfileDirectory + PersonEraser {}
impl<T: Messenger + ProfileDirectory + PersonEraser> Intercom for T {}

/// Everything the jobs use of Zendesk: what [`run`] needs of its Zendesk adapter.
pub trait Zendesk: Helpdesk + ProfileDirectory + PersonEraser {}
impl<T: Helpdesk + ProfileDirectory + PersonEraser> Zendesk for T {}

/// Runs the use case [`routing::handler`] picks for `event` on `job`'s queue. The one dispatch:
/// the batch driver, shadow runs and `bridge dlq replay` all come through here. `dead_letters`
/// is where an erasure purges the dead letters that mention the person.
pub async fn run<S: Store, I: Intercom, Z: Zendesk, D: DeadLetterPurge>(
    p: &Ports<'_, S, I, Z>,
    dead_letters: &D,
    job: JobKind,
    event: &QueuedEvent,
) -> JobResult {
    match routing::handler(job, event) {
        Handler::Escalate => escalate::run(p, event).await,
        Handler::TicketIntake => intake::run(p, event).await,
        Handler::TicketStatus => ticket_status::run(p, event).await,
        Handler::TagSync => tag_sync::run(p, event).await,
        Handler::Erasure => erasure::run(p, dead_letters, event).await,
        Handler::ContactMerge => contact_merge::run(p, event).await,
        Handler::ProfileSync => profile_sync::run(p, event).await,
    }
}

/// How a message ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Work was done; a short summary with ids only.
    Done(String),
    /// Nothing to do, and why.
    Skipped(String),
    /// The event was the bridge's own change coming back (loop guard); dropped and counted.
    LoopSuppressed(String),
}

impl Outcome {
    /// One outcome for an event that touched several links (a ticket several conversations
    /// follow after a merge): done if anything was done, else suppressed if any was an echo.
    pub fn combine(outcomes: Vec<Outcome>) -> Outcome {
        let rank = |o: &Outcome| match o {
            Outcome::Done(_) => 0,
            Outcome::LoopSuppressed(_) => 1,
            Outcome::Skipped(_) => 2,
        };
        let best = outcomes.iter().map(rank).min().unwrap_or(2);
        let text: Vec<String> = outcomes
            .into_iter()
            .filter(|o| rank(o) == best)
            .map(|o| match o {
                Outcome::Done(t) | Outcome::Skipped(t) | Outcome::LoopSuppressed(t) => t,
            })
            .collect();
        let text = text.join("; ");
        match best {
            0 => Outcome::Done(text),
            1 => Outcome::LoopSuppressed(text),
            _ => Outcome::Skipped(text),
        }
    }
}

/// How a message failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try the message again later (after `after`, when the vendor said so).
    #[error("retry later")]
    Retry {
        /// Requested delay.
        after: Option<Duration>,
        /// Why.
        #[source]
        source: PortError,
    },
    /// The message cannot succeed; it goes to the dead-letter queue with this reason.
    #[error("cannot be processed: {reason}")]
    Permanent {
        /// What is wrong (ids only, no personal data).
        reason: String,
        /// The port error, if one caused it.
        #[source]
        source: Option<PortError>,
    },
}

impl JobError {
    /// A permanent failure with a reason.
    pub fn permanent(reason: impl Into<String>) -> Self {
        JobError::Permanent { reason: reason.into(), source: None }
    }
    /// True when the message should be retried.
    pub fn is_retryable(&self) -> bool {
        matches!(self, JobError::Retry { .. })
    }
}

impl From<PortError> for JobError {
    fn from(e: PortError) -> Self {
        if e.is_retryable() {
            JobError::Retry { after: e.retry_after(), source: e }
        } else {
            JobError::Permanent { reason: e.to_string(), source: Some(e) }
        }
    }
}

/// Result of running a job on one message.
pub type JobResult = Result<Outcome, JobError>;

/// A lease holder name unique to this run of a job: the worker, the delivery and a
/// process-wide counter, so two concurrent runs never share a lease even in one process.
pub fn holder_for(worker: &str, event: &QueuedEvent) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{worker}/{}/{n}", event.delivery_id)
}

/// Completes an intent with the result of acting on it, or releases it on failure so a retry
/// can act at once instead of waiting for the lease to expire. Answers the recorded result.
pub async fn settle<S: Store, E: Into<JobError>>(
    store: &S,
    intent: &Intent,
    holder: &str,
    result: Result<String, E>,
) -> Result<String, JobError> {
    match result {
        Ok(value) => {
            store.complete(intent, &value).await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(release) = store.release(intent, holder).await {
                tracing::warn!(intent = %intent, error = %release, "could not release lease");
            }
            Err(e.into())
        }
    }
}

/// The permanent failure for an event about an entity its job does not handle.
pub fn wrong_entity(event: &QueuedEvent, wanted: &str) -> JobError {
    JobError::permanent(format!("entity {} is not {wanted}", event.entity))
}

/// In-memory fakes of the ports, for unit tests here and in the runtime.
#[cfg(any(test, feature = "testing"))]
pub mod fakes;
