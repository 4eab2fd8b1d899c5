//! Job 1 end to end: the simulators' webhooks reach the real ingress over HTTP, go through SQS
//! on moto, and the real worker escalates through real HTTP to the simulators.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bridge_domain::ids::{ContactId, ConversationId, TicketId, UserId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{Link, Timestamp};
use bridge_domain::ports::{Claim, Doc, LinkCreated, PortError, PortResult, Service, Store, WithLink};
use bridge_domain::routing::JobKind;
use bridge_e2e::{World, comments_containing, eventually, post_intercom, settle, tickets_for};
use bridge_runtime::driver::{Disposition, process};
use bridge_runtime::metrics::Counters;
use bridge_sim::intercom::{AssignTo, ConversationSeed};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);

fn bot_notes(world: &World, conversation: &str) -> usize {
    let Some(conv) = world.intercom.conversation(conversation) else {
        return 0;
    };
    conv.parts.iter().filter(|p| p.part_type == "note" && p.author.id == world.seeded.bot_admin).count()
}

fn start_conversation(world: &World, body: &str) -> String {
    world.intercom.customer_starts_conversation(&world.seeded.customer, body).unwrap()
}

async fn wait_for_ticket(world: &World, conversation: &str) -> Value {
    eventually(WAIT, "a ticket for the conversation", || tickets_for(world, conversation).len() == 1).await.unwrap();
    eventually(WAIT, "the note on the conversation", || bot_notes(world, conversation) == 1).await.unwrap();
    settle(QUIET, WAIT, || (world.tickets().len(), bot_notes(world, conversation))).await.unwrap();
    let mut tickets = tickets_for(world, conversation);
    assert_eq!(tickets.len(), 1, "exactly one ticket");
    tickets.remove(0)
}

#[tokio::test]
async fn tagged_conversation_becomes_one_complete_ticket_with_link_and_note() {
    let world = World::start().await.unwrap();
    let conv = start_conversation(&world, "<p>My invoice for <b>March</b> is wrong</p>");
    world.intercom.customer_replies(&conv, "It charges us twice.").unwrap();
    world.intercom.admin_replies(&conv, &world.seeded.agent, "Looking into it").unwrap();
    world.intercom.admin_sets_priority(&conv, &world.seeded.agent, "high").unwrap();
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();

    let ticket = wait_for_ticket(&world, &conv).await;

    // The ticket as Zendesk holds it.
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["group_id"].as_u64(), Some(world.seeded.tier2_group));
    let tags: Vec<&str> = ticket["tags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(tags.contains(&"intercom") && tags.contains(&"tier2"), "{tags:?}");
    assert!(ticket["subject"].as_str().unwrap().contains("My invoice for March is wrong"), "{}", ticket["subject"]);
    let transcript = ticket["comments"][0]["html_body"].as_str().or(ticket["comments"][0]["body"].as_str()).unwrap();
    for text in ["My invoice for", "It charges us twice.", "Looking into it", "Ada Lovelace", "Alex Agent"] {
        assert!(transcript.contains(text), "transcript lacks {text:?}: {transcript}");
    }
    assert!(transcript.contains("conversation parts retrieved"), "completeness line");
    assert!(!transcript.contains("not included"), "nothing was truncated");

    // Requester and organization were created from the contact and its company.
    let requester = ticket["requester_id"].as_u64().unwrap();
    let users = world.zendesk.dump()["users"].clone();
    let user = users.as_array().unwrap().iter().find(|u| u["id"].as_u64() == Some(requester)).unwrap().clone();
    assert_eq!(user["email"], "ada@acme.example");
    assert_eq!(user["external_id"], "cust-1");
    let org_id = ticket["organization_id"].as_u64().expect("organization set");
    let orgs = world.zendesk.dump()["organizations"].clone();
    let org = orgs.as_array().unwrap().iter().find(|o| o["id"].as_u64() == Some(org_id)).unwrap().clone();
    assert_eq!(org["external_id"], "acme-1");

    // The link, both ways.
    let ticket_id = TicketId::new(ticket["id"].as_u64().unwrap()).unwrap();
    let app = world.app().unwrap();
    let by_conv = app.store.link_by_conversation(&ConversationId::parse(conv.clone()).unwrap()).await.unwrap().unwrap();
    assert_eq!(by_conv.ticket_id, ticket_id);
    let by_ticket = app.store.link_by_ticket(ticket_id).await.unwrap().unwrap();
    assert_eq!(by_ticket.conversation_id.as_str(), conv);

    // Written back onto the conversation: attribute and one note with the URL.
    let c = world.intercom.conversation(&conv).unwrap();
    assert_eq!(
        c.custom_attributes.get("zendesk_ticket_id").and_then(Value::as_str),
        Some(ticket_id.to_string().as_str())
    );
    let note = c.parts.iter().find(|p| p.part_type == "note" && p.author.id == world.seeded.bot_admin).unwrap();
    assert!(note.body.as_deref().unwrap_or("").contains(&format!("/agent/tickets/{ticket_id}")));
}

#[tokio::test]
async fn each_trigger_kind_creates_one_ticket_and_others_none() {
    let world = World::start().await.unwrap();
    let s = world.seeded.clone();

    let inbox = start_conversation(&world, "Question about my account");
    world.intercom.admin_assigns(&inbox, &s.agent, AssignTo::Team(s.escalations_team.clone())).unwrap();

    let keyword = start_conversation(&world, "Hello");
    world.intercom.customer_replies(&keyword, "I want a refund for this order").unwrap();

    let waiting = start_conversation(&world, "First");
    world.intercom.customer_replies(&waiting, "Second").unwrap();
    world.intercom.customer_replies(&waiting, "Third").unwrap();

    let urgent = start_conversation(&world, "Site down");
    world.intercom.admin_sets_priority(&urgent, &s.agent, "urgent").unwrap();

    let quiet = start_conversation(&world, "Just saying thanks, refunds are great");
    world.intercom.admin_assigns(&quiet, &s.agent, AssignTo::Team(s.sales_team.clone())).unwrap();
    world.intercom.admin_replies(&quiet, &s.agent, "You're welcome").unwrap();
    world.intercom.admin_tags(&quiet, &s.agent, "feedback").unwrap();

    for conv in [&inbox, &keyword, &waiting, &urgent] {
        wait_for_ticket(&world, conv).await;
    }
    settle(QUIET, WAIT, || world.tickets().len()).await.unwrap();
    assert!(tickets_for(&world, &quiet).is_empty(), "a conversation matching no rule creates no ticket");
    assert_eq!(world.tickets().len(), 4);
    assert_eq!(tickets_for(&world, &urgent)[0]["priority"], "urgent");
    assert_eq!(tickets_for(&world, &inbox)[0]["group_id"].as_u64(), Some(s.tier2_group));
}

#[tokio::test]
async fn fifty_concurrent_deliveries_make_one_ticket_one_link_one_note() {
    let mut world = World::start().await.unwrap();
    let conv = start_conversation(&world, "Please escalate me");
    // Capture the tag webhook instead of letting the simulator deliver it.
    world.intercom.set_webhook_target(None);
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let tag_event =
        world.intercom.notifications().into_iter().rfind(|n| n.topic == "conversation_part.tag.created").unwrap();
    let url = world.bridge_url();
    world.intercom.set_webhook_target(Some(format!("{url}/webhooks/intercom")));
    let secret = world.intercom.client_secret();

    // 50 copies of the same delivery, and 50 distinct deliveries of the same change, at once.
    let mut bodies = vec![tag_event.raw.clone().into_bytes(); 50];
    for i in 0..50 {
        let mut v: Value = serde_json::from_str(&tag_event.raw).unwrap();
        v["id"] = Value::String(format!("notif_copy_{i}"));
        bodies.push(serde_json::to_vec(&v).unwrap());
    }
    let posts = bodies.iter().map(|b| post_intercom(&url, &secret, b, None));
    for (status, body) in futures::future::join_all(posts).await.into_iter().map(Result::unwrap) {
        assert_eq!(status, 200, "{body}");
    }

    let ticket = wait_for_ticket(&world, &conv).await;
    let app = world.app().unwrap();
    let link = app.store.link_by_conversation(&ConversationId::parse(conv.clone()).unwrap()).await.unwrap().unwrap();
    assert_eq!(link.ticket_id.get(), ticket["id"].as_u64().unwrap());
    assert_eq!(link.tickets.len(), 1);
    assert_eq!(bot_notes(&world, &conv), 1);
    assert_eq!(world.tickets().len(), 1);
    world.stop_bridge().await;
}

/// A store that fails the first link write: the worker dies after creating the ticket and
/// before recording the link.
struct CrashBeforeLink<S> {
    inner: S,
    armed: AtomicBool,
}

impl<S: Store> Store for CrashBeforeLink<S> {
    async fn claim(&self, i: &Intent, h: &str, l: Duration, n: Timestamp) -> PortResult<Claim> {
        self.inner.claim(i, h, l, n).await
    }
    async fn intent_state(&self, i: &Intent) -> PortResult<Option<Claim>> {
        self.inner.intent_state(i).await
    }
    async fn complete(&self, i: &Intent, r: &str) -> PortResult<()> {
        self.inner.complete(i, r).await
    }
    async fn complete_for(&self, i: &Intent, r: &str, keep: Duration) -> PortResult<()> {
        self.inner.complete_for(i, r, keep).await
    }
    async fn release(&self, i: &Intent, h: &str) -> PortResult<()> {
        self.inner.release(i, h).await
    }
    async fn link_by_conversation(&self, c: &ConversationId) -> PortResult<Option<Link>> {
        self.inner.link_by_conversation(c).await
    }
    async fn link_by_ticket(&self, t: TicketId) -> PortResult<Option<Link>> {
        self.inner.link_by_ticket(t).await
    }
    async fn create_link_with(&self, link: &Link, with: WithLink<'_>) -> PortResult<LinkCreated> {
        if self.armed.swap(false, Ordering::SeqCst) {
            return Err(PortError::unavailable(Service::Store, "process killed before the link write"));
        }
        self.inner.create_link_with(link, with).await
    }
    async fn update_link(&self, link: &Link, v: u64) -> PortResult<bool> {
        self.inner.update_link(link, v).await
    }
    async fn load<T: serde::de::DeserializeOwned + Send>(&self, k: &DocKey) -> PortResult<Option<Doc<T>>> {
        self.inner.load(k).await
    }
    async fn save<T: serde::Serialize + Sync>(&self, k: &DocKey, v: &T, e: Option<u64>) -> PortResult<bool> {
        self.inner.save(k, v, e).await
    }
    async fn delete(&self, k: &DocKey) -> PortResult<bool> {
        self.inner.delete(k).await
    }
    async fn links_of_person(&self, c: &[ContactId], u: &[UserId]) -> PortResult<Vec<Link>> {
        self.inner.links_of_person(c, u).await
    }
    async fn delete_link(&self, link: &Link) -> PortResult<()> {
        self.inner.delete_link(link).await
    }
}

#[tokio::test]
async fn crash_between_ticket_create_and_link_write_still_gives_one_ticket() {
    let mut world = World::start().await.unwrap();
    world.stop_bridge().await;
    let conv = start_conversation(&world, "Escalate this one");
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let event = bridge_domain::event::QueuedEvent {
        vendor: bridge_domain::event::Vendor::Intercom,
        delivery_id: "notif_crash".into(),
        topic: "conversation_part.tag.created".into(),
        entity: format!("conversation:{conv}").parse().unwrap(),
        received_at: Timestamp(0),
        payload: Value::Null,
        trace_id: None,
        actors: Vec::new(),
    };
    let body = serde_json::to_string(&event).unwrap();
    let app = world.app().unwrap();
    let store = bridge_aws::DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(&world.sdk), world.table.clone());
    let store = CrashBeforeLink { inner: store, armed: AtomicBool::new(true) };
    let config = app.config().await;
    let real = app.ports(&config);
    let ports = bridge_jobs::Ports {
        store: &store,
        intercom: real.intercom,
        zendesk: real.zendesk,
        clock: real.clock,
        config: real.config,
        worker: "crash-test",
    };
    let counters = Counters::default();

    let first = process(&ports, &app.queue, JobKind::Escalate, &body, &counters).await;
    assert!(matches!(first, Disposition::Retry { .. }), "{first:?}");
    assert_eq!(world.tickets().len(), 1, "the ticket was created before the crash");

    let second = process(&ports, &app.queue, JobKind::Escalate, &body, &counters).await;
    assert!(matches!(second, Disposition::Ack(_)), "{second:?}");
    assert_eq!(world.tickets().len(), 1, "the retry reused the ticket");
    assert_eq!(bot_notes(&world, &conv), 1);
    let link = store.link_by_conversation(&ConversationId::parse(conv).unwrap()).await.unwrap().unwrap();
    assert_eq!(link.ticket_id.get(), world.tickets()[0]["id"].as_u64().unwrap());
}

#[tokio::test]
async fn forged_unsigned_stale_and_malformed_webhooks_are_refused_and_not_queued() {
    let mut world = World::start().await.unwrap();
    world.stop_bridge().await;
    let ingress = world.ingress();
    let secret = world.intercom.client_secret();
    let conv = start_conversation(&world, "hi");
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let real =
        world.intercom.notifications().into_iter().rfind(|n| n.topic == "conversation_part.tag.created").unwrap();
    let body = real.raw.as_bytes();

    let post = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let ingress = &ingress;
        async move {
            let mut map = http::HeaderMap::new();
            for (k, v) in headers {
                map.insert(k, v.parse().unwrap());
            }
            let method = http::Method::POST;
            ingress
                .intercom(bridge_runtime::ingress::WebhookRequest { method: &method, headers: &map, body: &body })
                .await
                .status
                .as_u16()
        }
    };
    let forged = bridge_intercom::webhook::sign(b"not-the-secret", body);
    assert_eq!(post(vec![("x-hub-signature", forged)], body.to_vec()).await, 401, "forged");
    assert_eq!(post(vec![], body.to_vec()).await, 401, "unsigned");
    let mut tampered = body.to_vec();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        post(vec![("x-hub-signature", real.signature.clone())], tampered).await,
        401,
        "body changed after signing"
    );
    let junk = b"{\"hello\":1}".to_vec();
    let junk_sig = bridge_intercom::webhook::sign(secret.as_bytes(), &junk);
    assert_eq!(post(vec![("x-hub-signature", junk_sig)], junk).await, 400, "signed but not a notification");
    let big = vec![b' '; 2 * 1024 * 1024];
    let big_sig = bridge_intercom::webhook::sign(secret.as_bytes(), &big);
    assert_eq!(post(vec![("x-hub-signature", big_sig)], big).await, 413, "oversized");

    // Zendesk: a correctly signed but stale delivery.
    let zd_body = br#"{"type":"zen:event-type:ticket.created","account_id":1,"id":"evt-1","time":"2026-01-01T00:00:00Z","zendesk_event_version":"2022-11-06","subject":"zen:ticket:5","detail":{"id":"5"},"event":{}}"#;
    let stale_ts = (chrono::Utc::now() - chrono::Duration::minutes(6)).to_rfc3339();
    let zd_secret = bridge_sim::zendesk::ZendeskSimOptions::default().webhook_secret;
    let zd_sig = bridge_zendesk::webhook::sign(zd_secret.as_bytes(), &stale_ts, zd_body);
    let mut map = http::HeaderMap::new();
    map.insert("x-zendesk-webhook-signature", zd_sig.parse().unwrap());
    map.insert("x-zendesk-webhook-signature-timestamp", stale_ts.parse().unwrap());
    let method = http::Method::POST;
    let reply = ingress
        .zendesk(bridge_runtime::ingress::WebhookRequest { method: &method, headers: &map, body: zd_body })
        .await;
    assert_eq!(reply.status.as_u16(), 401, "{}", reply.body);

    for job in [JobKind::Escalate, JobKind::TicketStatus, JobKind::TicketIntake] {
        assert_eq!(world.queued(job).await.unwrap(), 0, "nothing queued for {job:?}");
    }
    // The genuine delivery is accepted and queued.
    assert_eq!(post(vec![("x-hub-signature", real.signature.clone())], body.to_vec()).await, 200);
    assert_eq!(world.queued(JobKind::Escalate).await.unwrap(), 1);
}

#[tokio::test]
async fn six_hundred_part_conversation_says_what_the_transcript_holds() {
    let world = World::start().await.unwrap();
    let conv = world
        .intercom
        .seed_conversation(ConversationSeed {
            contact_id: world.seeded.customer.clone(),
            body: "Long story".into(),
            extra_parts: 600,
            admin_id: Some(world.seeded.agent.clone()),
            ..ConversationSeed::default()
        })
        .unwrap();
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let ticket = wait_for_ticket(&world, &conv).await;
    let transcript = ticket["comments"][0]["html_body"].as_str().or(ticket["comments"][0]["body"].as_str()).unwrap();
    // The opening message plus every part the simulator holds; the API returns the 500 most
    // recent parts, so the rest must be announced, not silently dropped.
    let total = world.intercom.conversation(&conv).unwrap().parts.len() + 1 - bot_notes(&world, &conv);
    assert_eq!(total, 601, "600 parts after the opening message");
    assert!(transcript.contains(&format!("501 of {total} conversation parts retrieved")), "{transcript}");
    assert!(
        transcript.contains(&format!("{} earlier parts are not included", total - 501)),
        "explicit truncation line"
    );
}

#[tokio::test]
async fn follow_ups_are_appended_once_and_our_own_notes_never() {
    let world = World::start().await.unwrap();
    let conv = start_conversation(&world, "Escalate please");
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let ticket = wait_for_ticket(&world, &conv).await;
    let id = ticket["id"].as_u64().unwrap();

    world.intercom.customer_replies(&conv, "Any news on this?").unwrap();
    world.intercom.admin_notes(&conv, &world.seeded.agent, "Checked the billing logs").unwrap();
    let comments = |w: &World| w.zendesk.ticket(id).map(|t| t["comments"].as_array().map_or(0, Vec::len)).unwrap_or(0);
    eventually(WAIT, "two follow-up comments", || comments(&world) == 3).await.unwrap();
    settle(QUIET, WAIT, || comments(&world)).await.unwrap();

    let t = world.zendesk.ticket(id).unwrap();
    let all = t["comments"].as_array().unwrap();
    assert_eq!(all.len(), 3, "transcript + reply + note, each once");
    let body = |c: &Value| c["html_body"].as_str().or(c["body"].as_str()).unwrap_or("").to_string();
    let reply = all.iter().find(|c| body(c).contains("Any news on this?")).unwrap();
    assert_eq!(reply["public"], true);
    assert_eq!(
        reply["author_id"].as_u64(),
        ticket["requester_id"].as_u64(),
        "customer reply authored by the requester"
    );
    let note = all.iter().find(|c| body(c).contains("Checked the billing logs")).unwrap();
    assert_eq!(note["public"], false);
    assert!(all.iter().all(|c| !body(c).contains("Escalated to Zendesk ticket")), "our own note is never echoed");
    let _ = BTreeMap::<u8, u8>::new();
}

/// A Messenger lead with no email and no external id is escalated: the Zendesk requester is an
/// end user named after the contact ("Visitor" and a short id here) with the Intercom contact
/// id as its external id; once the lead leaves an email, the next escalation finds and updates
/// that same user instead of making a second one.
#[tokio::test]
async fn a_lead_without_email_is_escalated_and_a_later_email_updates_the_same_zendesk_user() {
    let world = World::start().await.unwrap();
    let lead = world
        .intercom
        .seed_contact(bridge_sim::intercom::state::Contact { role: "lead".into(), ..Default::default() })
        .unwrap();
    let conv = world.intercom.customer_starts_conversation(&lead, "Is anyone there?").unwrap();
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    let ticket = wait_for_ticket(&world, &conv).await;
    let key = format!("intercom-contact-{lead}");
    let users = || world.zendesk.dump()["users"].as_array().cloned().unwrap_or_default();
    let visitor: Vec<Value> = users().into_iter().filter(|u| u["external_id"].as_str() == Some(key.as_str())).collect();
    assert_eq!(visitor.len(), 1, "{:?}", users());
    assert_eq!(ticket["requester_id"], visitor[0]["id"]);
    assert!(visitor[0]["name"].as_str().is_some_and(|n| n.starts_with("Visitor ")), "{}", visitor[0]);

    world.intercom.edit_contact(&lead, serde_json::json!({ "email": "lead@example.com" })).unwrap();
    let second = world.intercom.customer_starts_conversation(&lead, "Here is my email").unwrap();
    world.intercom.admin_tags(&second, &world.seeded.agent, "escalate").unwrap();
    let ticket2 = wait_for_ticket(&world, &second).await;
    assert_eq!(ticket2["requester_id"], visitor[0]["id"], "the same Zendesk user");
    let same: Vec<Value> = users()
        .into_iter()
        .filter(|u| u["external_id"].as_str() == Some(key.as_str()) || u["email"] == "lead@example.com")
        .collect();
    assert_eq!(same.len(), 1, "no second user: {same:?}");
    assert_eq!(same[0]["email"], "lead@example.com");
}

/// The write-back's parts are independent: a conversation attribute the workspace does not have
/// (a setup slip) never keeps the team from the note with the ticket link, the attributes that
/// exist are still set, and the message is dead-lettered naming the missing one.
#[tokio::test]
async fn a_missing_conversation_attribute_never_blocks_the_note_and_is_named_in_the_dead_letter() {
    let world = World::start_with(|c| {
        c.replace("ticket_url_attribute: zendesk_ticket_url", "ticket_url_attribute: zendesk_link")
    })
    .await
    .unwrap();
    let conv = start_conversation(&world, "Please escalate");
    world.intercom.admin_tags(&conv, &world.seeded.agent, "escalate").unwrap();
    eventually(WAIT, "the note", || bot_notes(&world, &conv) == 1).await.unwrap();
    let attributes = || world.intercom.conversation(&conv).unwrap().custom_attributes;
    eventually(WAIT, "the ticket id attribute", || attributes().contains_key("zendesk_ticket_id")).await.unwrap();
    let app = world.app().unwrap();
    let dead = || async { app.queue.peek_dead_letters(JobKind::Escalate, 10).await.unwrap() };
    let mut letters = Vec::new();
    for _ in 0..300 {
        letters = dead().await;
        if !letters.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(letters.len(), 1, "the write-back's message is dead-lettered on its own");
    assert!(letters[0].body.contains("zendesk_link"), "{}", letters[0].body);
    assert_eq!(bot_notes(&world, &conv), 1, "the note is there once");
    assert!(!attributes().contains_key("zendesk_link"));

    // A later reply still reaches the ticket, and the slip is not dead-lettered again.
    world.intercom.customer_replies(&conv, "Any update on this?").unwrap();
    let ticket = tickets_for(&world, &conv)[0]["id"].as_u64().unwrap();
    eventually(WAIT, "the reply on the ticket", || comments_containing(&world, ticket, "Any update on this?") == 1)
        .await
        .unwrap();
    assert_eq!(dead().await.len(), 1, "one dead letter for one setup slip");
}
