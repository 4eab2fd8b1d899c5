//! Job 1: escalate an Intercom conversation into a Zendesk ticket, then keep appending the
//! customer's replies and the agents' notes to it.
//!
//! Exactly once, end to end:
//! - a lease on `escalate#<conversation>` in the store before acting, so concurrent deliveries
//!   wait instead of racing;
//! - before creating, tickets already carrying the conversation's external id are reused, and
//!   the create itself sends a stable `Idempotency-Key`, so a crash between the create and the
//!   link write never gives a second ticket;
//! - the link is written in one transaction, conditional on absence;
//! - the write-back (attributes, then note) and each appended part has its own intent with a
//!   done marker; the note and the appended comments are also looked for on the vendor side
//!   before being written again, since neither vendor deduplicates them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bridge_domain::escalation::{self, FollowUp, Requester};
use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::{ContactId, PartId, TicketId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{
    Contact, Conversation, FieldValue, Link, OrganizationUpsert, PartKind, TicketComment, TicketUpdate, UserUpsert,
};
use bridge_domain::ports::{Claim, Doc, Helpdesk, LinkCreated, Messenger, PortError, Store};
use bridge_domain::text::render;
use serde::{Deserialize, Serialize};

use crate::{JobError, JobResult, Outcome, Ports, holder_for, wrong_entity};

/// How long a worker may hold an escalation lease before another may take over.
const LEASE: Duration = Duration::from_secs(120);
/// How long to wait before retrying when another worker holds the lease.
const BUSY_RETRY: Duration = Duration::from_secs(5);

/// Per-conversation state kept beside the link: which parts are already on the ticket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EscalationDoc {
    ticket: Option<TicketId>,
    copied_parts: BTreeSet<String>,
}

/// Cached Zendesk identity of an Intercom contact.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PersonDoc {
    zendesk_user_id: bridge_domain::ids::UserId,
    zendesk_organization_id: Option<bridge_domain::ids::OrganizationId>,
    display_name: String,
}

/// Runs job 1 for one queued Intercom event.
pub async fn run<S: Store, I: Messenger, Z: Helpdesk>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> JobResult {
    let Entity::Conversation(conversation_id) = &event.entity else {
        return Err(wrong_entity(event, "a conversation"));
    };
    let conversation_id = conversation_id.clone();
    let Some(esc) = p.config.escalation.as_ref() else {
        return Ok(Outcome::Skipped("escalation is not configured".into()));
    };

    let holder = holder_for(p.worker, event);
    if let Some(link) = p.store.link_by_conversation(&conversation_id).await? {
        let conversation = p.intercom.conversation(&conversation_id).await?;
        finish_writeback(p, &conversation, link.ticket_id, &holder).await?;
        if !esc.append_followups {
            return Ok(Outcome::Skipped(format!("conversation {conversation_id} already linked")));
        }
        return append_follow_ups(p, &conversation, &link, &holder).await;
    }

    let conversation = p.intercom.conversation(&conversation_id).await?;
    let now = p.clock.now();
    let Some(rule) = escalation::matching_rule(&conversation, esc, now) else {
        return Ok(Outcome::Skipped(format!("conversation {conversation_id}: no rule matched")));
    };

    let intent = Intent::Escalate(conversation_id.clone());
    match p.store.claim(&intent, &holder, LEASE, now).await? {
        Claim::Busy => {
            return Err(JobError::Retry {
                after: Some(BUSY_RETRY),
                source: PortError::Conflict {
                    service: bridge_domain::ports::Service::Store,
                    detail: format!("escalation of {conversation_id} in progress elsewhere"),
                },
            });
        }
        Claim::Done(_) | Claim::Acquired => {}
    }

    let result = escalate_claimed(p, esc, rule, &conversation).await;
    match result {
        Ok(ticket) => {
            p.store.complete(&intent, &ticket.to_string()).await?;
            finish_writeback(p, &conversation, ticket, &holder).await?;
            Ok(Outcome::Done(format!(
                "conversation {conversation_id} escalated to ticket {ticket} (rule {})",
                rule.name
            )))
        }
        Err(e) => {
            // Let a retry take over at once instead of waiting for the lease to expire.
            if let Err(release) = p.store.release(&intent, &holder).await {
                tracing::warn!(conversation_id = %conversation_id, error = %release, "could not release lease");
            }
            Err(e)
        }
    }
}

/// Creates (or finds) the ticket and writes the link. Returns the live ticket id.
async fn escalate_claimed<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    esc: &bridge_domain::config::EscalationConfig,
    rule: &bridge_domain::config::EscalationRule,
    conversation: &Conversation,
) -> Result<TicketId, JobError> {
    let config = p.config;
    let contact_id = conversation
        .contacts
        .first()
        .ok_or_else(|| JobError::permanent(format!("conversation {} has no contact", conversation.id)))?;
    let requester = resolve_requester(p, contact_id).await?;
    let bot = &config.intercom.bot_admin_id;

    let external_id = escalation::external_id(config, &conversation.id);
    let existing = p.zendesk.tickets_by_external_id(&external_id).await?;
    let ticket = match existing.into_iter().min_by_key(|t| t.id) {
        Some(t) => t.id,
        None => {
            let new_ticket = escalation::build_ticket(config, esc, rule, conversation, &requester, bot);
            // Record what the transcript holds before it exists, so follow-ups never repeat it.
            remember_copied_parts(p, conversation).await?;
            let key = escalation::idempotency_key(&conversation.id);
            p.zendesk.create_ticket(&new_ticket, &key).await?.id
        }
    };

    let link =
        Link::new(conversation.id.clone(), ticket, Some(requester.user_id), Some(contact_id.clone()), p.clock.now());
    let live = match p.store.create_link(&link).await? {
        LinkCreated::Created => ticket,
        LinkCreated::AlreadyLinked(other) => {
            if other.ticket_id != ticket {
                tracing::warn!(
                    conversation_id = %conversation.id,
                    ticket_id = %ticket,
                    linked_ticket_id = %other.ticket_id,
                    "conversation was already linked to another ticket; keeping the existing link"
                );
            }
            other.ticket_id
        }
    };
    Ok(live)
}

/// Finds or creates the Zendesk requester (stored id, then external id, then email) and their
/// organization, and caches the mapping.
async fn resolve_requester<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    contact_id: &ContactId,
) -> Result<Requester, JobError> {
    let key = DocKey::IntercomPerson(contact_id.clone());
    if let Some(Doc { value: person, .. }) = p.store.load::<PersonDoc>(&key).await? {
        return Ok(Requester {
            user_id: person.zendesk_user_id,
            organization_id: person.zendesk_organization_id,
            display_name: person.display_name,
        });
    }
    let contact = match p.intercom.contact(contact_id).await {
        Err(PortError::Merged { new_id, .. }) => {
            let new_id = ContactId::parse(new_id).map_err(|e| JobError::permanent(e.to_string()))?;
            p.intercom.contact(&new_id).await?
        }
        other => other?,
    };
    let organization_id = resolve_organization(p, &contact).await?;
    let helpdesk = p.zendesk;
    let mut user = None;
    if let Some(ext) = contact.external_id.as_deref().filter(|e| !e.is_empty()) {
        user = helpdesk.user_by_external_id(ext).await?;
    }
    if user.is_none()
        && let Some(email) = contact.email.as_deref().filter(|e| !e.is_empty())
    {
        let mut found = helpdesk.users_by_email(email).await?;
        if found.len() == 1 {
            user = found.pop();
        }
    }
    let display_name = contact
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| contact.email.clone())
        .unwrap_or_else(|| format!("Intercom contact {contact_id}"));
    let user = match user {
        Some(u) => u,
        None => {
            if contact.email.is_none() && contact.external_id.is_none() {
                return Err(JobError::permanent(format!(
                    "contact {contact_id} has neither email nor external id; cannot create a requester"
                )));
            }
            helpdesk
                .upsert_user(&UserUpsert {
                    name: display_name.clone(),
                    email: contact.email.clone(),
                    external_id: contact.external_id.clone(),
                    phone: contact.phone.clone(),
                    organization_id,
                    fields: BTreeMap::new(),
                })
                .await?
        }
    };
    let organization_id = organization_id.or(user.org_ids.first().copied());
    let doc = PersonDoc {
        zendesk_user_id: user.id,
        zendesk_organization_id: organization_id,
        display_name: display_name.clone(),
    };
    // A concurrent writer may have cached it first; either value is correct.
    let _ = p.store.save(&key, &doc, None).await?;
    Ok(Requester { user_id: user.id, organization_id, display_name })
}

/// The Zendesk organization of the contact's first company (matched on the company's own id),
/// created when missing.
async fn resolve_organization<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    contact: &Contact,
) -> Result<Option<bridge_domain::ids::OrganizationId>, JobError> {
    if contact.org_ids.is_empty() {
        return Ok(None);
    }
    let companies = p.intercom.contact_companies(&contact.id).await?;
    let Some(company) = companies.into_iter().find(|c| c.external_id.is_some() || c.name.is_some()) else {
        return Ok(None);
    };
    let external_id = company.external_id.clone().unwrap_or_else(|| format!("intercom-company-{}", company.id));
    if let Some(org) = p.zendesk.organization_by_external_id(&external_id).await? {
        return Ok(Some(org.id));
    }
    let name = company.name.clone().unwrap_or_else(|| external_id.clone());
    let org = p
        .zendesk
        .upsert_organization(&OrganizationUpsert { name, external_id: Some(external_id), fields: BTreeMap::new() })
        .await?;
    Ok(Some(org.id))
}

/// Records the parts the transcript is about to hold so they are not appended again
/// (replacing the record of an earlier attempt that never created its ticket).
async fn remember_copied_parts<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    c: &Conversation,
) -> Result<(), JobError> {
    let key = DocKey::Escalation(c.id.clone());
    let doc = EscalationDoc { ticket: None, copied_parts: c.parts.iter().map(|p| p.id.to_string()).collect() };
    let mut expected = p.store.load::<EscalationDoc>(&key).await?.map(|v| v.version);
    for _ in 0..3 {
        if p.store.save(&key, &doc, expected).await? {
            return Ok(());
        }
        expected = p.store.load::<EscalationDoc>(&key).await?.map(|v| v.version);
    }
    Err(JobError::Retry {
        after: Some(BUSY_RETRY),
        source: PortError::Conflict {
            service: bridge_domain::ports::Service::Store,
            detail: format!("{key} keeps changing"),
        },
    })
}

/// Writes the ticket id and URL onto the conversation and adds the internal note, each once.
async fn finish_writeback<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    conversation: &Conversation,
    ticket: TicketId,
    holder: &str,
) -> Result<(), JobError> {
    let url = p.zendesk.ticket_url(ticket);
    let now = p.clock.now();
    let store = p.store;

    // One intent for both writes, so one lease and one done marker: setting the attributes again
    // is harmless, and the note is looked for before it is posted, so a retry after a crash
    // between the two adds nothing.
    let intent = Intent::Writeback(conversation.id.clone(), ticket);
    if store.claim(&intent, holder, LEASE, now).await? != Claim::Acquired {
        return Ok(());
    }
    let result = write_back(p, conversation, ticket, &url).await;
    crate::settle(store, &intent, holder, result).await.map(|_| ())
}

/// Sets the ticket attributes, then posts the note unless an earlier attempt already did.
/// Returns the note's part id.
async fn write_back<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    conversation: &Conversation,
    ticket: TicketId,
    url: &str,
) -> Result<String, PortError> {
    let config = p.config;
    let bot = &config.intercom.bot_admin_id;
    let mut attributes = BTreeMap::new();
    attributes.insert(config.intercom.ticket_id_attribute.clone(), FieldValue::Text(ticket.to_string()));
    if let Some(attr) = &config.intercom.ticket_url_attribute {
        attributes.insert(attr.clone(), FieldValue::Text(url.to_string()));
    }
    p.intercom.set_conversation_attributes(&conversation.id, &attributes).await?;
    // A previous attempt may have posted the note and died before recording it.
    let already = conversation.parts.iter().find(|part| {
        part.kind == PartKind::Note
            && escalation::is_own(part, bot)
            && part.body.as_deref().is_some_and(|b| b.contains(url))
    });
    if let Some(part) = already {
        return Ok(part.id.to_string());
    }
    let esc = config.escalation.as_ref();
    let template = esc.map(|e| e.note_template.as_str()).unwrap_or("Zendesk ticket #{ticket_id}: {ticket_url}");
    let text = render(template, &[("ticket_id", &ticket.to_string()), ("ticket_url", url)]);
    let html = format!("<p>{}</p>", linkify(&text, url));
    Ok(p.intercom.add_note(&conversation.id, bot, &html).await?.to_string())
}

fn linkify(text: &str, url: &str) -> String {
    let escaped = bridge_domain::text::escape_html(text);
    let escaped_url = bridge_domain::text::escape_html(url);
    escaped.replace(&escaped_url, &format!("<a href=\"{escaped_url}\">{escaped_url}</a>"))
}

/// Appends customer replies (public, as the requester) and admin notes (internal) that are not
/// yet on the ticket, each exactly once; the bridge's own notes are never echoed.
async fn append_follow_ups<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    conversation: &Conversation,
    link: &Link,
    holder: &str,
) -> JobResult {
    let store = p.store;
    let bot = &p.config.intercom.bot_admin_id;
    let key = DocKey::Escalation(conversation.id.clone());
    let loaded = store.load::<EscalationDoc>(&key).await?;
    let (mut doc, mut version) = match loaded {
        Some(v) => (v.value, Some(v.version)),
        None => {
            // No record (ticket made by an older version, or lost): everything up to the
            // link's creation counts as already in the transcript.
            let created = link.history.iter().find_map(|h| match h {
                bridge_domain::model::LinkEvent::Created { at, .. } => Some(*at),
                _ => None,
            });
            let copied = conversation
                .parts
                .iter()
                .filter(|part| created.is_none_or(|at| part.created_at <= at))
                .map(|part| part.id.to_string())
                .collect();
            (EscalationDoc { ticket: Some(link.ticket_id), copied_parts: copied }, None)
        }
    };
    let candidates: Vec<_> = conversation
        .parts
        .iter()
        .filter(|part| !doc.copied_parts.contains(part.id.as_str()))
        .filter_map(|part| escalation::follow_up_for(part, bot).map(|kind| (part, kind)))
        .collect();
    let skipped_own: Vec<PartId> = conversation
        .parts
        .iter()
        .filter(|part| !doc.copied_parts.contains(part.id.as_str()))
        .filter(|part| escalation::follow_up_for(part, bot).is_none())
        .map(|part| part.id.clone())
        .collect();
    if candidates.is_empty() && skipped_own.is_empty() {
        return Ok(Outcome::Skipped(format!("conversation {}: nothing new to append", conversation.id)));
    }

    let mut ticket = link.ticket_id;
    if let Some((first, kind)) = candidates.first() {
        // A closed ticket takes no comments: a follow-up becomes the live ticket. A customer's
        // public comment reopens a solved one; the loop guard expects that status change.
        let live = p.zendesk.ticket(ticket).await?;
        let public = candidates.iter().any(|(_, k)| *k == FollowUp::PublicReply);
        match bridge_domain::links::append_target(&live, public) {
            bridge_domain::links::AppendTarget::FollowUp => {
                let comment = follow_up_comment(first, kind, link.requester_id);
                let moved = crate::lifecycle::create_followup(p, link, &live, comment).await?;
                ticket = moved.ticket_id;
                finish_writeback(p, conversation, ticket, holder).await?;
            }
            bridge_domain::links::AppendTarget::Comment { reopens: true } => {
                let fp = bridge_domain::loop_guard::fingerprint([bridge_domain::model::TicketStatus::Open.as_str()]);
                let key = DocKey::written(&Entity::Ticket(ticket));
                crate::lifecycle::record_written(store, &key, "status", Some(fp)).await?;
            }
            bridge_domain::links::AppendTarget::Comment { reopens: false } => {}
        }
    }
    let mut on_ticket: Option<BTreeSet<String>> = None;
    let mut appended = 0usize;
    let now = p.clock.now();
    for (part, kind) in &candidates {
        let intent = Intent::Append(conversation.id.clone(), part.id.clone());
        match store.claim(&intent, holder, LEASE, now).await? {
            Claim::Done(_) => continue,
            Claim::Busy => {
                return Err(JobError::Retry {
                    after: Some(BUSY_RETRY),
                    source: PortError::Conflict {
                        service: bridge_domain::ports::Service::Store,
                        detail: format!("part {} being appended elsewhere", part.id),
                    },
                });
            }
            Claim::Acquired => {}
        }
        // Zendesk comments carry a marker; look once per run in case a crash hid a write.
        if on_ticket.is_none() {
            let comments = match p.zendesk.ticket_comments(ticket).await {
                Ok(c) => c,
                Err(e) => {
                    let _ = store.release(&intent, holder).await;
                    return Err(e.into());
                }
            };
            on_ticket = Some(comments.iter().map(|c| c.html_body.clone()).collect());
        }
        let marker = escalation::part_marker(&part.id);
        let present = on_ticket.as_ref().is_some_and(|bodies| bodies.iter().any(|b| b.contains(&marker)));
        let result = if present {
            Ok("already on ticket".to_string())
        } else {
            let comment = follow_up_comment(part, kind, link.requester_id);
            let update = TicketUpdate { comment: Some(comment), ..TicketUpdate::default() };
            p.zendesk.update_ticket(ticket, &update).await.map(|_| "appended".to_string())
        };
        crate::settle(store, &intent, holder, result).await?;
        appended += 1;
        doc.copied_parts.insert(part.id.to_string());
    }
    for id in skipped_own {
        doc.copied_parts.insert(id.to_string());
    }
    doc.ticket = Some(ticket);
    // Best effort: the intents already guarantee exactly-once; the doc only saves work.
    for _ in 0..3 {
        if store.save(&key, &doc, version).await? {
            break;
        }
        version = store.load::<EscalationDoc>(&key).await?.map(|v| v.version);
    }
    if appended == 0 {
        // Only the bridge's own parts (or parts already copied) were new: bookkeeping.
        return Ok(Outcome::Skipped(format!("conversation {}: nothing new to append", conversation.id)));
    }
    Ok(Outcome::Done(format!("conversation {}: {appended} parts appended to ticket {ticket}", conversation.id)))
}

/// The ticket comment carrying an Intercom part, with its marker.
fn follow_up_comment(
    part: &bridge_domain::model::Part,
    kind: &FollowUp,
    requester: Option<bridge_domain::ids::UserId>,
) -> TicketComment {
    let marker = escalation::part_marker(&part.id);
    TicketComment {
        id: None,
        html_body: format!("{}<p>{}</p>", escalation::part_html(part), bridge_domain::text::escape_html(&marker)),
        public: *kind == FollowUp::PublicReply,
        author_id: if *kind == FollowUp::PublicReply { requester } else { None },
        created_at: None,
    }
}

#[cfg(test)]
mod tests;
