//! The repair sweeps end to end (issue 16): a working day on both simulators with a fifth of
//! each vendor's webhooks dropped at random, then one sweep of each job; a conversation that
//! waits past a `waiting_minutes` rule with no further event; a sweep racing the webhook path.
//! Everything through the real ingress, SQS and DynamoDB on moto, the real clients and the
//! sweeps as the scheduled functions run them (`bridge_runtime::schedules::run_sweep`).

use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::routing::JobKind;
use bridge_e2e::{World, bot_parts, comments_containing, eventually, settle, tickets_for};
use bridge_jobs::sweep::{SweepOptions, SweepReport};
use bridge_runtime::App;
use bridge_runtime::schedules::run_sweep;
use bridge_sim::common::Faults;
use bridge_sim::zendesk::UserInput;

const WAIT: Duration = Duration::from_secs(40);
const QUIET: Duration = Duration::from_millis(1500);

/// Jobs 3 to 6 on top of the harness configuration (job 1).
const SECTIONS: &str = r#"
ticket_status:
  on:
    solved:
      message: "Your ticket #{ticket_id} was solved by {agent_name}."
      conversation: close
      tags: [zendesk-solved]
tag_sync:
  map: { VIP: vip_customer, Billing: billing }
  ignore_intercom: [escalate]
  ignore_zendesk: [intercom, tier2]
routing:
  plan_tiers: [enterprise, pro, starter]
  max_attribute_age_hours: 720
  default: { group_id: {general} }
  rules:
    - name: enterprise customers
      when: { plan: [enterprise] }
      group_id: {enterprise}
acknowledgement:
  channels: [web, email]
  message_type: email
  subject_template: "We received your request #{ticket_id}"
  body_template: "Thanks! Request #{ticket_id} is with our team."
"#;

struct Day {
    world: World,
    enterprise: u64,
    requester: u64,
}

async fn start(edit: impl FnOnce(String) -> String) -> Day {
    let mut world = World::start_with(edit).await.unwrap();
    world.stop_bridge().await;
    let enterprise = world.zendesk.add_group("Enterprise");
    let general = world.zendesk.add_group("General");
    let text = format!(
        "{}{}",
        world.config_text,
        SECTIONS.replace("{general}", &general.to_string()).replace("{enterprise}", &enterprise.to_string())
    );
    world.config = Config::from_yaml(&text).unwrap();
    world.config_text = text;
    world.start_bridge().await.unwrap();
    let requester = world
        .zendesk
        .add_user(UserInput {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@acme.example".into()),
            external_id: Some("cust-1".into()),
            ..UserInput::default()
        })
        .unwrap();
    Day { world, enterprise, requester }
}

fn app(world: &World) -> &App {
    &world.bridge.as_ref().unwrap().app
}

async fn sweep(world: &World, job: JobKind) -> SweepReport {
    let opts = SweepOptions { force: true, ..SweepOptions::default() };
    run_sweep(app(world), job, &opts, &mut |_| {}).await.unwrap().unwrap()
}

async fn quiet(world: &World) {
    settle(QUIET, WAIT, || (world.intercom.gate().recorder.all().len(), world.zendesk.exchanges().len()))
        .await
        .unwrap();
}

fn ticket_of(world: &World, conversation: &str) -> u64 {
    let t = tickets_for(world, conversation);
    assert_eq!(t.len(), 1, "conversation {conversation}: exactly one ticket");
    t[0]["id"].as_u64().unwrap()
}

fn drop_percent(world: &World, percent: u8) {
    let faults = Faults { drop_webhooks_percent: percent, ..Faults::default() };
    world.intercom.set_faults(faults.clone());
    world.zendesk.set_faults(faults);
}

/// Runs `action` with every webhook of both vendors dropped, then goes back to a fifth: one
/// loss per job is certain, the random ones come on top.
fn lost<T>(world: &World, action: impl FnOnce() -> T) -> T {
    drop_percent(world, 100);
    let out = action();
    drop_percent(world, 20);
    out
}

fn repaired(report: &SweepReport, entity: &str) -> bool {
    report.repairs.iter().any(|r| r.starts_with(&format!("{entity}: ")))
}

#[tokio::test]
async fn a_working_day_with_a_fifth_of_the_webhooks_lost_is_repaired_once_by_the_sweeps() {
    let day = start(|c| c).await;
    let (w, s) = (&day.world, day.world.seeded.clone());
    drop_percent(w, 20);
    let mut reports = Vec::new();

    // Morning, on Intercom: eight conversations, five escalated by tag, three followed up. Every
    // webhook of the first is lost (an earlier one would otherwise see the tag when processed).
    let start = |i: usize| w.intercom.customer_starts_conversation(&s.customer, &format!("Day question {i}")).unwrap();
    let mut convs = vec![lost(w, || {
        let c = start(0);
        w.intercom.admin_tags(&c, &s.agent, "escalate").unwrap();
        c
    })];
    convs.extend((1..8).map(start));
    for c in &convs[1..5] {
        w.intercom.admin_tags(c, &s.agent, "escalate").unwrap();
    }
    quiet(w).await;
    // Job 1's sweep runs every five minutes: the escalations the lost webhooks missed happen.
    let morning = sweep(w, JobKind::Escalate).await;
    assert!(repaired(&morning, &format!("conversation:{}", convs[0])), "{morning:?}");
    reports.push(("escalate", morning));
    quiet(w).await;
    let tickets: Vec<u64> = convs[..5].iter().map(|c| ticket_of(w, c)).collect();
    for (i, c) in convs[..3].iter().enumerate() {
        w.intercom.customer_replies(c, &format!("Follow-up detail {i}")).unwrap();
    }

    // Afternoon, on Zendesk and Intercom: answers, solves, tags, and web forms.
    for (i, t) in tickets[..2].iter().enumerate() {
        w.zendesk.comment(s.zendesk_agent, *t, &format!("Agent answer {i}"), true).unwrap();
    }
    w.zendesk.set_status(s.zendesk_agent, tickets[3], "solved").unwrap();
    w.intercom.admin_tags(&convs[1], &s.agent, "Billing").unwrap();
    let form = |i: usize| w.zendesk.submit_ticket(day.requester, &format!("Form {i}"), "Sent from the web form", "web");
    let mut forms: Vec<u64> = (1..3).map(|i| form(i).unwrap()).collect();
    quiet(w).await;
    // The last changes of the day, each with its every webhook lost and no later event about it:
    // only the sweeps can do what they should have caused.
    lost(w, || w.zendesk.set_status(s.zendesk_agent, tickets[2], "solved").unwrap());
    lost(w, || w.zendesk.agent_tags(s.zendesk_agent, tickets[4], &["vip_customer".to_string()], &[]).unwrap());
    forms.insert(0, lost(w, || form(0).unwrap()));
    quiet(w).await;

    // Evening: one sweep of each job.
    for (name, job) in [
        ("ticket-status", JobKind::TicketStatus),
        ("tag-sync", JobKind::TagSync),
        ("ticket-intake", JobKind::TicketIntake),
        ("escalate", JobKind::Escalate),
    ] {
        reports.push((name, sweep(w, job).await));
        quiet(w).await;
    }
    for (name, r) in &reports {
        assert_eq!(r.failed, 0, "{name}: {r:?}");
        eprintln!("sweep {name}: {} examined, repaired {:?}", r.examined, r.repairs);
    }
    let report = |name: &str| &reports.iter().rfind(|(n, _)| *n == name).unwrap().1;
    assert!(repaired(report("ticket-status"), &format!("ticket:{}", tickets[2])), "the lost solve");
    assert!(repaired(report("tag-sync"), &format!("ticket:{}", tickets[4])), "the lost ticket tag");
    assert!(repaired(report("ticket-intake"), &format!("ticket:{}", forms[0])), "the lost web form");
    let dropped = w.intercom.webhooks().sent().iter().filter(|x| x.dropped).count()
        + w.zendesk.sent_webhooks().iter().filter(|x| x.dropped).count();
    assert!(dropped > 0, "the day dropped webhooks");
    let repaired: u64 = reports.iter().map(|(_, r)| r.repaired_total()).sum();
    eprintln!("{dropped} webhooks dropped, {repaired} repairs");

    // Every effect of the full-webhook day, exactly once, and nothing else.
    assert_eq!(w.tickets().len(), 5 + 3, "five escalations and three web forms, no other ticket");
    for c in &convs[5..] {
        assert!(tickets_for(w, c).is_empty(), "conversation {c} matched no rule");
    }
    for (i, (c, t)) in convs.iter().zip(&tickets).enumerate() {
        assert_eq!(bot_parts(w, c, "note", &format!("/agent/tickets/{t}")), 1, "conversation {i}: one escalation note");
        assert_eq!(comments_containing(w, *t, &format!("Day question {i}")), 1, "ticket {i}: one transcript");
    }
    for (i, t) in tickets[..3].iter().enumerate() {
        assert_eq!(comments_containing(w, *t, &format!("Follow-up detail {i}")), 1, "follow-up {i} appended once");
    }
    for (i, c) in convs[..2].iter().enumerate() {
        assert_eq!(bot_parts(w, c, "comment", &format!("Agent answer {i}")), 1, "answer {i} relayed once");
    }
    for c in &convs[2..4] {
        assert_eq!(bot_parts(w, c, "close", "was solved"), 1, "{c}: told once");
        assert_eq!(w.intercom.conversation(c).unwrap().state, "closed");
    }
    assert!(w.intercom.conversation_tags(&convs[4]).contains(&"VIP".to_string()), "the ticket's tag reached Intercom");
    let billing = w.zendesk.ticket(tickets[1]).unwrap();
    assert!(
        billing["tags"].as_array().unwrap().iter().any(|t| t == "billing"),
        "the conversation's tag reached Zendesk"
    );
    for f in &forms {
        let t = w.zendesk.ticket(*f).unwrap();
        assert_eq!(t["group_id"].as_u64(), Some(day.enterprise), "form {f} routed");
        assert_eq!(comments_containing(w, *f, "[bridge-routing:"), 1, "form {f}: one routing note");
    }
    let acks = w.intercom.state().messages.iter().filter(|m| m.body.contains("is with our team")).count();
    assert_eq!(acks, 3, "each web form acknowledged once");
}

#[tokio::test]
async fn a_conversation_waiting_past_a_rule_is_escalated_by_the_next_sweep_without_any_event() {
    let rule = "    - name: waiting customer\n      when: { threshold: { customer_replies: 3 } }";
    let day =
        start(|c| c.replace(rule, "    - name: waiting customer\n      when: { threshold: { waiting_minutes: 30 } }"))
            .await;
    let (w, s) = (&day.world, day.world.seeded.clone());
    // Forty minutes ago the customer wrote; the rule did not match then, and nothing happened
    // since (the webhook of that moment is not delivered: it had nothing to escalate).
    w.intercom.set_faults(Faults { drop_webhooks_percent: 100, ..Faults::default() });
    w.intercom.advance_clock(-40 * 60);
    let waiting = w.intercom.customer_starts_conversation(&s.customer, "Anyone there?").unwrap();
    w.intercom.advance_clock(30 * 60);
    let recent = w.intercom.customer_starts_conversation(&s.customer, "Quick question").unwrap();
    w.intercom.advance_clock(10 * 60);
    w.intercom.set_faults(Faults::default());
    assert!(tickets_for(w, &waiting).is_empty());

    let report = sweep(w, JobKind::Escalate).await;
    assert_eq!(report.fired_on_time, 1, "{report:?}");
    assert_eq!(report.repaired_total(), 0, "a rule firing on time is not a lost webhook");
    quiet(w).await;
    let t = ticket_of(w, &waiting);
    assert_eq!(bot_parts(w, &waiting, "note", &format!("/agent/tickets/{t}")), 1);
    assert!(tickets_for(w, &recent).is_empty(), "ten minutes of waiting is not thirty");
    assert_eq!(app(w).counters.get("RulesFiredOnTime", ("Job", "escalate")), 1);

    // The next sweep does not read the linked conversation again.
    let again = sweep(w, JobKind::Escalate).await;
    assert_eq!(again.fired_on_time, 0);
    assert_eq!(tickets_for(w, &waiting).len(), 1);
}

#[tokio::test]
async fn a_sweep_racing_the_webhook_path_duplicates_nothing() {
    let day = start(|c| c).await;
    let (w, s) = (&day.world, day.world.seeded.clone());
    let convs: Vec<String> =
        (0..4).map(|i| w.intercom.customer_starts_conversation(&s.customer, &format!("Race {i}")).unwrap()).collect();
    for c in &convs {
        w.intercom.admin_tags(c, &s.agent, "escalate").unwrap();
    }
    // The sweep starts while the webhooks are being processed.
    let report = sweep(w, JobKind::Escalate).await;
    eventually(WAIT, "every escalation", || convs.iter().all(|c| tickets_for(w, c).len() == 1)).await.unwrap();
    quiet(w).await;
    // A second pass finds everything done.
    let after = sweep(w, JobKind::Escalate).await;
    assert_eq!(after.repaired_total(), 0, "{after:?}");
    for c in &convs {
        let t = ticket_of(w, c);
        assert_eq!(bot_parts(w, c, "note", &format!("/agent/tickets/{t}")), 1, "{c}: one note ({report:?})");
    }
    assert_eq!(w.tickets().len(), 4);
}
