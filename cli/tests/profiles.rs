//! `bridge backfill profiles` and `bridge reconcile profiles` against moto and the simulators.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use bridge_e2e::backfill::{email, world};

fn bridge(world: &bridge_e2e::World, config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(world.env())
        .env("BRIDGE_CONFIG", config)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn users(world: &bridge_e2e::World) -> Vec<serde_json::Value> {
    world.zendesk.dump()["users"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_pauses_resumes_and_reconcile_repairs() {
    let world = world(250).await.unwrap();
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), &world.config_text).unwrap();

    // One page, then stop: resumable.
    let out = bridge(&world, cfg.path(), &["backfill", "profiles", "--max-pages", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("backfill paused"), "{}", text(&out));
    assert!(text(&out).contains("100 contacts read"), "{}", text(&out));
    let half = users(&world).len();

    // The rest, from the stored cursor.
    let out = bridge(&world, cfg.path(), &["backfill", "profiles"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("backfill finished: 251 contacts read, 251 written"), "{}", text(&out));
    assert!(text(&out).contains("2 page(s) this run"), "{}", text(&out));
    let all = users(&world);
    assert!(all.len() >= half + 150);
    for i in [0, 99, 100, 249] {
        assert!(all.iter().any(|u| u["email"] == email(i).as_str()), "contact {i} backfilled");
    }

    // Nothing left: a third run does nothing.
    let out = bridge(&world, cfg.path(), &["backfill", "profiles"]);
    assert!(text(&out).contains("0 page(s) this run"), "{}", text(&out));

    // A Zendesk edit the bridge never heard of (its workers are off) is repaired by reconcile.
    let user = all.iter().find(|u| u["email"] == email(7).as_str()).unwrap();
    // (A minute later than the seeding, so newest-wins is not a tie on this first sync.)
    world.zendesk.advance_clock(60);
    let input = bridge_sim::zendesk::UserInput { phone: Some("+44 20 7946 0007".into()), ..Default::default() };
    world.zendesk.edit_user(world.seeded.zendesk_agent, user["id"].as_u64().unwrap(), input).unwrap();
    let out = bridge(&world, cfg.path(), &["reconcile", "profiles"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("reconciled profiles:"), "{}", text(&out));
    let contact_id = user["user_fields"]["intercom_contact_id"].as_str().unwrap().to_string();
    let contact = world.intercom.contact(&contact_id).unwrap();
    assert_eq!(contact.phone.as_deref(), Some("+44 20 7946 0007"));
}
