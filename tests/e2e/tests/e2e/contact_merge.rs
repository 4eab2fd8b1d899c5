//! Intercom contact merge end to end: the simulator's `contact.merged` webhook goes through the
//! real ingress, SQS on moto and job 2's worker, which moves the link of the merged contact to
//! the surviving one (with a `ContactMerged` history entry); a later Zendesk status change on
//! the linked ticket still reaches the conversation.

use std::time::Duration;

use bridge_domain::ids::ConversationId;
use bridge_domain::model::LinkEvent;
use bridge_domain::ports::Store;
use bridge_e2e::{World, eventually, settle};
use bridge_sim::intercom::state::Contact;

const WAIT: Duration = Duration::from_secs(30);
const QUIET: Duration = Duration::from_millis(1500);

const STATUS: &str = r#"
ticket_status:
  on:
    solved:
      message: "Your ticket #{ticket_id} was solved."
      conversation: close
"#;

#[tokio::test]
async fn merged_contact_keeps_its_link_and_status_changes_still_reach_the_conversation() {
    let w = World::start_with(|c| format!("{c}{STATUS}")).await.unwrap();
    let s = w.seeded.clone();
    let lead = w
        .intercom
        .seed_contact(Contact {
            role: "lead".into(),
            email: Some("visitor@example.test".into()),
            name: Some("Vera Visitor".into()),
            ..Contact::default()
        })
        .unwrap();
    let conv = w.intercom.customer_starts_conversation(&lead, "The checkout page fails").unwrap();
    w.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    let ext = format!("intercom-conversation-{conv}");
    eventually(WAIT, "ticket", || w.tickets().iter().any(|t| t["external_id"].as_str() == Some(ext.as_str())))
        .await
        .unwrap();
    let ticket = w.tickets().into_iter().find(|t| t["external_id"].as_str() == Some(ext.as_str())).unwrap();
    let ticket = ticket["id"].as_u64().unwrap();
    let app = w.app().unwrap();
    let conv_id = ConversationId::parse(conv.clone()).unwrap();
    // The ticket exists before its link is written: let the escalation finish (its write-back
    // to the conversation comes after the link) before reading the link.
    settle(QUIET, WAIT, || (w.intercom.gate().recorder.all().len(), w.zendesk.exchanges().len())).await.unwrap();
    let link = app.store.link_by_conversation(&conv_id).await.unwrap().unwrap();
    assert_eq!(link.contact_id.as_ref().map(|c| c.as_str()), Some(lead.as_str()));

    // The lead turns out to be the known customer: Intercom merges it into the user.
    w.intercom.merge_contacts(&lead, &s.customer).unwrap();
    let mut moved = None;
    for _ in 0..(WAIT.as_millis() / 100) {
        let l = app.store.link_by_conversation(&conv_id).await.unwrap().unwrap();
        if l.contact_id.as_ref().map(|c| c.as_str()) == Some(s.customer.as_str()) {
            moved = Some(l);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let moved = moved.expect("the link follows the surviving contact");
    assert_eq!(moved.ticket_id.get(), ticket, "the ticket stays");
    let merges: Vec<_> = moved.history.iter().filter(|h| matches!(h, LinkEvent::ContactMerged { .. })).collect();
    assert_eq!(merges.len(), 1, "history: {:?}", moved.history);
    assert!(
        matches!(merges[0], LinkEvent::ContactMerged { from, to, .. } if from.as_str() == lead && to.as_str() == s.customer)
    );

    // A later status change on the ticket still reaches the conversation.
    w.zendesk.set_status(s.zendesk_agent, ticket, "solved").unwrap();
    let solved = |w: &World| {
        w.intercom.conversation(&conv).is_some_and(|c| {
            c.state == "closed"
                && c.parts
                    .iter()
                    .any(|p| p.author.id == s.bot_admin && p.body.as_deref().is_some_and(|b| b.contains("was solved")))
        })
    };
    eventually(WAIT, "solved message and closed conversation", || solved(&w)).await.unwrap();
    let by_ticket = app.store.link_by_ticket(moved.ticket_id).await.unwrap().unwrap();
    assert_eq!(by_ticket.contact_id.as_ref().map(|c| c.as_str()), Some(s.customer.as_str()));
}
