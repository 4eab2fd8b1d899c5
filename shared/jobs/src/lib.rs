//! The bridge's jobs as use cases over the domain ports.
//!
//! Each job reads the state that matters (the webhook is only a hint), asks the domain rules
//! what to do, and performs the actions through the ports. Jobs never name an AWS or HTTP type;
//! the runtime crate wires real adapters, tests wire in-memory fakes.

use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::event::QueuedEvent;
use bridge_domain::keys::Intent;
use bridge_domain::ports::{Clock, Helpdesk, Messenger, PortError, Store};
use bridge_domain::routing::{self, Handler, JobKind};

pub mod contact_merge;
pub mod echo;
pub mod erasure;
pub mod escalate;
pub mod intake;
pub mod lifecycle;
pub mod profile_sync;
pub mod shadow;
pub mod tag_sync;
pub mod ticket_status;

/// Everything a job may use. Implemented by the runtime's `App` and by test fixtures.
pub trait Ports: Send + Sync {
    /// DynamoDB (or a fake).
    type Store: Store;
    /// Intercom.
    type Messenger: Messenger;
    /// Zendesk.
    type Helpdesk: Helpdesk;
    /// The store.
    fn store(&self) -> &Self::Store;
    /// The Intercom client.
    fn messenger(&self) -> &Self::Messenger;
    /// The Zendesk client.
    fn helpdesk(&self) -> &Self::Helpdesk;
    /// The clock.
    fn clock(&self) -> &dyn Clock;
    /// The loaded configuration.
    fn config(&self) -> &Config;
    /// A name for this worker process, used as the holder of intent leases.
    fn worker_id(&self) -> &str;
    /// Job 2's profile directories (Intercom, Zendesk); `None` where the runtime does not wire
    /// them (job 2 then skips).
    fn profile_directories(&self) -> Option<profile_sync::Directories<'_>> {
        None
    }
    /// GDPR erasure's vendor and dead-letter capabilities; `None` where the runtime does not
    /// wire them (shadow runs, tests): erasure then touches nothing.
    fn erasure(&self) -> Option<erasure::Erasers<'_>> {
        None
    }
}

/// Runs the use case [`routing::handler`] picks for `event` on `job`'s queue. The one dispatch:
/// the batch driver, shadow runs and `bridge dlq replay` all come through here.
pub async fn run<P: Ports>(p: &P, job: JobKind, event: &QueuedEvent) -> JobResult {
    match routing::handler(job, event) {
        Handler::Escalate => escalate::run(p, event).await,
        Handler::TicketIntake => intake::run(p, event).await,
        Handler::TicketStatus => ticket_status::run(p, event).await,
        Handler::TagSync => tag_sync::run(p, event).await,
        Handler::Erasure => erasure::run(p, event).await,
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
pub fn holder_for(p: &impl Ports, event: &QueuedEvent) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}/{}/{n}", p.worker_id(), event.delivery_id)
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
