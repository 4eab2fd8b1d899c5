//! Typed Zendesk Support client for the bridge: tickets, users, organizations, groups, field
//! definitions, CSAT ratings, ticket metrics and incremental exports; the
//! [`bridge_domain::ports::Helpdesk`] port; webhook signature verification and parsing.
//!
//! Every call goes through one private `send` that applies
//! [`bridge_domain::retry::RetryPolicy`]: short waits are spent inline with jitter, long waits
//! come back as [`ZendeskError::RateLimited`] so the queue can delay the message.

mod client;
mod config;
pub mod convert;
mod erasure;
mod error;
mod feed;
mod files;
mod helpdesk;
mod people;
mod profiles;
mod rate_limit;
mod reporting;
pub mod setup;
pub mod sla;
mod tickets;
pub mod types;
pub mod webhook;

pub use client::{JOB_STATUSES_MAX, ZdResult, ZendeskClient};
pub use config::{Auth, ZendeskConfig};
pub use error::{FieldError, ZendeskError};
pub use rate_limit::{Bucket, RateLimitSnapshot};
pub use types::*;
