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
//! Each function gets an event of its own kind, and a configuration that enables its job (every
//! job's section, in one file as `BRIDGE_CONFIG`), with `RUST_LOG` as infra/template.yaml sets it
//! at `LogLevel` INFO and its log lines (stdout) written to target/bench/coldstart.log:
//! - `escalate`: an SQS batch of one Intercom `conversation_part.tag.created` (a new escalation);
//! - `ticket-status`: one Zendesk `ticket.status_changed` (an escalated ticket solved);
//! - `tag-sync`: one Zendesk `ticket.tags_changed` (a tag added to an escalated ticket);
//! - `ticket-intake`: one Zendesk `ticket.created` (a web-form ticket: routing, acknowledgement);
//! - `profile-sync`: one Intercom `contact.user.updated`; its scheduled `{"action": "reconcile"}`
//!   and `{"action": "backfill-continue"}` (no backfill in progress: one store read);
//! - `csat-report`: its scheduled `{"period": "daily"}` (S3 output on moto, no Sheets);
//! - `intercom-webhook`, `zendesk-webhook`: their API Gateway v2 requests (`infra/events/`).
//!
//! The workers run against moto and the vendor simulators (started here, table, queues and the
//! reports bucket created); their events are real SQS messages: the vendors' webhooks go through
//! the real ingress (with the same configuration) into the queues on moto, and are received from
//! there, one distinct event per run.
//!
//! Environment: `LAMBDA_BIN_DIR` (default: the folder of this binary, where cargo puts the
//! functions of the same build), `COLDSTART_RUNS`. Prints Markdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use bridge_aws::ReceivedMessage;
use bridge_domain::Config;
use bridge_domain::routing::JobKind;
use bridge_e2e::World;
use bridge_e2e::coldstart::{
    Cold, DEPLOYED_RUST_LOG, Req, SECTIONS, cold_start, drain_topic, median, ms, quiet, serve, sqs_event, verdict,
};
use bridge_runtime::ingress::{Ingress, WebhookRequest};
use bridge_runtime::reload::ConfigHolder;
use bridge_runtime::settings::queue_url_variable;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::set_current_dir(&root)?;
    let bin_dir = match std::env::var("LAMBDA_BIN_DIR") {
        Ok(dir) => dir,
        Err(_) => bridge_e2e::binary_dir()?.display().to_string(),
    };
    let runs: usize = std::env::var("COLDSTART_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(7);
    std::fs::create_dir_all("target/bench")?;
    let _ = std::fs::remove_file("target/bench/coldstart.log");
    let err = |e: bridge_sim::intercom::ApiError| anyhow::anyhow!("{e:?}");
    let zerr = |e: bridge_sim::zendesk::ApiError| anyhow::anyhow!("{e:?}");

    // The world: moto (table, queues), simulators, every job configured.
    let mut world = World::start().await?;
    let s = world.seeded.clone();
    let group = world.zendesk.add_group("General");
    world.stop_bridge().await;
    let text = format!(
        "{}{}{}",
        world.config_text,
        SECTIONS.replace("{group}", &group.to_string()),
        bridge_e2e::backfill::PROFILES
    );
    world.config = Config::from_yaml(&text)?;
    world.config_text = text;
    // The fields the profile mapping names (as the backfill scenario seeds them).
    world.intercom.seed_data_attribute("contact", "plan", "string", true);
    world.intercom.seed_data_attribute("contact", "zendesk_user_id", "string", true);
    world.zendesk.add_user_field("plan", "Plan", "text");
    world.zendesk.add_user_field("intercom_contact_id", "Intercom contact", "text");
    let bucket = format!("{}-reports", world.prefix.to_ascii_lowercase());
    bridge_aws::sdk::s3::Client::new(&world.sdk).create_bucket().bucket(&bucket).send().await?;
    world.start_bridge().await?;

    // Conversations: `runs + 10` to escalate under the Lambda (their "created" events are consumed
    // by the in-process bridge), and `runs` escalated now, whose tickets the Zendesk events are about.
    let mut convs = Vec::new();
    for i in 0..(runs + 10) {
        convs.push(world.intercom.customer_starts_conversation(&s.customer, &format!("Cold start {i}")).map_err(err)?);
    }
    for i in 0..runs {
        let c = world.intercom.customer_starts_conversation(&s.customer, &format!("Linked {i}")).map_err(err)?;
        world.intercom.admin_tags(&c, &s.agent, "escalate").map_err(err)?;
    }
    bridge_e2e::eventually(Duration::from_secs(60), "the linked tickets", || world.tickets().len() >= runs).await?;
    let linked: Vec<u64> = world.tickets().iter().filter_map(|t| t["id"].as_u64()).collect();
    // Contacts for the profile events, and their Zendesk twins (web-form requesters).
    let mut contacts = Vec::new();
    let mut requesters = Vec::new();
    for i in 0..runs {
        let email = format!("cold{i}@example.test");
        contacts.push(
            world
                .intercom
                .seed_contact(bridge_sim::intercom::state::Contact {
                    role: "user".into(),
                    email: Some(email.clone()),
                    name: Some(format!("Cold Person {i}")),
                    ..Default::default()
                })
                .map_err(err)?,
        );
        requesters.push(
            world
                .zendesk
                .add_user(bridge_sim::zendesk::UserInput {
                    name: Some(format!("Cold Person {i}")),
                    email: Some(email),
                    role: Some("end-user".into()),
                    ..Default::default()
                })
                .map_err(zerr)?,
        );
    }
    // Every message the in-process bridge queued is handled before it stops: one still in
    // flight would hold its FIFO message group, and the events below behind it.
    quiet(&world).await?;
    world.stop_bridge().await;

    // From here the vendors' webhooks go through a bare ingress, with the configuration, into the
    // queues, where the Lambdas' events come from.
    let holder = Arc::new(ConfigHolder::new(world.config.clone(), None, Duration::from_secs(3600)));
    let ingress: Arc<Ingress<_>> = Arc::new(world.ingress().with_config(holder));
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
        world.intercom.admin_tags(conv, &s.agent, "escalate").map_err(err)?;
    }
    for t in &linked {
        world.zendesk.set_status(s.zendesk_agent, *t, "solved").map_err(zerr)?;
        world.zendesk.agent_tags(s.zendesk_agent, *t, &["vip_customer".to_string()], &[]).map_err(zerr)?;
    }
    for (i, r) in requesters.iter().enumerate() {
        world.zendesk.submit_ticket(*r, &format!("Web form {i}"), "Please help with my order.", "web").map_err(zerr)?;
    }
    for (i, c) in contacts.iter().enumerate() {
        world
            .intercom
            .edit_contact(c, serde_json::json!({ "name": format!("Cold Person {i} (edited)") }))
            .map_err(err)?;
    }
    // The webhooks arrive over a few seconds: collect until each job has its events.
    let want = [
        (JobKind::Escalate, "conversation_part.tag.created", runs + 10),
        (JobKind::TicketStatus, "zen:event-type:ticket.status_changed", runs),
        (JobKind::TagSync, "zen:event-type:ticket.tags_changed", runs),
        (JobKind::TicketIntake, "zen:event-type:ticket.created", runs),
        (JobKind::ProfileSync, "contact.user.updated", runs),
    ];
    let mut got: Vec<Vec<ReceivedMessage>> = vec![Vec::new(); want.len()];
    let started = Instant::now();
    while want.iter().zip(&got).any(|((_, _, n), g)| g.len() < *n) {
        if started.elapsed() > Duration::from_secs(60) {
            let counts: Vec<String> =
                want.iter().zip(&got).map(|((_, t, n), g)| format!("{t}: {}/{n}", g.len())).collect();
            bail!("events missing on the queues after 60 s: {}", counts.join(", "));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        for ((job, topic, _), g) in want.iter().zip(got.iter_mut()) {
            g.extend(drain_topic(&world, *job, topic).await?);
        }
    }
    eprintln!("events collected in {:.1} s", started.elapsed().as_secs_f64());
    let mut got = got.into_iter();
    let mut next = || got.next().unwrap_or_default();
    let (mut escalations, statuses, tags, created, contact_events) = (next(), next(), next(), next(), next());

    let config_path = std::path::absolute("target/bench/coldstart-bridge.yaml")?;
    std::fs::write(&config_path, &world.config_text)?;
    let mut worker_env: Vec<(String, String)> =
        world.env().into_iter().filter(|(k, _)| k != "BRIDGE_QUEUE_PREFIX" && k != "RUST_LOG").collect();
    for (job, url) in world.queue.urls() {
        worker_env.push((queue_url_variable(*job), url.queue.clone()));
    }
    worker_env.push(("BRIDGE_CONFIG".into(), config_path.display().to_string()));
    worker_env.push(("BRIDGE_REPORTS_BUCKET".into(), bucket));
    worker_env.push(("RUST_LOG".into(), DEPLOYED_RUST_LOG.into()));
    for (k, v) in [
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
    ] {
        worker_env.push((k.into(), v.into()));
    }
    let fixture = |name: &str| std::fs::read(format!("infra/events/{name}"));
    // Zendesk allows 10 incremental exports a minute; `csat-report` runs once a day, but its
    // cold starts here come back to back (and after `profile-sync`'s reconciliations, which read
    // the same export): the limit is lifted so each run does the report, not a 429.
    world.zendesk.set_incremental_rate_limit(10_000);

    let mut rows = Vec::new();
    // escalate: one fresh tag event per run (a batch of 1), then the batch of 10.
    let batch10: Vec<ReceivedMessage> = escalations.split_off(escalations.len() - 10);
    // Ingress: the signed fixtures (their test secrets; the Zendesk one has a fixed timestamp).
    let mut ingress_env = worker_env.clone();
    ingress_env.retain(|(k, _)| !k.ends_with("_SECRET"));
    ingress_env.push(("INTERCOM_CLIENT_SECRET".into(), "test-intercom-client-secret".into()));
    ingress_env.push(("ZENDESK_WEBHOOK_SECRET".into(), "test-zendesk-webhook-secret".into()));
    ingress_env.push(("BRIDGE_WEBHOOK_MAX_AGE_SECS".into(), "3153600000".into()));

    type Events = Box<dyn FnMut(usize) -> anyhow::Result<Vec<u8>>>;
    type Env = Vec<(String, String)>;
    let mut functions: Vec<(&str, String, Env, Events)> = Vec::new();
    let one_each = |job: JobKind, msgs: Vec<ReceivedMessage>| -> Events {
        Box::new(move |i| Ok(sqs_event(job, std::slice::from_ref(&msgs[i % msgs.len()]))))
    };
    functions.push((
        "escalate",
        "SQS batch of 1 Intercom `conversation_part.tag.created` (new escalation)".into(),
        worker_env.clone(),
        one_each(JobKind::Escalate, escalations),
    ));
    functions.push((
        "intercom-webhook",
        "API Gateway v2 request: signed `conversation_part.tag.created`, queued".into(),
        ingress_env.clone(),
        Box::new(move |_| Ok(fixture("apigw-v2-intercom-tag-created-base64.json")?)),
    ));
    functions.push((
        "zendesk-webhook",
        "API Gateway v2 request: signed `ticket.status_changed`, queued".into(),
        ingress_env.clone(),
        Box::new(move |_| Ok(fixture("apigw-v2-zendesk-ticket-solved.json")?)),
    ));
    functions.push((
        "ticket-status",
        "SQS batch of 1 Zendesk `ticket.status_changed` (escalated ticket solved)".into(),
        worker_env.clone(),
        one_each(JobKind::TicketStatus, statuses),
    ));
    functions.push((
        "tag-sync",
        "SQS batch of 1 Zendesk `ticket.tags_changed` (mapped tag added to an escalated ticket)".into(),
        worker_env.clone(),
        one_each(JobKind::TagSync, tags),
    ));
    functions.push((
        "ticket-intake",
        "SQS batch of 1 Zendesk `ticket.created` (web form: routing, acknowledgement)".into(),
        worker_env.clone(),
        one_each(JobKind::TicketIntake, created),
    ));
    functions.push((
        "profile-sync",
        "SQS batch of 1 Intercom `contact.user.updated`".into(),
        worker_env.clone(),
        one_each(JobKind::ProfileSync, contact_events),
    ));
    functions.push((
        "profile-sync",
        "scheduled `{\"action\": \"reconcile\"}`".into(),
        worker_env.clone(),
        Box::new(|_| Ok(br#"{"action":"reconcile"}"#.to_vec())),
    ));
    functions.push((
        "profile-sync",
        "scheduled `{\"action\": \"backfill-continue\"}` (none in progress)".into(),
        worker_env.clone(),
        Box::new(|_| Ok(br#"{"action":"backfill-continue"}"#.to_vec())),
    ));
    functions.push((
        "csat-report",
        "scheduled `{\"period\": \"daily\"}` (S3 on moto, no Sheets)".into(),
        worker_env.clone(),
        Box::new(|_| Ok(br#"{"period":"daily"}"#.to_vec())),
    ));

    for (name, what, env, mut events) in functions {
        let bin = format!("{bin_dir}/{name}");
        if !std::path::Path::new(&bin).exists() {
            rows.push(format!("| `{name}` | {what} | not built ({bin} missing) | - | - | - | - | - |"));
            continue;
        }
        let mut env = env;
        env.push(("AWS_LAMBDA_FUNCTION_NAME".into(), name.into()));
        let mut times = Vec::new();
        let mut inits = Vec::new();
        let mut hwm = 0;
        let mut failed = 0;
        let mut answer = String::new();
        for i in 0..runs {
            let cold = cold_start(&bin, &env, events(i)?).await?;
            if !cold.ok {
                failed += 1;
                eprintln!("{name}: invocation error: {}", cold.body);
            }
            answer = cold.body;
            times.push(cold.total);
            inits.push(cold.init);
            hwm = hwm.max(cold.hwm_kib);
        }
        eprintln!("{name} ({what}): last answer {answer}");
        let max = times.iter().max().copied().unwrap_or_default();
        let init_max = inits.iter().max().copied().unwrap_or_default();
        let med = median(&mut times);
        let init = median(&mut inits);
        // The binary as built here (release profile, stripped; the host's architecture, so not
        // byte for byte the arm64 bootstrap `make build` zips).
        let size_mb = std::fs::metadata(&bin).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
        rows.push(format!(
            "| `{name}` | {what}{} | {:.1} ms (max {:.1}) | {:.1} ms (max {:.1}) | {} | {:.1} MiB | {size_mb:.2} MB |",
            if failed > 0 { format!(" ({failed} runs answered an error)") } else { String::new() },
            ms(init),
            ms(init_max),
            ms(med),
            ms(max),
            verdict(ms(med), 30.0),
            hwm as f64 / 1024.0,
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
    let log_bytes = std::fs::metadata("target/bench/coldstart.log").map(|m| m.len()).unwrap_or(0);

    println!(
        "### Lambda cold start (process spawn -> init done -> first response, local runtime API), {runs} runs each\n"
    );
    println!("`RUST_LOG={DEPLOYED_RUST_LOG}`; every job configured (target/bench/coldstart-bridge.yaml).\n");
    println!(
        "| function | event | spawn -> init done (first `next`), median | spawn -> first response, median | target 30 ms (first response) | peak RSS (VmHWM) | binary, host build |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
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
    println!("\nLog lines (stdout and stderr of every run, at INFO): {log_bytes} bytes in target/bench/coldstart.log.");
    Ok(())
}
