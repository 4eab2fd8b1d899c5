//! The AWS calls a rehearsal recorded: what AWS would have refused, the calls each function
//! made (checked against the lessons of `infra/iam-calls.json`), and the diagnostics printed
//! when a scenario fails.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{Context as _, bail};

use super::Rehearsal;
use crate::proxy::Call;
use crate::{LESSONS, workspace_root};

impl Rehearsal {
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
