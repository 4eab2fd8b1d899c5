//! `reporting:` in the configuration (job 7) and its checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::period::PeriodKind;

/// `reporting:` in the configuration (job 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingConfig {
    /// Periods the schedule runs (`daily`, `weekly`); default both.
    #[serde(default = "default_periods")]
    pub periods: Vec<PeriodKind>,
    /// Page size of the vendor list/search calls (1-100).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// S3 output (the bucket comes from `BRIDGE_REPORTS_BUCKET`).
    #[serde(default)]
    pub s3: S3Output,
    /// Google Sheets output (off when absent).
    #[serde(default)]
    pub sheets: Option<SheetsOutput>,
    /// Dashboard title.
    #[serde(default = "default_title")]
    pub title: String,
}

impl Default for ReportingConfig {
    fn default() -> Self {
        Self {
            periods: default_periods(),
            page_size: default_page_size(),
            s3: S3Output::default(),
            sheets: None,
            title: default_title(),
        }
    }
}

fn default_periods() -> Vec<PeriodKind> {
    vec![PeriodKind::Daily, PeriodKind::Weekly]
}

fn default_page_size() -> u32 {
    100
}

fn default_title() -> String {
    "Customer satisfaction".into()
}

/// S3 layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Output {
    /// Key prefix (`csat` -> `csat/date=2024-05-01/ratings.csv`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

impl Default for S3Output {
    fn default() -> Self {
        Self { prefix: default_prefix() }
    }
}

fn default_prefix() -> String {
    "csat".into()
}

/// Google Sheets target: one named range per period kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetsOutput {
    /// Spreadsheet id (from its URL).
    pub spreadsheet_id: String,
    /// Named range per period kind (`daily: CsatDaily`); a period without one is not written.
    pub ranges: BTreeMap<PeriodKind, String>,
}

impl ReportingConfig {
    /// Checks values serde cannot: returns `(field, message)` of the first problem.
    pub fn problems(&self) -> Option<(String, String)> {
        if self.periods.is_empty() {
            return Some(("reporting.periods".into(), "list at least one of daily, weekly".into()));
        }
        if self.periods.contains(&PeriodKind::Custom) {
            return Some(("reporting.periods".into(), "only daily and weekly run on a schedule".into()));
        }
        if !(1..=100).contains(&self.page_size) {
            return Some(("reporting.page_size".into(), "must be between 1 and 100".into()));
        }
        let prefix = self.s3.prefix.trim_matches('/');
        if prefix.is_empty() || prefix.contains("//") || prefix.contains(char::is_whitespace) {
            return Some(("reporting.s3.prefix".into(), "must be a non-empty key prefix without spaces".into()));
        }
        if let Some(sheets) = &self.sheets {
            if sheets.spreadsheet_id.trim().is_empty() {
                return Some(("reporting.sheets.spreadsheet_id".into(), "must not be empty".into()));
            }
            if sheets.ranges.is_empty() {
                return Some(("reporting.sheets.ranges".into(), "name at least one range".into()));
            }
            for (kind, name) in &sheets.ranges {
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit());
                if !valid {
                    return Some((
                        format!("reporting.sheets.ranges.{}", kind.as_str()),
                        "must be a named range (letters, digits, _)".into(),
                    ));
                }
            }
        }
        None
    }
}
