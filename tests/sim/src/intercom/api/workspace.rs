//! The workspace: admins, teams, tags, segments, data attributes and conversation attributes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ApiResult, Params, Sh, body, required, text};
use crate::intercom::state::ConversationAttribute;
use crate::intercom::{ApiError, actions};

pub(super) async fn me(State(sh): Sh) -> ApiResult {
    sh.read(|st| {
        let admin = st.admins.values().next().ok_or_else(|| ApiError::not_found("Admin not found"))?;
        let mut v = st.admin_json(admin);
        v["email_verified"] = json!(true);
        // `admin_with_app.avatar` is an object (`{type: avatar, image_url}`), unlike the
        // nullable URL string of `admin.avatar` in `GET /admins`.
        v["avatar"] = json!({"type": "avatar", "image_url": null});
        v["app"] = json!({"type": "app", "id_code": st.app_id, "name": "Simulated workspace", "region": "US",
            "timezone": "UTC", "created_at": 1_600_000_000, "identity_verification": false});
        Ok(Json(v))
    })
}

pub(super) async fn list_admins(State(sh): Sh) -> ApiResult {
    Ok(Json(sh.read(
        |st| json!({"type": "admin.list", "admins": st.admins.values().map(|a| st.admin_json(a)).collect::<Vec<_>>()}),
    )))
}

pub(super) async fn get_admin(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        st.admins
            .get(&id)
            .map(|a| Json(st.admin_json(a)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))
    })
}

pub(super) async fn list_teams(State(sh): Sh) -> ApiResult {
    Ok(Json(sh.read(
        |st| json!({"type": "team.list", "teams": st.teams.values().map(|t| st.team_json(t)).collect::<Vec<_>>()}),
    )))
}

pub(super) async fn get_team(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        st.teams
            .get(&id)
            .map(|t| Json(st.team_json(t)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"))
    })
}

pub(super) async fn list_tags(State(sh): Sh) -> ApiResult {
    Ok(Json(
        sh.read(|st| json!({"type": "list", "data": st.tags.keys().map(|id| st.tag_json(id)).collect::<Vec<_>>()})),
    ))
}

pub(super) async fn create_tag(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let name = required(&b, "name")?;
    sh.mutate(|st, _| {
        if let Some(id) = text(&b, "id") {
            let tag = st
                .tags
                .get_mut(&id)
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"))?;
            tag.name = name.clone();
            return Ok(Json(st.tag_json(&id)));
        }
        let id = actions::ensure_tag(st, &name)?;
        Ok(Json(st.tag_json(&id)))
    })
}

pub(super) async fn list_segments(State(sh): Sh, Query(q): Params) -> ApiResult {
    let count = q.get("include_count").is_some_and(|v| v == "true");
    Ok(Json(sh.read(|st| json!({"type": "segment.list", "segments": st.segments.values().map(|s| st.segment_json(s, count)).collect::<Vec<_>>()}))))
}

pub(super) async fn list_data_attributes(State(sh): Sh, Query(q): Params) -> ApiResult {
    let model = q.get("model").cloned();
    if let Some(m) = &model
        && m != "contact"
        && m != "company"
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_invalid",
            format!("model {m} is not supported; use /conversations/attributes for conversations"),
        ));
    }
    let include_archived = q.get("include_archived").is_some_and(|v| v == "true");
    Ok(Json(sh.read(|st| {
        let data: Vec<Value> = st
            .data_attributes
            .iter()
            .filter(|a| model.as_deref().is_none_or(|m| a.model == m) && (include_archived || !a.archived))
            .map(|a| {
                let full_name = if a.custom { format!("custom_attributes.{}", a.name) } else { a.name.clone() };
                let mut v = json!({"type": "data_attribute", "model": a.model, "name": a.name, "full_name": full_name,
                    "label": a.label.clone().unwrap_or_else(|| a.name.clone()), "description": "", "data_type": a.data_type,
                    "api_writable": true, "ui_writable": true, "messenger_writable": false, "custom": a.custom,
                    "archived": a.archived, "created_at": 1_600_000_000, "updated_at": 1_600_000_000});
                if a.custom {
                    v["id"] = json!(a.id);
                }
                v
            })
            .collect();
        json!({"type": "list", "data": data})
    })))
}

fn conversation_attribute_json(a: &ConversationAttribute) -> Value {
    json!({"type": "conversation_attribute", "id": a.id, "name": a.name, "description": a.description.clone().unwrap_or_default(),
        "data_type": a.data_type, "required": a.required, "visible_to_team_ids": [], "archived": a.archived,
        "created_at": a.created_at, "updated_at": a.created_at})
}

pub(super) async fn list_conversation_attributes(State(sh): Sh) -> ApiResult {
    Ok(Json(sh.read(|st| json!({"type": "list", "data": st.conversation_attributes.iter().map(conversation_attribute_json).collect::<Vec<_>>()}))))
}

const CONVERSATION_ATTRIBUTE_TYPES: &[&str] =
    &["string", "integer", "list", "decimal", "boolean", "datetime", "relationship", "files"];

pub(super) async fn create_conversation_attribute(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let name = required(&b, "name")?;
    let data_type = required(&b, "data_type")?;
    if !CONVERSATION_ATTRIBUTE_TYPES.contains(&data_type.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_invalid",
            format!("data_type {data_type} is not valid"),
        ));
    }
    sh.mutate(|st, _| {
        if st.conversation_attributes.iter().any(|a| a.name == name) {
            return Err(ApiError::invalid(format!("An attribute named '{name}' already exists")));
        }
        let id = st.numeric_id(0);
        let a = ConversationAttribute {
            id: id.parse().unwrap_or(0),
            name: name.clone(),
            data_type: data_type.clone(),
            description: text(&b, "description"),
            required: b.get("required").and_then(Value::as_bool).unwrap_or(false),
            archived: false,
            created_at: st.now(),
        };
        let out = conversation_attribute_json(&a);
        st.conversation_attributes.push(a);
        Ok(Json(out))
    })
}
