//! Wiring shared by the Lambda functions and `bridge serve`: settings from the environment,
//! adapters built once per process, the webhook ingress, the SQS batch driver, metrics and
//! tracing setup, and the wiring of job 7's reports ([`reports`]). It calls AWS only through
//! `bridge_aws`.

pub mod app;
pub mod catalogs;
pub mod drift_alerts;
pub mod driver;
pub mod ingress;
pub mod local;
pub mod metrics;
pub mod poller;
pub mod process;
pub mod references;
pub mod reload;
pub mod reports;
pub mod schedules;
pub mod settings;
pub mod telemetry;
pub mod testing;

/// The allocator of every binary built on this crate (the Lambdas, `bridge`, tests and benches).
/// Parsing and building JSON allocate a lot of small strings; mimalloc serves them with about a
/// third less CPU than glibc's malloc on the ingress path (docs/BENCHMARKS.md). Its resident
/// memory stays low because [`process::init`] keeps huge pages out of its arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The domain's ports, events and routing, re-exported for the function crates.
pub use bridge_domain::{event, ports, routing};

pub use app::App;
