//! GDPR erasure over the dead-letter queues: removes the letters that mention a person.

use bridge_domain::erasure::DeadLetterPurge;
use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ports::PortResult;

use crate::SqsQueue;

/// Most letters looked at per queue in one purge.
const MAX_LETTERS: usize = 10_000;

/// The event a dead letter carries: the runtime's envelope (`{job, reason, …, body}` with the
/// queued event as a JSON string in `body`), or a raw queued event moved by SQS redrive.
fn letter_event(body: &str) -> Option<QueuedEvent> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    if let Some(inner) = value.get("body").and_then(|b| b.as_str()) {
        return serde_json::from_str(inner).ok();
    }
    serde_json::from_value(value).ok()
}

impl DeadLetterPurge for SqsQueue {
    async fn purge_dead_letters(
        &self,
        matches: &(dyn Fn(&Entity, &serde_json::Value) -> bool + Send + Sync),
    ) -> PortResult<usize> {
        let jobs: Vec<_> = self.urls().iter().filter(|(_, u)| u.dlq.is_some()).map(|(j, _)| *j).collect();
        let mut removed = 0;
        for job in jobs {
            let mut kept = Vec::new();
            let mut seen = 0;
            while seen < MAX_LETTERS {
                let batch = self.dlq_messages(job).await?;
                if batch.is_empty() {
                    break;
                }
                seen += batch.len();
                for m in batch {
                    if letter_event(&m.body).is_some_and(|e| matches(&e.entity, &e.payload)) {
                        self.delete_dead_letter(job, &m.receipt_handle).await?;
                        removed += 1;
                    } else {
                        kept.push(m.receipt_handle);
                    }
                }
            }
            for receipt in kept {
                self.release_dead_letter(job, &receipt).await?;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_read_in_both_shapes() {
        let event =
            r#"{"vendor":"zendesk","delivery_id":"d","topic":"t","entity":"user:5","received_at":1,"payload":{}}"#;
        let envelope =
            serde_json::json!({"job": "profile-sync", "reason": "r", "attempts": 1, "failed_at": "-", "body": event});
        assert_eq!(letter_event(&envelope.to_string()).map(|e| e.entity.to_string()), Some("user:5".to_string()));
        assert_eq!(letter_event(event).map(|e| e.entity.to_string()), Some("user:5".to_string()));
        assert!(letter_event("{nope").is_none());
    }
}
