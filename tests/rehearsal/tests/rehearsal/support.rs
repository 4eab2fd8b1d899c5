//! What the scenarios share: starting and checking a rehearsal, waiting for the simulators to
//! settle, and reading the vendors, the table and the dead-letter queues.

use std::time::Duration;

use bridge_domain::event::QueuedEvent;
use bridge_domain::keys::DocKey;
use bridge_domain::ports::Store as _;
use bridge_domain::routing::JobKind;
use bridge_e2e::{eventually, settle};
use bridge_rehearsal::{Options, Rehearsal};
use bridge_runtime::driver::DeadLetter;
use serde_json::Value;

pub(crate) const WAIT: Duration = Duration::from_secs(45);
const QUIET: Duration = Duration::from_millis(1500);

pub(crate) async fn start(options: Options) -> Rehearsal {
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
pub(crate) async fn rehearse(options: Options, scenario: impl AsyncFnOnce(&Rehearsal) -> anyhow::Result<()>) {
    let r = start(options).await;
    let outcome = scenario(&r).await;
    check(&r, outcome);
}

pub(crate) fn sim<T, E: std::fmt::Debug>(r: Result<T, E>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("simulator: {e:?}"))
}

pub(crate) fn tickets(r: &Rehearsal) -> Vec<Value> {
    r.zendesk.dump()["tickets"].as_array().cloned().unwrap_or_default()
}

pub(crate) fn ticket_of(r: &Rehearsal, conversation: &str) -> Option<Value> {
    let ext = format!("intercom-conversation-{conversation}");
    tickets(r).into_iter().filter(|t| t["external_id"].as_str() == Some(ext.as_str())).max_by_key(|t| t["id"].as_u64())
}

/// Waits until nothing new reaches either simulator.
pub(crate) async fn quiet(r: &Rehearsal) -> anyhow::Result<()> {
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
pub(crate) async fn escalated(r: &Rehearsal, body: &str) -> anyhow::Result<(String, u64)> {
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

/// A document of the table, as JSON (administrator's read).
pub(crate) async fn doc(r: &Rehearsal, key: &DocKey) -> anyhow::Result<Option<Value>> {
    let store = bridge_aws::DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(r.admin_sdk()), r.table());
    Ok(store.load::<Value>(key).await?.map(|d| d.value))
}

/// The Zendesk user with this email.
pub(crate) fn zendesk_user(r: &Rehearsal, email: &str) -> Option<Value> {
    let users = r.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
    users.into_iter().find(|u| u["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
}

/// Every item of the table, each as one string (administrator's read).
pub(crate) async fn table_items(r: &Rehearsal) -> anyhow::Result<Vec<String>> {
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
pub(crate) async fn until_forgotten(r: &Rehearsal, needles: &[String]) -> anyhow::Result<()> {
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

pub(crate) fn bot_parts(r: &Rehearsal, conv: &str, part_type: &str, text: &str) -> usize {
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
pub(crate) async fn until_letters(
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
pub(crate) async fn post_zendesk(r: &Rehearsal, secret: &str, body: &Value) -> anyhow::Result<u16> {
    Ok(bridge_e2e::post_zendesk_signed(r.api_url(), secret, &body.to_string().into_bytes()).await?.0)
}

/// Posts a signed `conversation_part.tag.created` (tag `escalate`) for a conversation that does
/// not exist: escalate cannot process it (a poison message). Answers the real conversation it was
/// copied from (tagged, with Intercom's webhooks off) and that conversation's tag notification.
pub(crate) async fn post_poison(r: &Rehearsal) -> anyhow::Result<(String, String)> {
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

/// A dead letter for `job` about `event`, as the workers write them.
pub(crate) fn envelope(job: JobKind, event: &QueuedEvent, reason: &str) -> String {
    let letter = DeadLetter {
        job,
        reason: reason.into(),
        attempts: 5,
        failed_at: chrono::Utc::now().to_rfc3339(),
        body: serde_json::to_string(event).unwrap(),
    };
    serde_json::to_string(&letter).unwrap()
}
