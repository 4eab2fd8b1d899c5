//! Conversation changes: replies and notes (with files), close / open / snooze / assign,
//! priority, ratings and attribute updates.

use axum::http::StatusCode;
use serde_json::Value;

use super::{AssignTo, Manage, Writer, author_of, conv_mut, conversation_item, push_part, require_admin};
use crate::intercom::state::{Part, PartsView, Rating, State};
use crate::intercom::{ApiError, Events};

/// The conversation as reply/manage calls return it.
pub fn conversation_response(st: &State, conv_id: &str) -> Result<Value, ApiError> {
    st.conversations
        .get(conv_id)
        .map(|c| st.conversation_json(c, PartsView::Capped))
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))
}

/// A reply: admin comment (`conversation.admin.replied`), admin note
/// (`conversation.admin.noted`) or contact comment (`conversation.user.replied`).
pub fn reply(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    writer: Writer,
    note: bool,
    body: &str,
    via_api: Option<&str>,
) -> Result<String, ApiError> {
    reply_with_files(st, ev, conv_id, writer, note, body, via_api, Vec::new())
}

/// Like [`reply`], with files on the new part.
#[allow(clippy::too_many_arguments)]
pub fn reply_with_files(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    writer: Writer,
    note: bool,
    body: &str,
    via_api: Option<&str>,
    attachments: Vec<crate::intercom::state::PartFile>,
) -> Result<String, ApiError> {
    if !st.conversations.contains_key(conv_id) {
        return Err(ApiError::not_found("Resource Not Found"));
    }
    if body.trim().is_empty() {
        return Err(ApiError::invalid("Body is required"));
    }
    if let Writer::Admin(id) = &writer {
        require_admin(st, id)?;
    }
    let author = author_of(st, &writer);
    let part_type = if note { "note" } else { "comment" };
    let part =
        Part { part_type: part_type.into(), body: Some(body.to_string()), author, attachments, ..Part::default() };
    let part_id = push_part(st, conv_id, part, via_api)?;
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let topic = match (&writer, note) {
        (Writer::Admin(_), true) => "conversation.admin.noted",
        (Writer::Admin(_), false) => {
            conv.waiting_since = None;
            "conversation.admin.replied"
        }
        (Writer::Contact(_), _) => {
            // "The time a customer started waiting for a response": kept by a second message.
            conv.waiting_since = conv.waiting_since.or(Some(ts));
            if conv.state != "open" {
                conv.state = "open".into();
                conv.snoozed_until = None;
            }
            "conversation.user.replied"
        }
    };
    ev.push(topic, conversation_item(st, conv_id, std::slice::from_ref(&part_id)));
    Ok(part_id)
}

/// Close, open, snooze or assign.
pub fn manage(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    admin_id: &str,
    change: Manage,
    via_api: Option<&str>,
) -> Result<String, ApiError> {
    if !st.conversations.contains_key(conv_id) {
        return Err(ApiError::not_found("Resource Not Found"));
    }
    require_admin(st, admin_id)?;
    let author = author_of(st, &Writer::Admin(admin_id.to_string()));
    let (part, topic) = match &change {
        Manage::Close(body) => (
            Part { part_type: "close".into(), body: body.clone(), author, ..Part::default() },
            "conversation.admin.closed",
        ),
        Manage::Open => (Part { part_type: "open".into(), author, ..Part::default() }, "conversation.admin.opened"),
        Manage::Snooze(until) => {
            if *until <= st.now() {
                return Err(ApiError::invalid("snoozed_until must be in the future"));
            }
            (Part { part_type: "snoozed".into(), author, ..Part::default() }, "conversation.admin.snoozed")
        }
        Manage::Assign(to, body) => {
            let (kind, id) = match to {
                AssignTo::Admin(id) => ("admin", id),
                AssignTo::Team(id) => ("team", id),
            };
            let unassign = id == "0" || id.is_empty();
            if !unassign && kind == "admin" && !st.admins.contains_key(id) {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Assignee admin not found"));
            }
            if !unassign && kind == "team" && !st.teams.contains_key(id) {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"));
            }
            let assigned =
                if unassign { ("nobody_admin".to_string(), "0".to_string()) } else { (kind.to_string(), id.clone()) };
            let part = Part {
                part_type: "assignment".into(),
                body: body.clone(),
                author,
                assigned_to: Some(assigned),
                ..Part::default()
            };
            (part, "conversation.admin.assigned")
        }
    };
    let part_id = push_part(st, conv_id, part, via_api)?;
    let conv = conv_mut(st, conv_id)?;
    match change {
        Manage::Close(_) => {
            conv.state = "closed".into();
            conv.snoozed_until = None;
        }
        Manage::Open => {
            conv.state = "open".into();
            conv.snoozed_until = None;
        }
        Manage::Snooze(until) => {
            conv.state = "snoozed".into();
            conv.snoozed_until = Some(until);
        }
        Manage::Assign(AssignTo::Admin(id), _) => {
            conv.admin_assignee_id = Some(id).filter(|i| i != "0" && !i.is_empty())
        }
        Manage::Assign(AssignTo::Team(id), _) => conv.team_assignee_id = Some(id).filter(|i| i != "0" && !i.is_empty()),
    }
    ev.push(topic, conversation_item(st, conv_id, std::slice::from_ref(&part_id)));
    Ok(part_id)
}

/// Sets the priority (`conversation.priority.updated`).
pub fn set_priority(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    admin_id: &str,
    priority: &str,
) -> Result<(), ApiError> {
    if !["none", "low", "medium", "high", "urgent"].contains(&priority) {
        return Err(ApiError::invalid(format!("priority must be none, low, medium, high or urgent, got {priority}")));
    }
    require_admin(st, admin_id)?;
    let author = author_of(st, &Writer::Admin(admin_id.to_string()));
    let part = Part { part_type: "priority_changed".into(), author, ..Part::default() };
    let part_id = push_part(st, conv_id, part, None)?;
    conv_mut(st, conv_id)?.priority = priority.to_string();
    ev.push("conversation.priority.updated", conversation_item(st, conv_id, &[part_id]));
    Ok(())
}

/// The customer rates the conversation (`conversation.rating.added`).
pub fn rate(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    rating: u8,
    remark: Option<String>,
) -> Result<(), ApiError> {
    if !(1..=5).contains(&rating) {
        return Err(ApiError::invalid("rating must be 1-5"));
    }
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let contact_id = conv.contact_ids.first().cloned().unwrap_or_default();
    let requested = conv.parts.iter().rev().find(|p| p.part_type == "close").map(|p| p.created_at).unwrap_or(ts);
    conv.rating = Some(Rating {
        rating,
        remark,
        created_at: requested,
        updated_at: ts,
        contact_id,
        teammate_id: conv.admin_assignee_id.clone(),
    });
    conv.updated_at = ts;
    ev.push("conversation.rating.added", conversation_item(st, conv_id, &[]));
    Ok(())
}

/// `PUT /conversations/{id}`: `read`, `title`, `custom_attributes` (which must exist).
pub fn update_conversation(st: &mut State, conv_id: &str, body: &Value) -> Result<Value, ApiError> {
    let known: Vec<String> =
        st.conversation_attributes.iter().filter(|a| !a.archived).map(|a| a.name.clone()).collect();
    if let Some(attrs) = body.get("custom_attributes") {
        let Some(attrs) = attrs.as_object() else {
            return Err(ApiError::invalid("custom_attributes must be an object"));
        };
        if let Some(k) = attrs.keys().find(|k| !known.contains(k)) {
            return Err(ApiError::invalid(format!("Conversation attribute '{k}' does not exist")));
        }
    }
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    if let Some(read) = body.get("read").and_then(Value::as_bool) {
        conv.read = read;
    }
    if let Some(title) = body.get("title").and_then(Value::as_str) {
        conv.title = Some(title.to_string());
    }
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for (k, v) in attrs {
            conv.custom_attributes.insert(k.clone(), v.clone());
        }
    }
    conv.updated_at = ts;
    conversation_response(st, conv_id)
}
