//! Pieces shared by both simulators: the exchange log, fault injection, rate limiting and the
//! webhook sender.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which simulated vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Intercom.
    Intercom,
    /// Zendesk.
    Zendesk,
}

/// One HTTP exchange as the simulator saw it: what the client sent and what it got back.
/// The fidelity test validates these against the official OpenAPI descriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Which simulator answered.
    pub vendor: Vendor,
    /// HTTP method, upper case.
    pub method: String,
    /// Path as requested, without the query string (Zendesk paths may end in `.json`).
    pub path: String,
    /// Query string pairs, in order.
    pub query: Vec<(String, String)>,
    /// Request headers that matter for checks (lower-case names): authorization scheme only
    /// (never the secret), content-type, intercom-version, idempotency-key.
    pub headers: Vec<(String, String)>,
    /// Parsed JSON request body, if any.
    pub request_body: Option<serde_json::Value>,
    /// Response status.
    pub status: u16,
    /// Parsed JSON response body, if any (plain-text bodies are kept as a JSON string).
    pub response_body: Option<serde_json::Value>,
    /// Whether the simulator answered from its own logic (false for injected faults and 429s,
    /// whose bodies mimic the vendor but are not described by the OpenAPI files).
    pub modelled: bool,
}

/// A thread-safe exchange log.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<Vec<Exchange>>>,
}

impl Recorder {
    /// Appends an exchange.
    pub fn push(&self, e: Exchange) {
        lock(&self.inner).push(e);
    }
    /// A copy of every exchange so far.
    pub fn all(&self) -> Vec<Exchange> {
        lock(&self.inner).clone()
    }
    /// Forgets every exchange.
    pub fn clear(&self) {
        lock(&self.inner).clear();
    }
}

/// Locks a mutex, recovering the data if a previous holder panicked.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fault injection settings; change them at run time through the admin API or in-process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Extra latency added to every API response, in milliseconds.
    pub latency_ms: u64,
    /// The next N API requests answer 500 (or 503).
    pub fail_next: u32,
    /// The next N API requests hang for `timeout_ms` then answer 504.
    pub timeout_next: u32,
    /// How long a simulated timeout hangs, in milliseconds.
    pub timeout_ms: u64,
    /// Percentage (0-100) of outgoing webhooks silently dropped.
    pub drop_webhooks_percent: u8,
    /// The next N API requests answer 429 regardless of the budget.
    pub rate_limit_next: u32,
}

/// A fixed-window request budget, like the vendors' (Intercom: 10-second windows; Zendesk: a
/// minute).
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    state: Mutex<(std::time::Instant, u32)>,
    history: Mutex<VecDeque<std::time::Instant>>,
}

/// Result of asking the limiter for a request slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The window's limit.
    pub limit: u32,
    /// Requests left in the window after this one.
    pub remaining: u32,
    /// Seconds until the window resets (at least 1).
    pub reset_in: u64,
    /// Unix time of the reset.
    pub reset_at: i64,
    /// Whether this request is allowed.
    pub allowed: bool,
}

impl RateLimiter {
    /// A limiter allowing `limit` requests per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window, state: Mutex::new((std::time::Instant::now(), 0)), history: Mutex::new(VecDeque::new()) }
    }

    /// Takes one slot if the window has one.
    pub fn take(&self) -> Budget {
        let now = std::time::Instant::now();
        let mut st = lock(&self.state);
        if now.duration_since(st.0) >= self.window {
            *st = (now, 0);
        }
        let elapsed = now.duration_since(st.0);
        let left = self.window.saturating_sub(elapsed);
        let reset_in = left.as_secs_f64().ceil().max(1.0) as u64;
        let reset_at = chrono::Utc::now().timestamp() + reset_in as i64;
        let allowed = st.1 < self.limit;
        if allowed {
            st.1 += 1;
            lock(&self.history).push_back(now);
        }
        Budget { limit: self.limit, remaining: self.limit.saturating_sub(st.1), reset_in, reset_at, allowed }
    }
}

/// What every simulator shares: its vendor, the exchange log, faults and the rate budget.
#[derive(Debug)]
pub struct Gate {
    /// Which vendor this gate belongs to.
    pub vendor: Vendor,
    /// Exchange log.
    pub recorder: Recorder,
    /// Current faults.
    pub faults: Mutex<Faults>,
    /// The request budget (replaced through [`Gate::set_rate_limit`]).
    pub limiter: Mutex<Arc<RateLimiter>>,
    /// Count of requests answered 429.
    pub throttled: std::sync::atomic::AtomicU64,
}

impl Gate {
    /// A gate with the given budget.
    pub fn new(vendor: Vendor, limit: u32, window: Duration) -> Self {
        Self {
            vendor,
            recorder: Recorder::default(),
            faults: Mutex::new(Faults::default()),
            limiter: Mutex::new(Arc::new(RateLimiter::new(limit, window))),
            throttled: std::sync::atomic::AtomicU64::new(0),
        }
    }
    /// Replaces the rate budget.
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        *lock(&self.limiter) = Arc::new(RateLimiter::new(limit, window));
    }
    /// The current budget limiter.
    pub fn limiter(&self) -> Arc<RateLimiter> {
        lock(&self.limiter).clone()
    }
    /// How many requests were answered 429 so far.
    pub fn throttled_count(&self) -> u64 {
        self.throttled.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// An injected fault decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// Answer normally.
    None,
    /// Answer 500.
    ServerError,
    /// Hang, then answer 504.
    Timeout(Duration),
    /// Answer 429.
    RateLimited,
}

impl Gate {
    /// Consumes one queued fault, if any, and returns the latency to add.
    pub fn next_fault(&self) -> (Injected, Duration) {
        let mut f = lock(&self.faults);
        let latency = Duration::from_millis(f.latency_ms);
        let injected = if f.rate_limit_next > 0 {
            f.rate_limit_next -= 1;
            Injected::RateLimited
        } else if f.fail_next > 0 {
            f.fail_next -= 1;
            Injected::ServerError
        } else if f.timeout_next > 0 {
            f.timeout_next -= 1;
            Injected::Timeout(Duration::from_millis(f.timeout_ms.max(1)))
        } else {
            Injected::None
        };
        (injected, latency)
    }

    /// Whether an outgoing webhook should be dropped (fault injection).
    pub fn drop_webhook(&self) -> bool {
        let pct = lock(&self.faults).drop_webhooks_percent;
        pct > 0 && fastrand_percent() < pct
    }
}

fn fastrand_percent() -> u8 {
    // uuid v4 is random; take one byte modulo 100 (bias is irrelevant for fault injection).
    let b = uuid::Uuid::new_v4().as_bytes()[0];
    b % 100
}

/// Headers worth recording (never secrets: only the auth scheme is kept).
pub fn recorded_headers(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in ["content-type", "intercom-version", "idempotency-key", "accept"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            out.push((name.to_string(), v.to_string()));
        }
    }
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let scheme = v.split_whitespace().next().unwrap_or("").to_string();
        out.push(("authorization".to_string(), scheme));
    }
    out
}

/// Sends signed webhooks to a configured URL, in the background, recording each attempt.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    target: Arc<Mutex<Option<String>>>,
    sent: Arc<Mutex<Vec<SentWebhook>>>,
    client: reqwest::Client,
}

impl Default for WebhookSink {
    fn default() -> Self {
        Self { target: Arc::default(), sent: Arc::default(), client: crate::http_client() }
    }
}

/// A webhook the simulator sent (or dropped on purpose).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentWebhook {
    /// Topic / event type.
    pub topic: String,
    /// The JSON body.
    pub body: serde_json::Value,
    /// HTTP status the receiver answered (None when dropped or unreachable).
    pub status: Option<u16>,
    /// Dropped by fault injection.
    pub dropped: bool,
}

impl WebhookSink {
    /// Sets (or clears) the URL webhooks go to.
    pub fn set_target(&self, url: Option<String>) {
        *lock(&self.target) = url;
    }
    /// The current target.
    pub fn target(&self) -> Option<String> {
        lock(&self.target).clone()
    }
    /// Every webhook sent so far.
    pub fn sent(&self) -> Vec<SentWebhook> {
        lock(&self.sent).clone()
    }
    /// Forgets the sent log.
    pub fn clear(&self) {
        lock(&self.sent).clear();
    }

    /// Delivers `body` with the given headers to the target, unless there is no target or the
    /// gate's fault injection drops it. Fire-and-forget: runs on a spawned task, so state
    /// changes never wait for the receiver.
    pub fn emit(&self, gate: &Gate, topic: &str, body: Vec<u8>, headers: Vec<(String, String)>) {
        let Some(url) = self.target() else { return };
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        if gate.drop_webhook() {
            lock(&self.sent).push(SentWebhook { topic: topic.into(), body: json, status: None, dropped: true });
            return;
        }
        let sent = self.sent.clone();
        let client = self.client.clone();
        let topic = topic.to_string();
        tokio::spawn(async move {
            let mut req = client.post(&url).body(body).header("content-type", "application/json");
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let status = req.send().await.ok().map(|r| r.status().as_u16());
            lock(&sent).push(SentWebhook { topic, body: json, status, dropped: false });
        });
    }
}
