//! Job 1's requester: the Zendesk end user (and organization) an Intercom contact becomes.

use std::collections::BTreeMap;

use bridge_domain::escalation;
use bridge_domain::ids::ContactId;
use bridge_domain::model::{Contact, OrganizationUpsert, UserUpsert};
use bridge_domain::ports::{Helpdesk, Messenger, PortError, Store};

use super::PersonDoc;
use crate::{JobError, Ports};

/// Finds or creates the Zendesk requester and their organization; the caller caches the result
/// with the link. Looked up by the contact's external id, then its email, then the key of a
/// visitor made earlier for the same contact. A lead or visitor with neither email nor external
/// id becomes an end user named after the contact (or "Visitor" and a short id) whose external
/// id is that key, so the same person is found again; once the contact has an email, that user
/// is updated with it instead of a second one being made.
pub(super) async fn resolve_requester<S: Store, I: Messenger, Z: Helpdesk>(
    p: &Ports<'_, S, I, Z>,
    contact_id: &ContactId,
) -> Result<PersonDoc, JobError> {
    let contact = match p.intercom.contact(contact_id).await {
        Err(PortError::Merged { new_id, .. }) => {
            let new_id = ContactId::parse(new_id).map_err(|e| JobError::permanent(e.to_string()))?;
            p.intercom.contact(&new_id).await?
        }
        other => other?,
    };
    let organization_id = resolve_organization(p, &contact).await?;
    let helpdesk = p.zendesk;
    let external_id = contact.external_id.clone().filter(|e| !e.trim().is_empty());
    let email = contact.email.clone().filter(|e| !e.trim().is_empty());
    let visitor = external_id.is_none() && email.is_none();
    let mut user = None;
    if let Some(ext) = &external_id {
        user = helpdesk.user_by_external_id(ext).await?;
    }
    if user.is_none()
        && let Some(email) = &email
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
        .or_else(|| email.clone())
        .unwrap_or_else(|| escalation::visitor_name(&contact.id));
    let visitor_key = escalation::visitor_external_id(&contact.id);
    let earlier_visitor = match user {
        Some(_) => None,
        None => helpdesk.user_by_external_id(&visitor_key).await?,
    };
    let user = match (user, earlier_visitor) {
        (Some(u), _) => u,
        // The visitor made earlier, with what is known now (matched on its key).
        (None, Some(earlier)) if visitor => earlier,
        (None, earlier) => {
            let upsert = UserUpsert {
                name: display_name.clone(),
                email: email.clone(),
                external_id: match (&earlier, &external_id) {
                    (None, Some(ext)) => Some(ext.clone()),
                    _ => Some(visitor_key).filter(|_| visitor || earlier.is_some()),
                },
                phone: contact.phone.clone(),
                organization_id,
                fields: BTreeMap::new(),
            };
            helpdesk.upsert_user(&upsert).await?
        }
    };
    let organization_id = organization_id.or(user.org_ids.first().copied());
    Ok(PersonDoc { zendesk_user_id: user.id, zendesk_organization_id: organization_id, display_name, visitor })
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
