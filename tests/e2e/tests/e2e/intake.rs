//! Jobs 5 and 6 end to end: a new Zendesk ticket (event-subscribed webhook or trigger JSON)
//! goes through the real ingress, SQS on moto and the ticket-intake worker, which routes it by
//! the requester's Intercom profile and acknowledges it in Intercom, against the simulators.

use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::ids::UserId;
use bridge_domain::model::{NewTicket, TicketComment};
use bridge_domain::ports::Helpdesk;
use bridge_e2e::{World, eventually, post_zendesk, settle};
use bridge_sim::zendesk::UserInput;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);

/// Appended to the harness configuration: the "Route New Zendesk Tickets by Intercom Customer
/// Segment" and "Send Intercom Message When Zendesk Ticket is Created via Web Form" recipes.
const INTAKE: &str = r#"
routing:
  plan_tiers: [enterprise, pro, starter]
  max_attribute_age_hours: 720
  default: { group_id: {general} }
  rules:
    - name: enterprise customers
      when: { plan: [enterprise] }
      group_id: {enterprise}
      priority: high
      tags: [enterprise]
acknowledgement:
  channels: [web, email]
  message_type: email
  subject_template: "We received your request #{ticket_id}"
  body_template: "Thanks! Request #{ticket_id} \"{subject}\" is with our team; we will reply {sla}."
  sla:
    plans: { enterprise: within 1 hour }
    default: within one business day
"#;

struct Intake {
    world: World,
    enterprise_group: u64,
    requester: u64,
}

async fn start() -> Intake {
    let mut world = World::start().await.unwrap();
    let enterprise_group = world.zendesk.add_group("Enterprise");
    let general = world.zendesk.add_group("General");
    let yaml = format!(
        "{}{}",
        world.config_text,
        INTAKE.replace("{general}", &general.to_string()).replace("{enterprise}", &enterprise_group.to_string())
    );
    world.stop_bridge().await;
    world.config = Config::from_yaml(&yaml).unwrap();
    world.start_bridge().await.unwrap();
    // The customer of the harness (Intercom user cust-1, company Acme on the enterprise plan)
    // also exists in Zendesk with the same external id.
    let requester = world
        .zendesk
        .add_user(UserInput {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@acme.example".into()),
            external_id: Some("cust-1".into()),
            ..UserInput::default()
        })
        .unwrap();
    Intake { world, enterprise_group, requester }
}

fn ticket(world: &World, id: u64) -> Value {
    world.tickets().into_iter().find(|t| t["id"].as_u64() == Some(id)).unwrap_or(Value::Null)
}

fn routing_notes(t: &Value) -> usize {
    t["comments"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["public"] == false)
                .filter(|c| c["body"].as_str().or(c["html_body"].as_str()).unwrap_or("").contains("[bridge-routing:"))
                .count()
        })
        .unwrap_or(0)
}

fn messages(world: &World) -> Vec<bridge_sim::intercom::state::Message> {
    world.intercom.state().messages
}

/// Writes the bridge made to one ticket: updates (`PUT /tickets/{id}`) and tag additions.
fn ticket_writes(world: &World, id: u64) -> (usize, usize) {
    let ex = world.zendesk.exchanges();
    let path = format!("/api/v2/tickets/{id}");
    let tags = format!("/api/v2/tickets/{id}/tags");
    let is = |p: &str, want: &str| p == want || p.strip_suffix(".json") == Some(want);
    let updates = ex.iter().filter(|e| e.method == "PUT" && is(&e.path, &path)).count();
    let tag_adds = ex.iter().filter(|e| e.method == "PUT" && is(&e.path, &tags)).count();
    (updates, tag_adds)
}

fn intake_done(world: &World) -> u64 {
    let bridge = world.bridge.as_ref().unwrap();
    bridge.app.counters.get("ActionsDone", ("Job", "ticket-intake"))
}

/// Intake runs that acted or decided there was nothing to do.
fn intake_ran(world: &World) -> u64 {
    let bridge = world.bridge.as_ref().unwrap();
    intake_done(world) + bridge.app.counters.get("EventsSkipped", ("Job", "ticket-intake"))
}

/// Captures the webhooks the simulator sends while `act` runs, without delivering them.
async fn capture(world: &World, act: impl FnOnce() -> u64) -> (u64, Vec<(String, Value)>) {
    let before = world.zendesk.sent_webhooks().len();
    world.zendesk.set_webhook_target(Some("http://127.0.0.1:9/nowhere".into()));
    let id = act();
    eventually(WAIT, "the simulator's webhooks for the new ticket", || {
        world.zendesk.sent_webhooks().len() > before
            && world.zendesk.sent_webhooks()[before..].iter().any(|w| w.body.to_string().contains(&id.to_string()))
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = world.zendesk.sent_webhooks()[before..].iter().map(|w| (w.topic.clone(), w.body.clone())).collect();
    world.zendesk.set_webhook_target(Some(format!("{}/webhooks/zendesk", world.bridge_url())));
    (id, sent)
}

#[tokio::test]
async fn web_form_ticket_is_routed_to_enterprise_and_acknowledged_in_intercom() {
    let Intake { world, enterprise_group, requester } = start().await;

    let id =
        world.zendesk.submit_ticket(requester, "CSV export fails", "The export button errors out.", "web").unwrap();

    eventually(WAIT, "routing and acknowledgement", || {
        ticket(&world, id)["group_id"].as_u64() == Some(enterprise_group) && messages(&world).len() == 1
    })
    .await
    .unwrap();
    settle(QUIET, WAIT, || (messages(&world).len(), ticket_writes(&world, id))).await.unwrap();

    // Routed: group, priority, tag, and the reason as an internal note.
    let t = ticket(&world, id);
    assert_eq!(t["priority"], "high");
    assert!(t["tags"].as_array().unwrap().iter().any(|x| x == "enterprise"), "{}", t["tags"]);
    assert_eq!(routing_notes(&t), 1);
    let note = t["comments"].as_array().unwrap().iter().find(|c| c["public"] == false).unwrap();
    let text = note["body"].as_str().or(note["html_body"].as_str()).unwrap();
    assert!(text.contains("Routed by rule \"enterprise customers\""), "{text}");
    assert!(text.contains("plan enterprise") && text.contains("found by external id"), "{text}");

    // Acknowledged: one email from the bridge's admin to the customer, with reference, subject, SLA.
    let m = &messages(&world)[0];
    assert_eq!(m.to_contact, world.seeded.customer);
    assert_eq!(m.from_admin, world.seeded.bot_admin);
    assert_eq!(m.message_type, "email");
    assert_eq!(m.subject.as_deref(), Some(format!("We received your request #{id}").as_str()));
    assert!(m.body.contains(&format!("#{id}")) && m.body.contains("CSV export fails"), "{}", m.body);
    assert!(m.body.contains("within 1 hour"), "{}", m.body);
}

#[tokio::test]
async fn twenty_duplicate_deliveries_give_one_acknowledgement_and_one_routing_update() {
    let Intake { world, enterprise_group, requester } = start().await;
    let (id, sent) = capture(&world, || {
        world.zendesk.submit_ticket(requester, "Login loop", "I keep being logged out.", "web").unwrap()
    })
    .await;
    let created =
        sent.iter().find(|(topic, _)| topic.ends_with("ticket.created")).expect("ticket.created sent").1.clone();
    assert_eq!(messages(&world).len(), 0, "nothing delivered yet");

    // Ten redeliveries of the same event, and ten replays of it under new event ids, at once.
    let bodies: Vec<Vec<u8>> = (0..20)
        .map(|i| {
            let mut b = created.clone();
            if i % 2 == 1 {
                b["id"] = Value::String(uuid::Uuid::new_v4().to_string());
            }
            serde_json::to_vec(&b).unwrap()
        })
        .collect();
    let url = world.bridge_url();
    let posts = bodies.iter().map(|b| post_zendesk(&url, b));
    for r in futures::future::join_all(posts).await {
        assert_eq!(r.unwrap().0, 200);
    }

    eventually(WAIT, "routing and acknowledgement", || {
        ticket(&world, id)["group_id"].as_u64() == Some(enterprise_group) && !messages(&world).is_empty()
    })
    .await
    .unwrap();
    settle(Duration::from_secs(3), WAIT, || (messages(&world).len(), ticket_writes(&world, id), intake_done(&world)))
        .await
        .unwrap();

    assert_eq!(messages(&world).len(), 1, "one acknowledgement");
    assert_eq!(ticket_writes(&world, id), (1, 1), "one routing update (and one tag addition)");
    assert_eq!(routing_notes(&ticket(&world, id)), 1, "one routing note");
}

#[tokio::test]
async fn no_acknowledgement_for_an_escalation_or_an_api_created_ticket() {
    let Intake { world, requester, .. } = start().await;

    // An API-created ticket.
    let zendesk = world.zendesk_client().unwrap();
    let new_ticket = NewTicket {
        subject: "Created by an integration".into(),
        comment: TicketComment {
            id: None,
            html_body: "<p>From the API</p>".into(),
            public: true,
            author_id: None,
            created_at: None,
            uploads: Vec::new(),
            attachments: Vec::new(),
        },
        requester_id: UserId::new(requester).unwrap(),
        organization_id: None,
        priority: None,
        group_id: None,
        tags: vec![],
        external_id: None,
        custom_fields: Default::default(),
        followup_source_id: None,
    };
    let api_ticket = Helpdesk::create_ticket(&zendesk, &new_ticket, "intake-e2e-api").await.unwrap().id.get();

    // An escalation: the bridge creates the ticket from a tagged conversation.
    let conv = world.intercom.customer_starts_conversation(&world.seeded.customer, "Billing is broken").unwrap();
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let ext = format!("intercom-conversation-{conv}");
    eventually(WAIT, "the escalation ticket", || world.tickets().iter().any(|t| t["external_id"] == ext.as_str()))
        .await
        .unwrap();
    let escalation =
        world.tickets().into_iter().find(|t| t["external_id"] == ext.as_str()).unwrap()["id"].as_u64().unwrap();

    eventually(WAIT, "intake ran for both tickets", || intake_ran(&world) >= 2).await.unwrap();
    settle(QUIET, WAIT, || (messages(&world).len(), intake_ran(&world))).await.unwrap();
    assert_eq!(intake_done(&world), 0, "neither ticket is the bridge's to route or acknowledge");

    assert!(messages(&world).is_empty(), "no acknowledgement: {:?}", messages(&world));
    for id in [api_ticket, escalation] {
        assert_eq!(routing_notes(&ticket(&world, id)), 0, "ticket {id} made by the bridge is not re-routed");
    }
}

#[tokio::test]
async fn trigger_json_for_a_created_ticket_is_routed_and_acknowledged_once() {
    let Intake { world, enterprise_group, requester } = start().await;
    world.zendesk.set_trigger_webhooks(true);
    let (id, sent) = capture(&world, || {
        world.zendesk.submit_ticket(requester, "Email bounce", "Mail to you bounces.", "email").unwrap()
    })
    .await;
    let trigger = sent
        .iter()
        .find(|(topic, body)| topic == "trigger" && body["kind"] == "ticket_created")
        .expect("the created-ticket trigger body")
        .1
        .clone();
    assert_eq!(trigger["via"], "Mail");

    // Only the trigger variant is delivered, three times (each a new invocation).
    let body = serde_json::to_vec(&trigger).unwrap();
    for _ in 0..3 {
        assert_eq!(post_zendesk(&world.bridge_url(), &body).await.unwrap().0, 200);
    }

    eventually(WAIT, "routing and acknowledgement", || {
        ticket(&world, id)["group_id"].as_u64() == Some(enterprise_group) && messages(&world).len() == 1
    })
    .await
    .unwrap();
    settle(QUIET, WAIT, || (messages(&world).len(), ticket_writes(&world, id))).await.unwrap();
    assert_eq!(messages(&world).len(), 1);
    assert_eq!(ticket_writes(&world, id).0, 1);
    assert!(messages(&world)[0].body.contains("Email bounce"));
}

#[tokio::test]
async fn acknowledgement_quotes_the_tickets_sla_policy_target_when_zendesk_has_one() {
    let Intake { world, requester, .. } = start().await;
    // An SLA policy with a 4-hour first-reply target applies to every ticket.
    world.zendesk.add_sla_policy(None, None, 240);

    let id = world.zendesk.submit_ticket(requester, "Invoice missing", "Where is my invoice?", "web").unwrap();
    eventually(WAIT, "acknowledgement", || messages(&world).len() == 1).await.unwrap();
    settle(QUIET, WAIT, || messages(&world).len()).await.unwrap();

    let created = chrono::DateTime::parse_from_rfc3339(ticket(&world, id)["created_at"].as_str().unwrap()).unwrap();
    let due = (created + chrono::Duration::minutes(240)).format("%Y-%m-%d %H:%M UTC").to_string();
    let m = &messages(&world)[0];
    assert!(m.body.contains(&format!("within 4 hours (by {due})")), "policy target quoted: {}", m.body);
    assert!(!m.body.contains("within 1 hour"), "the policy wins over the plan's text: {}", m.body);
    let sideloads = world
        .zendesk
        .exchanges()
        .iter()
        .filter(|e| e.method == "GET" && e.query.iter().any(|(k, v)| k == "include" && v.contains("slas")))
        .count();
    assert_eq!(sideloads, 1, "the SLA is read once, with the ticket's slas sideload");
}
