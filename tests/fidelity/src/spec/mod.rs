//! A loaded, translated spec: loading and caching, what it holds, and its validators.

mod check;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bridge_sim::Exchange;
use bridge_sim::common::Vendor;
use jsonschema::{Draft, Registry};
use serde_json::{Value, json};

use crate::operations::{Operation, Segment, build_operations, segment_matches};
use crate::schema::{CompiledSchema, compile, loose_error_schema, validate};
use crate::translate::Translator;
use crate::{Error, Violation, find_spec, location, patches, specs_required, vendor_slug};

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
