//! Typed Zendesk errors, parsed from every error body shape the API uses.
//!
//! Display strings carry status codes, error codes and field names only, never the vendor's
//! free-text descriptions (they can quote emails or names); those stay in the fields.

use std::time::Duration;

use bridge_domain::ports::{PortError, Service};
use serde_json::Value;

/// The description Zendesk gives when a closed ticket is updated.
const CLOSED_TICKET: &str = "closed prevents ticket update";

/// One field-level validation error (`details.<field>[]` in a 422 body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field name (`status`, `email`, …).
    pub field: String,
    /// Machine code, e.g. `DuplicateValue`, `BlankValue`, if given.
    pub error: Option<String>,
    /// Human text, e.g. `Status: closed prevents ticket update`.
    pub description: String,
}

/// A failed Zendesk call, classified for retry decisions.
#[derive(Debug, thiserror::Error)]
pub enum ZendeskError {
    /// 429: wait `retry_after` before the next call.
    #[error("zendesk: rate limited, retry after {}s", retry_after.as_secs())]
    RateLimited {
        /// From `Retry-After` (or `ratelimit-reset`), 60 s when absent.
        retry_after: Duration,
    },
    /// 5xx, timeout, connection failure or 409 collision: retry with backoff.
    #[error("zendesk: transient failure ({})", status.map_or_else(|| "no response".to_string(), |s| s.to_string()))]
    Transient {
        /// HTTP status, None when no response arrived.
        status: Option<u16>,
        /// Short non-personal description (error code or transport error kind).
        reason: String,
    },
    /// 404.
    #[error("zendesk: not found: {what}")]
    NotFound {
        /// The API path that was not found (ids only, no query string).
        what: String,
    },
    /// 422 (or another validation failure): the request was understood but refused.
    #[error("zendesk: invalid request ({status}, {}): fields {:?}", error.as_deref().unwrap_or("-"), details.iter().map(|d| d.field.as_str()).collect::<Vec<_>>())]
    Invalid {
        /// HTTP status.
        status: u16,
        /// The `error` code (`RecordInvalid`, …).
        error: Option<String>,
        /// The top-level description.
        description: Option<String>,
        /// Field-level errors.
        details: Vec<FieldError>,
    },
    /// 400 `IdempotentRequestError`: the key was used before with a different body.
    #[error("zendesk: idempotency key reused with different parameters")]
    IdempotencyMismatch,
    /// Any other 4xx (400, 401, 403, …): retrying will not help.
    #[error("zendesk: request refused ({status}, {})", error.as_deref().unwrap_or("-"))]
    Permanent {
        /// HTTP status.
        status: u16,
        /// The error code or title, if the body had one.
        error: Option<String>,
        /// Description, if any.
        description: Option<String>,
    },
    /// A response body did not match the expected shape.
    #[error("zendesk: unexpected response body: {0}")]
    Decode(String),
    /// A background job ended in `failed`.
    #[error("zendesk: job {job_id} failed")]
    JobFailed {
        /// Job id.
        job_id: String,
        /// The job's message, if any.
        message: Option<String>,
    },
    /// A background job did not finish within the bounded wait; poll it again later.
    #[error("zendesk: job {job_id} still running")]
    JobPending {
        /// Job id.
        job_id: String,
    },
    /// The client could not be built (bad base URL, TLS setup).
    #[error("zendesk: configuration: {0}")]
    Config(String),
}

impl ZendeskError {
    /// True when the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ZendeskError::RateLimited { .. } | ZendeskError::Transient { .. } | ZendeskError::JobPending { .. }
        )
    }

    /// True for the 422 "Status: closed prevents ticket update": create a follow-up instead.
    pub fn is_closed_ticket(&self) -> bool {
        match self {
            ZendeskError::Invalid { description, details, .. } => {
                details.iter().any(|d| d.description.to_ascii_lowercase().contains(CLOSED_TICKET))
                    || description.as_deref().is_some_and(|d| d.to_ascii_lowercase().contains(CLOSED_TICKET))
            }
            _ => false,
        }
    }

    /// True for 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ZendeskError::NotFound { .. })
    }

    /// Classifies an error response. `path` is the request path (no query), `retry_after` the
    /// wait announced by the headers.
    pub(crate) fn from_response(status: u16, body: &[u8], path: &str, retry_after: Option<Duration>) -> Self {
        let parsed = ErrorBody::parse(body);
        match status {
            429 => ZendeskError::RateLimited { retry_after: retry_after.unwrap_or(Duration::from_secs(60)) },
            404 => ZendeskError::NotFound { what: path.to_string() },
            409 => ZendeskError::Transient { status: Some(409), reason: parsed.code_or("Conflict") },
            400 if parsed.error.as_deref() == Some("IdempotentRequestError") => ZendeskError::IdempotencyMismatch,
            422 => ZendeskError::Invalid {
                status,
                error: parsed.error,
                description: parsed.description,
                details: parsed.details,
            },
            s if s >= 500 => ZendeskError::Transient { status: Some(s), reason: parsed.code_or("ServerError") },
            s if !parsed.details.is_empty() => ZendeskError::Invalid {
                status: s,
                error: parsed.error,
                description: parsed.description,
                details: parsed.details,
            },
            s => ZendeskError::Permanent { status: s, error: parsed.error, description: parsed.description },
        }
    }

    /// A lightweight port error used only to ask the retry policy what to do.
    pub(crate) fn retry_probe(&self) -> PortError {
        match self {
            ZendeskError::RateLimited { retry_after } => {
                PortError::RateLimited { service: Service::Zendesk, retry_after: *retry_after }
            }
            e if e.is_retryable() => PortError::unavailable(Service::Zendesk, "transient"),
            _ => PortError::rejected(Service::Zendesk, "permanent"),
        }
    }
}

impl From<ZendeskError> for PortError {
    fn from(e: ZendeskError) -> Self {
        let service = Service::Zendesk;
        match e {
            ZendeskError::RateLimited { retry_after } => PortError::RateLimited { service, retry_after },
            ZendeskError::NotFound { what } => PortError::NotFound { service, what },
            ref closed if closed.is_closed_ticket() => {
                PortError::Conflict { service, detail: "ticket is closed".into() }
            }
            ZendeskError::IdempotencyMismatch => {
                PortError::Conflict { service, detail: "idempotency key reused with different parameters".into() }
            }
            e @ (ZendeskError::Transient { .. } | ZendeskError::JobPending { .. }) => {
                PortError::Unavailable { service, source: Box::new(e) }
            }
            e => PortError::Rejected { service, source: Box::new(e) },
        }
    }
}

/// The union of the three JSON error shapes (and plain text).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorBody {
    pub(crate) error: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) details: Vec<FieldError>,
}

impl ErrorBody {
    /// Parses classic `{error, description, details}`, JSON:API `{errors:[{code,title,detail}]}`,
    /// `{error:{title,message}}`, or a plain-text body (kept as the description).
    pub(crate) fn parse(body: &[u8]) -> Self {
        let Ok(json) = serde_json::from_slice::<Value>(body) else {
            let text = String::from_utf8_lossy(body).trim().to_string();
            return Self { description: (!text.is_empty()).then_some(text), ..Self::default() };
        };
        let mut out = Self::default();
        match json.get("error") {
            Some(Value::String(code)) => out.error = Some(code.clone()),
            Some(Value::Object(obj)) => {
                out.error = str_field(obj.get("title"));
                out.description = str_field(obj.get("message"));
            }
            _ => {}
        }
        if out.description.is_none() {
            out.description = match json.get("description") {
                Some(Value::String(d)) => Some(d.clone()),
                _ => None,
            };
        }
        if let Some(Value::Array(errors)) = json.get("errors")
            && let Some(first) = errors.first()
        {
            out.error = out.error.or_else(|| str_field(first.get("code")).or_else(|| str_field(first.get("title"))));
            out.description =
                out.description.or_else(|| str_field(first.get("detail")).or_else(|| str_field(first.get("title"))));
        }
        if let Some(Value::Object(details)) = json.get("details") {
            for (field, entries) in details {
                let entries = match entries {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                for entry in entries {
                    let description = match &entry {
                        Value::String(s) => s.clone(),
                        v => str_field(v.get("description")).unwrap_or_default(),
                    };
                    out.details.push(FieldError {
                        field: field.clone(),
                        error: str_field(entry.get("error")),
                        description,
                    });
                }
            }
        }
        out
    }

    fn code_or(&self, default: &str) -> String {
        self.error.clone().unwrap_or_else(|| default.to_string())
    }
}

fn str_field(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_429_is_rate_limited_with_retry_after() {
        let body = b"Number of allowed API requests per minute exceeded";
        let e = ZendeskError::from_response(429, body, "/tickets", Some(Duration::from_secs(7)));
        assert!(matches!(e, ZendeskError::RateLimited { retry_after } if retry_after == Duration::from_secs(7)));
        assert_eq!(
            ErrorBody::parse(body).description.as_deref(),
            Some("Number of allowed API requests per minute exceeded")
        );
        let port: PortError = e.into();
        assert_eq!(port.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn classic_422_closed_ticket() {
        let body = br#"{"error":"RecordInvalid","description":"Record validation errors","details":{"status":[{"description":"Status: closed prevents ticket update","error":"InvalidValue"}]}}"#;
        let e = ZendeskError::from_response(422, body, "/tickets/5", None);
        assert!(e.is_closed_ticket());
        match &e {
            ZendeskError::Invalid { error, details, .. } => {
                assert_eq!(error.as_deref(), Some("RecordInvalid"));
                assert_eq!(details[0].field, "status");
                assert_eq!(details[0].error.as_deref(), Some("InvalidValue"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(PortError::from(e), PortError::Conflict { .. }));
    }

    #[test]
    fn classic_422_other_validation_is_not_closed() {
        let body = br#"{"error":"RecordInvalid","description":"Record validation errors","details":{"email":[{"description":"Email: x is already being used","error":"DuplicateValue"}]}}"#;
        let e = ZendeskError::from_response(422, body, "/users", None);
        assert!(!e.is_closed_ticket());
        // Display never carries the description (it may hold personal data).
        assert!(!e.to_string().contains("already being used"));
        assert!(matches!(PortError::from(e), PortError::Rejected { .. }));
    }

    #[test]
    fn json_api_errors_shape() {
        let body = br#"{"errors":[{"code":"TooManyRequests","title":"Too many requests to update","status":"429","detail":"slow down"}]}"#;
        let parsed = ErrorBody::parse(body);
        assert_eq!(parsed.error.as_deref(), Some("TooManyRequests"));
        assert_eq!(parsed.description.as_deref(), Some("slow down"));
        let e = ZendeskError::from_response(403, body, "/x", None);
        assert!(matches!(e, ZendeskError::Permanent { status: 403, .. }));
    }

    #[test]
    fn nested_error_object_shape() {
        let body = br#"{"error":{"title":"Invalid attribute","message":"You passed an invalid value"}}"#;
        let parsed = ErrorBody::parse(body);
        assert_eq!(parsed.error.as_deref(), Some("Invalid attribute"));
        assert_eq!(parsed.description.as_deref(), Some("You passed an invalid value"));
    }

    #[test]
    fn idempotency_mismatch_and_not_found_and_5xx() {
        let body = br#"{"error":"IdempotentRequestError","description":"Request parameters don't match the given idempotency key"}"#;
        assert!(matches!(ZendeskError::from_response(400, body, "/tickets", None), ZendeskError::IdempotencyMismatch));
        let nf = ZendeskError::from_response(
            404,
            br#"{"error":"RecordNotFound","description":"Not found"}"#,
            "/tickets/9",
            None,
        );
        assert!(nf.is_not_found());
        let t = ZendeskError::from_response(503, b"", "/tickets", None);
        assert!(t.is_retryable());
        let c = ZendeskError::from_response(409, b"", "/tickets/1", None);
        assert!(c.is_retryable());
        let port =
            PortError::from(ZendeskError::from_response(401, br#"{"error":"Couldn't authenticate you"}"#, "/x", None));
        assert!(!port.is_retryable());
    }
}
