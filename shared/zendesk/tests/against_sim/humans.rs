//! What agents and customers do in Zendesk, seen through the API.

use bridge_domain::ids::TicketId;
use bridge_domain::ports::Helpdesk;
use bridge_sim::zendesk::{OrgInput, UserInput};

use super::{client, end_user, sim};

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
