//! Operating the stack: the operator's `bridge` under the operator policy, metrics and logs at
//! `LogLevel` WARN, a deploy with a secret made beforehand, and webhooks through function URLs.

use bridge_rehearsal::{Options, SecretSetup};
use serde_json::Value;

use crate::support::{WAIT, escalated, quiet, rehearse, sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_operator_runs_the_bridge_command_with_the_operator_policy() {
    rehearse(Options::default(), async |r| {
        let (conv, ticket) = escalated(r, "<p>For the operator</p>").await?;
        let run = |args: &'static [&'static str]| r.bridge(args, "");

        let secret = r.resource_ref("BridgeSecret");
        let url = format!("{}/webhooks/zendesk", r.api_url());
        let (ok, out, err) = r.bridge(&["setup", "zendesk", "--url", &url, "--secret-id", &secret], "").await?;
        anyhow::ensure!(ok, "setup zendesk:\n{out}\n{err}");

        let (ok, out, err) = r.bridge(&["links", "show", &conv], "").await?;
        anyhow::ensure!(ok && out.contains(&format!("ticket #{ticket}")), "links show:\n{out}\n{err}");

        let (_, out, err) = run(&["doctor"]).await?;
        for check in ["ok   dynamodb table", "ok   queue escalate", "ok   config"] {
            anyhow::ensure!(out.contains(check), "doctor lacks {check:?}:\n{out}\n{err}");
        }

        let (ok, out, err) = run(&["reconcile", "profiles"]).await?;
        anyhow::ensure!(ok, "reconcile profiles:\n{out}\n{err}");
        let (ok, out, err) = run(&["config", "check", "--live"]).await?;
        anyhow::ensure!(ok, "config check --live:\n{out}\n{err}");

        let day = chrono::Utc::now().date_naive().to_string();
        let (ok, out, err) = r.bridge(&["report", "csat", "--from", &day, "--to", &day], "").await?;
        anyhow::ensure!(ok && out.contains("wrote s3://"), "report csat:\n{out}\n{err}");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_reach_cloudwatch_with_the_log_level_at_warn() {
    let options = Options { params: vec![("LogLevel".into(), "WARN".into())], ..Options::default() };
    rehearse(options, async |r| {
        escalated(r, "<p>Counted at WARN</p>").await?;
        let documents = |logical: &str| -> anyhow::Result<(Vec<Value>, Vec<String>)> {
            let lines = r.function(logical)?.logs();
            let docs = lines
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v.get("_aws").is_some())
                .collect();
            let info = lines.into_iter().filter(|l| l.contains("\"level\":\"INFO\"")).collect();
            Ok((docs, info))
        };
        let (docs, info) = documents("EscalateFunction")?;
        anyhow::ensure!(info.is_empty(), "RUST_LOG=warn lets no INFO line through: {info:?}");
        let service = docs.first().and_then(|d| d["service"].as_str()).unwrap_or_default().to_string();
        anyhow::ensure!(service.ends_with("-escalate"), "service is the function's name: {docs:?}");
        anyhow::ensure!(docs.iter().any(|d| d["ColdStart"] == 1), "a cold start: {docs:?}");
        anyhow::ensure!(
            docs.iter().any(|d| d["Job"] == "escalate" && d["ActionsDone"].as_u64() >= Some(1)),
            "ActionsDone{{Job=escalate}}: {docs:?}"
        );
        anyhow::ensure!(docs.iter().any(|d| d["Vendor"] == "zendesk" && d.get("VendorCalls").is_some()), "{docs:?}");
        let (ingress, _) = documents("IntercomWebhookFunction")?;
        anyhow::ensure!(ingress.iter().any(|d| d["EventsQueued"].as_u64() >= Some(1)), "the ingress's: {ingress:?}");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_existing_secret_with_the_four_keys_the_readme_lists_deploys() {
    let keys = ["intercom_access_token", "intercom_client_secret", "zendesk_api_token", "zendesk_webhook_secret"];
    rehearse(
        Options { secret: SecretSetup::Existing(keys.iter().map(|k| k.to_string()).collect()), ..Options::default() },
        async |r| {
            escalated(r, "<p>Works with our own secret</p>").await?;
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_function_urls_both_vendors_webhooks_reach_their_jobs_without_the_http_api() {
    let options = Options { params: vec![("WebhookFunctionUrls".into(), "enabled".into())], ..Options::default() };
    rehearse(options, async |r| {
        for logical in ["IntercomWebhookFunctionUrl", "ZendeskWebhookFunctionUrl"] {
            let output = r.manifest.outputs.get(logical).and_then(Value::as_str).unwrap_or_default();
            anyhow::ensure!(
                output.starts_with("https://") && output.ends_with(".lambda-url.us-east-1.on.aws/"),
                "the stack outputs {logical}: {output:?}"
            );
            anyhow::ensure!(r.function_url(logical).is_some(), "{logical} is served");
        }

        // Whatever reaches the URL meets the function's own checks: unsigned is refused.
        let intercom_url = r.function_url("IntercomWebhookFunctionUrl").unwrap_or_default();
        let refused = bridge_sim::http_client().post(intercom_url).body("{}").send().await?;
        anyhow::ensure!(refused.status() == 401, "an unsigned webhook: {}", refused.status());

        // Job 1 from Intercom's webhooks, job 3 from Zendesk's, both sent to the URLs.
        let (conv, ticket) = escalated(r, "<p>Through the function URL</p>").await?;
        sim(r.zendesk.set_status(r.seeded.zendesk_agent, ticket, "solved"))?;
        bridge_e2e::eventually(WAIT, "the close", || {
            r.intercom.conversation(&conv).is_some_and(|c| c.state == "closed")
        })
        .await?;
        quiet(r).await?;
        let served = (
            r.function_url_requests("IntercomWebhookFunctionUrl"),
            r.function_url_requests("ZendeskWebhookFunctionUrl"),
        );
        anyhow::ensure!(served.0 >= 3 && served.1 >= 1, "requests through the URLs (Intercom, Zendesk): {served:?}");
        anyhow::ensure!(r.api_requests() == 0, "the HTTP API received {} requests", r.api_requests());
        Ok(())
    })
    .await;
}
