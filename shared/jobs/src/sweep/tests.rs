#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use bridge_domain::ids::*;
use bridge_domain::keys::DocKey;
use bridge_domain::model::*;
use bridge_domain::ports::Store;
use bridge_domain::sweep::SweepCursor;

use super::*;
use crate::fakes::TestPorts;

const ESCALATION: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
escalation:
  rules:
    - { name: tagged, when: { tag_added: escalate } }
    - { name: waiting, when: { threshold: { waiting_minutes: 30 } } }
"#;

fn opts() -> SweepOptions {
    SweepOptions { force: true, ..SweepOptions::default() }
}

async fn run(p: &TestPorts, job: JobKind, opts: &SweepOptions) -> Result<SweepReport, NotRun> {
    sweep(&p.ports(), job, opts, &mut |_| {}).await.unwrap()
}

fn set_clock(p: &TestPorts, t: i64) {
    *p.clock.0.lock().unwrap() = Timestamp(t);
}

/// A conversation whose customer has waited since `waiting_since`, untagged.
fn waiting(p: &TestPorts, id: &str, waiting_since: i64) {
    p.seed_tagged_conversation(id);
    let mut convs = p.intercom.conversations.lock().unwrap();
    let c = convs.get_mut(id).unwrap();
    c.tags.clear();
    c.waiting_since = Some(Timestamp(waiting_since));
    c.updated_at = Timestamp(waiting_since);
}

async fn cursor(p: &TestPorts, job: JobKind) -> SweepCursor {
    p.store.load::<SweepCursor>(&DocKey::SweepCursor(job)).await.unwrap().unwrap().value
}

#[tokio::test]
async fn a_lost_tag_webhook_is_repaired_once_and_the_next_run_finds_nothing() {
    let p = TestPorts::new(ESCALATION);
    p.seed_tagged_conversation("42");
    let report = run(&p, JobKind::Escalate, &opts()).await.unwrap();
    assert_eq!(report.repaired.get("conversation"), Some(&1), "{report:?}");
    assert_eq!(report.fired_on_time, 0);
    assert!(report.repairs[0].starts_with("conversation:42: "), "{:?}", report.repairs);
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1, "escalated");
    let c = cursor(&p, JobKind::Escalate).await;
    assert_eq!(c.since, Some(Timestamp(10_000 - bridge_domain::sweep::WINDOW_OVERLAP_SECS)));
    assert!(c.run_started.is_none() && c.pages.is_empty());

    // The bridge's own write-back changed the conversation: the next window lists it again.
    p.intercom.conversations.lock().unwrap().get_mut("42").unwrap().updated_at = Timestamp(10_000);
    let again = run(&p, JobKind::Escalate, &opts()).await.unwrap();
    assert_eq!(again.repaired_total(), 0, "{again:?}");
    assert_eq!(again.examined, 1);
    // Unchanged since: listed (the window overlaps the last run), passed without a read.
    set_clock(&p, 10_060);
    let calls = p.intercom.calls.load(std::sync::atomic::Ordering::SeqCst);
    let quiet = run(&p, JobKind::Escalate, &opts()).await.unwrap();
    assert_eq!((quiet.examined, quiet.repaired_total()), (1, 0));
    let reads = p.intercom.calls.load(std::sync::atomic::Ordering::SeqCst) - calls;
    assert_eq!(reads, 2, "the two searches (waiting, changed) and no conversation read");
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1, "no second ticket");
}

#[tokio::test]
async fn a_conversation_waiting_past_a_rule_is_escalated_by_the_sweep_without_any_event() {
    let p = TestPorts::new(ESCALATION);
    waiting(&p, "1", 10_000 - 40 * 60);
    waiting(&p, "2", 10_000 - 10 * 60);
    let report = run(&p, JobKind::Escalate, &opts()).await.unwrap();
    assert_eq!(report.fired_on_time, 1, "{report:?}");
    assert_eq!(report.repaired_total(), 0, "a rule firing on time is not a lost webhook: {:?}", report.repairs);
    let tickets = p.zendesk.tickets.lock().unwrap().clone();
    assert_eq!(tickets.len(), 1);
    let external = tickets.values().next().unwrap().0.external_id.clone().unwrap();
    assert!(external.ends_with("-1"), "{external}");

    // Linked waiting conversations are skipped without reading them again.
    let calls = p.intercom.calls.load(std::sync::atomic::Ordering::SeqCst);
    let again = run(&p, JobKind::Escalate, &SweepOptions { force: true, max_pages: Some(1), ..opts() }).await.unwrap();
    assert_eq!(again.fired_on_time, 0);
    let after = p.intercom.calls.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(after - calls, 1, "one search, no conversation read");
}

#[tokio::test]
async fn a_sweep_runs_when_due_enabled_configured_and_live() {
    let p = TestPorts::new(ESCALATION);
    let scheduled = SweepOptions::default();
    assert!(run(&p, JobKind::Escalate, &scheduled).await.is_ok(), "first run");
    assert_eq!(run(&p, JobKind::Escalate, &scheduled).await, Err(NotRun::NotDue));
    set_clock(&p, 10_000 + 5 * 60);
    assert!(run(&p, JobKind::Escalate, &scheduled).await.is_ok(), "job 1 runs every 5 minutes by default");
    assert_eq!(run(&p, JobKind::TicketStatus, &scheduled).await, Err(NotRun::NotConfigured));

    let off = TestPorts::new(&format!("{ESCALATION}sweeps: {{ escalate: {{ enabled: false }} }}\n"));
    assert_eq!(run(&off, JobKind::Escalate, &opts()).await, Err(NotRun::Disabled));

    let shadowed = TestPorts::new(&format!("{ESCALATION}shadow: [escalate]\n"));
    shadowed.seed_tagged_conversation("42");
    assert_eq!(run(&shadowed, JobKind::Escalate, &opts()).await, Err(NotRun::Shadow));
    assert!(shadowed.zendesk.tickets.lock().unwrap().is_empty());
    assert_eq!(cursor(&shadowed, JobKind::Escalate).await.since, Some(Timestamp(10_000)), "the window moved on");
}

#[tokio::test]
async fn a_paused_run_resumes_from_its_page_cursor() {
    let p = TestPorts::new(ESCALATION);
    for id in ["1", "2", "3", "4", "5"] {
        p.seed_tagged_conversation(id);
    }
    // Job 1 reads the waiting conversations first (one empty page), then the changed ones by two.
    let first = run(&p, JobKind::Escalate, &SweepOptions { max_pages: Some(2), ..opts() }).await.unwrap();
    assert!(first.paused);
    assert_eq!(first.repaired_total(), 2);
    let c = cursor(&p, JobKind::Escalate).await;
    assert_eq!(c.page("conversation"), Some("2"));
    assert_eq!(c.sources_done, vec!["waiting".to_string()], "the waiting conversations were read");
    assert_eq!(c.run_started, Some(Timestamp(10_000)));

    set_clock(&p, 10_030);
    let second = run(&p, JobKind::Escalate, &SweepOptions::default()).await.unwrap();
    assert!(!second.paused);
    assert_eq!(second.repaired_total(), 3, "the rest, not the first two again: {second:?}");
    assert_eq!(second.examined, 3, "neither the waiting source nor the first page read again");
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 5);
    let c = cursor(&p, JobKind::Escalate).await;
    assert_eq!(c.since, Some(Timestamp(10_000 - bridge_domain::sweep::WINDOW_OVERLAP_SECS)), "from the run's start");
}

#[tokio::test]
async fn a_retryable_failure_keeps_the_window_for_the_next_run() {
    let p = TestPorts::new(ESCALATION);
    p.seed_tagged_conversation("42");
    p.store.fail_next_link_write.store(true, std::sync::atomic::Ordering::SeqCst);
    let first = run(&p, JobKind::Escalate, &opts()).await.unwrap();
    assert_eq!((first.failed, first.repaired_total()), (1, 0));
    assert_eq!(cursor(&p, JobKind::Escalate).await.since, None, "the window did not move");
    let second = run(&p, JobKind::Escalate, &opts()).await.unwrap();
    assert_eq!(second.repaired_total(), 1);
    assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1, "the ticket of the failed attempt was reused");
}

const STATUS: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
ticket_status:
  on:
    solved: { message: "Ticket #{ticket_id} solved.", conversation: close }
"#;

fn ticket(id: u64, status: TicketStatus, created: i64, updated: i64) -> Ticket {
    Ticket {
        id: TicketId::new(id).unwrap(),
        subject: Some("Export broken".into()),
        status,
        priority: None,
        requester_id: Some(UserId::new(50).unwrap()),
        assignee_id: None,
        group_id: None,
        organization_id: None,
        tags: vec![],
        external_id: None,
        via_channel: Some("web".into()),
        followup_source_id: None,
        custom_fields: BTreeMap::new(),
        created_at: Timestamp(created),
        updated_at: Timestamp(updated),
    }
}

#[tokio::test]
async fn a_lost_status_change_is_applied_once_and_unlinked_tickets_are_passed() {
    let p = TestPorts::new(STATUS);
    let t = ticket(5, TicketStatus::Solved, 9_000, 9_500);
    let link = Link::new(ConversationId::parse("c1").unwrap(), t.id, t.requester_id, None, Timestamp(1));
    p.store.create_link(&link).await.unwrap();
    p.zendesk.tickets.lock().unwrap().insert(5, (t, vec![]));
    p.zendesk.tickets.lock().unwrap().insert(6, (ticket(6, TicketStatus::Solved, 9_000, 9_500), vec![]));

    let report = run(&p, JobKind::TicketStatus, &opts()).await.unwrap();
    assert_eq!(report.repaired.get("ticket"), Some(&1), "{report:?}");
    assert_eq!(report.examined, 2);
    let replies = p.intercom.replies.lock().unwrap().clone();
    assert_eq!(replies.len(), 1);
    assert!(replies[0].2.contains("Ticket #5 solved"), "{replies:?}");

    let again = run(&p, JobKind::TicketStatus, &opts()).await.unwrap();
    assert_eq!(again.repaired_total(), 0, "{again:?}");
    assert_eq!(p.intercom.replies.lock().unwrap().len(), 1, "told once");
}

const INTAKE: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
routing:
  plan_tiers: [enterprise]
  default: { group_id: 1 }
  rules: []
"#;

#[tokio::test]
async fn new_tickets_are_routed_by_the_sweep_and_old_ones_are_not() {
    let p = TestPorts::new(INTAKE);
    p.zendesk.tickets.lock().unwrap().insert(7, (ticket(7, TicketStatus::New, 9_000, 9_000), vec![]));
    let first = run(&p, JobKind::TicketIntake, &opts()).await.unwrap();
    assert_eq!(first.repaired.get("ticket"), Some(&1), "{first:?}");
    let routed = |p: &TestPorts| p.zendesk.updates.lock().unwrap().iter().filter(|(_, u)| u.group_id.is_some()).count();
    assert_eq!(routed(&p), 1);

    // Later: an old ticket is updated, a new one arrives. Only the new one is intake's.
    set_clock(&p, 20_000);
    p.zendesk.tickets.lock().unwrap().insert(8, (ticket(8, TicketStatus::Open, 1_000, 19_900), vec![]));
    p.zendesk.tickets.lock().unwrap().insert(9, (ticket(9, TicketStatus::New, 19_950, 19_950), vec![]));
    let second = run(&p, JobKind::TicketIntake, &opts()).await.unwrap();
    assert_eq!(second.repaired.get("ticket"), Some(&1), "{second:?}");
    assert_eq!(routed(&p), 2);
    assert!(second.repairs[0].starts_with("ticket:9"), "{:?}", second.repairs);
}
