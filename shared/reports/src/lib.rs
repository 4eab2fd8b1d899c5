//! Job 7: consolidated CSAT, volume and resolution reporting.
//!
//! The rules (normalisation, CSAT definition, aggregates, periods, CSV and Sheets tables) are
//! pure and live in `bridge_domain::csat`. This crate holds the adapters and the use case:
//! - [`collect`]: the [`collect::ReportSource`] port, implemented for the Intercom client
//!   (conversation search) and the Zendesk client (satisfaction ratings, incremental ticket
//!   export, ticket metrics);
//! - [`parquet_out`]: Parquet files (the `parquet` crate's low-level writer, no arrow and no
//!   codecs: about 30 s more to build on two cores, and kept out of every other Lambda);
//! - [`sheets`]: a small Google Sheets v4 client (service-account JWT, RS256 via `aws-lc-rs`);
//! - [`dashboard`]: the self-contained HTML dashboard (pure);
//! - [`run`]: the use case, the scheduler entry point and the settings.

pub mod collect;
pub mod dashboard;
pub mod parquet_out;
pub mod run;
pub mod sheets;

pub use run::{LiveReporter, ReportRequest, ReportSettings, Reporter, RunSummary, S3Sink, build, handle_scheduled};
