//! `make bench`: a 100,000-contact profile backfill against the simulators' rate limits, timed
//! against the rate-limit floor (calls needed / allowed rate). Prints one Markdown table row.
//!
//! Limits: Zendesk 700 requests a minute (Enterprise), Intercom 1,666 per 10 s (10,000 a
//! minute). The backfill needs one Intercom search and about three Zendesk calls (the bulk job
//! and its polls; the simulator's jobs answer `working` to the first poll) per 100 contacts, so
//! Zendesk is the binding limit: about 3,000 calls at 700/min, a floor of about 4.3 minutes
//! (computed from the calls actually made). Run with no headroom: the backfill has the accounts
//! to itself. `BENCH_CONTACTS` changes the size.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bridge_e2e::backfill::{Scenario, run, world};

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let contacts: usize = std::env::var("BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let seeding = std::time::Instant::now();
    let world = world(contacts).await.unwrap();
    eprintln!("seeded {contacts} contacts in {:?}", seeding.elapsed());
    let s = Scenario {
        contacts,
        intercom_limit: 1666,
        intercom_window: Duration::from_secs(10),
        zendesk_limit: 700,
        zendesk_window: Duration::from_secs(60),
        kill_after_pages: None,
        // The backfill has the accounts to itself here: no headroom left for other callers.
        headroom: 0.0,
    };
    let m = run(&world, &s).await.unwrap();
    assert_eq!(m.missing, 0, "every contact has a Zendesk user");
    println!("| contacts | pages | Intercom calls | Zendesk calls | 429s | time | floor | time / floor |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {contacts} | {} | {} | {} | {} ({:.2} %) | {:.1} s | {:.1} s | {:.2} |",
        m.pages,
        m.intercom_calls,
        m.zendesk_calls,
        m.throttled,
        m.throttled_ratio() * 100.0,
        m.elapsed.as_secs_f64(),
        m.floor.as_secs_f64(),
        m.floor_ratio()
    );
}
