//! `bridge`: the operator's command.

use std::process::ExitCode;

use bridge_domain::routing::JobKind;
use bridge_runtime::telemetry::CliLogs;
use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};

mod config_cmd;
mod init;
mod ops;
mod profiles;
mod reconcile;
mod report;
mod serve;
mod setup;

/// Results go to stdout; logs go to stderr.
#[derive(Debug, Parser)]
#[command(name = "bridge", version, about = "Intercom <-> Zendesk bridge")]
struct Cli {
    /// Log format on stderr: text on a terminal and JSON lines otherwise (auto), or as named.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Auto,
    Text,
    Json,
}

impl From<LogFormat> for CliLogs {
    fn from(f: LogFormat) -> Self {
        match f {
            LogFormat::Auto => CliLogs::Auto,
            LogFormat::Text => CliLogs::Text,
            LogFormat::Json => CliLogs::Json,
        }
    }
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
    /// Inspect and replay dead-lettered messages.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Conversation <-> ticket links.
    Links {
        #[command(subcommand)]
        action: LinksAction,
    },
    /// Check credentials, configuration and AWS resources; one line per check.
    Doctor {
        /// Print the checks as one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Vendor-side setup (idempotent).
    Setup {
        #[command(subcommand)]
        action: SetupAction,
    },
    /// Reports on demand (job 7).
    Report {
        #[command(subcommand)]
        action: report::ReportAction,
    },
    /// The scheduled repairs on demand: a job's sweep (lost webhooks, time-based rules), job 2's
    /// profile reconcile, or all of them.
    Reconcile {
        #[command(subcommand)]
        action: reconcile::ReconcileAction,
    },
    /// Bulk backfills (job 2), with a progress bar; resumable.
    Backfill {
        #[command(subcommand)]
        action: profiles::BackfillAction,
    },
    /// Print the shell completion script (e.g. `bridge completions bash > /etc/bash_completion.d/bridge`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum DlqAction {
    /// List dead letters with their job, ids and reason (no bodies).
    List {
        /// Only this job (`escalate`, `ticket-status`, ...).
        #[arg(long, value_parser = parse_job)]
        job: Option<JobKind>,
        /// Print the letters as one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Re-evaluate each dead letter against current state, show its plan, and replay it (asks
    /// first on a terminal; `--yes` to skip the question, needed without a terminal).
    Replay {
        /// Only this job.
        #[arg(long, value_parser = parse_job)]
        job: Option<JobKind>,
        /// Show the plans; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Replay without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SetupAction {
    /// Create or update the Zendesk webhook, store its signing secret in Secrets Manager and,
    /// with --triggers, create the triggers of the trigger-JSON variant.
    Zendesk(setup::ZendeskSetup),
}

#[derive(Debug, Subcommand)]
enum LinksAction {
    /// Print the link of a conversation or ticket and its history.
    Show {
        /// A conversation id or ticket id (`conversation:<id>` / `ticket:<id>` to be explicit).
        id: String,
        /// Print the link as one JSON document.
        #[arg(long)]
        json: bool,
    },
}

fn parse_job(s: &str) -> Result<JobKind, String> {
    JobKind::ALL.into_iter().find(|j| j.as_str() == s).ok_or_else(|| {
        let names: Vec<_> = JobKind::ALL.iter().map(|j| j.as_str()).collect();
        format!("unknown job {s:?}; one of {}", names.join(", "))
    })
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Parse and validate the YAML; exit non-zero naming the line and field on error.
    Check {
        /// The file (defaults to `BRIDGE_CONFIG`).
        #[arg(long)]
        file: Option<String>,
        /// Also check the profile mapping against both live field catalogs (worker environment).
        #[arg(long)]
        live: bool,
        /// Print the result as one JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    bridge_runtime::process::init_cli(cli.log_format.into());
    let result = match cli.command {
        Command::Serve { listen } => serve::run(listen).await,
        Command::Init => init::init().await,
        Command::Config { action: ConfigAction::Check { file, live: false, json } } => {
            config_cmd::check_config(file, json).await
        }
        Command::Config { action: ConfigAction::Check { file, live: true, json } } => {
            config_cmd::config_check_live(file, json).await
        }
        Command::Dlq { action: DlqAction::List { job, json } } => ops::dlq_list(job, json).await,
        Command::Dlq { action: DlqAction::Replay { job, dry_run, yes } } => ops::dlq_replay(job, dry_run, yes).await,
        Command::Links { action: LinksAction::Show { id, json } } => ops::links_show(&id, json).await,
        Command::Doctor { json } => ops::doctor(json).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "bridge", &mut std::io::stdout());
            Ok(())
        }
        Command::Setup { action: SetupAction::Zendesk(opts) } => setup::zendesk(opts).await,
        Command::Report { action } => report::run(action).await,
        Command::Reconcile { action } => reconcile::run(action).await,
        Command::Backfill { action } => profiles::backfill_cmd(action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bridge: {e:#}");
            ExitCode::FAILURE
        }
    }
}
