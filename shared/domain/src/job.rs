//! The jobs' queues, named once: the lowest module of the crate, so the store keys, the ports
//! and the configuration can name a job without depending on the routing rules.

use serde::{Deserialize, Serialize};

/// The jobs' queues (one FIFO queue, DLQ and worker function each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Job 1.
    Escalate,
    /// Job 3.
    TicketStatus,
    /// Job 4.
    TagSync,
    /// Jobs 5 and 6.
    TicketIntake,
    /// Job 2 (and GDPR erasure, contact merges).
    ProfileSync,
}

impl JobKind {
    /// Every job.
    pub const ALL: [JobKind; 5] =
        [JobKind::Escalate, JobKind::TicketStatus, JobKind::TagSync, JobKind::TicketIntake, JobKind::ProfileSync];

    /// Kebab-case name, as used for queues, functions and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Escalate => "escalate",
            JobKind::TicketStatus => "ticket-status",
            JobKind::TagSync => "tag-sync",
            JobKind::TicketIntake => "ticket-intake",
            JobKind::ProfileSync => "profile-sync",
        }
    }

    /// The job named `name` (`escalate`, `ticket-status`, ...).
    pub fn parse(name: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|j| j.as_str() == name)
    }

    /// Jobs whose worker drops an event caused only by the bridge itself before anything else,
    /// even before it claims the delivery (an echo then costs no store write). The other jobs
    /// compare the fields they would write with what the bridge last wrote (per-field guard).
    pub fn drops_own_echoes_first(self) -> bool {
        matches!(self, JobKind::Escalate)
    }

    /// Jobs whose every effect is guarded by its own intent or by a conditional write (job 1:
    /// the link, the write-back's and each appended part's intents), so a delivery run twice
    /// changes nothing: their worker keeps no per-delivery marker, which saves two store writes
    /// per event. The other jobs claim each delivery and mark it done.
    pub fn needs_delivery_marker(self) -> bool {
        !matches!(self, JobKind::Escalate)
    }
}
