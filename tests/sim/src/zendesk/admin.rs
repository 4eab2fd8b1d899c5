//! The admin API under `/__admin` (JSON, not recorded): seed data, act as agents and
//! customers, inspect state, control faults, budgets, webhooks and the clock.

use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::model::{FieldRec, GroupRec};
use super::state::{Actor, ApiError, CommentInput, MergeComments, OrgInput, State, TagOp, TicketInput, UserInput};
use crate::common::{Faults, RateLimiter, lock};

/// Which field definitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Ticket fields.
    Ticket,
    /// User fields.
    User,
    /// Organization fields.
    Organization,
}

/// Adds a group.
pub fn add_group(st: &mut State, name: &str, description: &str) -> u64 {
    let id = st.new_id();
    let now = st.now();
    st.groups.insert(
        id,
        GroupRec { id, name: name.into(), description: description.into(), default: false, created_at: now },
    );
    id
}

/// Adds a field definition.
pub fn add_field(
    st: &mut State,
    kind: FieldKind,
    key: Option<&str>,
    title: &str,
    field_type: &str,
    options: &[(&str, &str)],
    tag: Option<&str>,
) -> u64 {
    let id = st.new_id();
    let rec = FieldRec {
        id,
        key: key.map(str::to_string),
        field_type: field_type.into(),
        title: title.into(),
        options: options.iter().map(|(n, v)| ((*n).to_string(), (*v).to_string())).collect(),
        tag: tag.map(str::to_string),
        created_at: st.now(),
    };
    match kind {
        FieldKind::Ticket => st.ticket_fields.push(rec),
        FieldKind::User => st.user_fields.push(rec),
        FieldKind::Organization => st.org_fields.push(rec),
    }
    id
}

/// A customer submits a ticket through `web` (web form) or `email`.
pub fn submit_ticket(
    st: &mut State,
    requester_id: u64,
    subject: &str,
    body: &str,
    channel: &str,
) -> Result<u64, ApiError> {
    if !st.users.contains_key(&requester_id) {
        return Err(ApiError::invalid("requester", "InvalidValue", "Requester: is invalid"));
    }
    let channel = if channel == "email" { "email" } else { "web" };
    let input = TicketInput {
        subject: Some(subject.into()),
        comment: Some(CommentInput {
            body: Some(body.into()),
            public: Some(true),
            author_id: Some(requester_id),
            ..CommentInput::default()
        }),
        requester_id: Some(requester_id),
        submitter_id: Some(requester_id),
        ..TicketInput::default()
    };
    st.create_ticket(Actor { user_id: requester_id, api: false }, input, channel)
}

/// A comment by an agent (public or note) or an end user (always public).
pub fn comment(st: &mut State, author_id: u64, ticket_id: u64, body: &str, public: bool) -> Result<(), ApiError> {
    comment_with_uploads(st, author_id, ticket_id, body, public, Vec::new())
}

/// Like [`comment`], with the files of these upload tokens.
pub fn comment_with_uploads(
    st: &mut State,
    author_id: u64,
    ticket_id: u64,
    body: &str,
    public: bool,
    uploads: Vec<String>,
) -> Result<(), ApiError> {
    let is_agent = st.users.get(&author_id).is_some_and(|u| u.role != "end-user");
    let input = TicketInput {
        comment: Some(CommentInput {
            body: Some(body.into()),
            public: Some(public || !is_agent),
            author_id: Some(author_id),
            uploads,
            ..CommentInput::default()
        }),
        ..TicketInput::default()
    };
    st.update_ticket(Actor { user_id: author_id, api: false }, ticket_id, input)
}

/// An agent adds and removes tags.
pub fn tags(
    st: &mut State,
    agent_id: u64,
    ticket_id: u64,
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, ApiError> {
    let actor = Actor { user_id: agent_id, api: false };
    let mut out = st.tickets.get(&ticket_id).map(|t| t.tags.clone()).ok_or_else(ApiError::not_found)?;
    if !add.is_empty() {
        out = st.change_tags(actor, ticket_id, TagOp::Add, add)?;
    }
    if !remove.is_empty() {
        out = st.change_tags(actor, ticket_id, TagOp::Remove, remove)?;
    }
    Ok(out)
}

/// An agent creates a follow-up of a closed ticket.
pub fn followup(st: &mut State, agent_id: u64, source: u64, body: &str) -> Result<u64, ApiError> {
    let requester = st.tickets.get(&source).map(|t| t.requester_id).ok_or_else(ApiError::not_found)?;
    let input = TicketInput {
        comment: Some(CommentInput {
            body: Some(body.into()),
            public: Some(true),
            author_id: Some(agent_id),
            ..CommentInput::default()
        }),
        requester_id: Some(requester),
        via_followup_source_id: Some(source),
        ..TicketInput::default()
    };
    st.create_ticket(Actor { user_id: agent_id, api: false }, input, "web")
}

/// A ticket with its comments.
pub fn ticket_with_comments(st: &State, id: u64) -> Option<Value> {
    let t = st.tickets.get(&id)?;
    let mut v = st.ticket_json(t);
    if let Some(o) = v.as_object_mut() {
        o.insert("comments".into(), Value::Array(t.comments.iter().map(super::model::CommentRec::to_json).collect()));
    }
    Some(v)
}

/// Everything.
pub fn dump(st: &State) -> Value {
    json!({
        "api_user_id": st.api_user_id,
        "now": st.now(),
        "tickets": st.tickets.keys().filter_map(|id| ticket_with_comments(st, *id)).collect::<Vec<_>>(),
        "users": st.users.values().map(|u| st.user_json(u)).collect::<Vec<_>>(),
        "organizations": st.orgs.values().map(|o| st.org_json(o)).collect::<Vec<_>>(),
        "groups": st.groups.values().map(|g| g.to_json(&st.base)).collect::<Vec<_>>(),
        "ticket_fields": st.ticket_fields.iter().map(|f| f.to_json(&st.base, "ticket_fields")).collect::<Vec<_>>(),
        "user_fields": st.user_fields.iter().map(|f| f.to_json(&st.base, "user_fields")).collect::<Vec<_>>(),
        "organization_fields": st.org_fields.iter().map(|f| f.to_json(&st.base, "organization_fields")).collect::<Vec<_>>(),
        "satisfaction_ratings": st.ratings.values().map(|r| r.to_json(&st.base)).collect::<Vec<_>>(),
    })
}

type AdminResult = Result<Response, AdminError>;

/// An admin call that failed, answered with the API's error body.
#[derive(Debug)]
struct AdminError(ApiError);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::BAD_REQUEST), Json(self.0.body)).into_response()
    }
}

fn err(e: ApiError) -> AdminError {
    AdminError(e)
}

fn done(v: Value) -> AdminResult {
    Ok(Json(v).into_response())
}

/// The admin router (merged into the simulator's router).
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__admin/reset", post(reset))
        .route("/__admin/state", get(state))
        .route("/__admin/users", post(create_user))
        .route("/__admin/users/{id}", put(edit_user))
        .route("/__admin/organizations", post(create_org))
        .route("/__admin/groups", post(create_group))
        .route("/__admin/fields/{kind}", post(create_field))
        .route("/__admin/tickets", post(submit))
        .route("/__admin/tickets/{id}", get(show_ticket))
        .route("/__admin/tickets/{id}/status", post(status))
        .route("/__admin/tickets/{id}/comments", post(add_comment))
        .route("/__admin/tickets/{id}/tags", post(change_tags))
        .route("/__admin/tickets/{id}/update", post(agent_update))
        .route("/__admin/tickets/{id}/followup", post(create_followup))
        .route("/__admin/tickets/{id}/rating", post(rating))
        .route("/__admin/merge", post(merge))
        .route("/__admin/exchanges", get(exchanges).delete(clear_exchanges))
        .route("/__admin/webhooks", get(sent_webhooks))
        .route("/__admin/faults", put(set_faults))
        .route("/__admin/rate_limit", put(set_rate_limit))
        .route("/__admin/webhook_target", put(set_target))
        .route("/__admin/triggers", put(set_triggers))
        .route("/__admin/clock/advance", post(advance))
        .with_state(shared)
}

type S = AxState<Arc<Shared>>;

async fn reset(AxState(sh): S) -> AdminResult {
    sh.reset();
    done(json!({ "ok": true }))
}

async fn state(AxState(sh): S) -> AdminResult {
    done(sh.with_state(|s| dump(s)))
}

fn as_admin(s: &State) -> Actor {
    Actor { user_id: s.api_user_id, api: false }
}

/// `{name, email, role, external_id, phone, organization_id, user_fields, tags}`.
async fn create_user(AxState(sh): S, Json(input): Json<UserInput>) -> AdminResult {
    let id = sh.with_state(|s| s.create_user(as_admin(s), input)).map_err(err)?;
    done(sh.with_state(|s| s.users.get(&id).map(|u| s.user_json(u)).unwrap_or_default()))
}

#[derive(Debug, Deserialize)]
struct EditUser {
    agent_id: Option<u64>,
    #[serde(flatten)]
    user: UserInput,
}

/// `{agent_id?, name?, phone?, user_fields?, …}`.
async fn edit_user(AxState(sh): S, Path(id): Path<u64>, Json(body): Json<EditUser>) -> AdminResult {
    sh.with_state(|s| {
        let actor = Actor { user_id: body.agent_id.unwrap_or(s.api_user_id), api: false };
        s.update_user(actor, id, body.user)
    })
    .map_err(err)?;
    done(sh.with_state(|s| s.users.get(&id).map(|u| s.user_json(u)).unwrap_or_default()))
}

/// `{name, external_id, domain_names, tags, organization_fields}`.
async fn create_org(AxState(sh): S, Json(input): Json<OrgInput>) -> AdminResult {
    let (id, _) = sh.with_state(|s| s.upsert_org(as_admin(s), input)).map_err(err)?;
    done(sh.with_state(|s| s.orgs.get(&id).map(|o| s.org_json(o)).unwrap_or_default()))
}

#[derive(Debug, Deserialize)]
struct NewGroup {
    name: String,
    #[serde(default)]
    description: String,
}

async fn create_group(AxState(sh): S, Json(g): Json<NewGroup>) -> AdminResult {
    let id = sh.with_state(|s| add_group(s, &g.name, &g.description));
    done(json!({ "id": id }))
}

#[derive(Debug, Deserialize)]
struct NewField {
    key: Option<String>,
    title: String,
    #[serde(rename = "type")]
    field_type: String,
    #[serde(default)]
    options: Vec<(String, String)>,
    tag: Option<String>,
}

/// `/__admin/fields/{ticket|user|organization}` with `{key?, title, type, options: [[name, value]], tag?}`.
async fn create_field(AxState(sh): S, Path(kind): Path<String>, Json(f): Json<NewField>) -> AdminResult {
    let kind = match kind.as_str() {
        "ticket" => FieldKind::Ticket,
        "user" => FieldKind::User,
        "organization" => FieldKind::Organization,
        _ => return Err(err(ApiError::not_found())),
    };
    let options: Vec<(&str, &str)> = f.options.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let id =
        sh.with_state(|s| add_field(s, kind, f.key.as_deref(), &f.title, &f.field_type, &options, f.tag.as_deref()));
    done(json!({ "id": id }))
}

#[derive(Debug, Deserialize)]
struct Submission {
    requester_id: u64,
    subject: String,
    body: String,
    #[serde(default)]
    channel: String,
}

/// A customer submits a ticket: `{requester_id, subject, body, channel: "web"|"email"}`.
async fn submit(AxState(sh): S, Json(b): Json<Submission>) -> AdminResult {
    let id = sh.with_state(|s| submit_ticket(s, b.requester_id, &b.subject, &b.body, &b.channel)).map_err(err)?;
    done(sh.with_state(|s| ticket_with_comments(s, id).unwrap_or_default()))
}

async fn show_ticket(AxState(sh): S, Path(id): Path<u64>) -> AdminResult {
    sh.with_state(|s| ticket_with_comments(s, id)).map_or_else(|| Err(err(ApiError::not_found())), done)
}

#[derive(Debug, Deserialize)]
struct StatusChange {
    agent_id: u64,
    status: String,
}

/// An agent solves/closes/reopens/sets pending or hold: `{agent_id, status}`.
async fn status(AxState(sh): S, Path(id): Path<u64>, Json(b): Json<StatusChange>) -> AdminResult {
    let input = TicketInput { status: Some(b.status), ..TicketInput::default() };
    sh.with_state(|s| s.update_ticket(Actor { user_id: b.agent_id, api: false }, id, input)).map_err(err)?;
    show_ticket(AxState(sh), Path(id)).await
}

#[derive(Debug, Deserialize)]
struct NewComment {
    author_id: u64,
    body: String,
    #[serde(default = "yes")]
    public: bool,
}

fn yes() -> bool {
    true
}

/// Agent public reply / internal note, or end-user reply: `{author_id, body, public}`.
async fn add_comment(AxState(sh): S, Path(id): Path<u64>, Json(b): Json<NewComment>) -> AdminResult {
    sh.with_state(|s| comment(s, b.author_id, id, &b.body, b.public)).map_err(err)?;
    show_ticket(AxState(sh), Path(id)).await
}

#[derive(Debug, Deserialize)]
struct TagChange {
    agent_id: u64,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

/// An agent adds/removes tags: `{agent_id, add: [], remove: []}`.
async fn change_tags(AxState(sh): S, Path(id): Path<u64>, Json(b): Json<TagChange>) -> AdminResult {
    let out = sh.with_state(|s| tags(s, b.agent_id, id, &b.add, &b.remove)).map_err(err)?;
    done(json!({ "tags": out }))
}

#[derive(Debug, Deserialize)]
struct AgentUpdate {
    agent_id: u64,
    #[serde(flatten)]
    ticket: TicketInput,
}

/// An agent edits ticket fields in the UI: `{agent_id, priority?, group_id?, custom_fields?, …}`.
async fn agent_update(AxState(sh): S, Path(id): Path<u64>, Json(b): Json<AgentUpdate>) -> AdminResult {
    sh.with_state(|s| s.update_ticket(Actor { user_id: b.agent_id, api: false }, id, b.ticket)).map_err(err)?;
    show_ticket(AxState(sh), Path(id)).await
}

#[derive(Debug, Deserialize)]
struct Followup {
    agent_id: u64,
    body: String,
}

/// An agent creates a follow-up of closed ticket `{id}`: `{agent_id, body}`.
async fn create_followup(AxState(sh): S, Path(id): Path<u64>, Json(b): Json<Followup>) -> AdminResult {
    let new_id = sh.with_state(|s| followup(s, b.agent_id, id, &b.body)).map_err(err)?;
    show_ticket(AxState(sh), Path(new_id)).await
}

#[derive(Debug, Deserialize)]
struct Rating {
    score: String,
    comment: Option<String>,
}

/// The customer rates ticket `{id}`: `{score: good|bad|offered, comment?}`.
async fn rating(AxState(sh): S, Path(id): Path<u64>, Json(b): Json<Rating>) -> AdminResult {
    let rid = sh.with_state(|s| s.rate(id, &b.score, b.comment)).map_err(err)?;
    done(json!({ "id": rid }))
}

#[derive(Debug, Deserialize)]
struct Merge {
    agent_id: u64,
    target: u64,
    sources: Vec<u64>,
}

/// An agent merges tickets: `{agent_id, target, sources: []}`.
async fn merge(AxState(sh): S, Json(b): Json<Merge>) -> AdminResult {
    let job = sh
        .with_state(|s| {
            s.merge(Actor { user_id: b.agent_id, api: false }, b.target, &b.sources, MergeComments::default())
        })
        .map_err(err)?;
    done(json!({ "job_id": job }))
}

async fn exchanges(AxState(sh): S) -> AdminResult {
    done(serde_json::to_value(sh.gate.recorder.all()).unwrap_or_default())
}

async fn clear_exchanges(AxState(sh): S) -> AdminResult {
    sh.gate.recorder.clear();
    done(json!({ "ok": true }))
}

async fn sent_webhooks(AxState(sh): S) -> AdminResult {
    done(serde_json::to_value(sh.sink.sent()).unwrap_or_default())
}

async fn set_faults(AxState(sh): S, Json(f): Json<Faults>) -> AdminResult {
    *lock(&sh.gate.faults) = f;
    done(json!({ "ok": true }))
}

#[derive(Debug, Deserialize)]
struct Limit {
    per_minute: Option<u32>,
    incremental_per_minute: Option<u32>,
}

/// `{per_minute?, incremental_per_minute?}`.
async fn set_rate_limit(AxState(sh): S, Json(l): Json<Limit>) -> AdminResult {
    if let Some(n) = l.per_minute {
        sh.gate.set_rate_limit(n, std::time::Duration::from_secs(60));
    }
    if let Some(n) = l.incremental_per_minute {
        *lock(&sh.incremental) = Arc::new(RateLimiter::new(n, std::time::Duration::from_secs(60)));
    }
    done(json!({ "ok": true }))
}

#[derive(Debug, Deserialize)]
struct Target {
    url: Option<String>,
}

async fn set_target(AxState(sh): S, Json(t): Json<Target>) -> AdminResult {
    sh.sink.set_target(t.url);
    done(json!({ "ok": true }))
}

#[derive(Debug, Deserialize)]
struct Triggers {
    enabled: bool,
}

async fn set_triggers(AxState(sh): S, Json(t): Json<Triggers>) -> AdminResult {
    lock(&sh.state).trigger_webhooks = t.enabled;
    done(json!({ "ok": true }))
}

#[derive(Debug, Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance(AxState(sh): S, Json(a): Json<Advance>) -> AdminResult {
    let now = {
        let mut st = lock(&sh.state);
        st.clock_offset += a.seconds;
        st.now()
    };
    done(json!({ "now": now }))
}
