//! Two conversations whose tickets Zendesk merged: both now follow the surviving ticket, and a
//! change of that ticket (tags, status) reaches each of them once, as it happens, not as a burst
//! of re-applied writes at the conversation's next activity.

use bridge_e2e::World;

use super::status_tags::{bot_replies, escalated, intercom_exchanges, quiet, world};

/// Tag writes the bridge made on `conv` (humans act in-process, so every recorded write is ours).
fn tag_writes(w: &World, conv: &str) -> usize {
    let path = format!("/conversations/{conv}/tags");
    intercom_exchanges(w).iter().filter(|e| e.method != "GET" && e.path.starts_with(&path)).count()
}

fn has_tag(w: &World, conv: &str, tag: &str) -> bool {
    w.intercom.conversation_tags(conv).iter().any(|t| t == tag)
}

#[tokio::test]
async fn after_a_merge_each_tag_change_of_the_ticket_is_written_once_to_each_conversation() {
    let w = world().await;
    let agent = w.seeded.zendesk_agent;
    let (first, surviving) = escalated(&w, "<p>Export fails</p>").await;
    let (second, merged_away) = escalated(&w, "<p>Export still fails</p>").await;
    w.zendesk.merge(agent, surviving, &[merged_away]).unwrap();
    quiet(&w).await;
    let before = (tag_writes(&w, &first), tag_writes(&w, &second));

    // Ten tag edits on the surviving ticket, one at a time.
    for n in 1..=10 {
        w.zendesk.agent_tags(agent, surviving, &[format!("topic_{n}")], &[]).unwrap();
        quiet(&w).await;
    }
    for conv in [&first, &second] {
        for n in 1..=10 {
            assert!(has_tag(&w, conv, &format!("topic_{n}")), "topic_{n} reached conversation {conv}");
        }
    }
    let after_edits = (tag_writes(&w, &first), tag_writes(&w, &second));
    assert_eq!(after_edits, (before.0 + 10, before.1 + 10), "one write per tag change and conversation");

    // The customers write again: nothing is re-applied.
    w.intercom.customer_replies(&first, "Any news?").unwrap();
    w.intercom.customer_replies(&second, "Any news on mine?").unwrap();
    quiet(&w).await;
    assert_eq!((tag_writes(&w, &first), tag_writes(&w, &second)), after_edits, "no redundant tag writes");

    // The surviving ticket is solved: both customers are told, once each.
    w.zendesk.set_status(agent, surviving, "solved").unwrap();
    quiet(&w).await;
    for conv in [&first, &second] {
        assert_eq!(bot_replies(&w, conv, &format!("#{surviving}")), 1, "conversation {conv} told once");
    }
}
