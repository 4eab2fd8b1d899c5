//! `profile-sync`: job 2. Its input ([`ProfileSyncInput`]) is an SQS FIFO batch (contact,
//! company, user and organization events; partial batch failures) or a command:
//! - `{"action": "reconcile"}` and `{"action": "drift"}` from EventBridge Scheduler;
//! - `{"action": "backfill"}` (an operator): runs the bulk backfill until [`BACKFILL_MARGIN`]
//!   (15 s) before the function's deadline, then returns `paused` with the cursor in the store;
//!   it leaves `BRIDGE_BACKFILL_HEADROOM` (default 10 %) of each vendor limit to other callers;
//! - `{"action": "backfill-continue"}`: resumes a backfill in progress from its stored cursor,
//!   and does nothing when none is (never ran, or finished). A backfill that pauses puts this
//!   command on the function's own queue, so the next run starts at once
//!   ([`run_profile_sync`]); a schedule every 5 minutes sends it too, as the fallback. If two
//!   runs ever overlapped, the cursor's version check stops the second.
//!
//! It needs every job's queue URL (`BRIDGE_QUEUE_URL_<JOB>`, all five as the template gives
//! them): GDPR erasure removes the person's dead letters from every job's DLQ, so it refuses to
//! start when one is missing rather than skip that DLQ.
//!
//! Drift findings are counted (`ProfileSchemaDrift`, EMF) and a new report is published to the
//! SNS topic in `BRIDGE_DRIFT_TOPIC_ARN`.

use std::time::{Instant, SystemTime};

use bridge_runtime::App;
use bridge_runtime::app::lambda_aws_config;
use bridge_runtime::drift_alerts::{DRIFT_TOPIC_VARIABLE, SnsDriftAlerts};
use bridge_runtime::schedules::{BACKFILL_MARGIN, CommandRun, ProfileSyncInput, run_profile_sync};
use bridge_runtime::settings::{ProcessEnv, WorkerSettings, backfill_headroom};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::process::init();
    let settings = WorkerSettings::from_env(&ProcessEnv)?;
    // GDPR erasure purges every job's DLQ: a missing BRIDGE_QUEUE_URL_<JOB> would skip one.
    settings.queues.require_every_job()?;
    let headroom = backfill_headroom(&ProcessEnv)?;
    let sdk = lambda_aws_config(&ProcessEnv)?;
    let app = App::build(&settings, &sdk).await?;
    let alerts = SnsDriftAlerts::new(&app.counters, &sdk, std::env::var(DRIFT_TOPIC_VARIABLE).ok());
    lambda_runtime::run(service_fn(|event| handle(&app, &alerts, headroom, event))).await
}

async fn handle(
    app: &App,
    alerts: &SnsDriftAlerts<'_>,
    headroom: f64,
    event: LambdaEvent<ProfileSyncInput>,
) -> Result<Value, Error> {
    // A backfill pauses the margin before the function's deadline.
    let left = event.context.deadline().duration_since(SystemTime::now()).unwrap_or_default();
    let stop_at = Instant::now() + left.saturating_sub(BACKFILL_MARGIN);
    Ok(run_profile_sync(app, alerts, event.payload, CommandRun { stop_at: Some(stop_at), headroom }).await?)
}
