//! The demo's profile scene (job 2): a plan change in Intercom appears on the Zendesk user and
//! organization; a phone number changed in Zendesk appears in Intercom.

use std::time::{Duration, Instant};

use bridge_sim::intercom::IntercomSim;
use bridge_sim::zendesk::ZendeskSim;
use serde_json::{Value, json};

/// The `profiles:` section the demo appends to its configuration.
pub const DEMO_CONFIG: &str = r#"
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

/// Defines the fields the mapping names, on both simulators (call before the bridge starts).
pub fn seed_fields(intercom: &IntercomSim, zendesk: &ZendeskSim) {
    intercom.seed_data_attribute("contact", "plan", "string", true);
    intercom.seed_data_attribute("contact", "zendesk_user_id", "string", true);
    zendesk.add_user_field("plan", "Plan", "text");
    zendesk.add_user_field("intercom_contact_id", "Intercom contact", "text");
    zendesk.add_organization_field("plan", "Plan", "text");
}

async fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> anyhow::Result<T> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = probe() {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "{what} did not happen within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn user(zendesk: &ZendeskSim, email: &str) -> Option<Value> {
    let users = zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
    users.into_iter().find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
}

/// Runs the scene for contact `ada` (email `email`), with Zendesk agent `agent` editing.
pub async fn scene(
    intercom: &IntercomSim,
    zendesk: &ZendeskSim,
    ada: &str,
    email: &str,
    agent: u64,
) -> anyhow::Result<()> {
    intercom
        .edit_contact(ada, json!({"custom_attributes": {"plan": "pro"}}))
        .map_err(|e| anyhow::anyhow!("simulator: {e:?}"))?;
    println!("Intercom   Ada's plan set to \"pro\"");
    let u = wait_for("the plan on the Zendesk user", || {
        user(zendesk, email).filter(|u| u["user_fields"]["plan"] == "pro" && u["organization_id"].is_u64())
    })
    .await?;
    println!("Zendesk    user #{} plan = {}", u["id"], u["user_fields"]["plan"]);
    let org = wait_for("the company plan on the organization", || {
        let orgs = zendesk.dump()["organizations"].as_array().cloned().unwrap_or_default();
        orgs.into_iter().find(|o| o["id"] == u["organization_id"] && o["organization_fields"]["plan"].is_string())
    })
    .await?;
    println!(
        "Zendesk    organization \"{}\" plan = {}",
        org["name"].as_str().unwrap_or("-"),
        org["organization_fields"]["plan"]
    );

    let user_id = u["id"].as_u64().ok_or_else(|| anyhow::anyhow!("user without id"))?;
    let phone = "+44 20 7946 0000";
    let input = bridge_sim::zendesk::UserInput { phone: Some(phone.into()), ..Default::default() };
    zendesk.edit_user(agent, user_id, input).map_err(|e| anyhow::anyhow!("simulator: {e:?}"))?;
    println!("Zendesk    agent sets the user's phone to {phone}");
    wait_for("the phone in Intercom", || intercom.contact(ada).filter(|c| c.phone.as_deref() == Some(phone))).await?;
    println!("Intercom   Ada's phone = {phone}");
    Ok(())
}
