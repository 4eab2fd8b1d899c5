//! Ingress cost per event, through the same `Ingress` the Lambdas use, in two shapes:
//!
//! - `ingress_as_deployed/*`: the handler as `intercom-webhook` and `zendesk-webhook` run it:
//!   signature check, parse, classify, the fan-out filtered by a shipped configuration
//!   (`infra/config/`, through the `ConfigHolder` the Lambda builds from `BRIDGE_CONFIG`), each
//!   queued event serialised to JSON with its message group and deduplication ids exactly as
//!   `SqsQueue::send_traced` builds its `SendMessage` (only the network call is left out), the
//!   log line at INFO (the JSON subscriber as `telemetry::init` builds it, filtered by the template's
//!   `RUST_LOG`, written to /dev/null), and the request's EMF metric documents
//!   (`Ingress::after_request` -> `Counters::flush`, each document line written to /dev/null
//!   as the stdout sink writes it).
//! - `ingress/*` (the earlier bench, kept for comparison): no configuration, a queue that drops
//!   the event unserialised, no subscriber, metrics off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::hint::black_box;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::event::QueuedEvent;
use bridge_domain::ports::{PortResult, Queue};
use bridge_domain::routing::JobKind;
use bridge_runtime::ingress::{Ingress, WebhookRequest};
use bridge_runtime::metrics::{Counters, Flush};
use bridge_runtime::reload::ConfigHolder;
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

/// What `SqsQueue::send_traced` builds for each send, without the network call: the body
/// (`serde_json::to_string` of the event), the message group id and the deduplication id.
#[derive(Debug, Default)]
struct SerialisingQueue {
    sends: AtomicU64,
    bytes: AtomicU64,
}

impl Queue for SerialisingQueue {
    async fn send(&self, job: JobKind, event: &QueuedEvent) -> PortResult<()> {
        let body = serde_json::to_string(event).unwrap();
        let group = bridge_aws::message_group_id(&event.entity.to_string());
        let dedup = bridge_aws::deduplication_id(job, event);
        self.sends.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        black_box((body, group, dedup));
        Ok(())
    }
}

/// `RUST_LOG` as `infra/template.yaml` sets it (Globals, `LogLevel` INFO, the default).
const DEPLOYED_RUST_LOG: &str = "INFO,aws_config=warn,aws_smithy_runtime=warn,hyper_util=warn,rustls=warn";

/// A shipped configuration: `infra/config/<name>`.
fn shipped(name: &str) -> Config {
    let path = format!("{}/../../infra/config/{name}", env!("CARGO_MANIFEST_DIR"));
    Config::from_yaml(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The ingress as `build_ingress` makes it for the Lambda (every job's queue deployed, the
/// configuration holder, metrics flushed per request), its metric documents captured so the
/// bench writes them where stdout would take them.
fn deployed(config: Config, service: &str) -> (Ingress<SerialisingQueue>, Arc<Mutex<Vec<String>>>) {
    let (counters, docs) = Counters::capturing(Flush::PerRun);
    let ingress = Ingress::new(
        SerialisingQueue::default(),
        Some(SecretString::from(INTERCOM_SECRET)),
        Some(SecretString::from(ZENDESK_SECRET)),
        JobKind::ALL.into_iter().collect(),
        1024 * 1024,
        Duration::from_secs(300),
        counters.with_service(service),
    )
    .with_config(Arc::new(ConfigHolder::new(config, None, Duration::from_secs(300))));
    (ingress, docs)
}

/// The end of a request as the Lambda handler ends it: `after_request` (the EMF documents),
/// each document written as one line, as `Counters`' stdout sink writes it.
fn end_request(ingress: &Ingress<SerialisingQueue>, docs: &Mutex<Vec<String>>, out: &mut File) {
    ingress.after_request();
    for doc in docs.lock().unwrap().drain(..) {
        out.write_all(format!("{doc}\n").as_bytes()).unwrap();
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
    deployed_benches(c, &rt, &body, &headers, &zbody);
}

/// Signed Zendesk headers with a fresh timestamp (per-iteration setup, outside the timing).
fn zendesk_headers(body: &[u8]) -> HeaderMap {
    let ts = chrono::Utc::now().to_rfc3339();
    let sig = bridge_zendesk::webhook::sign(ZENDESK_SECRET.as_bytes(), &ts, body);
    let mut h = HeaderMap::new();
    h.insert("x-zendesk-webhook-signature", sig.parse().unwrap());
    h.insert("x-zendesk-webhook-signature-timestamp", ts.parse().unwrap());
    h
}

fn deployed_benches(c: &mut Criterion, rt: &tokio::runtime::Runtime, body: &[u8], headers: &HeaderMap, zbody: &[u8]) {
    // The Lambda's subscriber (`telemetry::lambda_subscriber`, as `telemetry::init` installs it),
    // installed only now so the comparison benches above run as before; /dev/null stands for the
    // stdout pipe (one write per line, as on Lambda).
    let devnull = Arc::new(File::create("/dev/null").unwrap());
    let (filter, _) = bridge_runtime::telemetry::filter_from(Some(DEPLOYED_RUST_LOG));
    tracing::subscriber::set_global_default(bridge_runtime::telemetry::lambda_subscriber(filter, devnull)).unwrap();
    let mut out = File::create("/dev/null").unwrap();

    let mut group = c.benchmark_group("ingress_as_deployed");
    // intercom-webhook with the shipped job 1 configuration: the reply is queued for escalate.
    let (intercom, idocs) = deployed(shipped("escalate-conversation-to-zendesk.yaml"), "intercom-webhook");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("intercom_{}B_verify_parse_queue_json_log_metrics", body.len()), |b| {
        b.iter(|| {
            let req = WebhookRequest { method: &Method::POST, headers, body: black_box(body) };
            let reply = rt.block_on(intercom.intercom(req));
            end_request(&intercom, &idocs, &mut out);
            assert_eq!(reply.status, 200);
        })
    });
    report("intercom", &intercom);

    // zendesk-webhook with the shipped job 3 and 6 configuration: the status change is queued.
    let (zendesk, zdocs) = deployed(shipped("sync-ticket-resolution-to-intercom.yaml"), "zendesk-webhook");
    group.throughput(Throughput::Bytes(zbody.len() as u64));
    group.bench_function(format!("zendesk_{}B_verify_parse_queue_json_log_metrics", zbody.len()), |b| {
        b.iter_batched(
            || zendesk_headers(zbody),
            |h| {
                let req = WebhookRequest { method: &Method::POST, headers: &h, body: black_box(zbody) };
                let reply = rt.block_on(zendesk.zendesk(req));
                end_request(&zendesk, &zdocs, &mut out);
                assert_eq!(reply.status, 200);
            },
            BatchSize::SmallInput,
        )
    });
    report("zendesk", &zendesk);
    group.finish();
}

/// What each deployed request sent, so the output says what was measured.
fn report(name: &str, ingress: &Ingress<SerialisingQueue>) {
    let queue = ingress.queue();
    let requests = ingress.counters.get("EventsReceived", ("Vendor", name)).max(1);
    let sends = queue.sends.load(Ordering::Relaxed);
    println!(
        "ingress_as_deployed/{name}: {:.2} queue sends per request, {:.0} B of JSON per send; queued {} of {requests} requests",
        sends as f64 / requests as f64,
        queue.bytes.load(Ordering::Relaxed) as f64 / sends.max(1) as f64,
        ingress.counters.get("EventsQueued", ("Vendor", name)),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
