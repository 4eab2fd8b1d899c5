//! The configuration with a short cache: read at cold start, read again between batches once
//! its time to live has passed, so a change applies without a redeploy. A batch (or scheduled
//! run) takes the configuration once and sees it from start to end; a new file that cannot be read or does
//! not validate keeps the last good configuration, is logged and counted
//! (`ConfigReloadFailed`).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use bridge_domain::Config;

use crate::metrics::Counters;
use crate::settings::ConfigSource;

/// Reads and validates the YAML configuration from a file or S3 (through
/// [`S3Objects`](bridge_aws::S3Objects)).
pub async fn load_config(source: &ConfigSource, sdk: &aws_config::SdkConfig) -> anyhow::Result<Config> {
    match source {
        ConfigSource::File(paths) => {
            let mut files = Vec::new();
            for path in config_files(paths)? {
                let text =
                    std::fs::read_to_string(&path).with_context(|| format!("BRIDGE_CONFIG: cannot read {path}"))?;
                files.push((path, text));
            }
            match files.as_slice() {
                // One file: its errors name it, their line and column.
                [(path, _)] => Config::from_yaml_files(&files).map_err(|e| anyhow::anyhow!("{path}: {e}")),
                // Several: a clash names both files and lines.
                _ => Config::from_yaml_files(&files).map_err(|e| anyhow::anyhow!("{e}")),
            }
        }
        ConfigSource::S3 { bucket, key } => {
            let text = bridge_aws::S3Objects::new(sdk).get_text(bucket, key).await.context("BRIDGE_CONFIG")?;
            let origin = bridge_aws::object_uri(bucket, key);
            Config::from_yaml(&text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))
        }
    }
}

/// The files `BRIDGE_CONFIG` names: comma-separated paths, each a file or a folder (whose
/// `*.yaml` / `*.yml` files are taken in name order).
fn config_files(paths: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for path in paths.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let meta = std::fs::metadata(path).with_context(|| format!("BRIDGE_CONFIG: cannot read {path}"))?;
        if !meta.is_dir() {
            out.push(path.to_string());
            continue;
        }
        let mut found: Vec<String> = std::fs::read_dir(path)
            .with_context(|| format!("BRIDGE_CONFIG: cannot list {path}"))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .map(|p| p.display().to_string())
            .collect();
        found.sort();
        anyhow::ensure!(!found.is_empty(), "BRIDGE_CONFIG: {path} holds no .yaml file");
        out.extend(found);
    }
    anyhow::ensure!(!out.is_empty(), "BRIDGE_CONFIG: no file named");
    Ok(out)
}

/// Where a configuration is read from again.
#[derive(Debug, Clone)]
pub struct ConfigOrigin {
    /// The file or S3 object.
    pub source: ConfigSource,
    /// The AWS configuration (for S3).
    pub sdk: aws_config::SdkConfig,
}

#[derive(Debug)]
struct Loaded {
    config: Arc<Config>,
    at: Instant,
}

/// The current configuration and when it was last read.
#[derive(Debug)]
pub struct ConfigHolder {
    origin: Option<ConfigOrigin>,
    ttl: Duration,
    state: RwLock<Loaded>,
}

impl ConfigHolder {
    /// A holder that reads `origin` again once `ttl` has passed; `origin: None` never reloads.
    pub fn new(initial: Config, origin: Option<ConfigOrigin>, ttl: Duration) -> Self {
        Self { origin, ttl, state: RwLock::new(Loaded { config: Arc::new(initial), at: Instant::now() }) }
    }

    /// A holder that never reloads (tests, short-lived commands).
    pub fn fixed(config: Config) -> Self {
        Self::new(config, None, Duration::MAX)
    }

    /// The configuration as last loaded.
    pub fn current(&self) -> Arc<Config> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).config.clone()
    }

    /// The configuration for the next batch: read again when the time to live has passed. On a
    /// failed read the last good configuration stays (and is tried again after another TTL).
    pub async fn refresh(&self, counters: &Counters) -> Arc<Config> {
        let Some(origin) = &self.origin else { return self.current() };
        let stale = self.state.read().unwrap_or_else(|p| p.into_inner()).at.elapsed() >= self.ttl;
        if !stale {
            return self.current();
        }
        let result = load_config(&origin.source, &origin.sdk).await;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.at = Instant::now();
        match result {
            Ok(config) => {
                if *state.config != config {
                    tracing::info!("configuration reloaded with changes");
                }
                state.config = Arc::new(config);
            }
            Err(e) => {
                counters.incr("ConfigReloadFailed", ("Component", "worker"));
                tracing::error!(error = %format!("{e:#}"), "configuration reload failed; keeping the last good one");
            }
        }
        state.config.clone()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    use bridge_domain::event::QueuedEvent;
    use bridge_domain::routing::JobKind;
    use bridge_jobs::Ports;
    use bridge_jobs::fakes::TestPorts;

    use super::*;
    use crate::driver::handle_sqs_batch;

    use crate::testing::NoControl;

    const BASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/config/escalate-conversation-to-zendesk.yaml");

    fn temp_file() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("bridge-reload-{}.yaml", uuid::Uuid::new_v4().simple()))
    }

    fn origin(path: &std::path::Path) -> ConfigOrigin {
        ConfigOrigin {
            source: ConfigSource::File(path.display().to_string()),
            sdk: aws_config::SdkConfig::builder().build(),
        }
    }

    fn batch(n: u32) -> SqsEvent {
        let event = QueuedEvent {
            vendor: bridge_domain::event::Vendor::Intercom,
            topic: "conversation.user.replied".into(),
            delivery_id: format!("d-{n}"),
            entity: "conversation:1".parse().unwrap(),
            received_at: bridge_domain::model::Timestamp(0),
            payload: serde_json::json!({}),
            trace_id: None,
            actors: Vec::new(),
        };
        let mut m = SqsMessage::default();
        m.message_id = Some(format!("m-{n}"));
        m.body = Some(serde_json::to_string(&event).unwrap());
        let mut e = SqsEvent::default();
        e.records = vec![m];
        e
    }

    /// A shadowed job acknowledges with its plan; a live one runs (and here skips: the fake
    /// store knows no conversation). The `shadow:` list is the rule that changes.
    async fn run_batch(ports: &TestPorts, holder: &ConfigHolder, counters: &Counters, n: u32) -> bool {
        let config = holder.refresh(counters).await;
        let shadowed = config.shadow.contains(&JobKind::Escalate);
        let p = Ports { config: &config, ..ports.ports() };
        let resp = handle_sqs_batch(&p, &NoControl, JobKind::Escalate, batch(n), counters).await;
        assert!(resp.batch_item_failures.is_empty() || !shadowed);
        shadowed
    }

    #[tokio::test]
    async fn a_changed_file_applies_at_the_next_batch_and_a_broken_one_keeps_the_last_good() {
        let path = temp_file();
        let base = std::fs::read_to_string(BASE).unwrap();
        std::fs::write(&path, &base).unwrap();
        let initial = Config::from_yaml(&base).unwrap();
        assert!(!initial.shadow.contains(&JobKind::Escalate));
        let holder = ConfigHolder::new(initial, Some(origin(&path)), Duration::ZERO);
        let counters = Counters::default();
        let ports = TestPorts::new(&base);

        assert!(!run_batch(&ports, &holder, &counters, 1).await, "batch 1 runs live");

        std::fs::write(&path, format!("{base}\nshadow: [escalate]\n")).unwrap();
        assert!(run_batch(&ports, &holder, &counters, 2).await, "batch 2 sees the new rule");
        assert_eq!(counters.get("ShadowPlans", ("Job", "escalate")), 1);

        std::fs::write(&path, "this: is: not: valid").unwrap();
        assert!(run_batch(&ports, &holder, &counters, 3).await, "a broken file keeps the last good config");
        assert_eq!(counters.get("ConfigReloadFailed", ("Component", "worker")), 1);
        assert_eq!(counters.get("ShadowPlans", ("Job", "escalate")), 2);
    }

    #[tokio::test]
    async fn within_the_ttl_the_file_is_not_read_again() {
        let path = temp_file();
        let base = std::fs::read_to_string(BASE).unwrap();
        std::fs::write(&path, &base).unwrap();
        let holder = ConfigHolder::new(Config::from_yaml(&base).unwrap(), Some(origin(&path)), Duration::from_secs(60));
        std::fs::write(&path, format!("{base}\nshadow: [escalate]\n")).unwrap();
        let counters = Counters::default();
        assert!(!holder.refresh(&counters).await.shadow.contains(&JobKind::Escalate));
    }
}
