//! Operator commands: `bridge dlq list|replay`, `bridge links show`, `bridge doctor`.

use anyhow::Context as _;
use bridge_aws::ReceivedMessage;
use bridge_domain::event::QueuedEvent;
use bridge_domain::ids::{ConversationId, TicketId};
use bridge_domain::ports::Store;
use bridge_domain::routing::JobKind;
use bridge_runtime::App;
use bridge_runtime::app::{aws_config, load_config};
use bridge_runtime::driver::{DeadLetter, Disposition, plan, process};
use bridge_runtime::settings::{ProcessEnv, WorkerSettings};

/// How many dead letters one command looks at, at most.
const MAX_LETTERS: usize = 1000;

async fn app() -> anyhow::Result<App> {
    let settings = WorkerSettings::from_env(&ProcessEnv)?;
    App::build(&settings, &aws_config().await).await
}

/// A dead letter as found on the queue: our envelope, or a raw event moved by SQS redrive.
struct Letter {
    message: ReceivedMessage,
    event: Option<QueuedEvent>,
    reason: String,
    attempts: u32,
    failed_at: String,
}

fn read_letter(message: ReceivedMessage) -> Letter {
    if let Ok(envelope) = serde_json::from_str::<DeadLetter>(&message.body) {
        return Letter {
            event: serde_json::from_str(&envelope.body).ok(),
            reason: envelope.reason,
            attempts: envelope.attempts,
            failed_at: envelope.failed_at,
            message,
        };
    }
    Letter {
        event: message.event().ok(),
        reason: "moved by SQS after the queue's maximum receives (transient failures)".into(),
        attempts: message.receive_count,
        failed_at: "-".into(),
        message,
    }
}

fn jobs(app: &App, job: Option<JobKind>) -> Vec<JobKind> {
    app.queue
        .urls()
        .iter()
        .filter(|(j, urls)| urls.dlq.is_some() && job.is_none_or(|x| x == **j))
        .map(|(j, _)| *j)
        .collect()
}

fn describe(letter: &Letter) -> String {
    match &letter.event {
        Some(e) => format!(
            "{} {} {} delivery={} attempts={} failed_at={} reason: {}",
            e.vendor, e.topic, e.entity, e.delivery_id, letter.attempts, letter.failed_at, letter.reason
        ),
        None => format!("(unreadable body) attempts={} reason: {}", letter.attempts, letter.reason),
    }
}

fn letter_json(letter: &Letter) -> serde_json::Value {
    let event = letter.event.as_ref();
    serde_json::json!({
        "message_id": letter.message.message_id,
        "vendor": event.map(|e| e.vendor.to_string()),
        "topic": event.map(|e| e.topic.clone()),
        "entity": event.map(|e| e.entity.to_string()),
        "delivery_id": event.map(|e| e.delivery_id.clone()),
        "attempts": letter.attempts,
        "failed_at": letter.failed_at,
        "reason": letter.reason,
    })
}

/// `bridge dlq list [--json]`.
pub async fn dlq_list(job: Option<JobKind>, json: bool) -> anyhow::Result<()> {
    let app = app().await?;
    let mut total = 0;
    let mut by_job = Vec::new();
    for job in jobs(&app, job) {
        let letters: Vec<Letter> =
            app.queue.peek_dead_letters(job, MAX_LETTERS).await?.into_iter().map(read_letter).collect();
        total += letters.len();
        if json {
            by_job.push(serde_json::json!({
                "job": job.as_str(),
                "letters": letters.iter().map(letter_json).collect::<Vec<_>>(),
            }));
            continue;
        }
        println!("{}: {} dead letter(s)", job.as_str(), letters.len());
        for letter in &letters {
            println!("  {}", describe(letter));
        }
    }
    match json {
        true => println!("{}", serde_json::json!({ "jobs": by_job, "total": total })),
        false => println!("{total} in all"),
    }
    Ok(())
}

/// Whether to go on with a replay: `--yes` or a dry run go on; otherwise the operator is asked
/// on a terminal (`ask`), and without one the replay is refused with what to do.
fn confirm_replay(
    letters: usize,
    yes: bool,
    dry_run: bool,
    terminal: bool,
    ask: impl FnOnce(&str) -> std::io::Result<String>,
) -> anyhow::Result<bool> {
    if yes || dry_run || letters == 0 {
        return Ok(true);
    }
    anyhow::ensure!(
        terminal,
        "dlq replay: {letters} dead letter(s) would be replayed for real, and there is no terminal to confirm \
         on; pass --yes to replay, or --dry-run to see the plans"
    );
    let answer = ask(&format!("Replay {letters} dead letter(s) for real? [y/N] "))?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Asks `question` on stderr and reads one line of stdin.
fn ask_on_terminal(question: &str) -> std::io::Result<String> {
    use std::io::Write as _;
    let mut err = std::io::stderr();
    err.write_all(question.as_bytes())?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer)
}

/// `bridge dlq replay [--dry-run] [--yes]`: each letter is re-evaluated against the current
/// state; its plan is shown first; then (unless dry-run) it runs for real through the same
/// driver as the workers, and leaves the DLQ only when it succeeded. The jobs are idempotent, so
/// a replay never duplicates an effect that already happened. A real replay is confirmed first
/// ([`confirm_replay`]).
pub async fn dlq_replay(job: Option<JobKind>, dry_run: bool, yes: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    let app = app().await?;
    let selected = jobs(&app, job);
    if !yes && !dry_run {
        let mut waiting = 0;
        for job in &selected {
            waiting += app.queue.peek_dead_letters(*job, MAX_LETTERS).await?.len();
        }
        let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !confirm_replay(waiting, yes, dry_run, terminal, ask_on_terminal)? {
            println!("nothing replayed");
            return Ok(());
        }
    }
    let (mut replayed, mut kept) = (0, 0);
    for job in selected {
        let mut seen = std::collections::HashSet::new();
        loop {
            // Received letters stay invisible while we work on them.
            let batch = app.queue.dlq_messages(job).await?;
            let fresh: Vec<ReceivedMessage> = batch.iter().filter(|m| !seen.contains(&m.message_id)).cloned().collect();
            if fresh.is_empty() {
                for m in &batch {
                    app.queue.release_dead_letter(job, &m.receipt_handle).await?;
                }
                break;
            }
            for letter in fresh.into_iter().map(read_letter) {
                seen.insert(letter.message.message_id.clone());
                let receipt = letter.message.receipt_handle.clone();
                if replay_one(&app, job, &letter, dry_run).await? {
                    app.queue.delete_dead_letter(job, &receipt).await?;
                    replayed += 1;
                } else {
                    app.queue.release_dead_letter(job, &receipt).await?;
                    kept += 1;
                }
            }
        }
    }
    if dry_run {
        println!("dry run: nothing was written ({kept} letter(s) shown)");
    } else {
        println!("{replayed} replayed, {kept} left in the DLQ");
    }
    Ok(())
}

/// Shows the plan, then replays unless `dry_run`. True when the letter can leave the DLQ.
async fn replay_one(app: &App, job: JobKind, letter: &Letter, dry_run: bool) -> anyhow::Result<bool> {
    println!("{} {}", job.as_str(), describe(letter));
    let Some(event) = &letter.event else {
        println!("  cannot replay an unreadable body; left in the DLQ");
        return Ok(false);
    };
    let config = app.config().await;
    let ports = app.ports(&config);
    let (actions, evaluation) = plan(&ports, job, event).await;
    println!("  plan: {}", serde_json::to_string(&actions)?);
    if let Err(e) = evaluation {
        println!("  re-evaluation: {e}");
    }
    if dry_run {
        return Ok(false);
    }
    let body = serde_json::to_string(event)?;
    match process(&ports, &app.queue, job, &body, &app.counters).await {
        Disposition::Ack(summary) => {
            println!("  replayed: {summary}");
            Ok(true)
        }
        other => {
            println!("  still failing, left in the DLQ: {other:?}");
            Ok(false)
        }
    }
}

/// `bridge links show <id>`: a conversation id or a ticket id (`conversation:<id>` /
/// `ticket:<id>` to be explicit).
pub async fn links_show(id: &str, json: bool) -> anyhow::Result<()> {
    let app = app().await?;
    let (conversation, ticket) = match id.split_once(':') {
        Some(("conversation", c)) => (Some(c), None),
        Some(("ticket", t)) => (None, Some(t)),
        _ => (Some(id), Some(id)),
    };
    let mut link = None;
    if let Some(c) = conversation.and_then(|c| ConversationId::parse(c).ok()) {
        link = app.store.link_by_conversation(&c).await?;
    }
    if link.is_none()
        && let Some(t) = ticket.and_then(|t| TicketId::parse(t).ok())
    {
        link = app.store.link_by_ticket(t).await?;
    }
    let link = link.with_context(|| format!("no link for {id}"))?;
    if json {
        println!("{}", serde_json::to_string(&link)?);
        return Ok(());
    }
    println!("conversation {}  <->  ticket #{} (live)", link.conversation_id, link.ticket_id);
    println!("tickets ever linked: {:?}", link.tickets.iter().map(|t| t.get()).collect::<Vec<_>>());
    println!("version {}", link.version);
    println!("history:");
    for event in &link.history {
        println!("  {}", serde_json::to_string(event)?);
    }
    Ok(())
}

/// `bridge doctor [--json]`: one line per check (or one JSON document); exits non-zero when
/// any fails.
pub async fn doctor(json: bool) -> anyhow::Result<()> {
    let mut checks = Vec::new();
    let mut notes = Vec::new();
    let outcome = run_checks(
        &mut |ok: bool, what: &str, detail: String| {
            if !json {
                println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
            }
            checks.push(serde_json::json!({ "check": what, "ok": ok, "detail": detail }));
        },
        &mut |note: String| {
            if !json {
                println!("note {note}");
            }
            notes.push(note);
        },
    )
    .await;
    let failed = checks.iter().filter(|c| c["ok"] == false).count();
    if json {
        println!("{}", serde_json::json!({ "checks": checks, "notes": notes, "failed": failed }));
    }
    outcome?;
    anyhow::ensure!(failed == 0, "{failed} check(s) failed");
    if !json {
        println!("all checks passed");
    }
    Ok(())
}

/// The doctor's checks, each reported through `line` (and what cannot be checked through
/// `note`); `Err` when they could not go on.
async fn run_checks(line: &mut dyn FnMut(bool, &str, String), note: &mut dyn FnMut(String)) -> anyhow::Result<()> {
    let settings = match WorkerSettings::from_env(&ProcessEnv) {
        Ok(s) => s,
        Err(e) => {
            line(false, "environment", e.to_string());
            anyhow::bail!("1 check failed");
        }
    };
    line(true, "environment", "all variables present".into());
    let sdk = aws_config().await;
    match load_config(&settings.config, &sdk).await {
        Ok(_) => line(true, "config", "parsed and validated".into()),
        Err(e) => line(false, "config", format!("{e:#}")),
    }
    let app = match App::build(&settings, &sdk).await {
        Ok(a) => a,
        Err(e) => {
            line(false, "adapters", format!("{e:#}"));
            anyhow::bail!("the adapters could not be built");
        }
    };
    match app.intercom.me().await {
        Ok(me) => line(true, "intercom credentials", format!("token works (admin {})", me.id)),
        Err(e) => line(false, "intercom credentials", e.to_string()),
    }
    let config = app.config().await;
    let bot = &config.intercom.bot_admin_id;
    match app.intercom.retrieve_admin(bot).await {
        Ok(_) => line(true, "intercom bot admin", format!("admin {bot} exists")),
        Err(e) => line(false, "intercom bot admin", format!("admin {bot}: {e}")),
    }
    match app.zendesk.own_user_id().await {
        Ok(id) => line(true, "zendesk credentials", format!("token works (user {id})")),
        Err(e) => line(false, "zendesk credentials", e.to_string()),
    }
    // Every id and name the config refers to, in both accounts.
    bridge_runtime::references::check_references(&app.intercom, &app.zendesk, &config, &mut *line).await;
    note(crate::setup::doctor_webhooks(&app, &mut &mut *line).await);
    match app.store.load::<serde_json::Value>(&bridge_domain::keys::DocKey::Probe).await {
        Ok(_) => line(true, "dynamodb table", format!("{} readable", settings.table)),
        Err(e) => line(false, "dynamodb table", format!("{}: {e}", settings.table)),
    }
    for (job, urls) in app.queue.urls() {
        match app.queue.peek_dead_letters(*job, 10).await {
            Ok(letters) if letters.is_empty() => {
                line(true, &format!("queue {}", job.as_str()), "reachable, DLQ empty".into())
            }
            Ok(letters) => line(
                false,
                &format!("queue {}", job.as_str()),
                format!("{} message(s) in the DLQ: see `bridge dlq list`", letters.len()),
            ),
            Err(e) => line(false, &format!("queue {}", job.as_str()), format!("{}: {e}", urls.queue)),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_asks_on_a_terminal_and_refuses_without_one_unless_yes() {
        let never = |_: &str| -> std::io::Result<String> { panic!("not asked") };
        assert!(confirm_replay(3, true, false, false, never).unwrap(), "--yes");
        assert!(confirm_replay(3, false, true, false, never).unwrap(), "--dry-run writes nothing");
        assert!(confirm_replay(0, false, false, false, never).unwrap(), "nothing to replay");
        let refused = confirm_replay(3, false, false, false, never).unwrap_err().to_string();
        assert!(refused.contains("no terminal") && refused.contains("--yes"), "{refused}");
        let mut asked = String::new();
        assert!(
            confirm_replay(3, false, false, true, |q: &str| {
                asked = q.to_string();
                Ok("y\n".into())
            })
            .unwrap()
        );
        assert!(asked.contains("Replay 3 dead letter(s)"), "{asked}");
        assert!(!confirm_replay(3, false, false, true, |_: &str| Ok("\n".into())).unwrap(), "no by default");
        assert!(!confirm_replay(3, false, false, true, |_: &str| Ok("nope\n".into())).unwrap());
    }
}
