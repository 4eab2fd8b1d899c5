//! Tabular output of a report (the cells of the CSV, Parquet and Sheets tables) and the S3
//! object keys it is written under.

use chrono::NaiveDate;

use super::period::Period;
use super::records::{RatingRow, Scope};
use super::report::{Figures, Report};

/// Column names of the ratings table (CSV, Parquet).
pub const RATING_COLUMNS: [&str; 11] = [
    "date",
    "source",
    "rating_id",
    "record_id",
    "raw_score",
    "score",
    "answer",
    "comment_length",
    "team",
    "agent",
    "rated_at",
];

/// Column names of the daily table (CSV, Parquet, Sheets).
pub const DAILY_COLUMNS: [&str; 11] = [
    "date",
    "scope",
    "rated",
    "positive",
    "csat",
    "unanswered",
    "response_rate",
    "created",
    "resolved",
    "median_first_reply_minutes",
    "median_resolution_minutes",
];

fn fmt_ratio(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

fn fmt_minutes(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_default()
}

fn rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// A rating as text cells, in [`RATING_COLUMNS`] order.
pub fn rating_cells(r: &RatingRow) -> Vec<String> {
    vec![
        r.day().map(|d| d.to_string()).unwrap_or_default(),
        r.source.as_str().to_string(),
        r.rating_id.to_string(),
        r.record_id.to_string(),
        r.raw_score.clone(),
        r.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
        r.answer.as_str().to_string(),
        r.comment_length.to_string(),
        r.team.clone().unwrap_or_default(),
        r.agent.clone().unwrap_or_default(),
        rfc3339(r.rated_at),
    ]
}

/// Figures as text cells after `date` and `scope`, in [`DAILY_COLUMNS`] order.
pub fn figure_cells(date: &str, scope: Scope, f: &Figures) -> Vec<String> {
    vec![
        date.to_string(),
        scope.as_str().to_string(),
        f.rated.to_string(),
        f.positive.to_string(),
        fmt_ratio(f.csat()),
        f.unanswered.to_string(),
        fmt_ratio(f.response_rate()),
        f.created.to_string(),
        f.resolved.to_string(),
        fmt_minutes(f.median_first_reply_minutes),
        fmt_minutes(f.median_resolution_minutes),
    ]
}

fn csv_cell(cell: &str) -> String {
    // Also neutralises spreadsheet formulas in cells that start with = + - @.
    let cell = if cell.starts_with(['=', '+', '@']) { format!("'{cell}") } else { cell.to_string() };
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell }
}

/// RFC 4180 CSV (CRLF line ends) of a header and rows.
pub fn to_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.iter().map(|h| csv_cell(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The Sheets table of a report: the header, one row per day and scope, then the period
/// totals (date `total`). Always the same shape for the same period, so rewriting it replaces
/// the previous run's values cell for cell.
pub fn sheet_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![DAILY_COLUMNS.iter().map(|c| (*c).to_string()).collect::<Vec<_>>()];
    rows.extend(report.daily.iter().map(|a| figure_cells(&a.day.to_string(), a.scope, &a.figures)));
    rows.extend(report.totals.iter().map(|(scope, f)| figure_cells("total", *scope, f)));
    rows
}

/// The S3 object keys of one day's partition: ratings and daily aggregates, CSV and Parquet.
pub fn partition_keys(prefix: &str, day: NaiveDate) -> [String; 4] {
    let base = format!("{}/date={day}", prefix.trim_matches('/'));
    [
        format!("{base}/ratings.csv"),
        format!("{base}/ratings.parquet"),
        format!("{base}/daily.csv"),
        format!("{base}/daily.parquet"),
    ]
}

/// The S3 key of a period's dashboard.
pub fn dashboard_key(prefix: &str, period: &Period) -> String {
    format!("{}/dashboard/{}/{}.html", prefix.trim_matches('/'), period.kind.as_str(), period.label())
}
