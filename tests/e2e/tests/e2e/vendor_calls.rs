//! Vendor API calls per escalation (issue 9 target: at most 5 for a conversation under 500
//! parts with a known requester), counted from the simulators' recorded exchanges, end to end:
//! the simulators' webhooks (including the echoes of the bridge's own writes) go through the
//! real ingress, SQS on moto and the workers.

use std::time::Duration;

use bridge_e2e::profiles_demo::{DEMO_CONFIG, seed_fields};
use bridge_e2e::{World, eventually, settle};
use bridge_sim::common::Exchange;

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);

fn counts(world: &World) -> (usize, usize) {
    (world.intercom.gate().recorder.all().len(), world.zendesk.exchanges().len())
}

fn since(world: &World, before: (usize, usize)) -> Vec<Exchange> {
    let mut out = world.intercom.gate().recorder.all().split_off(before.0);
    out.extend(world.zendesk.exchanges().split_off(before.1));
    out
}

fn escalated(world: &World, conv: &str) -> bool {
    let ext = format!("intercom-conversation-{conv}");
    let noted = world
        .intercom
        .conversation(conv)
        .is_some_and(|c| c.parts.iter().any(|p| p.part_type == "note" && p.author.id == world.seeded.bot_admin));
    noted && world.tickets().iter().any(|t| t["external_id"].as_str() == Some(ext.as_str()))
}

#[tokio::test]
async fn one_escalation_of_a_known_requester_needs_at_most_five_vendor_calls() {
    let world = World::start().await.unwrap();
    let s = world.seeded.clone();
    // A first escalation makes the requester known (cached Zendesk user and organization).
    let first = world.intercom.customer_starts_conversation(&s.customer, "Warm-up").unwrap();
    world.intercom.admin_tags(&first, &s.agent, "escalate").unwrap();
    eventually(WAIT, "the first escalation", || escalated(&world, &first)).await.unwrap();

    // The customer's opening message is handled (no rule matches yet) before counting.
    let conv = world.intercom.customer_starts_conversation(&s.customer, "My invoice is wrong").unwrap();
    settle(QUIET, WAIT, || counts(&world)).await.unwrap();
    // The ingress drops the echo (it knows the configuration); a worker would count it too.
    let suppressed = || {
        let bridge = world.bridge.as_ref().unwrap();
        let key = ("Job", "escalate");
        bridge.app.counters.get("LoopsSuppressed", key) + bridge.ingress.counters.get("LoopsSuppressed", key)
    };
    let suppressed_before = suppressed();

    let before = counts(&world);
    world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    eventually(WAIT, "the escalation", || escalated(&world, &conv)).await.unwrap();
    // Every webhook the escalation's writes cause (the note's echo) is handled too.
    settle(QUIET, WAIT, || counts(&world)).await.unwrap();

    let calls = since(&world, before);
    let summary: Vec<String> = calls.iter().map(|e| format!("{:?} {} {}", e.vendor, e.method, e.path)).collect();
    assert!(calls.len() <= 5, "{} vendor calls for one escalation: {summary:#?}", calls.len());
    let conv_reads = calls.iter().filter(|e| e.method == "GET" && e.path.ends_with(&format!("/conversations/{conv}")));
    assert_eq!(conv_reads.count(), 1, "the conversation is read once: {summary:#?}");
    assert!(suppressed() > suppressed_before, "the echo of the bridge's own note was counted as a loop suppression");
}

/// Vendor API calls per synced profile (issue 9 measure; job 2): one field changed on a contact
/// that is already paired with its Zendesk user, until both sides are quiet again (the echo of
/// the bridge's own Zendesk write included).
#[tokio::test]
async fn one_profile_change_of_a_paired_contact_needs_at_most_four_vendor_calls() {
    let world = World::start_with(|c| format!("{c}{DEMO_CONFIG}")).await.unwrap();
    seed_fields(&world.intercom, &world.zendesk);
    let ada = world.seeded.customer.clone();
    let plan_is = |plan: &'static str| {
        let world = &world;
        move || {
            let users = world.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
            users.iter().any(|u| u["email"] == "ada@acme.example" && u["user_fields"]["plan"] == plan)
        }
    };
    // Warm-up: the first change pairs the contact with a new Zendesk user.
    world.intercom.edit_contact(&ada, serde_json::json!({"custom_attributes": {"plan": "pro"}})).unwrap();
    eventually(WAIT, "the paired Zendesk user", plan_is("pro")).await.unwrap();
    settle(QUIET, WAIT, || counts(&world)).await.unwrap();

    let before = counts(&world);
    world.intercom.edit_contact(&ada, serde_json::json!({"custom_attributes": {"plan": "enterprise"}})).unwrap();
    eventually(WAIT, "the plan change on the Zendesk user", plan_is("enterprise")).await.unwrap();
    settle(QUIET, WAIT, || counts(&world)).await.unwrap();

    let calls = since(&world, before);
    let summary: Vec<String> = calls.iter().map(|e| format!("{:?} {} {}", e.vendor, e.method, e.path)).collect();
    eprintln!("{} vendor calls for one synced profile change: {summary:#?}", calls.len());
    assert!(calls.len() <= 4, "{} vendor calls for one synced profile change: {summary:#?}", calls.len());
    assert!(
        calls.iter().any(|e| e.method == "PUT" && e.path.contains("/users/")),
        "the user was written: {summary:#?}"
    );
}
