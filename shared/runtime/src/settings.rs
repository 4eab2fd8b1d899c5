//! Settings read from the environment, once per process. A missing or malformed variable is
//! reported by name, and the process refuses to start. Values are parsed here, once: URLs are
//! [`Url`]s, credentials and webhook secrets [`SecretString`]s (never printed by `Debug`), the
//! Zendesk credentials a [`bridge_zendesk::Auth`].

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use bridge_domain::routing::JobKind;
use bridge_intercom::{IntercomClient, IntercomConfig};
use bridge_zendesk::{Auth, ZendeskClient, ZendeskConfig};
use secrecy::SecretString;
use url::Url;

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
    pub(crate) fn new(variable: &str, problem: impl Into<String>) -> Self {
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

pub(crate) fn required(env: &impl Env, name: &str) -> Result<String, SettingsError> {
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
fn webhook_secret(env: &impl Env, name: &str) -> Option<SecretString> {
    let value = env.get(name)?;
    if value.trim() == PLACEHOLDER {
        tracing::error!(variable = name, "webhook secret is still the placeholder; that vendor's webhooks are refused");
        return None;
    }
    Some(SecretString::from(value))
}

/// A required credential: set, and no longer the placeholder.
fn required_secret(env: &impl Env, name: &str) -> Result<SecretString, SettingsError> {
    required(env, name).map(SecretString::from)
}

/// An http(s) URL that can be the base of API paths.
pub fn parse_http_url(name: &str, value: &str) -> Result<Url, SettingsError> {
    let url = Url::parse(value.trim())
        .map_err(|e| SettingsError::new(name, format!("must be an http(s) URL, got {value:?} ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(SettingsError::new(name, format!("must be an http(s) URL, got {value:?}")));
    }
    Ok(url)
}

fn url(env: &impl Env, name: &str, default: Option<&str>) -> Result<Url, SettingsError> {
    match (env.get(name), default) {
        (Some(v), _) => parse_http_url(name, &v),
        (None, Some(d)) => parse_http_url(name, d),
        (None, None) => Err(SettingsError::new(name, "not set")),
    }
}

/// `INTERCOM_API_BASE` when unset.
pub const DEFAULT_INTERCOM_API_BASE: &str = "https://api.intercom.io";

/// How to reach the Intercom workspace.
#[derive(Debug, Clone)]
pub struct IntercomAccess {
    /// `INTERCOM_API_BASE` (default `https://api.intercom.io`).
    pub api_base: Url,
    /// `INTERCOM_ACCESS_TOKEN`.
    pub access_token: SecretString,
}

impl IntercomAccess {
    /// Reads `INTERCOM_API_BASE` and `INTERCOM_ACCESS_TOKEN`.
    pub fn from_env(env: &impl Env) -> Result<Self, SettingsError> {
        Ok(Self {
            api_base: url(env, "INTERCOM_API_BASE", Some(DEFAULT_INTERCOM_API_BASE))?,
            access_token: required_secret(env, "INTERCOM_ACCESS_TOKEN")?,
        })
    }

    /// The Intercom client over these settings (default version, timeout and retry policy).
    pub fn client(&self) -> anyhow::Result<IntercomClient> {
        IntercomClient::new(IntercomConfig::new(self.api_base.clone(), self.access_token.clone()))
            .context("building the Intercom client")
    }
}

/// How to reach the Zendesk account.
#[derive(Debug, Clone)]
pub struct ZendeskAccess {
    /// `ZENDESK_BASE_URL`, e.g. `https://acme.zendesk.com`.
    pub base_url: Url,
    /// `ZENDESK_OAUTH_TOKEN`, else `ZENDESK_EMAIL` + `ZENDESK_API_TOKEN`.
    pub auth: Auth,
}

impl ZendeskAccess {
    /// Reads `ZENDESK_BASE_URL` and the credentials: `ZENDESK_OAUTH_TOKEN` when set, else
    /// `ZENDESK_EMAIL` with `ZENDESK_API_TOKEN`.
    pub fn from_env(env: &impl Env) -> Result<Self, SettingsError> {
        let auth = match (env.get("ZENDESK_OAUTH_TOKEN"), env.get("ZENDESK_EMAIL"), env.get("ZENDESK_API_TOKEN")) {
            (Some(_), _, _) => Auth::OAuth { token: required_secret(env, "ZENDESK_OAUTH_TOKEN")? },
            (None, Some(email), Some(_)) => Auth::ApiToken { email, token: required_secret(env, "ZENDESK_API_TOKEN")? },
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
        Ok(Self { base_url: url(env, "ZENDESK_BASE_URL", None)?, auth })
    }

    /// The Zendesk client over these settings, each HTTP attempt cut after `timeout`.
    pub fn client(&self, timeout: Duration) -> anyhow::Result<ZendeskClient> {
        ZendeskClient::new(ZendeskConfig { base_url: self.base_url.clone(), auth: self.auth.clone(), timeout })
            .context("building the Zendesk client")
    }
}

/// Where the queues are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueTargets {
    /// `BRIDGE_QUEUE_URL_<JOB>` for each deployed job.
    Urls(BTreeMap<JobKind, String>),
    /// `BRIDGE_QUEUE_PREFIX`: queues `<prefix>-<job>.fifo`, looked up by name.
    Prefix(String),
}

impl QueueTargets {
    /// Refuses queue URLs that leave a job out, naming the first missing `BRIDGE_QUEUE_URL_<JOB>`:
    /// for a process that works on every job's queues (`profile-sync`: GDPR erasure removes the
    /// person's dead letters from every job's DLQ, and would silently skip a job it has no URL
    /// for). With `BRIDGE_QUEUE_PREFIX` every job's queues are looked up, and a missing one
    /// fails there.
    pub fn require_every_job(&self) -> Result<(), SettingsError> {
        let QueueTargets::Urls(urls) = self else { return Ok(()) };
        match JobKind::ALL.into_iter().find(|job| !urls.contains_key(job)) {
            None => Ok(()),
            Some(job) => Err(SettingsError::new(
                &queue_url_variable(job),
                format!(
                    "not set: this function needs every job's queue (GDPR erasure purges the {} DLQ too); \
                     set BRIDGE_QUEUE_URL_<JOB> for each job, or BRIDGE_QUEUE_PREFIX",
                    job.as_str()
                ),
            )),
        }
    }
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
            // Validated as a URL, kept as the text the SDK is given.
            urls.insert(job, url(env, &var, None)?.as_str().trim_end_matches('/').to_string());
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
    pub intercom_client_secret: Option<SecretString>,
    /// `ZENDESK_WEBHOOK_SECRET`: signs Zendesk webhooks.
    pub zendesk_webhook_secret: Option<SecretString>,
    /// `ZENDESK_TRIGGER_WEBHOOK_SECRET`: the signing secret of the trigger-connected webhook
    /// (`bridge setup zendesk --triggers`), when there is one; Zendesk signs each webhook with
    /// its own secret.
    pub zendesk_trigger_webhook_secret: Option<SecretString>,
    /// Queues to fan out to.
    pub queues: QueueTargets,
    /// `BRIDGE_MAX_BODY_BYTES` (default 1 MiB).
    pub max_body_bytes: usize,
    /// `BRIDGE_WEBHOOK_MAX_AGE_SECS` (default 300): oldest Zendesk signature timestamp accepted.
    pub max_age: Duration,
    /// `BRIDGE_CONFIG` (optional here): with it, events are queued only for the jobs that will
    /// act on them; without it, for every deployed job whose topics match.
    pub config: Option<ConfigSource>,
    /// `BRIDGE_CONFIG_TTL_SECS` (default 60).
    pub config_ttl: Duration,
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
            config: env
                .get("BRIDGE_CONFIG")
                .filter(|v| !v.trim().is_empty())
                .map(|v| ConfigSource::parse(&v))
                .transpose()?,
            config_ttl: config_ttl(env)?,
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
    /// A local file, several files separated by commas, or a folder (its `*.yaml` and `*.yml`
    /// files in name order); several files merge section by section.
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
    /// Intercom's address and token.
    pub intercom: IntercomAccess,
    /// Zendesk's address and credentials.
    pub zendesk: ZendeskAccess,
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
        let zendesk = ZendeskAccess::from_env(env)?;
        let config = ConfigSource::parse(&required(env, "BRIDGE_CONFIG")?)?;
        Ok(Self {
            intercom: IntercomAccess::from_env(env)?,
            zendesk,
            config,
            table: required(env, "BRIDGE_TABLE")?,
            queues: queue_targets(env)?,
            config_ttl: config_ttl(env)?,
        })
    }
}

/// `BRIDGE_CONFIG_TTL_SECS` (default 60 seconds).
pub(crate) fn config_ttl(env: &impl Env) -> Result<std::time::Duration, SettingsError> {
    match env.get("BRIDGE_CONFIG_TTL_SECS") {
        None => Ok(std::time::Duration::from_secs(60)),
        Some(raw) => {
            raw.trim().parse::<u64>().map(std::time::Duration::from_secs).map_err(|_| {
                SettingsError::new("BRIDGE_CONFIG_TTL_SECS", format!("{raw:?} is not a number of seconds"))
            })
        }
    }
}

/// `BRIDGE_BACKFILL_HEADROOM`: the fraction of each vendor limit a backfill leaves to every
/// other caller of the accounts.
pub const BACKFILL_HEADROOM_VARIABLE: &str = "BRIDGE_BACKFILL_HEADROOM";
/// The headroom when [`BACKFILL_HEADROOM_VARIABLE`] is not set: 10 %, for the bridge's own
/// functions (only the backfill takes from the shared budget) and other integrations.
pub const DEFAULT_BACKFILL_HEADROOM: f64 = 0.1;

/// Reads [`BACKFILL_HEADROOM_VARIABLE`]: a fraction from 0 to 0.5 (0 when the backfill is the
/// only caller of both accounts, e.g. an import before go-live), [`DEFAULT_BACKFILL_HEADROOM`]
/// when unset.
pub fn backfill_headroom(env: &impl Env) -> Result<f64, SettingsError> {
    let Some(raw) = env.get(BACKFILL_HEADROOM_VARIABLE) else { return Ok(DEFAULT_BACKFILL_HEADROOM) };
    match raw.trim().parse::<f64>() {
        Ok(h) if (0.0..=0.5).contains(&h) => Ok(h),
        _ => Err(SettingsError::new(BACKFILL_HEADROOM_VARIABLE, format!("{raw:?} is not a fraction from 0 to 0.5"))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
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
        assert_eq!(s.intercom.api_base, Url::parse("https://api.intercom.io").unwrap());
        assert_eq!(s.zendesk.base_url.as_str(), "https://acme.zendesk.com/");
        assert!(matches!(&s.zendesk.auth, Auth::ApiToken { email, .. } if email == "bot@acme.test"));
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
        for bad in ["ftp://acme.zendesk.com", "mailto:bot@acme.test", "https://"] {
            e.insert("ZENDESK_BASE_URL".into(), bad.into());
            assert_eq!(WorkerSettings::from_env(&e).unwrap_err().variable, "ZENDESK_BASE_URL", "{bad}");
        }
        let mut e = env(WORKER);
        e.insert("INTERCOM_API_BASE".into(), "api.intercom.io".into());
        assert_eq!(WorkerSettings::from_env(&e).unwrap_err().variable, "INTERCOM_API_BASE");
        let mut e = env(WORKER);
        e.insert("BRIDGE_QUEUE_URL_ESCALATE".into(), "sqs/q.fifo".into());
        assert_eq!(WorkerSettings::from_env(&e).unwrap_err().variable, "BRIDGE_QUEUE_URL_ESCALATE");
    }

    #[test]
    fn every_job_queue_is_required_where_asked_and_a_missing_one_is_named() {
        let mut e = env(WORKER);
        for job in JobKind::ALL {
            e.insert(queue_url_variable(job), format!("https://sqs.eu-west-1.amazonaws.com/1/{}.fifo", job.as_str()));
        }
        let every = WorkerSettings::from_env(&e).unwrap();
        assert_eq!(every.queues.require_every_job(), Ok(()));
        e.remove("BRIDGE_QUEUE_URL_TICKET_STATUS");
        let err = WorkerSettings::from_env(&e).unwrap().queues.require_every_job().unwrap_err();
        assert_eq!(err.variable, "BRIDGE_QUEUE_URL_TICKET_STATUS");
        assert!(err.to_string().contains("ticket-status DLQ"), "{err}");
        // One queue is enough for a worker that is not asked for every job (the others' own).
        assert!(WorkerSettings::from_env(&env(WORKER)).is_ok());
        // A prefix looks every queue up (and fails there when one is missing).
        assert_eq!(QueueTargets::Prefix("bridge".into()).require_every_job(), Ok(()));
    }

    #[test]
    fn oauth_is_preferred_and_both_halves_of_an_api_token_are_needed() {
        let mut e = env(WORKER);
        e.insert("ZENDESK_OAUTH_TOKEN".into(), "oauth-token".into());
        assert!(matches!(WorkerSettings::from_env(&e).unwrap().zendesk.auth, Auth::OAuth { .. }));
        let mut e = env(WORKER);
        e.remove("ZENDESK_API_TOKEN");
        assert_eq!(WorkerSettings::from_env(&e).unwrap_err().variable, "ZENDESK_API_TOKEN");
    }

    /// Every credential and webhook secret, with a value that must never show in `Debug`.
    pub(crate) const SECRETS: &[(&str, &str)] = &[
        ("INTERCOM_ACCESS_TOKEN", "ic-token-4Fq9"),
        ("ZENDESK_API_TOKEN", "zd-token-7Hw2"),
        ("ZENDESK_OAUTH_TOKEN", "zd-oauth-3Kd8"),
        ("INTERCOM_CLIENT_SECRET", "ic-hook-secret-9Lp1"),
        ("ZENDESK_WEBHOOK_SECRET", "zd-hook-secret-2Mx5"),
        ("ZENDESK_TRIGGER_WEBHOOK_SECRET", "zd-trigger-secret-6Rt4"),
        ("GOOGLE_SERVICE_ACCOUNT_JSON", "google-key-8Vb3"),
    ];

    /// Asserts that `shown` contains none of the [`SECRETS`] values (nor the Zendesk email).
    pub(crate) fn assert_no_secret(shown: &str) {
        for (name, value) in SECRETS {
            assert!(!shown.contains(value), "{name} printed: {shown}");
        }
        assert!(!shown.contains("bot@acme.test"), "the Zendesk email printed: {shown}");
    }

    #[test]
    fn secrets_do_not_print() {
        let mut e = env(WORKER);
        e.extend(SECRETS.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        e.remove("ZENDESK_OAUTH_TOKEN");
        let worker = WorkerSettings::from_env(&e).unwrap();
        assert_no_secret(&format!("{worker:?}"));
        assert_no_secret(&format!("{worker:#?}"));
        let ingress = IngressSettings::from_env(&e).unwrap();
        assert!(ingress.zendesk_trigger_webhook_secret.is_some());
        assert_no_secret(&format!("{ingress:?}"));
        e.insert("ZENDESK_OAUTH_TOKEN".into(), "zd-oauth-3Kd8".into());
        let oauth = WorkerSettings::from_env(&e).unwrap();
        assert!(matches!(oauth.zendesk.auth, Auth::OAuth { .. }));
        assert_no_secret(&format!("{oauth:?}"));
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

    #[test]
    fn the_backfill_headroom_defaults_to_a_tenth_and_takes_a_fraction_up_to_a_half() {
        let env = |v: &str| BTreeMap::from([(BACKFILL_HEADROOM_VARIABLE.to_string(), v.to_string())]);
        assert_eq!(backfill_headroom(&BTreeMap::new()), Ok(DEFAULT_BACKFILL_HEADROOM));
        assert_eq!(backfill_headroom(&env("0")), Ok(0.0));
        assert_eq!(backfill_headroom(&env(" 0.05 ")), Ok(0.05));
        for bad in ["0.6", "-0.1", "10%", "NaN"] {
            let err = backfill_headroom(&env(bad)).unwrap_err();
            assert_eq!(err.variable, BACKFILL_HEADROOM_VARIABLE, "{bad}");
        }
    }
}
