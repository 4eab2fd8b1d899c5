//! IAM policy evaluation: each request a principal makes, against its identity policies, with
//! resources and conditions, by `iam/evaluate.mjs` (@cloud-copilot/iam-simulate) in a node
//! process kept for the whole rehearsal.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

use crate::manifest::Policy;

/// The outcome of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An Allow statement matches and no Deny does.
    Allowed,
    /// No statement allows it.
    ImplicitlyDenied,
    /// A Deny statement matches.
    ExplicitlyDenied,
    /// The evaluator could not evaluate (unknown action, malformed ARN or policy).
    Error(String),
}

impl Decision {
    /// True for [`Decision::Allowed`].
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

#[derive(Deserialize)]
struct Reply {
    decision: String,
    #[serde(default)]
    detail: String,
}

struct Pipe {
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

/// The evaluator process, with a cache: the same principal, action and resource always get the
/// same answer here (no condition reads request-time values).
pub struct Evaluator {
    pipe: Mutex<Pipe>,
    cache: std::sync::Mutex<HashMap<(String, String, String), Decision>>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Evaluator")
    }
}

/// The folder of `evaluate.mjs` and its `node_modules`.
pub fn evaluator_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("iam")
}

impl Evaluator {
    /// Starts `node iam/evaluate.mjs`. Fails with the fix when the npm package is missing.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = evaluator_dir();
        if !dir.join("node_modules").join("@cloud-copilot").join("iam-simulate").is_dir() {
            bail!(
                "the IAM evaluator is not installed in {}: run `make rehearse` (it runs `npm ci` there)",
                dir.display()
            );
        }
        let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
        let mut child = Command::new(&node)
            .arg(dir.join("evaluate.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {node} (Node.js is needed by the rehearsal's IAM evaluator)"))?;
        let stdin = child.stdin.take().context("evaluator stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("evaluator stdout")?).lines();
        Ok(Self {
            pipe: Mutex::new(Pipe { _child: child, stdin, stdout, next_id: 0 }),
            cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Evaluates `action` on `resource` for `principal` holding `policies`.
    pub async fn evaluate(
        &self,
        principal: &str,
        policies: &[Policy],
        action: &str,
        resource: &str,
    ) -> anyhow::Result<Decision> {
        let key = (principal.to_string(), action.to_string(), resource.to_string());
        if let Some(d) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(d);
        }
        let decision = {
            let mut pipe = self.pipe.lock().await;
            pipe.next_id += 1;
            let request = serde_json::json!({
                "id": pipe.next_id,
                "principal": principal,
                "policies": policies,
                "action": action,
                "resource": resource,
            });
            let mut line = serde_json::to_vec(&request)?;
            line.push(b'\n');
            pipe.stdin.write_all(&line).await.context("writing to the IAM evaluator")?;
            pipe.stdin.flush().await?;
            let answer = pipe.stdout.next_line().await?.context("the IAM evaluator exited")?;
            let reply: Reply = serde_json::from_str(&answer).with_context(|| format!("evaluator said {answer}"))?;
            match reply.decision.as_str() {
                "Allowed" => Decision::Allowed,
                "ImplicitlyDenied" => Decision::ImplicitlyDenied,
                "ExplicitlyDenied" => Decision::ExplicitlyDenied,
                _ => Decision::Error(reply.detail),
            }
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, decision.clone());
        }
        Ok(decision)
    }
}
