//! The webhook ingress, shared by the `intercom-webhook` / `zendesk-webhook` Lambdas and
//! `bridge serve`: verify the signature over the exact bytes, parse, classify, fan out to the
//! FIFO queue of each job that wants the event, answer fast. No vendor API calls here.
//!
//! Answers: 200 for queued, pings, HEAD and topics nobody handles (counted); 401 for a missing,
//! forged or stale signature; 400 for a body that is not a webhook; 413 for an oversized body;
//! 405 for other methods; 503 only when enqueueing failed, so the vendor retries.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bridge_domain::event::QueuedEvent;
use bridge_domain::event::{Actor, Entity, Vendor};
use bridge_domain::model::{Author, Timestamp};
use bridge_domain::ports::Queue;
use bridge_domain::routing;
use bridge_domain::routing::JobKind;
use bridge_intercom::webhook::{self as intercom_webhook, Subject as IntercomSubject};
use bridge_zendesk::webhook::{self as zendesk_webhook, Subject, ZendeskEvent};
use http::{HeaderMap, Method, StatusCode};

use crate::metrics::Counters;
use crate::reload::ConfigHolder;
use secrecy::{ExposeSecret, SecretString};

/// A webhook request as received: method, headers and the exact body bytes.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// Headers (case-insensitive lookups).
    pub headers: &'a HeaderMap,
    /// The raw body, already base64-decoded when API Gateway encoded it.
    pub body: &'a [u8],
}

/// The ingress's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body: `{"status": "...", "reason": "..."}`.
    pub body: String,
}

impl WebhookReply {
    fn new(status: StatusCode, outcome: &str, reason: &str) -> Self {
        let body = serde_json::json!({ "status": outcome, "reason": reason }).to_string();
        Self { status, body }
    }
}

/// The ingress: secrets, the queue and the jobs deployed.
#[derive(Debug)]
pub struct Ingress<Q> {
    queue: Q,
    intercom_secret: Option<SecretString>,
    zendesk_secret: Option<SecretString>,
    zendesk_trigger_secret: Option<SecretString>,
    jobs: BTreeSet<JobKind>,
    /// The workers' configuration (shared with them in `bridge serve`, loaded from
    /// `BRIDGE_CONFIG` in the Lambda): events are queued only for jobs that will act on them.
    config: Option<Arc<ConfigHolder>>,
    max_body_bytes: usize,
    max_age: Duration,
    /// Counters (events received, queued, unhandled, refused).
    pub counters: Counters,
}

impl<Q> Ingress<Q> {
    /// The queue events are sent to.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Ends a request: writes its metrics (one EMF document per set of dimension values).
    pub fn after_request(&self) {
        self.counters.flush();
    }
}

impl<Q: Queue> Ingress<Q> {
    /// An ingress fanning out to `jobs` (the jobs whose queues exist) through `queue`.
    pub fn new(
        queue: Q,
        intercom_secret: Option<SecretString>,
        zendesk_secret: Option<SecretString>,
        jobs: BTreeSet<JobKind>,
        max_body_bytes: usize,
        max_age: Duration,
        counters: Counters,
    ) -> Self {
        Self {
            queue,
            intercom_secret,
            zendesk_secret,
            zendesk_trigger_secret: None,
            jobs,
            config: None,
            max_body_bytes,
            max_age,
            counters,
        }
    }

    /// Queues only for the jobs that will act on an event as far as `config` tells (see
    /// [`routing::acts_on`]: configured, and not the bot's own change for job 1). The holder is
    /// read again after its time to live, like the workers'.
    pub fn with_config(mut self, config: Arc<ConfigHolder>) -> Self {
        self.config = Some(config);
        self
    }

    fn precheck(&self, req: &WebhookRequest<'_>, vendor: Vendor) -> Option<WebhookReply> {
        let vendor = vendor.as_str();
        if req.method == Method::HEAD || req.method == Method::GET {
            // Intercom validates the URL with HEAD; GET answers the same for humans.
            return Some(WebhookReply::new(StatusCode::OK, "ok", "webhook endpoint"));
        }
        if req.method != Method::POST {
            return Some(WebhookReply::new(StatusCode::METHOD_NOT_ALLOWED, "refused", "use POST"));
        }
        self.counters.incr("EventsReceived", ("Vendor", vendor));
        if req.body.len() > self.max_body_bytes {
            self.counters.incr("EventsRefused", ("Vendor", vendor));
            return Some(WebhookReply::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "refused",
                &format!("body larger than {} bytes", self.max_body_bytes),
            ));
        }
        None
    }

    fn refuse(&self, vendor: Vendor, status: StatusCode, reason: &str) -> WebhookReply {
        let vendor = vendor.as_str();
        self.counters.incr("EventsRefused", ("Vendor", vendor));
        tracing::warn!(vendor, status = status.as_u16(), reason, "webhook refused");
        WebhookReply::new(status, "refused", reason)
    }

    /// Handles an Intercom webhook.
    pub async fn intercom(&self, req: WebhookRequest<'_>) -> WebhookReply {
        const VENDOR: Vendor = Vendor::Intercom;
        if let Some(reply) = self.precheck(&req, VENDOR) {
            return reply;
        }
        let Some(secret) = &self.intercom_secret else {
            return self.refuse(VENDOR, StatusCode::UNAUTHORIZED, "intercom webhooks are not configured");
        };
        let signature = header(req.headers, "x-hub-signature");
        if let Err(e) = intercom_webhook::verify_signature(secret.expose_secret().as_bytes(), req.body, signature) {
            return self.refuse(VENDOR, StatusCode::UNAUTHORIZED, &format!("signature: {e}"));
        }
        // Parsed once: a light view of the JSON routes the event, the JSON is what gets queued.
        let parsed = intercom_webhook::parse_json(req.body)
            .and_then(|json| intercom_webhook::delivery_from_json(&json).map(|d| (d, json)));
        let (delivery, json) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                return self.refuse(VENDOR, StatusCode::BAD_REQUEST, &format!("not an Intercom notification: {e}"));
            }
        };
        if delivery.subject == IntercomSubject::Ping {
            return WebhookReply::new(StatusCode::OK, "ok", "pong");
        }
        let Some(delivery_id) = delivery.id.as_ref().map(|d| d.to_string()) else {
            return self.refuse(VENDOR, StatusCode::BAD_REQUEST, "notification has no id");
        };
        let (entity, actors) = match delivery.subject {
            IntercomSubject::Conversation { id, event_authors } => {
                (Some(Entity::Conversation(id)), intercom_actors(&event_authors))
            }
            IntercomSubject::Contact(id) | IntercomSubject::ContactTag(Some(id)) => {
                (Some(Entity::Contact(id)), Vec::new())
            }
            IntercomSubject::Company(id) => (Some(Entity::Company(id)), Vec::new()),
            IntercomSubject::Ping | IntercomSubject::ContactTag(None) | IntercomSubject::Other => (None, Vec::new()),
        };
        let read = Read { topic: delivery.topic, delivery_id, entity, actors, payload: json };
        self.fan_out(VENDOR, read, &req).await
    }

    /// Also accepts Zendesk deliveries signed with the trigger-connected webhook's secret.
    pub fn with_zendesk_trigger_secret(mut self, secret: Option<SecretString>) -> Self {
        self.zendesk_trigger_secret = secret;
        self
    }

    /// Handles a Zendesk webhook (event-subscribed or trigger-built).
    pub async fn zendesk(&self, req: WebhookRequest<'_>) -> WebhookReply {
        const VENDOR: Vendor = Vendor::Zendesk;
        if let Some(reply) = self.precheck(&req, VENDOR) {
            return reply;
        }
        let Some(secret) = &self.zendesk_secret else {
            return self.refuse(VENDOR, StatusCode::UNAUTHORIZED, "zendesk webhooks are not configured");
        };
        let verify = |secret: &SecretString| {
            zendesk_webhook::verify_signature(
                secret.expose_secret().as_bytes(),
                header(req.headers, "x-zendesk-webhook-signature-timestamp"),
                req.body,
                header(req.headers, "x-zendesk-webhook-signature"),
                chrono::Utc::now(),
                self.max_age,
            )
        };
        // Each Zendesk webhook has its own secret: the event-subscribed one, else the trigger one.
        let verified = verify(secret).or_else(|e| match &self.zendesk_trigger_secret {
            Some(trigger) => verify(trigger).map_err(|_| e),
            None => Err(e),
        });
        if let Err(e) = verified {
            return self.refuse(VENDOR, StatusCode::UNAUTHORIZED, &format!("signature: {e}"));
        }
        let parsed = zendesk_webhook::parse_json(req.body)
            .and_then(|json| zendesk_webhook::event_from_json(&json).map(|e| (e, json)));
        let (event, json) = match parsed {
            Ok(parsed) => parsed,
            // Signed by Zendesk, so not an attack: a trigger whose body carries no ticket id.
            // A 4xx would count toward Zendesk's circuit breaker and is never retried.
            Err(e) => {
                self.counters.incr("EventsUnhandled", ("Vendor", VENDOR.as_str()));
                tracing::warn!(vendor = VENDOR.as_str(), reason = %e, "signed Zendesk webhook without a ticket id; ignored");
                return WebhookReply::new(StatusCode::OK, "ignored", &format!("no ticket id in the body: {e}"));
            }
        };
        let invocation = header(req.headers, "x-zendesk-webhook-invocation-id").map(str::to_string);
        let (topic, delivery_id, entity) = match &event {
            ZendeskEvent::Subscribed(e) => {
                let entity = match &e.subject {
                    Subject::Ticket(id) => Some(Entity::Ticket(*id)),
                    Subject::User(id) => Some(Entity::User(*id)),
                    Subject::Organization(id) => Some(Entity::Organization(*id)),
                    Subject::Other(_) => None,
                };
                (e.event_type.clone(), Some(e.id.clone()), entity)
            }
            ZendeskEvent::Trigger(t) => {
                // The "Ticket is Created" trigger's body says so in `kind` (see zendesk::webhook).
                let topic = if t.is_creation() { "trigger.ticket_created" } else { "trigger" };
                (topic.to_string(), invocation, Some(Entity::Ticket(t.ticket_id)))
            }
        };
        // Without an invocation id, the signature names this delivery (it covers the body and
        // its timestamp), so a retry of it is deduplicated.
        let signature = header(req.headers, "x-zendesk-webhook-signature").map(|s| format!("sig:{s}"));
        let Some(delivery_id) = delivery_id.filter(|d| !d.is_empty()).or(signature) else {
            return self.refuse(VENDOR, StatusCode::BAD_REQUEST, "no event id or invocation id");
        };
        let actors: Vec<Actor> = event.actor_id().map(Actor::Zendesk).into_iter().collect();
        self.fan_out(VENDOR, Read { topic, delivery_id, entity, actors, payload: json }, &req).await
    }

    async fn fan_out(&self, vendor: Vendor, read: Read, req: &WebhookRequest<'_>) -> WebhookReply {
        let Read { topic, delivery_id, entity, actors, payload } = read;
        let jobs = routing::jobs(vendor, &topic);
        // API Gateway's X-Ray header, carried to the worker so its logs join the ingress's.
        let trace_id = header(req.headers, "x-amzn-trace-id").filter(|t| t.len() <= 256).map(str::to_string);
        let config = match &self.config {
            Some(holder) => Some(holder.refresh(&self.counters).await),
            None => None,
        };
        let deployed = jobs.iter().copied().filter(|j| self.jobs.contains(j));
        let configured: Vec<JobKind> =
            deployed.filter(|j| config.as_ref().is_none_or(|c| routing::configured(c, *j))).collect();
        let wanted: Vec<JobKind> = configured
            .iter()
            .copied()
            .filter(|j| config.as_ref().is_none_or(|c| routing::acts_on(c, *j, vendor, &actors)))
            .collect();
        // The bridge's own change coming back: counted where the worker would have counted it.
        for job in configured.iter().filter(|j| !wanted.contains(j)) {
            self.counters.incr("LoopsSuppressed", ("Job", job.as_str()));
        }
        let Some(entity) = entity.filter(|_| !wanted.is_empty()) else {
            self.counters.incr("EventsUnhandled", ("Vendor", vendor.as_str()));
            tracing::info!(vendor = vendor.as_str(), topic, delivery_id, "event not handled by any deployed job");
            return WebhookReply::new(StatusCode::OK, "ignored", "no job handles this event");
        };
        let event = QueuedEvent {
            vendor,
            delivery_id,
            topic,
            entity,
            received_at: Timestamp(chrono::Utc::now().timestamp()),
            payload,
            trace_id,
            actors,
        };
        let sends = wanted.iter().map(|job| self.queue.send(*job, &event));
        let results = futures::future::join_all(sends).await;
        if let Some(e) = results.iter().find_map(|r| r.as_ref().err()) {
            self.counters.incr("EnqueueFailed", ("Vendor", vendor.as_str()));
            let (topic, delivery_id) = (&event.topic, &event.delivery_id);
            tracing::error!(vendor = vendor.as_str(), topic, delivery_id, error = %e, "could not enqueue; asking the vendor to retry");
            return WebhookReply::new(StatusCode::SERVICE_UNAVAILABLE, "retry", "could not enqueue");
        }
        self.counters.incr("EventsQueued", ("Vendor", vendor.as_str()));
        tracing::info!(
            vendor = vendor.as_str(),
            topic = event.topic,
            delivery_id = event.delivery_id,
            entity = %event.entity,
            trace_id = event.trace_id.as_deref().unwrap_or(""),
            jobs = wanted.len(),
            "queued"
        );
        WebhookReply::new(StatusCode::OK, "queued", &event.topic)
    }
}

/// What the ingress read from a verified webhook body.
struct Read {
    topic: String,
    delivery_id: String,
    /// The entity the event is about (its FIFO message group), when a job handles that kind.
    entity: Option<Entity>,
    actors: Vec<Actor>,
    /// The body's JSON, queued as is.
    payload: serde_json::Value,
}

/// The authors of the parts an Intercom conversation event is about (`admin:<id>`, `user:<id>`, …);
/// empty when a part's author is unknown, so nothing is taken for the bridge's own by mistake.
/// The authors of the event's parts; none at all when one of them has no id (the loop guard
/// then cannot tell, and the event goes through).
fn intercom_actors(authors: &[Author]) -> Vec<Actor> {
    let mut actors = Vec::with_capacity(authors.len());
    for author in authors {
        let Some(id) = author.id.as_deref().filter(|id| !id.is_empty()) else {
            return Vec::new();
        };
        actors.push(Actor::Intercom { role: author.role, id: id.to_string() });
    }
    actors
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::testing::RecordingQueue;

    const SECRET: &str = "s3cret";

    fn ingress() -> Ingress<RecordingQueue> {
        Ingress::new(
            RecordingQueue::default(),
            Some(SecretString::from(SECRET)),
            Some(SecretString::from("zd-secret")),
            [JobKind::Escalate, JobKind::TicketStatus].into_iter().collect(),
            64 * 1024,
            Duration::from_secs(300),
            Counters::default(),
        )
    }

    fn notification(topic: &str, id: &str) -> Vec<u8> {
        serde_json::json!({
            "type": "notification_event", "id": id, "topic": topic, "app_id": "app1",
            "created_at": 1_700_000_000, "delivery_attempts": 1, "first_sent_at": 1_700_000_000,
            "data": { "type": "notification_event_data", "item": {
                "type": "conversation", "id": "777", "created_at": 1_700_000_000, "updated_at": 1_700_000_000,
                "open": true, "state": "open", "priority": "none", "admin_assignee_id": null, "team_assignee_id": null,
                "contacts": { "type": "contact.list", "contacts": [{ "type": "contact", "id": "c1" }] },
                "source": { "type": "conversation", "id": "s1", "delivered_as": "customer_initiated", "body": "hi",
                            "author": { "type": "user", "id": "c1" } },
                "conversation_parts": { "type": "conversation_part.list", "conversation_parts": [], "total_count": 0 }
            }}
        })
        .to_string()
        .into_bytes()
    }

    /// A `conversation.admin.noted` notification whose new part was written by `admin`.
    fn note_by(admin: &str, id: &str) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(&notification("conversation.admin.noted", id)).unwrap();
        v["data"]["item"]["conversation_parts"] = serde_json::json!({
            "type": "conversation_part.list", "total_count": 1,
            "conversation_parts": [{ "type": "conversation_part", "id": "p9", "part_type": "note", "body": "<p>x</p>",
                                     "created_at": 1_700_000_000, "author": { "type": "admin", "id": admin } }]
        });
        v.to_string().into_bytes()
    }

    async fn post(i: &Ingress<RecordingQueue>, body: &[u8], sig: Option<String>) -> WebhookReply {
        let mut headers = HeaderMap::new();
        if let Some(s) = sig {
            headers.insert("x-hub-signature", s.parse().unwrap());
        }
        i.intercom(WebhookRequest { method: &Method::POST, headers: &headers, body }).await
    }

    fn sign(body: &[u8]) -> Option<String> {
        Some(intercom_webhook::sign(SECRET.as_bytes(), body))
    }

    #[tokio::test]
    async fn head_answers_ok_without_a_signature() {
        let i = ingress();
        let reply = i.intercom(WebhookRequest { method: &Method::HEAD, headers: &HeaderMap::new(), body: b"" }).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(i.queue.count(), 0);
    }

    #[tokio::test]
    async fn escalation_topic_is_queued_with_entity_and_delivery_id() {
        let i = ingress();
        let body = notification("conversation_part.tag.created", "notif_1");
        let reply = post(&i, &body, sign(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let sent = i.queue.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, JobKind::Escalate);
        assert_eq!(sent[0].1.entity.to_string(), "conversation:777");
        assert_eq!(sent[0].1.delivery_id, "notif_1");
        assert_eq!(sent[0].1.trace_id, None);
    }

    #[tokio::test]
    async fn the_bots_own_note_is_not_queued_for_escalation_but_a_teammates_is() {
        let deployed: BTreeSet<JobKind> = [JobKind::Escalate, JobKind::TagSync].into_iter().collect();
        let config = bridge_domain::Config::from_yaml(
            "version: 1\nintercom: { bot_admin_id: '1' }\nescalation: { rules: [{ name: t, when: { tag_added: x } }] }\ntag_sync: { map: {} }\n",
        )
        .unwrap();
        let ingress = Ingress::new(
            RecordingQueue::default(),
            Some(SecretString::from(SECRET)),
            None,
            deployed,
            64 * 1024,
            Duration::from_secs(300),
            Counters::default(),
        )
        .with_config(Arc::new(ConfigHolder::fixed(config)));
        let jobs = |i: &Ingress<RecordingQueue>| -> Vec<JobKind> {
            i.queue.sent.lock().unwrap().iter().map(|(j, _)| *j).collect()
        };
        let own = note_by("1", "notif_own");
        assert_eq!(post(&ingress, &own, sign(&own)).await.status, StatusCode::OK);
        assert_eq!(jobs(&ingress), vec![JobKind::TagSync], "job 1 would drop the bot's own note");
        assert_eq!(ingress.counters.get("LoopsSuppressed", ("Job", "escalate")), 1);
        let mate = note_by("7", "notif_mate");
        assert_eq!(post(&ingress, &mate, sign(&mate)).await.status, StatusCode::OK);
        assert_eq!(jobs(&ingress), vec![JobKind::TagSync, JobKind::Escalate, JobKind::TagSync]);
    }

    #[tokio::test]
    async fn events_are_queued_only_for_jobs_the_shared_configuration_enables() {
        let deployed: BTreeSet<JobKind> = [JobKind::Escalate, JobKind::TagSync].into_iter().collect();
        let mk = |yaml: &str| {
            let config = bridge_domain::Config::from_yaml(yaml).unwrap();
            Ingress::new(
                RecordingQueue::default(),
                Some(SecretString::from(SECRET)),
                None,
                deployed.clone(),
                64 * 1024,
                Duration::from_secs(300),
                Counters::default(),
            )
            .with_config(Arc::new(ConfigHolder::fixed(config)))
        };
        let body = notification("conversation_part.tag.created", "notif_1");
        let escalation_only = mk(
            "version: 1\nintercom: { bot_admin_id: '1' }\nescalation: { rules: [{ name: t, when: { tag_added: x } }] }\n",
        );
        assert_eq!(post(&escalation_only, &body, sign(&body)).await.status, StatusCode::OK);
        let jobs: Vec<JobKind> = escalation_only.queue.sent.lock().unwrap().iter().map(|(j, _)| *j).collect();
        assert_eq!(jobs, vec![JobKind::Escalate], "tag sync is deployed but not configured");

        let nothing = mk("version: 1\nintercom: { bot_admin_id: '1' }\n");
        let reply = post(&nothing, &body, sign(&body)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains("ignored"), "{}", reply.body);
        assert_eq!(nothing.queue.count(), 0);
    }

    #[tokio::test]
    async fn the_api_gateway_trace_header_travels_with_the_event() {
        let i = ingress();
        let body = notification("conversation_part.tag.created", "notif_t");
        let mut headers = HeaderMap::new();
        headers.insert("x-hub-signature", sign(&body).unwrap().parse().unwrap());
        headers.insert("x-amzn-trace-id", "Root=1-5759e988-bd862e3fe1be46a994272793".parse().unwrap());
        let reply = i.intercom(WebhookRequest { method: &Method::POST, headers: &headers, body: &body }).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let sent = i.queue.sent.lock().unwrap().clone();
        assert_eq!(sent[0].1.trace_id.as_deref(), Some("Root=1-5759e988-bd862e3fe1be46a994272793"));
    }

    #[tokio::test]
    async fn authors_of_the_event_parts_travel_as_actors() {
        let i = ingress();
        let mut v: serde_json::Value =
            serde_json::from_slice(&notification("conversation.admin.noted", "notif_5")).unwrap();
        v["data"]["item"]["conversation_parts"]["conversation_parts"] = serde_json::json!([{
            "type": "conversation_part", "id": "p1", "part_type": "note", "body": "<p>n</p>",
            "created_at": 1_700_000_001, "author": { "type": "admin", "id": "7" }
        }]);
        let body = v.to_string().into_bytes();
        let reply = post(&i, &body, sign(&body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let sent = i.queue.sent.lock().unwrap().clone();
        assert_eq!(sent[0].1.actors.iter().map(ToString::to_string).collect::<Vec<_>>(), ["admin:7"]);
    }

    #[tokio::test]
    async fn unhandled_topic_is_accepted_and_counted() {
        let i = ingress();
        let body = notification("conversation.read", "notif_2");
        let reply = post(&i, &body, sign(&body)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(i.queue.count(), 0);
        assert_eq!(i.counters.get("EventsUnhandled", ("Vendor", "intercom")), 1);
    }

    #[tokio::test]
    async fn enqueue_failure_asks_the_vendor_to_retry() {
        let i = ingress();
        i.queue.failing.store(true, Ordering::SeqCst);
        let body = notification("conversation.user.replied", "notif_3");
        let reply = post(&i, &body, sign(&body)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn bad_input_gets_a_clear_status() {
        let i = ingress();
        let body = notification("conversation.user.replied", "notif_4");
        assert_eq!(post(&i, &body, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(post(&i, &body, Some("sha1=00".into())).await.status, StatusCode::UNAUTHORIZED);
        let junk = b"[1,2,3]".to_vec();
        assert_eq!(post(&i, &junk, sign(&junk)).await.status, StatusCode::BAD_REQUEST);
        let big = vec![b'x'; 65 * 1024];
        assert_eq!(post(&i, &big, sign(&big)).await.status, StatusCode::PAYLOAD_TOO_LARGE);
        let put = i.intercom(WebhookRequest { method: &Method::PUT, headers: &HeaderMap::new(), body: b"" }).await;
        assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(i.queue.count(), 0, "nothing refused is queued");
    }

    #[tokio::test]
    async fn ping_is_answered_and_not_queued() {
        let i = ingress();
        let body = serde_json::json!({"type":"notification_event","id":null,"topic":"ping","app_id":"a",
            "created_at":1,"data":{"type":"notification_event_data","item":{"type":"ping","message":"hi"}}})
        .to_string()
        .into_bytes();
        let reply = post(&i, &body, sign(&body)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(i.queue.count(), 0);
    }

    #[tokio::test]
    async fn zendesk_trigger_webhook_secret_is_accepted_too() {
        let body = br#"{"kind":"ticket_trigger","ticket_id":"5","status":"Solved","updated_by":"7"}"#;
        let ts = chrono::Utc::now().to_rfc3339();
        let headers = |secret: &[u8]| {
            let mut h = HeaderMap::new();
            h.insert("x-zendesk-webhook-signature", zendesk_webhook::sign(secret, &ts, body).parse().unwrap());
            h.insert("x-zendesk-webhook-signature-timestamp", ts.parse().unwrap());
            h.insert("x-zendesk-webhook-invocation-id", "inv-1".parse().unwrap());
            h
        };
        let without = ingress();
        let h = headers(b"trigger-secret");
        let reply = without.zendesk(WebhookRequest { method: &Method::POST, headers: &h, body }).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let with = ingress().with_zendesk_trigger_secret(Some(SecretString::from("trigger-secret")));
        let reply = with.zendesk(WebhookRequest { method: &Method::POST, headers: &h, body }).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let forged = headers(b"neither");
        let reply = with.zendesk(WebhookRequest { method: &Method::POST, headers: &forged, body }).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn a_signed_zendesk_body_of_any_shape_is_never_refused_for_its_shape() {
        let i = ingress();
        let post = |body: &'static [u8], secret: &'static [u8]| {
            let ts = chrono::Utc::now().to_rfc3339();
            let mut h = HeaderMap::new();
            h.insert("x-zendesk-webhook-signature", zendesk_webhook::sign(secret, &ts, body).parse().unwrap());
            h.insert("x-zendesk-webhook-signature-timestamp", ts.parse().unwrap());
            let i = &i;
            async move { i.zendesk(WebhookRequest { method: &Method::POST, headers: &h, body }).await }
        };
        // A body made for another tool: its ticket id under its own key, no invocation id.
        let reply = post(br#"{"ticketId":77,"event":"updated","by":"someone"}"#, b"zd-secret").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let sent = i.queue.sent.lock().unwrap().clone();
        let (jobs, events): (Vec<JobKind>, Vec<_>) = sent.into_iter().unzip();
        assert!(jobs.contains(&JobKind::TicketStatus), "a ticket-changed hint for job 3: {jobs:?}");
        assert_eq!(events[0].topic, "trigger");
        assert_eq!(events[0].entity.to_string(), "ticket:77");
        assert!(events[0].delivery_id.starts_with("sig:"), "{}", events[0].delivery_id);

        // Signed but no ticket id anywhere: answered 200, counted, not queued.
        let queued = i.queue.count();
        let reply = post(br#"{"hello":"world"}"#, b"zd-secret").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains("ignored"), "{}", reply.body);
        assert_eq!(i.queue.count(), queued);
        assert_eq!(i.counters.get("EventsUnhandled", ("Vendor", "zendesk")), 1);

        // Forged stays 401.
        assert_eq!(post(br#"{"ticketId":77}"#, b"forged").await.status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn zendesk_stale_signature_is_refused() {
        let i = ingress();
        let body = br#"{"type":"zen:event-type:ticket.status_changed","account_id":1,"id":"e1","time":"2026-01-01T00:00:00Z","subject":"zen:ticket:5","detail":{"id":"5"},"event":{"current":"SOLVED","previous":"OPEN"}}"#;
        let send = |ts: String| {
            let sig = zendesk_webhook::sign(b"zd-secret", &ts, body);
            let mut h = HeaderMap::new();
            h.insert("x-zendesk-webhook-signature", sig.parse().unwrap());
            h.insert("x-zendesk-webhook-signature-timestamp", ts.parse().unwrap());
            h
        };
        let stale = send((chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339());
        let reply = i.zendesk(WebhookRequest { method: &Method::POST, headers: &stale, body }).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let fresh = send(chrono::Utc::now().to_rfc3339());
        let reply = i.zendesk(WebhookRequest { method: &Method::POST, headers: &fresh, body }).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let sent = i.queue.sent.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, JobKind::TicketStatus);
        assert_eq!(sent[0].1.entity.to_string(), "ticket:5");
        assert!(sent[0].1.actors.is_empty(), "no actor in the payload");
    }
}
