//! Typed Intercom REST client (API version 2.16 by default), the [`Messenger`] port
//! implementation, and webhook signature verification and parsing.
//!
//! - [`IntercomClient`] builds one HTTP client (connection reuse) and routes every call through
//!   one private `send` function that applies the shared [`bridge_domain::retry::RetryPolicy`]
//!   and records the rate-limit headers of every response ([`IntercomClient::last_rate_limit`]).
//! - [`wire`] holds tolerant serde types for Intercom's JSON; they convert into the
//!   vendor-neutral model of `bridge_domain::model`.
//! - [`webhook`] verifies `X-Hub-Signature` and parses notification envelopes.
//!
//! [`Messenger`]: bridge_domain::ports::Messenger

mod client;
mod config;
mod convert;
mod de;
mod endpoints;
mod erasure;
mod error;
mod feed;
mod files;
mod messenger;
mod profiles;
pub mod query;
pub mod webhook;
pub mod wire;

pub use client::{IntercomClient, Page, RateLimitSnapshot};
pub use config::{AU_BASE_URL, DEFAULT_VERSION, EU_BASE_URL, IntercomConfig, US_BASE_URL};
pub use endpoints::{
    AttributeModel, CompanyWrite, ContactWrite, NewConversationAttribute, ReplyKind, UpdateConversation,
};
pub use error::IntercomError;
pub use files::MAX_REPLY_FILES;
pub use query::Query;
