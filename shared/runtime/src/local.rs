//! Everything in one process: the ingress routes over HTTP, a poller per job and (with
//! [`LocalBridge::with_sweeps`]) the repair sweeps on their schedule. Used by `bridge serve`, the
//! demo and the end-to-end tests, through the same handler code as the Lambdas.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use bridge_domain::ports::Queue;
use bridge_domain::routing::JobKind;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::App;
use crate::app::SqsIngress;
use crate::ingress::{Ingress, WebhookRequest};

/// Jobs this version can run.
pub const IMPLEMENTED_JOBS: [JobKind; 5] =
    [JobKind::Escalate, JobKind::TicketIntake, JobKind::TicketStatus, JobKind::TagSync, JobKind::ProfileSync];

/// Webhooks handled at once; the others wait in their connections, their bodies unread. A
/// vendor's burst (hundreds of webhooks when an admin bulk-tags) then costs the memory of this
/// many requests and their queue sends, not of all of them, and is still answered in well under
/// the vendors' timeouts (each takes one SQS send).
pub const WEBHOOKS_IN_FLIGHT: usize = 32;

/// A running local bridge.
#[derive(Debug)]
pub struct LocalBridge {
    addr: std::net::SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The ingress (for its counters).
    pub ingress: Arc<SqsIngress>,
    /// The workers' app (for its counters and clients).
    pub app: Arc<App>,
}

impl LocalBridge {
    /// Serves the ingress on `listener` and polls every implemented job's queue.
    pub fn start(listener: TcpListener, ingress: SqsIngress, app: App) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        // One configuration for both: no event is queued for a job it leaves unconfigured.
        let ingress = Arc::new(ingress.with_config(app.config_holder()));
        let app = Arc::new(app);
        let mut tasks = Vec::new();
        for job in IMPLEMENTED_JOBS {
            if app.queue.urls().contains_key(&job) {
                let app = app.clone();
                let stop = stop_rx.clone();
                tasks.push(tokio::spawn(async move {
                    crate::poller::poll(app.as_ref(), job, stop).await;
                }));
            }
        }
        let router = webhook_router(ingress.clone(), WEBHOOKS_IN_FLIGHT);
        let mut http_stop = stop_rx;
        tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = http_stop.changed().await;
            };
            if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
                tracing::error!(error = %e, "http server failed");
            }
        }));
        Ok(Self { addr, stop, tasks, ingress, app })
    }

    /// Also runs the repair sweeps of jobs 1 and 3 to 6: every minute each sweep whose interval
    /// (`sweeps.<job>.every_minutes`) has passed runs, as the stack's schedules do.
    pub fn with_sweeps(mut self) -> Self {
        let app = self.app.clone();
        let mut stop = self.stop.subscribe();
        self.tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                for job in [JobKind::Escalate, JobKind::TicketStatus, JobKind::TagSync, JobKind::TicketIntake] {
                    let opts = bridge_jobs::sweep::SweepOptions::default();
                    if let Err(e) = crate::schedules::run_sweep(app.as_ref(), job, &opts, &mut |_| {}).await {
                        tracing::warn!(job = job.as_str(), error = %e, "sweep failed; the next one retries");
                    }
                }
            }
        }));
        self
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and the workers and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The ingress over HTTP: `/webhooks/intercom`, `/webhooks/zendesk` (at most `in_flight` of
/// them handled at once) and `/healthz`.
pub fn webhook_router<Q: Queue + 'static>(ingress: Arc<Ingress<Q>>, in_flight: usize) -> Router {
    let in_flight = Arc::new(Semaphore::new(in_flight));
    Router::new()
        .route("/webhooks/intercom", any(intercom::<Q>))
        .route("/webhooks/zendesk", any(zendesk::<Q>))
        .route_layer(middleware::from_fn_with_state(in_flight, one_of_in_flight))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(ingress)
}

/// Runs a webhook request once fewer than the router's bound are being handled.
async fn one_of_in_flight(State(in_flight): State<Arc<Semaphore>>, req: Request, next: Next) -> Response {
    // The semaphore is never closed, so `acquire` cannot fail; if it did, run unbounded.
    let _permit = in_flight.acquire().await.ok();
    next.run(req).await
}

async fn intercom<Q: Queue>(
    State(ingress): State<Arc<Ingress<Q>>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = ingress.intercom(WebhookRequest { method: &method, headers: &headers, body: &body }).await;
    (reply.status, [("content-type", "application/json")], reply.body)
}

async fn zendesk<Q: Queue>(
    State(ingress): State<Arc<Ingress<Q>>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let reply = ingress.zendesk(WebhookRequest { method: &method, headers: &headers, body: &body }).await;
    (reply.status, [("content-type", "application/json")], reply.body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use bridge_domain::ports::PortResult;

    use bridge_domain::event::QueuedEvent;

    use super::*;
    use crate::metrics::Counters;
    use secrecy::SecretString;

    /// A queue whose sends take a while, counting how many run at once.
    #[derive(Debug, Default)]
    struct SlowQueue {
        now: AtomicUsize,
        most: AtomicUsize,
        sent: AtomicUsize,
    }

    impl Queue for SlowQueue {
        async fn send(&self, _job: JobKind, _event: &QueuedEvent) -> PortResult<()> {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            self.sent.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_webhooks_is_handled_a_bounded_number_at_a_time_and_all_answered() {
        const SECRET: &str = "s3cret";
        let jobs = BTreeSet::from([JobKind::Escalate]);
        let ingress = Ingress::new(
            SlowQueue::default(),
            Some(SecretString::from(SECRET)),
            None,
            jobs,
            64 * 1024,
            Duration::from_secs(300),
            Counters::default(),
        );
        let ingress = Arc::new(ingress);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks/intercom", listener.local_addr().unwrap());
        let server = tokio::spawn(axum::serve(listener, webhook_router(ingress.clone(), 4)).into_future());

        let client = bridge_http::client_builder().unwrap().build().unwrap();
        let posts = (0..40).map(|i| {
            let body = serde_json::json!({"type": "notification_event", "id": format!("notif_{i}"),
                "topic": "conversation.admin.noted", "data": {"item": {"type": "conversation", "id": format!("{i}")}}})
            .to_string();
            let signature = bridge_intercom::webhook::sign(SECRET.as_bytes(), body.as_bytes());
            client.post(&url).header("x-hub-signature", signature).body(body).send()
        });
        let replies = futures::future::join_all(posts).await;

        assert!(replies.iter().all(|r| r.as_ref().is_ok_and(|r| r.status() == 200)), "every webhook answered 200");
        let queue = ingress.queue();
        assert_eq!(queue.sent.load(Ordering::SeqCst), 40, "nothing refused or lost");
        assert_eq!(queue.most.load(Ordering::SeqCst), 4, "at most the bound at once, and the bound reached");
        server.abort();
    }
}
