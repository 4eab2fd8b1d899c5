//! `make bench` driver for the Lambda numbers of docs/BENCHMARKS.md: each function's release
//! binary (the `bootstrap` of its zip, built for the host) under a local Lambda runtime API.
//!
//! - Cold start: process spawn -> the invocation response received by the emulator, for one
//!   event, `COLDSTART_RUNS` times (default 7), median and max. The emulator is a tiny
//!   HTTP/1.1 server on loopback implementing `GET /2018-06-01/runtime/invocation/next` (one
//!   event, with `Lambda-Runtime-Aws-Request-Id` and `Lambda-Runtime-Deadline-Ms`; the next
//!   call hangs, as a frozen sandbox would) and `POST .../invocation/{id}/response|error`.
//!   The time to the first `GET .../next` is reported too: the init phase (runtime, config,
//!   AWS and vendor clients), apart from handling the event.
//! - Peak RSS (`VmHWM`) of the `escalate` worker handling a batch of 10 real escalations.
//!
//! The workers run against moto and the vendor simulators (started here, table and queues
//! created); their events are real SQS messages: webhooks from the simulators go through the
//! real ingress into the queues on moto, and are received from there. Functions without a
//! message in their queue get the fixture of `infra/events/`.
//!
//! Environment: `LAMBDA_BIN_DIR` (default target/release), `COLDSTART_RUNS`. Prints Markdown.

use std::future::Future;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use bridge_aws::ReceivedMessage;
use bridge_domain::routing::JobKind;
use bridge_e2e::World;
use bridge_runtime::ingress::{Ingress, WebhookRequest};
use bridge_runtime::settings::queue_url_variable;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One parsed HTTP/1.1 request.
struct Req {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A response: status, extra headers, body. `None` = never answer (the connection hangs).
type Resp = Option<(u16, Vec<(String, String)>, Vec<u8>)>;

/// Serves HTTP/1.1 (keep-alive, `Content-Length` bodies only) until the task is aborted.
fn serve<F, Fut>(listener: TcpListener, handler: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Resp> + Send,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let _ = connection(stream, handler).await;
            });
        }
    })
}

async fn connection<F, Fut>(stream: tokio::net::TcpStream, handler: F) -> anyhow::Result<()>
where
    F: Fn(Req) -> Fut,
    Fut: Future<Output = Resp>,
{
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = Method::from_bytes(parts.next().context("method")?.as_bytes())?;
        let path = parts.next().context("path")?.to_string();
        let mut headers = HeaderMap::new();
        loop {
            let mut h = String::new();
            read.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.append(HeaderName::from_bytes(k.trim().as_bytes())?, HeaderValue::from_str(v.trim())?);
            }
        }
        let len: usize = headers.get("content-length").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        read.read_exact(&mut body).await?;
        let Some((status, extra, body)) = handler(Req { method, path, headers, body }).await else {
            std::future::pending::<()>().await;
            return Ok(());
        };
        let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        write.write_all(head.as_bytes()).await?;
        write.write_all(&body).await?;
    }
}

/// What the runtime API emulator saw.
#[derive(Default)]
struct Emu {
    event: Option<Vec<u8>>,
    /// When the process first asked for an invocation: its init is done.
    asked: Option<Instant>,
    answered: Option<(Instant, bool, Vec<u8>)>,
}

/// Starts the emulator with one event; returns its address, state and a notification.
async fn emulator(
    event: Vec<u8>,
) -> anyhow::Result<(String, Arc<Mutex<Emu>>, Arc<Notify>, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let state = Arc::new(Mutex::new(Emu { event: Some(event), asked: None, answered: None }));
    let done = Arc::new(Notify::new());
    let (s, d) = (state.clone(), done.clone());
    let task = serve(listener, move |req: Req| {
        let (state, done) = (s.clone(), d.clone());
        async move {
            if req.method == Method::GET && req.path.ends_with("/runtime/invocation/next") {
                let event = {
                    let mut s = state.lock().ok()?;
                    s.asked.get_or_insert_with(Instant::now);
                    s.event.take()?
                };
                let deadline = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_millis() + 900_000;
                return Some((
                    200,
                    vec![
                        ("content-type".into(), "application/json".into()),
                        ("lambda-runtime-aws-request-id".into(), "bench-request-1".into()),
                        ("lambda-runtime-deadline-ms".into(), deadline.to_string()),
                        (
                            "lambda-runtime-invoked-function-arn".into(),
                            "arn:aws:lambda:us-east-1:000000000000:function:bench".into(),
                        ),
                    ],
                    event,
                ));
            }
            if req.method == Method::POST && (req.path.ends_with("/response") || req.path.contains("/error")) {
                let ok = req.path.ends_with("/response");
                if let Ok(mut s) = state.lock() {
                    s.answered.get_or_insert((Instant::now(), ok, req.body));
                }
                done.notify_one();
                return Some((202, vec![], b"{}".to_vec()));
            }
            Some((404, vec![], Vec::new()))
        }
    });
    Ok((addr, state, done, task))
}

/// One cold start, measured from the spawn.
struct Cold {
    /// Spawn -> first `GET .../invocation/next` (runtime, config, clients: the init phase).
    init: Duration,
    /// Spawn -> invocation response.
    total: Duration,
    ok: bool,
    body: String,
    /// `VmHWM` in KiB right after the response.
    hwm_kib: u64,
}

/// One cold start: spawn -> first `next` (init) and -> response (total).
async fn cold_start(bin: &str, env: &[(String, String)], event: Vec<u8>) -> anyhow::Result<Cold> {
    let (addr, state, done, task) = emulator(event).await?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open("target/bench/coldstart.log")?;
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {bin}"))?;
    let waited = tokio::time::timeout(Duration::from_secs(60), done.notified()).await;
    let hwm = status_kib(child.id(), "VmHWM").unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    task.abort();
    if waited.is_err() {
        bail!("{bin}: no invocation response within 60 s (see target/bench/coldstart.log)");
    }
    let mut s = state.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let (at, ok, body) = s.answered.take().context("answer")?;
    let asked = s.asked.unwrap_or(at);
    Ok(Cold { init: asked - t0, total: at - t0, ok, body: String::from_utf8_lossy(&body).into_owned(), hwm_kib: hwm })
}

/// A `VmHWM`/`VmRSS` line of /proc/<pid>/status, in KiB.
fn status_kib(pid: u32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with(key)).with_context(|| format!("{key} missing"))?;
    Ok(line.split_whitespace().nth(1).context("value")?.parse()?)
}

/// An SQS Lambda event (FIFO) with these messages.
fn sqs_event(job: JobKind, msgs: &[ReceivedMessage]) -> Vec<u8> {
    let records: Vec<serde_json::Value> = msgs
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": { "ApproximateReceiveCount": m.receive_count.to_string(), "MessageGroupId": "g" },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:000000000000:bench-{}.fifo", job.as_str()),
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::json!({ "Records": records }).to_string().into_bytes()
}

/// Every message currently receivable on a job's queue (left invisible for 15 minutes).
async fn drain(world: &World, job: JobKind) -> anyhow::Result<Vec<ReceivedMessage>> {
    let mut out = Vec::new();
    for _ in 0..50 {
        let got = world.queue.receive(job, 10, 0).await?;
        if got.is_empty() {
            break;
        }
        for m in &got {
            world.queue.change_visibility(job, &m.receipt_handle, 900).await?;
        }
        out.extend(got);
    }
    Ok(out)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(value: f64, target: f64) -> String {
    if value <= target { "met".into() } else { format!("missed by {:.0}%", (value / target - 1.0) * 100.0) }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::set_current_dir(&root)?;
    let bin_dir = std::env::var("LAMBDA_BIN_DIR").unwrap_or_else(|_| "target/release".into());
    let runs: usize = std::env::var("COLDSTART_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(7);
    std::fs::create_dir_all("target/bench")?;
    let _ = std::fs::remove_file("target/bench/coldstart.log");

    // The world: moto (table, queues), simulators. Conversations are opened while the
    // in-process bridge runs (their "created" events are consumed), then the bridge stops and
    // webhooks go through a bare ingress into the queues, where the Lambdas' events come from.
    let mut world = World::start().await?;
    let s = world.seeded.clone();
    let mut convs = Vec::new();
    for i in 0..(runs + 10) {
        convs.push(
            world
                .intercom
                .customer_starts_conversation(&s.customer, &format!("Cold start {i}"))
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    world.stop_bridge().await;
    let ingress: Arc<Ingress<_>> = Arc::new(world.ingress());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let hook_url = format!("http://{}", listener.local_addr()?);
    let ing = ingress.clone();
    let _hooks = serve(listener, move |req: Req| {
        let ingress = ing.clone();
        async move {
            let w = WebhookRequest { method: &req.method, headers: &req.headers, body: &req.body };
            let reply = if req.path.contains("zendesk") { ingress.zendesk(w).await } else { ingress.intercom(w).await };
            Some((reply.status.as_u16(), vec![], reply.body.into_bytes()))
        }
    });
    world.intercom.set_webhook_target(Some(format!("{hook_url}/webhooks/intercom")));
    world.zendesk.set_webhook_target(Some(format!("{hook_url}/webhooks/zendesk")));
    for conv in &convs {
        world.intercom.admin_tags(conv, &s.agent, "escalate").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut escalations = drain(&world, JobKind::Escalate).await?;
    if escalations.len() < 11 {
        bail!("expected at least 11 escalate messages on the queue, got {}", escalations.len());
    }

    let config_path = std::path::absolute("target/bench/coldstart-bridge.yaml")?;
    std::fs::write(&config_path, &world.config_text)?;
    let mut worker_env: Vec<(String, String)> =
        world.env().into_iter().filter(|(k, _)| k != "BRIDGE_QUEUE_PREFIX").collect();
    for (job, url) in world.queue.urls() {
        worker_env.push((queue_url_variable(*job), url.queue.clone()));
    }
    worker_env.push(("BRIDGE_CONFIG".into(), config_path.display().to_string()));
    for (k, v) in [
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
    ] {
        worker_env.push((k.into(), v.into()));
    }
    let fixture = |name: &str| std::fs::read(format!("infra/events/{name}"));

    let mut rows = Vec::new();
    // escalate: one fresh tag event per run (a batch of 1), then the batch of 10.
    let batch10: Vec<ReceivedMessage> = escalations.split_off(escalations.len() - 10);
    // (With fewer than `runs` left, later runs replay an event: its done marker makes them cheap.)
    // Ingress: the signed fixtures (their test secrets; the Zendesk one has a fixed timestamp).
    let mut ingress_env = worker_env.clone();
    ingress_env.retain(|(k, _)| !k.ends_with("_SECRET"));
    ingress_env.push(("INTERCOM_CLIENT_SECRET".into(), "test-intercom-client-secret".into()));
    ingress_env.push(("ZENDESK_WEBHOOK_SECRET".into(), "test-zendesk-webhook-secret".into()));
    ingress_env.push(("BRIDGE_WEBHOOK_MAX_AGE_SECS".into(), "3153600000".into()));

    type Events = Box<dyn FnMut(usize) -> anyhow::Result<(Vec<u8>, String)>>;
    type Env = Vec<(String, String)>;
    let mut functions: Vec<(&str, Env, Events)> = Vec::new();
    let esc = escalations.clone();
    functions.push((
        "escalate",
        worker_env.clone(),
        Box::new(move |i| {
            Ok((
                sqs_event(JobKind::Escalate, std::slice::from_ref(&esc[i % esc.len()])),
                "SQS batch of 1 tag event (new escalation)".into(),
            ))
        }),
    ));
    functions.push((
        "intercom-webhook",
        ingress_env.clone(),
        Box::new(move |_| {
            Ok((fixture("apigw-v2-intercom-tag-created-base64.json")?, "signed tag webhook, enqueued".into()))
        }),
    ));
    functions.push((
        "zendesk-webhook",
        ingress_env.clone(),
        Box::new(move |_| {
            Ok((fixture("apigw-v2-zendesk-ticket-solved.json")?, "signed status webhook, enqueued".into()))
        }),
    ));
    for (name, job) in [
        ("tag-sync", JobKind::TagSync),
        ("ticket-status", JobKind::TicketStatus),
        ("ticket-intake", JobKind::TicketIntake),
        ("profile-sync", JobKind::ProfileSync),
    ] {
        let queued = drain(&world, job).await?;
        functions.push((
            name,
            worker_env.clone(),
            Box::new(move |i| match queued.get(i) {
                Some(m) => Ok((sqs_event(job, std::slice::from_ref(m)), "SQS batch of 1 queued event".into())),
                None => Ok((fixture("sqs-escalate-batch.json")?, "fixture SQS batch (3 records)".into())),
            }),
        ));
    }
    functions.push((
        "csat-report",
        worker_env.clone(),
        Box::new(|_| Ok((br#"{"period":"daily"}"#.to_vec(), "scheduled daily report (no S3/Sheets)".into()))),
    ));

    for (name, env, mut events) in functions {
        let bin = format!("{bin_dir}/{name}");
        if !std::path::Path::new(&bin).exists() {
            rows.push(format!("| `{name}` | not built ({bin} missing) | - | - | - | - | - | - |"));
            continue;
        }
        let mut env = env;
        env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), name.into()));
        let mut times = Vec::new();
        let mut inits = Vec::new();
        let mut hwm = 0;
        let mut what = String::new();
        let mut failed = 0;
        for i in 0..runs {
            let (event, w) = events(i)?;
            what = w;
            let cold = cold_start(&bin, &env, event).await?;
            if !cold.ok {
                failed += 1;
                eprintln!("{name}: invocation error: {}", cold.body);
            }
            times.push(cold.total);
            inits.push(cold.init);
            hwm = hwm.max(cold.hwm_kib);
        }
        let max = times.iter().max().copied().unwrap_or_default();
        let med = median(&mut times);
        let init = median(&mut inits);
        // The binary as built here (release profile, stripped; the host's architecture, so not
        // byte for byte the arm64 bootstrap `make build` zips).
        let size_mb = std::fs::metadata(&bin).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
        rows.push(format!(
            "| `{name}` | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.1} MiB | {size_mb:.2} MB ({}) | {what}{} |",
            ms(med),
            ms(init),
            ms(max),
            verdict(ms(med), 30.0),
            hwm as f64 / 1024.0,
            verdict(size_mb, 6.0),
            if failed > 0 { format!(" ({failed} runs answered an error)") } else { String::new() }
        ));
    }

    // Peak RSS of escalate with a batch of 10 new escalations.
    let esc_bin = format!("{bin_dir}/escalate");
    let mut env = worker_env.clone();
    env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), "escalate".into()));
    let tickets_before = world.tickets().len();
    let Cold { total: t10, ok: ok10, body: body10, hwm_kib: hwm10, .. } =
        cold_start(&esc_bin, &env, sqs_event(JobKind::Escalate, &batch10)).await?;
    let tickets_made = world.tickets().len() - tickets_before;
    let failures: usize = serde_json::from_str::<serde_json::Value>(&body10)
        .ok()
        .and_then(|v| v["batchItemFailures"].as_array().map(Vec::len))
        .unwrap_or(usize::MAX);

    println!("### Lambda cold start (process spawn -> invocation response, local runtime API), {runs} runs each\n");
    println!(
        "| function | median (spawn -> response) | of which init (spawn -> first `next`) | max | target 30 ms | peak RSS (VmHWM) | binary, host build (target 6 MB) | event |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        println!("{r}");
    }
    println!("\n### `escalate` worker, one batch of 10 new escalations (cold process)\n");
    println!("| measure | value | target | verdict |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| peak RSS (VmHWM) | {:.1} MiB | 32 MiB | {} |",
        hwm10 as f64 / 1024.0,
        verdict(hwm10 as f64 / 1024.0, 32.0)
    );
    println!(
        "| spawn -> response | {:.0} ms ({} ok, {failures} batch item failures, {tickets_made} tickets created) | - | - |",
        ms(t10),
        if ok10 { "answered" } else { "error" },
    );
    Ok(())
}
