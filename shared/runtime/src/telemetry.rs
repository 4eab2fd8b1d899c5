//! Tracing setup, level from `RUST_LOG` (default `info`).
//!
//! - The Lambdas and `bridge serve`: JSON lines with ids (no bodies, no personal data) on
//!   stdout ([`init`]); CloudWatch keeps them.
//! - The `bridge` command ([`init_cli`]): logs on stderr, so its results on stdout stay clean
//!   for scripts; human-readable text on a terminal, JSON lines otherwise or when asked.
//!
//! Metrics never go through here (`metrics`): no log level can drop them.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the global subscriber once; later calls are no-ops (tests call it repeatedly).
/// The subscriber is [`lambda_subscriber`] on stdout, filtered by `RUST_LOG` (default `info`).
pub fn init() {
    let _ = lambda_subscriber(filter(), std::io::stdout).try_init();
}

/// The subscriber of the Lambdas and `bridge serve`: JSON lines on `writer`. Each line carries
/// its spans once (`spans`: the Lambda invocation's request id, then the job's ids), not also
/// the innermost one again (`span`), and no module path: CloudWatch bills every byte. The
/// ingress benchmark installs this same subscriber over /dev/null.
pub fn lambda_subscriber<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .with_writer(writer)
        .finish()
}

/// How the `bridge` command writes its logs on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CliLogs {
    /// Text on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

impl CliLogs {
    /// Whether the logs are JSON, given whether stderr is a terminal.
    pub fn json(self, stderr_is_terminal: bool) -> bool {
        match self {
            CliLogs::Auto => !stderr_is_terminal,
            CliLogs::Text => false,
            CliLogs::Json => true,
        }
    }
}

/// The `bridge` command's subscriber: logs on stderr, as `format` says.
pub fn init_cli(format: CliLogs) {
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr);
    let _ = match format.json(terminal) {
        true => builder.json().with_current_span(true).try_init(),
        false => builder.with_ansi(terminal).with_target(false).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_logs_are_text_on_a_terminal_and_json_elsewhere() {
        assert!(!CliLogs::Auto.json(true));
        assert!(CliLogs::Auto.json(false));
        assert!(CliLogs::Json.json(true));
        assert!(!CliLogs::Text.json(false));
    }
}
