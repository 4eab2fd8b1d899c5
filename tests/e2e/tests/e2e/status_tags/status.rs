//! Job 3 end to end: each status transition's effects (once, under redelivery), reopen,
//! follow-up and merge, trigger bodies of the team's own shape, the delivery modes of status
//! messages, replies both ways, and priority and state.

use std::time::Duration;

use bridge_domain::ids::ConversationId;
use bridge_domain::model::LinkEvent;
use bridge_domain::ports::Store;
use bridge_e2e::{World, eventually};
use serde_json::Value;

use super::{
    SECTIONS, WAIT, bot_replies, escalated, intercom_exchanges, parts_of_type, quiet, ticket_of, world, writes,
    zendesk_exchanges,
};

/// Re-posts every Zendesk webhook about `ticket` with fresh delivery ids (so the queue's
/// deduplication does not hide them), in reverse order: duplicate and out-of-order delivery.
async fn redeliver_reversed(w: &World, ticket: u64) -> usize {
    let secret = bridge_sim::zendesk::ZendeskSimOptions::default().webhook_secret;
    let subject = format!("zen:ticket:{ticket}");
    let mut bodies: Vec<Value> = w
        .zendesk
        .sent_webhooks()
        .into_iter()
        .filter(|s| s.body["subject"].as_str() == Some(subject.as_str()))
        .map(|s| s.body)
        .collect();
    bodies.reverse();
    let client = bridge_sim::http_client();
    for mut body in bodies.clone() {
        body["id"] = Value::String(uuid::Uuid::new_v4().to_string());
        let bytes = body.to_string().into_bytes();
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let sig = bridge_zendesk::webhook::sign(secret.as_bytes(), &ts, &bytes);
        let resp = client
            .post(format!("{}/webhooks/zendesk", w.bridge_url()))
            .header("content-type", "application/json")
            .header("x-zendesk-webhook-signature-timestamp", ts)
            .header("x-zendesk-webhook-signature", sig)
            .header("x-zendesk-webhook-invocation-id", uuid::Uuid::new_v4().simple().to_string())
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    }
    bodies.len()
}

#[tokio::test]
async fn each_status_transition_has_its_effects_exactly_once_under_redelivery() {
    let w = world().await;
    let (conv, ticket) = escalated(&w, "<p>The export button does nothing</p>").await;
    let agent = w.seeded.zendesk_agent;
    w.zendesk
        .agent_update(
            agent,
            ticket,
            bridge_sim::zendesk::TicketInput { assignee_id: Some(agent), ..Default::default() },
        )
        .unwrap();
    quiet(&w).await;

    // A public agent reply reaches the customer; an internal note stays internal.
    w.zendesk.comment(agent, ticket, "We are on it, a fix ships tomorrow.", true).unwrap();
    w.zendesk.comment(agent, ticket, "Internal: root cause is the CSV writer.", false).unwrap();
    // Pending: message + snooze.
    w.zendesk.set_status(agent, ticket, "pending").unwrap();
    eventually(WAIT, "pending message", || bot_replies(&w, &conv, "more information") == 1).await.unwrap();
    eventually(WAIT, "snoozed", || w.intercom.conversation(&conv).is_some_and(|c| c.state == "snoozed")).await.unwrap();
    quiet(&w).await;
    // Solved: message (with template values), close, tag.
    w.zendesk.set_status(agent, ticket, "solved").unwrap();
    eventually(WAIT, "solved message", || bot_replies(&w, &conv, "was solved by Zoe Zendesk") == 1).await.unwrap();
    eventually(WAIT, "closed", || w.intercom.conversation(&conv).is_some_and(|c| c.state == "closed")).await.unwrap();
    quiet(&w).await;

    let c = w.intercom.conversation(&conv).unwrap();
    let relayed: Vec<_> =
        c.parts.iter().filter(|p| p.body.as_deref().is_some_and(|b| b.contains("a fix ships tomorrow"))).collect();
    assert_eq!(relayed.len(), 1, "public agent comment relayed once");
    assert_eq!(relayed[0].part_type, "comment", "as a reply the customer sees");
    assert!(
        !c.parts.iter().any(|p| p.body.as_deref().is_some_and(|b| b.contains("root cause"))),
        "note stays internal"
    );
    assert!(w.intercom.conversation_tags(&conv).contains(&"zendesk-solved".to_string()));
    assert_eq!(parts_of_type(&w, &conv, "close"), 1);
    assert_eq!(parts_of_type(&w, &conv, "snoozed"), 1);
    let subject = ticket_of(&w, &conv)["subject"].as_str().unwrap().to_string();
    assert!(bot_replies(&w, &conv, &format!("#{ticket} ({subject})")) == 1, "template values filled in");

    // Duplicate and out-of-order delivery of every event about the ticket: nothing more.
    let before_ic = writes(&intercom_exchanges(&w)).len();
    let before_zd = writes(&zendesk_exchanges(&w)).len();
    let n = redeliver_reversed(&w, ticket).await;
    assert!(n >= 5, "replayed {n} events");
    quiet(&w).await;
    assert_eq!(writes(&intercom_exchanges(&w)).len(), before_ic, "no Intercom write from redelivered events");
    assert_eq!(writes(&zendesk_exchanges(&w)).len(), before_zd, "no Zendesk write from redelivered events");
    assert_eq!(bot_replies(&w, &conv, "was solved"), 1);
    assert_eq!(bot_replies(&w, &conv, "more information"), 1);
    assert_eq!(parts_of_type(&w, &conv, "close"), 1);
}

#[tokio::test]
async fn reopen_follow_up_and_merge_keep_the_conversation_in_step() {
    let w = world().await;
    let agent = w.seeded.zendesk_agent;
    let (conv, first) = escalated(&w, "<p>Cannot log in since the update</p>").await;

    // Solved, then the customer writes again: the same ticket reopens with the new message, and
    // the reopen the bridge caused is not echoed back as a "reopened" effect.
    w.zendesk.set_status(agent, first, "solved").unwrap();
    eventually(WAIT, "closed", || w.intercom.conversation(&conv).is_some_and(|c| c.state == "closed")).await.unwrap();
    quiet(&w).await;
    let opens_before = parts_of_type(&w, &conv, "open");
    w.intercom.customer_replies(&conv, "Still broken after all.").unwrap();
    eventually(WAIT, "ticket reopened", || w.zendesk.ticket(first).is_some_and(|t| t["status"] == "open"))
        .await
        .unwrap();
    quiet(&w).await;
    assert_eq!(parts_of_type(&w, &conv, "open"), opens_before, "the bridge's own reopen is not echoed");
    let t = w.zendesk.ticket(first).unwrap();
    assert!(t["comments"].to_string().contains("Still broken after all."), "new message on the reopened ticket");

    // Closed, then the customer writes again: a follow-up ticket becomes the live ticket.
    w.zendesk.set_status(agent, first, "closed").unwrap();
    quiet(&w).await;
    w.intercom.customer_replies(&conv, "Hello? Any news?").unwrap();
    let followup = async {
        loop {
            let t = ticket_of(&w, &conv);
            if t["id"].as_u64() != Some(first) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let followup = tokio::time::timeout(WAIT, followup).await.expect("a follow-up ticket");
    let second = followup["id"].as_u64().unwrap();
    assert_eq!(followup["via"]["source"]["rel"], "follow_up", "{followup}");
    quiet(&w).await;
    assert!(w.zendesk.ticket(second).unwrap()["comments"].to_string().contains("Any news?"));

    // The follow-up is merged into a third ticket; the link follows to the target, and a status
    // change on the surviving ticket reaches the original conversation.
    let requester = followup["requester_id"].as_u64().unwrap();
    let third = w.zendesk.submit_ticket(requester, "Login issues (dup)", "Same problem", "web").unwrap();
    quiet(&w).await;
    w.zendesk.merge(agent, third, &[second]).unwrap();
    quiet(&w).await;
    let replies_before = bot_replies(&w, &conv, "was solved");
    w.zendesk.set_status(agent, third, "solved").unwrap();
    eventually(WAIT, "solved message from the merge target", || bot_replies(&w, &conv, &format!("#{third}")) == 1)
        .await
        .unwrap();
    quiet(&w).await;
    assert_eq!(bot_replies(&w, &conv, "was solved"), replies_before + 1, "merge close not announced");

    let store = bridge_aws::DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(&w.sdk), w.table.clone());
    let link = store.link_by_conversation(&ConversationId::parse(conv.clone()).unwrap()).await.unwrap().unwrap();
    assert_eq!(link.ticket_id.get(), third);
    let tickets: Vec<u64> = link.tickets.iter().map(|t| t.get()).collect();
    assert_eq!(tickets, vec![first, second, third]);
    assert!(matches!(link.history[1], LinkEvent::FollowUp { .. }), "{:?}", link.history);
    assert!(matches!(link.history[2], LinkEvent::Merged { .. }), "{:?}", link.history);
    // An event about an old ticket still finds the link and acts on the live ticket.
    assert_eq!(store.link_by_ticket(bridge_domain::ids::TicketId::new(first).unwrap()).await.unwrap(), Some(link));
    // The conversation's ticket attribute and a note followed the link to the merge target.
    let c = w.intercom.conversation(&conv).unwrap();
    assert_eq!(
        c.custom_attributes.get("zendesk_ticket_id"),
        Some(&Value::from(third.to_string())),
        "{:?}",
        c.custom_attributes
    );
    let notes_for = |id: u64| {
        c.parts
            .iter()
            .filter(|p| p.part_type == "note" && p.author.id == w.seeded.bot_admin)
            .filter(|p| p.body.as_deref().is_some_and(|b| b.contains(&format!("#{id}"))))
            .count()
    };
    assert_eq!(notes_for(third), 1, "one note for the surviving ticket");
}

/// A trigger-connected webhook made for another tool: the team's own JSON, with the ticket id
/// under its own key. Signed, it is read as "this ticket changed", and job 3 acts on the ticket
/// as it is now; signed without any ticket id, it is answered 200 and nothing is queued.
#[tokio::test]
async fn a_signed_trigger_body_of_the_teams_own_shape_is_a_ticket_changed_hint() {
    let w = world().await;
    let (conv, ticket) = escalated(&w, "<p>Export fails</p>").await;
    // Zendesk's own webhook of the change is lost: only the team's trigger body arrives.
    w.zendesk.set_webhook_target(None);
    w.zendesk.set_status(w.seeded.zendesk_agent, ticket, "solved").unwrap();
    quiet(&w).await;
    assert_eq!(bot_replies(&w, &conv, "was solved"), 0, "nothing told yet");
    let url = w.bridge_url();
    let own_shape =
        serde_json::json!({ "ticket": { "id": ticket.to_string(), "state": "solved" }, "source": "helpdesk-sync" });
    let (status, body) = bridge_e2e::post_zendesk(&url, own_shape.to_string().as_bytes()).await.unwrap();
    assert_eq!(status, 200, "{body}");
    eventually(WAIT, "the solved reply", || bot_replies(&w, &conv, "was solved") == 1).await.unwrap();

    let (status, body) = bridge_e2e::post_zendesk(&url, br#"{"message":"weekly digest"}"#).await.unwrap();
    assert_eq!(status, 200, "a signed body is never refused for its shape: {body}");
    assert!(body.contains("ignored"), "{body}");
    quiet(&w).await;
    assert_eq!(bot_replies(&w, &conv, "was solved"), 1, "told once");
}

/// Job 3's delivery modes: a status message as a reply (riding on the close: one Intercom call),
/// as an internal note, or not at all; the status also lands in a conversation attribute.
#[tokio::test]
async fn status_messages_are_replies_notes_or_silent_as_configured_and_a_close_carries_its_message() {
    const MODES: &str = r#"
ticket_status:
  status_attribute: zendesk_status
  on:
    pending: { message: "Waiting on the customer for #{ticket_id}.", deliver: note }
    hold: { deliver: silent, tags: [zendesk-on-hold] }
    solved: { message: "Solved #{ticket_id}.", conversation: close }
"#;
    let w = World::start_with(|c| format!("{c}{MODES}")).await.unwrap();
    w.intercom.seed_conversation_attribute("zendesk_status", "string");
    let (conv, ticket) = escalated(&w, "<p>Export fails</p>").await;
    let attribute =
        |w: &World| w.intercom.conversation(&conv).and_then(|c| c.custom_attributes.get("zendesk_status").cloned());
    let bot = |w: &World, ty: &str, text: &str| {
        w.intercom
            .conversation(&conv)
            .map(|c| {
                let own = |p: &&bridge_sim::intercom::state::Part| p.author.id == w.seeded.bot_admin;
                c.parts
                    .iter()
                    .filter(own)
                    .filter(|p| p.part_type == ty)
                    .filter(|p| p.body.as_deref().unwrap_or("").contains(text))
                    .count()
            })
            .unwrap_or(0)
    };
    let agent = w.seeded.zendesk_agent;

    w.zendesk.set_status(agent, ticket, "pending").unwrap();
    eventually(WAIT, "the pending note", || bot(&w, "note", "Waiting on the customer") == 1).await.unwrap();
    eventually(WAIT, "the attribute", || attribute(&w) == Some(Value::from("pending"))).await.unwrap();
    quiet(&w).await;
    assert_eq!(bot(&w, "comment", "Waiting on the customer"), 0, "a note, not a reply");

    w.zendesk.set_status(agent, ticket, "hold").unwrap();
    eventually(WAIT, "the hold tag", || w.intercom.conversation_tags(&conv).iter().any(|t| t == "zendesk-on-hold"))
        .await
        .unwrap();
    eventually(WAIT, "the attribute", || attribute(&w) == Some(Value::from("hold"))).await.unwrap();
    quiet(&w).await;

    let before = intercom_exchanges(&w).len();
    w.zendesk.set_status(agent, ticket, "solved").unwrap();
    eventually(WAIT, "the close with its message", || bot(&w, "close", &format!("Solved #{ticket}.")) == 1)
        .await
        .unwrap();
    eventually(WAIT, "the attribute", || attribute(&w) == Some(Value::from("solved"))).await.unwrap();
    quiet(&w).await;
    assert_eq!(bot(&w, "comment", "Solved"), 0, "no separate reply");
    let solved_writes: Vec<String> =
        writes(&intercom_exchanges(&w)[before..]).iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    assert_eq!(solved_writes.len(), 2, "the close with its message, and the attribute: {solved_writes:?}");
    assert_eq!(w.intercom.conversation(&conv).unwrap().state, "closed");
}

/// Replies both ways: a teammate's Intercom reply becomes a public ticket comment authored by
/// the Zendesk agent with the same email, their note an internal note; the Zendesk agent's own
/// comment relayed into the conversation never comes back to the ticket, and the mirrored
/// comment never comes back to the conversation.
#[tokio::test]
async fn teammates_replies_and_notes_reach_the_ticket_as_their_agent_and_nothing_echoes() {
    let w = world().await;
    let alex = w.zendesk.add_agent("Alex Agent", "alex@example.com").unwrap();
    let (conv, ticket) = escalated(&w, "<p>Export fails</p>").await;
    let comments = |w: &World, text: &str| -> Vec<Value> {
        w.zendesk.ticket(ticket).unwrap()["comments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c.to_string().contains(text))
            .cloned()
            .collect()
    };
    let parts_with = |w: &World, text: &str| {
        w.intercom
            .conversation(&conv)
            .map(|c| c.parts.iter().filter(|p| p.body.as_deref().is_some_and(|b| b.contains(text))).count())
            .unwrap_or(0)
    };

    w.intercom.admin_replies(&conv, &w.seeded.agent, "We are looking into the export.").unwrap();
    w.intercom.admin_notes(&conv, &w.seeded.agent, "Probably the CSV writer.").unwrap();
    eventually(WAIT, "the reply and the note on the ticket", || {
        comments(&w, "looking into the export").len() == 1 && comments(&w, "CSV writer").len() == 1
    })
    .await
    .unwrap();
    quiet(&w).await;
    let reply = &comments(&w, "looking into the export")[0];
    assert_eq!(reply["public"], true, "{reply}");
    assert_eq!(reply["author_id"].as_u64(), Some(alex), "authored by Alex's Zendesk agent: {reply}");
    assert_eq!(comments(&w, "CSV writer")[0]["public"], false);
    assert_eq!(parts_with(&w, "looking into the export"), 1, "the mirrored comment does not come back");

    // Alex answers in Zendesk: relayed into the conversation as Alex, and not copied back.
    w.zendesk.comment(alex, ticket, "A fix ships on Friday.", true).unwrap();
    eventually(WAIT, "the relayed reply", || parts_with(&w, "A fix ships on Friday.") == 1).await.unwrap();
    quiet(&w).await;
    assert_eq!(comments(&w, "A fix ships on Friday.").len(), 1, "no echo back to the ticket");
    assert_eq!(parts_with(&w, "A fix ships on Friday."), 1);
}

/// Priority and state after the escalation, both ways as configured: an Intercom priority change
/// sets the ticket's priority, a Zendesk one lands in a conversation attribute (Intercom's API
/// cannot set a conversation's priority); a teammate's close solves the ticket without the
/// solved message coming back, and a reopen opens it.
#[tokio::test]
async fn priority_and_state_follow_both_ways_as_configured() {
    let w = World::start_with(|c| {
        let c = c.replace(
            "  tags: [intercom]\n",
            "  tags: [intercom]\n  sync_priority: true\n  on_close: solved\n  on_reopen: open\n",
        );
        format!(
            "{c}{}",
            SECTIONS.replace("ticket_status:\n", "ticket_status:\n  priority_attribute: zendesk_priority\n")
        )
    })
    .await
    .unwrap();
    w.intercom.seed_conversation_attribute("zendesk_priority", "string");
    let (conv, ticket) = escalated(&w, "<p>Export fails</p>").await;
    let (alex, zoe) = (w.seeded.agent.clone(), w.seeded.zendesk_agent);
    let field =
        |w: &World, name: &str| w.zendesk.ticket(ticket).unwrap()[name].as_str().unwrap_or_default().to_string();

    w.intercom.admin_sets_priority(&conv, &alex, "urgent").unwrap();
    eventually(WAIT, "the ticket's priority", || field(&w, "priority") == "urgent").await.unwrap();
    quiet(&w).await;

    let low = bridge_sim::zendesk::TicketInput { priority: Some("low".into()), ..Default::default() };
    w.zendesk.agent_update(zoe, ticket, low).unwrap();
    let attribute =
        |w: &World| w.intercom.conversation(&conv).and_then(|c| c.custom_attributes.get("zendesk_priority").cloned());
    eventually(WAIT, "the priority attribute", || attribute(&w) == Some(Value::from("low"))).await.unwrap();
    quiet(&w).await;
    assert_eq!(field(&w, "priority"), "low", "the attribute write does not come back as a priority change");

    w.intercom.admin_closes(&conv, &alex).unwrap();
    eventually(WAIT, "the solved ticket", || field(&w, "status") == "solved").await.unwrap();
    quiet(&w).await;
    assert_eq!(bot_replies(&w, &conv, "was solved"), 0, "the bridge's own solve is not announced back");
    assert_eq!(w.intercom.conversation(&conv).unwrap().state, "closed");

    w.intercom.admin_reopens(&conv, &alex).unwrap();
    eventually(WAIT, "the reopened ticket", || field(&w, "status") == "open").await.unwrap();
    quiet(&w).await;
    assert_eq!(w.intercom.conversation(&conv).unwrap().state, "open");
}
