//! Contacts: create, update, delete, merge, tags and companies.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{str_field, validate_timestamps};
use crate::intercom::state::{Contact, State};
use crate::intercom::{ApiError, Events};

fn conflict_with(st: &State, email: Option<&str>, external_id: Option<&str>, except: Option<&str>) -> Option<String> {
    st.contacts
        .values()
        .filter(|c| Some(c.id.as_str()) != except)
        .find(|c| {
            let same_email = matches!((email, c.email.as_deref()), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
            let same_ext = matches!((external_id, c.external_id.as_deref()), (Some(a), Some(b)) if a == b);
            same_email || same_ext
        })
        .map(|c| c.id.clone())
}

fn conflict_error(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!("A contact matching those details already exists with id={id}"),
    )
}

fn apply_contact_fields(c: &mut Contact, body: &Value) {
    if let Some(v) = str_field(body, "role") {
        c.role = v;
    }
    for (key, slot) in [
        ("email", &mut c.email),
        ("external_id", &mut c.external_id),
        ("phone", &mut c.phone),
        ("name", &mut c.name),
        ("owner_id", &mut c.owner_id),
    ] {
        match body.get(key) {
            Some(Value::Null) => *slot = None,
            Some(_) => *slot = str_field(body, key),
            None => {}
        }
    }
    for (key, slot) in [("signed_up_at", &mut c.signed_up_at), ("last_seen_at", &mut c.last_seen_at)] {
        if let Some(v) = body.get(key) {
            *slot = v.as_i64();
        }
    }
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for (k, v) in attrs {
            c.custom_attributes.insert(k.clone(), v.clone());
        }
    }
}

fn contact_topic(c: &Contact, what: &str) -> String {
    format!("contact.{}.{what}", if c.role == "lead" { "lead" } else { "user" })
}

/// `POST /contacts` (409 on a duplicate email or external id).
pub fn create_contact(st: &mut State, ev: &mut Events, body: &Value) -> Result<Value, ApiError> {
    let email = str_field(body, "email");
    let external_id = str_field(body, "external_id");
    if email.is_none() && external_id.is_none() && str_field(body, "role").is_none() {
        return Err(ApiError::invalid("Email, external_id or role is required"));
    }
    validate_timestamps(body)?;
    if let Some(existing) = conflict_with(st, email.as_deref(), external_id.as_deref(), None) {
        return Err(conflict_error(&existing));
    }
    let ts = st.now();
    let mut c = Contact { id: st.hex_id(), role: "user".into(), created_at: ts, updated_at: ts, ..Contact::default() };
    apply_contact_fields(&mut c, body);
    if c.role != "lead" && c.role != "user" {
        return Err(ApiError::invalid("role must be user or lead"));
    }
    let out = st.contact_json(&c, false);
    ev.push(&contact_topic(&c, "created"), st.contact_json(&c, true));
    st.contacts.insert(c.id.clone(), c);
    Ok(out)
}

/// `PUT /contacts/{id}` (410 for merged contacts, 409 on a duplicate).
pub fn update_contact(st: &mut State, ev: &mut Events, id: &str, body: &Value) -> Result<Value, ApiError> {
    let id = live_contact(st, id)?;
    validate_timestamps(body)?;
    let email = str_field(body, "email");
    let external_id = str_field(body, "external_id");
    if let Some(existing) = conflict_with(st, email.as_deref(), external_id.as_deref(), Some(&id)) {
        return Err(conflict_error(&existing));
    }
    let ts = st.now();
    let c = st.contacts.get_mut(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let before = c.clone();
    apply_contact_fields(c, body);
    if *c != before {
        c.updated_at = ts.max(before.updated_at);
    }
    let c = c.clone();
    if c != before {
        ev.push(&contact_topic(&c, "updated"), st.contact_json(&c, true));
        if c.email != before.email {
            ev.push("contact.email.updated", st.contact_json(&c, true));
        }
    }
    Ok(st.contact_json(&c, false))
}

/// Deletes a contact (`DELETE /contacts/{id}` or a teammate): `contact.deleted` carries only
/// identifying fields.
pub fn delete_contact(st: &mut State, ev: &mut Events, id: &str) -> Result<Value, ApiError> {
    let id = live_contact(st, id)?;
    let c = st.contacts.remove(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let item = json!({"type": "contact", "id": c.id, "external_id": c.external_id, "role": c.role});
    ev.push("contact.deleted", item);
    Ok(json!({"id": c.id, "external_id": c.external_id, "type": "contact", "deleted": true}))
}

/// Resolves a contact id: 410 with a canonical `Link` for merged ones, 404 when unknown.
pub fn live_contact(st: &State, id: &str) -> Result<String, ApiError> {
    if st.contacts.contains_key(id) {
        return Ok(id.to_string());
    }
    match st.canonical_contact(id) {
        Some(canonical) => {
            let mut e = ApiError::new(
                StatusCode::GONE,
                "contact_merged",
                "This contact has been merged. See the 'Link' header for the canonical contact.",
            );
            e.link = Some(format!("</contacts/{canonical}>; rel=\"canonical\""));
            Err(e)
        }
        None => Err(ApiError::not_found("User Not Found")),
    }
}

/// Merges `from` (a lead) into `into` (a user): tags, companies and conversations move;
/// `contact.merged` fires with the surviving contact.
pub fn merge_contacts(st: &mut State, ev: &mut Events, from: &str, into: &str) -> Result<Value, ApiError> {
    let from_c = st.contacts.get(from).cloned().ok_or_else(|| ApiError::not_found("User Not Found"))?;
    if !st.contacts.contains_key(into) || from == into {
        return Err(ApiError::not_found("User Not Found"));
    }
    st.contacts.remove(from);
    st.merged.insert(from.to_string(), into.to_string());
    let ts = st.now();
    if let Some(target) = st.contacts.get_mut(into) {
        for t in from_c.tag_ids {
            if !target.tag_ids.contains(&t) {
                target.tag_ids.push(t);
            }
        }
        for co in from_c.company_ids {
            if !target.company_ids.contains(&co) {
                target.company_ids.push(co);
            }
        }
        target.updated_at = ts;
    }
    for conv in st.conversations.values_mut() {
        for c in &mut conv.contact_ids {
            if c == from {
                *c = into.to_string();
            }
        }
        if conv.source.author.id == from {
            conv.source.author.id = into.to_string();
        }
    }
    for seg in st.segments.values_mut() {
        seg.contact_ids.retain(|c| c != from);
    }
    let target = st.contacts.get(into).cloned().ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let mut item = st.contact_json(&target, true);
    item["merged_from"] = json!({"type": "contact", "id": from});
    ev.push("contact.merged", item);
    Ok(st.contact_json(&target, false))
}

/// Tags or untags a contact (`contact.<role>.tag.created|deleted`).
pub fn contact_tag(
    st: &mut State,
    ev: &mut Events,
    contact_id: &str,
    tag_id: &str,
    add: bool,
) -> Result<Value, ApiError> {
    let contact_id = live_contact(st, contact_id)?;
    if !st.tags.contains_key(tag_id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    let c = st.contacts.get_mut(&contact_id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let had = c.tag_ids.iter().any(|t| t == tag_id);
    let changed = if add && !had {
        c.tag_ids.push(tag_id.to_string());
        true
    } else if !add && had {
        c.tag_ids.retain(|t| t != tag_id);
        true
    } else {
        false
    };
    if !add && !had {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    let c = c.clone();
    if changed {
        let what = if add { "tag.created" } else { "tag.deleted" };
        let item = json!({"type": "contact_tag", "created_at": st.now(), "tag": st.tag_json(tag_id),
            "contact": {"type": "contact", "id": c.id, "external_id": c.external_id}});
        ev.push(&contact_topic(&c, what), item);
    }
    Ok(st.tag_json(tag_id))
}

/// Attaches a contact to a company (by Intercom company id).
pub fn attach_company(st: &mut State, contact_id: &str, company_id: &str) -> Result<Value, ApiError> {
    let contact_id = live_contact(st, contact_id)?;
    if !st.companies.contains_key(company_id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"));
    }
    if let Some(c) = st.contacts.get_mut(&contact_id)
        && !c.company_ids.iter().any(|x| x == company_id)
    {
        c.company_ids.push(company_id.to_string());
    }
    let co = st.companies.get(company_id).cloned().ok_or_else(|| ApiError::not_found("Company Not Found"))?;
    Ok(st.company_json(&co, false))
}
