//! Long-polls a job's SQS queue and runs the same [`process`] as the Lambda batch driver
//! (`bridge serve`, small self-hosted installs). Job 1 runs the groups of a batch concurrently;
//! per-group order is kept: once a message of a group is to be retried, the later messages of
//! that group in the same batch are delayed too.

use std::time::Duration;

use bridge_aws::{ReceivedMessage, SqsQueue};
use bridge_domain::event::Entity;
use bridge_domain::ports::Store;
use bridge_domain::routing::JobKind;
use bridge_jobs::{Intercom, Ports, Zendesk};
use tokio::sync::watch;

use crate::app::App;
use crate::driver::{DeadLetter, Disposition, MessageControl, process};
use crate::metrics::Counters;

/// Delay for a retry the vendor gave no delay for.
const DEFAULT_RETRY: Duration = Duration::from_secs(2);

/// Polls until `stop` turns true. The configuration is refreshed between batches.
pub async fn poll(app: &App, job: JobKind, mut stop: watch::Receiver<bool>) {
    let (queue, counters) = (&app.queue, &app.counters);
    tracing::info!(job = job.as_str(), "worker polling");
    loop {
        if *stop.borrow() {
            break;
        }
        let received = tokio::select! {
            r = queue.receive(job, 10, 1) => r,
            _ = stop.changed() => break,
        };
        match received {
            Ok(messages) if messages.is_empty() => {}
            Ok(messages) => {
                let config = app.config().await;
                handle_messages(&app.ports(&config), queue, job, messages, counters).await;
                app.after_run();
            }
            Err(e) => {
                tracing::warn!(job = job.as_str(), error = %e, "receive failed; backing off");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    tracing::info!(job = job.as_str(), "worker stopped");
}

/// Processes one received batch, each message group (entity) in order; processed messages are
/// deleted together at the end. Job 1's groups run concurrently: its events are all about
/// conversations and it keys its state by conversation, the group. The other jobs see one link
/// through two groups (its ticket and its conversation), so their groups run one after another.
pub async fn handle_messages<S: Store, I: Intercom, Z: Zendesk>(
    p: &Ports<'_, S, I, Z>,
    queue: &SqsQueue,
    job: JobKind,
    messages: Vec<ReceivedMessage>,
    counters: &Counters,
) {
    // Unreadable bodies share one group; the driver dead-letters each.
    let mut groups: Vec<(Option<Entity>, Vec<ReceivedMessage>)> = Vec::new();
    for message in messages {
        let group = message.event().map(|e| e.entity).ok();
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, members)) => members.push(message),
            None => groups.push((group, vec![message])),
        }
    }
    let done: Vec<String> = if job == JobKind::Escalate {
        let runs = groups.into_iter().map(|(_, members)| handle_group(p, queue, job, members, counters));
        futures::future::join_all(runs).await.into_iter().flatten().collect()
    } else {
        let mut done = Vec::new();
        for (_, members) in groups {
            done.extend(handle_group(p, queue, job, members, counters).await);
        }
        done
    };
    if done.is_empty() {
        return;
    }
    match queue.delete_many(job, &done).await {
        Ok(failed) if failed.is_empty() => {}
        Ok(failed) => {
            tracing::warn!(
                count = failed.len(),
                "could not delete processed messages; they will be seen again and skipped"
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not delete processed messages; they will be seen again and skipped")
        }
    }
}

/// One group's messages in order; once one is to be retried, the rest wait too. Returns the
/// receipt handles of the messages to delete.
async fn handle_group<S: Store, I: Intercom, Z: Zendesk>(
    p: &Ports<'_, S, I, Z>,
    queue: &SqsQueue,
    job: JobKind,
    messages: Vec<ReceivedMessage>,
    counters: &Counters,
) -> Vec<String> {
    let mut done = Vec::new();
    let mut blocked = false;
    for message in messages {
        if blocked {
            delay(queue, job, &message, DEFAULT_RETRY).await;
            continue;
        }
        match process(p, queue, job, &message.body, counters).await {
            Disposition::Ack(_) => done.push(message.receipt_handle),
            Disposition::Retry { after, .. } => {
                delay(queue, job, &message, after.unwrap_or(DEFAULT_RETRY)).await;
                blocked = true;
            }
            Disposition::DeadLetter(reason) => {
                let letter = DeadLetter {
                    job,
                    reason,
                    attempts: message.receive_count,
                    failed_at: chrono::Utc::now().to_rfc3339(),
                    body: message.body.clone(),
                };
                match queue.dead_letter(&letter).await {
                    Ok(()) => done.push(message.receipt_handle),
                    Err(e) => {
                        tracing::error!(error = %e, "could not dead-letter; leaving the message on the queue");
                        blocked = true;
                    }
                }
            }
        }
    }
    done
}

async fn delay(queue: &SqsQueue, job: JobKind, message: &ReceivedMessage, after: Duration) {
    if let Err(e) = queue.delay(job, &message.receipt_handle, after).await {
        tracing::warn!(error = %e, "could not delay a message");
    }
}
