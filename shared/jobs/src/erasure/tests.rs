#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bridge_domain::event::{Entity, Kind, QueuedEvent, Vendor};
use bridge_domain::ids::{ContactId, ConversationId, TicketId, UserId};
use bridge_domain::keys::DocKey;
use bridge_domain::model::{FieldValue, Link, Timestamp};
use bridge_domain::ports::Store;

use super::*;
use crate::fakes::TestPorts;
use crate::shadow::{Action, Plan, Shadow};

const BASE: &str = "version: 1\nintercom: { bot_admin_id: '9' }\n";

fn person(contact: &str) -> DocKey {
    DocKey::IntercomPerson(ContactId::parse(contact).unwrap())
}

fn profile(side: Vendor, id: &str) -> DocKey {
    DocKey::Profile { side, kind: Kind::Person, id: id.into() }
}

fn escalation(conversation: &str) -> DocKey {
    DocKey::Escalation(ConversationId::parse(conversation).unwrap())
}

fn loop_guard(ticket: u64) -> DocKey {
    DocKey::written(&Entity::Ticket(TicketId::new(ticket).unwrap()))
}

/// Contact c1 <-> user 300 (known to escalation, profile sync and a link on conversation 77 /
/// ticket 5); contact c2 <-> user 400 is someone else.
async fn world(extra: &str) -> TestPorts {
    let p = TestPorts::new(&format!("{BASE}{extra}"));
    let email = |e: &str| [("email", FieldValue::Text(e.into()))];
    p.ic().seed(Kind::Person, "c1", "user", &email("ada@x.example"));
    p.ic().seed(Kind::Person, "c2", "user", &email("bob@x.example"));
    p.zd().seed(Kind::Person, "300", "end-user", &email("ada@x.example"));
    p.zd().seed(Kind::Person, "400", "end-user", &email("bob@x.example"));
    let s = &p.store;
    s.seed(&person("c1"), r#"{"zendesk_user_id":300,"zendesk_organization_id":null,"display_name":"Ada"}"#);
    let ada_profile = r#"{"intercom_id":"c1","zendesk_id":"300","baseline":{"email":"ada@x.example"}}"#;
    s.seed(&profile(Vendor::Intercom, "c1"), ada_profile);
    s.seed(&profile(Vendor::Zendesk, "300"), r#"{"intercom_id":"c1"}"#);
    s.seed(&escalation("77"), r#"{"ticket":5,"copied_parts":["p1"]}"#);
    s.seed(&loop_guard(5), "{}");
    s.seed(&person("c2"), r#"{"zendesk_user_id":400,"display_name":"Bob"}"#);
    s.seed(&escalation("88"), r#"{"ticket":6}"#);
    let link = |conv: &str, t: u64, u: u64, c: &str| {
        Link::new(
            ConversationId::parse(conv).unwrap(),
            TicketId::new(t).unwrap(),
            Some(UserId::new(u).unwrap()),
            Some(ContactId::parse(c).unwrap()),
            Timestamp(1),
        )
    };
    s.create_link(&link("77", 5, 300, "c1")).await.unwrap();
    s.create_link(&link("88", 6, 400, "c2")).await.unwrap();
    p.dead_letters.0.lock().unwrap().extend([
        ("ticket:5".to_string(), serde_json::json!({"detail": {"requester_id": "300"}})),
        ("conversation:9".to_string(), serde_json::json!({"source": {"author": {"email": "ADA@x.example"}}})),
        ("ticket:6".to_string(), serde_json::json!({"detail": {"requester_id": "400", "id": "300"}})),
    ]);
    p
}

fn deleted(topic: &str, entity: &str) -> QueuedEvent {
    let entity: Entity = entity.parse().unwrap();
    QueuedEvent {
        vendor: entity.vendor(),
        delivery_id: "d1".into(),
        topic: topic.into(),
        entity,
        received_at: Timestamp(1000),
        payload: serde_json::Value::Null,
        trace_id: None,
        actors: Vec::new(),
    }
}

async fn ada_is_gone_from_the_store(p: &TestPorts) {
    let keys = p.store.doc_keys();
    let ada = [
        person("c1"),
        profile(Vendor::Intercom, "c1"),
        profile(Vendor::Zendesk, "300"),
        escalation("77"),
        loop_guard(5),
    ];
    for k in ada {
        assert!(!p.store.has_doc(&k), "{k} survived: {keys:?}");
    }
    assert!(p.store.link_by_conversation(&ConversationId::parse("77").unwrap()).await.unwrap().is_none());
    assert!(p.store.link_by_ticket(TicketId::new(5).unwrap()).await.unwrap().is_none());
    // Bob's records stay.
    assert!(p.store.has_doc(&person("c2")) && p.store.has_doc(&escalation("88")), "{keys:?}");
    assert!(p.store.link_by_conversation(&ConversationId::parse("88").unwrap()).await.unwrap().is_some());
    let dlq = p.dead_letters.0.lock().unwrap();
    assert_eq!(dlq.len(), 1, "only Bob's dead letter stays: {dlq:?}");
    assert_eq!(dlq[0].0, "ticket:6");
}

#[tokio::test]
async fn an_intercom_deletion_deletes_the_zendesk_user_and_purges_every_record() {
    let p = world("erasure: { on_intercom_deletion: delete }\n").await;
    let out = run(&p.ports(), &p.dead_letters, &deleted("contact.deleted", "contact:c1")).await.unwrap();
    let Outcome::Done(summary) = out else { panic!("{out:?}") };
    assert_eq!(*p.zd().deleted.lock().unwrap(), vec!["300"]);
    assert!(p.ic().deleted.lock().unwrap().is_empty(), "the deleted side is not touched");
    assert_eq!(summary, "erasure: 1 vendor actions, 0 already gone, 5 documents, 1 links, 2 dead letters");
    ada_is_gone_from_the_store(&p).await;

    // The echo (Zendesk's user.deleted for 300) finds nothing left and deletes nothing else.
    let again = run(&p.ports(), &p.dead_letters, &deleted("zen:event-type:user.deleted", "user:300")).await.unwrap();
    assert!(matches!(again, Outcome::Done(_)), "{again:?}");
    assert!(p.ic().deleted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_zendesk_deletion_redacts_the_intercom_contact() {
    let p = world("erasure: { on_zendesk_deletion: redact, redacted_name: Gone }\n").await;
    run(&p.ports(), &p.dead_letters, &deleted("zen:event-type:user.deleted", "user:300")).await.unwrap();
    let written = p.ic().written.lock().unwrap().clone();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].0, "c1");
    assert_eq!(written[0].1.get("name"), Some(&FieldValue::Text("Gone".into())));
    assert_eq!(written[0].1.get("phone"), Some(&FieldValue::Null));
    assert!(p.zd().deleted.lock().unwrap().is_empty() && p.ic().deleted.lock().unwrap().is_empty());
    ada_is_gone_from_the_store(&p).await;
}

#[tokio::test]
async fn without_configuration_only_the_bridge_records_are_purged() {
    let p = world("").await;
    run(&p.ports(), &p.dead_letters, &deleted("contact.deleted", "contact:c1")).await.unwrap();
    assert!(p.zd().deleted.lock().unwrap().is_empty() && p.zd().written.lock().unwrap().is_empty());
    ada_is_gone_from_the_store(&p).await;
}

#[tokio::test]
async fn a_shadow_run_plans_the_erasure_and_touches_nothing() {
    let p = world("erasure: { on_intercom_deletion: delete }\n").await;
    let plan = Plan::default();
    let shadow = Shadow::new(&p.ports(), &plan);
    let out = run(&shadow.ports(), shadow.dead_letters(), &deleted("contact.deleted", "contact:c1")).await.unwrap();
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    assert_eq!(
        plan.actions(),
        vec![Action::DeletePerson { side: "zendesk", id: "300".into() }, Action::PurgeDeadLetters]
    );
    assert!(p.zd().deleted.lock().unwrap().is_empty(), "nothing deleted");
    assert!(p.store.has_doc(&person("c1")), "nothing purged");
    assert_eq!(p.dead_letters.0.lock().unwrap().len(), 3, "no dead letter removed");
}

#[tokio::test]
async fn a_conversation_sharing_the_erased_ones_ticket_is_still_found_by_it() {
    let p = world("").await;
    // Bob's ticket 6 was merged into Ada's ticket 5: both conversations follow ticket 5.
    let bob = p.store.link_by_conversation(&ConversationId::parse("88").unwrap()).await.unwrap().unwrap();
    let merge =
        bridge_domain::links::LinkChange::Merged { from: TicketId::new(6).unwrap(), to: TicketId::new(5).unwrap() };
    crate::lifecycle::move_link(&p.ports(), &bob, &merge).await.unwrap();
    run(&p.ports(), &p.dead_letters, &deleted("contact.deleted", "contact:c1")).await.unwrap();
    let found = p.store.link_by_ticket(TicketId::new(5).unwrap()).await.unwrap().expect("Bob's link by the ticket");
    assert_eq!(found.conversation_id.as_str(), "88");
    assert!(found.shared_with.is_empty(), "the erased conversation is no longer named: {:?}", found.shared_with);
}
