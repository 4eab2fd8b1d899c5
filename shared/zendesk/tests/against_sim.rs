//! The client against the Zendesk simulator over real HTTP: every endpoint, pagination,
//! retries, idempotency, closed tickets, merges, bulk jobs and signed webhooks.

// Helpers outside `#[test]` functions unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_domain::ids::{TicketId, UserId};
use bridge_domain::model::{
    NewTicket, OrganizationUpsert, TicketComment, TicketPriority, TicketStatus, TicketUpdate, UserUpsert,
};
use bridge_domain::ports::{Helpdesk, PortError};
use bridge_sim::Faults;
use bridge_sim::zendesk::{OrgInput, UserInput, ZendeskSim, ZendeskSimOptions};
use bridge_zendesk::webhook::{self, Change, ZendeskEvent};
use bridge_zendesk::{
    Auth, CommentWrite, ExportStart, MergeRequest, OrganizationWrite, RatingsQuery, TicketWrite, UserWrite,
    ZendeskClient, ZendeskConfig, ZendeskError,
};
use serde_json::{Value, json};

const EMAIL: &str = "bridge@example.com";
const TOKEN: &str = "sim-api-token";
const SECRET: &str = "sim-webhook-secret";
/// The trigger-connected webhook is another webhook, with its own signing secret.
const TRIGGER_SECRET: &str = "sim-trigger-webhook-secret";

async fn sim() -> ZendeskSim {
    ZendeskSim::start(ZendeskSimOptions::default()).await.unwrap()
}

fn client(sim: &ZendeskSim) -> ZendeskClient {
    ZendeskClient::new(ZendeskConfig {
        base_url: sim.base_url().parse().unwrap(),
        auth: Auth::ApiToken { email: EMAIL.into(), token: TOKEN.into() },
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn ticket_body(subject: &str, requester: u64, external_id: &str) -> TicketWrite {
    TicketWrite {
        subject: Some(subject.into()),
        comment: Some(CommentWrite {
            html_body: Some("<p>Transcript</p>".into()),
            public: false,
            ..CommentWrite::default()
        }),
        requester_id: Some(requester),
        priority: Some("high".into()),
        tags: Some(vec!["intercom".into()]),
        external_id: Some(external_id.into()),
        ..TicketWrite::default()
    }
}

fn end_user(sim: &ZendeskSim, name: &str, email: &str) -> u64 {
    sim.add_user(UserInput { name: Some(name.into()), email: Some(email.into()), ..UserInput::default() }).unwrap()
}

fn count_requests(sim: &ZendeskSim, method: &str, path_prefix: &str) -> usize {
    sim.exchanges().iter().filter(|e| e.method == method && e.path.starts_with(path_prefix)).count()
}

#[tokio::test]
async fn ticket_lifecycle_show_update_and_comment_pages() {
    // Arrange
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");

    // Act: idempotent create, twice with one key
    let first = zd.create_ticket(&ticket_body("Help", ada, "intercom:conv:1"), "conv-1#1").await.unwrap();
    let second = zd.create_ticket(&ticket_body("Help", ada, "intercom:conv:1"), "conv-1#1").await.unwrap();

    // Assert
    assert!(!first.idempotency_hit);
    assert!(second.idempotency_hit);
    assert_eq!(first.ticket.id, second.ticket.id);
    assert_eq!(zd.tickets_by_external_id("intercom:conv:1").await.unwrap().len(), 1);
    assert_eq!(first.ticket.via.as_ref().and_then(|v| v.channel_name()).as_deref(), Some("api"));

    let id = first.ticket.id;
    let shown = zd.show_ticket(id).await.unwrap();
    assert_eq!(shown.subject.as_deref(), Some("Help"));
    assert_eq!(shown.status.as_deref(), Some("new"));

    for i in 0..4 {
        let update = TicketWrite {
            comment: Some(CommentWrite {
                body: Some(format!("reply {i}")),
                public: true,
                author_id: Some(ada),
                ..CommentWrite::default()
            }),
            status: (i == 0).then(|| "open".to_string()),
            ..TicketWrite::default()
        };
        zd.update_ticket(id, &update).await.unwrap();
    }
    let comments = zd.list_comments_paged(id, 2).await.unwrap();
    assert_eq!(comments.len(), 5);
    assert_eq!(comments[4].body.as_deref(), Some("reply 3"));
    assert!(count_requests(&sim, "GET", &format!("/api/v2/tickets/{id}/comments")) >= 3, "paged over several requests");

    let other = zd.create_ticket(&ticket_body("Other", ada, "intercom:conv:2"), "conv-2#1").await.unwrap();
    let many = zd.show_many_tickets(&[id, other.ticket.id, 999_999]).await.unwrap();
    assert_eq!(many.len(), 2);
    assert!(matches!(zd.show_ticket(999_999).await, Err(ZendeskError::NotFound { .. })));
}

#[tokio::test]
async fn idempotency_key_with_a_different_body_is_refused() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    zd.create_ticket(&ticket_body("A", ada, "x"), "key-1").await.unwrap();
    let err = zd.create_ticket(&ticket_body("B", ada, "x"), "key-1").await.unwrap_err();
    assert!(matches!(err, ZendeskError::IdempotencyMismatch));
    assert!(matches!(PortError::from(err), PortError::Conflict { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_with_one_key_make_one_ticket() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    let body = ticket_body("Race", ada, "intercom:conv:race");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let zd = zd.clone();
            let body = body.clone();
            tokio::spawn(async move { zd.create_ticket(&body, "race-key").await })
        })
        .collect();
    let mut ids = Vec::new();
    let mut hits = 0;
    for t in tasks {
        let created = t.await.unwrap().unwrap();
        ids.push(created.ticket.id);
        hits += usize::from(created.idempotency_hit);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(hits, 19);
    assert_eq!(zd.tickets_by_external_id("intercom:conv:race").await.unwrap().len(), 1);
}

#[tokio::test]
async fn closed_ticket_update_fails_and_follow_up_works() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    let agent = sim.add_agent("Grace", "grace@example.com").unwrap();
    let id = zd.create_ticket(&ticket_body("Old", ada, "intercom:conv:9"), "k9").await.unwrap().ticket.id;

    // A follow-up of a ticket that is not closed is refused.
    let early = zd.create_followup(id, &ticket_body("Again", ada, "intercom:conv:9"), "k9-f0").await.unwrap_err();
    assert!(matches!(early, ZendeskError::Invalid { status: 422, .. }));

    sim.set_status(agent, id, "closed").unwrap();
    let update = TicketWrite {
        comment: Some(CommentWrite { body: Some("more".into()), public: true, ..CommentWrite::default() }),
        ..TicketWrite::default()
    };
    let err = zd.update_ticket(id, &update).await.unwrap_err();
    assert!(err.is_closed_ticket(), "{err:?}");
    let port = Helpdesk::update_ticket(
        &zd,
        TicketId::new(id).unwrap(),
        &TicketUpdate { status: Some(TicketStatus::Open), ..TicketUpdate::default() },
    )
    .await
    .unwrap_err();
    assert!(matches!(port, PortError::Conflict { .. }));

    let follow = zd.create_followup(id, &ticket_body("Again", ada, "intercom:conv:9"), "k9-f1").await.unwrap();
    let domain = bridge_zendesk::convert::ticket(&follow.ticket).unwrap();
    assert_eq!(domain.followup_source_id, TicketId::new(id).ok());
    assert_eq!(zd.show_ticket(id).await.unwrap().followup_ids, vec![follow.ticket.id]);
}

#[tokio::test]
async fn tags_are_added_and_removed_never_replaced() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    let agent = sim.add_agent("Grace", "grace@example.com").unwrap();
    let id = zd.create_ticket(&ticket_body("Tags", ada, "t"), "kt").await.unwrap().ticket.id;
    sim.agent_tags(agent, id, &["vip".into()], &[]).unwrap();

    let after_add = zd.add_ticket_tags(id, &["billing".into()]).await.unwrap();
    assert_eq!(after_add, vec!["billing", "intercom", "vip"]);
    let after_remove = zd.remove_ticket_tags(id, &["intercom".into()]).await.unwrap();
    assert_eq!(after_remove, vec!["billing", "vip"]);

    Helpdesk::add_ticket_tags(&zd, TicketId::new(id).unwrap(), &["x".into()]).await.unwrap();
    Helpdesk::remove_ticket_tags(&zd, TicketId::new(id).unwrap(), &["billing".into()]).await.unwrap();
    assert_eq!(zd.show_ticket(id).await.unwrap().tags, vec!["vip", "x"]);
}

#[tokio::test]
async fn merge_job_is_polled_and_the_source_is_closed() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    let target = zd.create_ticket(&ticket_body("Target", ada, "a"), "ka").await.unwrap().ticket.id;
    let source = zd.create_ticket(&ticket_body("Source", ada, "b"), "kb").await.unwrap().ticket.id;

    let job = zd
        .merge_tickets(
            target,
            &MergeRequest {
                ids: vec![source],
                target_comment: Some("merged in".into()),
                source_comment: Some("merged away".into()),
                ..MergeRequest::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(job.status, "completed");
    assert!(count_requests(&sim, "GET", "/api/v2/job_statuses/") >= 1);
    let src = zd.show_ticket(source).await.unwrap();
    assert_eq!(src.status.as_deref(), Some("closed"));
    assert!(src.tags.contains(&"closed_by_merge".to_string()));
    let target_comments = zd.list_comments(target).await.unwrap();
    assert_eq!(target_comments.last().and_then(|c| c.body.clone()).as_deref(), Some("merged in"));
    assert!(
        zd.update_ticket(source, &TicketWrite { status: Some("open".into()), ..TicketWrite::default() })
            .await
            .unwrap_err()
            .is_closed_ticket()
    );
}

#[tokio::test]
async fn users_search_upsert_update_and_bulk_job() {
    let sim = sim().await;
    let zd = client(&sim);
    sim.add_user_field("plan", "Plan", "text");

    let created = zd
        .create_or_update_user(&UserWrite {
            name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            external_id: Some("ic-1".into()),
            user_fields: [("plan".to_string(), json!("pro"))].into(),
            ..UserWrite::default()
        })
        .await
        .unwrap();
    assert!(created.created);
    let updated = zd
        .create_or_update_user(&UserWrite {
            name: Some("Ada L".into()),
            email: Some("ada@example.com".into()),
            ..UserWrite::default()
        })
        .await
        .unwrap();
    assert!(!updated.created);
    assert_eq!(updated.record.id, created.record.id);
    assert_eq!(updated.record.user_fields.get("plan"), Some(&json!("pro")));

    assert_eq!(zd.search_users_by_email("ADA@example.com").await.unwrap().len(), 1);
    assert_eq!(zd.search_users_by_external_id("ic-1").await.unwrap()[0].id, created.record.id);
    assert!(zd.search_users_by_email("nobody@example.com").await.unwrap().is_empty());
    let uid = created.record.id;
    assert_eq!(zd.show_user(uid).await.unwrap().name.as_deref(), Some("Ada L"));
    let phone =
        zd.update_user(uid, &UserWrite { phone: Some("+15550100".into()), ..UserWrite::default() }).await.unwrap();
    assert_eq!(phone.phone.as_deref(), Some("+15550100"));

    let batch: Vec<UserWrite> = (0..3)
        .map(|i| UserWrite {
            name: Some(format!("U{i}")),
            email: Some(format!("u{i}@example.com")),
            ..UserWrite::default()
        })
        .chain(std::iter::once(UserWrite {
            name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            ..UserWrite::default()
        }))
        .collect();
    let jobs = zd.create_or_update_many_users(&batch).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let results = jobs[0].result_items();
    assert_eq!(results.len(), 4);
    assert_eq!(results.iter().filter(|r| r.status.as_deref() == Some("Created")).count(), 3);
    assert_eq!(results[3].status.as_deref(), Some("Updated"));
    let ids: Vec<u64> = results.iter().filter_map(|r| r.id).collect();
    assert_eq!(zd.show_many_users(&ids).await.unwrap().len(), 4);

    let me = zd.own_user_id().await.unwrap();
    assert_eq!(me, sim.api_user_id());
    assert_eq!(zd.own_user_id().await.unwrap(), me);
    assert_eq!(count_requests(&sim, "GET", "/api/v2/users/me"), 1, "own user id is cached");
}

#[tokio::test]
async fn organizations_match_on_external_id() {
    let sim = sim().await;
    let zd = client(&sim);
    sim.add_organization_field("tier", "Tier", "text");
    let created = zd
        .create_or_update_organization(&OrganizationWrite {
            name: Some("Acme".into()),
            external_id: Some("co-1".into()),
            organization_fields: [("tier".to_string(), json!("gold"))].into(),
            ..OrganizationWrite::default()
        })
        .await
        .unwrap();
    assert!(created.created);
    let again = zd
        .create_or_update_organization(&OrganizationWrite {
            name: Some("Acme Inc".into()),
            external_id: Some("CO-1".into()),
            ..OrganizationWrite::default()
        })
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.record.id, created.record.id);
    // A different external id with a taken name is a duplicate, not a match.
    let dup = zd
        .create_or_update_organization(&OrganizationWrite {
            name: Some("Acme Inc".into()),
            external_id: Some("co-2".into()),
            ..OrganizationWrite::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(dup, ZendeskError::Invalid { status: 422, .. }));
    assert_eq!(zd.search_organizations_by_external_id("co-1").await.unwrap().len(), 1);
    let shown = zd.show_organization(created.record.id).await.unwrap();
    assert_eq!(shown.organization_fields.get("tier"), Some(&json!("gold")));
}

#[tokio::test]
async fn helpdesk_port_end_to_end() {
    let sim = sim().await;
    let zd = client(&sim);
    let group = sim.add_group("Tier 2");

    let org = zd
        .upsert_organization(&OrganizationUpsert {
            name: "Acme".into(),
            external_id: Some("co-1".into()),
            fields: BTreeMap::new(),
        })
        .await
        .unwrap();
    assert_eq!(zd.organization_by_external_id("co-1").await.unwrap().map(|o| o.id), Some(org.id));
    assert_eq!(Helpdesk::organization(&zd, org.id).await.unwrap().name.as_deref(), Some("Acme"));

    let user = zd
        .upsert_user(&UserUpsert {
            name: "Ada".into(),
            email: Some("ada@example.com".into()),
            external_id: Some("ic-1".into()),
            organization_id: Some(org.id),
            ..UserUpsert::default()
        })
        .await
        .unwrap();
    assert_eq!(user.org_ids, vec![org.id]);
    assert_eq!(zd.users_by_email("ada@example.com").await.unwrap().len(), 1);
    assert_eq!(zd.user_by_external_id("ic-1").await.unwrap().map(|u| u.id), Some(user.id));
    assert_eq!(zd.user_by_external_id("nope").await.unwrap(), None);
    assert_eq!(Helpdesk::user(&zd, user.id).await.unwrap().email.as_deref(), Some("ada@example.com"));

    let new = NewTicket {
        subject: "Escalated".into(),
        comment: TicketComment {
            id: None,
            html_body: "<p>hi</p>".into(),
            public: false,
            author_id: None,
            created_at: None,
            uploads: Vec::new(),
            attachments: Vec::new(),
        },
        requester_id: user.id,
        organization_id: Some(org.id),
        priority: Some(TicketPriority::Urgent),
        group_id: bridge_domain::ids::GroupId::new(group).ok(),
        tags: vec!["intercom".into()],
        external_id: Some("intercom:conv:7".into()),
        custom_fields: BTreeMap::new(),
        followup_source_id: None,
    };
    let t = Helpdesk::create_ticket(&zd, &new, "conv-7#1").await.unwrap();
    let again = Helpdesk::create_ticket(&zd, &new, "conv-7#1").await.unwrap();
    assert_eq!(t.id, again.id);
    assert_eq!(t.priority, Some(TicketPriority::Urgent));
    assert_eq!(t.organization_id, Some(org.id));

    let update = TicketUpdate {
        status: Some(TicketStatus::Pending),
        comment: Some(TicketComment {
            id: None,
            html_body: "<p>Reply from Intercom</p>".into(),
            public: true,
            author_id: Some(user.id),
            created_at: None,
            uploads: Vec::new(),
            attachments: Vec::new(),
        }),
        ..TicketUpdate::default()
    };
    let after = Helpdesk::update_ticket(&zd, t.id, &update).await.unwrap();
    assert_eq!(after.status, TicketStatus::Pending);
    assert_eq!(after.tags, vec!["intercom"]);
    let comments = zd.ticket_comments(t.id).await.unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1].author_id, Some(user.id));
    assert_eq!(Helpdesk::ticket(&zd, t.id).await.unwrap().status, TicketStatus::Pending);
    assert_eq!(Helpdesk::tickets_by_external_id(&zd, "intercom:conv:7").await.unwrap().len(), 1);
    assert_eq!(zd.ticket_url(t.id), format!("{}/agent/tickets/{}", sim.base_url(), t.id));
    assert_eq!(Helpdesk::own_user_id(&zd).await.unwrap(), UserId::new(sim.api_user_id()).unwrap());
    assert!(matches!(Helpdesk::ticket(&zd, TicketId::new(1).unwrap()).await, Err(PortError::NotFound { .. })));
    let no_org = zd
        .upsert_organization(&OrganizationUpsert { name: "X".into(), external_id: None, fields: BTreeMap::new() })
        .await;
    assert!(matches!(no_org, Err(PortError::Rejected { .. })));
}

#[tokio::test]
async fn groups_fields_ratings_and_metrics() {
    let sim = sim().await;
    let zd = client(&sim);
    for i in 0..4 {
        sim.add_group(&format!("G{i}"));
    }
    let groups = zd.list_groups_paged(2).await.unwrap();
    assert_eq!(groups.len(), 5);
    assert_eq!(count_requests(&sim, "GET", "/api/v2/groups"), 3);

    let plan = sim.add_ticket_field("Plan", "tagger", &[("Pro", "plan_pro"), ("Free", "plan_free")], None);
    sim.add_user_field("tier", "Tier", "text");
    sim.add_organization_field("segment", "Segment", "text");
    let tf = zd.ticket_fields().await.unwrap();
    let dropdown = tf.iter().find(|f| f.id == plan).unwrap();
    assert_eq!(dropdown.custom_field_options.len(), 2);
    assert_eq!(zd.user_fields().await.unwrap()[0].key.as_deref(), Some("tier"));
    assert_eq!(zd.organization_fields().await.unwrap()[0].key.as_deref(), Some("segment"));

    let ada = end_user(&sim, "Ada", "ada@example.com");
    let agent = sim.add_agent("Grace", "grace@example.com").unwrap();
    let mut tickets = Vec::new();
    for i in 0..3 {
        let mut body = ticket_body(&format!("T{i}"), ada, &format!("e{i}"));
        body.custom_fields = vec![bridge_zendesk::CustomFieldValue { id: plan, value: json!("plan_pro") }];
        tickets.push(zd.create_ticket(&body, &format!("k{i}")).await.unwrap().ticket);
    }
    assert!(tickets[0].tags.contains(&"plan_pro".to_string()), "dropdown value adds its tag");
    sim.comment(agent, tickets[0].id, "We are on it", true).unwrap();
    sim.advance_clock(3600);
    sim.set_status(agent, tickets[0].id, "solved").unwrap();
    sim.rate(tickets[0].id, "good", Some("thanks")).unwrap();
    sim.rate(tickets[1].id, "bad", None).unwrap();
    sim.rate(tickets[2].id, "offered", None).unwrap();

    let all = zd.satisfaction_ratings_paged(&RatingsQuery::default(), 1).await.unwrap();
    assert_eq!(all.len(), 3);
    let received = zd
        .satisfaction_ratings(&RatingsQuery { score: Some("received".into()), ..RatingsQuery::default() })
        .await
        .unwrap();
    assert_eq!(received.len(), 2);
    let good_with_comment = zd
        .satisfaction_ratings(&RatingsQuery { score: Some("good_with_comment".into()), ..RatingsQuery::default() })
        .await
        .unwrap();
    assert_eq!(good_with_comment[0].ticket_id, Some(tickets[0].id));
    let none = zd.satisfaction_ratings(&RatingsQuery { end_time: Some(1), ..RatingsQuery::default() }).await.unwrap();
    assert!(none.is_empty());

    let m = zd.ticket_metric(tickets[0].id).await.unwrap();
    assert_eq!(m.ticket_id, tickets[0].id);
    assert_eq!(m.replies, 1);
    assert!(m.reply_time_in_minutes.calendar.is_some());
    assert!(m.full_resolution_time_in_minutes.calendar.unwrap_or_default() >= 60);
    assert!(m.solved_at.is_some());
    let metrics = zd.list_ticket_metrics_paged(1).await.unwrap();
    assert_eq!(metrics.len(), 3);
}

#[tokio::test]
async fn incremental_exports_follow_cursors_to_end_of_stream() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    for i in 0..5 {
        zd.create_ticket(&ticket_body(&format!("T{i}"), ada, "x"), &format!("k{i}")).await.unwrap();
    }
    let start = chrono::Utc::now().timestamp() - 3600;
    let first = zd.export_tickets(&ExportStart::StartTime(start), Some(2)).await.unwrap();
    assert_eq!(first.items.len(), 5);
    assert!(first.end_of_stream);
    let cursor = first.after_cursor.clone().unwrap();

    sim.advance_clock(5);
    zd.create_ticket(&ticket_body("Later", ada, "x"), "k-later").await.unwrap();
    let next = zd.export_tickets(&ExportStart::Cursor(cursor), Some(2)).await.unwrap();
    assert_eq!(next.items.len(), 1);
    assert_eq!(next.items[0].subject.as_deref(), Some("Later"));

    let users = zd.export_users(&ExportStart::StartTime(start), Some(1)).await.unwrap();
    assert_eq!(users.items.len(), 2, "API user and Ada");
    assert!(users.end_of_stream);
}

#[tokio::test]
async fn incremental_budget_is_separate_and_answers_json_429() {
    let sim = sim().await;
    let zd = client(&sim);
    sim.set_incremental_rate_limit(1);
    let start = chrono::Utc::now().timestamp() - 3600;
    zd.export_users(&ExportStart::StartTime(start), None).await.unwrap();
    let err = zd.export_users(&ExportStart::StartTime(start), None).await.unwrap_err();
    assert!(matches!(err, ZendeskError::RateLimited { .. }));
    let last = sim.exchanges().into_iter().last().unwrap();
    assert_eq!(last.status, 429);
    assert_eq!(
        last.response_body.as_ref().and_then(|b| b.get("error")).and_then(Value::as_str),
        Some("APIRateLimitExceeded")
    );
    // The account budget is untouched.
    zd.show_user(sim.api_user_id()).await.unwrap();
}

#[tokio::test]
async fn short_429_and_5xx_are_retried_long_429_is_returned() {
    let sim = sim().await;
    let zd = client(&sim);

    sim.set_faults(Faults { rate_limit_next: 1, ..Faults::default() });
    zd.me().await.unwrap();
    assert_eq!(sim.gate().throttled_count(), 1);
    let exchanges = sim.exchanges();
    assert_eq!(exchanges[0].status, 429);
    assert!(!exchanges[0].modelled);
    assert_eq!(exchanges[0].response_body, Some(json!("Number of allowed API requests per minute exceeded")));
    assert_eq!(exchanges[1].status, 200);

    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    zd.me().await.unwrap();
    assert_eq!(count_requests(&sim, "GET", "/api/v2/users/me"), 5);

    let snap = zd.last_rate_limit().unwrap();
    assert_eq!(snap.limit, Some(700));
    assert!(snap.remaining.is_some_and(|r| r < 700));

    // A budget of one request: the next call waits ~a minute, which goes back to the caller.
    sim.set_rate_limit(1);
    zd.me().await.unwrap();
    let err = zd.me().await.unwrap_err();
    let ZendeskError::RateLimited { retry_after } = err else { panic!("{err:?}") };
    assert!(retry_after > Duration::from_secs(3));
}

#[tokio::test]
async fn bearer_auth_json_suffix_and_bad_credentials() {
    let sim = sim().await;
    let oauth = ZendeskClient::new(ZendeskConfig {
        base_url: sim.base_url().parse().unwrap(),
        auth: Auth::OAuth { token: "sim-oauth-token".into() },
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    assert_eq!(oauth.me().await.unwrap().id, sim.api_user_id());

    let wrong = ZendeskClient::new(ZendeskConfig {
        base_url: sim.base_url().parse().unwrap(),
        auth: Auth::ApiToken { email: EMAIL.into(), token: "nope".into() },
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    assert!(matches!(wrong.me().await, Err(ZendeskError::Permanent { status: 401, .. })));

    let resp = reqwest::Client::new()
        .get(format!("{}/api/v2/users/me.json", sim.base_url()))
        .bearer_auth("sim-oauth-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-rate-limit-remaining"));
}

/// Webhooks the test receiver got: (headers, raw body).
type Received = Arc<Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body.to_vec()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

async fn wait_for(got: &Received, n: usize) -> Vec<(axum::http::HeaderMap, Vec<u8>)> {
    for _ in 0..100 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    got.lock().unwrap().clone()
}

#[tokio::test]
async fn api_changes_emit_signed_webhooks() {
    let sim = sim().await;
    let zd = client(&sim);
    let (url, got) = receiver().await;
    sim.set_webhook_target(Some(url));
    sim.set_trigger_webhooks(true);
    let ada = end_user(&sim, "Ada", "ada@example.com"); // user.created
    let id = zd.create_ticket(&ticket_body("Hook", ada, "intercom:conv:h"), "kh").await.unwrap().ticket.id; // created + trigger
    zd.update_ticket(
        id,
        &TicketWrite {
            status: Some("open".into()),
            comment: Some(CommentWrite { body: Some("hello".into()), public: true, ..CommentWrite::default() }),
            ..TicketWrite::default()
        },
    )
    .await
    .unwrap(); // status + comment + trigger

    let received = wait_for(&got, 6).await;
    assert!(received.len() >= 6, "got {}", received.len());
    let mut types = Vec::new();
    for (headers, body) in &received {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        let trigger = serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.get("type").is_none());
        let wrong = if trigger { SECRET } else { TRIGGER_SECRET };
        assert!(
            webhook::verify_signature(
                wrong.as_bytes(),
                h(webhook::TIMESTAMP_HEADER),
                body,
                h(webhook::SIGNATURE_HEADER),
                chrono::Utc::now(),
                webhook::DEFAULT_MAX_AGE,
            )
            .is_err(),
            "each webhook signs with its own secret"
        );
        webhook::verify_signature(
            if trigger { TRIGGER_SECRET } else { SECRET }.as_bytes(),
            h(webhook::TIMESTAMP_HEADER),
            body,
            h(webhook::SIGNATURE_HEADER),
            chrono::Utc::now(),
            webhook::DEFAULT_MAX_AGE,
        )
        .unwrap();
        assert!(h(webhook::INVOCATION_HEADER).is_some() && h(webhook::WEBHOOK_ID_HEADER).is_some());
        match webhook::parse_event(body).unwrap() {
            ZendeskEvent::Subscribed(e) => {
                if e.name().starts_with("ticket.") {
                    assert_eq!(e.actor_id, UserId::new(sim.api_user_id()).ok(), "API writes carry the API user");
                    assert_eq!(e.ticket.as_ref().and_then(|t| t.via_channel.as_deref()), Some("web_service"));
                }
                if let Change::CommentAdded(c) = &e.change {
                    assert_eq!(c.body.as_deref(), Some("hello"));
                    assert!(c.is_public);
                }
                types.push(e.name().to_string());
            }
            ZendeskEvent::Trigger(t) => {
                assert_eq!(t.ticket_id, TicketId::new(id).unwrap());
                assert_eq!(t.updated_by, UserId::new(sim.api_user_id()).ok());
                types.push("trigger".into());
            }
        }
    }
    for expected in ["user.created", "ticket.created", "ticket.status_changed", "ticket.comment_added", "trigger"] {
        assert!(types.iter().any(|t| t == expected), "missing {expected} in {types:?}");
    }
    // Hand-made changes are attributed to the agent, not the API user.
    let agent = sim.add_agent("Grace", "grace@example.com").unwrap();
    let before = got.lock().unwrap().len();
    sim.set_status(agent, id, "solved").unwrap();
    let received = wait_for(&got, before + 3).await;
    let agent_events: Vec<_> = received[before..]
        .iter()
        .filter_map(|(_, b)| match webhook::parse_event(b) {
            Ok(ZendeskEvent::Subscribed(e)) if e.name() == "ticket.status_changed" => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(agent_events.len(), 1);
    assert_eq!(agent_events[0].actor_id, UserId::new(agent).ok());
    assert_eq!(
        agent_events[0].change,
        Change::StatusChanged { previous: Some(TicketStatus::Open), current: Some(TicketStatus::Solved) }
    );
}

#[tokio::test]
async fn human_actions_show_up_through_the_api() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = end_user(&sim, "Ada", "ada@example.com");
    let agent = sim.add_agent("Grace", "grace@example.com").unwrap();
    let web = sim.submit_ticket(ada, "Web form", "It broke", "web").unwrap();
    let mail = sim.submit_ticket(ada, "By mail", "Also broke", "email").unwrap();
    assert_eq!(Helpdesk::ticket(&zd, TicketId::new(web).unwrap()).await.unwrap().via_channel.as_deref(), Some("web"));
    assert_eq!(
        Helpdesk::ticket(&zd, TicketId::new(mail).unwrap()).await.unwrap().via_channel.as_deref(),
        Some("email")
    );

    sim.comment(agent, web, "internal", false).unwrap();
    sim.set_status(agent, web, "solved").unwrap();
    sim.comment(ada, web, "still broken", true).unwrap();
    let t = zd.show_ticket(web).await.unwrap();
    assert_eq!(t.status.as_deref(), Some("open"), "end-user reply reopens a solved ticket");
    assert_eq!(zd.ticket_metric(web).await.unwrap().reopens, 1);

    sim.edit_user(agent, ada, UserInput { phone: Some("+15550199".into()), ..UserInput::default() }).unwrap();
    assert_eq!(zd.show_user(ada).await.unwrap().phone.as_deref(), Some("+15550199"));
    let org = sim
        .add_organization(OrgInput {
            name: Some("Acme".into()),
            external_id: Some("co-9".into()),
            ..OrgInput::default()
        })
        .unwrap();
    assert_eq!(zd.show_organization(org).await.unwrap().external_id.as_deref(), Some("co-9"));
    assert!(
        sim.ticket(web)
            .and_then(|t| t.get("comments").cloned())
            .is_some_and(|c| c.as_array().is_some_and(|a| a.len() == 3))
    );
}

#[tokio::test]
async fn jobs_in_flight_are_polled_together_and_a_forgotten_one_is_gone() {
    use bridge_domain::event::Kind;
    use bridge_domain::model::FieldValue;
    use bridge_domain::profiles::directory::{BulkPoll, BulkRecord, BulkStarted, ProfileDirectory};
    let sim = sim().await;
    let zd = client(&sim);
    let record = |i: usize| -> BulkRecord {
        BTreeMap::from([("email".to_string(), FieldValue::Text(format!("poll{i}@example.com")))])
    };
    let mut jobs = Vec::new();
    for batch in [vec![record(0), record(1)], vec![record(2)]] {
        let BulkStarted::Job(job) = zd.start_many(Kind::Person, &batch).await.unwrap() else { panic!("a job") };
        jobs.push((job, batch.len()));
    }
    let ask: Vec<(&str, usize)> = jobs.iter().map(|(j, n)| (j.as_str(), *n)).chain([("V3-forgotten", 4)]).collect();
    let first = zd.poll_jobs(&ask).await.unwrap();
    assert_eq!(first, vec![BulkPoll::Running, BulkPoll::Running, BulkPoll::Gone], "working at the first poll");
    let second = zd.poll_jobs(&ask).await.unwrap();
    let written = |p: &BulkPoll| match p {
        BulkPoll::Done(ids) => ids.iter().filter(|id| id.is_some()).count(),
        other => panic!("{other:?}"),
    };
    assert_eq!((written(&second[0]), written(&second[1]), &second[2]), (2, 1, &BulkPoll::Gone));
    assert_eq!(count_requests(&sim, "GET", "/api/v2/job_statuses/show_many"), 2, "one call per round");
}
