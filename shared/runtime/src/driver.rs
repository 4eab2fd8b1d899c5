//! The one SQS batch driver, shared by every worker Lambda and by `bridge serve`'s pollers.
//!
//! Every message ends in exactly one [`Disposition`]:
//! - `Ack`: done (or nothing to do); deleted.
//! - `Retry`: transient failure; left on the queue, made visible again after the vendor's
//!   requested delay (never slept inside the function). After the queue's max receives, SQS
//!   moves it to the DLQ.
//! - `DeadLetter`: cannot succeed; copied to the DLQ with its full context (job, error,
//!   attempts) and deleted, so it can be inspected and replayed with one command.
//!
//! A delivery already processed successfully by a job is recognised by its done marker and
//! acknowledged without running the job again (for the jobs that need one:
//! [`JobKind::needs_delivery_marker`]).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use bridge_domain::erasure::DeadLetterPurge;
use bridge_domain::event::QueuedEvent;
use bridge_domain::keys::Intent;
use bridge_domain::ports::{Claim, Store};
use bridge_domain::routing::JobKind;
use bridge_jobs::shadow::{Action, Plan, Shadow};
use bridge_jobs::{Intercom, JobError, Outcome, Ports, Zendesk};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::metrics::Counters;

/// The SQS record attribute naming a FIFO message's group.
const GROUP_ATTRIBUTE: &str = "MessageGroupId";
/// How long a delivery's processing lease lasts.
const DELIVERY_LEASE: Duration = Duration::from_secs(300);
/// How long a delivery's done-marker is kept (DynamoDB TTL): well past the vendors' redelivery
/// windows (Intercom retries for about a day, Zendesk's webhooks for less) and SQS's.
const DELIVERY_MEMORY: Duration = Duration::from_secs(7 * 24 * 3600);

/// What happens to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done; delete it.
    Ack(String),
    /// Try again later; `after` when the vendor asked for a delay.
    Retry {
        /// Requested delay.
        after: Option<Duration>,
        /// Why (ids only).
        reason: String,
    },
    /// Move to the DLQ with this reason.
    DeadLetter(String),
}

/// A dead-lettered message with everything needed to understand and replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The job that could not process it.
    pub job: JobKind,
    /// Why.
    pub reason: String,
    /// How many times it was received.
    pub attempts: u32,
    /// When it was dead-lettered (RFC 3339).
    pub failed_at: String,
    /// The original message body (a `QueuedEvent` as JSON, or whatever arrived).
    pub body: String,
}

/// Runs the job for one message body.
pub async fn process<S: Store, I: Intercom, Z: Zendesk, D: DeadLetterPurge>(
    p: &Ports<'_, S, I, Z>,
    dead_letters: &D,
    job: JobKind,
    body: &str,
    counters: &Counters,
) -> Disposition {
    process_traced(p, dead_letters, job, body, counters, None).await
}

/// [`process`] within the X-Ray trace `trace_header` (the SQS record's `AWSTraceHeader`), which
/// names the span's `trace_id`; without it, the trace the ingress received.
async fn process_traced<S: Store, I: Intercom, Z: Zendesk, D: DeadLetterPurge>(
    p: &Ports<'_, S, I, Z>,
    dead_letters: &D,
    job: JobKind,
    body: &str,
    counters: &Counters,
    trace_header: Option<&str>,
) -> Disposition {
    let event: QueuedEvent = match serde_json::from_str(body) {
        Ok(e) => e,
        Err(e) => return Disposition::DeadLetter(format!("message is not a queued event: {e}")),
    };
    let span = tracing::info_span!(
        "job",
        job = job.as_str(),
        vendor = %event.vendor,
        delivery_id = %event.delivery_id,
        entity = %event.entity,
        topic = %event.topic,
        trace_id = trace_header.or(event.trace_id.as_deref()).unwrap_or("")
    );
    // `instrument`, not `enter`: a guard held across an await would leak into other tasks.
    process_event(p, dead_letters, job, &event, counters).instrument(span).await
}

async fn process_event<S: Store, I: Intercom, Z: Zendesk, D: DeadLetterPurge>(
    p: &Ports<'_, S, I, Z>,
    dead_letters: &D,
    job: JobKind,
    event: &QueuedEvent,
    counters: &Counters,
) -> Disposition {
    if p.config.shadow.contains(&job) {
        return shadow(p, job, event, counters).await;
    }
    // The echo of the bridge's own write has no effect to deduplicate: no delivery marker.
    if job.drops_own_echoes_first()
        && let Ok(Some(Outcome::LoopSuppressed(why))) = bridge_jobs::echo::own_echo(p, event).await
    {
        counters.incr("LoopsSuppressed", ("Job", job.as_str()));
        return Disposition::Ack(why);
    }
    if !job.needs_delivery_marker() {
        let result = bridge_jobs::run(p, dead_letters, job, event).await;
        return disposition(job, result, counters);
    }
    let marker = Intent::Delivery { job, vendor: event.vendor, delivery_id: event.delivery_id.clone() };
    let holder = bridge_jobs::holder_for(p.worker, event);
    let now = p.clock.now();
    match p.store.claim(&marker, &holder, DELIVERY_LEASE, now).await {
        Ok(Claim::Done(_)) => {
            counters.incr("EventsDeduplicated", ("Job", job.as_str()));
            return Disposition::Ack("delivery already processed".into());
        }
        Ok(Claim::Busy) => {
            return Disposition::Retry {
                after: Some(Duration::from_secs(10)),
                reason: "delivery in progress elsewhere".into(),
            };
        }
        Ok(Claim::Acquired) => {}
        Err(e) => {
            return Disposition::Retry { after: e.retry_after(), reason: format!("store: {e}") };
        }
    }
    let result = bridge_jobs::run(p, dead_letters, job, event).await;
    let recorded = recorded_outcome(&result);
    let disposition = disposition(job, result, counters);
    let settled = match &disposition {
        Disposition::Ack(_) => p.store.complete_for(&marker, recorded, DELIVERY_MEMORY).await,
        _ => p.store.release(&marker, &holder).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "could not record the delivery's outcome");
    }
    disposition
}

/// What a delivery's done marker records: the kind of outcome only. The summary names the
/// entity (`contact:…`, `user:…`, the conversation and ticket), and so the person; the marker
/// is kept for [`DELIVERY_MEMORY`] under the delivery's id, where a GDPR erasure, which finds a
/// person's records by their ids, cannot reach it. Nothing reads the marker's result back (a
/// redelivery only needs to know it was done); the summary is in the log line.
fn recorded_outcome(result: &bridge_jobs::JobResult) -> &'static str {
    match result {
        Ok(Outcome::Done(_)) => "done",
        Ok(Outcome::Skipped(_)) => "skipped",
        Ok(Outcome::LoopSuppressed(_)) => "loop suppressed",
        Err(_) => "failed",
    }
}

/// What becomes of a message, from its job's result (counted and logged once here).
fn disposition(job: JobKind, result: bridge_jobs::JobResult, counters: &Counters) -> Disposition {
    match result {
        Ok(Outcome::Done(summary)) => {
            counters.incr("ActionsDone", ("Job", job.as_str()));
            tracing::info!(outcome = %summary, "done");
            Disposition::Ack(summary)
        }
        Ok(Outcome::Skipped(why)) => {
            counters.incr("EventsSkipped", ("Job", job.as_str()));
            tracing::info!(outcome = %why, "skipped");
            Disposition::Ack(why)
        }
        Ok(Outcome::LoopSuppressed(why)) => {
            counters.incr("LoopsSuppressed", ("Job", job.as_str()));
            tracing::info!(outcome = %why, "loop suppressed");
            Disposition::Ack(why)
        }
        Err(JobError::Retry { after, source }) => {
            counters.incr("Retries", ("Job", job.as_str()));
            tracing::warn!(error = %source, "will retry");
            Disposition::Retry { after, reason: source.to_string() }
        }
        Err(e @ JobError::Permanent { .. }) => {
            counters.incr("DeadLettered", ("Job", job.as_str()));
            tracing::error!(error = %e, "cannot be processed");
            Disposition::DeadLetter(error_chain(&e))
        }
    }
}

/// Shadow mode: the job runs against real reads; its writes are logged as a plan, not made.
/// Nothing is recorded in the store, so switching the job to live mode later acts for real.
async fn shadow<S: Store, I: Intercom, Z: Zendesk>(
    p: &Ports<'_, S, I, Z>,
    job: JobKind,
    event: &QueuedEvent,
    counters: &Counters,
) -> Disposition {
    let (actions, result) = plan(p, job, event).await;
    let actions = serde_json::to_string(&actions).unwrap_or_default();
    counters.incr("ShadowPlans", ("Job", job.as_str()));
    match result {
        Ok(outcome) => {
            tracing::info!(shadow = true, plan = %actions, outcome = ?outcome, "shadow plan");
            Disposition::Ack(format!("shadow plan: {actions}"))
        }
        Err(e) => {
            tracing::warn!(shadow = true, plan = %actions, error = %e, "shadow run failed");
            Disposition::Ack(format!("shadow run failed: {e}"))
        }
    }
}

/// What `job` would do with `event` now: the job runs against the real reads and its writes are
/// recorded, not made (shadow mode, `bridge dlq replay`'s plan). Echoes of the bridge are
/// dropped first where the live path drops them.
pub async fn plan<S: Store, I: Intercom, Z: Zendesk>(
    p: &Ports<'_, S, I, Z>,
    job: JobKind,
    event: &QueuedEvent,
) -> (Vec<Action>, bridge_jobs::JobResult) {
    let plan = Plan::default();
    let shadow = Shadow::new(p, &plan);
    let ports = shadow.ports();
    let echo = match job.drops_own_echoes_first() {
        true => bridge_jobs::echo::own_echo(&ports, event).await,
        false => Ok(None),
    };
    let result = match echo {
        Ok(Some(echo)) => Ok(echo),
        Ok(None) => bridge_jobs::run(&ports, shadow.dead_letters(), job, event).await,
        Err(e) => Err(e),
    };
    (plan.actions(), result)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Where dead letters go and how delays are applied; implemented over SQS.
pub trait MessageControl: Send + Sync {
    /// Copies a message to the job's DLQ.
    fn dead_letter(&self, letter: &DeadLetter) -> impl std::future::Future<Output = Result<(), String>> + Send;
    /// Makes an in-flight message visible again after `delay`.
    fn delay(
        &self,
        job: JobKind,
        receipt_handle: &str,
        delay: Duration,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// Handles a Lambda SQS batch from a FIFO queue, in order. A message to retry (or one that
/// could not be dead-lettered) fails its message group for the rest of the batch: the group's
/// later messages are reported as failures unprocessed, so the group keeps its order, while the
/// other groups' messages are processed (the SQS FIFO partial-batch convention; Powertools'
/// `SqsFifoPartialProcessor` with `skip_group_on_error`). A message without a
/// `MessageGroupId` that fails stops the whole batch, as nothing says which messages it orders.
/// Each message runs within the X-Ray trace of its `AWSTraceHeader` attribute.
/// `queue` moves messages (delays, dead letters) and purges dead letters for erasures.
pub async fn handle_sqs_batch<S, I, Z, C>(
    p: &Ports<'_, S, I, Z>,
    queue: &C,
    job: JobKind,
    event: SqsEvent,
    counters: &Counters,
) -> SqsBatchResponse
where
    S: Store,
    I: Intercom,
    Z: Zendesk,
    C: MessageControl + DeadLetterPurge,
{
    let mut failures: Vec<String> = Vec::new();
    let mut failed_groups: BTreeSet<String> = BTreeSet::new();
    let mut stop = false;
    for message in event.records {
        let Some(id) = message.message_id.clone().filter(|id| !id.is_empty()) else {
            tracing::error!("SQS message without id; skipped");
            continue;
        };
        let group = message.attributes.get(GROUP_ATTRIBUTE).filter(|g| !g.is_empty()).cloned();
        let waits = match &group {
            Some(g) => failed_groups.contains(g),
            None => !failed_groups.is_empty(),
        };
        if stop || waits {
            failures.push(id);
            continue;
        }
        let body = message.body.clone().unwrap_or_default();
        let attempts = message.attributes.get("ApproximateReceiveCount").and_then(|v| v.parse().ok()).unwrap_or(1);
        let trace = message.attributes.get(bridge_aws::TRACE_ATTRIBUTE).map(String::as_str);
        let failed = match process_traced(p, queue, job, &body, counters, trace).await {
            Disposition::Ack(_) => false,
            Disposition::Retry { after, .. } => {
                if let (Some(after), Some(receipt)) = (after, message.receipt_handle.as_deref())
                    && let Err(e) = queue.delay(job, receipt, after).await
                {
                    tracing::warn!(error = %e, "could not delay message");
                }
                true
            }
            Disposition::DeadLetter(reason) => {
                let letter = DeadLetter { job, reason, attempts, failed_at: chrono::Utc::now().to_rfc3339(), body };
                match queue.dead_letter(&letter).await {
                    Ok(()) => false,
                    Err(e) => {
                        tracing::error!(error = %e, "could not dead-letter; leaving the message on the queue");
                        true
                    }
                }
            }
        };
        if failed {
            failures.push(id);
            match group {
                Some(g) => {
                    failed_groups.insert(g);
                }
                None => stop = true,
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use bridge_domain::ports::{Clock as _, Store as _};
    use bridge_jobs::fakes::TestPorts;

    use super::*;

    use bridge_domain::event::Vendor;

    fn delivery(id: &str) -> Intent {
        Intent::Delivery { job: JobKind::TicketStatus, vendor: Vendor::Zendesk, delivery_id: id.into() }
    }

    const CONFIG: &str = "version: 1\nintercom: { bot_admin_id: '9' }\nescalation:\n  rules:\n    - { name: t, when: { tag_added: escalate } }\n";

    #[derive(Default)]
    struct Control {
        dead: Mutex<Vec<DeadLetter>>,
        delayed: Mutex<Vec<(String, Duration)>>,
    }

    impl DeadLetterPurge for Control {
        async fn purge_dead_letters(
            &self,
            _matches: &(dyn Fn(&bridge_domain::event::Entity, &serde_json::Value) -> bool + Send + Sync),
        ) -> bridge_domain::ports::PortResult<usize> {
            Ok(0)
        }
    }

    impl MessageControl for Control {
        async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), String> {
            self.dead.lock().unwrap().push(letter.clone());
            Ok(())
        }
        async fn delay(&self, _job: JobKind, receipt: &str, delay: Duration) -> Result<(), String> {
            self.delayed.lock().unwrap().push((receipt.to_string(), delay));
            Ok(())
        }
    }

    fn body(delivery: &str, conversation: &str) -> String {
        serde_json::json!({
            "vendor": "intercom", "delivery_id": delivery, "topic": "conversation.user.replied",
            "entity": format!("conversation:{conversation}"), "received_at": 1, "payload": null
        })
        .to_string()
    }

    fn grouped_batch(bodies: &[(&str, &str, String)]) -> SqsEvent {
        let records: Vec<serde_json::Value> = bodies
            .iter()
            .map(|(id, group, b)| serde_json::json!({"messageId": id, "receiptHandle": format!("r-{id}"), "body": b, "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": group}}))
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    fn ticket_body(delivery: &str, ticket: u64) -> String {
        serde_json::json!({
            "vendor": "zendesk", "delivery_id": delivery, "topic": "zen:event-type:ticket.status_changed",
            "entity": format!("ticket:{ticket}"), "received_at": 1, "payload": null
        })
        .to_string()
    }

    fn batch(bodies: &[(&str, String)]) -> SqsEvent {
        let records: Vec<serde_json::Value> = bodies
            .iter()
            .map(|(id, b)| serde_json::json!({"messageId": id, "receiptHandle": format!("r-{id}"), "body": b, "attributes": {"ApproximateReceiveCount": "2"}}))
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
    }

    #[tokio::test]
    async fn poison_message_is_dead_lettered_with_context_and_the_batch_goes_on() {
        let p = TestPorts::new(CONFIG);
        let control = Control::default();
        let event = batch(&[("m1", "{not json".to_string()), ("m2", body("d2", "404"))]);
        let resp = handle_sqs_batch(&p.ports(), &control, JobKind::Escalate, event, &Counters::default()).await;
        assert!(resp.batch_item_failures.is_empty());
        let dead = control.dead.lock().unwrap().clone();
        assert_eq!(dead.len(), 2, "bad JSON and an unknown conversation both cannot succeed");
        assert_eq!(dead[0].body, "{not json");
        assert_eq!(dead[0].attempts, 2);
        assert!(dead[1].reason.contains("not found"), "{}", dead[1].reason);
    }

    #[tokio::test]
    async fn a_retry_fails_the_rest_of_its_message_group_and_the_other_groups_go_on() {
        let p = TestPorts::new(CONFIG);
        // Another worker is processing delivery d1 (group A) right now.
        let marker = &delivery("d1");
        p.store.claim(marker, "other", Duration::from_secs(60), p.clock.now()).await.unwrap();
        let control = Control::default();
        let event = grouped_batch(&[
            ("m1", "A", ticket_body("d1", 1)),
            ("m2", "B", ticket_body("d2", 404)),
            ("m3", "A", ticket_body("d3", 1)),
            ("m4", "B", ticket_body("d4", 405)),
        ]);
        let counters = Counters::default();
        let resp = handle_sqs_batch(&p.ports(), &control, JobKind::TicketStatus, event, &counters).await;
        let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert_eq!(failed, vec!["m1", "m3"], "A's retry and A's later message; B is not held back");
        assert_eq!(control.delayed.lock().unwrap()[0].0, "r-m1");
        for d in ["d2", "d4"] {
            let state = p.store.intent_state(&delivery(d)).await.unwrap();
            assert!(matches!(state, Some(Claim::Done(_))), "B's {d} was processed: {state:?}");
        }
        assert_eq!(p.store.intent_state(&delivery("d3")).await.unwrap(), None, "A's later message did not run");
    }

    #[tokio::test]
    async fn a_failure_without_a_message_group_stops_the_batch() {
        let p = TestPorts::new(CONFIG);
        let marker = &delivery("d1");
        p.store.claim(marker, "other", Duration::from_secs(60), p.clock.now()).await.unwrap();
        let control = Control::default();
        let event = batch(&[("m1", ticket_body("d1", 1)), ("m2", ticket_body("d2", 1)), ("m3", ticket_body("d3", 2))]);
        let resp = handle_sqs_batch(&p.ports(), &control, JobKind::TicketStatus, event, &Counters::default()).await;
        let failed: Vec<_> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert_eq!(failed, vec!["m1", "m2", "m3"]);
        assert_eq!(control.delayed.lock().unwrap()[0].0, "r-m1");
    }

    #[tokio::test]
    async fn shadow_mode_writes_nothing_and_acknowledges_with_the_plan() {
        let p = TestPorts::new(&format!("{CONFIG}shadow: [escalate]\n"));
        p.seed_tagged_conversation("1");
        let counters = Counters::default();
        let d = process(&p.ports(), &p.dead_letters, JobKind::Escalate, &body("d1", "1"), &counters).await;
        let Disposition::Ack(summary) = d else { panic!("{d:?}") };
        assert!(summary.contains("create_ticket") && summary.contains("add_note"), "{summary}");
        assert!(p.zendesk.tickets.lock().unwrap().is_empty());
        assert!(p.intercom.notes.lock().unwrap().is_empty());
        assert_eq!(p.store.intent_state(&delivery("d1")).await.unwrap(), None, "no marker written");
        assert_eq!(counters.get("ShadowPlans", ("Job", "escalate")), 1);
    }

    #[tokio::test]
    async fn an_echo_of_the_bridge_is_acknowledged_without_a_delivery_marker() {
        let p = TestPorts::new(CONFIG);
        let counters = Counters::default();
        let mut echo: serde_json::Value = serde_json::from_str(&body("d5", "404")).unwrap();
        echo["actors"] = serde_json::json!(["admin:9"]);
        let d = process(&p.ports(), &p.dead_letters, JobKind::Escalate, &echo.to_string(), &counters).await;
        assert!(matches!(d, Disposition::Ack(ref why) if why.contains("caused by the bridge")), "{d:?}");
        assert_eq!(p.store.intent_state(&delivery("d5")).await.unwrap(), None);
        assert_eq!(counters.get("LoopsSuppressed", ("Job", "escalate")), 1);
    }

    #[tokio::test]
    async fn the_echo_of_the_bridges_own_note_costs_no_vendor_call_but_a_teammates_note_is_read() {
        use std::sync::atomic::Ordering;
        let p = TestPorts::new(CONFIG);
        p.seed_tagged_conversation("1");
        let counters = Counters::default();
        let tagged = process(&p.ports(), &p.dead_letters, JobKind::Escalate, &body("d1", "1"), &counters).await;
        assert!(matches!(tagged, Disposition::Ack(_)), "{tagged:?}");
        let calls = || p.intercom.calls.load(Ordering::SeqCst) + p.zendesk.calls.load(Ordering::SeqCst);
        let before = calls();
        let mut echo: serde_json::Value = serde_json::from_str(&body("d2", "1")).unwrap();
        echo["topic"] = serde_json::json!("conversation.admin.noted");
        echo["actors"] = serde_json::json!(["admin:9"]);
        let d = process(&p.ports(), &p.dead_letters, JobKind::Escalate, &echo.to_string(), &counters).await;
        assert!(matches!(d, Disposition::Ack(ref why) if why.contains("caused by the bridge")), "{d:?}");
        assert_eq!(calls(), before, "no vendor call for the bridge's own note");
        echo["delivery_id"] = serde_json::json!("d3");
        echo["actors"] = serde_json::json!(["admin:7"]);
        let d = process(&p.ports(), &p.dead_letters, JobKind::Escalate, &echo.to_string(), &counters).await;
        assert!(matches!(d, Disposition::Ack(ref why) if !why.contains("caused by the bridge")), "{d:?}");
        assert!(calls() > before, "a teammate's note is read and appended as usual");
    }

    #[tokio::test]
    async fn a_processed_delivery_is_not_run_again() {
        let p = TestPorts::new(CONFIG);
        let counters = Counters::default();
        let job = JobKind::TicketStatus;
        let first = process(&p.ports(), &p.dead_letters, job, &ticket_body("d9", 404), &counters).await;
        assert!(!matches!(first, Disposition::Ack(ref why) if why.contains("already processed")), "{first:?}");
        p.store.complete(&delivery("d8"), "done").await.unwrap();
        let again = process(&p.ports(), &p.dead_letters, job, &ticket_body("d8", 404), &counters).await;
        assert_eq!(again, Disposition::Ack("delivery already processed".into()));
        assert_eq!(counters.get("EventsDeduplicated", ("Job", "ticket-status")), 1);
    }

    #[tokio::test]
    async fn a_delivery_marker_records_the_kind_of_outcome_and_no_id() {
        let p = TestPorts::new(&format!("{CONFIG}ticket_status:\n  on:\n    reopened: {{ conversation: open }}\n"));
        let counters = Counters::default();
        let d = process(&p.ports(), &p.dead_letters, JobKind::TicketStatus, &ticket_body("d7", 40417), &counters).await;
        assert!(matches!(d, Disposition::Ack(ref why) if why.contains("40417")), "the log's summary names it: {d:?}");
        let marker = p.store.intent_state(&delivery("d7")).await.unwrap();
        assert_eq!(marker, Some(Claim::Done("skipped".into())), "the marker outlives an erasure: no ids in it");
    }

    #[tokio::test]
    async fn an_escalation_keeps_no_delivery_marker_and_a_redelivery_changes_nothing() {
        let p = TestPorts::new(CONFIG);
        p.seed_tagged_conversation("1");
        let counters = Counters::default();
        for _ in 0..3 {
            let d = process(&p.ports(), &p.dead_letters, JobKind::Escalate, &body("d1", "1"), &counters).await;
            assert!(matches!(d, Disposition::Ack(_)), "{d:?}");
        }
        let marker = Intent::Delivery { job: JobKind::Escalate, vendor: Vendor::Intercom, delivery_id: "d1".into() };
        assert_eq!(p.store.intent_state(&marker).await.unwrap(), None);
        assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1);
        assert_eq!(p.intercom.notes.lock().unwrap().len(), 1);
        assert_eq!(counters.get("ActionsDone", ("Job", "escalate")), 1, "the redeliveries are skipped");
    }
}
