//! Builds the concrete adapters once per process and hands them to the jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bridge_aws::{DynamoStore, QueueUrls, SqsQueue};
use bridge_domain::Config;
use bridge_domain::model::Timestamp;
use bridge_domain::ports::Clock;
use bridge_domain::routing::JobKind;
use bridge_intercom::IntercomClient;
use bridge_jobs::Ports;
use bridge_zendesk::ZendeskClient;

use crate::driver::{DeadLetter, MessageControl};
use crate::ingress::Ingress;
use crate::metrics::{Counters, Flush};
pub use crate::reload::load_config;
use crate::reload::{ConfigHolder, ConfigOrigin};
use crate::settings::{Env, IngressSettings, QueueTargets, SettingsError, WorkerSettings};

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp())
    }
}

/// Loads the AWS SDK configuration from the environment (`AWS_ENDPOINT_URL` for emulators),
/// with the bridge's settings ([`bridge_aws::sdk_settings`]).
pub async fn aws_config() -> aws_config::SdkConfig {
    bridge_aws::sdk_settings(aws_config::defaults(aws_config::BehaviorVersion::latest())).load().await
}

/// The AWS SDK configuration of a Lambda function ([`bridge_aws::lambda_sdk_config`]): the
/// region (`AWS_REGION`, or `AWS_DEFAULT_REGION`) and role credentials Lambda puts in the
/// environment, and `AWS_ENDPOINT_URL` when set. Unlike [`aws_config`] it reads no profile
/// files and asks no metadata service, so the functions do not link that code.
///
/// # Errors
/// A [`SettingsError`] naming `AWS_REGION` when neither region variable is set.
pub fn lambda_aws_config(env: &impl Env) -> Result<aws_config::SdkConfig, SettingsError> {
    let region = env.get("AWS_REGION").or_else(|| env.get("AWS_DEFAULT_REGION")).ok_or_else(|| {
        SettingsError::new("AWS_REGION", "not set (Lambda sets it; set it to run a function elsewhere)")
    })?;
    Ok(bridge_aws::lambda_sdk_config(region, env.get("AWS_ENDPOINT_URL")))
}

/// The dead-letter queue of a queue, by the naming convention `<name>.fifo` ->
/// `<name>-dlq.fifo` (the SAM template and `bridge init` follow it).
pub fn dlq_url_for(queue_url: &str) -> String {
    match queue_url.strip_suffix(".fifo") {
        Some(stem) => format!("{stem}-dlq.fifo"),
        None => format!("{queue_url}-dlq"),
    }
}

/// Resolves the queue URLs: from the environment, or by looking up the existing
/// `<prefix>-<job>.fifo` queues. Never creates or changes a queue (`bridge init` does that, for
/// local development only).
pub async fn resolve_queues(
    targets: &QueueTargets,
    sqs: &bridge_aws::sdk::sqs::Client,
) -> anyhow::Result<BTreeMap<JobKind, QueueUrls>> {
    match targets {
        QueueTargets::Urls(urls) => Ok(urls
            .iter()
            .map(|(job, url)| (*job, QueueUrls { queue: url.clone(), dlq: Some(dlq_url_for(url)) }))
            .collect()),
        QueueTargets::Prefix(prefix) => SqsQueue::find_queues(sqs, prefix)
            .await
            .with_context(|| format!("BRIDGE_QUEUE_PREFIX={prefix}: cannot find the queues {prefix}-<job>.fifo")),
    }
}

/// Everything a worker needs, built once.
#[derive(Debug)]
pub struct App {
    /// The store.
    pub store: DynamoStore,
    /// Intercom.
    pub intercom: IntercomClient,
    /// Zendesk.
    pub zendesk: ZendeskClient,
    /// Queues (dead letters, delays, local polling).
    pub queue: SqsQueue,
    /// Counters.
    pub counters: Counters,
    clock: SystemClock,
    worker_id: String,
    holder: Arc<ConfigHolder>,
}

impl App {
    /// Builds the adapters from settings.
    pub async fn build(settings: &WorkerSettings, sdk: &aws_config::SdkConfig) -> anyhow::Result<Self> {
        let config = load_config(&settings.config, sdk).await?;
        let intercom = settings.intercom.client()?;
        let zendesk = settings.zendesk.client(Duration::from_secs(10))?;
        let sqs = bridge_aws::sdk::sqs::Client::new(sdk);
        let queue = SqsQueue::new(sqs.clone(), resolve_queues(&settings.queues, &sqs).await?);
        let store = DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(sdk), settings.table.clone());
        let worker_id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let origin = ConfigOrigin { source: settings.config.clone(), sdk: sdk.clone() };
        let holder = Arc::new(ConfigHolder::new(config.clone(), Some(origin), settings.config_ttl));
        Ok(Self {
            store,
            intercom,
            zendesk,
            queue,
            counters: Counters::emitting(Flush::PerRun),
            clock: SystemClock,
            worker_id,
            holder,
        })
    }

    /// Builds from an already parsed configuration and clients (tests, `bridge serve`).
    pub fn from_parts(
        store: DynamoStore,
        intercom: IntercomClient,
        zendesk: ZendeskClient,
        queue: SqsQueue,
        config: Config,
        counters: Counters,
    ) -> Self {
        let worker_id = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let holder = Arc::new(ConfigHolder::fixed(config));
        Self { store, intercom, zendesk, queue, counters, clock: SystemClock, worker_id, holder }
    }

    /// Reloads the configuration from `source` after `ttl` (tests and `bridge serve`).
    pub fn with_reload(mut self, origin: ConfigOrigin, ttl: Duration) -> Self {
        self.holder = Arc::new(ConfigHolder::new((*self.holder.current()).clone(), Some(origin), ttl));
        self
    }

    /// The configuration for the next batch or scheduled run: read again when its time to live
    /// has passed (`BRIDGE_CONFIG_TTL_SECS`). Every path takes it here, once per run.
    pub async fn config(&self) -> Arc<Config> {
        self.holder.refresh(&self.counters).await
    }

    /// The ports of one batch or scheduled run over `config` (from [`App::config`]).
    pub fn ports<'a>(&'a self, config: &'a Config) -> Ports<'a, DynamoStore, IntercomClient, ZendeskClient> {
        Ports {
            store: &self.store,
            intercom: &self.intercom,
            zendesk: &self.zendesk,
            clock: &self.clock,
            config,
            worker: &self.worker_id,
        }
    }

    /// Ends a batch or scheduled run: counts its vendor calls by status and writes the run's
    /// metrics (one EMF document per set of dimension values, [`Counters::flush`]).
    pub fn after_run(&self) {
        self.counters.vendor_calls("intercom", &self.intercom.take_status_counts());
        self.counters.vendor_calls("zendesk", &self.zendesk.take_status_counts());
        self.counters.flush();
    }

    /// The configuration the workers use, shared with an ingress in the same process.
    pub fn config_holder(&self) -> Arc<ConfigHolder> {
        self.holder.clone()
    }

    /// Runs one Lambda SQS batch for `job` with the configuration refreshed first (never
    /// within the batch).
    pub async fn handle_sqs_batch(
        &self,
        job: JobKind,
        event: aws_lambda_events::event::sqs::SqsEvent,
    ) -> aws_lambda_events::event::sqs::SqsBatchResponse {
        let config = self.config().await;
        let ports = self.ports(&config);
        let response = crate::driver::handle_sqs_batch(&ports, &self.queue, job, event, &self.counters).await;
        self.after_run();
        response
    }
}

impl MessageControl for SqsQueue {
    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), String> {
        let body = serde_json::to_string(letter).map_err(|e| e.to_string())?;
        let group = serde_json::from_str::<bridge_domain::event::QueuedEvent>(&letter.body)
            .map(|e| e.entity.to_string())
            .unwrap_or_else(|_| "unreadable".to_string());
        self.send_dead_letter(letter.job, &group, &body).await.map_err(|e| e.to_string())
    }
    async fn delay(&self, job: JobKind, receipt_handle: &str, delay: Duration) -> Result<(), String> {
        let secs = u32::try_from(delay.as_secs().max(1)).unwrap_or(u32::MAX);
        self.change_visibility(job, receipt_handle, secs).await.map_err(|e| e.to_string())
    }
}

/// The ingress over SQS.
pub type SqsIngress = Ingress<SqsQueue>;

/// Builds the ingress from settings.
pub async fn build_ingress(settings: &IngressSettings, sdk: &aws_config::SdkConfig) -> anyhow::Result<SqsIngress> {
    let sqs = bridge_aws::sdk::sqs::Client::new(sdk);
    let urls = resolve_queues(&settings.queues, &sqs).await?;
    let jobs: BTreeSet<JobKind> = urls.keys().copied().collect();
    let holder = match &settings.config {
        Some(source) => {
            let config = load_config(source, sdk).await?;
            let origin = ConfigOrigin { source: source.clone(), sdk: sdk.clone() };
            Some(Arc::new(ConfigHolder::new(config, Some(origin), settings.config_ttl)))
        }
        None => None,
    };
    let ingress = Ingress::new(
        SqsQueue::new(sqs, urls),
        settings.intercom_client_secret.clone(),
        settings.zendesk_webhook_secret.clone(),
        jobs,
        settings.max_body_bytes,
        settings.max_age,
        // Flushed once per request by the function's handler (`Ingress::after_request`).
        Counters::emitting(Flush::PerRun),
    )
    .with_zendesk_trigger_secret(settings.zendesk_trigger_webhook_secret.clone());
    Ok(match holder {
        Some(holder) => ingress.with_config(holder),
        None => ingress,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_lambda_reads_its_region_and_endpoint_from_the_environment() {
        let sdk =
            lambda_aws_config(&env(&[("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]))
                .expect("a configuration");
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(sdk.credentials_provider().is_some() && sdk.http_client().is_some());

        let sdk = lambda_aws_config(&env(&[("AWS_DEFAULT_REGION", "us-east-2")])).expect("a configuration");
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("us-east-2"));
        assert_eq!(sdk.endpoint_url(), None);
    }

    #[test]
    fn a_lambda_without_a_region_is_told_which_variable_is_missing() {
        let error = lambda_aws_config(&env(&[])).expect_err("no region");
        assert!(error.to_string().contains("AWS_REGION"), "{error}");
    }
}
