//! Compiling the translated JSON Schemas and running them, with readable messages.

use bridge_sim::common::Vendor;
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

pub(crate) type CompiledSchema = Result<Validator, String>;

pub(crate) fn compile(registry: &Registry, schema: &Value) -> CompiledSchema {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry.clone())
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Loose generic error shapes for undocumented well-known error statuses.
pub(crate) fn loose_error_schema(vendor: Vendor) -> Value {
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
pub(crate) fn validate(compiled: &CompiledSchema, instance: &Value) -> Vec<(String, String)> {
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
