//! The Intercom client against the Intercom simulator over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, TeamId};
use bridge_domain::model::{
    ConversationChange, ConversationState, FieldValue, MessageChannel, OutboundMessage, PartKind, Timestamp,
};
use bridge_domain::ports::{Messenger, PortError};
use bridge_intercom::webhook::{NotificationItem, parse_notification, verify_signature};
use bridge_intercom::{
    AttributeModel, CompanyWrite, ContactWrite, IntercomClient, IntercomConfig, IntercomError,
    NewConversationAttribute, Query,
};
use bridge_sim::common::Faults;
use bridge_sim::intercom::state::{Company, Contact};
use bridge_sim::intercom::{AssignTo, ConversationSeed, IntercomSim, IntercomSimOptions};
use serde_json::json;

/// Received webhooks: (X-Hub-Signature, raw body).
type Inbox = Arc<Mutex<Vec<(Option<String>, Vec<u8>)>>>;

struct World {
    sim: IntercomSim,
    client: IntercomClient,
    admin: AdminId,
    contact: ContactId,
    company: CompanyId,
    conversation: ConversationId,
}

fn client_for(sim: &IntercomSim, token: &str) -> IntercomClient {
    let mut cfg = IntercomConfig::new(sim.base_url().parse().unwrap(), token.into());
    cfg.timeout = Duration::from_secs(5);
    IntercomClient::new(cfg).unwrap()
}

async fn world() -> World {
    let sim = IntercomSim::start(IntercomSimOptions::default()).await.unwrap();
    let client = client_for(&sim, &sim.access_token());
    let admin = sim.seed_admin("Bridge Bot", "bot@example.com");
    sim.seed_admin("Ann Agent", "ann@example.com");
    let company = sim.seed_company(Company {
        company_id: "acme".into(),
        name: Some("Acme".into()),
        plan: Some("Enterprise".into()),
        monthly_spend: 900,
        ..Default::default()
    });
    let vip = sim.seed_tag("vip").unwrap();
    let contact = sim
        .seed_contact(Contact {
            email: Some("carol@example.org".into()),
            external_id: Some("u-1".into()),
            name: Some("Carol".into()),
            company_ids: vec![company.clone()],
            tag_ids: vec![vip],
            ..Default::default()
        })
        .unwrap();
    sim.seed_segment("Paying", std::slice::from_ref(&contact));
    sim.seed_conversation_attribute("zendesk_ticket_id", "string");
    let conversation = sim
        .seed_conversation(ConversationSeed {
            contact_id: contact.clone(),
            body: "<p>Help please</p>".into(),
            subject: Some("Broken".into()),
            extra_parts: 3,
            admin_id: Some(admin.clone()),
            ..Default::default()
        })
        .unwrap();
    World {
        admin: AdminId::parse(admin).unwrap(),
        contact: ContactId::parse(contact).unwrap(),
        company: CompanyId::parse(company).unwrap(),
        conversation: ConversationId::parse(conversation).unwrap(),
        client,
        sim,
    }
}

/// A tiny webhook receiver keeping (X-Hub-Signature, raw body) pairs.
async fn receiver() -> (String, Inbox) {
    let got: Inbox = Arc::default();
    let store = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let sig = headers.get("x-hub-signature").and_then(|v| v.to_str().ok()).map(str::to_string);
                store.lock().unwrap().push((sig, body.to_vec()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn wait_for_topic(got: &Inbox, topic: &str) -> (Option<String>, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = got
            .lock()
            .unwrap()
            .iter()
            .find(|(_, b)| parse_notification(b).map(|n| n.topic == topic).unwrap_or(false))
            .cloned();
        if let Some(hit) = found {
            return hit;
        }
        assert!(Instant::now() < deadline, "no {topic} webhook received");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn conversation_retrieve_maps_source_and_parts() {
    let w = world().await;
    let c = w.client.conversation(&w.conversation).await.unwrap();
    assert_eq!(c.parts.len(), 4);
    assert_eq!(c.parts_total, 4);
    assert_eq!(c.parts[0].kind, PartKind::Opening);
    assert_eq!(c.parts[0].body.as_deref(), Some("<p>Help please</p>"));
    assert!(c.parts.windows(2).all(|p| p[0].created_at <= p[1].created_at));
    assert_eq!(c.contacts, vec![w.contact.clone()]);
    assert_eq!(c.title.as_deref(), Some("Broken"));
    assert_eq!(c.admin_assignee, None, "0 means unassigned");
    let plain = w.client.retrieve_conversation(&w.conversation, true).await.unwrap();
    assert_eq!(plain.source.unwrap().body.as_deref(), Some("Help please"));
}

#[tokio::test]
async fn six_hundred_part_conversation_is_capped_at_500_with_true_total() {
    let w = world().await;
    let id = w
        .sim
        .seed_conversation(ConversationSeed {
            contact_id: w.contact.to_string(),
            body: "long".into(),
            extra_parts: 600,
            admin_id: Some(w.admin.to_string()),
            ..Default::default()
        })
        .unwrap();
    let c = w.client.conversation(&ConversationId::parse(id).unwrap()).await.unwrap();
    assert_eq!(c.parts.len(), 501, "opening message + the 500 most recent parts");
    assert_eq!(c.parts_total, 601);
    assert_eq!(c.parts.last().and_then(|p| p.body.clone()).as_deref(), Some("<p>message 600</p>"));
}

#[tokio::test]
async fn contact_lookups_companies_segments_and_company() {
    let w = world().await;
    let c = w.client.contact(&w.contact).await.unwrap();
    assert_eq!(c.email.as_deref(), Some("carol@example.org"));
    assert_eq!(c.tags, vec!["vip".to_string()]);
    assert_eq!(c.org_ids, vec![w.company.clone()]);
    let by_ext = w.client.contact_by_external_id("u-1").await.unwrap().unwrap();
    assert_eq!(by_ext.id, w.contact);
    assert!(w.client.contact_by_external_id("nobody").await.unwrap().is_none());
    let by_email = w.client.contacts_by_email("CAROL@example.org").await.unwrap();
    assert_eq!(by_email.len(), 1);
    let companies = w.client.contact_companies(&w.contact).await.unwrap();
    assert_eq!(companies[0].plan.as_deref(), Some("Enterprise"));
    assert_eq!(companies[0].external_id.as_deref(), Some("acme"));
    let segments = w.client.contact_segments(&w.contact).await.unwrap();
    assert_eq!(segments[0].name, "Paying");
    let company = w.client.company(&w.company).await.unwrap();
    assert_eq!(company.monthly_spend, Some(900.0));
    let missing = w.client.contact(&ContactId::parse("nope").unwrap()).await;
    assert!(matches!(missing, Err(PortError::NotFound { .. })));
}

#[tokio::test]
async fn contact_search_paginates_across_pages() {
    let w = world().await;
    for i in 0..7 {
        w.sim.seed_contact(Contact { email: Some(format!("p{i}@paged.test")), ..Default::default() }).unwrap();
    }
    let q = Query::filter("email", "~", "paged.test");
    let first = w.client.search_contacts(&q, 3, None).await.unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.total_count, Some(7));
    let second = w.client.search_contacts(&q, 3, first.next.clone()).await.unwrap();
    let third = w.client.search_contacts(&q, 3, second.next.clone()).await.unwrap();
    assert_eq!(third.items.len(), 1);
    assert!(third.next.is_none());
    let all = w.client.search_all_contacts(&q).await.unwrap();
    assert_eq!(all.len(), 7);
    let combined = Query::And(vec![
        Query::gt("updated_at", 0),
        Query::Or(vec![Query::eq("email", "p1@paged.test"), Query::eq("external_id", "u-1")]),
    ]);
    assert_eq!(w.client.search_all_contacts(&combined).await.unwrap().len(), 2);
}

#[tokio::test]
async fn conversation_list_and_search_paginate() {
    let w = world().await;
    for i in 0..4 {
        w.sim
            .seed_conversation(ConversationSeed {
                contact_id: w.contact.to_string(),
                body: format!("c{i}"),
                ..Default::default()
            })
            .unwrap();
    }
    let page = w.client.list_conversations(2, None).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.next.is_some());
    assert_eq!(w.client.list_all_conversations().await.unwrap().len(), 5);
    let q = Query::And(vec![Query::filter("contact_ids", "=", w.contact.to_string()), Query::gt("created_at", 0)]);
    let first = w.client.search_conversations(&q, 2, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(w.client.search_all_conversations(&q).await.unwrap().len(), 5);
    w.sim.admin_closes(w.conversation.as_str(), w.admin.as_str()).unwrap();
    w.sim.customer_rates(w.conversation.as_str(), 4, Some("ok")).unwrap();
    let rated = w
        .client
        .search_all_conversations(&Query::And(vec![
            Query::gt("conversation_rating.replied_at", 1),
            Query::eq("state", "closed"),
        ]))
        .await
        .unwrap();
    assert_eq!(rated.len(), 1);
    assert_eq!(rated[0].conversation_rating.as_ref().and_then(|r| r.rating), Some(4));
}

#[tokio::test]
async fn forced_429_is_retried_after_the_window_reset() {
    let w = world().await;
    w.sim.set_rate_limit(1000, Duration::from_secs(1));
    w.sim.set_faults(Faults { rate_limit_next: 1, ..Default::default() });
    let c = w.client.conversation(&w.conversation).await.unwrap();
    assert_eq!(c.id, w.conversation);
    let statuses: Vec<u16> = w.sim.gate().recorder.all().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    assert!(!w.sim.gate().recorder.all()[0].modelled);
    let snap = w.client.last_rate_limit().unwrap();
    assert_eq!(snap.limit, Some(1000));
}

#[tokio::test]
async fn tiny_budget_429_then_success() {
    let w = world().await;
    w.sim.set_rate_limit(1, Duration::from_secs(1));
    w.client.list_admins().await.unwrap();
    assert_eq!(w.client.last_rate_limit().unwrap().remaining, Some(0));
    w.client.list_teams().await.unwrap();
    assert!(w.sim.gate().throttled_count() >= 1);
}

#[tokio::test]
async fn long_rate_limit_wait_is_returned_to_the_caller() {
    let w = world().await;
    w.sim.set_faults(Faults { rate_limit_next: 10, ..Default::default() });
    w.sim.set_rate_limit(1000, Duration::from_secs(30));
    let err = w.client.contact(&w.contact).await.unwrap_err();
    assert!(matches!(err, PortError::RateLimited { retry_after, .. } if retry_after >= Duration::from_secs(5)));
}

#[tokio::test]
async fn server_error_then_success_for_reads_but_not_for_notes() {
    let w = world().await;
    w.sim.set_faults(Faults { fail_next: 1, ..Default::default() });
    w.client.contact(&w.contact).await.unwrap();
    w.sim.set_faults(Faults { fail_next: 1, ..Default::default() });
    let err = w.client.add_note(&w.conversation, &w.admin, "<p>x</p>").await.unwrap_err();
    assert!(err.is_retryable(), "returned to the caller, not resent (no idempotency key)");
    assert_eq!(w.sim.conversation(w.conversation.as_str()).unwrap().parts.len(), 3);
}

#[tokio::test]
async fn merged_contact_answers_410_with_the_new_id() {
    let w = world().await;
    let lead = w
        .sim
        .seed_contact(Contact { role: "lead".into(), email: Some("lead@example.org".into()), ..Default::default() })
        .unwrap();
    w.sim.merge_contacts(&lead, w.contact.as_str()).unwrap();
    let lead = ContactId::parse(lead).unwrap();
    let err = w.client.retrieve_contact(&lead).await.unwrap_err();
    assert!(matches!(err, IntercomError::Merged { ref new_id } if new_id == w.contact.as_str()));
    let port = w.client.contact(&lead).await.unwrap_err();
    assert!(matches!(port, PortError::Merged { ref new_id, .. } if new_id == w.contact.as_str()));
}

#[tokio::test]
async fn duplicate_contact_is_a_conflict_with_the_existing_id() {
    let w = world().await;
    let created = w
        .client
        .create_contact(&ContactWrite {
            email: Some("new@example.org".into()),
            name: Some("New".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.role, "user");
    let err = w
        .client
        .create_contact(&ContactWrite { email: Some("carol@example.org".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(err, IntercomError::Conflict { existing_id: Some(ref id), .. } if id == w.contact.as_str()));
    let mut fields = BTreeMap::new();
    fields.insert("tier".to_string(), FieldValue::Text("gold".into()));
    let updated = w
        .client
        .update_contact(
            &w.contact,
            &ContactWrite { name: Some("Carol B".into()), custom_attributes: fields, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Carol B"));
    assert_eq!(updated.custom_attributes.get("tier"), Some(&json!("gold")));
}

#[tokio::test]
async fn api_changes_emit_signed_webhooks() {
    let w = world().await;
    let (url, got) = receiver().await;
    w.sim.set_webhook_target(Some(url));
    let secret = w.sim.client_secret();

    let part = w.client.add_note(&w.conversation, &w.admin, "<p>Ticket #1 created</p>").await.unwrap();
    let (sig, body) = wait_for_topic(&got, "conversation.admin.noted").await;
    verify_signature(secret.as_bytes(), &body, sig.as_deref()).unwrap();
    assert!(verify_signature(b"wrong", &body, sig.as_deref()).is_err());
    let n = parse_notification(&body).unwrap();
    let NotificationItem::Conversation(ev) = n.item else { panic!("expected a conversation") };
    assert_eq!(ev.event_parts.len(), 1, "only the causing part");
    assert_eq!(ev.event_parts[0].id, part);
    assert_eq!(ev.event_parts[0].kind, PartKind::Note);
    assert_eq!(ev.event_parts[0].app_package_code.as_deref(), Some("intercom-zendesk-bridge"));

    w.client.tag_conversation(&w.conversation, &w.admin, "Escalated").await.unwrap();
    let (sig, body) = wait_for_topic(&got, "conversation_part.tag.created").await;
    verify_signature(secret.as_bytes(), &body, sig.as_deref()).unwrap();
    let NotificationItem::Conversation(ev) = parse_notification(&body).unwrap().item else { panic!() };
    assert!(ev.conversation.tags.contains(&"Escalated".to_string()));

    w.client.change_conversation(&w.conversation, &w.admin, &ConversationChange::Close { body: None }).await.unwrap();
    let (sig, body) = wait_for_topic(&got, "conversation.admin.closed").await;
    verify_signature(secret.as_bytes(), &body, sig.as_deref()).unwrap();

    w.client
        .update_contact(&w.contact, &ContactWrite { name: Some("Caz".into()), ..Default::default() })
        .await
        .unwrap();
    let (sig, body) = wait_for_topic(&got, "contact.user.updated").await;
    verify_signature(secret.as_bytes(), &body, sig.as_deref()).unwrap();
    assert!(String::from_utf8_lossy(&body).contains("+00:00"), "contact items carry ISO times");
    let NotificationItem::Contact(c) = parse_notification(&body).unwrap().item else { panic!() };
    assert_eq!(c.name.as_deref(), Some("Caz"));
    assert!(c.updated_at > Timestamp(0));
}

#[tokio::test]
async fn messenger_writes_on_conversations() {
    let w = world().await;
    let mut attrs = BTreeMap::new();
    attrs.insert("zendesk_ticket_id".to_string(), FieldValue::Text("123".into()));
    w.client.set_conversation_attributes(&w.conversation, &attrs).await.unwrap();
    let mut bad = BTreeMap::new();
    bad.insert("nope".to_string(), FieldValue::Int(1));
    assert!(matches!(
        w.client.set_conversation_attributes(&w.conversation, &bad).await,
        Err(PortError::Rejected { .. })
    ));

    let reply = w.client.reply(&w.conversation, &w.admin, "<p>On it</p>").await.unwrap();
    let c = w.client.conversation(&w.conversation).await.unwrap();
    assert_eq!(c.attributes.get("zendesk_ticket_id"), Some(&FieldValue::Text("123".into())));
    assert_eq!(c.parts.last().map(|p| p.id.clone()), Some(reply));
    assert_eq!(c.waiting_since, None);

    let team = TeamId::parse(w.sim.seed_team("Tier 2", &[w.admin.to_string()])).unwrap();
    w.client
        .change_conversation(
            &w.conversation,
            &w.admin,
            &ConversationChange::Assign { admin: Some(w.admin.clone()), team: Some(team.clone()) },
        )
        .await
        .unwrap();
    let c = w.client.conversation(&w.conversation).await.unwrap();
    assert_eq!(c.team_assignee, Some(team));
    assert_eq!(c.admin_assignee, Some(w.admin.clone()));
    w.client
        .change_conversation(&w.conversation, &w.admin, &ConversationChange::Assign { admin: None, team: None })
        .await
        .unwrap();
    let until = Timestamp(chrono::Utc::now().timestamp() + 3600);
    w.client.change_conversation(&w.conversation, &w.admin, &ConversationChange::Snooze { until }).await.unwrap();
    assert_eq!(w.client.conversation(&w.conversation).await.unwrap().state, ConversationState::Snoozed);
    w.client
        .change_conversation(&w.conversation, &w.admin, &ConversationChange::Close { body: Some("Bye".into()) })
        .await
        .unwrap();
    w.client.change_conversation(&w.conversation, &w.admin, &ConversationChange::Open).await.unwrap();
    let c = w.client.conversation(&w.conversation).await.unwrap();
    assert_eq!(c.state, ConversationState::Open);
    assert_eq!(c.admin_assignee, None);

    w.client.tag_conversation(&w.conversation, &w.admin, "billing").await.unwrap();
    w.client.tag_conversation(&w.conversation, &w.admin, "BILLING").await.unwrap();
    assert_eq!(w.client.conversation(&w.conversation).await.unwrap().tags, vec!["billing".to_string()]);
    w.client.untag_conversation(&w.conversation, &w.admin, "billing").await.unwrap();
    w.client.untag_conversation(&w.conversation, &w.admin, "billing").await.unwrap();
    w.client.untag_conversation(&w.conversation, &w.admin, "never-existed").await.unwrap();
    assert!(w.client.conversation(&w.conversation).await.unwrap().tags.is_empty());

    let contact_reply = w.client.reply_as_contact(&w.conversation, &w.contact, "thanks").await.unwrap();
    assert!(contact_reply.waiting_since.is_some());
}

#[tokio::test]
async fn admins_messages_and_workspace_lists() {
    let w = world().await;
    assert!(w.client.admin_by_email("ANN@example.com").await.unwrap().is_some());
    assert_eq!(w.client.admin_by_email("nobody@example.com").await.unwrap(), None);
    assert_eq!(w.client.retrieve_admin(&w.admin).await.unwrap().email.as_deref(), Some("bot@example.com"));
    assert!(w.client.me().await.unwrap().app.is_some());
    assert_eq!(w.client.list_admins().await.unwrap().len(), 2);
    w.sim.seed_team("Support", &[w.admin.to_string()]);
    assert_eq!(w.client.list_teams().await.unwrap()[0].name, "Support");
    assert_eq!(w.client.list_segments(true).await.unwrap()[0].count, Some(1));

    let inapp = OutboundMessage {
        channel: MessageChannel::InApp,
        from: w.admin.clone(),
        to: w.contact.clone(),
        subject: None,
        body: "<p>Ticket 5 received</p>".into(),
    };
    assert_eq!(w.client.send_message(&inapp).await.unwrap().message_type, "inapp");
    let email =
        OutboundMessage { channel: MessageChannel::Email, subject: Some("Your ticket".into()), ..inapp.clone() };
    assert!(!Messenger::send_message(&w.client, &email).await.unwrap().is_empty());
    let sent = w.sim.gate().recorder.all().into_iter().filter(|e| e.path == "/messages").collect::<Vec<_>>();
    assert_eq!(sent[0].request_body.as_ref().unwrap()["message_type"], "inapp");
    let no_subject = OutboundMessage { channel: MessageChannel::Email, ..inapp };
    assert!(Messenger::send_message(&w.client, &no_subject).await.is_err());

    let tags = w.client.list_tags().await.unwrap();
    assert!(tags.iter().any(|t| t.name == "vip"));
    let created = w.client.create_tag("Fresh").await.unwrap();
    assert_eq!(w.client.create_tag("fresh").await.unwrap().id, created.id, "names are case-insensitive");
    assert_eq!(w.client.resolve_tag("FRESH", false).await.unwrap().map(|t| t.to_string()), Some(created.id));

    w.sim.seed_data_attribute("contact", "tier", "string", true);
    w.sim.seed_data_attribute("company", "region", "string", true);
    let attrs = w.client.list_data_attributes(AttributeModel::Contact).await.unwrap();
    assert_eq!(attrs.len(), 1);
    assert_eq!(attrs[0].full_name.as_deref(), Some("custom_attributes.tier"));

    let created = w
        .client
        .create_conversation_attribute(&NewConversationAttribute {
            name: "zendesk_ticket_url".into(),
            data_type: "string".into(),
            description: None,
        })
        .await
        .unwrap();
    assert!(created.id.is_some());
    assert_eq!(w.client.list_conversation_attributes().await.unwrap().len(), 2);
    let bad = w
        .client
        .create_conversation_attribute(&NewConversationAttribute {
            name: "x".into(),
            data_type: "nope".into(),
            description: None,
        })
        .await;
    assert!(matches!(bad, Err(IntercomError::Permanent { status: 422, .. })));
}

#[tokio::test]
async fn companies_upsert_attach_list_and_contact_tags() {
    let w = world().await;
    w.sim.seed_data_attribute("company", "region", "string", true);
    let mut fields = BTreeMap::new();
    fields.insert("region".to_string(), FieldValue::Text("EMEA".into()));
    let write = CompanyWrite {
        company_id: "globex".into(),
        name: Some("Globex".into()),
        plan: Some("Pro".into()),
        monthly_spend: Some(99.9),
        custom_attributes: fields,
        ..Default::default()
    };
    let created = w.client.upsert_company(&write).await.unwrap();
    assert_eq!(created.plan_name().as_deref(), Some("Pro"));
    assert_eq!(created.monthly_spend, Some(99.0));
    let again =
        w.client.upsert_company(&CompanyWrite { name: Some("Globex Corp".into()), ..write.clone() }).await.unwrap();
    assert_eq!(again.id, created.id, "upsert keyed by company_id");
    let id = CompanyId::parse(created.id.clone()).unwrap();
    assert_eq!(w.client.retrieve_company(&id).await.unwrap().name.as_deref(), Some("Globex Corp"));
    assert_eq!(w.client.list_all_companies().await.unwrap().len(), 1, "companies without contacts are hidden");
    w.client.attach_company(&w.contact, &id).await.unwrap();
    assert_eq!(w.client.list_all_companies().await.unwrap().len(), 2);
    let (first, more) = w.client.list_companies(1, 1).await.unwrap();
    assert_eq!((first.len(), more), (1, true));
    assert!(matches!(
        w.client.attach_company(&w.contact, &CompanyId::parse("missing").unwrap()).await,
        Err(IntercomError::NotFound { .. })
    ));

    let tag = w.client.resolve_tag("churn-risk", true).await.unwrap().unwrap();
    w.client.add_contact_tag(&w.contact, &tag).await.unwrap();
    assert_eq!(w.client.list_contact_tags(&w.contact).await.unwrap().len(), 2);
    w.client.remove_contact_tag(&w.contact, &tag).await.unwrap();
    assert_eq!(w.client.list_contact_tags(&w.contact).await.unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_token_is_a_permanent_401_and_requests_carry_the_version() {
    let w = world().await;
    let bad = client_for(&w.sim, "wrong");
    let err = bad.list_admins().await.unwrap_err();
    assert!(matches!(err, IntercomError::Permanent { status: 401, ref code, .. } if code == "unauthorized"));
    w.client.list_admins().await.unwrap();
    let ex = w.sim.gate().recorder.all().pop().unwrap();
    assert!(ex.headers.contains(&("intercom-version".to_string(), "2.16".to_string())));
    assert!(ex.headers.contains(&("accept".to_string(), "application/json".to_string())));
    assert!(ex.headers.contains(&("authorization".to_string(), "Bearer".to_string())));
}

#[tokio::test]
async fn human_actions_fire_webhooks_without_app_package_code() {
    let w = world().await;
    let conv = w.sim.customer_starts_conversation(w.contact.as_str(), "hello").unwrap();
    w.sim.admin_tags(&conv, w.admin.as_str(), "escalate").unwrap();
    w.sim.admin_assigns(&conv, w.admin.as_str(), AssignTo::Admin(w.admin.to_string())).unwrap();
    w.sim.admin_sets_priority(&conv, w.admin.as_str(), "urgent").unwrap();
    w.sim.edit_contact(w.contact.as_str(), json!({"custom_attributes": {"tier": "gold"}})).unwrap();
    let topics: Vec<String> = w.sim.notifications().into_iter().map(|n| n.topic).collect();
    assert_eq!(
        topics,
        vec![
            "conversation.user.created",
            "conversation_part.tag.created",
            "conversation.admin.assigned",
            "conversation.priority.updated",
            "contact.user.updated"
        ]
    );
    for n in w.sim.notifications() {
        verify_signature(w.sim.client_secret().as_bytes(), n.raw.as_bytes(), Some(&n.signature)).unwrap();
        parse_notification(n.raw.as_bytes()).unwrap();
    }
    let c = w.client.conversation(&ConversationId::parse(conv).unwrap()).await.unwrap();
    assert!(c.parts.iter().all(|p| p.app_package_code.is_none()));
}
