//! Errors of the AWS adapters, and the mapping of SDK errors onto [`PortError`].

use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use bridge_domain::ports::{BoxError, PortError, Service};

/// How long a caller is asked to wait after AWS throttled a request that the SDK's own retries
/// could not get through.
pub const THROTTLE_BACKOFF: Duration = Duration::from_secs(2);

/// A failure while provisioning or using the AWS resources outside the port traits
/// (`bridge init`, test setup).
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// A DynamoDB call failed.
    #[error("dynamodb {operation} failed")]
    Dynamo {
        /// The API operation (`CreateTable`, …).
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// An SQS call failed.
    #[error("sqs {operation} failed")]
    Sqs {
        /// The API operation (`CreateQueue`, …).
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// A queue the stack should have does not exist (or the caller may not see it).
    #[error("queue {name} not found: {hint}")]
    QueueNotFound {
        /// The queue name looked up.
        name: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// AWS answered without a field it always sends.
    #[error("{operation} answered without {field}")]
    MissingField {
        /// The API operation.
        operation: &'static str,
        /// The missing field.
        field: &'static str,
    },
}

/// A stored item that cannot be read back (corrupt or written by an incompatible version).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A required attribute is missing or has the wrong type.
    #[error("item {key}: attribute {attribute} missing or not of the expected type")]
    Attribute {
        /// The item's partition key (typed id, no personal data).
        key: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// The stored JSON does not parse.
    #[error("item {key}: stored JSON does not parse")]
    Json {
        /// The item's partition key.
        key: String,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
}

impl DecodeError {
    /// As a permanent store failure.
    pub(crate) fn into_port(self) -> PortError {
        PortError::Rejected { service: Service::Store, source: Box::new(self) }
    }
}

/// Error codes AWS uses when it throttles a caller.
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
];

/// Error codes that mean "try again", whatever the HTTP status.
const TRANSIENT_CODES: &[&str] = &[
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "TransactionInProgressException",
    "TransactionConflictException",
    "KMSInternal",
];

/// Maps an SDK error onto a [`PortError`], keeping it as the source where the variant has one:
/// throttling -> `RateLimited`; timeouts, connection failures, 5xx and transient codes ->
/// `Unavailable`; everything else (validation, missing table, access denied) -> `Rejected`.
pub(crate) fn port_error<E>(service: Service, err: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) => {
            status.is_some_and(|s| s >= 500) || code.as_deref().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        // ConstructionFailure: our request was invalid before it left.
        _ => false,
    };
    if code.as_deref().is_some_and(|c| THROTTLING_CODES.contains(&c)) || status == Some(429) {
        tracing::warn!(%service, code = code.as_deref().unwrap_or(""), "aws throttled the request");
        return PortError::RateLimited { service, retry_after: THROTTLE_BACKOFF };
    }
    if retryable {
        tracing::warn!(
            %service,
            code = code.as_deref().unwrap_or(""),
            status = status.unwrap_or(0),
            "aws call failed transiently"
        );
        PortError::Unavailable { service, source: Box::new(err) }
    } else {
        tracing::error!(
            %service,
            code = code.as_deref().unwrap_or(""),
            status = status.unwrap_or(0),
            "aws rejected the request"
        );
        PortError::Rejected { service, source: Box::new(err) }
    }
}

/// Wraps an SDK error of a provisioning call.
pub(crate) fn dynamo<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: std::error::Error + Send + Sync + 'static,
{
    AwsError::Dynamo { operation, source: Box::new(err) }
}

/// Wraps an SDK error of a provisioning call.
pub(crate) fn sqs<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: std::error::Error + Send + Sync + 'static,
{
    AwsError::Sqs { operation, source: Box::new(err) }
}
