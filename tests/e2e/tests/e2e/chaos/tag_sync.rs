//! Crashes at every step of tag sync (job 4).

use bridge_domain::routing::JobKind;
use serde_json::json;

use super::harness::{Chaos, escalated, only};

#[tokio::test]
async fn crash_at_every_step_of_tag_sync_converges_to_the_same_tags() {
    let mut ch = Chaos::start().await;
    let agent = ch.world.seeded.zendesk_agent;
    for after in [false, true] {
        for n in 0.. {
            let (conv, ticket) = escalated(&mut ch, "Tag me").await;
            ch.world.zendesk.agent_tags(agent, ticket, &["needs_review".into()], &[]).unwrap();
            let events = ch
                .zendesk_event(
                    "ticket.tags_changed",
                    ticket,
                    json!({"tags_added": ["needs_review"], "tags_removed": []}),
                )
                .await;
            let event = only(events, JobKind::TagSync, "tags_changed");
            let crashed = ch.crash_then_recover(JobKind::TagSync, &event, n, after).await.is_some();
            let what = format!("crash at step {n} (after={after})");
            let tags = ch.world.intercom.conversation_tags(&conv);
            assert_eq!(tags.iter().filter(|t| *t == "needs_review").count(), 1, "{what}: {tags:?}");
            ch.intercom_events().await;
            if !crashed {
                break;
            }
        }
    }
}
