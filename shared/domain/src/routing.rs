//! Which job handles which event: the one place that says it. The ingress fans each verified
//! event out to the queues of [`jobs`]; the batch driver runs the [`Handler`] that
//! [`handler`] picks on each queue, after dropping the bridge's own echoes first where
//! [`JobKind::drops_own_echoes_first`] says so.

use crate::config::Config;
use crate::event::{Actor, QueuedEvent, Vendor};
pub use crate::job::JobKind;

/// The use case that runs for an event on a job's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// Job 1.
    Escalate,
    /// Job 3.
    TicketStatus,
    /// Job 4.
    TagSync,
    /// Jobs 5 and 6.
    TicketIntake,
    /// Job 2.
    ProfileSync,
    /// A person deleted on one side (rides on job 2's queue).
    Erasure,
    /// Intercom contacts merged (rides on job 2's queue).
    ContactMerge,
}

/// Intercom's topic of a contact merge.
pub const CONTACT_MERGED: &str = "contact.merged";

/// The use case for `event` on `job`'s queue.
pub fn handler(job: JobKind, event: &QueuedEvent) -> Handler {
    match job {
        JobKind::Escalate => Handler::Escalate,
        JobKind::TicketStatus => Handler::TicketStatus,
        JobKind::TagSync => Handler::TagSync,
        JobKind::TicketIntake => Handler::TicketIntake,
        JobKind::ProfileSync if crate::erasure::is_erasure_topic(&event.topic) => Handler::Erasure,
        JobKind::ProfileSync if event.vendor == Vendor::Intercom && event.topic == CONTACT_MERGED => {
            Handler::ContactMerge
        }
        JobKind::ProfileSync => Handler::ProfileSync,
    }
}

/// The jobs a topic of `vendor` goes to. Empty = accepted and counted, not queued.
pub fn jobs(vendor: Vendor, topic: &str) -> &'static [JobKind] {
    match vendor {
        Vendor::Intercom => intercom_jobs(topic),
        Vendor::Zendesk => zendesk_jobs(topic),
    }
}

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

/// Whether `job` will act on an event caused by `actors`, as far as the configuration alone
/// can tell: the job is configured, and the event is not only the bridge's own change coming
/// back to a job that drops those first ([`JobKind::drops_own_echoes_first`]; an Intercom
/// event whose every actor is the bot admin). An ingress that knows the configuration queues
/// an event only for these jobs.
pub fn acts_on(config: &Config, job: JobKind, vendor: Vendor, actors: &[Actor]) -> bool {
    let own_echo = job.drops_own_echoes_first()
        && vendor == Vendor::Intercom
        && !actors.is_empty()
        && actors.iter().all(|a| *a == Actor::intercom_admin(&config.intercom.bot_admin_id));
    configured(config, job) && !own_echo
}

/// Jobs interested in an Intercom topic. Empty = accepted and counted, not queued.
fn intercom_jobs(topic: &str) -> &'static [JobKind] {
    match topic {
        "conversation.user.created"
        // After the escalation: a close or reopen may set the ticket's status (`on_close`).
        | "conversation.admin.closed"
        | "conversation.admin.opened"
        | "conversation.admin.assigned"
        | "conversation.admin.open.assigned"
        | "conversation.priority.updated" => &[JobKind::Escalate],
        // Intercom has no "tag removed" topic: conversation activity makes tag sync look again.
        "conversation.user.replied" | "conversation.admin.replied" | "conversation.admin.noted" => {
            &[JobKind::Escalate, JobKind::TagSync]
        }
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
        CONTACT_MERGED => &[JobKind::ProfileSync],
        _ => &[],
    }
}

/// Jobs interested in a Zendesk event type (`zen:event-type:ticket.status_changed`) or a
/// trigger payload (`trigger`).
fn zendesk_jobs(event_type: &str) -> &'static [JobKind] {
    let short = event_type.strip_prefix("zen:event-type:").unwrap_or(event_type);
    match short {
        "ticket.status_changed" | "ticket.comment_added" | "ticket.merged" | "ticket.priority_changed" => {
            &[JobKind::TicketStatus]
        }
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

    fn event(vendor: Vendor, topic: &str, entity: &str) -> QueuedEvent {
        QueuedEvent {
            vendor,
            delivery_id: "d".into(),
            topic: topic.into(),
            entity: entity.parse().unwrap(),
            received_at: crate::model::Timestamp(0),
            payload: serde_json::Value::Null,
            actors: Vec::new(),
            trace_id: None,
        }
    }

    #[test]
    fn the_bots_own_intercom_change_is_not_for_job_1_but_a_teammates_is() {
        let config = Config::from_yaml(
            "version: 1\nintercom: { bot_admin_id: '9' }\nescalation: { rules: [{ name: t, when: { tag_added: x } }] }\ntag_sync: { map: {} }\n",
        )
        .unwrap();
        let bot = [Actor::parse(Vendor::Intercom, "admin:9").unwrap()];
        let mate = [Actor::parse(Vendor::Intercom, "admin:7").unwrap()];
        assert!(!acts_on(&config, JobKind::Escalate, Vendor::Intercom, &bot));
        assert!(acts_on(&config, JobKind::Escalate, Vendor::Intercom, &mate));
        assert!(acts_on(&config, JobKind::Escalate, Vendor::Intercom, &[]), "no actor named: queued");
        // Tag sync compares fields instead: the bot's event still reaches it.
        assert!(acts_on(&config, JobKind::TagSync, Vendor::Intercom, &bot));
        // Unconfigured jobs get nothing.
        assert!(!acts_on(&config, JobKind::TicketStatus, Vendor::Zendesk, &[]));
    }

    #[test]
    fn job_2s_queue_carries_erasures_and_merges_to_their_own_handlers() {
        let cases = [
            (Vendor::Intercom, "contact.deleted", "contact:c1", Handler::Erasure),
            (Vendor::Zendesk, "zen:event-type:user.deleted", "user:5", Handler::Erasure),
            (Vendor::Intercom, CONTACT_MERGED, "contact:c2", Handler::ContactMerge),
            (Vendor::Zendesk, CONTACT_MERGED, "user:5", Handler::ProfileSync),
            (Vendor::Intercom, "contact.user.updated", "contact:c1", Handler::ProfileSync),
        ];
        for (vendor, topic, entity, want) in cases {
            assert_eq!(handler(JobKind::ProfileSync, &event(vendor, topic, entity)), want, "{topic}");
        }
        let tag = event(Vendor::Intercom, "conversation_part.tag.created", "conversation:1");
        assert_eq!(handler(JobKind::TagSync, &tag), Handler::TagSync);
        assert!(JobKind::Escalate.drops_own_echoes_first() && !JobKind::TagSync.drops_own_echoes_first());
        assert_eq!(JobKind::parse("ticket-intake"), Some(JobKind::TicketIntake));
        assert_eq!(jobs(Vendor::Zendesk, "ticket.created"), &[JobKind::TicketIntake]);
        assert_eq!(jobs(Vendor::Intercom, "ticket.created"), &[] as &[JobKind]);
    }

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
