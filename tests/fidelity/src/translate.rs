//! OpenAPI 3.0 Schema Object -> JSON Schema draft 2020-12, with strictness injected.
//!
//! * `nullable: true` becomes `type: [T, "null"]` (plus `null` in `enum`), or an
//!   `anyOf: [{type: null}, …]` wrapper when the schema has no plain `type` (compositions, `$ref`).
//! * `$ref: '#/…'` is rewritten to an absolute URI inside the registered root document, so one
//!   registry holding `components` serves every operation.
//! * Annotation-only OpenAPI keywords (`example`, `xml`, `discriminator`, `readOnly`, `format`,
//!   `x-*`, …) are dropped. `format` is dropped on purpose: the vendors use it loosely
//!   (`format: date-time` on values that are sometimes empty strings), and types are what the
//!   fidelity test cares about.
//! * 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` become 2020-12's numeric form.
//! * STRICTNESS: every schema in a *value position* (a whole body, a property value, an array
//!   item, an `additionalProperties` value) whose [`Shape`] is [`Shape::Closed`] gets
//!   `unevaluatedProperties: false`. Composition branches (`allOf`/`anyOf`/`oneOf` members) and
//!   component definitions themselves are left open, because 2020-12's `unevaluatedProperties`
//!   on the outermost schema sees the properties evaluated by every successful branch (and
//!   through `$ref`), while an `additionalProperties: false` or `unevaluatedProperties: false`
//!   inside a branch would reject the properties declared by its siblings.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

/// How a schema treats object properties, for deciding where closing is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Declares properties and nothing in it allows arbitrary extra ones: close it.
    Closed,
    /// Explicitly free-form (`type: object` without properties, `additionalProperties: true` or
    /// a schema): closing would reject legitimate data, so leave it.
    Open,
    /// Never an object (string, integer, array, …): closing is pointless.
    NonObject,
    /// Only constraints such as `required` (typical in `anyOf` branches): neutral.
    Neutral,
}

/// Keywords copied through unchanged (their values are not schemas).
const PLAIN_KEYWORDS: &[&str] = &[
    "required",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
];

/// Translates OpenAPI schemas of one document.
pub(crate) struct Translator<'a> {
    /// The whole (patched) OpenAPI document, for resolving `$ref` when computing shapes.
    doc: &'a Value,
    /// Absolute URI of the registered root document; `#/x` becomes `{base}#/x`.
    base: &'a str,
}

impl<'a> Translator<'a> {
    pub(crate) fn new(doc: &'a Value, base: &'a str) -> Self {
        Self { doc, base }
    }

    /// Resolves a local `$ref` in the OpenAPI document.
    pub(crate) fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }

    /// The [`Shape`] of an (untranslated) OpenAPI schema.
    pub(crate) fn shape(&self, schema: &Value) -> Shape {
        self.shape_inner(schema, &mut HashSet::new())
    }

    fn shape_inner(&self, schema: &Value, seen: &mut HashSet<String>) -> Shape {
        let Some(obj) = schema.as_object() else {
            return Shape::Neutral;
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            if !seen.insert(reference.to_owned()) {
                // A reference cycle through compositions: be conservative.
                return Shape::Open;
            }
            let shape = match self.resolve(reference) {
                Some(target) => self.shape_inner(target, seen),
                None => Shape::Open,
            };
            seen.remove(reference);
            return shape;
        }
        match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => return Shape::Closed,
            Some(_) => return Shape::Open,
            None => {}
        }
        let declares = obj.get("properties").and_then(Value::as_object).is_some_and(|p| !p.is_empty());
        let type_is_object = match obj.get("type") {
            Some(Value::String(t)) => Some(t == "object"),
            Some(Value::Array(ts)) => Some(ts.iter().any(|t| t == "object")),
            _ => None,
        };
        let mut any_closed = declares;
        let mut all_non_object = true;
        let mut has_branches = false;
        for key in ["allOf", "anyOf", "oneOf"] {
            for branch in obj.get(key).and_then(Value::as_array).into_iter().flatten() {
                has_branches = true;
                match self.shape_inner(branch, seen) {
                    Shape::Open => return Shape::Open,
                    Shape::Closed => {
                        any_closed = true;
                        all_non_object = false;
                    }
                    Shape::Neutral => all_non_object = false,
                    Shape::NonObject => {}
                }
            }
        }
        if any_closed {
            return Shape::Closed;
        }
        match type_is_object {
            Some(true) => Shape::Open,
            Some(false) => Shape::NonObject,
            None if has_branches && all_non_object => Shape::NonObject,
            None => Shape::Neutral,
        }
    }

    /// Translates a schema. `value_position` is true for whole bodies, property values, array
    /// items and `additionalProperties` values (closed when their shape is [`Shape::Closed`]);
    /// false for composition branches and component definitions.
    pub(crate) fn translate(&self, schema: &Value, value_position: bool) -> Value {
        let Some(obj) = schema.as_object() else {
            // `true`/`false` schemas or garbage: pass through.
            return schema.clone();
        };
        let nullable = obj.get("nullable").and_then(Value::as_bool).unwrap_or(false);
        let close = value_position && self.shape(schema) == Shape::Closed;

        let mut out = Map::new();
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            // OpenAPI 3.0: siblings of `$ref` are ignored (we honour only `nullable`).
            out.insert("$ref".into(), Value::String(self.absolute(reference)));
        } else {
            for (key, value) in obj {
                match key.as_str() {
                    "type" | "enum" => {
                        out.insert(key.clone(), value.clone());
                    }
                    "properties" => {
                        let props: Map<String, Value> = value
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(name, sub)| (name.clone(), self.translate(sub, true)))
                            .collect();
                        out.insert(key.clone(), Value::Object(props));
                    }
                    "items" => {
                        out.insert(key.clone(), self.translate(value, true));
                    }
                    "additionalProperties" => {
                        let translated = if value.is_object() { self.translate(value, true) } else { value.clone() };
                        out.insert(key.clone(), translated);
                    }
                    "allOf" | "anyOf" | "oneOf" => {
                        let branches: Vec<Value> =
                            value.as_array().into_iter().flatten().map(|b| self.translate(b, false)).collect();
                        out.insert(key.clone(), Value::Array(branches));
                    }
                    "not" => {
                        out.insert(key.clone(), self.translate(value, false));
                    }
                    "exclusiveMinimum" | "exclusiveMaximum" => {
                        // 3.0 boolean form; handled below together with minimum/maximum.
                    }
                    k if PLAIN_KEYWORDS.contains(&k) => {
                        out.insert(key.clone(), value.clone());
                    }
                    // example, examples, xml, discriminator, readOnly, writeOnly, deprecated,
                    // externalDocs, title, description, default, format, nullable, x-*: dropped.
                    _ => {}
                }
            }
            for (flag, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
                if obj.get(flag).and_then(Value::as_bool) == Some(true)
                    && let Some(limit) = out.remove(bound)
                {
                    out.insert(flag.into(), limit);
                }
            }
        }
        if close {
            out.insert("unevaluatedProperties".into(), Value::Bool(false));
        }
        if !nullable {
            return Value::Object(out);
        }
        let plain_typed = out.get("type").is_some()
            && !["$ref", "allOf", "anyOf", "oneOf", "not"].iter().any(|k| out.contains_key(*k));
        if plain_typed {
            if let Some(t) = out.get_mut("type") {
                add_null_type(t);
            }
            if let Some(Value::Array(values)) = out.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            Value::Object(out)
        } else {
            json!({ "anyOf": [ { "type": "null" }, Value::Object(out) ] })
        }
    }

    fn absolute(&self, reference: &str) -> String {
        if reference.starts_with('#') { format!("{}{}", self.base, reference) } else { reference.to_owned() }
    }
}

fn add_null_type(t: &mut Value) {
    match t {
        Value::String(s) if s != "null" => {
            *t = json!([s.clone(), "null"]);
        }
        Value::Array(ts) if !ts.iter().any(|x| x == "null") => ts.push(Value::String("null".into())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_closing() {
        let doc = json!({"components": {"schemas": {
            "A": {"type": "object", "properties": {"a": {"type": "string"}}},
            "Free": {"type": "object"},
            "S": {"type": "string"}
        }}});
        let t = Translator::new(&doc, "https://x.invalid/d.json");
        assert_eq!(t.shape(&json!({"$ref": "#/components/schemas/A"})), Shape::Closed);
        assert_eq!(
            t.shape(&json!({"allOf": [{"$ref": "#/components/schemas/A"}, {"required": ["a"]}]})),
            Shape::Closed
        );
        assert_eq!(
            t.shape(&json!({"allOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/Free"}]})),
            Shape::Open
        );
        assert_eq!(
            t.shape(&json!({"oneOf": [{"$ref": "#/components/schemas/S"}, {"type": "integer"}]})),
            Shape::NonObject
        );
        let out = t.translate(
            &json!({"type": "object", "nullable": true, "properties": {"b": {"$ref": "#/components/schemas/A"}}}),
            true,
        );
        assert_eq!(
            out,
            json!({"type": ["object", "null"], "unevaluatedProperties": false, "properties": {
                "b": {"$ref": "https://x.invalid/d.json#/components/schemas/A", "unevaluatedProperties": false}
            }})
        );
    }
}
