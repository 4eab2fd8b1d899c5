//! The `ConversationFeed` of the Intercom client against the Intercom simulator over real HTTP:
//! the changed and waiting searches, their windows and their paging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bridge_domain::ids::ConversationId;
use bridge_domain::model::Timestamp;
use bridge_domain::sweep::{Changed, ConversationFeed};
use bridge_intercom::{IntercomClient, IntercomConfig};
use bridge_sim::intercom::state::Contact;
use bridge_sim::intercom::{ConversationSeed, IntercomSim, IntercomSimOptions};
use serde_json::{Value, json};

struct World {
    sim: IntercomSim,
    client: IntercomClient,
    admin: String,
    contact: String,
}

async fn world() -> World {
    let sim = IntercomSim::start(IntercomSimOptions::default()).await.unwrap();
    let mut cfg = IntercomConfig::new(sim.base_url().parse().unwrap(), sim.access_token().into());
    cfg.timeout = Duration::from_secs(5);
    let client = IntercomClient::new(cfg).unwrap();
    let admin = sim.seed_admin("Bridge Bot", "bot@example.com");
    let contact = sim
        .seed_contact(Contact {
            email: Some("carol@example.org".into()),
            name: Some("Carol".into()),
            ..Default::default()
        })
        .unwrap();
    World { sim, client, admin, contact }
}

impl World {
    /// A conversation created (and last updated) at `at`.
    fn conversation_at(&self, at: i64) -> String {
        self.sim
            .seed_conversation(ConversationSeed {
                contact_id: self.contact.clone(),
                body: "<p>Help</p>".into(),
                created_at: Some(at),
                ..Default::default()
            })
            .unwrap()
    }

    /// The bodies of the conversation searches sent so far.
    fn search_bodies(&self) -> Vec<Value> {
        self.sim
            .gate()
            .recorder
            .all()
            .into_iter()
            .filter(|e| e.method == "POST" && e.path == "/conversations/search")
            .filter_map(|e| e.request_body)
            .collect()
    }
}

fn ids(items: &[Changed<ConversationId>]) -> Vec<String> {
    items.iter().map(|c| c.id.to_string()).collect()
}

#[tokio::test]
async fn changed_conversations_page_oldest_first_from_since_inclusive() {
    let w = world().await;
    let since = w.sim.now() - 10_000;
    let older = w.conversation_at(since - 3_600);
    let just_before = w.conversation_at(since - 1);
    let at_since = w.conversation_at(since);
    let mut later = Vec::new();
    for i in 1..=155 {
        later.push(w.conversation_at(since + i));
    }

    let first = w.client.changed_conversations(Timestamp(since), None).await.unwrap();
    assert_eq!(first.items.len(), 150, "150 a page");
    let cursor = first.next.clone().expect("a second page");
    let second = w.client.changed_conversations(Timestamp(since), Some(&cursor)).await.unwrap();
    assert_eq!(second.next, None, "the last page");

    let all: Vec<Changed<ConversationId>> = first.items.into_iter().chain(second.items).collect();
    let listed = ids(&all);
    assert_eq!(listed.len(), 157, "one second of overlap before since, nothing older");
    assert_eq!(listed[..2], [just_before.clone(), at_since.clone()], "oldest change first");
    assert_eq!(listed[2..], later[..]);
    assert!(!listed.contains(&older));
    assert!(all.windows(2).all(|p| p[0].updated_at <= p[1].updated_at));
    assert_eq!((all[1].created_at, all[1].updated_at), (Timestamp(since), Timestamp(since)));

    // The older conversation changes now: the next run lists it.
    w.sim.customer_replies(&older, "Any news?").unwrap();
    let again = w.client.changed_conversations(Timestamp(since + 100), None).await.unwrap();
    assert_eq!(again.items.len(), 58, "the last 57 seeded and the one that changed");
    assert_eq!(again.items.last().map(|c| c.id.to_string()), Some(older));

    let body = &w.search_bodies()[0];
    assert_eq!(body["query"], json!({"field": "updated_at", "operator": ">", "value": since - 1}));
    assert_eq!(body["sort"], json!({"field": "updated_at", "order": "ascending"}));
    assert_eq!(body["pagination"], json!({"per_page": 150}));
    assert_eq!(w.search_bodies()[1]["pagination"]["starting_after"], json!(cursor));
}

#[tokio::test]
async fn waiting_conversations_are_open_ones_waiting_since_a_time_in_the_window() {
    let w = world().await;
    let seed = |state: Option<&str>| {
        w.sim
            .seed_conversation(ConversationSeed {
                contact_id: w.contact.clone(),
                body: "<p>Hello?</p>".into(),
                state: state.map(str::to_string),
                ..Default::default()
            })
            .unwrap()
    };
    // Forty minutes ago: one stays waiting, one is closed, one gets an admin reply, one is
    // answered by a second customer message (still waiting since the first).
    w.sim.advance_clock(-40 * 60);
    let waited_40 = seed(None);
    let closed = seed(Some("closed"));
    let answered = seed(None);
    let chatty = seed(None);
    w.sim.advance_clock(20 * 60);
    w.sim.admin_replies(&answered, &w.admin, "On it").unwrap();
    w.sim.customer_replies(&chatty, "Still there?").unwrap();
    w.sim.advance_clock(15 * 60);
    let waited_5 = seed(None);
    w.sim.advance_clock(5 * 60);
    let now = w.sim.now();

    let conv = w.sim.state().conversations[&waited_40].clone();
    assert!((now - 40 * 60 - 5..=now - 40 * 60).contains(&conv.waiting_since.unwrap()), "the clock stamped it");
    assert_eq!(conv.updated_at, conv.waiting_since.unwrap());

    // Waiting for 30 minutes to an hour.
    let page = w.client.waiting_conversations(Timestamp(now - 3_600), Timestamp(now - 30 * 60), None).await.unwrap();
    let mut listed = ids(&page.items);
    listed.sort();
    let mut want = vec![waited_40.clone(), chatty.clone()];
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(page.next, None);

    // Both ends are inclusive: exactly the 40-minute one.
    let started = w.sim.state().conversations[&waited_40].waiting_since.unwrap();
    let exact = w.client.waiting_conversations(Timestamp(started), Timestamp(started), None).await.unwrap();
    assert!(ids(&exact.items).contains(&waited_40));
    // The last ten minutes: only the five-minute one.
    let recent = w.client.waiting_conversations(Timestamp(now - 600), Timestamp(now), None).await.unwrap();
    assert_eq!(ids(&recent.items), vec![waited_5]);
    assert!(!ids(&recent.items).contains(&closed));

    let body = w.search_bodies().into_iter().next().unwrap();
    assert_eq!(
        body["query"],
        json!({"operator": "AND", "value": [
            {"field": "state", "operator": "=", "value": "open"},
            {"field": "waiting_since", "operator": ">", "value": now - 3_600 - 1},
            {"field": "waiting_since", "operator": "<", "value": now - 30 * 60 + 1},
        ]})
    );
    assert_eq!(body["sort"], json!({"field": "updated_at", "order": "ascending"}));
    assert_eq!(body["pagination"], json!({"per_page": 150}));
}

#[tokio::test]
async fn waiting_conversations_page_too() {
    let w = world().await;
    w.sim.advance_clock(-3_600);
    let mut seeded = Vec::new();
    for _ in 0..151 {
        seeded.push(w.conversation_at(w.sim.now()));
    }
    w.sim.advance_clock(3_600);
    let now = w.sim.now();
    let (from, until) = (Timestamp(now - 7_200), Timestamp(now - 1_800));
    let first = w.client.waiting_conversations(from, until, None).await.unwrap();
    assert_eq!(first.items.len(), 150);
    let second = w.client.waiting_conversations(from, until, first.next.as_deref()).await.unwrap();
    assert_eq!(second.next, None);
    let mut listed: Vec<String> = ids(&first.items).into_iter().chain(ids(&second.items)).collect();
    listed.sort();
    seeded.sort();
    assert_eq!(listed, seeded);
}

#[tokio::test]
async fn an_empty_cursor_starts_from_the_first_page_and_errors_are_port_errors() {
    let w = world().await;
    let id = w.conversation_at(w.sim.now() - 60);
    let page = w.client.changed_conversations(Timestamp(w.sim.now() - 120), Some("")).await.unwrap();
    assert_eq!(ids(&page.items), vec![id]);
    let bad = w.client.changed_conversations(Timestamp(0), Some("not-a-cursor")).await.unwrap_err();
    assert!(matches!(bad, bridge_domain::ports::PortError::Rejected { .. }), "{bad:?}");
}
