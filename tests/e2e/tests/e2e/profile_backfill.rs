//! Job 2's bulk backfill end to end: Intercom contacts into Zendesk through the real clients,
//! with both simulators rate limited and the shared budgets in DynamoDB (moto).
//!
//! Scale: the 10,000 contacts (`BACKFILL_CONTACTS` changes it). The limits are scaled
//! down so the test stays short while the shared budget still has to pace: Intercom 6 requests
//! per 2 s, Zendesk 20 per 3 s, below the unpaced speed of the backfill (one bulk write per page,
//! and a poll round of every job in flight per `MAX_PENDING` / 2 pages or so). The
//! 100,000-contact run at the vendors' real limits is the benchmark (`make bench`,
//! docs/BENCHMARKS.md).

use std::time::Duration;

use bridge_e2e::backfill::{Scenario, run, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backfill_of_10k_contacts_stays_under_the_limits_loses_nothing_and_resumes_after_a_kill() {
    let contacts: usize = std::env::var("BACKFILL_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let world = world(contacts).await.unwrap();
    let s = Scenario {
        contacts,
        intercom_limit: std::env::var("BACKFILL_IC_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(6),
        intercom_window: Duration::from_secs(2),
        zendesk_limit: std::env::var("BACKFILL_ZD_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(20),
        zendesk_window: Duration::from_secs(3),
        kill_after_pages: Some(10),
        headroom: 0.1,
    };
    let m = run(&world, &s).await.unwrap();
    eprintln!(
        "backfill: {:?} for {} pages; {} intercom + {} zendesk calls, {} answered 429 ({:.3} %); floor {:?} (x{:.2}); report {:?}",
        m.elapsed,
        m.pages,
        m.intercom_calls,
        m.zendesk_calls,
        m.throttled,
        m.throttled_ratio() * 100.0,
        m.floor,
        m.floor_ratio(),
        m.report.state
    );
    assert_eq!(m.missing, 0, "every contact has a Zendesk user");
    let st = &m.report.state;
    assert_eq!(st.read, contacts as u64 + 1, "the seeded contacts and the world's customer, each read once");
    assert_eq!((st.written, st.skipped, st.failed), (st.read, 0, 0), "{st:?}");
    assert!(m.throttled_ratio() < 0.01, "{} of {} calls answered 429", m.throttled, m.intercom_calls + m.zendesk_calls);
    // Killed after 10 pages, restarted: at most one page fetched (and written) again.
    assert!(m.searches as u64 <= m.pages + 1, "{} searches for {} pages", m.searches, m.pages);
    assert!(m.bulk_writes as u64 <= m.pages + 1, "{} bulk writes for {} pages", m.bulk_writes, m.pages);
    assert!(m.report.pages_this_run < m.pages, "the second run resumed from the stored cursor");
    // The jobs in flight are polled together (`job_statuses/show_many`), only when no more can be
    // submitted: about one Zendesk call a page, not three (a bulk write and two single polls).
    let exchanges = world.zendesk.exchanges();
    let single_polls = exchanges.iter().filter(|e| e.path.starts_with("/api/v2/job_statuses/V3-")).count();
    let poll_rounds = exchanges.iter().filter(|e| e.path == "/api/v2/job_statuses/show_many").count();
    assert_eq!(single_polls, 0, "no job polled on its own");
    let per_page = m.zendesk_calls as f64 / m.pages as f64;
    assert!(per_page <= 1.25, "{} Zendesk calls ({poll_rounds} poll rounds) for {} pages", m.zendesk_calls, m.pages);
    // The plan flowed too (dropdown value checked against the options).
    let users = world.zendesk.dump()["users"].as_array().cloned().unwrap();
    let u7 = users.iter().find(|u| u["email"] == "bf7@example.test").unwrap();
    assert_eq!(u7["user_fields"]["plan"], "pro");
    assert!(u7["user_fields"]["intercom_contact_id"].as_str().is_some_and(|s| !s.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_backfill_hands_over_to_the_next_run_through_the_function_queue() {
    use bridge_domain::routing::JobKind;
    use bridge_runtime::drift_alerts::SnsDriftAlerts;
    use bridge_runtime::schedules::{CommandRun, ProfileCommand, ProfileSyncInput, run_profile_sync};

    let contacts = 150;
    let world = world(contacts).await.unwrap();
    let app = world.app().unwrap();
    let alerts = SnsDriftAlerts::new(&app.counters, &world.sdk, None);
    // A run whose deadline has come: it pauses after the page in progress.
    let run = CommandRun { stop_at: Some(std::time::Instant::now()), headroom: 0.1 };
    let first =
        run_profile_sync(&app, &alerts, ProfileSyncInput::Command(ProfileCommand::Backfill), run).await.unwrap();
    assert_eq!(first["end"], "paused", "{first}");

    // It left the continuation on profile-sync's own queue, where the event source mapping
    // finds it at once.
    let handed = app.queue.receive(JobKind::ProfileSync, 10, 1).await.unwrap();
    assert_eq!(handed.len(), 1, "one continuation message");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&handed[0].body).unwrap()["action"], "backfill-continue");

    // The function takes it from its SQS batch, with a person's event beside it, and runs the
    // backfill to the end; a finished run hands nothing over.
    let person = serde_json::json!({
        "vendor": "intercom", "delivery_id": "notif_person", "topic": "contact.user.updated",
        "entity": "contact:unknown-contact", "received_at": 1, "payload": null
    });
    let records: Vec<serde_json::Value> = [
        (handed[0].message_id.clone(), handed[0].body.clone(), "profile-sync:backfill"),
        ("m-person".to_string(), person.to_string(), "contact:unknown-contact"),
    ]
    .iter()
    .map(|(id, body, group)| {
        serde_json::json!({"messageId": id, "receiptHandle": format!("r-{id}"), "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": group}})
    })
    .collect();
    let batch = serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
    let run = CommandRun { stop_at: None, headroom: 0.1 };
    let answer = run_profile_sync(&app, &alerts, ProfileSyncInput::Batch(batch), run).await.unwrap();
    let failures = answer["batchItemFailures"].as_array().cloned().unwrap_or_default();
    assert!(
        failures.iter().all(|f| f["itemIdentifier"] != handed[0].message_id.as_str()),
        "the continuation succeeded: {answer}"
    );
    let users = world.zendesk.dump()["users"].as_array().cloned().unwrap();
    let missing =
        (0..contacts).filter(|i| !users.iter().any(|u| u["email"] == bridge_e2e::backfill::email(*i).as_str())).count();
    assert_eq!(missing, 0, "the continuation finished the backfill");
    assert!(app.queue.receive(JobKind::ProfileSync, 10, 1).await.unwrap().is_empty(), "nothing more handed over");
}
