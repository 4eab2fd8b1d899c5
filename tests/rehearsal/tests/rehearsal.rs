#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The stack rehearsal's scenarios: each deploys `infra/template.yaml` on moto, drives the
//! deployed shape (each function as its own processes with its template environment and role,
//! the HTTP API, the SQS event source mappings, the schedules) against the simulators, asserts
//! the effects on both vendors and in the table, and fails on any call AWS would refuse, naming
//! the function, the action and the resource.

use std::time::Duration;

use bridge_domain::event::{Actor, Kind, QueuedEvent, Vendor};
use bridge_domain::ids::{ConversationId, TicketId};
use bridge_domain::keys::DocKey;
use bridge_domain::model::AuthorRole;
use bridge_domain::model::Timestamp;
use bridge_domain::ports::Store as _;
use bridge_domain::routing::JobKind;
use bridge_e2e::{eventually, settle};
use bridge_rehearsal::{Options, Rehearsal, SecretSetup};
use bridge_runtime::driver::DeadLetter;
use bridge_sim::common::Faults;
use bridge_sim::zendesk::{UserInput, ZendeskSimOptions};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(45);
const QUIET: Duration = Duration::from_millis(1500);

async fn start(options: Options) -> Rehearsal {
    match Rehearsal::start(options).await {
        Ok(r) => r,
        Err(e) => panic!("the rehearsal did not start: {e:#}"),
    }
}

/// Fails with the functions' last log lines and every refused call when the scenario failed or
/// AWS would have refused anything.
fn check(r: &Rehearsal, scenario: anyhow::Result<()>) {
    if let Err(e) = scenario.and_then(|()| r.assert_no_refusals()).and_then(|()| r.check_lessons()) {
        panic!("{e:#}\n{}", r.diagnostics());
    }
}

/// Deploys with `options`, runs `scenario`, then checks it (see [`check`]).
async fn rehearse(options: Options, scenario: impl AsyncFnOnce(&Rehearsal) -> anyhow::Result<()>) {
    let r = start(options).await;
    let outcome = scenario(&r).await;
    check(&r, outcome);
}

fn sim<T, E: std::fmt::Debug>(r: Result<T, E>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("simulator: {e:?}"))
}

fn tickets(r: &Rehearsal) -> Vec<Value> {
    r.zendesk.dump()["tickets"].as_array().cloned().unwrap_or_default()
}

fn ticket_of(r: &Rehearsal, conversation: &str) -> Option<Value> {
    let ext = format!("intercom-conversation-{conversation}");
    tickets(r).into_iter().filter(|t| t["external_id"].as_str() == Some(ext.as_str())).max_by_key(|t| t["id"].as_u64())
}

/// Waits until nothing new reaches either simulator.
async fn quiet(r: &Rehearsal) -> anyhow::Result<()> {
    settle(QUIET, WAIT, || {
        (
            r.intercom.gate().recorder.all().len(),
            r.zendesk.exchanges().len(),
            r.intercom.notifications().len(),
            r.zendesk.sent_webhooks().len(),
        )
    })
    .await?;
    Ok(())
}

/// A customer conversation tagged `escalate`: the ticket, the link and the write-back.
async fn escalated(r: &Rehearsal, body: &str) -> anyhow::Result<(String, u64)> {
    let conv = sim(r.intercom.customer_starts_conversation(&r.seeded.customer, body))?;
    sim(r.intercom.admin_tags(&conv, &r.seeded.agent, "escalate"))?;
    eventually(WAIT, "the escalated ticket", || ticket_of(r, &conv).is_some()).await?;
    let noted = || {
        r.intercom.conversation(&conv).is_some_and(|c| {
            c.parts.iter().any(|p| p.part_type == "note" && p.author.id == r.seeded.bot_admin)
                && c.custom_attributes.contains_key("zendesk_ticket_id")
        })
    };
    eventually(WAIT, "the write-back (attribute and note)", noted).await?;
    quiet(r).await?;
    let id = ticket_of(r, &conv).and_then(|t| t["id"].as_u64()).ok_or_else(|| anyhow::anyhow!("no ticket id"))?;
    Ok((conv, id))
}

/// Contacts the backfill scenario imports into Intercom only: more than one page of 100.
const BACKFILLED: usize = 120;

/// A document of the table, as JSON (administrator's read).
async fn doc(r: &Rehearsal, key: &DocKey) -> anyhow::Result<Option<Value>> {
    let store = bridge_aws::DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(r.admin_sdk()), r.table());
    Ok(store.load::<Value>(key).await?.map(|d| d.value))
}

/// The Zendesk user with this email.
fn zendesk_user(r: &Rehearsal, email: &str) -> Option<Value> {
    let users = r.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
    users.into_iter().find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
}

/// Every item of the table, each as one string (administrator's read).
async fn table_items(r: &Rehearsal) -> anyhow::Result<Vec<String>> {
    let ddb = bridge_aws::sdk::dynamodb::Client::new(r.admin_sdk());
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = ddb.scan().table_name(r.table()).set_exclusive_start_key(start.take()).send().await?;
        out.extend(page.items().iter().map(|i| format!("{i:?}")));
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    Ok(out)
}

/// Waits until no item of the table contains any of `needles` (the ids and email of an erased
/// person); fails listing the items that still do.
async fn until_forgotten(r: &Rehearsal, needles: &[String]) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left: Vec<String> =
            table_items(r).await?.into_iter().filter(|i| needles.iter().any(|n| i.contains(n.as_str()))).collect();
        if left.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "records of the person remain: {left:#?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn bot_parts(r: &Rehearsal, conv: &str, part_type: &str, text: &str) -> usize {
    r.intercom
        .conversation(conv)
        .map(|c| {
            c.parts
                .iter()
                .filter(|p| p.part_type == part_type && p.author.id == r.seeded.bot_admin)
                .filter(|p| p.body.as_deref().unwrap_or("").contains(text))
                .count()
        })
        .unwrap_or(0)
}

/// Waits until the dead letters of `job` satisfy `check`.
async fn until_letters(
    r: &Rehearsal,
    job: JobKind,
    what: &str,
    check: impl Fn(&[bridge_aws::ReceivedMessage]) -> bool,
) -> anyhow::Result<()> {
    let dlq = r.admin_queue();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if check(&dlq.peek_dead_letters(job, 100).await?) {
            return Ok(());
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Signs `body` with `secret` as a Zendesk webhook and posts it to the HTTP API.
async fn post_zendesk(r: &Rehearsal, secret: &str, body: &Value) -> anyhow::Result<u16> {
    Ok(bridge_e2e::post_zendesk_signed(r.api_url(), secret, &body.to_string().into_bytes()).await?.0)
}

/// Posts a signed `conversation_part.tag.created` (tag `escalate`) for a conversation that does
/// not exist: escalate cannot process it (a poison message). Answers the real conversation it was
/// copied from (tagged, with Intercom's webhooks off) and that conversation's tag notification.
async fn post_poison(r: &Rehearsal) -> anyhow::Result<(String, String)> {
    let conv = sim(r.intercom.customer_starts_conversation(&r.seeded.customer, "<p>Real one</p>"))?;
    quiet(r).await?;
    r.intercom.set_webhook_target(None);
    sim(r.intercom.admin_tags(&conv, &r.seeded.agent, "escalate"))?;
    let tag = r.intercom.notifications().into_iter().rev().find(|n| n.topic == "conversation_part.tag.created");
    let tag = tag.ok_or_else(|| anyhow::anyhow!("no tag notification"))?;
    let poison = tag.raw.replace(&conv, "999999999999").replace("\"notif_", "\"notif_poison_");
    let (status, _) =
        bridge_e2e::post_intercom(r.api_url(), &r.intercom.client_secret(), poison.as_bytes(), None).await?;
    anyhow::ensure!(status == 200, "poison webhook answered {status}");
    Ok((conv, tag.raw))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn escalation_status_and_tags_run_through_the_deployed_stack() {
    rehearse(Options::default(), async |r| {
        // Job 1: tag -> ticket -> write-back; the link is in the table.
        let (conv, ticket) = escalated(r, "<p>The CSV export fails</p>").await?;
        let t = r.zendesk.ticket(ticket).unwrap_or_default();
        anyhow::ensure!(t["group_id"].as_u64() == Some(r.seeded.tier2_group), "routed to Tier 2: {t}");
        let items = table_items(r).await?;
        let conversation_half = bridge_aws::conversation_key(&ConversationId::parse(conv.as_str())?);
        let ticket_half = bridge_aws::ticket_key(TicketId::new(ticket)?);
        anyhow::ensure!(items.iter().any(|i| i.contains(&conversation_half)), "the link's conversation half");
        anyhow::ensure!(items.iter().any(|i| i.contains(&ticket_half)), "the link's ticket half");

        // What a second escalation costs on the Lambda path, from the tag to the write-back
        // (the requester is known now): one queue send, one store read, two store writes,
        // plus the event source mapping's receive and delete, one each per batch.
        let second = sim(r.intercom.customer_starts_conversation(&r.seeded.customer, "<p>Still failing</p>"))?;
        quiet(r).await?;
        let before = r.calls().len();
        let log_bytes =
            |f: &str| -> anyhow::Result<usize> { Ok(r.function(f)?.logs().iter().map(|l| l.len() + 1).sum()) };
        let logs_before = log_bytes("IntercomWebhookFunction")? + log_bytes("EscalateFunction")?;
        sim(r.intercom.admin_tags(&second, &r.seeded.agent, "escalate"))?;
        eventually(WAIT, "the second write-back", || {
            r.intercom.conversation(&second).is_some_and(|c| c.custom_attributes.contains_key("zendesk_ticket_id"))
        })
        .await?;
        quiet(r).await?;
        let calls: Vec<_> = r.calls().into_iter().skip(before).collect();
        let escalate_queue = r.resource_ref("EscalateQueue");
        let sends = calls
            .iter()
            .filter(|c| {
                c.operation == "SendMessage" && escalate_queue.ends_with(c.resource.rsplit(':').next().unwrap_or(""))
            })
            .count();
        let store: Vec<&str> = calls
            .iter()
            .filter(|c| c.principal == "EscalateFunction" && c.action.starts_with("dynamodb:"))
            .map(|c| c.operation.as_str())
            .collect();
        let writes = store.iter().filter(|op| !matches!(**op, "GetItem" | "BatchGetItem" | "Query" | "Scan")).count();
        let logs = log_bytes("IntercomWebhookFunction")? + log_bytes("EscalateFunction")? - logs_before;
        // DynamoDB bills by item size: attribute names and values (rounded up per KB).
        let items = table_items(r).await?;
        let sizes: Vec<usize> = items.iter().filter(|i| i.contains(second.as_str())).map(String::len).collect();
        eprintln!(
            "an escalation on the Lambda path: {sends} send(s) to the escalate queue, store requests {store:?}, \
             {logs} log bytes (ingress + worker, metrics included), items naming the conversation (debug-printed \
             sizes, an upper bound): {sizes:?}"
        );
        anyhow::ensure!(sends == 1, "one send to the escalate queue (the bot's own note is not queued): {sends}");
        anyhow::ensure!(
            store.len() <= 3 && writes <= 2,
            "store requests of an escalation: {store:?} (at most one read and two writes)"
        );

        // Job 4: a tag added in Intercom reaches the ticket; one added in Zendesk reaches the
        // conversation.
        sim(r.intercom.admin_tags(&conv, &r.seeded.agent, "VIP"))?;
        let has_tag = |tag: &str| {
            r.zendesk.ticket(ticket).is_some_and(|t| t["tags"].as_array().is_some_and(|a| a.iter().any(|x| x == tag)))
        };
        eventually(WAIT, "vip_customer on the ticket", || has_tag("vip_customer")).await?;
        sim(r.zendesk.agent_tags(r.seeded.zendesk_agent, ticket, &["needs_review".into()], &[]))?;
        eventually(WAIT, "needs_review on the conversation", || {
            r.intercom.conversation_tags(&conv).iter().any(|t| t == "needs_review")
        })
        .await?;
        quiet(r).await?;

        // Job 3: solved in Zendesk -> the customer is told and the conversation closed.
        sim(r.zendesk.set_status(r.seeded.zendesk_agent, ticket, "solved"))?;
        eventually(WAIT, "the solved reply and the close", || {
            bot_parts(r, &conv, "close", &format!("#{ticket} was solved")) == 1
                && r.intercom.conversation(&conv).is_some_and(|c| c.state == "closed")
        })
        .await?;
        quiet(r).await?;
        anyhow::ensure!(bot_parts(r, &conv, "close", "was solved") == 1, "told once");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn new_tickets_are_routed_and_acknowledged_from_both_zendesk_webhooks() {
    let options = Options { params: vec![("ZendeskTriggerWebhook".into(), "enabled".into())], ..Options::default() };
    rehearse(options, async |r| {
        let requester = sim(r.zendesk.add_user(UserInput {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@acme.example".into()),
            external_id: Some("cust-1".into()),
            ..UserInput::default()
        }))?;
        quiet(r).await?;
        let messages = || r.intercom.state().messages;
        let routed =
            |id: u64| r.zendesk.ticket(id).is_some_and(|t| t["group_id"].as_u64() == Some(r.extra.enterprise_group));

        // The event-subscribed webhook (ticket.created).
        let web = sim(r.zendesk.submit_ticket(requester, "CSV export fails", "The button errors out.", "web"))?;
        eventually(WAIT, "routing and acknowledgement", || routed(web) && messages().len() == 1).await?;
        quiet(r).await?;

        // The trigger-connected webhook: another webhook, signed with its own secret. The
        // simulator's deliveries are captured (sent nowhere) and the trigger body posted here.
        r.zendesk.set_webhook_target(Some("http://127.0.0.1:9/nowhere".into()));
        let before = r.zendesk.sent_webhooks().len();
        r.zendesk.set_trigger_webhooks(true);
        let mail = sim(r.zendesk.submit_ticket(requester, "Email bounce", "Mail to you bounces.", "email"))?;
        eventually(WAIT, "the trigger body", || {
            r.zendesk.sent_webhooks()[before..]
                .iter()
                .any(|w| w.topic == "trigger" && w.body["kind"] == "ticket_created")
        })
        .await?;
        let trigger = r.zendesk.sent_webhooks()[before..]
            .iter()
            .find(|w| w.topic == "trigger" && w.body["kind"] == "ticket_created")
            .map(|w| w.body.clone())
            .unwrap_or_default();
        r.zendesk.set_trigger_webhooks(false);
        r.zendesk.set_webhook_target(Some(format!("{}/webhooks/zendesk", r.api_url())));
        let status = post_zendesk(r, &ZendeskSimOptions::default().trigger_webhook_secret, &trigger).await?;
        anyhow::ensure!(status == 200, "the trigger webhook was answered {status}");
        eventually(WAIT, "routing and acknowledgement of the email ticket", || routed(mail) && messages().len() == 2)
            .await?;
        quiet(r).await?;
        anyhow::ensure!(messages().len() == 2, "one acknowledgement per ticket: {:?}", messages());
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn profiles_reconcile_backfill_and_the_csat_report_run_on_their_schedules() {
    rehearse(Options::default(), async |r| {
        // Job 2, both ways, from the webhooks.
        bridge_e2e::profiles_demo::scene(
            &r.intercom,
            &r.zendesk,
            &r.seeded.customer,
            "ada@acme.example",
            r.seeded.zendesk_agent,
        )
        .await?;
        quiet(r).await?;

        // The schedules EventBridge Scheduler would fire, with their roles and inputs.
        // Reconcile: Ada's plan changes in Intercom while Intercom delivers no webhook; the
        // Zendesk user and the pair's state in the table keep the old plan until the schedule
        // runs, then both have the new one.
        let ada = r.seeded.customer.clone();
        let pair = DocKey::Profile { side: Vendor::Intercom, kind: Kind::Person, id: ada.clone() };
        // The plan both sides last agreed on, as the pair state keeps it (typed: `s:<text>`).
        let agreed_plan = async || -> anyhow::Result<Value> {
            let state = doc(r, &pair).await?.ok_or_else(|| anyhow::anyhow!("no pair state for {ada}"))?;
            Ok(state["baseline"]["custom_attributes.plan"].clone())
        };
        r.intercom.set_faults(Faults { drop_webhooks_percent: 100, ..Faults::default() });
        sim(r.intercom.edit_contact(&ada, json!({"custom_attributes": {"plan": "enterprise"}})))?;
        r.intercom.set_faults(Faults::default());
        quiet(r).await?;
        let plan_in_zendesk = || zendesk_user(r, "ada@acme.example").map(|u| u["user_fields"]["plan"].clone());
        anyhow::ensure!(plan_in_zendesk() == Some(json!("pro")), "the webhook was lost: {:?}", plan_in_zendesk());
        anyhow::ensure!(agreed_plan().await? == "s:pro", "the table before reconcile: {}", agreed_plan().await?);
        let reconcile = r.run_schedule("ProfileSyncFunctionReconcile").await?;
        anyhow::ensure!(
            reconcile["failed"] == 0 && reconcile["repaired"].as_u64() >= Some(1),
            "reconcile: {reconcile}"
        );
        anyhow::ensure!(plan_in_zendesk() == Some(json!("enterprise")), "repaired: {:?}", plan_in_zendesk());
        anyhow::ensure!(agreed_plan().await? == "s:enterprise", "the table after reconcile: {}", agreed_plan().await?);
        for (side, kind) in [(Vendor::Intercom, Kind::Person), (Vendor::Zendesk, Kind::Person)] {
            let cursor = doc(r, &DocKey::ProfileCursor { side, kind }).await?;
            anyhow::ensure!(cursor.is_some_and(|c| c["since"].is_i64()), "the reconcile cursor of {side:?}");
        }
        quiet(r).await?;
        // A new Zendesk user field nothing maps: the drift run reports it to the SNS topic.
        r.zendesk.add_user_field("seats", "Seats", "integer");
        let drift = r.run_schedule("ProfileSyncFunctionDrift").await?;
        anyhow::ensure!(drift["published"] == true, "drift published: {drift}");

        // Backfill: contacts only Intercom has (imported, no webhook). The operator starts the
        // backfill and stops it after one page; the backfill-continue schedule finishes it.
        let idle = r.run_schedule("ProfileSyncFunctionBackfillContinue").await?;
        anyhow::ensure!(idle["end"] == "idle", "nothing to continue yet: {idle}");
        let imported: Vec<String> = (0..BACKFILLED).map(|i| format!("bf{i}@example.test")).collect();
        let ids = sim(r.intercom.seed_contacts(
            imported
                .iter()
                .enumerate()
                .map(|(i, email)| bridge_sim::intercom::state::Contact {
                    role: "user".into(),
                    email: Some(email.clone()),
                    name: Some(format!("Backfill Person {i}")),
                    custom_attributes: [("plan".to_string(), json!(["free", "pro"][i % 2]))].into_iter().collect(),
                    ..Default::default()
                })
                .collect(),
        ))?;
        anyhow::ensure!(imported.iter().all(|e| zendesk_user(r, e).is_none()), "no Zendesk user before the backfill");
        let (ok, out, err) = r.bridge(&["backfill", "profiles", "--max-pages", "1"], "").await?;
        anyhow::ensure!(ok && out.contains("backfill paused"), "bridge backfill profiles:\n{out}\n{err}");
        let state = doc(r, &DocKey::ProfileBackfill).await?.unwrap_or_default();
        anyhow::ensure!(state["done"] == false && state["pages"] == 1, "the paused backfill's state: {state}");
        let continued = r.run_schedule("ProfileSyncFunctionBackfillContinue").await?;
        anyhow::ensure!(
            continued["end"] == "finished" && continued["failed"] == 0 && continued["pending_jobs"] == 0,
            "continue: {continued}"
        );
        for (i, (email, id)) in imported.iter().zip(&ids).enumerate() {
            let user = zendesk_user(r, email).ok_or_else(|| anyhow::anyhow!("no Zendesk user for {email}"))?;
            anyhow::ensure!(
                user["user_fields"]["plan"] == ["free", "pro"][i % 2]
                    && user["user_fields"]["intercom_contact_id"] == *id,
                "the backfilled user of {email}: {user}"
            );
        }
        let state = doc(r, &DocKey::ProfileBackfill).await?.unwrap_or_default();
        anyhow::ensure!(
            state["done"] == true
                && state["pages"] == 2
                && state["written"].as_u64() >= Some(BACKFILLED as u64)
                && state["failed"] == 0,
            "the finished backfill's state in the table: {state}"
        );
        let after = r.run_schedule("ProfileSyncFunctionBackfillContinue").await?;
        anyhow::ensure!(after["end"] == "idle", "nothing left to continue: {after}");

        // Job 7: yesterday's report written to the reports bucket.
        let report = r.run_schedule("CsatReportFunctionDaily").await?;
        anyhow::ensure!(report["period"].is_string() || report.is_object(), "csat: {report}");
        let s3 = bridge_aws::sdk::s3::Client::from_conf(
            bridge_aws::sdk::s3::config::Builder::from(r.admin_sdk()).force_path_style(true).build(),
        );
        let listed = s3.list_objects_v2().bucket(r.resource_ref("ReportsBucket")).prefix("csat/").send().await?;
        let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        anyhow::ensure!(keys.iter().any(|k| k.ends_with(".csv")), "CSV objects: {keys:?}");
        anyhow::ensure!(keys.iter().any(|k| k.ends_with(".parquet")), "Parquet objects: {keys:?}");
        anyhow::ensure!(keys.iter().any(|k| k.contains("dashboard")), "the dashboard: {keys:?}");
        Ok(())
    })
    .await;
}

/// A dead letter for `job` about `event`, as the workers write them.
fn envelope(job: JobKind, event: &QueuedEvent, reason: &str) -> String {
    let letter = DeadLetter {
        job,
        reason: reason.into(),
        attempts: 5,
        failed_at: chrono::Utc::now().to_rfc3339(),
        body: serde_json::to_string(event).unwrap(),
    };
    serde_json::to_string(&letter).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_letters_from_the_workers_and_from_redrive_are_listed_and_replayed_by_the_operator() {
    rehearse(Options::default(), async |r| {
        // A poison message: a signed tag webhook for a conversation that does not exist. The
        // worker dead-letters it itself (permanent failure).
        let (conv, tag) = post_poison(r).await?;
        until_letters(r, JobKind::Escalate, "the poison message in the escalate DLQ", |l| l.len() == 1).await?;
        let dlq = r.admin_queue();

        // A letter from an outage that outlasted the retries, about a real tagged conversation:
        // replaying it now creates the ticket.
        let event = QueuedEvent {
            vendor: bridge_domain::event::Vendor::Intercom,
            delivery_id: "outage-1".into(),
            topic: "conversation_part.tag.created".into(),
            entity: format!("conversation:{conv}").parse().unwrap(),
            received_at: Timestamp(chrono::Utc::now().timestamp()),
            payload: serde_json::from_str(&tag)?,
            actors: vec![Actor::Intercom { role: AuthorRole::Admin, id: r.seeded.agent.clone() }],
            trace_id: None,
        };
        let letter = envelope(JobKind::Escalate, &event, "intercom: temporarily unavailable");
        dlq.send_dead_letter(JobKind::Escalate, &event.entity.to_string(), &letter).await?;

        // The operator lists and replays with their own credentials.
        let (ok, out, err) = r.bridge(&["dlq", "list"], "").await?;
        anyhow::ensure!(ok, "bridge dlq list failed: {err}");
        anyhow::ensure!(out.contains("escalate: 2 dead letter(s)"), "dlq list:\n{out}\n{err}");
        anyhow::ensure!(out.contains("conversation:999999999999") && out.contains("not found"), "the reason:\n{out}");
        let (ok, out, err) = r.bridge(&["dlq", "replay", "--job", "escalate", "--yes"], "").await?;
        anyhow::ensure!(ok, "bridge dlq replay failed: {out}\n{err}");
        anyhow::ensure!(out.contains("1 replayed, 1 left in the DLQ"), "dlq replay:\n{out}\n{err}");
        eventually(WAIT, "the replayed escalation's ticket", || ticket_of(r, &conv).is_some()).await?;
        let left = dlq.peek_dead_letters(JobKind::Escalate, 10).await?;
        anyhow::ensure!(left.len() == 1 && left[0].body.contains("999999999999"), "the poison stays");

        // An outage: the message fails on every receive until SQS moves it to the DLQ after the
        // queue's maxReceiveCount (5), as the template's redrive policy says.
        r.intercom.set_webhook_target(Some(format!("{}/webhooks/intercom", r.api_url())));
        let stuck = sim(r.intercom.customer_starts_conversation(&r.seeded.customer, "<p>During the outage</p>"))?;
        *bridge_sim::common::lock(&r.intercom.gate().faults) =
            bridge_sim::Faults { fail_next: 10_000, ..Default::default() };
        sim(r.intercom.admin_tags(&stuck, &r.seeded.agent, "escalate"))?;
        // Moved by SQS: the raw queued event, not a worker's envelope with a reason.
        let redriven = |l: &[bridge_aws::ReceivedMessage]| {
            l.iter().any(|m| m.body.contains(&stuck) && !m.body.contains("\"reason\""))
        };
        let mut moved = false;
        for _ in 0..15 {
            if redriven(&dlq.peek_dead_letters(JobKind::Escalate, 100).await?) {
                moved = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1500)).await;
            r.expire_in_flight("EscalateFunction").await;
        }
        *bridge_sim::common::lock(&r.intercom.gate().faults) = bridge_sim::Faults::default();
        anyhow::ensure!(moved, "the failing message was not moved to the DLQ by the redrive policy");
        let (ok, out, err) = r.bridge(&["dlq", "list", "--job", "escalate"], "").await?;
        anyhow::ensure!(
            ok && out.contains("moved by SQS after the queue's maximum receives"),
            "dlq list:\n{out}\n{err}"
        );

        // A message no worker can read, on every worker's queue: each dead-letters it itself.
        for job in JobKind::ALL {
            let url = &r.queue_urls()[&job].queue;
            bridge_aws::sdk::sqs::Client::new(r.admin_sdk())
                .send_message()
                .queue_url(url)
                .message_body("{not a queued event")
                .message_group_id("garbage")
                .message_deduplication_id(format!("garbage-{}", job.as_str()))
                .send()
                .await?;
        }
        for job in JobKind::ALL {
            until_letters(r, job, &format!("the garbage message in the {} DLQ", job.as_str()), |l| {
                l.iter().any(|m| m.body.contains("not a queued event"))
            })
            .await?;
        }

        // The operator's commands looked the queues up and changed nothing.
        let operator: Vec<String> =
            r.calls().into_iter().filter(|c| c.principal == "operator").map(|c| c.action).collect();
        for forbidden in ["sqs:CreateQueue", "sqs:SetQueueAttributes"] {
            anyhow::ensure!(!operator.iter().any(|a| a == forbidden), "the operator's bridge called {forbidden}");
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erasure_from_each_side_reaches_the_other_side_the_table_and_every_dead_letter_queue() {
    rehearse(Options::default(), async |r| {
        let contact = r.seeded.customer.clone();
        let (_conv, ticket) = escalated(r, "<p>Please help</p>").await?;
        let requester =
            tickets(r).into_iter().find(|t| t["id"].as_u64() == Some(ticket)).and_then(|t| t["requester_id"].as_u64());
        let requester = requester.ok_or_else(|| anyhow::anyhow!("the ticket has no requester"))?;

        // Dead letters about the person in another job's DLQ, and one about someone else.
        let dlq = r.admin_queue();
        let event = |entity: &str, requester: u64| QueuedEvent {
            vendor: bridge_domain::event::Vendor::Zendesk,
            delivery_id: format!("dl-{entity}"),
            topic: "zen:event-type:ticket.comment_added".into(),
            entity: entity.parse().unwrap(),
            received_at: Timestamp(1),
            payload: json!({"detail": {"requester_id": requester.to_string()}}),
            actors: Vec::new(),
            trace_id: None,
        };
        let mine = envelope(JobKind::TicketStatus, &event(&format!("ticket:{ticket}"), requester), "test");
        let other = envelope(JobKind::TicketStatus, &event("ticket:424242", 424242), "test");
        dlq.send_dead_letter(JobKind::TicketStatus, "ticket:a", &mine).await?;
        dlq.send_dead_letter(JobKind::TicketStatus, "ticket:b", &other).await?;

        // Intercom side: the contact is deleted -> the linked Zendesk user is deleted, and the
        // bridge keeps nothing of the person.
        sim(r.intercom.delete_contact(&contact))?;
        let user_gone = || {
            let users = r.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
            !users.iter().any(|u| u["id"].as_u64() == Some(requester))
        };
        eventually(WAIT, "the Zendesk user deleted", user_gone).await?;
        // The store is purged last (after the dead letters), when the erasure run ends.
        until_forgotten(
            r,
            &[contact.clone(), "ada@acme.example".into(), format!("ZD#{requester}"), format!("user:{requester}")],
        )
        .await?;
        let letters = dlq.peek_dead_letters(JobKind::TicketStatus, 100).await?;
        let bodies: Vec<&str> = letters.iter().map(|m| m.body.as_str()).collect();
        anyhow::ensure!(bodies == [other.as_str()], "only the unrelated dead letter stays: {bodies:?}");

        // Zendesk side: a user linked to an Intercom contact is deleted -> the contact is
        // redacted.
        let grace = sim(r.intercom.seed_contact(bridge_sim::intercom::state::Contact {
            role: "user".into(),
            external_id: Some("cust-2".into()),
            email: Some("grace@acme.example".into()),
            name: Some("Grace Hopper".into()),
            ..Default::default()
        }))?;
        let conv = sim(r.intercom.customer_starts_conversation(&grace, "<p>Hello</p>"))?;
        sim(r.intercom.admin_tags(&conv, &r.seeded.agent, "escalate"))?;
        eventually(WAIT, "Grace's ticket", || ticket_of(r, &conv).is_some()).await?;
        quiet(r).await?;
        let user = ticket_of(r, &conv).and_then(|t| t["requester_id"].as_u64()).unwrap_or_default();
        let deleted = json!({
            "type": "zen:event-type:user.deleted",
            "account_id": 1,
            "id": uuid::Uuid::new_v4().to_string(),
            "time": chrono::Utc::now().to_rfc3339(),
            "zendesk_event_version": "2022-11-06",
            "subject": format!("zen:user:{user}"),
            "detail": {"id": user.to_string(), "role": "END_USER"},
            "event": {},
        });
        let status = post_zendesk(r, &ZendeskSimOptions::default().webhook_secret, &deleted).await?;
        anyhow::ensure!(status == 200, "user.deleted answered {status}");
        eventually(WAIT, "the Intercom contact redacted", || {
            r.intercom.contact(&grace).is_some_and(|c| c.name.as_deref() != Some("Grace Hopper"))
        })
        .await?;
        // ... and the bridge keeps nothing of her: not her contact, email, or Zendesk user.
        quiet(r).await?;
        until_forgotten(r, &[grace.clone(), "grace@acme.example".into(), format!("ZD#{user}"), format!("user:{user}")])
            .await?;
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
async fn a_missing_role_statement_or_variable_is_named_with_the_function_and_the_call() {
    // The escalate role without its grant to send to its own DLQ.
    let without_dlq = |t: String| {
        let statement = "            - Sid: DeadLetterEscalate\n              Effect: Allow\n              Action: sqs:SendMessage\n              Resource: !GetAtt EscalateDlq.Arn\n";
        assert!(t.contains(statement), "the template's DeadLetterEscalate statement changed shape");
        t.replace(statement, "")
    };
    let r = start(Options { edit_template: Some(Box::new(without_dlq)), ..Options::default() }).await;
    let poison = async {
        post_poison(&r).await?;
        eventually(WAIT, "a refusal", || !r.refusals().is_empty()).await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = poison {
        panic!("{e:#}\n{}", r.diagnostics());
    }
    let refusals = r.refusals().join("\n");
    assert!(
        refusals.contains("EscalateFunction: sqs:SendMessage on EscalateDlq"),
        "the refusal names the function, action and resource: {refusals}"
    );

    // The workers without BRIDGE_TABLE: the function cannot start, and says which variable.
    let without_table = |t: String| t.replace("        BRIDGE_TABLE: !Ref Table\n", "");
    let r = start(Options { edit_template: Some(Box::new(without_table)), ..Options::default() }).await;
    let outcome = r.invoke("TagSyncFunction", &json!({"Records": []})).await.unwrap();
    let text = format!("{outcome:?}");
    assert!(matches!(outcome, bridge_rehearsal::lambda::Outcome::InitFailed(_)), "{text}");
    assert!(text.contains("BRIDGE_TABLE"), "the init failure names the variable: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn profile_sync_without_a_jobs_queue_url_refuses_to_start_naming_the_function_and_the_variable() {
    // profile-sync's environment without BRIDGE_QUEUE_URL_TICKET_STATUS: GDPR erasure would
    // skip the ticket-status DLQ, so the function must not start (the other functions that have
    // the variable keep it).
    let without = |t: String| {
        let tail = "          BRIDGE_QUEUE_URL_TAG_SYNC: !Ref TagSyncQueue\n          BRIDGE_DRIFT_TOPIC_ARN:";
        let block = format!("          BRIDGE_QUEUE_URL_TICKET_STATUS: !Ref TicketStatusQueue\n{tail}");
        assert_eq!(t.matches(&block).count(), 1, "profile-sync's queue variables changed shape");
        t.replace(&block, tail)
    };
    let r = start(Options { edit_template: Some(Box::new(without)), ..Options::default() }).await;
    let env = &r.manifest.functions["ProfileSyncFunction"].environment;
    assert!(!env.contains_key("BRIDGE_QUEUE_URL_TICKET_STATUS") && env.contains_key("BRIDGE_QUEUE_URL_TAG_SYNC"));
    assert!(r.manifest.functions["TicketStatusFunction"].environment.contains_key("BRIDGE_QUEUE_URL_TICKET_STATUS"));
    let outcome = r.invoke("ProfileSyncFunction", &json!({"action": "reconcile"})).await.unwrap();
    let text = format!("{outcome:?}");
    assert!(matches!(outcome, bridge_rehearsal::lambda::Outcome::InitFailed(_)), "{text}");
    assert!(
        text.contains("ProfileSyncFunction") && text.contains("BRIDGE_QUEUE_URL_TICKET_STATUS"),
        "the init failure names the function and the variable: {text}"
    );
}

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
async fn lost_webhooks_are_repaired_by_the_sweep_schedules_and_by_the_operator() {
    let drop_all = || Faults { drop_webhooks_percent: 100, ..Faults::default() };
    rehearse(Options::default(), async |r| {
        // Intercom loses the tag's webhook: the escalate function's sweep schedule escalates.
        r.intercom.set_faults(drop_all());
        let conv = sim(r.intercom.customer_starts_conversation(&r.seeded.customer, "<p>Lost in transit</p>"))?;
        sim(r.intercom.admin_tags(&conv, &r.seeded.agent, "escalate"))?;
        r.intercom.set_faults(Faults::default());
        let sweep = r.run_schedule("EscalateFunctionSweep").await?;
        let ticket = ticket_of(r, &conv).ok_or_else(|| anyhow::anyhow!("not escalated by the sweep: {sweep}"))?;
        anyhow::ensure!(sweep["repaired"]["conversation"] == 1, "one repair reported: {sweep}");
        let ticket = ticket["id"].as_u64().unwrap_or_default();
        quiet(r).await?;

        // Zendesk loses the solve's webhook: the operator's `bridge reconcile all` tells the
        // customer, once.
        r.zendesk.set_faults(drop_all());
        sim(r.zendesk.set_status(r.seeded.zendesk_agent, ticket, "solved"))?;
        r.zendesk.set_faults(Faults::default());
        let (ok, out, err) = r.bridge(&["reconcile", "all"], "").await?;
        anyhow::ensure!(ok, "reconcile all:\n{out}\n{err}");
        for job in ["escalate:", "ticket-status:", "tag-sync:", "ticket-intake:"] {
            anyhow::ensure!(out.contains(job), "reconcile all lacks {job}:\n{out}");
        }
        anyhow::ensure!(out.contains(&format!("repaired ticket:{ticket}")), "the solve repaired:\n{out}");
        eventually(WAIT, "the solved reply", || bot_parts(r, &conv, "close", "was solved") == 1).await?;
        quiet(r).await?;

        // Every sweep schedule runs with its role; with nothing lost they repair nothing.
        for schedule in
            ["EscalateFunctionSweep", "TicketStatusFunctionSweep", "TagSyncFunctionSweep", "TicketIntakeFunctionSweep"]
        {
            let out = r.run_schedule(schedule).await?;
            anyhow::ensure!(out.get("failed").is_none_or(|f| f == 0), "{schedule}: {out}");
            anyhow::ensure!(
                out.get("repaired").is_none_or(|m| m.as_object().is_some_and(|m| m.is_empty())),
                "{schedule}: {out}"
            );
        }
        anyhow::ensure!(bot_parts(r, &conv, "close", "was solved") == 1, "told once");
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
