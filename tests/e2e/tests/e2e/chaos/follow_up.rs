//! Crashes at every step of a follow-up appended to an escalated conversation's ticket.

use bridge_domain::routing::JobKind;
use bridge_e2e::comments_containing;
use serde_json::Value;

use super::harness::{Chaos, assert_escalated_once, escalated, only};

#[tokio::test]
async fn crash_at_every_step_of_a_follow_up_append_gives_one_comment() {
    let mut ch = Chaos::start().await;
    let s = ch.world.seeded.clone();
    for after in [false, true] {
        for n in 0.. {
            let (conv, ticket) = escalated(&mut ch, "Escalate, then reply").await;
            let text = format!("Follow-up {n} {after}");
            ch.world.intercom.customer_replies(&conv, &text).unwrap();
            let event = only(ch.intercom_events().await, JobKind::Escalate, "user.replied");
            let crashed = ch.crash_then_recover(JobKind::Escalate, &event, n, after).await.is_some();
            assert_eq!(comments_containing(&ch.world, ticket, &text), 1, "crash at step {n} (after={after})");
            assert_escalated_once(&ch.world, &conv, "after the follow-up").await;
            ch.intercom_events().await;
            let _ = &s;
            if !crashed {
                break;
            }
        }
    }
}

#[tokio::test]
async fn crash_at_every_step_of_a_follow_up_with_a_file_gives_one_comment_with_the_file() {
    let mut ch = Chaos::start().await;
    for after in [false, true] {
        for n in 0.. {
            let (conv, ticket) = escalated(&mut ch, "Escalate, then send a file").await;
            let text = format!("File {n} {after}");
            let files: [(&str, &str, &[u8]); 1] = [("log.txt", "text/plain", b"export failed")];
            ch.world.intercom.customer_replies_with_files(&conv, &text, &files).unwrap();
            let event = only(ch.intercom_events().await, JobKind::Escalate, "user.replied");
            let crashed = ch.crash_then_recover(JobKind::Escalate, &event, n, after).await.is_some();
            let what = format!("crash at step {n} (after={after})");
            let t = ch.world.zendesk.ticket(ticket).unwrap();
            let comments: Vec<&Value> = t["comments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["html_body"].as_str().unwrap_or("").contains(&text))
                .collect();
            assert_eq!(comments.len(), 1, "{what}: one comment");
            let names: Vec<&str> =
                comments[0]["attachments"].as_array().unwrap().iter().filter_map(|a| a["file_name"].as_str()).collect();
            assert_eq!(names, vec!["log.txt"], "{what}: the file attached once");
            ch.intercom_events().await;
            if !crashed {
                break;
            }
        }
    }
}
