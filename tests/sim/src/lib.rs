//! Stateful simulators of the Intercom and Zendesk APIs, and the moto (local AWS) harness.
//!
//! The simulators speak real HTTP on loopback, keep state in memory, answer with the vendors'
//! paths, status codes, error bodies, pagination and rate-limit headers, emit signed webhooks on
//! every state change (API-made changes included), and record every exchange so a test can
//! validate it against the official OpenAPI descriptions.

pub mod common;
pub mod intercom;
pub mod moto;
pub mod sheets;
pub mod zendesk;

pub use common::{Exchange, Faults};

/// A `reqwest` client on the bridge's transport ([`bridge_http::client_builder`]), for tests
/// and drivers that talk to the simulators, moto or the bridge over HTTP.
///
/// # Panics
/// When the TLS configuration cannot be built (the machine's certificate store is unreadable).
#[allow(clippy::expect_used)]
pub fn http_client() -> reqwest::Client {
    bridge_http::client_builder()
        .and_then(|b| b.build().map_err(|e| bridge_http::HttpError::Tls(e.to_string())))
        .expect("an HTTP client")
}
