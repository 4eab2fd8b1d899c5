//! Everything in one process: the ingress routes over HTTP and a poller per job. Used by
//! `bridge serve`, the demo and the end-to-end tests, through the same handler code as the
//! Lambdas.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use bridge_domain::ports::JobKind;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::App;
use crate::app::SqsIngress;
use crate::ingress::WebhookRequest;

/// Jobs this version can run.
pub const IMPLEMENTED_JOBS: [JobKind; 5] =
    [JobKind::Escalate, JobKind::TicketIntake, JobKind::TicketStatus, JobKind::TagSync, JobKind::ProfileSync];

/// A running local bridge.
#[derive(Debug)]
pub struct LocalBridge {
    addr: std::net::SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The ingress (for its counters).
    pub ingress: Arc<SqsIngress>,
    /// The workers' app (for its counters and clients).
    pub app: Arc<App>,
}

impl LocalBridge {
    /// Serves the ingress on `listener` and polls every implemented job's queue.
    pub fn start(listener: TcpListener, ingress: SqsIngress, app: App) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        // One configuration for both: no event is queued for a job it leaves unconfigured.
        let ingress = Arc::new(ingress.with_config(app.config_holder()));
        let app = Arc::new(app);
        let mut tasks = Vec::new();
        for job in IMPLEMENTED_JOBS {
            if app.queue.urls().contains_key(&job) {
                let app = app.clone();
                let stop = stop_rx.clone();
                tasks.push(tokio::spawn(async move {
                    crate::poller::poll(app.as_ref(), &app.queue, job, &app.counters, stop).await;
                }));
            }
        }
        let router = Router::new()
            .route("/webhooks/intercom", any(intercom))
            .route("/webhooks/zendesk", any(zendesk))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(ingress.clone());
        let mut http_stop = stop_rx;
        tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = http_stop.changed().await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::error!(error = %e, "http server failed");
            }
        }));
        Ok(Self { addr, stop, tasks, ingress, app })
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and the workers and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn intercom(
    State(ingress): State<Arc<SqsIngress>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = ingress.intercom(WebhookRequest { method: &method, headers: &headers, body: &body }).await;
    (reply.status, [("content-type", "application/json")], reply.body)
}

async fn zendesk(
    State(ingress): State<Arc<SqsIngress>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = ingress.zendesk(WebhookRequest { method: &method, headers: &headers, body: &body }).await;
    (reply.status, [("content-type", "application/json")], reply.body)
}
