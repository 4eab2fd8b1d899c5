//! `bridge config check [--live] [--file F] [--json]`: the configuration file read and
//! validated as the functions read it; with `--live`, also checked against both accounts (every
//! id and name it refers to, the profile mapping against the live field catalogs).

use anyhow::Context as _;
use bridge_domain::Config;
use bridge_domain::event::Vendor;
use bridge_domain::profiles::DriftFinding;
use bridge_runtime::app::{aws_config, load_config};
use bridge_runtime::catalogs::check_live;
use bridge_runtime::settings::{ConfigSource, Env, ProcessEnv, WorkerSettings};

/// Reads and validates the configuration named by `--file`, else `BRIDGE_CONFIG` (a file or
/// `s3://bucket/key`); answers where it came from and the configuration.
pub async fn read_config(file: Option<String>) -> anyhow::Result<(String, Config)> {
    let raw = match file {
        Some(f) => f,
        None => std::env::var("BRIDGE_CONFIG").context("BRIDGE_CONFIG: not set (or pass --file)")?,
    };
    let source = ConfigSource::parse(&raw)?;
    let config = load_config(&source, &aws_config().await).await?;
    Ok((raw, config))
}

/// Validates the configuration file; with `json`, the verdict as one JSON document on stdout
/// (`{"file", "valid", "escalation_rules"}` or `{"file", "valid": false, "error"}`).
pub async fn check_config(file: Option<String>, json: bool) -> anyhow::Result<()> {
    let origin = file.clone().or_else(|| std::env::var("BRIDGE_CONFIG").ok());
    let (origin, config) = match read_config(file).await {
        Ok(read) => read,
        Err(e) if json => {
            println!("{}", serde_json::json!({ "file": origin, "valid": false, "error": format!("{e:#}") }));
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let rules = config.escalation.as_ref().map_or(0, |e| e.rules.len());
    match json {
        true => println!("{}", serde_json::json!({ "file": origin, "valid": true, "escalation_rules": rules })),
        false => println!("{origin}: valid (escalation rules: {rules})"),
    }
    Ok(())
}

/// One line for a drift finding: `error|note: <side> <entity> field <path>: <what>`.
fn describe(f: &DriftFinding) -> String {
    let (side, kind, path, what) = match f {
        DriftFinding::Unmapped { side, kind, path } => (side, kind, path, "exists but nothing maps it".to_string()),
        DriftFinding::Missing { side, kind, path } => (side, kind, path, "is mapped but does not exist".to_string()),
        DriftFinding::TypeChanged { side, kind, path, expected, actual } => {
            (side, kind, path, format!("is mapped as {expected:?} but its type is {actual}"))
        }
        DriftFinding::OptionsChanged { side, kind, path, missing } => {
            (side, kind, path, format!("lacks the configured option(s) {}", missing.join(", ")))
        }
    };
    let level = if f.is_error() { "error" } else { "note" };
    let vendor = if *side == Vendor::Intercom { "intercom" } else { "zendesk" };
    format!("{level}: {vendor} {} field {path} {what}", kind.entity_word(*side))
}

/// The process environment, with `BRIDGE_CONFIG` defaulting to the checked file.
struct ConfigFrom<'a>(&'a str);

impl Env for ConfigFrom<'_> {
    fn get(&self, name: &str) -> Option<String> {
        ProcessEnv.get(name).or_else(|| (name == "BRIDGE_CONFIG").then(|| self.0.to_string()))
    }
}

/// Runs `bridge config check --live`: the file is valid, and its profile mapping fits both live
/// field catalogs (names, types, dropdown options). Errors exit non-zero; unmapped fields are notes.
pub async fn config_check_live(file: Option<String>, json: bool) -> anyhow::Result<()> {
    let (path, config) = read_config(file).await?;
    let s = WorkerSettings::from_env(&ConfigFrom(&path))?;
    // Every id and name the config refers to, one line each.
    let mut references = Vec::new();
    let (intercom, zendesk) = (s.intercom.client()?, s.zendesk.client(std::time::Duration::from_secs(10))?);
    bridge_runtime::references::check_references(&intercom, &zendesk, &config, &mut |ok, what, detail| {
        references.push((ok, format!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" })));
    })
    .await;
    let failed_refs = references.iter().filter(|(ok, _)| !ok).count();
    let findings = match config.profiles.as_ref() {
        Some(cfg) => check_live(&s.intercom, &s.zendesk, cfg).await?,
        None => Vec::new(),
    };
    let errors = findings.iter().filter(|f| f.is_error()).count() + failed_refs;
    if json {
        let mut listed: Vec<_> =
            references.iter().map(|(ok, line)| serde_json::json!({ "error": !ok, "finding": line })).collect();
        listed.extend(findings.iter().map(|f| serde_json::json!({ "error": f.is_error(), "finding": describe(f) })));
        println!("{}", serde_json::json!({ "file": path, "valid": errors == 0, "findings": listed, "errors": errors }));
        anyhow::ensure!(errors == 0, "the config does not fit the live accounts: {errors} error(s)");
        return Ok(());
    }
    println!("{path}: valid");
    for (_, line) in &references {
        println!("{line}");
    }
    for f in &findings {
        println!("{}", describe(f));
    }
    anyhow::ensure!(errors == 0, "the config does not fit the live accounts: {errors} error(s)");
    match config.profiles {
        Some(_) => println!("everything the config refers to exists; the profile mapping matches both live catalogs"),
        None => println!("everything the config refers to exists"),
    }
    Ok(())
}
