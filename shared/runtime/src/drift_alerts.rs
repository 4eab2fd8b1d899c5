//! The profile-sync drift alerts: an EMF counter per finding (CloudWatch) and the report
//! published to an SNS topic through [`SnsTopic`].

use bridge_aws::SnsTopic;
use bridge_domain::ports::PortError;
use bridge_domain::profiles::DriftFinding;
use bridge_jobs::profile_sync::alerts::DriftAlerts;

use crate::metrics::Counters;

/// The metric counted once per drift finding (dimension `Job=profile-sync`).
pub const DRIFT_METRIC: &str = "ProfileSchemaDrift";
/// The environment variable naming the SNS topic of drift reports.
pub const DRIFT_TOPIC_VARIABLE: &str = "BRIDGE_DRIFT_TOPIC_ARN";

/// Counts findings on [`Counters`] and publishes reports to an SNS topic, when one is set.
#[derive(Debug)]
pub struct SnsDriftAlerts<'a> {
    counters: &'a Counters,
    topic: Option<SnsTopic>,
}

impl<'a> SnsDriftAlerts<'a> {
    /// Alerts counting on `counters` and publishing to `topic_arn` (none: count only).
    pub fn new(counters: &'a Counters, sdk: &aws_config::SdkConfig, topic_arn: Option<String>) -> Self {
        Self { counters, topic: topic_arn.filter(|t| !t.is_empty()).map(|t| SnsTopic::new(sdk, t)) }
    }
}

impl DriftAlerts for SnsDriftAlerts<'_> {
    fn finding(&self, _finding: &DriftFinding) {
        self.counters.incr(DRIFT_METRIC, ("Job", "profile-sync"));
    }

    /// Publishes to the topic; a failure is a `Service::Notifications` port error (retryable
    /// when SNS throttles or is unavailable).
    async fn publish(&self, subject: &str, body: &str) -> Result<(), PortError> {
        let Some(topic) = &self.topic else {
            tracing::warn!("drift report not published: {DRIFT_TOPIC_VARIABLE} is not set");
            return Ok(());
        };
        topic.publish(subject, body).await
    }
}
