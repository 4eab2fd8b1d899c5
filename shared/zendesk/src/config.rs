//! Client configuration: base URL, credentials (redacted in `Debug`) and timeout.

use std::fmt;
use std::time::Duration;

/// A secret string that never appears in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; only for building the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// How the client authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// API token: HTTP Basic `{email}/token:{token}`.
    ApiToken {
        /// Email of the integration agent the token is paired with.
        email: String,
        /// The API token.
        token: Secret,
    },
    /// OAuth access token: `Authorization: Bearer {token}`.
    OAuth {
        /// The access token.
        token: Secret,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The email is personal data: keep it out of logs as well.
        match self {
            Auth::ApiToken { .. } => f.write_str("ApiToken { email: [redacted], token: [redacted] }"),
            Auth::OAuth { .. } => f.write_str("OAuth { token: [redacted] }"),
        }
    }
}

impl Auth {
    /// The `Authorization` header value.
    pub(crate) fn header_value(&self) -> String {
        use base64::Engine as _;
        match self {
            Auth::ApiToken { email, token } => {
                let raw = format!("{email}/token:{}", token.expose());
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
            Auth::OAuth { token } => format!("Bearer {}", token.expose()),
        }
    }
}

/// Everything the client needs to talk to one Zendesk account.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    /// Account URL, e.g. `https://acme.zendesk.com`, or a simulator URL. The client appends
    /// `/api/v2`.
    pub base_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Timeout of one HTTP attempt.
    pub timeout: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_credentials() {
        let auth = Auth::ApiToken { email: "bot@example.com".into(), token: Secret::new("s3cr3t") };
        let cfg = ZendeskConfig { base_url: "https://acme.zendesk.com".into(), auth, timeout: Duration::from_secs(5) };
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("s3cr3t"));
        assert!(!printed.contains("bot@example.com"));
        let bearer = format!("{:?}", Auth::OAuth { token: "tok123".into() });
        assert!(!bearer.contains("tok123"));
    }

    #[test]
    fn basic_header_uses_token_suffix() {
        let auth = Auth::ApiToken { email: "a@b.c".into(), token: Secret::new("t") };
        // base64("a@b.c/token:t")
        assert_eq!(auth.header_value(), "Basic YUBiLmMvdG9rZW46dA==");
    }
}
