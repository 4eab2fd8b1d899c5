//! A local Lambda runtime API for the `coldstart` driver (src/bin/coldstart.rs): a tiny
//! HTTP/1.1 server on loopback that hands one event to a function's process and times its cold
//! start.

use std::future::Future;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One parsed HTTP/1.1 request.
#[derive(Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A response: status, extra headers, body. `None` = never answer (the connection hangs).
pub type Resp = Option<(u16, Vec<(String, String)>, Vec<u8>)>;

/// Serves HTTP/1.1 (keep-alive, `Content-Length` bodies only) until the task is aborted.
pub fn serve<F, Fut>(listener: TcpListener, handler: F) -> tokio::task::JoinHandle<()>
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
#[derive(Debug)]
pub struct Cold {
    /// Spawn -> first `GET .../invocation/next` (runtime, config, clients: the init phase).
    pub init: Duration,
    /// Spawn -> invocation response.
    pub total: Duration,
    pub ok: bool,
    pub body: String,
    /// `VmHWM` in KiB right after the response.
    pub hwm_kib: u64,
}

/// One cold start: spawn -> first `next` (init) and -> response (total).
pub async fn cold_start(bin: &str, env: &[(String, String)], event: Vec<u8>) -> anyhow::Result<Cold> {
    let (addr, state, done, task) = emulator(event).await?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open("target/bench/coldstart.log")?;
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .stdout(log.try_clone()?)
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
