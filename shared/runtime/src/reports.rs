//! Job 7's wiring, for the `csat-report` function and `bridge report csat`: the settings read
//! from the environment, the clients and the S3 adapter built, the configuration loaded. The
//! use case itself is `bridge_reports`.

use std::time::Duration;

use bridge_aws::S3Objects;
use bridge_reports::S3Sink;
use bridge_reports::sheets::{SHEETS_API_BASE, SheetsClient};
use secrecy::SecretString;
use url::Url;

pub use bridge_reports::{LiveReporter, ReportRequest, RunSummary, handle_scheduled};

use crate::reload::load_config;
use crate::settings::{ConfigSource, Env, IntercomAccess, SettingsError, ZendeskAccess, parse_http_url, required};

/// Environment of the `csat-report` function and `bridge report csat`.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Intercom's address and token.
    pub intercom: IntercomAccess,
    /// Zendesk's address and credentials.
    pub zendesk: ZendeskAccess,
    /// `BRIDGE_CONFIG`: path or `s3://bucket/key`.
    pub config: ConfigSource,
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
            bucket: env.get("BRIDGE_REPORTS_BUCKET"),
            google_key: env.get("GOOGLE_SERVICE_ACCOUNT_JSON").map(SecretString::from),
            sheets_api_base,
        })
    }
}

/// Builds the reporter from settings: loads and validates the configuration, builds the
/// vendor clients, the Sheets client (when `reporting.sheets` is set) and the S3 output (when
/// `BRIDGE_REPORTS_BUCKET` is).
pub async fn build(settings: &ReportSettings, sdk: &aws_config::SdkConfig) -> anyhow::Result<LiveReporter> {
    let config = load_config(&settings.config, sdk).await?;
    let reporting = config.reporting.clone().unwrap_or_default();
    let intercom = settings.intercom.client()?;
    let zendesk = settings.zendesk.client(Duration::from_secs(30))?;
    let sheets = match (&reporting.sheets, &settings.google_key) {
        (Some(_), Some(key)) => Some(SheetsClient::new(key, &settings.sheets_api_base)?),
        (Some(_), None) => anyhow::bail!("GOOGLE_SERVICE_ACCOUNT_JSON: not set (reporting.sheets is configured)"),
        (None, _) => None,
    };
    let s3 = settings.bucket.as_ref().map(|bucket| S3Sink::new(S3Objects::new(sdk), bucket));
    Ok(LiveReporter { intercom, zendesk, s3, sheets, config: reporting })
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
