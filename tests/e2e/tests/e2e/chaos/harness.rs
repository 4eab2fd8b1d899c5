//! The chaos harness: vendor events captured through the real ingress, runs with a crash then
//! redeliveries until acknowledged, and the invariants the tests assert.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::{ConversationId, TicketId};
use bridge_domain::ports::{PortResult, Queue, Store};
use bridge_domain::routing::JobKind;
use bridge_e2e::{World, bot_parts, comments_containing, tickets_for};
use bridge_runtime::driver::{Disposition, process};
use bridge_runtime::ingress::{Ingress, WebhookRequest};
use bridge_runtime::metrics::Counters;
use bridge_sim::zendesk::ZendeskSimOptions;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::SECTIONS;
use super::injection::{CrashPorts, NoDeadLetters, Plan};

/// A queue that keeps what the ingress sends.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(JobKind, QueuedEvent)>>>);

impl Queue for Capture {
    async fn send(&self, job: JobKind, event: &QueuedEvent) -> PortResult<()> {
        self.0.lock().unwrap().push((job, event.clone()));
        Ok(())
    }
}

/// A world whose simulators' webhooks are captured (no bridge running): every vendor change
/// becomes queued events through the real ingress, handed to the test instead of SQS.
pub(super) struct Chaos {
    pub(super) world: World,
    ingress: Ingress<Capture>,
    capture: Capture,
    seen: usize,
    pub(super) requester: u64,
    pub(super) enterprise_group: u64,
    /// Clock offset for the next redelivery; grows so every redelivery finds leases expired.
    later: i64,
}

impl Chaos {
    pub(super) async fn start() -> Chaos {
        let mut world = World::start().await.unwrap();
        world.stop_bridge().await;
        let enterprise_group = world.zendesk.add_group("Enterprise");
        let general = world.zendesk.add_group("General");
        let text = format!(
            "{}{}",
            world.config_text,
            SECTIONS.replace("{general}", &general.to_string()).replace("{enterprise}", &enterprise_group.to_string())
        );
        world.config = Config::from_yaml(&text).unwrap();
        world.config_text = text;
        let requester = world
            .zendesk
            .add_user(bridge_sim::zendesk::UserInput {
                name: Some("Ada Lovelace".into()),
                email: Some("ada@acme.example".into()),
                external_id: Some("cust-1".into()),
                ..Default::default()
            })
            .unwrap();
        let capture = Capture::default();
        let ingress = Ingress::new(
            capture.clone(),
            Some(SecretString::from(world.intercom.client_secret())),
            Some(SecretString::from(ZendeskSimOptions::default().webhook_secret)),
            JobKind::ALL.into_iter().collect(),
            1024 * 1024,
            Duration::from_secs(300),
            Counters::default(),
        );
        let seen = world.intercom.notifications().len();
        Chaos { world, ingress, capture, seen, requester, enterprise_group, later: 0 }
    }

    /// Every Intercom notification generated since the last call, through the ingress.
    pub(super) async fn intercom_events(&mut self) -> Vec<(JobKind, QueuedEvent)> {
        let all = self.world.intercom.notifications();
        for n in &all[self.seen..] {
            let mut headers = http::HeaderMap::new();
            headers.insert("x-hub-signature", n.signature.parse().unwrap());
            let method = http::Method::POST;
            let reply = self
                .ingress
                .intercom(WebhookRequest { method: &method, headers: &headers, body: n.raw.as_bytes() })
                .await;
            assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        }
        self.seen = all.len();
        std::mem::take(&mut *self.capture.0.lock().unwrap())
    }

    /// A signed Zendesk event about `ticket` (what an event-subscribed webhook sends), through
    /// the ingress.
    pub(super) async fn zendesk_event(&self, kind: &str, ticket: u64, event: Value) -> Vec<(JobKind, QueuedEvent)> {
        let t = self.world.zendesk.ticket(ticket).unwrap();
        let body = json!({
            "type": format!("zen:event-type:{kind}"), "account_id": 1, "id": uuid::Uuid::new_v4().to_string(),
            "time": chrono::Utc::now().to_rfc3339(), "zendesk_event_version": "2022-11-06",
            "subject": format!("zen:ticket:{ticket}"),
            "detail": { "id": ticket.to_string(), "status": t["status"].as_str().unwrap_or("open").to_uppercase(),
                        "requester_id": t["requester_id"].as_u64().unwrap_or(0).to_string(),
                        "external_id": t["external_id"].clone(), "subject": t["subject"].clone(),
                        "via": { "channel": t["via"]["channel"].clone() } },
            "event": event,
        })
        .to_string()
        .into_bytes();
        let secret = ZendeskSimOptions::default().webhook_secret;
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let sig = bridge_zendesk::webhook::sign(secret.as_bytes(), &ts, &body);
        let mut headers = http::HeaderMap::new();
        headers.insert("x-zendesk-webhook-signature", sig.parse().unwrap());
        headers.insert("x-zendesk-webhook-signature-timestamp", ts.parse().unwrap());
        headers.insert("x-zendesk-webhook-invocation-id", uuid::Uuid::new_v4().simple().to_string().parse().unwrap());
        let method = http::Method::POST;
        let reply = self.ingress.zendesk(WebhookRequest { method: &method, headers: &headers, body: &body }).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        std::mem::take(&mut *self.capture.0.lock().unwrap())
    }

    /// Processes `event` without faults, redelivering (later each time) until acknowledged.
    async fn deliver(&mut self, job: JobKind, event: &QueuedEvent) {
        let body = serde_json::to_string(event).unwrap();
        for _ in 0..6 {
            let ports = CrashPorts::new(&self.world, &Plan::never(), self.later);
            match process(&ports.ports(), &NoDeadLetters, job, &body, &Counters::default()).await {
                Disposition::Ack(_) => return,
                Disposition::Retry { .. } => self.later += 600,
                other => panic!("{job:?} {}: {other:?}", event.topic),
            }
        }
        panic!("{job:?} {} was never acknowledged", event.topic);
    }

    /// Runs `event` once with a crash at call `n` (made or not per `after`); then redelivers it
    /// until acknowledged. Returns the crash (None once the run completed without reaching
    /// call `n`).
    pub(super) async fn crash_then_recover(
        &mut self,
        job: JobKind,
        event: &QueuedEvent,
        n: usize,
        after: bool,
    ) -> Option<Crash> {
        let plan = Plan::new(n, after);
        let ports = CrashPorts::new(&self.world, &plan, self.later);
        let body = serde_json::to_string(event).unwrap();
        let first = process(&ports.ports(), &NoDeadLetters, job, &body, &Counters::default()).await;
        if !plan.fired() {
            assert!(matches!(first, Disposition::Ack(_)), "{job:?} without a crash: {first:?}");
            return None;
        }
        let crash = Crash { step: plan.step_name(n), previous: if n == 0 { "" } else { plan.step_name(n - 1) }, after };
        assert!(
            !matches!(first, Disposition::DeadLetter(_)),
            "{job:?}: a crash at step {n} ({crash:?}) must be retried, not dead-lettered: {first:?}"
        );
        self.later += 600;
        self.deliver(job, event).await;
        Some(crash)
    }
}

/// Where a run died.
#[derive(Debug, Clone)]
pub(super) struct Crash {
    step: &'static str,
    previous: &'static str,
    after: bool,
}

/// Intercom writes with no idempotency key and no marker the bridge can look for (a reply, a
/// message, or a close carrying the status message, all seen by the customer). DESIGN.md's one
/// accepted window: the write was made and its answer lost (the worker died before recording
/// it), so a retry repeats it.
const UNMARKED_WRITES: [&str; 3] = ["intercom.reply", "intercom.send_message", "intercom.change_conversation"];

impl Crash {
    /// True when this crash is in that window.
    fn lost_an_unmarked_write(&self) -> bool {
        (self.after && UNMARKED_WRITES.contains(&self.step))
            || (!self.after && UNMARKED_WRITES.contains(&self.previous))
    }
}

/// Asserts one effect, or two only when the crash lost the answer of an unmarked write.
pub(super) fn assert_once_or_window(count: usize, crash: Option<&Crash>, what: &str, windows: &mut Vec<String>) {
    match crash {
        Some(c) if count == 2 && c.lost_an_unmarked_write() => windows.push(format!("{what}: {c:?}")),
        _ => assert_eq!(count, 1, "{what}: exactly once ({crash:?})"),
    }
}

pub(super) fn only(events: Vec<(JobKind, QueuedEvent)>, job: JobKind, topic: &str) -> QueuedEvent {
    let mut found: Vec<QueuedEvent> =
        events.into_iter().filter(|(j, e)| *j == job && e.topic.ends_with(topic)).map(|(_, e)| e).collect();
    assert!(!found.is_empty(), "no {job:?} event with topic {topic}");
    found.pop().unwrap()
}

/// The escalation invariants: one ticket, the link both ways, one note with the URL, the
/// attribute written back.
pub(super) async fn assert_escalated_once(world: &World, conv: &str, what: &str) -> u64 {
    let tickets = tickets_for(world, conv);
    assert_eq!(tickets.len(), 1, "{what}: exactly one ticket");
    let id = tickets[0]["id"].as_u64().unwrap();
    assert_eq!(comments_containing(world, id, "conversation parts retrieved"), 1, "{what}: one transcript");
    let store = bridge_aws::DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(&world.sdk), world.table.clone());
    let link = store.link_by_conversation(&ConversationId::parse(conv).unwrap()).await.unwrap();
    assert_eq!(link.map(|l| l.ticket_id.get()), Some(id), "{what}: link by conversation");
    let back = store.link_by_ticket(TicketId::new(id).unwrap()).await.unwrap();
    assert_eq!(back.map(|l| l.conversation_id.as_str().to_string()), Some(conv.to_string()), "{what}: link by ticket");
    assert_eq!(bot_parts(world, conv, "note", &format!("/agent/tickets/{id}")), 1, "{what}: one note");
    let c = world.intercom.conversation(conv).unwrap();
    assert_eq!(
        c.custom_attributes.get("zendesk_ticket_id").and_then(Value::as_str),
        Some(id.to_string().as_str()),
        "{what}: attribute"
    );
    id
}

/// A conversation escalated (without faults); returns (conversation, ticket id).
pub(super) async fn escalated(ch: &mut Chaos, body: &str) -> (String, u64) {
    let s = ch.world.seeded.clone();
    let conv = ch.world.intercom.customer_starts_conversation(&s.customer, body).unwrap();
    ch.world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    let event = only(ch.intercom_events().await, JobKind::Escalate, "tag.created");
    ch.deliver(JobKind::Escalate, &event).await;
    let id = assert_escalated_once(&ch.world, &conv, "setup").await;
    ch.intercom_events().await; // the bridge's own writes
    (conv, id)
}
