//! The end-to-end tests: the real ingress, queues, store and workers against moto and the vendor
//! simulators, one module per job or concern, in one test binary (one link). Run one module with
//! `cargo test -p bridge-e2e --test e2e <module>::`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod architecture;
mod attachments;
mod chaos;
mod contact_merge;
mod csat;
mod erasure;
mod escalation;
mod intake;
mod merged_tickets;
mod observability;
mod profile_backfill;
mod profile_drift;
mod profiles;
mod status_tags;
mod sweeps;
mod templates;
mod vendor_calls;
