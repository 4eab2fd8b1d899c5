//! Escalation, status and tags (jobs 1, 3 and 4), new tickets (job 5) from both Zendesk
//! webhooks, and the sweeps that repair lost webhooks.

use bridge_domain::ids::{ConversationId, TicketId};
use bridge_e2e::eventually;
use bridge_rehearsal::Options;
use bridge_sim::common::Faults;
use bridge_sim::zendesk::{UserInput, ZendeskSimOptions};

use crate::support::{WAIT, bot_parts, escalated, post_zendesk, quiet, rehearse, sim, table_items, ticket_of};

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
        let log_lines = |f: &str| -> anyhow::Result<Vec<String>> { Ok(r.function(f)?.logs()) };
        let lines_before = [log_lines("IntercomWebhookFunction")?.len(), log_lines("EscalateFunction")?.len()];
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
        // What DynamoDB bills on demand for them: 1 unit per KB of each item written, twice in
        // a transaction.
        let write_units: u32 =
            calls.iter().filter(|c| c.principal == "EscalateFunction").map(|c| c.write_units).sum();
        // The lines this escalation wrote, as CloudWatch Logs would ingest them (one per line).
        let mut new_lines = log_lines("IntercomWebhookFunction")?.split_off(lines_before[0]);
        new_lines.extend(log_lines("EscalateFunction")?.split_off(lines_before[1]));
        let logs: usize = new_lines.iter().map(|l| l.len() + 1).sum();
        // DynamoDB bills by item size: attribute names and values (rounded up per KB).
        let items = table_items(r).await?;
        let sizes: Vec<usize> = items.iter().filter(|i| i.contains(second.as_str())).map(String::len).collect();
        eprintln!(
            "an escalation on the Lambda path: {sends} send(s) to the escalate queue, store requests {store:?}, \
             {write_units} DynamoDB write units, {logs} log bytes (ingress + worker, metrics included), items naming the conversation (debug-printed \
             sizes, an upper bound): {sizes:?}\n{}",
            new_lines.join("\n")
        );
        anyhow::ensure!(sends == 1, "one send to the escalate queue (the bot's own note is not queued): {sends}");
        anyhow::ensure!(
            store.len() <= 3 && writes <= 2,
            "store requests of an escalation: {store:?} (at most one read and two writes)"
        );
        anyhow::ensure!(
            write_units <= 5,
            "write units of an escalation: {write_units} (the link's two halves in a transaction, 4, and the done marker)"
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
