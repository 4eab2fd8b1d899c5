#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::*;
use bridge_domain::model::*;
use bridge_domain::ports::Store;

use super::run;
use crate::fakes::TestPorts;
use crate::{JobError, Outcome};

const CONFIG: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
escalation:
  rules:
    - { name: tagged, when: { tag_added: escalate }, group_id: 7 }
  tags: [intercom]
"#;

fn part(id: &str, kind: PartKind, role: AuthorRole, author: &str, body: &str, at: i64) -> Part {
    Part {
        id: PartId::parse(id).unwrap(),
        kind,
        author: Author { role, id: Some(author.into()), name: Some("Ada".into()), email: None },
        body: Some(body.into()),
        created_at: Timestamp(at),
        attachments: vec![],
        app_package_code: None,
    }
}

fn seed(p: &TestPorts, tags: &[&str]) {
    let conv = Conversation {
        id: ConversationId::parse("42").unwrap(),
        title: Some("Broken invoice".into()),
        created_at: Timestamp(1000),
        updated_at: Timestamp(1000),
        waiting_since: None,
        state: ConversationState::Open,
        priority: ConversationPriority::High,
        admin_assignee: None,
        team_assignee: None,
        contacts: vec![ContactId::parse("c1").unwrap()],
        tags: tags.iter().map(|t| t.to_string()).collect(),
        attributes: BTreeMap::new(),
        parts: vec![part("src", PartKind::Opening, AuthorRole::User, "c1", "Invoice is wrong", 1000)],
        parts_total: 1,
    };
    p.intercom.conversations.lock().unwrap().insert("42".into(), conv);
    p.intercom.contacts.lock().unwrap().insert(
        "c1".into(),
        Contact {
            id: ContactId::parse("c1").unwrap(),
            name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            phone: None,
            external_id: Some("u-1".into()),
            role: "user".into(),
            org_ids: vec![],
            fields: BTreeMap::new(),
            tags: vec![],
            updated_at: Timestamp(1),
        },
    );
}

fn event(topic: &str) -> QueuedEvent {
    QueuedEvent {
        vendor: bridge_domain::event::Vendor::Intercom,
        delivery_id: "notif_1".into(),
        topic: topic.into(),
        entity: "conversation:42".parse().unwrap(),
        received_at: Timestamp(1),
        payload: serde_json::Value::Null,
        trace_id: None,
        actors: Vec::new(),
    }
}

#[tokio::test]
async fn tagged_conversation_becomes_one_ticket_with_link_and_note() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    let out = run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    let tickets = p.zendesk.tickets.lock().unwrap().clone();
    assert_eq!(tickets.len(), 1);
    let (ticket, comments) = tickets.values().next().unwrap();
    assert_eq!(ticket.priority, Some(TicketPriority::High));
    assert_eq!(ticket.group_id.map(|g| g.get()), Some(7));
    assert_eq!(ticket.external_id.as_deref(), Some("intercom-conversation-42"));
    assert!(comments[0].html_body.contains("Invoice is wrong"));
    let link = p.store.link_by_conversation(&ConversationId::parse("42").unwrap()).await.unwrap().unwrap();
    assert_eq!(link.ticket_id, ticket.id);
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1);
    let attrs = p.intercom.attributes.lock().unwrap().clone();
    assert_eq!(attrs[0].1.get("zendesk_ticket_id"), Some(&FieldValue::Text(ticket.id.to_string())));

    // Replays change nothing.
    for _ in 0..3 {
        run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    }
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1);
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1);
    assert_eq!(p.intercom.attributes.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn untagged_conversation_is_skipped() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &[]);
    let out = run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    assert!(matches!(out, Outcome::Skipped(_)));
    assert!(p.zendesk.tickets.lock().unwrap().is_empty());
}

#[tokio::test]
async fn crash_before_link_write_then_retry_gives_one_ticket() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    p.store.fail_next_link_write.store(true, Ordering::SeqCst);
    let err = run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap_err();
    assert!(matches!(err, JobError::Retry { .. }));
    assert_eq!(p.zendesk.creates.load(Ordering::SeqCst), 1);
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    assert_eq!(p.zendesk.creates.load(Ordering::SeqCst), 1);
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1);
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn crash_before_link_then_retry_records_the_transcript_and_appends_only_later_parts() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    p.store.fail_next_link_write.store(true, Ordering::SeqCst);
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap_err();
    // The customer writes again after the ticket was created, before the retry.
    let later = crate::fakes::START.plus(60);
    p.intercom.conversations.lock().unwrap().get_mut("42").unwrap().parts.push(part(
        "p2",
        PartKind::Comment,
        AuthorRole::User,
        "c1",
        "Still broken",
        later.0,
    ));
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    let ticket = p.store.link_by_conversation(&ConversationId::parse("42").unwrap()).await.unwrap().unwrap().ticket_id;
    let comments = p.zendesk.comments(ticket);
    assert_eq!(comments.len(), 2, "transcript + the later reply, not the opening message again");
    assert!(comments[1].html_body.contains("Still broken"));
}

#[tokio::test]
async fn an_escalation_costs_one_store_read_and_two_store_writes() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    // New requester: found in Zendesk and cached with the link.
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    assert_eq!(p.store.requests.get(), (1, 2), "(reads, writes) of the first escalation");
    assert!(p.store.doc_json(&bridge_domain::keys::DocKey::IntercomPerson(ContactId::parse("c1").unwrap())).is_some());

    // A second conversation of the same contact: the cached requester comes with the link read.
    let mut conv2 = p.intercom.conversations.lock().unwrap()["42"].clone();
    conv2.id = ConversationId::parse("43").unwrap();
    p.intercom.conversations.lock().unwrap().insert("43".into(), conv2);
    let mut e = event("conversation_part.tag.created");
    e.entity = "conversation:43".parse().unwrap();
    let (reads, writes) = p.store.requests.get();
    run(&p.ports(), &e).await.unwrap();
    let (reads2, writes2) = p.store.requests.get();
    assert_eq!((reads2 - reads, writes2 - writes), (1, 2));
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn known_requester_needs_at_most_five_vendor_calls() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    // First escalation caches the requester.
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    // A second conversation of the same contact.
    let mut conv2 = p.intercom.conversations.lock().unwrap()["42"].clone();
    conv2.id = ConversationId::parse("43").unwrap();
    conv2.parts.truncate(1);
    p.intercom.conversations.lock().unwrap().insert("43".into(), conv2);
    let before = p.intercom.calls.load(Ordering::SeqCst) + p.zendesk.calls.load(Ordering::SeqCst);
    let mut e = event("conversation_part.tag.created");
    e.entity = "conversation:43".parse().unwrap();
    run(&p.ports(), &e).await.unwrap();
    let after = p.intercom.calls.load(Ordering::SeqCst) + p.zendesk.calls.load(Ordering::SeqCst);
    assert!(after - before <= 5, "used {} vendor calls", after - before);
}

#[tokio::test]
async fn follow_ups_are_appended_once_and_own_notes_never() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    {
        let mut convs = p.intercom.conversations.lock().unwrap();
        let c = convs.get_mut("42").unwrap();
        c.parts.push(part("p2", PartKind::Comment, AuthorRole::User, "c1", "Any news?", 6000));
        c.parts.push(part("p3", PartKind::Note, AuthorRole::Admin, "5", "Checking with billing", 6100));
    }
    for _ in 0..3 {
        run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    }
    let ticket = p.store.link_by_conversation(&ConversationId::parse("42").unwrap()).await.unwrap().unwrap().ticket_id;
    let comments = p.zendesk.comments(ticket);
    assert_eq!(comments.len(), 3, "transcript + reply + note");
    assert!(comments[1].public && comments[1].html_body.contains("Any news?"));
    assert!(comments[1].author_id.is_some(), "customer reply authored by the requester");
    assert!(!comments[2].public && comments[2].html_body.contains("Checking with billing"));
    assert!(comments.iter().all(|c| !c.html_body.contains("Escalated to Zendesk")), "our own note is not echoed");
}

#[tokio::test]
async fn a_reply_made_in_the_second_of_the_escalation_but_after_its_transcript_is_appended() {
    // The escalation writes no record of the parts on the ticket: the link counts the parts its
    // transcript holds. A reply stamped with the link's second (Intercom's clock has whole
    // seconds) is not in the transcript, and a cut-off by time would lose it.
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    let conv = ConversationId::parse("42").unwrap();
    let link = p.store.link_by_conversation(&conv).await.unwrap().unwrap();
    assert_eq!(link.transcript_parts, Some(1), "the opening part");
    let escalated_at = link
        .history
        .iter()
        .find_map(|h| match h {
            LinkEvent::Created { at, .. } => Some(*at),
            _ => None,
        })
        .unwrap();
    let same_second = part("p2", PartKind::Comment, AuthorRole::User, "c1", "One more detail", escalated_at.0);
    p.intercom.conversations.lock().unwrap().get_mut("42").unwrap().parts.push(same_second);
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    let comments = p.zendesk.comments(link.ticket_id);
    assert_eq!(comments.len(), 2, "transcript + the reply: {comments:?}");
    assert!(comments[1].html_body.contains("One more detail"));
    assert!(!comments[1].html_body.contains("Invoice is wrong"), "the transcript's part is not appended again");
}

#[tokio::test]
async fn another_delivery_leaves_the_write_back_to_the_escalation_until_its_implied_lease_runs_out() {
    // An escalation has just written the link and is writing back: its lease is implied by the
    // link (no item for the intent), so a concurrent delivery must not write back too.
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    let conv = ConversationId::parse("42").unwrap();
    let ticket = TicketId::new(500).unwrap();
    let link = Link::new(conv.clone(), ticket, None, Some(ContactId::parse("c1").unwrap()), crate::fakes::START);
    p.store.create_link_with(&link, bridge_domain::ports::WithLink::default()).await.unwrap();
    let writeback = bridge_domain::keys::Intent::Writeback(conv.clone(), ticket);

    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    assert!(p.intercom.notes.lock().unwrap().is_empty(), "the escalation holds the write-back");
    assert!(p.intercom.attributes.lock().unwrap().is_empty());
    assert_eq!(p.store.intent_state(&writeback).await.unwrap(), None, "nothing claimed while it holds it");

    // The escalation died: once its lease has run out, the next delivery writes back, once.
    *p.clock.0.lock().unwrap() = crate::fakes::START.plus(121);
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1, "one note");
    let attrs = p.intercom.attributes.lock().unwrap().clone();
    assert_eq!(attrs.last().unwrap().1.get("zendesk_ticket_id"), Some(&FieldValue::Text("500".into())));
    assert!(matches!(p.store.intent_state(&writeback).await.unwrap(), Some(bridge_domain::ports::Claim::Done(_))));
}

#[tokio::test]
async fn a_write_back_the_conversation_already_shows_costs_no_store_write() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    // The first later event records the bridge's own note as seen (its document).
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    // Past the escalation's implied lease (within it the done intent is read, not claimed).
    *p.clock.0.lock().unwrap() = crate::fakes::START.plus(121);
    let (_, writes) = p.store.requests.get();
    // The attributes and the note are on the conversation: nothing to claim, nothing written.
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    assert_eq!(p.store.requests.get().1, writes, "no claim of the done write-back");
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1);

    // A conversation that does not show it (an agent cleared the attribute) falls back to the
    // intent: claimed, found done, not written again.
    p.intercom.conversations.lock().unwrap().get_mut("42").unwrap().attributes.clear();
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    assert_eq!(p.store.requests.get().1, writes + 1, "the claim");
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_visitor_without_email_or_external_id_is_escalated_and_found_again_once_identified() {
    let p = TestPorts::new(CONFIG);
    seed(&p, &["escalate"]);
    {
        let mut contacts = p.intercom.contacts.lock().unwrap();
        let c = contacts.get_mut("c1").unwrap();
        (c.name, c.email, c.external_id, c.role) = (None, None, None, "lead".into());
    }
    run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap();
    let users = p.zendesk.users.lock().unwrap().clone();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0].external_id.as_deref(), Some("intercom-contact-c1"));
    assert_eq!(users[0].name.as_deref(), Some("Visitor c1"));
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1);

    // The visitor leaves an email; their next conversation reaches the same Zendesk user.
    p.intercom.contacts.lock().unwrap().get_mut("c1").unwrap().email = Some("visitor@example.com".into());
    let mut conv2 = p.intercom.conversations.lock().unwrap()["42"].clone();
    conv2.id = ConversationId::parse("43").unwrap();
    p.intercom.conversations.lock().unwrap().insert("43".into(), conv2);
    let mut e = event("conversation_part.tag.created");
    e.entity = "conversation:43".parse().unwrap();
    run(&p.ports(), &e).await.unwrap();
    let users = p.zendesk.users.lock().unwrap().clone();
    assert_eq!(users.len(), 1, "no second user: {users:?}");
    assert_eq!(users[0].email.as_deref(), Some("visitor@example.com"));
    let tickets = p.zendesk.tickets.lock().unwrap();
    assert_eq!(tickets.len(), 2);
    assert!(tickets.values().all(|(t, _)| t.requester_id == Some(users[0].id)));
}

#[tokio::test]
async fn a_refused_attribute_is_dead_lettered_once_and_never_blocks_later_replies() {
    let p = TestPorts::new(CONFIG);
    p.intercom.missing_attributes.lock().unwrap().push("zendesk_ticket_id".into());
    seed(&p, &["escalate"]);
    let err = run(&p.ports(), &event("conversation_part.tag.created")).await.unwrap_err();
    assert!(matches!(err, JobError::Permanent { .. }) && format!("{err:?}").contains("zendesk_ticket_id"), "{err:?}");
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1, "the note with the link is posted all the same");

    {
        let mut convs = p.intercom.conversations.lock().unwrap();
        convs.get_mut("42").unwrap().parts.push(part(
            "p2",
            PartKind::Comment,
            AuthorRole::User,
            "c1",
            "Any news?",
            6000,
        ));
    }
    let out = run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    assert!(matches!(out, Outcome::Done(_)), "a later reply is not dead-lettered for the attribute: {out:?}");
    let ticket = p.store.link_by_conversation(&ConversationId::parse("42").unwrap()).await.unwrap().unwrap().ticket_id;
    assert!(p.zendesk.comments(ticket).iter().any(|c| c.html_body.contains("Any news?")));

    // Once the attribute exists, the next event sets it.
    p.intercom.missing_attributes.lock().unwrap().clear();
    run(&p.ports(), &event("conversation.user.replied")).await.unwrap();
    let attrs = p.intercom.attributes.lock().unwrap().clone();
    assert_eq!(attrs.last().unwrap().1.get("zendesk_ticket_id"), Some(&FieldValue::Text(ticket.to_string())));
    assert_eq!(p.intercom.notes.lock().unwrap().len(), 1, "the note is not posted again");
}

#[test]
fn a_relayed_comment_with_files_named_as_not_attached_is_still_the_same_text() {
    let mut p = part("a1", PartKind::Comment, AuthorRole::Admin, "5", "<p>Here is your invoice.</p>", 1);
    assert!(super::same_text("<p>Here is your invoice.</p>", &p));
    p.body =
        Some("<p>Here is your invoice.</p><p><em>Not attached: big.zip (62 MB, over the 10 MB limit)</em></p>".into());
    assert!(super::same_text("<p>Here is your invoice.</p>", &p), "no echo of a relayed comment");
    p.body = Some("<p>Here is your invoice. And more</p>".into());
    assert!(!super::same_text("<p>Here is your invoice.</p>", &p));
}
