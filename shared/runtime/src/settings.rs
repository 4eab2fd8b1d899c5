//! Settings read from the environment, once per process. A missing or malformed variable is
//! reported by name, and the process refuses to start.

use std::collections::BTreeMap;
use std::time::Duration;

use bridge_domain::routing::JobKind;

/// A variable that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingsError {
    /// The environment variable.
    pub variable: String,
    /// What is wrong with it.
    pub problem: String,
}

impl SettingsError {
    fn new(variable: &str, problem: impl Into<String>) -> Self {
        Self { variable: variable.into(), problem: problem.into() }
    }
}

/// Reads environment variables; a seam so tests can pass a map instead of the process env.
pub trait Env {
    /// The value of `name`, if set and non-empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned().filter(|v| !v.trim().is_empty())
    }
}

/// The value the stack's secret holds until the operator fills it in (README "Secrets").
pub const PLACEHOLDER: &str = "CHANGE_ME";

fn required(env: &impl Env, name: &str) -> Result<String, SettingsError> {
    let value = env.get(name).ok_or_else(|| SettingsError::new(name, "not set"))?;
    if value.trim() == PLACEHOLDER {
        return Err(SettingsError::new(
            name,
            format!(
                "still the placeholder {PLACEHOLDER}: fill the secret in and deploy again with a new SecretsRevision"
            ),
        ));
    }
    Ok(value)
}

/// A webhook secret, unless unset or still the placeholder (which would let anyone sign with
/// the placeholder): the ingress then refuses that vendor's webhooks (401), and says so once.
fn webhook_secret(env: &impl Env, name: &str) -> Option<Secret> {
    let value = env.get(name)?;
    if value.trim() == PLACEHOLDER {
        tracing::error!(variable = name, "webhook secret is still the placeholder; that vendor's webhooks are refused");
        return None;
    }
    Some(Secret::new(value))
}

fn url(env: &impl Env, name: &str, default: Option<&str>) -> Result<String, SettingsError> {
    let value = match (env.get(name), default) {
        (Some(v), _) => v,
        (None, Some(d)) => d.to_string(),
        (None, None) => return Err(SettingsError::new(name, "not set")),
    };
    if !(value.starts_with("https://") || value.starts_with("http://")) {
        return Err(SettingsError::new(name, format!("must be an http(s) URL, got {value:?}")));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// A secret string that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret's bytes.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Zendesk credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZendeskAuth {
    /// `ZENDESK_EMAIL` + `ZENDESK_API_TOKEN`.
    ApiToken {
        /// Agent email.
        email: String,
        /// API token.
        token: Secret,
    },
    /// `ZENDESK_OAUTH_TOKEN`.
    OAuth(Secret),
}

/// Where the queues are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueTargets {
    /// `BRIDGE_QUEUE_URL_<JOB>` for each deployed job.
    Urls(BTreeMap<JobKind, String>),
    /// `BRIDGE_QUEUE_PREFIX`: queues `<prefix>-<job>.fifo`, looked up by name.
    Prefix(String),
}

/// The environment variable naming a job's queue URL (`BRIDGE_QUEUE_URL_TICKET_STATUS`).
pub fn queue_url_variable(job: JobKind) -> String {
    format!("BRIDGE_QUEUE_URL_{}", job.as_str().to_ascii_uppercase().replace('-', "_"))
}

fn queue_targets(env: &impl Env) -> Result<QueueTargets, SettingsError> {
    let mut urls = BTreeMap::new();
    for job in JobKind::ALL {
        let var = queue_url_variable(job);
        if env.get(&var).is_some() {
            urls.insert(job, url(env, &var, None)?);
        }
    }
    if !urls.is_empty() {
        return Ok(QueueTargets::Urls(urls));
    }
    match env.get("BRIDGE_QUEUE_PREFIX") {
        Some(p) => Ok(QueueTargets::Prefix(p)),
        None => Err(SettingsError::new(
            "BRIDGE_QUEUE_URL_ESCALATE",
            "no queue configured: set BRIDGE_QUEUE_URL_<JOB> for each job, or BRIDGE_QUEUE_PREFIX",
        )),
    }
}

/// What the webhook ingress needs.
#[derive(Debug, Clone)]
pub struct IngressSettings {
    /// `INTERCOM_CLIENT_SECRET`: signs Intercom webhooks.
    pub intercom_client_secret: Option<Secret>,
    /// `ZENDESK_WEBHOOK_SECRET`: signs Zendesk webhooks.
    pub zendesk_webhook_secret: Option<Secret>,
    /// `ZENDESK_TRIGGER_WEBHOOK_SECRET`: the signing secret of the trigger-connected webhook
    /// (`bridge setup zendesk --triggers`), when there is one; Zendesk signs each webhook with
    /// its own secret.
    pub zendesk_trigger_webhook_secret: Option<Secret>,
    /// Queues to fan out to.
    pub queues: QueueTargets,
    /// `BRIDGE_MAX_BODY_BYTES` (default 1 MiB).
    pub max_body_bytes: usize,
    /// `BRIDGE_WEBHOOK_MAX_AGE_SECS` (default 300): oldest Zendesk signature timestamp accepted.
    pub max_age: Duration,
}

impl IngressSettings {
    /// Reads the ingress settings. At least one vendor secret must be set.
    pub fn from_env(env: &impl Env) -> Result<Self, SettingsError> {
        let intercom_client_secret = webhook_secret(env, "INTERCOM_CLIENT_SECRET");
        let zendesk_webhook_secret = webhook_secret(env, "ZENDESK_WEBHOOK_SECRET");
        if intercom_client_secret.is_none() && zendesk_webhook_secret.is_none() {
            return Err(SettingsError::new(
                "INTERCOM_CLIENT_SECRET",
                "not set (nor ZENDESK_WEBHOOK_SECRET): the ingress could not verify any webhook",
            ));
        }
        let max_body_bytes = number(env, "BRIDGE_MAX_BODY_BYTES", 1024 * 1024)?;
        let max_age = Duration::from_secs(number(env, "BRIDGE_WEBHOOK_MAX_AGE_SECS", 300)? as u64);
        Ok(Self {
            intercom_client_secret,
            zendesk_webhook_secret,
            zendesk_trigger_webhook_secret: webhook_secret(env, "ZENDESK_TRIGGER_WEBHOOK_SECRET"),
            queues: queue_targets(env)?,
            max_body_bytes,
            max_age,
        })
    }
}

fn number(env: &impl Env, name: &str, default: usize) -> Result<usize, SettingsError> {
    match env.get(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| SettingsError::new(name, format!("must be a whole number, got {v:?}"))),
    }
}

/// Where the YAML configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A local file.
    File(String),
    /// `s3://bucket/key`.
    S3 {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
}

impl ConfigSource {
    /// Reads `BRIDGE_CONFIG`'s value: `s3://bucket/key`, else a file path.
    pub fn parse(raw: &str) -> Result<Self, SettingsError> {
        match raw.strip_prefix("s3://") {
            Some(rest) => match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                    Ok(ConfigSource::S3 { bucket: bucket.into(), key: key.into() })
                }
                _ => Err(SettingsError::new("BRIDGE_CONFIG", format!("{raw:?} is not s3://bucket/key"))),
            },
            None => Ok(ConfigSource::File(raw.to_string())),
        }
    }
}

/// What a worker needs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `INTERCOM_API_BASE` (default `https://api.intercom.io`).
    pub intercom_api_base: String,
    /// `INTERCOM_ACCESS_TOKEN`.
    pub intercom_access_token: Secret,
    /// `ZENDESK_BASE_URL`, e.g. `https://acme.zendesk.com`.
    pub zendesk_base_url: String,
    /// Zendesk credentials.
    pub zendesk_auth: ZendeskAuth,
    /// `BRIDGE_CONFIG`: path or `s3://` URL of the YAML.
    pub config: ConfigSource,
    /// `BRIDGE_TABLE`.
    pub table: String,
    /// Queues (for dead letters and delays).
    pub queues: QueueTargets,
    /// `BRIDGE_CONFIG_TTL_SECS` (default 60): how long a loaded configuration is used before it
    /// is read again (between batches, never within one).
    pub config_ttl: std::time::Duration,
}

impl WorkerSettings {
    /// Reads the worker settings.
    pub fn from_env(env: &impl Env) -> Result<Self, SettingsError> {
        let zendesk_auth =
            match (env.get("ZENDESK_OAUTH_TOKEN"), env.get("ZENDESK_EMAIL"), env.get("ZENDESK_API_TOKEN")) {
                (Some(_), _, _) => ZendeskAuth::OAuth(Secret::new(required(env, "ZENDESK_OAUTH_TOKEN")?)),
                (None, Some(email), Some(_)) => {
                    ZendeskAuth::ApiToken { email, token: Secret::new(required(env, "ZENDESK_API_TOKEN")?) }
                }
                (None, None, Some(_)) => {
                    return Err(SettingsError::new("ZENDESK_EMAIL", "not set (needed with ZENDESK_API_TOKEN)"));
                }
                (None, _, None) => {
                    return Err(SettingsError::new(
                        "ZENDESK_API_TOKEN",
                        "not set (set ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN)",
                    ));
                }
            };
        let config = ConfigSource::parse(&required(env, "BRIDGE_CONFIG")?)?;
        Ok(Self {
            intercom_api_base: url(env, "INTERCOM_API_BASE", Some("https://api.intercom.io"))?,
            intercom_access_token: Secret::new(required(env, "INTERCOM_ACCESS_TOKEN")?),
            zendesk_base_url: url(env, "ZENDESK_BASE_URL", None)?,
            zendesk_auth,
            config,
            table: required(env, "BRIDGE_TABLE")?,
            queues: queue_targets(env)?,
            config_ttl: config_ttl(env)?,
        })
    }
}

fn config_ttl(env: &impl Env) -> Result<std::time::Duration, SettingsError> {
    match env.get("BRIDGE_CONFIG_TTL_SECS") {
        None => Ok(std::time::Duration::from_secs(60)),
        Some(raw) => {
            raw.trim().parse::<u64>().map(std::time::Duration::from_secs).map_err(|_| {
                SettingsError::new("BRIDGE_CONFIG_TTL_SECS", format!("{raw:?} is not a number of seconds"))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const WORKER: &[(&str, &str)] = &[
        ("INTERCOM_ACCESS_TOKEN", "t"),
        ("ZENDESK_BASE_URL", "https://acme.zendesk.com"),
        ("ZENDESK_EMAIL", "bot@acme.test"),
        ("ZENDESK_API_TOKEN", "z"),
        ("BRIDGE_CONFIG", "s3://bucket/bridge.yaml"),
        ("BRIDGE_TABLE", "bridge"),
        ("BRIDGE_QUEUE_URL_ESCALATE", "https://sqs.eu-west-1.amazonaws.com/1/q.fifo"),
    ];

    #[test]
    fn worker_settings_parse() {
        let s = WorkerSettings::from_env(&env(WORKER)).unwrap();
        assert_eq!(s.intercom_api_base, "https://api.intercom.io");
        assert_eq!(s.config, ConfigSource::S3 { bucket: "bucket".into(), key: "bridge.yaml".into() });
        assert!(matches!(s.queues, QueueTargets::Urls(ref m) if m.contains_key(&JobKind::Escalate)));
    }

    #[test]
    fn config_ttl_defaults_to_a_minute_and_is_checked() {
        assert_eq!(WorkerSettings::from_env(&env(WORKER)).unwrap().config_ttl, std::time::Duration::from_secs(60));
        let mut e = env(WORKER);
        e.insert("BRIDGE_CONFIG_TTL_SECS".into(), "5".into());
        assert_eq!(WorkerSettings::from_env(&e).unwrap().config_ttl, std::time::Duration::from_secs(5));
        e.insert("BRIDGE_CONFIG_TTL_SECS".into(), "soon".into());
        assert_eq!(WorkerSettings::from_env(&e).unwrap_err().variable, "BRIDGE_CONFIG_TTL_SECS");
    }

    #[test]
    fn missing_variable_is_named() {
        let mut e = env(WORKER);
        e.remove("BRIDGE_TABLE");
        assert_eq!(WorkerSettings::from_env(&e).unwrap_err().variable, "BRIDGE_TABLE");
        let mut e = env(WORKER);
        e.remove("ZENDESK_EMAIL");
        assert_eq!(WorkerSettings::from_env(&e).unwrap_err().variable, "ZENDESK_EMAIL");
    }

    #[test]
    fn malformed_url_is_named() {
        let mut e = env(WORKER);
        e.insert("ZENDESK_BASE_URL".into(), "acme.zendesk.com".into());
        let err = WorkerSettings::from_env(&e).unwrap_err();
        assert_eq!(err.variable, "ZENDESK_BASE_URL");
        assert!(err.to_string().contains("http"));
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    #[test]
    fn a_placeholder_secret_is_refused_by_name() {
        let mut e = env(WORKER);
        e.insert("ZENDESK_API_TOKEN".into(), "CHANGE_ME".into());
        let err = WorkerSettings::from_env(&e).unwrap_err();
        assert_eq!(err.variable, "ZENDESK_API_TOKEN");
        assert!(err.problem.contains("placeholder"), "{err}");
        // A placeholder webhook secret is never used to verify: that vendor's webhooks are refused.
        let ingress = env(&[
            ("INTERCOM_CLIENT_SECRET", "real"),
            ("ZENDESK_WEBHOOK_SECRET", "CHANGE_ME"),
            ("BRIDGE_QUEUE_PREFIX", "p"),
        ]);
        let s = IngressSettings::from_env(&ingress).unwrap();
        assert!(s.zendesk_webhook_secret.is_none() && s.intercom_client_secret.is_some());
    }

    #[test]
    fn ingress_needs_a_secret_and_a_queue() {
        assert_eq!(IngressSettings::from_env(&env(&[])).unwrap_err().variable, "INTERCOM_CLIENT_SECRET");
        let err = IngressSettings::from_env(&env(&[("INTERCOM_CLIENT_SECRET", "s")])).unwrap_err();
        assert_eq!(err.variable, "BRIDGE_QUEUE_URL_ESCALATE");
    }
}
