//! The use case: collect from both vendors, build the report, write S3 (CSV + Parquet per day,
//! the dashboard), the Sheets named range of the period kind; plus the scheduler entry point
//! and the environment settings of the `csat-report` function and `bridge report csat`.

use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_s3::primitives::ByteStream;
use bridge_domain::csat::{
    DAILY_COLUMNS, Period, PeriodKind, RATING_COLUMNS, Report, ReportingConfig, build_report, dashboard_key,
    figure_cells, partition_keys, rating_cells, sheet_rows, to_csv,
};
use bridge_intercom::{AccessToken, IntercomClient, IntercomConfig};
use bridge_runtime::settings::{ConfigSource, Env, Secret};
use bridge_zendesk::{ZendeskClient, ZendeskConfig};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::collect::ReportSource;
use crate::sheets::{SHEETS_API_BASE, SheetsClient};
use crate::{dashboard, parquet_out};

/// Where the report goes on S3.
#[derive(Debug, Clone)]
pub struct S3Sink {
    /// The client (path-style, so moto works).
    pub client: aws_sdk_s3::Client,
    /// `BRIDGE_REPORTS_BUCKET`.
    pub bucket: String,
}

impl S3Sink {
    /// A sink over an SDK config (path-style addressing).
    pub fn new(sdk: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build();
        Self { client: aws_sdk_s3::Client::from_conf(conf), bucket: bucket.into() }
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .with_context(|| format!("writing s3://{}/{key}", self.bucket))?;
        Ok(())
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The dataset.
    pub report: Report,
    /// The dashboard HTML.
    pub html: String,
    /// S3 keys written (same keys for the same period: rewritten, never added to).
    pub s3_keys: Vec<String>,
    /// The Sheets range written, if any.
    pub sheets_range: Option<String>,
}

/// Job 7 wired to its adapters.
#[derive(Debug)]
pub struct Reporter<I, Z> {
    /// Intercom source.
    pub intercom: I,
    /// Zendesk source.
    pub zendesk: Z,
    /// S3 output (None: not written, e.g. the CLI without a bucket).
    pub s3: Option<S3Sink>,
    /// Sheets output (None: not written).
    pub sheets: Option<SheetsClient>,
    /// `reporting:` of the configuration.
    pub config: ReportingConfig,
}

impl<I: ReportSource + Sync, Z: ReportSource + Sync> Reporter<I, Z> {
    /// Computes the period's report and writes every configured output. The S3 objects and the
    /// Sheets range depend only on the period, so a re-run replaces what the previous run wrote.
    pub async fn run(&self, period: Period) -> anyhow::Result<RunSummary> {
        let page_size = self.config.page_size;
        let (ic, zd) =
            tokio::try_join!(self.intercom.collect(&period, page_size), self.zendesk.collect(&period, page_size))?;
        let ratings = ic.ratings.into_iter().chain(zd.ratings).collect();
        let items = ic.items.into_iter().chain(zd.items).collect();
        let report = build_report(period, ratings, items);
        let html = dashboard::render(&report, &self.config.title);
        let mut s3_keys = Vec::new();
        if let Some(s3) = &self.s3 {
            let prefix = &self.config.s3.prefix;
            for day in period.days() {
                let ratings = report.ratings_on(day);
                let daily = report.daily_on(day);
                let [ratings_csv, ratings_pq, daily_csv, daily_pq] = partition_keys(prefix, day);
                let rating_rows: Vec<Vec<String>> = ratings.iter().map(|r| rating_cells(r)).collect();
                let daily_rows: Vec<Vec<String>> =
                    daily.iter().map(|a| figure_cells(&a.day.to_string(), a.scope, &a.figures)).collect();
                s3.put(&ratings_csv, to_csv(&RATING_COLUMNS, &rating_rows).into_bytes(), "text/csv").await?;
                s3.put(&ratings_pq, parquet_out::ratings_parquet(&ratings)?, "application/vnd.apache.parquet").await?;
                s3.put(&daily_csv, to_csv(&DAILY_COLUMNS, &daily_rows).into_bytes(), "text/csv").await?;
                s3.put(&daily_pq, parquet_out::daily_parquet(&daily)?, "application/vnd.apache.parquet").await?;
                s3_keys.extend([ratings_csv, ratings_pq, daily_csv, daily_pq]);
            }
            let key = dashboard_key(prefix, &period);
            s3.put(&key, html.clone().into_bytes(), "text/html; charset=utf-8").await?;
            s3_keys.push(key);
        }
        let mut sheets_range = None;
        if let (Some(client), Some(target)) = (&self.sheets, &self.config.sheets)
            && let Some(range) = target.ranges.get(&period.kind)
        {
            client
                .replace_range(&target.spreadsheet_id, range, &sheet_rows(&report))
                .await
                .with_context(|| format!("writing the Sheets range {range}"))?;
            sheets_range = Some(range.clone());
        }
        let combined = report.total(bridge_domain::csat::Scope::Combined);
        tracing::info!(
            period = %period.label(),
            kind = period.kind.as_str(),
            ratings = report.ratings.len(),
            rated = combined.map(|f| f.rated),
            created = combined.map(|f| f.created),
            s3_objects = s3_keys.len(),
            sheets = sheets_range.is_some(),
            "csat report written"
        );
        Ok(RunSummary { report, html, s3_keys, sheets_range })
    }
}

/// The scheduler's input (EventBridge Scheduler `Input`): `{"period": "daily"|"weekly"}`, or
/// explicit dates `{"from": "2024-05-01", "to": "2024-05-07"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// Period kind relative to today.
    #[serde(default)]
    pub period: Option<PeriodKind>,
    /// Explicit first day.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Explicit last day.
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

impl ReportRequest {
    /// The period to report, relative to `today` (UTC).
    pub fn resolve(&self, today: NaiveDate) -> anyhow::Result<Period> {
        match (self.period, self.from, self.to) {
            (None, Some(from), Some(to)) | (Some(PeriodKind::Custom), Some(from), Some(to)) => {
                Ok(Period::custom(from, to)?)
            }
            (Some(kind @ (PeriodKind::Daily | PeriodKind::Weekly)), None, None) => Ok(Period::previous(kind, today)),
            _ => anyhow::bail!("expected {{\"period\": \"daily\"|\"weekly\"}} or {{\"from\": DATE, \"to\": DATE}}"),
        }
    }
}

/// The function's handler: parses the scheduler input, runs the report, answers a summary.
pub async fn handle_scheduled<I: ReportSource + Sync, Z: ReportSource + Sync>(
    reporter: &Reporter<I, Z>,
    input: serde_json::Value,
    today: NaiveDate,
) -> anyhow::Result<serde_json::Value> {
    let request: ReportRequest = serde_json::from_value(input).context("scheduler input")?;
    let period = request.resolve(today)?;
    let summary = reporter.run(period).await?;
    Ok(serde_json::json!({
        "period": {"kind": period.kind.as_str(), "from": period.from, "to": period.to},
        "ratings": summary.report.ratings.len(),
        "s3_objects": summary.s3_keys.len(),
        "sheets_range": summary.sheets_range,
    }))
}

/// Environment of the `csat-report` function and `bridge report csat`.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// `INTERCOM_API_BASE` (default `https://api.intercom.io`).
    pub intercom_api_base: String,
    /// `INTERCOM_ACCESS_TOKEN`.
    pub intercom_access_token: Secret,
    /// `ZENDESK_BASE_URL`.
    pub zendesk_base_url: String,
    /// Zendesk credentials.
    pub zendesk_auth: bridge_runtime::settings::ZendeskAuth,
    /// `BRIDGE_CONFIG`: path or `s3://bucket/key`.
    pub config: ConfigSource,
    /// `BRIDGE_REPORTS_BUCKET` (optional: no S3 output without it).
    pub bucket: Option<String>,
    /// `GOOGLE_SERVICE_ACCOUNT_JSON`: the key (needed when `reporting.sheets` is set).
    pub google_key: Option<Secret>,
    /// `SHEETS_API_BASE` (default `https://sheets.googleapis.com`).
    pub sheets_api_base: String,
}

fn need(env: &impl Env, name: &str) -> anyhow::Result<String> {
    env.get(name).with_context(|| format!("{name}: not set"))
}

fn http_url(name: &str, value: String) -> anyhow::Result<String> {
    anyhow::ensure!(value.starts_with("https://") || value.starts_with("http://"), "{name}: must be an http(s) URL");
    Ok(value.trim_end_matches('/').to_string())
}

impl ReportSettings {
    /// Reads the settings.
    pub fn from_env(env: &impl Env) -> anyhow::Result<Self> {
        use bridge_runtime::settings::ZendeskAuth;
        let zendesk_auth = match (env.get("ZENDESK_OAUTH_TOKEN"), env.get("ZENDESK_EMAIL")) {
            (Some(t), _) => ZendeskAuth::OAuth(Secret::new(t)),
            (None, Some(email)) => ZendeskAuth::ApiToken { email, token: Secret::new(need(env, "ZENDESK_API_TOKEN")?) },
            (None, None) => anyhow::bail!(
                "ZENDESK_EMAIL: not set (set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN)"
            ),
        };
        let raw = need(env, "BRIDGE_CONFIG")?;
        let config = match raw.strip_prefix("s3://").and_then(|r| r.split_once('/')) {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                ConfigSource::S3 { bucket: bucket.into(), key: key.into() }
            }
            Some(_) => anyhow::bail!("BRIDGE_CONFIG: not s3://bucket/key"),
            None => ConfigSource::File(raw),
        };
        Ok(Self {
            intercom_api_base: http_url(
                "INTERCOM_API_BASE",
                env.get("INTERCOM_API_BASE").unwrap_or_else(|| "https://api.intercom.io".into()),
            )?,
            intercom_access_token: Secret::new(need(env, "INTERCOM_ACCESS_TOKEN")?),
            zendesk_base_url: http_url("ZENDESK_BASE_URL", need(env, "ZENDESK_BASE_URL")?)?,
            zendesk_auth,
            config,
            bucket: env.get("BRIDGE_REPORTS_BUCKET"),
            google_key: env.get("GOOGLE_SERVICE_ACCOUNT_JSON").map(Secret::new),
            sheets_api_base: http_url(
                "SHEETS_API_BASE",
                env.get("SHEETS_API_BASE").unwrap_or_else(|| SHEETS_API_BASE.into()),
            )?,
        })
    }
}

/// The reporter with the real clients.
pub type LiveReporter = Reporter<IntercomClient, ZendeskClient>;

/// Builds the reporter from settings (loads and validates the configuration).
pub async fn build(settings: &ReportSettings, sdk: &aws_config::SdkConfig) -> anyhow::Result<LiveReporter> {
    let config = bridge_runtime::app::load_config(&settings.config, sdk).await?;
    let reporting = config.reporting.clone().unwrap_or_default();
    let intercom = IntercomClient::new(
        IntercomConfig::new(&settings.intercom_api_base, AccessToken::new(settings.intercom_access_token.expose()))
            .context("INTERCOM_API_BASE")?,
    )
    .context("building the Intercom client")?;
    let auth = match &settings.zendesk_auth {
        bridge_runtime::settings::ZendeskAuth::ApiToken { email, token } => {
            bridge_zendesk::Auth::ApiToken { email: email.clone(), token: token.expose().into() }
        }
        bridge_runtime::settings::ZendeskAuth::OAuth(token) => {
            bridge_zendesk::Auth::OAuth { token: token.expose().into() }
        }
    };
    let zendesk = ZendeskClient::new(ZendeskConfig {
        base_url: settings.zendesk_base_url.clone(),
        auth,
        timeout: Duration::from_secs(30),
    })
    .context("ZENDESK_BASE_URL")?;
    let sheets = match (&reporting.sheets, &settings.google_key) {
        (Some(_), Some(key)) => Some(SheetsClient::new(key.expose(), &settings.sheets_api_base)?),
        (Some(_), None) => anyhow::bail!("GOOGLE_SERVICE_ACCOUNT_JSON: not set (reporting.sheets is configured)"),
        (None, _) => None,
    };
    let s3 = settings.bucket.as_ref().map(|b| S3Sink::new(sdk, b));
    Ok(Reporter { intercom, zendesk, s3, sheets, config: reporting })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn scheduler_inputs_resolve_to_periods() {
        let parse = |v: serde_json::Value| serde_json::from_value::<ReportRequest>(v).unwrap();
        let today = d("2024-05-08");
        let daily = parse(serde_json::json!({"period": "daily"})).resolve(today).unwrap();
        assert_eq!((daily.from, daily.to), (d("2024-05-07"), d("2024-05-07")));
        let weekly = parse(serde_json::json!({"period": "weekly"})).resolve(today).unwrap();
        assert_eq!((weekly.kind, weekly.from), (PeriodKind::Weekly, d("2024-04-29")));
        let custom = parse(serde_json::json!({"from": "2024-05-01", "to": "2024-05-03"})).resolve(today).unwrap();
        assert_eq!((custom.kind, custom.to), (PeriodKind::Custom, d("2024-05-03")));
        assert!(parse(serde_json::json!({"from": "2024-05-01"})).resolve(today).is_err());
        assert!(serde_json::from_value::<ReportRequest>(serde_json::json!({"perod": "daily"})).is_err());
    }

    #[test]
    fn settings_name_what_is_missing() {
        let mut env: BTreeMap<String, String> = [
            ("INTERCOM_ACCESS_TOKEN", "t"),
            ("ZENDESK_BASE_URL", "https://acme.zendesk.com"),
            ("ZENDESK_EMAIL", "bot@acme.test"),
            ("ZENDESK_API_TOKEN", "z"),
            ("BRIDGE_CONFIG", "s3://b/bridge.yaml"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = ReportSettings::from_env(&env).unwrap();
        assert_eq!(s.sheets_api_base, SHEETS_API_BASE);
        assert_eq!(s.bucket, None);
        env.remove("ZENDESK_API_TOKEN");
        assert!(ReportSettings::from_env(&env).unwrap_err().to_string().contains("ZENDESK_API_TOKEN"));
    }
}
