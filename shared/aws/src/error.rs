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
    /// An S3 call failed.
    #[error("s3 {operation} {object} failed")]
    S3 {
        /// The API operation (`GetObject`, `PutObject`).
        operation: &'static str,
        /// The object, `s3://bucket/key`.
        object: String,
        /// The SDK error (or the body stream's error).
        #[source]
        source: BoxError,
    },
    /// An S3 object read as text is not UTF-8.
    #[error("{object} is not UTF-8 text")]
    NotText {
        /// The object, `s3://bucket/key`.
        object: String,
        /// Where the bytes stop being UTF-8.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// An SNS call failed.
    #[error("sns {operation} {topic} failed")]
    Sns {
        /// The API operation (`Publish`).
        operation: &'static str,
        /// The topic ARN.
        topic: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// A Secrets Manager call failed.
    #[error("secretsmanager {operation} {secret} failed")]
    SecretsManager {
        /// The API operation (`GetSecretValue`, `PutSecretValue`, `CreateSecret`).
        operation: &'static str,
        /// The secret's name or ARN.
        secret: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// A secret that should hold a JSON object holds something else. The parser's message is
    /// left out: it may quote the secret's value.
    #[error("secret {secret} is not a JSON object")]
    SecretNotJsonObject {
        /// The secret's name or ARN.
        secret: String,
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

/// How an SDK error should be handled by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// AWS throttled the caller: retry after [`THROTTLE_BACKOFF`].
    Throttled,
    /// Timeout, connection failure, 5xx or a transient code: retry with backoff.
    Transient,
    /// Validation, missing resource, access denied: retrying will not help.
    Permanent,
}

/// Classifies an SDK error (and logs it once, without its body).
fn classify<E>(service: Service, err: &SdkError<E, HttpResponse>) -> Class
where
    E: ProvideErrorMetadata,
{
    let code = err.code();
    let status = err.raw_response().map(|r| r.status().as_u16());
    let retryable = match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) => {
            status.is_some_and(|s| s >= 500) || code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        // ConstructionFailure: our request was invalid before it left.
        _ => false,
    };
    if code.is_some_and(|c| THROTTLING_CODES.contains(&c)) || status == Some(429) {
        tracing::warn!(%service, code = code.unwrap_or(""), "aws throttled the request");
        Class::Throttled
    } else if retryable {
        tracing::warn!(%service, code = code.unwrap_or(""), status = status.unwrap_or(0), "aws call failed transiently");
        Class::Transient
    } else {
        tracing::error!(%service, code = code.unwrap_or(""), status = status.unwrap_or(0), "aws rejected the request");
        Class::Permanent
    }
}

/// Maps an SDK error onto a [`PortError`], keeping it as the source where the variant has one:
/// throttling -> `RateLimited`; timeouts, connection failures, 5xx and transient codes ->
/// `Unavailable`; everything else (validation, missing table, access denied) -> `Rejected`.
pub(crate) fn port_error<E>(service: Service, err: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let class = classify(service, &err);
    to_port(class, service, Box::new(err))
}

/// Like [`port_error`], with the SDK error wrapped by `wrap` into an [`AwsError`] that names
/// the operation and the resource (the topic, the object).
pub(crate) fn port_error_as<E>(
    service: Service,
    err: SdkError<E, HttpResponse>,
    wrap: impl FnOnce(BoxError) -> AwsError,
) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let class = classify(service, &err);
    to_port(class, service, Box::new(wrap(Box::new(err))))
}

fn to_port(class: Class, service: Service, source: BoxError) -> PortError {
    match class {
        Class::Throttled => PortError::RateLimited { service, retry_after: THROTTLE_BACKOFF },
        Class::Transient => PortError::Unavailable { service, source },
        Class::Permanent => PortError::Rejected { service, source },
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
