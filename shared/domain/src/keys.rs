//! What the store keeps, named by type: [`Intent`]s (a lease, then a done marker with the
//! result) and documents ([`DocKey`], read and written as typed values with a version, see
//! [`crate::ports::Doc`]). Their text form (`escalate#<conversation>`, `ESC#<conversation>`) is
//! the stored key; only the store adapter and the documentation read it.

use std::fmt;

use crate::event::{Entity, Kind, Vendor};
use crate::ids::{CommentId, ContactId, ConversationId, PartId, TicketId, UserId};
use crate::job::JobKind;

/// Something done once: claimed with a lease, then completed with its result, so a retry or a
/// concurrent worker finds it done instead of doing it again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Intent {
    /// A job's run on one delivery: `delivery#<job>#<vendor>#<delivery id>`.
    Delivery {
        /// The job.
        job: JobKind,
        /// The vendor that sent the webhook.
        vendor: Vendor,
        /// The vendor's delivery id.
        delivery_id: String,
    },
    /// Writing the ticket back onto the conversation: `writeback#<conversation>#<ticket>`.
    Writeback(ConversationId, TicketId),
    /// Appending one conversation part to the ticket: `append#<conversation>#<part>`.
    Append(ConversationId, PartId),
    /// Relaying one public Zendesk comment to the conversation (job 3):
    /// `relay#<conversation>#<comment>`.
    Relay(ConversationId, CommentId),
    /// One effect of a status change (job 3): `status#<conversation>#<generation>#<event>#<action>`.
    StatusEffect {
        /// The conversation.
        conversation: ConversationId,
        /// How many status changes came before (a reopen starts a new generation).
        generation: u64,
        /// The status event (`solved`, `reopened`, ...).
        event: &'static str,
        /// The effect (`reply`, `close`, `tag:<name>`, ...).
        action: String,
    },
    /// The lock of a linked pair's tag sync (job 4): `tags#<conversation>`.
    TagSync(ConversationId),
    /// Routing a new ticket (job 6): `intake-route#<ticket>`.
    Route(TicketId),
    /// Acknowledging a new ticket (job 5): `intake-ack#<ticket>`.
    Acknowledge(TicketId),
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Intent::Delivery { job, vendor, delivery_id } => {
                write!(f, "delivery#{}#{vendor}#{delivery_id}", job.as_str())
            }
            Intent::Writeback(c, t) => write!(f, "writeback#{c}#{t}"),
            Intent::Append(c, p) => write!(f, "append#{c}#{p}"),
            Intent::Relay(c, comment) => write!(f, "relay#{c}#{comment}"),
            Intent::StatusEffect { conversation, generation, event, action } => {
                write!(f, "status#{conversation}#{generation}#{event}#{action}")
            }
            Intent::TagSync(c) => write!(f, "tags#{c}"),
            Intent::Route(t) => write!(f, "intake-route#{t}"),
            Intent::Acknowledge(t) => write!(f, "intake-ack#{t}"),
        }
    }
}

/// A stored document (JSON, with a version for optimistic updates).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKey {
    /// Job 1's record of a conversation: the parts already on its ticket. `ESC#<conversation>`.
    Escalation(ConversationId),
    /// Job 3's record of a linked conversation: last status, generation, relayed comments.
    /// `TSTATUS#<conversation>`.
    TicketStatus(ConversationId),
    /// Job 4's record of a linked pair's tags. `TAGS#<conversation>`.
    Tags(ConversationId),
    /// The Zendesk requester (user, organization) of an Intercom contact. `PERSON#IC#<contact>`.
    IntercomPerson(ContactId),
    /// The Intercom contact of a Zendesk user (jobs 5 and 6). `PERSON#ZD#<user>`.
    ZendeskPerson(UserId),
    /// What the bridge last wrote to an entity, per field (the loop guard):
    /// `LOOP#<IC|ZD>#<kind>:<id>`.
    Written {
        /// The side of the entity.
        side: Vendor,
        /// The entity as `<kind>:<id>` (`conversation:215`, `ticket:5`, `user:42`).
        entity: String,
    },
    /// Job 2's state of a profile pair, kept under its Intercom side (the Zendesk side keeps a
    /// pointer): `PROFILE#<IC|ZD>#<contact|company|user|organization>:<id>`.
    Profile {
        /// Which side's record.
        side: Vendor,
        /// Person or organization.
        kind: Kind,
        /// The profile's id on that side.
        id: String,
    },
    /// An ambiguous match of a profile, kept for operators: `PROFILE#AMBIGUOUS#<kind>:<id>`.
    ProfileAmbiguous {
        /// The side of the profile that had several candidates.
        side: Vendor,
        /// Person or organization.
        kind: Kind,
        /// Its id.
        id: String,
    },
    /// Job 2's reconciliation cursor of one side and kind: `PROFILE#CURSOR#<IC|ZD>#<kind>`.
    ProfileCursor {
        /// The side read.
        side: Vendor,
        /// Person or organization.
        kind: Kind,
    },
    /// The last schema drift report: `PROFILE#DRIFT`.
    ProfileDrift,
    /// A job's repair sweep: its window and page cursors. `SWEEP#<job>`.
    SweepCursor(JobKind),
    /// The bulk backfill's cursor and jobs in flight: `PROFILE#BACKFILL#contact`.
    ProfileBackfill,
    /// A shared rate budget: `RL#<vendor>#<endpoint class>`.
    RateBudget {
        /// The vendor account.
        vendor: Vendor,
        /// The endpoint class (`api`, `users`, `incremental`).
        class: &'static str,
    },
    /// The document `bridge doctor` reads to check the table: `DOCTOR#probe`.
    Probe,
}

impl DocKey {
    /// The loop-guard record of `entity`.
    pub fn written(entity: &Entity) -> Self {
        DocKey::Written { side: entity.vendor(), entity: entity.to_string() }
    }

    /// The loop-guard record of a profile.
    pub fn written_profile(side: Vendor, kind: Kind, id: &str) -> Self {
        DocKey::Written { side, entity: format!("{}:{id}", kind.entity_word(side)) }
    }
}

impl fmt::Display for DocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocKey::Escalation(c) => write!(f, "ESC#{c}"),
            DocKey::TicketStatus(c) => write!(f, "TSTATUS#{c}"),
            DocKey::Tags(c) => write!(f, "TAGS#{c}"),
            DocKey::IntercomPerson(c) => write!(f, "PERSON#IC#{c}"),
            DocKey::ZendeskPerson(u) => write!(f, "PERSON#ZD#{u}"),
            DocKey::Written { side, entity } => write!(f, "LOOP#{}#{entity}", side.short()),
            DocKey::Profile { side, kind, id } => {
                write!(f, "PROFILE#{}#{}:{id}", side.short(), kind.entity_word(*side))
            }
            DocKey::ProfileAmbiguous { side, kind, id } => {
                write!(f, "PROFILE#AMBIGUOUS#{}:{id}", kind.entity_word(*side))
            }
            DocKey::ProfileCursor { side, kind } => {
                write!(f, "PROFILE#CURSOR#{}#{}", side.short(), kind.entity_word(*side))
            }
            DocKey::ProfileDrift => f.write_str("PROFILE#DRIFT"),
            DocKey::ProfileBackfill => f.write_str("PROFILE#BACKFILL#contact"),
            DocKey::SweepCursor(job) => write!(f, "SWEEP#{}", job.as_str()),
            DocKey::RateBudget { vendor, class } => write!(f, "RL#{vendor}#{class}"),
            DocKey::Probe => f.write_str("DOCTOR#probe"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_keep_the_stored_text_of_earlier_versions() {
        let c = ConversationId::parse("215").unwrap();
        let t = TicketId::new(5).unwrap();
        let intents = [
            (
                Intent::Delivery { job: JobKind::TicketStatus, vendor: Vendor::Zendesk, delivery_id: "d1".into() },
                "delivery#ticket-status#zendesk#d1",
            ),
            (Intent::Writeback(c.clone(), t), "writeback#215#5"),
            (Intent::Append(c.clone(), PartId::parse("9").unwrap()), "append#215#9"),
            (Intent::Relay(c.clone(), CommentId::new(77).unwrap()), "relay#215#77"),
            (
                Intent::StatusEffect {
                    conversation: c.clone(),
                    generation: 2,
                    event: "solved",
                    action: "reply".into(),
                },
                "status#215#2#solved#reply",
            ),
            (Intent::TagSync(c.clone()), "tags#215"),
            (Intent::Route(t), "intake-route#5"),
            (Intent::Acknowledge(t), "intake-ack#5"),
        ];
        for (intent, text) in intents {
            assert_eq!(intent.to_string(), text);
        }
        let docs = [
            (DocKey::Escalation(c.clone()), "ESC#215"),
            (DocKey::TicketStatus(c.clone()), "TSTATUS#215"),
            (DocKey::Tags(c.clone()), "TAGS#215"),
            (DocKey::IntercomPerson(ContactId::parse("c1").unwrap()), "PERSON#IC#c1"),
            (DocKey::ZendeskPerson(UserId::new(7).unwrap()), "PERSON#ZD#7"),
            (DocKey::written(&Entity::Ticket(t)), "LOOP#ZD#ticket:5"),
            (DocKey::written_profile(Vendor::Intercom, Kind::Person, "c1"), "LOOP#IC#contact:c1"),
            (DocKey::Profile { side: Vendor::Zendesk, kind: Kind::Org, id: "4".into() }, "PROFILE#ZD#organization:4"),
            (
                DocKey::ProfileAmbiguous { side: Vendor::Intercom, kind: Kind::Person, id: "c1".into() },
                "PROFILE#AMBIGUOUS#contact:c1",
            ),
            (DocKey::ProfileCursor { side: Vendor::Intercom, kind: Kind::Org }, "PROFILE#CURSOR#IC#company"),
            (DocKey::ProfileDrift, "PROFILE#DRIFT"),
            (DocKey::ProfileBackfill, "PROFILE#BACKFILL#contact"),
            (DocKey::SweepCursor(JobKind::TicketIntake), "SWEEP#ticket-intake"),
            (DocKey::RateBudget { vendor: Vendor::Zendesk, class: "users" }, "RL#zendesk#users"),
        ];
        for (key, text) in docs {
            assert_eq!(key.to_string(), text);
        }
    }
}
