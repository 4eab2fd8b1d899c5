//! `profile-sync`: job 2. One function, three kinds of input:
//! - an SQS FIFO batch (contact, company, user and organization events) -> partial batch failures;
//! - EventBridge Scheduler input `{"action": "reconcile"}` or `{"action": "drift"}`;
//! - `{"action": "backfill"}` (an operator): runs the bulk backfill until about a minute before
//!   the function's deadline, then returns `paused` with the cursor in the store;
//! - `{"action": "backfill-continue"}` (a schedule every 5 minutes): resumes a backfill in
//!   progress from its stored cursor, and does nothing when none is (never ran, or finished).
//!   A run lasts less than the schedule's period, so runs do not overlap; if one ever did, the
//!   cursor's version check stops the second.
//!
//! Drift findings are counted (`ProfileSchemaDrift`, EMF) and a new report is published to the
//! SNS topic in `BRIDGE_DRIFT_TOPIC_ARN`.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use bridge_domain::routing::JobKind;
use bridge_jobs::profile_sync::alerts::run_drift;
use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, backfill, in_progress};
use bridge_jobs::profile_sync::reconcile::reconcile;
use bridge_runtime::App;
use bridge_runtime::app::aws_config;
use bridge_runtime::drift_alerts::{DRIFT_TOPIC_VARIABLE, SnsDriftAlerts};
use bridge_runtime::settings::{ProcessEnv, WorkerSettings};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Time kept free before the deadline when a backfill pauses.
const BACKFILL_MARGIN: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::process::init();
    let settings = WorkerSettings::from_env(&ProcessEnv)?;
    let sdk = aws_config().await;
    let app = App::build(&settings, &sdk).await?;
    let alerts = SnsDriftAlerts::new(&app.counters, &sdk, std::env::var(DRIFT_TOPIC_VARIABLE).ok());
    lambda_runtime::run(service_fn(|event| handle(&app, &alerts, event))).await
}

async fn handle(app: &App, alerts: &SnsDriftAlerts<'_>, event: LambdaEvent<Value>) -> Result<Value, Error> {
    if event.payload.get("Records").is_some() {
        let batch: SqsEvent = serde_json::from_value(event.payload)?;
        let response = app.handle_sqs_batch(JobKind::ProfileSync, batch).await;
        return Ok(serde_json::to_value(response)?);
    }
    match event.payload.get("action").and_then(Value::as_str) {
        Some("reconcile") => {
            let r = reconcile(app, 86_400).await?;
            Ok(json!({ "examined": r.examined, "repaired": r.repaired, "ambiguous": r.ambiguous, "failed": r.failed }))
        }
        Some("drift") => {
            let run = run_drift(app, alerts).await?;
            Ok(json!({ "findings": run.findings, "changed": run.changed, "published": run.published }))
        }
        Some("backfill-continue") => {
            if !in_progress(&app.store).await? {
                return Ok(json!({ "end": "idle" }));
            }
            run_backfill(app, &event.context).await
        }
        Some("backfill") => run_backfill(app, &event.context).await,
        other => Err(format!("unknown input: action {other:?}").into()),
    }
}

/// Runs the backfill until [`BACKFILL_MARGIN`] before the deadline.
async fn run_backfill(app: &App, context: &lambda_runtime::Context) -> Result<Value, Error> {
    let left = context.deadline().duration_since(std::time::SystemTime::now()).unwrap_or_default();
    let opts = BackfillOptions {
        stop_at: Some(Instant::now() + left.saturating_sub(BACKFILL_MARGIN)),
        ..BackfillOptions::default()
    };
    let r = backfill(app, &opts, &mut |_| {}).await?;
    let end = if r.end == BackfillEnd::Finished { "finished" } else { "paused" };
    Ok(json!({
        "end": end,
        "read": r.state.read,
        "written": r.state.written,
        "failed": r.state.failed,
        "pending_jobs": r.state.pending.len(),
    }))
}
