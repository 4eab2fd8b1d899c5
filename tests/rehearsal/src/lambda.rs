//! A local Lambda service: each function's bootstrap runs as its own processes ("instances"),
//! each with its own Runtime API endpoint (`AWS_LAMBDA_RUNTIME_API`) on loopback, exactly the
//! environment the rehearsal gives it, and the function's timeout enforced.
//!
//! An invocation takes an idle instance or starts a new one (a cold start: the process must reach
//! its first `GET /runtime/invocation/next` within Lambda's 10-second init limit, or its
//! `/runtime/init/error` and last log lines are reported). At most `max_instances` run at once
//! per function. A timeout or a crash ends the instance, as in Lambda.
//!
//! Logs are collected per function as CloudWatch would keep them: with `LogFormat: JSON` and an
//! `ApplicationLogLevel`, JSON lines below that level are dropped (a line without a level counts
//! as INFO).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Lambda's limit on a function's init phase.
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// Log lines kept per function.
const LOG_LINES: usize = 5000;

/// What to run for one function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// Logical id in the template (`EscalateFunction`).
    pub logical_id: String,
    /// Physical name (`<stack>-escalate`).
    pub name: String,
    /// ARN.
    pub arn: String,
    /// The bootstrap binary.
    pub binary: PathBuf,
    /// The task root (`/var/task`): the working directory.
    pub task_root: PathBuf,
    /// The whole environment of the process (nothing is inherited).
    pub env: BTreeMap<String, String>,
    /// The function's timeout.
    pub timeout: Duration,
    /// Most instances at once.
    pub max_instances: usize,
    /// Application log level of `LoggingConfig` (`INFO`, `WARN`, ...), when logs are JSON.
    pub log_level: Option<String>,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function returned this payload.
    Ok(Vec<u8>),
    /// The function reported an error (`/invocation/{id}/error`).
    FunctionError(String),
    /// The instance did not start (init error, exit or the 10-second init limit).
    InitFailed(String),
    /// The instance exited during the invocation.
    Crashed(String),
    /// The function ran past its timeout; the instance was stopped.
    TimedOut,
}

impl Outcome {
    /// The payload as JSON, or an error describing the failure.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        match self {
            Outcome::Ok(bytes) => serde_json::from_slice(bytes).context("the function returned invalid JSON"),
            other => anyhow::bail!("invocation failed: {other:?}"),
        }
    }
}

struct Invocation {
    request_id: String,
    payload: Vec<u8>,
    deadline_ms: u64,
    trace_id: String,
    done: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct ApiState {
    next: tokio::sync::Mutex<Option<mpsc::Receiver<Invocation>>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
    ready: tokio::sync::Notify,
    is_ready: std::sync::atomic::AtomicBool,
    arn: String,
}

struct Instance {
    child: Child,
    send: mpsc::Sender<Invocation>,
    api: Arc<ApiState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
        let _ = self.child.start_kill();
    }
}

/// Invocation counts of one function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Invocations.
    pub invocations: u64,
    /// Cold starts (instances started).
    pub cold_starts: u64,
    /// Invocations that did not return a payload.
    pub failures: u64,
}

/// One function's instances.
pub struct Pool {
    spec: FunctionSpec,
    idle: Mutex<Vec<Instance>>,
    slots: Semaphore,
    logs: Arc<Mutex<VecDeque<String>>>,
    invocations: AtomicU64,
    cold_starts: AtomicU64,
    failures: AtomicU64,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("function", &self.spec.logical_id).finish()
    }
}

impl Pool {
    /// A pool for `spec`; no process runs until the first invocation.
    pub fn new(spec: FunctionSpec) -> Arc<Self> {
        Arc::new(Self {
            slots: Semaphore::new(spec.max_instances.max(1)),
            spec,
            idle: Mutex::new(Vec::new()),
            logs: Arc::new(Mutex::new(VecDeque::new())),
            invocations: AtomicU64::new(0),
            cold_starts: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        })
    }

    /// The function's spec.
    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    /// Invokes the function with `payload` (synchronously: waits for its answer).
    pub async fn invoke(&self, payload: &[u8], trace_id: Option<&str>) -> Outcome {
        let Ok(_slot) = self.slots.acquire().await else {
            return Outcome::InitFailed("the function is shut down".into());
        };
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let outcome = self.invoke_in_slot(payload, trace_id).await;
        if !matches!(outcome, Outcome::Ok(_)) {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    }

    async fn invoke_in_slot(&self, payload: &[u8], trace_id: Option<&str>) -> Outcome {
        let idle = self.idle.lock().ok().and_then(|mut i| i.pop());
        let mut instance = match idle {
            Some(i) => i,
            None => match self.start_instance().await {
                Ok(i) => i,
                Err(reason) => return Outcome::InitFailed(format!("{reason}\n{}", self.log_tail(20))),
            },
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let deadline = SystemTime::now() + self.spec.timeout;
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        let (done, answer) = oneshot::channel();
        let trace_id = trace_id.map(str::to_string).unwrap_or_else(new_trace_id);
        let invocation = Invocation { request_id, payload: payload.to_vec(), deadline_ms, trace_id, done };
        if instance.send.send(invocation).await.is_err() {
            return Outcome::Crashed(format!("the instance stopped\n{}", self.log_tail(20)));
        }
        let outcome = tokio::select! {
            answer = answer => answer.unwrap_or_else(|_| Outcome::Crashed("no answer".into())),
            status = instance.child.wait() => {
                Outcome::Crashed(format!("the process exited ({status:?}) during the invocation\n{}", self.log_tail(20)))
            }
            _ = tokio::time::sleep(self.spec.timeout) => Outcome::TimedOut,
        };
        let keep = matches!(outcome, Outcome::Ok(_) | Outcome::FunctionError(_));
        if keep && let Ok(mut idle) = self.idle.lock() {
            idle.push(instance);
        }
        outcome
    }

    async fn start_instance(&self) -> Result<Instance, String> {
        self.cold_starts.fetch_add(1, Ordering::Relaxed);
        let api = Arc::new(ApiState { arn: self.spec.arn.clone(), ..ApiState::default() });
        let (send, next) = mpsc::channel(1);
        *api.next.lock().await = Some(next);
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("runtime API port: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let app = runtime_api(api.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut env = self.spec.env.clone();
        env.insert("AWS_LAMBDA_RUNTIME_API".into(), addr.to_string());
        env.insert(
            "AWS_LAMBDA_LOG_STREAM_NAME".into(),
            format!("rehearsal/[$LATEST]{}", uuid::Uuid::new_v4().simple()),
        );
        let mut child = Command::new(&self.spec.binary)
            .env_clear()
            .envs(&env)
            .current_dir(&self.spec.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{} cannot start {}: {e}", self.spec.logical_id, self.spec.binary.display()))?;
        let level = self.spec.log_level.as_deref().map(level_rank);
        let mut collectors = Vec::new();
        if let Some(out) = child.stdout.take() {
            collectors.push(collect(out, self.logs.clone(), level));
        }
        if let Some(err) = child.stderr.take() {
            collectors.push(collect(err, self.logs.clone(), level));
        }
        let ready = async {
            if !api.is_ready.load(Ordering::SeqCst) {
                api.ready.notified().await;
            }
        };
        tokio::select! {
            _ = ready => {}
            status = child.wait() => {
                // The exit can be seen before the last lines are read (under load): read the
                // pipes to their end, so the failure shows what the process said.
                let _ = tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(collectors)).await;
                let init = api.init_error.lock().ok().and_then(|e| e.clone()).unwrap_or_default();
                server.abort();
                return Err(format!("{} exited during init ({status:?}) {init}", self.spec.logical_id));
            }
            _ = tokio::time::sleep(INIT_LIMIT) => {
                server.abort();
                return Err(format!("{} did not finish init within {}s", self.spec.logical_id, INIT_LIMIT.as_secs()));
            }
        }
        Ok(Instance { child, send, api, server })
    }

    /// The last `n` log lines of the function (all instances), metric documents left out.
    pub fn log_tail(&self, n: usize) -> String {
        let lines: Vec<String> = self
            .logs
            .lock()
            .map(|l| l.iter().filter(|line| !line.contains("\"_aws\"")).cloned().collect())
            .unwrap_or_default();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Every log line kept (as CloudWatch would have them).
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    /// Invocation counts.
    pub fn counts(&self) -> Counts {
        Counts {
            invocations: self.invocations.load(Ordering::Relaxed),
            cold_starts: self.cold_starts.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }

    /// Stops every idle instance and refuses new invocations.
    pub fn shutdown(&self) {
        self.slots.close();
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }

    /// Init errors the instances reported through the Runtime API.
    pub fn init_errors(&self) -> Vec<String> {
        self.idle
            .lock()
            .map(|i| i.iter().filter_map(|x| x.api.init_error.lock().ok().and_then(|e| e.clone())).collect())
            .unwrap_or_default()
    }
}

fn new_trace_id() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=0", &id[..24], &id[..16])
}

fn level_rank(level: &str) -> u8 {
    match level.to_ascii_uppercase().as_str() {
        "TRACE" => 0,
        "DEBUG" => 1,
        "INFO" => 2,
        "WARN" | "WARNING" => 3,
        "ERROR" => 4,
        "FATAL" => 5,
        _ => 2,
    }
}

/// Keeps a process's output lines; JSON lines below `min_level` are dropped as Lambda's
/// application log-level filter does.
fn collect<R>(pipe: R, logs: Arc<Mutex<VecDeque<String>>>, min_level: Option<u8>) -> tokio::task::JoinHandle<()>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    let echo = std::env::var_os("REHEARSAL_ECHO_LOGS").is_some();
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(min) = min_level
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
            {
                let level = v.get("level").and_then(|l| l.as_str()).map(level_rank).unwrap_or(2);
                if level < min {
                    continue;
                }
            }
            if echo {
                eprintln!("{line}");
            }
            if let Ok(mut l) = logs.lock() {
                if l.len() == LOG_LINES {
                    l.pop_front();
                }
                l.push_back(line);
            }
        }
    })
}

fn runtime_api(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(state)
}

async fn next(State(api): State<Arc<ApiState>>) -> Response {
    if !api.is_ready.swap(true, Ordering::SeqCst) {
        api.ready.notify_waiters();
        api.ready.notify_one();
    }
    let mut guard = api.next.lock().await;
    let Some(receiver) = guard.as_mut() else {
        return StatusCode::GONE.into_response();
    };
    let Some(inv) = receiver.recv().await else {
        return StatusCode::GONE.into_response();
    };
    drop(guard);
    if let Ok(mut p) = api.pending.lock() {
        p.insert(inv.request_id.clone(), inv.done);
    }
    let mut headers = HeaderMap::new();
    let mut put = |k: &'static str, v: &str| {
        if let Ok(v) = v.parse() {
            headers.insert(k, v);
        }
    };
    put("lambda-runtime-aws-request-id", &inv.request_id);
    put("lambda-runtime-deadline-ms", &inv.deadline_ms.to_string());
    put("lambda-runtime-invoked-function-arn", &api.arn);
    put("lambda-runtime-trace-id", &inv.trace_id);
    put("content-type", "application/json");
    (StatusCode::OK, headers, inv.payload).into_response()
}

fn settle(api: &ApiState, id: &str, outcome: Outcome) -> StatusCode {
    match api.pending.lock().ok().and_then(|mut p| p.remove(id)) {
        Some(done) => {
            let _ = done.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn respond(State(api): State<Arc<ApiState>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    settle(&api, &id, Outcome::Ok(body.to_vec()))
}

async fn fail(State(api): State<Arc<ApiState>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    settle(&api, &id, Outcome::FunctionError(String::from_utf8_lossy(&body).into_owned()))
}

async fn init_error(State(api): State<Arc<ApiState>>, body: Bytes) -> StatusCode {
    if let Ok(mut e) = api.init_error.lock() {
        *e = Some(String::from_utf8_lossy(&body).into_owned());
    }
    StatusCode::ACCEPTED
}
