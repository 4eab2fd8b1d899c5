//! Job 2 schema drift end to end: the drift run reads both simulators' live field catalogs, and a
//! new unmapped custom field added in either one raises a report that is counted
//! (`ProfileSchemaDrift`) and published to an SNS topic on moto (read back through an SQS
//! subscription); an unchanged report is not published twice.

use bridge_aws::sdk::{sns, sqs};
use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::profiles::DriftFinding;
use bridge_e2e::World;
use bridge_jobs::profile_sync::alerts::{DriftRun, run_drift};
use bridge_runtime::App;
use bridge_runtime::drift_alerts::{DRIFT_METRIC, SnsDriftAlerts};
use bridge_runtime::reload::ConfigOrigin;
use bridge_runtime::schedules::{CommandRun, ProfileCommand, run_profile_command};
use bridge_runtime::settings::ConfigSource;
use serde_json::Value;

const PROFILES: &str = r#"
profiles:
  contacts:
    fields:
      - { intercom: name, zendesk: name }
      - { intercom: phone, zendesk: phone }
      - { intercom: custom_attributes.plan, zendesk: user_fields.plan, type: dropdown, options: [free, pro, enterprise] }
  companies:
    fields:
      - { intercom: name, zendesk: name }
      - { intercom: plan, zendesk: organization_fields.plan, direction: intercom_to_zendesk }
"#;

/// An SNS topic on moto with an SQS queue subscribed (raw delivery); answers (topic arn, queue url).
async fn topic_with_inbox(world: &World) -> (String, String) {
    let sns = sns::Client::new(&world.sdk);
    let sqs = sqs::Client::new(&world.sdk);
    let topic = sns.create_topic().name(format!("{}-drift", world.prefix)).send().await.unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_string();
    let queue = sqs.create_queue().queue_name(format!("{}-drift-inbox", world.prefix)).send().await.unwrap();
    let queue_url = queue.queue_url().unwrap().to_string();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn = attrs.attributes().unwrap().get(&sqs::types::QueueAttributeName::QueueArn).unwrap().clone();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    (topic_arn, queue_url)
}

/// Every message in the inbox now (waits up to a second for the first).
async fn inbox(world: &World, queue_url: &str) -> Vec<Value> {
    let sqs = sqs::Client::new(&world.sdk);
    let mut out = Vec::new();
    loop {
        let r = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = r.messages();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            out.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message().queue_url(queue_url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
}

fn lists(report: &Value, side: &str, path: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        f["finding"] == "unmapped"
            && f["side"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(side))
            && f["path"] == path
    })
}

async fn drift(app: &App, alerts: &SnsDriftAlerts<'_>) -> DriftRun {
    let config = app.config().await;
    run_drift(&app.ports(&config), alerts).await.unwrap()
}

#[tokio::test]
async fn a_new_unmapped_field_in_either_simulator_raises_the_drift_report() {
    let world = World::start_with(|c| format!("{c}{PROFILES}")).await.unwrap();
    for (model, name) in [("contact", "plan"), ("contact", "zendesk_user_id")] {
        world.intercom.seed_data_attribute(model, name, "string", true);
    }
    world.zendesk.add_user_field("plan", "Plan", "dropdown");
    world.zendesk.add_user_field("intercom_contact_id", "Intercom contact", "text");
    world.zendesk.add_organization_field("plan", "Plan", "text");
    let (topic_arn, queue_url) = topic_with_inbox(&world).await;
    let app = world.app().unwrap();
    let alerts = SnsDriftAlerts::new(&app.counters, &world.sdk, Some(topic_arn));

    // Baseline: every custom field is mapped (or is an id field): nothing to report.
    let run = drift(&app, &alerts).await;
    assert!(run.findings.is_empty(), "baseline findings: {:?}", run.findings);
    assert!(!run.published);
    assert_eq!(app.counters.get(DRIFT_METRIC, ("Job", "profile-sync")), 0);

    // A new Intercom contact attribute nothing maps.
    world.intercom.seed_data_attribute("contact", "loyalty_tier", "string", true);
    let run = drift(&app, &alerts).await;
    let unmapped_ic = DriftFinding::Unmapped {
        side: Vendor::Intercom,
        kind: Kind::Person,
        path: "custom_attributes.loyalty_tier".into(),
    };
    assert_eq!(run.findings, vec![unmapped_ic.clone()]);
    assert!(run.published);
    assert_eq!(app.counters.get(DRIFT_METRIC, ("Job", "profile-sync")), 1);
    let messages = inbox(&world, &queue_url).await;
    assert_eq!(messages.len(), 1, "one report published: {messages:?}");
    assert!(lists(&messages[0], "intercom", "custom_attributes.loyalty_tier"), "report: {}", messages[0]);

    // The same drift again: counted (the alarm stays raised), not published twice.
    let run = drift(&app, &alerts).await;
    assert!(!run.published && !run.changed);
    assert_eq!(app.counters.get(DRIFT_METRIC, ("Job", "profile-sync")), 2);
    assert!(inbox(&world, &queue_url).await.is_empty());

    // A new Zendesk user field nothing maps: a new report listing both.
    world.zendesk.add_user_field("shoe_size", "Shoe size", "integer");
    let run = drift(&app, &alerts).await;
    assert!(run.published);
    assert!(run.findings.contains(&unmapped_ic));
    assert!(run.findings.contains(&DriftFinding::Unmapped {
        side: Vendor::Zendesk,
        kind: Kind::Person,
        path: "user_fields.shoe_size".into(),
    }));
    let messages = inbox(&world, &queue_url).await;
    assert_eq!(messages.len(), 1);
    assert!(lists(&messages[0], "zendesk", "user_fields.shoe_size"), "report: {}", messages[0]);
    assert!(lists(&messages[0], "intercom", "custom_attributes.loyalty_tier"));
}

/// The scheduled drift run takes the configuration from the same reloading holder as the SQS
/// path: a mapping changed in the file applies to the next scheduled run of a warm process.
#[tokio::test]
async fn a_changed_configuration_file_applies_to_the_next_scheduled_run() {
    let world = World::start_with(|c| format!("{c}{PROFILES}")).await.unwrap();
    for (model, name) in [("contact", "plan"), ("contact", "zendesk_user_id")] {
        world.intercom.seed_data_attribute(model, name, "string", true);
    }
    world.zendesk.add_user_field("plan", "Plan", "dropdown");
    world.zendesk.add_user_field("intercom_contact_id", "Intercom contact", "text");
    world.zendesk.add_organization_field("plan", "Plan", "text");
    let file = std::env::temp_dir().join(format!("{}-config.yaml", world.prefix));
    let original = world.config_text.clone();
    std::fs::write(&file, &original).unwrap();
    let origin = ConfigOrigin { source: ConfigSource::File(file.display().to_string()), sdk: world.sdk.clone() };
    let app = world.app().unwrap().with_reload(origin, std::time::Duration::ZERO);
    let alerts = SnsDriftAlerts::new(&app.counters, &world.sdk, None);
    let findings = |out: &Value| out["findings"].as_array().unwrap().len();

    let first = run_profile_command(&app, &alerts, ProfileCommand::Drift, CommandRun::default()).await.unwrap();
    assert_eq!(findings(&first), 0, "{first}");

    // The plan mapping is dropped from the file: the next run reports the plan fields unmapped.
    let without_plan: String =
        original.lines().filter(|l| !l.contains("custom_attributes.plan")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, without_plan).unwrap();
    let second = run_profile_command(&app, &alerts, ProfileCommand::Drift, CommandRun::default()).await.unwrap();
    let unmapped: Vec<&Value> = second["findings"].as_array().unwrap().iter().collect();
    assert!(
        unmapped.iter().any(|f| f["finding"] == "unmapped" && f["path"] == "custom_attributes.plan"),
        "the new file applies: {second}"
    );
    let _ = std::fs::remove_file(&file);
}
