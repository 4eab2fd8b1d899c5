//! `bridge reconcile <job> | all`: the repair sweeps of jobs 1 and 3 to 6 (and job 2's profile
//! reconcile) on demand, with progress on stderr and what was repaired on stdout.

use std::time::Duration;

use bridge_domain::routing::JobKind;
use bridge_jobs::sweep::{SweepOptions, SweepProgress, describe};
use bridge_runtime::App;
use bridge_runtime::schedules::run_sweep;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::profiles;

/// `bridge reconcile …`.
#[derive(Debug, Subcommand)]
pub enum ReconcileAction {
    /// Job 2: repair both sides' profiles from what changed since the stored cursors.
    Profiles {
        /// On the first run (no stored cursor), look back this many seconds.
        #[arg(long, default_value_t = 86_400)]
        lookback_secs: i64,
    },
    /// Job 1: conversations changed since the sweep's cursor, and open ones waiting past a
    /// `waiting_minutes` rule.
    Escalate,
    /// Job 3: linked tickets changed since the sweep's cursor.
    TicketStatus,
    /// Job 4: linked tickets and conversations changed since the sweep's cursor.
    TagSync,
    /// Jobs 5 and 6: tickets created since the sweep's cursor.
    TicketIntake,
    /// Every sweep, then job 2's reconcile when profiles are configured.
    All,
}

const SWEPT: [JobKind; 4] = [JobKind::Escalate, JobKind::TicketStatus, JobKind::TagSync, JobKind::TicketIntake];

/// Runs `bridge reconcile …`.
pub async fn run(action: ReconcileAction) -> anyhow::Result<()> {
    let jobs: Vec<JobKind> = match action {
        ReconcileAction::Profiles { lookback_secs } => return profiles::reconcile_cmd(lookback_secs).await,
        ReconcileAction::Escalate => vec![JobKind::Escalate],
        ReconcileAction::TicketStatus => vec![JobKind::TicketStatus],
        ReconcileAction::TagSync => vec![JobKind::TagSync],
        ReconcileAction::TicketIntake => vec![JobKind::TicketIntake],
        ReconcileAction::All => SWEPT.to_vec(),
    };
    let app = profiles::app().await?;
    let mut failed = 0;
    for job in jobs {
        failed += sweep_one(&app, job).await?;
    }
    if matches!(action, ReconcileAction::All) && app.config().await.profiles.is_some() {
        profiles::reconcile_cmd(86_400).await?;
    }
    anyhow::ensure!(failed == 0, "{failed} item(s) failed; their windows are read again by the next run");
    Ok(())
}

/// One sweep, forced (whatever its interval), with a spinner; answers its failures.
async fn sweep_one(app: &App, job: JobKind) -> anyhow::Result<u64> {
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_prefix(job.as_str());
    spinner.enable_steady_tick(Duration::from_millis(200));
    let mut show = |p: &SweepProgress| {
        spinner.set_message(format!(
            "{} page(s), {} examined, {} repaired (reading {})",
            p.pages, p.examined, p.repaired, p.source
        ));
    };
    let opts = SweepOptions { force: true, ..SweepOptions::default() };
    let result = run_sweep(app, job, &opts, &mut show).await;
    spinner.finish_and_clear();
    let report = match result.map_err(|e| anyhow::anyhow!("{}: {e}", job.as_str()))? {
        Ok(report) => report,
        Err(not_run) => {
            let schedule = app.config().await.sweeps.schedule(job);
            println!("{}: not run, {}", job.as_str(), describe(not_run, schedule));
            return Ok(0);
        }
    };
    println!(
        "{}: {} examined, {} repaired, {} rule(s) fired on time, {} failed",
        job.as_str(),
        report.examined,
        report.repaired_total(),
        report.fired_on_time,
        report.failed
    );
    for repair in &report.repairs {
        println!("  repaired {repair}");
    }
    Ok(report.failed)
}
