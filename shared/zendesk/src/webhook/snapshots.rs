//! The snapshots an event-subscribed webhook carries in `detail`, read leniently.

use super::*;

pub(super) fn event_comment(c: &Value) -> EventComment {
    EventComment {
        id: id_of(c.get("id"), CommentId::parse),
        body: text(c.get("body")),
        is_public: flag(c.get("is_public")).or_else(|| flag(c.get("public"))).unwrap_or(false),
        author_id: id_of(c.pointer("/author/id"), UserId::parse).or_else(|| id_of(c.get("author_id"), UserId::parse)),
        author_is_staff: flag(c.pointer("/author/is_staff")),
    }
}

pub(super) fn ticket_snapshot(d: &Value, subject: &Subject) -> Option<TicketSnapshot> {
    let id = id_of(d.get("id"), TicketId::parse).or(match subject {
        Subject::Ticket(id) => Some(*id),
        _ => None,
    })?;
    Some(TicketSnapshot {
        id,
        status: text(d.get("status")).and_then(|s| TicketStatus::parse(&s)),
        priority: text(d.get("priority")).and_then(|s| TicketPriority::parse(&s)),
        subject: text(d.get("subject")),
        external_id: text(d.get("external_id")),
        requester_id: id_of(d.get("requester_id"), UserId::parse),
        assignee_id: id_of(d.get("assignee_id"), UserId::parse),
        group_id: id_of(d.get("group_id"), GroupId::parse),
        organization_id: id_of(d.get("organization_id"), OrganizationId::parse),
        tags: tag_list(d.get("tags")),
        via_channel: text(d.pointer("/via/channel")),
    })
}

pub(super) fn user_snapshot(d: &Value, subject: &Subject) -> Option<UserSnapshot> {
    let id = id_of(d.get("id"), UserId::parse).or(match subject {
        Subject::User(id) => Some(*id),
        _ => None,
    })?;
    Some(UserSnapshot {
        id,
        email: text(d.get("email")),
        external_id: text(d.get("external_id")),
        role: text(d.get("role")),
        organization_id: id_of(d.get("organization_id"), OrganizationId::parse),
    })
}

pub(super) fn org_snapshot(d: &Value, subject: &Subject) -> Option<OrganizationSnapshot> {
    let id = id_of(d.get("id"), OrganizationId::parse).or(match subject {
        Subject::Organization(id) => Some(*id),
        _ => None,
    })?;
    Some(OrganizationSnapshot { id, name: text(d.get("name")), external_id: text(d.get("external_id")) })
}
