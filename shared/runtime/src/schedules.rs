//! `profile-sync`'s input and its scheduled commands. The function receives either an SQS batch
//! (contact, company, user and organization events) or a command from EventBridge Scheduler or
//! an operator: `{"action": "reconcile" | "drift" | "backfill" | "backfill-continue"}`.
//!
//! Every command takes the configuration once from [`App::config`], the holder the SQS path
//! reads too, so a changed file applies to the next scheduled run as it does to the next batch.

use std::time::Instant;

use aws_lambda_events::event::sqs::SqsEvent;
use bridge_jobs::JobError;
use bridge_jobs::profile_sync::alerts::{DriftAlerts, run_drift};
use bridge_jobs::profile_sync::backfill::{BackfillEnd, BackfillOptions, backfill, in_progress};
use bridge_jobs::profile_sync::reconcile::reconcile;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::App;

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

/// Runs one command on the configuration of this run. `stop_at`: when a backfill pauses (the
/// function's deadline less a margin); `None` runs it to the end.
pub async fn run_profile_command<A: DriftAlerts>(
    app: &App,
    alerts: &A,
    command: ProfileCommand,
    stop_at: Option<Instant>,
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
            let opts = BackfillOptions { stop_at, ..BackfillOptions::default() };
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
}
