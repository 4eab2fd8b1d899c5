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

/// `BRIDGE_CONFIG` (or `--file`) may name several files or a folder: their sections merge,
/// and the six shipped templates combine as shipped; a clash names both files and lines.
#[test]
fn several_config_files_or_a_folder_merge_and_a_clash_names_both_files() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/config");
    let out = bridge(None, None, &["config", "check", "--json", "--file", root]);
    assert!(out.status.success(), "{}", text(&out));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["valid"], true, "{verdict}");

    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        "version: 1\nintercom:\n  bot_admin_id: \"9\"\nescalation:\n  rules: [{ name: t, when: { tag_added: x } }]\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "version: 1\nintercom:\n  bot_admin_id: \"9\"\nticket_status: { on: { solved: { conversation: close } } }\n",
    )
    .unwrap();
    let both = format!("{},{}", a.display(), b.display());
    let out = bridge(None, None, &["config", "check", "--file", &both]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(&b, "version: 1\n\nintercom:\n  bot_admin_id: \"7\"\n").unwrap();
    let out = bridge(None, None, &["config", "check", "--file", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("intercom.bot_admin_id") && t.contains("a.yaml line 3") && t.contains("b.yaml line 4"), "{t}");
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

    // Without a terminal to confirm on, a real replay needs --yes.
    let out = bridge(Some(&world), Some(config.path()), &["dlq", "replay"]);
    assert!(!out.status.success(), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no terminal to confirm on") && err.contains("--yes"), "{err}");
    assert!(world.tickets().is_empty(), "refused: nothing replayed");

    let out = bridge(Some(&world), Some(config.path()), &["dlq", "replay", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 replayed, 0 left"), "{}", text(&out));
    assert_eq!(world.tickets().len(), 1);

    let out = bridge(Some(&world), Some(config.path()), &["dlq", "replay", "--yes"]);
    assert!(text(&out).contains("0 replayed, 0 left"), "the DLQ is empty now: {}", text(&out));
    assert_eq!(world.tickets().len(), 1, "never duplicated");

    let ticket = world.tickets()[0]["id"].as_u64().unwrap();
    let out = bridge(Some(&world), Some(config.path()), &["links", "show", &conv]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("ticket #{ticket}")), "{}", text(&out));
    let out = bridge(Some(&world), Some(config.path()), &["links", "show", &format!("ticket:{ticket}")]);
    assert!(text(&out).contains(&format!("conversation {conv}")), "{}", text(&out));
    let link = stdout_json(&bridge(Some(&world), Some(config.path()), &["links", "show", &conv, "--json"]));
    assert_eq!(link["ticket_id"].as_u64(), Some(ticket), "{link}");
    assert_eq!(link["conversation_id"].as_str(), Some(conv.as_str()), "{link}");
}

/// Stdout as one JSON document (nothing else on it), after a successful run.
fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", text(out)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_results_go_to_stdout_and_logs_to_stderr() {
    let mut world = World::start().await.unwrap();
    world.stop_bridge().await;
    let config = config_file(&world);
    let letter = DeadLetter {
        job: JobKind::TagSync,
        reason: "zendesk: temporarily unavailable".into(),
        attempts: 5,
        failed_at: "2026-11-29T00:00:00Z".into(),
        body: "{not an event".into(),
    };
    world.queue.dead_letter(&letter).await.unwrap();

    // Debug logs on (the AWS SDK logs plenty): stdout still holds the result alone.
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bridge"));
        cmd.args(args).envs(world.env()).env("BRIDGE_CONFIG", config.path()).env("RUST_LOG", "debug");
        cmd.output().unwrap()
    };
    let out = run(&["dlq", "list", "--json"]);
    let listed = stdout_json(&out);
    assert_eq!(listed["total"], 1, "{listed}");
    let tag_sync = listed["jobs"].as_array().unwrap().iter().find(|j| j["job"] == "tag-sync").unwrap();
    assert_eq!(tag_sync["letters"][0]["attempts"], 5, "{listed}");
    assert_eq!(tag_sync["letters"][0]["reason"], "zendesk: temporarily unavailable");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logs: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!logs.is_empty(), "debug logs on stderr");
    assert!(
        logs.iter().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.get("level").is_some())),
        "stderr is not a terminal: JSON log lines\n{stderr}"
    );
    let out = run(&["--log-format", "text", "dlq", "list", "--json"]);
    stdout_json(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().any(|l| l.contains("DEBUG")), "{stderr}");
    assert!(stderr.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_err()), "text logs: {stderr}");

    let doctor = run(&["doctor", "--json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&doctor.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&doctor)));
    assert!(!doctor.status.success(), "the dead letter fails a check: {}", text(&doctor));
    assert!(report["failed"].as_u64() >= Some(1), "{report}");
    let checks = report["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["check"] == "intercom credentials" && c["ok"] == true), "{report}");
    assert!(checks.iter().any(|c| c["check"] == "queue tag-sync" && c["ok"] == false), "{report}");
    assert!(report["notes"][0].as_str().unwrap().starts_with("intercom webhook"), "{report}");

    let checked = stdout_json(&run(&["config", "check", "--json"]));
    assert_eq!(checked["valid"], true, "{checked}");
    assert!(checked["escalation_rules"].as_u64().is_some(), "{checked}");
}

#[test]
fn config_check_json_names_the_error() {
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "version: 1\nintercom:\n  bot_admin_id: \"1\"\n  colour: blue\n").unwrap();
    let out = bridge(None, None, &["config", "check", "--json", "--file", bad.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let verdict: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(verdict["valid"], false);
    assert!(verdict["error"].as_str().unwrap().contains("line 4"), "{verdict}");
}

#[test]
fn completions_are_printed_and_a_mistyped_command_gets_a_suggestion() {
    for shell in ["bash", "zsh", "fish"] {
        let out = bridge(None, None, &["completions", shell]);
        assert!(out.status.success(), "{}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("bridge") && script.contains("replay") && script.contains("json"), "{shell}: {script}");
    }
    let out = bridge(None, None, &["dlq", "lsit"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("similar subcommand exists: 'list'"), "{err}");
    assert!(!err.contains('\u{1b}'), "no colour when stderr is not a terminal: {err}");
    // Colour where asked for (a terminal, or CLICOLOR_FORCE as here).
    let out =
        Command::new(env!("CARGO_BIN_EXE_bridge")).args(["dlq", "lsit"]).env("CLICOLOR_FORCE", "1").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("\u{1b}["), "coloured: {}", text(&out));
}
