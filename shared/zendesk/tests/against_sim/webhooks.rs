//! Signed webhooks (event-subscribed and trigger-connected) for changes made through the API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_domain::ids::{TicketId, UserId};
use bridge_domain::model::TicketStatus;
use bridge_zendesk::webhook::{self, Change, ZendeskEvent};
use bridge_zendesk::{CommentWrite, TicketWrite};

use super::{SECRET, TRIGGER_SECRET, client, end_user, sim, ticket_body};

/// Webhooks the test receiver got: (headers, raw body).
type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body.to_vec()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

async fn wait_for(got: &Received, n: usize) -> Vec<(axum::http::HeaderMap, Vec<u8>)> {
    for _ in 0..100 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    got.lock().unwrap().clone()
}

#[tokio::test]
async fn api_changes_emit_signed_webhooks() {
    let sim = sim().await;
    let zd = client(&sim);
    let (url, got) = receiver().await;
    sim.set_webhook_target(Some(url));
    sim.set_trigger_webhooks(true);
    let ada = end_user(&sim, "Ada", "ada@example.com"); // user.created
    let id = zd.create_ticket(&ticket_body("Hook", ada, "intercom:conv:h"), "kh").await.unwrap().ticket.id; // created + trigger
    zd.update_ticket(
        id,
        &TicketWrite {
            status: Some("open".into()),
            comment: Some(CommentWrite { body: Some("hello".into()), public: true, ..CommentWrite::default() }),
            ..TicketWrite::default()
        },
    )
    .await
    .unwrap(); // status + comment + trigger

    let received = wait_for(&got, 6).await;
    assert!(received.len() >= 6, "got {}", received.len());
    let mut types = Vec::new();
    for (headers, body) in &received {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let trigger = serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.get("type").is_none());
        let wrong = if trigger { SECRET } else { TRIGGER_SECRET };
        assert!(
            webhook::verify_signature(
                wrong.as_bytes(),
                h(webhook::TIMESTAMP_HEADER),
                body,
                h(webhook::SIGNATURE_HEADER),
                chrono::Utc::now(),
                webhook::DEFAULT_MAX_AGE,
            )
            .is_err(),
            "each webhook signs with its own secret"
        );
        webhook::verify_signature(
            if trigger { TRIGGER_SECRET } else { SECRET }.as_bytes(),
            h(webhook::TIMESTAMP_HEADER),
            body,
            h(webhook::SIGNATURE_HEADER),
            chrono::Utc::now(),
            webhook::DEFAULT_MAX_AGE,
        )
        .unwrap();
        assert!(h(webhook::INVOCATION_HEADER).is_some() && h(webhook::WEBHOOK_ID_HEADER).is_some());
        match webhook::parse_event(body).unwrap() {
            ZendeskEvent::Subscribed(e) => {
                if e.name().starts_with("ticket.") {
                    assert_eq!(e.actor_id, UserId::new(sim.api_user_id()).ok(), "API writes carry the API user");
                    assert_eq!(e.ticket.as_ref().and_then(|t| t.via_channel.as_deref()), Some("web_service"));
                }
                if let Change::CommentAdded(c) = &e.change {
                    assert_eq!(c.body.as_deref(), Some("hello"));
                    assert!(c.is_public);
                }
                types.push(e.name().to_string());
            }
            ZendeskEvent::Trigger(t) => {
                assert_eq!(t.ticket_id, TicketId::new(id).unwrap());
                assert_eq!(t.updated_by, UserId::new(sim.api_user_id()).ok());
                types.push("trigger".into());
            }
        }
    }
    for expected in ["user.created", "ticket.created", "ticket.status_changed", "ticket.comment_added", "trigger"] {
        assert!(types.iter().any(|t| t == expected), "missing {expected} in {types:?}");
    }
    // Hand-made changes are attributed to the agent, not the API user.
    let agent = sim.add_agent("Grace", "grace@example.com").unwrap();
    let before = got.lock().unwrap().len();
    sim.set_status(agent, id, "solved").unwrap();
    let received = wait_for(&got, before + 3).await;
    let agent_events: Vec<_> = received[before..]
        .iter()
        .filter_map(|(_, b)| match webhook::parse_event(b) {
            Ok(ZendeskEvent::Subscribed(e)) if e.name() == "ticket.status_changed" => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(agent_events.len(), 1);
    assert_eq!(agent_events[0].actor_id, UserId::new(agent).ok());
    assert_eq!(
        agent_events[0].change,
        Change::StatusChanged { previous: Some(TicketStatus::Open), current: Some(TicketStatus::Solved) }
    );
}
