//! Link lifecycle and loop-guard records, shared by jobs 1, 3 and 4.
//!
//! - [`resolve_link`] finds the link an event about a ticket belongs to, moving it first when
//!   the ticket was merged (the `ticket.merged` event names the target) or is a follow-up of
//!   the linked closed ticket.
//! - [`move_link`] applies a domain [`LinkChange`] with an optimistic update.
//! - [`create_followup`] replaces a closed ticket by a follow-up (`via_followup_source_id`).
//! - [`load_written`] / [`record_written`] keep the loop guard's per-entity written hashes.

use std::collections::BTreeMap;
use std::time::Duration;

use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::{ContactId, ConversationId, TicketId};
use bridge_domain::keys::DocKey;
use bridge_domain::links::{self, LinkChange, Transition};
use bridge_domain::loop_guard::Written;
use bridge_domain::model::{Link, NewTicket, Ticket, TicketComment};
use bridge_domain::ports::{Helpdesk, Messenger, PortError, Service, Store};
use serde_json::Value;

use crate::{JobError, Ports};

/// How long to wait before retrying a contended update.
pub const BUSY_RETRY: Duration = Duration::from_secs(2);

/// A retry caused by contention in the store.
pub fn busy(detail: String) -> JobError {
    JobError::Retry { after: Some(BUSY_RETRY), source: PortError::Conflict { service: Service::Store, detail } }
}

/// Applies `change` to the link of the conversation, re-reading on version conflicts. Returns
/// the link as stored afterwards (unchanged when the change was stale or already applied).
///
/// A link that moves onto a ticket other conversations already follow (two tickets merged
/// into one) names them in `shared_with`, and they name it, so a change of that ticket reaches
/// them all ([`links_sharing`]).
pub async fn move_link<S: Store, I, Z>(
    p: &Ports<'_, S, I, Z>,
    link: &Link,
    change: &LinkChange,
) -> Result<Link, JobError> {
    let mut current = link.clone();
    for _ in 0..5 {
        match links::apply(&current, change, p.clock.now()) {
            Transition::Moved(next) => {
                let mut next = *next;
                if next.ticket_id != current.ticket_id {
                    next.shared_with = conversations_on(p, next.ticket_id, &next.conversation_id).await?;
                }
                if p.store.update_link(&next, current.version).await? {
                    tracing::info!(
                        conversation_id = %next.conversation_id,
                        ticket_id = %next.ticket_id,
                        change = ?change,
                        "link moved"
                    );
                    next.version = current.version.saturating_add(1);
                    introduce_to_peers(p, &next).await?;
                    return Ok(next);
                }
            }
            Transition::AlreadyApplied => {
                // A redelivery: the peers may not have been told if the first run died.
                introduce_to_peers(p, &current).await?;
                return Ok(current);
            }
            Transition::Stale => return Ok(current),
        }
        current = p
            .store
            .link_by_conversation(&link.conversation_id)
            .await?
            .ok_or_else(|| JobError::permanent(format!("link of {} vanished", link.conversation_id)))?;
    }
    Err(busy(format!("link of {} keeps changing", link.conversation_id)))
}

/// The conversations other than `me` whose links follow `ticket`, as its index entry knows them.
async fn conversations_on<S: Store, I, Z>(
    p: &Ports<'_, S, I, Z>,
    ticket: TicketId,
    me: &ConversationId,
) -> Result<Vec<ConversationId>, JobError> {
    let Some(other) = p.store.link_by_ticket(ticket).await? else {
        return Ok(Vec::new());
    };
    let follows = other.ticket_id == ticket && other.conversation_id != *me;
    let mut found: Vec<ConversationId> = other.shared_with.into_iter().filter(|c| c != me).collect();
    if follows {
        found.push(other.conversation_id);
    }
    Ok(found)
}

/// Adds `link`'s conversation to the `shared_with` of each peer that still follows its ticket.
async fn introduce_to_peers<S: Store, I, Z>(p: &Ports<'_, S, I, Z>, link: &Link) -> Result<(), JobError> {
    'peers: for peer in &link.shared_with {
        for _ in 0..5 {
            let Some(mut other) = p.store.link_by_conversation(peer).await? else { continue 'peers };
            if other.ticket_id != link.ticket_id || other.shared_with.contains(&link.conversation_id) {
                continue 'peers;
            }
            other.shared_with.push(link.conversation_id.clone());
            if p.store.update_link(&other, other.version).await? {
                continue 'peers;
            }
        }
        return Err(busy(format!("link of {peer} keeps changing")));
    }
    Ok(())
}

/// `link` and the links of the other conversations that follow the same live ticket (after a
/// merge of their tickets), each read fresh; conversations that have moved on are left out.
pub async fn links_sharing<S: Store, I, Z>(p: &Ports<'_, S, I, Z>, link: Link) -> Result<Vec<Link>, JobError> {
    let mut all = Vec::with_capacity(1 + link.shared_with.len());
    for peer in &link.shared_with {
        if let Some(other) = p.store.link_by_conversation(peer).await?
            && other.ticket_id == link.ticket_id
        {
            all.push(other);
        }
    }
    all.insert(0, link);
    Ok(all)
}

/// The merge target named by a `ticket.merged` event, if this is one.
pub fn merge_target(event: &QueuedEvent) -> Option<TicketId> {
    if !event.topic.ends_with("ticket.merged") {
        return None;
    }
    let e = event.payload.get("event")?;
    ["target_ticket_id", "target_id", "current"]
        .iter()
        .find_map(|k| id_in(e.get(*k)).and_then(|n| TicketId::new(n).ok()))
}

fn id_in(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The Zendesk user who made the change, as the payload says (`detail.actor_id` of an event,
/// `updated_by` of the trigger body).
pub fn zendesk_actor(event: &QueuedEvent) -> Option<u64> {
    id_in(event.payload.pointer("/detail/actor_id")).or_else(|| id_in(event.payload.get("updated_by")))
}

/// The ticket status the payload reports.
pub fn zendesk_payload_status(event: &QueuedEvent) -> Option<bridge_domain::model::TicketStatus> {
    let text = if event.topic.ends_with("ticket.status_changed") {
        event.payload.pointer("/event/current")
    } else {
        event.payload.pointer("/detail/status").or_else(|| event.payload.get("status"))
    };
    text.and_then(Value::as_str).and_then(bridge_domain::model::TicketStatus::parse)
}

/// Finds the link of `ticket` (the ticket the event is about), following a merge named by
/// the event and a follow-up of the linked closed ticket. `None`: not a linked ticket.
pub async fn resolve_link<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    ticket: &Ticket,
    event: &QueuedEvent,
) -> Result<Option<Link>, JobError> {
    if let Some(link) = p.store.link_by_ticket(ticket.id).await? {
        if let Some(target) = merge_target(event).filter(|t| *t != ticket.id) {
            return Ok(Some(move_link(p, &link, &LinkChange::Merged { from: ticket.id, to: target }).await?));
        }
        return Ok(Some(link));
    }
    let Some(source) = ticket.followup_source_id else {
        return Ok(None);
    };
    let Some(link) = p.store.link_by_ticket(source).await? else {
        return Ok(None);
    };
    Ok(Some(move_link(p, &link, &LinkChange::FollowUp { from: source, to: ticket.id }).await?))
}

/// Follows an Intercom contact merge on the link.
pub async fn follow_contact_merge<S: Store, I, Z>(
    p: &Ports<'_, S, I, Z>,
    link: &Link,
    from: ContactId,
    to: ContactId,
) -> Result<Link, JobError> {
    move_link(p, link, &LinkChange::ContactMerged { from, to }).await
}

/// Creates a follow-up of the closed live ticket with `first` as its description, and moves
/// the link to it. Idempotent: the create carries a key derived from the closed ticket.
pub async fn create_followup<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    link: &Link,
    closed: &Ticket,
    first: TicketComment,
) -> Result<Link, JobError> {
    let requester_id = link
        .requester_id
        .or(closed.requester_id)
        .ok_or_else(|| JobError::permanent(format!("ticket {} has no requester", closed.id)))?;
    let new = NewTicket {
        subject: closed.subject.clone().unwrap_or_else(|| format!("Follow-up of #{}", closed.id)),
        comment: first,
        requester_id,
        organization_id: closed.organization_id,
        priority: closed.priority,
        group_id: closed.group_id,
        tags: closed.tags.iter().filter(|t| t.as_str() != "closed_by_merge").cloned().collect(),
        external_id: closed.external_id.clone(),
        custom_fields: BTreeMap::new(),
        followup_source_id: Some(closed.id),
    };
    let key = links::followup_key(closed.id, &link.conversation_id);
    let created = match p.zendesk.create_ticket(&new, &key).await {
        // The key with another body: an earlier attempt made the follow-up and died before the
        // link moved (its comment's upload tokens differed). Find that follow-up.
        Err(PortError::Conflict { .. }) if new.external_id.is_some() => {
            let ext = new.external_id.as_deref().unwrap_or_default();
            let found = p.zendesk.tickets_by_external_id(ext).await?;
            match found.into_iter().filter(|t| t.followup_source_id == Some(closed.id)).min_by_key(|t| t.id) {
                Some(t) => t,
                None => return Err(busy(format!("follow-up of ticket {} being created elsewhere", closed.id))),
            }
        }
        other => other?,
    };
    tracing::info!(
        conversation_id = %link.conversation_id,
        closed_ticket_id = %closed.id,
        ticket_id = %created.id,
        "follow-up created for a closed ticket"
    );
    move_link(p, link, &LinkChange::FollowUp { from: closed.id, to: created.id }).await
}

/// What the bridge last wrote on an entity (`key` is a [`DocKey::Written`]).
pub async fn load_written<S: Store>(store: &S, key: &DocKey) -> Result<(Written, Option<u64>), JobError> {
    Ok(match store.load::<Written>(key).await? {
        Some(v) => (v.value, Some(v.version)),
        None => (Written::default(), None),
    })
}

/// Records (or, with `None`, forgets) what the bridge wrote to `field` of an entity.
pub async fn record_written<S: Store>(
    store: &S,
    key: &DocKey,
    field: &str,
    fingerprint: Option<String>,
) -> Result<(), JobError> {
    for _ in 0..5 {
        let (mut written, version) = load_written(store, key).await?;
        match &fingerprint {
            Some(fp) => written.record(field, fp.clone()),
            None => {
                if written.fields.remove(field).is_none() {
                    return Ok(());
                }
            }
        }
        if store.save(key, &written, version).await? {
            return Ok(());
        }
    }
    Err(busy(format!("{key} keeps changing")))
}

/// Logs a suppressed echo with the entity ids.
pub fn log_suppressed(job: &str, conversation: &str, ticket: TicketId, why: &str) {
    tracing::info!(job, conversation_id = conversation, ticket_id = %ticket, reason = why, "loop suppressed");
}

/// Reads the live ticket of a link (the event's own ticket when it is the live one).
pub async fn live_ticket<H: Helpdesk>(helpdesk: &H, link: &Link, event_ticket: Ticket) -> Result<Ticket, JobError> {
    if event_ticket.id == link.ticket_id { Ok(event_ticket) } else { Ok(helpdesk.ticket(link.ticket_id).await?) }
}
