//! The HTTP core: one reqwest client, one `send` path with retries, rate-limit tracking.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use bridge_domain::ids::TagId;
use bridge_domain::retry::{RetryDecision, RetryPolicy};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::config::IntercomConfig;
use crate::error::{FailedResponse, IntercomError, classify};

/// The rate-limit headers of the latest response (`X-RateLimit-Limit/Remaining/Reset`), for the
/// shared budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    /// Requests allowed in the current 10-second window.
    pub limit: Option<u32>,
    /// Requests left in the window.
    pub remaining: Option<u32>,
    /// Unix time at which the window refills.
    pub reset_at: Option<i64>,
    /// Unix time the headers were read.
    pub observed_at: i64,
}

impl RateLimitSnapshot {
    fn from_headers(headers: &HeaderMap, now: i64) -> Option<Self> {
        let num =
            |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<i64>().ok());
        let limit = num("x-ratelimit-limit");
        let remaining = num("x-ratelimit-remaining");
        let reset_at = num("x-ratelimit-reset");
        if limit.is_none() && remaining.is_none() && reset_at.is_none() {
            return None;
        }
        let small = |v: Option<i64>| v.and_then(|n| u32::try_from(n).ok());
        Some(Self { limit: small(limit), remaining: small(remaining), reset_at, observed_at: now })
    }
}

/// One page of a cursor-paginated list or search.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Items of this page.
    pub items: Vec<T>,
    /// Cursor of the next page (`pages.next.starting_after`), if any.
    pub next: Option<String>,
    /// Total matches, when reported.
    pub total_count: Option<u64>,
}

/// A request as built by an endpoint method.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub method: Method,
    /// Path segments, percent-encoded when the URL is built.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Label for errors, e.g. `conversation 123` (ids only, no personal data).
    pub what: String,
    /// Safe to resend after an ambiguous failure (GET, PUT, tagging, upserts).
    pub idempotent: bool,
}

impl ApiRequest {
    pub fn new(method: Method, segments: &[&str], what: impl Into<String>) -> Self {
        let idempotent = method != Method::POST;
        Self {
            method,
            segments: segments.iter().map(|s| s.to_string()).collect(),
            query: Vec::new(),
            body: None,
            what: what.into(),
            idempotent,
        }
    }
    pub fn get(segments: &[&str], what: impl Into<String>) -> Self {
        Self::new(Method::GET, segments, what)
    }
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    /// Marks a POST as safe to resend (search, tagging, company upsert).
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
}

/// A typed Intercom REST client. Cheap to clone; clones share the HTTP connection pool, the
/// rate-limit snapshot and the tag cache.
#[derive(Clone)]
pub struct IntercomClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// For attachment downloads: no default headers, so the access token never leaves for the
    /// CDN hosts the file links point at.
    files: reqwest::Client,
    base: Url,
    retry: RetryPolicy,
    rate: Mutex<Option<RateLimitSnapshot>>,
    tags: Mutex<HashMap<String, TagId>>,
    statuses: Mutex<std::collections::BTreeMap<u16, u64>>,
}

impl fmt::Debug for IntercomClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntercomClient").field("base_url", &self.inner.base.as_str()).finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl IntercomClient {
    /// Builds the client (one connection pool for every call).
    pub fn new(config: IntercomConfig) -> Result<Self, IntercomError> {
        if !matches!(config.base_url.scheme(), "http" | "https") || config.base_url.cannot_be_a_base() {
            return Err(IntercomError::Config(format!("base URL must be http(s), got {}", config.base_url.scheme())));
        }
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.access_token.expose_secret()))
            .map_err(|_| IntercomError::Config("access token is not a valid header value".into()))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(
            "intercom-version",
            HeaderValue::from_str(&config.version)
                .map_err(|_| IntercomError::Config("version is not a valid header value".into()))?,
        );
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = bridge_http::client_builder()
            .map_err(|e| IntercomError::Config(format!("HTTP client: {e}")))?
            .default_headers(headers)
            .timeout(config.timeout)
            .build()
            .map_err(|e| IntercomError::Config(format!("HTTP client: {e}")))?;
        let files = bridge_http::client_builder()
            .map_err(|e| IntercomError::Config(format!("HTTP client: {e}")))?
            .timeout(config.timeout.max(std::time::Duration::from_secs(60)))
            .build()
            .map_err(|e| IntercomError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                files,
                base: config.base_url,
                retry: config.retry,
                rate: Mutex::new(None),
                tags: Mutex::new(HashMap::new()),
                statuses: Mutex::new(std::collections::BTreeMap::new()),
            }),
        })
    }

    /// Rate-limit headers of the most recent response that carried them.
    pub fn last_rate_limit(&self) -> Option<RateLimitSnapshot> {
        *lock(&self.inner.rate)
    }

    /// Responses by HTTP status since the last call (for the vendor-call metrics); resets.
    pub fn take_status_counts(&self) -> std::collections::BTreeMap<u16, u64> {
        std::mem::take(&mut *lock(&self.inner.statuses))
    }

    /// The client for file downloads (no credentials) and the retry policy.
    pub(crate) fn file_client(&self) -> &reqwest::Client {
        &self.inner.files
    }

    pub(crate) fn tag_cache(&self) -> MutexGuard<'_, HashMap<String, TagId>> {
        lock(&self.inner.tags)
    }

    /// Sends a request and decodes the JSON response.
    pub(crate) async fn call<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, IntercomError> {
        let bytes = self.send(&req).await?;
        serde_json::from_slice(&bytes).map_err(|e| IntercomError::Decode {
            what: req.what.clone(),
            reason: format!("line {} column {}", e.line(), e.column()),
        })
    }

    /// The one path every call takes: attempts the request, and on a retryable failure waits
    /// as the shared [`RetryPolicy`] decides (short waits inline, jittered). Long waits come
    /// back as [`IntercomError::RateLimited`] for the queue to delay the message. Non-idempotent
    /// requests are resent only when they certainly were not processed (429, connect errors).
    async fn send(&self, req: &ApiRequest) -> Result<Vec<u8>, IntercomError> {
        let resendable = |err: &IntercomError| req.idempotent || err.not_processed();
        self.retrying(&req.what, resendable, || self.attempt(req)).await
    }

    /// Runs `op` (one attempt of an API call or a file download, `what` naming it in the log)
    /// under the shared retry policy, as long as `resendable` allows it for the failure. The one
    /// retry loop of this client.
    pub(crate) async fn retrying<T, Fut>(
        &self,
        what: &str,
        resendable: impl Fn(&IntercomError) -> bool,
        mut op: impl FnMut() -> Fut,
    ) -> Result<T, IntercomError>
    where
        Fut: std::future::Future<Output = Result<T, IntercomError>>,
    {
        let mut attempt = 1;
        loop {
            let err = match op().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if !resendable(&err) {
                return Err(err);
            }
            match self.inner.retry.decide(attempt, &err.retry_probe(), fastrand::f64()) {
                RetryDecision::RetryAfter(wait) => {
                    tracing::debug!(what, attempt, wait_ms = wait.as_millis() as u64, error = %err, "retrying intercom call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                RetryDecision::GiveUp => return Err(err),
            }
        }
    }

    fn url(&self, req: &ApiRequest) -> Result<Url, IntercomError> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|_| IntercomError::Config("base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(req.segments.iter());
        Ok(url)
    }

    async fn attempt(&self, req: &ApiRequest) -> Result<Vec<u8>, IntercomError> {
        let mut builder = self.inner.http.request(req.method.clone(), self.url(req)?);
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let resp = builder.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        *lock(&self.inner.statuses).entry(status).or_default() += 1;
        let now = now();
        let snapshot = RateLimitSnapshot::from_headers(resp.headers(), now);
        if snapshot.is_some() {
            *lock(&self.inner.rate) = snapshot;
        }
        let link = resp.headers().get("link").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = resp.bytes().await.map_err(transport_error)?;
        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        let err = classify(FailedResponse {
            status,
            body: &body,
            link_header: link.as_deref(),
            rate_limit_reset: snapshot.and_then(|s| s.reset_at),
            now,
            what: &req.what,
        });
        tracing::debug!(what = %req.what, status, error = %err, "intercom call failed");
        Err(err)
    }
}

pub(crate) fn transport_error(e: reqwest::Error) -> IntercomError {
    let reason = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    };
    IntercomError::Transient { reason: reason.to_string(), source: Some(e) }
}

/// Collects every page of a cursor-paginated call, stopping after `max_pages` pages (with a
/// warning) or when a cursor repeats.
pub(crate) async fn collect_pages<T, F, Fut>(
    what: &str,
    max_pages: usize,
    mut fetch: F,
) -> Result<Vec<T>, IntercomError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, IntercomError>>,
{
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let page = fetch(cursor.clone()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
            _ => return Ok(items),
        }
    }
    tracing::warn!(what, max_pages, "pagination stopped at the safety cap");
    Ok(items)
}
