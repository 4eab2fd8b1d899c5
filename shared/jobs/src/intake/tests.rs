#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::*;
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::*;
use bridge_domain::ports::{Claim, Store};

use super::run;
use crate::fakes::TestPorts;
use crate::{JobError, Outcome};

const CONFIG: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
routing:
  plan_tiers: [enterprise, pro]
  default: { group_id: 1 }
  rules:
    - { name: enterprise, when: { plan: [enterprise] }, group_id: 10, priority: high, tags: [ent] }
    - { name: vip, when: { segment: [VIP] }, group_id: 20 }
acknowledgement:
  channels: [web, email]
  message_type: in_app
  sla:
    plans: { enterprise: within 1 hour }
"#;

const REQUESTER: u64 = 300;

fn seed(p: &TestPorts, ticket: u64, channel: &str, external_id: Option<&str>) {
    let t = Ticket {
        id: TicketId::new(ticket).unwrap(),
        subject: Some("Cannot log in".into()),
        status: TicketStatus::New,
        priority: None,
        requester_id: Some(UserId::new(REQUESTER).unwrap()),
        assignee_id: None,
        group_id: None,
        organization_id: None,
        tags: vec![],
        external_id: external_id.map(str::to_string),
        via_channel: Some(channel.into()),
        followup_source_id: None,
        custom_fields: BTreeMap::new(),
        created_at: Timestamp(10_000),
        updated_at: Timestamp(10_000),
    };
    p.zendesk.tickets.lock().unwrap().insert(ticket, (t, vec![]));
}

fn seed_people(p: &TestPorts, email: &str) {
    p.zendesk.users.lock().unwrap().push(User {
        id: UserId::new(REQUESTER).unwrap(),
        name: Some("Ada".into()),
        email: Some(email.into()),
        phone: None,
        external_id: None,
        role: "end-user".into(),
        org_ids: vec![],
        fields: BTreeMap::new(),
        tags: vec![],
        updated_at: Timestamp(1),
    });
    let contact = Contact {
        id: ContactId::parse("c1").unwrap(),
        name: Some("Ada".into()),
        email: Some("ada@example.com".into()),
        phone: None,
        external_id: None,
        role: "user".into(),
        org_ids: vec![CompanyId::parse("co1").unwrap()],
        fields: BTreeMap::new(),
        tags: vec![],
        updated_at: Timestamp(9_000),
    };
    p.intercom.contacts.lock().unwrap().insert("c1".into(), contact);
    p.intercom.companies.lock().unwrap().insert(
        "c1".into(),
        vec![Company {
            id: CompanyId::parse("co1").unwrap(),
            name: Some("Acme".into()),
            external_id: Some("acme".into()),
            plan: Some("enterprise".into()),
            monthly_spend: Some(100.0),
            fields: BTreeMap::new(),
            tags: vec![],
            updated_at: Timestamp(9_000),
        }],
    );
}

fn event(ticket: u64, delivery: &str, topic: &str) -> QueuedEvent {
    QueuedEvent {
        vendor: bridge_domain::event::Vendor::Zendesk,
        delivery_id: delivery.into(),
        topic: topic.into(),
        entity: format!("ticket:{ticket}").parse().unwrap(),
        received_at: Timestamp(1),
        payload: serde_json::json!({ "detail": { "actor_id": REQUESTER.to_string() } }),
        trace_id: None,
        actors: Vec::new(),
    }
}

fn created(ticket: u64, delivery: &str) -> QueuedEvent {
    event(ticket, delivery, "zen:event-type:ticket.created")
}

#[tokio::test]
async fn web_ticket_is_routed_once_and_acknowledged_once_under_repeated_deliveries() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 500, "web", None);
    seed_people(&p, "ada@example.com");

    for i in 0..5 {
        let out = run(&p.ports(), &created(500, &format!("d{i}"))).await.unwrap();
        match i {
            0 => assert!(matches!(out, Outcome::Done(_)), "{out:?}"),
            _ => assert!(matches!(out, Outcome::Skipped(ref s) if s.contains("already routed")), "{out:?}"),
        }
    }

    let updates = p.zendesk.updates.lock().unwrap().clone();
    assert_eq!(updates.len(), 1, "one routing update");
    let (_, u) = &updates[0];
    assert_eq!(u.group_id.map(|g| g.get()), Some(10));
    assert_eq!(u.priority, Some(TicketPriority::High));
    let note = u.comment.as_ref().unwrap();
    assert!(!note.public);
    assert!(note.html_body.contains("Routed by rule \"enterprise\""), "{}", note.html_body);
    assert_eq!(p.zendesk.added_tags.lock().unwrap().clone(), vec![(500, vec!["ent".to_string()])]);

    let messages = p.intercom.messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "one acknowledgement");
    assert_eq!(messages[0].to.as_str(), "c1");
    assert_eq!(messages[0].channel, MessageChannel::InApp);
    assert!(messages[0].body.contains("#500") && messages[0].body.contains("within 1 hour"), "{}", messages[0].body);
    assert_eq!(
        p.store
            .claim(
                &Intent::Acknowledge(TicketId::new(500).unwrap()),
                "x",
                std::time::Duration::from_secs(1),
                Timestamp(1)
            )
            .await
            .unwrap(),
        Claim::Done("acknowledged with message m1".into())
    );
    // The requester mapping is stored for next time.
    assert!(p.store.doc_json(&DocKey::ZendeskPerson(UserId::new(300).unwrap())).unwrap().to_string().contains("c1"));
}

#[tokio::test]
async fn stored_mapping_is_used_before_external_id_and_email() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 501, "email", None);
    // The Zendesk user's email matches nobody; only the stored mapping finds the contact.
    seed_people(&p, "someone-else@example.com");
    p.store.seed(&DocKey::ZendeskPerson(UserId::new(REQUESTER).unwrap()), r#"{"intercom_contact_id":"c1"}"#);
    run(&p.ports(), &created(501, "d1")).await.unwrap();
    assert_eq!(p.intercom.messages.lock().unwrap().len(), 1);
    let note = p.zendesk.updates.lock().unwrap()[0].1.comment.clone().unwrap();
    assert!(note.html_body.contains("found by stored mapping"), "{}", note.html_body);
}

#[tokio::test]
async fn unknown_requester_gets_flagged_default_route_and_no_acknowledgement() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 502, "web", None);
    seed_people(&p, "stranger@example.com");
    let out = run(&p.ports(), &created(502, "d1")).await.unwrap();
    let Outcome::Done(summary) = out else { panic!() };
    assert!(summary.contains("flagged contact_not_found"), "{summary}");
    assert_eq!(p.zendesk.updates.lock().unwrap()[0].1.group_id.map(|g| g.get()), Some(1));
    assert_eq!(p.zendesk.added_tags.lock().unwrap()[0].1, vec!["routing_unverified".to_string()]);
    assert!(p.intercom.messages.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ambiguous_email_is_flagged() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 503, "web", None);
    seed_people(&p, "ada@example.com");
    let mut twin = p.intercom.contacts.lock().unwrap()["c1"].clone();
    twin.id = ContactId::parse("c2").unwrap();
    p.intercom.contacts.lock().unwrap().insert("c2".into(), twin);
    let Outcome::Done(summary) = run(&p.ports(), &created(503, "d1")).await.unwrap() else { panic!() };
    assert!(summary.contains("ambiguous_contact"), "{summary}");
    assert!(p.intercom.messages.lock().unwrap().is_empty());
}

#[tokio::test]
async fn escalation_and_api_tickets_are_neither_routed_nor_acknowledged() {
    let p = TestPorts::new(CONFIG);
    seed_people(&p, "ada@example.com");
    // An escalation: the bridge's external id prefix.
    seed(&p, 504, "api", Some("intercom-conversation-42"));
    // Created through the API by somebody else: routed, not acknowledged.
    seed(&p, 505, "api", None);
    // Created by the bridge's own Zendesk user (id 1 in the fakes) through the web.
    seed(&p, 506, "web", None);
    run(&p.ports(), &created(504, "d1")).await.unwrap();
    run(&p.ports(), &created(505, "d2")).await.unwrap();
    let mut own = created(506, "d3");
    own.payload = serde_json::json!({ "updated_by": "1", "kind": "ticket_created" });
    run(&p.ports(), &own).await.unwrap();
    assert!(p.intercom.messages.lock().unwrap().is_empty(), "no acknowledgements");
    let routed: Vec<u64> = p.zendesk.updates.lock().unwrap().iter().map(|(t, _)| *t).collect();
    assert_eq!(routed, vec![505], "only the third-party API ticket is routed");
}

#[tokio::test]
async fn zendesk_sla_target_is_used_in_the_acknowledgement() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 507, "web", None);
    seed_people(&p, "ada@example.com");
    p.zendesk.slas.lock().unwrap().insert(
        507,
        SlaTarget {
            metric: "first_reply_time".into(),
            breach_at: Some(Timestamp(10_000 + 1800)),
            target_minutes: None,
        },
    );
    run(&p.ports(), &event(507, "t1", "trigger.ticket_created")).await.unwrap();
    let body = p.intercom.messages.lock().unwrap()[0].body.clone();
    assert!(body.contains("within 30 minutes"), "{body}");
}

#[tokio::test]
async fn updates_and_missing_tickets_are_skipped() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 508, "web", None);
    seed_people(&p, "ada@example.com");
    let out = run(&p.ports(), &event(508, "d1", "trigger")).await.unwrap();
    assert!(matches!(out, Outcome::Skipped(_)), "{out:?}");
    let out = run(&p.ports(), &created(999, "d2")).await.unwrap();
    assert!(matches!(out, Outcome::Skipped(_)), "{out:?}");
    assert!(p.zendesk.updates.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_concurrent_holder_makes_the_delivery_retry() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 509, "web", None);
    seed_people(&p, "ada@example.com");
    p.store
        .claim(
            &Intent::Route(TicketId::new(509).unwrap()),
            "other",
            std::time::Duration::from_secs(60),
            Timestamp(10_000),
        )
        .await
        .unwrap();
    let err = run(&p.ports(), &created(509, "d1")).await.unwrap_err();
    assert!(matches!(err, JobError::Retry { .. }), "{err:?}");
    assert!(p.intercom.messages.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_retry_after_a_crash_does_not_repeat_the_note() {
    let p = TestPorts::new(CONFIG);
    seed(&p, 510, "web", None);
    seed_people(&p, "ada@example.com");
    // A first attempt wrote the note, then died before its done marker.
    let note = "<p>Routed…</p><p>[bridge-routing:510]</p>";
    p.zendesk.tickets.lock().unwrap().get_mut(&510).unwrap().1.push(TicketComment {
        id: None,
        html_body: note.into(),
        public: false,
        author_id: None,
        created_at: None,
        uploads: Vec::new(),
        attachments: Vec::new(),
    });
    run(&p.ports(), &created(510, "d1")).await.unwrap();
    let updates = p.zendesk.updates.lock().unwrap().clone();
    assert_eq!(updates.len(), 1);
    assert!(updates[0].1.comment.is_none(), "the note is not written twice");
    assert_eq!(updates[0].1.group_id.map(|g| g.get()), Some(10));
}

#[tokio::test]
async fn reason_can_go_to_a_custom_field() {
    let cfg = CONFIG.replace("  plan_tiers:", "  reason_to: custom_field\n  reason_field_id: 77\n  plan_tiers:");
    let p = TestPorts::new(&cfg);
    seed(&p, 511, "web", None);
    seed_people(&p, "ada@example.com");
    run(&p.ports(), &created(511, "d1")).await.unwrap();
    let u = p.zendesk.updates.lock().unwrap()[0].1.clone();
    assert!(u.comment.is_none());
    assert!(matches!(u.custom_fields.get(&77), Some(FieldValue::Text(t)) if t.contains("enterprise")));
}
