//! Pure domain of the Intercom <-> Zendesk bridge.
//!
//! Nothing here performs I/O: rules take an event, the current state and the configuration and
//! return decisions; adapters (clients, store, queue) carry them out. Ports are the traits the
//! adapters implement.

pub mod config;
pub mod escalation;
pub mod ids;
pub mod model;
pub mod ports;
pub mod retry;
pub mod routing;
pub mod text;

pub use config::{Config, ConfigError};
