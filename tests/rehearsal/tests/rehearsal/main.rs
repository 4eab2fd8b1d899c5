#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The stack rehearsal's scenarios: each deploys `infra/template.yaml` on moto, drives the
//! deployed shape (each function as its own processes with its template environment and role,
//! the HTTP API, the SQS event source mappings, the schedules) against the simulators, asserts
//! the effects on both vendors and in the table, and fails on any call AWS would refuse, naming
//! the function, the action and the resource.

mod dead_letters;
mod escalation;
mod operations;
mod profiles;
mod support;
