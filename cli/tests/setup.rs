//! `bridge setup zendesk` and the webhook lines of `bridge doctor`, against the Zendesk
//! simulator and moto's Secrets Manager.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use bridge_e2e::World;
use bridge_sim::zendesk::ZendeskSimOptions;

const URL: &str = "https://bridge.example/webhooks/zendesk";
const SECRET_ID: &str = "bridge-test/vendor-credentials";

fn bridge(world: &World, config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(world.env())
        .env("BRIDGE_CONFIG", config)
        .env("BRIDGE_SECRET_ID", SECRET_ID)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_zendesk_is_idempotent_stores_the_signing_secret_and_doctor_checks_the_webhook() {
    let mut world = World::start().await.unwrap();
    world.stop_bridge().await;
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), &world.config_text).unwrap();
    // The stack's secret, with placeholders and other keys that must survive.
    let sm = bridge_aws::sdk::secretsmanager::Client::new(&world.sdk);
    sm.create_secret()
        .name(SECRET_ID)
        .secret_string(r#"{"intercom_access_token":"keep-me","zendesk_webhook_secret":"CHANGE_ME"}"#)
        .send()
        .await
        .unwrap();

    // Before setup: doctor names the missing webhook and says what to check for Intercom.
    let out = bridge(&world, config.path(), &["doctor"]);
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.lines().any(|l| l.starts_with("FAIL zendesk webhook") && l.contains("bridge setup zendesk")), "{t}");
    let intercom = t.lines().find(|l| l.starts_with("note intercom webhook")).unwrap_or_else(|| panic!("{t}"));
    assert!(intercom.contains("/webhooks/intercom") && intercom.contains("contact.deleted"), "{intercom}");

    for run in 0..2 {
        let out = bridge(&world, config.path(), &["setup", "zendesk", "--url", URL, "--triggers"]);
        assert!(out.status.success(), "run {run}: {}", text(&out));
        if run == 0 {
            assert!(text(&out).contains("secret bridge-test/vendor-credentials: updated"), "{}", text(&out));
        } else {
            assert!(
                !text(&out).contains(": created") && !text(&out).contains(": updated"),
                "second run: {}",
                text(&out)
            );
        }
    }
    let (webhooks, triggers) = world.zendesk.with_state(|st| (st.setup.webhooks.clone(), st.setup.triggers.clone()));
    let events: Vec<_> = webhooks.iter().filter(|w| w["subscriptions"].as_array().unwrap().len() > 1).collect();
    assert_eq!(events.len(), 1, "one event webhook: {webhooks:?}");
    assert_eq!(events[0]["endpoint"], URL);
    let subs = events[0]["subscriptions"].as_array().unwrap();
    for e in [
        "ticket.created",
        "ticket.status_changed",
        "ticket.comment_added",
        "ticket.tags_changed",
        "ticket.merged",
        "user.deleted",
    ] {
        assert!(subs.iter().any(|s| s == &format!("zen:event-type:{e}")), "{e} not subscribed");
    }
    assert_eq!(webhooks.len(), 2, "plus one trigger-connected webhook");
    assert_eq!(triggers.len(), 2, "one set of triggers: {triggers:?}");
    let bodies: Vec<String> =
        triggers.iter().map(|t| t["actions"][0]["value"][1].as_str().unwrap_or_default().to_string()).collect();
    assert!(bodies.iter().any(|b| b.contains("\"kind\":\"ticket_created\"")), "{bodies:?}");
    assert!(bodies.iter().any(|b| b.contains("\"kind\":\"ticket_trigger\"")), "{bodies:?}");

    let stored = sm.get_secret_value().secret_id(SECRET_ID).send().await.unwrap();
    let stored: serde_json::Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    assert_eq!(stored["zendesk_webhook_secret"], ZendeskSimOptions::default().webhook_secret);
    assert_eq!(stored["intercom_access_token"], "keep-me");

    // After setup: the webhook line is ok and every check passes.
    let out = bridge(&world, config.path(), &["doctor"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.lines().any(|l| l.starts_with("ok   zendesk webhook")), "{t}");

    // A webhook someone deactivated by hand is named.
    world.zendesk.with_state(|st| {
        for w in &mut st.setup.webhooks {
            w["status"] = "inactive".into();
        }
    });
    let out = bridge(&world, config.path(), &["doctor"]);
    assert!(
        text(&out).lines().any(|l| l.starts_with("FAIL zendesk webhook") && l.contains("inactive")),
        "{}",
        text(&out)
    );
}
