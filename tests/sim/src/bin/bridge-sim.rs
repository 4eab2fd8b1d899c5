//! `bridge-sim`: the Intercom and Zendesk simulators as one process, for the demo and manual
//! runs. Each has an admin API under `/__admin` to seed data and act as a human.

use std::net::SocketAddr;

use bridge_sim::intercom::{IntercomSim, IntercomSimOptions};
use bridge_sim::zendesk::{ZendeskSim, ZendeskSimOptions};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "bridge-sim", about = "Intercom and Zendesk API simulators")]
struct Args {
    /// Intercom simulator address.
    #[arg(long, default_value = "127.0.0.1:8701")]
    intercom: SocketAddr,
    /// Zendesk simulator address.
    #[arg(long, default_value = "127.0.0.1:8702")]
    zendesk: SocketAddr,
    /// Where Intercom webhooks go (the bridge's /webhooks/intercom).
    #[arg(long)]
    intercom_webhooks: Option<String>,
    /// Where Zendesk webhooks go (the bridge's /webhooks/zendesk).
    #[arg(long)]
    zendesk_webhooks: Option<String>,
    /// Intercom client secret (signs webhooks).
    #[arg(long, default_value = "sim-client-secret")]
    intercom_client_secret: String,
    /// Intercom access token accepted by the API.
    #[arg(long, default_value = "sim-access-token")]
    intercom_access_token: String,
    /// Zendesk API user email.
    #[arg(long, default_value = "bridge@example.com")]
    zendesk_email: String,
    /// Zendesk API token.
    #[arg(long, default_value = "sim-api-token")]
    zendesk_api_token: String,
    /// Zendesk webhook signing secret.
    #[arg(long, default_value = "sim-webhook-secret")]
    zendesk_webhook_secret: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_max_level(tracing::Level::WARN).init();
    let args = Args::parse();
    let intercom = IntercomSim::start_on(
        args.intercom,
        IntercomSimOptions {
            client_secret: args.intercom_client_secret,
            access_token: args.intercom_access_token,
            webhook_target: args.intercom_webhooks,
            ..IntercomSimOptions::default()
        },
    )
    .await?;
    let zendesk_listener = tokio::net::TcpListener::bind(args.zendesk).await?;
    let zendesk = ZendeskSim::serve_on(
        zendesk_listener,
        ZendeskSimOptions {
            email: args.zendesk_email,
            api_token: args.zendesk_api_token,
            webhook_secret: args.zendesk_webhook_secret,
            webhook_target: args.zendesk_webhooks,
            ..ZendeskSimOptions::default()
        },
    )
    .await?;
    println!("intercom simulator on {}", intercom.base_url());
    println!("zendesk simulator on {}", zendesk.base_url());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(intercom);
    drop(zendesk);
    Ok(())
}
