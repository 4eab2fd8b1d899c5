//! Conversation tags.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{conv_mut, conversation_item, require_admin};
use crate::intercom::state::{AppliedTag, State};
use crate::intercom::{ApiError, Events};

/// Tags a conversation; the newest part carries the tag in the
/// `conversation_part.tag.created` webhook. Returns the tag object.
pub fn tag_conversation(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    tag_id: &str,
    admin_id: &str,
) -> Result<Value, ApiError> {
    require_admin(st, admin_id)?;
    if !st.tags.contains_key(tag_id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let already = conv.tags.iter().any(|t| t.id == tag_id);
    let mut part_ids = Vec::new();
    if !already {
        conv.tags.push(AppliedTag { id: tag_id.to_string(), applied_at: ts, applied_by: Some(admin_id.to_string()) });
        conv.updated_at = ts;
        if let Some(last) = conv.parts.last_mut() {
            last.tag_ids.push(tag_id.to_string());
            part_ids.push(last.id.clone());
        }
    }
    let applied_at = conv.tags.iter().find(|t| t.id == tag_id).map(|t| t.applied_at).unwrap_or(ts);
    if !already {
        ev.push("conversation_part.tag.created", conversation_item(st, conv_id, &part_ids));
    }
    let mut tag = st.tag_json(tag_id);
    tag["applied_at"] = json!(applied_at);
    tag["applied_by"] = json!({"type": "admin", "id": admin_id});
    Ok(tag)
}

/// Removes a tag (no webhook topic exists for it). 404 `tag_not_found` when absent.
pub fn untag_conversation(st: &mut State, conv_id: &str, tag_id: &str, admin_id: &str) -> Result<Value, ApiError> {
    require_admin(st, admin_id)?;
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let before = conv.tags.len();
    conv.tags.retain(|t| t.id != tag_id);
    if conv.tags.len() == before {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    for p in &mut conv.parts {
        p.tag_ids.retain(|t| t != tag_id);
    }
    conv.updated_at = ts;
    Ok(st.tag_json(tag_id))
}

/// Finds or creates a tag by name; returns its id.
pub fn ensure_tag(st: &mut State, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name is required"));
    }
    if let Some(t) = st.tag_by_name(name) {
        return Ok(t.id.clone());
    }
    let id = st.numeric_id(9_000_000);
    st.tags.insert(id.clone(), crate::intercom::state::Tag { id: id.clone(), name: name.to_string() });
    Ok(id)
}
