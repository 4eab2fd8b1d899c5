//! Attachments: `POST /api/v2/uploads?filename=` (raw bytes, the file's `Content-Type`) answers
//! `201 {upload: {token, attachment, attachments}}`; a comment naming the token in `uploads`
//! takes the file (the token is used up). Files are served at their `content_url` only with
//! valid API credentials, as with private attachments on.

use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::model::AttachmentRec;
use super::state::State;

/// Zendesk's upload limit per file.
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

impl State {
    /// Stores an uploaded file; returns the `upload` answer (status, body).
    pub fn upload(&mut self, file_name: &str, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
        if file_name.trim().is_empty() {
            return (400, json!({ "error": "InvalidParameter", "description": "filename is required" }));
        }
        if bytes.len() > MAX_UPLOAD_BYTES {
            return (413, json!({ "error": "RequestTooLarge", "description": "File is too large" }));
        }
        let id = self.new_id();
        let token = format!("tok{}", uuid::Uuid::new_v4().simple());
        let rec = AttachmentRec {
            id,
            file_name: file_name.to_string(),
            content_type: if content_type.is_empty() { "application/octet-stream".into() } else { content_type.into() },
            size: bytes.len() as u64,
            content_url: format!("{}/attachments/token/{token}/?name={}", self.base, urlencode(file_name)),
        };
        self.files.insert(id, bytes);
        self.uploads.insert(token.clone(), vec![rec.clone()]);
        let attachment = rec.to_json();
        (201, json!({ "upload": { "token": token, "attachment": attachment, "attachments": [attachment] } }))
    }

    /// The files of these tokens, used up; unknown tokens are ignored (as Zendesk does).
    pub fn take_uploads(&mut self, tokens: &[String]) -> Vec<AttachmentRec> {
        tokens.iter().filter_map(|t| self.uploads.remove(t)).flatten().collect()
    }

    /// A file's record and bytes by the token in its URL.
    fn file_by_url_token(&self, token: &str) -> Option<(AttachmentRec, Vec<u8>)> {
        let marker = format!("/attachments/token/{token}/");
        let attached = self.tickets.values().flat_map(|t| t.comments.iter()).flat_map(|c| c.attachments.iter());
        let pending = self.uploads.values().flatten();
        let rec = attached.chain(pending).find(|a| a.content_url.contains(&marker))?.clone();
        let bytes = self.files.get(&rec.id)?.clone();
        Some((rec, bytes))
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /attachments/token/{token}/`: the bytes, only with valid API credentials.
pub async fn serve(AxState(shared): AxState<Arc<Shared>>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    if shared.authenticate(&headers).is_none() {
        return (StatusCode::UNAUTHORIZED, "Couldn't authenticate you").into_response();
    }
    let Some((rec, bytes)) = shared.with_state(|s| s.file_by_url_token(&token)) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let mut resp = (StatusCode::OK, bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&rec.content_type) {
        resp.headers_mut().insert("content-type", v);
    }
    resp
}
