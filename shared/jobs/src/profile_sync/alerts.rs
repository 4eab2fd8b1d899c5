//! Schema drift alerts for job 2: a metric per finding and the report to subscribers.
//!
//! [`run_drift`] reads both live catalogs ([`drift_report`]), counts every finding through
//! [`DriftAlerts::finding`] (a CloudWatch metric in the Lambda, so an alarm stays raised while
//! the drift lasts), stores the report, and publishes it through [`DriftAlerts::publish`] (SNS in
//! the Lambda) when it is non-empty and differs from the stored one, so subscribers hear about a
//! drift once, not every day. The report is stored only after it was published, so a failed
//! publish is tried again by the next run.

use std::future::Future;

use bridge_domain::ports::{PortError, Store};
use bridge_domain::profiles::DriftFinding;
use bridge_domain::profiles::directory::ProfileDirectory;

use super::reconcile::{drift_report, last_drift, save_drift};
use crate::{JobError, Ports};

/// Where drift findings go.
pub trait DriftAlerts: Send + Sync {
    /// Counts one finding (a metric).
    fn finding(&self, finding: &DriftFinding);
    /// Publishes a report to its subscribers.
    fn publish(&self, subject: &str, body: &str) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// What a drift run found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftRun {
    /// Every finding.
    pub findings: Vec<DriftFinding>,
    /// The report differs from the stored one.
    pub changed: bool,
    /// The report was published.
    pub published: bool,
}

/// Subject line of a published report.
pub fn subject(findings: &[DriftFinding]) -> String {
    let errors = findings.iter().filter(|f| f.is_error()).count();
    format!("Profile schema drift: {} finding(s), {errors} error(s)", findings.len())
}

/// Checks the mapping against both live catalogs, counts, stores and (when new) publishes.
pub async fn run_drift<S, I, Z, A>(p: &Ports<'_, S, I, Z>, alerts: &A) -> Result<DriftRun, JobError>
where
    S: Store,
    I: ProfileDirectory,
    Z: ProfileDirectory,
    A: DriftAlerts,
{
    let findings = drift_report(p).await?;
    for f in &findings {
        alerts.finding(f);
    }
    let changed = last_drift(p.store).await?.is_none_or(|v| v.value != findings);
    let published = changed && !findings.is_empty();
    if published {
        // Published before the report is stored: a failed publish is retried by the next run.
        let body = serde_json::to_string_pretty(&serde_json::json!({ "findings": findings }))
            .map_err(|e| JobError::permanent(format!("encode drift report: {e}")))?;
        alerts.publish(&subject(&findings), &body).await?;
    }
    if changed {
        save_drift(p.store, &findings).await?;
    }
    let errors = findings.iter().filter(|f| f.is_error()).count();
    tracing::info!(findings = findings.len(), errors, changed, published, "profile schema drift");
    Ok(DriftRun { findings, changed, published })
}
