//! The `Helpdesk` port implemented by the client, end to end.

use std::collections::BTreeMap;

use bridge_domain::ids::{TicketId, UserId};
use bridge_domain::model::{
    NewTicket, OrganizationUpsert, TicketComment, TicketPriority, TicketStatus, TicketUpdate, UserUpsert,
};
use bridge_domain::ports::{Helpdesk, PortError};

use super::{client, sim};

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
