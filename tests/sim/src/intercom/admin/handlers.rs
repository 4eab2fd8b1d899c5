//! The `/__admin` routes: JSON, unauthenticated, not recorded.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::{Faults, lock};
use crate::intercom::actions::{self, AssignTo, ConversationSeed, Manage, Writer};
use crate::intercom::state::{Admin, Company, Contact, ConversationAttribute, DataAttribute, PartsView, Segment, Team};
use crate::intercom::{ApiError, Shared};

use super::{admin_tags, customer_replies};

type Sh = State<Arc<Shared>>;
type AdminResult = Result<Json<Value>, ApiError>;

/// Admin routes, mounted under `/__admin`.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/state", get(get_state))
        .route("/reset", post(reset))
        .route("/seed", post(seed_bulk))
        .route("/admins", post(seed_admin))
        .route("/teams", post(seed_team))
        .route("/tags", post(seed_tag))
        .route("/segments", post(seed_segment))
        .route("/contacts", post(seed_contact))
        .route("/companies", post(seed_company))
        .route("/data_attributes", post(seed_data_attribute))
        .route("/conversation_attributes", post(seed_conversation_attribute))
        .route("/conversations", post(seed_conversation))
        .route("/conversations/start", post(start_conversation))
        .route("/conversations/{id}", get(get_conversation))
        .route("/conversations/{id}/customer_reply", post(customer_reply))
        .route("/conversations/{id}/admin_reply", post(admin_reply))
        .route("/conversations/{id}/note", post(admin_note))
        .route("/conversations/{id}/tag", post(admin_tag))
        .route("/conversations/{id}/assign", post(admin_assign))
        .route("/conversations/{id}/priority", post(admin_priority))
        .route("/conversations/{id}/close", post(admin_close))
        .route("/conversations/{id}/open", post(admin_open))
        .route("/conversations/{id}/rate", post(customer_rate))
        .route("/contacts/merge", post(merge))
        .route("/contacts/{id}", axum::routing::patch(edit_contact))
        .route("/exchanges", get(exchanges).delete(clear_exchanges))
        .route("/webhooks", get(webhooks))
        .route("/notifications", get(notifications))
        .route("/faults", get(get_faults).put(set_faults))
        .route("/rate_limit", put(set_rate_limit))
        .route("/webhook_target", put(set_webhook_target))
        .route("/clock/advance", post(advance_clock))
}

fn parse<T: for<'de> Deserialize<'de>>(raw: &Bytes) -> Result<T, ApiError> {
    let raw: &[u8] = if raw.is_empty() { b"{}" } else { raw };
    serde_json::from_slice(raw).map_err(|e| ApiError::invalid(format!("invalid admin body: {e}")))
}

async fn get_state(State(sh): Sh) -> Json<Value> {
    Json(sh.read(|st| serde_json::to_value(st).unwrap_or(Value::Null)))
}

async fn reset(State(sh): Sh) -> Json<Value> {
    sh.reset();
    Json(json!({"ok": true}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Bulk {
    admins: Vec<Admin>,
    teams: Vec<Team>,
    tags: Vec<String>,
    segments: Vec<Segment>,
    contacts: Vec<Contact>,
    companies: Vec<Company>,
    data_attributes: Vec<DataAttribute>,
    conversation_attributes: Vec<ConversationAttribute>,
    conversations: Vec<ConversationSeed>,
}

async fn seed_bulk(State(sh): Sh, raw: Bytes) -> AdminResult {
    let b: Bulk = parse(&raw)?;
    let admins: Vec<String> = b.admins.into_iter().map(|a| sh.seed_admin(a)).collect();
    let teams: Vec<String> = b.teams.into_iter().map(|t| sh.seed_team(t)).collect();
    let tags = b.tags.iter().map(|t| sh.seed_tag(t)).collect::<Result<Vec<_>, _>>()?;
    let companies: Vec<String> = b.companies.into_iter().map(|c| sh.seed_company(c)).collect();
    let contacts = sh.seed_contacts(b.contacts)?;
    let segments: Vec<String> = b.segments.into_iter().map(|s| sh.seed_segment(s)).collect();
    b.data_attributes.into_iter().for_each(|a| sh.seed_data_attribute(a));
    b.conversation_attributes.into_iter().for_each(|a| sh.seed_conversation_attribute(a));
    let conversations = b
        .conversations
        .into_iter()
        .map(|c| sh.mutate(|st, ev| actions::start_conversation(st, ev, c, false)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"admins": admins, "teams": teams, "tags": tags, "companies": companies, "contacts": contacts,
        "segments": segments, "conversations": conversations})))
}

async fn seed_admin(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_admin(parse(&raw)?)})))
}

async fn seed_team(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_team(parse(&raw)?)})))
}

async fn seed_tag(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        name: String,
    }
    let b: B = parse(&raw)?;
    Ok(Json(json!({"id": sh.seed_tag(&b.name)?})))
}

async fn seed_segment(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_segment(parse(&raw)?)})))
}

async fn seed_contact(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_contact(parse(&raw)?)?})))
}

async fn seed_company(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_company(parse(&raw)?)})))
}

async fn seed_data_attribute(State(sh): Sh, raw: Bytes) -> AdminResult {
    sh.seed_data_attribute(parse(&raw)?);
    Ok(Json(json!({"ok": true})))
}

async fn seed_conversation_attribute(State(sh): Sh, raw: Bytes) -> AdminResult {
    sh.seed_conversation_attribute(parse(&raw)?);
    Ok(Json(json!({"ok": true})))
}

async fn seed_conversation(State(sh): Sh, raw: Bytes) -> AdminResult {
    let seed: ConversationSeed = parse(&raw)?;
    Ok(Json(json!({"id": sh.mutate(|st, ev| actions::start_conversation(st, ev, seed, false))?})))
}

async fn start_conversation(State(sh): Sh, raw: Bytes) -> AdminResult {
    let seed: ConversationSeed = parse(&raw)?;
    Ok(Json(json!({"id": sh.mutate(|st, ev| actions::start_conversation(st, ev, seed, true))?})))
}

async fn get_conversation(State(sh): Sh, Path(id): Path<String>) -> AdminResult {
    sh.read(|st| {
        st.conversations
            .get(&id)
            .map(|c| Json(st.conversation_json(c, PartsView::All)))
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Act {
    admin_id: String,
    body: String,
    tag: String,
    priority: String,
    assignee: Option<AssignTo>,
    rating: u8,
    remark: Option<String>,
}

async fn customer_reply(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    Ok(Json(json!({"part_id": customer_replies(&sh, &id, &a.body)?})))
}

async fn admin_reply(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let part =
        sh.mutate(|st, ev| actions::reply(st, ev, &id, Writer::Admin(a.admin_id.clone()), false, &a.body, None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_note(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let part =
        sh.mutate(|st, ev| actions::reply(st, ev, &id, Writer::Admin(a.admin_id.clone()), true, &a.body, None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_tag(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    Ok(Json(admin_tags(&sh, &id, &a.admin_id, &a.tag)?))
}

async fn admin_assign(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let to = a.assignee.ok_or_else(|| ApiError::invalid("assignee is required"))?;
    let part = sh.mutate(|st, ev| actions::manage(st, ev, &id, &a.admin_id, Manage::Assign(to, None), None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_priority(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    sh.mutate(|st, ev| actions::set_priority(st, ev, &id, &a.admin_id, &a.priority))?;
    Ok(Json(json!({"ok": true})))
}

async fn admin_close(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let body = Some(a.body).filter(|b| !b.is_empty());
    let part = sh.mutate(|st, ev| actions::manage(st, ev, &id, &a.admin_id, Manage::Close(body), None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_open(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let part = sh.mutate(|st, ev| actions::manage(st, ev, &id, &a.admin_id, Manage::Open, None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn customer_rate(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    sh.mutate(|st, ev| actions::rate(st, ev, &id, a.rating, a.remark.clone()))?;
    Ok(Json(json!({"ok": true})))
}

async fn merge(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        from: String,
        into: String,
    }
    let b: B = parse(&raw)?;
    sh.mutate(|st, ev| actions::merge_contacts(st, ev, &b.from, &b.into)).map(Json)
}

async fn edit_contact(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let b: Value = parse(&raw)?;
    sh.mutate(|st, ev| actions::update_contact(st, ev, &id, &b)).map(Json)
}

async fn exchanges(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(sh.gate.recorder.all()).unwrap_or(Value::Null))
}

async fn clear_exchanges(State(sh): Sh) -> Json<Value> {
    sh.gate.recorder.clear();
    Json(json!({"ok": true}))
}

async fn webhooks(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(sh.webhooks.sent()).unwrap_or(Value::Null))
}

async fn notifications(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(lock(&sh.notifications).clone()).unwrap_or(Value::Null))
}

async fn get_faults(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(lock(&sh.gate.faults).clone()).unwrap_or(Value::Null))
}

async fn set_faults(State(sh): Sh, raw: Bytes) -> AdminResult {
    let f: Faults = parse(&raw)?;
    *lock(&sh.gate.faults) = f.clone();
    Ok(Json(serde_json::to_value(f).unwrap_or(Value::Null)))
}

async fn set_rate_limit(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        limit: u32,
        #[serde(default = "ten")]
        window_secs: u64,
    }
    fn ten() -> u64 {
        10
    }
    let b: B = parse(&raw)?;
    sh.gate.set_rate_limit(b.limit, Duration::from_secs(b.window_secs.max(1)));
    Ok(Json(json!({"limit": b.limit, "window_secs": b.window_secs})))
}

async fn set_webhook_target(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        url: Option<String>,
    }
    let b: B = parse(&raw)?;
    sh.webhooks.set_target(b.url.clone());
    lock(&sh.options).webhook_target = b.url.clone();
    Ok(Json(json!({"url": b.url})))
}

/// `{seconds}` (negative moves the clock back): answers the simulated `now`.
async fn advance_clock(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        seconds: i64,
    }
    let b: B = parse(&raw)?;
    Ok(Json(json!({"now": sh.advance_clock(b.seconds)})))
}
