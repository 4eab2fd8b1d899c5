//! Job 2 end to end: simulator webhooks through the real ingress, SQS on moto and the real
//! worker, syncing profiles both ways over real HTTP; reconciliation repairing dropped webhooks.

use std::time::Duration;

use bridge_e2e::profiles_demo::{DEMO_CONFIG, seed_fields};
use bridge_e2e::{World, eventually, settle};
use bridge_sim::common::Faults;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);

async fn world() -> World {
    let world = World::start_with(|c| format!("{c}{DEMO_CONFIG}")).await.unwrap();
    seed_fields(&world.intercom, &world.zendesk);
    world
}

fn users(world: &World) -> Vec<Value> {
    world.zendesk.dump()["users"].as_array().cloned().unwrap_or_default()
}

fn user_by_email(world: &World, email: &str) -> Option<Value> {
    users(world).into_iter().find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
}

fn org_by_external_id(world: &World, ext: &str) -> Option<Value> {
    let orgs = world.zendesk.dump()["organizations"].as_array().cloned().unwrap_or_default();
    orgs.into_iter().find(|o| o["external_id"].as_str() == Some(ext))
}

#[tokio::test]
async fn plan_flows_to_zendesk_user_and_org_and_phone_flows_back() {
    let world = world().await;
    let ada = world.seeded.customer.clone();

    // A plan change in Intercom reaches the Zendesk user (created and matched) and organization.
    world.intercom.edit_contact(&ada, json!({"custom_attributes": {"plan": "pro"}})).unwrap();
    eventually(WAIT, "the Zendesk user with the plan", || {
        user_by_email(&world, "ada@acme.example").is_some_and(|u| u["user_fields"]["plan"] == "pro")
    })
    .await
    .unwrap();
    eventually(WAIT, "the organization with the company plan", || {
        org_by_external_id(&world, "acme-1").is_some_and(|o| o["organization_fields"]["plan"] == "enterprise")
    })
    .await
    .unwrap();
    let user = user_by_email(&world, "ada@acme.example").unwrap();
    let org = org_by_external_id(&world, "acme-1").unwrap();
    eventually(WAIT, "the user in the organization", || {
        user_by_email(&world, "ada@acme.example").is_some_and(|u| u["organization_id"] == org["id"])
    })
    .await
    .unwrap();
    let user_id = user["id"].as_u64().unwrap();
    assert_eq!(user["user_fields"]["intercom_contact_id"], ada.as_str(), "Intercom id written on the user");
    eventually(WAIT, "the Zendesk id on the contact", || {
        world
            .intercom
            .contact(&ada)
            .is_some_and(|c| c.custom_attributes.get("zendesk_user_id") == Some(&json!(user_id.to_string())))
    })
    .await
    .unwrap();

    // A phone number changed by a Zendesk agent appears in Intercom.
    let agent = world.seeded.zendesk_agent;
    let input = bridge_sim::zendesk::UserInput { phone: Some("+44 20 7946 0000".into()), ..Default::default() };
    world.zendesk.edit_user(agent, user_id, input).unwrap();
    eventually(WAIT, "the phone on the contact", || {
        world.intercom.contact(&ada).is_some_and(|c| c.phone.as_deref() == Some("+44 20 7946 0000"))
    })
    .await
    .unwrap();

    // No ping-pong: once quiet, one user, and nothing keeps writing.
    settle(QUIET, WAIT, || (users(&world).len(), world.intercom.notifications().len())).await.unwrap();
    assert_eq!(users(&world).iter().filter(|u| u["email"] == "ada@acme.example").count(), 1);
}

#[tokio::test]
async fn one_reconciliation_repairs_what_dropped_webhooks_missed() {
    let world = world().await;
    world.intercom.set_faults(Faults { drop_webhooks_percent: 10, ..Faults::default() });
    world.zendesk.set_faults(Faults { drop_webhooks_percent: 10, ..Faults::default() });
    let mut ids = Vec::new();
    for i in 0..30 {
        let c = bridge_sim::intercom::state::Contact {
            role: "user".into(),
            email: Some(format!("p{i}@example.test")),
            name: Some(format!("Person {i}")),
            ..Default::default()
        };
        let id = world.intercom.seed_contact(c).unwrap();
        world
            .intercom
            .edit_contact(&id, json!({"phone": format!("+1 555 01{i:02}"), "custom_attributes": {"plan": "free"}}))
            .unwrap();
        ids.push(id);
    }
    // Let the webhooks that did arrive be processed.
    settle(QUIET, WAIT, || users(&world).len()).await.unwrap();
    let dropped = world.intercom.webhooks().sent().iter().filter(|w| w.dropped).count();
    let app = world.app().unwrap();
    let config = app.config().await;
    let report = bridge_jobs::profile_sync::reconcile::reconcile(&app.ports(&config), 86_400).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    for (i, id) in ids.iter().enumerate() {
        let contact = world.intercom.contact(id).unwrap();
        let user = user_by_email(&world, &format!("p{i}@example.test")).unwrap_or_else(|| panic!("user {i} missing"));
        assert_eq!(user["phone"].as_str(), contact.phone.as_deref(), "phone of {i}");
        assert_eq!(user["user_fields"]["plan"], "free", "plan of {i}");
        assert_eq!(user["user_fields"]["intercom_contact_id"], id.as_str());
    }
    eprintln!("webhooks dropped: {dropped}; reconciliation: {report:?}");
}
