#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Each SQS message runs within the X-Ray trace of its `AWSTraceHeader` attribute. Its own test
//! binary: it installs the process-wide subscriber, which tests sharing a process with others
//! cannot do reliably (tracing caches each call site's interest across threads).

use aws_lambda_events::event::sqs::SqsEvent;
use bridge_domain::routing::JobKind;
use bridge_jobs::fakes::TestPorts;
use bridge_runtime::driver::handle_sqs_batch;
use bridge_runtime::metrics::Counters;
use bridge_runtime::testing::{LogLines, NoControl};

const CONFIG: &str = "version: 1\nintercom: { bot_admin_id: '9' }\nescalation:\n  rules:\n    - { name: t, when: { tag_added: escalate } }\n";

#[tokio::test]
async fn each_message_runs_in_the_trace_of_its_aws_trace_header() {
    let lines = LogLines::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .with_writer(lines.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let p = TestPorts::new(CONFIG);
    p.seed_tagged_conversation("1");
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let body = serde_json::json!({
        "vendor": "intercom", "delivery_id": "d1", "topic": "conversation_part.tag.created",
        "entity": "conversation:1", "received_at": 1, "payload": null
    })
    .to_string();
    let event: SqsEvent = serde_json::from_value(serde_json::json!({ "Records": [{
        "messageId": "m1", "receiptHandle": "r-m1", "body": body,
        "attributes": { "ApproximateReceiveCount": "1", "MessageGroupId": "conversation:1", "AWSTraceHeader": header }
    }]}))
    .unwrap();
    let resp = handle_sqs_batch(&p.ports(), &NoControl, JobKind::Escalate, event, &Counters::default()).await;
    assert!(resp.batch_item_failures.is_empty());
    let text = lines.text();
    let done = text.lines().find(|l| l.contains("\"done\"")).unwrap_or_else(|| panic!("{text}"));
    let line: serde_json::Value = serde_json::from_str(done).unwrap();
    let job = line["spans"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "job"))
        .unwrap_or_else(|| panic!("{done}"));
    assert_eq!(job["trace_id"], header, "{done}");
}
