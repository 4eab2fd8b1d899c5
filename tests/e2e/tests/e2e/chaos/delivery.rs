//! Delivery chaos on the live bridge: duplicated, reordered, delayed and concurrent deliveries,
//! 429 storms and 5xx bursts, and a vendor outage that drops webhooks.

use std::time::Duration;

use bridge_e2e::{World, bot_parts, comments_containing, eventually, post_intercom, settle, tickets_for};
use bridge_sim::common::Faults;
use serde_json::Value;

use super::SECTIONS;
use super::harness::assert_escalated_once;

const WAIT: Duration = Duration::from_secs(40);
const QUIET: Duration = Duration::from_millis(1500);

fn ext_tickets(world: &World, conv: &str) -> usize {
    tickets_for(world, conv).len()
}

#[tokio::test]
async fn duplicated_reordered_delayed_and_concurrent_deliveries_give_one_effect_each() {
    let mut world = World::start().await.unwrap();
    let s = world.seeded.clone();
    let url = world.bridge_url();
    let secret = world.intercom.client_secret();
    // Slow vendors widen every race window.
    let slow = Faults { latency_ms: 40, ..Faults::default() };
    world.intercom.set_faults(slow.clone());
    world.zendesk.set_faults(slow);

    // Capture a conversation's whole history without delivering it.
    world.intercom.set_webhook_target(None);
    let before = world.intercom.notifications().len();
    let conv = world.intercom.customer_starts_conversation(&s.customer, "Shuffled deliveries").unwrap();
    world.intercom.customer_replies(&conv, "first reply").unwrap();
    world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    world.intercom.customer_replies(&conv, "second reply").unwrap();
    world.intercom.admin_notes(&conv, &s.agent, "agent note").unwrap();
    let captured: Vec<_> = world.intercom.notifications()[before..].to_vec();
    world.intercom.set_webhook_target(Some(format!("{url}/webhooks/intercom")));

    // Reversed, every delivery three times, each copy after a random delay, and 50 concurrent
    // replays of the tag event with fresh delivery ids.
    let mut posts = Vec::new();
    for (i, n) in captured.iter().rev().enumerate() {
        for copy in 0..3u64 {
            let (url, secret, raw) = (url.clone(), secret.clone(), n.raw.clone());
            let delay = Duration::from_millis(u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 2 + 20 * i as u64 + copy);
            posts.push(tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                post_intercom(&url, &secret, raw.as_bytes(), None).await.unwrap().0
            }));
        }
    }
    let tag = captured.iter().rfind(|n| n.topic == "conversation_part.tag.created").unwrap();
    for i in 0..50 {
        let mut v: Value = serde_json::from_str(&tag.raw).unwrap();
        v["id"] = Value::String(format!("notif_replay_{i}"));
        let (url, secret, body) = (url.clone(), secret.clone(), serde_json::to_vec(&v).unwrap());
        posts.push(tokio::spawn(async move { post_intercom(&url, &secret, &body, None).await.unwrap().0 }));
    }
    for p in posts {
        assert_eq!(p.await.unwrap(), 200);
    }

    eventually(WAIT, "one ticket", || ext_tickets(&world, &conv) == 1).await.unwrap();
    let id = tickets_for(&world, &conv)[0]["id"].as_u64().unwrap();
    eventually(WAIT, "the follow-ups", || {
        comments_containing(&world, id, "second reply") >= 1 && comments_containing(&world, id, "agent note") >= 1
    })
    .await
    .unwrap();
    settle(QUIET, WAIT, || (world.tickets().len(), world.zendesk.exchanges().len())).await.unwrap();
    assert_escalated_once(&world, &conv, "shuffled").await;
    // Nothing lost, nothing twice: every message exactly once on the ticket.
    for text in ["Shuffled deliveries", "first reply", "second reply", "agent note"] {
        assert_eq!(comments_containing(&world, id, text), 1, "{text} exactly once");
    }
    world.stop_bridge().await;
}

#[tokio::test]
async fn rate_limit_storms_and_server_error_bursts_lose_nothing() {
    let mut world = World::start().await.unwrap();
    let s = world.seeded.clone();
    // A storm: the next 8 requests to each vendor answer 429, then 4 answer 5xx.
    let storm = Faults { rate_limit_next: 8, fail_next: 4, ..Faults::default() };
    world.intercom.set_faults(storm.clone());
    world.zendesk.set_faults(storm);
    let mut convs = Vec::new();
    for i in 0..4 {
        let conv = world.intercom.customer_starts_conversation(&s.customer, &format!("Storm {i}")).unwrap();
        world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
        convs.push(conv);
    }
    eventually(Duration::from_secs(55), "every conversation escalated through the storm", || {
        convs.iter().all(|c| ext_tickets(&world, c) == 1 && bot_parts(&world, c, "note", "/agent/tickets/") == 1)
    })
    .await
    .unwrap();
    settle(QUIET, WAIT, || (world.tickets().len(), world.zendesk.exchanges().len())).await.unwrap();
    for c in &convs {
        assert_escalated_once(&world, c, "after the storm").await;
    }
    let throttled = world.intercom.gate().throttled_count() + world.zendesk.gate().throttled_count();
    assert!(throttled >= 16, "the storm happened: {throttled} 429s");
    let errors = world.zendesk.exchanges().iter().filter(|e| e.status >= 500).count()
        + world.intercom.gate().recorder.all().iter().filter(|e| e.status >= 500).count();
    assert!(errors >= 8, "the 5xx burst happened: {errors}");
    world.stop_bridge().await;
}

#[tokio::test]
async fn webhooks_dropped_during_an_outage_are_recovered_by_the_next_event() {
    let mut world =
        World::start_with(|c| format!("{c}{}", &SECTIONS[..SECTIONS.find("tag_sync:").unwrap()])).await.unwrap();
    let s = world.seeded.clone();

    // Intercom outage: every webhook is dropped; the tag that should escalate is lost.
    world.intercom.set_faults(Faults { drop_webhooks_percent: 100, ..Faults::default() });
    let conv = world.intercom.customer_starts_conversation(&s.customer, "Outage conversation").unwrap();
    world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    world.intercom.customer_replies(&conv, "written during the outage").unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(ext_tickets(&world, &conv), 0, "the outage dropped the escalation");
    assert!(world.intercom.webhooks().sent().iter().all(|w| w.dropped));

    // Recovery: the next event about the conversation re-reads it and converges.
    world.intercom.set_faults(Faults::default());
    world.intercom.customer_replies(&conv, "after the outage").unwrap();
    eventually(WAIT, "the escalation after recovery", || ext_tickets(&world, &conv) == 1).await.unwrap();
    settle(QUIET, WAIT, || (world.tickets().len(), world.zendesk.exchanges().len())).await.unwrap();
    let id = assert_escalated_once(&world, &conv, "after the outage").await;
    for text in ["Outage conversation", "written during the outage", "after the outage"] {
        assert_eq!(comments_containing(&world, id, text), 1, "nothing lost: {text}");
    }

    // Zendesk outage: the solve is dropped; the next event about the ticket converges.
    world.zendesk.set_faults(Faults { drop_webhooks_percent: 100, ..Faults::default() });
    world.zendesk.set_status(s.zendesk_agent, id, "solved").unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(bot_parts(&world, &conv, "close", "was solved"), 0, "the outage dropped the status");
    world.zendesk.set_faults(Faults::default());
    world.zendesk.comment(s.zendesk_agent, id, "Internal: checked after the outage", false).unwrap();
    eventually(WAIT, "the solve message after recovery", || bot_parts(&world, &conv, "close", "was solved") == 1)
        .await
        .unwrap();
    settle(QUIET, WAIT, || (world.intercom.gate().recorder.all().len(), world.zendesk.exchanges().len()))
        .await
        .unwrap();
    assert_eq!(bot_parts(&world, &conv, "close", "was solved"), 1);
    assert_eq!(world.intercom.conversation(&conv).unwrap().state, "closed", "both sides consistent");
    world.stop_bridge().await;
}
