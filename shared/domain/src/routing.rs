//! Which job wants which webhook. The ingress classifies each verified event with these
//! tables and fans it out to the queues of the jobs listed.

use crate::config::Config;
use crate::ports::JobKind;

/// Whether `config` gives `job` anything to do. A job without its section skips every event,
/// so an ingress that knows the configuration does not queue events for it. Job 2's queue also
/// carries erasures and contact merges, which need no section, so it is always wanted.
pub fn configured(config: &Config, job: JobKind) -> bool {
    match job {
        JobKind::Escalate => config.escalation.is_some(),
        JobKind::TicketStatus => config.ticket_status.is_some(),
        JobKind::TagSync => config.tag_sync.is_some(),
        JobKind::TicketIntake => config.routing.is_some() || config.acknowledgement.is_some(),
        JobKind::ProfileSync => true,
    }
}

/// Jobs interested in an Intercom topic. Empty = accepted and counted, not queued.
pub fn intercom_jobs(topic: &str) -> &'static [JobKind] {
    match topic {
        "conversation.user.created"
        | "conversation.admin.assigned"
        | "conversation.admin.open.assigned"
        | "conversation.priority.updated" => &[JobKind::Escalate],
        // Intercom has no "tag removed" topic: conversation activity makes tag sync look again.
        "conversation.user.replied" | "conversation.admin.noted" => &[JobKind::Escalate, JobKind::TagSync],
        "conversation_part.tag.created" => &[JobKind::Escalate, JobKind::TagSync],
        // Job 2: contact and company changes (leads are filtered by the job's configuration).
        "contact.user.created"
        | "contact.user.updated"
        | "contact.lead.created"
        | "contact.lead.updated"
        | "contact.email.updated"
        | "company.created"
        | "company.updated" => &[JobKind::ProfileSync],
        // GDPR erasure runs on job 2's queue (see `erasure`).
        "contact.deleted" => &[JobKind::ProfileSync],
        // Contact merges move links and person state on job 2's queue (see `contact_merge`).
        "contact.merged" => &[JobKind::ProfileSync],
        _ => &[],
    }
}

/// Jobs interested in a Zendesk event type (`zen:event-type:ticket.status_changed`) or a
/// trigger payload (`trigger`).
pub fn zendesk_jobs(event_type: &str) -> &'static [JobKind] {
    let short = event_type.strip_prefix("zen:event-type:").unwrap_or(event_type);
    match short {
        "ticket.status_changed" | "ticket.comment_added" | "ticket.merged" => &[JobKind::TicketStatus],
        // The trigger body carries status, latest comment and tags at once.
        "trigger" => &[JobKind::TicketStatus, JobKind::TagSync],
        "ticket.tags_changed" => &[JobKind::TagSync],
        // New tickets: the event, or the trigger body sent by a "Ticket is Created" trigger.
        "ticket.created" | "trigger.ticket_created" => &[JobKind::TicketIntake],
        // GDPR erasure runs on job 2's queue (see `erasure`).
        "user.deleted" => &[JobKind::ProfileSync],
        // Job 2: any user or organization change except deletions.
        s if (s.starts_with("user.") || s.starts_with("organization.")) && !s.ends_with(".deleted") => {
            &[JobKind::ProfileSync]
        }
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configured_jobs_are_wanted_but_profile_sync_always_is() {
        let bare = Config::from_yaml("version: 1\nintercom: { bot_admin_id: '1' }\n").unwrap();
        let wanted: Vec<JobKind> = JobKind::ALL.into_iter().filter(|j| configured(&bare, *j)).collect();
        assert_eq!(wanted, vec![JobKind::ProfileSync], "erasures and merges need no section");
        let escalation = Config::from_yaml(
            "version: 1\nintercom: { bot_admin_id: '1' }\nescalation: { rules: [{ name: t, when: { tag_added: x } }] }\n",
        )
        .unwrap();
        assert!(configured(&escalation, JobKind::Escalate));
        assert!(!configured(&escalation, JobKind::TagSync));
        assert!(!configured(&escalation, JobKind::TicketIntake));
    }

    #[test]
    fn escalation_topics_go_to_escalate() {
        assert_eq!(intercom_jobs("conversation_part.tag.created"), &[JobKind::Escalate, JobKind::TagSync]);
        assert_eq!(intercom_jobs("conversation.user.replied"), &[JobKind::Escalate, JobKind::TagSync]);
        assert_eq!(intercom_jobs("conversation.admin.assigned"), &[JobKind::Escalate]);
        assert!(intercom_jobs("ping").is_empty());
        assert!(intercom_jobs("visitor.signed_up").is_empty());
    }

    #[test]
    fn zendesk_prefix_is_optional() {
        assert_eq!(zendesk_jobs("zen:event-type:ticket.created"), zendesk_jobs("ticket.created"));
        assert_eq!(zendesk_jobs("trigger.ticket_created"), &[JobKind::TicketIntake]);
        assert_eq!(zendesk_jobs("zen:event-type:user.deleted"), &[JobKind::ProfileSync], "erasure");
        assert!(zendesk_jobs("zen:event-type:organization.deleted").is_empty());
        assert!(zendesk_jobs("zen:event-type:article.published").is_empty());
    }

    #[test]
    fn status_and_tag_events_reach_jobs_3_and_4() {
        let table: [(&str, &[JobKind]); 5] = [
            ("zen:event-type:ticket.status_changed", &[JobKind::TicketStatus]),
            ("zen:event-type:ticket.comment_added", &[JobKind::TicketStatus]),
            ("zen:event-type:ticket.merged", &[JobKind::TicketStatus]),
            ("zen:event-type:ticket.tags_changed", &[JobKind::TagSync]),
            ("trigger", &[JobKind::TicketStatus, JobKind::TagSync]),
        ];
        for (topic, jobs) in table {
            assert_eq!(zendesk_jobs(topic), jobs, "{topic}");
        }
    }

    #[test]
    fn profile_events_reach_job_2() {
        for topic in ["contact.user.created", "contact.user.updated", "contact.lead.updated", "company.updated"] {
            assert_eq!(intercom_jobs(topic), &[JobKind::ProfileSync], "{topic}");
        }
        assert_eq!(intercom_jobs("contact.merged"), &[JobKind::ProfileSync], "contact merges");
        for topic in [
            "zen:event-type:user.created",
            "zen:event-type:user.identity_changed",
            "zen:event-type:user.custom_field_changed",
            "zen:event-type:organization.custom_field_changed",
        ] {
            assert_eq!(zendesk_jobs(topic), &[JobKind::ProfileSync], "{topic}");
        }
    }
}
