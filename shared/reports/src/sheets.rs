//! A small Google Sheets API v4 client: service-account key -> RS256-signed JWT -> OAuth token
//! (`urn:ietf:params:oauth:grant-type:jwt-bearer`) -> `values:clear` + `values.update` of a
//! named range. RS256 comes from `ring` (already built for rustls, so no extra crate).

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use url::Url;

/// Scope the token asks for.
pub const SHEETS_SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";
/// The public Sheets API.
pub const SHEETS_API_BASE: &str = "https://sheets.googleapis.com";

/// A Sheets failure. Messages carry statuses and range names, never key material.
#[derive(Debug, thiserror::Error)]
pub enum SheetsError {
    /// The service-account key could not be used.
    #[error("service-account key: {0}")]
    Key(String),
    /// Network or protocol failure.
    #[error("sheets transport: {0}")]
    Transport(String),
    /// The token endpoint refused the assertion.
    #[error("token endpoint answered {status}: {body}")]
    Token {
        /// HTTP status.
        status: u16,
        /// Error body (Google's `{error, error_description}`).
        body: String,
    },
    /// The Sheets API answered with an error.
    #[error("sheets API answered {status} for {what}: {body}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Which call.
        what: String,
        /// Error body.
        body: String,
    },
}

/// The fields of a Google service-account JSON key the client uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// `service_account`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The account, the JWT's `iss`.
    pub client_email: String,
    /// Key id, the JWT header's `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// PKCS#8 PEM.
    pub private_key: SecretString,
    /// OAuth token endpoint, the JWT's `aud`.
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
}

fn default_token_uri() -> String {
    "https://oauth2.googleapis.com/token".into()
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

/// Decodes a PEM block's base64 body.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, SheetsError> {
    let body: String = pem.lines().map(str::trim).filter(|l| !l.starts_with("-----") && !l.is_empty()).collect();
    STANDARD.decode(body).map_err(|_| SheetsError::Key("private_key is not PEM".into()))
}

/// Signs `claims` as an RS256 JWT.
pub fn sign_jwt(key: &RsaKeyPair, kid: Option<&str>, claims: &Value) -> Result<String, SheetsError> {
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let signing_input = format!("{}.{}", encode(&header), encode(claims));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
        .map_err(|_| SheetsError::Key("signing failed".into()))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// What `values.update` reported.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSummary {
    /// The A1 range written.
    #[serde(default)]
    pub updated_range: String,
    /// Rows written.
    #[serde(default)]
    pub updated_rows: u64,
    /// Cells written.
    #[serde(default)]
    pub updated_cells: u64,
}

/// The Sheets client (one per process; the token is cached until a minute before expiry).
#[derive(Debug)]
pub struct SheetsClient {
    http: reqwest::Client,
    key: ServiceAccountKey,
    signer: RsaKeyPair,
    api_base: String,
    token: Mutex<Option<(SecretString, Instant)>>,
}

impl SheetsClient {
    /// From the JSON key text and the API base (`https://sheets.googleapis.com`).
    pub fn new(key_json: &SecretString, api_base: &Url) -> Result<Self, SheetsError> {
        // The parser's message is left out: it may quote the key.
        let key: ServiceAccountKey = serde_json::from_str(key_json.expose_secret()).map_err(|e| {
            SheetsError::Key(format!("not a service-account JSON key ({:?} at line {})", e.classify(), e.line()))
        })?;
        if !key.kind.is_empty() && key.kind != "service_account" {
            return Err(SheetsError::Key(format!("type is {:?}, expected service_account", key.kind)));
        }
        let der = pem_to_der(key.private_key.expose_secret())?;
        let signer =
            RsaKeyPair::from_pkcs8(&der).map_err(|e| SheetsError::Key(format!("not an RSA PKCS#8 key ({e})")))?;
        let http = bridge_http::client_builder()
            .map_err(|e| SheetsError::Transport(e.to_string()))?
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| SheetsError::Transport(e.to_string()))?;
        let api_base = api_base.as_str().trim_end_matches('/').to_string();
        Ok(Self { http, key, signer, api_base, token: Mutex::new(None) })
    }

    async fn access_token(&self) -> Result<SecretString, SheetsError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": self.key.client_email, "scope": SHEETS_SCOPE, "aud": self.key.token_uri,
            "iat": now, "exp": now + 3600,
        });
        let assertion = sign_jwt(&self.signer, self.key.private_key_id.as_deref(), &claims)?;
        let resp = self
            .http
            .post(&self.key.token_uri)
            .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &assertion)])
            .send()
            .await
            .map_err(|e| SheetsError::Transport(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| SheetsError::Transport(e.to_string()))?;
        if status != 200 {
            return Err(SheetsError::Token { status, body: truncate(&body) });
        }
        let reply: TokenReply =
            serde_json::from_str(&body).map_err(|_| SheetsError::Transport("token reply is not JSON".into()))?;
        let lifetime = reply.expires_in.unwrap_or(3600).saturating_sub(60);
        *cached = Some((reply.access_token.clone(), Instant::now() + Duration::from_secs(lifetime)));
        Ok(reply.access_token)
    }

    async fn call(&self, method: reqwest::Method, url: String, body: Value, what: &str) -> Result<Value, SheetsError> {
        let token = self.access_token().await?;
        let resp = self
            .http
            .request(method, url)
            .bearer_auth(token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| SheetsError::Transport(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| SheetsError::Transport(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(SheetsError::Api { status, what: what.to_string(), body: truncate(&text) });
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Replaces the named range's values: `values:clear`, then `values.update` with
    /// `valueInputOption=RAW` (numeric-looking cells are sent as numbers). Running it twice
    /// with the same rows leaves the same cells.
    pub async fn replace_range(
        &self,
        spreadsheet_id: &str,
        range: &str,
        rows: &[Vec<String>],
    ) -> Result<UpdateSummary, SheetsError> {
        let base = format!("{}/v4/spreadsheets/{spreadsheet_id}/values/{range}", self.api_base);
        self.call(reqwest::Method::POST, format!("{base}:clear"), json!({}), &format!("clear {range}")).await?;
        let values: Vec<Vec<Value>> = rows.iter().map(|r| r.iter().map(|c| cell(c)).collect()).collect();
        let body = json!({"range": range, "majorDimension": "ROWS", "values": values});
        let reply = self
            .call(reqwest::Method::PUT, format!("{base}?valueInputOption=RAW"), body, &format!("update {range}"))
            .await?;
        serde_json::from_value(reply)
            .map_err(|_| SheetsError::Transport("update reply is not an UpdateValuesResponse".into()))
    }
}

fn cell(text: &str) -> Value {
    let numeric = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-');
    match text.parse::<f64>() {
        Ok(n) if numeric && n.is_finite() => json!(n),
        _ => json!(text),
    }
}

fn truncate(body: &str) -> String {
    body.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use ring::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    /// A fresh key's PKCS#8 DER (ring signs but cannot generate RSA keys; aws-lc-rs, a test
    /// dependency only, makes them).
    fn pkcs8() -> Vec<u8> {
        let key = aws_lc_rs::signature::RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap().as_ref().to_vec()
    }

    #[test]
    fn jwt_is_rs256_and_verifies_with_the_public_key() {
        let key = RsaKeyPair::from_pkcs8(&pkcs8()).unwrap();
        let jwt = sign_jwt(&key, Some("kid-1"), &json!({"iss": "a@b"})).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"}));
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref());
        assert!(public.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).is_ok());
        assert!(public.verify(b"tampered", &sig).is_err());
    }

    #[test]
    fn key_json_is_parsed_and_never_printed() {
        let der = pkcs8();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(&der));
        let json = json!({"type": "service_account", "client_email": "r@p.iam", "private_key": pem}).to_string();
        let client = SheetsClient::new(&json.into(), &"https://sheets.example/".parse().unwrap()).unwrap();
        assert_eq!(client.api_base, "https://sheets.example");
        assert!(!format!("{client:?}").contains("PRIVATE"));
        let base = Url::parse(SHEETS_API_BASE).unwrap();
        assert!(matches!(SheetsClient::new(&"{}".into(), &base), Err(SheetsError::Key(_))));
        let leak = SheetsClient::new(&r#"{"client_email": 7, "private_key": "p-4Xq"}"#.into(), &base).unwrap_err();
        assert!(!leak.to_string().contains("p-4Xq"), "{leak}");
    }

    #[test]
    fn numeric_cells_become_numbers() {
        assert_eq!(cell("12"), json!(12.0));
        assert_eq!(cell("0.6667"), json!(0.6667));
        assert_eq!(cell("2024-05-01"), json!("2024-05-01"));
        assert_eq!(cell(""), json!(""));
        assert_eq!(cell("zendesk"), json!("zendesk"));
    }
}
