//! Outbound messages from an admin to a contact.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use super::{ApiResult, Sh, body, required, text};
use crate::intercom::state::Message;
use crate::intercom::{ApiError, actions};

pub(super) async fn send_message(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let message_type = required(&b, "message_type")?;
    let msg_body = text(&b, "body").filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid("Body is required"))?;
    let kind = match message_type.as_str() {
        "inapp" | "in_app" => "inapp",
        "email" => "email",
        other => {
            return Err(ApiError::invalid(format!("message_type {other} is not valid")));
        }
    };
    let subject = text(&b, "subject");
    if kind == "email" && subject.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_not_found",
            "subject is required for email messages",
        ));
    }
    let from = b
        .get("from")
        .and_then(|f| text(f, "id"))
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "from is required"))?;
    let to = b
        .get("to")
        .and_then(|t| text(t, "id"))
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "to is required"))?;
    sh.mutate(|st, _| {
        if !st.admins.contains_key(&from) {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"));
        }
        let to = actions::live_contact(st, &to)?;
        let id = st.numeric_id(5_000_000);
        let m = Message { id: id.clone(), message_type: kind.into(), subject: subject.clone(), body: msg_body.clone(), from_admin: from.clone(), to_contact: to, created_at: st.now() };
        let out = json!({"type": "admin_message", "id": id, "created_at": m.created_at, "subject": m.subject.clone().unwrap_or_default(),
            "body": m.body, "message_type": m.message_type, "owner": st.admins.get(&from).map(|a| st.admin_json(a))});
        st.messages.push(m);
        Ok(Json(out))
    })
}
