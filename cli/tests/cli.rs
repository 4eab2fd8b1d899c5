//! The `bridge` command against moto and the simulators, as an operator runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use bridge_domain::event::QueuedEvent;
use bridge_domain::model::Timestamp;
use bridge_domain::routing::JobKind;
use bridge_e2e::World;
use bridge_runtime::driver::{DeadLetter, MessageControl};

fn bridge(world: Option<&World>, config: Option<&std::path::Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bridge"));
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    if let Some(w) = world {
        cmd.envs(w.env());
    }
    if let Some(c) = config {
        cmd.env("BRIDGE_CONFIG", c);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn config_file(world: &World) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), &world.config_text).unwrap();
    f
}

#[test]
fn config_check_accepts_every_example_and_names_the_line_of_an_error() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/config");
    let mut checked = 0;
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let out = bridge(None, None, &["config", "check", "--file", path.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {}", path.display(), text(&out));
            checked += 1;
        }
    }
    assert!(checked >= 1);
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "version: 1\nintercom:\n  bot_admin_id: \"1\"\n  colour: blue\n").unwrap();
    let out = bridge(None, None, &["config", "check", "--file", bad.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("line 4"), "{}", text(&out));
}

#[test]
fn missing_environment_is_named_and_exits_non_zero() {
    let out = bridge(None, None, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("INTERCOM_CLIENT_SECRET"), "{}", text(&out));
    let out = bridge(None, None, &["init"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("BRIDGE_TABLE"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_creates_the_table_and_every_queue() {
    let mut world = World::start().await.unwrap();
    world.stop_bridge().await;
    let mut env = world.env();
    env.retain(|(k, _)| k != "BRIDGE_TABLE" && k != "BRIDGE_QUEUE_PREFIX");
    let out = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .arg("init")
        .envs(env)
        .env("BRIDGE_TABLE", "fresh-table")
        .env("BRIDGE_QUEUE_PREFIX", "fresh")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let ddb = bridge_aws::sdk::dynamodb::Client::new(&world.sdk);
    ddb.describe_table().table_name("fresh-table").send().await.unwrap();
    let sqs = bridge_aws::sdk::sqs::Client::new(&world.sdk);
    for job in JobKind::ALL {
        for name in [format!("fresh-{}.fifo", job.as_str()), format!("fresh-{}-dlq.fifo", job.as_str())] {
            sqs.get_queue_url().queue_name(&name).send().await.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_on_a_healthy_setup_and_names_what_is_wrong() {
    let mut world = World::start().await.unwrap();
    world.stop_bridge().await;
    let config = config_file(&world);
    // A healthy setup includes the Zendesk webhook (`bridge setup zendesk`, tests/setup.rs).
    let out = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["setup", "zendesk", "--url", "https://bridge.example/webhooks/zendesk", "--secret-id", "doctor-test"])
        .envs(world.env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = bridge(Some(&world), Some(config.path()), &["doctor"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("all checks passed"));

    let out = Command::new(env!("CARGO_BIN_EXE_bridge"))
        .arg("doctor")
        .envs(world.env())
        .env("BRIDGE_CONFIG", config.path())
        .env("ZENDESK_API_TOKEN", "wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.lines().any(|l| l.starts_with("FAIL zendesk credentials")), "{t}");
    assert!(t.lines().any(|l| l.starts_with("ok   intercom credentials")), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_replay_shows_the_plan_then_replays_once_and_links_show_prints_the_link() {
    let mut world = World::start().await.unwrap();
    world.stop_bridge().await;
    let config = config_file(&world);
    let conv = world.intercom.customer_starts_conversation(&world.seeded.customer, "Escalate me").unwrap();
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    // A dead letter from an earlier failure (say, Zendesk was down for hours).
    let event = QueuedEvent {
        vendor: bridge_domain::event::Vendor::Intercom,
        delivery_id: "notif_dead".into(),
        topic: "conversation_part.tag.created".into(),
        entity: format!("conversation:{conv}").parse().unwrap(),
        received_at: Timestamp(0),
        payload: serde_json::Value::Null,
        trace_id: None,
        actors: Vec::new(),
    };
    let letter = DeadLetter {
        job: JobKind::Escalate,
        reason: "zendesk: temporarily unavailable".into(),
        attempts: 5,
        failed_at: "2026-11-29T00:00:00Z".into(),
        body: serde_json::to_string(&event).unwrap(),
    };
    world.queue.dead_letter(&letter).await.unwrap();

    let out = bridge(Some(&world), Some(config.path()), &["dlq", "list"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("conversation:{conv}")) && text(&out).contains("1 in all"), "{}", text(&out));

    let out = bridge(Some(&world), Some(config.path()), &["dlq", "replay", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("create_ticket"), "the plan shows the ticket: {}", text(&out));
    assert!(world.tickets().is_empty(), "dry run writes nothing");

    let out = bridge(Some(&world), Some(config.path()), &["dlq", "replay"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 replayed, 0 left"), "{}", text(&out));
    assert_eq!(world.tickets().len(), 1);

    let out = bridge(Some(&world), Some(config.path()), &["dlq", "replay"]);
    assert!(text(&out).contains("0 replayed, 0 left"), "the DLQ is empty now: {}", text(&out));
    assert_eq!(world.tickets().len(), 1, "never duplicated");

    let ticket = world.tickets()[0]["id"].as_u64().unwrap();
    let out = bridge(Some(&world), Some(config.path()), &["links", "show", &conv]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("ticket #{ticket}")), "{}", text(&out));
    let out = bridge(Some(&world), Some(config.path()), &["links", "show", &format!("ticket:{ticket}")]);
    assert!(text(&out).contains(&format!("conversation {conv}")), "{}", text(&out));
}
