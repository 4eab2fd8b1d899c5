//! The deploy: `infra/template.yaml` onto moto with `stack.py` (the secret filled in or made
//! beforehand), then moto's IAM enforcement turned on.

use std::collections::BTreeMap;

use anyhow::Context as _;
use bridge_sim::intercom::IntercomSim;
use bridge_sim::moto::Moto;
use bridge_sim::zendesk::ZendeskSimOptions;

use crate::manifest::Manifest;
use crate::{STACK, TRIGGER_SECRET_KEY, workspace_root};

/// How the stack's secret is provided.
#[derive(Debug, Clone)]
pub enum SecretSetup {
    /// The stack creates `<stack>/vendor-credentials` with placeholders; the operator fills it
    /// and deploys again (README "From zero to a deployed stack").
    CreatedThenFilled,
    /// `ExistingSecretArn`: a secret made beforehand with only these keys.
    Existing(Vec<String>),
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

pub(crate) fn deploy(
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
pub(crate) fn enable_iam(moto: &Moto) -> anyhow::Result<()> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", moto.port()))?;
    write!(s, "POST /moto-api/reset-auth HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\n0")?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    anyhow::ensure!(answer.starts_with("HTTP/1.") && answer.contains(" 200 "), "moto reset-auth: {answer}");
    Ok(())
}
