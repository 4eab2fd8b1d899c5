//! `profile-sync`: job 2. One function, three kinds of input:
//! - an SQS FIFO batch (contact, company, user and organization events) -> partial batch failures;
//! - EventBridge Scheduler input `{"action": "reconcile"}` or `{"action": "drift"}`;
//! - `{"action": "backfill"}` (a schedule or an operator): runs the bulk backfill until about a
//!   minute before the function's deadline, then returns `paused`; the cursor is in the store,
//!   so the next invocation continues where this one stopped.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use bridge_domain::ports::JobKind;
use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, backfill};
use bridge_jobs::profile_sync::reconcile::{drift_report, reconcile, save_drift};
use bridge_runtime::App;
use bridge_runtime::app::aws_config;
use bridge_runtime::driver::handle_sqs_batch;
use bridge_runtime::settings::{ProcessEnv, WorkerSettings};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Time kept free before the deadline when a backfill pauses.
const BACKFILL_MARGIN: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::telemetry::init();
    let settings = WorkerSettings::from_env(&ProcessEnv)?;
    let app = App::build(&settings, &aws_config().await).await?;
    lambda_runtime::run(service_fn(|event| handle(&app, event))).await
}

async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    if event.payload.get("Records").is_some() {
        let batch: SqsEvent = serde_json::from_value(event.payload)?;
        let response = handle_sqs_batch(app, &app.queue, JobKind::ProfileSync, batch, &app.counters).await;
        return Ok(serde_json::to_value(response)?);
    }
    match event.payload.get("action").and_then(Value::as_str) {
        Some("reconcile") => {
            let r = reconcile(app, 86_400).await?;
            Ok(json!({ "examined": r.examined, "repaired": r.repaired, "ambiguous": r.ambiguous, "failed": r.failed }))
        }
        Some("drift") => {
            let findings = drift_report(app).await?;
            let changed = save_drift(&app.store, &findings).await?;
            let errors = findings.iter().filter(|f| f.is_error()).count();
            tracing::info!(findings = findings.len(), errors, changed, "profile schema drift");
            Ok(json!({ "findings": findings, "changed": changed }))
        }
        Some("backfill") => {
            let left = event.context.deadline().duration_since(std::time::SystemTime::now()).unwrap_or_default();
            let opts = BackfillOptions {
                stop_at: Some(Instant::now() + left.saturating_sub(BACKFILL_MARGIN)),
                ..BackfillOptions::default()
            };
            let r = backfill(app, &opts, &mut |_| {}).await?;
            let end = if r.end == BackfillEnd::Finished { "finished" } else { "paused" };
            Ok(json!({ "end": end, "read": r.state.read, "written": r.state.written, "failed": r.state.failed }))
        }
        other => Err(format!("unknown input: action {other:?}").into()),
    }
}
