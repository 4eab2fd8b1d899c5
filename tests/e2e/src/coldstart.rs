//! The helpers of the `coldstart` driver (src/bin/coldstart.rs, `make bench`): the local
//! Lambda runtime API ([`cold_start`]), the events it hands over and the queues they come from,
//! and the numbers it prints.

use std::time::{Duration, Instant};

use anyhow::bail;
use bridge_aws::ReceivedMessage;
use bridge_domain::routing::JobKind;

use crate::World;

mod runtime_api;

pub use runtime_api::{Cold, Req, Resp, cold_start, serve};

/// An SQS Lambda event (FIFO) with these messages.
pub fn sqs_event(job: JobKind, msgs: &[ReceivedMessage]) -> Vec<u8> {
    let records: Vec<serde_json::Value> = msgs
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": { "ApproximateReceiveCount": m.receive_count.to_string(), "MessageGroupId": "g" },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:000000000000:bench-{}.fifo", job.as_str()),
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string().into_bytes()
}

/// Waits until every queue is empty: no message visible, none in flight (at most 120 s).
pub async fn quiet(world: &World) -> anyhow::Result<()> {
    use bridge_aws::sdk::sqs::types::QueueAttributeName;
    let sqs = bridge_aws::sdk::sqs::Client::new(&world.sdk);
    let started = Instant::now();
    loop {
        let mut left = 0u64;
        for url in world.queue.urls().values() {
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(&url.queue)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await?;
            for v in attrs.attributes().into_iter().flat_map(|a| a.values()) {
                left += v.parse::<u64>().unwrap_or(0);
            }
        }
        if left == 0 {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("{left} messages still queued or in flight after 120 s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every message currently receivable on a job's queue whose event's topic is `topic` (all of
/// them are left invisible for 15 minutes).
pub async fn drain_topic(world: &World, job: JobKind, topic: &str) -> anyhow::Result<Vec<ReceivedMessage>> {
    Ok(drain(world, job).await?.into_iter().filter(|m| m.event().is_ok_and(|e| e.topic == topic)).collect())
}

/// Every message currently receivable on a job's queue (left invisible for 15 minutes).
async fn drain(world: &World, job: JobKind) -> anyhow::Result<Vec<ReceivedMessage>> {
    let mut out = Vec::new();
    for _ in 0..50 {
        let got = world.queue.receive(job, 10, 0).await?;
        if got.is_empty() {
            break;
        }
        for m in &got {
            world.queue.change_visibility(job, &m.receipt_handle, 900).await?;
        }
        out.extend(got);
    }
    Ok(out)
}

/// `RUST_LOG` as infra/template.yaml sets it (Globals), at the `LogLevel` default INFO.
pub const DEPLOYED_RUST_LOG: &str = "INFO,aws_config=warn,aws_smithy_runtime=warn,hyper_util=warn,rustls=warn";

/// The sections that enable jobs 3 to 7 (job 1's and the rest come from the world's config),
/// `{group}` standing for the routing group; the cold-start and sweep-cost benches use them.
pub const SECTIONS: &str = r#"
ticket_status:
  on:
    solved: { message: "Your ticket #{ticket_id} was solved.", conversation: close }
tag_sync:
  map: { VIP: vip_customer }
routing:
  default: { group_id: {group} }
  rules: []
acknowledgement:
  channels: [web]
  message_type: email
  subject_template: "We received your request #{ticket_id}"
  body_template: "Thanks! Request #{ticket_id} is with our team."
reporting:
  periods: [daily, weekly]
  page_size: 100
  s3: { prefix: csat }
"#;

pub fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn verdict(value: f64, target: f64) -> String {
    if value <= target { "met".into() } else { format!("missed by {:.0}%", (value / target - 1.0) * 100.0) }
}
