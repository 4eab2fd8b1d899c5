//! Dead letters: written by the workers and by the redrive policy, listed and replayed by the
//! operator; and what the rehearsal says when the template leaves out the grant to a dead-letter
//! queue or a queue variable.

use std::time::Duration;

use bridge_domain::event::{Actor, QueuedEvent};
use bridge_domain::model::AuthorRole;
use bridge_domain::model::Timestamp;
use bridge_domain::routing::JobKind;
use bridge_e2e::eventually;
use bridge_rehearsal::Options;
use serde_json::json;

use crate::support::{WAIT, envelope, post_poison, rehearse, sim, start, ticket_of, until_letters};

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
