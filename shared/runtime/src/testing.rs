//! Test support: a queue that records what it is sent, or fails on demand.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use bridge_domain::ports::{PortError, PortResult, Queue, Service};

use bridge_domain::routing::JobKind;

use bridge_domain::event::QueuedEvent;

/// Records every event sent; answers `Unavailable` while `failing` is set.
#[derive(Debug, Default)]
pub struct RecordingQueue {
    /// What was sent, in order.
    pub sent: Mutex<Vec<(JobKind, QueuedEvent)>>,
    /// Fail every send while true.
    pub failing: AtomicBool,
}

impl RecordingQueue {
    /// How many events were sent.
    pub fn count(&self) -> usize {
        self.sent.lock().map(|s| s.len()).unwrap_or(0)
    }
}

impl Queue for RecordingQueue {
    async fn send(&self, job: JobKind, event: &QueuedEvent) -> PortResult<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PortError::unavailable(Service::Queue, "injected queue outage"));
        }
        if let Ok(mut s) = self.sent.lock() {
            s.push((job, event.clone()));
        }
        Ok(())
    }
}

/// Message control for batches run without SQS: dead letters and delays are dropped, no dead
/// letter is purged.
#[derive(Debug, Default)]
pub struct NoControl;

impl bridge_domain::erasure::DeadLetterPurge for NoControl {
    async fn purge_dead_letters(
        &self,
        _matches: &(dyn Fn(&bridge_domain::event::Entity, &serde_json::Value) -> bool + Send + Sync),
    ) -> PortResult<usize> {
        Ok(0)
    }
}

impl crate::driver::MessageControl for NoControl {
    async fn dead_letter(&self, _letter: &crate::driver::DeadLetter) -> Result<(), String> {
        Ok(())
    }
    async fn delay(&self, _job: JobKind, _receipt: &str, _delay: std::time::Duration) -> Result<(), String> {
        Ok(())
    }
}
