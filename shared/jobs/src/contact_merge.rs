//! Intercom contact merge (`contact.merged`, item = the surviving contact with
//! `merged_from {type, id}`): every link of the merged contact follows the surviving one (with a
//! `ContactMerged` entry in its history), and the bridge's person state (the cached Zendesk
//! requester of the contact) is carried over, so later escalations of the surviving contact reuse
//! it. Runs on job 2's queue, with the other contact lifecycle events. No vendor call: the payload
//! names both contacts.

use bridge_domain::event::{QueuedEvent, Vendor};
use bridge_domain::ids::ContactId;
use bridge_domain::keys::DocKey;
use bridge_domain::ports::Store;

use crate::{JobError, JobResult, Outcome, Ports};

/// Intercom topic of a contact merge.
pub const TOPIC: &str = "contact.merged";

/// True when the event is an Intercom contact merge this module handles.
pub fn handles(event: &QueuedEvent) -> bool {
    event.vendor == Vendor::Intercom && event.topic == TOPIC
}

/// The merged (`from`) and surviving (`to`) contact ids named by the payload.
pub fn merged_ids(event: &QueuedEvent) -> Result<(ContactId, ContactId), JobError> {
    let item = event.payload.pointer("/data/item");
    let id_at = |pointer: &str| item.and_then(|i| i.pointer(pointer)).and_then(serde_json::Value::as_str);
    let (Some(from), Some(to)) = (id_at("/merged_from/id"), id_at("/id")) else {
        return Err(JobError::permanent("contact.merged without item.id or item.merged_from.id"));
    };
    let parse = |id: &str| ContactId::parse(id).map_err(|e| JobError::permanent(format!("bad contact id: {e}")));
    Ok((parse(from)?, parse(to)?))
}

/// Moves the links and person state of the merged contact to the surviving one. Idempotent:
/// a link already on the surviving contact is left as it is, and person state is only copied
/// where the surviving contact has none.
pub async fn run<S: Store, I, Z>(p: &Ports<'_, S, I, Z>, event: &QueuedEvent) -> JobResult {
    let (from, to) = merged_ids(event)?;
    if from == to {
        return Ok(Outcome::Skipped(format!("contact {to} merged into itself")));
    }
    let links = p.store.links_of_person(std::slice::from_ref(&from), &[]).await?;
    let mut moved = 0usize;
    for link in links.iter().filter(|l| l.contact_id.as_ref() == Some(&from)) {
        crate::lifecycle::follow_contact_merge(p, link, from.clone(), to.clone()).await?;
        moved += 1;
    }
    let carried = carry_person_state(p.store, &from, &to).await?;
    tracing::info!(from = %from, to = %to, links = moved, person_state = carried, "contact merge followed");
    Ok(Outcome::Done(format!("contact {from} merged into {to}: {moved} links moved, person state carried: {carried}")))
}

/// Copies the cached requester of `from` to `to` unless `to` has its own; true when copied.
async fn carry_person_state<S: Store>(store: &S, from: &ContactId, to: &ContactId) -> Result<bool, JobError> {
    let from = DocKey::IntercomPerson(from.clone());
    let Some(doc) = store.load::<serde_json::Value>(&from).await? else {
        return Ok(false);
    };
    // Conditional on absence: state the surviving contact already has wins.
    Ok(store.save(&DocKey::IntercomPerson(to.clone()), &doc.value, None).await?)
}

#[cfg(test)]
mod tests {
    use bridge_domain::ids::{ConversationId, TicketId, UserId};
    use bridge_domain::model::{Link, LinkEvent, Timestamp};

    use super::*;
    use crate::fakes::TestPorts;

    const CONFIG: &str = "version: 1\nintercom: { bot_admin_id: '9' }\n";

    fn merged(from: &str, to: &str, delivery: &str) -> QueuedEvent {
        QueuedEvent {
            vendor: bridge_domain::event::Vendor::Intercom,
            delivery_id: delivery.into(),
            topic: TOPIC.into(),
            entity: format!("contact:{to}").parse().unwrap(),
            received_at: Timestamp(1),
            payload: serde_json::json!({"type": "notification_event", "topic": TOPIC, "data": {"item": {
                "type": "contact", "id": to, "role": "user", "merged_from": {"type": "contact", "id": from}
            }}}),
            trace_id: None,
            actors: Vec::new(),
        }
    }

    fn c(id: &str) -> ContactId {
        ContactId::parse(id).unwrap()
    }

    #[tokio::test]
    async fn links_and_person_state_follow_the_surviving_contact_once() {
        let p = TestPorts::new(CONFIG);
        let ticket = TicketId::new(5).unwrap();
        let link = Link::new(
            ConversationId::parse("42").unwrap(),
            ticket,
            UserId::new(3).ok(),
            Some(c("lead1")),
            Timestamp(1),
        );
        p.store.create_link(&link).await.unwrap();
        let other = Link::new(
            ConversationId::parse("43").unwrap(),
            TicketId::new(6).unwrap(),
            None,
            Some(c("x")),
            Timestamp(1),
        );
        p.store.create_link(&other).await.unwrap();
        let person = r#"{"zendesk_user_id":3,"zendesk_organization_id":null,"display_name":"Lead"}"#;
        p.store.seed(&DocKey::IntercomPerson(c("lead1")), person);

        let out = run(&p.ports(), &merged("lead1", "user1", "n1")).await.unwrap();
        assert!(matches!(out, Outcome::Done(ref s) if s.contains("1 links moved")), "{out:?}");
        let moved = p.store.link_by_ticket(ticket).await.unwrap().unwrap();
        assert_eq!(moved.contact_id, Some(c("user1")));
        assert_eq!(moved.ticket_id, ticket, "the ticket stays");
        let merges = moved.history.iter().filter(|h| matches!(h, LinkEvent::ContactMerged { .. })).count();
        assert_eq!(merges, 1);
        assert_eq!(p.store.doc_json(&DocKey::IntercomPerson(c("user1"))), Some(serde_json::from_str(person).unwrap()));
        let untouched = p.store.link_by_ticket(TicketId::new(6).unwrap()).await.unwrap().unwrap();
        assert_eq!(untouched.contact_id, Some(c("x")));

        // A redelivery changes nothing.
        run(&p.ports(), &merged("lead1", "user1", "n2")).await.unwrap();
        let again = p.store.link_by_ticket(ticket).await.unwrap().unwrap();
        assert_eq!(again.history.iter().filter(|h| matches!(h, LinkEvent::ContactMerged { .. })).count(), 1);
    }

    #[tokio::test]
    async fn payload_without_merged_from_is_permanent() {
        let p = TestPorts::new(CONFIG);
        let mut e = merged("a", "b", "n1");
        e.payload = serde_json::json!({"data": {"item": {"id": "b"}}});
        assert!(!run(&p.ports(), &e).await.unwrap_err().is_retryable());
    }
}
