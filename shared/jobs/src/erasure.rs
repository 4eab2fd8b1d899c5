//! GDPR erasure: an Intercom contact deletion (`contact.deleted`) or a Zendesk user deletion
//! (`zen:event-type:user.deleted`) deletes or redacts the linked person on the other side,
//! purges the bridge's own records of that person (links, person documents, profile state,
//! loop-guard records, the per-conversation documents of their links, dead letters that
//! mention them) and logs a receipt with ids and counts only.
//!
//! Runs on job 2's queue (the driver routes erasure topics here). Order matters for retries:
//! the store is read first (it is how the linked ids are known), the vendor is acted on next,
//! then the dead letters, and only then is the store purged, so a failed step is retried with
//! the ids intact.
//! Without an `erasure:` section the bridge still purges its own records and leaves the other
//! side alone.

use std::collections::BTreeSet;

use bridge_domain::erasure::{
    self, DeadLetterPurge, ErasureConfig, Person, PersonEraser, Receipt, VendorAction, VendorStep,
};
use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::{ContactId, ConversationId, UserId};
use bridge_domain::keys::DocKey;
use bridge_domain::model::Link;
use bridge_domain::ports::{PortError, Store};

use crate::{JobError, JobResult, Outcome, Ports};
use bridge_domain::profiles::directory::ProfileDirectory;

/// How many rounds of "read the documents of the ids found so far" an erasure makes.
const GATHER_ROUNDS: usize = 3;

/// True when the event is a person deletion this module handles.
pub fn handles(event: &QueuedEvent) -> bool {
    erasure::is_erasure_topic(&event.topic)
}

/// Runs an erasure for one queued deletion event.
pub async fn run<S, I, Z, D>(p: &Ports<'_, S, I, Z>, dead_letters: &D, event: &QueuedEvent) -> JobResult
where
    S: Store,
    I: ProfileDirectory + PersonEraser,
    Z: ProfileDirectory + PersonEraser,
    D: DeadLetterPurge,
{
    let Some(deletion) = erasure::deletion(&event.topic, &event.entity) else {
        return Ok(Outcome::Skipped(format!("{} on {} is not a person deletion", event.topic, event.entity)));
    };
    let config = p.config.erasure.clone().unwrap_or_else(|| ErasureConfig {
        on_intercom_deletion: VendorAction::Keep,
        on_zendesk_deletion: VendorAction::Keep,
        ..ErasureConfig::default()
    });

    let (mut person, links) = gather(p.store, &deletion).await?;
    learn_emails(p.side(deletion.side.other()), &deletion, &mut person).await?;
    let mut receipt = Receipt::new(&deletion, &person);

    for step in erasure::vendor_steps(&config, &deletion, &person) {
        if act(p.side(step.side), &step).await? {
            receipt.vendor_actions.push(erasure::describe(&step));
        } else {
            receipt.already_gone += 1;
        }
    }

    // Dead letters before the store: a failure here is retried with the ids still known.
    let matches = |entity: &Entity, payload: &serde_json::Value| erasure::mentions(entity, payload, &person);
    receipt.dead_letters_removed = dead_letters.purge_dead_letters(&matches).await?;
    let mut keys = erasure::person_keys(&person);
    for link in &links {
        p.store.delete_link(link).await?;
        receipt.links_removed += 1;
        keys.extend(erasure::conversation_keys(&link.conversation_id, &link.tickets));
    }
    reindex_peers(p.store, &links).await?;
    for key in &keys {
        if p.store.delete(key).await? {
            receipt.documents_removed += 1;
        }
    }
    let json = serde_json::to_string(&receipt).unwrap_or_default();
    tracing::info!(erasure_receipt = %json, "erasure receipt");
    // The outcome is stored with the delivery's done marker: counts only, no ids of the person.
    Ok(Outcome::Done(receipt.counts()))
}

/// A conversation that follows the same ticket as an erased one (their tickets were merged)
/// lost that ticket's index entry with the erased link: its link is written again, which
/// indexes its tickets, without the erased conversation among its peers.
async fn reindex_peers<S: Store>(store: &S, erased: &[Link]) -> Result<(), JobError> {
    let gone = |c: &ConversationId| erased.iter().any(|l| l.conversation_id == *c);
    for peer in erased.iter().flat_map(|l| &l.shared_with).filter(|c| !gone(c)) {
        let Some(mut link) = store.link_by_conversation(peer).await? else { continue };
        link.shared_with.retain(|c| !gone(c));
        if !store.update_link(&link, link.version).await? {
            return Err(crate::lifecycle::busy(format!("link of {peer} changed during the erasure")));
        }
    }
    Ok(())
}

/// Everything the store knows about the person: their ids on both sides (from every job's
/// documents and from links, until no new id appears) and their links.
async fn gather<S: Store>(store: &S, deletion: &erasure::Deletion) -> Result<(Person, Vec<Link>), PortError> {
    let mut person = Person::from_deletion(deletion);
    let mut read: BTreeSet<DocKey> = BTreeSet::new();
    let mut links: Vec<Link> = Vec::new();
    for _ in 0..GATHER_ROUNDS {
        let before = person.clone();
        for key in erasure::person_keys(&person) {
            if read.insert(key.clone())
                && let Some(doc) = store.load::<serde_json::Value>(&key).await?
            {
                person.learn_from_doc(&doc.value);
            }
        }
        let contacts: Vec<ContactId> = person.intercom.iter().filter_map(|id| ContactId::parse(id).ok()).collect();
        let users: Vec<UserId> = person.zendesk.iter().filter_map(|id| UserId::parse(id).ok()).collect();
        links = store.links_of_person(&contacts, &users).await?;
        for link in &links {
            if let Some(c) = &link.contact_id {
                person.add_id(Vendor::Intercom, c.as_str());
            }
            if let Some(u) = link.requester_id {
                person.add_id(Vendor::Zendesk, &u.to_string());
            }
        }
        if person == before {
            break;
        }
    }
    Ok((person, links))
}

/// Reads the emails of the linked persons still present on the other side (the dead letters
/// are matched on them too).
async fn learn_emails(
    other: impl ProfileDirectory,
    deletion: &erasure::Deletion,
    person: &mut Person,
) -> Result<(), PortError> {
    debug_assert_eq!(ProfileDirectory::side(&other), deletion.side.other());
    let ids: Vec<String> = person.ids(ProfileDirectory::side(&other)).iter().cloned().collect();
    for id in ids {
        match other.get(Kind::Person, &id).await {
            Ok(Some(profile)) => {
                if let Some(email) = profile.email() {
                    person.add_email(email);
                }
            }
            Ok(None) | Err(PortError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Performs one vendor step; `Ok(false)` when the person was already gone.
async fn act(side: impl ProfileDirectory + PersonEraser, step: &VendorStep) -> Result<bool, PortError> {
    match step.action {
        VendorAction::Delete => side.delete_person(&step.id).await,
        VendorAction::Redact => match side.write(Kind::Person, Some(&step.id), &step.values).await {
            Ok(_) => Ok(true),
            Err(PortError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        },
        VendorAction::Keep => Ok(false),
    }
}

#[cfg(test)]
mod tests;
