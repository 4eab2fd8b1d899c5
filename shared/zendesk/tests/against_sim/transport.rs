//! Transport: incremental exports and their budget, retries of 429s and 5xx, authentication.

use std::time::Duration;

use bridge_sim::Faults;
use bridge_zendesk::{Auth, ExportStart, ZendeskClient, ZendeskConfig, ZendeskError};
use serde_json::{Value, json};

use super::{EMAIL, client, count_requests, end_user, sim, ticket_body};

#[tokio::test]
async fn incremental_exports_follow_cursors_to_end_of_stream() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    for i in 0..5 {
        zd.create_ticket(&ticket_body(&format!("T{i}"), ada, "x"), &format!("k{i}")).await.unwrap();
    }
    let start = chrono::Utc::now().timestamp() - 3600;
    let first = zd.export_tickets(&ExportStart::StartTime(start), Some(2)).await.unwrap();
    assert_eq!(first.items.len(), 5);
    assert!(first.end_of_stream);
    let cursor = first.after_cursor.clone().unwrap();

    sim.advance_clock(5);
    zd.create_ticket(&ticket_body("Later", ada, "x"), "k-later").await.unwrap();
    let next = zd.export_tickets(&ExportStart::Cursor(cursor), Some(2)).await.unwrap();
    assert_eq!(next.items.len(), 1);
    assert_eq!(next.items[0].subject.as_deref(), Some("Later"));

    let users = zd.export_users(&ExportStart::StartTime(start), Some(1)).await.unwrap();
    assert_eq!(users.items.len(), 2, "API user and Ada");
    assert!(users.end_of_stream);
}

#[tokio::test]
async fn incremental_budget_is_separate_and_answers_json_429() {
    let sim = sim().await;
    let zd = client(&sim);
    sim.set_incremental_rate_limit(1);
    let start = chrono::Utc::now().timestamp() - 3600;
    zd.export_users(&ExportStart::StartTime(start), None).await.unwrap();
    let err = zd.export_users(&ExportStart::StartTime(start), None).await.unwrap_err();
    assert!(matches!(err, ZendeskError::RateLimited { .. }));
    let last = sim.exchanges().into_iter().last().unwrap();
    assert_eq!(last.status, 429);
    assert_eq!(
        last.response_body.as_ref().and_then(|b| b.get("error")).and_then(Value::as_str),
        Some("APIRateLimitExceeded")
    );
    // The account budget is untouched.
    zd.show_user(sim.api_user_id()).await.unwrap();
}

#[tokio::test]
async fn short_429_and_5xx_are_retried_long_429_is_returned() {
    let sim = sim().await;
    let zd = client(&sim);

    sim.set_faults(Faults { rate_limit_next: 1, ..Faults::default() });
    zd.me().await.unwrap();
    assert_eq!(sim.gate().throttled_count(), 1);
    let exchanges = sim.exchanges();
    assert_eq!(exchanges[0].status, 429);
    assert!(!exchanges[0].modelled);
    assert_eq!(exchanges[0].response_body, Some(json!("Number of allowed API requests per minute exceeded")));
    assert_eq!(exchanges[1].status, 200);

    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    zd.me().await.unwrap();
    assert_eq!(count_requests(&sim, "GET", "/api/v2/users/me"), 5);

    let snap = zd.last_rate_limit().unwrap();
    assert_eq!(snap.limit, Some(700));
    assert!(snap.remaining.is_some_and(|r| r < 700));

    // A budget of one request: the next call waits ~a minute, which goes back to the caller.
    sim.set_rate_limit(1);
    zd.me().await.unwrap();
    let err = zd.me().await.unwrap_err();
    let ZendeskError::RateLimited { retry_after } = err else { panic!("{err:?}") };
    assert!(retry_after > Duration::from_secs(3));
}

#[tokio::test]
async fn bearer_auth_json_suffix_and_bad_credentials() {
    let sim = sim().await;
    let oauth = ZendeskClient::new(ZendeskConfig {
        base_url: sim.base_url().parse().unwrap(),
        auth: Auth::OAuth { token: "sim-oauth-token".into() },
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    assert_eq!(oauth.me().await.unwrap().id, sim.api_user_id());

    let wrong = ZendeskClient::new(ZendeskConfig {
        base_url: sim.base_url().parse().unwrap(),
        auth: Auth::ApiToken { email: EMAIL.into(), token: "nope".into() },
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    assert!(matches!(wrong.me().await, Err(ZendeskError::Permanent { status: 401, .. })));

    let resp = bridge_sim::http_client()
        .get(format!("{}/api/v2/users/me.json", sim.base_url()))
        .bearer_auth("sim-oauth-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-rate-limit-remaining"));
}
