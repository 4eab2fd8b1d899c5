//! A running rehearsal ([`Rehearsal`]): the deploy, the recording proxy, each function's pool
//! of processes with its environment and role, and the event sources driving them. What
//! scenarios call on it is in `drive`; the calls recorded and their checks in `recording`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use bridge_e2e::Seeded;
use bridge_sim::intercom::{IntercomSim, IntercomSimOptions};
use bridge_sim::moto::Moto;
use bridge_sim::zendesk::{ZendeskSim, ZendeskSimOptions};

use crate::binaries::{binary_dir, build_binaries, profile};
use crate::deploy::{SecretSetup, deploy, enable_iam};
use crate::iam::Evaluator;
use crate::lambda::{FunctionSpec, Pool};
use crate::manifest::{self, Credentials, Manifest};
use crate::proxy::{Principal, Proxy};
use crate::sources::{self, Functions, Poller};
use crate::{BINARIES, CONFIG_TEMPLATE, workspace_root};

mod drive;
mod recording;

pub use recording::lesson_resource;

/// What to rehearse.
pub struct Options {
    /// Changes the template's text before the deploy (tests that break a statement on purpose).
    pub edit_template: Option<Box<dyn FnOnce(String) -> String + Send>>,
    /// Template parameters besides the ones the rehearsal sets.
    pub params: Vec<(String, String)>,
    /// The secret.
    pub secret: SecretSetup,
    /// Most instances per function (and batches in flight per event source mapping).
    pub instances: usize,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options").field("params", &self.params).field("secret", &self.secret).finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self { edit_template: None, params: Vec::new(), secret: SecretSetup::CreatedThenFilled, instances: 2 }
    }
}

/// Groups and users the rehearsal seeds besides [`Seeded`].
#[derive(Debug, Clone, Copy)]
pub struct Extra {
    /// Zendesk group "General" (routing's default).
    pub general_group: u64,
    /// Zendesk group "Enterprise" (routing's enterprise rule).
    pub enterprise_group: u64,
}

/// A function URL as the rehearsal serves it.
struct ServedUrl {
    /// `http://127.0.0.1:<port>/`.
    local: String,
    /// Requests it received.
    requests: Arc<std::sync::atomic::AtomicU64>,
}

/// A running rehearsal. Everything stops when it is dropped.
pub struct Rehearsal {
    /// The deployed stack.
    pub manifest: Manifest,
    /// Intercom simulator.
    pub intercom: IntercomSim,
    /// Zendesk simulator.
    pub zendesk: ZendeskSim,
    /// Seeded ids.
    pub seeded: Seeded,
    /// More seeded ids.
    pub extra: Extra,
    /// The recording proxy.
    pub proxy: Proxy,
    /// The functions.
    pub functions: Functions,
    /// The SQS event source mappings, by function logical id.
    pub pollers: BTreeMap<String, Poller>,
    /// The configuration deployed.
    pub config_text: String,
    problems: Arc<Mutex<Vec<String>>>,
    api_url: String,
    api_requests: Arc<std::sync::atomic::AtomicU64>,
    function_urls: BTreeMap<String, ServedUrl>,
    admin: SdkConfig,
    bin_dir: PathBuf,
    _api: tokio::task::JoinHandle<()>,
    _urls: Vec<tokio::task::JoinHandle<()>>,
    _evaluator: Arc<Evaluator>,
    _dir: tempfile::TempDir,
    moto: Moto,
}

impl std::fmt::Debug for Rehearsal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rehearsal").field("api", &self.api_url).finish()
    }
}

impl Drop for Rehearsal {
    fn drop(&mut self) {
        for pool in self.functions.values() {
            pool.shutdown();
        }
    }
}

fn sdk_config(endpoint: &str, creds: &Credentials) -> SdkConfig {
    let token = (!creds.session_token.is_empty()).then(|| creds.session_token.clone());
    let credentials = bridge_aws::sdk::s3::config::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        token,
        None,
        "rehearsal",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(bridge_aws::sdk::s3::config::SharedCredentialsProvider::new(credentials))
        .http_client(bridge_http::sdk::http_client())
        .build()
}

impl Rehearsal {
    /// Deploys and starts everything (see the crate documentation).
    pub async fn start(options: Options) -> anyhow::Result<Self> {
        tokio::task::spawn_blocking(build_binaries).await??;
        let bin_dir = binary_dir()?;
        for b in BINARIES {
            anyhow::ensure!(
                bin_dir.join(b).is_file(),
                "{} is missing: run `make rehearse` (it builds the functions with the {} profile)",
                bin_dir.join(b).display(),
                profile()
            );
        }
        let root = workspace_root();
        let moto = Moto::start_script(&root.join("tests/rehearsal/moto_iam.py"))?;
        let intercom = IntercomSim::start(IntercomSimOptions::default()).await?;
        let zendesk = ZendeskSim::start(ZendeskSimOptions::default()).await?;
        let seeded = bridge_e2e::seed_vendors(&intercom, &zendesk)?;
        bridge_e2e::profiles_demo::seed_fields(&intercom, &zendesk);
        let extra =
            Extra { general_group: zendesk.add_group("General"), enterprise_group: zendesk.add_group("Enterprise") };
        let config_text = CONFIG_TEMPLATE
            .replace("{bot}", &seeded.bot_admin)
            .replace("{group}", &seeded.tier2_group.to_string())
            .replace("{general}", &extra.general_group.to_string())
            .replace("{enterprise}", &extra.enterprise_group.to_string());

        let dir = tempfile::tempdir()?;
        let manifest =
            deploy(&moto, &dir, &config_text, options.edit_template, &options.params, &options.secret, &intercom)?;
        enable_iam(&moto)?;

        let evaluator = Arc::new(Evaluator::start().await?);
        let mut principals = BTreeMap::new();
        for (logical, creds) in &manifest.principals.functions {
            let role = manifest
                .functions
                .get(logical)
                .and_then(|f| manifest.role_by_arn(&f.role_arn))
                .with_context(|| format!("{logical}: its role is not in the manifest"))?;
            principals.insert(
                creds.access_key_id.clone(),
                Principal { label: logical.clone(), arn: creds.arn.clone(), policies: Some(role.policies.clone()) },
            );
        }
        if let Some(op) = &manifest.principals.operator {
            principals.insert(
                op.access_key_id.clone(),
                Principal { label: "operator".into(), arn: op.arn.clone(), policies: Some(op.policies.clone()) },
            );
        }
        let admin = &manifest.principals.admin;
        principals.insert(
            admin.access_key_id.clone(),
            Principal { label: "admin".into(), arn: admin.arn.clone(), policies: None },
        );
        let secrets = manifest
            .resources
            .values()
            .filter(|r| r.kind == "AWS::SecretsManager::Secret")
            .filter_map(|r| r.reference.as_str())
            .filter_map(|arn| {
                let name = arn.rsplit(":secret:").next()?;
                let name = name.rsplit_once('-').map(|(n, _)| n).unwrap_or(name);
                Some((name.to_string(), arn.to_string()))
            })
            .collect();
        let proxy = Proxy::start(
            moto.endpoint(),
            principals,
            evaluator.clone(),
            manifest.region.clone(),
            manifest.account_id.clone(),
            secrets,
        )
        .await?;

        let mut functions: Functions = BTreeMap::new();
        for (logical, f) in &manifest.functions {
            let creds = manifest
                .principals
                .functions
                .get(logical)
                .with_context(|| format!("{logical}: no role session in the manifest"))?;
            let task_root = dir.path().join("task").join(&f.binary);
            std::fs::create_dir_all(&task_root)?;
            std::fs::write(task_root.join("bridge.yaml"), &config_text)?;
            let mapping_cap = manifest
                .event_source_mappings
                .iter()
                .filter(|m| &m.function == logical)
                .map(|m| m.maximum_concurrency as usize)
                .min()
                .unwrap_or(usize::MAX);
            let spec = FunctionSpec {
                logical_id: logical.clone(),
                name: f.name.clone(),
                arn: f.arn.clone(),
                binary: bin_dir.join(&f.binary),
                env: function_env(f, creds, &proxy.url(), &task_root, &intercom, &zendesk),
                timeout: Duration::from_secs(f.timeout_secs),
                max_instances: options.instances.min(mapping_cap).max(1),
                log_level: (f.logging.get("LogFormat").map(String::as_str) == Some("JSON"))
                    .then(|| f.logging.get("ApplicationLogLevel").cloned().unwrap_or_else(|| "INFO".into())),
                task_root,
            };
            functions.insert(logical.clone(), Pool::new(spec));
        }

        let problems = Arc::new(Mutex::new(Vec::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let api_url = format!("http://{}", listener.local_addr()?);
        let api_id = manifest
            .resources
            .values()
            .find(|r| r.kind == "AWS::ApiGatewayV2::Api")
            .and_then(|r| r.reference.as_str().map(str::to_string))
            .unwrap_or_default();
        let api_requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let api = sources::serve_http_api(
            listener,
            sources::HttpApi {
                requests: api_requests.clone(),
                routes: manifest.http_routes.clone(),
                permissions: manifest.permissions.clone(),
                functions: functions.clone(),
                api_id,
                account: manifest.account_id.clone(),
                problems: problems.clone(),
            },
        );
        intercom.set_webhook_target(Some(format!("{api_url}/webhooks/intercom")));
        zendesk.set_webhook_target(Some(format!("{api_url}/webhooks/zendesk")));

        // Function URLs (WebhookFunctionUrls=enabled): each on its own listener, and the
        // vendors send to them, as an operator who chose them would set it up.
        let mut function_urls = BTreeMap::new();
        let mut url_tasks = Vec::new();
        for url in &manifest.function_urls {
            let function =
                functions.get(&url.function).with_context(|| format!("{}: unknown function", url.logical_id))?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let local = format!("http://{}/", listener.local_addr()?);
            let requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
            url_tasks.push(sources::serve_function_url(
                listener,
                sources::FunctionUrlSource {
                    url: url.clone(),
                    permissions: manifest.permissions.clone(),
                    function: function.clone(),
                    problems: problems.clone(),
                    requests: requests.clone(),
                },
            ));
            match url.function.as_str() {
                "IntercomWebhookFunction" => intercom.set_webhook_target(Some(local.clone())),
                "ZendeskWebhookFunction" => zendesk.set_webhook_target(Some(local.clone())),
                _ => {}
            }
            function_urls.insert(url.logical_id.clone(), ServedUrl { local, requests });
        }

        let mut pollers = BTreeMap::new();
        for m in manifest.event_source_mappings.iter().filter(|m| m.enabled) {
            let pool = functions.get(&m.function).with_context(|| format!("{}: unknown function", m.logical_id))?;
            let creds = manifest.principals.functions.get(&m.function).context("mapping without role session")?;
            let client = bridge_aws::sdk::sqs::Client::new(&sdk_config(&proxy.url(), creds));
            // Creating the mapping: Lambda reads the queue's attributes with the function's role.
            client
                .get_queue_attributes()
                .queue_url(&m.queue_url)
                .attribute_names(bridge_aws::sdk::sqs::types::QueueAttributeName::All)
                .send()
                .await
                .with_context(|| format!("{}: the event source mapping cannot read its queue", m.logical_id))?;
            let concurrency = options.instances.min(m.maximum_concurrency as usize);
            let admin = bridge_aws::sdk::sqs::Client::new(&sdk_config(&moto.endpoint(), &manifest.principals.admin));
            pollers.insert(m.function.clone(), Poller::start(m.clone(), pool.clone(), client, admin, concurrency));
        }
        let admin = sdk_config(&moto.endpoint(), &manifest.principals.admin);
        Ok(Self {
            manifest,
            intercom,
            zendesk,
            seeded,
            extra,
            proxy,
            functions,
            pollers,
            config_text,
            problems,
            api_url,
            api_requests,
            function_urls,
            admin,
            bin_dir,
            _api: api,
            _urls: url_tasks,
            _evaluator: evaluator,
            _dir: dir,
            moto,
        })
    }
}

/// The environment of one function's process: what Lambda sets, the function's credentials,
/// and the template's variables with the rehearsal's changes (vendor URLs, task root).
fn function_env(
    f: &manifest::Function,
    creds: &Credentials,
    endpoint: &str,
    task_root: &Path,
    intercom: &IntercomSim,
    zendesk: &ZendeskSim,
) -> BTreeMap<String, String> {
    let root = task_root.display().to_string();
    let mut env: BTreeMap<String, String> = f
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.strip_prefix("/var/task").map(|rest| format!("{root}{rest}")).unwrap_or(v.clone())))
        .collect();
    if env.contains_key("INTERCOM_API_BASE") {
        env.insert("INTERCOM_API_BASE".into(), intercom.base_url());
    }
    if env.contains_key("ZENDESK_BASE_URL") {
        env.insert("ZENDESK_BASE_URL".into(), zendesk.base_url());
    }
    let lambda = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("LANG", "en_US.UTF-8".into()),
        ("TZ", ":UTC".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", creds.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.clone()),
        ("AWS_SESSION_TOKEN", creds.session_token.clone()),
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", f.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", f.memory_mb.to_string()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", f.logging.get("LogGroup").cloned().unwrap_or(format!("/aws/lambda/{}", f.name))),
        ("LAMBDA_TASK_ROOT", root.clone()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("_HANDLER", f.handler.clone()),
    ];
    env.extend(lambda.into_iter().map(|(k, v)| (k.to_string(), v)));
    if let Some(format) = f.logging.get("LogFormat") {
        env.insert("AWS_LAMBDA_LOG_FORMAT".into(), format.clone());
        if format == "JSON" {
            let level = f.logging.get("ApplicationLogLevel").cloned().unwrap_or_else(|| "INFO".into());
            env.insert("AWS_LAMBDA_LOG_LEVEL".into(), level);
        }
    }
    env
}
