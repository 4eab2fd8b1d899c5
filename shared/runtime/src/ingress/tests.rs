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
