//! The one HTTP client of the bridge.
//!
//! Every outgoing HTTPS request (Intercom, Zendesk, Google Sheets, and the AWS SDK through
//! [`sdk::http_client`]) goes through a [`reqwest::Client`] made by [`client_builder`]: rustls with
//! the `ring` provider, the platform's certificate roots, HTTP/1.1 only, no proxy from the
//! environment. One TLS stack and one HTTP stack are linked into each Lambda bootstrap, instead
//! of reqwest's and the AWS SDK's default client side by side (docs/BENCHMARKS.md, bootstrap
//! sizes).
//!
//! ```no_run
//! let client = bridge_http::client_builder()?
//!     .timeout(std::time::Duration::from_secs(10))
//!     .build()?;
//! # let _ = client;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "aws-sdk")]
pub mod sdk;

use std::sync::{Arc, OnceLock};

use rustls_platform_verifier::BuilderVerifierExt as _;

/// Why no HTTP client could be made.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The TLS configuration could not be built (for example, the platform's certificate store
    /// is unreadable).
    #[error("TLS configuration: {0}")]
    Tls(String),
}

/// A [`reqwest::ClientBuilder`] with the bridge's transport: TLS from [`tls_config`], HTTP/1.1,
/// no proxy. Callers add their timeouts, headers and redirect policy, then `build()`.
///
/// # Errors
/// [`HttpError::Tls`] when the TLS configuration cannot be built.
pub fn client_builder() -> Result<reqwest::ClientBuilder, HttpError> {
    let tls = tls_config()?;
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls).http1_only().no_proxy())
}

/// The rustls client configuration: the `ring` provider, TLS 1.2 and 1.3, the platform
/// verifier (the system's roots, as on Lambda's Amazon Linux), HTTP/1.1 by ALPN. Built once per
/// process and cloned after.
///
/// # Errors
/// [`HttpError::Tls`] when the configuration cannot be built.
pub fn tls_config() -> Result<rustls::ClientConfig, HttpError> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG.get_or_init(build_tls_config).clone().map_err(HttpError::Tls)
}

fn build_tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_platform_verifier()
        .map_err(|e| e.to_string())?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_configuration_offers_http1_only() {
        let config = tls_config().expect("a TLS configuration");
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_client_speaks_plain_http_to_a_local_server() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = vec![0_u8; 4096];
            let n = socket.read(&mut request).await.expect("read");
            socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await.expect("write");
            String::from_utf8_lossy(&request[..n]).into_owned()
        });
        let client = client_builder().expect("builder").build().expect("client");
        let body = client.get(format!("http://{addr}/x")).send().await.expect("send").text().await.expect("body");
        assert_eq!(body, "ok");
        let request = server.await.expect("server");
        assert!(request.starts_with("GET /x HTTP/1.1\r\n"), "{request}");
    }
}
