//! The end-to-end harness: moto (real local AWS), both vendor simulators (real HTTP, real
//! signatures) and the bridge's real ingress and workers, wired to each other so every vendor
//! write emits a webhook, exactly as in production.

use std::time::{Duration, Instant};

pub mod backfill;
pub mod coldstart;
pub mod csat;
pub mod profiles_demo;
pub mod templates;

use anyhow::{Context as _, bail};
use bridge_aws::{DynamoStore, QueueSettings, SqsQueue};
use bridge_domain::Config;
use bridge_domain::routing::JobKind;
use bridge_intercom::{IntercomClient, IntercomConfig};
use bridge_runtime::App;
use bridge_runtime::ingress::Ingress;
use bridge_runtime::local::LocalBridge;
use bridge_runtime::metrics::Counters;
use bridge_sim::intercom::{IntercomSim, IntercomSimOptions};
use bridge_sim::moto::{Moto, unique_name};
use bridge_sim::zendesk::{ZendeskSim, ZendeskSimOptions};
use bridge_zendesk::{ZendeskClient, ZendeskConfig};
use secrecy::SecretString;

/// The folder of the running executable: cargo puts the binaries of one build next to each other
/// (`<target>/<profile>/`), wherever its target directory is (`CARGO_TARGET_DIR` is honoured).
pub fn binary_dir() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe().context("locating the running executable")?;
    Ok(exe.parent().context("the running executable has no parent directory")?.to_path_buf())
}

/// A binary cargo built next to the running one ([`binary_dir`]), such as `bridge`.
pub fn sibling_binary(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let bin = binary_dir()?.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!("{} not found: build it with `cargo build -p bridge-cli` (or set BRIDGE_BIN)", bin.display());
    }
    Ok(bin)
}

/// Ids seeded into the simulators.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The Intercom admin the bridge acts as.
    pub bot_admin: String,
    /// A human Intercom agent.
    pub agent: String,
    /// The support team (inbox) that escalates.
    pub escalations_team: String,
    /// Another team.
    pub sales_team: String,
    /// The customer.
    pub customer: String,
    /// A Zendesk agent.
    pub zendesk_agent: u64,
    /// The Zendesk group escalations go to.
    pub tier2_group: u64,
}

/// Everything running for one test.
#[derive(Debug)]
pub struct World {
    /// Local AWS.
    pub moto: Moto,
    /// Intercom simulator.
    pub intercom: IntercomSim,
    /// Zendesk simulator.
    pub zendesk: ZendeskSim,
    /// The bridge (ingress + workers).
    pub bridge: Option<LocalBridge>,
    /// Seeded ids.
    pub seeded: Seeded,
    /// Queue URLs.
    pub queue: SqsQueue,
    /// Table name.
    pub table: String,
    /// Queue name prefix (`<prefix>-<job>.fifo`).
    pub prefix: String,
    /// The configuration's YAML text.
    pub config_text: String,
    /// The configuration the bridge runs with.
    pub config: Config,
    /// AWS SDK config for moto.
    pub sdk: aws_config::SdkConfig,
}

/// The configuration used by the tests; `{bot}`, `{team}`, `{group}` are filled in.
pub const CONFIG_TEMPLATE: &str = r#"
version: 1
intercom:
  bot_admin_id: "{bot}"
  ticket_id_attribute: zendesk_ticket_id
  ticket_url_attribute: zendesk_ticket_url
escalation:
  rules:
    - name: tagged escalate
      when: { tag_added: escalate }
      group_id: {group}
      tags: [tier2]
    - name: escalations inbox
      when: { assigned_to_team: ["{team}"] }
      group_id: {group}
    - name: refund keyword
      when: { keyword: [refund, chargeback] }
    - name: waiting customer
      when: { threshold: { customer_replies: 3 } }
    - name: urgent
      when: { threshold: { priority_at_least: urgent } }
  tags: [intercom]
  tag_map: { vip: vip_customer }
"#;

/// Seeds the cast every test and the demo start from: the bridge's bot admin and a human agent
/// with two teams, the conversation attributes the bridge writes, Ada of Acme Corp
/// (enterprise, health score 80), and on Zendesk an agent and the "Tier 2" group.
pub fn seed_vendors(intercom: &IntercomSim, zendesk: &ZendeskSim) -> anyhow::Result<Seeded> {
    let bot_admin = intercom.seed_admin("Bridge Bot", "bridge-bot@example.com");
    let agent = intercom.seed_admin("Alex Agent", "alex@example.com");
    let escalations_team = intercom.seed_team("Escalations", std::slice::from_ref(&agent));
    let sales_team = intercom.seed_team("Sales", std::slice::from_ref(&agent));
    intercom.seed_conversation_attribute("zendesk_ticket_id", "string");
    intercom.seed_conversation_attribute("zendesk_ticket_url", "string");
    let company = intercom.seed_company(bridge_sim::intercom::state::Company {
        company_id: "acme-1".into(),
        name: Some("Acme Corp".into()),
        plan: Some("enterprise".into()),
        // The customer-success score the shipped routing template reads: healthy.
        custom_attributes: serde_json::Map::from_iter([("health_score".to_string(), serde_json::json!(80))]),
        ..Default::default()
    });
    let customer = intercom
        .seed_contact(bridge_sim::intercom::state::Contact {
            role: "user".into(),
            external_id: Some("cust-1".into()),
            email: Some("ada@acme.example".into()),
            name: Some("Ada Lovelace".into()),
            company_ids: vec![company],
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("seed contact: {e:?}"))?;
    let zendesk_agent = zendesk.add_agent("Zoe Zendesk", "zoe@example.com").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let tier2_group = zendesk.add_group("Tier 2");
    Ok(Seeded { bot_admin, agent, escalations_team, sales_team, customer, zendesk_agent, tier2_group })
}

impl World {
    /// Starts moto, the simulators and the bridge, seeds both vendors.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|c| c).await
    }

    /// Like [`World::start`], with a hook to change the configuration text.
    pub async fn start_with(edit: impl FnOnce(String) -> String) -> anyhow::Result<Self> {
        Self::start_on(Moto::start()?, edit).await
    }

    /// Like [`World::start_with`], on an already started moto (the benchmarks pass
    /// [`Moto::start_keepalive`]).
    pub async fn start_on(moto: Moto, edit: impl FnOnce(String) -> String) -> anyhow::Result<Self> {
        let sdk = moto.sdk_config().await;
        let intercom = IntercomSim::start(IntercomSimOptions::default()).await?;
        let zendesk = ZendeskSim::start(ZendeskSimOptions::default()).await?;

        let seeded = seed_vendors(&intercom, &zendesk)?;
        let Seeded { bot_admin, escalations_team, tier2_group, .. } = seeded.clone();

        let config_text = edit(
            CONFIG_TEMPLATE
                .replace("{bot}", &bot_admin)
                .replace("{team}", &escalations_team)
                .replace("{group}", &tier2_group.to_string()),
        );
        let config = Config::from_yaml(&config_text).map_err(|e| anyhow::anyhow!("test config: {e}"))?;

        let table = unique_name("bridge");
        let prefix = unique_name("q");
        let ddb = bridge_aws::sdk::dynamodb::Client::new(&sdk);
        DynamoStore::create_table(&ddb, &table).await?;
        let sqs = bridge_aws::sdk::sqs::Client::new(&sdk);
        let settings = QueueSettings { visibility_timeout: Duration::from_secs(30), ..QueueSettings::default() };
        let urls = SqsQueue::create_queues(&sqs, &prefix, &settings).await?;
        let queue = SqsQueue::new(sqs, urls);

        let mut world =
            World { moto, intercom, zendesk, bridge: None, seeded, queue, table, prefix, config_text, config, sdk };
        world.start_bridge().await?;
        Ok(world)
    }

    /// The Intercom client the bridge uses.
    pub fn intercom_client(&self) -> anyhow::Result<IntercomClient> {
        let cfg = IntercomConfig::new(self.intercom.base_url().parse()?, self.intercom.access_token().into());
        Ok(IntercomClient::new(cfg)?)
    }

    /// The Zendesk client the bridge uses.
    pub fn zendesk_client(&self) -> anyhow::Result<ZendeskClient> {
        let opts = ZendeskSimOptions::default();
        Ok(ZendeskClient::new(ZendeskConfig {
            base_url: self.zendesk.base_url().parse()?,
            auth: bridge_zendesk::Auth::ApiToken { email: opts.email, token: opts.api_token.into() },
            timeout: Duration::from_secs(10),
        })?)
    }

    /// A worker app over the real adapters (moto + simulators).
    pub fn app(&self) -> anyhow::Result<App> {
        let store = DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(&self.sdk), self.table.clone());
        Ok(App::from_parts(
            store,
            self.intercom_client()?,
            self.zendesk_client()?,
            self.queue.clone(),
            self.config.clone(),
            Counters::default(),
        ))
    }

    /// An ingress over the real queues.
    pub fn ingress(&self) -> Ingress<SqsQueue> {
        Ingress::new(
            self.queue.clone(),
            Some(SecretString::from(self.intercom.client_secret())),
            Some(SecretString::from(ZendeskSimOptions::default().webhook_secret)),
            self.queue.urls().keys().copied().collect(),
            1024 * 1024,
            Duration::from_secs(300),
            Counters::default(),
        )
        .with_zendesk_trigger_secret(Some(SecretString::from(ZendeskSimOptions::default().trigger_webhook_secret)))
    }

    /// Starts the bridge (ingress over HTTP + workers) and points the simulators' webhooks at it.
    pub async fn start_bridge(&mut self) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let bridge = LocalBridge::start(listener, self.ingress(), self.app()?)?;
        self.intercom.set_webhook_target(Some(format!("{}/webhooks/intercom", bridge.url())));
        self.zendesk.set_webhook_target(Some(format!("{}/webhooks/zendesk", bridge.url())));
        self.bridge = Some(bridge);
        Ok(())
    }

    /// Stops the bridge; webhooks then go nowhere.
    pub async fn stop_bridge(&mut self) {
        self.intercom.set_webhook_target(None);
        self.zendesk.set_webhook_target(None);
        if let Some(b) = self.bridge.take() {
            b.shutdown().await;
        }
    }

    /// The environment a `bridge` process needs to work on this world.
    pub fn env(&self) -> Vec<(String, String)> {
        let zd = ZendeskSimOptions::default();
        [
            ("AWS_ENDPOINT_URL", self.moto.endpoint()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("INTERCOM_API_BASE", self.intercom.base_url()),
            ("INTERCOM_ACCESS_TOKEN", self.intercom.access_token()),
            ("INTERCOM_CLIENT_SECRET", self.intercom.client_secret()),
            ("ZENDESK_BASE_URL", self.zendesk.base_url()),
            ("ZENDESK_EMAIL", zd.email),
            ("ZENDESK_API_TOKEN", zd.api_token),
            ("ZENDESK_WEBHOOK_SECRET", zd.webhook_secret),
            ("ZENDESK_TRIGGER_WEBHOOK_SECRET", zd.trigger_webhook_secret),
            ("BRIDGE_TABLE", self.table.clone()),
            ("BRIDGE_QUEUE_PREFIX", self.prefix.clone()),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The bridge's URL.
    pub fn bridge_url(&self) -> String {
        self.bridge.as_ref().map(|b| b.url()).unwrap_or_default()
    }

    /// Every ticket in the Zendesk simulator (with comments).
    pub fn tickets(&self) -> Vec<serde_json::Value> {
        self.zendesk.dump()["tickets"].as_array().cloned().unwrap_or_default()
    }

    /// Messages waiting on a job's queue (received and released at once).
    pub async fn queued(&self, job: JobKind) -> anyhow::Result<usize> {
        let msgs = self.queue.receive(job, 10, 1).await?;
        for m in &msgs {
            self.queue.change_visibility(job, &m.receipt_handle, 0).await?;
        }
        Ok(msgs.len())
    }
}

/// Waits until `check` holds, polling every 50 ms, failing with `what` after `timeout`.
pub async fn eventually<F: FnMut() -> bool>(timeout: Duration, what: &str, mut check: F) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if check() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            anyhow::bail!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the system to go quiet: nothing changes in `probe` for `quiet`.
pub async fn settle<T: PartialEq, F: FnMut() -> T>(
    quiet: Duration,
    timeout: Duration,
    mut probe: F,
) -> anyhow::Result<T> {
    let start = Instant::now();
    let mut last = probe();
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = probe();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return Ok(last);
        }
        if start.elapsed() > timeout {
            return Err(anyhow::anyhow!("system did not settle within {timeout:?}")).context("settle");
        }
    }
}

/// Signs and posts a raw Intercom webhook body to the bridge.
pub async fn post_intercom(
    url: &str,
    secret: &str,
    body: &[u8],
    signature: Option<String>,
) -> anyhow::Result<(u16, String)> {
    let sig = signature.unwrap_or_else(|| bridge_intercom::webhook::sign(secret.as_bytes(), body));
    let resp = bridge_sim::http_client()
        .post(format!("{url}/webhooks/intercom"))
        .header("content-type", "application/json")
        .header("x-hub-signature", sig)
        .body(body.to_vec())
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await?))
}

/// Signs (as the Zendesk simulator's webhook does) and posts a raw Zendesk webhook body to the
/// bridge, with a fresh invocation id.
pub async fn post_zendesk(url: &str, body: &[u8]) -> anyhow::Result<(u16, String)> {
    post_zendesk_signed(url, &ZendeskSimOptions::default().webhook_secret, body).await
}

/// Like [`post_zendesk`], signed with `secret` (the trigger-connected webhook has its own).
pub async fn post_zendesk_signed(url: &str, secret: &str, body: &[u8]) -> anyhow::Result<(u16, String)> {
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signature = bridge_zendesk::webhook::sign(secret.as_bytes(), &timestamp, body);
    let resp = bridge_sim::http_client()
        .post(format!("{url}/webhooks/zendesk"))
        .header("content-type", "application/json")
        .header("x-zendesk-webhook-signature-timestamp", timestamp)
        .header("x-zendesk-webhook-signature", signature)
        .header("x-zendesk-webhook-invocation-id", uuid::Uuid::new_v4().simple().to_string())
        .body(body.to_vec())
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await?))
}

/// The simulator's tickets escalated from `conversation` (by their external id).
pub fn tickets_for(world: &World, conversation: &str) -> Vec<serde_json::Value> {
    let ext = format!("intercom-conversation-{conversation}");
    world.tickets().into_iter().filter(|t| t["external_id"].as_str() == Some(ext.as_str())).collect()
}

/// Parts of type `ty` the bridge's bot wrote in `conversation` containing `text`.
pub fn bot_parts(world: &World, conversation: &str, ty: &str, text: &str) -> usize {
    let Some(conv) = world.intercom.conversation(conversation) else { return 0 };
    conv.parts
        .iter()
        .filter(|p| p.part_type == ty && p.author.id == world.seeded.bot_admin)
        .filter(|p| p.body.as_deref().unwrap_or("").contains(text))
        .count()
}

/// Comments of `ticket` whose body contains `text`.
pub fn comments_containing(world: &World, ticket: u64, text: &str) -> usize {
    let Some(t) = world.zendesk.ticket(ticket) else { return 0 };
    t["comments"]
        .as_array()
        .map(|comments| {
            comments
                .iter()
                .filter(|c| c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("").contains(text))
                .count()
        })
        .unwrap_or(0)
}
