//! `bridge serve`, `bridge init`, `bridge config check`.

use std::net::SocketAddr;

use anyhow::Context as _;
use bridge_aws::{DynamoStore, QueueSettings, SqsQueue};
use bridge_domain::Config;
use bridge_runtime::App;
use bridge_runtime::app::{aws_config, build_ingress, load_config};
use bridge_runtime::local::LocalBridge;
use bridge_runtime::settings::{ConfigSource, IngressSettings, ProcessEnv, WorkerSettings};

/// Runs ingress routes and workers until Ctrl-C / SIGTERM.
pub async fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let ingress_settings = IngressSettings::from_env(&ProcessEnv)?;
    let worker_settings = WorkerSettings::from_env(&ProcessEnv)?;
    let sdk = aws_config().await;
    let ingress = build_ingress(&ingress_settings, &sdk).await?;
    let app = App::build(&worker_settings, &sdk).await?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("--listen {listen}"))?;
    let bridge = LocalBridge::start(listener, ingress, app)?.with_sweeps();
    tracing::info!(url = %bridge.url(), "bridge serving");
    println!("bridge listening on {}", bridge.url());
    shutdown_signal().await;
    bridge.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Creates the table and queues.
pub async fn init() -> anyhow::Result<()> {
    let table = std::env::var("BRIDGE_TABLE").context("BRIDGE_TABLE: not set")?;
    let prefix = std::env::var("BRIDGE_QUEUE_PREFIX").context("BRIDGE_QUEUE_PREFIX: not set")?;
    let sdk = aws_config().await;
    let ddb = bridge_aws::sdk::dynamodb::Client::new(&sdk);
    DynamoStore::create_table(&ddb, &table).await.with_context(|| format!("creating table {table}"))?;
    let sqs = bridge_aws::sdk::sqs::Client::new(&sdk);
    let urls = SqsQueue::create_queues(&sqs, &prefix, &QueueSettings::default()).await.context("creating queues")?;
    println!("table {table} ready");
    for (job, url) in urls {
        println!("queue {} ready: {}", job.as_str(), url.queue);
    }
    Ok(())
}

/// Reads and validates the configuration named by `--file`, else `BRIDGE_CONFIG` (a file or
/// `s3://bucket/key`); answers where it came from and the configuration.
pub async fn read_config(file: Option<String>) -> anyhow::Result<(String, Config)> {
    let raw = match file {
        Some(f) => f,
        None => std::env::var("BRIDGE_CONFIG").context("BRIDGE_CONFIG: not set (or pass --file)")?,
    };
    let source = ConfigSource::parse(&raw)?;
    let config = load_config(&source, &aws_config().await).await?;
    Ok((raw, config))
}

/// Validates the configuration file; with `json`, the verdict as one JSON document on stdout
/// (`{"file", "valid", "escalation_rules"}` or `{"file", "valid": false, "error"}`).
pub async fn check_config(file: Option<String>, json: bool) -> anyhow::Result<()> {
    let origin = file.clone().or_else(|| std::env::var("BRIDGE_CONFIG").ok());
    let (origin, config) = match read_config(file).await {
        Ok(read) => read,
        Err(e) if json => {
            println!("{}", serde_json::json!({ "file": origin, "valid": false, "error": format!("{e:#}") }));
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let rules = config.escalation.as_ref().map_or(0, |e| e.rules.len());
    match json {
        true => println!("{}", serde_json::json!({ "file": origin, "valid": true, "escalation_rules": rules })),
        false => println!("{origin}: valid (escalation rules: {rules})"),
    }
    Ok(())
}
