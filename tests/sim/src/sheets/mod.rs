//! Google Sheets API v4 simulator (the part the CSAT report uses), with Google's OAuth token
//! endpoint for service accounts.
//!
//! - The simulator owns an RSA key pair and hands out a service-account JSON key
//!   ([`SheetsSim::service_account_json`]) whose `token_uri` points at it, as the Cloud console
//!   would. `POST /token` accepts `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
//!   with an RS256 assertion and checks the signature against that key, `iss`, `aud`, the
//!   `spreadsheets` scope and `iat`/`exp`; it answers `{access_token, expires_in, token_type}`
//!   or Google's `{"error": "invalid_grant", ...}`.
//! - `PUT /v4/spreadsheets/{id}/values/{range}?valueInputOption=RAW|USER_ENTERED` and
//!   `POST .../values/{range}:clear` need `Authorization: Bearer <issued token>` (401
//!   otherwise); `{range}` must be a named range defined with [`SheetsSim::add_named_range`]
//!   (400 "Unable to parse range" otherwise), and an update may not write beyond it (400, as
//!   the API refuses writes outside the requested range).
//! - State is inspected with [`SheetsSim::values`], [`SheetsSim::writes`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::common::lock;

/// The service account the simulator's key belongs to.
pub const CLIENT_EMAIL: &str = "csat-reporter@bridge-sim.iam.gserviceaccount.com";
const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";

/// A named range: its sheet grid size.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NamedRange {
    rows: usize,
    columns: usize,
}

#[derive(Debug, Default)]
struct Sheets {
    tokens: BTreeSet<String>,
    /// (spreadsheet, range) -> size.
    ranges: BTreeMap<(String, String), NamedRange>,
    /// (spreadsheet, range) -> current values (rows of cells).
    values: BTreeMap<(String, String), Vec<Vec<Value>>>,
    /// Every successful update: (spreadsheet, range, rows written).
    writes: Vec<(String, String, usize)>,
    /// Token requests refused.
    refused_tokens: usize,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<Sheets>,
    public_key: Vec<u8>,
    token_uri: String,
}

/// A running Sheets simulator; stops when dropped.
#[derive(Debug)]
pub struct SheetsSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    key_pem: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

fn google_error(status: StatusCode, message: &str) -> Response {
    let name = match status {
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        _ => "INVALID_ARGUMENT",
    };
    (status, axum::Json(json!({"error": {"code": status.as_u16(), "message": message, "status": name}})))
        .into_response()
}

impl SheetsSim {
    /// Generates a key pair and serves on `127.0.0.1:0`.
    pub async fn start() -> anyhow::Result<Self> {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key)
            .map_err(|_| anyhow::anyhow!("PKCS#8 encoding failed"))?;
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
        let key_pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(Sheets::default()),
            public_key: key.public_key().as_ref().to_vec(),
            token_uri: format!("http://{addr}/token"),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/v4/spreadsheets/{id}/values/{range}", put(update).post(clear))
            .with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "sheets simulator stopped");
            }
        });
        Ok(Self { shared, addr, key_pem, shutdown: Some(tx) })
    }

    /// `http://127.0.0.1:<port>`: the Sheets API base.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A service-account JSON key for this simulator (its `token_uri` is the simulator's).
    pub fn service_account_json(&self) -> String {
        json!({
            "type": "service_account", "project_id": "bridge-sim", "private_key_id": "sim-key-1",
            "private_key": self.key_pem, "client_email": CLIENT_EMAIL, "client_id": "1",
            "token_uri": self.shared.token_uri,
        })
        .to_string()
    }

    /// Defines a named range of `rows` x `columns` in a spreadsheet.
    pub fn add_named_range(&self, spreadsheet: &str, name: &str, rows: usize, columns: usize) {
        lock(&self.shared.state).ranges.insert((spreadsheet.into(), name.into()), NamedRange { rows, columns });
    }

    /// The range's values (rows of cells), empty when never written or cleared.
    pub fn values(&self, spreadsheet: &str, name: &str) -> Vec<Vec<Value>> {
        lock(&self.shared.state).values.get(&(spreadsheet.to_string(), name.to_string())).cloned().unwrap_or_default()
    }

    /// Successful updates so far: (spreadsheet, range, rows).
    pub fn writes(&self) -> Vec<(String, String, usize)> {
        lock(&self.shared.state).writes.clone()
    }

    /// Token requests refused so far.
    pub fn refused_tokens(&self) -> usize {
        lock(&self.shared.state).refused_tokens
    }
}

impl Drop for SheetsSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn check_assertion(shared: &Shared, assertion: &str) -> Result<(), String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else { return Err("malformed JWT".into()) };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| "bad base64url".to_string());
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| "header is not JSON")?;
    if header["alg"] != "RS256" {
        return Err("alg must be RS256".into());
    }
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &shared.public_key);
    let signed = format!("{}.{}", parts[0], parts[1]);
    public.verify(signed.as_bytes(), &decode(signature)?).map_err(|_| "Invalid JWT Signature.".to_string())?;
    let c: Value = serde_json::from_slice(&decode(claims)?).map_err(|_| "claims are not JSON")?;
    let now = chrono::Utc::now().timestamp();
    if c["iss"] != CLIENT_EMAIL {
        return Err("unknown iss".into());
    }
    if c["aud"] != shared.token_uri.as_str() {
        return Err("aud must be the token_uri".into());
    }
    if !c["scope"].as_str().unwrap_or_default().split(' ').any(|s| s == SCOPE) {
        return Err("scope must include spreadsheets".into());
    }
    let (iat, exp) = (c["iat"].as_i64().unwrap_or(0), c["exp"].as_i64().unwrap_or(0));
    if iat > now + 60 || exp <= now || exp - iat > 3600 {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe".into());
    }
    Ok(())
}

async fn token(State(sh): State<Arc<Shared>>, body: String) -> Response {
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let grant_ok = form.get("grant_type").map(String::as_str) == Some("urn:ietf:params:oauth:grant-type:jwt-bearer");
    let checked = if grant_ok {
        check_assertion(&sh, form.get("assertion").map(String::as_str).unwrap_or_default())
    } else {
        Err("unsupported grant_type".into())
    };
    match checked {
        Ok(()) => {
            let token = format!("ya29.sim-{}", uuid::Uuid::new_v4().simple());
            lock(&sh.state).tokens.insert(token.clone());
            axum::Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
        }
        Err(description) => {
            lock(&sh.state).refused_tokens += 1;
            (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant", "error_description": description})))
                .into_response()
        }
    }
}

fn authorised(sh: &Shared, headers: &HeaderMap) -> bool {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    token.is_some_and(|t| lock(&sh.state).tokens.contains(t))
}

async fn clear(
    State(sh): State<Arc<Shared>>,
    Path((id, range)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&sh, &headers) {
        return google_error(StatusCode::UNAUTHORIZED, "Request had invalid authentication credentials.");
    }
    let Some(name) = range.strip_suffix(":clear") else {
        return google_error(StatusCode::NOT_FOUND, "Unknown method");
    };
    let mut st = lock(&sh.state);
    let key = (id.clone(), name.to_string());
    if !st.ranges.contains_key(&key) {
        return google_error(StatusCode::BAD_REQUEST, &format!("Unable to parse range: {name}"));
    }
    st.values.remove(&key);
    axum::Json(json!({"spreadsheetId": id, "clearedRange": name})).into_response()
}

async fn update(
    State(sh): State<Arc<Shared>>,
    Path((id, range)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if !authorised(&sh, &headers) {
        return google_error(StatusCode::UNAUTHORIZED, "Request had invalid authentication credentials.");
    }
    if !matches!(q.get("valueInputOption").map(String::as_str), Some("RAW" | "USER_ENTERED")) {
        return google_error(StatusCode::BAD_REQUEST, "Invalid valueInputOption");
    }
    if body.get("range").and_then(Value::as_str).is_some_and(|r| r != range) {
        return google_error(StatusCode::BAD_REQUEST, "Requested range does not match the body's range");
    }
    let rows: Vec<Vec<Value>> = match serde_json::from_value(body.get("values").cloned().unwrap_or(json!([]))) {
        Ok(r) => r,
        Err(_) => return google_error(StatusCode::BAD_REQUEST, "Invalid values"),
    };
    if rows.iter().flatten().any(|c| c.is_object() || c.is_array()) {
        return google_error(StatusCode::BAD_REQUEST, "Invalid values: cells must be scalars");
    }
    let mut st = lock(&sh.state);
    let key = (id.clone(), range.clone());
    let Some(size) = st.ranges.get(&key).cloned() else {
        return google_error(StatusCode::BAD_REQUEST, &format!("Unable to parse range: {range}"));
    };
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.len() > size.rows || width > size.columns {
        return google_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "Requested writing within range [{range}], but tried writing {} rows x {width} columns",
                rows.len()
            ),
        );
    }
    let cells: usize = rows.iter().map(Vec::len).sum();
    let count = rows.len();
    st.values.insert(key, rows);
    st.writes.push((id.clone(), range.clone(), count));
    axum::Json(json!({
        "spreadsheetId": id, "updatedRange": range, "updatedRows": count,
        "updatedColumns": width, "updatedCells": cells,
    }))
    .into_response()
}
