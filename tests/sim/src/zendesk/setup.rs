//! Vendor-setup endpoints: the Webhooks API (list, create, show, update, signing secret) and
//! triggers (list, create, update). Enough for `bridge setup zendesk` and `bridge doctor`.
//! Every webhook answers the simulator's own signing secret, the one its deliveries are signed
//! with, so a bridge set up against the simulator verifies what it receives.

use axum::http::Method;
use serde_json::{Map, Value, json};

use super::api::{ApiRequest, ApiResponse};
use super::state::{ApiError, State};

/// Webhooks and triggers of the account.
#[derive(Debug, Default, Clone)]
pub struct SetupState {
    /// Webhooks by id (create order).
    pub webhooks: Vec<Value>,
    /// Triggers (create order).
    pub triggers: Vec<Value>,
    /// The signing secret every webhook answers (the simulator's delivery secret).
    pub signing_secret: String,
}

fn answer(status: u16, body: Value) -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse { status, body, headers: Vec::new() })
}

fn object(body: &Option<Value>, key: &str) -> Result<Map<String, Value>, ApiError> {
    body.as_ref()
        .and_then(|b| b.get(key))
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| ApiError::bad_request("InvalidParameter", &format!("The request must contain a `{key}` object")))
}

fn webhook_fields(st: &State, id: &str, input: Map<String, Value>) -> Result<Value, ApiError> {
    for required in ["name", "endpoint", "http_method", "request_format", "status"] {
        if !input.get(required).is_some_and(Value::is_string) {
            return Err(ApiError::bad_request("InvalidParameter", &format!("`{required}` is required")));
        }
    }
    let subs = input.get("subscriptions").and_then(Value::as_array).cloned().unwrap_or_default();
    let conditional = subs.iter().any(|s| s == "conditional_ticket_events");
    if conditional && subs.len() > 1 {
        return Err(ApiError::bad_request(
            "InvalidParameter",
            "conditional_ticket_events must be the only subscription",
        ));
    }
    let now = super::model::iso(st.now());
    let mut w = input;
    w.insert("id".into(), json!(id));
    w.insert("subscriptions".into(), Value::Array(subs));
    w.entry("created_at").or_insert(json!(now));
    w.insert("updated_at".into(), json!(now));
    Ok(Value::Object(w))
}

fn is_conditional(w: &Value) -> bool {
    w["subscriptions"].as_array().is_some_and(|a| a.iter().any(|s| s == "conditional_ticket_events"))
}

/// Answers a setup request, or `None` when the path is not one of these endpoints.
pub fn dispatch(st: &mut State, req: &ApiRequest) -> Option<Result<ApiResponse, ApiError>> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let out = match (req.method.clone(), segs.as_slice()) {
        (Method::GET, ["webhooks"]) => {
            let items = st.setup.webhooks.clone();
            answer(
                200,
                json!({ "webhooks": items, "meta": { "has_more": false, "after_cursor": null, "before_cursor": null }, "links": { "next": null, "prev": null } }),
            )
        }
        (Method::POST, ["webhooks"]) => (|| {
            let input = object(&req.body, "webhook")?;
            let id = format!("01SIMWH{:019}", st.new_id());
            let w = webhook_fields(st, &id, input)?;
            st.setup.webhooks.push(w.clone());
            answer(201, json!({ "webhook": w }))
        })(),
        (Method::GET, ["webhooks", id]) => match st.setup.webhooks.iter().find(|w| w["id"] == *id) {
            Some(w) => answer(200, json!({ "webhook": w })),
            None => Err(ApiError::not_found()),
        },
        (Method::PUT, ["webhooks", id]) => (|| {
            let pos = st.setup.webhooks.iter().position(|w| w["id"] == *id).ok_or_else(ApiError::not_found)?;
            let mut input = object(&req.body, "webhook")?;
            let old = st.setup.webhooks[pos].clone();
            if let Some(c) = old.get("created_at") {
                input.insert("created_at".into(), c.clone());
            }
            let w = webhook_fields(st, id, input)?;
            if is_conditional(&w) != is_conditional(&old) {
                return Err(ApiError::bad_request(
                    "InvalidParameter",
                    "a webhook cannot switch between event subscriptions and conditional_ticket_events",
                ));
            }
            st.setup.webhooks[pos] = w;
            answer(204, Value::Null)
        })(),
        (Method::DELETE, ["webhooks", id]) => {
            let before = st.setup.webhooks.len();
            st.setup.webhooks.retain(|w| w["id"] != *id);
            if before == st.setup.webhooks.len() { Err(ApiError::not_found()) } else { answer(204, Value::Null) }
        }
        (Method::GET, ["webhooks", id, "signing_secret"]) => {
            if st.setup.webhooks.iter().any(|w| w["id"] == *id) {
                let secret = st.setup.signing_secret.clone();
                answer(200, json!({ "signing_secret": { "algorithm": "SHA256", "secret": secret } }))
            } else {
                Err(ApiError::not_found())
            }
        }
        (Method::GET, ["triggers"]) => {
            let items = st.setup.triggers.clone();
            let count = items.len();
            answer(200, json!({ "triggers": items, "next_page": null, "previous_page": null, "count": count }))
        }
        (Method::POST, ["triggers"]) => (|| {
            let mut t = trigger_fields(object(&req.body, "trigger")?)?;
            let id = st.new_id();
            let now = super::model::iso(st.now());
            t.insert("id".into(), json!(id));
            t.insert("url".into(), json!(format!("{}/api/v2/triggers/{id}.json", st.base)));
            t.insert("position".into(), json!(st.setup.triggers.len() + 1));
            t.insert("default".into(), json!(false));
            t.insert("created_at".into(), json!(now));
            t.insert("updated_at".into(), json!(now));
            st.setup.triggers.push(Value::Object(t.clone()));
            answer(201, json!({ "trigger": t }))
        })(),
        (Method::PUT, ["triggers", id]) => (|| {
            let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
            let pos = st.setup.triggers.iter().position(|t| t["id"] == id).ok_or_else(ApiError::not_found)?;
            let input = trigger_fields(object(&req.body, "trigger")?)?;
            let now = super::model::iso(st.now());
            let Some(t) = st.setup.triggers[pos].as_object_mut() else { return Err(ApiError::not_found()) };
            for (k, v) in input {
                t.insert(k, v);
            }
            t.insert("updated_at".into(), json!(now));
            let t = t.clone();
            answer(200, json!({ "trigger": t }))
        })(),
        _ => return None,
    };
    Some(out)
}

/// The writable trigger fields; `title` and `actions` are required.
fn trigger_fields(input: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    if !input.get("title").is_some_and(Value::is_string) || !input.get("actions").is_some_and(Value::is_array) {
        return Err(ApiError::bad_request("RecordInvalid", "Title and actions are required"));
    }
    let mut t = Map::new();
    for key in ["title", "actions", "conditions", "active", "description", "category_id"] {
        if let Some(v) = input.get(key) {
            t.insert(key.into(), v.clone());
        }
    }
    t.entry("active").or_insert(json!(true));
    t.entry("conditions").or_insert(json!({ "all": [], "any": [] }));
    t.insert("raw_title".into(), t["title"].clone());
    Ok(t)
}
