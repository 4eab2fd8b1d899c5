//! Client configuration.

use std::time::Duration;

use bridge_domain::retry::RetryPolicy;
use secrecy::SecretString;
use url::Url;

/// The API version sent in `Intercom-Version` unless configured otherwise.
pub const DEFAULT_VERSION: &str = "2.16";
/// US region host.
pub const US_BASE_URL: &str = "https://api.intercom.io";
/// EU region host.
pub const EU_BASE_URL: &str = "https://api.eu.intercom.io";
/// Australian region host.
pub const AU_BASE_URL: &str = "https://api.au.intercom.io";

/// How to reach one Intercom workspace.
#[derive(Debug, Clone)]
pub struct IntercomConfig {
    /// Regional host (US/EU/AU) or a simulator URL (http or https).
    pub base_url: Url,
    /// Bearer token of the app (`Debug` never prints it).
    pub access_token: SecretString,
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
    pub fn new(base_url: Url, access_token: SecretString) -> Self {
        Self {
            base_url,
            access_token,
            version: DEFAULT_VERSION.to_string(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_token() {
        let cfg = IntercomConfig::new(Url::parse(US_BASE_URL).unwrap(), SecretString::from("tok_secret_123"));
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("tok_secret_123"));
        assert!(shown.to_lowercase().contains("redacted"));
        assert_eq!(cfg.version, "2.16");
    }

    #[test]
    fn rejects_bad_urls() {
        let client = |url: &str| crate::IntercomClient::new(IntercomConfig::new(url.parse().unwrap(), "t".into()));
        assert!(client("mailto:ops@example.com").is_err(), "not a base URL");
        assert!(client("ftp://files.example.com").is_err(), "not http(s)");
        assert!(client(US_BASE_URL).is_ok());
    }
}
