//! The AWS SDK's HTTP client (feature `aws-sdk`): the bridge's one `reqwest` client
//! ([`client_builder`](crate::client_builder)) behind the SDK's [`HttpClient`] trait.
//!
//! Without it the SDK links its own HTTPS stack (hyper-util with HTTP/2, hyper-rustls, aws-lc)
//! beside reqwest's, which made the SDK's transport most of every Lambda bootstrap
//! (docs/BENCHMARKS.md, bootstrap sizes). Requests and responses pass through unchanged; the
//! response body streams to the SDK as it arrives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// The SDK's HTTP client over [`client_builder`](crate::client_builder): one `reqwest` client (and so one connection
/// pool) per distinct pair of connect and read timeouts the SDK asks for, made on first use.
pub fn http_client() -> SharedHttpClient {
    SharedHttpClient::new(ReqwestClient::default())
}

type Timeouts = (Option<Duration>, Option<Duration>);

#[derive(Debug, Default)]
struct ReqwestClient {
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for ReqwestClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        connectors.entry(timeouts).or_insert_with(|| SharedHttpConnector::new(Connector::new(timeouts))).clone()
    }
}

/// One `reqwest` client with the SDK's timeouts; a client that cannot be built (the platform's
/// certificate store is unreadable) answers every request with that error.
#[derive(Debug, Clone)]
struct Connector {
    client: Result<reqwest::Client, Arc<str>>,
}

impl Connector {
    fn new((connect, read): Timeouts) -> Self {
        let client = crate::client_builder().map_err(|e| e.to_string()).and_then(|builder| {
            // The SDK handles redirects and retries itself.
            let mut builder = builder.redirect(reqwest::redirect::Policy::none());
            if let Some(connect) = connect {
                builder = builder.connect_timeout(connect);
            }
            if let Some(read) = read {
                builder = builder.read_timeout(read);
            }
            builder.build().map_err(|e| e.to_string())
        });
        Self { client: client.map_err(Arc::from) }
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let client = client.map_err(|e| ConnectorError::other(e.to_string().into(), None))?;
            let request = request.try_into_http1x().map_err(|e| ConnectorError::user(e.into()))?;
            let request = reqwest::Request::try_from(request.map(into_reqwest_body))
                .map_err(|e| ConnectorError::user(e.into()))?;
            let response = client.execute(request).await.map_err(connector_error)?;
            let response: http::Response<reqwest::Body> = response.into();
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// An in-memory body (every request the bridge makes) is handed over as bytes; a streaming one
/// is wrapped.
fn into_reqwest_body(body: SdkBody) -> reqwest::Body {
    match body.bytes() {
        Some(bytes) => reqwest::Body::from(bytes::Bytes::copy_from_slice(bytes)),
        None => reqwest::Body::wrap(body),
    }
}

/// Timeouts and connection failures are the transient kinds the SDK's retry policy retries.
fn connector_error(e: reqwest::Error) -> ConnectorError {
    if e.is_timeout() {
        ConnectorError::timeout(e.into())
    } else if e.is_connect() || e.is_request() || e.is_body() {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use http_body_util::BodyExt as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A server on loopback that answers one request with `reply` (or never, when `None`) and
    /// returns what it read.
    async fn one_exchange(reply: Option<&'static [u8]>) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut read = Vec::new();
            let mut buffer = [0_u8; 4096];
            while !String::from_utf8_lossy(&read).contains("\r\n\r\n{\"k\":1}") {
                let n = socket.read(&mut buffer).await.unwrap();
                if n == 0 {
                    break;
                }
                read.extend_from_slice(&buffer[..n]);
            }
            match reply {
                Some(reply) => socket.write_all(reply).await.unwrap(),
                None => tokio::time::sleep(Duration::from_secs(5)).await,
            }
            String::from_utf8_lossy(&read).into_owned()
        });
        (url, server)
    }

    fn request(url: &str) -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::from(r#"{"k":1}"#));
        request.set_method("POST").unwrap();
        request.set_uri(format!("{url}/table?x=1")).unwrap();
        request.headers_mut().insert("x-amz-target", "DynamoDB_20120810.PutItem");
        request.headers_mut().insert("content-length", "7");
        request
    }

    #[tokio::test(flavor = "current_thread")]
    async fn requests_and_responses_pass_through_unchanged() {
        let (url, server) =
            one_exchange(Some(b"HTTP/1.1 201 Created\r\nx-amzn-requestid: r-1\r\ncontent-length: 4\r\n\r\nmade")).await;
        let connector = Connector::new((Some(Duration::from_secs(2)), None));
        let response = connector.call(request(&url)).await.expect("a response");
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(response.headers().get("x-amzn-requestid"), Some("r-1"));
        let body = response.into_body().collect().await.expect("the body").to_bytes();
        assert_eq!(&body[..], b"made");
        let sent = server.await.unwrap();
        assert!(sent.starts_with("POST /table?x=1 HTTP/1.1\r\n"), "{sent}");
        assert!(sent.to_ascii_lowercase().contains("x-amz-target: dynamodb_20120810.putitem"), "{sent}");
        assert!(sent.ends_with("\r\n\r\n{\"k\":1}"), "{sent}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_silent_server_is_a_timeout_the_sdk_retries() {
        let (url, _server) = one_exchange(None).await;
        let connector = Connector::new((Some(Duration::from_secs(2)), Some(Duration::from_millis(200))));
        let error = connector.call(request(&url)).await.expect_err("no answer");
        assert!(error.is_timeout(), "{error:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_refused_connection_is_an_io_error_the_sdk_retries() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let error = Connector::new((None, None)).call(request(&url)).await.expect_err("refused");
        assert!(error.is_io(), "{error:?}");
    }
}
