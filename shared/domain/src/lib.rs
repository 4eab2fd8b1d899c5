//! Pure domain of the Intercom <-> Zendesk bridge.
//!
//! Nothing here performs I/O: rules take an event, the current state and the configuration and
//! return decisions; adapters (clients, store, queue) carry them out. Ports are the traits the
//! adapters implement.

pub mod attachments;
pub mod config;
pub mod csat;
pub mod erasure;
pub mod error;
pub mod escalation;
pub mod event;
pub mod ids;
pub mod intake;
pub mod job;
pub mod keys;
pub mod links;
pub mod loop_guard;
pub mod model;
pub mod ports;
pub mod profiles;
pub mod references;
pub mod retry;
pub mod routing;
pub mod settings;
pub mod status;
pub mod sweep;
pub mod tags;
pub mod text;

pub use config::Config;
pub use error::ConfigError;
