//! Tolerant deserializers for Intercom's mixed field types. None of them fail on an unexpected
//! type: they fall back to "absent", so one odd field never rejects a whole object.
//!
//! The scalar ones read the field as a [`Scalar`], which keeps strings, numbers and booleans and
//! skips containers without buffering them: no intermediate `serde_json::Value` per field.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

/// One JSON value as the tolerant decoders need it.
#[derive(Debug)]
enum Scalar {
    Str(String),
    Number(Number),
    Bool(bool),
    /// Null, an object or an array (skipped, not kept).
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        // As serde_json's own `Value` does: a non-finite float is null.
        Ok(Number::from_f64(v).map_or(Scalar::Other, Scalar::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        Scalar::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

impl From<&Value> for Scalar {
    fn from(v: &Value) -> Self {
        match v {
            Value::String(s) => Scalar::Str(s.clone()),
            Value::Number(n) => Scalar::Number(n.clone()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Null | Value::Array(_) | Value::Object(_) => Scalar::Other,
        }
    }
}

/// Timestamps: Unix seconds (REST), numeric strings, ISO-8601 strings (webhooks), milliseconds,
/// or null.
pub(crate) fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Scalar::deserialize(d).map(|v| timestamp_of(&v))
}

fn timestamp_of(v: &Scalar) -> Option<i64> {
    let secs = match v {
        Scalar::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Scalar::Str(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(n) => n,
                Err(_) => chrono::DateTime::parse_from_rfc3339(s)
                    .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
                    .map(|d| d.timestamp())
                    .ok()?,
            }
        }
        Scalar::Bool(_) | Scalar::Other => return None,
    };
    // Anything past year 5138 in seconds is milliseconds.
    Some(if secs > 100_000_000_000 { secs / 1000 } else { secs })
}

/// Ids that may be strings, integers, `0`, `"0"`, `""` or null; the zero forms mean "none".
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Scalar::deserialize(d).map(id_of)
}

/// The same rule as [`id`], for an already parsed value.
pub(crate) fn id_value(v: &Value) -> Option<String> {
    id_of(Scalar::from(v))
}

fn id_of(v: Scalar) -> Option<String> {
    let s = match v {
        Scalar::Str(s) if s.trim().len() == s.len() => s,
        Scalar::Str(s) => s.trim().to_string(),
        Scalar::Number(n) => n.to_string(),
        Scalar::Bool(_) | Scalar::Other => return None,
    };
    (!s.is_empty() && s != "0").then_some(s)
}

/// The same rule as [`string`], for an already parsed value.
pub(crate) fn string_value(v: &Value) -> String {
    text(Scalar::from(v)).unwrap_or_default()
}

/// A string, or a number rendered as text; anything else is empty.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Scalar::deserialize(d).map(|v| text(v).unwrap_or_default())
}

/// An optional string (numbers rendered as text).
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Scalar::deserialize(d).map(text)
}

/// An unsigned integer sent as a number or a numeric string (`per_page: "5"`).
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Scalar::deserialize(d).map(|v| match v {
        Scalar::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Scalar::Str(s) => s.trim().parse().ok(),
        Scalar::Bool(_) | Scalar::Other => None,
    })
}

/// A number sent as an integer, a float or a numeric string.
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Scalar::deserialize(d).map(|v| match v {
        Scalar::Number(n) => n.as_f64(),
        Scalar::Str(s) => s.trim().parse().ok(),
        Scalar::Bool(_) | Scalar::Other => None,
    })
}

/// A boolean, also from `"true"`/`"false"`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Scalar::deserialize(d).map(|v| match v {
        Scalar::Bool(b) => Some(b),
        Scalar::Str(s) => s.trim().parse().ok(),
        Scalar::Number(_) | Scalar::Other => None,
    })
}

/// A JSON object, or empty for anything else (null, arrays).
pub(crate) fn object<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Map<String, Value>, D::Error> {
    Value::deserialize(d).map(|v| match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    })
}

fn text(v: Scalar) -> Option<String> {
    match v {
        Scalar::Str(s) => Some(s),
        Scalar::Number(n) => Some(n.to_string()),
        Scalar::Bool(_) | Scalar::Other => None,
    }
}

/// Decodes a nested value leniently: `None` (not an error) when its shape is unexpected.
pub(crate) fn nested<'de, T: serde::de::DeserializeOwned, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    Ok(T::deserialize(v).ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn timestamp_value(v: &Value) -> Option<i64> {
        timestamp_of(&Scalar::from(v))
    }

    #[test]
    fn timestamps_in_every_shape() {
        assert_eq!(timestamp_value(&json!(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(timestamp_value(&json!("1700000000")), Some(1_700_000_000));
        assert_eq!(timestamp_value(&json!(1_700_000_000_123_i64)), Some(1_700_000_000));
        assert_eq!(timestamp_value(&json!("2026-01-10T04:22:28.240+00:00")), Some(1_768_018_948));
        assert_eq!(timestamp_value(&json!("2026-01-10T04:22:28Z")), Some(1_768_018_948));
        assert_eq!(timestamp_value(&json!(null)), None);
        assert_eq!(timestamp_value(&json!("yesterday")), None);
        assert_eq!(timestamp_value(&json!({"a": 1})), None);
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Tolerant {
        #[serde(default, deserialize_with = "string")]
        name: String,
        #[serde(default, deserialize_with = "opt_string")]
        note: Option<String>,
        #[serde(default, deserialize_with = "id")]
        id: Option<String>,
        #[serde(default, deserialize_with = "timestamp")]
        at: Option<i64>,
        #[serde(default, deserialize_with = "opt_u64")]
        count: Option<u64>,
        #[serde(default, deserialize_with = "opt_bool")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "opt_f64")]
        score: Option<f64>,
    }

    #[test]
    fn fields_of_the_wrong_type_are_absent_from_bytes_and_from_values_alike() {
        let odd = json!({"name": {"first": "Ada", "deep": [1, {"x": null}]}, "note": [1, 2], "id": 0,
                         "at": {"ts": 1}, "count": "7", "flag": "true", "score": "2.5", "extra": [[[]]]});
        let fine = json!({"name": 42, "note": "hi", "id": " 5017691 ", "at": "2026-01-10T04:22:28Z",
                          "count": 3.0, "flag": false, "score": 1});
        for (v, want) in [
            (
                &odd,
                Tolerant {
                    name: String::new(),
                    note: None,
                    id: None,
                    at: None,
                    count: Some(7),
                    flag: Some(true),
                    score: Some(2.5),
                },
            ),
            (
                &fine,
                Tolerant {
                    name: "42".into(),
                    note: Some("hi".into()),
                    id: Some("5017691".into()),
                    at: Some(1_768_018_948),
                    count: Some(3),
                    flag: Some(false),
                    score: Some(1.0),
                },
            ),
        ] {
            // The streaming path (REST bodies) and the `Value` path (webhooks) agree.
            assert_eq!(serde_json::from_slice::<Tolerant>(v.to_string().as_bytes()).unwrap(), want);
            assert_eq!(Tolerant::deserialize(v).unwrap(), want);
        }
    }

    #[test]
    fn zero_ids_mean_none() {
        assert_eq!(id_value(&json!(0)), None);
        assert_eq!(id_value(&json!("0")), None);
        assert_eq!(id_value(&json!(null)), None);
        assert_eq!(id_value(&json!("")), None);
        assert_eq!(id_value(&json!(5017691)), Some("5017691".into()));
        assert_eq!(id_value(&json!("814860")), Some("814860".into()));
    }
}
