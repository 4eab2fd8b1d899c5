//! The link between an Intercom conversation and its live Zendesk ticket, with its history.

use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::ids::{ContactId, ConversationId, TicketId, UserId};

/// One entry in a link's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LinkEvent {
    /// The link was created by an escalation.
    Created {
        /// Ticket created.
        ticket: TicketId,
        /// When.
        at: Timestamp,
    },
    /// The ticket was merged into another; the link moved to the target.
    Merged {
        /// Source (now closed).
        from: TicketId,
        /// Target (live).
        to: TicketId,
        /// When.
        at: Timestamp,
    },
    /// A follow-up of a closed ticket became the live ticket.
    FollowUp {
        /// Closed ticket.
        from: TicketId,
        /// Follow-up.
        to: TicketId,
        /// When.
        at: Timestamp,
    },
    /// The conversation's contact was merged into another contact.
    ContactMerged {
        /// Old contact.
        from: ContactId,
        /// Surviving contact.
        to: ContactId,
        /// When.
        at: Timestamp,
    },
}

/// The link between an Intercom conversation and its live Zendesk ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The live ticket.
    pub ticket_id: TicketId,
    /// Every ticket that has been linked (merged sources, closed parents), live one last.
    pub tickets: Vec<TicketId>,
    /// The requester on the Zendesk side.
    pub requester_id: Option<UserId>,
    /// The contact on the Intercom side.
    pub contact_id: Option<ContactId>,
    /// Optimistic-concurrency version, bumped on every update.
    pub version: u64,
    /// What happened to the link, oldest first.
    pub history: Vec<LinkEvent>,
    /// Other conversations linked to the same live ticket (their tickets were merged into it, or
    /// this one's was). The store indexes a ticket to one conversation; this names the others,
    /// so a change of the ticket reaches every conversation that follows it. May name
    /// conversations that have since moved on: check their own link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<ConversationId>,
    /// How many of the conversation's parts, from the first, the ticket's transcript holds (its
    /// first comment). Job 1 counts them as on the ticket until it keeps its own record of the
    /// parts it appended; `None` on links made before the count was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_parts: Option<u32>,
}

impl Link {
    /// A new link created by an escalation.
    pub fn new(
        conversation_id: ConversationId,
        ticket_id: TicketId,
        requester_id: Option<UserId>,
        contact_id: Option<ContactId>,
        at: Timestamp,
    ) -> Self {
        Self {
            conversation_id,
            ticket_id,
            tickets: vec![ticket_id],
            requester_id,
            contact_id,
            version: 1,
            history: vec![LinkEvent::Created { ticket: ticket_id, at }],
            shared_with: Vec::new(),
            transcript_parts: None,
        }
    }
}
