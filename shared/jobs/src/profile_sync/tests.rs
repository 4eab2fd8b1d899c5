#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::keys::DocKey;
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::Store;
use bridge_domain::profiles::{CatalogField, PairState, Rule};

use super::reconcile::{drift_report, reconcile};
use super::run;
use crate::Outcome;
use crate::fakes::TestPorts;

const CONFIG: &str = r#"
version: 1
intercom: { bot_admin_id: "9" }
profiles:
  contacts:
    fields:
      - { intercom: name, zendesk: name }
      - { intercom: phone, zendesk: phone }
      - { intercom: custom_attributes.plan, zendesk: user_fields.plan, type: dropdown, options: [free, pro, enterprise] }
      - { intercom: custom_attributes.seats, zendesk: user_fields.seats, type: number }
      - { intercom: custom_attributes.region, zendesk: user_fields.region, owner: zendesk }
  companies:
    fields:
      - { intercom: name, zendesk: name }
      - { intercom: plan, zendesk: organization_fields.plan, direction: intercom_to_zendesk }
"#;

fn ports() -> TestPorts {
    let p = TestPorts::new(CONFIG);
    *p.clock.0.lock().unwrap() = Timestamp(50_000);
    p
}

fn t(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

fn event(entity: &str, actor: Option<u64>) -> QueuedEvent {
    let payload = match actor {
        Some(a) => serde_json::json!({"detail": {"actor_id": a.to_string()}}),
        None => serde_json::json!({}),
    };
    let entity: Entity = entity.parse().unwrap();
    QueuedEvent {
        vendor: entity.vendor(),
        delivery_id: "d1".into(),
        topic: "t".into(),
        entity,
        received_at: Timestamp(0),
        payload,
        trace_id: None,
        actors: Vec::new(),
    }
}

async fn state(p: &TestPorts, ic: &str) -> PairState {
    p.store
        .load(&DocKey::Profile { side: Vendor::Intercom, kind: Kind::Person, id: ic.into() })
        .await
        .unwrap()
        .unwrap()
        .value
}

#[tokio::test]
async fn new_contact_creates_the_user_with_values_and_ids_both_ways() {
    let p = ports();
    p.ic().seed(
        Kind::Person,
        "c1",
        "user",
        &[
            ("name", t("Ada")),
            ("email", t("ada@x.test")),
            ("custom_attributes.plan", t("Pro")),
            ("custom_attributes.seats", t("5")),
        ],
    );
    let out = run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    assert!(matches!(out, Outcome::Done(ref s) if s.contains("peer created")), "{out:?}");
    let users = p.zd().all(Kind::Person);
    assert_eq!(users.len(), 1);
    let u = &users[0];
    assert_eq!(u.values.get("user_fields.plan"), Some(&t("pro")), "dropdown value matched to its option");
    assert_eq!(u.values.get("user_fields.seats"), Some(&FieldValue::Int(5)), "number cast");
    assert_eq!(u.values.get("user_fields.intercom_contact_id"), Some(&t("c1")));
    assert_eq!(p.ic().value(Kind::Person, "c1", "custom_attributes.zendesk_user_id"), Some(t(&u.id)));
    let s = state(&p, "c1").await;
    assert_eq!(s.zendesk_id.as_deref(), Some(u.id.as_str()));
    assert!(
        p.store.doc_json(&DocKey::Profile { side: Vendor::Zendesk, kind: Kind::Person, id: u.id.clone() }).is_some()
    );
}

#[tokio::test]
async fn zendesk_change_flows_to_intercom_and_its_echo_is_suppressed() {
    let p = ports();
    p.ic().seed(Kind::Person, "c1", "user", &[("email", t("ada@x.test")), ("phone", t("+1 111"))]);
    p.zd().seed(Kind::Person, "7", "end-user", &[("email", t("ADA@x.test")), ("phone", t("+1 111"))]);
    run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    assert_eq!(state(&p, "c1").await.zendesk_id.as_deref(), Some("7"), "matched by normalised email");

    p.zd().human_sets(Kind::Person, "7", "phone", t("+1 222"));
    let out = run(&p.ports(), &event("user:7", Some(55))).await.unwrap();
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    assert_eq!(p.ic().value(Kind::Person, "c1", "phone"), Some(t("+1 222")));
    // Intercom's webhook for the bridge's own write comes back: dropped.
    let writes = p.zd().writes.load(Ordering::Relaxed);
    let out = run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    assert!(matches!(out, Outcome::LoopSuppressed(_)), "{out:?}");
    assert_eq!(p.zd().writes.load(Ordering::Relaxed), writes, "nothing written back");
    // A Zendesk change made by the bridge's own user (id 1 in the fakes) is dropped at once.
    let out = run(&p.ports(), &event("user:7", Some(1))).await.unwrap();
    assert!(matches!(out, Outcome::LoopSuppressed(_)), "{out:?}");
}

#[tokio::test]
async fn conflicts_follow_owner_and_newest_and_leave_audit_records() {
    let p = ports();
    p.ic().seed(
        Kind::Person,
        "c1",
        "user",
        &[("external_id", t("u1")), ("name", t("Ada")), ("custom_attributes.region", t("eu"))],
    );
    p.zd().seed(
        Kind::Person,
        "7",
        "end-user",
        &[("external_id", t("u1")), ("name", t("Ada")), ("user_fields.region", t("eu"))],
    );
    run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    assert_eq!(state(&p, "c1").await.zendesk_id.as_deref(), Some("7"), "matched by external id");
    // Both sides change both fields; Zendesk's change is the newer one for `name`.
    p.ic().human_sets(Kind::Person, "c1", "name", t("Ada I"));
    p.ic().human_sets(Kind::Person, "c1", "custom_attributes.region", t("us"));
    *p.zd().clock.lock().unwrap() = 5_000;
    p.zd().human_sets(Kind::Person, "7", "name", t("Ada Z"));
    p.zd().human_sets(Kind::Person, "7", "user_fields.region", t("apac"));
    run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    assert_eq!(p.ic().value(Kind::Person, "c1", "name"), Some(t("Ada Z")), "newest wins");
    assert_eq!(p.ic().value(Kind::Person, "c1", "custom_attributes.region"), Some(t("apac")), "owner wins");
    let audit = state(&p, "c1").await.audit;
    let name = audit.iter().rev().find(|a| a.field == "name").unwrap();
    assert_eq!(
        (name.rule, name.winner, name.intercom.clone(), name.zendesk.clone()),
        (Rule::NewestWins, Some(Vendor::Zendesk), t("Ada I"), t("Ada Z"))
    );
    assert!(audit.iter().any(|a| a.field == "custom_attributes.region" && a.rule == Rule::Owner));
}

#[tokio::test]
async fn ambiguous_email_is_reported_not_guessed() {
    let p = ports();
    p.ic().seed(Kind::Person, "c1", "user", &[("email", t("ada@x.test"))]);
    p.zd().seed(Kind::Person, "7", "end-user", &[("email", t("ada@x.test"))]);
    p.zd().seed(Kind::Person, "8", "end-user", &[("email", t("Ada@X.test"))]);
    let out = run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    assert!(matches!(out, Outcome::Skipped(ref s) if s.contains("ambiguous")), "{out:?}");
    assert_eq!(p.zd().writes.load(Ordering::Relaxed), 0);
    let doc =
        p.store.doc_json(&DocKey::ProfileAmbiguous { side: Vendor::Intercom, kind: Kind::Person, id: "c1".into() });
    let doc = doc.unwrap().to_string();
    assert!(doc.contains("\"7\"") && doc.contains("\"8\"") && doc.contains("email"), "{doc}");
}

#[tokio::test]
async fn leads_and_agents_are_out_of_scope() {
    let p = ports();
    p.ic().seed(Kind::Person, "c1", "lead", &[("email", t("lead@x.test"))]);
    p.zd().seed(Kind::Person, "7", "agent", &[("email", t("agent@x.test"))]);
    assert!(matches!(run(&p.ports(), &event("contact:c1", None)).await.unwrap(), Outcome::Skipped(_)));
    assert!(matches!(run(&p.ports(), &event("user:7", None)).await.unwrap(), Outcome::Skipped(_)));
    assert!(p.zd().all(Kind::Person).len() == 1 && p.ic().all(Kind::Person).len() == 1);
}

#[tokio::test]
async fn company_plan_reaches_the_organization_and_membership_follows() {
    let p = ports();
    p.ic().seed(Kind::Org, "co1", "", &[("external_id", t("acme")), ("name", t("Acme")), ("plan", t("gold"))]);
    p.ic().seed(Kind::Person, "c1", "user", &[("email", t("ada@x.test"))]);
    p.ic().records.lock().unwrap().get_mut(&(Kind::Person, "c1".into())).unwrap().orgs = vec!["co1".into()];
    run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    let orgs = p.zd().all(Kind::Org);
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].values.get("organization_fields.plan"), Some(&t("gold")));
    assert_eq!(orgs[0].values.get("external_id"), Some(&t("acme")));
    let user = &p.zd().all(Kind::Person)[0];
    assert_eq!(user.orgs, vec![orgs[0].id.clone()], "the user joined the organization");
    // A plan change on the company flows (one-way field).
    p.ic().human_sets(Kind::Org, "co1", "plan", t("platinum"));
    run(&p.ports(), &event("company:co1", None)).await.unwrap();
    assert_eq!(p.zd().value(Kind::Org, &orgs[0].id, "organization_fields.plan"), Some(t("platinum")));
}

#[tokio::test]
async fn reconciliation_repairs_missed_changes_and_moves_the_cursor() {
    let p = ports();
    p.ic().seed(Kind::Person, "c1", "user", &[("email", t("a@x.test")), ("phone", t("1"))]);
    p.ic().seed(Kind::Person, "c2", "user", &[("email", t("b@x.test")), ("phone", t("2"))]);
    run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    run(&p.ports(), &event("contact:c2", None)).await.unwrap();
    // Changes whose webhooks were lost, one on each side.
    p.ic().human_sets(Kind::Person, "c1", "phone", t("11"));
    let zd2 = state(&p, "c2").await.zendesk_id.unwrap();
    p.zd().human_sets(Kind::Person, &zd2, "phone", t("22"));
    // A contact never seen.
    p.ic().seed(Kind::Person, "c3", "user", &[("email", t("c@x.test"))]);
    let report = reconcile(&p.ports(), 86_400).await.unwrap();
    assert_eq!(report.failed, 0);
    assert!(report.repaired >= 3, "{report:?}");
    let zd1 = state(&p, "c1").await.zendesk_id.unwrap();
    assert_eq!(p.zd().value(Kind::Person, &zd1, "phone"), Some(t("11")));
    assert_eq!(p.ic().value(Kind::Person, "c2", "phone"), Some(t("22")));
    assert_eq!(p.zd().all(Kind::Person).len(), 3);
    assert!(p.store.doc_json(&DocKey::ProfileCursor { side: Vendor::Intercom, kind: Kind::Person }).is_some());
    // A second pass finds nothing left to repair.
    let again = reconcile(&p.ports(), 86_400).await.unwrap();
    assert_eq!(again.repaired, 0, "{again:?}");
}

#[tokio::test]
async fn drift_reports_new_unmapped_fields_on_either_side() {
    let p = ports();
    let f = |path: &str| CatalogField { path: path.into(), data_type: "string".into(), options: vec![] };
    *p.ic().catalog.lock().unwrap() = vec![
        f("custom_attributes.plan"),
        f("custom_attributes.seats"),
        f("custom_attributes.region"),
        f("custom_attributes.zendesk_user_id"),
    ];
    let found = drift_report(&p.ports()).await.unwrap();
    assert!(found.iter().all(|d| !matches!(
        d,
        bridge_domain::profiles::DriftFinding::Unmapped { side: Vendor::Intercom, kind: Kind::Person, .. }
    )));
    p.ic().catalog.lock().unwrap().push(f("custom_attributes.shoe_size"));
    let found = drift_report(&p.ports()).await.unwrap();
    assert!(found.iter().any(|d| matches!(d, bridge_domain::profiles::DriftFinding::Unmapped { path, .. } if path == "custom_attributes.shoe_size")));
}

#[tokio::test]
async fn a_backfill_is_in_progress_only_between_its_first_page_and_its_last() {
    use super::backfill::{BackfillOptions, BackfillState, backfill, in_progress};
    let p = ports();
    for i in 0..3 {
        p.ic().seed(Kind::Person, &format!("c{i}"), "user", &[("email", t(&format!("u{i}@x.test")))]);
    }
    assert!(!in_progress(&p.store).await.unwrap(), "never ran: nothing to continue");
    // A run paused halfway (deadline): the cursor is stored, not done.
    let halfway = BackfillState { next: Some("page-2".into()), pages: 1, ..BackfillState::default() };
    p.store.save(&DocKey::ProfileBackfill, &halfway, None).await.unwrap();
    assert!(in_progress(&p.store).await.unwrap(), "paused: a continuation resumes it");
    let end = backfill(&p.ports(), &BackfillOptions::default(), &mut |_| {}).await.unwrap();
    assert_eq!(end.state.pages, 2, "resumed from the stored cursor");
    assert!(!in_progress(&p.store).await.unwrap(), "finished: a continuation does nothing");
}

#[tokio::test]
async fn a_paused_backfill_leaves_its_jobs_in_flight_and_the_next_run_collects_them() {
    use super::backfill::{BackfillEnd, BackfillOptions, BackfillState, PendingJob, backfill};
    let p = ports();
    *p.zd().jobs.lock().unwrap() = Some(BTreeMap::new());
    for i in 0..3 {
        p.ic().seed(Kind::Person, &format!("c{i}"), "user", &[("email", t(&format!("u{i}@x.test")))]);
    }
    let one_page = BackfillOptions { max_pages: Some(1), ..BackfillOptions::default() };
    let first = backfill(&p.ports(), &one_page, &mut |_| {}).await.unwrap();
    assert_eq!(first.end, BackfillEnd::Paused);
    let st = &first.state;
    assert_eq!((st.pages, st.read, st.written), (1, 3, 0), "submitted, not yet collected: {st:?}");
    assert_eq!(st.pending.len(), 1, "the job in flight is stored with the cursor");
    assert!(st.read_all && !st.done);

    let second = backfill(&p.ports(), &BackfillOptions::default(), &mut |_| {}).await.unwrap();
    assert_eq!(second.end, BackfillEnd::Finished);
    assert_eq!(second.pages_this_run, 0, "nothing read again");
    let st = &second.state;
    assert_eq!((st.written, st.failed, st.unconfirmed), (3, 0, 0), "{st:?}");
    assert!(st.pending.is_empty() && st.done);

    // Resumed too late: Zendesk forgot the job. Its records count as unconfirmed, not written.
    let stale = BackfillState {
        pages: 1,
        read: 2,
        read_all: true,
        pending: vec![PendingJob { job: "expired".into(), sources: vec!["c0".into(), "c1".into()] }],
        ..BackfillState::default()
    };
    p.store
        .save(
            &DocKey::ProfileBackfill,
            &stale,
            Some(p.store.load::<BackfillState>(&DocKey::ProfileBackfill).await.unwrap().unwrap().version),
        )
        .await
        .unwrap();
    let third = backfill(&p.ports(), &BackfillOptions::default(), &mut |_| {}).await.unwrap();
    assert_eq!((third.state.written, third.state.unconfirmed, third.state.done), (0, 2, true), "{:?}", third.state);
}

/// Drift alerts that remember what they saw.
#[derive(Default)]
struct RecordedAlerts {
    counted: AtomicU64,
    published: Mutex<Vec<(String, String)>>,
    fail_publish: std::sync::atomic::AtomicBool,
}

impl super::alerts::DriftAlerts for RecordedAlerts {
    fn finding(&self, _: &bridge_domain::profiles::DriftFinding) {
        self.counted.fetch_add(1, Ordering::Relaxed);
    }
    async fn publish(&self, subject: &str, body: &str) -> Result<(), bridge_domain::ports::PortError> {
        if self.fail_publish.swap(false, Ordering::Relaxed) {
            return Err(bridge_domain::ports::PortError::unavailable(bridge_domain::ports::Service::Queue, "down"));
        }
        self.published.lock().unwrap().push((subject.into(), body.into()));
        Ok(())
    }
}

#[tokio::test]
async fn drift_runs_count_every_finding_and_publish_only_a_new_report() {
    let p = ports();
    let alerts = RecordedAlerts::default();
    let f = |path: &str| CatalogField { path: path.into(), data_type: "string".into(), options: vec![] };
    *p.ic().catalog.lock().unwrap() = vec![f("custom_attributes.plan"), f("custom_attributes.zendesk_user_id")];
    let first = super::alerts::run_drift(&p.ports(), &alerts).await.unwrap();
    p.ic().catalog.lock().unwrap().push(f("custom_attributes.shoe_size"));
    // The topic is down: the run fails and the report is not stored, so the next run publishes.
    alerts.fail_publish.store(true, Ordering::Relaxed);
    assert!(super::alerts::run_drift(&p.ports(), &alerts).await.is_err());
    let run = super::alerts::run_drift(&p.ports(), &alerts).await.unwrap();
    assert!(run.published && run.changed);
    assert!(run.findings.len() > first.findings.len());
    assert_eq!(alerts.counted.load(Ordering::Relaxed), (first.findings.len() + 2 * run.findings.len()) as u64);
    let published = alerts.published.lock().unwrap().clone();
    let (subject, body) = published.last().unwrap();
    assert!(subject.starts_with("Profile schema drift"), "{subject}");
    assert!(body.contains("custom_attributes.shoe_size"), "{body}");
    let n = published.len();
    let again = super::alerts::run_drift(&p.ports(), &alerts).await.unwrap();
    assert!(!again.published, "an unchanged report is not published twice");
    assert_eq!(alerts.published.lock().unwrap().len(), n);
}

#[tokio::test]
async fn a_shadow_run_reads_the_directories_and_plans_the_profile_writes_without_making_them() {
    use crate::shadow::{Action, Plan, Shadow};
    let p = ports();
    p.ic().seed(
        Kind::Person,
        "c1",
        "user",
        &[("name", t("Ada")), ("email", t("ada@x.test")), ("custom_attributes.plan", t("Pro"))],
    );
    let plan = Plan::default();
    let shadow = Shadow::new(&p.ports(), &plan);
    let out = run(&shadow.ports(), &event("contact:c1", None)).await.unwrap();
    assert!(matches!(out, Outcome::Done(ref s) if s.contains("peer created")), "{out:?}");
    let actions = plan.actions();
    let created = actions.iter().find_map(|a| match a {
        Action::WriteProfile { side: "zendesk", entity: "user", id: None, fields } => Some(fields.clone()),
        _ => None,
    });
    let fields = created.unwrap_or_else(|| panic!("no planned Zendesk user creation: {actions:?}"));
    assert!(fields.contains(&"user_fields.plan".to_string()) && fields.contains(&"name".to_string()), "{fields:?}");
    assert!(
        actions.iter().any(|a| matches!(a, Action::WriteProfile { side: "intercom", entity: "contact", id: Some(id), .. } if id == "c1")),
        "the Zendesk id planned onto the contact: {actions:?}"
    );
    // Nothing was written: no Zendesk user, no id on the contact, no pair state in the real store.
    assert!(p.zd().all(Kind::Person).is_empty());
    assert_eq!(p.zd().writes.load(Ordering::Relaxed) + p.ic().writes.load(Ordering::Relaxed), 0);
    assert_eq!(p.ic().value(Kind::Person, "c1", "custom_attributes.zendesk_user_id"), None);
    assert!(
        p.store.doc_json(&DocKey::Profile { side: Vendor::Intercom, kind: Kind::Person, id: "c1".into() }).is_none()
    );
    // Live does what the shadow planned.
    run(&p.ports(), &event("contact:c1", None)).await.unwrap();
    assert_eq!(p.zd().all(Kind::Person).len(), 1);
}

#[tokio::test]
async fn a_backfill_polls_its_jobs_in_flight_together_about_one_zendesk_call_a_page() {
    use super::backfill::{BackfillEnd, BackfillOptions, MAX_PENDING, backfill};
    let p = ports();
    // Zendesk-like jobs: each answers `Running` to its first poll, then `Done`.
    *p.zd().jobs.lock().unwrap() = Some(BTreeMap::new());
    for i in 0..400 {
        p.ic().seed(Kind::Person, &format!("c{i:03}"), "user", &[("email", t(&format!("u{i}@x.test")))]);
    }
    let opts = BackfillOptions { page_size: 10, ..BackfillOptions::default() };
    let done = backfill(&p.ports(), &opts, &mut |_| {}).await.unwrap();
    assert_eq!(done.end, BackfillEnd::Finished);
    let st = &done.state;
    assert_eq!((st.pages, st.read, st.written, st.failed), (40, 400, 400, 0), "{st:?}");
    let polls = p.zd().polls.load(Ordering::Relaxed);
    // Polled only with MAX_PENDING jobs in flight or at the end, all of them in one call: two
    // rounds per MAX_PENDING pages (one finds them working, the next finished), not two polls
    // for every job (80).
    assert!(polls <= 2 * st.pages.div_ceil(MAX_PENDING as u64), "{polls} polls for {} pages", st.pages);
    assert_eq!(done.zendesk.granted, st.pages + polls, "one bulk write a page, plus the poll rounds");
}

#[tokio::test]
async fn a_new_backfill_that_pauses_before_its_first_page_is_still_in_progress() {
    use super::backfill::{BackfillEnd, BackfillOptions, backfill, in_progress};
    use std::time::Instant;
    let p = ports();
    p.ic().seed(Kind::Person, "c0", "user", &[("email", t("u0@x.test"))]);
    // Its deadline has come before the first page (or a vendor's window opens after it).
    let opts = BackfillOptions { stop_at: Some(Instant::now()), ..BackfillOptions::default() };
    let run = backfill(&p.ports(), &opts, &mut |_| {}).await.unwrap();
    assert_eq!((run.end, run.state.read), (BackfillEnd::Paused, 0));
    assert!(in_progress(&p.store).await.unwrap(), "stored: the continuation (queue or schedule) takes it up");
    let next = backfill(&p.ports(), &BackfillOptions::default(), &mut |_| {}).await.unwrap();
    assert_eq!((next.end, next.state.written), (BackfillEnd::Finished, 1), "{:?}", next.state);
}

#[tokio::test]
async fn a_backfill_with_a_deadline_pauses_rather_than_wait_for_a_window_past_it() {
    use super::backfill::{BackfillEnd, BackfillOptions, backfill};
    use super::rate::RateClass;
    use std::time::{Duration, Instant};
    let p = ports();
    for i in 0..5 {
        p.ic().seed(Kind::Person, &format!("c{i}"), "user", &[("email", t(&format!("u{i}@x.test")))]);
    }
    // Zendesk allows 2 calls per 2 s: the third page's write would wait for the next window,
    // past the deadline 500 ms away.
    let zendesk = RateClass { headroom: 0.0, ..RateClass::new(Vendor::Zendesk, "api", 2, Duration::from_secs(2)) };
    let opts = BackfillOptions {
        page_size: 1,
        zendesk: zendesk.clone(),
        stop_at: Some(Instant::now() + Duration::from_millis(500)),
        ..BackfillOptions::default()
    };
    let started = Instant::now();
    let run = backfill(&p.ports(), &opts, &mut |_| {}).await.unwrap();
    assert_eq!(run.end, BackfillEnd::Paused);
    assert!(started.elapsed() < Duration::from_millis(400), "paused at once, not waiting: {:?}", started.elapsed());
    assert_eq!((run.state.pages, run.state.written), (2, 2), "{:?}", run.state);
    // The next run (no deadline) waits for the windows and goes on from the stored cursor.
    let next =
        backfill(&p.ports(), &BackfillOptions { page_size: 1, zendesk, ..BackfillOptions::default() }, &mut |_| {})
            .await
            .unwrap();
    assert_eq!((next.end, next.state.written, next.pages_this_run), (BackfillEnd::Finished, 5, 3), "{:?}", next.state);
}
