//! Link lifecycle: how a conversation <-> ticket link follows Zendesk merges, follow-ups of
//! closed tickets and Intercom contact merges. Every move is recorded in the link's history;
//! every ticket that was ever linked stays in `tickets` so events about it still find the link.

use crate::ids::{ContactId, TicketId};
use crate::model::{Link, LinkEvent, Ticket, TicketStatus, Timestamp};

/// A change to a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkChange {
    /// `from` was merged into `to` (`from` is closed).
    Merged {
        /// Source ticket.
        from: TicketId,
        /// Target ticket.
        to: TicketId,
    },
    /// `to` is a follow-up of the closed ticket `from`.
    FollowUp {
        /// Closed ticket.
        from: TicketId,
        /// Follow-up ticket.
        to: TicketId,
    },
    /// The conversation's contact `from` was merged into `to`.
    ContactMerged {
        /// Old contact.
        from: ContactId,
        /// Surviving contact.
        to: ContactId,
    },
}

/// Result of applying a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The new link to store (same version; the store bumps it).
    Moved(Box<Link>),
    /// The link already reflects the change (a redelivery).
    AlreadyApplied,
    /// The change is about something the link no longer points at; ignored.
    Stale,
}

/// Applies a change to a link.
pub fn apply(link: &Link, change: &LinkChange, at: Timestamp) -> Transition {
    match change {
        LinkChange::Merged { from, to } | LinkChange::FollowUp { from, to } => {
            if link.ticket_id == *to {
                return Transition::AlreadyApplied;
            }
            if link.ticket_id != *from {
                return Transition::Stale;
            }
            let mut next = link.clone();
            next.ticket_id = *to;
            if !next.tickets.contains(to) {
                next.tickets.push(*to);
            }
            next.history.push(match change {
                LinkChange::Merged { .. } => LinkEvent::Merged { from: *from, to: *to, at },
                _ => LinkEvent::FollowUp { from: *from, to: *to, at },
            });
            Transition::Moved(Box::new(next))
        }
        LinkChange::ContactMerged { from, to } => {
            if link.contact_id.as_ref() == Some(to) {
                return Transition::AlreadyApplied;
            }
            if link.contact_id.as_ref() != Some(from) {
                return Transition::Stale;
            }
            let mut next = link.clone();
            next.contact_id = Some(to.clone());
            next.history.push(LinkEvent::ContactMerged { from: from.clone(), to: to.clone(), at });
            Transition::Moved(Box::new(next))
        }
    }
}

/// What an append to the live ticket must do first, given its status: a closed ticket cannot
/// take comments, so a follow-up is created instead; a solved one is reopened by the customer's
/// public comment itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendTarget {
    /// Comment on the ticket (a solved ticket reopens on an end-user comment).
    Comment {
        /// The ticket will reopen as a result.
        reopens: bool,
    },
    /// Create a follow-up of the closed ticket.
    FollowUp,
}

/// Decides where a customer's new message goes.
pub fn append_target(ticket: &Ticket, public_customer_comment: bool) -> AppendTarget {
    match ticket.status {
        TicketStatus::Closed => AppendTarget::FollowUp,
        TicketStatus::Solved | TicketStatus::Pending | TicketStatus::Hold => {
            AppendTarget::Comment { reopens: public_customer_comment }
        }
        _ => AppendTarget::Comment { reopens: false },
    }
}

/// Idempotency key of the follow-up created for a closed ticket.
pub fn followup_key(closed: TicketId, conversation: &crate::ids::ConversationId) -> String {
    format!("intercom-followup-{conversation}-{closed}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ids::ConversationId;

    fn t(n: u64) -> TicketId {
        TicketId::new(n).unwrap()
    }

    fn link() -> Link {
        Link::new(
            ConversationId::parse("c1").unwrap(),
            t(10),
            None,
            Some(ContactId::parse("ct1").unwrap()),
            Timestamp(1),
        )
    }

    #[test]
    fn ticket_moves_keep_history_and_every_ticket() {
        let l = link();
        let Transition::Moved(merged) = apply(&l, &LinkChange::Merged { from: t(10), to: t(20) }, Timestamp(2)) else {
            panic!("merge should move the link");
        };
        assert_eq!(merged.ticket_id, t(20));
        assert_eq!(merged.tickets, vec![t(10), t(20)]);
        assert_eq!(merged.history.last(), Some(&LinkEvent::Merged { from: t(10), to: t(20), at: Timestamp(2) }));
        let Transition::Moved(followed) =
            apply(&merged, &LinkChange::FollowUp { from: t(20), to: t(30) }, Timestamp(3))
        else {
            panic!("follow-up should move the link");
        };
        assert_eq!(followed.tickets, vec![t(10), t(20), t(30)]);
        assert_eq!(followed.history.len(), 3);

        let table = [
            (LinkChange::Merged { from: t(10), to: t(20) }, Transition::AlreadyApplied),
            (LinkChange::Merged { from: t(99), to: t(98) }, Transition::Stale),
            (LinkChange::FollowUp { from: t(10), to: t(40) }, Transition::Stale),
        ];
        for (change, want) in table {
            assert_eq!(apply(&merged, &change, Timestamp(4)), want, "{change:?}");
        }
    }

    #[test]
    fn contact_merge_follows_the_surviving_contact() {
        let c = |s: &str| ContactId::parse(s).unwrap();
        let l = link();
        let Transition::Moved(m) = apply(&l, &LinkChange::ContactMerged { from: c("ct1"), to: c("ct2") }, Timestamp(5))
        else {
            panic!("contact merge should apply");
        };
        assert_eq!(m.contact_id, Some(c("ct2")));
        assert!(matches!(m.history.last(), Some(LinkEvent::ContactMerged { .. })));
        assert_eq!(
            apply(&m, &LinkChange::ContactMerged { from: c("ct1"), to: c("ct2") }, Timestamp(6)),
            Transition::AlreadyApplied
        );
        assert_eq!(apply(&m, &LinkChange::ContactMerged { from: c("x"), to: c("y") }, Timestamp(6)), Transition::Stale);
    }

    #[test]
    fn appends_to_closed_tickets_become_follow_ups() {
        let ticket = |status| Ticket {
            id: t(1),
            subject: None,
            status,
            priority: None,
            requester_id: None,
            assignee_id: None,
            group_id: None,
            organization_id: None,
            tags: vec![],
            external_id: None,
            via_channel: None,
            followup_source_id: None,
            custom_fields: BTreeMap::new(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let table = [
            (TicketStatus::Closed, true, AppendTarget::FollowUp),
            (TicketStatus::Solved, true, AppendTarget::Comment { reopens: true }),
            (TicketStatus::Solved, false, AppendTarget::Comment { reopens: false }),
            (TicketStatus::Open, true, AppendTarget::Comment { reopens: false }),
            (TicketStatus::Pending, true, AppendTarget::Comment { reopens: true }),
        ];
        for (status, public, want) in table {
            assert_eq!(append_target(&ticket(status), public), want, "{status:?}");
        }
    }
}
