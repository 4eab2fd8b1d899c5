//! The stack rehearsal: `infra/template.yaml` run locally as AWS would run it.
//!
//! [`Rehearsal::start`]:
//! 1. starts moto with IAM enforcement (`moto_iam.py`: actions and signatures checked) and both
//!    vendor simulators, and seeds them;
//! 2. deploys the template onto moto with `stack.py` (the pinned SAM translator, every resource
//!    created, intrinsics and secret references resolved as CloudFormation would), with the
//!    rehearsal's configuration in S3 (`ConfigBucket`);
//! 3. runs each function's own bootstrap binary, built with release semantics (the `rehearse`
//!    profile, [`DEFAULT_PROFILE`]), as its own processes under a local Lambda Runtime API ([`lambda`]), with exactly the environment the template gives it and the
//!    credentials of its own role (an STS session on moto);
//! 4. puts every AWS request through a recording proxy ([`proxy`]) that evaluates it against the
//!    caller's policies with an IAM evaluator that understands resources and conditions, and
//!    answers `AccessDenied` where AWS would;
//! 5. drives the functions through the event sources the template declares ([`sources`]): the
//!    HTTP API routes (the simulators' webhooks go there), the SQS event source mappings, and the
//!    schedules on demand.
//!
//! What the rehearsal changes from the template, and why: the vendor base URLs point at the
//! simulators; `AWS_ENDPOINT_URL` points at the proxy; the task root (`/var/task`) is a
//! temporary folder. The README's "What the rehearsal cannot show" lists what differs from AWS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use bridge_e2e::Seeded;
use bridge_sim::intercom::{IntercomSim, IntercomSimOptions};
use bridge_sim::moto::Moto;
use bridge_sim::zendesk::{ZendeskSim, ZendeskSimOptions};

pub mod aws_request;
pub mod iam;
pub mod lambda;
pub mod manifest;
pub mod proxy;
pub mod sources;

use crate::iam::Evaluator;
use crate::lambda::{FunctionSpec, Outcome, Pool};
use crate::manifest::{Credentials, Manifest};
use crate::proxy::{Call, Principal, Proxy};
use crate::sources::{Functions, Poller};

/// The configuration the rehearsal deploys, with `{bot}`, `{group}`, `{general}`, `{enterprise}`.
pub const CONFIG_TEMPLATE: &str = include_str!("../config.yaml");
/// The binaries the rehearsal runs: the functions and the operator's `bridge`.
pub const BINARIES: [&str; 9] = [
    "intercom-webhook",
    "zendesk-webhook",
    "escalate",
    "ticket-intake",
    "ticket-status",
    "tag-sync",
    "csat-report",
    "profile-sync",
    "bridge",
];
/// The lessons file: the AWS calls each function and the operator are known to make.
pub const LESSONS: &str = "infra/iam-calls.json";
/// Stack name of every rehearsal (each has its own moto).
pub const STACK: &str = "rehearsal";
/// The secret of the trigger-connected Zendesk webhook in the simulator.
pub const TRIGGER_SECRET_KEY: &str = "zendesk_trigger_webhook_secret";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| manifest.to_path_buf())
}

/// How the stack's secret is provided.
#[derive(Debug, Clone)]
pub enum SecretSetup {
    /// The stack creates `<stack>/vendor-credentials` with placeholders; the operator fills it
    /// and deploys again (README "From zero to a deployed stack").
    CreatedThenFilled,
    /// `ExistingSecretArn`: a secret made beforehand with only these keys.
    Existing(Vec<String>),
}

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

/// A deploy that did not go through, with what CloudFormation would have said.
#[derive(Debug)]
pub struct DeployFailed(pub String);

impl std::fmt::Display for DeployFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the stack did not deploy: {}", self.0)
    }
}

impl std::error::Error for DeployFailed {}

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
    admin: SdkConfig,
    bin_dir: PathBuf,
    _api: tokio::task::JoinHandle<()>,
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

/// The cargo profile the rehearsal runs when `BRIDGE_REHEARSAL_PROFILE` names none: `rehearse`
/// (Cargo.toml), the release build's semantics (`panic = "abort"`, no debug assertions, no
/// overflow checks) without its optimisation cost.
pub const DEFAULT_PROFILE: &str = "rehearse";

/// The cargo profile of the functions the rehearsal runs (`BRIDGE_REHEARSAL_PROFILE`, else
/// [`DEFAULT_PROFILE`]).
pub fn profile() -> String {
    std::env::var("BRIDGE_REHEARSAL_PROFILE").ok().filter(|p| !p.trim().is_empty()).unwrap_or(DEFAULT_PROFILE.into())
}

/// The folder of the target directory cargo builds `profile` into (`dev` and `test` go to
/// `debug`, `bench` to `release`, every other profile to its own name).
pub fn profile_folder(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
}

/// Where `profile`'s binaries are, from this test executable's path
/// (`<target>/<its profile>/deps/<test>` -> `<target>/<profile folder>`).
pub fn binaries_beside(test_exe: &Path, profile: &str) -> Option<PathBuf> {
    let target = test_exe.parent()?.parent()?.parent()?;
    Some(target.join(profile_folder(profile)))
}

/// Where cargo put the host binaries: `BRIDGE_REHEARSAL_BIN_DIR`, else the [`profile`]'s folder of
/// this test executable's target directory (`<target>/rehearse`), so `CARGO_TARGET_DIR` is
/// honoured.
pub fn binary_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("BRIDGE_REHEARSAL_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("locating the test executable")?;
    binaries_beside(&exe, &profile()).context("the test executable is not under <target>/<profile>/deps")
}

/// Builds the binaries the rehearsal runs (`cargo build --profile <profile> -p ...`), unless
/// `BRIDGE_REHEARSAL_PREBUILT` says `make rehearse` already did.
fn build_binaries() -> anyhow::Result<()> {
    if std::env::var_os("BRIDGE_REHEARSAL_PREBUILT").is_some() {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(workspace_root()).args(["build", "--quiet", "--profile", &profile()]);
    for b in BINARIES {
        cmd.args(["-p", if b == "bridge" { "bridge-cli" } else { b }]);
    }
    let status = cmd.status().context("running cargo build for the rehearsal's binaries")?;
    if !status.success() {
        bail!("cargo build of the functions failed ({status})");
    }
    Ok(())
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
        let api = sources::serve_http_api(
            listener,
            sources::HttpApi {
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
            admin,
            bin_dir,
            _api: api,
            _evaluator: evaluator,
            _dir: dir,
            moto,
        })
    }

    /// The HTTP API's base URL (`<url>/webhooks/intercom`).
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// SDK configuration of the administrator, straight to moto (the harness's own reads).
    pub fn admin_sdk(&self) -> &SdkConfig {
        &self.admin
    }

    /// The table's name.
    pub fn table(&self) -> String {
        self.resource_ref("Table")
    }

    /// What `Ref` of a resource gave (a queue's URL, a bucket's name).
    pub fn resource_ref(&self, logical: &str) -> String {
        self.manifest.resources.get(logical).and_then(|r| r.reference.as_str()).map(str::to_string).unwrap_or_default()
    }

    /// The stack's queues by job, as `SqsQueue` wants them (`EscalateQueue` + `EscalateDlq`).
    pub fn queue_urls(&self) -> BTreeMap<bridge_domain::routing::JobKind, bridge_aws::QueueUrls> {
        bridge_domain::routing::JobKind::ALL
            .into_iter()
            .filter_map(|job| {
                let stem: String = job.as_str().split('-').map(capitalised).collect();
                let queue = self.manifest.queues.get(&format!("{stem}Queue"))?;
                let dlq = self.manifest.queues.get(&format!("{stem}Dlq")).map(|q| q.url.clone());
                Some((job, bridge_aws::QueueUrls { queue: queue.url.clone(), dlq }))
            })
            .collect()
    }

    /// The stack's queues, used with the administrator's credentials (the harness's own sends
    /// and reads; not checked).
    pub fn admin_queue(&self) -> bridge_aws::SqsQueue {
        bridge_aws::SqsQueue::new(bridge_aws::sdk::sqs::Client::new(&self.admin), self.queue_urls())
    }

    /// A function by logical id.
    pub fn function(&self, logical: &str) -> anyhow::Result<&Arc<Pool>> {
        self.functions.get(logical).with_context(|| format!("no function {logical} in the stack"))
    }

    /// Invokes a function directly (as an operator's `aws lambda invoke` would).
    pub async fn invoke(&self, logical: &str, payload: &serde_json::Value) -> anyhow::Result<Outcome> {
        Ok(self.function(logical)?.invoke(payload.to_string().as_bytes(), None).await)
    }

    /// Runs a schedule now: its role must be allowed to invoke the target, which gets the
    /// schedule's `Input`.
    pub async fn run_schedule(&self, logical: &str) -> anyhow::Result<serde_json::Value> {
        let schedule = self
            .manifest
            .schedules
            .iter()
            .find(|s| s.logical_id == logical)
            .with_context(|| format!("no schedule {logical}"))?;
        let role = self.manifest.role_by_arn(&schedule.role_arn).with_context(|| format!("{logical}: no role"))?;
        let target = self.manifest.functions.get(&schedule.function).context("schedule target")?;
        let principal = Principal {
            label: format!("scheduler:{}", schedule.logical_id),
            arn: format!("arn:aws:sts::{}:assumed-role/{}/scheduler", self.manifest.account_id, role.name),
            policies: Some(role.policies.clone()),
        };
        let decision = self.proxy.check(&principal, "Invoke", "lambda:InvokeFunction", &target.arn).await;
        anyhow::ensure!(
            decision.allowed(),
            "{logical}: the schedule's role may not invoke {}: {decision:?}",
            target.name
        );
        let outcome = self.function(&schedule.function)?.invoke(schedule.input.as_bytes(), None).await;
        outcome.json().with_context(|| format!("schedule {logical}"))
    }

    /// The environment of the operator's `bridge` (the operator's credentials, the stack's
    /// table, queue prefix and configuration, the vendors' credentials).
    pub fn operator_env(&self) -> anyhow::Result<Vec<(String, String)>> {
        let op = self.manifest.principals.operator.as_ref().context("the template has no OperatorPolicy")?;
        let zd = ZendeskSimOptions::default();
        Ok([
            ("AWS_ENDPOINT_URL", self.proxy.url()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", op.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", op.secret_access_key.clone()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("INTERCOM_API_BASE", self.intercom.base_url()),
            ("INTERCOM_ACCESS_TOKEN", self.intercom.access_token()),
            ("ZENDESK_BASE_URL", self.zendesk.base_url()),
            ("ZENDESK_EMAIL", zd.email),
            ("ZENDESK_API_TOKEN", zd.api_token),
            ("BRIDGE_TABLE", self.table()),
            ("BRIDGE_QUEUE_PREFIX", self.manifest.stack_name.clone()),
            ("BRIDGE_REPORTS_BUCKET", self.resource_ref("ReportsBucket")),
            ("BRIDGE_CONFIG", format!("s3://{}/bridge.yaml", self.manifest.parameters["ConfigBucket"])),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect())
    }

    /// Runs the operator's `bridge` with `args` (answering `stdin`); returns status, stdout,
    /// stderr.
    pub async fn bridge(&self, args: &[&str], stdin: &str) -> anyhow::Result<(bool, String, String)> {
        use tokio::io::AsyncWriteExt as _;
        let mut child = tokio::process::Command::new(self.bin_dir.join("bridge"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.operator_env()?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes()).await?;
        }
        let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output()).await??;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// Makes what failed batches left in flight on a function's queue visible again now, as if
    /// the visibility timeout had passed.
    pub async fn expire_in_flight(&self, function: &str) -> usize {
        match self.pollers.get(function) {
            Some(p) => p.expire().await,
            None => 0,
        }
    }

    /// Every AWS call recorded so far.
    pub fn calls(&self) -> Vec<Call> {
        self.proxy.calls()
    }

    /// Everything that would have failed in AWS so far: refused or unreadable calls, routes
    /// without invoke permission.
    pub fn refusals(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .calls()
            .into_iter()
            .filter(Call::refused)
            .map(|c| match c.error {
                Some(e) => format!("{}: unreadable request {}: {e}", c.principal, c.operation),
                None => format!(
                    "{}: {} on {} ({}): {}",
                    c.principal,
                    c.action,
                    self.manifest.logical_name(&c.resource),
                    c.operation,
                    c.decision
                ),
            })
            .collect();
        out.sort();
        out.dedup();
        out.extend(self.problems.lock().map(|p| p.clone()).unwrap_or_default());
        out
    }

    /// Fails, naming each function, action and resource, when anything was refused.
    pub fn assert_no_refusals(&self) -> anyhow::Result<()> {
        let refusals = self.refusals();
        if refusals.is_empty() {
            return Ok(());
        }
        bail!("AWS would refuse {} call(s):\n  {}", refusals.len(), refusals.join("\n  "))
    }

    /// The calls each function made that IAM allowed, as `action LogicalResource` (the lessons
    /// `infra/iam-calls.json` keeps).
    pub fn observed(&self) -> BTreeMap<String, std::collections::BTreeSet<String>> {
        let mut out: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for c in self.calls() {
            if c.decision != "Allowed"
                || !(self.manifest.functions.contains_key(&c.principal) || c.principal == "operator")
            {
                continue;
            }
            out.entry(c.principal.clone()).or_default().insert(format!(
                "{} {}",
                c.action,
                lesson_resource(&self.manifest.logical_name(&c.resource))
            ));
        }
        out
    }

    /// Compares the calls this rehearsal saw with the lessons kept in `infra/iam-calls.json`
    /// (what each function and the operator are known to call): a call not listed fails, so a
    /// new AWS call is reviewed, listed, and granted (`infra/check_template.py` checks the
    /// template against the list). With `REHEARSAL_RECORD=1` the calls are added to the file
    /// instead.
    pub fn check_lessons(&self) -> anyhow::Result<()> {
        static FILE: Mutex<()> = Mutex::new(());
        let _guard = FILE.lock().map_err(|_| anyhow::anyhow!("lessons lock poisoned"))?;
        let path = workspace_root().join(LESSONS);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| "{}".into());
        let mut known: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&text).with_context(|| format!("{} is not a JSON object", path.display()))?;
        let mut new = Vec::new();
        for (principal, calls) in self.observed() {
            let listed: Vec<String> = known
                .get(&principal)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            for call in calls {
                if !listed.contains(&call) {
                    new.push((principal.clone(), call));
                }
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        if std::env::var_os("REHEARSAL_RECORD").is_some() {
            for (principal, call) in new {
                let entry = known.entry(principal).or_insert_with(|| serde_json::json!([]));
                if let Some(list) = entry.as_array_mut() {
                    list.push(serde_json::Value::String(call));
                    list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                }
            }
            std::fs::write(&path, serde_json::to_string_pretty(&known)? + "\n")?;
            return Ok(());
        }
        let lines: Vec<String> = new.iter().map(|(p, c)| format!("{p}: {c}")).collect();
        bail!(
            "calls not in {LESSONS} (review them, grant them in the template, then run `make rehearse REHEARSAL_RECORD=1`):\n  {}",
            lines.join("\n  ")
        )
    }

    /// The last log lines of every function, for a failure message.
    pub fn diagnostics(&self) -> String {
        let mut out = String::new();
        for (name, pool) in &self.functions {
            let c = pool.counts();
            out.push_str(&format!(
                "--- {name}: {} invocations, {} cold starts, {} failed\n{}\n",
                c.invocations,
                c.cold_starts,
                c.failures,
                pool.log_tail(15)
            ));
        }
        for (name, p) in &self.pollers {
            let s = &p.stats;
            let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
            out.push_str(&format!(
                "--- {name}'s event source mapping: {} batches, {} messages, {} deleted, {} failed\n",
                load(&s.batches),
                load(&s.messages),
                load(&s.deleted),
                load(&s.failed)
            ));
        }
        out.push_str(&format!("--- refusals\n{}\n", self.refusals().join("\n")));
        out.push_str(&format!("--- moto's error answers\n{}\n", self.proxy.errors().join("\n")));
        out.push_str(&format!("--- moto\n{}\n", self.moto.log_tail()));
        out
    }
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// An S3 object resource generalised to its folder (`ReportsBucket/csat/*`), other resources as
/// they are.
pub fn lesson_resource(logical: &str) -> String {
    match logical.split_once('/') {
        Some((bucket, key)) => match key.split_once('/') {
            Some((folder, _)) => format!("{bucket}/{folder}/*"),
            None => format!("{bucket}/{key}"),
        },
        None => logical.to_string(),
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

/// The values a filled-in secret holds: the simulators' credentials.
fn secret_values(intercom: &IntercomSim) -> BTreeMap<&'static str, String> {
    let zd = ZendeskSimOptions::default();
    BTreeMap::from([
        ("intercom_access_token", intercom.access_token()),
        ("intercom_client_secret", intercom.client_secret()),
        ("zendesk_api_token", zd.api_token),
        ("zendesk_webhook_secret", zd.webhook_secret),
        (TRIGGER_SECRET_KEY, zd.trigger_webhook_secret),
        ("google_service_account_json", "{}".into()),
    ])
}

fn deploy(
    moto: &Moto,
    dir: &tempfile::TempDir,
    config_text: &str,
    edit: Option<Box<dyn FnOnce(String) -> String + Send>>,
    params: &[(String, String)],
    secret: &SecretSetup,
    intercom: &IntercomSim,
) -> anyhow::Result<Manifest> {
    let root = workspace_root();
    let mut template = std::fs::read_to_string(root.join("infra/template.yaml")).context("reading the template")?;
    if let Some(edit) = edit {
        template = edit(template);
    }
    let template_path = dir.path().join("template.yaml");
    std::fs::write(&template_path, template)?;
    let config_path = dir.path().join("bridge.yaml");
    std::fs::write(&config_path, config_text)?;
    let out = dir.path().join("manifest.json");
    let values = secret_values(intercom);
    let mut cmd = std::process::Command::new(root.join(".venv/bin/python"));
    cmd.arg(root.join("tests/rehearsal/stack.py"))
        .args(["--endpoint", &moto.endpoint()])
        .arg("--template")
        .arg(&template_path)
        .args(["--stack-name", STACK])
        .arg("--out")
        .arg(&out)
        .arg("--config-file")
        .arg(&config_path)
        .args(["--param", "ZendeskBaseUrl=https://rehearsal.zendesk.com"])
        .args(["--param", &format!("ZendeskEmail={}", ZendeskSimOptions::default().email)])
        .env("AWS_DEFAULT_REGION", "us-east-1");
    for (k, v) in params {
        cmd.args(["--param", &format!("{k}={v}")]);
    }
    match secret {
        SecretSetup::CreatedThenFilled => {
            cmd.args(["--secret-json", &serde_json::to_string(&values)?]);
        }
        SecretSetup::Existing(keys) => {
            let only: BTreeMap<_, _> = values.iter().filter(|(k, _)| keys.iter().any(|x| x == *k)).collect();
            cmd.args(["--existing-secret-json", &serde_json::to_string(&only)?]);
        }
    }
    let output = cmd.output().context("running tests/rehearsal/stack.py (run `make setup`)")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().find_map(|l| l.strip_prefix("deploy failed: ")).map(str::to_string);
        return Err(DeployFailed(reason.unwrap_or_else(|| stderr.trim().to_string())).into());
    }
    let text = std::fs::read_to_string(&out)?;
    serde_json::from_str(&text).context("reading the manifest")
}

/// Turns moto's IAM enforcement on: from here, every request must be signed by a known
/// principal allowed the action.
fn enable_iam(moto: &Moto) -> anyhow::Result<()> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", moto.port()))?;
    write!(s, "POST /moto-api/reset-auth HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\n0")?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    anyhow::ensure!(answer.starts_with("HTTP/1.") && answer.contains(" 200 "), "moto reset-auth: {answer}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_binaries_are_found_in_the_profile_folder_of_the_test_target_directory() {
        let exe = Path::new("/ci/target-dir/debug/deps/rehearsal-0123abcd");
        assert_eq!(binaries_beside(exe, DEFAULT_PROFILE).unwrap(), Path::new("/ci/target-dir/rehearse"));
        assert_eq!(binaries_beside(exe, "dev").unwrap(), Path::new("/ci/target-dir/debug"));
        assert_eq!(binaries_beside(exe, "release").unwrap(), Path::new("/ci/target-dir/release"));
        let cross = Path::new("/t/x86_64-unknown-linux-gnu/debug/deps/rehearsal-0123abcd");
        assert_eq!(binaries_beside(cross, "rehearse").unwrap(), Path::new("/t/x86_64-unknown-linux-gnu/rehearse"));
        assert_eq!(DEFAULT_PROFILE, "rehearse", "the profile Cargo.toml defines for the rehearsal");
    }

    #[test]
    fn the_rehearse_profile_keeps_the_release_semantics() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        let section = manifest.split("[profile.rehearse]").nth(1).unwrap().split("\n[").next().unwrap();
        assert!(section.contains("inherits = \"release\""), "{section}");
        for kept in ["panic", "debug-assertions", "overflow-checks", "strip"] {
            assert!(!section.contains(kept), "the rehearse profile overrides release's {kept}: {section}");
        }
        let release = manifest.split("[profile.release]").nth(1).unwrap().split("\n[").next().unwrap();
        assert!(release.contains("panic = \"abort\""), "{release}");
    }
}
