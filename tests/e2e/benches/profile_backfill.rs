//! `make bench`: a 100,000-contact profile backfill against the simulators' rate limits, timed
//! against the rate-limit floor. Prints Markdown.
//!
//! Limits: Zendesk 700 requests a minute (Enterprise), Intercom 1,666 per 10 s (10,000 a
//! minute). The floor comes from the records and the limits alone ([`Floor`]): each vendor needs
//! ceil(records / records per call) calls (100 contacts per Intercom search page and per Zendesk
//! `create_or_update_many`), at its limit per window; Zendesk binds (100,001 records: 1,001 bulk
//! jobs at 700 a minute, 85.8 s). Whatever else the backfill calls (the bulk jobs' status polls)
//! counts against the run, not the floor.
//!
//! Two paths, each on a fresh world (`BENCH_BACKFILL_PATHS`, default `direct,deployed`):
//! - `direct`: one `backfill` run to the end with no headroom (the backfill has the accounts to
//!   itself), as `bridge backfill profiles` runs it;
//! - `deployed`: the `profile-sync` function's path, `{"action": "backfill"}` and then
//!   `{"action": "backfill-continue"}` from the message each paused run puts on the function's
//!   queue (received from moto as the event source mapping would), the 5-minute schedule only
//!   when no message comes; each invocation with the function's 240 s timeout less its margin
//!   (`BACKFILL_MARGIN`, 15 s) and the default headroom (10 %; `BENCH_DEPLOYED_HEADROOM`
//!   another, as `BRIDGE_BACKFILL_HEADROOM` sets it on the function), through
//!   `run_profile_sync`, what the Lambda main calls ([`Schedule::DEPLOYED`]).
//!
//! `BENCH_CONTACTS` changes the size; `BENCH_BACKFILL_SCHEDULE=<timeout>,<margin>,<period>` (seconds)
//! another schedule, for a quick check of the hand-over (the figures are the deployed one's).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bridge_e2e::backfill::{Floor, Measured, Scenario, Schedule, run, run_scheduled, world};

fn scenario(contacts: usize, headroom: f64) -> Scenario {
    Scenario {
        contacts,
        intercom_limit: 1666,
        intercom_window: Duration::from_secs(10),
        zendesk_limit: 700,
        zendesk_window: Duration::from_secs(60),
        kill_after_pages: None,
        headroom,
    }
}

fn floor_line(f: &Floor, s: &Scenario) -> String {
    format!(
        "floor: {} records; Intercom {} searches of {} at {} per {} s = {:.1} s; Zendesk {} bulk jobs of {} at {} per {} s = {:.1} s; floor {:.1} s",
        f.records,
        f.intercom_calls,
        f.intercom_per_call,
        s.intercom_limit,
        s.intercom_window.as_secs(),
        f.intercom.as_secs_f64(),
        f.zendesk_calls,
        f.zendesk_per_call,
        s.zendesk_limit,
        s.zendesk_window.as_secs(),
        f.zendesk.as_secs_f64(),
        f.time().as_secs_f64(),
    )
}

fn verdict(m: &Measured) -> String {
    let ok = m.floor_ratio() <= 1.15 && m.throttled_ratio() < 0.01;
    if ok { "met".into() } else { format!("missed by {:.0} %", (m.floor_ratio() / 1.15 - 1.0) * 100.0) }
}

fn row(path: &str, contacts: usize, m: &Measured) -> String {
    format!(
        "| {path} | {contacts} | {} | {} | {} | {} ({:.2} %) | {:.1} s | {:.1} s | {:.2} | {} | {:.1} s ({:.2}) |",
        m.pages,
        m.intercom_calls,
        m.zendesk_calls,
        m.throttled,
        m.throttled_ratio() * 100.0,
        m.elapsed.as_secs_f64(),
        m.floor.as_secs_f64(),
        m.floor_ratio(),
        verdict(m),
        m.calls_floor.as_secs_f64(),
        m.elapsed.as_secs_f64() / m.calls_floor.as_secs_f64().max(1e-9),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let contacts: usize = std::env::var("BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let paths = std::env::var("BENCH_BACKFILL_PATHS").unwrap_or_else(|_| "direct,deployed".into());
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    if paths.split(',').any(|p| p.trim() == "direct") {
        let seeding = std::time::Instant::now();
        let world = world(contacts).await.unwrap();
        eprintln!("seeded {contacts} contacts in {:?}", seeding.elapsed());
        // The backfill has the accounts to itself here: no headroom left for other callers.
        let s = scenario(contacts, 0.0);
        let m = run(&world, &s).await.unwrap();
        assert_eq!(m.missing, 0, "every contact has a Zendesk user");
        notes.push(floor_line(&m.floor_parts, &s));
        rows.push(row("direct (`backfill`, one run, no headroom)", contacts, &m));
    }
    if paths.split(',').any(|p| p.trim() == "deployed") {
        let world = world(contacts).await.unwrap();
        let headroom = std::env::var("BENCH_DEPLOYED_HEADROOM").ok().and_then(|v| v.parse().ok()).unwrap_or(0.1);
        let s = scenario(contacts, headroom);
        let schedule = match std::env::var("BENCH_BACKFILL_SCHEDULE") {
            Ok(v) => {
                let n: Vec<u64> = v.split(',').map(|x| x.trim().parse().unwrap()).collect();
                let [timeout, margin, period] = n[..] else { panic!("BENCH_BACKFILL_SCHEDULE: timeout,margin,period") };
                Schedule {
                    timeout: Duration::from_secs(timeout),
                    margin: Duration::from_secs(margin),
                    period: Duration::from_secs(period),
                }
            }
            Err(_) => Schedule::DEPLOYED,
        };
        let (m, invocations) = run_scheduled(&world, &s, schedule).await.unwrap();
        assert_eq!(m.missing, 0, "every contact has a Zendesk user");
        notes.push(floor_line(&m.floor_parts, &s));
        rows.push(row("deployed (`profile-sync` `backfill` + `backfill-continue` handed over)", contacts, &m));
        notes.push(format!(
            "deployed path: timeout {} s, margin {} s, schedule every {} s, headroom {:.0} %; invocations:",
            schedule.timeout.as_secs(),
            schedule.margin.as_secs(),
            schedule.period.as_secs(),
            s.headroom * 100.0
        ));
        let mut busy = Duration::ZERO;
        for i in &invocations {
            busy += i.ran;
            notes.push(format!(
                "  - at {:.1} s: {} ran {:.1} s, answered {}",
                i.at.as_secs_f64(),
                i.action,
                i.ran.as_secs_f64(),
                i.answer
            ));
        }
        notes.push(format!(
            "  busy {:.1} s, idle between runs {:.1} s of {:.1} s",
            busy.as_secs_f64(),
            (m.elapsed.saturating_sub(busy)).as_secs_f64(),
            m.elapsed.as_secs_f64()
        ));
    }
    println!(
        "| path | contacts | pages | Intercom calls | Zendesk calls | 429s | time | floor (records / limits) | time / floor | target 1.15, under 1 % 429 | floor from the calls made (earlier method) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
    println!();
    for n in notes {
        println!("{n}");
    }
}
