//! `bridge reconcile profiles` and `bridge backfill profiles` (job 2).

use std::time::Duration;

use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, BackfillState, backfill};
use bridge_jobs::profile_sync::rate::RateClass;
use bridge_jobs::profile_sync::reconcile::reconcile;
use bridge_runtime::app::{App, aws_config};
use bridge_runtime::settings::{ProcessEnv, WorkerSettings};
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
