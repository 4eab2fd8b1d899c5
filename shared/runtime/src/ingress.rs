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
            // Routine (the bridge's own writes come back as webhooks): counted, logged at DEBUG only.
            tracing::debug!(vendor = vendor.as_str(), topic, delivery_id, "event not handled by any deployed job");
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
mod tests;
