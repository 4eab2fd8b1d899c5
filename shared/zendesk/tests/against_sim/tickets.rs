//! Tickets: show, update and comment pages, idempotent creates, closed tickets and follow-ups,
//! tags, merges.

use bridge_domain::ids::TicketId;
use bridge_domain::model::{TicketStatus, TicketUpdate};
use bridge_domain::ports::{Helpdesk, PortError};
use bridge_zendesk::{CommentWrite, MergeRequest, TicketWrite, ZendeskError};

use super::{client, count_requests, end_user, sim, ticket_body};

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
