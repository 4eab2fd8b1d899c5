#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::*;
use bridge_domain::keys::DocKey;
use bridge_domain::model::*;
use bridge_domain::ports::Store;
use serde_json::json;

use super::*;
use crate::fakes::TestPorts;

const CONFIG: &str = r#"
version: 1
intercom: { bot_admin_id: "991" }
ticket_status:
  on:
    solved: { message: "Ticket #{ticket_id} solved by {agent_name}.", conversation: close, tags: [zd-solved] }
    reopened: { conversation: open }
"#;

pub(crate) fn ticket(id: u64, status: TicketStatus) -> Ticket {
    Ticket {
        id: TicketId::new(id).unwrap(),
        subject: Some("Export broken".into()),
        status,
        priority: None,
        requester_id: Some(UserId::new(50).unwrap()),
        assignee_id: Some(UserId::new(60).unwrap()),
        group_id: None,
        organization_id: None,
        tags: vec![],
        external_id: None,
        via_channel: None,
        followup_source_id: None,
        custom_fields: BTreeMap::new(),
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    }
}

fn user(id: u64, role: &str, email: &str, name: &str) -> User {
    User {
        id: UserId::new(id).unwrap(),
        name: Some(name.into()),
        email: Some(email.into()),
        phone: None,
        external_id: None,
        role: role.into(),
        org_ids: vec![],
        fields: BTreeMap::new(),
        tags: vec![],
        updated_at: Timestamp(1),
    }
}

fn comment(id: u64, author: u64, public: bool, body: &str) -> TicketComment {
    TicketComment {
        id: Some(CommentId::new(id).unwrap()),
        html_body: body.into(),
        public,
        author_id: Some(UserId::new(author).unwrap()),
        created_at: None,
        uploads: Vec::new(),
        attachments: Vec::new(),
    }
}

async fn linked(p: &TestPorts, t: Ticket) {
    p.seed_tagged_conversation("c1");
    let conv = ConversationId::parse("c1").unwrap();
    let link = Link::new(conv, t.id, t.requester_id, None, Timestamp(1));
    p.store.create_link(&link).await.unwrap();
    let transcript = TicketComment {
        id: Some(CommentId::new(1).unwrap()),
        html_body: "transcript".into(),
        public: true,
        author_id: Some(UserId::new(1).unwrap()),
        created_at: None,
        uploads: Vec::new(),
        attachments: Vec::new(),
    };
    p.zendesk.tickets.lock().unwrap().insert(t.id.get(), (t, vec![transcript]));
    p.zendesk.users.lock().unwrap().push(user(60, "agent", "zoe@example.com", "Zoe"));
    p.zendesk.users.lock().unwrap().push(user(50, "end-user", "ada@example.com", "Ada"));
}

fn set_status(p: &TestPorts, id: u64, status: TicketStatus) {
    p.zendesk.tickets.lock().unwrap().get_mut(&id).unwrap().0.status = status;
}

fn event(delivery: &str, ticket: u64, topic: &str, payload: serde_json::Value) -> QueuedEvent {
    QueuedEvent {
        vendor: bridge_domain::event::Vendor::Zendesk,
        delivery_id: delivery.into(),
        topic: topic.into(),
        entity: format!("ticket:{ticket}").parse().unwrap(),
        received_at: Timestamp(1),
        payload,
        trace_id: None,
        actors: Vec::new(),
    }
}

fn status_event(delivery: &str, ticket: u64, current: &str, actor: u64) -> QueuedEvent {
    event(
        delivery,
        ticket,
        "zen:event-type:ticket.status_changed",
        json!({"detail": {"actor_id": actor.to_string()}, "event": {"current": current}}),
    )
}

#[tokio::test]
async fn solved_has_its_effects_once_under_duplicate_and_stale_deliveries() {
    let p = TestPorts::new(CONFIG);
    linked(&p, ticket(100, TicketStatus::Open)).await;
    set_status(&p, 100, TicketStatus::Solved);

    let out = run(&p.ports(), &status_event("e1", 100, "SOLVED", 60)).await.unwrap();
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    // The same event again, and an older "pending" event arriving late.
    run(&p.ports(), &status_event("e1-dup", 100, "SOLVED", 60)).await.unwrap();
    run(&p.ports(), &status_event("e0-late", 100, "PENDING", 60)).await.unwrap();

    let replies = p.intercom.replies.lock().unwrap().clone();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0].1, "991", "written by the bot admin");
    assert!(replies[0].2.contains("Ticket #100 solved by Zoe."), "{}", replies[0].2);
    // One call: the close carries the message.
    let changes = p.intercom.changes.lock().unwrap().clone();
    assert!(
        matches!(changes.as_slice(), [(c, ConversationChange::Close { body: Some(b) })] if c == "c1" && *b == replies[0].2),
        "{changes:?}"
    );
    assert_eq!(p.intercom.tag_writes.lock().unwrap().clone(), vec![("c1".into(), "zd-solved".into(), true)]);
}

#[tokio::test]
async fn a_reopen_the_bridge_caused_is_suppressed_but_a_human_one_is_not() {
    let p = TestPorts::new(CONFIG);
    linked(&p, ticket(100, TicketStatus::Open)).await;
    set_status(&p, 100, TicketStatus::Solved);
    run(&p.ports(), &status_event("e1", 100, "SOLVED", 60)).await.unwrap();

    // The bridge's own user (id 1 in the fakes) reopened it by appending a customer reply.
    set_status(&p, 100, TicketStatus::Open);
    let out = run(&p.ports(), &status_event("e2", 100, "OPEN", 1)).await.unwrap();
    assert!(matches!(out, Outcome::LoopSuppressed(_)), "{out:?}");
    assert_eq!(p.intercom.changes.lock().unwrap().len(), 1, "only the close");

    // Solved and reopened by an agent: the configured effect happens.
    set_status(&p, 100, TicketStatus::Solved);
    run(&p.ports(), &status_event("e3", 100, "SOLVED", 60)).await.unwrap();
    set_status(&p, 100, TicketStatus::Open);
    run(&p.ports(), &status_event("e4", 100, "OPEN", 60)).await.unwrap();
    let changes = p.intercom.changes.lock().unwrap().clone();
    assert_eq!(changes.last().map(|c| c.1.clone()), Some(ConversationChange::Open), "{changes:?}");
    assert_eq!(p.intercom.replies.lock().unwrap().len(), 2, "one message per solve");
}

#[tokio::test]
async fn a_written_status_is_recognised_without_an_actor() {
    let p = TestPorts::new(CONFIG);
    linked(&p, ticket(100, TicketStatus::Solved)).await;
    run(&p.ports(), &status_event("e1", 100, "SOLVED", 60)).await.unwrap();
    let fp = bridge_domain::loop_guard::fingerprint(["open"]);
    crate::lifecycle::record_written(&p.store, &DocKey::written(&"ticket:100".parse().unwrap()), "status", Some(fp))
        .await
        .unwrap();
    set_status(&p, 100, TicketStatus::Open);
    let trigger = event("t1", 100, "trigger", json!({"ticket_id": "100", "status": "Open", "updated_by": ""}));
    let out = run(&p.ports(), &trigger).await.unwrap();
    assert!(matches!(out, Outcome::LoopSuppressed(_)), "{out:?}");
    // The record is used once: a later human reopen acts.
    set_status(&p, 100, TicketStatus::Solved);
    run(&p.ports(), &status_event("e3", 100, "SOLVED", 60)).await.unwrap();
    set_status(&p, 100, TicketStatus::Open);
    run(&p.ports(), &status_event("e4", 100, "OPEN", 60)).await.unwrap();
    assert_eq!(p.intercom.changes.lock().unwrap().last().map(|c| c.1.clone()), Some(ConversationChange::Open));
}

#[tokio::test]
async fn agent_comments_are_relayed_once_as_the_matching_admin() {
    let p = TestPorts::new(CONFIG);
    linked(&p, ticket(100, TicketStatus::Open)).await;
    p.intercom.admins.lock().unwrap().insert("zoe@example.com".into(), AdminId::parse("777").unwrap());
    {
        let mut t = p.zendesk.tickets.lock().unwrap();
        let comments = &mut t.get_mut(&100).unwrap().1;
        comments.push(comment(2, 60, true, "<p>Fix ships tomorrow</p>"));
        comments.push(comment(3, 60, false, "<p>internal</p>"));
        comments.push(comment(4, 50, true, "<p>customer via bridge</p><p>[intercom part 9]</p>"));
        comments.push(comment(5, 1, false, "<p>bridge note</p>"));
    }
    let e = event("c1", 100, "zen:event-type:ticket.comment_added", json!({}));
    run(&p.ports(), &e).await.unwrap();
    run(&p.ports(), &event("c1-dup", 100, "zen:event-type:ticket.comment_added", json!({}))).await.unwrap();
    let replies = p.intercom.replies.lock().unwrap().clone();
    assert_eq!(replies, vec![("c1".into(), "777".into(), "<p>Fix ships tomorrow</p>".into())]);
    assert!(p.intercom.notes.lock().unwrap().is_empty(), "internal notes stay internal by default");
}

#[tokio::test]
async fn a_merge_moves_the_link_and_the_target_status_reaches_the_conversation() {
    let p = TestPorts::new(CONFIG);
    linked(&p, ticket(100, TicketStatus::Open)).await;
    let mut target = ticket(200, TicketStatus::Open);
    target.requester_id = Some(UserId::new(50).unwrap());
    p.zendesk.tickets.lock().unwrap().insert(200, (target, vec![comment(150, 60, true, "<p>old target reply</p>")]));
    let mut source = p.zendesk.tickets.lock().unwrap()[&100].0.clone();
    source.status = TicketStatus::Closed;
    source.tags.push("closed_by_merge".into());
    p.zendesk.tickets.lock().unwrap().get_mut(&100).unwrap().0 = source;

    // The source's "closed" status event arrives first: the customer is not told anything.
    run(&p.ports(), &status_event("s1", 100, "CLOSED", 60)).await.unwrap();
    assert!(p.intercom.changes.lock().unwrap().is_empty());
    let merged = event(
        "m1",
        100,
        "zen:event-type:ticket.merged",
        json!({"detail": {"actor_id": "60"}, "event": {"target_ticket_id": "200"}}),
    );
    run(&p.ports(), &merged).await.unwrap();
    let link = p.store.link_by_ticket(TicketId::new(100).unwrap()).await.unwrap().unwrap();
    assert_eq!(link.ticket_id.get(), 200);
    assert!(matches!(link.history.last(), Some(LinkEvent::Merged { .. })));
    assert!(p.intercom.replies.lock().unwrap().is_empty(), "the target's older comments are not replayed");

    set_status(&p, 200, TicketStatus::Solved);
    run(&p.ports(), &status_event("s2", 200, "SOLVED", 60)).await.unwrap();
    let replies = p.intercom.replies.lock().unwrap().clone();
    assert_eq!(replies.len(), 1);
    assert!(replies[0].2.contains("#200"), "{replies:?}");
    assert_eq!(replies[0].0, "c1");
    // The conversation's ticket attribute and a note followed the merge target, once.
    let attrs = p.intercom.attributes.lock().unwrap().clone();
    assert_eq!(attrs.len(), 1, "{attrs:?}");
    assert_eq!(attrs[0].1.get("zendesk_ticket_id"), Some(&FieldValue::Text("200".into())));
    let notes = p.intercom.notes.lock().unwrap().clone();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].1.contains("200"), "{notes:?}");
}

#[tokio::test]
async fn a_follow_up_of_the_closed_ticket_becomes_the_live_ticket() {
    let p = TestPorts::new(CONFIG);
    linked(&p, ticket(100, TicketStatus::Closed)).await;
    let mut follow = ticket(300, TicketStatus::Solved);
    follow.followup_source_id = Some(TicketId::new(100).unwrap());
    p.zendesk.tickets.lock().unwrap().insert(300, (follow, vec![]));
    run(&p.ports(), &status_event("f1", 300, "SOLVED", 60)).await.unwrap();
    let link = p.store.link_by_conversation(&ConversationId::parse("c1").unwrap()).await.unwrap().unwrap();
    assert_eq!(link.ticket_id.get(), 300);
    assert!(matches!(link.history.last(), Some(LinkEvent::FollowUp { .. })));
    assert_eq!(p.intercom.replies.lock().unwrap().len(), 1, "solved message for the follow-up");
    let attrs = p.intercom.attributes.lock().unwrap().clone();
    assert_eq!(attrs.last().and_then(|a| a.1.get("zendesk_ticket_id")), Some(&FieldValue::Text("300".into())));
}
