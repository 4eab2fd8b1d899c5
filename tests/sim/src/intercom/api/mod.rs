//! REST handlers: the Intercom endpoints the bridge uses, with Intercom's shapes.

mod companies;
mod contacts;
mod conversations;
mod messages;
mod paging;
mod workspace;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, response::IntoResponse};
use serde_json::{Value, json};

use super::{ApiError, Shared};
use companies::{get_company, list_companies, upsert_company};
use contacts::{
    add_contact_tag, attach_company, contact_companies, contact_segments, contact_tags, create_contact, delete_contact,
    find_by_external_id, get_contact, merge_contacts, remove_contact_tag, search_contacts, update_contact,
};
use conversations::{
    get_conversation, list_conversations, manage, reply, search_conversations, tag_conversation, untag_conversation,
    update_conversation,
};
use messages::send_message;
use workspace::{
    create_conversation_attribute, create_tag, get_admin, get_team, list_admins, list_conversation_attributes,
    list_data_attributes, list_segments, list_tags, list_teams, me,
};

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
