//! Conversations: list, search, show, update, reply, manage and tags.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::paging::{cursor_page, decode_cursor, search_params, search_sort, sort_cmp};
use super::{ApiResult, Params, Sh, app_code, body, required, text};
use crate::intercom::ApiError;
use crate::intercom::actions::{self, AssignTo, Manage, Writer};
use crate::intercom::search::{self, Model};
use crate::intercom::state::{Conversation, PartsView, State as SimState};

fn sorted_conversations(st: &SimState) -> Vec<&Conversation> {
    let mut list: Vec<_> = st.conversations.values().collect();
    list.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    list
}

pub(super) async fn list_conversations(State(sh): Sh, Query(q): Params) -> ApiResult {
    let per_page = q.get("per_page").and_then(|s| s.parse().ok()).unwrap_or(20);
    let offset = decode_cursor(q.get("starting_after").map(String::as_str))?;
    Ok(Json(sh.read(|st| {
        let items: Vec<Value> =
            sorted_conversations(st).into_iter().map(|c| st.conversation_json(c, PartsView::Omit)).collect();
        let total = items.len();
        let (page, pages) = cursor_page(items, per_page, offset);
        json!({"type": "conversation.list", "conversations": page, "total_count": total, "pages": pages})
    })))
}

pub(super) async fn search_conversations(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let (query, per_page, offset) = search_params(&b, 20)?;
    let sort = search_sort(&b)?;
    sh.read(|st| {
        let mut matched = Vec::new();
        for c in sorted_conversations(st) {
            let doc = search::conversation_doc(st, c);
            if search::matches(Model::Conversations, &query, &doc).map_err(ApiError::invalid)? {
                matched.push((doc, c));
            }
        }
        if let Some((field, ascending)) = &sort {
            // Stable: equal values keep the default order (newest update first, then id).
            matched.sort_by(|(a, _), (b, _)| sort_cmp(a.get(field), b.get(field), *ascending));
        }
        let items: Vec<Value> = matched.into_iter().map(|(_, c)| st.conversation_json(c, PartsView::Omit)).collect();
        let total = items.len();
        let (page, pages) = cursor_page(items, per_page, offset);
        Ok(Json(json!({"type": "conversation.list", "conversations": page, "total_count": total, "pages": pages})))
    })
}

pub(super) async fn get_conversation(State(sh): Sh, Path(id): Path<String>, Query(q): Params) -> ApiResult {
    let plaintext = q.get("display_as").is_some_and(|v| v == "plaintext");
    sh.read(|st| {
        let mut v = actions::conversation_response(st, &id)?;
        if plaintext {
            strip_html(&mut v);
        }
        Ok(Json(v))
    })
}

/// `display_as=plaintext`: tags removed from the source and part bodies.
fn strip_html(v: &mut Value) {
    fn plain(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut in_tag = false;
        for ch in s.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    }
    if let Some(Value::String(b)) = v.pointer_mut("/source/body") {
        *b = plain(b);
    }
    if let Some(Value::Array(parts)) = v.pointer_mut("/conversation_parts/conversation_parts") {
        for p in parts {
            if let Some(Value::String(b)) = p.get_mut("body") {
                *b = plain(b);
            }
        }
    }
}

pub(super) async fn update_conversation(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, _| actions::update_conversation(st, &id, &b).map(Json))
}

pub(super) async fn reply(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let code = app_code(&sh);
    let message_type = required(&b, "message_type")?;
    let kind = text(&b, "type").unwrap_or_default();
    let body_text = text(&b, "body").unwrap_or_default();
    let files = reply_files(&b)?;
    let base = sh.base_url();
    sh.mutate(|st, ev| {
        let conv_id = if id == "last" { last_conversation_of(st, &b)? } else { id.clone() };
        let (writer, note) = match (kind.as_str(), message_type.as_str()) {
            ("admin", "comment" | "quick_reply") => (Writer::Admin(required(&b, "admin_id")?), false),
            ("admin", "note") => (Writer::Admin(required(&b, "admin_id")?), true),
            ("user", "comment") => (Writer::Contact(reply_contact(st, &b)?), false),
            _ => {
                return Err(ApiError::invalid(format!("message_type {message_type} is not valid for type {kind}")));
            }
        };
        let attachments = files
            .into_iter()
            .map(|f| match f {
                ReplyFile::Data { name, content_type, bytes } => st.store_file(&base, &name, &content_type, bytes),
                ReplyFile::Url(url) => crate::intercom::state::PartFile {
                    name: url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().into(),
                    url,
                    ..Default::default()
                },
            })
            .collect();
        actions::reply_with_files(st, ev, &conv_id, writer, note, &body_text, Some(&code), attachments)?;
        actions::conversation_response(st, &conv_id).map(Json)
    })
}

/// A file sent with a reply.
enum ReplyFile {
    /// `attachment_files[]`: base64 data.
    Data { name: String, content_type: String, bytes: Vec<u8> },
    /// `attachment_urls[]`: Intercom would fetch it; the simulator lists the URL.
    Url(String),
}

/// `attachment_files` (which take precedence) or `attachment_urls`, at most 10 each.
fn reply_files(b: &Value) -> Result<Vec<ReplyFile>, ApiError> {
    use base64::Engine as _;
    let list = |key: &str| b.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let (files, urls) = (list("attachment_files"), list("attachment_urls"));
    if files.len() > 10 || urls.len() > 10 {
        return Err(ApiError::invalid("A maximum of 10 attachments is allowed"));
    }
    if !files.is_empty() {
        return files
            .iter()
            .map(|f| {
                let data = text(f, "data").unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data.as_bytes())
                    .map_err(|_| ApiError::invalid("attachment_files data must be base64"))?;
                let name = required(f, "name")?;
                let content_type = text(f, "content_type").unwrap_or_else(|| "application/octet-stream".into());
                Ok(ReplyFile::Data { name, content_type, bytes })
            })
            .collect();
    }
    Ok(urls.iter().filter_map(Value::as_str).map(|u| ReplyFile::Url(u.to_string())).collect())
}

fn reply_contact(st: &SimState, b: &Value) -> Result<String, ApiError> {
    if let Some(id) = text(b, "intercom_user_id") {
        return actions::live_contact(st, &id);
    }
    let found = if let Some(email) = text(b, "email") {
        st.contacts.values().find(|c| c.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)))
    } else if let Some(uid) = text(b, "user_id") {
        st.contacts.values().find(|c| c.external_id.as_deref() == Some(uid.as_str()))
    } else {
        None
    };
    found.map(|c| c.id.clone()).ok_or_else(|| ApiError::not_found("User Not Found"))
}

fn last_conversation_of(st: &SimState, b: &Value) -> Result<String, ApiError> {
    let contact = reply_contact(st, b)?;
    st.conversations
        .values()
        .filter(|c| c.contact_ids.contains(&contact))
        .max_by_key(|c| c.updated_at)
        .map(|c| c.id.clone())
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))
}

pub(super) async fn manage(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let code = app_code(&sh);
    let admin = required(&b, "admin_id")?;
    let message_type = required(&b, "message_type")?;
    let change = match message_type.as_str() {
        "close" => Manage::Close(text(&b, "body")),
        "open" => Manage::Open,
        "snoozed" => Manage::Snooze(
            b.get("snoozed_until")
                .and_then(Value::as_i64)
                .ok_or_else(|| ApiError::invalid("snoozed_until must be a Unix timestamp"))?,
        ),
        "assignment" => {
            let assignee = required(&b, "assignee_id")?;
            let to = match text(&b, "type").as_deref() {
                Some("team") => AssignTo::Team(assignee),
                _ => AssignTo::Admin(assignee),
            };
            Manage::Assign(to, text(&b, "body"))
        }
        other => {
            return Err(ApiError::invalid(format!("message_type {other} is not valid")));
        }
    };
    sh.mutate(|st, ev| {
        actions::manage(st, ev, &id, &admin, change, Some(&code))?;
        actions::conversation_response(st, &id).map(Json)
    })
}

pub(super) async fn tag_conversation(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let tag_id = required(&b, "id")?;
    let admin = required(&b, "admin_id")?;
    sh.mutate(|st, ev| actions::tag_conversation(st, ev, &id, &tag_id, &admin).map(Json))
}

pub(super) async fn untag_conversation(
    State(sh): Sh,
    Path((id, tag_id)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let b = body(&raw)?;
    let admin = required(&b, "admin_id")?;
    sh.mutate(|st, _| actions::untag_conversation(st, &id, &tag_id, &admin).map(Json))
}
