//! The event sources of the template, as AWS runs them: the HTTP API's routes (payload format 2.0,
//! base64 bodies, the integration timeout, the functions' invoke permissions), the function URLs
//! (the same format, route `$default`, the two public permissions a URL needs), the SQS event
//! source mappings (batch size, batching window, `ReportBatchItemFailures`, maximum
//! concurrency, polling with the function's own role), and the EventBridge Scheduler schedules
//! (their role, their `Input`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bridge_aws::sdk::sqs;
use serde_json::{Value, json};

use crate::lambda::{Outcome, Pool};
use crate::manifest::{EventSourceMapping, FunctionUrl, Permission, Route};

/// Lambda functions by logical id.
pub type Functions = BTreeMap<String, Arc<Pool>>;

// ---- HTTP API ----------------------------------------------------------------------------------

/// The HTTP API as the template declares it.
pub struct HttpApi {
    /// Its routes.
    pub routes: Vec<Route>,
    /// Who may invoke which function (`AWS::Lambda::Permission`).
    pub permissions: Vec<Permission>,
    /// The functions.
    pub functions: Functions,
    /// The API id (in the execute-api source ARN).
    pub api_id: String,
    /// The account.
    pub account: String,
    /// Where a route that may not invoke its function is reported.
    pub problems: Arc<Mutex<Vec<String>>>,
    /// Requests it received.
    pub requests: Arc<AtomicU64>,
}

impl std::fmt::Debug for HttpApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpApi").field("api_id", &self.api_id).finish()
    }
}

/// Serves the HTTP API's routes on `listener` until the task is dropped.
pub fn serve_http_api(listener: tokio::net::TcpListener, api: HttpApi) -> tokio::task::JoinHandle<()> {
    let app = Router::new().fallback(route_request).with_state(Arc::new(api));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

fn json_response(status: StatusCode, message: &str) -> Response {
    (status, [("content-type", "application/json")], json!({ "message": message }).to_string()).into_response()
}

/// `*` and `?` wildcards, as in a Lambda permission's `SourceArn`.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

async fn route_request(State(api): State<Arc<HttpApi>>, request: Request) -> Response {
    api.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 10 * 1024 * 1024).await else {
        return json_response(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let Some(route) = api.routes.iter().find(|r| r.method == method && r.path == path) else {
        return json_response(StatusCode::NOT_FOUND, "Not Found");
    };
    let Some(pool) = api.functions.get(&route.function) else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let source_arn = &route.source_arn;
    let permitted = api.permissions.iter().any(|p| {
        p.function == route.function
            && p.action == "lambda:InvokeFunction"
            && p.principal == "apigateway.amazonaws.com"
            && wildcard_match(&p.source_arn, source_arn)
    });
    if !permitted {
        let problem = format!(
            "HTTP API route {method} {path}: no AWS::Lambda::Permission lets API Gateway invoke {} (source {source_arn})",
            route.function
        );
        if let Ok(mut p) = api.problems.lock() {
            p.push(problem);
        }
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    }
    let source = EventSource {
        route_key: format!("{method} {path}"),
        account: &api.account,
        api_id: &api.api_id,
        domain_name: format!("{}.execute-api.us-east-1.amazonaws.com", api.api_id),
    };
    let event = proxy_event(&source, &parts, &body);
    let timeout = Duration::from_millis(route.timeout_ms);
    let outcome = match tokio::time::timeout(timeout, pool.invoke(&event, None)).await {
        Ok(o) => o,
        Err(_) => return json_response(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
    };
    let Outcome::Ok(bytes) = outcome else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    proxy_response(&bytes, method == "HEAD")
}

/// What tells an HTTP API's event from a function URL's (both payload format 2.0).
struct EventSource<'a> {
    /// `POST /webhooks/intercom`, or `$default` for a function URL.
    route_key: String,
    /// The account id, or `anonymous` for a function URL with AuthType NONE.
    account: &'a str,
    /// The API id, or the URL id.
    api_id: &'a str,
    /// The host the request was sent to.
    domain_name: String,
}

/// The payload format 2.0 event of one request: headers joined by commas, the body in base64.
fn proxy_event(source: &EventSource<'_>, parts: &axum::http::request::Parts, body: &[u8]) -> Vec<u8> {
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let mut headers = serde_json::Map::new();
    for (name, value) in &parts.headers {
        let Ok(v) = value.to_str() else { continue };
        let key = name.as_str().to_ascii_lowercase();
        let merged = match headers.get(&key).and_then(Value::as_str) {
            Some(old) => format!("{old},{v}"),
            None => v.to_string(),
        };
        headers.insert(key, Value::String(merged));
    }
    let now = chrono::Utc::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let mut event = json!({
        "version": "2.0",
        "routeKey": source.route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": source.account,
            "apiId": source.api_id,
            "domainName": source.domain_name,
            "domainPrefix": source.api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": source.route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": true,
        "body": base64::engine::general_purpose::STANDARD.encode(body),
    });
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        event["queryStringParameters"] = Value::Object(params);
    }
    event.to_string().into_bytes()
}

// ---- Lambda function URLs ----------------------------------------------------------------------

/// A function URL as the template declares it (`AWS::Lambda::Url`).
pub struct FunctionUrlSource {
    /// The URL.
    pub url: FunctionUrl,
    /// Who may invoke which function (`AWS::Lambda::Permission`).
    pub permissions: Vec<Permission>,
    /// Its function.
    pub function: Arc<Pool>,
    /// Where a URL its function's policy does not open is reported.
    pub problems: Arc<Mutex<Vec<String>>>,
    /// Requests it received.
    pub requests: Arc<AtomicU64>,
}

impl std::fmt::Debug for FunctionUrlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionUrlSource").field("url", &self.url.url).finish()
    }
}

/// Serves one function URL on `listener` (every path and method) until the task is dropped.
pub fn serve_function_url(listener: tokio::net::TcpListener, source: FunctionUrlSource) -> tokio::task::JoinHandle<()> {
    let app = Router::new().fallback(url_request).with_state(Arc::new(source));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

/// Whether the function's resource policy opens a URL of this auth type to everyone: with
/// AuthType NONE, `lambda:InvokeFunctionUrl` (FunctionUrlAuthType NONE) and, for URLs created
/// since October 2025, `lambda:InvokeFunction` too (limited to the URL, or not limited).
fn url_permitted(url: &FunctionUrl, permissions: &[Permission]) -> Result<(), String> {
    if url.auth_type != "NONE" {
        return Err(format!("{}: the rehearsal serves only AuthType NONE", url.logical_id));
    }
    let mine = |p: &&Permission| p.function == url.function && p.principal == "*";
    let invoke_url = permissions
        .iter()
        .filter(mine)
        .any(|p| p.action == "lambda:InvokeFunctionUrl" && p.function_url_auth_type == "NONE");
    let invoke = permissions
        .iter()
        .filter(mine)
        .any(|p| p.action == "lambda:InvokeFunction" && (p.invoked_via_function_url || p.source_arn.is_empty()));
    let missing: Vec<&str> =
        [(invoke_url, "lambda:InvokeFunctionUrl (FunctionUrlAuthType NONE)"), (invoke, "lambda:InvokeFunction")]
            .into_iter()
            .filter_map(|(ok, what)| (!ok).then_some(what))
            .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "function URL {} of {}: no AWS::Lambda::Permission allows {} to everyone, so the URL answers 403",
            url.logical_id,
            url.function,
            missing.join(" or ")
        ))
    }
}

async fn url_request(State(source): State<Arc<FunctionUrlSource>>, request: Request) -> Response {
    source.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    // Function URLs take at most 6 MB of request.
    let Ok(body) = axum::body::to_bytes(body, 6 * 1024 * 1024).await else {
        return json_response(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    if let Err(problem) = url_permitted(&source.url, &source.permissions) {
        if let Ok(mut p) = source.problems.lock() {
            p.push(problem);
        }
        return (
            StatusCode::FORBIDDEN,
            [("content-type", "application/json")],
            json!({"Message": "Forbidden"}).to_string(),
        )
            .into_response();
    }
    let event_source = EventSource {
        route_key: "$default".into(),
        account: "anonymous",
        api_id: &source.url.url_id,
        domain_name: format!("{}.lambda-url.us-east-1.on.aws", source.url.url_id),
    };
    let event = proxy_event(&event_source, &parts, &body);
    match source.function.invoke(&event, None).await {
        Outcome::Ok(bytes) => proxy_response(&bytes, parts.method == axum::http::Method::HEAD),
        _ => json_response(StatusCode::BAD_GATEWAY, "Internal Server Error"),
    }
}

/// Reads a payload format 2.0 response.
fn proxy_response(bytes: &[u8], head: bool) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let (status, headers, body) = match value.get("statusCode").and_then(Value::as_u64) {
        Some(code) => {
            let raw = value.get("body").and_then(Value::as_str).unwrap_or("");
            let body = if value.get("isBase64Encoded").and_then(Value::as_bool).unwrap_or(false) {
                base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default()
            } else {
                raw.as_bytes().to_vec()
            };
            let headers = value.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
            (StatusCode::from_u16(code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), headers, body)
        }
        // A JSON answer without statusCode is a 200 with that JSON as the body.
        None => (StatusCode::OK, serde_json::Map::new(), bytes.to_vec()),
    };
    let mut response = Response::new(Body::from(if head { Vec::new() } else { body }));
    *response.status_mut() = status;
    for (k, v) in headers {
        if let (Ok(name), Some(Ok(value))) =
            (axum::http::HeaderName::try_from(k.as_str()), v.as_str().map(axum::http::HeaderValue::from_str))
        {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

// ---- SQS event source mappings -----------------------------------------------------------------

/// What a mapping did.
#[derive(Debug, Default)]
pub struct MappingStats {
    /// Batches delivered to the function.
    pub batches: AtomicU64,
    /// Messages delivered.
    pub messages: AtomicU64,
    /// Messages deleted after success.
    pub deleted: AtomicU64,
    /// Messages left on the queue (reported failures, or a failed invocation).
    pub failed: AtomicU64,
}

/// One running event source mapping.
#[derive(Debug)]
pub struct Poller {
    /// The mapping as the template declares it.
    pub mapping: EventSourceMapping,
    /// Counters.
    pub stats: Arc<MappingStats>,
    /// Receipt handles of messages left in flight after a failure (for [`Poller::expire`]).
    in_flight: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The harness's own client (administrator): a clock skip is not the function's call.
    admin: sqs::Client,
}

impl Drop for Poller {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Poller {
    /// Starts polling `mapping`'s queue with `client` (signed with the function's role), at most
    /// `concurrency` batches at once; `admin` serves [`Poller::expire`].
    pub fn start(
        mapping: EventSourceMapping,
        pool: Arc<Pool>,
        client: sqs::Client,
        admin: sqs::Client,
        concurrency: usize,
    ) -> Self {
        let stats = Arc::new(MappingStats::default());
        let in_flight = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..concurrency.max(1))
            .map(|_| {
                let (mapping, pool, client) = (mapping.clone(), pool.clone(), client.clone());
                let (stats, in_flight) = (stats.clone(), in_flight.clone());
                tokio::spawn(async move { poll(mapping, pool, client, stats, in_flight).await })
            })
            .collect();
        Self { mapping, stats, in_flight, tasks, admin }
    }

    /// Makes the messages a failed batch left in flight visible again now, as if their
    /// visibility timeout had passed (the rehearsal's clock skip; SQS counts the receives).
    pub async fn expire(&self) -> usize {
        let handles: Vec<String> = self.in_flight.lock().map(|mut h| std::mem::take(&mut *h)).unwrap_or_default();
        let mut n = 0;
        for h in handles {
            let r = self
                .admin
                .change_message_visibility()
                .queue_url(&self.mapping.queue_url)
                .receipt_handle(h)
                .visibility_timeout(0)
                .send()
                .await;
            if r.is_ok() {
                n += 1;
            }
        }
        n
    }
}

async fn poll(
    mapping: EventSourceMapping,
    pool: Arc<Pool>,
    client: sqs::Client,
    stats: Arc<MappingStats>,
    in_flight: Arc<Mutex<Vec<String>>>,
) {
    use sqs::types::MessageSystemAttributeName;
    let report_failures = mapping.function_response_types.iter().any(|t| t == "ReportBatchItemFailures");
    let batch_size = mapping.batch_size.max(1) as usize;
    let window = Duration::from_secs(u64::from(mapping.maximum_batching_window_secs));
    let receive = |max: usize, wait: Duration| {
        client
            .receive_message()
            .queue_url(&mapping.queue_url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
    };
    loop {
        let messages = match receive(batch_size, Duration::from_secs(1)).await {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let more = |max, wait| {
            let received = receive(max, wait);
            async move { received.await.map(|out| out.messages.unwrap_or_default()) }
        };
        let messages = fill_batch(messages, batch_size, window, more).await;
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone()))).collect())
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": mapping.queue_arn,
                    "awsRegion": "us-east-1",
                })
            })
            .collect();
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.messages.fetch_add(messages.len() as u64, Ordering::Relaxed);
        let trace = messages
            .first()
            .and_then(|m| m.attributes())
            .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
            .cloned();
        let payload = json!({ "Records": records }).to_string().into_bytes();
        let outcome = pool.invoke(&payload, trace.as_deref()).await;
        let ids: Vec<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
        let failed: Vec<String> = match &outcome {
            Outcome::Ok(bytes) if report_failures => match failures(bytes, &ids) {
                Some(f) => f,
                None => ids.iter().map(|s| s.to_string()).collect(),
            },
            Outcome::Ok(_) => Vec::new(),
            _ => ids.iter().map(|s| s.to_string()).collect(),
        };
        let mut delete = Vec::new();
        for m in &messages {
            let (Some(id), Some(handle)) = (m.message_id(), m.receipt_handle()) else { continue };
            if failed.iter().any(|f| f == id) {
                if let Ok(mut h) = in_flight.lock() {
                    h.push(handle.to_string());
                }
            } else {
                delete.push((id.to_string(), handle.to_string()));
            }
        }
        stats.failed.fetch_add(failed.len() as u64, Ordering::Relaxed);
        for chunk in delete.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, (_, h))| {
                    sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(h)
                        .build()
                        .ok()
                })
                .collect();
            if client
                .delete_message_batch()
                .queue_url(&mapping.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .is_ok()
            {
                stats.deleted.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        }
    }
}

/// Gathers one batch as Lambda's SQS poller does with `MaximumBatchingWindowInSeconds`: from
/// the first messages received, it keeps receiving (`receive(most, long-poll wait)`) until the
/// batch holds `batch_size` messages or `window` has passed since those first messages, then
/// the function is invoked. A window of 0 invokes with what the first receive brought. A
/// receive never waits past the window (SQS waits whole seconds: under a second left, it polls
/// without waiting and pauses briefly), and one that fails ends the gathering.
pub async fn fill_batch<T, E, F>(
    first: Vec<T>,
    batch_size: usize,
    window: Duration,
    mut receive: impl FnMut(usize, Duration) -> F,
) -> Vec<T>
where
    F: std::future::Future<Output = Result<Vec<T>, E>>,
{
    let mut batch = first;
    let deadline = tokio::time::Instant::now() + window;
    while batch.len() < batch_size {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let wait = Duration::from_secs(left.as_secs());
        let Ok(more) = receive((batch_size - batch.len()).min(10), wait).await else { break };
        if more.is_empty() && wait.is_zero() {
            tokio::time::sleep(left.min(Duration::from_millis(200))).await;
        }
        batch.extend(more);
    }
    batch
}

/// The message ids a `ReportBatchItemFailures` answer names, or `None` when the answer fails the
/// whole batch (not the expected shape, or an empty or unknown item identifier).
fn failures(bytes: &[u8], ids: &[&str]) -> Option<Vec<String>> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    if value.is_null() {
        return Some(Vec::new());
    }
    let list = match value.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return None,
    };
    let mut out = Vec::new();
    for f in list {
        let id = f.get("itemIdentifier").and_then(Value::as_str).filter(|s| !s.is_empty())?;
        if !ids.contains(&id) {
            return None;
        }
        out.push(id.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_public_function_url_needs_both_permissions() {
        let url = FunctionUrl {
            logical_id: "HookUrl".into(),
            function: "Hook".into(),
            url_id: "abc".into(),
            url: "https://abc.lambda-url.us-east-1.on.aws/".into(),
            auth_type: "NONE".into(),
            invoke_mode: "BUFFERED".into(),
        };
        let permission = |action: &str, auth: &str, via_url: bool| Permission {
            logical_id: format!("{action}{auth}"),
            function: "Hook".into(),
            action: action.into(),
            principal: "*".into(),
            source_arn: String::new(),
            function_url_auth_type: auth.into(),
            invoked_via_function_url: via_url,
        };
        let url_only = permission("lambda:InvokeFunctionUrl", "NONE", false);
        let invoke_via_url = permission("lambda:InvokeFunction", "", true);
        assert_eq!(url_permitted(&url, &[url_only.clone(), invoke_via_url.clone()]), Ok(()));
        let err = url_permitted(&url, std::slice::from_ref(&url_only)).unwrap_err();
        assert!(err.contains("HookUrl of Hook") && err.contains("allows lambda:InvokeFunction to everyone"), "{err}");
        let err = url_permitted(&url, std::slice::from_ref(&invoke_via_url)).unwrap_err();
        assert!(err.contains("lambda:InvokeFunctionUrl (FunctionUrlAuthType NONE)"), "{err}");
        let mut other = invoke_via_url;
        other.function = "Other".into();
        assert!(url_permitted(&url, &[url_only, other]).is_err(), "another function's permission does not count");
    }

    #[test]
    fn batch_failures_are_read_as_lambda_reads_them() {
        let ids = ["a", "b", "c"];
        assert_eq!(failures(br#"{"batchItemFailures":[]}"#, &ids), Some(vec![]));
        assert_eq!(failures(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &ids), Some(vec!["b".into()]));
        assert_eq!(failures(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, &ids), None, "empty id fails all");
        assert_eq!(failures(br#"{"batchItemFailures":[{"itemIdentifier":"z"}]}"#, &ids), None, "unknown id fails all");
        assert_eq!(failures(b"null", &ids), Some(vec![]));
    }

    /// A queue that hands out `per_receive` messages a receive, `ready` in all, and records what
    /// each receive asked for; once empty, a receive waits its long poll out.
    #[derive(Clone)]
    struct FakeQueue {
        state: Arc<Mutex<FakeState>>,
        per_receive: usize,
    }

    struct FakeState {
        ready: usize,
        asked: Vec<(usize, Duration)>,
    }

    impl FakeQueue {
        fn new(ready: usize, per_receive: usize) -> Self {
            Self { state: Arc::new(Mutex::new(FakeState { ready, asked: Vec::new() })), per_receive }
        }

        fn receive(&self, max: usize, wait: Duration) -> impl Future<Output = Result<Vec<u32>, ()>> + use<> {
            let mut state = self.state.lock().unwrap();
            state.asked.push((max, wait));
            let n = self.per_receive.min(max).min(state.ready);
            state.ready -= n;
            async move {
                if n == 0 {
                    tokio::time::sleep(wait).await;
                }
                Ok(vec![0; n])
            }
        }

        fn asked(&self) -> Vec<(usize, Duration)> {
            self.state.lock().unwrap().asked.clone()
        }
    }

    #[tokio::test]
    async fn the_batching_window_fills_the_batch_as_lambda_does() {
        // Without a window: the first receive's messages, at once.
        let q = FakeQueue::new(100, 3);
        let batch = fill_batch(vec![1, 2], 10, Duration::ZERO, |m, w| q.receive(m, w)).await;
        assert_eq!((batch.len(), q.asked().len()), (2, 0));

        // With one: more receives until the batch is full, each asking for what is missing.
        let q = FakeQueue::new(100, 3);
        let started = std::time::Instant::now();
        let batch = fill_batch(vec![1, 2], 10, Duration::from_secs(5), |m, w| q.receive(m, w)).await;
        assert_eq!(batch.len(), 10);
        assert_eq!(q.asked().iter().map(|(m, _)| *m).collect::<Vec<_>>(), [8, 5, 2]);
        assert!(q.asked().iter().all(|(_, w)| *w <= Duration::from_secs(5)), "{:?}", q.asked());
        assert!(started.elapsed() < Duration::from_secs(1), "a full batch goes at once");

        // A queue that runs dry: the batch goes when the window ends, not before, not much after.
        let q = FakeQueue::new(1, 3);
        let started = std::time::Instant::now();
        let batch = fill_batch(vec![1], 10, Duration::from_millis(1500), |m, w| q.receive(m, w)).await;
        let waited = started.elapsed();
        assert_eq!(batch.len(), 2);
        assert!(waited >= Duration::from_millis(1500) && waited < Duration::from_millis(2200), "{waited:?}");

        // A failed receive ends the gathering with what there is.
        let batch = fill_batch(vec![1], 10, Duration::from_secs(5), |_, _| async { Err::<Vec<i32>, ()>(()) }).await;
        assert_eq!(batch, [1]);
    }

    #[test]
    fn permission_source_arns_match_with_wildcards() {
        let route = "arn:aws:execute-api:us-east-1:1:abc/$default/POST/webhooks/intercom";
        assert!(wildcard_match("arn:aws:execute-api:us-east-1:1:abc/*/POST/webhooks/intercom", route));
        assert!(!wildcard_match("arn:aws:execute-api:us-east-1:1:abc/*/HEAD/webhooks/intercom", route));
        assert!(wildcard_match("*", route));
    }
}
