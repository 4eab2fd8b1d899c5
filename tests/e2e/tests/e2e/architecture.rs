//! The layering DESIGN.md asks for, checked on the real dependency graph.

use std::collections::BTreeMap;
use std::process::Command;

fn normal_dependencies(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Every workspace member's direct dependencies (all kinds: normal, dev, build), by member,
/// with the member's folder relative to the workspace root.
fn direct_dependencies() -> BTreeMap<String, (String, Vec<String>)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--offline", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("cargo metadata answers JSON");
    let root = std::path::Path::new(meta["workspace_root"].as_str().unwrap());
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = std::path::Path::new(p["manifest_path"].as_str().unwrap());
            let dir = manifest.parent().unwrap().strip_prefix(root).unwrap().display().to_string();
            let deps = p["dependencies"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string());
            (p["name"].as_str().unwrap().to_string(), (dir, deps.collect()))
        })
        .collect()
}

fn is_aws_sdk(dep: &str) -> bool {
    dep.starts_with("aws-sdk-") || dep == "aws-config"
}

#[test]
fn the_domain_crate_has_no_io_dependency_even_transitively() {
    let deps = normal_dependencies("bridge-domain");
    assert!(deps.iter().any(|d| d == "serde"), "sanity: the tree was read: {deps:?}");
    // Timers (tokio's `time`, for the backfill's pacing) are allowed; vendors, AWS and HTTP are not.
    let io = [
        "reqwest",
        "hyper",
        "aws-config",
        "aws-sdk-dynamodb",
        "aws-sdk-sqs",
        "lambda_runtime",
        "lambda_http",
        "axum",
        "mio",
    ];
    let found: Vec<_> = deps.iter().filter(|d| io.contains(&d.as_str()) || is_aws_sdk(d)).collect();
    assert!(found.is_empty(), "bridge-domain must stay pure, found {found:?}");
}

#[test]
fn the_jobs_never_name_aws_or_http() {
    let deps = normal_dependencies("bridge-jobs");
    // Timers (tokio's `time`, for the backfill's pacing) are allowed; vendors, AWS and HTTP are not.
    let io = [
        "reqwest",
        "hyper",
        "aws-config",
        "aws-sdk-dynamodb",
        "aws-sdk-sqs",
        "bridge-aws",
        "bridge-intercom",
        "bridge-zendesk",
    ];
    let found: Vec<_> = deps.iter().filter(|d| io.contains(&d.as_str()) || is_aws_sdk(d)).collect();
    assert!(found.is_empty(), "bridge-jobs works over the ports only, found {found:?}");
}

/// One HTTP client and one TLS stack in every Lambda bootstrap (issue 18.6): the functions link
/// reqwest over rustls with ring (`shared/http`), the AWS SDK included, and no crate of a second
/// stack. The SDK's `default-https-client` feature, or reqwest's `rustls` (aws-lc) feature,
/// would bring one back.
#[test]
fn every_function_links_one_http_client_and_one_tls_stack() {
    let second_stack = ["aws-lc-sys", "aws-lc-rs", "h2", "aws-smithy-http-client", "openssl-sys", "native-tls"];
    let functions = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../functions")).expect("functions/");
    let mut checked = 0;
    let mut found = Vec::new();
    for entry in functions {
        let name = entry.expect("a folder").file_name().to_string_lossy().into_owned();
        let deps = normal_dependencies(&name);
        assert!(deps.iter().any(|d| d == "reqwest") && deps.iter().any(|d| d == "ring"), "{name}: {deps:?}");
        found.extend(deps.iter().filter(|d| second_stack.contains(&d.as_str())).map(|d| format!("{name} -> {d}")));
        checked += 1;
    }
    assert!(checked >= 8, "sanity: every function was read ({checked})");
    assert!(found.is_empty(), "a second HTTP or TLS stack: {found:?}");
}

/// Job 7 sits beside the jobs: the runtime wires it (`bridge_runtime::reports`), never the
/// other way round.
#[test]
fn the_reports_never_depend_on_the_runtime() {
    let deps = normal_dependencies("bridge-reports");
    assert!(deps.iter().any(|d| d == "bridge-domain"), "sanity: the tree was read: {deps:?}");
    assert!(!deps.iter().any(|d| d == "bridge-runtime"), "bridge-reports must not depend on bridge-runtime");
    let runtime = normal_dependencies("bridge-runtime");
    assert!(runtime.iter().any(|d| d == "bridge-reports"), "the runtime wires the reports");
}

/// Every AWS call is in `shared/aws`: no other crate, tests and tools included, names an
/// `aws-sdk-*` crate (they use the re-exports of `bridge_aws::sdk`). `aws-config` (the SDK's
/// configuration, no calls) is for `shared/aws`, `shared/runtime`, which loads it, and the test
/// harnesses under `tests/`, which point it at moto.
#[test]
fn only_shared_aws_names_an_aws_sdk_crate() {
    let members = direct_dependencies();
    assert!(members.contains_key("bridge-aws") && members.contains_key("bridge-runtime"), "sanity: {members:?}");
    let mut found = Vec::new();
    for (name, (dir, deps)) in &members {
        for dep in deps.iter().filter(|d| is_aws_sdk(d)) {
            let allowed = match dep.as_str() {
                "aws-config" => dir == "shared/aws" || dir == "shared/runtime" || dir.starts_with("tests/"),
                _ => dir == "shared/aws",
            };
            if !allowed {
                found.push(format!("{name} ({dir}) -> {dep}"));
            }
        }
    }
    assert!(found.is_empty(), "AWS SDK crates outside shared/aws: {found:?}");
    let aws = &members["bridge-aws"].1;
    for sdk in ["aws-sdk-dynamodb", "aws-sdk-sqs", "aws-sdk-s3", "aws-sdk-sns", "aws-sdk-secretsmanager"] {
        assert!(aws.iter().any(|d| d == sdk), "bridge-aws holds {sdk}");
    }
}
