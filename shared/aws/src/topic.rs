//! [`SnsTopic`]: notifications to operators over one SNS topic.

use aws_sdk_sns::Client;
use bridge_domain::ports::{PortResult, Service};

use crate::error::{AwsError, port_error_as};

/// Longest subject SNS accepts (printable ASCII only).
pub const MAX_SUBJECT_CHARS: usize = 100;

/// A subject SNS accepts: the ASCII characters of `subject`, at most [`MAX_SUBJECT_CHARS`].
pub fn sns_subject(subject: &str) -> String {
    subject.chars().filter(char::is_ascii).take(MAX_SUBJECT_CHARS).collect()
}

/// Publishes to one SNS topic. Failures are [`Service::Notifications`] port errors:
/// throttling -> `RateLimited`, timeouts, 5xx and transient codes -> `Unavailable` (both
/// retryable), the rest (missing topic, access denied) -> `Rejected`; the source is an
/// [`AwsError::Sns`] naming the topic.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    client: Client,
    arn: String,
}

impl SnsTopic {
    /// The topic `arn`, over an SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig, arn: impl Into<String>) -> Self {
        Self { client: Client::new(sdk), arn: arn.into() }
    }

    /// The topic's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// Publishes `body` with `subject` (reduced to what SNS accepts, see [`sns_subject`]).
    pub async fn publish(&self, subject: &str, body: &str) -> PortResult<()> {
        self.client.publish().topic_arn(&self.arn).subject(sns_subject(subject)).message(body).send().await.map_err(
            |e| {
                port_error_as(Service::Notifications, e, |source| AwsError::Sns {
                    operation: "Publish",
                    topic: self.arn.clone(),
                    source,
                })
            },
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_ascii_and_at_most_100_characters() {
        assert_eq!(sns_subject("Drift: 2 fields — check"), "Drift: 2 fields  check");
        assert_eq!(sns_subject(&"x".repeat(150)).len(), MAX_SUBJECT_CHARS);
    }
}
