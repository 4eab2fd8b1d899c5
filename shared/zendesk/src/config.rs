//! Client configuration: base URL, credentials (redacted in `Debug`) and timeout.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// How the client authenticates (the settings produce it from `ZENDESK_EMAIL` +
/// `ZENDESK_API_TOKEN`, or `ZENDESK_OAUTH_TOKEN`).
#[derive(Clone)]
pub enum Auth {
    /// API token: HTTP Basic `{email}/token:{token}`.
    ApiToken {
        /// Email of the integration agent the token is paired with.
        email: String,
        /// The API token.
        token: SecretString,
    },
    /// OAuth access token: `Authorization: Bearer {token}`.
    OAuth {
        /// The access token.
        token: SecretString,
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
    pub(crate) fn header_value(&self) -> SecretString {
        use base64::Engine as _;
        match self {
            Auth::ApiToken { email, token } => {
                let raw = SecretString::from(format!("{email}/token:{}", token.expose_secret()));
                let encoded = base64::engine::general_purpose::STANDARD.encode(raw.expose_secret());
                SecretString::from(format!("Basic {encoded}"))
            }
            Auth::OAuth { token } => SecretString::from(format!("Bearer {}", token.expose_secret())),
        }
    }
}

/// Everything the client needs to talk to one Zendesk account.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    /// Account URL, e.g. `https://acme.zendesk.com`, or a simulator URL (http or https). The
    /// client appends `/api/v2`.
    pub base_url: Url,
    /// Credentials.
    pub auth: Auth,
    /// Timeout of one HTTP attempt.
    pub timeout: Duration,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_never_prints_credentials() {
        let auth = Auth::ApiToken { email: "bot@example.com".into(), token: SecretString::from("s3cr3t") };
        let base_url = Url::parse("https://acme.zendesk.com").unwrap();
        let cfg = ZendeskConfig { base_url, auth, timeout: Duration::from_secs(5) };
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("s3cr3t"));
        assert!(!printed.contains("bot@example.com"));
        let bearer = format!("{:?}", Auth::OAuth { token: "tok123".into() });
        assert!(!bearer.contains("tok123"));
    }

    #[test]
    fn basic_header_uses_token_suffix() {
        let auth = Auth::ApiToken { email: "a@b.c".into(), token: SecretString::from("t") };
        // base64("a@b.c/token:t")
        assert_eq!(auth.header_value().expose_secret(), "Basic YUBiLmMvdG9rZW46dA==");
    }
}
