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
