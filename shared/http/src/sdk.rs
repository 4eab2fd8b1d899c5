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
