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
//! - [`run`]: the use case (its adapters and each run's configuration passed in, the files written through
//!   the [`ReportSink`] port, [`S3Sink`] over `bridge_aws::S3Objects` in production) and the
//!   scheduler entry point.
//!
//! The crate sits beside the jobs: it depends on the domain and the adapters, never on
//! `bridge-runtime`, which reads the settings of `csat-report` and `bridge report csat` and
//! wires the adapters (`bridge_runtime::reports`).

pub mod collect;
pub mod dashboard;
pub mod parquet_out;
pub mod run;
pub mod sheets;

pub use run::{ReportRequest, ReportSink, Reporter, RunSummary, S3Sink, handle_scheduled};
