//! Fidelity checks: validates the HTTP exchanges recorded by the `bridge-sim` simulators against
//! the official Intercom and Zendesk OpenAPI descriptions.
//!
//! The spec files are never copied into the repository. They are read at run time from
//! `$BRIDGE_SPECS_DIR` when set, else the cache `<cargo target dir>/openapi-specs/` that `make specs` (part of `make test`) downloads
//! (pinned by sha256, `scripts/fetch-specs.py`); see [`find_spec`]. [`Spec::load`] fails when a
//! file is found nowhere; the tests use [`Spec::load_or_skip`], which skips them instead unless
//! `BRIDGE_REQUIRE_SPECS=1`.
//!
//! ```no_run
//! use bridge_fidelity::Spec;
//! use bridge_sim::common::Vendor;
//! # fn f(exchanges: &[bridge_sim::Exchange]) -> Result<(), bridge_fidelity::Error> {
//! let spec = Spec::load(Vendor::Zendesk)?;
//! for exchange in exchanges {
//!     for violation in spec.check(exchange) {
//!         eprintln!("{violation}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! What is checked, per exchange:
//! * the method + path is a documented operation (paths are matched against the spec's path
//!   templates; Zendesk's optional `.json` suffix is stripped), except for [`ALLOW_LIST`];
//! * integer-typed path parameters are numeric;
//! * Intercom requests carry `intercom-version`; any request with a body carries
//!   `content-type: application/json`;
//! * the request body against the operation's `application/json` request schema;
//! * when [`Exchange::modelled`] is true, the response: its status must be documented (exact
//!   code, then `2XX`-style range, then `default`) and its body must match that schema; an
//!   undocumented status is a violation unless it is one of [`WELL_KNOWN_ERROR_STATUSES`] (or
//!   5xx), whose body is then checked loosely against the vendor's generic error shape.
//!
//! Strictness: objects that declare `properties` reject undeclared ones (see
//! `translate.rs`), so a renamed field fails; a mistyped field fails normal type validation.
//! Query parameters and formats (`date-time`, `email`, …) are not checked.

mod location;
mod operations;
mod patches;
mod schema;
mod spec;
mod translate;
mod violation;

use std::path::PathBuf;

use bridge_sim::Exchange;
use bridge_sim::common::Vendor;

pub use location::{
    REQUIRE_SPECS_ENV, SPECS_CACHE_DIR, SPECS_DIR_ENV, default_dirs, find_spec, spec_file_name, specs_required,
};
pub use patches::{PATCHES, SpecPatch};
pub use spec::{ExampleReport, Spec};
pub use violation::{Part, Violation};

/// Statuses a modelled exchange may answer even when the operation does not document them.
/// Their bodies are checked only loosely (Intercom `error.list`; Zendesk `{error, description}`
/// or `{errors: […]}`). 400 is included on purpose besides the usual 401/403/404/409/410/422/429:
/// both vendors document generic 400s (malformed JSON, `parameter_invalid`, `TooManyValues`)
/// that most operations do not list. Every 5xx is treated the same way.
pub const WELL_KNOWN_ERROR_STATUSES: &[u16] = &[400, 401, 403, 404, 409, 410, 422, 429];

/// An endpoint the official spec does not describe but the bridge legitimately uses.
#[derive(Debug, Clone, Copy)]
pub struct AllowListEntry {
    /// Vendor whose spec lacks the endpoint.
    pub vendor: Vendor,
    /// Path prefix (after stripping `.json`); matches the prefix itself and anything below `prefix/`.
    pub prefix: &'static str,
    /// Why it is allowed.
    pub reason: &'static str,
}

/// Undocumented endpoints that are accepted (with header checks only; no body checks).
///
/// The simulators' own `/__admin/*` routes are deliberately *not* listed: they are never
/// recorded, so one showing up in a recording is a bug and is reported.
pub const ALLOW_LIST: &[AllowListEntry] = &[AllowListEntry {
    vendor: Vendor::Zendesk,
    prefix: "/api/v2/webhooks",
    reason: "Zendesk's Webhooks API (create/list/update webhooks, signing secret) is documented \
             separately from the Support API; support-oas.yaml does not contain it \
             (reference/specs/SOURCES.md). The bridge needs it to register its webhook.",
}];

/// Errors loading a spec.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec is in none of the places looked at (see [`find_spec`]).
    #[error(
        "official {vendor:?} OpenAPI spec not found (looked for {}); {}",
        display_paths(searched),
        location::HOW_TO_GET
    )]
    NotFound {
        /// Vendor.
        vendor: Vendor,
        /// Paths tried, in order.
        searched: Vec<PathBuf>,
    },
    /// `BRIDGE_SPECS_DIR` is set, but the vendor's file is not in that folder.
    #[error("official {vendor:?} OpenAPI spec not found at {path} ({SPECS_DIR_ENV} is set): {source}")]
    NotInSpecsDir {
        /// Vendor.
        vendor: Vendor,
        /// Path tried.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// The spec file could not be read.
    #[error("official {vendor:?} OpenAPI spec not readable at {path}: {source}")]
    Missing {
        /// Vendor.
        vendor: Vendor,
        /// Path tried.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML / not an OpenAPI document.
    #[error("cannot parse OpenAPI spec {path}: {message}")]
    Parse {
        /// Path of the file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A documented spec patch no longer applies (the spec changed): review the patch.
    #[error("spec patch `{patch}` no longer applies to {path}: {message}")]
    Patch {
        /// Path of the file.
        path: PathBuf,
        /// Patch name.
        patch: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The translated schemas could not be registered.
    #[error("cannot build the JSON Schema registry for {path}: {message}")]
    Registry {
        /// Path of the file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Loads the needed specs and checks every exchange; the violations of all of them.
pub fn check_exchanges(exchanges: &[Exchange]) -> Result<Vec<Violation>, Error> {
    let mut out = Vec::new();
    for vendor in [Vendor::Intercom, Vendor::Zendesk] {
        if exchanges.iter().any(|e| e.vendor == vendor) {
            out.extend(Spec::load(vendor)?.check_all(exchanges));
        }
    }
    Ok(out)
}

/// `a, b and c` for error messages.
fn display_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    match shown.split_last() {
        None => "nothing".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn vendor_slug(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Intercom => "intercom",
        Vendor::Zendesk => "zendesk",
    }
}
