//! `bridge reconcile profiles` and `bridge backfill profiles` (job 2); `config check --live`.

use std::time::Duration;

use bridge_domain::event::Vendor;
use bridge_domain::profiles::DriftFinding;

use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, BackfillState, backfill};
use bridge_jobs::profile_sync::rate::RateClass;
use bridge_jobs::profile_sync::reconcile::reconcile;
use bridge_runtime::app::{App, aws_config};
use bridge_runtime::catalogs::check_live;
use bridge_runtime::settings::{Env, ProcessEnv, WorkerSettings};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

/// `bridge backfill …`.
#[derive(Debug, Subcommand)]
pub enum BackfillAction {
    /// Write every Intercom contact to Zendesk in bulk; resumes from the stored cursor.
    Profiles {
        /// Start over even if a previous backfill finished or stopped halfway.
        #[arg(long)]
        restart: bool,
        /// Stop (resumable) after this many pages of 100.
        #[arg(long)]
        max_pages: Option<u64>,
        /// Zendesk requests allowed per minute on this account.
        #[arg(long, env = "ZENDESK_RATE_LIMIT", default_value_t = 700)]
        zendesk_per_minute: u32,
        /// Intercom requests allowed per 10 seconds on this app.
        #[arg(long, env = "INTERCOM_RATE_LIMIT", default_value_t = 1666)]
        intercom_per_10s: u32,
        /// Fraction of each vendor limit left to other callers (0 to 0.5; 0 only while nothing
        /// else calls the accounts).
        #[arg(long, env = "BRIDGE_BACKFILL_HEADROOM", default_value_t = 0.1)]
        headroom: f64,
    },
}

/// The adapters, from the worker environment.
pub async fn app() -> anyhow::Result<App> {
    let settings = WorkerSettings::from_env(&ProcessEnv)?;
    App::build(&settings, &aws_config().await).await
}

/// Runs `bridge reconcile profiles`.
pub async fn reconcile_cmd(lookback_secs: i64) -> anyhow::Result<()> {
    let app = app().await?;
    let config = app.config().await;
    anyhow::ensure!(config.profiles.is_some(), "the configuration has no `profiles:` section");
    let r = reconcile(&app.ports(&config), lookback_secs).await.map_err(|e| anyhow::anyhow!("reconciliation: {e}"))?;
    println!(
        "reconciled profiles: {} examined, {} repaired, {} conflict(s), {} ambiguous, {} failed",
        r.examined, r.repaired, r.conflicts, r.ambiguous, r.failed
    );
    anyhow::ensure!(r.failed == 0, "{} profile(s) failed; the cursor did not move past them", r.failed);
    Ok(())
}

fn bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} contacts  {per_sec}  ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Runs `bridge backfill profiles`.
pub async fn backfill_cmd(action: BackfillAction) -> anyhow::Result<()> {
    let BackfillAction::Profiles { restart, max_pages, zendesk_per_minute, intercom_per_10s, headroom } = action;
    anyhow::ensure!((0.0..=0.5).contains(&headroom), "--headroom {headroom}: a fraction from 0 to 0.5");
    let app = app().await?;
    let opts = BackfillOptions {
        intercom: RateClass { headroom, ..RateClass::intercom(intercom_per_10s) },
        zendesk: RateClass { headroom, ..RateClass::zendesk(zendesk_per_minute) },
        max_pages,
        restart,
        ..BackfillOptions::default()
    };
    let bar = bar();
    let mut first_read: Option<u64> = None;
    let mut on_page = |s: &BackfillState| {
        if let Some(total) = s.total {
            bar.set_length(total);
        }
        // Rate and ETA count this run only (a resumed run starts at the stored position).
        if first_read.is_none() {
            first_read = Some(s.read.saturating_sub(100));
            bar.set_position(s.read.saturating_sub(100));
            bar.reset_eta();
        }
        bar.set_position(s.read);
    };
    let config = app.config().await;
    let result = backfill(&app.ports(&config), &opts, &mut on_page).await;
    bar.finish_and_clear();
    let r = result.map_err(|e| anyhow::anyhow!("backfill: {e}"))?;
    let s = &r.state;
    let how = match r.end {
        BackfillEnd::Finished => "finished",
        BackfillEnd::Paused => "paused (run again to continue)",
    };
    println!(
        "backfill {how}: {} contacts read, {} written, {} skipped, {} failed, {} unconfirmed, {} job(s) in flight; {} page(s) this run in {:.1}s; waited {} ms for the rate budgets, {} answered 429",
        s.read,
        s.written,
        s.skipped,
        s.failed,
        s.unconfirmed,
        s.pending.len(),
        r.pages_this_run,
        r.elapsed.as_secs_f64(),
        r.intercom.waited_ms + r.zendesk.waited_ms,
        r.intercom.throttled + r.zendesk.throttled,
    );
    if !s.failed_ids.is_empty() {
        println!("refused by Zendesk (Intercom ids): {}", s.failed_ids.join(", "));
    }
    Ok(())
}

/// One line for a drift finding: `error|note: <side> <entity> field <path>: <what>`.
fn describe(f: &DriftFinding) -> String {
    let (side, kind, path, what) = match f {
        DriftFinding::Unmapped { side, kind, path } => (side, kind, path, "exists but nothing maps it".to_string()),
        DriftFinding::Missing { side, kind, path } => (side, kind, path, "is mapped but does not exist".to_string()),
        DriftFinding::TypeChanged { side, kind, path, expected, actual } => {
            (side, kind, path, format!("is mapped as {expected:?} but its type is {actual}"))
        }
        DriftFinding::OptionsChanged { side, kind, path, missing } => {
            (side, kind, path, format!("lacks the configured option(s) {}", missing.join(", ")))
        }
    };
    let level = if f.is_error() { "error" } else { "note" };
    let vendor = if *side == Vendor::Intercom { "intercom" } else { "zendesk" };
    format!("{level}: {vendor} {} field {path} {what}", kind.entity_word(*side))
}

/// The process environment, with `BRIDGE_CONFIG` defaulting to the checked file.
struct ConfigFrom<'a>(&'a str);

impl Env for ConfigFrom<'_> {
    fn get(&self, name: &str) -> Option<String> {
        ProcessEnv.get(name).or_else(|| (name == "BRIDGE_CONFIG").then(|| self.0.to_string()))
    }
}

/// Runs `bridge config check --live`: the file is valid, and its profile mapping fits both live
/// field catalogs (names, types, dropdown options). Errors exit non-zero; unmapped fields are notes.
pub async fn config_check_live(file: Option<String>, json: bool) -> anyhow::Result<()> {
    let (path, config) = crate::serve::read_config(file).await?;
    let s = WorkerSettings::from_env(&ConfigFrom(&path))?;
    // Every id and name the config refers to, one line each.
    let mut references = Vec::new();
    let (intercom, zendesk) = (s.intercom.client()?, s.zendesk.client(std::time::Duration::from_secs(10))?);
    bridge_runtime::references::check_references(&intercom, &zendesk, &config, &mut |ok, what, detail| {
        references.push((ok, format!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" })));
    })
    .await;
    let failed_refs = references.iter().filter(|(ok, _)| !ok).count();
    let findings = match config.profiles.as_ref() {
        Some(cfg) => check_live(&s.intercom, &s.zendesk, cfg).await?,
        None => Vec::new(),
    };
    let errors = findings.iter().filter(|f| f.is_error()).count() + failed_refs;
    if json {
        let mut listed: Vec<_> =
            references.iter().map(|(ok, line)| serde_json::json!({ "error": !ok, "finding": line })).collect();
        listed.extend(findings.iter().map(|f| serde_json::json!({ "error": f.is_error(), "finding": describe(f) })));
        println!("{}", serde_json::json!({ "file": path, "valid": errors == 0, "findings": listed, "errors": errors }));
        anyhow::ensure!(errors == 0, "the config does not fit the live accounts: {errors} error(s)");
        return Ok(());
    }
    println!("{path}: valid");
    for (_, line) in &references {
        println!("{line}");
    }
    for f in &findings {
        println!("{}", describe(f));
    }
    anyhow::ensure!(errors == 0, "the config does not fit the live accounts: {errors} error(s)");
    match config.profiles {
        Some(_) => println!("everything the config refers to exists; the profile mapping matches both live catalogs"),
        None => println!("everything the config refers to exists"),
    }
    Ok(())
}
