//! Schema drift: a live field catalog compared with the mapping.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::config::{FieldMapping, FieldType, ProfilesConfig, custom_prefix};
use crate::event::{Kind, Vendor};

/// One custom field of a live catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogField {
    /// Path as in the mapping (`custom_attributes.plan`, `user_fields.tier`).
    pub path: String,
    /// The vendor's type (`string`, `integer`, `dropdown`, `checkbox`, …).
    pub data_type: String,
    /// Dropdown option values.
    pub options: Vec<String>,
}

/// A difference between a catalog and the mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum DriftFinding {
    /// A custom field nothing maps.
    Unmapped {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
    },
    /// A mapped custom field that no longer exists.
    Missing {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
    },
    /// A mapped field whose type no longer fits.
    TypeChanged {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
        /// The configured type.
        expected: FieldType,
        /// The vendor's type now.
        actual: String,
    },
    /// Configured dropdown options the field no longer offers.
    OptionsChanged {
        /// Vendor.
        side: Vendor,
        /// Kind.
        kind: Kind,
        /// Path.
        path: String,
        /// Options in the config the field lacks.
        missing: Vec<String>,
    },
}

impl DriftFinding {
    /// True for findings that make the mapping wrong (not just incomplete).
    pub fn is_error(&self) -> bool {
        !matches!(self, DriftFinding::Unmapped { .. })
    }
}

/// True when a vendor type can carry a configured type.
pub fn type_fits(expected: FieldType, vendor_type: &str) -> bool {
    let t = vendor_type.to_ascii_lowercase();
    match expected {
        FieldType::String => matches!(t.as_str(), "string" | "text" | "textarea" | "regexp" | "dropdown" | "tagger"),
        FieldType::Number => matches!(t.as_str(), "integer" | "float" | "decimal" | "number"),
        FieldType::Boolean => matches!(t.as_str(), "boolean" | "checkbox"),
        FieldType::Date => matches!(t.as_str(), "date" | "integer"),
        FieldType::Dropdown => matches!(t.as_str(), "dropdown" | "tagger" | "string" | "text"),
    }
}

/// Compares one side's live catalog of a kind with the mapping.
pub fn drift(config: &ProfilesConfig, side: Vendor, kind: Kind, catalog: &[CatalogField]) -> Vec<DriftFinding> {
    let mut out = Vec::new();
    let prefix = custom_prefix(side, kind);
    let fields: &[FieldMapping] = config.mapping(kind).map(|m| m.fields.as_slice()).unwrap_or(&[]);
    let path_of = |f: &FieldMapping| if side == Vendor::Intercom { f.intercom.clone() } else { f.zendesk.clone() };
    let mut known: BTreeSet<String> = fields.iter().map(path_of).collect();
    if kind == Kind::Person
        && let Some(id_field) = config.id_field(side)
    {
        known.insert(id_field);
    }
    known.extend(config.ignore_fields.iter().cloned());
    for c in catalog.iter().filter(|c| c.path.starts_with(prefix)) {
        if !known.contains(&c.path) {
            out.push(DriftFinding::Unmapped { side, kind, path: c.path.clone() });
        }
    }
    for f in fields {
        let path = path_of(f);
        if !path.starts_with(prefix) {
            continue;
        }
        let Some(live) = catalog.iter().find(|c| c.path == path) else {
            out.push(DriftFinding::Missing { side, kind, path });
            continue;
        };
        if !type_fits(f.field_type, &live.data_type) {
            out.push(DriftFinding::TypeChanged {
                side,
                kind,
                path: path.clone(),
                expected: f.field_type,
                actual: live.data_type.clone(),
            });
            continue;
        }
        if side == Vendor::Zendesk && f.field_type == FieldType::Dropdown && !live.options.is_empty() {
            let missing: Vec<String> = f.options.iter().filter(|o| !live.options.contains(o)).cloned().collect();
            if !missing.is_empty() {
                out.push(DriftFinding::OptionsChanged { side, kind, path, missing });
            }
        }
    }
    out
}
