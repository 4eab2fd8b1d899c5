//! Zendesk Support simulator: a stateful fake of the endpoints the bridge uses, written from
//! the official OpenAPI file and `reference/zendesk.md`.
//!
//! * REST under `/api/v2/...` (optional `.json` suffix), Basic `email/token:token` or Bearer
//!   auth, Zendesk's status codes and error bodies, cursor and offset pagination, incremental
//!   exports, `Idempotency-Key` on ticket create, rate-limit headers on every response and 429s
//!   (plain text for the account limit, JSON for incremental exports).
//! * Signed event-subscribed webhooks on every state change (API-made ones included), and
//!   optionally the trigger-template variant.
//! * An admin API under `/__admin` (not recorded) and the same actions as methods on
//!   [`ZendeskSim`], to seed data and act as agents and customers.
//!
//! Choices where the vendor is silent or the sources disagree: `/tickets/{id}/metrics`
//! answers `ticket_metric` as an object, as the live API does (the OpenAPI file's one-element
//! array is corrected by a bridge-fidelity spec patch); fields the OpenAPI file does not
//! declare nullable are omitted rather than sent as null (unset custom fields, `recipient`,
//! unused rating reasons); unknown
//! `user_fields` / `organization_fields` keys and unknown ticket field ids are ignored; a job
//! reports `queued` when created, `working` on the first poll and `completed` afterwards;
//! business hours are Monday-Friday 09:00-17:00 UTC.

mod admin;
mod api;
mod files;
mod model;
mod paging;
mod setup;
mod sla;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{
    Exchange, Faults, Gate, Injected, RateLimiter, SentWebhook, Vendor, WebhookSink, lock, recorded_headers,
};

pub use model::{AttachmentRec, CommentRec, FieldRec, GroupRec, OrgRec, RatingRec, TicketRec, UserRec};
pub use state::{Actor, ApiError, CommentInput, MergeComments, OrgInput, State, TagOp, TicketInput, UserInput};

/// Start-up options.
#[derive(Debug, Clone)]
pub struct ZendeskSimOptions {
    /// Email of the API user (the integration agent).
    pub email: String,
    /// API token accepted with Basic `email/token:token`.
    pub api_token: String,
    /// OAuth access token accepted with `Bearer`.
    pub oauth_token: String,
    /// Webhook signing secret (used as given, not base64-decoded).
    pub webhook_secret: String,
    /// Signing secret of the trigger-connected webhook (each Zendesk webhook has its own).
    pub trigger_webhook_secret: String,
    /// Account requests per minute (Enterprise: 700).
    pub rate_limit: u32,
    /// Incremental export requests per minute (10).
    pub incremental_rate_limit: u32,
    /// Where webhooks go.
    pub webhook_target: Option<String>,
    /// Also send the trigger-template webhook on ticket changes.
    pub trigger_webhooks: bool,
}

impl Default for ZendeskSimOptions {
    fn default() -> Self {
        Self {
            email: "bridge@example.com".into(),
            api_token: "sim-api-token".into(),
            oauth_token: "sim-oauth-token".into(),
            webhook_secret: "sim-webhook-secret".into(),
            trigger_webhook_secret: "sim-trigger-webhook-secret".into(),
            rate_limit: 700,
            incremental_rate_limit: 10,
            webhook_target: None,
            trigger_webhooks: false,
        }
    }
}

/// Everything the server shares between requests.
#[derive(Debug)]
pub struct Shared {
    /// The account.
    pub state: Mutex<State>,
    /// Recorder, faults, account budget.
    pub gate: Gate,
    /// Webhook sender.
    pub sink: WebhookSink,
    /// Incremental-export budget.
    incremental: Mutex<Arc<RateLimiter>>,
    options: ZendeskSimOptions,
    webhook_id: String,
    account_id: u64,
}

/// A running simulator; shuts down when dropped.
#[derive(Debug)]
pub struct ZendeskSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for ZendeskSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl ZendeskSim {
    /// Binds 127.0.0.1:0 and serves in the background.
    pub async fn start(options: ZendeskSimOptions) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::serve_on(listener, options).await
    }

    /// Serves on an already bound listener (e.g. a fixed port chosen by a binary).
    pub async fn serve_on(listener: tokio::net::TcpListener, options: ZendeskSimOptions) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let shared = Shared::new(format!("http://{addr}"), options);
        let app = router(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "zendesk simulator stopped");
            }
        });
        Ok(Self { shared, addr, shutdown: Some(tx) })
    }

    /// `http://127.0.0.1:<port>` (the client appends `/api/v2`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// A router over this simulator's state (to mount it in another server).
    pub fn router(&self) -> Router {
        router(self.shared.clone())
    }
    /// The shared state (for direct inspection).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
    /// Recorder, faults and budget.
    pub fn gate(&self) -> &Gate {
        &self.shared.gate
    }
    /// Webhook sender and its log.
    pub fn webhooks(&self) -> &WebhookSink {
        &self.shared.sink
    }
    /// Every recorded API exchange.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.shared.gate.recorder.all()
    }
    /// Every webhook sent (or dropped) so far.
    pub fn sent_webhooks(&self) -> Vec<SentWebhook> {
        self.shared.sink.sent()
    }
    /// The API user's id.
    pub fn api_user_id(&self) -> u64 {
        lock(&self.shared.state).api_user_id
    }
    /// Runs `f` on the state under the lock, then sends the webhooks it caused.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        self.shared.with_state(f)
    }

    // ------------------------------------------------------------------ seeding

    /// Adds an agent.
    pub fn add_agent(&self, name: &str, email: &str) -> Result<u64, ApiError> {
        let input = UserInput {
            name: Some(name.into()),
            email: Some(email.into()),
            role: Some("agent".into()),
            ..UserInput::default()
        };
        self.with_state(|s| s.create_user(Actor { user_id: s.api_user_id, api: false }, input))
    }
    /// Adds a user (end user unless `input.role` says otherwise).
    pub fn add_user(&self, input: UserInput) -> Result<u64, ApiError> {
        self.with_state(|s| s.create_user(Actor { user_id: s.api_user_id, api: false }, input))
    }
    /// Adds (or updates, matched on external id) an organization.
    pub fn add_organization(&self, input: OrgInput) -> Result<u64, ApiError> {
        self.with_state(|s| s.upsert_org(Actor { user_id: s.api_user_id, api: false }, input).map(|(id, _)| id))
    }
    /// Adds a group.
    pub fn add_group(&self, name: &str) -> u64 {
        self.with_state(|s| admin::add_group(s, name, ""))
    }
    /// Adds a ticket field; `options` are `(name, value)` for dropdowns; `tag` for checkboxes.
    pub fn add_ticket_field(&self, title: &str, field_type: &str, options: &[(&str, &str)], tag: Option<&str>) -> u64 {
        self.with_state(|s| admin::add_field(s, admin::FieldKind::Ticket, None, title, field_type, options, tag))
    }
    /// Adds a user field with `key`.
    pub fn add_user_field(&self, key: &str, title: &str, field_type: &str) -> u64 {
        self.with_state(|s| admin::add_field(s, admin::FieldKind::User, Some(key), title, field_type, &[], None))
    }
    /// Adds a dropdown user field with `key` and its options as (name, value) pairs.
    pub fn add_user_dropdown(&self, key: &str, title: &str, options: &[(&str, &str)]) -> u64 {
        self.with_state(|s| admin::add_field(s, admin::FieldKind::User, Some(key), title, "dropdown", options, None))
    }
    /// Adds an organization field with `key`.
    pub fn add_organization_field(&self, key: &str, title: &str, field_type: &str) -> u64 {
        self.with_state(|s| {
            admin::add_field(s, admin::FieldKind::Organization, Some(key), title, field_type, &[], None)
        })
    }

    // ------------------------------------------------------------------ humans

    /// A customer submits a ticket through the web form (`web`) or by email (`email`).
    pub fn submit_ticket(&self, requester_id: u64, subject: &str, body: &str, channel: &str) -> Result<u64, ApiError> {
        self.with_state(|s| admin::submit_ticket(s, requester_id, subject, body, channel))
    }
    /// An agent sets the status (solve, close, reopen, pending, hold).
    pub fn set_status(&self, agent_id: u64, ticket_id: u64, status: &str) -> Result<(), ApiError> {
        let input = TicketInput { status: Some(status.into()), ..TicketInput::default() };
        self.with_state(|s| s.update_ticket(Actor { user_id: agent_id, api: false }, ticket_id, input))
    }
    /// A comment by an agent (public reply or internal note) or an end user (always public).
    pub fn comment(&self, author_id: u64, ticket_id: u64, body: &str, public: bool) -> Result<(), ApiError> {
        self.with_state(|s| admin::comment(s, author_id, ticket_id, body, public))
    }
    /// A comment with one file attached (uploaded first, as the agent's browser does).
    pub fn comment_with_file(
        &self,
        author_id: u64,
        ticket_id: u64,
        body: &str,
        public: bool,
        file: (&str, &str, &[u8]),
    ) -> Result<(), ApiError> {
        let (name, content_type, bytes) = file;
        self.with_state(|s| {
            let (status, upload) = s.upload(name, content_type, bytes.to_vec());
            if status != 201 {
                return Err(ApiError { status, body: upload });
            }
            let token = upload["upload"]["token"].as_str().unwrap_or_default().to_string();
            admin::comment_with_uploads(s, author_id, ticket_id, body, public, vec![token])
        })
    }
    /// The bytes of an attachment (by id), as stored.
    pub fn attachment_bytes(&self, attachment_id: u64) -> Option<Vec<u8>> {
        self.with_state(|s| s.files.get(&attachment_id).cloned())
    }
    /// An agent adds and removes tags.
    pub fn agent_tags(
        &self,
        agent_id: u64,
        ticket_id: u64,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>, ApiError> {
        self.with_state(|s| admin::tags(s, agent_id, ticket_id, add, remove))
    }
    /// An agent changes fields of a ticket (priority, group, assignee, custom fields…).
    pub fn agent_update(&self, agent_id: u64, ticket_id: u64, input: TicketInput) -> Result<(), ApiError> {
        self.with_state(|s| s.update_ticket(Actor { user_id: agent_id, api: false }, ticket_id, input))
    }
    /// An agent merges `sources` into `target`.
    pub fn merge(&self, agent_id: u64, target: u64, sources: &[u64]) -> Result<(), ApiError> {
        self.with_state(|s| {
            s.merge(Actor { user_id: agent_id, api: false }, target, sources, MergeComments::default()).map(|_| ())
        })
    }
    /// An agent creates a follow-up of a closed ticket.
    pub fn followup(&self, agent_id: u64, source: u64, body: &str) -> Result<u64, ApiError> {
        self.with_state(|s| admin::followup(s, agent_id, source, body))
    }
    /// An agent edits a user (name, phone, user fields…).
    pub fn edit_user(&self, agent_id: u64, user_id: u64, input: UserInput) -> Result<(), ApiError> {
        self.with_state(|s| s.update_user(Actor { user_id: agent_id, api: false }, user_id, input))
    }
    /// The customer answers the CSAT survey (`good`/`bad`) or it is `offered`.
    pub fn rate(&self, ticket_id: u64, score: &str, comment: Option<&str>) -> Result<u64, ApiError> {
        self.with_state(|s| s.rate(ticket_id, score, comment.map(str::to_string)))
    }

    // ------------------------------------------------------------------ inspect

    /// A ticket as the REST API shows it, plus `comments`.
    pub fn ticket(&self, id: u64) -> Option<Value> {
        self.with_state(|s| admin::ticket_with_comments(s, id))
    }
    /// The whole state as JSON.
    pub fn dump(&self) -> Value {
        self.with_state(|s| admin::dump(s))
    }

    // ------------------------------------------------------------------ control

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.gate.faults) = faults;
    }
    /// Sets the account limit per minute.
    pub fn set_rate_limit(&self, per_minute: u32) {
        self.shared.gate.set_rate_limit(per_minute, Duration::from_secs(60));
    }
    /// Sets the incremental export limit per minute.
    pub fn set_incremental_rate_limit(&self, per_minute: u32) {
        *lock(&self.shared.incremental) = Arc::new(RateLimiter::new(per_minute, Duration::from_secs(60)));
    }
    /// Sets (or clears) the webhook target URL.
    pub fn set_webhook_target(&self, url: Option<String>) {
        self.shared.sink.set_target(url);
    }
    /// Turns the trigger-template webhooks on or off.
    pub fn set_trigger_webhooks(&self, on: bool) {
        lock(&self.shared.state).trigger_webhooks = on;
    }
    /// Moves the simulated clock forward.
    pub fn advance_clock(&self, seconds: i64) {
        lock(&self.shared.state).clock_offset += seconds;
    }
    /// Forgets all data, exchanges, webhooks and faults (the API user is recreated).
    pub fn reset(&self) {
        self.shared.reset();
    }
}

impl Shared {
    /// Fresh state for a simulator reachable at `base` (used in `url` fields); pair it with
    /// [`router`] to serve it yourself.
    pub fn new(base: String, options: ZendeskSimOptions) -> Arc<Self> {
        let mut state = State::new(base, &options.email);
        state.trigger_webhooks = options.trigger_webhooks;
        state.setup.signing_secret = options.webhook_secret.clone();
        let sink = WebhookSink::default();
        sink.set_target(options.webhook_target.clone());
        Arc::new(Self {
            state: Mutex::new(state),
            gate: Gate::new(Vendor::Zendesk, options.rate_limit, Duration::from_secs(60)),
            sink,
            incremental: Mutex::new(Arc::new(RateLimiter::new(
                options.incremental_rate_limit,
                Duration::from_secs(60),
            ))),
            webhook_id: format!(
                "01SIM{}",
                uuid::Uuid::new_v4().simple().to_string().to_uppercase().get(..21).unwrap_or_default()
            ),
            account_id: 22_129_848,
            options,
        })
    }

    /// Runs `f` under the state lock, then flushes the webhooks it queued.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let (out, events) = {
            let mut st = lock(&self.state);
            let out = f(&mut st);
            (out, std::mem::take(&mut st.outbox))
        };
        webhooks::send_all(self, events);
        out
    }

    fn reset(&self) {
        {
            let mut st = lock(&self.state);
            let trigger = st.trigger_webhooks;
            *st = State::new(st.base.clone(), &self.options.email);
            st.trigger_webhooks = trigger;
            st.setup.signing_secret = self.options.webhook_secret.clone();
        }
        self.gate.recorder.clear();
        self.sink.clear();
        *lock(&self.gate.faults) = Faults::default();
    }

    fn api_user(&self) -> u64 {
        lock(&self.state).api_user_id
    }

    /// The API user if the `Authorization` header is valid.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Option<Actor> {
        let raw = headers.get("authorization")?.to_str().ok()?;
        let (scheme, value) = raw.split_once(' ')?;
        let ok = match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
                let text = String::from_utf8(decoded).ok()?;
                let (user, token) = text.split_once(':')?;
                let email = user.strip_suffix("/token")?;
                email.eq_ignore_ascii_case(&self.options.email) && token == self.options.api_token
            }
            "bearer" => value.trim() == self.options.oauth_token,
            _ => false,
        };
        ok.then(|| Actor { user_id: self.api_user(), api: true })
    }
}

/// The simulator's router: `/api/v2/*` behind the gate middleware, `/__admin/*` unrecorded.
pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/v2/{*rest}", any(api_handler))
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared.clone());
    let files = Router::new()
        .route("/attachments/token/{token}/", axum::routing::get(files::serve))
        .route("/attachments/token/{token}", axum::routing::get(files::serve))
        .with_state(shared.clone());
    api.merge(files).merge(admin::router(shared))
}

fn json_response(status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let mut resp =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (axum::http::HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
            h.insert(k, v);
        }
    }
    resp
}

fn text_response(status: StatusCode, body: &str) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert("content-type", HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

async fn api_handler(
    AxState(shared): AxState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    actor: axum::Extension<Actor>,
    body: Bytes,
) -> Response {
    let path = uri.path().strip_prefix("/api/v2/").unwrap_or_default();
    let path = path.strip_suffix(".json").unwrap_or(path);
    let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    if method == Method::POST && segments == ["uploads"] {
        // The raw file, not JSON.
        let name = query.iter().find(|(k, _)| k == "filename").map(|(_, v)| v.clone()).unwrap_or_default();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .unwrap_or_default();
        let (status, body) = shared.with_state(|st| st.upload(&name, &content_type, body.to_vec()));
        return json_response(status, &body, &[]);
    }
    let parsed: Option<Value> = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => Some(v),
            Err(_) => {
                return json_response(
                    400,
                    &json!({ "error": "InvalidJSON", "description": "The request body is not valid JSON" }),
                    &[],
                );
            }
        }
    };
    let req = api::ApiRequest {
        method,
        segments,
        query,
        body: parsed,
        idempotency_key: headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string),
        actor: actor.0,
    };
    match shared.with_state(|st| api::dispatch(st, &req)) {
        Ok(r) => json_response(r.status, &r.body, &r.headers),
        Err(e) => json_response(e.status, &e.body, &[]),
    }
}

/// Records, injects faults, authenticates and rate-limits every API request.
async fn gate(AxState(shared): AxState<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    let mut exchange = Exchange {
        vendor: Vendor::Zendesk,
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()).into_owned().collect(),
        headers: recorded_headers(&parts.headers),
        request_body: serde_json::from_slice(&bytes).ok(),
        status: 0,
        response_body: None,
        modelled: true,
    };
    let incremental = parts.uri.path().contains("/incremental/");
    let (mut resp, modelled) = 'answer: {
        let (injected, latency) = shared.gate.next_fault();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match injected {
            Injected::RateLimited => {
                shared.gate.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut r =
                    text_response(StatusCode::TOO_MANY_REQUESTS, "Number of allowed API requests per minute exceeded");
                r.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
                break 'answer (r, false);
            }
            Injected::ServerError => {
                break 'answer (
                    json_response(
                        500,
                        &json!({ "error": "InternalServerError", "description": "Something went wrong" }),
                        &[],
                    ),
                    false,
                );
            }
            Injected::Timeout(d) => {
                tokio::time::sleep(d).await;
                break 'answer (text_response(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout"), false);
            }
            Injected::None => {}
        }
        let Some(actor) = shared.authenticate(&parts.headers) else {
            break 'answer (json_response(401, &json!({ "error": "Couldn't authenticate you" }), &[]), true);
        };
        let budget = shared.gate.limiter().take();
        if !budget.allowed {
            shared.gate.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut r =
                text_response(StatusCode::TOO_MANY_REQUESTS, "Number of allowed API requests per minute exceeded");
            add_budget_headers(&mut r, budget.limit, budget.remaining, budget.reset_in);
            set_header(&mut r, "retry-after", &budget.reset_in.to_string());
            break 'answer (r, false);
        }
        if incremental {
            let inc = lock(&shared.incremental).clone().take();
            if !inc.allowed {
                shared.gate.throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut r = json_response(
                    429,
                    &json!({ "error": "APIRateLimitExceeded", "description": "Number of allowed incremental export API requests per minute exceeded" }),
                    &[],
                );
                add_budget_headers(&mut r, budget.limit, budget.remaining, budget.reset_in);
                set_header(&mut r, "retry-after", &inc.reset_in.to_string());
                break 'answer (r, false);
            }
        }
        parts.extensions.insert(actor);
        let mut r = next.run(Request::from_parts(parts, Body::from(bytes.clone()))).await;
        add_budget_headers(&mut r, budget.limit, budget.remaining, budget.reset_in);
        (r, true)
    };
    let (resp_parts, resp_body) = resp.into_parts();
    let resp_bytes = axum::body::to_bytes(resp_body, 64 * 1024 * 1024).await.unwrap_or_default();
    exchange.status = resp_parts.status.as_u16();
    exchange.response_body = match serde_json::from_slice::<Value>(&resp_bytes) {
        Ok(v) => Some(v),
        Err(_) if resp_bytes.is_empty() => None,
        Err(_) => Some(Value::String(String::from_utf8_lossy(&resp_bytes).into_owned())),
    };
    exchange.modelled = modelled;
    shared.gate.recorder.push(exchange);
    resp = Response::from_parts(resp_parts, Body::from(resp_bytes));
    resp
}

fn set_header(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

fn add_budget_headers(r: &mut Response, limit: u32, remaining: u32, reset_in: u64) {
    set_header(r, "x-rate-limit", &limit.to_string());
    set_header(r, "x-rate-limit-remaining", &remaining.to_string());
    set_header(r, "ratelimit-limit", &limit.to_string());
    set_header(r, "ratelimit-remaining", &remaining.to_string());
    set_header(r, "ratelimit-reset", &reset_in.to_string());
}
