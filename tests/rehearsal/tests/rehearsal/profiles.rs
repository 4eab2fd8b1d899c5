//! Profiles (job 2: webhooks, reconcile, drift, backfill), the CSAT report's schedule, and
//! erasure from either side.

use bridge_domain::event::{Kind, QueuedEvent, Vendor};
use bridge_domain::keys::DocKey;
use bridge_domain::model::Timestamp;
use bridge_domain::routing::JobKind;
use bridge_e2e::eventually;
use bridge_rehearsal::Options;
use bridge_sim::common::Faults;
use bridge_sim::zendesk::ZendeskSimOptions;
use serde_json::{Value, json};

use crate::support::{
    WAIT, doc, envelope, escalated, post_zendesk, quiet, rehearse, sim, ticket_of, tickets, until_forgotten,
    zendesk_user,
};

/// Contacts the backfill scenario imports into Intercom only: more than one page of 100.
const BACKFILLED: usize = 120;

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
