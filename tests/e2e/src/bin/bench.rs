//! `make bench` driver for the end-to-end numbers of docs/BENCHMARKS.md: escalations through
//! the real `bridge serve` process (release build), moto and the vendor simulators, all on
//! loopback; moto runs behind a keep-alive server ([`bridge_sim::moto::Moto::start_keepalive`]).
//! Measures:
//! - latency of one escalation at a time (tag applied -> ticket, link note on the conversation),
//!   p50/p99;
//! - throughput of a burst of escalations (events per second);
//! - CPU seconds of the `bridge serve` process only (utime+stime from /proc/<pid>/stat) per
//!   1,000 escalations, over the burst;
//! - peak RSS of that process (VmHWM from /proc/<pid>/status);
//! - vendor API calls per escalation (the simulators' recorded exchanges), by endpoint, apart
//!   from the one read that evaluates each new conversation against the rules;
//! - AWS requests per escalation (moto's access log) and the idle cost: CPU and requests per
//!   second of the bridge with nothing to do (the workers' SQS long polls), over 5 s.
//!
//! Environment: `BRIDGE_BIN` (default: the `bridge` built next to this binary), `BENCH_SEQUENTIAL` (default 50),
//! `BENCH_BURST` (default 300). Prints a Markdown section on stdout.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bridge_e2e::World;
use bridge_sim::common::Exchange;

/// Kills the child on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// How long the idle cost is measured.
const IDLE: Duration = Duration::from_secs(5);

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("malformed stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok(utime + stime)
}

fn clock_ticks_per_sec() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// A `VmHWM`/`VmRSS` line of /proc/<pid>/status, in KiB.
fn status_kib(pid: u32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with(key)).with_context(|| format!("{key} missing"))?;
    Ok(line.split_whitespace().nth(1).context("value")?.parse()?)
}

/// Waits until the bridge has nothing left to do: AWS requests back at the idle rate (the
/// workers' long polls, one per job a second) for a whole second, or 120 s.
async fn settle(world: &World) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = world.moto.requests();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = world.moto.requests();
        if now - last <= 2 * bridge_runtime::local::IMPLEMENTED_JOBS.len() as u64 {
            return;
        }
        last = now;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn escalated(world: &World, conv: &str, bot: &str) -> bool {
    let ext = format!("intercom-conversation-{conv}");
    noted(world, conv, bot) && world.tickets().iter().any(|t| t["external_id"].as_str() == Some(ext.as_str()))
}

fn noted(world: &World, conv: &str, bot: &str) -> bool {
    world
        .intercom
        .conversation(conv)
        .is_some_and(|c| c.parts.iter().any(|p| p.part_type == "note" && p.author.id == bot))
}

fn written_back(world: &World, conv: &str) -> bool {
    world.intercom.conversation(conv).is_some_and(|c| c.custom_attributes.contains_key("zendesk_ticket_id"))
}

/// Exchanges recorded so far by (Intercom, Zendesk).
fn exchange_counts(world: &World) -> (usize, usize) {
    (world.intercom.gate().recorder.all().len(), world.zendesk.exchanges().len())
}

/// Exchanges recorded since `since` (from [`exchange_counts`]).
fn exchanges_since(world: &World, since: (usize, usize)) -> Vec<Exchange> {
    let mut out = world.intercom.gate().recorder.all().split_off(since.0);
    out.extend(world.zendesk.exchanges().split_off(since.1));
    out
}

fn endpoint(e: &Exchange) -> String {
    // Ids in paths become `{id}` so calls group by endpoint.
    let path: Vec<String> = e
        .path
        .trim_end_matches(".json")
        .split('/')
        .map(|s| if s.chars().any(|c| c.is_ascii_digit()) && s.len() > 3 { "{id}".to_string() } else { s.to_string() })
        .collect();
    format!("{:?} {} {}", e.vendor, e.method, path.join("/"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bridge_bin = match std::env::var("BRIDGE_BIN") {
        Ok(bin) => bin,
        Err(_) => bridge_e2e::sibling_binary("bridge")?.display().to_string(),
    };
    let sequential = env_usize("BENCH_SEQUENTIAL", 50);
    let burst = env_usize("BENCH_BURST", 300);
    let work = root.join("target/bench");
    std::fs::create_dir_all(&work)?;

    // moto behind a keep-alive server: the bridge's AWS calls reuse connections, as with AWS.
    let mut world = World::start_on(bridge_sim::moto::Moto::start_keepalive()?, |c| c).await?;
    world.stop_bridge().await;
    let config_path = work.join("bridge.yaml");
    std::fs::write(&config_path, &world.config_text)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(work.join("bridge-serve.log"))?;
    let mut env = world.env();
    env.push(("BRIDGE_CONFIG".into(), config_path.display().to_string()));
    if let Ok(level) = std::env::var("BENCH_LOG") {
        env.push(("RUST_LOG".into(), level));
    }
    let started = Instant::now();
    let child = Command::new(&bridge_bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| {
            format!("starting {bridge_bin} serve (build it with `cargo build --release -p bridge-cli`)")
        })?;
    let serve = Guard(child);
    let pid = serve.0.id();
    let client = bridge_sim::http_client();
    loop {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await
            && r.status().is_success()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            bail!("bridge serve did not become healthy (see target/bench/bridge-serve.log)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let healthy_after = started.elapsed();
    world.intercom.set_webhook_target(Some(format!("{url}/webhooks/intercom")));
    world.zendesk.set_webhook_target(Some(format!("{url}/webhooks/zendesk")));
    let s = world.seeded.clone();
    let bot = s.bot_admin.clone();

    // Warm-up: the first escalation resolves the requester (and warms connections).
    for _ in 0..3 {
        let conv = world
            .intercom
            .customer_starts_conversation(&s.customer, "Warm-up")
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        world.intercom.admin_tags(&conv, &s.agent, "escalate").map_err(|e| anyhow::anyhow!("{e:?}"))?;
        wait(Duration::from_secs(60), || escalated(&world, &conv, &bot)).await.context("warm-up escalation")?;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // 1. Latency, one at a time; vendor calls counted over the same runs, in two parts: the
    //    read that evaluates a new conversation against the rules (on its created event), and
    //    the escalation itself (tag -> ticket + write-back).
    let mut latencies = Vec::with_capacity(sequential);
    let mut evaluation_calls = Vec::new();
    let mut seq_calls = Vec::new();
    let mut since = exchange_counts(&world);
    for i in 0..sequential {
        seq_calls.extend(exchanges_since(&world, since));
        let before_create = exchange_counts(&world);
        let conv = world
            .intercom
            .customer_starts_conversation(&s.customer, &format!("Latency {i}"))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let read = format!("/conversations/{conv}");
        wait(Duration::from_secs(30), || exchanges_since(&world, before_create).iter().any(|e| e.path == read))
            .await
            .context("the created conversation's evaluation")?;
        evaluation_calls.extend(exchanges_since(&world, before_create));
        since = exchange_counts(&world);
        let t0 = Instant::now();
        world.intercom.admin_tags(&conv, &s.agent, "escalate").map_err(|e| anyhow::anyhow!("{e:?}"))?;
        wait(Duration::from_secs(30), || noted(&world, &conv, &bot)).await.context("sequential escalation")?;
        latencies.push(t0.elapsed());
        // The write-back sets the ticket attributes after the note: its calls belong to this
        // escalation, not to the next conversation's evaluation. The simulator records an
        // exchange after it has changed the conversation, so the wait is for the record.
        wait(Duration::from_secs(30), || written_back(&world, &conv)).await.context("the ticket attributes")?;
        wait(Duration::from_secs(30), || {
            exchanges_since(&world, since).iter().any(|e| e.method == "PUT" && e.path == read)
        })
        .await
        .context("the ticket attributes' exchange")?;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    seq_calls.extend(exchanges_since(&world, since));
    latencies.sort();

    // 2. Burst: every conversation tagged at once; CPU and throughput of the bridge process.
    let mut burst_convs = Vec::with_capacity(burst);
    for i in 0..burst {
        burst_convs.push(
            world
                .intercom
                .customer_starts_conversation(&s.customer, &format!("Burst {i}"))
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        );
    }
    // Let the bridge drain the conversation-created webhooks before the measured window.
    settle(&world).await;
    // Idle: what the bridge costs with nothing to do (the workers' SQS long polls).
    let (idle_cpu0, idle_aws0) = (cpu_ticks(pid)?, world.moto.requests());
    tokio::time::sleep(IDLE).await;
    let (idle_cpu1, idle_aws1) = (cpu_ticks(pid)?, world.moto.requests());
    let cpu0 = cpu_ticks(pid)?;
    let aws0 = world.moto.requests();
    let actions0 = world.moto.requests_by_action();
    let t0 = Instant::now();
    for conv in &burst_convs {
        world.intercom.admin_tags(conv, &s.agent, "escalate").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let mut pending: Vec<&String> = burst_convs.iter().collect();
    // moto is the bottleneck here (one Python process; a transaction copies the whole table).
    wait_every(Duration::from_secs(600), Duration::from_millis(50), || {
        pending.retain(|c| !noted(&world, c, &bot));
        pending.is_empty()
    })
    .await
    .context("burst")?;
    let burst_elapsed = t0.elapsed();
    // Include the tail: the webhooks caused by the bridge's own writes.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu1 = cpu_ticks(pid)?;
    let aws1 = world.moto.requests();
    let actions1 = world.moto.requests_by_action();
    let hz = clock_ticks_per_sec() as f64;
    let cpu_secs = (cpu1 - cpu0) as f64 / hz;
    let idle_cpu_per_sec = (idle_cpu1 - idle_cpu0) as f64 / hz / IDLE.as_secs_f64();
    let idle_aws_per_sec = (idle_aws1 - idle_aws0) as f64 / IDLE.as_secs_f64();
    let measured_secs = (burst_elapsed + Duration::from_secs(2)).as_secs_f64();
    let hwm_kib = status_kib(pid, "VmHWM")?;
    let rss_kib = status_kib(pid, "VmRSS")?;
    let tickets = world.tickets().len();
    drop(serve);

    // Report.
    let per = seq_calls.len() as f64 / sequential as f64;
    let mut by_endpoint: BTreeMap<String, usize> = BTreeMap::new();
    for e in &seq_calls {
        *by_endpoint.entry(endpoint(e)).or_default() += 1;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // Seconds per 1,000 escalations = milliseconds per escalation.
    let cpu_per_1000 = cpu_secs / burst as f64 * 1000.0;
    let cpu_per_ms = cpu_per_1000;
    println!("### Escalation end to end (`bridge serve`, release build)\n");
    println!("| measure | value | target | verdict |");
    println!("| --- | --- | --- | --- |");
    println!("| `bridge serve` process start to healthy | {:.0} ms | - | - |", ms(healthy_after));
    println!(
        "| latency, one at a time (tag -> ticket + note), p50 / p99 over {sequential} | {:.1} ms / {:.1} ms | - | - |",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    println!(
        "| throughput, burst of {burst} tagged at once | {:.1} escalations/s ({:.2} s) | - | - |",
        burst as f64 / burst_elapsed.as_secs_f64(),
        burst_elapsed.as_secs_f64()
    );
    println!(
        "| CPU of `bridge serve` per 1,000 escalations | {cpu_per_1000:.2} s ({cpu_per_ms:.3} ms each) | 0.5 s (0.5 ms each) | {} |",
        verdict(cpu_per_ms, 0.5)
    );
    println!(
        "| peak RSS of `bridge serve` (VmHWM; VmRSS at the end) | {:.1} MiB ({:.1} MiB) | 40 MiB | {} |",
        hwm_kib as f64 / 1024.0,
        rss_kib as f64 / 1024.0,
        verdict(hwm_kib as f64 / 1024.0, 40.0)
    );
    println!(
        "| vendor API calls per escalation (known requester; tag -> ticket + write-back) | {per:.2} | 5 | {} |",
        verdict(per, 5.0)
    );
    println!(
        "| vendor API calls to evaluate a new conversation against the rules (its created event) | {:.2} | - | - |",
        evaluation_calls.len() as f64 / sequential as f64
    );
    println!(
        "| AWS requests (DynamoDB + SQS on moto) per escalation in the burst | {:.1} (idle polling: {:.1}/s) | - | - |",
        (aws1 - aws0) as f64 / burst as f64,
        idle_aws_per_sec
    );
    // The idle long polls over the burst window are not the escalations' (a Lambda event source
    // mapping polls too, whatever the traffic): the per-escalation figure leaves them out.
    // moto's log names actions with their protocol prefix (`DynamoDB_20120810.PutItem`).
    let delta = |action: &str| {
        let count = |m: &BTreeMap<String, u64>| {
            m.iter().filter(|(k, _)| k.rsplit('.').next() == Some(action)).map(|(_, n)| *n).sum::<u64>()
        };
        (count(&actions1) - count(&actions0)) as f64 / burst as f64
    };
    let idle_share = idle_aws_per_sec * measured_secs / burst as f64;
    let per_escalation = (aws1 - aws0) as f64 / burst as f64 - idle_share;
    let writes: f64 =
        ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"].iter().map(|a| delta(a)).sum();
    println!(
        "| AWS requests per escalation, the idle polls of the burst window ({idle_share:.2} each) left out | {per_escalation:.2} | 5 | {} |",
        verdict(per_escalation, 5.0)
    );
    println!("| DynamoDB writes per escalation | {writes:.2} | 3 | {} |", verdict(writes, 3.0));
    println!(
        "| CPU of `bridge serve` idle (SQS long polls only) | {:.2} ms/s, {:.3} ms per escalation of the burst window | - | - |",
        idle_cpu_per_sec * 1000.0,
        idle_cpu_per_sec * measured_secs * 1000.0 / burst as f64
    );
    println!("\nVendor calls per escalation, by endpoint ({sequential} escalations):\n");
    println!("| endpoint | calls per escalation |");
    println!("| --- | --- |");
    for (k, v) in &by_endpoint {
        println!("| `{k}` | {:.2} |", *v as f64 / sequential as f64);
    }
    println!("\nAWS requests per escalation in the burst, by action:\n");
    println!("| action | requests per escalation |");
    println!("| --- | --- |");
    for (action, n) in &actions1 {
        let n = n - actions0.get(action).copied().unwrap_or(0);
        if n > 0 {
            println!("| `{action}` | {:.2} |", n as f64 / burst as f64);
        }
    }
    println!("\n({tickets} tickets in the simulator at the end: 3 warm-up + {sequential} + {burst}.)");
    Ok(())
}

fn verdict(value: f64, target: f64) -> String {
    if value <= target { "met".into() } else { format!("missed by {:.0}%", (value / target - 1.0) * 100.0) }
}

async fn wait(timeout: Duration, probe: impl FnMut() -> bool) -> anyhow::Result<()> {
    wait_every(timeout, Duration::from_millis(2), probe).await
}

async fn wait_every(timeout: Duration, every: Duration, mut probe: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if probe() {
            return Ok(());
        }
        tokio::time::sleep(every).await;
    }
    bail!("timed out after {timeout:?}")
}
