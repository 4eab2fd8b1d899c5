//! `bridge config check --live` against the simulators: the profile mapping is checked against
//! both live field catalogs (names, types, dropdown options); an error exits non-zero.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use bridge_e2e::World;

const PROFILES: &str = r#"
profiles:
  contacts:
    fields:
      - { intercom: name, zendesk: name }
      - { intercom: custom_attributes.plan, zendesk: user_fields.plan, type: dropdown, options: [free, pro, enterprise] }
      - { intercom: custom_attributes.seats, zendesk: user_fields.seats, type: number }
"#;

fn check(world: &World, config: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridge"))
        .args(["config", "check", "--live", "--file", config.to_str().unwrap()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(world.env())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_check_names_missing_fields_wrong_types_and_options_and_exits_non_zero() {
    let world = World::start_with(|c| format!("{c}{PROFILES}")).await.unwrap();
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), &world.config_text).unwrap();
    world.intercom.seed_data_attribute("contact", "plan", "string", true);
    world.intercom.seed_data_attribute("contact", "zendesk_user_id", "string", true);
    world.zendesk.add_user_field("intercom_contact_id", "Intercom contact", "text");

    // Missing on both sides: `seats` and `plan` do not exist yet in Zendesk, `seats` not in Intercom.
    let out = check(&world, cfg.path());
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("error: zendesk user field user_fields.plan is mapped but does not exist"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("error: intercom contact field custom_attributes.seats is mapped"), "{}", text(&out));

    // Present, but with a wrong type and a dropdown lacking an option.
    world.intercom.seed_data_attribute("contact", "seats", "integer", true);
    world.zendesk.add_user_dropdown("plan", "Plan", &[("Free", "free"), ("Pro", "pro")]);
    world.zendesk.add_user_field("seats", "Seats", "text");
    let out = check(&world, cfg.path());
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("user_fields.seats is mapped as Number but its type is text"), "{t}");
    assert!(t.contains("user_fields.plan lacks the configured option(s) enterprise"), "{t}");
    assert!(!t.contains("does not exist"), "{t}");

    // The mapping fixed (seats dropped, options trimmed): the unmapped fields are only notes.
    let seats = "      - { intercom: custom_attributes.seats, zendesk: user_fields.seats, type: number }\n";
    assert!(world.config_text.contains(seats));
    let fixed =
        world.config_text.replace(seats, "").replace("options: [free, pro, enterprise]", "options: [free, pro]");
    std::fs::write(cfg.path(), fixed).unwrap();
    world.zendesk.add_user_field("shoe_size", "Shoe size", "integer");
    let out = check(&world, cfg.path());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("note: zendesk user field user_fields.shoe_size exists but nothing maps it"), "{t}");
    assert!(t.contains("profile mapping matches both live catalogs"), "{t}");
}

/// Every id and name the config refers to is looked up in both accounts, one line each with
/// what to fix: here a conversation attribute never created, a team and a Zendesk group from
/// another account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_check_names_every_missing_attribute_team_and_group() {
    let world = World::start().await.unwrap();
    let healthy = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(healthy.path(), &world.config_text).unwrap();
    let out = check(&world, healthy.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ok   conversation attribute zendesk_ticket_id"), "{}", text(&out));

    let slipped = world
        .config_text
        .replace("ticket_url_attribute: zendesk_ticket_url", "ticket_url_attribute: zendesk_link")
        .replace(
            &format!("assigned_to_team: [\"{}\"]", world.seeded.escalations_team),
            "assigned_to_team: [\"999999\"]",
        )
        .replace(&format!("group_id: {}", world.seeded.tier2_group), "group_id: 424242");
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cfg.path(), slipped).unwrap();
    let out = check(&world, cfg.path());
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.lines().any(|l| l.starts_with("FAIL conversation attribute zendesk_link: missing")), "{t}");
    assert!(t.lines().any(|l| l.starts_with("FAIL team 999999: not found")), "{t}");
    assert!(t.lines().any(|l| l.starts_with("FAIL group 424242: not found")), "{t}");
}
