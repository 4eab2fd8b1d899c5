//! Client configuration.

use std::fmt;
use std::time::Duration;

use bridge_domain::retry::RetryPolicy;
use url::Url;

use crate::error::IntercomError;

/// The API version sent in `Intercom-Version` unless configured otherwise.
pub const DEFAULT_VERSION: &str = "2.16";
/// US region host.
pub const US_BASE_URL: &str = "https://api.intercom.io";
/// EU region host.
pub const EU_BASE_URL: &str = "https://api.eu.intercom.io";
/// Australian region host.
pub const AU_BASE_URL: &str = "https://api.au.intercom.io";

/// An Intercom access token. `Debug` and `Display` never print it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// How to reach one Intercom workspace.
#[derive(Debug, Clone)]
pub struct IntercomConfig {
    /// Regional host (US/EU/AU) or a simulator URL.
    pub base_url: Url,
    /// Bearer token of the app.
    pub access_token: AccessToken,
    /// `Intercom-Version` header value.
    pub version: String,
    /// Timeout of one HTTP attempt.
    pub timeout: Duration,
    /// Retry policy applied to every call.
    pub retry: RetryPolicy,
}

impl IntercomConfig {
    /// A configuration with the default version (2.16), a 10 s timeout and the default retry
    /// policy.
    pub fn new(base_url: &str, access_token: AccessToken) -> Result<Self, IntercomError> {
        let base_url = Url::parse(base_url).map_err(|e| IntercomError::Config(format!("invalid base URL: {e}")))?;
        Ok(Self {
            base_url,
            access_token,
            version: DEFAULT_VERSION.to_string(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_token() {
        let cfg = IntercomConfig::new(US_BASE_URL, AccessToken::new("tok_secret_123")).unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("tok_secret_123"));
        assert!(shown.contains("redacted"));
        assert_eq!(cfg.version, "2.16");
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(IntercomConfig::new("not a url", AccessToken::new("t")).is_err());
    }
}
