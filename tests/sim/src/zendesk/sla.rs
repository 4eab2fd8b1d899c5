//! SLA policies, as far as the bridge reads them: the `include=slas` sideload of
//! `GET /api/v2/tickets/{id}` (`ticket.slas.policy_metrics[]` with `breach_at`, `stage`,
//! `metric`). Policies are seeded (no policy API here); the first whose conditions (priority,
//! group, each optional) match a ticket applies a `first_reply_time` target counted from the
//! ticket's creation. A ticket no policy matches answers `{"policy_metrics": []}`.

use serde_json::{Value, json};

use super::ZendeskSim;
use super::model::{TicketRec, iso};

/// The seeded SLA policies, in order (first match wins, like Zendesk's policy order).
#[derive(Debug, Clone, Default)]
pub struct SlaState {
    /// Policies.
    pub policies: Vec<SlaPolicy>,
}

/// One SLA policy with a first-reply target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    /// Applies to tickets with this priority (`urgent`, `high`, …) when set.
    pub priority: Option<String>,
    /// Applies to tickets in this group when set.
    pub group_id: Option<u64>,
    /// First reply target in minutes.
    pub first_reply_minutes: u64,
}

impl SlaPolicy {
    fn matches(&self, t: &TicketRec) -> bool {
        self.priority.as_deref().is_none_or(|p| t.priority.as_deref().is_some_and(|tp| tp.eq_ignore_ascii_case(p)))
            && self.group_id.is_none_or(|g| t.group_id == Some(g))
    }
}

/// The `slas` object of a ticket.
pub fn slas_json(sla: &SlaState, t: &TicketRec) -> Value {
    let metrics: Vec<Value> = sla
        .policies
        .iter()
        .find(|p| p.matches(t))
        .map(|p| {
            let minutes = i64::try_from(p.first_reply_minutes).unwrap_or(i64::MAX / 120);
            json!({
                "breach_at": iso(t.created_at.saturating_add(minutes.saturating_mul(60))),
                "stage": "active",
                "metric": "first_reply_time",
                "hours": minutes / 60,
                "minutes": minutes % 60,
                "days": 0
            })
        })
        .into_iter()
        .collect();
    json!({ "policy_metrics": metrics })
}

impl ZendeskSim {
    /// Seeds an SLA policy with a first-reply target for tickets of `priority` and/or `group_id`
    /// (both `None`: every ticket). Policies apply in the order they were added.
    pub fn add_sla_policy(&self, priority: Option<&str>, group_id: Option<u64>, first_reply_minutes: u64) {
        let policy = SlaPolicy { priority: priority.map(str::to_string), group_id, first_reply_minutes };
        self.with_state(|s| s.sla.policies.push(policy));
    }
}
