//! Attachments: `POST /uploads` (the token goes on a comment's `uploads`) and downloading a
//! comment's file with a byte limit.
//!
//! A comment's `content_url` may point anywhere (Zendesk serves files from the account's host
//! and redirects to its CDN; an attacker-controlled comment cannot choose the host, but the
//! OpenAPI file warns that files "may be hosted externally"). The credentials are therefore sent
//! only to the account's own origin (scheme, host and port of the configured base URL), and
//! redirects are followed by hand, without them once they leave that origin.

use bridge_domain::model::{Download, FileData};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use secrecy::ExposeSecret;

use crate::client::{Call, ZdResult, ZendeskClient, transport_error};
use crate::error::ZendeskError;
use crate::types::ZdUpload;

/// Redirects followed at most by one download.
const MAX_REDIRECTS: usize = 5;

impl ZendeskClient {
    /// `POST /uploads?filename=` with the file's bytes and type. Returns the token (valid for
    /// 60 minutes, unattached until a comment names it). Retried per the shared policy: a second
    /// upload of the same file is harmless, only the token named in the comment is attached.
    /// The file is taken, not copied: a large one is held in memory once.
    pub async fn upload(&self, file: FileData) -> ZdResult<ZdUpload> {
        let name = bridge_domain::attachments::safe_file_name(&file.name);
        let content_type = match file.content_type.trim() {
            "" => "application/octet-stream".to_string(),
            _ => file.content_type,
        };
        let call = Call::new(Method::POST, "/uploads").query("filename", name).raw(file.bytes, &content_type);
        let upload: ZdUpload = self.send(&call).await?.take("upload")?;
        if upload.token.is_empty() {
            return Err(ZendeskError::Decode("upload without a token".into()));
        }
        Ok(upload)
    }

    /// Downloads a comment's file from `content_url`, stopping once it is larger than
    /// `max_bytes`. Credentials go only to the account's own origin. Transient failures are
    /// retried per the shared policy.
    pub async fn download(
        &self,
        content_url: &str,
        name: &str,
        content_type: Option<&str>,
        max_bytes: u64,
    ) -> ZdResult<Download> {
        let url = url::Url::parse(content_url).map_err(|_| refused("attachment URL does not parse"))?;
        Ok(match self.retrying("attachment download", || self.fetch_once(url.clone(), max_bytes)).await? {
            Fetched::Body(bytes, header_type) => {
                let content_type = bridge_domain::attachments::content_type(content_type, header_type);
                Download::File(FileData { name: name.to_string(), content_type, bytes })
            }
            Fetched::TooLarge(size) => Download::TooLarge { size },
        })
    }

    /// True when `url` is on the account's own origin (where the credentials may go).
    pub fn is_own_origin(&self, url: &url::Url) -> bool {
        url::Url::parse(self.base_url()).is_ok_and(|base| base.origin() == url.origin())
    }

    async fn fetch_once(&self, mut url: url::Url, max_bytes: u64) -> ZdResult<Fetched> {
        let (http, auth) = self.file_access();
        for _ in 0..=MAX_REDIRECTS {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(refused("attachment URL is not http(s)"));
            }
            let mut req = http.request(Method::GET, url.clone());
            if self.is_own_origin(&url) {
                req = req.header(AUTHORIZATION, auth.expose_secret());
            }
            let mut resp = req.send().await.map_err(transport_error)?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| url.join(loc).ok())
                    .ok_or_else(|| refused("redirect without a location"))?;
                url = next;
                continue;
            }
            if !status.is_success() {
                let retry_after = crate::rate_limit::retry_after(resp.headers());
                return Err(ZendeskError::from_response(status.as_u16(), &[], "attachment", retry_after));
            }
            if let Some(len) = resp.content_length()
                && len > max_bytes
            {
                return Ok(Fetched::TooLarge(len));
            }
            let header_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
                .filter(|v| !v.is_empty());
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > max_bytes {
                    return Ok(Fetched::TooLarge(bytes.len() as u64));
                }
            }
            return Ok(Fetched::Body(bytes, header_type));
        }
        Err(refused("too many redirects"))
    }
}

enum Fetched {
    Body(Vec<u8>, Option<String>),
    TooLarge(u64),
}

fn refused(why: &str) -> ZendeskError {
    ZendeskError::Permanent { status: 0, error: Some(why.to_string()), description: None }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{Auth, ZendeskConfig};

    #[test]
    fn credentials_go_to_the_accounts_own_origin_only() {
        let client = ZendeskClient::new(ZendeskConfig {
            base_url: url::Url::parse("https://acme.zendesk.com").unwrap(),
            auth: Auth::OAuth { token: "t".into() },
            timeout: Duration::from_secs(1),
        })
        .unwrap();
        let own = |u: &str| client.is_own_origin(&url::Url::parse(u).unwrap());
        assert!(own("https://acme.zendesk.com/attachments/token/abc/?name=a.pdf"));
        assert!(!own("https://acme.zendesk.com.evil.example/attachments/token/abc/"));
        assert!(!own("http://acme.zendesk.com/attachments/token/abc/"), "another scheme");
        assert!(!own("https://acme.zendesk.com:8443/attachments/token/abc/"), "another port");
        assert!(!own("https://p1.zdusercontent.com/attachment/1/abc"), "the CDN a redirect leads to");
    }
}
