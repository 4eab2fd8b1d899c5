//! Crashes at every step of an escalation (job 1).

use bridge_domain::routing::JobKind;

use super::harness::{Chaos, assert_escalated_once, only};

#[tokio::test]
async fn crash_at_every_step_of_an_escalation_gives_one_ticket_link_and_note() {
    let mut ch = Chaos::start().await;
    let s = ch.world.seeded.clone();
    let mut steps = 0;
    for after in [false, true] {
        for n in 0.. {
            let conv = ch.world.intercom.customer_starts_conversation(&s.customer, "Crash me please").unwrap();
            ch.world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
            let event = only(ch.intercom_events().await, JobKind::Escalate, "tag.created");
            let crashed = ch.crash_then_recover(JobKind::Escalate, &event, n, after).await.is_some();
            assert_escalated_once(&ch.world, &conv, &format!("crash at step {n} (after={after})")).await;
            ch.intercom_events().await;
            if !crashed {
                steps = steps.max(n);
                break;
            }
        }
    }
    assert!(steps >= 8, "an escalation has at least 8 port calls, saw {steps}");
}
