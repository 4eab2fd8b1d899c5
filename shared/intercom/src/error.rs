//! Typed errors of the Intercom client and their mapping onto [`PortError`].

use std::time::Duration;

use bridge_domain::ports::{PortError, Service};
use serde::Deserialize;

/// A failed Intercom call. `Display` never includes bodies, emails or tokens.
#[derive(Debug, thiserror::Error)]
pub enum IntercomError {
    /// 429 `rate_limit_exceeded`. Intercom documents no `Retry-After`; the wait comes from
    /// `X-RateLimit-Reset` (Unix time the 10-second window refills) minus now, at least 1 s.
    #[error("intercom: rate limited, retry after {}s", retry_after.as_secs())]
    RateLimited {
        /// How long to wait before the window refills.
        retry_after: Duration,
        /// Intercom's request id, when sent.
        request_id: Option<String>,
    },
    /// 5xx, timeout or connection failure.
    #[error("intercom: transient failure ({reason})")]
    Transient {
        /// Short description: `HTTP 503`, `timeout`, `connect`.
        reason: String,
        /// The HTTP client error, when there is one.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// 404 (`not_found`, `tag_not_found`, `company_not_found`, …).
    #[error("intercom: {what} not found ({code})")]
    NotFound {
        /// What was looked up (type and Intercom id; never an email).
        what: String,
        /// Intercom error code.
        code: String,
        /// Intercom's request id.
        request_id: Option<String>,
    },
    /// 410 `contact_merged`: the contact now lives under `new_id`.
    #[error("intercom: contact merged into {new_id}")]
    Merged {
        /// The canonical contact id from the `Link` header (or the body).
        new_id: String,
    },
    /// 409 `conflict`: e.g. a contact with the same email/external id exists.
    #[error("intercom: conflict ({code}), existing id {existing_id:?}")]
    Conflict {
        /// The existing object's id, parsed from "…already exists with id=…".
        existing_id: Option<String>,
        /// Intercom error code.
        code: String,
        /// Intercom's request id.
        request_id: Option<String>,
    },
    /// 400/401/403/406/422 and other refusals that retrying will not fix.
    #[error("intercom: rejected with HTTP {status} ({code}, request_id {request_id:?})")]
    Permanent {
        /// HTTP status.
        status: u16,
        /// First `error.list` code (`parameter_invalid`, `unauthorized`, …).
        code: String,
        /// First `error.list` message (may quote input: do not log).
        message: String,
        /// Intercom's request id.
        request_id: Option<String>,
    },
    /// A 2xx body that does not have the expected shape.
    #[error("intercom: unexpected response for {what}: {reason}")]
    Decode {
        /// Which call.
        what: String,
        /// Why (no body content).
        reason: String,
    },
    /// A request the client refuses to send (e.g. an email message without a subject).
    #[error("intercom: invalid request: {0}")]
    InvalidRequest(String),
    /// Invalid client configuration.
    #[error("intercom: invalid configuration: {0}")]
    Config(String),
}

impl IntercomError {
    /// True when retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    /// A body-less copy of the classification, for the shared retry policy.
    pub(crate) fn retry_probe(&self) -> PortError {
        match self {
            Self::RateLimited { retry_after, .. } => {
                PortError::RateLimited { service: Service::Intercom, retry_after: *retry_after }
            }
            Self::Transient { reason, .. } => PortError::unavailable(Service::Intercom, reason.clone()),
            _ => PortError::rejected(Service::Intercom, "not retryable"),
        }
    }

    /// Whether the request certainly did not reach Intercom's application (safe to resend
    /// even for non-idempotent POSTs).
    pub(crate) fn not_processed(&self) -> bool {
        match self {
            Self::RateLimited { .. } => true,
            Self::Transient { source: Some(e), .. } => e.is_connect(),
            _ => false,
        }
    }
}

impl From<IntercomError> for PortError {
    fn from(e: IntercomError) -> Self {
        let service = Service::Intercom;
        match e {
            IntercomError::RateLimited { retry_after, .. } => PortError::RateLimited { service, retry_after },
            IntercomError::Transient { .. } => PortError::Unavailable { service, source: Box::new(e) },
            IntercomError::NotFound { what, .. } => PortError::NotFound { service, what },
            IntercomError::Merged { new_id } => PortError::Merged { service, new_id },
            IntercomError::Conflict { existing_id, code, .. } => PortError::Conflict {
                service,
                detail: match existing_id {
                    Some(id) => format!("{code}: existing id {id}"),
                    None => code,
                },
            },
            IntercomError::Permanent { .. }
            | IntercomError::Decode { .. }
            | IntercomError::InvalidRequest(_)
            | IntercomError::Config(_) => PortError::Rejected { service, source: Box::new(e) },
        }
    }
}

/// The `error.list` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorList {
    #[serde(deserialize_with = "crate::de::opt_string")]
    pub request_id: Option<String>,
    pub errors: Vec<ErrorItem>,
}

/// One entry of `error.list`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorItem {
    #[serde(deserialize_with = "crate::de::string")]
    pub code: String,
    #[serde(deserialize_with = "crate::de::string")]
    pub message: String,
}

/// What the client needs from a failed response.
#[derive(Debug)]
pub(crate) struct FailedResponse<'a> {
    pub status: u16,
    pub body: &'a [u8],
    pub link_header: Option<&'a str>,
    pub rate_limit_reset: Option<i64>,
    pub now: i64,
    pub what: &'a str,
}

/// Classifies a non-2xx response.
pub(crate) fn classify(resp: FailedResponse<'_>) -> IntercomError {
    let list: ErrorList = serde_json::from_slice(resp.body).unwrap_or_default();
    let (code, message) =
        list.errors.into_iter().next().map(|e| (e.code, e.message)).unwrap_or_else(|| (String::new(), String::new()));
    let request_id = list.request_id;
    match resp.status {
        429 => IntercomError::RateLimited {
            retry_after: retry_after_from_reset(resp.rate_limit_reset, resp.now),
            request_id,
        },
        404 => IntercomError::NotFound { what: resp.what.to_string(), code, request_id },
        409 => IntercomError::Conflict { existing_id: existing_id_from_message(&message), code, request_id },
        410 => match resp.link_header.and_then(canonical_contact_id).or_else(|| existing_id_from_message(&message)) {
            Some(new_id) => IntercomError::Merged { new_id },
            None => IntercomError::NotFound { what: resp.what.to_string(), code, request_id },
        },
        408 | 500..=599 => IntercomError::Transient { reason: format!("HTTP {}", resp.status), source: None },
        status => IntercomError::Permanent { status, code, message, request_id },
    }
}

/// `X-RateLimit-Reset` minus now, at least one second; ten seconds (one Intercom window) when
/// the header is missing.
pub(crate) fn retry_after_from_reset(reset: Option<i64>, now: i64) -> Duration {
    match reset {
        Some(at) => Duration::from_secs(at.saturating_sub(now).max(1).unsigned_abs()),
        None => Duration::from_secs(10),
    }
}

/// Parses `</contacts/{id}>; rel="canonical"` (several comma-separated links allowed).
pub(crate) fn canonical_contact_id(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';').unwrap_or((part, ""));
        if !params.contains("canonical") {
            return None;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        let id = target.trim_end_matches('/').rsplit('/').next()?;
        (!id.is_empty()).then(|| id.to_string())
    })
}

/// Parses the id out of "A contact matching those details already exists with id=…".
pub(crate) fn existing_id_from_message(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("id=")?;
    let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn failed(status: u16, body: &str, link: Option<&str>) -> IntercomError {
        classify(FailedResponse {
            status,
            body: body.as_bytes(),
            link_header: link,
            rate_limit_reset: Some(1_000_005),
            now: 1_000_000,
            what: "contact 1",
        })
    }

    #[test]
    fn parses_link_header() {
        assert_eq!(canonical_contact_id(r#"</contacts/abc123>; rel="canonical""#).as_deref(), Some("abc123"));
        assert_eq!(canonical_contact_id(r#"</x>; rel="next", </contacts/z9>; rel="canonical""#).as_deref(), Some("z9"));
        assert_eq!(canonical_contact_id("garbage"), None);
    }

    #[test]
    fn classifies_statuses() {
        let e = failed(
            410,
            r#"{"type":"error.list","errors":[{"code":"contact_merged","message":"m"}]}"#,
            Some(r#"</contacts/new1>; rel="canonical""#),
        );
        assert!(matches!(e, IntercomError::Merged { ref new_id } if new_id == "new1"));
        let e = failed(
            409,
            r#"{"type":"error.list","request_id":"r1","errors":[{"code":"conflict","message":"A contact matching those details already exists with id=65ab12"}]}"#,
            None,
        );
        assert!(matches!(e, IntercomError::Conflict { existing_id: Some(ref id), .. } if id == "65ab12"));
        let e = failed(429, "{}", None);
        assert!(matches!(e, IntercomError::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(5)));
        assert!(matches!(failed(503, "", None), IntercomError::Transient { .. }));
        assert!(matches!(failed(404, "not json", None), IntercomError::NotFound { .. }));
        let e = failed(
            422,
            r#"{"type":"error.list","request_id":null,"errors":[{"code":"parameter_invalid","message":"x"}]}"#,
            None,
        );
        assert!(matches!(e, IntercomError::Permanent { status: 422, ref code, .. } if code == "parameter_invalid"));
    }

    #[test]
    fn reset_in_the_past_waits_one_second() {
        assert_eq!(retry_after_from_reset(Some(10), 20), Duration::from_secs(1));
    }

    #[test]
    fn maps_onto_port_errors() {
        let p: PortError = IntercomError::Merged { new_id: "n".into() }.into();
        assert!(matches!(p, PortError::Merged { .. }));
        let p: PortError = IntercomError::Transient { reason: "HTTP 502".into(), source: None }.into();
        assert!(p.is_retryable());
    }
}
