//! moto server harness: a real local AWS emulator (DynamoDB, SQS, …) for integration tests.
//!
//! [`Moto::start`] launches `<workspace>/.venv/bin/moto_server` (pinned `moto[server]==5.2.5`,
//! installed by `make setup`) on a free loopback port, waits until `GET /moto-api/` answers 200
//! and kills the process when the [`Moto`] value is dropped. Each test starts its own server and
//! still uses [`unique_name`] for its tables and queues, so nothing leaks between tests.
//!
//! There is no silent skip: a missing venv or a server that does not come up is an error that
//! says to run `make setup`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let moto = bridge_sim::moto::Moto::start()?;
//! let sdk = moto.sdk_config().await;
//! let table = bridge_sim::moto::unique_name("links");
//! # let _ = (sdk, table); Ok(()) }
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// How long the server may take to answer its first `GET /moto-api/`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How many log lines of the server are kept for error messages.
const LOG_TAIL: usize = 40;
/// Ports tried before giving up (another process may grab the port we picked).
const START_ATTEMPTS: usize = 3;
/// Region the harness signs for.
pub const REGION: &str = "us-east-1";

/// A running moto server, killed on drop.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    port: u16,
    log: Arc<Mutex<VecDeque<String>>>,
    requests: Arc<std::sync::atomic::AtomicU64>,
    actions: Arc<Mutex<BTreeMap<String, u64>>>,
}

/// The request counters the log readers update.
struct Counts {
    requests: Arc<std::sync::atomic::AtomicU64>,
    actions: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Moto {
    /// Starts a moto server on a free loopback port and waits until it is ready.
    ///
    /// Fails (never skips) when the venv binary is missing or the server does not come up;
    /// the error says to run `make setup`.
    pub fn start() -> anyhow::Result<Moto> {
        Self::start_with_binary(&moto_binary())
    }

    /// Like [`Moto::start`], but moto's app served by waitress (`scripts/moto_keepalive.py`),
    /// which keeps connections alive as real AWS endpoints do; `moto_server` closes each one.
    /// The benchmarks use it, so the bridge's cost per AWS call is not a TCP connect's.
    pub fn start_keepalive() -> anyhow::Result<Moto> {
        let python = workspace_root().join(".venv").join("bin").join("python");
        let script = workspace_root().join("scripts").join("moto_keepalive.py");
        Self::start_program(&python, &[script.display().to_string()])
    }

    /// Like [`Moto::start`], with moto's server run by a Python script of the venv that takes the
    /// same flags (the stack rehearsal's `tests/rehearsal/moto_iam.py`).
    pub fn start_script(script: &Path) -> anyhow::Result<Moto> {
        let python = workspace_root().join(".venv").join("bin").join("python");
        Self::start_program(&python, &[script.display().to_string()])
    }

    /// Like [`Moto::start`], with another `moto_server` executable.
    pub fn start_with_binary(binary: &Path) -> anyhow::Result<Moto> {
        if !binary.is_file() {
            bail!(
                "moto server not found at {}: run `make setup` (it creates .venv with \
                 moto[server]==5.2.5) before running the AWS integration tests",
                binary.display()
            );
        }
        Self::start_program(binary, &[])
    }

    fn start_program(binary: &Path, args: &[String]) -> anyhow::Result<Moto> {
        if !binary.is_file() {
            bail!("{} not found: run `make setup`", binary.display());
        }
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            match Self::start_once(binary, args) {
                Ok(moto) => return Ok(moto),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error
            .unwrap_or_else(|| anyhow::anyhow!("moto server did not start"))
            .context("moto server did not come up: run `make setup` and check the log above"))
    }

    fn start_once(binary: &Path, args: &[String]) -> anyhow::Result<Moto> {
        let port = free_port()?;
        let mut child = Command::new(binary)
            .args(args)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("spawning {}: run `make setup`", binary.display()))?;

        // Drain both pipes (moto logs every request; a full pipe would block the server) and
        // keep the last lines for error messages.
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_TAIL)));
        let requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let actions = Arc::new(Mutex::new(BTreeMap::new()));
        let counts = || Counts { requests: Arc::clone(&requests), actions: Arc::clone(&actions) };
        if let Some(out) = child.stdout.take() {
            drain(out, Arc::clone(&log), counts());
        }
        if let Some(err) = child.stderr.take() {
            drain(err, Arc::clone(&log), counts());
        }
        // From here on, Drop kills the process whatever happens.
        let mut moto = Moto { child, port, log, requests, actions };

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = moto.child.try_wait().context("polling moto server")? {
                bail!("moto server exited with {status} before it was ready (port {port}); log:\n{}", moto.log_tail());
            }
            if probe(port) {
                return Ok(moto);
            }
            if Instant::now() >= deadline {
                let tail = moto.log_tail();
                moto.kill();
                bail!(
                    "moto server on port {port} not ready after {}s: run `make setup`; log:\n{tail}",
                    READY_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests the server has logged so far (every DynamoDB, SQS, S3 ... call; benchmarks read
    /// it to count AWS calls).
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests so far by action (`DynamoDB_20120810.PutItem`, `AmazonSQS.ReceiveMessage`, ...);
    /// only the keep-alive server ([`Moto::start_keepalive`]) logs actions.
    pub fn requests_by_action(&self) -> BTreeMap<String, u64> {
        self.actions.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// SDK configuration pointing at this server: region `us-east-1`, static test credentials,
    /// `endpoint_url` set, host environment ignored (no profile or IMDS lookups).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .empty_test_environment()
            .region(Region::new(REGION))
            .endpoint_url(self.endpoint())
            .test_credentials()
            .http_client(bridge_http::sdk::http_client())
            .load()
            .await
    }

    /// Wipes every resource in the server (`POST /moto-api/reset`).
    pub fn reset(&self) -> anyhow::Result<()> {
        let status = http_status(self.port, "POST", "/moto-api/reset").context("resetting moto server")?;
        if status != 200 {
            bail!("moto reset answered {status}");
        }
        Ok(())
    }

    /// The last lines the server printed.
    pub fn log_tail(&self) -> String {
        match self.log.lock() {
            Ok(lines) => lines.iter().cloned().collect::<Vec<_>>().join("\n"),
            Err(_) => String::new(),
        }
    }

    fn kill(&mut self) {
        // Errors only mean the process is already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A name unique to this test run, for tables and queues: `<label>-<pid>-<n>-<time>`, made of
/// `[a-z0-9-]` only and at most 40 characters, so `<name>-ticket-intake-dlq.fifo` still fits
/// SQS's 80-character limit.
pub fn unique_name(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
    let mut clean: String =
        label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(16).collect();
    if clean.is_empty() {
        clean.push('t');
    }
    format!("{clean}-{}-{n}-{nanos:x}", std::process::id())
}

/// `<workspace root>/.venv/bin/moto_server`.
pub fn moto_binary() -> PathBuf {
    workspace_root().join(".venv").join("bin").join("moto_server")
}

/// The workspace root: two levels above this crate (`tests/sim`).
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| manifest.to_path_buf())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr().context("reading bound port")?.port())
}

/// True when `GET /moto-api/` answers 200.
fn probe(port: u16) -> bool {
    matches!(http_status(port, "GET", "/moto-api/"), Ok(200))
}

/// A minimal blocking HTTP/1.0 request that returns the status code.
fn http_status(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n")?;
    let mut head = [0u8; 32];
    let mut len = 0;
    while len < 12 {
        let n = stream.read(&mut head[len..])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let line = String::from_utf8_lossy(&head[..len]);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status line"))
}

fn drain<R: Read + Send + 'static>(pipe: R, log: Arc<Mutex<VecDeque<String>>>, counts: Counts) {
    let Counts { requests, actions } = counts;
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            // The access log: `127.0.0.1 - - [date] "POST / HTTP/1.1" 200 -`.
            if line.contains(" HTTP/1.1\" ") {
                requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // The keep-alive server appends the JSON-protocol action after the status.
                let action = line.rsplit_once(" - ").map(|(_, a)| a.trim()).filter(|a| !a.is_empty());
                if let (Some(action), Ok(mut counts)) = (action, actions.lock()) {
                    *counts.entry(action.to_string()).or_default() += 1;
                }
            }
            if let Ok(mut lines) = log.lock() {
                if lines.len() == LOG_TAIL {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_short_distinct_and_clean() {
        let a = unique_name("Links Table!");
        let b = unique_name("Links Table!");
        assert_ne!(a, b);
        assert!(a.len() <= 40, "{a}");
        assert!(a.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{a}");
    }

    #[test]
    fn missing_binary_fails_loudly_with_the_fix() {
        let err = Moto::start_with_binary(Path::new("/nonexistent/moto_server"))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("make setup"), "{err}");
    }

    #[test]
    fn binary_path_is_under_the_workspace_venv() {
        assert!(moto_binary().ends_with(".venv/bin/moto_server"));
        assert!(workspace_root().join("Cargo.toml").is_file());
    }
}
