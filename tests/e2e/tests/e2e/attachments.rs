//! Attachments both ways (issue 17, point 2): a customer's files reach the ticket as real
//! Zendesk attachments (uploads API, tokens on the comment), in the transcript and in a
//! follow-up, and a file over the limit is named as not attached; a Zendesk agent's public
//! comment with a file reaches the conversation as an attachment of the admin reply.

use std::time::Duration;

use bridge_e2e::{World, eventually, settle, tickets_for};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);

const LOG: &[u8] = b"2026-12-07 10:00:01 export failed: CSV writer panicked\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake image bytes";

/// Job 1 with a 1 MB limit per file, job 3 relaying public comments.
async fn world() -> World {
    World::start_with(|c| {
        let c = c.replace("  tags: [intercom]\n", "  tags: [intercom]\n  attachments: { max_file_mb: 1 }\n");
        format!("{c}ticket_status:\n  relay_public_comments: true\n")
    })
    .await
    .unwrap()
}

async fn quiet(w: &World) {
    settle(QUIET, Duration::from_secs(40), || {
        (
            w.intercom.gate().recorder.all().len(),
            w.zendesk.exchanges().len(),
            w.intercom.notifications().len(),
            w.zendesk.sent_webhooks().len(),
        )
    })
    .await
    .unwrap();
}

/// The ticket's comments whose body contains `text`.
fn comments_with(w: &World, ticket: u64, text: &str) -> Vec<Value> {
    let Some(t) = w.zendesk.ticket(ticket) else { return Vec::new() };
    t["comments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("").contains(text))
        .collect()
}

/// (file name, bytes) of a comment's attachments, the bytes as the simulator stores them.
fn files_of(w: &World, comment: &Value) -> Vec<(String, Vec<u8>)> {
    comment["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let id = a["id"].as_u64().unwrap();
            (a["file_name"].as_str().unwrap().to_string(), w.zendesk.attachment_bytes(id).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn customer_files_reach_the_ticket_as_zendesk_attachments_and_an_oversized_one_is_named() {
    let w = world().await;
    let conv = w.intercom.customer_starts_conversation(&w.seeded.customer, "<p>My export is broken</p>").unwrap();
    w.intercom
        .customer_replies_with_files(&conv, "<p>Here is the log</p>", &[("export.log", "text/plain", LOG)])
        .unwrap();
    w.intercom.admin_tags(&conv, &w.seeded.agent, "escalate").unwrap();
    eventually(WAIT, "the ticket", || tickets_for(&w, &conv).len() == 1).await.unwrap();
    quiet(&w).await;

    // The transcript carries the file itself, not Intercom's expiring link.
    let ticket = tickets_for(&w, &conv).remove(0);
    let ticket_id = ticket["id"].as_u64().unwrap();
    let transcript = &ticket["comments"][0];
    let html = transcript["html_body"].as_str().unwrap();
    assert!(html.contains("Here is the log") && html.contains("Attached: export.log"), "{html}");
    assert!(!html.contains("/files/"), "no Intercom file URL in the transcript: {html}");
    assert_eq!(files_of(&w, transcript), vec![("export.log".to_string(), LOG.to_vec())]);

    // A follow-up with a file within the limit and one over it.
    let big = vec![7u8; 1024 * 1024 + 512 * 1024];
    let files: [(&str, &str, &[u8]); 2] =
        [("screen.png", "image/png", PNG), ("dump.bin", "application/octet-stream", &big)];
    w.intercom.customer_replies_with_files(&conv, "<p>And a screenshot</p>", &files).unwrap();
    eventually(WAIT, "the follow-up comment", || comments_with(&w, ticket_id, "And a screenshot").len() == 1)
        .await
        .unwrap();
    quiet(&w).await;
    let follow_up = comments_with(&w, ticket_id, "And a screenshot");
    assert_eq!(follow_up.len(), 1, "appended once");
    assert_eq!(follow_up[0]["public"], true);
    assert_eq!(files_of(&w, &follow_up[0]), vec![("screen.png".to_string(), PNG.to_vec())]);
    let html = follow_up[0]["html_body"].as_str().unwrap();
    assert!(html.contains("Not attached: dump.bin (1.5 MB, over the 1 MB limit)"), "{html}");
    let uploads = w.zendesk.exchanges().iter().filter(|e| e.method == "POST" && e.path.ends_with("/uploads")).count();
    assert_eq!(uploads, 2, "the oversized file was never uploaded");
}

#[tokio::test]
async fn a_zendesk_public_comment_with_a_file_reaches_the_conversation_as_an_attachment() {
    let w = world().await;
    let conv = w.intercom.customer_starts_conversation(&w.seeded.customer, "<p>Where is my invoice?</p>").unwrap();
    w.intercom.admin_tags(&conv, &w.seeded.agent, "escalate").unwrap();
    eventually(WAIT, "the ticket", || tickets_for(&w, &conv).len() == 1).await.unwrap();
    quiet(&w).await;
    let ticket = tickets_for(&w, &conv)[0]["id"].as_u64().unwrap();

    let pdf: &[u8] = b"%PDF-1.4 invoice 2026-11";
    let agent = w.seeded.zendesk_agent;
    w.zendesk
        .comment_with_file(agent, ticket, "Here is your invoice.", true, ("invoice.pdf", "application/pdf", pdf))
        .unwrap();
    let reply_with_file = |w: &World| {
        w.intercom.conversation(&conv).map_or(0, |c| {
            c.parts
                .iter()
                .filter(|p| p.part_type == "comment" && p.author.kind == "admin")
                .filter(|p| p.body.as_deref().is_some_and(|b| b.contains("Here is your invoice.")))
                .filter(|p| p.attachments.iter().any(|a| a.name == "invoice.pdf"))
                .count()
        })
    };
    eventually(WAIT, "the admin reply with the file", || reply_with_file(&w) == 1).await.unwrap();
    quiet(&w).await;
    assert_eq!(reply_with_file(&w), 1, "relayed once");
    let c = w.intercom.conversation(&conv).unwrap();
    let part = c.parts.iter().find(|p| p.attachments.iter().any(|a| a.name == "invoice.pdf")).unwrap();
    let file = &part.attachments[0];
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(w.intercom.file_bytes(&file.url).unwrap(), pdf, "the bytes Zendesk holds");
    // The relay downloaded the file with the API credentials (the simulator refuses others).
    let zendesk_url = w.zendesk.ticket(ticket).unwrap()["comments"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c["attachments"][0]["content_url"].as_str().map(str::to_string))
        .unwrap();
    let anonymous = bridge_sim::http_client().get(&zendesk_url).send().await.unwrap().status().as_u16();
    assert_eq!(anonymous, 401, "private attachments need the credentials");
}
