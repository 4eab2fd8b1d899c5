//! `bridge setup zendesk` (webhook, signing secret into Secrets Manager, optional triggers) and
//! the webhook lines of `bridge doctor`.

use std::time::Duration;

use bridge_aws::{JsonSecrets, SecretChange};
use bridge_runtime::App;
use bridge_runtime::settings::{ProcessEnv, ZendeskAccess};
use bridge_zendesk::setup::{Webhook, WebhookSpec};
use clap::Args;

/// Default name of the bridge's Zendesk webhook.
pub const DEFAULT_WEBHOOK_NAME: &str = "Intercom bridge";

/// Key of the bridge secret holding the event webhook's signing secret.
pub const SECRET_KEY: &str = "zendesk_webhook_secret";
/// Key holding the trigger-connected webhook's signing secret (`--triggers`).
pub const TRIGGER_SECRET_KEY: &str = "zendesk_trigger_webhook_secret";

/// Intercom topics to tick in the Developer Hub (README lists the same): conversation topics
/// (escalation, tag sync), contact/company topics (profile sync), `contact.deleted` (erasure).
/// `ping` is sent by the Hub's test button.
pub const INTERCOM_TOPICS: &[&str] = &[
    "conversation.user.created",
    "conversation.user.replied",
    "conversation.admin.replied",
    "conversation.admin.closed",
    "conversation.admin.opened",
    "conversation.admin.assigned",
    "conversation.admin.open.assigned",
    "conversation.admin.noted",
    "conversation.priority.updated",
    "conversation_part.tag.created",
    "contact.user.created",
    "contact.user.updated",
    "contact.lead.created",
    "contact.lead.updated",
    "contact.email.updated",
    "company.created",
    "company.updated",
    "contact.deleted",
    "ping",
];

/// `bridge setup zendesk` options.
#[derive(Debug, Args)]
pub struct ZendeskSetup {
    /// The bridge's Zendesk webhook URL (stack output `ZendeskWebhookUrl`).
    #[arg(long, env = "BRIDGE_ZENDESK_WEBHOOK_URL")]
    pub url: String,
    /// Name or ARN of the bridge secret (stack's `<stack>/vendor-credentials`).
    #[arg(long, env = "BRIDGE_SECRET_ID")]
    pub secret_id: String,
    /// Webhook name (the bridge finds its webhook again by this name, else by URL).
    #[arg(long, default_value = DEFAULT_WEBHOOK_NAME)]
    pub name: String,
    /// Also create the trigger-connected webhook and its two triggers (trigger-JSON variant).
    #[arg(long)]
    pub triggers: bool,
}

/// `bridge setup zendesk`: idempotent. The Zendesk client comes from `ZENDESK_BASE_URL` and
/// `ZENDESK_OAUTH_TOKEN` or `ZENDESK_EMAIL` + `ZENDESK_API_TOKEN`.
pub async fn zendesk(opts: ZendeskSetup) -> anyhow::Result<()> {
    let zd = ZendeskAccess::from_env(&ProcessEnv)?.client(Duration::from_secs(15))?;
    let (id, change) = zd.ensure_webhook(&WebhookSpec::events(&opts.name, &opts.url)).await?;
    println!("webhook {:?} ({id}): {change}", opts.name);
    let secret = zd.webhook_signing_secret(&id).await?;
    let secrets = JsonSecrets::new(&bridge_runtime::app::aws_config().await);
    let mut values = vec![(SECRET_KEY, secret)];
    if opts.triggers {
        let (tid, change) = zd.ensure_webhook(&WebhookSpec::triggers(&opts.name, &opts.url)).await?;
        println!("trigger webhook ({tid}): {change}");
        for (title, change) in zd.ensure_triggers(&opts.name, &tid).await? {
            println!("trigger {title:?}: {change}");
        }
        values.push((TRIGGER_SECRET_KEY, zd.webhook_signing_secret(&tid).await?));
    }
    let stored = secrets.merge(&opts.secret_id, &values).await?;
    println!("secret {}: {stored}", opts.secret_id);
    if stored != SecretChange::Unchanged {
        println!("the signing secret changed: deploy again with a new SecretsRevision so the ingress picks it up");
    }
    Ok(())
}

/// The bridge's event webhook among `hooks`: by the default name, else by an endpoint ending
/// in `/webhooks/zendesk`.
fn bridge_webhook(hooks: &[Webhook]) -> Option<&Webhook> {
    let events = hooks.iter().filter(|w| !w.is_trigger_connected());
    let mut candidates: Vec<&Webhook> = events.collect();
    candidates.sort_by_key(|w| w.name != DEFAULT_WEBHOOK_NAME);
    candidates.into_iter().find(|w| w.name == DEFAULT_WEBHOOK_NAME || w.endpoint.ends_with("/webhooks/zendesk"))
}

/// Doctor lines for both webhooks: Zendesk checked through its API; answers the note on the
/// Intercom webhook, which is checked by hand.
pub async fn doctor_webhooks(app: &App, line: &mut impl FnMut(bool, &str, String)) -> String {
    match app.zendesk.list_webhooks().await {
        Err(e) => line(false, "zendesk webhook", format!("cannot list webhooks: {e}")),
        Ok(hooks) => match bridge_webhook(&hooks) {
            None => line(false, "zendesk webhook", "none found: run `bridge setup zendesk`".into()),
            Some(w) if w.status != "active" => line(
                false,
                "zendesk webhook",
                format!("{} is {}: activate it or run `bridge setup zendesk`", w.id, w.status),
            ),
            Some(w) => match w.missing_subscriptions().as_slice() {
                [] => {
                    line(true, "zendesk webhook", format!("{} active, all events subscribed -> {}", w.id, w.endpoint))
                }
                missing => line(
                    false,
                    "zendesk webhook",
                    format!("{} misses {}: run `bridge setup zendesk`", w.id, missing.join(", ")),
                ),
            },
        },
    }
    format!(
        "intercom webhook: no API to check; in the Developer Hub (your app -> Webhooks) the endpoint must be the \
         stack output IntercomWebhookUrl (.../webhooks/intercom) with topics {}",
        INTERCOM_TOPICS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridge_domain::event::Vendor;
    use bridge_domain::routing::jobs;

    #[test]
    fn every_listed_intercom_topic_feeds_a_job() {
        for t in INTERCOM_TOPICS.iter().filter(|t| **t != "ping") {
            assert!(!jobs(Vendor::Intercom, t).is_empty(), "{t} is routed to no job");
        }
        assert!(INTERCOM_TOPICS.contains(&"contact.deleted"));
    }
}
