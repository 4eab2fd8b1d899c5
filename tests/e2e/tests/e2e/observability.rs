//! Observability end to end: an escalation through the real ingress, SQS on moto and the worker,
//! with every log line captured. The delivery id and the API Gateway trace header are in the
//! ingress's and the worker's lines; vendor calls are counted by status; and no email address,
//! message text or credential appears anywhere in the logs.

use std::time::Duration;

use bridge_e2e::{World, eventually, settle};
use bridge_runtime::testing::LogLines;
use bridge_sim::zendesk::ZendeskSimOptions;
use serde_json::Value;
use tracing_subscriber::util::SubscriberInitExt as _;

const WAIT: Duration = Duration::from_secs(30);
const TRACE: &str = "Root=1-67a2f1c0-5f3e0c2b9d8a7e6f5a4b3c2d";
const BODY_TEXT: &str = "Our confidential invoice 4711 is wrong";

fn lines(logs: &LogLines) -> Vec<Value> {
    logs.text().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

#[tokio::test]
async fn an_escalation_logs_ids_and_trace_counts_vendor_calls_and_leaks_nothing() {
    let logs = LogLines::default();
    // The bridge's own crates at debug (stricter than production's info); the simulators'
    // logs are not the bridge's and stay out.
    let filter = "info,bridge_sim=off,bridge_runtime=debug,bridge_jobs=debug,bridge_intercom=debug,\
                  bridge_zendesk=debug,bridge_aws=debug,bridge_domain=debug";
    // This test's thread only (the other tests of the binary run beside it): the world's
    // tasks run on this test's single-threaded runtime. The subscriber is the Lambdas' own.
    let (filter, unreadable) = bridge_runtime::telemetry::filter_from(Some(filter));
    assert!(unreadable.is_none(), "{unreadable:?}");
    let _logging = bridge_runtime::telemetry::lambda_subscriber(filter, logs.clone()).set_default();
    // With exactly one registered dispatcher, tracing-core decides a log site's interest from
    // the default of whichever thread reaches the site first: another test's thread (no
    // subscriber) would cache "never" for the ingress's and workers' sites. A second registered
    // dispatcher, the default of no thread, makes it ask every registered one.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    tracing::callsite::rebuild_interest_cache();

    let world = World::start().await.unwrap();
    let conv = world.intercom.customer_starts_conversation(&world.seeded.customer, BODY_TEXT).unwrap();
    world.intercom.customer_replies(&conv, "It charges us twice.").unwrap();
    // Capture the tag webhook and deliver it ourselves, as API Gateway would, with a trace header.
    world.intercom.set_webhook_target(None);
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let tag_event =
        world.intercom.notifications().into_iter().rfind(|n| n.topic == "conversation_part.tag.created").unwrap();
    let delivery_id = serde_json::from_str::<Value>(&tag_event.raw).unwrap()["id"].as_str().unwrap().to_string();
    let url = world.bridge_url();
    world.intercom.set_webhook_target(Some(format!("{url}/webhooks/intercom")));
    let secret = world.intercom.client_secret();
    let body = tag_event.raw.clone().into_bytes();
    let resp = bridge_sim::http_client()
        .post(format!("{url}/webhooks/intercom"))
        .header("content-type", "application/json")
        .header("x-hub-signature", bridge_intercom::webhook::sign(secret.as_bytes(), &body))
        .header("x-amzn-trace-id", TRACE)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);

    let external = format!("intercom-conversation-{conv}");
    eventually(WAIT, "the ticket", || world.tickets().iter().any(|t| t["external_id"].as_str() == Some(&external)))
        .await
        .unwrap();
    settle(Duration::from_millis(1500), WAIT, || world.tickets().len()).await.unwrap();
    let ticket = world.tickets().into_iter().find(|t| t["external_id"].as_str() == Some(&external)).unwrap();
    assert!(ticket["comments"][0].to_string().contains("confidential invoice"), "the transcript went to Zendesk");

    // Vendor calls by status, flushed after each batch.
    let counters = world.bridge.as_ref().unwrap().app.counters.snapshot();
    for vendor in ["intercom", "zendesk"] {
        let calls: u64 = counters
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("VendorCalls{{Vendor={vendor},Status=2")))
            .map(|(_, n)| n)
            .sum();
        assert!(calls > 0, "no successful {vendor} calls counted: {counters:?}");
    }

    let captured = lines(&logs);
    assert!(!captured.is_empty());
    // The ingress logs the delivery id and the trace header.
    assert!(
        captured.iter().any(|l| l["fields"]["message"] == "queued"
            && l["fields"]["delivery_id"] == delivery_id.as_str()
            && l["fields"]["trace_id"] == TRACE),
        "no ingress line with the delivery id and trace"
    );
    // The worker's span carries both through the queue.
    assert!(
        captured.iter().flat_map(|l| l["spans"].as_array().cloned().unwrap_or_default()).any(|span| span["name"]
            == "job"
            && span["delivery_id"] == delivery_id.as_str()
            && span["trace_id"] == TRACE
            && span["job"] == "escalate"),
        "no worker line with the delivery id and trace in its span"
    );

    // Nothing personal or secret, anywhere.
    let text = logs.text();
    let zd = ZendeskSimOptions::default();
    let forbidden = [
        "ada@acme.example".to_string(),
        "alex@example.com".to_string(),
        "bridge-bot@example.com".to_string(),
        "confidential invoice".to_string(),
        "charges us twice".to_string(),
        world.intercom.access_token(),
        secret.clone(),
        zd.api_token.clone(),
        zd.webhook_secret.clone(),
    ];
    for needle in &forbidden {
        assert!(!needle.is_empty());
        assert!(!text.contains(needle.as_str()), "the logs contain {needle:?}");
    }
    assert!(!text.contains('@'), "an email address in the logs");
}
