//! AWS adapters of the bridge, the only crate that calls AWS: [`DynamoStore`] implements the
//! domain's [`Store`](bridge_domain::ports::Store) port over one DynamoDB table, [`SqsQueue`]
//! implements [`Queue`](bridge_domain::ports::Queue) over one SQS FIFO queue (and DLQ) per job,
//! [`S3Objects`] reads the YAML configuration and writes the reports, [`SnsTopic`] publishes
//! the profile drift report, [`JsonSecrets`] writes the Zendesk signing secrets into the stack's
//! secret (`bridge setup zendesk`).
//!
//! # Table schema
//!
//! One table, on-demand billing, string keys `pk` (hash) and `sk` (range), TTL on
//! `expires_at`. Every item type has a typed `pk` prefix and a fixed `sk`:
//!
//! | item | `pk` | `sk` | attributes |
//! |------|------|------|------------|
//! | delivery ledger | `EVT#<vendor>#<delivery id>` | `DELIVERY` | `expires_at` (N, epoch s, TTL) |
//! | intent claim / done marker | `INTENT#<intent>` | `INTENT` | `state` (`claimed`\|`done`), `holder`, `lease_until` (N, epoch s) while claimed; `result`, `completed_at` once done; `expires_at` (TTL) on a delivery's done-marker (kept 7 days) |
//! | link, conversation half | `IC#CONV#<conversation id>` | `LINK` | `link` (S, the [`Link`](bridge_domain::model::Link) as JSON), `version` (N), `conversation_id`, `ticket_id` (N, live ticket) |
//! | link, ticket half (one per ticket in `link.tickets`) | `ZD#TICKET#<ticket id>` | `LINK` | same as the conversation half |
//! | document (cursors, person state, loop-guard hashes, rate budgets) | `DOC#<key>` | `DOC` | `body` (S), `version` (N, 1 on first write) |
//!
//! Write rules:
//!
//! - Delivery: put if `attribute_not_exists(pk) OR expires_at < now` (an expired entry that TTL
//!   has not swept yet counts as absent).
//! - Claim: put if absent, or `claimed` with `lease_until < now`, or `claimed` by the same
//!   holder. `complete` puts `done` unless already done (the first result wins); `release`
//!   deletes only while still `claimed` by that holder.
//! - `create_link`: one `TransactWriteItems` putting the conversation half and every ticket
//!   half, each with `attribute_not_exists(pk)`. A failed condition answers `AlreadyLinked`
//!   with the link read back (the conversation's, else the first ticket's).
//! - `update_link`: one transaction; the conversation half is put if `version = expected`, the
//!   ticket halves unconditionally. The stored version becomes `expected + 1` (the JSON's
//!   `version` is set to the same value), so versions only grow.
//! - `link_by_ticket` reads the ticket half, then the conversation half it points to, which is
//!   authoritative.
//! - Documents: put if `attribute_not_exists(pk)` (no expected version) or `version = expected`;
//!   the new version is `expected + 1`.
//!
//! All reads are strongly consistent. SDK errors map onto
//! [`PortError`](bridge_domain::ports::PortError): throttling -> `RateLimited`, timeouts,
//! connection failures, 5xx and transaction conflicts -> `Unavailable`, the rest (validation,
//! missing table, access denied) -> `Rejected`. The same mapping applies to SNS publishing
//! (`Service::Notifications`). Calls outside the ports answer an [`AwsError`] naming the
//! operation and the resource (`s3 GetObject s3://bucket/key failed`), the SDK error as source.
//!
//! # Queues
//!
//! Per [`JobKind`](bridge_domain::routing::JobKind): `<prefix>-<job>.fifo` with a redrive policy
//! to `<prefix>-<job>-dlq.fifo`. Message group = the event's entity, deduplication id = hex
//! SHA-256 of job, vendor and delivery id, body = the
//! [`QueuedEvent`](bridge_domain::event::QueuedEvent) as JSON.

#![warn(missing_docs)]

mod dead_letters;
mod error;
mod objects;
mod queue;
mod secrets;
mod store;
mod topic;

pub use error::{AwsError, DecodeError, THROTTLE_BACKOFF};
pub use objects::{S3Objects, object_uri};
pub use queue::{
    QueueSettings, QueueUrls, ReceivedMessage, SqsQueue, TRACE_ATTRIBUTE, TRACE_ENV, deduplication_id, dlq_name,
    message_group_id, queue_name, trace_header_attribute,
};
pub use secrets::{JsonSecrets, SecretChange};
pub use store::{DynamoStore, PK, SK, TTL_ATTRIBUTE, conversation_key, doc_key, intent_key, ticket_key};
pub use topic::{MAX_SUBJECT_CHARS, SnsTopic, sns_subject};

/// Longest a single AWS request may take, SQS's 20 s long poll included.
pub const AWS_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The bridge's settings of the AWS SDK, applied to a loader (`aws_config::defaults(..)`, which
/// reads the region, credentials and `AWS_ENDPOINT_URL` from the environment, profile files
/// included: `bridge serve` and the `bridge` command).
///
/// A stuck request is cut by a per-attempt timeout instead of the SDK's stalled-stream
/// protection, which wakes a throughput timer all through every request and made the idle
/// long polls of `bridge serve` cost four times the CPU (docs/BENCHMARKS.md). Requests go
/// through the bridge's one HTTP client ([`bridge_http::sdk::http_client`]).
pub fn sdk_settings(loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
    use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
    loader
        .http_client(bridge_http::sdk::http_client())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(timeouts())
}

/// The SDK configuration of a Lambda function, from what Lambda gives it: `region` (its
/// `AWS_REGION`), the role's credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN`, and `endpoint` (`AWS_ENDPOINT_URL`, for emulators), with the same
/// settings as [`sdk_settings`]. No profile files, SSO, STS or instance metadata: none applies
/// in a Lambda, and building the configuration without `aws_config::defaults` keeps their code
/// out of the bootstraps (docs/BENCHMARKS.md, bootstrap sizes).
pub fn lambda_sdk_config(region: String, endpoint: Option<String>) -> aws_config::SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
    use aws_types::sdk_config::SharedCredentialsProvider;
    let mut builder = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .http_client(bridge_http::sdk::http_client())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(timeouts());
    if let Some(sleep) = aws_smithy_async::rt::sleep::default_async_sleep() {
        builder = builder.sleep_impl(sleep);
    }
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}

fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
        .build()
}

/// Re-exported SDK crates, so callers build clients with the exact versions used here.
pub mod sdk {
    pub use aws_sdk_dynamodb as dynamodb;
    pub use aws_sdk_s3 as s3;
    pub use aws_sdk_secretsmanager as secretsmanager;
    pub use aws_sdk_sns as sns;
    pub use aws_sdk_sqs as sqs;
}
