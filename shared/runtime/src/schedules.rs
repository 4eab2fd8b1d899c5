//! What the workers are invoked with besides SQS batches, and what they do with it:
//! - the webhook workers (escalate, ticket-status, tag-sync, ticket-intake) take
//!   `{"action": "sweep"}` from their schedule: the job's repair sweep ([`WorkerInput`],
//!   [`run_sweep`]);
//! - `profile-sync` takes `{"action": "reconcile" | "drift" | "backfill" | "backfill-continue"}`
//!   ([`ProfileSyncInput`], [`run_profile_command`]).
//!
//! Every run takes the configuration once from [`App::config`], the holder the SQS path reads
//! too, so a changed file applies to the next scheduled run as it does to the next batch.

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use bridge_domain::routing::JobKind;
use bridge_jobs::JobError;
use bridge_jobs::profile_sync::alerts::{DriftAlerts, run_drift};
use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, backfill, in_progress};
use bridge_jobs::profile_sync::rate::RateClass;
use bridge_jobs::profile_sync::reconcile::reconcile;
use bridge_jobs::sweep::{NotRun, SweepOptions, SweepProgress, SweepReport, sweep};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::App;
use crate::settings::DEFAULT_BACKFILL_HEADROOM;

/// How far back the first reconciliation of a side looks (later runs start at their cursor).
pub const FIRST_RECONCILE_LOOKBACK_SECS: i64 = 86_400;

/// A command to `profile-sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum ProfileCommand {
    /// Repair what webhooks missed: both sides' changes since the stored cursors.
    Reconcile,
    /// Compare the mapping with both live field catalogs; publish a new report.
    Drift,
    /// Run (or resume) the bulk backfill until shortly before the deadline.
    Backfill,
    /// Resume a backfill in progress; nothing when none is (never ran, or finished).
    BackfillContinue,
}

/// What `profile-sync` is invoked with.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileSyncInput {
    /// An SQS batch.
    Batch(SqsEvent),
    /// A command.
    Command(ProfileCommand),
}

impl<'de> Deserialize<'de> for ProfileSyncInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        if value.get("Records").is_some() {
            return serde_json::from_value(value).map(ProfileSyncInput::Batch).map_err(D::Error::custom);
        }
        serde_json::from_value(value).map(ProfileSyncInput::Command).map_err(|e| {
            D::Error::custom(format!(
                "profile-sync expects an SQS batch or {{\"action\": \"reconcile\" | \"drift\" | \"backfill\" | \
                 \"backfill-continue\"}}: {e}"
            ))
        })
    }
}

/// What a webhook worker is invoked with.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerInput {
    /// An SQS batch of its job's queue.
    Batch(SqsEvent),
    /// `{"action": "sweep"}`: the job's repair sweep (its schedule, every 5 minutes).
    Sweep,
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
enum WorkerCommand {
    Sweep,
}

impl<'de> Deserialize<'de> for WorkerInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        if value.get("Records").is_some() {
            return serde_json::from_value(value).map(WorkerInput::Batch).map_err(D::Error::custom);
        }
        serde_json::from_value::<WorkerCommand>(value)
            .map(|WorkerCommand::Sweep| WorkerInput::Sweep)
            .map_err(|e| D::Error::custom(format!("a worker expects an SQS batch or {{\"action\": \"sweep\"}}: {e}")))
    }
}

/// Time kept free before a Lambda's deadline when a sweep pauses.
pub const SWEEP_MARGIN: Duration = Duration::from_secs(10);

/// Runs a webhook worker's input: a batch through the driver, a sweep until [`SWEEP_MARGIN`]
/// before `deadline`. Answers the batch response or the sweep's report as JSON.
pub async fn handle_worker(
    app: &App,
    job: JobKind,
    input: WorkerInput,
    deadline: SystemTime,
) -> Result<Value, JobError> {
    match input {
        WorkerInput::Batch(batch) => serde_json::to_value(app.handle_sqs_batch(job, batch).await)
            .map_err(|e| JobError::permanent(format!("encode the batch response: {e}"))),
        WorkerInput::Sweep => {
            let left = deadline.duration_since(SystemTime::now()).unwrap_or_default();
            let opts = SweepOptions {
                stop_at: Some(Instant::now() + left.saturating_sub(SWEEP_MARGIN)),
                ..SweepOptions::default()
            };
            Ok(match run_sweep(app, job, &opts, &mut |_| {}).await? {
                Ok(r) => json!({
                    "examined": r.examined,
                    "repaired": r.repaired,
                    "fired_on_time": r.fired_on_time,
                    "failed": r.failed,
                    "paused": r.paused,
                }),
                Err(not_run) => json!({ "skipped": format!("{not_run:?}") }),
            })
        }
    }
}

/// Runs `job`'s sweep on the configuration of this run and counts its repairs
/// (`Repaired{Job}`, `Repaired{Job,Kind}`) and job 1's on-time rules (`RulesFiredOnTime{Job}`).
pub async fn run_sweep(
    app: &App,
    job: JobKind,
    opts: &SweepOptions,
    on_progress: &mut (dyn FnMut(&SweepProgress) + Send),
) -> Result<Result<SweepReport, NotRun>, JobError> {
    let config = app.config().await;
    let result = sweep(&app.ports(&config), job, opts, on_progress).await;
    if let Ok(Ok(report)) = &result {
        let name = job.as_str();
        if report.repaired_total() > 0 {
            app.counters.add("Repaired", ("Job", name), report.repaired_total());
        }
        for (kind, n) in &report.repaired {
            app.counters.add2("Repaired", ("Job", name), ("Kind", kind), *n);
        }
        if report.fired_on_time > 0 {
            app.counters.add("RulesFiredOnTime", ("Job", name), report.fired_on_time);
        }
    }
    app.after_run();
    result
}

/// The message group of the continuation messages `profile-sync` puts on its own queue (apart
/// from every person's group).
pub const CONTINUATION_GROUP: &str = "profile-sync:backfill";

/// `profile-sync` as the Lambda function runs it: an SQS batch of its queue, or a command from a
/// schedule or an operator (`run` says when a backfill pauses).
///
/// The batch holds people's events, run through the batch driver, and the continuation messages
/// a paused backfill leaves (`{"action": "backfill-continue"}`), run as that command (no other
/// command is taken from the queue): a backfill that pauses before its end puts one on the
/// function's own queue, so the next invocation starts within a second instead of at the next
/// firing of the 5-minute `backfill-continue` schedule (which stays, as the fallback when the
/// send fails). A failed continuation is reported as a failed item of the batch, so SQS offers
/// it again.
pub async fn run_profile_sync<A: DriftAlerts>(
    app: &App,
    alerts: &A,
    input: ProfileSyncInput,
    run: CommandRun,
) -> Result<Value, JobError> {
    let batch = match input {
        ProfileSyncInput::Command(command) => return run_and_hand_over(app, alerts, command, run).await,
        ProfileSyncInput::Batch(batch) => batch,
    };
    let (continuations, records): (Vec<_>, Vec<_>) =
        batch.records.into_iter().partition(|r| r.body.as_deref().is_some_and(is_continuation));
    let mut response = match records.is_empty() {
        true => SqsBatchResponse::default(),
        false => {
            let mut events = SqsEvent::default();
            events.records = records;
            app.handle_sqs_batch(JobKind::ProfileSync, events).await
        }
    };
    for record in continuations {
        if let Err(e) = run_and_hand_over(app, alerts, ProfileCommand::BackfillContinue, run).await {
            tracing::warn!(error = %e, "a continuation message failed; SQS offers it again");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    serde_json::to_value(response).map_err(|e| JobError::permanent(format!("encode the batch response: {e}")))
}

/// Whether a message of `profile-sync`'s queue is a paused backfill's continuation (anything
/// else, a person's event or not, goes through the batch driver).
fn is_continuation(body: &str) -> bool {
    serde_json::from_str::<ProfileCommand>(body).is_ok_and(|c| c == ProfileCommand::BackfillContinue)
}

/// Runs `command`; when it is a backfill that paused, hands it over to the next invocation
/// through the function's own queue.
async fn run_and_hand_over<A: DriftAlerts>(
    app: &App,
    alerts: &A,
    command: ProfileCommand,
    run: CommandRun,
) -> Result<Value, JobError> {
    let answer = run_profile_command(app, alerts, command, run).await?;
    if answer["end"] == "paused" {
        // One continuation per pause: the count read so far names it for SQS's deduplication.
        let dedup = format!("backfill-continue-{}-{}", answer["read"], answer["written"]);
        let body = json!({ "action": "backfill-continue" }).to_string();
        if let Err(e) = app.queue.send_command(JobKind::ProfileSync, &body, CONTINUATION_GROUP, &dedup).await {
            tracing::warn!(error = %e, "could not hand the paused backfill over; the schedule continues it");
        }
    }
    Ok(answer)
}

/// Time `profile-sync` keeps free before its deadline when a backfill pauses: its `stop_at` is
/// the deadline less this.
///
/// 15 s, down from 60 s, because a run no longer waits past `stop_at`: a call that would have to
/// wait for a rate window opening after it is not made and the run pauses
/// ([`bridge_jobs::profile_sync::backfill::BackfillOptions::stop_at`]). What still runs after
/// `stop_at` is the rest of the page in progress with its calls already granted: an Intercom
/// search, a Zendesk bulk write or one poll round of every job in flight (one request each), a
/// poll back-off of at most 2 s, and a store write per step. That takes well under a second
/// (the benchmark's 100,000-contact run does about 20 pages a second with their polls, see
/// docs/BENCHMARKS.md), so 15 s also covers a slow vendor's timed-out attempt (5 s for Zendesk,
/// 10 s for Intercom). A run that still overran its timeout (a vendor hanging through every
/// retry) loses at most that page, which the next run writes again: the cursor is stored after
/// each page. Each 240 s run thus works about 225 s instead of 180 s.
pub const BACKFILL_MARGIN: Duration = Duration::from_secs(15);

/// How [`run_profile_command`] runs a backfill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommandRun {
    /// When a backfill pauses (the function's deadline less [`BACKFILL_MARGIN`]); `None` runs it
    /// to the end.
    pub stop_at: Option<Instant>,
    /// The fraction of each vendor limit the backfill leaves to other callers
    /// ([`crate::settings::backfill_headroom`]).
    pub headroom: f64,
}

impl Default for CommandRun {
    fn default() -> Self {
        Self { stop_at: None, headroom: DEFAULT_BACKFILL_HEADROOM }
    }
}

/// Runs one command on the configuration of this run; `run` says when a backfill pauses and
/// what headroom it leaves.
pub async fn run_profile_command<A: DriftAlerts>(
    app: &App,
    alerts: &A,
    command: ProfileCommand,
    run: CommandRun,
) -> Result<Value, JobError> {
    let config = app.config().await;
    let p = app.ports(&config);
    let result = match command {
        ProfileCommand::Reconcile => reconcile(&p, FIRST_RECONCILE_LOOKBACK_SECS).await.map(
            |r| json!({ "examined": r.examined, "repaired": r.repaired, "ambiguous": r.ambiguous, "failed": r.failed }),
        ),
        ProfileCommand::Drift => run_drift(&p, alerts)
            .await
            .map(|run| json!({ "findings": run.findings, "changed": run.changed, "published": run.published })),
        ProfileCommand::BackfillContinue if !in_progress(p.store).await? => Ok(json!({ "end": "idle" })),
        ProfileCommand::Backfill | ProfileCommand::BackfillContinue => {
            let defaults = BackfillOptions::default();
            let opts = BackfillOptions {
                stop_at: run.stop_at,
                intercom: RateClass { headroom: run.headroom, ..defaults.intercom.clone() },
                zendesk: RateClass { headroom: run.headroom, ..defaults.zendesk.clone() },
                ..defaults
            };
            backfill(&p, &opts, &mut |_| {}).await.map(|r| {
                json!({
                    "end": if r.end == BackfillEnd::Finished { "finished" } else { "paused" },
                    "read": r.state.read,
                    "written": r.state.written,
                    "failed": r.state.failed,
                    "pending_jobs": r.state.pending.len(),
                })
            })
        }
    };
    app.after_run();
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn commands_and_batches_parse_and_anything_else_is_named() {
        let parse = |v: Value| serde_json::from_value::<ProfileSyncInput>(v);
        assert_eq!(
            parse(json!({"action": "reconcile"})).unwrap(),
            ProfileSyncInput::Command(ProfileCommand::Reconcile)
        );
        assert_eq!(
            parse(json!({"action": "backfill-continue"})).unwrap(),
            ProfileSyncInput::Command(ProfileCommand::BackfillContinue)
        );
        let batch = parse(json!({"Records": [{"messageId": "m1", "body": "{}"}]})).unwrap();
        let ProfileSyncInput::Batch(batch) = batch else { panic!("{batch:?}") };
        assert_eq!(batch.records[0].message_id.as_deref(), Some("m1"));
        let err = parse(json!({"action": "reconcile-all"})).unwrap_err().to_string();
        assert!(err.contains("profile-sync expects") && err.contains("reconcile-all"), "{err}");
        let err = parse(json!({"detail-type": "Scheduled Event"})).unwrap_err().to_string();
        assert!(err.contains("action"), "{err}");
    }

    #[test]
    fn a_worker_takes_a_batch_or_a_sweep_and_names_anything_else() {
        let parse = |v: Value| serde_json::from_value::<WorkerInput>(v);
        assert_eq!(parse(json!({"action": "sweep"})).unwrap(), WorkerInput::Sweep);
        assert!(matches!(parse(json!({"Records": []})).unwrap(), WorkerInput::Batch(_)));
        let err = parse(json!({"action": "reconcile"})).unwrap_err().to_string();
        assert!(err.contains("a worker expects") && err.contains("reconcile"), "{err}");
    }
}
