//! The Intercom tour: drives every public endpoint method of `bridge_intercom::IntercomClient`
//! (and every method of its `Messenger` implementation) against a seeded `IntercomSim`, then
//! validates every recorded exchange — our requests and the simulator's responses — against
//! the official Intercom OpenAPI description. Zero violations are allowed, and every client
//! endpoint must have been exercised.
//!
//! A second test proves the check has teeth: a real recorded response with one field renamed
//! and another mistyped must be reported twice.
//!
//! Without the spec file both are skipped (see `Spec::load_or_skip`), but under
//! `BRIDGE_REQUIRE_SPECS=1`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, TagId, TeamId};
use bridge_domain::model::{ConversationChange, FieldValue, MessageChannel, OutboundMessage, Timestamp};
use bridge_domain::ports::{Messenger, PortError};
use bridge_domain::sweep::ConversationFeed;
use bridge_fidelity::{Part, Spec, Violation};
use bridge_intercom::{
    AttributeModel, CompanyWrite, ContactWrite, IntercomClient, IntercomConfig, IntercomError,
    NewConversationAttribute, Query, ReplyKind, UpdateConversation,
};
use bridge_sim::Exchange;
use bridge_sim::common::{Faults, Vendor};
use bridge_sim::intercom::state::{Company, Contact};
use bridge_sim::intercom::{AssignTo, ConversationSeed, IntercomSim, IntercomSimOptions};
use serde_json::{Value, json};

/// Every `(METHOD, spec path template)` the client's endpoint methods use. The tour must hit
/// each of them, and nothing else.
const CLIENT_ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/me"),
    ("GET", "/admins"),
    ("GET", "/admins/{admin_id}"),
    ("GET", "/teams"),
    ("GET", "/tags"),
    ("POST", "/tags"),
    ("GET", "/segments"),
    ("GET", "/data_attributes"),
    ("GET", "/conversations"),
    ("POST", "/conversations/search"),
    ("GET", "/conversations/{conversation_id}"),
    ("PUT", "/conversations/{conversation_id}"),
    ("POST", "/conversations/{conversation_id}/reply"),
    ("POST", "/conversations/{conversation_id}/parts"),
    ("POST", "/conversations/{conversation_id}/tags"),
    ("DELETE", "/conversations/{conversation_id}/tags/{tag_id}"),
    ("GET", "/conversations/attributes"),
    ("POST", "/conversations/attributes"),
    ("POST", "/contacts"),
    ("POST", "/contacts/search"),
    ("GET", "/contacts/find_by_external_id/{external_id}"),
    ("GET", "/contacts/{contact_id}"),
    ("PUT", "/contacts/{contact_id}"),
    ("GET", "/contacts/{contact_id}/companies"),
    ("POST", "/contacts/{contact_id}/companies"),
    ("GET", "/contacts/{contact_id}/tags"),
    ("POST", "/contacts/{contact_id}/tags"),
    ("DELETE", "/contacts/{contact_id}/tags/{tag_id}"),
    ("GET", "/contacts/{contact_id}/segments"),
    ("POST", "/companies"),
    ("GET", "/companies"),
    ("GET", "/companies/{company_id}"),
    ("POST", "/messages"),
];

/// The official spec, or `None` when the test is to be skipped (a message was printed).
fn intercom_spec() -> Option<Spec> {
    Spec::load_or_skip(Vendor::Intercom).unwrap_or_else(|e| panic!("{e}"))
}

fn client_for(sim: &IntercomSim) -> IntercomClient {
    let mut cfg = IntercomConfig::new(sim.base_url().parse().unwrap(), sim.access_token().into());
    cfg.timeout = Duration::from_secs(5);
    IntercomClient::new(cfg).unwrap()
}

/// The spec template an exchange's path matches (literal segments win over parameters).
fn template_of(spec: &Spec, method: &str, path: &str) -> Option<String> {
    let actual: Vec<&str> = path.split('/').skip(1).collect();
    let mut best: Option<(Vec<u8>, String)> = None;
    for op in spec.operations() {
        let Some((m, template)) = op.split_once(' ') else {
            continue;
        };
        if !m.eq_ignore_ascii_case(method) {
            continue;
        }
        let segments: Vec<&str> = template.split('/').skip(1).collect();
        if segments.len() != actual.len() {
            continue;
        }
        let mut rank = Vec::new();
        let mut ok = true;
        for (seg, got) in segments.iter().zip(&actual) {
            if seg.starts_with('{') && seg.ends_with('}') {
                rank.push(1);
            } else if seg == got {
                rank.push(0);
            } else {
                ok = false;
                break;
            }
        }
        if ok && best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, template.to_owned()));
        }
    }
    best.map(|(_, t)| t)
}

fn show(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("{v}\n")).collect()
}

struct World {
    sim: IntercomSim,
    client: IntercomClient,
    bot: AdminId,
    ann: AdminId,
    team: TeamId,
    carol: ContactId,
    acme: CompanyId,
    vip: TagId,
    conversation: ConversationId,
    lead: ContactId,
}

/// Seeds admins, teams, tags, segments, contacts, companies, data attributes, conversation
/// attributes and conversations with several parts.
async fn world() -> World {
    let sim = IntercomSim::start(IntercomSimOptions::default()).await.unwrap();
    let client = client_for(&sim);
    let bot = sim.seed_admin("Bridge Bot", "bot@example.com");
    let ann = sim.seed_admin("Ann Agent", "ann@example.com");
    let team = sim.seed_team("Tier 2", &[bot.clone(), ann.clone()]);
    let vip = sim.seed_tag("vip").unwrap();
    sim.seed_tag("billing").unwrap();
    sim.seed_data_attribute("contact", "tier", "string", true);
    sim.seed_data_attribute("contact", "email", "string", false);
    sim.seed_data_attribute("company", "region", "string", true);
    sim.seed_conversation_attribute("zendesk_ticket_id", "string");
    sim.seed_conversation_attribute("escalated", "boolean");

    let acme = sim.seed_company(Company {
        company_id: "acme".into(),
        name: Some("Acme".into()),
        plan: Some("Enterprise".into()),
        monthly_spend: 900,
        size: Some(120),
        website: Some("https://acme.example".into()),
        industry: Some("Manufacturing".into()),
        tag_ids: vec![vip.clone()],
        ..Default::default()
    });
    let mut other_companies = Vec::new();
    for i in 0..4 {
        other_companies.push(sim.seed_company(Company {
            company_id: format!("co-{i}"),
            name: Some(format!("Company {i}")),
            ..Default::default()
        }));
    }
    let mut attrs = serde_json::Map::new();
    attrs.insert("tier".into(), json!("gold"));
    let carol = sim
        .seed_contact(Contact {
            email: Some("carol@example.org".into()),
            external_id: Some("u-1".into()),
            name: Some("Carol".into()),
            phone: Some("+15550100".into()),
            company_ids: vec![acme.clone()],
            tag_ids: vec![vip.clone()],
            custom_attributes: attrs,
            ..Default::default()
        })
        .unwrap();
    // Contacts attached to the other companies (companies without contacts are hidden), and
    // enough of them for contact search to span several pages.
    for i in 0..7 {
        sim.seed_contact(Contact {
            email: Some(format!("p{i}@paged.test")),
            name: Some(format!("Paged {i}")),
            company_ids: other_companies.get(i % 4).cloned().into_iter().collect(),
            ..Default::default()
        })
        .unwrap();
    }
    let lead = sim
        .seed_contact(Contact { role: "lead".into(), email: Some("lead@example.org".into()), ..Default::default() })
        .unwrap();
    sim.seed_segment("Paying", std::slice::from_ref(&carol));
    sim.seed_segment("Everyone", &[carol.clone(), lead.clone()]);

    let conversation = sim
        .seed_conversation(ConversationSeed {
            contact_id: carol.clone(),
            body: "<p>Help please</p>".into(),
            subject: Some("Broken".into()),
            extra_parts: 5,
            admin_id: Some(bot.clone()),
            team_assignee_id: Some(team.clone()),
            priority: Some("high".into()),
            tags: vec!["vip".into()],
            ..Default::default()
        })
        .unwrap();
    for i in 0..5 {
        let id = sim
            .seed_conversation(ConversationSeed {
                contact_id: carol.clone(),
                body: format!("<p>question {i}</p>"),
                extra_parts: i,
                admin_id: Some(ann.clone()),
                state: (i == 2).then(|| "closed".to_string()),
                ..Default::default()
            })
            .unwrap();
        if i == 2 {
            sim.customer_rates(&id, 5, Some("great")).unwrap();
        }
    }
    sim.admin_assigns(&conversation, &ann, AssignTo::Admin(ann.clone())).unwrap();
    sim.customer_replies(&conversation, "<p>any news?</p>").unwrap();

    World {
        client,
        bot: AdminId::parse(bot).unwrap(),
        ann: AdminId::parse(ann).unwrap(),
        team: TeamId::parse(team).unwrap(),
        carol: ContactId::parse(carol).unwrap(),
        acme: CompanyId::parse(acme).unwrap(),
        vip: TagId::parse(vip).unwrap(),
        conversation: ConversationId::parse(conversation).unwrap(),
        lead: ContactId::parse(lead).unwrap(),
        sim,
    }
}

/// Calls every endpoint method (and every `Messenger` method), including pagination over
/// several pages, 404/409/410/422/400 errors and a 429 that is retried.
async fn tour(w: &World) {
    let c = &w.client;

    // ---- admins, teams, workspace ----
    assert!(c.me().await.unwrap().app.is_some());
    assert_eq!(c.list_admins().await.unwrap().len(), 2);
    assert_eq!(c.retrieve_admin(&w.bot).await.unwrap().email.as_deref(), Some("bot@example.com"));
    assert!(matches!(c.retrieve_admin(&AdminId::parse("999999").unwrap()).await, Err(IntercomError::NotFound { .. })));
    assert_eq!(c.list_teams().await.unwrap()[0].name, "Tier 2");
    assert_eq!(Messenger::admin_by_email(c, "ANN@example.com").await.unwrap(), Some(w.ann.clone()));
    assert_eq!(c.list_segments(true).await.unwrap().len(), 2);
    assert_eq!(c.list_segments(false).await.unwrap().len(), 2);

    // ---- tags ----
    assert!(c.list_tags().await.unwrap().iter().any(|t| t.name == "vip"));
    let fresh = c.create_tag("Fresh").await.unwrap();
    assert_eq!(c.create_tag("fresh").await.unwrap().id, fresh.id);
    assert_eq!(c.resolve_tag("FRESH", false).await.unwrap().map(|t| t.to_string()), Some(fresh.id.clone()));
    assert_eq!(c.resolve_tag("nope-never", false).await.unwrap(), None);

    // ---- attributes ----
    assert_eq!(c.list_data_attributes(AttributeModel::Contact).await.unwrap().len(), 2);
    assert_eq!(c.list_data_attributes(AttributeModel::Company).await.unwrap().len(), 1);
    let created = c
        .create_conversation_attribute(&NewConversationAttribute {
            name: "zendesk_ticket_url".into(),
            data_type: "string".into(),
            description: Some("Link to the Zendesk ticket".into()),
        })
        .await
        .unwrap();
    assert!(created.id.is_some());
    assert_eq!(c.list_conversation_attributes().await.unwrap().len(), 3);
    // ---- conversations: read, list, search (several pages) ----
    let conv = c.retrieve_conversation(&w.conversation, false).await.unwrap();
    assert!(conv.conversation_parts.is_some());
    c.retrieve_conversation(&w.conversation, true).await.unwrap();
    let domain = Messenger::conversation(c, &w.conversation).await.unwrap();
    assert!(domain.parts.len() > 3);
    assert!(matches!(
        c.retrieve_conversation(&ConversationId::parse("404404").unwrap(), false).await,
        Err(IntercomError::NotFound { .. })
    ));
    let first = c.list_conversations(2, None).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let second = c.list_conversations(2, first.next.clone()).await.unwrap();
    assert!(second.next.is_some());
    assert_eq!(c.list_all_conversations().await.unwrap().len(), 6);
    let by_contact =
        Query::And(vec![Query::filter("contact_ids", "=", w.carol.to_string()), Query::gt("created_at", 0)]);
    let page = c.search_conversations(&by_contact, 2, None).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let page2 = c.search_conversations(&by_contact, 2, page.next.clone()).await.unwrap();
    let page3 = c.search_conversations(&by_contact, 2, page2.next.clone()).await.unwrap();
    assert!(page3.next.is_none());
    assert_eq!(c.search_all_conversations(&by_contact).await.unwrap().len(), 6);
    let rated = c
        .search_all_conversations(&Query::And(vec![
            Query::gt("conversation_rating.replied_at", 1),
            Query::eq("state", "closed"),
        ]))
        .await
        .unwrap();
    assert_eq!(rated.len(), 1);
    // The repair sweeps' feeds: sorted searches, 150 a page.
    let changed = ConversationFeed::changed_conversations(c, Timestamp(0), None).await.unwrap();
    assert_eq!(changed.items.len(), 6);
    assert!(changed.items.windows(2).all(|p| p[0].updated_at <= p[1].updated_at), "oldest change first");
    let now = chrono_now();
    let waiting = ConversationFeed::waiting_conversations(c, Timestamp(0), Timestamp(now), None).await.unwrap();
    assert!(!waiting.items.is_empty());
    assert!(waiting.next.is_none());

    // ---- conversations: writes ----
    let mut attrs = BTreeMap::new();
    attrs.insert("zendesk_ticket_id".to_string(), FieldValue::Text("123".into()));
    c.update_conversation(
        &w.conversation,
        &UpdateConversation { read: Some(true), title: Some("Broken widget".into()), custom_attributes: attrs.clone() },
    )
    .await
    .unwrap();
    Messenger::set_conversation_attributes(c, &w.conversation, &attrs).await.unwrap();
    let mut bad = BTreeMap::new();
    bad.insert("nope".to_string(), FieldValue::Int(1));
    assert!(matches!(
        Messenger::set_conversation_attributes(c, &w.conversation, &bad).await,
        Err(PortError::Rejected { .. })
    ));
    c.reply_as_admin(&w.conversation, &w.bot, ReplyKind::Note, "<p>internal</p>").await.unwrap();
    c.reply_as_admin(&w.conversation, &w.bot, ReplyKind::Comment, "<p>hi</p>").await.unwrap();
    Messenger::add_note(c, &w.conversation, &w.bot, "<p>Ticket #1 created</p>").await.unwrap();
    Messenger::reply(c, &w.conversation, &w.bot, "<p>On it</p>").await.unwrap();
    let file = bridge_domain::model::FileData {
        name: "invoice.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.4".to_vec(),
    };
    let with_file = c
        .reply_with_files(
            &w.conversation,
            &w.bot,
            ReplyKind::Comment,
            "<p>Your invoice</p>",
            std::slice::from_ref(&file),
        )
        .await
        .unwrap();
    let parts = with_file.conversation_parts.unwrap_or_default().conversation_parts;
    let sent = parts.iter().rev().find_map(|p| p.attachments.clone()).unwrap().remove(0);
    let attachment = bridge_domain::model::Attachment {
        name: sent.name.clone(),
        url: sent.url.clone(),
        content_type: sent.content_type.clone(),
        size: sent.filesize,
    };
    let got = Messenger::fetch_part_file(c, &attachment, 1024).await.unwrap();
    assert_eq!(got, bridge_domain::model::Download::File(file));
    c.reply_as_contact(&w.conversation, &w.carol, "thanks").await.unwrap();
    c.manage_conversation(
        &w.conversation,
        &w.bot,
        &ConversationChange::Assign { admin: Some(w.bot.clone()), team: Some(w.team.clone()) },
    )
    .await
    .unwrap();
    let changes = [
        ConversationChange::Assign { admin: None, team: None },
        ConversationChange::Snooze { until: Timestamp(chrono_now() + 3600) },
        ConversationChange::Close { body: Some("Bye".into()) },
        ConversationChange::Open,
        ConversationChange::Close { body: None },
        ConversationChange::Open,
    ];
    for change in &changes {
        Messenger::change_conversation(c, &w.conversation, &w.bot, change).await.unwrap();
    }
    let billing = c.resolve_tag("billing", false).await.unwrap().unwrap();
    c.add_conversation_tag(&w.conversation, &billing, &w.bot).await.unwrap();
    c.remove_conversation_tag(&w.conversation, &billing, &w.bot).await.unwrap();
    assert!(matches!(
        c.remove_conversation_tag(&w.conversation, &billing, &w.bot).await,
        Err(IntercomError::NotFound { .. })
    ));
    Messenger::tag_conversation(c, &w.conversation, &w.bot, "Escalated").await.unwrap();
    Messenger::untag_conversation(c, &w.conversation, &w.bot, "Escalated").await.unwrap();
    Messenger::untag_conversation(c, &w.conversation, &w.bot, "never-existed").await.unwrap();

    // ---- contacts ----
    let carol = c.retrieve_contact(&w.carol).await.unwrap();
    assert_eq!(carol.email.as_deref(), Some("carol@example.org"));
    let domain = Messenger::contact(c, &w.carol).await.unwrap();
    assert_eq!(domain.tags, vec!["vip".to_string()]);
    assert!(matches!(
        c.retrieve_contact(&ContactId::parse("nope").unwrap()).await,
        Err(IntercomError::NotFound { .. })
    ));
    assert!(c.find_contact_by_external_id("u-1").await.unwrap().is_some());
    assert!(c.find_contact_by_external_id("nobody").await.unwrap().is_none());
    assert!(Messenger::contact_by_external_id(c, "u-1").await.unwrap().is_some());
    let paged = Query::filter("email", "~", "paged.test");
    let p1 = c.search_contacts(&paged, 3, None).await.unwrap();
    assert_eq!((p1.items.len(), p1.total_count), (3, Some(7)));
    let p2 = c.search_contacts(&paged, 3, p1.next.clone()).await.unwrap();
    let p3 = c.search_contacts(&paged, 3, p2.next.clone()).await.unwrap();
    assert_eq!(p3.items.len(), 1);
    assert!(p3.next.is_none());
    assert_eq!(c.search_all_contacts(&paged).await.unwrap().len(), 7);
    assert_eq!(Messenger::contacts_by_email(c, "CAROL@example.org").await.unwrap().len(), 1);
    let new = c
        .create_contact(&ContactWrite {
            role: Some("user".into()),
            external_id: Some("u-2".into()),
            email: Some("new@example.org".into()),
            phone: Some("+15550101".into()),
            name: Some("New".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(new.role, "user");
    let conflict = c
        .create_contact(&ContactWrite { email: Some("carol@example.org".into()), ..Default::default() })
        .await
        .unwrap_err();
    assert!(matches!(conflict, IntercomError::Conflict { existing_id: Some(ref id), .. } if id == w.carol.as_str()));
    let mut fields = BTreeMap::new();
    fields.insert("tier".to_string(), FieldValue::Text("platinum".into()));
    let updated = c
        .update_contact(
            &w.carol,
            &ContactWrite { name: Some("Carol B".into()), custom_attributes: fields, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Carol B"));
    w.sim.merge_contacts(w.lead.as_str(), w.carol.as_str()).unwrap();
    assert!(matches!(
        c.retrieve_contact(&w.lead).await,
        Err(IntercomError::Merged { ref new_id }) if new_id == w.carol.as_str()
    ));
    assert!(matches!(Messenger::contact(c, &w.lead).await, Err(PortError::Merged { .. })));

    // contact tags and segments
    let churn = c.resolve_tag("churn-risk", true).await.unwrap().unwrap();
    c.add_contact_tag(&w.carol, &churn).await.unwrap();
    assert_eq!(c.list_contact_tags(&w.carol).await.unwrap().len(), 2);
    c.remove_contact_tag(&w.carol, &churn).await.unwrap();
    assert_eq!(c.list_contact_tags(&w.carol).await.unwrap().len(), 1);
    assert_eq!(c.list_contact_segments(&w.carol).await.unwrap().len(), 2);
    assert_eq!(Messenger::contact_segments(c, &w.carol).await.unwrap().len(), 2);
    let _ = &w.vip;

    // ---- companies ----
    let mut company_fields = BTreeMap::new();
    company_fields.insert("region".to_string(), FieldValue::Text("EMEA".into()));
    let write = CompanyWrite {
        company_id: "globex".into(),
        name: Some("Globex".into()),
        plan: Some("Pro".into()),
        monthly_spend: Some(99.9),
        size: Some(40),
        website: Some("https://globex.example".into()),
        industry: Some("Energy".into()),
        custom_attributes: company_fields,
    };
    let globex = c.upsert_company(&write).await.unwrap();
    let again = c.upsert_company(&CompanyWrite { name: Some("Globex Corp".into()), ..write.clone() }).await.unwrap();
    assert_eq!(again.id, globex.id);
    let globex_id = CompanyId::parse(globex.id.clone()).unwrap();
    assert_eq!(c.retrieve_company(&globex_id).await.unwrap().name.as_deref(), Some("Globex Corp"));
    assert!(matches!(
        c.retrieve_company(&CompanyId::parse("missing").unwrap()).await,
        Err(IntercomError::NotFound { .. })
    ));
    assert_eq!(Messenger::company(c, &w.acme).await.unwrap().monthly_spend, Some(900.0));
    c.attach_company(&w.carol, &globex_id).await.unwrap();
    assert!(matches!(
        c.attach_company(&w.carol, &CompanyId::parse("missing").unwrap()).await,
        Err(IntercomError::NotFound { .. })
    ));
    assert_eq!(c.list_contact_companies(&w.carol).await.unwrap().len(), 2);
    assert_eq!(Messenger::contact_companies(c, &w.carol).await.unwrap().len(), 2);
    let (page1, more) = c.list_companies(1, 2).await.unwrap();
    assert_eq!((page1.len(), more), (2, true));
    let (_, more) = c.list_companies(2, 2).await.unwrap();
    assert!(more);
    let (last, more) = c.list_companies(3, 2).await.unwrap();
    assert_eq!((last.len(), more), (2, false));
    assert_eq!(c.list_all_companies().await.unwrap().len(), 6);

    // ---- messages ----
    let inapp = OutboundMessage {
        channel: MessageChannel::InApp,
        from: w.bot.clone(),
        to: w.carol.clone(),
        subject: None,
        body: "<p>Ticket 5 received</p>".into(),
    };
    assert_eq!(c.send_message(&inapp).await.unwrap().message_type, "inapp");
    let email =
        OutboundMessage { channel: MessageChannel::Email, subject: Some("Your ticket".into()), ..inapp.clone() };
    assert!(!Messenger::send_message(c, &email).await.unwrap().is_empty());

    // ---- 429, then a retry that succeeds ----
    w.sim.set_rate_limit(1000, Duration::from_secs(1));
    w.sim.set_faults(Faults { rate_limit_next: 1, ..Default::default() });
    let before = w.sim.gate().recorder.all().len();
    c.retrieve_conversation(&w.conversation, false).await.unwrap();
    let statuses: Vec<u16> = w.sim.gate().recorder.all()[before..].iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![429, 200]);
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_client_endpoint_and_simulator_answer_conforms_to_the_official_spec() {
    let Some(spec) = intercom_spec() else { return };
    let w = world().await;
    tour(&w).await;
    let exchanges = w.sim.gate().recorder.all();
    assert!(exchanges.len() > 80, "only {} exchanges", exchanges.len());

    // Statuses covered: success plus the error paths the issue asks for.
    let statuses: BTreeSet<u16> = exchanges.iter().map(|e| e.status).collect();
    for status in [200, 400, 404, 409, 410, 429] {
        assert!(statuses.contains(&status), "no {status} exchange recorded: {statuses:?}");
    }

    // Every exchange conforms.
    let violations = spec.check_all(&exchanges);
    assert!(
        violations.is_empty(),
        "{} violation(s) of the official Intercom spec:\n{}",
        violations.len(),
        show(&violations)
    );

    // Every client endpoint was exercised, and nothing else was called.
    let hit: BTreeSet<(String, String)> = exchanges
        .iter()
        .map(|e| {
            let template = template_of(&spec, &e.method, &e.path)
                .unwrap_or_else(|| panic!("no spec template for {} {}", e.method, e.path));
            (e.method.clone(), template)
        })
        .collect();
    let expected: BTreeSet<(String, String)> =
        CLIENT_ENDPOINTS.iter().map(|(m, t)| ((*m).to_owned(), (*t).to_owned())).collect();
    let missing: Vec<_> = expected.difference(&hit).collect();
    let unexpected: Vec<_> = hit.difference(&expected).collect();
    assert!(missing.is_empty(), "client endpoints not exercised: {missing:?}");
    assert!(unexpected.is_empty(), "endpoints called but not listed: {unexpected:?}");
}

fn recorded(exchanges: &[Exchange], method: &str, template: &str, spec: &Spec) -> Exchange {
    exchanges
        .iter()
        .find(|e| {
            e.method == method && e.status == 200 && template_of(spec, &e.method, &e.path).as_deref() == Some(template)
        })
        .cloned()
        .unwrap_or_else(|| panic!("no recorded 200 for {method} {template}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn renamed_and_mistyped_fields_in_real_recordings_are_reported() {
    let Some(spec) = intercom_spec() else { return };
    let w = world().await;
    w.client.retrieve_conversation(&w.conversation, false).await.unwrap();
    w.client.retrieve_contact(&w.carol).await.unwrap();
    let exchanges = w.sim.gate().recorder.all();

    // Conversation: `id` renamed to `idd`, `created_at` sent as text.
    let original = recorded(&exchanges, "GET", "/conversations/{conversation_id}", &spec);
    assert!(spec.check(&original).is_empty(), "{}", show(&spec.check(&original)));
    let mut broken = original.clone();
    let body = broken.response_body.as_mut().unwrap().as_object_mut().unwrap();
    let id = body.remove("id").unwrap();
    body.insert("idd".into(), id);
    body.insert("created_at".into(), json!("yesterday"));
    let v = spec.check(&broken);
    assert!(
        v.iter().any(|v| v.part == Part::ResponseBody && v.message.contains("idd")),
        "rename not reported:\n{}",
        show(&v)
    );
    assert!(
        v.iter().any(|v| v.part == Part::ResponseBody && v.pointer == "/created_at"),
        "mistype not reported:\n{}",
        show(&v)
    );

    // Contact: `email` renamed to `e_mail`, `tags` mistyped as a string.
    let original = recorded(&exchanges, "GET", "/contacts/{contact_id}", &spec);
    assert!(spec.check(&original).is_empty(), "{}", show(&spec.check(&original)));
    let mut broken = original;
    let body = broken.response_body.as_mut().unwrap().as_object_mut().unwrap();
    let email = body.remove("email").unwrap();
    body.insert("e_mail".into(), email);
    body.insert("has_hard_bounced".into(), Value::String("no".into()));
    let v = spec.check(&broken);
    assert!(
        v.iter().any(|v| v.part == Part::ResponseBody && v.message.contains("e_mail")),
        "rename not reported:\n{}",
        show(&v)
    );
    assert!(
        v.iter().any(|v| v.part == Part::ResponseBody && v.pointer == "/has_hard_bounced"),
        "mistype not reported:\n{}",
        show(&v)
    );

    // Our side: a recorded request with a renamed and a mistyped field.
    let original = recorded(&exchanges, "GET", "/conversations/{conversation_id}", &spec);
    let mut request = original.clone();
    request.method = "PUT".into();
    request.response_body = None;
    request.modelled = false;
    request.headers.push(("content-type".into(), "application/json".into()));
    request.request_body = Some(json!({"reed": true, "title": 42}));
    let v = spec.check(&request);
    assert!(
        v.iter().any(|v| v.part == Part::RequestBody && v.message.contains("reed")),
        "request rename not reported:\n{}",
        show(&v)
    );
    assert!(
        v.iter().any(|v| v.part == Part::RequestBody && v.pointer == "/title"),
        "request mistype not reported:\n{}",
        show(&v)
    );
}
