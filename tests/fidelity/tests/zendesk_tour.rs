//! The Zendesk tour: drives every public endpoint method of `bridge_zendesk::ZendeskClient`
//! (and through it the `Helpdesk` port) against a seeded `ZendeskSim`, then validates every
//! recorded exchange — each request the client sent and each response the simulator returned —
//! against the official Zendesk OpenAPI file. Zero violations allowed; a renamed or mistyped
//! field anywhere fails the tour.
//!
//! Without the spec file the tests are skipped (see `Spec::load_or_skip`), but under
//! `BRIDGE_REQUIRE_SPECS=1`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bridge_domain::ids::{OrganizationId, TicketId, UserId};
use bridge_domain::model::Timestamp;
use bridge_domain::ports::Helpdesk;
use bridge_domain::sweep::TicketFeed;
use bridge_fidelity::{Part, Spec, Violation};
use bridge_sim::Exchange;
use bridge_sim::Faults;
use bridge_sim::common::Vendor;
use bridge_sim::zendesk::{OrgInput, TicketInput, UserInput, ZendeskSim, ZendeskSimOptions};
use bridge_zendesk::setup::{Change, WebhookSpec};
use bridge_zendesk::{
    Auth, CommentWrite, ExportStart, MergeRequest, OrganizationWrite, RatingsQuery, TicketWrite, UserWrite,
    ZendeskClient, ZendeskConfig, ZendeskError,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// Every (method, spec path template) the client can call. The tour must hit each of them.
const CLIENT_ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/api/v2/groups"),
    ("GET", "/api/v2/incremental/tickets/cursor"),
    ("GET", "/api/v2/incremental/users/cursor"),
    ("GET", "/api/v2/job_statuses/{job_status_id}"),
    ("GET", "/api/v2/job_statuses/show_many"),
    ("GET", "/api/v2/organization_fields"),
    ("GET", "/api/v2/organizations/{organization_id}"),
    ("POST", "/api/v2/organizations/create_or_update"),
    ("GET", "/api/v2/organizations/search"),
    ("GET", "/api/v2/satisfaction_ratings"),
    ("GET", "/api/v2/ticket_fields"),
    ("GET", "/api/v2/ticket_metrics"),
    ("GET", "/api/v2/tickets"),
    ("POST", "/api/v2/tickets"),
    ("GET", "/api/v2/tickets/{ticket_id}"),
    ("PUT", "/api/v2/tickets/{ticket_id}"),
    ("GET", "/api/v2/tickets/{ticket_id}/comments"),
    ("POST", "/api/v2/tickets/{ticket_id}/merge"),
    ("GET", "/api/v2/tickets/{ticket_id}/metrics"),
    ("PUT", "/api/v2/tickets/{ticket_id}/tags"),
    ("DELETE", "/api/v2/tickets/{ticket_id}/tags"),
    ("GET", "/api/v2/tickets/show_many"),
    ("GET", "/api/v2/triggers"),
    ("POST", "/api/v2/triggers"),
    ("PUT", "/api/v2/triggers/{trigger_id}"),
    ("POST", "/api/v2/uploads"),
    ("GET", "/api/v2/user_fields"),
    ("GET", "/api/v2/users/{user_id}"),
    ("PUT", "/api/v2/users/{user_id}"),
    ("POST", "/api/v2/users/create_or_update"),
    ("POST", "/api/v2/users/create_or_update_many"),
    ("GET", "/api/v2/users/me"),
    ("GET", "/api/v2/users/search"),
    ("GET", "/api/v2/users/show_many"),
];

/// Client endpoints of the Webhooks API, which the Support OpenAPI file lacks (allow-listed in
/// `bridge_fidelity::ALLOW_LIST`: header checks only). The tour must hit each of them too.
const ALLOW_LISTED_CLIENT_ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/api/v2/webhooks"),
    ("POST", "/api/v2/webhooks"),
    ("PUT", "/api/v2/webhooks/{webhook_id}"),
    ("GET", "/api/v2/webhooks/{webhook_id}/signing_secret"),
];

/// `METHOD /template` of an allow-listed Webhooks API exchange.
fn webhooks_template(exchange: &Exchange) -> Option<(String, String)> {
    let path = exchange.path.strip_suffix(".json").unwrap_or(&exchange.path);
    let rest = path.strip_prefix("/api/v2/webhooks")?;
    let template = match rest.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().as_slice() {
        [] => "/api/v2/webhooks".to_owned(),
        [_] => "/api/v2/webhooks/{webhook_id}".to_owned(),
        [_, tail] => format!("/api/v2/webhooks/{{webhook_id}}/{tail}"),
        _ => return None,
    };
    Some((exchange.method.to_ascii_uppercase(), template))
}

/// The official spec, or `None` when the test is to be skipped (a message was printed).
fn spec() -> Option<Spec> {
    Spec::load_or_skip(Vendor::Zendesk).unwrap_or_else(|e| panic!("{e}"))
}

fn client(sim: &ZendeskSim) -> ZendeskClient {
    ZendeskClient::new(ZendeskConfig {
        base_url: sim.base_url().parse().unwrap(),
        auth: Auth::ApiToken {
            email: ZendeskSimOptions::default().email,
            token: ZendeskSimOptions::default().api_token.into(),
        },
        timeout: Duration::from_secs(10),
    })
    .unwrap()
    .with_job_wait(Duration::from_secs(15))
}

fn show(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("  {v}\n")).collect()
}

/// `METHOD /template` of the spec operation an exchange hits (concrete segments win).
fn template_of(operations: &[(String, Vec<String>)], exchange: &Exchange) -> Option<(String, String)> {
    let path = exchange.path.split('?').next().unwrap_or_default();
    let path = path.strip_suffix(".json").unwrap_or(path);
    let actual: Vec<&str> = path.split('/').skip(1).collect();
    operations
        .iter()
        .filter(|(key, segments)| {
            key.split_once(' ').is_some_and(|(m, _)| m == exchange.method)
                && segments.len() == actual.len()
                && segments.iter().zip(&actual).all(|(s, a)| (s.starts_with('{') && s.ends_with('}')) || s == a)
        })
        .min_by_key(|(_, segments)| segments.iter().map(|s| u8::from(s.starts_with('{'))).collect::<Vec<_>>())
        .and_then(|(key, _)| key.split_once(' ').map(|(m, t)| (m.to_owned(), t.to_owned())))
}

fn spec_operations(spec: &Spec) -> Vec<(String, Vec<String>)> {
    spec.operations()
        .into_iter()
        .map(|op| {
            let template = op.split_once(' ').map(|(_, t)| t).unwrap_or_default();
            let template = template.strip_suffix(".json").unwrap_or(template);
            let segments = template.split('/').skip(1).map(str::to_owned).collect();
            (op, segments)
        })
        .collect()
}

fn end_user(name: &str, email: &str, external_id: &str, org: Option<u64>) -> UserInput {
    UserInput {
        name: Some(name.into()),
        email: Some(email.into()),
        external_id: Some(external_id.into()),
        organization_id: org,
        phone: Some("+15550100".into()),
        user_fields: Some(BTreeMap::from([("intercom_id".to_owned(), json!(format!("ic-{external_id}")))])),
        ..UserInput::default()
    }
}

fn new_ticket(subject: &str, requester: u64, external_id: &str, org: Option<u64>) -> TicketWrite {
    TicketWrite {
        subject: Some(subject.into()),
        comment: Some(CommentWrite {
            html_body: Some("<p>Transcript from Intercom</p>".into()),
            public: false,
            ..CommentWrite::default()
        }),
        requester_id: Some(requester),
        organization_id: org,
        priority: Some("high".into()),
        tags: Some(vec!["intercom".into(), "plan_pro".into()]),
        external_id: Some(external_id.into()),
        ..TicketWrite::default()
    }
}

/// Seeds the account; returns (agent, end users, orgs, seeded tickets).
fn seed(sim: &ZendeskSim) -> (u64, Vec<u64>, Vec<u64>, Vec<u64>) {
    let agent = sim.add_agent("Grace Agent", "grace@example.com").unwrap();
    sim.add_agent("Linus Agent", "linus@example.com").unwrap();
    for name in ["Tier 1", "Tier 2", "Billing", "Escalations", "VIP"] {
        sim.add_group(name);
    }
    sim.add_ticket_field("Plan", "tagger", &[("Pro", "plan_pro"), ("Free", "plan_free")], None);
    sim.add_ticket_field("VIP", "checkbox", &[], Some("vip"));
    sim.add_ticket_field("Intercom link", "text", &[], None);
    sim.add_user_field("intercom_id", "Intercom id", "text");
    sim.add_user_field("plan", "Plan", "text");
    sim.add_organization_field("plan", "Plan", "text");
    let orgs: Vec<u64> = [("Acme", "acme"), ("Globex", "globex")]
        .iter()
        .map(|(name, ext)| {
            sim.add_organization(OrgInput {
                name: Some((*name).into()),
                external_id: Some(format!("ic-company-{ext}")),
                domain_names: Some(vec![format!("{ext}.example")]),
                tags: Some(vec!["customer".into()]),
                organization_fields: Some(BTreeMap::from([("plan".to_owned(), json!("pro"))])),
                ..OrgInput::default()
            })
            .unwrap()
        })
        .collect();
    let users: Vec<u64> = [
        ("Ada", "ada@acme.example", "u-ada", Some(orgs[0])),
        ("Bob", "bob@globex.example", "u-bob", Some(orgs[1])),
        ("Cy", "cy@example.com", "u-cy", None),
        ("Di", "di@example.com", "u-di", None),
    ]
    .iter()
    .map(|(name, email, ext, org)| sim.add_user(end_user(name, email, ext, *org)).unwrap())
    .collect();
    let mut tickets = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let channel = if i % 2 == 0 { "web" } else { "email" };
        let id = sim.submit_ticket(*user, &format!("Seeded problem {i}"), "It does not work", channel).unwrap();
        sim.comment(agent, id, "Looking into it", true).unwrap();
        sim.comment(agent, id, "Internal: check logs", false).unwrap();
        sim.comment(*user, id, "Thanks!", true).unwrap();
        tickets.push(id);
    }
    // Assigned (Zendesk requires an assignee to solve), then CSAT: good (with comment), bad,
    // offered; one ticket closed.
    let tier1 = sim.add_group("Solvers");
    for id in &tickets {
        sim.agent_update(
            agent,
            *id,
            TicketInput { group_id: Some(tier1), assignee_id: Some(agent), ..TicketInput::default() },
        )
        .unwrap();
    }
    sim.set_status(agent, tickets[0], "solved").unwrap();
    sim.rate(tickets[0], "good", Some("Great support")).unwrap();
    sim.set_status(agent, tickets[1], "solved").unwrap();
    sim.rate(tickets[1], "bad", None).unwrap();
    sim.set_status(agent, tickets[2], "solved").unwrap();
    sim.rate(tickets[2], "offered", None).unwrap();
    sim.set_status(agent, tickets[2], "closed").unwrap();
    (agent, users, orgs, tickets)
}

/// Runs every client endpoint against the simulator; returns the recorded exchanges.
async fn tour() -> Vec<Exchange> {
    let sim = ZendeskSim::start(ZendeskSimOptions { incremental_rate_limit: 1_000, ..ZendeskSimOptions::default() })
        .await
        .unwrap();
    let (agent, users, orgs, seeded) = seed(&sim);
    let zd = client(&sim);

    // --- people ------------------------------------------------------------------------------
    let me = zd.me().await.unwrap();
    assert_eq!(zd.own_user_id().await.unwrap(), me.id);
    assert_eq!(zd.show_user(users[0]).await.unwrap().id, users[0]);
    assert_eq!(zd.show_many_users(&users).await.unwrap().len(), users.len());
    assert_eq!(zd.search_users_by_email("ada@acme.example").await.unwrap().len(), 1);
    assert_eq!(zd.search_users_by_external_id("u-bob").await.unwrap().len(), 1);
    let created = zd
        .create_or_update_user(&UserWrite {
            name: Some("Eve".into()),
            email: Some("eve@example.com".into()),
            external_id: Some("u-eve".into()),
            user_fields: BTreeMap::from([("plan".to_owned(), json!("free"))]),
            skip_verify_email: Some(true),
            ..UserWrite::default()
        })
        .await
        .unwrap();
    assert!(created.created);
    let updated = zd
        .create_or_update_user(&UserWrite {
            name: Some("Eve Updated".into()),
            external_id: Some("u-eve".into()),
            phone: Some("+15550199".into()),
            ..UserWrite::default()
        })
        .await
        .unwrap();
    assert!(!updated.created);
    let bulk: Vec<UserWrite> = (0..3)
        .map(|i| UserWrite {
            name: Some(format!("Bulk {i}")),
            email: Some(format!("bulk{i}@example.com")),
            external_id: Some(format!("u-bulk-{i}")),
            organization_id: Some(orgs[0]),
            ..UserWrite::default()
        })
        .collect();
    let jobs = zd.create_or_update_many_users(&bulk).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, "completed");
    assert_eq!(jobs[0].result_items().len(), 3);
    let again = zd.job_status(&jobs[0].id).await.unwrap();
    assert_eq!(again.id, jobs[0].id);
    // Several jobs in one call: a finished one, one just queued (`working` at its first poll, as
    // the single-job endpoint), and an id Zendesk does not know, left out of the answer.
    let queued = zd.start_create_or_update_many_users(&bulk[..1]).await.unwrap();
    let many = zd.job_statuses(&[&jobs[0].id, &queued.id, "V3-unknown"]).await.unwrap();
    let status_of = |id: &str| many.iter().find(|j| j.id == id).map(|j| j.status.clone());
    assert_eq!(many.len(), 2, "{many:?}");
    assert_eq!(status_of(&jobs[0].id).as_deref(), Some("completed"));
    assert_eq!(status_of(&queued.id).as_deref(), Some("working"));
    let many = zd.job_statuses(&[&queued.id]).await.unwrap();
    assert_eq!((many.len(), many[0].status.as_str(), many[0].result_items().len()), (1, "completed", 1));
    let too_many: Vec<String> = (0..101).map(|i| format!("V3-{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    assert!(zd.job_statuses(&too_many).await.is_err(), "more than 100 ids is refused before any call");
    let renamed = zd
        .update_user(
            users[2],
            &UserWrite {
                name: Some("Cy Renamed".into()),
                organization_id: Some(orgs[1]),
                user_fields: BTreeMap::from([("intercom_id".to_owned(), json!("ic-new"))]),
                ..UserWrite::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Cy Renamed"));

    assert_eq!(zd.show_organization(orgs[0]).await.unwrap().id, orgs[0]);
    assert_eq!(zd.search_organizations_by_external_id("ic-company-globex").await.unwrap().len(), 1);
    let org_created = zd
        .create_or_update_organization(&OrganizationWrite {
            name: Some("Initech".into()),
            external_id: Some("ic-company-initech".into()),
            organization_fields: BTreeMap::from([("plan".to_owned(), json!("free"))]),
            tags: Some(vec!["prospect".into()]),
        })
        .await
        .unwrap();
    assert!(org_created.created);
    let org_updated = zd
        .create_or_update_organization(&OrganizationWrite {
            name: Some("Initech Corp".into()),
            external_id: Some("ic-company-initech".into()),
            ..OrganizationWrite::default()
        })
        .await
        .unwrap();
    assert!(!org_updated.created);

    // --- account metadata ---------------------------------------------------------------------
    let groups = zd.list_groups_paged(2).await.unwrap();
    assert!(groups.len() >= 5, "{groups:?}");
    assert!(zd.list_groups().await.unwrap().len() >= 5);
    assert!(zd.ticket_fields().await.unwrap().iter().any(|f| f.title == "Plan"));
    assert!(zd.user_fields().await.unwrap().iter().any(|f| f.key.as_deref() == Some("intercom_id")));
    assert!(zd.organization_fields().await.unwrap().iter().any(|f| f.key.as_deref() == Some("plan")));

    // --- tickets ------------------------------------------------------------------------------
    let body = new_ticket("Escalated from Intercom", users[0], "intercom:conv:1", Some(orgs[0]));
    let first = zd.create_ticket(&body, "conv-1#1").await.unwrap();
    assert!(!first.idempotency_hit);
    let replay = zd.create_ticket(&body, "conv-1#1").await.unwrap();
    assert!(replay.idempotency_hit);
    assert_eq!(replay.ticket.id, first.ticket.id);
    let mismatch =
        zd.create_ticket(&new_ticket("Different", users[0], "intercom:conv:1", None), "conv-1#1").await.unwrap_err();
    assert!(matches!(mismatch, ZendeskError::IdempotencyMismatch), "{mismatch:?}");
    let tid = first.ticket.id;
    let second = zd
        .create_ticket(
            &TicketWrite {
                requester: Some(bridge_zendesk::RequesterWrite {
                    name: "Newcomer".into(),
                    email: "newcomer@example.com".into(),
                }),
                requester_id: None,
                organization_id: None,
                ..new_ticket("Second escalation", 0, "intercom:conv:2", None)
            },
            "conv-2#1",
        )
        .await
        .unwrap();

    assert_eq!(zd.show_ticket(tid).await.unwrap().id, tid);
    // The SLA policy sideload (`include=slas`), read by the acknowledgement of job 5.
    sim.add_sla_policy(Some("high"), None, 120);
    let sla = Helpdesk::ticket_sla(&zd, TicketId::new(tid).unwrap()).await.unwrap().expect("a policy applies");
    assert_eq!((sla.metric.as_str(), sla.target_minutes), ("first_reply_time", Some(120)));
    let many = zd.show_many_tickets(&[tid, second.ticket.id, seeded[0]]).await.unwrap();
    assert_eq!(many.len(), 3);
    for i in 0..4 {
        let update = TicketWrite {
            comment: Some(CommentWrite {
                body: Some(format!("Reply {i} from Intercom")),
                public: true,
                author_id: Some(users[0]),
                ..CommentWrite::default()
            }),
            status: (i == 0).then(|| "open".to_owned()),
            priority: (i == 1).then(|| "urgent".to_owned()),
            assignee_id: (i == 2).then_some(agent),
            ..TicketWrite::default()
        };
        zd.update_ticket(tid, &update).await.unwrap();
    }
    // 5 comments at 2 per page: three pages.
    let comments = zd.list_comments_paged(tid, 2).await.unwrap();
    assert_eq!(comments.len(), 5);
    assert_eq!(zd.list_comments(tid).await.unwrap().len(), 5);
    // Attachments: upload, attach by token, read back, download with the credentials.
    let file = bridge_domain::model::FileData {
        name: "log.txt".into(),
        content_type: "text/plain".into(),
        bytes: b"export failed".to_vec(),
    };
    let upload = zd.upload(file.clone()).await.unwrap();
    let with_file = TicketWrite {
        comment: Some(CommentWrite {
            body: Some("Log attached".into()),
            public: false,
            uploads: vec![upload.token.clone()],
            ..CommentWrite::default()
        }),
        ..TicketWrite::default()
    };
    zd.update_ticket(tid, &with_file).await.unwrap();
    let last = zd.list_comments(tid).await.unwrap().pop().unwrap();
    assert_eq!(last.attachments.len(), 1);
    let attached = bridge_zendesk::convert::attachment(&last.attachments[0]);
    let got = Helpdesk::fetch_comment_file(&zd, &attached, 1024).await.unwrap();
    assert_eq!(got, bridge_domain::model::Download::File(file.clone()));
    let capped = Helpdesk::fetch_comment_file(&zd, &attached, 4).await.unwrap();
    assert!(matches!(capped, bridge_domain::model::Download::TooLarge { .. }));
    let tags = zd.add_ticket_tags(tid, &["vip".into(), "billing".into()]).await.unwrap();
    assert!(tags.contains(&"billing".to_owned()));
    let tags = zd.remove_ticket_tags(tid, &["billing".into()]).await.unwrap();
    assert!(!tags.contains(&"billing".to_owned()));
    assert_eq!(zd.tickets_by_external_id("intercom:conv:1").await.unwrap().len(), 1);
    assert_eq!(zd.ticket_metric(tid).await.unwrap().ticket_id, tid);
    let metrics = zd.list_ticket_metrics_paged(2).await.unwrap();
    assert!(metrics.len() >= 6, "{}", metrics.len());
    assert!(!zd.list_ticket_metrics().await.unwrap().is_empty());

    // --- CSAT --------------------------------------------------------------------------------
    let all = zd.satisfaction_ratings_paged(&RatingsQuery::default(), 1).await.unwrap();
    assert_eq!(all.len(), 3);
    let good = zd
        .satisfaction_ratings(&RatingsQuery {
            score: Some("good".into()),
            start_time: Some(0),
            end_time: Some(i64::from(u32::MAX)),
        })
        .await
        .unwrap();
    assert_eq!(good.len(), 1);

    // --- incremental exports (several pages, then resume from the stored cursor) --------------
    let tickets = zd.export_tickets(&ExportStart::StartTime(0), Some(2)).await.unwrap();
    assert!(tickets.end_of_stream);
    assert!(tickets.items.len() >= 6, "{}", tickets.items.len());
    let cursor = tickets.after_cursor.clone().expect("after_cursor");
    let resumed = zd.export_tickets(&ExportStart::Cursor(cursor), None).await.unwrap();
    assert!(resumed.end_of_stream);
    let people = zd.export_users(&ExportStart::StartTime(0), Some(3)).await.unwrap();
    assert!(people.items.len() >= 10, "{}", people.items.len());
    let cursor = people.after_cursor.clone().expect("after_cursor");
    zd.export_users(&ExportStart::Cursor(cursor), Some(3)).await.unwrap();

    // --- the repair sweeps' ticket feed: one page a call, start_time at least a minute old -----
    let unix_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let too_recent = zd.export_tickets(&ExportStart::StartTime(unix_now), None).await.unwrap_err();
    assert!(matches!(too_recent, ZendeskError::Permanent { status: 400, .. }), "{too_recent:?}");
    let feed = TicketFeed::changed_tickets(&zd, Timestamp(0), None).await.unwrap();
    assert!(feed.items.len() >= 6 && feed.next.is_none(), "{}", feed.items.len());
    TicketFeed::changed_tickets(&zd, Timestamp(unix_now), None).await.unwrap();
    let page = zd.changed_tickets_page(Timestamp(0), None, Some(2)).await.unwrap();
    let cursor = page.next.clone().expect("a second page");
    zd.changed_tickets_page(Timestamp(0), Some(&cursor), Some(2)).await.unwrap();

    // --- merge (job polled: queued -> working -> completed) -----------------------------------
    let job = zd
        .merge_tickets(
            tid,
            &MergeRequest {
                ids: vec![second.ticket.id],
                target_comment: Some("Merged a duplicate".into()),
                source_comment: Some("Merged into the main ticket".into()),
                target_comment_is_public: false,
                source_comment_is_public: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(job.status, "completed");

    // --- error paths ---------------------------------------------------------------------------
    let missing = zd.show_ticket(999_999_999).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let closed = zd
        .update_ticket(
            second.ticket.id,
            &TicketWrite {
                comment: Some(CommentWrite { body: Some("Too late".into()), public: true, ..CommentWrite::default() }),
                ..TicketWrite::default()
            },
        )
        .await
        .unwrap_err();
    assert!(closed.is_closed_ticket(), "{closed:?}");
    let followup = zd
        .create_followup(second.ticket.id, &new_ticket("Follow-up", users[0], "intercom:conv:2", None), "conv-2#2")
        .await
        .unwrap();
    assert_ne!(followup.ticket.id, second.ticket.id);

    // --- 429, then the client's retry succeeds --------------------------------------------------
    sim.set_faults(Faults { rate_limit_next: 1, ..Faults::default() });
    assert_eq!(zd.show_user(users[1]).await.unwrap().id, users[1]);

    // --- the Helpdesk port over the same client -------------------------------------------------
    let t = Helpdesk::ticket(&zd, TicketId::new(tid).unwrap()).await.unwrap();
    assert_eq!(t.id.get(), tid);
    assert!(!Helpdesk::ticket_comments(&zd, TicketId::new(tid).unwrap()).await.unwrap().is_empty());
    assert_eq!(Helpdesk::user(&zd, UserId::new(users[0]).unwrap()).await.unwrap().id.get(), users[0]);
    assert_eq!(Helpdesk::users_by_email(&zd, "ada@acme.example").await.unwrap().len(), 1);
    assert!(Helpdesk::user_by_external_id(&zd, "u-ada").await.unwrap().is_some());
    assert!(Helpdesk::organization_by_external_id(&zd, "ic-company-acme").await.unwrap().is_some());
    let org = Helpdesk::organization(&zd, OrganizationId::new(orgs[0]).unwrap()).await.unwrap();
    assert_eq!(org.id.get(), orgs[0]);
    Helpdesk::own_user_id(&zd).await.unwrap();

    // --- vendor setup: webhook (allow-listed), signing secret, triggers (validated) -------------
    let events = WebhookSpec::events("Bridge", "https://bridge.example/webhooks/zendesk");
    let (hook, change) = zd.ensure_webhook(&events).await.unwrap();
    assert_eq!(change, Change::Created);
    let renamed = WebhookSpec { name: "Bridge (renamed)".into(), ..events.clone() };
    assert_eq!(zd.ensure_webhook(&renamed).await.unwrap(), (hook.clone(), Change::Updated));
    assert_eq!(
        zd.webhook_signing_secret(&hook).await.unwrap().expose_secret(),
        ZendeskSimOptions::default().webhook_secret
    );
    let (trigger_hook, _) =
        zd.ensure_webhook(&WebhookSpec::triggers("Bridge", "https://bridge.example/webhooks/zendesk")).await.unwrap();
    let made = zd.ensure_triggers("Bridge", &trigger_hook).await.unwrap();
    assert!(made.iter().all(|(_, c)| *c == Change::Created), "{made:?}");
    let moved = zd.ensure_triggers("Bridge", &hook).await.unwrap();
    assert!(moved.iter().all(|(_, c)| *c == Change::Updated), "{moved:?}");
    assert_eq!(zd.list_triggers().await.unwrap().len(), 2);

    sim.exchanges()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_zendesk_exchange_of_the_tour_conforms_to_the_official_spec() {
    let Some(spec) = spec() else { return };
    let exchanges = tour().await;

    // The 429 was recorded, unmodelled, and followed by a successful retry.
    let limited = exchanges.iter().position(|e| e.status == 429).expect("a 429 was recorded");
    assert!(!exchanges[limited].modelled);
    let retry = &exchanges[limited + 1];
    assert_eq!((retry.path.as_str(), retry.status), (exchanges[limited].path.as_str(), 200));
    // The error paths were recorded with their statuses.
    for status in [400, 404, 422] {
        assert!(exchanges.iter().any(|e| e.status == status && e.modelled), "no {status} recorded");
    }
    // Jobs were polled more than once (queued -> working -> completed).
    let polls = exchanges.iter().filter(|e| e.path.starts_with("/api/v2/job_statuses/")).count();
    assert!(polls >= 3, "{polls} job polls");

    // Every exchange conforms.
    let violations = spec.check_all(&exchanges);
    assert!(
        violations.is_empty(),
        "{} of {} Zendesk exchanges violate the official spec:\n{}",
        violations.len(),
        exchanges.len(),
        show(&violations)
    );

    // Every client endpoint was exercised.
    let operations = spec_operations(&spec);
    let mut hit = BTreeSet::new();
    for e in &exchanges {
        let (method, template) = webhooks_template(e)
            .or_else(|| template_of(&operations, e))
            .unwrap_or_else(|| panic!("no spec operation for {} {}", e.method, e.path));
        hit.insert((method, template.strip_suffix(".json").unwrap_or(&template).to_owned()));
    }
    let expected: BTreeSet<(String, String)> = CLIENT_ENDPOINTS
        .iter()
        .chain(ALLOW_LISTED_CLIENT_ENDPOINTS)
        .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
        .collect();
    let missing: Vec<_> = expected.difference(&hit).collect();
    let unexpected: Vec<_> = hit.difference(&expected).collect();
    assert!(missing.is_empty(), "client endpoints the tour did not hit: {missing:?}");
    assert!(unexpected.is_empty(), "endpoints hit that are not in CLIENT_ENDPOINTS: {unexpected:?}");
    eprintln!("zendesk tour: {} exchanges over {} endpoints, 0 violations", exchanges.len(), hit.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_or_mistyped_field_in_a_recorded_response_is_reported() {
    let Some(spec) = spec() else { return };
    let sim = ZendeskSim::start(ZendeskSimOptions::default()).await.unwrap();
    let (_, _, _, seeded) = seed(&sim);
    client(&sim).show_ticket(seeded[0]).await.unwrap();
    let recorded = sim
        .exchanges()
        .into_iter()
        .find(|e| e.method == "GET" && e.path.starts_with(&format!("/api/v2/tickets/{}", seeded[0])))
        .expect("recorded show ticket");
    assert!(spec.check(&recorded).is_empty(), "{}", show(&spec.check(&recorded)));

    let mut broken = recorded.clone();
    let ticket =
        broken.response_body.as_mut().and_then(|b| b.get_mut("ticket")).and_then(Value::as_object_mut).unwrap();
    let subject = ticket.remove("subject").expect("subject");
    ticket.insert("subjekt".into(), subject);
    let id = ticket["id"].as_u64().unwrap();
    ticket.insert("id".into(), Value::String(id.to_string()));

    let v = spec.check(&broken);
    assert!(
        v.iter().any(|v| v.part == Part::ResponseBody && v.message.contains("subjekt")),
        "rename not reported:\n{}",
        show(&v)
    );
    assert!(
        v.iter().any(|v| v.part == Part::ResponseBody && v.pointer == "/ticket/id"),
        "mistype not reported:\n{}",
        show(&v)
    );
}
