//! The shipped templates (`infra/config/*.yaml`) run as shipped: the files are read from the
//! repository, only the account ids (admins, teams, groups, fields, agents) swapped for the
//! simulators' own (`bridge_e2e::templates`), and merged as `BRIDGE_CONFIG=infra/config` merges
//! them. All six act in one working scene: escalation, resolution and tags, routing and
//! acknowledgement, profile sync with the template's field mapping, and the CSAT report into the
//! template's spreadsheet ranges and S3 prefix.

use std::time::Duration;

use bridge_aws::S3Objects;
use bridge_domain::Config;
use bridge_e2e::templates::{self, SPREADSHEET_ID};
use bridge_e2e::{World, eventually, settle};
use bridge_reports::sheets::SheetsClient;
use bridge_reports::{Reporter, S3Sink, handle_scheduled};
use bridge_sim::sheets::SheetsSim;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);

async fn quiet(w: &World) {
    settle(QUIET, WAIT, || {
        (w.intercom.gate().recorder.all().len(), w.zendesk.exchanges().len(), w.intercom.state().messages.len())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_shipped_templates_run_as_shipped_with_only_the_account_ids_swapped() {
    let mut w = World::start().await.unwrap();
    let s = w.seeded.clone();
    let swaps = templates::prepare(&w.intercom, &w.zendesk, &s);
    let files = templates::shipped(&swaps, &[]).unwrap();
    assert_eq!(files.len(), 6, "six shipped templates: {:?}", files.iter().map(|f| &f.0).collect::<Vec<_>>());
    w.stop_bridge().await;
    w.config = Config::from_yaml_files(&files).unwrap();
    w.start_bridge().await.unwrap();
    let vip_desk = w.zendesk.with_state(|st| st.groups.values().find(|g| g.name == "VIP desk").map(|g| g.id)).unwrap();

    // Escalate: the `escalate` tag makes a Tier 2 ticket carrying the conversation id.
    let conv = w.intercom.customer_starts_conversation(&s.customer, "The CSV export fails").unwrap();
    w.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    let ext = format!("intercom-conversation-{conv}");
    let ticket_of = |w: &World| w.tickets().into_iter().find(|t| t["external_id"].as_str() == Some(ext.as_str()));
    eventually(WAIT, "the escalated ticket", || ticket_of(&w).is_some()).await.unwrap();
    quiet(&w).await;
    let ticket = ticket_of(&w).unwrap();
    assert_eq!(ticket["group_id"].as_u64(), Some(s.tier2_group), "{ticket}");
    assert!(ticket["custom_fields"].to_string().contains(&conv), "the conversation id field: {ticket}");
    let id = ticket["id"].as_u64().unwrap();

    // Resolution: solved in Zendesk -> the customer is told, the conversation closed and tagged.
    w.zendesk.set_status(s.zendesk_agent, id, "solved").unwrap();
    let told = |w: &World| {
        w.intercom.conversation(&conv).is_some_and(|c| {
            c.state == "closed"
                && c.parts
                    .iter()
                    .any(|p| p.author.id == s.bot_admin && p.body.as_deref().is_some_and(|b| b.contains("was solved")))
        })
    };
    eventually(WAIT, "the solved message and the close", || told(&w)).await.unwrap();
    eventually(WAIT, "the zendesk-solved tag", || {
        w.intercom.conversation_tags(&conv).iter().any(|t| t == "zendesk-solved")
    })
    .await
    .unwrap();

    // Routing and acknowledgement: a web-form ticket of a VIP goes to the VIP desk, urgent, and
    // the customer is told in Intercom with the enterprise SLA.
    w.intercom.seed_segment("VIP", std::slice::from_ref(&s.customer));
    // Ada's Zendesk user, made by the escalation (found by her external id).
    let requester = ticket["requester_id"].as_u64().unwrap();
    let web = w.zendesk.submit_ticket(requester, "Invoice missing", "I cannot find my invoice.", "web").unwrap();
    let routed = |w: &World| w.zendesk.ticket(web).is_some_and(|t| t["group_id"].as_u64() == Some(vip_desk));
    eventually(WAIT, "the VIP route", || routed(&w)).await.unwrap();
    let acked = |w: &World| w.intercom.state().messages.iter().any(|m| m.body.contains(&format!("#{web}")));
    eventually(WAIT, "the acknowledgement", || acked(&w)).await.unwrap();
    quiet(&w).await;
    let t: Value = w.zendesk.ticket(web).unwrap();
    assert_eq!(t["priority"], "urgent", "{t}");
    assert!(t["tags"].as_array().unwrap().iter().any(|x| x == "vip"), "{t}");
    let message = w.intercom.state().messages.into_iter().find(|m| m.body.contains(&format!("#{web}"))).unwrap();
    assert!(message.body.contains("within 1 hour"), "the enterprise SLA: {}", message.body);

    // Profiles, with the template's mapping: plan (dropdown) and seats (number) flow to Ada's
    // Zendesk user, her Intercom id onto it; VIP, owned by Zendesk, flows back.
    w.intercom.edit_contact(&s.customer, json!({"custom_attributes": {"plan": "pro", "seats": 12}})).unwrap();
    let user = |w: &World| -> Value {
        let users = w.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
        users.into_iter().find(|u| u["id"].as_u64() == Some(requester)).unwrap_or(Value::Null)
    };
    eventually(WAIT, "plan and seats on the Zendesk user", || {
        let f = &user(&w)["user_fields"];
        f["plan"] == "pro" && f["seats"].as_f64() == Some(12.0)
    })
    .await
    .unwrap();
    assert_eq!(user(&w)["user_fields"]["intercom_contact_id"], s.customer.as_str());
    let input = bridge_sim::zendesk::UserInput {
        user_fields: Some([("vip".to_string(), json!(true))].into_iter().collect()),
        ..Default::default()
    };
    w.zendesk.edit_user(s.zendesk_agent, requester, input).unwrap();
    eventually(WAIT, "VIP on the Intercom contact", || {
        w.intercom.contact(&s.customer).is_some_and(|c| c.custom_attributes.get("vip") == Some(&json!(true)))
    })
    .await
    .unwrap();
    quiet(&w).await;

    // CSAT, with the template's periods, spreadsheet ranges and S3 prefix.
    w.stop_bridge().await;
    let today = chrono::Utc::now().date_naive();
    let d1 = today - chrono::Duration::days(3);
    let d1_ts = d1.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    bridge_e2e::csat::seed_intercom(&w.intercom, &s.agent, &s.escalations_team, &s.customer, d1_ts).unwrap();
    bridge_e2e::csat::seed_zendesk(&w.zendesk, s.zendesk_agent, d1_ts).unwrap();
    let sheets = SheetsSim::start().await.unwrap();
    for name in ["CsatDaily", "CsatWeekly", "CsatCustom"] {
        sheets.add_named_range(SPREADSHEET_ID, name, 40, 11);
    }
    let bucket = bridge_sim::moto::unique_name("reports");
    let s3 = S3Sink::new(S3Objects::new(&w.sdk), &bucket);
    s3.objects().client().create_bucket().bucket(&bucket).send().await.unwrap();
    let reporter = Reporter {
        intercom: w.intercom_client().unwrap(),
        zendesk: w.zendesk_client().unwrap(),
        s3: Some(s3.clone()),
        sheets: Some(
            SheetsClient::new(&sheets.service_account_json().into(), &sheets.base_url().parse().unwrap()).unwrap(),
        ),
    };
    let config = w.config.reporting.clone().expect("the CSAT template's reporting section");
    let input = json!({"from": d1.to_string(), "to": today.to_string()});
    let answer = handle_scheduled(&reporter, &config, input, today).await.unwrap();
    assert!(answer["ratings"].as_u64().is_some_and(|n| n > 0), "{answer}");
    let custom = sheets.values(SPREADSHEET_ID, "CsatCustom");
    assert!(custom.len() > 1, "a header and the days' rows in the template's range: {custom:?}");
    let listed = s3.objects().client().list_objects_v2().bucket(&bucket).send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(!keys.is_empty() && keys.iter().all(|k| k.starts_with("csat/")), "under the template's prefix: {keys:?}");
}
