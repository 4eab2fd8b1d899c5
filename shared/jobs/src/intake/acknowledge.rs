//! Job 5: a new ticket acknowledged with a proactive Intercom message to its requester (the
//! channels, the message and the SLA promise from the configuration).
//!
//! Exactly once per ticket: intent `intake-ack#<ticket>`. Intercom has no idempotency key, so
//! the done marker records the returned message id (or why nothing was sent). A crash in the
//! instant between Intercom accepting the message and the marker being written is the one
//! window in which a retry can send a second message.

use bridge_domain::intake::{self, AckConfig, AckDecision, AckFacts, Lookup};
use bridge_domain::keys::Intent;
use bridge_domain::model::Ticket;
use bridge_domain::ports::{Claim, Helpdesk, Messenger, Store};

use super::requester::cached_lookup;
use super::{LEASE, Step, busy};
use crate::{JobError, Ports};

/// How the done marker of a sent acknowledgement starts.
const ACKNOWLEDGED: &str = "acknowledged with message";

/// Acknowledges `ticket` unless it was before (whether to send is the domain's decision:
/// channel, requester, the bridge's own tickets).
pub(super) async fn acknowledge<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    cfg: &AckConfig,
    origin: Option<&'static str>,
    holder: &str,
    lookup: &mut Option<Lookup>,
) -> Result<Step, JobError> {
    let intent = Intent::Acknowledge(ticket.id);
    match p.store.claim(&intent, holder, LEASE, p.clock.now()).await? {
        Claim::Busy => Err(busy(format!("acknowledgement of ticket {} in progress elsewhere", ticket.id))),
        Claim::Done(done) => Ok(Step { summary: format!("already acknowledged ({done})"), acted: false }),
        Claim::Acquired => {
            let result = acknowledge_claimed(p, ticket, cfg, origin, lookup).await;
            let done = crate::settle(p.store, &intent, holder, result).await?;
            Ok(Step { acted: done.starts_with(ACKNOWLEDGED), summary: done })
        }
    }
}

/// Decides and sends the acknowledgement; returns the done-marker text (the message id).
async fn acknowledge_claimed<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    cfg: &AckConfig,
    origin: Option<&'static str>,
    cache: &mut Option<Lookup>,
) -> Result<String, JobError> {
    let config = p.config;
    // Cheap checks first: no Intercom look-up for tickets that are never acknowledged.
    let not_found = Lookup::NotFound;
    let channel = ticket.via_channel.as_deref().map(intake::normalize_channel).unwrap_or_default();
    let wanted = origin.is_none() && cfg.channels.iter().any(|c| intake::normalize_channel(c) == channel);
    let lookup = if wanted { cached_lookup(p, ticket, cache).await? } else { &not_found };
    let now = p.clock.now();
    let plan = lookup.profile().and_then(|pr| intake::customer_plan(pr, config.routing.as_ref(), now));
    let sla = if wanted { p.zendesk.ticket_sla(ticket.id).await? } else { None };
    let facts = AckFacts { ticket, bridge_origin: origin, lookup, plan: plan.as_deref(), sla: sla.as_ref() };
    match intake::acknowledgement(facts, cfg, &config.intercom.bot_admin_id) {
        AckDecision::Skip(why) => {
            tracing::info!(ticket_id = %ticket.id, reason = %why, "not acknowledged");
            Ok(format!("not acknowledged: {why}"))
        }
        AckDecision::Send(message) => {
            let id = p.intercom.send_message(&message).await?;
            tracing::info!(ticket_id = %ticket.id, contact_id = %message.to, message_id = %id, "acknowledged");
            Ok(format!("{ACKNOWLEDGED} {id}"))
        }
    }
}
