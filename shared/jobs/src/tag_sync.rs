//! Job 4: tags shared between a conversation and its live ticket.
//!
//! Any event about either side of a link (Intercom tag added or conversation activity, since
//! Intercom has no "tag removed" topic; Zendesk `tags_changed` or a trigger body) makes the job
//! read both sides, plan with [`bridge_domain::tags::plan`] and write single tags with the add
//! and remove endpoints (never a list replacement). One run per link at a time
//! (`tags#<conversation>` lease). After writing, the resulting synced tag sets are recorded in
//! the loop guard, so the webhooks the writes cause are recognised and dropped.

use std::time::Duration;

use bridge_domain::event::{Entity, QueuedEvent, Vendor};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::loop_guard;
use bridge_domain::model::{Link, TicketStatus};
use bridge_domain::ports::{Claim, Helpdesk, Messenger, PortError, Store};
use bridge_domain::tags::{self, TagRules, TagState};

use crate::lifecycle::{self, busy};
use crate::{JobError, JobResult, Outcome, Ports, holder_for, wrong_entity};

const LEASE: Duration = Duration::from_secs(60);

/// Runs job 4 for one queued event from either vendor.
#[tracing::instrument(skip_all, fields(entity = %event.entity))]
pub async fn run<S: Store, I: Messenger, Z: Helpdesk>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> JobResult {
    let Some(cfg) = p.config.tag_sync.as_ref() else {
        return Ok(Outcome::Skipped("tag_sync is not configured".into()));
    };
    let links = find_links(p, event).await?;
    if links.is_empty() {
        return Ok(Outcome::Skipped(format!("{} is not linked", event.entity)));
    }
    let mut outcomes = Vec::with_capacity(links.len());
    for link in &links {
        outcomes.push(sync_locked(p, cfg, link, event).await?);
    }
    Ok(Outcome::combine(outcomes))
}

/// The links an event concerns: the conversation's, or every conversation following the ticket
/// (more than one after a merge of their tickets: each pair keeps its own tag state).
async fn find_links<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    event: &QueuedEvent,
) -> Result<Vec<Link>, JobError> {
    match &event.entity {
        Entity::Conversation(id) => Ok(p.store.link_by_conversation(id).await?.into_iter().collect()),
        Entity::Ticket(id) => match p.store.link_by_ticket(*id).await? {
            Some(link) => lifecycle::links_sharing(p, link).await,
            None => Ok(Vec::new()),
        },
        _ => Err(wrong_entity(event, "a conversation or a ticket")),
    }
}

/// Syncs one pair under its lease (`tags#<conversation>`), one run per link at a time.
async fn sync_locked<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    cfg: &tags::TagSyncConfig,
    link: &Link,
    event: &QueuedEvent,
) -> JobResult {
    let conv_id = link.conversation_id.clone();
    let holder = holder_for(p.worker, event);
    let lock = Intent::TagSync(conv_id.clone());
    match p.store.claim(&lock, &holder, LEASE, p.clock.now()).await? {
        Claim::Acquired => {}
        Claim::Busy | Claim::Done(_) => return Err(busy(format!("tag sync of {conv_id} in progress elsewhere"))),
    }
    let result = sync(p, cfg, link, event).await;
    if let Err(e) = p.store.release(&lock, &holder).await {
        tracing::warn!(conversation_id = %conv_id, error = %e, "could not release tag lock");
    }
    result
}

async fn sync<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    cfg: &tags::TagSyncConfig,
    link: &Link,
    event: &QueuedEvent,
) -> JobResult {
    let conv_id = &link.conversation_id;
    let conversation = p.intercom.conversation(conv_id).await?;
    let ticket = match p.zendesk.ticket(link.ticket_id).await {
        Err(PortError::NotFound { .. }) => {
            return Ok(Outcome::Skipped(format!("live ticket {} not found", link.ticket_id)));
        }
        other => other?,
    };
    if ticket.status == TicketStatus::Closed {
        return Ok(Outcome::Skipped(format!("live ticket {} is closed; its tags are frozen", ticket.id)));
    }
    let reserved: Vec<&str> = p.config.ticket_status.iter().flat_map(|s| s.all_tags()).collect();
    let rules = TagRules::new(cfg, reserved);
    let derived = tags::derived_tags(&ticket.custom_fields);

    let key = DocKey::Tags(conv_id.clone());
    let loaded = p.store.load::<TagState>(&key).await?;
    let version = loaded.as_ref().map(|v| v.version);
    let state: Option<TagState> = loaded.map(|v| v.value);
    let plan = tags::plan(&rules, state.as_ref(), &conversation.tags, &ticket.tags, &derived);

    let ic_written = DocKey::written(&Entity::Conversation(conv_id.clone()));
    let zd_written = DocKey::written(&Entity::Ticket(ticket.id));
    if plan.is_empty() {
        if state.as_ref() != Some(&plan.next) {
            save_state(p.store, &key, &plan.next, version).await?;
        }
        let (written_key, seen) = match event.vendor {
            Vendor::Zendesk => (&zd_written, &plan.next.zendesk_seen),
            Vendor::Intercom => (&ic_written, &plan.next.intercom_seen),
        };
        let (written, _) = lifecycle::load_written(p.store, written_key).await?;
        let own = event.vendor == Vendor::Zendesk
            && lifecycle::zendesk_actor(event) == Some(p.zendesk.own_user_id().await?.get())
            && event.topic.ends_with("tags_changed");
        let verdict = loop_guard::judge(&written, "tags", &loop_guard::fingerprint(seen), own);
        if verdict.is_echo() && state.is_some() {
            let why = "tags equal what the bridge wrote";
            lifecycle::log_suppressed("tag-sync", conv_id.as_str(), ticket.id, why);
            return Ok(Outcome::LoopSuppressed(format!("conversation {conv_id}, ticket {}: {why}", ticket.id)));
        }
        return Ok(Outcome::Skipped(format!("conversation {conv_id}, ticket {}: no tag change", ticket.id)));
    }

    // Record the outcome first: if a write's webhook overtakes the save, it is still an echo.
    let bot = &p.config.intercom.bot_admin_id;
    if !plan.add_intercom.is_empty() || !plan.remove_intercom.is_empty() {
        let fp = loop_guard::fingerprint(&plan.next.intercom_seen);
        lifecycle::record_written(p.store, &ic_written, "tags", Some(fp)).await?;
    }
    if !plan.add_zendesk.is_empty() || !plan.remove_zendesk.is_empty() {
        let fp = loop_guard::fingerprint(&plan.next.zendesk_seen);
        lifecycle::record_written(p.store, &zd_written, "tags", Some(fp)).await?;
    }
    for t in &plan.remove_intercom {
        p.intercom.untag_conversation(conv_id, bot, t).await?;
    }
    for t in &plan.add_intercom {
        p.intercom.tag_conversation(conv_id, bot, t).await?;
    }
    if !plan.remove_zendesk.is_empty() {
        p.zendesk.remove_ticket_tags(ticket.id, &plan.remove_zendesk).await?;
    }
    if !plan.add_zendesk.is_empty() {
        p.zendesk.add_ticket_tags(ticket.id, &plan.add_zendesk).await?;
    }
    save_state(p.store, &key, &plan.next, version).await?;
    Ok(Outcome::Done(format!(
        "conversation {conv_id}, ticket {}: intercom +{} -{}, zendesk +{} -{}",
        ticket.id,
        plan.add_intercom.len(),
        plan.remove_intercom.len(),
        plan.add_zendesk.len(),
        plan.remove_zendesk.len()
    )))
}

async fn save_state<S: Store>(store: &S, key: &DocKey, state: &TagState, version: Option<u64>) -> Result<(), JobError> {
    if store.save(key, state, version).await? { Ok(()) } else { Err(busy(format!("{key} changed during the run"))) }
}

#[cfg(test)]
mod tests;
