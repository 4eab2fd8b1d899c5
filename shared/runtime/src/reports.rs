//! Job 7's wiring, for the `csat-report` function and `bridge report csat`: the settings read
//! from the environment, the clients and the S3 adapter built once, and the configuration taken
//! at each run from the same reloading [`ConfigHolder`] the workers use. The use case itself is
//! `bridge_reports`.

use std::sync::Arc;
use std::time::Duration;

use bridge_aws::S3Objects;
use bridge_domain::csat::{Period, ReportingConfig};
use bridge_intercom::IntercomClient;
use bridge_reports::collect::ReportSource;
use bridge_reports::sheets::{SHEETS_API_BASE, SheetsClient};
use bridge_reports::{ReportSink, Reporter, S3Sink};
use bridge_zendesk::ZendeskClient;
use chrono::NaiveDate;
use secrecy::SecretString;
use url::Url;

pub use bridge_reports::{ReportRequest, RunSummary};

use crate::metrics::{Counters, Flush};
use crate::reload::{ConfigHolder, ConfigOrigin, load_config};
use crate::settings::{
    ConfigSource, Env, IntercomAccess, SettingsError, ZendeskAccess, config_ttl, parse_http_url, required,
};

/// Environment of the `csat-report` function and `bridge report csat`.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Intercom's address and token.
    pub intercom: IntercomAccess,
    /// Zendesk's address and credentials.
    pub zendesk: ZendeskAccess,
    /// `BRIDGE_CONFIG`: path or `s3://bucket/key`.
    pub config: ConfigSource,
    /// `BRIDGE_CONFIG_TTL_SECS` (default 60): how long a loaded configuration is used before a
    /// run reads it again (a warm function sees a changed `reporting:` at its next run).
    pub config_ttl: Duration,
    /// `BRIDGE_REPORTS_BUCKET` (optional: no S3 output without it).
    pub bucket: Option<String>,
    /// `GOOGLE_SERVICE_ACCOUNT_JSON`: the key (needed when `reporting.sheets` is set).
    pub google_key: Option<SecretString>,
    /// `SHEETS_API_BASE` (default `https://sheets.googleapis.com`).
    pub sheets_api_base: Url,
}

impl ReportSettings {
    /// Reads the settings; a missing or malformed variable is named.
    pub fn from_env(env: &impl Env) -> Result<Self, SettingsError> {
        let zendesk = ZendeskAccess::from_env(env)?;
        let config = ConfigSource::parse(&required(env, "BRIDGE_CONFIG")?)?;
        let sheets_api_base = match env.get("SHEETS_API_BASE") {
            Some(v) => parse_http_url("SHEETS_API_BASE", &v)?,
            None => parse_http_url("SHEETS_API_BASE", SHEETS_API_BASE)?,
        };
        Ok(Self {
            intercom: IntercomAccess::from_env(env)?,
            zendesk,
            config,
            config_ttl: config_ttl(env)?,
            bucket: env.get("BRIDGE_REPORTS_BUCKET"),
            google_key: env.get("GOOGLE_SERVICE_ACCOUNT_JSON").map(SecretString::from),
            sheets_api_base,
        })
    }
}

/// Job 7 as the `csat-report` function and `bridge report csat` run it: the use case and its
/// adapters built once, the configuration taken at each run from a [`ConfigHolder`] (read
/// again once its time to live has passed, the last good one kept when a new one does not
/// load), like [`App::config`](crate::App::config) for the workers.
#[derive(Debug)]
pub struct CsatReporter<I = IntercomClient, Z = ZendeskClient, W = S3Sink> {
    /// The use case with its adapters.
    pub reporter: Reporter<I, Z, W>,
    /// Counters (`ConfigReloadFailed`), written after each scheduled run.
    pub counters: Counters,
    holder: Arc<ConfigHolder>,
}

/// The reporter with the real clients and the S3 output.
pub type LiveReporter = CsatReporter<IntercomClient, ZendeskClient, S3Sink>;

impl<I: ReportSource + Sync, Z: ReportSource + Sync, W: ReportSink> CsatReporter<I, Z, W> {
    /// `reporter` run under the configuration `holder` gives at each run.
    pub fn new(reporter: Reporter<I, Z, W>, holder: Arc<ConfigHolder>, counters: Counters) -> Self {
        Self { reporter, counters, holder }
    }

    /// The `reporting:` section for the next run (the configuration read again when its time
    /// to live has passed; the defaults when the section is absent).
    pub async fn reporting(&self) -> ReportingConfig {
        self.holder.refresh(&self.counters).await.reporting.clone().unwrap_or_default()
    }

    /// Reports `period` under the configuration of this run.
    pub async fn run(&self, period: Period) -> anyhow::Result<RunSummary> {
        let config = self.reporting().await;
        self.reporter.run(&config, period).await
    }

    /// The function's handler: the scheduler input run under the configuration of this run
    /// ([`bridge_reports::handle_scheduled`]); the run's metrics are written at its end.
    pub async fn handle_scheduled(
        &self,
        input: serde_json::Value,
        today: NaiveDate,
    ) -> anyhow::Result<serde_json::Value> {
        let config = self.reporting().await;
        let answer = bridge_reports::handle_scheduled(&self.reporter, &config, input, today).await;
        self.counters.flush();
        answer
    }
}

/// Builds the reporter from settings: loads and validates the configuration (read again after
/// `BRIDGE_CONFIG_TTL_SECS`), builds the vendor clients, the Sheets client (when
/// `GOOGLE_SERVICE_ACCOUNT_JSON` is set; required when `reporting.sheets` is) and the S3 output
/// (when `BRIDGE_REPORTS_BUCKET` is).
pub async fn build(settings: &ReportSettings, sdk: &aws_config::SdkConfig) -> anyhow::Result<LiveReporter> {
    let config = load_config(&settings.config, sdk).await?;
    let intercom = settings.intercom.client()?;
    let zendesk = settings.zendesk.client(Duration::from_secs(30))?;
    // Built whenever the key is there, so a spreadsheet added to the file later can be written.
    let sheets = match &settings.google_key {
        Some(key) => Some(SheetsClient::new(key, &settings.sheets_api_base)?),
        None => None,
    };
    let wants_sheets = config.reporting.as_ref().is_some_and(|r| r.sheets.is_some());
    anyhow::ensure!(
        !wants_sheets || sheets.is_some(),
        "GOOGLE_SERVICE_ACCOUNT_JSON: not set (reporting.sheets is configured)"
    );
    let s3 = settings.bucket.as_ref().map(|bucket| S3Sink::new(S3Objects::new(sdk), bucket));
    let origin = ConfigOrigin { source: settings.config.clone(), sdk: sdk.clone() };
    let holder = Arc::new(ConfigHolder::new(config, Some(origin), settings.config_ttl));
    let reporter = Reporter { intercom, zendesk, s3, sheets };
    Ok(CsatReporter::new(reporter, holder, Counters::emitting(Flush::PerRun)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;
    use crate::settings::tests::{SECRETS, assert_no_secret};

    fn env() -> BTreeMap<String, String> {
        [
            ("INTERCOM_ACCESS_TOKEN", "t"),
            ("ZENDESK_BASE_URL", "https://acme.zendesk.com"),
            ("ZENDESK_EMAIL", "bot@acme.test"),
            ("ZENDESK_API_TOKEN", "z"),
            ("BRIDGE_CONFIG", "s3://b/bridge.yaml"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn settings_name_what_is_missing() {
        let mut env = env();
        let s = ReportSettings::from_env(&env).unwrap();
        assert_eq!(s.sheets_api_base, Url::parse(SHEETS_API_BASE).unwrap());
        assert_eq!(s.bucket, None);
        assert_eq!(s.config_ttl, Duration::from_secs(60), "BRIDGE_CONFIG_TTL_SECS, as for the workers");
        assert_eq!(s.config, ConfigSource::S3 { bucket: "b".into(), key: "bridge.yaml".into() });
        env.remove("ZENDESK_API_TOKEN");
        assert!(ReportSettings::from_env(&env).unwrap_err().to_string().contains("ZENDESK_API_TOKEN"));
    }

    #[test]
    fn malformed_urls_are_named() {
        for name in ["SHEETS_API_BASE", "INTERCOM_API_BASE", "ZENDESK_BASE_URL"] {
            let mut env = env();
            env.insert(name.into(), "not a url".into());
            assert_eq!(ReportSettings::from_env(&env).unwrap_err().variable, name);
        }
        let mut env = env();
        env.insert("BRIDGE_CONFIG".into(), "s3://bucket-only".into());
        assert_eq!(ReportSettings::from_env(&env).unwrap_err().variable, "BRIDGE_CONFIG");
    }

    #[test]
    fn secrets_do_not_print() {
        let mut env = env();
        env.extend(SECRETS.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env.remove("ZENDESK_OAUTH_TOKEN");
        let s = ReportSettings::from_env(&env).unwrap();
        assert!(s.google_key.is_some());
        assert_no_secret(&format!("{s:?}"));
        assert_no_secret(&format!("{s:#?}"));
    }
}
