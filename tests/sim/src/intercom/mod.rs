//! Intercom simulator: a stateful fake of the Intercom REST API (2.16) as the bridge uses it,
//! written from the official OpenAPI description and `reference/intercom.md`.
//!
//! - Real HTTP on `127.0.0.1:0`; bearer-token auth; Intercom's paths, status codes and
//!   `error.list` bodies; cursor pagination; `X-RateLimit-*` headers and 429s from a
//!   10-second window budget; fault injection and exchange recording through [`Gate`].
//! - Every state change (API-made ones included) emits a signed `notification_event` webhook.
//! - `/__admin/*` (not recorded, no auth) seeds data, acts as a human (customer or teammate),
//!   inspects state and sets faults; the same actions exist as methods on [`IntercomSim`].
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use bridge_sim::intercom::{IntercomSim, IntercomSimOptions};
//! let sim = IntercomSim::start(IntercomSimOptions::default()).await?;
//! let admin = sim.seed_admin("Bridge Bot", "bot@example.com");
//! # let _ = (sim.base_url(), admin); Ok(()) }
//! ```

mod actions;
mod admin;
mod api;
mod gate;
pub mod search;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::{Gate, Vendor, WebhookSink, lock};

pub use actions::{AssignTo, ConversationSeed, RatingSeed};
pub use state::State;

/// Default budget: 10,000 calls a minute enforced per 10-second window.
pub const DEFAULT_RATE_LIMIT: u32 = 1666;
/// Length of Intercom's rate-limit window.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

/// How to start the simulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntercomSimOptions {
    /// Client secret that signs webhooks (`X-Hub-Signature`).
    pub client_secret: String,
    /// The bearer token the API accepts.
    pub access_token: String,
    /// Requests per 10-second window.
    pub rate_limit: u32,
    /// Where webhooks go (None: generated and logged, not sent).
    pub webhook_target: Option<String>,
    /// `app_package_code` stamped on parts created through the API.
    pub app_package_code: String,
    /// Workspace id (`app_id`).
    pub app_id: String,
}

impl Default for IntercomSimOptions {
    fn default() -> Self {
        Self {
            client_secret: "sim-client-secret".into(),
            access_token: "sim-access-token".into(),
            rate_limit: DEFAULT_RATE_LIMIT,
            webhook_target: None,
            app_package_code: "intercom-zendesk-bridge".into(),
            app_id: "simapp01".into(),
        }
    }
}

/// A webhook notification the simulator generated (sent or not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Topic.
    pub topic: String,
    /// The envelope as sent.
    pub body: Value,
    /// The exact bytes that were signed.
    pub raw: String,
    /// `X-Hub-Signature` header value.
    pub signature: String,
}

/// State shared by the HTTP handlers and the in-process API.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    gate: Arc<Gate>,
    webhooks: WebhookSink,
    options: Mutex<IntercomSimOptions>,
    notifications: Mutex<Vec<Notification>>,
    /// Bumped by every state change; keys `search_cache`.
    generation: std::sync::atomic::AtomicU64,
    /// The last contact search's matches (generation, query, ids in order), so paging through a
    /// large result does not re-run the query for every page.
    search_cache: Mutex<Option<CachedSearch>>,
    /// `http://host:port` the simulator serves on (file URLs are made from it).
    base_url: Mutex<String>,
}

/// A contact search's matches: (state generation, query, contact ids in result order).
type CachedSearch = (u64, String, Arc<Vec<String>>);

/// Webhook events produced by a state change, emitted once the state lock is released.
#[derive(Debug, Default)]
pub struct Events(Vec<(String, Value)>);

impl Events {
    /// Queues a notification with this topic and item.
    pub fn push(&mut self, topic: &str, item: Value) {
        self.0.push((topic.to_string(), item));
    }
}

type HmacSha1 = Hmac<sha1::Sha1>;

/// Signs a body as Intercom does: `sha1=<hex HMAC-SHA1(client_secret, body)>`.
pub fn sign(client_secret: &str, body: &[u8]) -> String {
    match <HmacSha1 as KeyInit>::new_from_slice(client_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

impl Shared {
    /// Fresh state for these options (for serving [`router`] yourself).
    pub fn new(options: IntercomSimOptions) -> Self {
        let gate = Arc::new(Gate::new(Vendor::Intercom, options.rate_limit, RATE_WINDOW));
        let webhooks = WebhookSink::default();
        webhooks.set_target(options.webhook_target.clone());
        let state = State { app_id: options.app_id.clone(), ..State::default() };
        Self {
            state: Mutex::new(state),
            gate,
            webhooks,
            options: Mutex::new(options),
            notifications: Mutex::new(Vec::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            search_cache: Mutex::new(None),
            base_url: Mutex::new(String::new()),
        }
    }

    /// The URL the simulator serves on (empty until it is started).
    pub fn base_url(&self) -> String {
        lock(&self.base_url).clone()
    }

    /// Sets the URL the simulator serves on (done by [`IntercomSim::start_on`]).
    pub fn set_base_url(&self, url: String) {
        *lock(&self.base_url) = url;
    }

    /// Runs a state change and then emits the webhooks it produced.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut State, &mut Events) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut events = Events::default();
        let out = {
            let mut st = lock(&self.state);
            self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            f(&mut st, &mut events)?
        };
        for (topic, item) in events.0 {
            self.emit(&topic, item);
        }
        Ok(out)
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&lock(&self.state))
    }

    /// The ids matching a contact search `key`, computed by `run` unless the last search had the
    /// same key and nothing changed since.
    pub fn cached_search(
        &self,
        key: String,
        run: impl FnOnce(&State) -> Result<Vec<String>, ApiError>,
    ) -> Result<Arc<Vec<String>>, ApiError> {
        let st = lock(&self.state);
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let mut cache = lock(&self.search_cache);
        if let Some((g, k, ids)) = cache.as_ref()
            && *g == generation
            && *k == key
        {
            return Ok(ids.clone());
        }
        let ids = Arc::new(run(&st)?);
        *cache = Some((generation, key, ids.clone()));
        Ok(ids)
    }

    fn options(&self) -> IntercomSimOptions {
        lock(&self.options).clone()
    }

    fn emit(&self, topic: &str, item: Value) {
        let opts = self.options();
        let now = self.read(State::now);
        let body = json!({
            "type": "notification_event", "app_id": opts.app_id,
            "data": {"type": "notification_event_data", "item": item},
            "links": {}, "id": format!("notif_{}", uuid::Uuid::new_v4()), "topic": topic,
            "delivery_status": "pending", "delivery_attempts": 1, "delivered_at": 0,
            "first_sent_at": now, "created_at": now, "self": null,
        });
        let raw = serde_json::to_vec(&body).unwrap_or_default();
        let signature = sign(&opts.client_secret, &raw);
        lock(&self.notifications).push(Notification {
            topic: topic.to_string(),
            body: body.clone(),
            raw: String::from_utf8_lossy(&raw).into_owned(),
            signature: signature.clone(),
        });
        let headers = vec![
            ("X-Hub-Signature".to_string(), signature),
            ("User-Agent".to_string(), "intercom-parrot-service-client/1.0".to_string()),
        ];
        self.webhooks.emit(&self.gate, topic, raw, headers);
    }
}

/// An Intercom-style error response (`error.list`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Intercom error code.
    pub code: String,
    /// Message.
    pub message: String,
    /// `Link` header (410 merged contacts).
    pub link: Option<String>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_string(), message: message.into(), link: None }
    }
    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 400 `parameter_invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "parameter_invalid", message)
    }
    /// The `error.list` body.
    pub fn body(&self) -> Value {
        json!({"type": "error.list", "request_id": uuid::Uuid::new_v4().to_string(),
            "errors": [{"code": self.code, "message": self.message}]})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        if let Some(link) = self.link.as_deref().and_then(|l| HeaderValue::from_str(l).ok()) {
            resp.headers_mut().insert("link", link);
        }
        resp
    }
}

/// The simulator's router: the API (behind auth, rate limits, faults and recording) plus the
/// unauthenticated `/__admin` routes. Serve it yourself or use [`IntercomSim::start`].
pub fn router(shared: Arc<Shared>) -> Router {
    let api = api::routes()
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate::gatekeeper))
        .with_state(shared.clone());
    let files = Router::new().route("/files/{id}/{name}", axum::routing::get(serve_file)).with_state(shared.clone());
    Router::new().nest("/__admin", admin::routes().with_state(shared)).merge(files).merge(api)
}

/// `GET /files/{id}/{name}`: a part's file, without auth (Intercom's links are public and
/// signed).
async fn serve_file(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    axum::extract::Path((id, _name)): axum::extract::Path<(String, String)>,
) -> Response {
    match shared.read(|st| st.files.get(&id).cloned()) {
        Some(file) => {
            let mut resp = (StatusCode::OK, file.bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(&file.content_type) {
                resp.headers_mut().insert("content-type", v);
            }
            resp
        }
        None => (StatusCode::FORBIDDEN, "Request has expired").into_response(),
    }
}

/// A running Intercom simulator; the server stops when this is dropped.
#[derive(Debug)]
pub struct IntercomSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl IntercomSim {
    /// Binds `127.0.0.1:0` and serves the simulator in the background.
    pub async fn start(options: IntercomSimOptions) -> anyhow::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Binds `addr` (e.g. a fixed port for the demo) and serves the simulator in the background.
    pub async fn start_on(addr: SocketAddr, options: IntercomSimOptions) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::new(options));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        shared.set_base_url(format!("http://{addr}"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "intercom simulator stopped");
            }
        });
        Ok(Self { shared, addr, shutdown: Some(tx) })
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared handle (state, gate, webhooks).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Faults, rate budget and exchange log.
    pub fn gate(&self) -> &Gate {
        &self.shared.gate
    }

    /// The webhook sender (target and sent log).
    pub fn webhooks(&self) -> &WebhookSink {
        &self.shared.webhooks
    }

    /// Every notification generated so far, sent or not, with the exact signed bytes.
    pub fn notifications(&self) -> Vec<Notification> {
        lock(&self.shared.notifications).clone()
    }

    /// The client secret webhooks are signed with.
    pub fn client_secret(&self) -> String {
        self.shared.options().client_secret
    }

    /// The accepted access token.
    pub fn access_token(&self) -> String {
        self.shared.options().access_token
    }

    /// A copy of the whole state.
    pub fn state(&self) -> State {
        self.shared.read(Clone::clone)
    }

    /// Replaces the rate budget (requests per window).
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        self.shared.gate.set_rate_limit(limit, window);
    }

    /// Sets or clears the webhook target.
    pub fn set_webhook_target(&self, url: Option<String>) {
        self.shared.webhooks.set_target(url.clone());
        lock(&self.shared.options).webhook_target = url;
    }

    /// Moves the simulated clock by `seconds` (negative: back). Conversations, parts,
    /// `waiting_since` and `updated_at` made afterwards carry the moved time, e.g. back 40
    /// minutes, seed a conversation, forward 40 minutes: it has waited 40 minutes.
    pub fn advance_clock(&self, seconds: i64) {
        self.shared.advance_clock(seconds);
    }

    /// The simulated clock (Unix seconds).
    pub fn now(&self) -> i64 {
        self.shared.read(State::now)
    }

    /// Forgets all data, exchanges, faults and sent webhooks (options are kept); the clock is
    /// back to the real one.
    pub fn reset(&self) {
        self.shared.reset();
    }
}

impl Shared {
    /// Moves the simulated clock by `seconds`; returns the new simulated now.
    pub fn advance_clock(&self, seconds: i64) -> i64 {
        let mut st = lock(&self.state);
        st.clock_offset += seconds;
        st.now()
    }

    fn reset(&self) {
        let app_id = self.options().app_id;
        *lock(&self.state) = State { app_id, ..State::default() };
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.gate.recorder.clear();
        *lock(&self.gate.faults) = crate::common::Faults::default();
        self.webhooks.clear();
        lock(&self.notifications).clear();
    }
}

impl Drop for IntercomSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn the_clock_offset_stamps_conversations_and_waiting_since() {
        let sh = Shared::new(IntercomSimOptions::default());
        let contact = sh.seed_contacts(vec![state::Contact::default()]).unwrap().remove(0);
        let seed = || ConversationSeed { contact_id: contact.clone(), body: "hi".into(), ..Default::default() };
        let back = sh.advance_clock(-2_400);
        assert!((state::now() - 2_401..=state::now() - 2_399).contains(&back));
        let id = sh.mutate(|st, ev| actions::start_conversation(st, ev, seed(), true)).unwrap();
        sh.advance_clock(1_200);
        sh.mutate(|st, ev| {
            actions::reply(st, ev, &id, actions::Writer::Contact(contact.clone()), false, "again", None)
        })
        .unwrap();
        sh.advance_clock(1_200);
        let c = sh.read(|st| st.conversations[&id].clone());
        let now = sh.read(State::now);
        assert!((now - 2_405..=now - 2_400).contains(&c.created_at), "created 40 minutes ago");
        assert_eq!(c.waiting_since, Some(c.created_at), "a second message keeps the wait's start");
        assert!((now - 1_205..=now - 1_200).contains(&c.updated_at), "updated by the reply");
        let notified = lock(&sh.notifications).last().unwrap().body["created_at"].as_i64().unwrap();
        assert!((now - 1_205..=now - 1_200).contains(&notified), "notifications carry the clock too");
    }

    #[test]
    fn a_contact_search_is_computed_once_per_query_until_the_state_changes() {
        let sh = Shared::new(IntercomSimOptions::default());
        let runs = AtomicUsize::new(0);
        let search = |key: &str| {
            sh.cached_search(key.into(), |st| {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(st.contacts.keys().cloned().collect())
            })
            .unwrap()
        };
        assert!(search("q1").is_empty());
        assert!(search("q1").is_empty());
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the second page reuses the first's matches");
        search("q2");
        assert_eq!(runs.load(Ordering::SeqCst), 2, "another query runs");
        sh.seed_contacts(vec![state::Contact { email: Some("a@example.test".into()), ..Default::default() }]).unwrap();
        assert_eq!(search("q2").len(), 1, "a state change invalidates the cache");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert!(
            sh.seed_contacts(vec![state::Contact { email: Some("A@example.test".into()), ..Default::default() }])
                .is_err(),
            "duplicate email"
        );
    }
}
