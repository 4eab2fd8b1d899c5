//! Jobs 5 and 6, one worker: a new Zendesk ticket is routed by the requester's Intercom
//! profile and acknowledged with a proactive Intercom message.
//!
//! The webhook (`ticket.created` event, or the `ticket_created` trigger body) is only a hint:
//! the ticket is re-read from Zendesk, the requester looked up in Intercom, and the domain rules
//! in [`bridge_domain::intake`] decide.
//!
//! Requester look-up order: the stored `PERSON#ZD#<user id>` mapping (written on the first
//! look-up), then the Zendesk user's external id (Intercom users), then the email (exactly one
//! contact; several = ambiguous, which gives the flagged default route and no acknowledgement).
//!
//! Exactly once under any number of deliveries, per ticket:
//! - routing: intent `intake-route#<ticket>` (claim, act, complete). The internal note carries a
//!   marker and is looked for before it is written, so a crash between the update and the done
//!   marker never gives a second note; fields and tag additions are naturally repeatable.
//! - acknowledgement: intent `intake-ack#<ticket>`; Intercom has no idempotency key, so the done
//!   marker records the returned message id (or why nothing was sent). A crash in the instant
//!   between Intercom accepting the message and the marker being written is the one window in
//!   which a retry can send a second message.
//!
//! Tickets the bridge created itself (escalations: external id prefix, an existing link, or
//! created by the bridge's own Zendesk user) are neither routed nor acknowledged.

use std::time::Duration;

use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::{ContactId, UserId};
use bridge_domain::intake::{
    self, AckDecision, AckFacts, CustomerProfile, FoundBy, Lookup, ReasonTarget, RouteDecision, RoutingConfig,
};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{FieldValue, Ticket, TicketComment, TicketUpdate};
use bridge_domain::ports::Doc;
use bridge_domain::ports::{Claim, Helpdesk, Messenger, PortError, Service, Store};
use serde::{Deserialize, Serialize};

use crate::{JobError, JobResult, Outcome, Ports, holder_for, wrong_entity};

/// How long a worker may hold an intake lease.
const LEASE: Duration = Duration::from_secs(120);
/// How long to wait when another worker holds the lease.
const BUSY_RETRY: Duration = Duration::from_secs(5);

/// Topics that announce a new ticket (event-subscribed and trigger variants).
pub const CREATED_TOPICS: [&str; 3] = ["zen:event-type:ticket.created", "ticket.created", "trigger.ticket_created"];

/// How the done marker of a sent acknowledgement starts.
const ACKNOWLEDGED: &str = "acknowledged with message";

/// Stored mapping from a Zendesk requester to their Intercom contact.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ZendeskPersonDoc {
    intercom_contact_id: ContactId,
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
    let mut lookup: Option<Lookup> = None;
    let mut summary = Vec::new();
    // Whether this run changed anything (a route written, a message sent); a run that only
    // found things done or decided not to act is skipped (a sweep counts only real repairs).
    let mut acted = false;

    if let Some(cfg) = &config.routing {
        if let Some(why) = origin {
            summary.push(format!("not routed ({why})"));
        } else {
            let intent = Intent::Route(ticket_id);
            match p.store.claim(&intent, &holder, LEASE, p.clock.now()).await? {
                Claim::Busy => return Err(busy(format!("routing of ticket {ticket_id} in progress elsewhere"))),
                Claim::Done(done) => summary.push(format!("already routed ({done})")),
                Claim::Acquired => {
                    let result = route_claimed(p, &ticket, cfg, &mut lookup).await;
                    let done = crate::settle(p.store, &intent, &holder, result).await?;
                    summary.push(done);
                    acted = true;
                }
            }
        }
    }

    if let Some(cfg) = &config.acknowledgement {
        let intent = Intent::Acknowledge(ticket_id);
        match p.store.claim(&intent, &holder, LEASE, p.clock.now()).await? {
            Claim::Busy => return Err(busy(format!("acknowledgement of ticket {ticket_id} in progress elsewhere"))),
            Claim::Done(done) => summary.push(format!("already acknowledged ({done})")),
            Claim::Acquired => {
                let result = acknowledge_claimed(p, &ticket, cfg, origin, &mut lookup).await;
                let done = crate::settle(p.store, &intent, &holder, result).await?;
                acted |= done.starts_with(ACKNOWLEDGED);
                summary.push(done);
            }
        }
    }
    let summary = format!("ticket {ticket_id}: {}", summary.join("; "));
    Ok(if acted { Outcome::Done(summary) } else { Outcome::Skipped(summary) })
}

async fn cached_lookup<'a, S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    cache: &'a mut Option<Lookup>,
) -> Result<&'a Lookup, JobError> {
    if cache.is_none() {
        *cache = Some(lookup(p, ticket).await?);
    }
    cache.as_ref().ok_or_else(|| JobError::permanent("lookup cache empty"))
}

/// Finds the requester in Intercom: stored mapping, then external id, then email.
async fn lookup<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
) -> Result<Lookup, JobError> {
    let Some(requester) = ticket.requester_id else {
        return Ok(Lookup::NotFound);
    };
    let key = DocKey::ZendeskPerson(requester);
    let stored = p.store.load::<ZendeskPersonDoc>(&key).await?;
    let mut found = None;
    if let Some(Doc { value: mapping, .. }) = &stored {
        match p.intercom.contact(&mapping.intercom_contact_id).await {
            Ok(c) => found = Some((c, FoundBy::StoredMapping)),
            Err(PortError::Merged { new_id, .. }) => {
                let new_id = ContactId::parse(new_id).map_err(|e| JobError::permanent(e.to_string()))?;
                found = Some((p.intercom.contact(&new_id).await?, FoundBy::StoredMapping));
            }
            // The contact was deleted: look it up again.
            Err(PortError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if found.is_none() {
        let user = match p.zendesk.user(requester).await {
            Ok(u) => u,
            Err(PortError::NotFound { .. }) => return Ok(Lookup::NotFound),
            Err(e) => return Err(e.into()),
        };
        if let Some(ext) = user.external_id.as_deref().filter(|e| !e.trim().is_empty())
            && let Some(c) = p.intercom.contact_by_external_id(ext).await?
        {
            found = Some((c, FoundBy::ExternalId));
        }
        if found.is_none()
            && let Some(email) = user.email.as_deref().filter(|e| !e.trim().is_empty())
        {
            let mut by_email = p.intercom.contacts_by_email(email).await?;
            match by_email.len() {
                0 => {}
                1 => found = by_email.pop().map(|c| (c, FoundBy::Email)),
                n => return Ok(Lookup::Ambiguous(n)),
            }
        }
    }
    let Some((contact, found_by)) = found else {
        return Ok(Lookup::NotFound);
    };
    if found_by != FoundBy::StoredMapping || stored.as_ref().is_some_and(|d| d.value.intercom_contact_id != contact.id)
    {
        let mapping = ZendeskPersonDoc { intercom_contact_id: contact.id.clone() };
        // Best effort: a concurrent writer stores the same mapping.
        let _ = p.store.save(&key, &mapping, stored.as_ref().map(|d| d.version)).await?;
    }
    let segments = p.intercom.contact_segments(&contact.id).await?.into_iter().map(|s| s.name).collect();
    let companies =
        if contact.org_ids.is_empty() { Vec::new() } else { p.intercom.contact_companies(&contact.id).await? };
    Ok(Lookup::Found(Box::new(CustomerProfile { contact, found_by, segments, companies })))
}

/// Decides and applies the route; returns the done-marker text.
async fn route_claimed<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    cfg: &RoutingConfig,
    cache: &mut Option<Lookup>,
) -> Result<String, JobError> {
    let now = p.clock.now();
    let lookup = cached_lookup(p, ticket, cache).await?;
    let decision = intake::route(lookup, cfg, now);
    apply_route(p, ticket, cfg, &decision).await?;
    tracing::info!(
        ticket_id = %ticket.id,
        rule = decision.rule.as_deref().unwrap_or("default"),
        flag = decision.flag.as_ref().map(|f| f.code()).unwrap_or("none"),
        contact_id = lookup.profile().map(|pr| pr.contact.id.to_string()).unwrap_or_default(),
        company_id = decision.company.as_ref().map(|c| c.to_string()).unwrap_or_default(),
        group_id = decision.action.group_id.map(|g| g.get()).unwrap_or_default(),
        "ticket routed"
    );
    let how = match (&decision.rule, &decision.flag) {
        (Some(rule), _) => format!("routed by rule {rule}"),
        (None, Some(flag)) => format!("default route, flagged {}", flag.code()),
        (None, None) => "default route, no rule matched".into(),
    };
    Ok(how)
}

async fn apply_route<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    cfg: &RoutingConfig,
    d: &RouteDecision,
) -> Result<(), JobError> {
    let mut update = TicketUpdate {
        group_id: d.action.group_id,
        assignee_id: d.action.assignee_id,
        priority: d.action.priority,
        ..TicketUpdate::default()
    };
    match (cfg.reason_to, cfg.reason_field_id) {
        (ReasonTarget::CustomField, Some(field)) => {
            update.custom_fields.insert(field, FieldValue::Text(d.reason.clone()));
        }
        _ => {
            // A previous attempt may have written the note and died before its done marker.
            let marker = intake::route_marker(ticket.id);
            let comments = p.zendesk.ticket_comments(ticket.id).await?;
            if !comments.iter().any(|c| c.html_body.contains(&marker)) {
                update.comment = Some(TicketComment {
                    id: None,
                    html_body: intake::route_note_html(d, ticket.id),
                    public: false,
                    author_id: None,
                    created_at: None,
                    uploads: Vec::new(),
                    attachments: Vec::new(),
                });
            }
        }
    }
    if update != TicketUpdate::default() {
        p.zendesk.update_ticket(ticket.id, &update).await?;
    }
    let missing: Vec<String> = d.action.tags.iter().filter(|t| !ticket.tags.contains(t)).cloned().collect();
    if !missing.is_empty() {
        p.zendesk.add_ticket_tags(ticket.id, &missing).await?;
    }
    Ok(())
}

/// Decides and sends the acknowledgement; returns the done-marker text (the message id).
async fn acknowledge_claimed<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    cfg: &intake::AckConfig,
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

#[cfg(test)]
mod tests;
