//! The shipped templates (`infra/config/*.yaml`) run as shipped: the files are read from the
//! repository, only the account ids (admins, teams, groups, fields, agents) swapped for the
//! simulators' own, and merged as `BRIDGE_CONFIG=infra/config` would merge them. Four of them
//! act in one working scene; the profile and CSAT templates are merged and validated with them
//! (their behaviour needs the field catalogs and Google credentials of their own tests).

use std::time::Duration;

use bridge_domain::Config;
use bridge_e2e::{World, eventually, settle};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);
const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/config");

/// Every shipped template, the placeholders of the account ids replaced as `ids` says.
fn shipped(ids: &[(&str, String)], only: &[&str]) -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(TEMPLATES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "six shipped templates: {names:?}");
    names
        .into_iter()
        .filter(|n| only.is_empty() || only.contains(&n.as_str()))
        .map(|name| {
            let mut text = std::fs::read_to_string(format!("{TEMPLATES}/{name}")).unwrap();
            for (placeholder, id) in ids {
                text = text.replace(placeholder, id);
            }
            (name, text)
        })
        .collect()
}

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
    let group = |name: &str| w.zendesk.add_group(name).to_string();
    let field = w.zendesk.add_ticket_field("Intercom conversation", "text", &[], None);
    let ids: Vec<(&str, String)> = vec![
        ("\"5512345\"", format!("\"{}\"", s.bot_admin)),
        ("\"4567890\"", format!("\"{}\"", s.escalations_team)),
        ("\"5510001\"", format!("\"{}\"", s.agent)),
        ("\"5510002\"", format!("\"{}\"", s.agent)),
        ("360000111111", s.tier2_group.to_string()),
        ("360000222222", group("Billing")),
        ("360012345678", field.to_string()),
        ("360000100000", group("General support")),
        ("360000200000", group("VIP desk")),
        ("360000300000", group("Enterprise")),
        ("360000400000", group("Pro")),
        ("360000500000", group("Product feedback")),
        ("360009876543", s.zendesk_agent.to_string()),
    ];
    // All six merge as shipped.
    Config::from_yaml_files(&shipped(&ids, &[])).unwrap();
    let acting = [
        "escalate-conversation-to-zendesk.yaml",
        "sync-ticket-resolution-to-intercom.yaml",
        "route-new-tickets-by-intercom-segment.yaml",
        "acknowledge-web-form-tickets-in-intercom.yaml",
    ];
    w.stop_bridge().await;
    w.config = Config::from_yaml_files(&shipped(&ids, &acting)).unwrap();
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
}
