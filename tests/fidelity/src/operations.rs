//! The spec's operations (method + path template) and matching recorded paths against them.

use bridge_sim::common::Vendor;
use serde_json::Value;

use crate::translate::Translator;

#[derive(Debug)]
pub(crate) enum Segment {
    Literal(String),
    Param { name: String, prefix: String, suffix: String },
}

#[derive(Debug)]
pub(crate) struct Operation {
    pub(crate) method: String,
    pub(crate) template: String,
    pub(crate) segments: Vec<Segment>,
    /// Path parameters declared integer.
    pub(crate) integer_params: Vec<String>,
    /// Translated request schema, if the operation documents a JSON request body.
    pub(crate) request: Option<Value>,
    pub(crate) request_required: bool,
    /// Status key (`"200"`, `"2XX"`, `"default"`) -> translated schema (None: no JSON body).
    pub(crate) responses: Vec<(String, Option<Value>)>,
    /// Examples documented for the request and responses: (slot, name, value).
    pub(crate) examples: Vec<(String, String, Value)>,
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

pub(crate) fn normalize_path(vendor: Vendor, path: &str) -> String {
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

pub(crate) fn segment_matches(segment: &Segment, actual: &str) -> bool {
    match segment {
        Segment::Literal(lit) => lit == actual,
        Segment::Param { prefix, suffix, .. } => {
            actual.len() > prefix.len() + suffix.len()
                && actual.starts_with(prefix.as_str())
                && actual.ends_with(suffix.as_str())
        }
    }
}

pub(crate) fn path_params(op: &Operation, path: &str) -> Vec<(String, String)> {
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

pub(crate) fn is_integer(value: &str) -> bool {
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

pub(crate) fn build_operations(doc: &Value, translator: &Translator<'_>) -> Vec<Operation> {
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
