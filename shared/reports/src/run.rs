//! The use case: collect from both vendors, build the report, write the files (CSV + Parquet
//! per day, the dashboard) through a [`ReportSink`] and the Sheets named range of the period
//! kind; plus the scheduler entry point. The `reporting:` section is an argument of each run
//! (like `Ports.config` for the jobs): the settings, the wiring and the reloading configuration
//! are `bridge_runtime::reports`.

use std::future::Future;

use anyhow::Context as _;
use bridge_aws::S3Objects;
use bridge_domain::csat::{
    DAILY_COLUMNS, Period, PeriodKind, RATING_COLUMNS, Report, ReportingConfig, build_report, dashboard_key,
    figure_cells, partition_keys, rating_cells, sheet_rows, to_csv,
};
use bridge_domain::ports::BoxError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::collect::ReportSource;
use crate::sheets::SheetsClient;
use crate::{dashboard, parquet_out};

/// Where the report's files go (a port: [`S3Sink`] in production).
pub trait ReportSink: Send + Sync {
    /// Writes `body` as `key` (replacing what a previous run of the period wrote).
    fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// The report files in one S3 bucket (`BRIDGE_REPORTS_BUCKET`), over [`S3Objects`].
#[derive(Debug, Clone)]
pub struct S3Sink {
    objects: S3Objects,
    bucket: String,
}

impl S3Sink {
    /// The files go to `bucket` through `objects`.
    pub fn new(objects: S3Objects, bucket: impl Into<String>) -> Self {
        Self { objects, bucket: bucket.into() }
    }

    /// The S3 adapter.
    pub fn objects(&self) -> &S3Objects {
        &self.objects
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

impl ReportSink for S3Sink {
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), BoxError> {
        Ok(self.objects.put(&self.bucket, key, body, content_type).await?)
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

/// Job 7 wired to its adapters; the configuration is given to each run.
#[derive(Debug)]
pub struct Reporter<I, Z, W = S3Sink> {
    /// Intercom source.
    pub intercom: I,
    /// Zendesk source.
    pub zendesk: Z,
    /// S3 output (None: not written, e.g. the CLI without a bucket).
    pub s3: Option<W>,
    /// Sheets output (None: not written; a run whose configuration names a spreadsheet fails).
    pub sheets: Option<SheetsClient>,
}

impl<I: ReportSource + Sync, Z: ReportSource + Sync, W: ReportSink> Reporter<I, Z, W> {
    /// Computes the period's report under `config` (the `reporting:` section of this run) and
    /// writes every configured output. The S3 objects and the Sheets range depend only on the
    /// period, so a re-run replaces what the previous run wrote.
    pub async fn run(&self, config: &ReportingConfig, period: Period) -> anyhow::Result<RunSummary> {
        anyhow::ensure!(
            config.sheets.is_none() || self.sheets.is_some(),
            "reporting.sheets is configured but no Sheets client is (GOOGLE_SERVICE_ACCOUNT_JSON not set)"
        );
        let page_size = config.page_size;
        let (ic, zd) =
            tokio::try_join!(self.intercom.collect(&period, page_size), self.zendesk.collect(&period, page_size))?;
        let ratings = ic.ratings.into_iter().chain(zd.ratings).collect();
        let items = ic.items.into_iter().chain(zd.items).collect();
        let report = build_report(period, ratings, items);
        let html = dashboard::render(&report, &config.title);
        let mut s3_keys = Vec::new();
        if let Some(s3) = &self.s3 {
            let prefix = &config.s3.prefix;
            for day in period.days() {
                let ratings = report.ratings_on(day);
                let daily = report.daily_on(day);
                let [ratings_csv, ratings_pq, daily_csv, daily_pq] = partition_keys(prefix, day);
                let rating_rows: Vec<Vec<String>> = ratings.iter().map(|r| rating_cells(r)).collect();
                let daily_rows: Vec<Vec<String>> =
                    daily.iter().map(|a| figure_cells(&a.day.to_string(), a.scope, &a.figures)).collect();
                s3.put(&ratings_csv, to_csv(&RATING_COLUMNS, &rating_rows).into_bytes(), "text/csv")
                    .await
                    .map_err(anyhow::Error::from_boxed)?;
                s3.put(&ratings_pq, parquet_out::ratings_parquet(&ratings)?, "application/vnd.apache.parquet")
                    .await
                    .map_err(anyhow::Error::from_boxed)?;
                s3.put(&daily_csv, to_csv(&DAILY_COLUMNS, &daily_rows).into_bytes(), "text/csv")
                    .await
                    .map_err(anyhow::Error::from_boxed)?;
                s3.put(&daily_pq, parquet_out::daily_parquet(&daily)?, "application/vnd.apache.parquet")
                    .await
                    .map_err(anyhow::Error::from_boxed)?;
                s3_keys.extend([ratings_csv, ratings_pq, daily_csv, daily_pq]);
            }
            let key = dashboard_key(prefix, &period);
            s3.put(&key, html.clone().into_bytes(), "text/html; charset=utf-8")
                .await
                .map_err(anyhow::Error::from_boxed)?;
            s3_keys.push(key);
        }
        let mut sheets_range = None;
        if let (Some(client), Some(target)) = (&self.sheets, &config.sheets)
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

/// The function's handler: parses the scheduler input, runs the report under `config` (the
/// `reporting:` section of this run), answers a summary.
pub async fn handle_scheduled<I: ReportSource + Sync, Z: ReportSource + Sync, W: ReportSink>(
    reporter: &Reporter<I, Z, W>,
    config: &ReportingConfig,
    input: serde_json::Value,
    today: NaiveDate,
) -> anyhow::Result<serde_json::Value> {
    let request: ReportRequest = serde_json::from_value(input).context("scheduler input")?;
    let period = request.resolve(today)?;
    let summary = reporter.run(config, period).await?;
    Ok(serde_json::json!({
        "period": {"kind": period.kind.as_str(), "from": period.from, "to": period.to},
        "ratings": summary.report.ratings.len(),
        "s3_objects": summary.s3_keys.len(),
        "sheets_range": summary.sheets_range,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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

    struct Nothing(bridge_domain::csat::Source);

    impl ReportSource for Nothing {
        fn source(&self) -> bridge_domain::csat::Source {
            self.0
        }
        async fn collect(&self, _: &Period, _: u32) -> Result<crate::collect::Collected, crate::collect::CollectError> {
            Ok(crate::collect::Collected::default())
        }
    }

    /// Files by key, with their content type.
    #[derive(Default)]
    struct Files(std::sync::Mutex<std::collections::BTreeMap<String, String>>);

    impl ReportSink for Files {
        async fn put(&self, key: &str, _body: Vec<u8>, content_type: &str) -> Result<(), BoxError> {
            self.0.lock().unwrap().insert(key.to_string(), content_type.to_string());
            Ok(())
        }
    }

    #[tokio::test]
    async fn every_file_of_the_period_goes_through_the_sink() {
        use bridge_domain::csat::Source;
        let reporter = Reporter {
            intercom: Nothing(Source::Intercom),
            zendesk: Nothing(Source::Zendesk),
            s3: Some(Files::default()),
            sheets: None,
        };
        let period = Period::custom(d("2024-05-01"), d("2024-05-02")).unwrap();
        let summary = reporter.run(&ReportingConfig::default(), period).await.unwrap();
        let files = reporter.s3.as_ref().unwrap().0.lock().unwrap().clone();
        assert_eq!(files.len(), 2 * 4 + 1, "CSV + Parquet of ratings and daily figures per day, and the dashboard");
        let mut written = summary.s3_keys.clone();
        written.sort();
        assert_eq!(files.keys().cloned().collect::<Vec<_>>(), written);
        assert_eq!(files.values().filter(|t| t.starts_with("text/html")).count(), 1);
    }

    /// The configuration of a run can name a spreadsheet the reporter was built without (a
    /// section changed while the function stayed warm): the run says so instead of skipping it.
    #[tokio::test]
    async fn a_spreadsheet_without_a_sheets_client_fails_the_run() {
        use bridge_domain::csat::{SheetsOutput, Source};
        let reporter = Reporter {
            intercom: Nothing(Source::Intercom),
            zendesk: Nothing(Source::Zendesk),
            s3: Some(Files::default()),
            sheets: None,
        };
        let ranges = [(PeriodKind::Custom, "CsatCustom".to_string())].into_iter().collect();
        let config = ReportingConfig {
            sheets: Some(SheetsOutput { spreadsheet_id: "sheet-1".into(), ranges }),
            ..ReportingConfig::default()
        };
        let period = Period::custom(d("2024-05-01"), d("2024-05-01")).unwrap();
        let err = reporter.run(&config, period).await.unwrap_err();
        assert!(err.to_string().contains("GOOGLE_SERVICE_ACCOUNT_JSON"), "{err}");
        assert!(reporter.s3.as_ref().unwrap().0.lock().unwrap().is_empty(), "nothing written");
    }
}
