//! The stack as `stack.py` deployed it: resources, functions with their resolved environments,
//! roles with their policy documents, event sources, and the principals' credentials.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Everything `stack.py` created or resolved.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// The stack name (the queue prefix).
    pub stack_name: String,
    /// The region (always `us-east-1` here).
    pub region: String,
    /// moto's account id.
    pub account_id: String,
    /// The template's parameters with the values used.
    pub parameters: BTreeMap<String, String>,
    /// Lambda functions by logical id.
    pub functions: BTreeMap<String, Function>,
    /// IAM roles by logical id.
    pub roles: BTreeMap<String, Role>,
    /// SQS queues by logical id.
    pub queues: BTreeMap<String, Queue>,
    /// SQS event source mappings.
    pub event_source_mappings: Vec<EventSourceMapping>,
    /// EventBridge Scheduler schedules.
    pub schedules: Vec<Schedule>,
    /// HTTP API routes.
    pub http_routes: Vec<Route>,
    /// Lambda function URLs.
    #[serde(default)]
    pub function_urls: Vec<FunctionUrl>,
    /// Lambda resource policies (who may invoke).
    pub permissions: Vec<Permission>,
    /// Every created resource: its type, `Ref` value and `Fn::GetAtt` attributes.
    pub resources: BTreeMap<String, Resource>,
    /// The stack's outputs.
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Credentials of the administrator, the operator and each function's role session.
    pub principals: Principals,
}

/// A Lambda function of the stack.
#[derive(Debug, Clone, Deserialize)]
pub struct Function {
    /// Physical name (`<stack>-escalate`).
    pub name: String,
    /// ARN.
    pub arn: String,
    /// The binary its code holds (folder = package = binary: `escalate`).
    pub binary: String,
    /// Execution role ARN.
    pub role_arn: String,
    /// Timeout in seconds.
    pub timeout_secs: u64,
    /// Memory in MB.
    pub memory_mb: u64,
    /// Handler (`bootstrap`).
    pub handler: String,
    /// Runtime (`provided.al2023`).
    pub runtime: String,
    /// The environment exactly as the template resolves it (dynamic references included).
    pub environment: BTreeMap<String, String>,
    /// `LoggingConfig`.
    #[serde(default)]
    pub logging: BTreeMap<String, String>,
    /// `TracingConfig.Mode`.
    pub tracing: String,
}

/// An IAM role.
#[derive(Debug, Clone, Deserialize)]
pub struct Role {
    /// Physical name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Inline and attached managed policies, as documents.
    pub policies: Vec<Policy>,
}

/// A named policy document.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct Policy {
    /// Name (inline policy name, or the managed policy's).
    pub name: String,
    /// The document.
    pub document: serde_json::Value,
}

/// An SQS queue.
#[derive(Debug, Clone, Deserialize)]
pub struct Queue {
    /// Name.
    pub name: String,
    /// URL (moto's).
    pub url: String,
    /// ARN.
    pub arn: String,
    /// Attributes as created.
    pub attributes: BTreeMap<String, String>,
}

/// An SQS event source mapping.
#[derive(Debug, Clone, Deserialize)]
pub struct EventSourceMapping {
    /// Logical id.
    pub logical_id: String,
    /// The function's logical id.
    pub function: String,
    /// The queue's logical id.
    pub queue: String,
    /// Queue URL.
    pub queue_url: String,
    /// Queue ARN.
    pub queue_arn: String,
    /// `BatchSize`.
    pub batch_size: u32,
    /// `MaximumBatchingWindowInSeconds`.
    pub maximum_batching_window_secs: u32,
    /// `FunctionResponseTypes`.
    pub function_response_types: Vec<String>,
    /// `ScalingConfig.MaximumConcurrency`.
    pub maximum_concurrency: u32,
    /// `Enabled`.
    pub enabled: bool,
}

/// An EventBridge Scheduler schedule targeting a function.
#[derive(Debug, Clone, Deserialize)]
pub struct Schedule {
    /// Logical id.
    pub logical_id: String,
    /// Schedule name.
    pub name: String,
    /// `rate(...)` / `cron(...)`.
    pub expression: String,
    /// The target function's logical id.
    pub function: String,
    /// The role the scheduler assumes to invoke it.
    pub role_arn: String,
    /// The event it delivers.
    pub input: String,
    /// `RetryPolicy.MaximumRetryAttempts`.
    pub maximum_retry_attempts: u32,
    /// `DeadLetterConfig.Arn`, empty when none.
    pub dead_letter_arn: String,
    /// `ENABLED` / `DISABLED`.
    pub state: String,
}

/// An HTTP API route with a Lambda proxy integration.
#[derive(Debug, Clone, Deserialize)]
pub struct Route {
    /// `POST`, `HEAD`, ...
    pub method: String,
    /// `/webhooks/intercom`.
    pub path: String,
    /// The function's logical id.
    pub function: String,
    /// `2.0`.
    pub payload_format: String,
    /// Integration timeout.
    pub timeout_ms: u64,
    /// The execute-api ARN the invocation carries (for `AWS::Lambda::Permission`).
    pub source_arn: String,
}

/// An `AWS::Lambda::Permission`.
#[derive(Debug, Clone, Deserialize)]
pub struct Permission {
    /// Logical id.
    pub logical_id: String,
    /// The function's logical id.
    pub function: String,
    /// `lambda:InvokeFunction`.
    pub action: String,
    /// `apigateway.amazonaws.com`, ...
    pub principal: String,
    /// The allowed source ARN pattern.
    pub source_arn: String,
    /// `FunctionUrlAuthType` (`NONE`, `AWS_IAM`), empty when not set.
    #[serde(default)]
    pub function_url_auth_type: String,
    /// `InvokedViaFunctionUrl`: `lambda:InvokeFunction` only through a function URL.
    #[serde(default)]
    pub invoked_via_function_url: bool,
}

/// An `AWS::Lambda::Url`.
#[derive(Debug, Clone, Deserialize)]
pub struct FunctionUrl {
    /// Logical id.
    pub logical_id: String,
    /// The function's logical id.
    pub function: String,
    /// The URL id (its host's first label).
    pub url_id: String,
    /// `https://<url id>.lambda-url.us-east-1.on.aws/`.
    pub url: String,
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
}

/// A created resource.
#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    /// CloudFormation type.
    #[serde(rename = "type")]
    pub kind: String,
    /// What `Ref` returns.
    #[serde(rename = "ref")]
    pub reference: serde_json::Value,
    /// What `Fn::GetAtt` returns, by attribute.
    pub attrs: BTreeMap<String, serde_json::Value>,
}

/// AWS credentials of one principal.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    /// The principal's ARN (user or assumed-role session).
    pub arn: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret key.
    pub secret_access_key: String,
    /// Session token (empty for users).
    pub session_token: String,
    /// The principal's policies, when the manifest carries them (the operator).
    #[serde(default)]
    pub policies: Vec<Policy>,
}

/// The principals of the rehearsal.
#[derive(Debug, Clone, Deserialize)]
pub struct Principals {
    /// The harness's own administrator (not checked).
    pub admin: Credentials,
    /// An operator with the template's `OperatorPolicy`, when the template has one.
    pub operator: Option<Credentials>,
    /// One role session per function, by the function's logical id.
    pub functions: BTreeMap<String, Credentials>,
}

impl Manifest {
    /// The function whose binary is `binary`.
    pub fn function_by_binary(&self, binary: &str) -> Option<(&String, &Function)> {
        self.functions.iter().find(|(_, f)| f.binary == binary)
    }

    /// The role with this ARN.
    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        self.roles.values().find(|r| r.arn == arn)
    }

    /// The logical id of the resource an ARN or name belongs to (for reports: `EscalateQueue`,
    /// `Table`, `ReportsBucket/csat/*`), else the ARN itself.
    pub fn logical_name(&self, arn: &str) -> String {
        for (logical, r) in &self.resources {
            let matches = |v: &serde_json::Value| v.as_str().is_some_and(|s| !s.is_empty() && s == arn);
            if matches(&r.reference) || r.attrs.values().any(matches) {
                return logical.clone();
            }
            if let Some(bucket_arn) = r.attrs.get("Arn").and_then(|v| v.as_str())
                && r.kind == "AWS::S3::Bucket"
                && let Some(key) = arn.strip_prefix(&format!("{bucket_arn}/"))
            {
                return format!("{logical}/{key}");
            }
        }
        if let Some(bucket) = self.parameters.get("ConfigBucket").filter(|b| !b.is_empty())
            && let Some(key) = arn.strip_prefix(&format!("arn:aws:s3:::{bucket}/"))
        {
            return format!("ConfigBucket/{key}");
        }
        arn.to_string()
    }
}
