//! Attachments: downloading a part's file from its public signed link (with a byte limit, no
//! credentials), and admin replies or notes carrying files (`attachment_files`).

use base64::Engine as _;
use bridge_domain::ids::{AdminId, ConversationId};
use bridge_domain::model::{Download, FileData};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{ApiRequest, IntercomClient, transport_error};
use crate::endpoints::ReplyKind;
use crate::error::IntercomError;
use crate::wire;

/// Files per reply Intercom accepts.
pub const MAX_REPLY_FILES: usize = 10;

impl IntercomClient {
    /// Downloads a file from a part's link, stopping once it is larger than `max_bytes`. The
    /// link is public and signed: it is fetched without the access token, whatever its host.
    /// Transient failures are retried per the client's policy; an expired or missing link is
    /// [`IntercomError::NotFound`] or [`IntercomError::Permanent`].
    pub async fn download_file(
        &self,
        url: &str,
        content_type: Option<&str>,
        name: &str,
        max_bytes: u64,
    ) -> Result<Download, IntercomError> {
        let parsed = url::Url::parse(url).map_err(|_| IntercomError::Permanent {
            status: 0,
            code: "invalid_url".into(),
            message: "attachment URL does not parse".into(),
            request_id: None,
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(IntercomError::Permanent {
                status: 0,
                code: "invalid_url".into(),
                message: "attachment URL is not http(s)".into(),
                request_id: None,
            });
        }
        let http = self.file_client();
        let fetch = || fetch_once(http, &parsed, max_bytes);
        Ok(match self.retrying("attachment download", |_| true, fetch).await? {
            Fetched::Body(bytes, header_type) => {
                let content_type = bridge_domain::attachments::content_type(content_type, header_type);
                Download::File(FileData { name: name.to_string(), content_type, bytes })
            }
            Fetched::TooLarge(size) => Download::TooLarge { size },
        })
    }

    /// `POST /conversations/{id}/reply` as an admin with files (`attachment_files`, base64; at
    /// most [`MAX_REPLY_FILES`]). Not retried after an ambiguous failure, like every reply.
    pub async fn reply_with_files(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        kind: ReplyKind,
        body: &str,
        files: &[FileData],
    ) -> Result<wire::Conversation, IntercomError> {
        if files.len() > MAX_REPLY_FILES {
            return Err(IntercomError::Permanent {
                status: 0,
                code: "too_many_files".into(),
                message: format!("at most {MAX_REPLY_FILES} files per reply"),
                request_id: None,
            });
        }
        let message_type = match kind {
            ReplyKind::Comment => "comment",
            ReplyKind::Note => "note",
        };
        let mut payload =
            json!({"message_type": message_type, "type": "admin", "admin_id": admin.as_str(), "body": body});
        if !files.is_empty() {
            let list: Vec<Value> = files
                .iter()
                .map(|f| {
                    json!({
                        "content_type": f.content_type,
                        "data": base64::engine::general_purpose::STANDARD.encode(&f.bytes),
                        "name": f.name,
                    })
                })
                .collect();
            payload["attachment_files"] = Value::Array(list);
        }
        let req = ApiRequest::new(Method::POST, &["conversations", id.as_str(), "reply"], format!("conversation {id}"))
            .body(payload);
        self.call(req).await
    }
}

enum Fetched {
    Body(Vec<u8>, Option<String>),
    TooLarge(u64),
}

async fn fetch_once(http: &reqwest::Client, url: &url::Url, max_bytes: u64) -> Result<Fetched, IntercomError> {
    // Errors without the URL: it names the file (personal data) and carries the signature.
    let mut resp = http.request(Method::GET, url.clone()).send().await.map_err(|e| transport_error(e.without_url()))?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(match status {
            429 => IntercomError::RateLimited {
                retry_after: retry_after(resp.headers()).unwrap_or(std::time::Duration::from_secs(1)),
                request_id: None,
            },
            404 | 410 => {
                IntercomError::NotFound { what: "attachment".into(), code: format!("HTTP {status}"), request_id: None }
            }
            408 | 500..=599 => IntercomError::Transient { reason: format!("HTTP {status}"), source: None },
            _ => IntercomError::Permanent {
                status,
                code: "download_refused".into(),
                message: String::new(),
                request_id: None,
            },
        });
    }
    if let Some(len) = resp.content_length()
        && len > max_bytes
    {
        return Ok(Fetched::TooLarge(len));
    }
    let header_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
        .filter(|v| !v.is_empty());
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(e.without_url()))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > max_bytes {
            return Ok(Fetched::TooLarge(bytes.len() as u64));
        }
    }
    Ok(Fetched::Body(bytes, header_type))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    let secs = headers.get("retry-after")?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(std::time::Duration::from_secs(secs.max(1)))
}
