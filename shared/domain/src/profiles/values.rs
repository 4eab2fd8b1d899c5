//! Values of mapped fields: the casts to a comparable canonical form, the form each side
//! stores, the stable text of a value (baselines) and the fingerprint of a profile's mapped
//! values (the loop guard).

use super::Profile;
use super::config::{FieldType, KindMapping};
use crate::event::Vendor;
use crate::model::FieldValue;

/// Why a value cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CastError {
    /// Not a number.
    #[error("not a number")]
    NotNumber,
    /// Not a boolean.
    #[error("not a boolean")]
    NotBoolean,
    /// Not a date.
    #[error("not a date")]
    NotDate,
    /// Not one of the dropdown's options.
    #[error("not one of the field's options")]
    NotAnOption,
}

fn is_blank(v: &FieldValue) -> bool {
    matches!(v, FieldValue::Null) || matches!(v, FieldValue::Text(s) if s.trim().is_empty())
}

/// Converts a side's raw value into the comparable canonical form of `ty`
/// (`Null`, `Text`, `Bool`, `Int`/`Float`, dates as `YYYY-MM-DD` text).
pub fn canonical(ty: FieldType, options: &[String], raw: &FieldValue) -> Result<FieldValue, CastError> {
    if is_blank(raw) {
        return Ok(FieldValue::Null);
    }
    Ok(match ty {
        FieldType::String => FieldValue::Text(match raw {
            FieldValue::Text(s) => s.clone(),
            FieldValue::Int(n) => n.to_string(),
            FieldValue::Float(f) => f.to_string(),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::Null => return Ok(FieldValue::Null),
        }),
        FieldType::Number => match raw {
            FieldValue::Int(n) => FieldValue::Int(*n),
            FieldValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => FieldValue::Int(*f as i64),
            FieldValue::Float(f) => FieldValue::Float(*f),
            FieldValue::Text(s) => {
                let s = s.trim();
                if let Ok(n) = s.parse::<i64>() {
                    FieldValue::Int(n)
                } else {
                    let f = s.parse::<f64>().map_err(|_| CastError::NotNumber)?;
                    if !f.is_finite() {
                        return Err(CastError::NotNumber);
                    }
                    canonical(ty, options, &FieldValue::Float(f))?
                }
            }
            _ => return Err(CastError::NotNumber),
        },
        FieldType::Boolean => FieldValue::Bool(match raw {
            FieldValue::Bool(b) => *b,
            FieldValue::Int(0) => false,
            FieldValue::Int(1) => true,
            FieldValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => true,
                "false" | "no" | "0" => false,
                _ => return Err(CastError::NotBoolean),
            },
            _ => return Err(CastError::NotBoolean),
        }),
        FieldType::Date => FieldValue::Text(match raw {
            FieldValue::Int(secs) => chrono::DateTime::from_timestamp(*secs, 0)
                .map(|d| d.date_naive().to_string())
                .ok_or(CastError::NotDate)?,
            FieldValue::Float(f) => chrono::DateTime::from_timestamp(*f as i64, 0)
                .map(|d| d.date_naive().to_string())
                .ok_or(CastError::NotDate)?,
            FieldValue::Text(s) => {
                let s = s.trim();
                let day = s.get(..10).unwrap_or(s);
                chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| CastError::NotDate)?.to_string()
            }
            _ => return Err(CastError::NotDate),
        }),
        FieldType::Dropdown => {
            let text = match raw {
                FieldValue::Text(s) => s.trim().to_string(),
                FieldValue::Int(n) => n.to_string(),
                FieldValue::Bool(b) => b.to_string(),
                FieldValue::Float(f) => f.to_string(),
                FieldValue::Null => return Ok(FieldValue::Null),
            };
            // Zendesk option values are lower-case tags; Intercom values are free text.
            let found = options.iter().find(|o| o.eq_ignore_ascii_case(&text) || tag_form(o) == tag_form(&text));
            FieldValue::Text(found.cloned().ok_or(CastError::NotAnOption)?)
        }
    })
}

fn tag_form(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// The canonical value as `side` stores it (dates become Unix seconds on Intercom).
pub fn to_side(ty: FieldType, side: Vendor, canonical: &FieldValue) -> FieldValue {
    match (ty, side, canonical) {
        (FieldType::Date, Vendor::Intercom, FieldValue::Text(day)) => {
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| FieldValue::Int(d.and_utc().timestamp()))
                .unwrap_or(FieldValue::Null)
        }
        _ => canonical.clone(),
    }
}

/// A stable text form of a canonical value (for baselines and fingerprints).
pub fn value_key(v: &FieldValue) -> String {
    match v {
        FieldValue::Null => "null".into(),
        FieldValue::Bool(b) => format!("b:{b}"),
        FieldValue::Int(n) => format!("n:{n}"),
        FieldValue::Float(f) => format!("n:{f}"),
        FieldValue::Text(s) => format!("s:{s}"),
    }
}

/// The fingerprint of a profile's mapped values as `side` holds them, for the loop guard:
/// equal to the fingerprint recorded after the bridge's own write means "our echo".
pub fn mapped_fingerprint(mapping: &KindMapping, profile: &Profile) -> String {
    let items = mapping.fields.iter().map(|f| {
        let path = if profile.side == Vendor::Intercom { &f.intercom } else { &f.zendesk };
        let raw = profile.values.get(path).cloned().unwrap_or(FieldValue::Null);
        let v = canonical(f.field_type, &f.options, &raw).unwrap_or(raw);
        format!("{path}={}", value_key(&v))
    });
    crate::loop_guard::fingerprint(items)
}
