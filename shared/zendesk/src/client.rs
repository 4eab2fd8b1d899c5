//! The HTTP client: one `reqwest::Client`, one private `send` with the shared retry policy,
//! rate-limit snapshots, and the pagination and job-polling helpers every endpoint uses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_domain::retry::{RetryDecision, RetryPolicy};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::config::ZendeskConfig;
use crate::error::ZendeskError;
use crate::rate_limit::{self, RateLimitSnapshot};
use crate::types::JobStatus;

/// Result type of every client call.
pub type ZdResult<T> = Result<T, ZendeskError>;

/// Cursor pages followed at most by one list call (a guard against a looping cursor).
const MAX_PAGES: usize = 10_000;
/// Offset pages followed at most (search endpoints stop at 1,000 results).
const MAX_OFFSET_PAGES: usize = 10;
/// Job ids one `GET /job_statuses/show_many` takes.
pub const JOB_STATUSES_MAX: usize = 100;

/// A typed Zendesk Support client. Cheap to clone; clones share the connection pool, the
/// rate-limit snapshot and the cached own user id.
#[derive(Debug, Clone)]
pub struct ZendeskClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// For attachment downloads: follows no redirect by itself, so the credentials are sent
    /// only to the account's own origin (see `files.rs`).
    files: reqwest::Client,
    base_url: String,
    api_base: String,
    auth_header: SecretString,
    policy: RetryPolicy,
    job_wait: Duration,
    rate: Mutex<Option<RateLimitSnapshot>>,
    pub(crate) me: OnceCell<u64>,
    statuses: Mutex<std::collections::BTreeMap<u16, u64>>,
}

/// One request, prepared once and sent as many times as the retry policy allows (the body
/// bytes are identical on every attempt, which the idempotency key relies on).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<bytes::Bytes>,
    /// The body's media type (JSON unless [`Call::raw`] set another).
    content_type: Option<String>,
    headers: Vec<(&'static str, String)>,
}

impl Call {
    pub(crate) fn new(method: Method, path: impl Into<String>) -> Self {
        Self { method, path: path.into(), query: Vec::new(), body: None, content_type: None, headers: Vec::new() }
    }
    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    pub(crate) fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    pub(crate) fn json(mut self, body: &Value) -> ZdResult<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| ZendeskError::Decode(format!("encode: {e}")))?;
        self.body = Some(bytes.into());
        Ok(self)
    }
    /// A raw body of this media type (file uploads); taken over, not copied, and shared by the
    /// retries.
    pub(crate) fn raw(mut self, bytes: Vec<u8>, content_type: &str) -> Self {
        self.body = Some(bytes.into());
        self.content_type = Some(content_type.to_string());
        self
    }
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A successful response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The whole body as JSON.
    pub(crate) fn json(&self) -> ZdResult<Value> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| decode_error(&e))
    }
    /// The value under the root key (`ticket`, `users`, …), typed.
    pub(crate) fn take<T: DeserializeOwned>(&self, key: &str) -> ZdResult<T> {
        let mut json = self.json()?;
        take(&mut json, key)
    }
}

/// Removes `key` from a JSON object and deserializes it.
pub(crate) fn take<T: DeserializeOwned>(json: &mut Value, key: &str) -> ZdResult<T> {
    let v = json.get_mut(key).map(Value::take).ok_or_else(|| ZendeskError::Decode(format!("missing `{key}`")))?;
    serde_json::from_value(v).map_err(|e| decode_error(&e))
}

/// A decode error without the offending value (it may be personal data).
fn decode_error(e: &serde_json::Error) -> ZendeskError {
    ZendeskError::Decode(format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column()))
}

impl ZendeskClient {
    /// Builds the client (one connection pool for its whole life).
    pub fn new(config: ZendeskConfig) -> ZdResult<Self> {
        let base = config.base_url;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ZendeskError::Config("base_url must be http(s)".into()));
        }
        let base_url = base.as_str().trim_end_matches('/').to_string();
        let http = bridge_http::client_builder()
            .map_err(|e| ZendeskError::Config(format!("http client: {e}")))?
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("intercom-zendesk-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ZendeskError::Config(format!("http client: {e}")))?;
        let files = bridge_http::client_builder()
            .map_err(|e| ZendeskError::Config(format!("http client: {e}")))?
            .timeout(config.timeout.max(Duration::from_secs(60)))
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("intercom-zendesk-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ZendeskError::Config(format!("http client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                files,
                api_base: format!("{base_url}/api/v2"),
                base_url,
                auth_header: config.auth.header_value(),
                policy: RetryPolicy::default(),
                job_wait: Duration::from_secs(20),
                rate: Mutex::new(None),
                me: OnceCell::new(),
                statuses: Mutex::new(std::collections::BTreeMap::new()),
            }),
        })
    }

    /// Replaces the retry policy (call before cloning the client).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.policy = policy;
        }
        self
    }

    /// Sets the longest time spent polling a background job (call before cloning).
    pub fn with_job_wait(mut self, wait: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.job_wait = wait;
        }
        self
    }

    /// The account URL without `/api/v2`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The rate-limit headers of the most recent response that carried any.
    pub fn last_rate_limit(&self) -> Option<RateLimitSnapshot> {
        self.inner.rate.lock().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Responses by HTTP status since the last call (for the vendor-call metrics); resets.
    pub fn take_status_counts(&self) -> std::collections::BTreeMap<u16, u64> {
        std::mem::take(&mut *self.inner.statuses.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// What a file download needs: the redirect-less client, the credentials (for the
    /// account's own origin only) and the retry policy.
    pub(crate) fn file_access(&self) -> (&reqwest::Client, &SecretString) {
        (&self.inner.files, &self.inner.auth_header)
    }

    pub(crate) fn me_cell(&self) -> &OnceCell<u64> {
        &self.inner.me
    }

    /// Sends a call, retrying per the shared policy ([`ZendeskClient::retrying`]).
    pub(crate) async fn send(&self, call: &Call) -> ZdResult<Reply> {
        self.retrying(&call.path, || self.attempt(call)).await
    }

    /// Runs `op` (one attempt of an API call or a file download, `what` naming it in the log)
    /// under the shared retry policy: short waits inline (with jitter), long waits returned as
    /// [`ZendeskError::RateLimited`]. The one retry loop of this client.
    pub(crate) async fn retrying<T, Fut>(&self, what: &str, mut op: impl FnMut() -> Fut) -> ZdResult<T>
    where
        Fut: std::future::Future<Output = ZdResult<T>>,
    {
        let mut attempt = 1;
        loop {
            let error = match op().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            match self.inner.policy.decide(attempt, &error.retry_probe(), fastrand::f64()) {
                RetryDecision::RetryAfter(wait) => {
                    tracing::debug!(what, attempt, wait_ms = wait.as_millis() as u64, error = %error, "zendesk call retried");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                RetryDecision::GiveUp => return Err(error),
            }
        }
    }

    async fn attempt(&self, call: &Call) -> ZdResult<Reply> {
        let url = format!("{}{}", self.inner.api_base, call.path);
        let mut req = self
            .inner
            .http
            .request(call.method.clone(), url)
            .header(AUTHORIZATION, self.inner.auth_header.expose_secret())
            .header(ACCEPT, "application/json");
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        for (name, value) in &call.headers {
            req = req.header(*name, value);
        }
        if let Some(body) = &call.body {
            let content_type = call.content_type.as_deref().unwrap_or("application/json");
            req = req.header(CONTENT_TYPE, content_type).body(body.clone());
        }
        let resp = req.send().await.map_err(transport_error)?;
        let status = resp.status();
        *self.inner.statuses.lock().unwrap_or_else(|p| p.into_inner()).entry(status.as_u16()).or_default() += 1;
        let headers = resp.headers().clone();
        self.record_rate_limit(&headers);
        let body = resp.bytes().await.map_err(transport_error)?.to_vec();
        if status.is_success() {
            return Ok(Reply { status: status.as_u16(), headers, body });
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            tracing::warn!(path = %call.path, "zendesk rate limited");
        }
        Err(ZendeskError::from_response(status.as_u16(), &body, &call.path, rate_limit::retry_after(&headers)))
    }

    fn record_rate_limit(&self, headers: &HeaderMap) {
        if let Some(snap) = RateLimitSnapshot::from_headers(headers) {
            match self.inner.rate.lock() {
                Ok(mut g) => *g = Some(snap),
                Err(p) => *p.into_inner() = Some(snap),
            }
        }
    }

    /// Follows cursor pagination (`page[size]`, `meta.has_more`, `meta.after_cursor` /
    /// `links.next`) and collects every item under `key`.
    pub(crate) async fn list_cursor<T: DeserializeOwned>(
        &self,
        call: Call,
        key: &str,
        page_size: u32,
    ) -> ZdResult<Vec<T>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut page_call = call.clone().query("page[size]", page_size);
            if let Some(cursor) = &after {
                page_call = page_call.query("page[after]", cursor);
            }
            let mut page = self.send(&page_call).await?.json()?;
            let items: Vec<T> = take(&mut page, key)?;
            out.extend(items);
            let has_more = page.pointer("/meta/has_more").and_then(Value::as_bool).unwrap_or(false);
            after = page.pointer("/meta/after_cursor").and_then(Value::as_str).map(str::to_string).or_else(|| {
                page.pointer("/links/next").and_then(Value::as_str).and_then(|n| query_param(n, "page[after]"))
            });
            if !has_more || after.is_none() {
                return Ok(out);
            }
        }
        tracing::warn!(path = %call.path, "cursor pagination stopped at the page cap");
        Ok(out)
    }

    /// Follows offset pagination (`next_page`) for small result sets (search, external id).
    pub(crate) async fn list_offset<T: DeserializeOwned>(&self, call: Call, key: &str) -> ZdResult<Vec<T>> {
        let mut out = Vec::new();
        let mut page_no: Option<String> = None;
        for _ in 0..MAX_OFFSET_PAGES {
            let mut page_call = call.clone();
            if let Some(p) = &page_no {
                page_call = page_call.query("page", p);
            }
            let mut page = self.send(&page_call).await?.json()?;
            let items: Vec<T> = take(&mut page, key)?;
            out.extend(items);
            page_no = page.get("next_page").and_then(Value::as_str).and_then(|n| query_param(n, "page"));
            if page_no.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Shows a job status.
    pub async fn job_status(&self, id: &str) -> ZdResult<JobStatus> {
        self.send(&Call::get(format!("/job_statuses/{}", encode_segment(id)))).await?.take("job_status")
    }

    /// `GET /job_statuses/show_many?ids=…`: the statuses of up to 100 jobs in one call (more is
    /// refused before any call; none asks nothing). Jobs Zendesk no longer knows are left out of
    /// the answer, whose order is Zendesk's: match the statuses on [`JobStatus::id`].
    pub async fn job_statuses(&self, ids: &[&str]) -> ZdResult<Vec<JobStatus>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > JOB_STATUSES_MAX {
            return Err(ZendeskError::Permanent {
                status: 400,
                error: Some("TooManyValues".into()),
                description: Some(format!("at most {JOB_STATUSES_MAX} job ids per call, got {}", ids.len())),
            });
        }
        let call = Call::get("/job_statuses/show_many").query("ids", ids.join(","));
        self.send(&call).await?.take("job_statuses")
    }

    /// Polls a job until `completed` (Ok) or `failed` ([`ZendeskError::JobFailed`]), backing
    /// off from 100 ms to 2 s, for at most the configured job wait
    /// ([`ZendeskError::JobPending`] after that).
    pub async fn wait_for_job(&self, mut job: JobStatus) -> ZdResult<JobStatus> {
        let deadline = tokio::time::Instant::now() + self.inner.job_wait;
        let mut delay = Duration::from_millis(100);
        loop {
            match job.status.as_str() {
                "completed" => return Ok(job),
                "failed" => {
                    return Err(ZendeskError::JobFailed { job_id: job.id, message: job.message });
                }
                _ => {}
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(ZendeskError::JobPending { job_id: job.id });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
            job = self.job_status(&job.id).await?;
        }
    }
}

pub(crate) fn transport_error(e: reqwest::Error) -> ZendeskError {
    let reason = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "transport"
    };
    ZendeskError::Transient { status: None, reason: reason.into() }
}

/// Reads one query parameter from an absolute or relative URL.
fn query_param(link: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(link).or_else(|_| url::Url::parse("http://x/").and_then(|b| b.join(link))).ok()?;
    parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Percent-encodes a path segment (job ids, external values never reach paths otherwise).
pub(crate) fn encode_segment(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// Joins ids with commas (`ids=1,2,3`).
pub(crate) fn join_ids(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cursor_from_links() {
        assert_eq!(
            query_param("https://a.zendesk.com/api/v2/groups?page%5Bafter%5D=abc&page%5Bsize%5D=2", "page[after]"),
            Some("abc".into())
        );
        assert_eq!(query_param("/api/v2/users/search?page=3", "page"), Some("3".into()));
    }

    #[test]
    fn rejects_non_http_base() {
        let cfg = ZendeskConfig {
            base_url: url::Url::parse("ftp://x").unwrap(),
            auth: crate::config::Auth::OAuth { token: "t".into() },
            timeout: Duration::from_secs(1),
        };
        assert!(matches!(ZendeskClient::new(cfg), Err(ZendeskError::Config(_))));
    }
}
