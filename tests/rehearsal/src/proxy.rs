//! The AWS endpoint every function and the operator talk to (`AWS_ENDPOINT_URL`): it reads each
//! request (who signed it, which actions on which resources), evaluates it against the caller's
//! policies, answers `AccessDenied` in the service's own error shape when IAM would, and
//! otherwise forwards it unchanged (same bytes, same `Host`, so moto checks the signature) to
//! moto. Every request is recorded.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::aws_request::{self, Access};
use crate::iam::{Decision, Evaluator};
use crate::manifest::Policy;

/// Largest request body read (S3 report objects are the biggest).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Who a request is from.
#[derive(Debug, Clone)]
pub struct Principal {
    /// How reports name it: the function's logical id, `operator`, `admin`.
    pub label: String,
    /// Its ARN (the assumed-role session for a function).
    pub arn: String,
    /// Its identity policies; `None` for a principal the rehearsal does not check (the admin).
    pub policies: Option<Vec<Policy>>,
}

/// One AWS request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The principal's label.
    pub principal: String,
    /// API operation (`TransactWriteItems`).
    pub operation: String,
    /// IAM action (`dynamodb:PutItem`).
    pub action: String,
    /// Resource ARN.
    pub resource: String,
    /// IAM's answer, as a word (`Allowed`, `ImplicitlyDenied`, ...).
    pub decision: String,
    /// Why the request could not be read, when it could not.
    pub error: Option<String>,
    /// The DynamoDB write units of the request ([`aws_request::Classified::write_units`]), on
    /// its first call only (a request checks one call per action and resource).
    pub write_units: u32,
}

impl Call {
    /// True when IAM would refuse the call (or it could not be read).
    pub fn refused(&self) -> bool {
        self.decision != "Allowed" && self.decision != "Unchecked"
    }
}

struct Shared {
    moto: String,
    principals: BTreeMap<String, Principal>,
    evaluator: Arc<Evaluator>,
    client: reqwest::Client,
    calls: Mutex<Vec<Call>>,
    /// moto's error answers: (principal, operation, status, start of the body).
    errors: Mutex<Vec<String>>,
    region: String,
    account: String,
    secrets: BTreeMap<String, String>,
}

/// A running proxy.
#[derive(Clone)]
pub struct Proxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("addr", &self.addr).finish()
    }
}

impl Proxy {
    /// Starts the proxy on a loopback port in front of `moto`. `principals` maps access key ids
    /// to principals; `secrets` maps secret names to ARNs.
    pub async fn start(
        moto: String,
        principals: BTreeMap<String, Principal>,
        evaluator: Arc<Evaluator>,
        region: String,
        account: String,
        secrets: BTreeMap<String, String>,
    ) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            moto,
            principals,
            evaluator,
            client: bridge_http::client_builder()?.build()?,
            calls: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
            region,
            account,
            secrets,
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { shared, addr })
    }

    /// The endpoint URL for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every call recorded so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// moto's error answers so far (some are expected: a failed condition, an empty queue).
    pub fn errors(&self) -> Vec<String> {
        self.shared.errors.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Records a check made outside a request (a schedule's role invoking its function, an API
    /// route's permission), and answers it.
    pub async fn check(&self, principal: &Principal, operation: &str, action: &str, resource: &str) -> Decision {
        let access = [Access { action: action.into(), resource: resource.into() }];
        match decide(&self.shared, principal, operation, &access).await {
            Ok((calls, decision)) => {
                record(&self.shared, calls);
                decision
            }
            Err(e) => Decision::Error(e.to_string()),
        }
    }
}

fn record(shared: &Shared, calls: Vec<Call>) {
    if let Ok(mut c) = shared.calls.lock() {
        c.extend(calls);
    }
}

async fn decide(
    shared: &Shared,
    principal: &Principal,
    operation: &str,
    accesses: &[Access],
) -> anyhow::Result<(Vec<Call>, Decision)> {
    let mut calls = Vec::new();
    let mut overall = Decision::Allowed;
    for a in accesses {
        let decision = match &principal.policies {
            None => None,
            Some(policies) => Some(shared.evaluator.evaluate(&principal.arn, policies, &a.action, &a.resource).await?),
        };
        let word = match &decision {
            None => "Unchecked".to_string(),
            Some(Decision::Error(e)) => format!("Error: {e}"),
            Some(d) => format!("{d:?}"),
        };
        if let Some(d) = decision
            && !d.allowed()
            && overall.allowed()
        {
            overall = d;
        }
        calls.push(Call {
            principal: principal.label.clone(),
            operation: operation.to_string(),
            action: a.action.clone(),
            resource: a.resource.clone(),
            decision: word,
            error: None,
            write_units: 0,
        });
    }
    Ok((calls, overall))
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::PAYLOAD_TOO_LARGE, e.to_string()).into_response(),
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let mut headers = BTreeMap::new();
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            headers
                .entry(name.as_str().to_ascii_lowercase())
                .and_modify(|old: &mut String| {
                    old.push(',');
                    old.push_str(v);
                })
                .or_insert_with(|| v.to_string());
        }
    }
    let method = parts.method.as_str().to_string();
    let classified = {
        let secrets = |name: &str| shared.secrets.get(name).cloned();
        let cx = aws_request::Context { region: &shared.region, account: &shared.account, secret_arn: &secrets };
        aws_request::classify(&method, &path, &headers, &body, &cx)
    };
    let service =
        headers.get("authorization").and_then(|a| a.split('/').nth(3)).map(str::to_string).unwrap_or_default();
    match classified {
        Err(e) => {
            let akid = headers
                .get("authorization")
                .and_then(|a| a.split("Credential=").nth(1))
                .and_then(|c| c.split('/').next())
                .unwrap_or("");
            let label = shared.principals.get(akid).map(|p| p.label.clone()).unwrap_or_else(|| "unknown".into());
            if shared.principals.get(akid).is_some_and(|p| p.policies.is_none()) {
                return forward(&shared, parts.method, &path, &parts.headers, body).await;
            }
            let call = Call {
                principal: label,
                operation: format!("{method} {path}"),
                action: String::new(),
                resource: String::new(),
                decision: "Unreadable".into(),
                error: Some(e.clone()),
                write_units: 0,
            };
            record(&shared, vec![call]);
            (StatusCode::BAD_REQUEST, format!("the rehearsal could not read this request: {e}")).into_response()
        }
        Ok(c) => {
            let principal = shared.principals.get(&c.access_key_id).cloned().unwrap_or(Principal {
                label: format!("unknown key {}", c.access_key_id),
                arn: String::new(),
                policies: Some(Vec::new()),
            });
            let (mut calls, decision) = match decide(&shared, &principal, &c.operation, &c.accesses).await {
                Ok(x) => x,
                Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("IAM evaluator: {e:#}")).into_response(),
            };
            if let Some(first) = calls.first_mut() {
                first.write_units = c.write_units;
            }
            let denied = calls
                .iter()
                .find(|call| call.refused())
                .map(|call| Access { action: call.action.clone(), resource: call.resource.clone() });
            record(&shared, calls);
            if let (false, Some(denied)) = (decision.allowed(), denied) {
                return access_denied(&service, &principal.arn, &denied);
            }
            let response = forward(&shared, parts.method, &path, &parts.headers, body).await;
            if response.status().as_u16() >= 400 {
                let (parts, body) = response.into_parts();
                let bytes = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
                let text: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
                if let Ok(mut e) = shared.errors.lock() {
                    e.push(format!("{} {} -> {}: {text}", principal.label, c.operation, parts.status.as_u16()));
                }
                return Response::from_parts(parts, Body::from(bytes));
            }
            response
        }
    }
}

async fn forward(
    shared: &Shared,
    method: axum::http::Method,
    path: &str,
    headers: &HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let url = format!("{}{}", shared.moto, path);
    let mut req = shared.client.request(method, url).body(body);
    for (name, value) in headers {
        // Host stays as signed; the client sets the length and its own connection headers.
        if matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding" | "expect") {
            continue;
        }
        req = req.header(name, value);
    }
    match req.send().await {
        Err(e) => (StatusCode::BAD_GATEWAY, format!("moto: {e}")).into_response(),
        Ok(resp) => {
            let status = resp.status();
            let mut out = HeaderMap::new();
            for (name, value) in resp.headers() {
                if matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding") {
                    continue;
                }
                out.append(name.clone(), value.clone());
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            *response.headers_mut() = out;
            response
        }
    }
}

/// `AccessDenied` as the service would answer it.
fn access_denied(service: &str, principal: &str, access: &Access) -> Response {
    let message = format!(
        "User: {principal} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action",
        access.action, access.resource, access.action
    );
    let (status, content_type, body) = match service {
        "dynamodb" | "secretsmanager" => (
            StatusCode::BAD_REQUEST,
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": "com.amazon.coral.service#AccessDeniedException", "Message": message})
                .to_string(),
        ),
        "sqs" => (
            StatusCode::FORBIDDEN,
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message})
                .to_string(),
        ),
        "s3" => (
            StatusCode::FORBIDDEN,
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
            ),
        ),
        _ => (
            StatusCode::FORBIDDEN,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>{message}</Message></Error></ErrorResponse>"
            ),
        ),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(HeaderName::from_static("content-type"), HeaderValue::from_static(content_type));
    if service == "sqs" {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-amzn-query-error"), HeaderValue::from_static("AccessDenied;Sender"));
    }
    response
}
