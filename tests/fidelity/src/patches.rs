//! Corrections to the official OpenAPI files where they are known to be wrong.
//!
//! Each patch is small, names the schema it touches and cites why. A patch that no longer
//! applies (the spec was updated) makes [`crate::Spec::load`] fail, so stale patches cannot
//! silently loosen the check.

use bridge_sim::common::Vendor;
use serde_json::{Value, json};

/// One documented correction of an official spec.
#[derive(Debug, Clone, Copy)]
pub struct SpecPatch {
    /// Which vendor's spec it applies to.
    pub vendor: Vendor,
    /// Short identifier, used in error messages.
    pub name: &'static str,
    /// Why the official spec is wrong, with the source.
    pub reason: &'static str,
    apply: fn(&mut Value) -> Result<(), String>,
}

/// Every patch applied when loading the specs.
pub const PATCHES: &[SpecPatch] = &[
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "create_message_request.message_type accepts `inapp`",
        reason: "The enum says `in_app`, but every example in the same file (`message_type: inapp`, \
                 e.g. the `POST /messages` examples and the `message` schema's enum) and Intercom's \
                 own SDK send `inapp` (reference/intercom.md, \"Notes from driving Intercom's \
                 official Python SDK\"). `inapp` is added; `in_app` stays.",
        apply: message_type_inapp,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "conversation/ticket assignee ids: nullable; team (and ticket) ids also strings",
        reason: "`team_assignee_id`/`admin_assignee_id` are typed integer, non-null, on \
                 `conversation`, `conversation_list_item` and `ticket`, but the file's own \
                 conversation examples show null (`admin_assignee_id:`/`team_assignee_id:` with \
                 no value); `team_assignee_id` is a string in `create_ticket_request.assignment` \
                 and in the SDK; ticket assignee ids come back as strings (\"0\") \
                 (reference/intercom.md: Conversation, IDs, SDK notes). So: all six nullable; \
                 `team_assignee_id` integer-or-string; ticket `admin_assignee_id` too; \
                 conversation `admin_assignee_id` stays integer.",
        apply: assignee_ids,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "create_message_request.from.id is integer or string",
        reason: "Typed integer, but every `POST /messages` request example in the file sends the \
                 admin id as a string (`id: '991267816'`), and admin ids are strings in the \
                 `admin` object itself (reference/intercom.md, IDs).",
        apply: message_from_id,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "{conversation_id} path parameters are strings",
        reason: "The spec types the `conversation_id` path parameter as integer, while \
                 conversation ids are opaque strings everywhere else (the `conversation.id` \
                 property is a string; ids exceed 2^32) — reference/intercom.md, IDs.",
        apply: conversation_id_param,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "conversation has `topics` and `ticket`",
        reason: "Every full conversation example in the file (GET /conversations/{id}, list, search, \
                 redact, …) carries `topics: {}` and `ticket: null`, which the `conversation` \
                 schema does not declare. Added as a free-form object and a nullable `ticket`.",
        apply: conversation_topics_ticket,
    },
    SpecPatch {
        vendor: Vendor::Intercom,
        name: "contact sub-objects carry the fields the examples show",
        reason: "The contact examples (GET/POST/PUT /contacts…) show `type: list` on `tags`, \
                 `notes`, `companies` and `social_profiles`, and `continent_code`/`country_code` in \
                 `location`; the `contact_*` schemas do not declare them.",
        apply: contact_sub_objects,
    },
];

fn add_property(doc: &mut Value, schema: &str, name: &str, definition: Value) -> Result<(), String> {
    let ptr = format!("/components/schemas/{schema}/properties");
    let props = doc.pointer_mut(&ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    if props.contains_key(name) {
        return Err(format!("{ptr} now declares `{name}`: drop this patch"));
    }
    props.insert(name.into(), definition);
    Ok(())
}

fn conversation_topics_ticket(doc: &mut Value) -> Result<(), String> {
    add_property(doc, "conversation", "topics", json!({ "type": "object", "additionalProperties": true }))?;
    add_property(doc, "conversation", "ticket", json!({ "$ref": "#/components/schemas/ticket", "nullable": true }))
}

fn contact_sub_objects(doc: &mut Value) -> Result<(), String> {
    for schema in ["contact_tags", "contact_notes", "contact_companies", "contact_social_profiles"] {
        add_property(doc, schema, "type", json!({ "type": "string", "enum": ["list"] }))?;
    }
    for name in ["continent_code", "country_code"] {
        add_property(doc, "contact_location", name, json!({ "type": "string", "nullable": true }))?;
    }
    Ok(())
}

fn message_type_inapp(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/create_message_request/properties/message_type/enum";
    let values = doc.pointer_mut(ptr).and_then(Value::as_array_mut).ok_or_else(|| format!("{ptr} is not an array"))?;
    if !values.iter().any(|v| v == "in_app") {
        return Err(format!("{ptr} no longer contains `in_app`"));
    }
    if !values.iter().any(|v| v == "inapp") {
        values.push(json!("inapp"));
    }
    Ok(())
}

fn message_from_id(doc: &mut Value) -> Result<(), String> {
    let ptr = "/components/schemas/create_message_request/properties/from/properties/id";
    let node = doc.pointer_mut(ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
    if node.get("type") != Some(&json!("integer")) {
        return Err(format!("{ptr} is no longer typed integer"));
    }
    node.insert("type".into(), json!(["integer", "string"]));
    Ok(())
}

fn assignee_ids(doc: &mut Value) -> Result<(), String> {
    let either = json!(["integer", "string"]);
    let integer = json!("integer");
    let targets = [
        ("conversation", "team_assignee_id", &either),
        ("conversation", "admin_assignee_id", &integer),
        ("conversation_list_item", "team_assignee_id", &either),
        ("conversation_list_item", "admin_assignee_id", &integer),
        ("ticket", "team_assignee_id", &either),
        ("ticket", "admin_assignee_id", &either),
    ];
    for (schema, prop, new_type) in targets {
        let ptr = format!("/components/schemas/{schema}/properties/{prop}");
        let node = doc.pointer_mut(&ptr).and_then(Value::as_object_mut).ok_or_else(|| format!("{ptr} is missing"))?;
        if node.get("type") != Some(&json!("integer")) {
            return Err(format!("{ptr} is no longer typed integer"));
        }
        node.insert("type".into(), new_type.clone());
        node.insert("nullable".into(), json!(true));
    }
    Ok(())
}

fn conversation_id_param(doc: &mut Value) -> Result<(), String> {
    let mut changed = 0usize;
    let paths = doc.get_mut("paths").and_then(Value::as_object_mut).ok_or("no `paths`")?;
    for (template, item) in paths.iter_mut() {
        if !template.contains("{conversation_id}") {
            continue;
        }
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
            for param in params {
                let is_target = param.get("name") == Some(&json!("conversation_id"))
                    && param.get("in") == Some(&json!("path"))
                    && param.pointer("/schema/type") == Some(&json!("integer"));
                if let (true, Some(schema)) = (is_target, param.get_mut("schema").and_then(Value::as_object_mut)) {
                    schema.insert("type".into(), json!("string"));
                    changed += 1;
                }
            }
        }
    }
    if changed == 0 {
        return Err("no integer `conversation_id` path parameter found".into());
    }
    Ok(())
}

/// Applies every patch for `vendor` to the parsed document.
pub(crate) fn apply(vendor: Vendor, doc: &mut Value) -> Result<(), (&'static str, String)> {
    for patch in PATCHES.iter().filter(|p| p.vendor == vendor) {
        (patch.apply)(doc).map_err(|e| (patch.name, e))?;
    }
    Ok(())
}
