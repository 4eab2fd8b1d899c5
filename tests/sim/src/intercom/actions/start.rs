//! Conversations a customer starts, or seeded with their history.

use super::tags::ensure_tag;
use super::{ConversationSeed, Writer, author_of, conversation_item, require_admin};
use crate::intercom::state::{AppliedTag, Conversation, Part, Rating, Source, State};
use crate::intercom::{ApiError, Events};

/// A customer starts a conversation (`conversation.user.created`), or a seeded conversation
/// with history (no webhook for the seeded parts).
pub fn start_conversation(
    st: &mut State,
    ev: &mut Events,
    seed: ConversationSeed,
    emit: bool,
) -> Result<String, ApiError> {
    let contact = st.contacts.get(&seed.contact_id).cloned().ok_or_else(|| ApiError::not_found("User Not Found"))?;
    if let Some(a) = &seed.admin_id {
        require_admin(st, a)?;
    }
    let created = seed.created_at.unwrap_or_else(|| st.now() - seed.extra_parts as i64 - 1);
    let id = st.numeric_id(215_470_000_000_000);
    let source_id = st.numeric_id(3_000_000_000);
    let customer = author_of(st, &Writer::Contact(contact.id.clone()));
    let mut tags = Vec::new();
    for name in &seed.tags {
        let tag_id = ensure_tag(st, name)?;
        tags.push(AppliedTag { id: tag_id, applied_at: created, applied_by: seed.admin_id.clone() });
    }
    let mut parts = Vec::with_capacity(seed.extra_parts);
    let admin_author = seed.admin_id.as_ref().map(|a| author_of(st, &Writer::Admin(a.clone())));
    for i in 0..seed.extra_parts {
        let by_admin = i % 2 == 1 && admin_author.is_some();
        let author = if by_admin { admin_author.clone().unwrap_or_default() } else { customer.clone() };
        parts.push(Part {
            id: st.numeric_id(1_000_000_000),
            part_type: "comment".into(),
            body: Some(format!("<p>message {}</p>", i + 1)),
            created_at: created + 1 + i as i64,
            author,
            ..Part::default()
        });
    }
    if let (Some(at), Some(author)) = (seed.admin_reply_at, admin_author.clone()) {
        let id = st.numeric_id(1_000_000_000);
        parts.push(Part {
            id,
            part_type: "comment".into(),
            body: Some("<p>reply</p>".into()),
            created_at: at,
            author,
            ..Part::default()
        });
    }
    if let (Some(at), Some(author)) = (seed.closed_at, admin_author.clone()) {
        let id = st.numeric_id(1_000_000_000);
        parts.push(Part { id, part_type: "close".into(), created_at: at, author, ..Part::default() });
    }
    parts.sort_by_key(|p| p.created_at);
    let rating = seed.rating.as_ref().map(|r| Rating {
        rating: r.rating,
        remark: r.remark.clone(),
        created_at: seed.closed_at.unwrap_or(r.rated_at),
        updated_at: r.rated_at,
        contact_id: contact.id.clone(),
        teammate_id: seed.admin_id.clone(),
    });
    let mut updated = parts.last().map(|p| p.created_at).unwrap_or(created);
    if let Some(r) = &rating {
        updated = updated.max(r.updated_at);
    }
    let state = if seed.closed_at.is_some() { Some("closed".to_string()) } else { seed.state.clone() };
    // The first customer message after the last admin comment (null when an admin spoke last).
    let mut waiting_since = Some(created);
    for p in parts.iter().filter(|p| p.part_type == "comment") {
        waiting_since = if p.author.kind == "admin" { None } else { waiting_since.or(Some(p.created_at)) };
    }
    let conv = Conversation {
        id: id.clone(),
        title: seed.subject.clone(),
        created_at: created,
        updated_at: updated,
        waiting_since,
        snoozed_until: None,
        state: state.unwrap_or_else(|| "open".into()),
        read: false,
        priority: seed.priority.clone().unwrap_or_else(|| "none".into()),
        admin_assignee_id: None,
        team_assignee_id: seed.team_assignee_id.clone(),
        contact_ids: vec![contact.id.clone()],
        tags,
        custom_attributes: seed.custom_attributes.clone(),
        source: Source {
            id: source_id,
            kind: "conversation".into(),
            delivered_as: "customer_initiated".into(),
            subject: seed.subject.clone().unwrap_or_default(),
            body: seed.body.clone(),
            author: customer,
        },
        parts,
        rating,
    };
    st.conversations.insert(id.clone(), conv);
    if emit {
        ev.push("conversation.user.created", conversation_item(st, &id, &[]));
    }
    Ok(id)
}
