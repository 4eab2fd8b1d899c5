//! `bridge serve`: the ingress routes and the workers in one process, until Ctrl-C / SIGTERM.

use std::net::SocketAddr;

use anyhow::Context as _;
use bridge_runtime::App;
use bridge_runtime::app::{aws_config, build_ingress};
use bridge_runtime::local::LocalBridge;
use bridge_runtime::settings::{IngressSettings, ProcessEnv, WorkerSettings};

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
