//! `make demo`: the main job, locally. Starts moto (local AWS), the Intercom and Zendesk
//! simulators, and the real `bridge serve` process; plays a scripted story (a customer chats,
//! an agent tags the conversation `escalate`); prints what Zendesk holds, the link and the note;
//! stops everything it started.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bridge_aws::DynamoStore;
use bridge_domain::ids::ConversationId;
use bridge_domain::ports::Store;
use bridge_sim::intercom::{IntercomSim, IntercomSimOptions};
use bridge_sim::moto::Moto;
use bridge_sim::sheets::SheetsSim;
use bridge_sim::zendesk::{ZendeskSim, ZendeskSimOptions};
use serde_json::Value;

/// Kills the child on drop, so an error anywhere still stops `bridge serve`.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // SIGTERM first for a graceful stop, then make sure.
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn step(text: &str) {
    println!("\n\x1b[1m== {text}\x1b[0m");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bridge_bin = match std::env::var("BRIDGE_BIN") {
        Ok(bin) => bin,
        Err(_) => bridge_e2e::sibling_binary("bridge")?.display().to_string(),
    };
    let work = root.join("target/demo");
    std::fs::create_dir_all(&work)?;

    step("Starting local AWS (moto), the Intercom and Zendesk simulators");
    let moto = Moto::start()?;
    let intercom = IntercomSim::start(IntercomSimOptions::default()).await?;
    let zendesk = ZendeskSim::start(ZendeskSimOptions::default()).await?;
    println!("moto      {}\nintercom  {}\nzendesk   {}", moto.endpoint(), intercom.base_url(), zendesk.base_url());

    let cast = bridge_e2e::seed_vendors(&intercom, &zendesk)?;
    let swaps = bridge_e2e::templates::prepare(&intercom, &zendesk, &cast);
    let (bot, agent, ada, zoe) = (cast.bot_admin, cast.agent, cast.customer, cast.zendesk_agent);

    // The six shipped templates, as an operator deploys them: a BRIDGE_CONFIG folder of the
    // files from infra/config with only the account ids swapped for the simulators' own.
    let config_dir = bridge_e2e::templates::write_folder(&swaps, &work.join("config"))?;
    let enterprise = zendesk
        .with_state(|st| st.groups.values().find(|g| g.name == "Enterprise").map(|g| g.id))
        .context("the Enterprise group")?;
    // The CSAT template writes to a Google spreadsheet: the Sheets simulator stands in for it.
    let sheets = SheetsSim::start().await?;
    for name in ["CsatDaily", "CsatWeekly", "CsatCustom"] {
        sheets.add_named_range(bridge_e2e::templates::SPREADSHEET_ID, name, 200, 11);
    }

    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "demo".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "demo".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("INTERCOM_API_BASE", intercom.base_url()),
        ("INTERCOM_ACCESS_TOKEN", intercom.access_token()),
        ("INTERCOM_CLIENT_SECRET", intercom.client_secret()),
        ("ZENDESK_BASE_URL", zendesk.base_url()),
        ("ZENDESK_EMAIL", ZendeskSimOptions::default().email),
        ("ZENDESK_API_TOKEN", ZendeskSimOptions::default().api_token),
        ("ZENDESK_WEBHOOK_SECRET", ZendeskSimOptions::default().webhook_secret),
        ("BRIDGE_CONFIG", config_dir.display().to_string()),
        ("GOOGLE_SERVICE_ACCOUNT_JSON", sheets.service_account_json()),
        ("SHEETS_API_BASE", sheets.base_url()),
        ("BRIDGE_TABLE", "bridge-demo".to_string()),
        ("BRIDGE_QUEUE_PREFIX", "bridge-demo".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ];

    step("bridge init: table and queues");
    let status = Command::new(&bridge_bin)
        .arg("init")
        .envs(env.iter().cloned())
        .status()
        .with_context(|| format!("running {bridge_bin}"))?;
    if !status.success() {
        bail!("bridge init failed");
    }

    step(&format!("bridge serve --listen 127.0.0.1:{port}"));
    let log = std::fs::File::create(work.join("bridge-serve.log"))?;
    let serve = Command::new(&bridge_bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env.iter().cloned())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting bridge serve")?;
    let serve = Guard(serve);
    wait_healthy(&url).await?;
    intercom.set_webhook_target(Some(format!("{url}/webhooks/intercom")));
    zendesk.set_webhook_target(Some(format!("{url}/webhooks/zendesk")));
    println!("listening on {url} (log: target/demo/bridge-serve.log)");
    println!("config    target/demo/config: the six templates of infra/config, account ids swapped");

    step("The story: Ada chats, Alex answers, then tags the conversation `escalate`");
    let fail = |e: bridge_sim::intercom::ApiError| anyhow::anyhow!("simulator: {e:?}");
    let conv = intercom
        .customer_starts_conversation(&ada, "<p>Hi! I was charged <b>twice</b> for my March invoice.</p>")
        .map_err(fail)?;
    println!("Ada:  Hi! I was charged twice for my March invoice.");
    intercom.customer_replies(&conv, "Order #4411, both charges on March 3rd.").map_err(fail)?;
    println!("Ada:  Order #4411, both charges on March 3rd.");
    intercom.admin_replies(&conv, &agent, "Sorry about that, Ada. Let me get billing on it.").map_err(fail)?;
    println!("Alex: Sorry about that, Ada. Let me get billing on it.");
    intercom.admin_sets_priority(&conv, &agent, "high").map_err(fail)?;
    println!("Alex sets the priority to high and tags the conversation `escalate`.");
    intercom.admin_tags(&conv, &agent, "escalate").map_err(fail)?;

    let ticket = wait_for(Duration::from_secs(30), || {
        let tickets = zendesk.dump()["tickets"].as_array().cloned().unwrap_or_default();
        tickets.into_iter().find(|t| t["external_id"].as_str() == Some(&format!("intercom-conversation-{conv}")))
    })
    .await
    .context("no ticket appeared in Zendesk within 30 s (see target/demo/bridge-serve.log)")?;
    let note = wait_for(Duration::from_secs(30), || {
        intercom.conversation(&conv)?.parts.into_iter().find(|p| p.part_type == "note" && p.author.id == bot)
    })
    .await
    .context("no note appeared on the conversation")?;

    step("The ticket, as Zendesk holds it");
    let dump = zendesk.dump();
    let find = |kind: &str, id: &Value| {
        dump[kind].as_array().and_then(|a| a.iter().find(|x| &x["id"] == id).cloned()).unwrap_or(Value::Null)
    };
    let requester = find("users", &ticket["requester_id"]);
    let org = find("organizations", &ticket["organization_id"]);
    println!("ticket     #{}", ticket["id"]);
    println!("subject    {}", ticket["subject"].as_str().unwrap_or(""));
    println!(
        "requester  {} <{}> (external id {})",
        requester["name"].as_str().unwrap_or("?"),
        requester["email"].as_str().unwrap_or("?"),
        requester["external_id"].as_str().unwrap_or("-")
    );
    println!(
        "org        {} (external id {})",
        org["name"].as_str().unwrap_or("-"),
        org["external_id"].as_str().unwrap_or("-")
    );
    println!("priority   {}", ticket["priority"].as_str().unwrap_or("-"));
    println!("group      Tier 2 (#{})", ticket["group_id"]);
    println!(
        "tags       {}",
        ticket["tags"]
            .as_array()
            .map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    );
    let transcript =
        ticket["comments"][0]["html_body"].as_str().or(ticket["comments"][0]["body"].as_str()).unwrap_or("");
    println!("transcript (internal note):");
    for line in bridge_domain::text::html_to_text(transcript).lines() {
        println!("  | {line}");
    }

    step("The link, in DynamoDB");
    let sdk = moto.sdk_config().await;
    let store = DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(&sdk), "bridge-demo");
    let link = store.link_by_conversation(&ConversationId::parse(conv.clone())?).await?.context("link missing")?;
    println!(
        "conversation {} <-> ticket #{} (version {}, history: {:?})",
        link.conversation_id, link.ticket_id, link.version, link.history
    );

    step("Written back onto the Intercom conversation");
    let c = intercom.conversation(&conv).context("conversation missing")?;
    println!(
        "attribute  zendesk_ticket_id = {}",
        c.custom_attributes.get("zendesk_ticket_id").cloned().unwrap_or(Value::Null)
    );
    println!(
        "attribute  zendesk_ticket_url = {}",
        c.custom_attributes.get("zendesk_ticket_url").cloned().unwrap_or(Value::Null)
    );
    println!("note by Bridge Bot: {}", bridge_domain::text::html_to_text(note.body.as_deref().unwrap_or("")));

    step("Zoe solves the ticket in Zendesk: Ada is told in Intercom and the conversation closes");
    let zfail = |e: bridge_sim::zendesk::ApiError| anyhow::anyhow!("simulator: {e:?}");
    let ticket_id = ticket["id"].as_u64().context("ticket id")?;
    zendesk.comment(zoe, ticket_id, "We refunded the duplicate charge of March 3rd.", true).map_err(zfail)?;
    zendesk.set_status(zoe, ticket_id, "solved").map_err(zfail)?;
    let closed = wait_for(Duration::from_secs(30), || intercom.conversation(&conv).filter(|c| c.state == "closed"))
        .await
        .context("the conversation was not closed within 30 s (see target/demo/bridge-serve.log)")?;
    // The solved message rides on the close (one Intercom call): a `close` part with a body.
    let said = |p: &&bridge_sim::intercom::state::Part| {
        p.part_type == "comment" || (p.part_type == "close" && p.body.as_deref().is_some_and(|b| !b.is_empty()))
    };
    for p in closed.parts.iter().filter(said).filter(|p| p.author.id != ada) {
        let who = if p.author.id == bot { "Bridge Bot" } else { "agent" };
        println!("{who:<10} {}", bridge_domain::text::html_to_text(p.body.as_deref().unwrap_or("")));
    }
    println!("state      {} (tags: {})", closed.state, intercom.conversation_tags(&conv).join(", "));

    step("Tags both ways: Alex tags `VIP` in Intercom, Zoe tags `refund` in Zendesk");
    zendesk.set_status(zoe, ticket_id, "open").map_err(zfail)?;
    intercom.admin_tags(&conv, &agent, "VIP").map_err(fail)?;
    zendesk.agent_tags(zoe, ticket_id, &["refund".to_string()], &[]).map_err(zfail)?;
    let has = |t: &Value, tag: &str| t["tags"].as_array().is_some_and(|a| a.iter().any(|x| x.as_str() == Some(tag)));
    let synced = wait_for(Duration::from_secs(30), || {
        let t = zendesk.ticket(ticket_id)?;
        (has(&t, "vip_customer") && intercom.conversation_tags(&conv).iter().any(|x| x == "refund")).then_some(t)
    })
    .await
    .context("tags were not synced within 30 s")?;
    println!("Zendesk    tags: {}", synced["tags"]);
    println!("Intercom   tags: {}", intercom.conversation_tags(&conv).join(", "));

    step("Ada submits a Zendesk web form: routed by her Intercom plan, acknowledged in Intercom");
    let ada_zendesk = zendesk.dump()["users"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["email"] == "ada@acme.example").and_then(|u| u["id"].as_u64()))
        .context("Ada has no Zendesk user")?;
    let subject = "The invoices page is blank";
    let form = zendesk
        .submit_ticket(ada_zendesk, subject, "Since this morning the invoices page shows nothing.", "web")
        .map_err(|e| anyhow::anyhow!("simulator: {e:?}"))?;
    println!("web form   ticket #{form} \"{subject}\" from Ada");
    let routed = wait_for(Duration::from_secs(30), || {
        let tickets = zendesk.dump()["tickets"].as_array().cloned().unwrap_or_default();
        tickets.into_iter().find(|t| t["id"].as_u64() == Some(form) && t["group_id"].as_u64() == Some(enterprise))
    })
    .await
    .context("the web-form ticket was not routed within 30 s (see target/demo/bridge-serve.log)")?;
    println!("group      Enterprise (#{enterprise}), priority {}", routed["priority"].as_str().unwrap_or("-"));
    let reason = routed["comments"].as_array().and_then(|cs| cs.iter().find(|c| c["public"] == false)).cloned();
    let reason = reason.map(|c| c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("").to_string());
    println!("reason     {}", bridge_domain::text::html_to_text(&reason.unwrap_or_default()).replace('\n', " "));
    let ack = wait_for(Duration::from_secs(30), || intercom.state().messages.into_iter().find(|m| m.to_contact == ada))
        .await
        .context("no acknowledgement reached Ada in Intercom within 30 s")?;
    println!("Intercom   {} from Bridge Bot to Ada: {}", ack.message_type, ack.subject.unwrap_or_default());
    println!("           {}", bridge_domain::text::html_to_text(&ack.body).replace('\n', " "));

    // Before the CSAT scene: that one switches the simulators' webhooks off.
    step("Profile sync (job 2): a plan change in Intercom, a phone change in Zendesk");
    bridge_e2e::profiles_demo::scene(&intercom, &zendesk, &ada, "ada@acme.example", zoe)
        .await
        .context("the profile scene (see target/demo/bridge-serve.log)")?;

    step("CSAT report for the simulators' last 14 days (job 7): bridge report csat");
    let dashboard = bridge_e2e::csat::demo_scene(&intercom, &zendesk, &agent, &ada, &bridge_bin, &env, &work)?;
    println!("dashboard  {}", dashboard.display());
    let rows = sheets.values(bridge_e2e::templates::SPREADSHEET_ID, "CsatCustom").len();
    println!("Sheets     range CsatCustom of the template's spreadsheet: {rows} rows");

    step("Stopping everything");
    drop(serve);
    intercom.set_webhook_target(None);
    zendesk.set_webhook_target(None);
    drop(intercom);
    drop(zendesk);
    drop(moto);
    println!("done: bridge serve, the simulators and moto are stopped.");
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_healthy(url: &str) -> anyhow::Result<()> {
    let client = bridge_sim::http_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("bridge serve did not become healthy (see target/demo/bridge-serve.log)")
}

async fn wait_for<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(v) = probe() {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
