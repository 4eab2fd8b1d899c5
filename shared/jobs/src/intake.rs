//! Jobs 5 and 6, one worker: a new Zendesk ticket is routed by the requester's Intercom
//! profile (job 6, `intake/route.rs`) and acknowledged with a proactive Intercom message (job 5,
//! `intake/acknowledge.rs`). What both need is here: the one entry point, which re-reads the
//! ticket and decides whether the bridge made it, and the requester look-up
//! (`intake/requester.rs`), done at most once per run for the two jobs.
//!
//! The webhook (`ticket.created` event, or the `ticket_created` trigger body) is only a hint:
//! the ticket is re-read from Zendesk, the requester looked up in Intercom, and the domain rules
//! in [`bridge_domain::intake`] decide. Each job is exactly once per ticket under any number of
//! deliveries through its own intent (`intake-route#<ticket>`, `intake-ack#<ticket>`).
//!
//! Tickets the bridge created itself (escalations: external id prefix, an existing link, or
//! created by the bridge's own Zendesk user) are neither routed nor acknowledged.

use std::time::Duration;

use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::UserId;
use bridge_domain::intake::{self, Lookup};
use bridge_domain::ports::{Helpdesk, Messenger, PortError, Service, Store};

use crate::{JobError, JobResult, Outcome, Ports, holder_for, wrong_entity};

mod acknowledge;
mod requester;
mod route;

/// How long a worker may hold an intake lease.
const LEASE: Duration = Duration::from_secs(120);
/// How long to wait when another worker holds the lease.
const BUSY_RETRY: Duration = Duration::from_secs(5);

/// Topics that announce a new ticket (event-subscribed and trigger variants).
pub const CREATED_TOPICS: [&str; 3] = ["zen:event-type:ticket.created", "ticket.created", "trigger.ticket_created"];

/// What one job did with the ticket: its line of the run's summary, and whether it changed
/// anything (a route written, a message sent).
struct Step {
    summary: String,
    acted: bool,
}

/// Who created the ticket, from the payload (`detail.actor_id` or the trigger's `updated_by`).
fn creator(event: &QueuedEvent) -> Option<UserId> {
    let p = &event.payload;
    let raw = p.pointer("/detail/actor_id").or_else(|| p.get("updated_by"))?;
    match raw {
        serde_json::Value::String(s) => UserId::parse(s).ok(),
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| UserId::new(n).ok()),
        _ => None,
    }
}

/// The retry of an intent another worker holds.
fn busy(what: String) -> JobError {
    JobError::Retry { after: Some(BUSY_RETRY), source: PortError::Conflict { service: Service::Store, detail: what } }
}

/// Runs jobs 5 and 6 for one queued Zendesk event.
pub async fn run<S: Store, I: Messenger, Z: Helpdesk>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> JobResult {
    let Entity::Ticket(ticket_id) = event.entity else {
        return Err(wrong_entity(event, "a ticket"));
    };
    let config = p.config;
    if config.routing.is_none() && config.acknowledgement.is_none() {
        return Ok(Outcome::Skipped("routing and acknowledgement are not configured".into()));
    }
    // A sweep hands over only tickets created in its window.
    if !CREATED_TOPICS.contains(&event.topic.as_str()) && event.topic != bridge_domain::sweep::SWEEP_TOPIC {
        return Ok(Outcome::Skipped(format!("ticket {ticket_id}: {} is not a ticket creation", event.topic)));
    }
    let ticket = match p.zendesk.ticket(ticket_id).await {
        Err(PortError::NotFound { .. }) => return Ok(Outcome::Skipped(format!("ticket {ticket_id} no longer exists"))),
        other => other?,
    };
    let linked = p.store.link_by_ticket(ticket_id).await?.is_some();
    let creator = creator(event);
    let own = match creator {
        Some(_) => Some(p.zendesk.own_user_id().await?),
        None => None,
    };
    let origin = intake::bridge_origin(&ticket, &config.zendesk, linked, creator, own);
    let holder = holder_for(p.worker, event);
    // The requester, looked up by the first job that needs them.
    let mut lookup: Option<Lookup> = None;
    let mut steps = Vec::new();
    if let Some(cfg) = &config.routing {
        steps.push(route::route(p, &ticket, cfg, origin, &holder, &mut lookup).await?);
    }
    if let Some(cfg) = &config.acknowledgement {
        steps.push(acknowledge::acknowledge(p, &ticket, cfg, origin, &holder, &mut lookup).await?);
    }
    // A run that only found things done or decided not to act is skipped (a sweep counts only
    // real repairs).
    let acted = steps.iter().any(|s| s.acted);
    let summary = steps.into_iter().map(|s| s.summary).collect::<Vec<_>>().join("; ");
    let summary = format!("ticket {ticket_id}: {summary}");
    Ok(if acted { Outcome::Done(summary) } else { Outcome::Skipped(summary) })
}

#[cfg(test)]
mod tests;
