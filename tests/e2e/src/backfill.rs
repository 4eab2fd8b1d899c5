//! The profile backfill scenario, shared by the end-to-end test (`tests/e2e/profile_backfill.rs`)
//! and the benchmark (`benches/profile_backfill.rs`): N contacts in the Intercom simulator, both
//! simulators rate limited, a backfill into Zendesk through the real clients and the shared
//! budgets in DynamoDB (moto), optionally killed midway and restarted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, BackfillReport, backfill};
use bridge_jobs::profile_sync::rate::RateClass;
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
    /// The rate-limit floor: the slower vendor's calls needed / allowed rate.
    pub floor: Duration,
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

/// Runs the backfill on a prepared world and measures it.
pub async fn run(world: &World, s: &Scenario) -> anyhow::Result<Measured> {
    world.intercom.set_rate_limit(s.intercom_limit, s.intercom_window);
    world.zendesk.gate().set_rate_limit(s.zendesk_limit, s.zendesk_window);
    let ic_before = world.intercom.gate().throttled_count();
    let zd_before = world.zendesk.gate().throttled_count();
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

    let ic = world.intercom.gate().recorder.all();
    let zd = world.zendesk.exchanges();
    let searches = ic.iter().filter(|e| e.path.ends_with("/contacts/search") && e.status == 200).count();
    let bulk_writes = zd.iter().filter(|e| e.path.ends_with("/users/create_or_update_many") && e.status == 200).count();
    let users = world.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
    let emails: std::collections::HashSet<String> =
        users.iter().filter_map(|u| u["email"].as_str().map(str::to_ascii_lowercase)).collect();
    let missing = (0..s.contacts).filter(|i| !emails.contains(&email(*i))).count();
    let pages = report.state.pages;
    // The floor: the calls the backfill needed (answered other than 429) at each vendor's rate.
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
        floor: Duration::from_secs_f64(ic_floor.max(zd_floor)),
    })
}
