//! The profile-sync drift alerts over CloudWatch (an EMF counter per finding) and SNS.

use bridge_domain::ports::{PortError, Service};
use bridge_domain::profiles::DriftFinding;
use bridge_jobs::profile_sync::alerts::DriftAlerts;

use crate::metrics::Counters;

/// Re-export of the SNS SDK, so tests and tools subscribe without their own dependency.
pub use aws_sdk_sns as sns;

/// The metric counted once per drift finding (dimension `Job=profile-sync`).
pub const DRIFT_METRIC: &str = "ProfileSchemaDrift";
/// The environment variable naming the SNS topic of drift reports.
pub const DRIFT_TOPIC_VARIABLE: &str = "BRIDGE_DRIFT_TOPIC_ARN";

/// Counts findings on [`Counters`] and publishes reports to an SNS topic, when one is set.
#[derive(Debug)]
pub struct SnsDriftAlerts<'a> {
    counters: &'a Counters,
    topic: Option<(sns::Client, String)>,
}

impl<'a> SnsDriftAlerts<'a> {
    /// Alerts counting on `counters` and publishing to `topic_arn` (none: count only).
    pub fn new(counters: &'a Counters, sdk: &aws_config::SdkConfig, topic_arn: Option<String>) -> Self {
        Self { counters, topic: topic_arn.filter(|t| !t.is_empty()).map(|t| (sns::Client::new(sdk), t)) }
    }
}

impl DriftAlerts for SnsDriftAlerts<'_> {
    fn finding(&self, _finding: &DriftFinding) {
        self.counters.incr(DRIFT_METRIC, ("Job", "profile-sync"));
    }

    async fn publish(&self, subject: &str, body: &str) -> Result<(), PortError> {
        let Some((client, topic)) = &self.topic else {
            tracing::warn!("drift report not published: {DRIFT_TOPIC_VARIABLE} is not set");
            return Ok(());
        };
        // SNS subjects: at most 100 printable ASCII characters.
        let subject: String = subject.chars().filter(char::is_ascii).take(100).collect();
        client
            .publish()
            .topic_arn(topic)
            .subject(subject)
            .message(body)
            .send()
            .await
            .map_err(|e| PortError::unavailable(Service::Queue, format!("sns publish: {e}")))?;
        Ok(())
    }
}
