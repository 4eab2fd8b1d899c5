//! The `TicketFeed` of the Zendesk client against the Zendesk simulator over real HTTP: the
//! cursor-based incremental ticket export, its window, paging and the one-minute rule.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use bridge_domain::model::Timestamp;
use bridge_domain::ports::PortError;
use bridge_domain::sweep::TicketFeed;
use bridge_sim::Exchange;
use bridge_sim::zendesk::{UserInput, ZendeskSim, ZendeskSimOptions};
use bridge_zendesk::{Auth, ExportStart, ZendeskClient, ZendeskConfig, ZendeskError};

const EXPORT_PATH: &str = "/api/v2/incremental/tickets/cursor";

async fn sim() -> ZendeskSim {
    ZendeskSim::start(ZendeskSimOptions::default()).await.unwrap()
}

fn client(sim: &ZendeskSim) -> ZendeskClient {
    ZendeskClient::new(ZendeskConfig {
        base_url: sim.base_url().parse().unwrap(),
        auth: Auth::ApiToken { email: "bridge@example.com".into(), token: "sim-api-token".into() },
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn requester(sim: &ZendeskSim) -> u64 {
    sim.add_user(UserInput { name: Some("Ada".into()), email: Some("ada@example.com".into()), ..UserInput::default() })
        .unwrap()
}

fn exports(sim: &ZendeskSim) -> Vec<Exchange> {
    sim.exchanges().into_iter().filter(|e| e.path.trim_end_matches(".json") == EXPORT_PATH).collect()
}

fn param<'a>(e: &'a Exchange, name: &str) -> Option<&'a str> {
    e.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn changed_tickets_list_the_window_a_thousand_a_page() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = requester(&sim);
    sim.advance_clock(-7_200);
    let older = sim.submit_ticket(ada, "Older", "Before the window", "web").unwrap();
    sim.advance_clock(3_600);
    let since = now() - 3_600;
    let mut in_window = Vec::new();
    for i in 0..1_001 {
        in_window.push(sim.submit_ticket(ada, &format!("T{i}"), "In the window", "web").unwrap());
    }
    sim.advance_clock(3_600);

    let first = zd.changed_tickets(Timestamp(since), None).await.unwrap();
    assert_eq!(first.items.len(), 1_000, "Zendesk's default page");
    let cursor = first.next.clone().expect("not the end of the stream");
    let second = zd.changed_tickets(Timestamp(since), Some(&cursor)).await.unwrap();
    assert_eq!(second.next, None, "end_of_stream");
    let listed: Vec<u64> = first.items.iter().chain(&second.items).map(|c| c.id.get()).collect();
    assert_eq!(listed, in_window, "oldest change first; the older ticket is not listed");
    assert!(first.items.iter().all(|c| c.updated_at.0 >= since && c.created_at == c.updated_at));

    let sent = exports(&sim);
    assert_eq!(param(&sent[0], "start_time"), Some(since.to_string().as_str()));
    assert_eq!((param(&sent[1], "cursor"), param(&sent[1], "start_time")), (Some(cursor.as_str()), None));

    // The older ticket changes now: a later window lists it, and only it.
    let agent = sim.add_agent("Grace", "grace@example.com").unwrap();
    sim.comment(agent, older, "Picking this up", true).unwrap();
    let later = zd.changed_tickets(Timestamp(now() - 600), None).await.unwrap();
    assert_eq!(later.items.iter().map(|c| c.id.get()).collect::<Vec<_>>(), vec![older]);
    assert!(later.items[0].updated_at > later.items[0].created_at);
    assert_eq!(later.next, None);
}

#[tokio::test]
async fn a_start_time_within_the_last_minute_is_clamped() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = requester(&sim);
    let fresh = sim.submit_ticket(ada, "Just now", "Seconds ago", "web").unwrap();

    // Zendesk (and the simulator) refuse a start_time less than a minute in the past.
    let refused = zd.export_tickets(&ExportStart::StartTime(now()), None).await.unwrap_err();
    assert!(matches!(refused, ZendeskError::Permanent { status: 400, .. }), "{refused:?}");

    // The feed asks from a minute ago instead, and sees the ticket made seconds ago.
    let before = now();
    let page = zd.changed_tickets(Timestamp(before), None).await.unwrap();
    assert_eq!(page.items.iter().map(|c| c.id.get()).collect::<Vec<_>>(), vec![fresh]);
    assert_eq!(page.next, None);
    let future = zd.changed_tickets(Timestamp(before + 3_600), None).await.unwrap();
    assert_eq!(future.items.len(), 1, "a since in the future is clamped too");

    let sent = exports(&sim);
    assert_eq!(sent.iter().map(|e| e.status).collect::<Vec<_>>(), vec![400, 200, 200]);
    for e in &sent[1..] {
        let start: i64 = param(e, "start_time").unwrap().parse().unwrap();
        assert!((before - 61..=now() - 60).contains(&start), "start_time {start} is a minute ago");
    }
}

#[tokio::test]
async fn small_pages_follow_after_cursor_to_end_of_stream() {
    let sim = sim().await;
    let zd = client(&sim);
    let ada = requester(&sim);
    sim.advance_clock(-600);
    let since = now() - 600;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(sim.submit_ticket(ada, &format!("T{i}"), "Body", "web").unwrap());
        sim.advance_clock(10);
    }
    sim.advance_clock(550);

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = zd.changed_tickets_page(Timestamp(since), cursor.as_deref(), Some(2)).await.unwrap();
        pages += 1;
        listed.extend(page.items.iter().map(|c| c.id.get()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(listed, made);
}

#[tokio::test]
async fn export_errors_are_port_errors() {
    let sim = sim().await;
    let zd = client(&sim);
    let bad = zd.changed_tickets(Timestamp(0), Some("not-a-cursor")).await.unwrap_err();
    assert!(matches!(bad, PortError::Rejected { .. }), "{bad:?}");
    sim.set_incremental_rate_limit(1);
    zd.changed_tickets(Timestamp(0), None).await.unwrap();
    let limited = zd.changed_tickets(Timestamp(0), None).await.unwrap_err();
    assert!(matches!(limited, PortError::RateLimited { .. }), "{limited:?}");
}
