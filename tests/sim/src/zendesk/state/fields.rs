//! Custom fields: ticket field values (and the tags they imply), user and organization field keys.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ApiError, FieldInput, State, normalize_tags};
use crate::zendesk::model::{FieldRec, TicketRec};

impl State {
    pub(super) fn field_ids(&self) -> Vec<u64> {
        self.ticket_fields.iter().map(|f| f.id).collect()
    }

    pub(super) fn keys(fields: &[FieldRec]) -> Vec<String> {
        fields.iter().filter_map(|f| f.key.clone()).collect()
    }

    pub(super) fn apply_custom_fields(
        &mut self,
        t: &mut TicketRec,
        fields: Option<&Vec<FieldInput>>,
    ) -> Result<(), ApiError> {
        let Some(fields) = fields else { return Ok(()) };
        for f in fields {
            let Some(def) = self.ticket_fields.iter().find(|d| d.id == f.id) else {
                continue; // Zendesk ignores unknown field ids.
            };
            let old = t.custom_fields.get(&f.id).cloned().unwrap_or(Value::Null);
            match def.field_type.as_str() {
                "tagger" => {
                    let new = f.value.as_str().filter(|v| !v.is_empty());
                    if let Some(v) = new
                        && !def.options.iter().any(|(_, ov)| ov == v)
                    {
                        return Err(ApiError::invalid(
                            &format!("custom_field_{}", def.id),
                            "InvalidValue",
                            format!("{} is not a valid option", def.title),
                        ));
                    }
                    if let Some(o) = old.as_str() {
                        t.tags.retain(|x| x != o);
                    }
                    if let Some(v) = new {
                        t.tags.push(v.to_string());
                    }
                }
                "checkbox" => {
                    if let Some(tag) = &def.tag {
                        t.tags.retain(|x| x != tag);
                        if f.value.as_bool() == Some(true) {
                            t.tags.push(tag.clone());
                        }
                    }
                }
                "multiselect" => {
                    if let Some(olds) = old.as_array() {
                        t.tags.retain(|x| !olds.iter().any(|o| o.as_str() == Some(x)));
                    }
                    if let Some(news) = f.value.as_array() {
                        t.tags.extend(news.iter().filter_map(Value::as_str).map(str::to_string));
                    }
                }
                _ => {}
            }
            t.tags = normalize_tags(&t.tags);
            t.custom_fields.insert(f.id, f.value.clone());
        }
        Ok(())
    }

    pub(super) fn known_fields(
        &self,
        defs: &[FieldRec],
        input: Option<&BTreeMap<String, Value>>,
    ) -> BTreeMap<String, Value> {
        input
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| defs.iter().any(|d| d.key.as_deref() == Some(k.as_str())))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}
