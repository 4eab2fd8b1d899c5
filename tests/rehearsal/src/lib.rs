//! The stack rehearsal: `infra/template.yaml` run locally as AWS would run it.
//!
//! [`Rehearsal::start`]:
//! 1. starts moto with IAM enforcement (`moto_iam.py`: actions and signatures checked) and both
//!    vendor simulators, and seeds them;
//! 2. deploys the template onto moto with `stack.py` (the pinned SAM translator, every resource
//!    created, intrinsics and secret references resolved as CloudFormation would), with the
//!    rehearsal's configuration in S3 (`ConfigBucket`);
//! 3. runs each function's own bootstrap binary, built with release semantics (the `rehearse`
//!    profile, [`DEFAULT_PROFILE`]), as its own processes under a local Lambda Runtime API ([`lambda`]), with exactly the environment the template gives it and the
//!    credentials of its own role (an STS session on moto);
//! 4. puts every AWS request through a recording proxy ([`proxy`]) that evaluates it against the
//!    caller's policies with an IAM evaluator that understands resources and conditions, and
//!    answers `AccessDenied` where AWS would;
//! 5. drives the functions through the event sources the template declares ([`sources`]): the
//!    HTTP API routes (the simulators' webhooks go there), the SQS event source mappings, and the
//!    schedules on demand.
//!
//! What the rehearsal changes from the template, and why: the vendor base URLs point at the
//! simulators; `AWS_ENDPOINT_URL` points at the proxy; the task root (`/var/task`) is a
//! temporary folder. The README's "What the rehearsal cannot show" lists what differs from AWS.

use std::path::{Path, PathBuf};

pub mod aws_request;
mod binaries;
mod deploy;
pub mod iam;
pub mod lambda;
pub mod manifest;
pub mod proxy;
pub mod sources;
mod stack;

pub use binaries::{DEFAULT_PROFILE, binaries_beside, binary_dir, profile, profile_folder};
pub use deploy::{DeployFailed, SecretSetup};
pub use stack::{Extra, Options, Rehearsal, lesson_resource};

/// The configuration the rehearsal deploys, with `{bot}`, `{group}`, `{general}`, `{enterprise}`.
pub const CONFIG_TEMPLATE: &str = include_str!("../config.yaml");
/// The binaries the rehearsal runs: the functions and the operator's `bridge`.
pub const BINARIES: [&str; 9] = [
    "intercom-webhook",
    "zendesk-webhook",
    "escalate",
    "ticket-intake",
    "ticket-status",
    "tag-sync",
    "csat-report",
    "profile-sync",
    "bridge",
];
/// The lessons file: the AWS calls each function and the operator are known to make.
pub const LESSONS: &str = "infra/iam-calls.json";
/// Stack name of every rehearsal (each has its own moto).
pub const STACK: &str = "rehearsal";
/// The secret of the trigger-connected Zendesk webhook in the simulator.
pub const TRIGGER_SECRET_KEY: &str = "zendesk_trigger_webhook_secret";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| manifest.to_path_buf())
}
