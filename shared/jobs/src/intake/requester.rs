//! The requester of a new ticket in Intercom, for jobs 5 and 6: the stored `PERSON#ZD#<user id>`
//! mapping (written on the first look-up), then the Zendesk user's external id (Intercom
//! users), then the email (exactly one contact; several = ambiguous, which gives the flagged
//! default route and no acknowledgement).

use bridge_domain::ids::ContactId;
use bridge_domain::intake::{CustomerProfile, FoundBy, Lookup};
use bridge_domain::keys::DocKey;
use bridge_domain::model::Ticket;
use bridge_domain::ports::{Doc, Helpdesk, Messenger, PortError, Store};
use serde::{Deserialize, Serialize};

use crate::{JobError, Ports};

/// Stored mapping from a Zendesk requester to their Intercom contact.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ZendeskPersonDoc {
    intercom_contact_id: ContactId,
}

/// The requester, looked up once per run: `cache` keeps what the first job found.
pub(super) async fn cached_lookup<'a, S: Store, I: Messenger, Z: Helpdesk>(
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
