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
mod patches;
mod translate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bridge_sim::Exchange;
use bridge_sim::common::Vendor;
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

pub use location::{
    REQUIRE_SPECS_ENV, SPECS_CACHE_DIR, SPECS_DIR_ENV, default_dirs, find_spec, spec_file_name, specs_required,
};
pub use patches::{PATCHES, SpecPatch};
use translate::Translator;

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

/// Which part of an exchange a [`Violation`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Method + path is not an operation of the spec (nor allow-listed).
    UnknownOperation,
    /// A path parameter does not match its declared type.
    PathParameter,
    /// A required request header is missing or wrong.
    RequestHeader,
    /// The request body does not match the request schema (or is missing / not documented).
    RequestBody,
    /// The response body does not match the schema of its status.
    ResponseBody,
    /// A modelled response used a status the operation does not document.
    UndocumentedStatus,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::UnknownOperation => "unknown operation",
            Part::PathParameter => "path parameter",
            Part::RequestHeader => "request header",
            Part::RequestBody => "request body",
            Part::ResponseBody => "response body",
            Part::UndocumentedStatus => "undocumented status",
        })
    }
}

/// One way an exchange departs from the official spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Vendor.
    pub vendor: Vendor,
    /// HTTP method of the exchange.
    pub method: String,
    /// Path of the exchange, as recorded.
    pub path: String,
    /// Status of the exchange.
    pub status: u16,
    /// The spec path template it matched, if any.
    pub operation: Option<String>,
    /// Which part is wrong.
    pub part: Part,
    /// JSON pointer into the body (or the header / parameter name); empty for the whole thing.
    pub pointer: String,
    /// What is wrong (the schema error).
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {} {} -> {} [{}]", self.vendor, self.method, self.path, self.status, self.part)?;
        if let Some(op) = &self.operation {
            write!(f, " (spec: {op})")?;
        }
        let pointer = if self.pointer.is_empty() { "<root>" } else { &self.pointer };
        write!(f, " at {pointer}: {}", self.message)
    }
}

/// A loaded, translated spec. Cheap to clone; [`Spec::load`] caches one per vendor and path.
#[derive(Debug, Clone)]
pub struct Spec {
    inner: Arc<Inner>,
}

struct Inner {
    vendor: Vendor,
    source: PathBuf,
    version: String,
    load_time: Duration,
    registry: Registry,
    operations: Vec<Operation>,
    /// Compiled validators, keyed by `(operation index, slot)`.
    validators: Mutex<HashMap<(usize, String), Arc<CompiledSchema>>>,
    loose_error: Arc<CompiledSchema>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("vendor", &self.vendor)
            .field("source", &self.source)
            .field("version", &self.version)
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

type CompiledSchema = Result<Validator, String>;

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param { name: String, prefix: String, suffix: String },
}

#[derive(Debug)]
struct Operation {
    method: String,
    template: String,
    segments: Vec<Segment>,
    /// Path parameters declared integer.
    integer_params: Vec<String>,
    /// Translated request schema, if the operation documents a JSON request body.
    request: Option<Value>,
    request_required: bool,
    /// Status key (`"200"`, `"2XX"`, `"default"`) -> translated schema (None: no JSON body).
    responses: Vec<(String, Option<Value>)>,
    /// Examples documented for the request and responses: (slot, name, value).
    examples: Vec<(String, String, Value)>,
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

/// Outcome of [`Spec::check_examples`].
#[derive(Debug, Clone, Default)]
pub struct ExampleReport {
    /// Examples that validated.
    pub passed: usize,
    /// Examples that did not, one entry per example, with the schema errors.
    pub failed: Vec<String>,
}

impl Spec {
    /// Loads (or returns the cached) spec of `vendor` from where [`find_spec`] finds it; a file
    /// found nowhere is [`Error::NotFound`].
    pub fn load(vendor: Vendor) -> Result<Spec, Error> {
        match find_spec(vendor)? {
            Some(path) => Self::load_from(vendor, &path),
            None => Err(location::not_found(vendor)),
        }
    }

    /// For tests: like [`Spec::load`], but a file found nowhere is `Ok(None)` after a
    /// `skipped: …` line on stderr saying how to get it, unless `BRIDGE_REQUIRE_SPECS=1`
    /// ([`Error::NotFound`] then). A `BRIDGE_SPECS_DIR` without the file, or a file that does
    /// not load, is always an error.
    pub fn load_or_skip(vendor: Vendor) -> Result<Option<Spec>, Error> {
        match find_spec(vendor)? {
            Some(path) => Self::load_from(vendor, &path).map(Some),
            None if specs_required() => Err(location::not_found(vendor)),
            None => {
                location::report_skip(vendor);
                Ok(None)
            }
        }
    }

    /// Loads (or returns the cached) spec of `vendor` from an explicit file.
    pub fn load_from(vendor: Vendor, path: &Path) -> Result<Spec, Error> {
        static CACHE: OnceLock<Mutex<HashMap<String, Spec>>> = OnceLock::new();
        let key = format!("{vendor:?}:{}", path.display());
        let cache = CACHE.get_or_init(Default::default);
        // Held while parsing, so concurrent tests parse each file once.
        let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(spec) = guard.get(&key) {
            return Ok(spec.clone());
        }
        let spec = Self::parse(vendor, path)?;
        guard.insert(key, spec.clone());
        Ok(spec)
    }

    fn parse(vendor: Vendor, path: &Path) -> Result<Spec, Error> {
        let started = Instant::now();
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Missing { vendor, path: path.to_owned(), source })?;
        let parse_err = |message: String| Error::Parse { path: path.to_owned(), message };
        let mut doc: Value = serde_norway::from_str(&text).map_err(|e| parse_err(e.to_string()))?;
        if !doc.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with("3.0")) {
            return Err(parse_err("not an OpenAPI 3.0 document".into()));
        }
        patches::apply(vendor, &mut doc).map_err(|(patch, message)| Error::Patch {
            path: path.to_owned(),
            patch,
            message,
        })?;
        let version = doc.pointer("/info/version").and_then(Value::as_str).unwrap_or_default().to_owned();

        let base = format!("https://bridge-fidelity.invalid/{}.json", vendor_slug(vendor));
        let translator = Translator::new(&doc, &base);
        let components: serde_json::Map<String, Value> = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, schema)| (name.clone(), translator.translate(schema, false)))
            .collect();
        let root = json!({ "components": { "schemas": components } });
        let registry = Registry::try_new(&base, Draft::Draft202012.create_resource(root))
            .map_err(|e| Error::Registry { path: path.to_owned(), message: e.to_string() })?;

        let operations = build_operations(&doc, &translator);
        let loose_error = Arc::new(compile(&registry, &loose_error_schema(vendor)));
        let load_time = started.elapsed();
        Ok(Spec {
            inner: Arc::new(Inner {
                vendor,
                source: path.to_owned(),
                version,
                load_time,
                registry,
                operations,
                validators: Mutex::new(HashMap::new()),
                loose_error,
            }),
        })
    }

    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        self.inner.vendor
    }

    /// The file it was loaded from.
    pub fn source(&self) -> &Path {
        &self.inner.source
    }

    /// The spec's `info.version` (Intercom: the API version, e.g. `2.16`).
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// How long reading, parsing, patching and translating took (compiling validators is lazy).
    pub fn load_time(&self) -> Duration {
        self.inner.load_time
    }

    /// Number of operations (method + path template) in the spec.
    pub fn operation_count(&self) -> usize {
        self.inner.operations.len()
    }

    /// Every operation as `METHOD /template`.
    pub fn operations(&self) -> Vec<String> {
        self.inner.operations.iter().map(|op| format!("{} {}", op.method, op.template)).collect()
    }

    /// Compiles every request and response schema of every operation; returns the failures as
    /// `METHOD /template slot: error` (empty when all compile).
    pub fn compile_all(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for (index, op) in self.inner.operations.iter().enumerate() {
            let slots =
                op.request.iter().map(|s| ("request".to_owned(), s)).chain(
                    op.responses.iter().filter_map(|(code, s)| s.as_ref().map(|s| (format!("response {code}"), s))),
                );
            for (slot, schema) in slots {
                if let Err(e) = self.validator(index, &slot, schema).as_ref() {
                    failures.push(format!("{} {} {slot}: {e}", op.method, op.template));
                }
            }
        }
        failures
    }

    /// Validates every example the spec documents (request and response, `example` and
    /// `examples.*.value`) against its own, translated, strict schema. Useful to see where
    /// the spec disagrees with itself.
    pub fn check_examples(&self) -> ExampleReport {
        let mut report = ExampleReport::default();
        for (index, op) in self.inner.operations.iter().enumerate() {
            for (slot, name, value) in &op.examples {
                let schema = if slot == "request" {
                    op.request.as_ref()
                } else {
                    let code = slot.trim_start_matches("response ");
                    op.responses.iter().find(|(c, _)| c == code).and_then(|(_, s)| s.as_ref())
                };
                let Some(schema) = schema else { continue };
                let errors = validate(&self.validator(index, slot, schema), value);
                if errors.is_empty() {
                    report.passed += 1;
                } else {
                    let details: Vec<String> =
                        errors.into_iter().map(|(pointer, message)| format!("at {pointer}: {message}")).collect();
                    report.failed.push(format!(
                        "{} {} {slot} example `{name}`: {}",
                        op.method,
                        op.template,
                        details.join("; ")
                    ));
                }
            }
        }
        report
    }

    /// Checks one exchange; an empty vector means it conforms.
    pub fn check(&self, exchange: &Exchange) -> Vec<Violation> {
        let mut out = Vec::new();
        let violation = |part: Part, operation: Option<&str>, pointer: String, message: String| Violation {
            vendor: exchange.vendor,
            method: exchange.method.clone(),
            path: exchange.path.clone(),
            status: exchange.status,
            operation: operation.map(str::to_owned),
            part,
            pointer,
            message,
        };
        if exchange.vendor != self.inner.vendor {
            out.push(violation(
                Part::UnknownOperation,
                None,
                String::new(),
                format!("exchange is for {:?} but this is the {:?} spec", exchange.vendor, self.inner.vendor),
            ));
            return out;
        }

        // Headers.
        let header =
            |name: &str| exchange.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
        if self.inner.vendor == Vendor::Intercom && header("intercom-version").is_none_or(str::is_empty) {
            out.push(violation(
                Part::RequestHeader,
                None,
                "intercom-version".into(),
                format!("missing `Intercom-Version` header (spec version {})", self.inner.version),
            ));
        }
        if exchange.request_body.is_some() {
            let ok = header("content-type")
                .is_some_and(|ct| ct.to_ascii_lowercase().split(';').next().map(str::trim) == Some("application/json"));
            if !ok {
                out.push(violation(
                    Part::RequestHeader,
                    None,
                    "content-type".into(),
                    format!(
                        "a request body was sent with content-type {:?}, expected application/json",
                        header("content-type")
                    ),
                ));
            }
        }

        // Operation.
        let path = normalize_path(self.inner.vendor, &exchange.path);
        if ALLOW_LIST
            .iter()
            .any(|a| a.vendor == self.inner.vendor && (path == a.prefix || path.starts_with(&format!("{}/", a.prefix))))
        {
            return out;
        }
        let method = exchange.method.to_ascii_uppercase();
        let (index, op) = match self.find_operation(&method, &path) {
            Ok(found) => found,
            Err(message) => {
                out.push(violation(Part::UnknownOperation, None, String::new(), message));
                return out;
            }
        };
        let template = Some(op.template.as_str());

        // Path parameters.
        for (name, value) in path_params(op, &path) {
            if op.integer_params.contains(&name) && !is_integer(&value) {
                out.push(violation(
                    Part::PathParameter,
                    template,
                    name.clone(),
                    format!("path parameter `{name}` is declared integer, got {value:?}"),
                ));
            }
        }

        // Request body.
        match (&op.request, &exchange.request_body) {
            (Some(schema), Some(body)) => {
                for (pointer, message) in validate(&self.validator(index, "request", schema), body) {
                    out.push(violation(Part::RequestBody, template, pointer, message));
                }
            }
            (Some(_), None) if op.request_required => {
                out.push(violation(Part::RequestBody, template, String::new(), "required request body missing".into()));
            }
            (None, Some(body)) if !body.is_null() => {
                out.push(violation(
                    Part::RequestBody,
                    template,
                    String::new(),
                    "a JSON body was sent but the operation documents no JSON request body".into(),
                ));
            }
            _ => {}
        }

        // Response.
        if !exchange.modelled {
            return out;
        }
        let status = exchange.status;
        let documented = op
            .responses
            .iter()
            .find(|(code, _)| code == &status.to_string())
            .or_else(|| {
                let range = format!("{}XX", status / 100);
                op.responses.iter().find(|(code, _)| code.eq_ignore_ascii_case(&range))
            })
            .or_else(|| op.responses.iter().find(|(code, _)| code == "default"));
        match documented {
            Some((code, Some(schema))) => {
                let slot = format!("response {code}");
                match &exchange.response_body {
                    Some(body) => {
                        for (pointer, message) in validate(&self.validator(index, &slot, schema), body) {
                            out.push(violation(Part::ResponseBody, template, pointer, message));
                        }
                    }
                    None => out.push(violation(
                        Part::ResponseBody,
                        template,
                        String::new(),
                        format!("status {code} documents a JSON body but the response had none"),
                    )),
                }
            }
            // Documented without a JSON schema (e.g. 204): nothing to validate.
            Some((_, None)) => {}
            None if WELL_KNOWN_ERROR_STATUSES.contains(&status) || (500..600).contains(&status) => {
                if let Some(body) = &exchange.response_body {
                    for (pointer, message) in validate(&self.inner.loose_error, body) {
                        out.push(violation(
                            Part::ResponseBody,
                            template,
                            pointer,
                            format!(
                                "undocumented error status {status}, body not a {:?} error shape: {message}",
                                self.inner.vendor
                            ),
                        ));
                    }
                }
            }
            None => {
                let known: Vec<&str> = op.responses.iter().map(|(c, _)| c.as_str()).collect();
                out.push(violation(
                    Part::UndocumentedStatus,
                    template,
                    String::new(),
                    format!("status {status} is not documented (documented: {})", known.join(", ")),
                ));
            }
        }
        out
    }

    /// Checks many exchanges (only those of this spec's vendor).
    pub fn check_all<'a>(&self, exchanges: impl IntoIterator<Item = &'a Exchange>) -> Vec<Violation> {
        exchanges.into_iter().filter(|e| e.vendor == self.inner.vendor).flat_map(|e| self.check(e)).collect()
    }

    fn find_operation(&self, method: &str, path: &str) -> Result<(usize, &Operation), String> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let mut candidates: Vec<(usize, &Operation)> = self
            .inner
            .operations
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                op.segments.len() == segments.len()
                    && op.segments.iter().zip(&segments).all(|(seg, actual)| segment_matches(seg, actual))
            })
            .collect();
        if candidates.is_empty() {
            return Err(format!("no path template of the {:?} spec matches {path}", self.inner.vendor));
        }
        // Concrete paths win over templated ones, left to right (OpenAPI matching rule).
        candidates.sort_by_key(|(_, op)| {
            op.segments.iter().map(|s| u8::from(matches!(s, Segment::Param { .. }))).collect::<Vec<_>>()
        });
        if let Some(found) = candidates.iter().find(|(_, op)| op.method == method) {
            return Ok(*found);
        }
        let mut templates: Vec<String> =
            candidates.iter().map(|(_, op)| format!("{} {}", op.method, op.template)).collect();
        templates.dedup();
        Err(format!("method {method} is not documented for {path} (documented: {})", templates.join(", ")))
    }

    fn validator(&self, index: usize, slot: &str, schema: &Value) -> Arc<CompiledSchema> {
        let key = (index, slot.to_owned());
        let mut cache = self.inner.validators.lock().unwrap_or_else(|p| p.into_inner());
        cache.entry(key).or_insert_with(|| Arc::new(compile(&self.inner.registry, schema))).clone()
    }
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

fn normalize_path(vendor: Vendor, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    if vendor == Vendor::Zendesk {
        path = path.strip_suffix(".json").unwrap_or(path);
    }
    if path.starts_with('/') { path.to_owned() } else { format!("/{path}") }
}

fn parse_segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .skip(1)
        .map(|seg| match (seg.find('{'), seg.find('}')) {
            (Some(open), Some(close)) if open < close => Segment::Param {
                name: seg[open + 1..close].to_owned(),
                prefix: seg[..open].to_owned(),
                suffix: seg[close + 1..].to_owned(),
            },
            _ => Segment::Literal(seg.to_owned()),
        })
        .collect()
}

fn segment_matches(segment: &Segment, actual: &str) -> bool {
    match segment {
        Segment::Literal(lit) => lit == actual,
        Segment::Param { prefix, suffix, .. } => {
            actual.len() > prefix.len() + suffix.len()
                && actual.starts_with(prefix.as_str())
                && actual.ends_with(suffix.as_str())
        }
    }
}

fn path_params(op: &Operation, path: &str) -> Vec<(String, String)> {
    op.segments
        .iter()
        .zip(path.split('/').skip(1))
        .filter_map(|(seg, actual)| match seg {
            Segment::Param { name, prefix, suffix } => {
                let value = actual.get(prefix.len()..actual.len().saturating_sub(suffix.len())).unwrap_or(actual);
                Some((name.clone(), value.to_owned()))
            }
            Segment::Literal(_) => None,
        })
        .collect()
}

fn is_integer(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Follows `$ref`s to `#/components/<kind>/<name>` inside the document (a few hops at most).
fn deref<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).and_then(|p| doc.pointer(p)) {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

/// The `application/json` (or first `*json*`) media type object of a `content` map.
fn json_media(content: Option<&Value>) -> Option<&Value> {
    let content = content?.as_object()?;
    content.get("application/json").or_else(|| content.iter().find(|(k, _)| k.contains("json")).map(|(_, v)| v))
}

fn media_examples(doc: &Value, media: &Value, slot: &str, out: &mut Vec<(String, String, Value)>) {
    if let Some(example) = media.get("example") {
        out.push((slot.to_owned(), "example".into(), example.clone()));
    }
    for (name, example) in media.get("examples").and_then(Value::as_object).into_iter().flatten() {
        if let Some(value) = deref(doc, example).get("value") {
            out.push((slot.to_owned(), name.clone(), value.clone()));
        }
    }
}

fn build_operations(doc: &Value, translator: &Translator<'_>) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (template, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let item = deref(doc, item);
        let shared_params: Vec<&Value> =
            item.get("parameters").and_then(Value::as_array).into_iter().flatten().map(|p| deref(doc, p)).collect();
        for method in METHODS {
            let Some(op) = item.get(*method) else { continue };
            let mut integer_params = Vec::new();
            let params = shared_params
                .iter()
                .copied()
                .chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten().map(|p| deref(doc, p)));
            for param in params {
                if param.get("in").and_then(Value::as_str) != Some("path") {
                    continue;
                }
                let Some(name) = param.get("name").and_then(Value::as_str) else { continue };
                let schema = param.get("schema").map(|s| deref(doc, s));
                if schema.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("integer") {
                    integer_params.push(name.to_owned());
                } else {
                    integer_params.retain(|n| n != name);
                }
            }
            let mut examples = Vec::new();
            let request_body = op.get("requestBody").map(|b| deref(doc, b));
            let request_media = request_body.and_then(|b| json_media(b.get("content")));
            if let Some(media) = request_media {
                media_examples(doc, media, "request", &mut examples);
            }
            let request = request_media.and_then(|m| m.get("schema")).map(|s| translator.translate(s, true));
            let request_required =
                request_body.and_then(|b| b.get("required")).and_then(Value::as_bool).unwrap_or(false);
            let mut responses = Vec::new();
            for (code, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
                let response = deref(doc, response);
                let media = json_media(response.get("content"));
                if let Some(media) = media {
                    media_examples(doc, media, &format!("response {code}"), &mut examples);
                }
                let schema = media.and_then(|m| m.get("schema")).map(|s| translator.translate(s, true));
                responses.push((code.clone(), schema));
            }
            operations.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                segments: parse_segments(template.strip_suffix(".json").unwrap_or(template)),
                integer_params,
                request,
                request_required,
                responses,
                examples,
            });
        }
    }
    operations
}

fn compile(registry: &Registry, schema: &Value) -> CompiledSchema {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry.clone())
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Loose generic error shapes for undocumented well-known error statuses.
fn loose_error_schema(vendor: Vendor) -> Value {
    match vendor {
        Vendor::Intercom => json!({
            "type": "object",
            "required": ["type", "errors"],
            "properties": {
                "type": { "const": "error.list" },
                "request_id": { "type": ["string", "null"] },
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["code"],
                        "properties": { "code": { "type": "string" }, "message": { "type": ["string", "null"] } }
                    }
                }
            }
        }),
        Vendor::Zendesk => json!({
            "type": "object",
            "anyOf": [
                {
                    "required": ["error"],
                    "properties": {
                        "error": { "type": ["string", "object"] },
                        "description": { "type": "string" },
                        "details": { "type": "object" }
                    }
                },
                {
                    "required": ["errors"],
                    "properties": { "errors": { "type": "array", "items": { "type": "object" } } }
                }
            ]
        }),
    }
}

/// Runs a compiled schema; returns `(instance pointer, message)` pairs.
fn validate(compiled: &CompiledSchema, instance: &Value) -> Vec<(String, String)> {
    match compiled {
        Err(e) => vec![(String::new(), format!("schema does not compile: {e}"))],
        Ok(validator) => {
            let errors: Vec<jsonschema::ValidationError<'_>> = validator.iter_errors(instance).collect();
            without_cascades(&errors).into_iter().map(|e| (e.instance_path.to_string(), describe(e, 0))).collect()
        }
    }
}

/// Drops the `unevaluatedProperties` errors that only echo another error: 2020-12 discards the
/// annotations of a failing subschema, so when `/ticket/id` is mistyped the parent also reports
/// `ticket` as unevaluated. (When an `anyOf`/`oneOf` fails at `/x`, the `unevaluatedProperties`
/// error at `/x` lists every property of `/x`; it is kept, because it is where a renamed field
/// that made every branch fail gets named.)
fn without_cascades<'e, 'i>(errors: &'e [jsonschema::ValidationError<'i>]) -> Vec<&'e jsonschema::ValidationError<'i>> {
    use jsonschema::error::ValidationErrorKind as K;
    let located: Vec<String> = errors.iter().map(|e| e.instance_path.to_string()).collect();
    errors
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            let K::UnevaluatedProperties { unexpected } = &e.kind else { return true };
            let at = &located[*i];
            !unexpected.iter().all(|name| {
                let child = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
                located.iter().any(|path| path == &child || path.starts_with(&format!("{child}/")))
            })
        })
        .map(|(_, e)| e)
        .collect()
}

/// A readable message; for `anyOf`/`oneOf` failures, the errors of each branch (so a renamed
/// field is still named).
fn describe(error: &jsonschema::ValidationError<'_>, depth: usize) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    let context = match &error.kind {
        K::AnyOf { context } | K::OneOfNotValid { context } => Some(context),
        _ => None,
    };
    let Some(context) = context else {
        return truncate(&error.to_string(), 300);
    };
    let mut message = truncate(&error.masked().to_string(), 200);
    if depth < 3 {
        for (i, branch) in context.iter().enumerate() {
            let details: Vec<String> = without_cascades(branch)
                .into_iter()
                .take(4)
                .map(|e| {
                    let at = e.instance_path.to_string();
                    format!("{}: {}", if at.is_empty() { "<root>" } else { &at }, describe(e, depth + 1))
                })
                .collect();
            message.push_str(&format!("; branch {i}: [{}]", details.join(", ")));
        }
    }
    message
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
