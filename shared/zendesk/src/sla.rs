//! The SLA policy target Zendesk applied to a ticket: `GET /tickets/{id}?include=slas`, whose
//! ticket carries `slas.policy_metrics[]` (`metric`, `stage`, `breach_at`, and the target as
//! `days`/`hours`/`minutes` where Zendesk gives it).

use bridge_domain::model::{SlaTarget, Timestamp};
use serde::Deserialize;

use crate::client::{Call, ZdResult, ZendeskClient};

/// One entry of `slas.policy_metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PolicyMetric {
    /// `first_reply_time`, `next_reply_time`, `agent_work_time`, …
    pub metric: String,
    /// `active`, `paused`, `achieved`.
    pub stage: Option<String>,
    /// When the target is breached (RFC 3339).
    pub breach_at: Option<String>,
    /// Target parts, where given.
    pub days: Option<u64>,
    /// Target hours part.
    pub hours: Option<u64>,
    /// Target minutes part.
    pub minutes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Slas {
    policy_metrics: Vec<PolicyMetric>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TicketWithSlas {
    slas: Option<Slas>,
}

impl ZendeskClient {
    /// `GET /tickets/{id}?include=slas`: the ticket's SLA policy metrics (empty without a policy).
    pub async fn ticket_policy_metrics(&self, id: u64) -> ZdResult<Vec<PolicyMetric>> {
        let call = Call::get(format!("/tickets/{id}")).query("include", "slas");
        let ticket: TicketWithSlas = self.send(&call).await?.take("ticket")?;
        Ok(ticket.slas.map(|s| s.policy_metrics).unwrap_or_default())
    }
}

/// The target to quote to the customer: the active first-reply metric if there is one, else the
/// first active metric; `None` when nothing is active or no breach time is known.
pub fn target(metrics: &[PolicyMetric]) -> Option<SlaTarget> {
    let active = |m: &&PolicyMetric| m.stage.as_deref().is_none_or(|s| s == "active") && m.breach_at.is_some();
    let chosen = metrics
        .iter()
        .filter(active)
        .find(|m| m.metric == "first_reply_time")
        .or_else(|| metrics.iter().find(active))?;
    let parts = [chosen.days.map(|d| d * 24 * 60), chosen.hours.map(|h| h * 60), chosen.minutes];
    let target_minutes =
        parts.iter().any(Option::is_some).then(|| parts.iter().flatten().sum::<u64>()).filter(|m| *m > 0);
    Some(SlaTarget {
        metric: chosen.metric.clone(),
        breach_at: chosen.breach_at.as_deref().and_then(Timestamp::parse_rfc3339),
        target_minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(metric: &str, stage: &str, breach_at: Option<&str>) -> PolicyMetric {
        PolicyMetric {
            metric: metric.into(),
            stage: Some(stage.into()),
            breach_at: breach_at.map(str::to_string),
            ..PolicyMetric::default()
        }
    }

    #[test]
    fn active_first_reply_target_wins() {
        let mut first = metric("first_reply_time", "active", Some("2026-01-01T02:00:00Z"));
        first.hours = Some(2);
        first.minutes = Some(0);
        let metrics = [metric("agent_work_time", "active", Some("2026-01-03T00:00:00Z")), first];
        let t = target(&metrics).unwrap();
        assert_eq!(t.metric, "first_reply_time");
        assert_eq!(t.breach_at, Timestamp::parse_rfc3339("2026-01-01T02:00:00Z"));
        assert_eq!(t.target_minutes, Some(120));
    }

    #[test]
    fn achieved_or_missing_breach_gives_no_target_and_parts_are_optional() {
        assert_eq!(target(&[metric("first_reply_time", "achieved", Some("2026-01-01T02:00:00Z"))]), None);
        assert_eq!(target(&[metric("first_reply_time", "active", None)]), None);
        assert_eq!(target(&[]), None);
        let t = target(&[metric("next_reply_time", "active", Some("2026-01-01T02:00:00Z"))]).unwrap();
        assert_eq!((t.metric.as_str(), t.target_minutes), ("next_reply_time", None));
    }
}
