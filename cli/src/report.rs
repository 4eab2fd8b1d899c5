//! `bridge report csat --from DATE --to DATE [--html FILE]`: job 7 on demand. Reads the same
//! environment as the `csat-report` function; writes S3 when `BRIDGE_REPORTS_BUCKET` is set and
//! the Sheets range when `reporting.sheets` has one for `custom`; prints a summary table.

use anyhow::Context as _;
use bridge_domain::csat::{Figures, Period, Report, Scope};
use bridge_runtime::reports::ReportSettings;
use bridge_runtime::settings::ProcessEnv;
use chrono::NaiveDate;
use clap::Subcommand;

/// `bridge report ...`.
#[derive(Debug, Subcommand)]
pub enum ReportAction {
    /// CSAT, volume and resolution for a period (UTC days, both inclusive).
    Csat {
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        to: NaiveDate,
        /// Also write the HTML dashboard to this file.
        #[arg(long)]
        html: Option<std::path::PathBuf>,
    },
}

/// Runs a report subcommand.
pub async fn run(action: ReportAction) -> anyhow::Result<()> {
    let ReportAction::Csat { from, to, html } = action;
    let period = Period::custom(from, to)?;
    let settings = ReportSettings::from_env(&ProcessEnv)?;
    let reporter = bridge_runtime::reports::build(&settings, &bridge_runtime::app::aws_config().await).await?;
    let summary = reporter.run(period).await?;
    print!("{}", summary_table(&summary.report));
    for key in &summary.s3_keys {
        println!("wrote s3://{}/{key}", settings.bucket.as_deref().unwrap_or_default());
    }
    if let Some(range) = &summary.sheets_range {
        println!("wrote Sheets range {range}");
    }
    if let Some(path) = html {
        std::fs::write(&path, &summary.html).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "-".into())
}

fn mins(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into())
}

fn line(label: &str, f: &Figures) -> String {
    format!(
        "{label:<10} {:>6} {:>7} {:>9} {:>8} {:>9} {:>11} {:>11}\n",
        f.rated,
        pct(f.csat()),
        pct(f.response_rate()),
        f.created,
        f.resolved,
        mins(f.median_first_reply_minutes),
        mins(f.median_resolution_minutes)
    )
}

/// The period totals per source and combined, then the combined figures per day.
pub fn summary_table(report: &Report) -> String {
    let mut out = format!("CSAT report {} to {} (UTC)\n", report.period.from, report.period.to);
    let header = format!(
        "{:<10} {:>6} {:>7} {:>9} {:>8} {:>9} {:>11} {:>11}\n",
        "", "rated", "CSAT", "response", "created", "resolved", "1st reply m", "resolve m"
    );
    out.push_str(&header);
    for (scope, f) in &report.totals {
        out.push_str(&line(scope.as_str(), f));
    }
    out.push_str("\nper day (combined)\n");
    out.push_str(&header);
    for day in report.period.days() {
        if let Some(f) = report.day(day, Scope::Combined) {
            out.push_str(&line(&day.format("%Y-%m-%d").to_string(), f));
        }
    }
    out
}
