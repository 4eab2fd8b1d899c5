//! Signing and sending the simulator's webhooks.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::Shared;
use super::state::OutEvent;

/// base64(HMAC-SHA256(secret, timestamp || body)), the secret used as given.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn envelope(shared: &Shared, event_type: &str, subject: &str, detail: Value, event: Value, version: &str) -> Value {
    json!({
        "type": format!("zen:event-type:{event_type}"),
        "account_id": shared.account_id,
        "id": uuid::Uuid::new_v4().to_string(),
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "zendesk_event_version": version,
        "subject": subject,
        "detail": detail,
        "event": event,
    })
}

/// Signs and sends every queued event (fire-and-forget). Outside a Tokio runtime nothing is
/// sent, because the sink delivers on a spawned task.
pub fn send_all(shared: &Shared, events: Vec<OutEvent>) {
    if events.is_empty() || tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    for e in events {
        let (topic, body, secret) = match e {
            OutEvent::Subscribed { event_type, subject, detail, event, version } => {
                let topic = format!("zen:event-type:{event_type}");
                let body = envelope(shared, &event_type, &subject, detail, event, version);
                (topic, body, &shared.options.webhook_secret)
            }
            // The trigger-connected webhook is another webhook, with its own signing secret.
            OutEvent::Trigger(body) => ("trigger".to_string(), body, &shared.options.trigger_webhook_secret),
        };
        let bytes = body.to_string().into_bytes();
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let headers = vec![
            ("x-zendesk-account-id".to_string(), shared.account_id.to_string()),
            ("x-zendesk-webhook-id".to_string(), shared.webhook_id.clone()),
            ("x-zendesk-webhook-invocation-id".to_string(), uuid::Uuid::new_v4().simple().to_string()),
            ("x-zendesk-webhook-signature-timestamp".to_string(), timestamp.clone()),
            ("x-zendesk-webhook-signature".to_string(), signature(secret.as_bytes(), &timestamp, &bytes)),
        ];
        shared.sink.emit(&shared.gate, &topic, bytes, headers);
    }
}
