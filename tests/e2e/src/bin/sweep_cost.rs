//! `make bench`: what an empty repair sweep costs (issue 16). A world with jobs 1 and 3 to 6
//! configured, a few escalated conversations and web-form tickets, every sweep run once (its
//! first window reads the horizon), then each run again with nothing changed: the AWS requests
//! (moto's access log, by action) and vendor calls (the simulators' recorders) of that empty run,
//! and per month at the default schedule (the template fires every 5 minutes; job 1 runs at every
//! firing, the others every 15 minutes and answer "not due" in between with one read).
//!
//! The workers are stopped while measuring, so their idle SQS polls are not counted; the counts
//! are the sweep's own (through the same `run_sweep` the scheduled functions call).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use bridge_domain::Config;
use bridge_domain::routing::JobKind;
use bridge_e2e::World;
use bridge_e2e::coldstart::SECTIONS;
use bridge_jobs::sweep::SweepOptions;
use bridge_runtime::schedules::run_sweep;

/// Firings of the 5-minute schedule in a 30-day month.
const FIRINGS_PER_MONTH: u64 = 30 * 24 * 12;

fn diff(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(k, v)| {
            let d = v - before.get(k).copied().unwrap_or(0);
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The keep-alive moto (waitress) logs the action of each request.
    let mut world = World::start_on(bridge_sim::moto::Moto::start_keepalive()?, |c| c).await?;
    let s = world.seeded.clone();
    let group = world.zendesk.add_group("General");
    world.stop_bridge().await;
    let text = format!("{}{}", world.config_text, SECTIONS.replace("{group}", &group.to_string()));
    world.config = Config::from_yaml(&text)?;
    world.config_text = text;
    world.start_bridge().await?;
    for i in 0..3 {
        let c = world
            .intercom
            .customer_starts_conversation(&s.customer, &format!("Cost {i}"))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        world.intercom.admin_tags(&c, &s.agent, "escalate").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    bridge_e2e::eventually(Duration::from_secs(60), "three escalations", || world.tickets().len() == 3).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    world.stop_bridge().await;
    // The workers' last long polls end (and reach moto's log) before anything is counted.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let app = world.app()?;

    println!("# An empty repair sweep\n");
    println!(
        "| sweep | AWS requests per run | vendor calls per run | AWS requests per month | vendor calls per month |"
    );
    println!("|---|---|---|---|---|");
    let forced = SweepOptions { force: true, ..SweepOptions::default() };
    let mut month_aws = 0;
    let mut month_vendor = 0;
    for (job, every) in
        [(JobKind::Escalate, 5u64), (JobKind::TicketStatus, 15), (JobKind::TagSync, 15), (JobKind::TicketIntake, 15)]
    {
        // The first run reads the horizon; the second finds nothing new.
        run_sweep(&app, job, &forced, &mut |_| {}).await.context("first run")?.ok().context("ran")?;
        let (aws0, ic0, zd0) = (
            world.moto.requests_by_action(),
            world.intercom.gate().recorder.all().len(),
            world.zendesk.exchanges().len(),
        );
        let report = run_sweep(&app, job, &forced, &mut |_| {}).await.context("empty run")?.ok().context("ran")?;
        anyhow::ensure!(report.repaired_total() == 0, "{}: not empty: {report:?}", job.as_str());
        let aws = diff(&world.moto.requests_by_action(), &aws0);
        let vendor = (world.intercom.gate().recorder.all().len() - ic0) + (world.zendesk.exchanges().len() - zd0);
        // A firing that is not due: one read of the cursor.
        let (not_due0, ..) = (world.moto.requests(),);
        let skipped = run_sweep(&app, job, &SweepOptions::default(), &mut |_| {}).await.context("not due")?;
        anyhow::ensure!(skipped.is_err(), "{}: ran again at once", job.as_str());
        let not_due = world.moto.requests() - not_due0;
        let runs = FIRINGS_PER_MONTH * 5 / every;
        let idle = FIRINGS_PER_MONTH - runs;
        let aws_run: u64 = aws.values().sum();
        let aws_month = runs * aws_run + idle * not_due;
        let vendor_month = runs * vendor as u64;
        month_aws += aws_month;
        month_vendor += vendor_month;
        let actions: Vec<String> = aws.iter().map(|(a, n)| format!("{n} {a}")).collect();
        println!(
            "| {} (every {every} min) | {aws_run} ({}); not due: {not_due} | {vendor} | {aws_month} | {vendor_month} |",
            job.as_str(),
            actions.join(", ")
        );
    }
    println!("| all four | | | {month_aws} | {month_vendor} |");
    println!(
        "\nPer month: {FIRINGS_PER_MONTH} firings of each schedule (every 5 minutes, 30 days); Lambda invocations \
         not included ({} per month, one per firing).",
        4 * FIRINGS_PER_MONTH
    );
    Ok(())
}
