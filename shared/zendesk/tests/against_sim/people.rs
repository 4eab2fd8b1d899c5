//! Users and organizations: search, upserts, updates and bulk jobs.

use std::collections::BTreeMap;

use bridge_zendesk::{OrganizationWrite, UserWrite, ZendeskError};
use serde_json::json;

use super::{client, count_requests, sim};

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
