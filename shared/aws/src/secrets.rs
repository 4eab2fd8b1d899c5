//! [`JsonSecrets`]: Secrets Manager secrets holding a JSON object of strings (the stack's
//! `<stack>/vendor-credentials`), written by `bridge setup zendesk`.

use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::AwsError;

/// What [`JsonSecrets::merge`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretChange {
    /// The secret did not exist and was created.
    Created,
    /// A value differed and the secret got a new version.
    Updated,
    /// Every value was already there: nothing written.
    Unchanged,
}

impl std::fmt::Display for SecretChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretChange::Created => "created",
            SecretChange::Updated => "updated",
            SecretChange::Unchanged => "unchanged",
        })
    }
}

/// Secrets Manager secrets whose value is a JSON object of strings.
#[derive(Debug, Clone)]
pub struct JsonSecrets {
    client: Client,
}

impl JsonSecrets {
    /// The adapter over an SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self { client: Client::new(sdk) }
    }

    /// Sets `values` in the JSON object of secret `id` (created when missing), keeping its other
    /// keys; writes only when a value differs.
    pub async fn merge(&self, id: &str, values: &[(&str, SecretString)]) -> Result<SecretChange, AwsError> {
        let failed = |operation: &'static str, source: Box<dyn std::error::Error + Send + Sync>| {
            AwsError::SecretsManager { operation, secret: id.to_string(), source }
        };
        let current = match self.client.get_secret_value().secret_id(id).send().await {
            Ok(v) => Some(SecretString::from(v.secret_string().unwrap_or("{}"))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => None,
            Err(e) => return Err(failed("GetSecretValue", Box::new(e))),
        };
        let mut json: Map<String, Value> = match &current {
            Some(text) => serde_json::from_str(text.expose_secret())
                .map_err(|_| AwsError::SecretNotJsonObject { secret: id.to_string() })?,
            None => Map::new(),
        };
        let differs = values.iter().any(|(k, v)| json.get(*k).and_then(Value::as_str) != Some(v.expose_secret()));
        if !differs {
            return Ok(SecretChange::Unchanged);
        }
        for (k, v) in values {
            json.insert((*k).to_string(), Value::String(v.expose_secret().to_string()));
        }
        let text = Value::Object(json).to_string();
        if current.is_some() {
            self.client
                .put_secret_value()
                .secret_id(id)
                .secret_string(text)
                .send()
                .await
                .map_err(|e| failed("PutSecretValue", Box::new(e)))?;
            Ok(SecretChange::Updated)
        } else {
            self.client
                .create_secret()
                .name(id)
                .secret_string(text)
                .send()
                .await
                .map_err(|e| failed("CreateSecret", Box::new(e)))?;
            Ok(SecretChange::Created)
        }
    }
}
