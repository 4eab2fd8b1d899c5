//! Job 6: a new ticket routed by the requester's Intercom profile (group, assignee, priority,
//! tags, and the reason as an internal note or a custom field).
//!
//! Exactly once per ticket: intent `intake-route#<ticket>` (claim, act, complete). The internal
//! note carries a marker and is looked for before it is written, so a crash between the update
//! and the done marker never gives a second note; fields and tag additions are naturally
//! repeatable.

use bridge_domain::intake::{self, Lookup, ReasonTarget, RouteDecision, RoutingConfig};
use bridge_domain::keys::Intent;
use bridge_domain::model::{FieldValue, Ticket, TicketComment, TicketUpdate};
use bridge_domain::ports::{Claim, Helpdesk, Messenger, Store};

use super::requester::cached_lookup;
use super::{LEASE, Step, busy};
use crate::{JobError, Ports};

/// Routes `ticket` unless the bridge made it (`origin`) or it was routed before.
pub(super) async fn route<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    cfg: &RoutingConfig,
    origin: Option<&'static str>,
    holder: &str,
    lookup: &mut Option<Lookup>,
) -> Result<Step, JobError> {
    if let Some(why) = origin {
        return Ok(Step { summary: format!("not routed ({why})"), acted: false });
    }
    let intent = Intent::Route(ticket.id);
    match p.store.claim(&intent, holder, LEASE, p.clock.now()).await? {
        Claim::Busy => Err(busy(format!("routing of ticket {} in progress elsewhere", ticket.id))),
        Claim::Done(done) => Ok(Step { summary: format!("already routed ({done})"), acted: false }),
        Claim::Acquired => {
            let result = route_claimed(p, ticket, cfg, lookup).await;
            let done = crate::settle(p.store, &intent, holder, result).await?;
            Ok(Step { summary: done, acted: true })
        }
    }
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
