//! Companies: upserts.

use axum::http::StatusCode;
use serde_json::Value;

use super::{str_field, validate_timestamps};
use crate::intercom::state::{Company, State};
use crate::intercom::{ApiError, Events};

fn check_custom_attributes(st: &State, model: &str, body: &Value) -> Result<(), ApiError> {
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for k in attrs.keys() {
            if !st.data_attributes.iter().any(|a| a.model == model && a.custom && a.name == *k) {
                return Err(ApiError::invalid(format!("Custom attribute '{k}' does not exist")));
            }
        }
    }
    Ok(())
}

/// `POST /companies`: upsert keyed by `company_id` (`company.created` / `company.updated`).
pub fn upsert_company(st: &mut State, ev: &mut Events, body: &Value) -> Result<Value, ApiError> {
    let company_id = str_field(body, "company_id").filter(|s| !s.is_empty());
    let name = str_field(body, "name");
    let Some(company_id) = company_id.or_else(|| name.clone()) else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "company_id or name is required"));
    };
    validate_timestamps(body)?;
    check_custom_attributes(st, "company", body)?;
    if let Some(plan) = body.get("plan")
        && !plan.is_string()
        && !plan.is_null()
    {
        return Err(ApiError::invalid("plan must be a string"));
    }
    let ts = st.now();
    let existing = st.companies.values().find(|c| c.company_id == company_id).map(|c| c.id.clone());
    let created = existing.is_none();
    let id = existing.unwrap_or_else(|| st.hex_id());
    let mut c = st.companies.get(&id).cloned().unwrap_or(Company {
        id: id.clone(),
        company_id: company_id.clone(),
        created_at: ts,
        ..Company::default()
    });
    if let Some(n) = name {
        c.name = Some(n);
    }
    if let Some(p) = str_field(body, "plan") {
        c.plan = Some(p);
    }
    for (key, slot) in [("website", &mut c.website), ("industry", &mut c.industry)] {
        if let Some(v) = str_field(body, key) {
            *slot = Some(v);
        }
    }
    if let Some(n) = body.get("size").and_then(Value::as_f64) {
        c.size = Some(n as i64);
    }
    if let Some(n) = body.get("monthly_spend").and_then(Value::as_f64) {
        c.monthly_spend = n.trunc() as i64;
    }
    if let Some(n) = body.get("remote_created_at").and_then(Value::as_i64) {
        c.remote_created_at = Some(n);
    }
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for (k, v) in attrs {
            c.custom_attributes.insert(k.clone(), v.clone());
        }
    }
    c.updated_at = ts;
    st.companies.insert(id, c.clone());
    ev.push(if created { "company.created" } else { "company.updated" }, st.company_json(&c, true));
    Ok(st.company_json(&c, false))
}
