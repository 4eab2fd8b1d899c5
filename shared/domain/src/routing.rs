//! Which job wants which webhook. The ingress classifies each verified event with these
//! tables and fans it out to the queues of the jobs listed.

use crate::ports::JobKind;

/// Jobs interested in an Intercom topic. Empty = accepted and counted, not queued.
pub fn intercom_jobs(topic: &str) -> &'static [JobKind] {
    match topic {
        "conversation.user.created"
        | "conversation.user.replied"
        | "conversation.admin.noted"
        | "conversation.admin.assigned"
        | "conversation.admin.open.assigned"
        | "conversation.priority.updated"
        | "conversation_part.tag.created" => &[JobKind::Escalate],
        _ => &[],
    }
}

/// Jobs interested in a Zendesk event type (`zen:event-type:ticket.status_changed`) or a
/// trigger payload (`trigger`).
pub fn zendesk_jobs(event_type: &str) -> &'static [JobKind] {
    let short = event_type.strip_prefix("zen:event-type:").unwrap_or(event_type);
    match short {
        "ticket.status_changed" | "ticket.comment_added" | "ticket.merged" | "trigger" => &[JobKind::TicketStatus],
        "ticket.tags_changed" => &[JobKind::TagSync],
        "ticket.created" => &[JobKind::TicketIntake],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalation_topics_go_to_escalate() {
        assert_eq!(intercom_jobs("conversation_part.tag.created"), &[JobKind::Escalate]);
        assert_eq!(intercom_jobs("conversation.user.replied"), &[JobKind::Escalate]);
        assert!(intercom_jobs("ping").is_empty());
        assert!(intercom_jobs("contact.user.created").is_empty());
    }

    #[test]
    fn zendesk_prefix_is_optional() {
        assert_eq!(zendesk_jobs("zen:event-type:ticket.created"), zendesk_jobs("ticket.created"));
        assert!(zendesk_jobs("zen:event-type:user.created").is_empty());
    }
}
