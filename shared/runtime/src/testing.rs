//! Test support: a queue that records what it is sent, or fails on demand; log lines captured
//! in memory.

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

/// Log lines captured in memory: the writer of a test's subscriber (`MakeWriter`), read back
/// with [`LogLines::text`].
#[derive(Debug, Clone, Default)]
pub struct LogLines(std::sync::Arc<Mutex<Vec<u8>>>);

impl LogLines {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned()
    }
}

impl std::io::Write for LogLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogLines {
    type Writer = LogLines;
    fn make_writer(&'a self) -> LogLines {
        self.clone()
    }
}
