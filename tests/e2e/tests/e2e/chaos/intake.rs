//! Crashes at every step of ticket intake (jobs 5 and 6).

use bridge_domain::routing::JobKind;
use bridge_e2e::comments_containing;
use serde_json::json;

use super::harness::{Chaos, assert_once_or_window, only};

#[tokio::test]
async fn crash_at_every_step_of_intake_routes_once_and_acknowledges_at_most_once() {
    let mut ch = Chaos::start().await;
    let mut windows = Vec::new();
    for after in [false, true] {
        for n in 0.. {
            let before = ch.world.intercom.state().messages.len();
            let id =
                ch.world.zendesk.submit_ticket(ch.requester, "Export fails", "The export errors out.", "web").unwrap();
            let event = only(ch.zendesk_event("ticket.created", id, json!({})).await, JobKind::TicketIntake, "created");
            let crash = ch.crash_then_recover(JobKind::TicketIntake, &event, n, after).await;
            let what = format!("crash at step {n} (after={after})");
            let t = ch.world.zendesk.ticket(id).unwrap();
            assert_eq!(t["group_id"].as_u64(), Some(ch.enterprise_group), "{what}: routed");
            assert_eq!(comments_containing(&ch.world, id, "[bridge-routing:"), 1, "{what}: one routing note");
            let acks = ch.world.intercom.state().messages.len() - before;
            // The documented window (jobs/src/intake.rs): Intercom accepted the message and the
            // worker died before recording it.
            assert_once_or_window(acks, crash.as_ref(), &format!("{what}: acknowledgement"), &mut windows);
            if crash.is_none() {
                break;
            }
        }
    }
    assert!(windows.len() <= 2, "duplicates outside the send_message window: {windows:#?}");
    eprintln!("intake: accepted duplicate windows: {windows:#?}");
}
