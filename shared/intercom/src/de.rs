//! Tolerant deserializers for Intercom's mixed field types. None of them fail on an unexpected
//! type: they fall back to "absent", so one odd field never rejects a whole object.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Timestamps: Unix seconds (REST), numeric strings, ISO-8601 strings (webhooks), milliseconds,
/// or null.
pub(crate) fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Value::deserialize(d).map(|v| timestamp_value(&v))
}

/// The same rule as [`timestamp`], for an already parsed value.
pub(crate) fn timestamp_value(v: &Value) -> Option<i64> {
    let secs = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(n) => n,
                Err(_) => chrono::DateTime::parse_from_rfc3339(s)
                    .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
                    .map(|d| d.timestamp())
                    .ok()?,
            }
        }
        _ => return None,
    };
    // Anything past year 5138 in seconds is milliseconds.
    Some(if secs > 100_000_000_000 { secs / 1000 } else { secs })
}

/// Ids that may be strings, integers, `0`, `"0"`, `""` or null; the zero forms mean "none".
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Value::deserialize(d).map(|v| id_value(&v))
}

/// The same rule as [`id`], for an already parsed value.
pub(crate) fn id_value(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && s != "0").then_some(s)
}

/// A string, or a number rendered as text; anything else is empty.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Value::deserialize(d).map(|v| text(&v).unwrap_or_default())
}

/// An optional string (numbers rendered as text).
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Value::deserialize(d).map(|v| text(&v))
}

/// An unsigned integer sent as a number or a numeric string (`per_page: "5"`).
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Value::deserialize(d).map(|v| match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A number sent as an integer, a float or a numeric string.
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Value::deserialize(d).map(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A boolean, also from `"true"`/`"false"`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Value::deserialize(d).map(|v| match v {
        Value::Bool(b) => Some(b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A JSON object, or empty for anything else (null, arrays).
pub(crate) fn object<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Map<String, Value>, D::Error> {
    Value::deserialize(d).map(|v| match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
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
