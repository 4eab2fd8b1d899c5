//! Tracing setup, level from `RUST_LOG` (default `info`).
//!
//! - The Lambdas and `bridge serve`: JSON lines with ids (no bodies, no personal data) on
//!   stdout ([`init`]); CloudWatch keeps them.
//! - The `bridge` command ([`init_cli`]): logs on stderr, so its results on stdout stay clean
//!   for scripts; human-readable text on a terminal, JSON lines otherwise or when asked.
//!
//! Metrics never go through here (`metrics`): no log level can drop them.
//!
//! `RUST_LOG` holds comma-separated `level` and `target=level` directives (`info`,
//! `warn,bridge_jobs=debug`), read by [`Targets`]: the same syntax as `EnvFilter` without its
//! span and field filters, and without the regex engine those need in every bootstrap.

use std::io::IsTerminal as _;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The filter `RUST_LOG` asks for, or `info` when it is unset or unreadable (the error says
/// which; it is logged once the subscriber is installed).
pub fn filter_from(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let default = || Targets::new().with_default(tracing::Level::INFO);
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        None => (default(), None),
        Some(value) => match value.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(e) => (
                default(),
                Some(format!("RUST_LOG is not a list of level or target=level directives ({e}); logging at info")),
            ),
        },
    }
}

fn filter() -> (Targets, Option<String>) {
    filter_from(std::env::var("RUST_LOG").ok().as_deref())
}

/// Installs the global subscriber once; later calls are no-ops (tests call it repeatedly).
/// The subscriber is [`lambda_subscriber`] on stdout, filtered by `RUST_LOG` (default `info`).
pub fn init() {
    let (filter, unreadable) = filter();
    if lambda_subscriber(filter, std::io::stdout).try_init().is_ok()
        && let Some(why) = unreadable
    {
        tracing::warn!("{why}");
    }
}

/// The subscriber of the Lambdas and `bridge serve`: JSON lines on `writer`. Each line carries
/// its spans once (`spans`: the Lambda invocation's request id, then the job's ids), not also
/// the innermost one again (`span`), and no module path: CloudWatch bills every byte. The
/// ingress benchmark installs this same subscriber over /dev/null.
pub fn lambda_subscriber<W>(filter: Targets, writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        // `fmt` alone stops at INFO; `filter` decides.
        .with_max_level(LevelFilter::TRACE)
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .with_writer(writer)
        .finish()
        .with(filter)
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
    let (filter, unreadable) = filter();
    let builder = tracing_subscriber::fmt().with_max_level(LevelFilter::TRACE).with_writer(std::io::stderr);
    let installed = match format.json(terminal) {
        true => builder.json().with_current_span(true).finish().with(filter).try_init(),
        false => builder.with_ansi(terminal).with_target(false).finish().with(filter).try_init(),
    };
    if installed.is_ok()
        && let Some(why) = unreadable
    {
        tracing::warn!("{why}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_directives_set_the_levels_and_a_bad_value_falls_back_to_info() {
        use tracing::Level;
        use tracing::level_filters::LevelFilter;
        let deployed = "info,aws_config=warn,aws_smithy_runtime=warn,hyper_util=warn,rustls=warn";
        let (targets, error) = filter_from(Some(deployed));
        assert!(error.is_none());
        assert!(targets.would_enable("bridge_runtime::driver", &Level::INFO));
        assert!(!targets.would_enable("bridge_runtime::driver", &Level::DEBUG));
        assert!(!targets.would_enable("aws_smithy_runtime::client", &Level::INFO));
        assert!(targets.would_enable("aws_smithy_runtime::client", &Level::WARN));

        let (targets, error) = filter_from(Some("warn,bridge_jobs=debug"));
        assert!(error.is_none());
        assert!(targets.would_enable("bridge_jobs::escalate", &Level::DEBUG));
        assert!(!targets.would_enable("bridge_runtime", &Level::INFO));

        let (targets, error) = filter_from(Some("debug"));
        assert!(error.is_none());
        assert!(targets.would_enable("aws_smithy_runtime::client::orchestrator", &Level::DEBUG));
        assert!(!targets.would_enable("aws_smithy_runtime::client::orchestrator", &Level::TRACE));

        let (targets, error) = filter_from(None);
        assert!(
            error.is_none() && targets.would_enable("any", &Level::INFO) && !targets.would_enable("any", &Level::DEBUG)
        );

        let (targets, error) = filter_from(Some("info,bridge=loud"));
        assert!(error.is_some_and(|e| e.contains("RUST_LOG")), "the reason names the variable");
        assert_eq!(targets.default_level(), Some(LevelFilter::INFO));
    }

    #[test]
    fn the_lambda_subscriber_writes_what_rust_log_enables_and_nothing_else() {
        let lines = crate::testing::LogLines::default();
        let (filter, _) = filter_from(Some("warn,bridge_runtime=debug"));
        let subscriber = lambda_subscriber(filter, lines.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "bridge_runtime::driver", "kept at debug");
            tracing::trace!(target: "bridge_runtime::driver", "dropped at trace");
            tracing::info!(target: "aws_smithy_runtime", "dropped at info");
            tracing::warn!(target: "aws_smithy_runtime", "kept at warn");
        });
        let text = lines.text();
        let messages: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["fields"]["message"].to_string())
            .collect();
        assert_eq!(messages, ["\"kept at debug\"", "\"kept at warn\""], "{text}");
    }

    #[test]
    fn auto_logs_are_text_on_a_terminal_and_json_elsewhere() {
        assert!(!CliLogs::Auto.json(true));
        assert!(CliLogs::Auto.json(false));
        assert!(CliLogs::Json.json(true));
        assert!(!CliLogs::Text.json(false));
    }
}
