//! Jobs 3 and 4 end to end, with the simulators wired to each other through the real ingress,
//! SQS on moto and the real workers, so every write the bridge makes comes back as a webhook.
//!
//! Every write the bridge makes is counted from the simulators' recorded exchanges (humans act
//! in-process, so every recorded non-GET request is the bridge's).

use std::time::Duration;

use bridge_e2e::{World, eventually, settle};
use bridge_sim::common::Exchange;
use serde_json::Value;

mod status;
mod tags;

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1200);

const SECTIONS: &str = r#"
ticket_status:
  on:
    solved:
      message: "Your ticket #{ticket_id} ({subject}) was solved by {agent_name}. Reply here if anything is left."
      conversation: close
      tags: [zendesk-solved]
    pending: { message: "We need a bit more information for ticket #{ticket_id}.", conversation: snooze, snooze_minutes: 60 }
    hold: { tags: [zendesk-on-hold] }
    reopened: { conversation: open }
tag_sync:
  map: { VIP: vip_customer, Billing: billing }
  unmapped: slug
  ignore_intercom: [escalate]
  ignore_zendesk: [intercom, tier2, closed_by_merge]
"#;

pub(super) async fn world() -> World {
    World::start_with(|c| format!("{c}{SECTIONS}")).await.unwrap()
}

fn writes(ex: &[Exchange]) -> Vec<&Exchange> {
    ex.iter().filter(|e| e.method != "GET").collect()
}

pub(super) fn intercom_exchanges(w: &World) -> Vec<Exchange> {
    w.intercom.gate().recorder.all()
}

fn zendesk_exchanges(w: &World) -> Vec<Exchange> {
    w.zendesk.exchanges()
}

/// Waits until nothing new reaches either simulator (requests or webhooks).
pub(super) async fn quiet(w: &World) {
    quiet_for(w, QUIET).await;
}

async fn quiet_for(w: &World, quiet: Duration) {
    settle(quiet, Duration::from_secs(40), || {
        (
            intercom_exchanges(w).len(),
            zendesk_exchanges(w).len(),
            w.intercom.notifications().len(),
            w.zendesk.sent_webhooks().len(),
        )
    })
    .await
    .unwrap();
}

fn ticket_of(w: &World, conversation: &str) -> Value {
    let ext = format!("intercom-conversation-{conversation}");
    let mut t: Vec<Value> =
        w.tickets().into_iter().filter(|t| t["external_id"].as_str() == Some(ext.as_str())).collect();
    t.sort_by_key(|t| t["id"].as_u64());
    t.pop().unwrap()
}

/// A customer conversation escalated by the `escalate` tag; returns (conversation, ticket id).
pub(super) async fn escalated(w: &World, body: &str) -> (String, u64) {
    let conv = w.intercom.customer_starts_conversation(&w.seeded.customer, body).unwrap();
    w.intercom.admin_tags(&conv, &w.seeded.agent, "escalate").unwrap();
    let ext = format!("intercom-conversation-{conv}");
    eventually(WAIT, "ticket", || w.tickets().iter().any(|t| t["external_id"].as_str() == Some(ext.as_str())))
        .await
        .unwrap();
    let link_note = |w: &World| {
        w.intercom
            .conversation(&conv)
            .is_some_and(|c| c.parts.iter().any(|p| p.part_type == "note" && p.author.id == w.seeded.bot_admin))
    };
    eventually(WAIT, "escalation note", || link_note(w)).await.unwrap();
    quiet(w).await;
    let id = ticket_of(w, &conv)["id"].as_u64().unwrap();
    (conv, id)
}

/// Bot messages the customer sees (replies, and closes that carry a message) containing `text`.
pub(super) fn bot_replies(w: &World, conv: &str, text: &str) -> usize {
    w.intercom
        .conversation(conv)
        .map(|c| {
            c.parts
                .iter()
                .filter(|p| {
                    (p.part_type == "comment" || p.part_type == "close")
                        && p.author.id == w.seeded.bot_admin
                        && p.body.as_deref().is_some_and(|b| b.contains(text))
                })
                .count()
        })
        .unwrap_or(0)
}

fn parts_of_type(w: &World, conv: &str, ty: &str) -> usize {
    w.intercom.conversation(conv).map(|c| c.parts.iter().filter(|p| p.part_type == ty).count()).unwrap_or(0)
}
