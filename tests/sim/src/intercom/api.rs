//! REST handlers: the Intercom endpoints the bridge uses, with Intercom's shapes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, response::IntoResponse};
use base64::Engine;
use serde_json::{Value, json};

use super::actions::{self, AssignTo, Manage, Writer};
use super::search::{self, Model};
use super::state::{ConversationAttribute, Message, PartsView, State as SimState};
use super::{ApiError, Shared};

type Sh = State<Arc<Shared>>;
type ApiResult = Result<Json<Value>, ApiError>;
type Params = Query<HashMap<String, String>>;

/// API routes (without the gate middleware).
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/me", get(me))
        .route("/admins", get(list_admins))
        .route("/admins/{id}", get(get_admin))
        .route("/teams", get(list_teams))
        .route("/teams/{id}", get(get_team))
        .route("/tags", get(list_tags).post(create_tag))
        .route("/segments", get(list_segments))
        .route("/data_attributes", get(list_data_attributes))
        .route("/conversations", get(list_conversations))
        .route("/conversations/search", post(search_conversations))
        .route("/conversations/attributes", get(list_conversation_attributes).post(create_conversation_attribute))
        .route("/conversations/{id}", get(get_conversation).put(update_conversation))
        .route("/conversations/{id}/reply", post(reply))
        .route("/conversations/{id}/parts", post(manage))
        .route("/conversations/{id}/tags", post(tag_conversation))
        .route("/conversations/{id}/tags/{tag_id}", axum::routing::delete(untag_conversation))
        .route("/contacts", post(create_contact))
        .route("/contacts/search", post(search_contacts))
        .route("/contacts/merge", post(merge_contacts))
        .route("/contacts/find_by_external_id/{external_id}", get(find_by_external_id))
        .route("/contacts/{id}", get(get_contact).put(update_contact).delete(delete_contact))
        .route("/contacts/{id}/companies", get(contact_companies).post(attach_company))
        .route("/contacts/{id}/tags", get(contact_tags).post(add_contact_tag))
        .route("/contacts/{id}/tags/{tag_id}", axum::routing::delete(remove_contact_tag))
        .route("/contacts/{id}/segments", get(contact_segments))
        .route("/companies", get(list_companies).post(upsert_company))
        .route("/companies/{id}", get(get_company))
        .route("/messages", post(send_message))
        .route("/data_attributes/{id}", put(not_found))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
}

async fn not_found() -> impl IntoResponse {
    ApiError::not_found("Resource Not Found")
}

/// Parses a JSON body; empty means `{}`.
fn body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let v: Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::invalid("There was a problem parsing the JSON body"))?;
    if v.is_object() { Ok(v) } else { Err(ApiError::invalid("The JSON body must be an object")) }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn required(v: &Value, key: &str) -> Result<String, ApiError> {
    text(v, key)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", format!("{key} is required")))
}

fn app_code(sh: &Shared) -> String {
    sh.options().app_package_code
}

// ---------- pagination ----------

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({"offset": offset}).to_string())
}

fn decode_cursor(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    base64::engine::general_purpose::STANDARD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("offset").and_then(Value::as_u64))
        .map(|n| n as usize)
        .ok_or_else(|| ApiError::invalid("Invalid starting_after value"))
}

/// One page of `items` with Intercom's cursor `pages` object.
fn cursor_page<T>(items: impl IntoIterator<Item = T>, per_page: usize, offset: usize) -> (Vec<T>, Value) {
    let items: Vec<T> = items.into_iter().collect();
    let total = items.len();
    let per_page = per_page.clamp(1, 150);
    let page_items: Vec<T> = items.into_iter().skip(offset).take(per_page).collect();
    let page = offset / per_page + 1;
    let total_pages = total.div_ceil(per_page).max(1);
    let mut pages = json!({"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages});
    if offset + per_page < total {
        // `starting_after_paging`: `{per_page, starting_after}` (no `page`).
        pages["next"] = json!({"per_page": per_page, "starting_after": encode_cursor(offset + per_page)});
    }
    (page_items, pages)
}

fn per_page_of(v: Option<&Value>, default: usize) -> usize {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|n| n as usize).unwrap_or(default),
        Some(Value::String(s)) => s.parse().unwrap_or(default),
        _ => default,
    }
}

// ---------- admins, teams, tags, segments, attributes ----------

async fn me(State(sh): Sh) -> ApiResult {
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

async fn list_admins(State(sh): Sh) -> ApiResult {
    Ok(Json(sh.read(
        |st| json!({"type": "admin.list", "admins": st.admins.values().map(|a| st.admin_json(a)).collect::<Vec<_>>()}),
    )))
}

async fn get_admin(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        st.admins
            .get(&id)
            .map(|a| Json(st.admin_json(a)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))
    })
}

async fn list_teams(State(sh): Sh) -> ApiResult {
    Ok(Json(sh.read(
        |st| json!({"type": "team.list", "teams": st.teams.values().map(|t| st.team_json(t)).collect::<Vec<_>>()}),
    )))
}

async fn get_team(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        st.teams
            .get(&id)
            .map(|t| Json(st.team_json(t)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"))
    })
}

async fn list_tags(State(sh): Sh) -> ApiResult {
    Ok(Json(
        sh.read(|st| json!({"type": "list", "data": st.tags.keys().map(|id| st.tag_json(id)).collect::<Vec<_>>()})),
    ))
}

async fn create_tag(State(sh): Sh, raw: Bytes) -> ApiResult {
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

async fn list_segments(State(sh): Sh, Query(q): Params) -> ApiResult {
    let count = q.get("include_count").is_some_and(|v| v == "true");
    Ok(Json(sh.read(|st| json!({"type": "segment.list", "segments": st.segments.values().map(|s| st.segment_json(s, count)).collect::<Vec<_>>()}))))
}

async fn list_data_attributes(State(sh): Sh, Query(q): Params) -> ApiResult {
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

async fn list_conversation_attributes(State(sh): Sh) -> ApiResult {
    Ok(Json(sh.read(|st| json!({"type": "list", "data": st.conversation_attributes.iter().map(conversation_attribute_json).collect::<Vec<_>>()}))))
}

const CONVERSATION_ATTRIBUTE_TYPES: &[&str] =
    &["string", "integer", "list", "decimal", "boolean", "datetime", "relationship", "files"];

async fn create_conversation_attribute(State(sh): Sh, raw: Bytes) -> ApiResult {
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

// ---------- conversations ----------

fn sorted_conversations(st: &SimState) -> Vec<&super::state::Conversation> {
    let mut list: Vec<_> = st.conversations.values().collect();
    list.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    list
}

async fn list_conversations(State(sh): Sh, Query(q): Params) -> ApiResult {
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

fn search_params(b: &Value, default_per_page: usize) -> Result<(Value, usize, usize), ApiError> {
    let query = b
        .get("query")
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "query is required"))?;
    let pagination = b.get("pagination");
    let per_page = per_page_of(pagination.and_then(|p| p.get("per_page")), default_per_page);
    if per_page > 150 {
        return Err(ApiError::invalid("per_page must be 150 or less"));
    }
    let offset = decode_cursor(pagination.and_then(|p| p.get("starting_after")).and_then(Value::as_str))?;
    if let Some(order) = b.get("sort").and_then(|s| s.get("order")).and_then(Value::as_str)
        && order != "ascending"
        && order != "descending"
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_sort_order",
            "sort order must be ascending or descending",
        ));
    }
    Ok((query, per_page, offset))
}

/// The `sort` of a search body: `(field, ascending)`; the order defaults to `descending`.
fn search_sort(b: &Value) -> Result<Option<(String, bool)>, ApiError> {
    let Some(sort) = b.get("sort").filter(|s| !s.is_null()) else {
        return Ok(None);
    };
    let field = sort
        .get("field")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::invalid("sort field is required"))?;
    let ascending = sort.get("order").and_then(Value::as_str) == Some("ascending");
    Ok(Some((field.to_string(), ascending)))
}

/// Orders two sort values: numbers numerically, text by text; a missing value sorts last
/// whatever the order.
fn sort_cmp(a: Option<&Value>, b: Option<&Value>, ascending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let o = match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => x.to_string().cmp(&y.to_string()),
            };
            if ascending { o } else { o.reverse() }
        }
    }
}

async fn search_conversations(State(sh): Sh, raw: Bytes) -> ApiResult {
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

async fn get_conversation(State(sh): Sh, Path(id): Path<String>, Query(q): Params) -> ApiResult {
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

async fn update_conversation(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, _| actions::update_conversation(st, &id, &b).map(Json))
}

async fn reply(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
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

async fn manage(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
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

async fn tag_conversation(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let tag_id = required(&b, "id")?;
    let admin = required(&b, "admin_id")?;
    sh.mutate(|st, ev| actions::tag_conversation(st, ev, &id, &tag_id, &admin).map(Json))
}

async fn untag_conversation(State(sh): Sh, Path((id, tag_id)): Path<(String, String)>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let admin = required(&b, "admin_id")?;
    sh.mutate(|st, _| actions::untag_conversation(st, &id, &tag_id, &admin).map(Json))
}

// ---------- contacts ----------

async fn create_contact(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, ev| actions::create_contact(st, ev, &b).map(Json))
}

async fn get_contact(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        st.contacts
            .get(&id)
            .map(|c| Json(st.contact_json(c, false)))
            .ok_or_else(|| ApiError::not_found("User Not Found"))
    })
}

async fn delete_contact(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.mutate(|st, ev| actions::delete_contact(st, ev, &id).map(Json))
}

async fn update_contact(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, ev| actions::update_contact(st, ev, &id, &b).map(Json))
}

async fn find_by_external_id(State(sh): Sh, Path(external_id): Path<String>) -> ApiResult {
    sh.read(|st| {
        if let Some(c) =
            st.contacts.values().find(|c| c.role == "user" && c.external_id.as_deref() == Some(external_id.as_str()))
        {
            return Ok(Json(st.contact_json(c, false)));
        }
        Err(ApiError::not_found("User Not Found"))
    })
}

async fn search_contacts(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let (query, per_page, offset) = search_params(&b, 50)?;
    let ids = sh.cached_search(query.to_string(), |st| {
        let mut list: Vec<_> = st.contacts.values().collect();
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        let mut ids = Vec::new();
        for c in list {
            if search::matches(Model::Contacts, &query, &search::contact_doc(c)).map_err(ApiError::invalid)? {
                ids.push(c.id.clone());
            }
        }
        Ok(ids)
    })?;
    let total = ids.len();
    let (page, pages) = cursor_page(ids.iter(), per_page, offset);
    sh.read(|st| {
        let data: Vec<Value> =
            page.into_iter().filter_map(|id| st.contacts.get(id)).map(|c| st.contact_json(c, false)).collect();
        Ok(Json(json!({"type": "list", "data": data, "total_count": total, "pages": pages})))
    })
}

async fn merge_contacts(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let from = required(&b, "from")?;
    let into = required(&b, "into")?;
    sh.mutate(|st, ev| actions::merge_contacts(st, ev, &from, &into).map(Json))
}

async fn contact_companies(State(sh): Sh, Path(id): Path<String>, Query(q): Params) -> ApiResult {
    let page: usize = q.get("page").and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
    let per_page: usize = q.get("per_page").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 150);
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        let c = st.contacts.get(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
        let all: Vec<Value> =
            c.company_ids.iter().filter_map(|co| st.companies.get(co)).map(|co| st.company_json(co, false)).collect();
        Ok(Json(page_numbered(all, page, per_page, &format!("/contacts/{id}/companies"))))
    })
}

/// Page-numbered list (`data`, `pages.next` as a URL or null).
fn page_numbered(all: Vec<Value>, page: usize, per_page: usize, path: &str) -> Value {
    let total = all.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let data: Vec<Value> = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let next = if page < total_pages {
        json!(format!("https://api.intercom.io{path}?page={}&per_page={per_page}", page + 1))
    } else {
        Value::Null
    };
    json!({"type": "list", "data": data, "pages": {"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": total_pages}, "total_count": total})
}

async fn attach_company(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let company = required(&b, "id")?;
    sh.mutate(|st, _| actions::attach_company(st, &id, &company).map(Json))
}

async fn contact_tags(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        let c = st.contacts.get(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
        Ok(Json(json!({"type": "list", "data": c.tag_ids.iter().map(|t| st.tag_json(t)).collect::<Vec<_>>()})))
    })
}

async fn add_contact_tag(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let tag = required(&b, "id")?;
    sh.mutate(|st, ev| actions::contact_tag(st, ev, &id, &tag, true).map(Json))
}

async fn remove_contact_tag(State(sh): Sh, Path((id, tag)): Path<(String, String)>) -> ApiResult {
    sh.mutate(|st, ev| actions::contact_tag(st, ev, &id, &tag, false).map(Json))
}

async fn contact_segments(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        let data: Vec<Value> =
            st.segments.values().filter(|s| s.contact_ids.contains(&id)).map(|s| st.segment_json(s, false)).collect();
        Ok(Json(json!({"type": "list", "data": data})))
    })
}

// ---------- companies ----------

async fn upsert_company(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, ev| actions::upsert_company(st, ev, &b).map(Json))
}

async fn get_company(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        st.companies
            .get(&id)
            .map(|c| Json(st.company_json(c, false)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"))
    })
}

/// `GET /companies`: by `company_id`/`name` a single company; otherwise a page-numbered list
/// of companies that have at least one contact (Intercom hides the others).
async fn list_companies(State(sh): Sh, Query(q): Params) -> ApiResult {
    sh.read(|st| {
        if let Some(cid) = q.get("company_id") {
            return st
                .companies
                .values()
                .find(|c| &c.company_id == cid)
                .map(|c| Json(st.company_json(c, false)))
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"));
        }
        if let Some(name) = q.get("name") {
            return st
                .companies
                .values()
                .find(|c| c.name.as_deref() == Some(name.as_str()))
                .map(|c| Json(st.company_json(c, false)))
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"));
        }
        let page: usize = q.get("page").and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
        let per_page: usize = q.get("per_page").and_then(|s| s.parse().ok()).unwrap_or(15).clamp(1, 60);
        let mut visible: Vec<_> =
            st.companies.values().filter(|c| st.contacts.values().any(|p| p.company_ids.contains(&c.id))).collect();
        visible.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        let all = visible.into_iter().map(|c| st.company_json(c, false)).collect();
        Ok(Json(page_numbered(all, page, per_page, "/companies")))
    })
}

// ---------- messages ----------

async fn send_message(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let message_type = required(&b, "message_type")?;
    let msg_body = text(&b, "body").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid("Body is required"))?;
    let kind = match message_type.as_str() {
        "inapp" | "in_app" => "inapp",
        "email" => "email",
        other => {
            return Err(ApiError::invalid(format!("message_type {other} is not valid")));
        }
    };
    let subject = text(&b, "subject");
    if kind == "email" && subject.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_not_found",
            "subject is required for email messages",
        ));
    }
    let from = b
        .get("from")
        .and_then(|f| text(f, "id"))
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "from is required"))?;
    let to = b
        .get("to")
        .and_then(|t| text(t, "id"))
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "to is required"))?;
    sh.mutate(|st, _| {
        if !st.admins.contains_key(&from) {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"));
        }
        let to = actions::live_contact(st, &to)?;
        let id = st.numeric_id(5_000_000);
        let m = Message { id: id.clone(), message_type: kind.into(), subject: subject.clone(), body: msg_body.clone(), from_admin: from.clone(), to_contact: to, created_at: st.now() };
        let out = json!({"type": "admin_message", "id": id, "created_at": m.created_at, "subject": m.subject.clone().unwrap_or_default(),
            "body": m.body, "message_type": m.message_type, "owner": st.admins.get(&from).map(|a| st.admin_json(a))});
        st.messages.push(m);
        Ok(Json(out))
    })
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;

    #[test]
    fn sort_values_order_numbers_and_put_missing_ones_last() {
        let (one, two, null) = (json!(1), json!(2), Value::Null);
        assert_eq!(sort_cmp(Some(&one), Some(&two), true), Ordering::Less);
        assert_eq!(sort_cmp(Some(&one), Some(&two), false), Ordering::Greater);
        assert_eq!(sort_cmp(Some(&null), Some(&one), true), Ordering::Greater);
        assert_eq!(sort_cmp(None, Some(&one), false), Ordering::Greater);
        assert_eq!(
            search_sort(&json!({"sort": {"field": "updated_at"}})).ok().flatten(),
            Some(("updated_at".into(), false))
        );
        assert!(search_sort(&json!({"sort": {"order": "ascending"}})).is_err());
        assert_eq!(search_sort(&json!({})).ok().flatten(), None);
    }
}
