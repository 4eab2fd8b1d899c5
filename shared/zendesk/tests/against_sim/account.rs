//! Account data: groups, fields, CSAT ratings and ticket metrics.

use bridge_zendesk::RatingsQuery;
use serde_json::json;

use super::{client, count_requests, end_user, sim, ticket_body};

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
