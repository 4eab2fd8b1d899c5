//! The repair sweeps end to end (issue 16): a working day on both simulators with a fifth of
//! each vendor's webhooks dropped at random, then one sweep of each job, compared with the same
//! day with every webhook delivered; a conversation that waits past a `waiting_minutes` rule
//! with no further event; a sweep racing the webhook path; lost webhooks delivered after the
//! sweep repaired what they should have caused.
//! Everything through the real ingress, SQS and DynamoDB on moto, the real clients and the
//! sweeps as the scheduled functions run them (`bridge_runtime::schedules::run_sweep`).

use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::routing::JobKind;
use bridge_e2e::{World, bot_parts, comments_containing, eventually, post_intercom, post_zendesk, settle, tickets_for};
use bridge_jobs::sweep::{SweepOptions, SweepReport};
use bridge_runtime::App;
use bridge_runtime::schedules::run_sweep;
use bridge_sim::common::Faults;
use bridge_sim::intercom::AssignTo;
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

/// Which webhooks a working day loses.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Losses {
    /// None: the reference day, every webhook delivered.
    None,
    /// A fifth of each vendor's webhooks at random, and for each kind of change the sweeps
    /// repair, one change with every webhook about it lost (so no later event can make up for it).
    AFifthAndOnePerKind,
}

/// What the working day did, by its place in the script.
struct DayRun {
    /// Conversations 0-4 escalated by tag, 5-7 matching no rule, 8 assigned to the escalations team.
    convs: Vec<String>,
    /// The tickets of conversations 0-4, and of 8 last.
    tickets: Vec<u64>,
    /// The web-form tickets.
    forms: Vec<u64>,
    /// The sweep reports, morning first.
    reports: Vec<(&'static str, SweepReport)>,
}

/// The day's script on both simulators: conversations, tags, an assignment, replies, answers,
/// status changes, tags on both sides and web forms, with job 1's morning sweep and one sweep of
/// every job in the evening. With `Losses::AFifthAndOnePerKind`, `lost(..)` changes have every
/// webhook dropped and the rest a fifth at random.
async fn working_day(day: &Day, losses: Losses) -> DayRun {
    let (w, s) = (&day.world, day.world.seeded.clone());
    let drops = |percent: u8| {
        if losses == Losses::AFifthAndOnePerKind {
            drop_percent(w, percent)
        }
    };
    let lost = |action: &mut dyn FnMut()| {
        drops(100);
        action();
        drops(20);
    };
    drops(20);
    let mut reports = Vec::new();

    // Morning, on Intercom: nine conversations, five escalated by tag (the first with every
    // webhook lost: an earlier one would otherwise see the tag when processed), one assigned to
    // the escalations team with its webhooks lost, three followed up (the third follow-up lost).
    let start = |i: usize| w.intercom.customer_starts_conversation(&s.customer, &format!("Day question {i}")).unwrap();
    let mut first = None;
    lost(&mut || {
        let c = start(0);
        w.intercom.admin_tags(&c, &s.agent, "escalate").unwrap();
        first = Some(c);
    });
    let mut convs = vec![first.unwrap()];
    convs.extend((1..9).map(start));
    for c in &convs[1..5] {
        w.intercom.admin_tags(c, &s.agent, "escalate").unwrap();
    }
    // The assignment comes once the conversation's earlier events are processed, so none of
    // them can see it.
    quiet(w).await;
    lost(&mut || w.intercom.admin_assigns(&convs[8], &s.agent, AssignTo::Team(s.escalations_team.clone())).unwrap());
    quiet(w).await;
    // Job 1's sweep runs every five minutes: the escalations the lost webhooks missed happen.
    reports.push(("escalate (morning)", sweep(w, JobKind::Escalate).await));
    quiet(w).await;
    let mut tickets: Vec<u64> = convs[..5].iter().map(|c| ticket_of(w, c)).collect();
    tickets.push(ticket_of(w, &convs[8]));
    for (i, c) in convs[..2].iter().enumerate() {
        w.intercom.customer_replies(c, &format!("Follow-up detail {i}")).unwrap();
    }
    lost(&mut || {
        w.intercom.customer_replies(&convs[2], "Follow-up detail 2").unwrap();
    });
    quiet(w).await;
    // Job 1's next sweep, before the afternoon: the lost follow-up reaches its ticket.
    reports.push(("escalate (midday)", sweep(w, JobKind::Escalate).await));
    quiet(w).await;

    // Afternoon, on Zendesk and Intercom: answers (the third lost), solves, tags, and web forms.
    for (i, t) in tickets[..2].iter().enumerate() {
        w.zendesk.comment(s.zendesk_agent, *t, &format!("Agent answer {i}"), true).unwrap();
    }
    lost(&mut || w.zendesk.comment(s.zendesk_agent, tickets[2], "Agent answer 2", true).unwrap());
    w.zendesk.set_status(s.zendesk_agent, tickets[3], "solved").unwrap();
    let form = |i: usize| w.zendesk.submit_ticket(day.requester, &format!("Form {i}"), "Sent from the web form", "web");
    let mut forms: Vec<u64> = (1..3).map(|i| form(i).unwrap()).collect();
    quiet(w).await;
    // The last changes of the day, each with its every webhook lost and no later event about it:
    // only the sweeps can do what they should have caused.
    lost(&mut || w.zendesk.set_status(s.zendesk_agent, tickets[2], "solved").unwrap());
    lost(&mut || w.intercom.admin_tags(&convs[1], &s.agent, "Billing").unwrap());
    lost(&mut || {
        w.zendesk.agent_tags(s.zendesk_agent, tickets[4], &["vip_customer".to_string()], &[]).unwrap();
    });
    let mut lost_form = None;
    lost(&mut || lost_form = Some(form(0).unwrap()));
    forms.insert(0, lost_form.unwrap());
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
        assert_eq!(r.failed, 0, "{losses:?}, {name}: {r:?}");
        eprintln!("{losses:?}, sweep {name}: {} examined, repaired {:?}", r.examined, r.repairs);
    }
    DayRun { convs, tickets, forms, reports }
}

/// Everything the day left on both vendors that the bridge is responsible for, one line per
/// effect, sorted, with the ids of the script's conversations and tickets replaced by their place
/// in it (`C0`, `T0`, `F0`) and any other number by `N`, so two runs of the day compare equal
/// exactly when each effect exists as often in both.
fn effects(w: &World, run: &DayRun) -> Vec<String> {
    let mut names: Vec<(String, String)> = Vec::new();
    names.extend(run.convs.iter().enumerate().map(|(i, c)| (c.clone(), format!("C{i}"))));
    names.extend(run.tickets.iter().enumerate().map(|(i, t)| (t.to_string(), format!("T{i}"))));
    names.extend(run.forms.iter().enumerate().map(|(i, t)| (t.to_string(), format!("F{i}"))));
    // How a web form's requester was found (by external id, or by the mapping an earlier run
    // stored) depends on the order the forms were handled in, not on what was done.
    let normal = |text: &str| {
        let text = normalize(text, &names);
        match (text.find(" (found by "), text.find("); company")) {
            (Some(start), Some(end)) if start < end => format!("{}{}", &text[..start], &text[end + 1..]),
            _ => text,
        }
    };
    let mut lines = vec![format!("{} tickets", w.tickets().len())];
    for (i, c) in run.convs.iter().enumerate() {
        let conv = w.intercom.conversation(c).unwrap();
        let mut tags = w.intercom.conversation_tags(c);
        tags.sort();
        lines.push(format!(
            "C{i}: {} {tags:?} {}",
            conv.state,
            normal(&serde_json::to_string(&conv.custom_attributes).unwrap())
        ));
        for p in conv.parts.iter().filter(|p| p.author.id == s_bot(w)) {
            lines.push(format!("C{i} bot {}: {}", p.part_type, normal(p.body.as_deref().unwrap_or(""))));
        }
    }
    for t in run.tickets.iter().chain(&run.forms) {
        let ticket = w.zendesk.ticket(*t).unwrap();
        let mut tags: Vec<&str> = ticket["tags"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
        tags.sort();
        let label = normal(&t.to_string());
        lines.push(format!("{label}: {} group {} {tags:?}", ticket["status"], ticket["group_id"]));
        for c in ticket["comments"].as_array().into_iter().flatten() {
            let body = c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("");
            lines.push(format!("{label} comment public={}: {}", c["public"], normal(body)));
        }
    }
    for m in &w.intercom.state().messages {
        lines.push(format!("message {}: {}", m.message_type, normal(&m.body)));
    }
    lines.sort();
    lines
}

fn s_bot(w: &World) -> &str {
    &w.seeded.bot_admin
}

/// `text` with each token (a run of letters and digits) that is a known id replaced by its name,
/// and every other token holding a digit by `N` (times, dates, part and user ids).
fn normalize(text: &str, names: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        match names.iter().find(|(id, _)| id == token) {
            Some((_, name)) => out.push_str(name),
            None if token.chars().any(|c| c.is_ascii_digit()) => out.push('N'),
            None => out.push_str(token),
        }
        token.clear();
    };
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            token.push(ch);
        } else {
            flush(&mut token, &mut out);
            out.push(ch);
        }
    }
    flush(&mut token, &mut out);
    out
}

fn repaired(report: &SweepReport, entity: &str) -> bool {
    report.repairs.iter().any(|r| r.starts_with(&format!("{entity}: ")))
}

#[tokio::test]
async fn a_working_day_with_a_fifth_of_the_webhooks_lost_is_repaired_once_by_the_sweeps() {
    // The reference: the same day with every webhook delivered. Its sweeps find nothing to repair.
    let reference = start(|c| c).await;
    let full = working_day(&reference, Losses::None).await;
    for (name, r) in &full.reports {
        assert_eq!(r.repaired_total(), 0, "nothing was lost, so {name} repairs nothing: {r:?}");
    }
    let expected = effects(&reference.world, &full);
    drop(reference);

    let day = start(|c| c).await;
    let run = working_day(&day, Losses::AFifthAndOnePerKind).await;
    let (w, convs, tickets, forms) = (&day.world, &run.convs, &run.tickets, &run.forms);
    let dropped = w.intercom.webhooks().sent().iter().filter(|x| x.dropped).count()
        + w.zendesk.sent_webhooks().iter().filter(|x| x.dropped).count();
    let repairs: u64 = run.reports.iter().map(|(_, r)| r.repaired_total()).sum();
    eprintln!("{dropped} webhooks dropped, {repairs} repairs");
    // Each change lost on purpose was repaired by its job's sweep, and counted.
    let report = |name: &str| &run.reports.iter().find(|(n, _)| *n == name).unwrap().1;
    for (name, entity, what) in [
        ("escalate (morning)", format!("conversation:{}", convs[0]), "the lost tag"),
        ("escalate (morning)", format!("conversation:{}", convs[8]), "the lost assignment"),
        ("escalate (midday)", format!("conversation:{}", convs[2]), "the lost follow-up"),
        ("ticket-status", format!("ticket:{}", tickets[2]), "the lost answer and solve"),
        ("tag-sync", format!("ticket:{}", tickets[4]), "the lost ticket tag"),
        ("ticket-intake", format!("ticket:{}", forms[0]), "the lost web form"),
    ] {
        assert!(repaired(report(name), &entity), "{what}: {name} {:?}", report(name));
    }
    // The conversation's lost tag is not named here: tags are synced by pair, both ways, so the
    // tag-sync sweep's ticket pass carries it, or an event of the pair still being processed
    // does first. Either way it must reach Zendesk once: the comparison below checks that.
    for job in ["escalate", "ticket-status", "tag-sync", "ticket-intake"] {
        assert!(app(w).counters.get("Repaired", ("Job", job)) > 0, "metric Repaired{{Job={job}}}");
    }

    // Every effect of the full-webhook day, exactly once, and nothing else.
    let got = effects(w, &run);
    let missing: Vec<&String> = expected.iter().filter(|l| !got.contains(l)).collect();
    let extra: Vec<&String> = got.iter().filter(|l| !expected.contains(l)).collect();
    assert_eq!(got, expected, "missing {missing:#?}\nextra {extra:#?}");

    // And the reference day itself did what the configuration says.
    assert_eq!(w.tickets().len(), 6 + 3, "six escalations and three web forms, no other ticket");
    for c in &convs[5..8] {
        assert!(tickets_for(w, c).is_empty(), "conversation {c} matched no rule");
    }
    for (i, c) in convs[..5].iter().enumerate() {
        let t = tickets[i];
        assert_eq!(bot_parts(w, c, "note", &format!("/agent/tickets/{t}")), 1, "conversation {i}: one escalation note");
        assert_eq!(comments_containing(w, t, &format!("Day question {i}")), 1, "ticket {i}: one transcript");
    }
    for (i, t) in tickets[..3].iter().enumerate() {
        assert_eq!(comments_containing(w, *t, &format!("Follow-up detail {i}")), 1, "follow-up {i} appended once");
    }
    for (i, c) in convs[..3].iter().enumerate() {
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
    for f in forms {
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

#[tokio::test]
async fn a_lost_webhook_delivered_after_the_sweep_repaired_it_duplicates_nothing() {
    let day = start(|c| c).await;
    let (w, s) = (&day.world, day.world.seeded.clone());
    let solved = w.intercom.customer_starts_conversation(&s.customer, "Late solve").unwrap();
    w.intercom.admin_tags(&solved, &s.agent, "escalate").unwrap();
    let tagged = w.intercom.customer_starts_conversation(&s.customer, "Late tag").unwrap();
    quiet(w).await;
    let ticket = ticket_of(w, &solved);

    // A tag, a solve and a web form, each with every webhook lost.
    let (intercom_before, zendesk_before) = (w.intercom.webhooks().sent().len(), w.zendesk.sent_webhooks().len());
    drop_percent(w, 100);
    w.intercom.admin_tags(&tagged, &s.agent, "escalate").unwrap();
    w.zendesk.set_status(s.zendesk_agent, ticket, "solved").unwrap();
    let form = w.zendesk.submit_ticket(day.requester, "Late form", "Sent from the web form", "web").unwrap();
    drop_percent(w, 0);
    let lost_intercom: Vec<_> = w.intercom.webhooks().sent()[intercom_before..].to_vec();
    let lost_zendesk: Vec<_> = w.zendesk.sent_webhooks()[zendesk_before..].to_vec();
    assert!(lost_intercom.iter().chain(&lost_zendesk).all(|x| x.dropped));
    assert!(!lost_intercom.is_empty() && !lost_zendesk.is_empty());

    // The sweeps repair all three.
    for job in [JobKind::Escalate, JobKind::TicketStatus, JobKind::TicketIntake] {
        let report = sweep(w, job).await;
        assert_eq!(report.repaired_total(), 1, "{job:?}: {report:?}");
        quiet(w).await;
    }
    let late_ticket = ticket_of(w, &tagged);

    // Then the lost webhooks arrive after all, late (as a vendor's retry would): accepted, and
    // nothing is done twice.
    let url = w.bridge_url();
    for x in &lost_intercom {
        let body = serde_json::to_vec(&x.body).unwrap();
        assert_eq!(post_intercom(&url, &w.intercom.client_secret(), &body, None).await.unwrap().0, 200, "{}", x.topic);
    }
    for x in &lost_zendesk {
        let body = serde_json::to_vec(&x.body).unwrap();
        assert_eq!(post_zendesk(&url, &body).await.unwrap().0, 200, "{}", x.topic);
    }
    quiet(w).await;
    assert_eq!(ticket_of(w, &tagged), late_ticket, "one ticket for the late tag");
    assert_eq!(bot_parts(w, &tagged, "note", &format!("/agent/tickets/{late_ticket}")), 1, "one escalation note");
    assert_eq!(comments_containing(w, late_ticket, "Late tag"), 1, "one transcript");
    assert_eq!(bot_parts(w, &solved, "close", "was solved"), 1, "the customer told of the solve once");
    assert_eq!(comments_containing(w, form, "[bridge-routing:"), 1, "the form routed once");
    let acks = w.intercom.state().messages.iter().filter(|m| m.body.contains(&format!("#{form} is with"))).count();
    assert_eq!(acks, 1, "the form acknowledged once");
    assert_eq!(w.tickets().len(), 3);
}
