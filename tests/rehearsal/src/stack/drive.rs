//! What scenarios call on a running rehearsal: its resources and queues, direct invocations,
//! schedules run now, and the operator's `bridge` with the operator's credentials.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use aws_config::SdkConfig;
use bridge_sim::zendesk::ZendeskSimOptions;

use super::Rehearsal;
use crate::lambda::{Outcome, Pool};
use crate::proxy::Principal;

impl Rehearsal {
    /// The HTTP API's base URL (`<url>/webhooks/intercom`).
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Where the function URL `logical` (an `AWS::Lambda::Url`) is served, when the stack has it.
    pub fn function_url(&self, logical: &str) -> Option<&str> {
        self.function_urls.get(logical).map(|u| u.local.as_str())
    }

    /// How many requests the HTTP API received.
    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many requests the function URL `logical` received.
    pub fn function_url_requests(&self, logical: &str) -> u64 {
        self.function_urls.get(logical).map_or(0, |u| u.requests.load(std::sync::atomic::Ordering::Relaxed))
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
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}
