//! GDPR erasure end to end: an Intercom contact deletion (simulator webhook -> real ingress ->
//! SQS on moto -> real worker) deletes the linked Zendesk user over HTTP and leaves no trace of
//! the person in the DynamoDB table or the dead-letter queues.

use std::time::Duration;

use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::ContactId;
use bridge_domain::keys::DocKey;
use bridge_domain::model::Timestamp;
use bridge_domain::routing::JobKind;
use bridge_e2e::{World, eventually, settle};
use bridge_runtime::driver::DeadLetter;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);
const EMAIL: &str = "ada@acme.example";

/// Every item of the table, each as one JSON-ish string.
async fn table_items(world: &World) -> Vec<String> {
    let ddb = bridge_aws::sdk::dynamodb::Client::new(&world.sdk);
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = ddb.scan().table_name(&world.table).set_exclusive_start_key(start.take()).send().await.unwrap();
        out.extend(page.items().iter().map(|i| format!("{i:?}")));
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    out
}

fn letter(entity: &str, payload: Value) -> String {
    let event = QueuedEvent {
        vendor: bridge_domain::event::Vendor::Zendesk,
        delivery_id: format!("dl-{entity}"),
        topic: "zen:event-type:ticket.comment_added".into(),
        entity: entity.parse().unwrap(),
        received_at: Timestamp(1),
        payload,
        trace_id: None,
        actors: Vec::new(),
    };
    let letter = DeadLetter {
        job: JobKind::TicketStatus,
        reason: "test".into(),
        attempts: 1,
        failed_at: "-".into(),
        body: serde_json::to_string(&event).unwrap(),
    };
    serde_json::to_string(&letter).unwrap()
}

#[tokio::test]
async fn deleting_an_intercom_contact_erases_the_person_everywhere() {
    let world = World::start_with(|c| format!("{c}erasure:\n  on_intercom_deletion: delete\n")).await.unwrap();
    let contact = world.seeded.customer.clone();

    // Escalation links the contact to a Zendesk requester and fills the store.
    let conv = world.intercom.customer_starts_conversation(&contact, "<p>Please help</p>").unwrap();
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    eventually(WAIT, "the escalated ticket", || world.tickets().len() == 1).await.unwrap();
    settle(QUIET, WAIT, || world.tickets().len()).await.unwrap();
    let ticket = world.tickets().remove(0);
    let requester = ticket["requester_id"].as_u64().unwrap().to_string();
    let items = table_items(&world).await;
    assert!(items.iter().any(|i| i.contains(&contact)), "the store knows the contact before");
    let person = bridge_aws::doc_key(&DocKey::IntercomPerson(ContactId::parse(contact.as_str()).unwrap()));
    assert!(items.iter().any(|i| i.contains(&person)), "{person} before");

    // Two dead letters: one about the person, one about someone else.
    let mine = letter(&format!("ticket:{}", ticket["id"]), json!({"detail": {"requester_id": requester}}));
    let other = letter("ticket:999999", json!({"detail": {"requester_id": "424242"}}));
    world.queue.send_dead_letter(JobKind::TicketStatus, "ticket:a", &mine).await.unwrap();
    world.queue.send_dead_letter(JobKind::TicketStatus, "ticket:b", &other).await.unwrap();

    // The customer is deleted in Intercom.
    world.intercom.delete_contact(&contact).unwrap();

    let user_gone = || {
        let users = world.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
        !users.iter().any(|u| u["id"].as_u64().map(|i| i.to_string()) == Some(requester.clone()))
    };
    eventually(WAIT, "the Zendesk user deleted", user_gone).await.unwrap();

    // No record of the person is left: no email, no contact id, no person key or link naming
    // the Zendesk user.
    let mut left = Vec::new();
    for _ in 0..60 {
        left = table_items(&world)
            .await
            .into_iter()
            .filter(|i| {
                i.contains(EMAIL)
                    || i.contains(&contact)
                    || i.contains(&format!("#{requester}\""))
                    || i.contains(&format!("user:{requester}"))
                    || i.contains(&format!("\"requester_id\\\":{requester}"))
            })
            .collect();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(left.is_empty(), "records of the person remain: {left:#?}");

    let letters = world.queue.peek_dead_letters(JobKind::TicketStatus, 100).await.unwrap();
    let bodies: Vec<&str> = letters.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, vec![other.as_str()], "only the unrelated dead letter stays");
}
