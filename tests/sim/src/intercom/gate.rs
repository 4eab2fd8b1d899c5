//! One middleware for every API route: bearer auth, injected faults, the rate budget,
//! `X-RateLimit-*` headers and exchange recording.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{ApiError, Shared};
use crate::common::{Budget, Exchange, Injected, Vendor, recorded_headers};

/// Largest request body the simulator reads.
const MAX_BODY: usize = 10 * 1024 * 1024;

struct Seen {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

fn json_of(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())))
}

fn authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == token)
}

fn set_rate_headers(resp: &mut Response, budget: &Budget) {
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", budget.limit.to_string()),
        ("x-ratelimit-remaining", budget.remaining.to_string()),
        ("x-ratelimit-reset", budget.reset_at.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

fn rate_limited(budget: &Budget) -> Response {
    let message = format!("Exceeded rate limit of {} in 10_seconds", budget.limit);
    let mut resp = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", message).into_response();
    set_rate_headers(&mut resp, &Budget { remaining: 0, ..*budget });
    resp
}

/// The middleware.
pub async fn gatekeeper(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let seen = Seen {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts
            .uri
            .query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        headers: recorded_headers(&parts.headers),
        body: json_of(&bytes),
    };
    if !authorized(&parts.headers, &shared.options().access_token) {
        let resp = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Access Token Invalid").into_response();
        return record(&shared, seen, resp, true).await;
    }
    let gate = &shared.gate;
    let (injected, latency) = gate.next_fault();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let limiter = gate.limiter();
    match injected {
        Injected::RateLimited => {
            gate.throttled.fetch_add(1, Ordering::Relaxed);
            let budget = limiter.take();
            return record(&shared, seen, rate_limited(&budget), false).await;
        }
        Injected::ServerError => {
            let resp = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Server Error").into_response();
            return record(&shared, seen, resp, false).await;
        }
        Injected::Timeout(wait) => {
            tokio::time::sleep(wait).await;
            let resp =
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "service_unavailable", "Gateway Timeout").into_response();
            return record(&shared, seen, resp, false).await;
        }
        Injected::None => {}
    }
    let budget = limiter.take();
    if !budget.allowed {
        gate.throttled.fetch_add(1, Ordering::Relaxed);
        return record(&shared, seen, rate_limited(&budget), false).await;
    }
    let req = Request::from_parts(parts, Body::from(bytes));
    let mut resp = next.run(req).await;
    set_rate_headers(&mut resp, &budget);
    record(&shared, seen, resp, true).await
}

async fn record(shared: &Shared, seen: Seen, resp: Response, modelled: bool) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    shared.gate.recorder.push(Exchange {
        vendor: Vendor::Intercom,
        method: seen.method,
        path: seen.path,
        query: seen.query,
        headers: seen.headers,
        request_body: seen.body,
        status: parts.status.as_u16(),
        response_body: json_of(&bytes),
        modelled,
    });
    Response::from_parts(parts, Body::from(bytes))
}
