#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::*;
use bridge_domain::model::*;
use bridge_domain::ports::Store;
use serde_json::json;

use super::*;
use crate::fakes::TestPorts;
use crate::ticket_status::tests::ticket;

const CONFIG: &str = r#"
version: 1
intercom: { bot_admin_id: "991" }
ticket_status:
  on:
    solved: { tags: [zd-solved] }
tag_sync:
  map: { VIP: vip_customer }
  unmapped: slug
  ignore_intercom: [escalate]
  ignore_zendesk: [intercom]
"#;

fn conversation(tags: &[&str]) -> Conversation {
    Conversation {
        id: ConversationId::parse("c1").unwrap(),
        title: None,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
        waiting_since: None,
        state: ConversationState::Open,
        priority: ConversationPriority::None,
        admin_assignee: None,
        team_assignee: None,
        contacts: vec![],
        tags: tags.iter().map(|t| t.to_string()).collect(),
        attributes: Default::default(),
        parts: vec![],
        parts_total: 0,
    }
}

async fn setup(ic: &[&str], zd: &[&str]) -> TestPorts {
    let p = TestPorts::new(CONFIG);
    p.intercom.conversations.lock().unwrap().insert("c1".into(), conversation(ic));
    let mut t = ticket(100, TicketStatus::Open);
    t.tags = zd.iter().map(|x| x.to_string()).collect();
    p.zendesk.tickets.lock().unwrap().insert(100, (t, vec![]));
    let link = Link::new(ConversationId::parse("c1").unwrap(), TicketId::new(100).unwrap(), None, None, Timestamp(1));
    p.store.create_link(&link).await.unwrap();
    p
}

fn ic_event(d: &str) -> QueuedEvent {
    QueuedEvent {
        vendor: bridge_domain::event::Vendor::Intercom,
        delivery_id: d.into(),
        topic: "conversation_part.tag.created".into(),
        entity: "conversation:c1".parse().unwrap(),
        received_at: Timestamp(1),
        payload: json!({}),
        trace_id: None,
        actors: Vec::new(),
    }
}

fn zd_event(d: &str, actor: u64) -> QueuedEvent {
    QueuedEvent {
        vendor: bridge_domain::event::Vendor::Zendesk,
        delivery_id: d.into(),
        topic: "zen:event-type:ticket.tags_changed".into(),
        entity: "ticket:100".parse().unwrap(),
        received_at: Timestamp(1),
        payload: json!({"detail": {"actor_id": actor.to_string()}}),
        trace_id: None,
        actors: Vec::new(),
    }
}

fn zd_tags(p: &TestPorts) -> Vec<String> {
    p.zendesk.tickets.lock().unwrap()[&100].0.tags.clone()
}

fn ic_tags(p: &TestPorts) -> Vec<String> {
    p.intercom.conversations.lock().unwrap()["c1"].tags.clone()
}

#[tokio::test]
async fn one_human_change_one_write_and_the_echo_is_suppressed() {
    let p = setup(&["escalate"], &["intercom"]).await;
    run(&p.ports(), &ic_event("i0")).await.unwrap(); // first look: nothing synced yet
    p.intercom.conversations.lock().unwrap().get_mut("c1").unwrap().tags.push("VIP".into());
    let out = run(&p.ports(), &ic_event("i1")).await.unwrap();
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    assert!(zd_tags(&p).contains(&"vip_customer".to_string()));
    // The Zendesk webhook of our own write comes back.
    let echo = run(&p.ports(), &zd_event("z1", 1)).await.unwrap();
    assert!(matches!(echo, Outcome::LoopSuppressed(_)), "{echo:?}");
    assert!(p.intercom.tag_writes.lock().unwrap().is_empty(), "nothing written back to Intercom");
    assert_eq!(zd_tags(&p), vec!["intercom".to_string(), "vip_customer".to_string()]);
}

#[tokio::test]
async fn removals_follow_only_copies_the_bridge_added() {
    let p = setup(&[], &[]).await;
    run(&p.ports(), &ic_event("i0")).await.unwrap();
    // Zendesk human adds `needs_review`: the bridge adds the Intercom copy.
    p.zendesk.tickets.lock().unwrap().get_mut(&100).unwrap().0.tags.push("needs_review".into());
    run(&p.ports(), &zd_event("z1", 60)).await.unwrap();
    assert_eq!(ic_tags(&p), vec!["needs_review".to_string()]);
    // A human adds VIP on Intercom too, and then removes it on Zendesk... only owned copies go.
    p.intercom.conversations.lock().unwrap().get_mut("c1").unwrap().tags.push("VIP".into());
    run(&p.ports(), &ic_event("i1")).await.unwrap();
    p.zendesk.tickets.lock().unwrap().get_mut(&100).unwrap().0.tags.retain(|t| t != "vip_customer");
    run(&p.ports(), &zd_event("z2", 60)).await.unwrap();
    assert!(ic_tags(&p).contains(&"VIP".to_string()), "the human's Intercom tag stays");
    // The human removes `needs_review` on Zendesk: the bridge's Intercom copy goes.
    p.zendesk.tickets.lock().unwrap().get_mut(&100).unwrap().0.tags.retain(|t| t != "needs_review");
    run(&p.ports(), &zd_event("z3", 60)).await.unwrap();
    assert_eq!(ic_tags(&p), vec!["VIP".to_string()]);
    let removed: Vec<_> = p.intercom.tag_writes.lock().unwrap().iter().filter(|w| !w.2).cloned().collect();
    assert_eq!(removed, vec![("c1".to_string(), "needs_review".to_string(), false)]);
}

#[tokio::test]
async fn status_tags_and_dropdown_tags_are_not_synced() {
    let p = setup(&["zd-solved"], &["plan_gold"]).await;
    p.zendesk
        .tickets
        .lock()
        .unwrap()
        .get_mut(&100)
        .unwrap()
        .0
        .custom_fields
        .insert(7, FieldValue::Text("plan_gold".into()));
    let out = run(&p.ports(), &ic_event("i0")).await.unwrap();
    assert!(matches!(out, Outcome::Skipped(_)), "{out:?}");
    assert_eq!(zd_tags(&p), vec!["plan_gold".to_string()]);
    assert_eq!(ic_tags(&p), vec!["zd-solved".to_string()]);
}

#[tokio::test]
async fn after_a_merge_a_ticket_tag_reaches_every_conversation_following_the_ticket() {
    let p = setup(&[], &[]).await;
    // A second conversation with its own ticket, merged into ticket 100.
    let mut c2 = conversation(&[]);
    c2.id = ConversationId::parse("c2").unwrap();
    p.intercom.conversations.lock().unwrap().insert("c2".into(), c2);
    p.zendesk.tickets.lock().unwrap().insert(200, (ticket(200, TicketStatus::Closed), vec![]));
    let link = Link::new(ConversationId::parse("c2").unwrap(), TicketId::new(200).unwrap(), None, None, Timestamp(1));
    p.store.create_link(&link).await.unwrap();
    let merge =
        bridge_domain::links::LinkChange::Merged { from: TicketId::new(200).unwrap(), to: TicketId::new(100).unwrap() };
    let moved = crate::lifecycle::move_link(&p.ports(), &link, &merge).await.unwrap();
    assert_eq!(moved.shared_with, vec![ConversationId::parse("c1").unwrap()]);
    let first = p.store.link_by_conversation(&ConversationId::parse("c1").unwrap()).await.unwrap().unwrap();
    assert_eq!(first.shared_with, vec![ConversationId::parse("c2").unwrap()], "the peer is told too");

    p.zendesk.tickets.lock().unwrap().get_mut(&100).unwrap().0.tags = vec!["topic".into()];
    let out = run(&p.ports(), &zd_event("d1", 7)).await.unwrap();
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    let mut written: Vec<(String, String, bool)> = p.intercom.tag_writes.lock().unwrap().clone();
    written.sort();
    assert_eq!(
        written,
        vec![("c1".into(), "topic".into(), true), ("c2".into(), "topic".into(), true)],
        "one write per conversation"
    );
    // Again: nothing more.
    run(&p.ports(), &zd_event("d2", 7)).await.unwrap();
    assert_eq!(p.intercom.tag_writes.lock().unwrap().len(), 2);
}
