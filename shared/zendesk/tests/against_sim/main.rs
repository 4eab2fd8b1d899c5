//! The client against the Zendesk simulator over real HTTP: every endpoint, pagination,
//! retries, idempotency, closed tickets, merges, bulk jobs and signed webhooks.

// Helpers outside `#[test]` functions unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::panic)]

mod account;
mod helpdesk_port;
mod humans;
mod people;
mod tickets;
mod transport;
mod webhooks;

use std::time::Duration;

use bridge_sim::zendesk::{UserInput, ZendeskSim, ZendeskSimOptions};
use bridge_zendesk::{Auth, CommentWrite, TicketWrite, ZendeskClient, ZendeskConfig};

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
