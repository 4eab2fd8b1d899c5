//! `bridge serve`, `bridge init`, `bridge config check`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use bridge_aws::{DynamoStore, QueueSettings, SqsQueue};
use bridge_domain::Config;
use bridge_domain::ports::JobKind;
use bridge_runtime::App;
use bridge_runtime::app::{SqsIngress, aws_config, build_ingress};
use bridge_runtime::ingress::WebhookRequest;
use bridge_runtime::settings::{IngressSettings, ProcessEnv, WorkerSettings};

/// Jobs this version can run.
const IMPLEMENTED: [JobKind; 1] = [JobKind::Escalate];

struct Shared {
    ingress: SqsIngress,
}

/// Runs ingress routes and workers until Ctrl-C / SIGTERM.
pub async fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let ingress_settings = IngressSettings::from_env(&ProcessEnv)?;
    let worker_settings = WorkerSettings::from_env(&ProcessEnv)?;
    let sdk = aws_config().await;
    let ingress = build_ingress(&ingress_settings, &sdk).await?;
    let app = Arc::new(App::build(&worker_settings, &sdk).await?);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for job in IMPLEMENTED {
        if app.queue.urls().contains_key(&job) {
            let app = app.clone();
            let stop = stop_rx.clone();
            workers.push(tokio::spawn(async move {
                bridge_runtime::poller::poll(app.as_ref(), &app.queue, job, &app.counters, stop)
                    .await;
            }));
        }
    }

    let shared = Arc::new(Shared { ingress });
    let router = Router::new()
        .route("/webhooks/intercom", any(intercom))
        .route("/webhooks/zendesk", any(zendesk))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("--listen {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "bridge serving");
    println!("bridge listening on http://{addr}");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn intercom(
    State(s): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = s
        .ingress
        .intercom(WebhookRequest {
            method: &method,
            headers: &headers,
            body: &body,
        })
        .await;
    (
        reply.status,
        [("content-type", "application/json")],
        reply.body,
    )
}

async fn zendesk(
    State(s): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = s
        .ingress
        .zendesk(WebhookRequest {
            method: &method,
            headers: &headers,
            body: &body,
        })
        .await;
    (
        reply.status,
        [("content-type", "application/json")],
        reply.body,
    )
}

/// Creates the table and queues.
pub async fn init() -> anyhow::Result<()> {
    let table = std::env::var("BRIDGE_TABLE").context("BRIDGE_TABLE: not set")?;
    let prefix = std::env::var("BRIDGE_QUEUE_PREFIX").context("BRIDGE_QUEUE_PREFIX: not set")?;
    let sdk = aws_config().await;
    let ddb = bridge_aws::sdk::dynamodb::Client::new(&sdk);
    DynamoStore::create_table(&ddb, &table)
        .await
        .with_context(|| format!("creating table {table}"))?;
    let sqs = bridge_aws::sdk::sqs::Client::new(&sdk);
    let urls = SqsQueue::create_queues(&sqs, &prefix, &QueueSettings::default())
        .await
        .context("creating queues")?;
    println!("table {table} ready");
    for (job, url) in urls {
        println!("queue {} ready: {}", job.as_str(), url.queue);
    }
    let _ = StatusCode::OK;
    Ok(())
}

/// Validates the configuration file.
pub fn check_config(file: Option<String>) -> anyhow::Result<()> {
    let path = match file {
        Some(f) => f,
        None => {
            std::env::var("BRIDGE_CONFIG").context("BRIDGE_CONFIG: not set (or pass --file)")?
        }
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let config = Config::from_yaml(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let rules = config.escalation.as_ref().map_or(0, |e| e.rules.len());
    println!("{path}: valid (escalation rules: {rules})");
    Ok(())
}
