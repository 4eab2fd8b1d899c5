//! The layering DESIGN.md asks for, checked on the real dependency graph.

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
    let found: Vec<_> = deps.iter().filter(|d| io.contains(&d.as_str())).collect();
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
    let found: Vec<_> = deps.iter().filter(|d| io.contains(&d.as_str())).collect();
    assert!(found.is_empty(), "bridge-jobs works over the ports only, found {found:?}");
}
