//! `bridge`: the operator's command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod serve;

#[derive(Debug, Parser)]
#[command(name = "bridge", version, about = "Intercom <-> Zendesk bridge")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the webhook ingress, the workers and the schedules in one process.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Create the DynamoDB table (`BRIDGE_TABLE`) and the SQS queues (`BRIDGE_QUEUE_PREFIX`).
    Init,
    /// Validate the configuration file (`BRIDGE_CONFIG` or --file) and print a summary.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Parse and validate the YAML; exit non-zero naming the line and field on error.
    Check {
        /// The file (defaults to `BRIDGE_CONFIG`).
        #[arg(long)]
        file: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    bridge_runtime::telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { listen } => serve::run(listen).await,
        Command::Init => serve::init().await,
        Command::Config { action: ConfigAction::Check { file } } => serve::check_config(file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bridge: {e:#}");
            ExitCode::FAILURE
        }
    }
}
