//! Job 1: escalate an Intercom conversation into a Zendesk ticket, then keep appending the
//! customer's replies and the agents' notes to it.
//!
//! Exactly once, end to end, in one store read and two store writes:
//! - one read of the link and the contact's cached Zendesk identity;
//! - before creating, tickets already carrying the conversation's external id are reused, and
//!   the create itself sends a stable `Idempotency-Key`, so a crash between the create and the
//!   link write, or two attempts at once, never give a second ticket;
//! - one transaction writes the link (only if absent, counting the parts the transcript holds)
//!   and the cached identity; the link implies its creator's lease on the write-back;
//! - the write-back (attributes, then note) and each appended part has its own intent with a
//!   done marker; the note and the appended comments are also looked for on the vendor side
//!   before being written again, since neither vendor deduplicates them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bridge_domain::escalation::{self, FollowUp, Requester};
use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::{PartId, TicketId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{Conversation, FieldValue, Link, PartKind, TicketComment, TicketUpdate};
use bridge_domain::ports::{Claim, Helpdesk, LinkCreated, Messenger, PortError, Store, WithLink};
use bridge_domain::text::render;
use serde::{Deserialize, Serialize};

use crate::{JobError, JobResult, Outcome, Ports, holder_for, wrong_entity};

/// How long a worker may hold a write-back or append lease before another may take over.
const LEASE: Duration = Duration::from_secs(120);
const LEASE_SECS: i64 = 120;
/// How long to wait before retrying when another worker holds the lease.
const BUSY_RETRY: Duration = Duration::from_secs(5);

/// Per-conversation state kept beside the link: which parts are already on the ticket. Written
/// by the first follow-up; until then the link's `transcript_parts` says which are.
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
    /// Made for a lead or visitor with neither email nor external id: the contact is read
    /// again on its next escalation, so an email given since reaches the Zendesk user.
    #[serde(default)]
    visitor: bool,
}

/// Runs job 1 for one queued Intercom event.
pub async fn run<S: Store, I: Messenger, Z: Helpdesk>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> JobResult {
    let Entity::Conversation(conversation_id) = &event.entity else {
        return Err(wrong_entity(event, "a conversation"));
    };
    let Some(esc) = p.config.escalation.as_ref() else {
        return Ok(Outcome::Skipped("escalation is not configured".into()));
    };

    let holder = holder_for(p.worker, event);
    let conversation = p.intercom.conversation(conversation_id).await?;
    // One store read: the link, and the cached Zendesk identity of the contact.
    let (link, person) = match conversation.contacts.first() {
        Some(contact) => {
            p.store.link_and_doc::<PersonDoc>(conversation_id, &DocKey::IntercomPerson(contact.clone())).await?
        }
        None => (p.store.link_by_conversation(conversation_id).await?, None),
    };
    if let Some(link) = link {
        // A write-back Intercom refuses for good (an attribute missing in the workspace) was
        // dead-lettered, naming it, by the message that escalated. Later events retry it, so it
        // heals once the attribute exists, but do not fail for it: their replies and changes
        // still reach the ticket, and one setup slip is one dead letter, not one per event.
        match finish_writeback(p, &conversation, &link, link.ticket_id, &holder).await {
            Err(JobError::Permanent { reason, .. }) => tracing::warn!(
                conversation_id = %conversation_id,
                ticket_id = %link.ticket_id,
                reason = %reason,
                "write-back still refused; carrying on with the event"
            ),
            other => other?,
        }
        let mirrored = mirror_change(p, esc, event, &conversation, &link).await?;
        if !esc.append_followups {
            return Ok(match mirrored {
                Some(done) => Outcome::Done(done),
                None => Outcome::Skipped(format!("conversation {conversation_id} already linked")),
            });
        }
        return match (append_follow_ups(p, &conversation, &link, &holder).await?, mirrored) {
            (Outcome::Skipped(_), Some(done)) => Ok(Outcome::Done(done)),
            (outcome, _) => Ok(outcome),
        };
    }

    let Some(rule) = escalation::matching_rule(&conversation, esc, p.clock.now()) else {
        return Ok(Outcome::Skipped(format!("conversation {conversation_id}: no rule matched")));
    };
    let ticket = escalate(p, esc, rule, &conversation, person.map(|d| d.value), &holder).await?;
    Ok(Outcome::Done(format!("conversation {conversation_id} escalated to ticket {ticket} (rule {})", rule.name)))
}

/// Creates (or finds) the ticket, writes the link, then the write-back. Returns the live ticket.
///
/// No lease guards the create: the ticket's `Idempotency-Key` and external id make a second
/// attempt find the first one's ticket, and the link is written only if absent. One
/// transaction writes the link (with how many parts the transcript holds) and the requester's
/// cached identity; the link implies the write-back's lease ([`implied_lease`]), so an
/// escalation costs two store writes, the second the write-back's done marker.
async fn escalate<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    esc: &bridge_domain::config::EscalationConfig,
    rule: &bridge_domain::config::EscalationRule,
    conversation: &Conversation,
    person: Option<PersonDoc>,
    holder: &str,
) -> Result<TicketId, JobError> {
    let config = p.config;
    let contact_id = conversation
        .contacts
        .first()
        .ok_or_else(|| JobError::permanent(format!("conversation {} has no contact", conversation.id)))?;
    let (person, new_person) = match person {
        Some(person) if !person.visitor => (person, false),
        _ => (resolve_requester(p, contact_id).await?, true),
    };
    let requester = Requester {
        user_id: person.zendesk_user_id,
        organization_id: person.zendesk_organization_id,
        display_name: person.display_name.clone(),
    };

    let external_id = escalation::external_id(config, &conversation.id);
    let existing = p.zendesk.tickets_by_external_id(&external_id).await?;
    let (ticket, transcript_parts) = match existing.into_iter().min_by_key(|t| t.id) {
        // An earlier attempt created the ticket and died before the link: its transcript holds
        // the parts made up to its creation.
        Some(t) => (t.id, parts_up_to(conversation, t.created_at)),
        None => {
            // The transcript's files are uploaded first; their tokens go on the first comment.
            let bot = &config.intercom.bot_admin_id;
            let files = crate::attachments::conversation_to_zendesk(p, conversation, bot).await?;
            let mut new_ticket = escalation::build_ticket(
                config,
                esc,
                rule,
                conversation,
                &requester,
                bot,
                files.as_ref().map(|f| &f.0),
            );
            if let Some((_, tokens)) = files {
                new_ticket.comment.uploads = tokens;
            }
            let key = escalation::idempotency_key(&conversation.id);
            let created = p.zendesk.create_ticket(&new_ticket, &key).await.map_err(|e| match e {
                // The same key with another body: a concurrent attempt (a sweep, a second
                // delivery) read the conversation at another moment and is creating the ticket.
                PortError::Conflict { .. } => JobError::Retry { after: Some(BUSY_RETRY), source: e },
                e => e.into(),
            })?;
            (created.id, conversation.parts.len())
        }
    };

    let now = p.clock.now();
    let mut link = Link::new(conversation.id.clone(), ticket, Some(requester.user_id), Some(contact_id.clone()), now);
    link.transcript_parts = Some(u32::try_from(transcript_parts).unwrap_or(u32::MAX));
    let mut with = WithLink { docs: Vec::new() };
    if new_person {
        with.docs.push((DocKey::IntercomPerson(contact_id.clone()), &person));
    }
    match p.store.create_link_with(&link, with).await? {
        LinkCreated::Created => {
            // The write-back's lease came with the link (implied by it, see `implied_lease`):
            // write back at once.
            let writeback = Intent::Writeback(conversation.id.clone(), ticket);
            let url = p.zendesk.ticket_url(ticket);
            let result = write_back(p, conversation, ticket, &url).await;
            if result.is_err() {
                // An implied lease has no record to release: take it for real, so that the
                // release below leaves the intent free for the next attempt at once.
                p.store.claim(&writeback, holder, LEASE, now).await?;
            }
            crate::settle(p.store, &writeback, holder, result).await?;
            Ok(ticket)
        }
        LinkCreated::AlreadyLinked(other) => {
            if other.ticket_id != ticket {
                tracing::warn!(
                    conversation_id = %conversation.id,
                    ticket_id = %ticket,
                    linked_ticket_id = %other.ticket_id,
                    "conversation was already linked to another ticket; keeping the existing link"
                );
            }
            finish_writeback(p, conversation, &other, other.ticket_id, holder).await?;
            Ok(other.ticket_id)
        }
    }
}

/// A priority change, close or reopen of the escalated conversation reaches its ticket as
/// configured ([`escalation::mirrored_change`]). What is written is recorded for job 3's loop
/// guard first, so the ticket's webhook of it is recognised as the bridge's own.
async fn mirror_change<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    esc: &bridge_domain::config::EscalationConfig,
    event: &QueuedEvent,
    conversation: &Conversation,
    link: &Link,
) -> Result<Option<String>, JobError> {
    let wanted = match event.topic.as_str() {
        "conversation.priority.updated" => esc.sync_priority,
        "conversation.admin.closed" => esc.on_close.is_some(),
        "conversation.admin.opened" => esc.on_reopen.is_some(),
        _ => false,
    };
    if !wanted {
        return Ok(None);
    }
    let ticket = p.zendesk.ticket(link.ticket_id).await?;
    let Some(update) = escalation::mirrored_change(esc, &event.topic, conversation, &ticket) else {
        return Ok(None);
    };
    let key = DocKey::written(&Entity::Ticket(ticket.id));
    if let Some(status) = update.status {
        let fp = bridge_domain::loop_guard::fingerprint([status.as_str()]);
        crate::lifecycle::record_written(p.store, &key, "status", Some(fp)).await?;
    }
    p.zendesk.update_ticket(ticket.id, &update).await?;
    let what = match (update.priority, update.status) {
        (Some(priority), _) => format!("priority {}", priority.as_str()),
        (None, Some(status)) => format!("status {}", status.as_str()),
        (None, None) => String::new(),
    };
    Ok(Some(format!("conversation {}: ticket {} set to {what}", conversation.id, ticket.id)))
}

/// How many parts, from the first, were made at or before `at` (the transcript of a ticket
/// created then). Intercom lists a conversation's parts oldest first.
fn parts_up_to(conversation: &Conversation, at: bridge_domain::model::Timestamp) -> usize {
    conversation.parts.iter().take_while(|part| part.created_at <= at).count()
}

/// Until when the escalation that created `link` holds the write-back of `ticket`, when that is
/// the ticket it linked: it writes back at once, so its lease is implied by the link instead of
/// being an item of the link's transaction (two write units less per escalation). An item for
/// the intent, once there (done, given up, or claimed by a later attempt), says more.
fn implied_lease(link: &Link, ticket: TicketId) -> Option<bridge_domain::model::Timestamp> {
    link.history.iter().find_map(|event| match event {
        bridge_domain::model::LinkEvent::Created { ticket: linked, at } if *linked == ticket => {
            Some(at.plus(LEASE_SECS))
        }
        _ => None,
    })
}

/// Writes the ticket id and URL onto the conversation and adds the internal note, each once
/// per (conversation, ticket): after an escalation, and when the link moves to a merge target
/// or a follow-up (job 3 calls it then).
pub(crate) async fn finish_writeback<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    conversation: &Conversation,
    link: &Link,
    ticket: TicketId,
    holder: &str,
) -> Result<(), JobError> {
    let url = p.zendesk.ticket_url(ticket);
    let now = p.clock.now();
    let store = p.store;

    // One intent for both writes, so one lease and one done marker: setting the attributes again
    // is harmless, and the note is looked for before it is posted, so a retry after a crash
    // between the two adds nothing.
    if shows_write_back(p.config, conversation, ticket, &url) {
        return Ok(());
    }
    let intent = Intent::Writeback(conversation.id.clone(), ticket);
    if implied_lease(link, ticket).is_some_and(|until| now < until) {
        match store.intent_state(&intent).await? {
            // The escalation that made the link is writing back, or has written back.
            None | Some(Claim::Done(_)) => return Ok(()),
            Some(_) => {}
        }
    }
    if store.claim(&intent, holder, LEASE, now).await? != Claim::Acquired {
        return Ok(());
    }
    let result = write_back(p, conversation, ticket, &url).await;
    crate::settle(store, &intent, holder, result).await.map(|_| ())
}

/// The bridge's own note carrying `url` on the conversation, if it is there.
fn own_note_with<'c>(
    conversation: &'c Conversation,
    bot: &bridge_domain::ids::AdminId,
    url: &str,
) -> Option<&'c bridge_domain::model::Part> {
    conversation.parts.iter().find(|part| {
        part.kind == PartKind::Note
            && escalation::is_own(part, bot)
            && part.body.as_deref().is_some_and(|b| b.contains(url))
    })
}

/// Whether the conversation already shows the write-back of the ticket at `url`: the ticket
/// attributes hold it and the bridge's note is there. Then writing back again would change
/// nothing, and no intent needs claiming (a claim that finds the intent done is still a billed
/// write).
fn shows_write_back(
    config: &bridge_domain::config::Config,
    conversation: &Conversation,
    ticket: TicketId,
    url: &str,
) -> bool {
    let holds =
        |name: &str, value: &str| matches!(conversation.attributes.get(name), Some(FieldValue::Text(v)) if v == value);
    holds(&config.intercom.ticket_id_attribute, &ticket.to_string())
        && config.intercom.ticket_url_attribute.as_deref().is_none_or(|name| holds(name, url))
        && own_note_with(conversation, &config.intercom.bot_admin_id, url).is_some()
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
    // The note first: a conversation attribute that fails (missing in the workspace, a setup
    // slip) must not keep the team from the ticket link. A previous attempt may have posted it
    // and died before recording it.
    let note = match own_note_with(conversation, bot, url) {
        Some(part) => part.id.to_string(),
        None => {
            let esc = config.escalation.as_ref();
            let template = esc.map(|e| e.note_template.as_str()).unwrap_or("Zendesk ticket #{ticket_id}: {ticket_url}");
            let text = render(template, &[("ticket_id", &ticket.to_string()), ("ticket_url", url)]);
            let html = format!("<p>{}</p>", linkify(&text, url));
            p.intercom.add_note(&conversation.id, bot, &html).await?.to_string()
        }
    };
    let mut attributes = BTreeMap::new();
    attributes.insert(config.intercom.ticket_id_attribute.clone(), FieldValue::Text(ticket.to_string()));
    if let Some(attr) = &config.intercom.ticket_url_attribute {
        attributes.insert(attr.clone(), FieldValue::Text(url.to_string()));
    }
    set_attributes(p, conversation, &attributes).await?;
    Ok(note)
}

/// Sets the conversation attributes in one call; when Intercom refuses it, each on its own, so
/// one attribute that is missing in the workspace does not keep the others from being set. The
/// refused ones are reported by name (the message is retried, then dead-lettered with it).
async fn set_attributes<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    conversation: &Conversation,
    attributes: &BTreeMap<String, FieldValue>,
) -> Result<(), PortError> {
    match p.intercom.set_conversation_attributes(&conversation.id, attributes).await {
        Err(PortError::Rejected { .. }) => {}
        other => return other,
    }
    let mut refused = Vec::new();
    for (name, value) in attributes {
        let one = BTreeMap::from([(name.clone(), value.clone())]);
        match p.intercom.set_conversation_attributes(&conversation.id, &one).await {
            Ok(()) => {}
            Err(PortError::Rejected { .. }) => refused.push(name.as_str()),
            Err(e) => return Err(e),
        }
    }
    match refused.is_empty() {
        true => Ok(()),
        false => Err(PortError::rejected(
            bridge_domain::ports::Service::Intercom,
            format!(
                "conversation attribute(s) {} refused (do they exist in the workspace? `bridge doctor` checks)",
                refused.join(", ")
            ),
        )),
    }
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
    let Some(esc) = p.config.escalation.as_ref() else {
        return Ok(Outcome::Skipped("escalation is not configured".into()));
    };
    let key = DocKey::Escalation(conversation.id.clone());
    let loaded = store.load::<EscalationDoc>(&key).await?;
    let (mut doc, mut version) = match loaded {
        Some(v) => (v.value, Some(v.version)),
        None => {
            // No record yet (the first follow-up): the parts the transcript holds, as many from
            // the first as the link says. A link made by an older version does not say: then
            // everything up to the link's creation counts as in the transcript.
            let created = link.history.iter().find_map(|h| match h {
                bridge_domain::model::LinkEvent::Created { at, .. } => Some(*at),
                _ => None,
            });
            let in_transcript: Vec<&bridge_domain::model::Part> = match link.transcript_parts {
                Some(n) => conversation.parts.iter().take(usize::try_from(n).unwrap_or(usize::MAX)).collect(),
                None => {
                    conversation.parts.iter().filter(|part| created.is_none_or(|at| part.created_at <= at)).collect()
                }
            };
            let copied = in_transcript.into_iter().map(|part| part.id.to_string()).collect();
            (EscalationDoc { ticket: Some(link.ticket_id), copied_parts: copied }, None)
        }
    };
    let candidates: Vec<_> = conversation
        .parts
        .iter()
        .filter(|part| !doc.copied_parts.contains(part.id.as_str()))
        .filter_map(|part| escalation::follow_up_for(part, bot, esc).map(|kind| (part, kind)))
        .collect();
    let skipped_own: Vec<PartId> = conversation
        .parts
        .iter()
        .filter(|part| !doc.copied_parts.contains(part.id.as_str()))
        .filter(|part| escalation::follow_up_for(part, bot, esc).is_none())
        .map(|part| part.id.clone())
        .collect();
    if candidates.is_empty() && skipped_own.is_empty() {
        return Ok(Outcome::Skipped(format!("conversation {}: nothing new to append", conversation.id)));
    }

    let mut ticket = link.ticket_id;
    let mut agents = Agents::default();
    if let Some((first, kind)) = candidates.first() {
        // A closed ticket takes no comments: a follow-up becomes the live ticket. A customer's
        // public comment reopens a solved one; the loop guard expects that status change.
        let live = p.zendesk.ticket(ticket).await?;
        let public = candidates.iter().any(|(_, k)| *k == FollowUp::PublicReply);
        match bridge_domain::links::append_target(&live, public) {
            bridge_domain::links::AppendTarget::FollowUp => {
                let author = agents.author(p, first, kind, link.requester_id).await?;
                let files = crate::attachments::part_to_zendesk(p, first).await?;
                let comment = follow_up_comment(first, kind, author, files);
                let moved = crate::lifecycle::create_followup(p, link, &live, comment).await?;
                ticket = moved.ticket_id;
                finish_writeback(p, conversation, &moved, ticket, holder).await?;
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
        let bodies = on_ticket.as_ref();
        let present = bodies.is_some_and(|bodies| bodies.iter().any(|b| b.contains(&marker)));
        // A Zendesk agent's comment that job 3 relayed into the conversation is not news to the
        // ticket: no echo back.
        let relayed =
            *kind == FollowUp::AgentReply && bodies.is_some_and(|bodies| bodies.iter().any(|b| same_text(b, part)));
        let result = if present || relayed {
            Ok("already on ticket".to_string())
        } else {
            let author = match agents.author(p, part, kind, link.requester_id).await {
                Ok(a) => a,
                Err(e) => {
                    let _ = store.release(&intent, holder).await;
                    return Err(e);
                }
            };
            // The part's files are uploaded under the intent's lease; a transient failure
            // releases it and the message is retried.
            let files = match crate::attachments::part_to_zendesk(p, part).await {
                Ok(files) => files,
                Err(e) => {
                    let _ = store.release(&intent, holder).await;
                    return Err(e.into());
                }
            };
            let comment = follow_up_comment(part, kind, author, files);
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

/// The ticket comment carrying an Intercom part, with its marker and its uploaded files
/// (`files`: `None` when uploads are off, the part's HTML then links them). `author`: `None`
/// writes it as the API user (the part's HTML names who wrote it).
fn follow_up_comment(
    part: &bridge_domain::model::Part,
    kind: &FollowUp,
    author: Option<bridge_domain::ids::UserId>,
    files: Option<crate::attachments::Carried>,
) -> TicketComment {
    let marker = escalation::part_marker(&part.id);
    let html = escalation::part_html(part, files.as_ref().map(|f| Some(&f.report)));
    TicketComment {
        id: None,
        html_body: format!("{html}<p>{}</p>", bridge_domain::text::escape_html(&marker)),
        public: *kind != FollowUp::InternalNote,
        author_id: author,
        created_at: None,
        uploads: files.map(|f| f.tokens).unwrap_or_default(),
        attachments: Vec::new(),
    }
}

/// True when the ticket comment `html` says what the part says (whitespace aside).
/// A relayed comment whose files were not all attached carries a "Not attached: ..." line after
/// the comment's own text: still the same text.
fn same_text(html: &str, part: &bridge_domain::model::Part) -> bool {
    let words = |h: &str| bridge_domain::text::html_to_text(h).split_whitespace().collect::<Vec<_>>().join(" ");
    let said = words(part.body.as_deref().unwrap_or(""));
    let comment = words(html);
    !said.is_empty()
        && (comment == said
            || said.strip_prefix(comment.as_str()).is_some_and(|rest| rest.trim_start().starts_with("Not attached:")))
}

/// The Zendesk agents of the teammates whose parts are appended in one run, by email.
#[derive(Default)]
struct Agents(BTreeMap<String, Option<bridge_domain::ids::UserId>>);

impl Agents {
    /// Who a part's comment is written as: the requester for the customer's parts; for a
    /// teammate's, the Zendesk agent with the same email, else the API user (`None`).
    async fn author<S: Store, I: Messenger, Z: Helpdesk>(
        &mut self,
        p: &Ports<'_, S, I, Z>,
        part: &bridge_domain::model::Part,
        kind: &FollowUp,
        requester: Option<bridge_domain::ids::UserId>,
    ) -> Result<Option<bridge_domain::ids::UserId>, JobError> {
        if *kind == FollowUp::PublicReply {
            return Ok(requester);
        }
        let Some(email) = part.author.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) else {
            return Ok(None);
        };
        if let Some(known) = self.0.get(email) {
            return Ok(*known);
        }
        let found = p.zendesk.users_by_email(email).await?;
        let agent = found.into_iter().find(|u| u.role == "agent" || u.role == "admin").map(|u| u.id);
        self.0.insert(email.to_string(), agent);
        Ok(agent)
    }
}

mod requester;
use requester::resolve_requester;

#[cfg(test)]
mod tests;
