//! Ingress cost per event: signature check + parse + classify + fan-out of a 5 KB Intercom
//! webhook, and of a Zendesk event, through the same `Ingress` the Lambdas use (the queue is an
//! no-op, so the network is not measured).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use bridge_domain::ports::{PortResult, Queue};

use bridge_domain::routing::JobKind;

use bridge_domain::event::QueuedEvent;
use bridge_runtime::ingress::{Ingress, WebhookRequest};
use bridge_runtime::metrics::Counters;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, Method};
use secrecy::SecretString;

const INTERCOM_SECRET: &str = "bench-intercom-secret";
const ZENDESK_SECRET: &str = "bench-zendesk-secret";

/// A conversation webhook padded to about 5 KB, shaped like Intercom's.
fn intercom_body() -> Vec<u8> {
    let text = "I was charged twice for my March invoice, order 4411. ".repeat(70);
    serde_json::json!({
        "type": "notification_event", "id": "notif_3f1c2a", "topic": "conversation.user.replied",
        "app_id": "abc123", "created_at": 1_732_870_000, "delivery_attempts": 1, "first_sent_at": 1_732_870_000,
        "data": { "type": "notification_event_data", "item": {
            "type": "conversation", "id": "215472621202693", "created_at": 1_732_860_000,
            "updated_at": 1_732_870_000, "open": true, "state": "open", "priority": "not_priority",
            "admin_assignee_id": null, "team_assignee_id": "5017691", "waiting_since": 1_732_870_000,
            "contacts": { "type": "contact.list", "contacts": [{ "type": "contact", "id": "6762f0d51bb69f9f2193bb7f", "external_id": "cust-1" }] },
            "tags": { "type": "tag.list", "tags": [{ "type": "tag", "id": "7522907", "name": "vip" }] },
            "source": { "type": "conversation", "id": "403918396", "delivered_as": "customer_initiated",
                        "subject": "", "body": "<p>Hello</p>", "author": { "type": "user", "id": "6762f0d51bb69f9f2193bb7f", "name": "Ada" } },
            "conversation_parts": { "type": "conversation_part.list", "total_count": 1, "conversation_parts": [{
                "type": "conversation_part", "id": "22", "part_type": "comment", "body": format!("<p>{text}</p>"),
                "created_at": 1_732_870_000, "updated_at": 1_732_870_000, "notified_at": 1_732_870_000,
                "author": { "type": "user", "id": "6762f0d51bb69f9f2193bb7f", "name": "Ada" }, "attachments": [] }] }
        }}
    })
    .to_string()
    .into_bytes()
}

fn zendesk_body() -> Vec<u8> {
    serde_json::json!({
        "type": "zen:event-type:ticket.status_changed", "account_id": 22129848, "id": "cbe4028c-7239-495d-b020-f22348516046",
        "time": "2026-11-29T09:00:00Z", "zendesk_event_version": "2022-11-06", "subject": "zen:ticket:5158",
        "detail": { "actor_id": "8447388090494", "assignee_id": "8447388090494", "brand_id": "8447346621310",
            "created_at": "2026-11-28T16:41:42Z", "description": "x", "external_id": "intercom-conversation-215472621202693",
            "form_id": "8646151517822", "group_id": "8447320466430", "id": "5158", "is_public": true,
            "organization_id": "8447346622462", "priority": "HIGH", "requester_id": "8447388090494", "status": "SOLVED",
            "subject": "Charged twice", "submitter_id": "8447388090494", "tags": ["intercom"], "type": "QUESTION",
            "updated_at": "2026-11-29T09:00:00Z", "via": { "channel": "web_service" } },
        "event": { "current": "SOLVED", "previous": "OPEN" }
    })
    .to_string()
    .into_bytes()
}

/// Accepts every event and keeps nothing (the bench measures the ingress, not a queue).
#[derive(Debug)]
struct NullQueue;

impl Queue for NullQueue {
    async fn send(&self, _job: JobKind, event: &QueuedEvent) -> PortResult<()> {
        black_box(event);
        Ok(())
    }
}

fn ingress() -> Ingress<NullQueue> {
    Ingress::new(
        NullQueue,
        Some(SecretString::from(INTERCOM_SECRET)),
        Some(SecretString::from(ZENDESK_SECRET)),
        JobKind::ALL.into_iter().collect(),
        1024 * 1024,
        Duration::from_secs(300),
        Counters::default(),
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let ingress = ingress();

    let body = intercom_body();
    let mut headers = HeaderMap::new();
    let sig = bridge_intercom::webhook::sign(INTERCOM_SECRET.as_bytes(), &body);
    headers.insert("x-hub-signature", sig.parse().unwrap());
    let mut group = c.benchmark_group("ingress");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("intercom_{}B_verify_parse_classify_enqueue", body.len()), |b| {
        b.iter(|| {
            let req = WebhookRequest { method: &Method::POST, headers: &headers, body: black_box(&body) };
            let reply = rt.block_on(ingress.intercom(req));
            assert_eq!(reply.status, 200);
        })
    });

    let zbody = zendesk_body();
    group.throughput(Throughput::Bytes(zbody.len() as u64));
    group.bench_function(format!("zendesk_{}B_verify_parse_classify_enqueue", zbody.len()), |b| {
        // The timestamp must be fresh for the 5-minute window: signing is per-iteration setup,
        // outside the measured time.
        let signed = || {
            let ts = chrono::Utc::now().to_rfc3339();
            let sig = bridge_zendesk::webhook::sign(ZENDESK_SECRET.as_bytes(), &ts, &zbody);
            let mut h = HeaderMap::new();
            h.insert("x-zendesk-webhook-signature", sig.parse().unwrap());
            h.insert("x-zendesk-webhook-signature-timestamp", ts.parse().unwrap());
            h
        };
        b.iter_batched(
            signed,
            |h| {
                let req = WebhookRequest { method: &Method::POST, headers: &h, body: black_box(&zbody) };
                let reply = rt.block_on(ingress.zendesk(req));
                assert_eq!(reply.status, 200);
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
