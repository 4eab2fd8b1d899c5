//! The profile backfill scenario, shared by the end-to-end test (`tests/e2e/profile_backfill.rs`)
//! and the benchmark (`benches/profile_backfill.rs`): N contacts in the Intercom simulator, both
//! simulators rate limited, a backfill into Zendesk through the real clients and the shared
//! budgets in DynamoDB (moto), optionally killed midway and restarted ([`run`]); or the deployed
//! path ([`run_scheduled`]): `profile-sync`'s `backfill` command, then `backfill-continue` from
//! the continuation message a paused run leaves on the function's queue (or, failing that, from
//! its schedule), each run with the function's time budget.
//!
//! The rate-limit floor ([`Floor`]) comes from the data and the vendors' limits alone: the records
//! to copy, the records one call of each endpoint carries, each vendor's limit per window.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bridge_domain::routing::JobKind;
use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, BackfillReport, backfill, load_state};
use bridge_jobs::profile_sync::rate::RateClass;
use bridge_runtime::drift_alerts::SnsDriftAlerts;
use bridge_runtime::schedules::{BACKFILL_MARGIN, CommandRun, ProfileCommand, ProfileSyncInput, run_profile_sync};
use serde_json::json;

use crate::World;

/// The `profiles:` section the scenario runs with.
pub const PROFILES: &str = r#"
profiles:
  contacts:
    fields:
      - { intercom: name, zendesk: name }
      - { intercom: phone, zendesk: phone }
      - { intercom: custom_attributes.plan, zendesk: user_fields.plan, type: dropdown, options: [free, pro, enterprise] }
"#;

/// What to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Contacts seeded in Intercom.
    pub contacts: usize,
    /// Intercom simulator: requests per window.
    pub intercom_limit: u32,
    /// Intercom simulator window.
    pub intercom_window: Duration,
    /// Zendesk simulator: requests per window.
    pub zendesk_limit: u32,
    /// Zendesk simulator window.
    pub zendesk_window: Duration,
    /// Abort the first run once this many pages are stored (then restart).
    pub kill_after_pages: Option<u64>,
    /// Fraction of each limit the backfill leaves unused ([`RateClass::headroom`]; 0.1 by
    /// default, 0.0 when the backfill has the account to itself).
    pub headroom: f64,
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The last run's report.
    pub report: BackfillReport,
    /// Wall time of the whole backfill (both runs, seeding excluded).
    pub elapsed: Duration,
    /// Pages the backfill needed.
    pub pages: u64,
    /// Intercom contact searches answered 200.
    pub searches: usize,
    /// Zendesk bulk writes answered 200.
    pub bulk_writes: usize,
    /// Requests made to Intercom / Zendesk (all answers).
    pub intercom_calls: usize,
    /// Requests made to Zendesk.
    pub zendesk_calls: usize,
    /// Requests answered 429 (both simulators).
    pub throttled: u64,
    /// Seeded contacts with no Zendesk user afterwards.
    pub missing: usize,
    /// The rate-limit floor from the records and the limits ([`Floor`]).
    pub floor: Duration,
    /// How [`Measured::floor`] was made.
    pub floor_parts: Floor,
    /// The floor as earlier runs reported it: the calls this run made (answered other than 429)
    /// at each vendor's rate, the slower vendor's. Kept for comparison only.
    pub calls_floor: Duration,
}

/// The least time `records` can take to copy under the vendors' rate limits: each vendor's
/// calls = ceil(records / records per call), its time = calls / limit per window x window; the
/// floor is the slower vendor's time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor {
    /// Records to copy (Intercom's `total_count` of contacts).
    pub records: u64,
    /// Records per Intercom contact search (the page size the backfill asks for).
    pub intercom_per_call: u64,
    /// Records per Zendesk `create_or_update_many` (the backfill's page, at most the endpoint's 100).
    pub zendesk_per_call: u64,
    /// Intercom calls needed.
    pub intercom_calls: u64,
    /// Zendesk calls needed.
    pub zendesk_calls: u64,
    /// Intercom's time at its limit.
    pub intercom: Duration,
    /// Zendesk's time at its limit.
    pub zendesk: Duration,
}

/// Users one Zendesk `create_or_update_many` takes (the API's documented maximum; the
/// simulator refuses more).
pub const ZENDESK_BULK_MAX: u64 = 100;

impl Floor {
    /// The floor of copying `records` with `page_size` records per Intercom search and per
    /// Zendesk bulk job, at the scenario's limits (the simulators run at exactly these).
    pub fn new(records: u64, page_size: u32, s: &Scenario) -> Self {
        let intercom_per_call = u64::from(page_size).max(1);
        let zendesk_per_call = intercom_per_call.min(ZENDESK_BULK_MAX);
        let intercom_calls = records.div_ceil(intercom_per_call);
        let zendesk_calls = records.div_ceil(zendesk_per_call);
        let at = |calls: u64, limit: u32, window: Duration| {
            Duration::from_secs_f64(calls as f64 / f64::from(limit.max(1)) * window.as_secs_f64())
        };
        Floor {
            records,
            intercom_per_call,
            zendesk_per_call,
            intercom_calls,
            zendesk_calls,
            intercom: at(intercom_calls, s.intercom_limit, s.intercom_window),
            zendesk: at(zendesk_calls, s.zendesk_limit, s.zendesk_window),
        }
    }

    /// The slower vendor's time.
    pub fn time(&self) -> Duration {
        self.intercom.max(self.zendesk)
    }
}

impl Measured {
    /// Fraction of calls answered 429.
    pub fn throttled_ratio(&self) -> f64 {
        self.throttled as f64 / (self.intercom_calls + self.zendesk_calls).max(1) as f64
    }
    /// Backfill time over the rate-limit floor.
    pub fn floor_ratio(&self) -> f64 {
        self.elapsed.as_secs_f64() / self.floor.as_secs_f64().max(1e-9)
    }
}

/// The email of seeded contact `i`.
pub fn email(i: usize) -> String {
    format!("bf{i}@example.test")
}

/// Starts a world for the scenario: profiles configured, the bridge's workers and webhooks off
/// (the backfill alone talks to the vendors, so the 429 count is the backfill's).
pub async fn world(contacts: usize) -> anyhow::Result<World> {
    let mut world = World::start_with(|c| format!("{c}{PROFILES}")).await?;
    world.stop_bridge().await;
    world.intercom.seed_data_attribute("contact", "plan", "string", true);
    world.intercom.seed_data_attribute("contact", "zendesk_user_id", "string", true);
    world.zendesk.add_user_field("plan", "Plan", "text");
    world.zendesk.add_user_field("intercom_contact_id", "Intercom contact", "text");
    let plans = ["free", "pro", "enterprise"];
    let contacts = (0..contacts).map(|i| {
        let mut attrs = serde_json::Map::new();
        attrs.insert("plan".into(), json!(plans[i % 3]));
        bridge_sim::intercom::state::Contact {
            role: "user".into(),
            email: Some(email(i)),
            name: Some(format!("Backfill Person {i}")),
            phone: Some(format!("+1 555 {i:07}")),
            custom_attributes: attrs,
            ..Default::default()
        }
    });
    world.intercom.seed_contacts(contacts.collect()).map_err(|e| anyhow::anyhow!("seed contacts: {e:?}"))?;
    Ok(world)
}

/// Sets the simulators' limits; returns their 429 counts so far.
fn limit_vendors(world: &World, s: &Scenario) -> (u64, u64) {
    world.intercom.set_rate_limit(s.intercom_limit, s.intercom_window);
    world.zendesk.gate().set_rate_limit(s.zendesk_limit, s.zendesk_window);
    (world.intercom.gate().throttled_count(), world.zendesk.gate().throttled_count())
}

/// Runs the backfill on a prepared world and measures it.
pub async fn run(world: &World, s: &Scenario) -> anyhow::Result<Measured> {
    let throttled_before = limit_vendors(world, s);
    let opts = BackfillOptions {
        intercom: RateClass {
            headroom: s.headroom,
            ..RateClass::new(bridge_domain::event::Vendor::Intercom, "api", s.intercom_limit, s.intercom_window)
        },
        zendesk: RateClass {
            headroom: s.headroom,
            ..RateClass::new(bridge_domain::event::Vendor::Zendesk, "api", s.zendesk_limit, s.zendesk_window)
        },
        ..BackfillOptions::default()
    };
    let started = Instant::now();
    if let Some(kill_at) = s.kill_after_pages {
        // First run, killed (task aborted wherever it is) once `kill_at` pages are stored.
        let app = Arc::new(world.app()?);
        let stored = Arc::new(AtomicU64::new(0));
        let (app2, stored2, opts2) = (app.clone(), stored.clone(), opts.clone());
        let task = tokio::spawn(async move {
            let mut seen = |st: &bridge_jobs::profile_sync::backfill::BackfillState| {
                stored2.store(st.pages, Ordering::SeqCst);
            };
            let config = app2.config().await;
            backfill(&app2.ports(&config), &opts2, &mut seen).await
        });
        while stored.load(Ordering::SeqCst) < kill_at && !task.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        task.abort();
        let _ = task.await;
    }
    let app = world.app()?;
    let config = app.config().await;
    let report =
        backfill(&app.ports(&config), &opts, &mut |_| {}).await.map_err(|e| anyhow::anyhow!("backfill: {e}"))?;
    let elapsed = started.elapsed();
    anyhow::ensure!(report.end == BackfillEnd::Finished, "the backfill did not finish: {report:?}");
    measure(world, s, report, elapsed, opts.page_size, throttled_before)
}

/// How the deployed `profile-sync` function runs a backfill: each invocation gets the function's
/// timeout and pauses [`Schedule::margin`] before its deadline; the continuation fires every
/// [`Schedule::period`].
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// The function's timeout (`ProfileSyncFunction` `Timeout` in infra/template.yaml).
    pub timeout: Duration,
    /// Time kept free before the deadline (`bridge_runtime::schedules::BACKFILL_MARGIN`, what
    /// functions/profile-sync uses).
    pub margin: Duration,
    /// Period of the `backfill-continue` schedule (`rate(5 minutes)` in infra/template.yaml).
    pub period: Duration,
}

impl Schedule {
    /// As deployed: 240 s timeout, the function's margin ([`BACKFILL_MARGIN`], 15 s), every 5
    /// minutes.
    pub const DEPLOYED: Schedule =
        Schedule { timeout: Duration::from_secs(240), margin: BACKFILL_MARGIN, period: Duration::from_secs(300) };
}

/// One invocation of the deployed path.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `backfill` (the operator's start), `backfill-continue (queue)` (the hand-over message) or
    /// `backfill-continue (schedule)`.
    pub action: &'static str,
    /// When it was invoked, from the start of the backfill.
    pub at: Duration,
    /// How long it ran.
    pub ran: Duration,
    /// What the function answered.
    pub answer: serde_json::Value,
}

/// The deployed path: at 0 the operator's `{"action": "backfill"}`; each run that pauses puts
/// `{"action": "backfill-continue"}` on `profile-sync`'s queue (moto), which the event source
/// mapping delivers at once: the driver receives it (a 1 s long poll, about what the mapping
/// takes), deletes it and runs the continuation. When no message comes, the `backfill-continue`
/// schedule's next firing (every period, counted from the start) runs it instead. Each run is
/// what the Lambda main runs, `run_profile_sync` with `stop_at` = its deadline less the margin
/// and the scenario's headroom (`BRIDGE_BACKFILL_HEADROOM`, 10 % by default), over the default
/// backfill options, on the prepared world; the simulators are limited as `s` says.
/// `Measured::elapsed` runs from the start to the end of the run that finished.
pub async fn run_scheduled(
    world: &World,
    s: &Scenario,
    schedule: Schedule,
) -> anyhow::Result<(Measured, Vec<Invocation>)> {
    let throttled_before = limit_vendors(world, s);
    let app = world.app()?;
    let alerts = SnsDriftAlerts::new(&app.counters, &world.sdk, None);
    let started = Instant::now();
    let mut invocations = Vec::new();
    let mut action = "backfill";
    for n in 0u32.. {
        let command = if n == 0 { ProfileCommand::Backfill } else { ProfileCommand::BackfillContinue };
        let invoked = Instant::now();
        // As functions/profile-sync's handler: the time left to the deadline, less the margin.
        let stop_at = invoked + schedule.timeout.saturating_sub(schedule.margin);
        let run = CommandRun { stop_at: Some(stop_at), headroom: s.headroom };
        let answer = run_profile_sync(&app, &alerts, ProfileSyncInput::Command(command), run)
            .await
            .map_err(|e| anyhow::anyhow!("{action}: {e}"))?;
        let ran = invoked.elapsed();
        anyhow::ensure!(ran <= schedule.timeout, "{action} ran {ran:?}, past the function's timeout");
        let end = answer["end"].as_str().unwrap_or_default().to_string();
        invocations.push(Invocation { action, at: invoked - started, ran, answer });
        match end.as_str() {
            "finished" => break,
            "paused" => {}
            other => anyhow::bail!("{action} answered {other:?}"),
        }
        anyhow::ensure!(n < 100, "no end after {n} invocations");
        // The hand-over: the continuation message on the function's queue, else the schedule.
        let handed_over = app.queue.receive(JobKind::ProfileSync, 10, 1).await?;
        let handles: Vec<String> = handed_over.iter().map(|m| m.receipt_handle.clone()).collect();
        if !handles.is_empty() {
            app.queue.delete_many(JobKind::ProfileSync, &handles).await?;
        }
        if handed_over.iter().any(|m| m.body.contains("backfill-continue")) {
            action = "backfill-continue (queue)";
        } else {
            action = "backfill-continue (schedule)";
            let periods = started.elapsed().as_secs() / schedule.period.as_secs().max(1) + 1;
            let next_firing = started + schedule.period * u32::try_from(periods).unwrap_or(u32::MAX);
            tokio::time::sleep_until(next_firing.into()).await;
        }
    }
    let elapsed = started.elapsed();
    let state = load_state(&app.store).await?.ok_or_else(|| anyhow::anyhow!("no backfill state"))?;
    let report = BackfillReport {
        end: BackfillEnd::Finished,
        pages_this_run: state.pages,
        state,
        intercom: Default::default(),
        zendesk: Default::default(),
        elapsed,
    };
    let measured = measure(world, s, report, elapsed, BackfillOptions::default().page_size, throttled_before)?;
    Ok((measured, invocations))
}

/// What a finished backfill did, against the floor.
fn measure(
    world: &World,
    s: &Scenario,
    report: BackfillReport,
    elapsed: Duration,
    page_size: u32,
    (ic_before, zd_before): (u64, u64),
) -> anyhow::Result<Measured> {
    let ic = world.intercom.gate().recorder.all();
    let zd = world.zendesk.exchanges();
    let searches = ic.iter().filter(|e| e.path.ends_with("/contacts/search") && e.status == 200).count();
    let bulk_writes = zd.iter().filter(|e| e.path.ends_with("/users/create_or_update_many") && e.status == 200).count();
    let users = world.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
    let emails: std::collections::HashSet<String> =
        users.iter().filter_map(|u| u["email"].as_str().map(str::to_ascii_lowercase)).collect();
    let missing = (0..s.contacts).filter(|i| !emails.contains(&email(*i))).count();
    let pages = report.state.pages;
    let records = report.state.total.unwrap_or(report.state.read);
    let floor_parts = Floor::new(records, page_size, s);
    // The earlier floor, from the calls made (answered other than 429), for comparison.
    let rate = |limit: u32, window: Duration| f64::from(limit) / window.as_secs_f64();
    let needed = |calls: &[bridge_sim::common::Exchange]| calls.iter().filter(|e| e.status != 429).count() as f64;
    let ic_floor = needed(&ic) / rate(s.intercom_limit, s.intercom_window);
    let zd_floor = needed(&zd) / rate(s.zendesk_limit, s.zendesk_window);
    Ok(Measured {
        report,
        elapsed,
        pages,
        searches,
        bulk_writes,
        intercom_calls: ic.len(),
        zendesk_calls: zd.len(),
        throttled: world.intercom.gate().throttled_count() - ic_before + world.zendesk.gate().throttled_count()
            - zd_before,
        missing,
        floor: floor_parts.time(),
        floor_parts,
        calls_floor: Duration::from_secs_f64(ic_floor.max(zd_floor)),
    })
}
