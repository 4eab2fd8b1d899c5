//! Job 3: Zendesk ticket status and agent comments back to the linked Intercom conversation.
//!
//! The webhook (event-subscribed or trigger body) is a hint: the job finds the link (following
//! merges and follow-ups, so an event about an old ticket still reaches the conversation),
//! re-reads the live ticket and acts on what it holds now:
//! 1. agent comments not yet relayed become admin replies (public) or notes (internal, when
//!    configured), each exactly once (`relay#<conversation>#<comment>` intents);
//! 2. a status different from the one last acted on triggers the configured effects (message,
//!    close/open/snooze, tags), each exactly once (`status#<conversation>#<generation>#<action>`
//!    intents; the generation is bumped once the effects are done).
//!
//! Re-reading makes duplicate and out-of-order deliveries converge: a stale event sees the
//! current status, already acted on, and does nothing. A status the bridge itself caused (a
//! customer reply appended to a solved ticket reopens it) is recognised by the loop guard and
//! only recorded.
//!
//! One window remains: Intercom takes no idempotency key, so if the worker dies after Intercom
//! accepted a reply or message and before its intent is marked done, the retry sends it again
//! (the chaos suite allows exactly that crash point and no other duplicate).

use std::collections::BTreeMap;
use std::time::Duration;

use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::{CommentId, TicketId, UserId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::loop_guard;
use bridge_domain::model::{AdminPost, FieldValue, Link, LinkEvent, Ticket, TicketPriority, TicketStatus};
use bridge_domain::ports::{Claim, Helpdesk, Messenger, PortError, Store};
use bridge_domain::status::{self, CommentAuthor, Relay, StatusAction, TemplateValues};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{self, busy};
use crate::{JobError, JobResult, Outcome, Ports, holder_for, wrong_entity};

const LEASE: Duration = Duration::from_secs(120);

/// Per-conversation state of job 3.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusDoc {
    /// The live ticket this state is about.
    pub ticket: Option<TicketId>,
    /// The status last acted on.
    pub status: Option<TicketStatus>,
    /// Bumped each time a status was acted on; part of the effects' intent names.
    pub generation: u64,
    /// Comments up to this id are relayed or were there before the ticket was linked.
    pub relayed_up_to: Option<CommentId>,
    /// The priority last written to `priority_attribute`.
    #[serde(default)]
    pub priority: Option<TicketPriority>,
}

/// Runs job 3 for one queued Zendesk event.
#[tracing::instrument(skip_all, fields(entity = %event.entity))]
pub async fn run<S: Store, I: Messenger, Z: Helpdesk>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> JobResult {
    let Entity::Ticket(ticket_id) = event.entity else {
        return Err(wrong_entity(event, "a ticket"));
    };
    let Some(cfg) = p.config.ticket_status.as_ref() else {
        return Ok(Outcome::Skipped("ticket_status is not configured".into()));
    };
    let event_ticket = match p.zendesk.ticket(ticket_id).await {
        Err(PortError::NotFound { .. }) => return Ok(Outcome::Skipped(format!("ticket {ticket_id} not found"))),
        other => other?,
    };
    let Some(link) = lifecycle::resolve_link(p, &event_ticket, event).await? else {
        return Ok(Outcome::Skipped(format!("ticket {ticket_id} is not linked")));
    };
    let live = lifecycle::live_ticket(p.zendesk, &link, event_ticket).await?;
    let own = p.zendesk.own_user_id().await?;
    // After a merge of their tickets, several conversations follow the live ticket: each is told.
    let mut outcomes = Vec::with_capacity(1 + link.shared_with.len());
    for link in lifecycle::links_sharing(p, link).await? {
        outcomes.push(reflect(p, cfg, &link, &live, own, event).await?);
    }
    Ok(Outcome::combine(outcomes))
}

/// Reflects the live ticket onto one conversation that follows it: comments, status, priority.
async fn reflect<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    cfg: &status::TicketStatusConfig,
    link: &Link,
    live: &Ticket,
    own: UserId,
    event: &QueuedEvent,
) -> JobResult {
    let holder = holder_for(p.worker, event);

    let key = DocKey::TicketStatus(link.conversation_id.clone());
    let loaded = p.store.load::<StatusDoc>(&key).await?;
    let version = loaded.as_ref().map(|v| v.version);
    let mut doc = loaded.map(|v| v.value).unwrap_or_default();
    if doc.ticket.is_some_and(|t| t != live.id) {
        // The link moved: comments already on a merge target are not news to the customer;
        // a follow-up is new and starts empty.
        doc.relayed_up_to = if live.followup_source_id.is_some() {
            None
        } else {
            p.zendesk.ticket_comments(live.id).await?.iter().filter_map(|c| c.id).max()
        };
    }
    let moved_here = link
        .history
        .iter()
        .any(|h| matches!(h, LinkEvent::Merged { to, .. } | LinkEvent::FollowUp { to, .. } if *to == live.id));
    if moved_here && doc.ticket != Some(live.id) {
        // The conversation's ticket attribute and note follow the ticket the link moved to.
        let conversation = p.intercom.conversation(&link.conversation_id).await?;
        crate::escalate::finish_writeback(p, &conversation, link, live.id, &holder).await?;
    }
    doc.ticket = Some(live.id);

    let relayed = relay_comments(p, cfg, link, live, own, &mut doc, &holder).await?;
    let mut priority_set = false;
    let status = apply_status(p, cfg, link, live, own, event, &mut doc, &holder).await?;
    if let Some(name) = &cfg.priority_attribute
        && live.priority.is_some()
        && live.priority != doc.priority
    {
        // Intercom has no API for a conversation's own priority: it lands in this attribute.
        let value = live.priority.map(|p| p.as_str()).unwrap_or_default().to_string();
        let attributes = BTreeMap::from([(name.clone(), FieldValue::Text(value))]);
        p.intercom.set_conversation_attributes(&link.conversation_id, &attributes).await?;
        doc.priority = live.priority;
        priority_set = true;
    }

    if !p.store.save(&key, &doc, version).await? {
        // Someone else moved the state on; the intents keep the effects single, so rerun.
        return Err(busy(format!("{key} changed during the run")));
    }
    let conv = &link.conversation_id;
    match status {
        StatusResult::Suppressed(why) if relayed == 0 => {
            lifecycle::log_suppressed("ticket-status", conv.as_str(), live.id, why);
            Ok(Outcome::LoopSuppressed(format!("conversation {conv}, ticket {}: {why}", live.id)))
        }
        StatusResult::Applied(event_name, n) => Ok(Outcome::Done(format!(
            "conversation {conv}, ticket {}: {relayed} comments relayed; {event_name}: {n} effects",
            live.id
        ))),
        _ if relayed > 0 || priority_set => Ok(Outcome::Done(format!(
            "conversation {conv}, ticket {}: {relayed} comments relayed{}",
            live.id,
            if priority_set { "; priority attribute set" } else { "" }
        ))),
        _ => Ok(Outcome::Skipped(format!("conversation {conv}, ticket {}: nothing new", live.id))),
    }
}

/// Relays agent comments above the watermark; returns how many were written.
async fn relay_comments<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    cfg: &status::TicketStatusConfig,
    link: &Link,
    live: &Ticket,
    own: UserId,
    doc: &mut StatusDoc,
    holder: &str,
) -> Result<usize, JobError> {
    if !cfg.relay_public_comments && !cfg.relay_internal_notes {
        return Ok(0);
    }
    let comments = p.zendesk.ticket_comments(live.id).await?;
    let bot = &p.config.intercom.bot_admin_id;
    let mut roles: BTreeMap<UserId, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut written = 0;
    for comment in comments {
        let Some(id) = comment.id else { continue };
        if doc.relayed_up_to.is_some_and(|w| id <= w) {
            continue;
        }
        let author = match comment.author_id {
            Some(a) if a != own && Some(a) != live.requester_id && Some(a) != link.requester_id => {
                if let std::collections::btree_map::Entry::Vacant(slot) = roles.entry(a) {
                    let user = match p.zendesk.user(a).await {
                        Ok(u) => (Some(u.role), u.email),
                        Err(PortError::NotFound { .. }) => (None, None),
                        Err(e) => return Err(e.into()),
                    };
                    slot.insert(user);
                }
                let role = roles.get(&a).and_then(|r| r.0.as_deref());
                status::comment_author(Some(a), own, role)
            }
            Some(a) if a == own => CommentAuthor::Bridge,
            None => CommentAuthor::Bridge,
            Some(_) => CommentAuthor::EndUser,
        };
        if let Some(relay) = status::relay_for(cfg, &comment, author) {
            let intent = Intent::Relay(link.conversation_id.clone(), id);
            match p.store.claim(&intent, holder, LEASE, p.clock.now()).await? {
                Claim::Done(_) => {}
                Claim::Busy => return Err(busy(format!("comment {id} being relayed elsewhere"))),
                Claim::Acquired => {
                    let admin = match relay {
                        Relay::Reply => {
                            let email = comment.author_id.and_then(|a| roles.get(&a)).and_then(|r| r.1.clone());
                            let matched = match email {
                                Some(e) => p.intercom.admin_by_email(&e).await.ok().flatten(),
                                None => None,
                            };
                            status::reply_admin(matched, bot)
                        }
                        Relay::Note => bot.clone(),
                    };
                    let result = relay_with_files(p, cfg, &link.conversation_id, &admin, relay, &comment).await;
                    crate::settle(p.store, &intent, holder, result.map(|part| part.to_string())).await?;
                    written += 1;
                }
            }
        }
        doc.relayed_up_to = Some(id);
    }
    Ok(written)
}

/// Writes a relayed comment as a reply or note, with its files (downloaded within
/// `ticket_status.attachments`); the files left out are named under the text.
async fn relay_with_files<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    cfg: &status::TicketStatusConfig,
    conversation: &bridge_domain::ids::ConversationId,
    admin: &bridge_domain::ids::AdminId,
    relay: Relay,
    comment: &bridge_domain::model::TicketComment,
) -> Result<bridge_domain::ids::PartId, PortError> {
    let (files, skipped) = crate::attachments::comment_to_intercom(p.zendesk, &cfg.attachments, comment).await?;
    let html = format!("{}{}", comment.html_body, bridge_domain::attachments::not_attached_html(&skipped));
    match (relay, files.is_empty()) {
        (Relay::Reply, true) => p.intercom.reply(conversation, admin, &html).await,
        (Relay::Note, true) => p.intercom.add_note(conversation, admin, &html).await,
        (Relay::Reply, false) => p.intercom.post_with_files(conversation, admin, AdminPost::Reply, &html, &files).await,
        (Relay::Note, false) => p.intercom.post_with_files(conversation, admin, AdminPost::Note, &html, &files).await,
    }
}

enum StatusResult {
    Nothing,
    Suppressed(&'static str),
    Applied(&'static str, usize),
}

#[allow(clippy::too_many_arguments)]
async fn apply_status<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    cfg: &status::TicketStatusConfig,
    link: &Link,
    live: &Ticket,
    own: UserId,
    event: &QueuedEvent,
    doc: &mut StatusDoc,
    holder: &str,
) -> Result<StatusResult, JobError> {
    if live.tags.iter().any(|t| t == "closed_by_merge") {
        // Closed by a merge: the merge event moves the link; the customer is not told "closed".
        return Ok(StatusResult::Nothing);
    }
    let current = live.status;
    let written_key = DocKey::written(&Entity::Ticket(live.id));
    let (written, _) = lifecycle::load_written(p.store, &written_key).await?;
    let Some(event_name) = status::classify(doc.status, current) else {
        return Ok(StatusResult::Nothing);
    };
    let about_live = event.entity == Entity::Ticket(live.id);
    let actor_own = about_live
        && lifecycle::zendesk_actor(event) == Some(own.get())
        && lifecycle::zendesk_payload_status(event) == Some(current);
    let verdict = loop_guard::judge(&written, "status", &loop_guard::fingerprint([current.as_str()]), actor_own);
    if written.fields.contains_key("status") {
        // A written status is matched at most once.
        lifecycle::record_written(p.store, &written_key, "status", None).await?;
    }
    doc.status = Some(current);
    if verdict.is_echo() {
        return Ok(StatusResult::Suppressed(match verdict {
            loop_guard::Verdict::OwnActor => "status changed by the bridge's own user",
            _ => "status equals what the bridge wrote",
        }));
    }
    let generation = doc.generation.saturating_add(1);
    let agent_name = match live.assignee_id {
        Some(a) => p.zendesk.user(a).await.ok().and_then(|u| u.name),
        None => None,
    };
    let values = TemplateValues {
        ticket_id: live.id.to_string(),
        subject: live.subject.clone().unwrap_or_default(),
        agent_name: agent_name.unwrap_or_else(|| "our team".into()),
        status: current.as_str().to_string(),
        ticket_url: p.zendesk.ticket_url(live.id),
    };
    let actions = status::actions(cfg, event_name, &values, p.clock.now());
    let bot = &p.config.intercom.bot_admin_id;
    let conv = &link.conversation_id;
    let mut done = 0;
    for action in &actions {
        let intent = Intent::StatusEffect {
            conversation: conv.clone(),
            generation,
            event: event_name.as_str(),
            action: action.key(),
        };
        match p.store.claim(&intent, holder, LEASE, p.clock.now()).await? {
            Claim::Done(_) => continue,
            Claim::Busy => return Err(busy(format!("status effect {intent} in progress elsewhere"))),
            Claim::Acquired => {}
        }
        let result = match action {
            StatusAction::Reply(html) => p.intercom.reply(conv, bot, html).await.map(|id| id.to_string()),
            StatusAction::Note(html) => p.intercom.add_note(conv, bot, html).await.map(|id| id.to_string()),
            StatusAction::Attribute(name, value) => {
                let attributes = BTreeMap::from([(name.clone(), FieldValue::Text(value.clone()))]);
                p.intercom.set_conversation_attributes(conv, &attributes).await.map(|()| action.key())
            }
            StatusAction::Change(change) => {
                p.intercom.change_conversation(conv, bot, change).await.map(|()| action.key())
            }
            StatusAction::Tag(tag) => p.intercom.tag_conversation(conv, bot, tag).await.map(|()| tag.clone()),
        };
        crate::settle(p.store, &intent, holder, result).await?;
        done += 1;
    }
    doc.generation = generation;
    Ok(StatusResult::Applied(event_name.as_str(), done))
}

#[cfg(test)]
pub(crate) mod tests;
