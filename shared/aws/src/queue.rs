//! [`SqsQueue`]: the [`Queue`] port over one SQS FIFO queue (plus DLQ) per job.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName,
};
use bridge_domain::event::QueuedEvent;
use bridge_domain::ports::{PortError, PortResult, Queue, Service};
use bridge_domain::routing::JobKind;
use sha2::{Digest, Sha256};

use crate::error::{AwsError, port_error, sqs};

/// SQS's limits.
const MAX_BATCH: u32 = 10;
const MAX_WAIT_SECS: u32 = 20;
const MAX_VISIBILITY_SECS: u32 = 43_200;
/// Longest message group id SQS accepts.
const MAX_GROUP_ID: usize = 128;

/// The URLs of one job's queue and its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    /// The FIFO queue the job's worker consumes.
    pub queue: String,
    /// Its dead-letter queue, when known (needed only by [`SqsQueue::dlq_messages`]).
    pub dlq: Option<String>,
}

/// How [`SqsQueue::create_queues`] configures the queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a received message stays invisible (set it above the worker's timeout).
    pub visibility_timeout: Duration,
    /// Receives before a message moves to the DLQ.
    pub max_receive_count: u32,
    /// How long the DLQ keeps messages (SQS maximum: 14 days).
    pub dlq_retention: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(180),
            max_receive_count: 5,
            dlq_retention: Duration::from_secs(14 * 24 * 3600),
        }
    }
}

/// A message taken from a queue by [`SqsQueue::receive`] or [`SqsQueue::dlq_messages`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Handle to delete the message or change its visibility.
    pub receipt_handle: String,
    /// SQS message id.
    pub message_id: String,
    /// The body (a JSON [`QueuedEvent`] when sent by [`SqsQueue`]).
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

impl ReceivedMessage {
    /// Parses the body as the event [`SqsQueue`] sent.
    pub fn event(&self) -> Result<QueuedEvent, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

/// The [`Queue`] port over SQS: one FIFO queue per [`JobKind`], message group = the event's
/// entity, deduplication id = SHA-256 of job, vendor and delivery id.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    urls: BTreeMap<JobKind, QueueUrls>,
}

impl SqsQueue {
    /// A queue adapter over existing queues.
    pub fn new(client: Client, urls: BTreeMap<JobKind, QueueUrls>) -> Self {
        Self { client, urls }
    }

    /// The queue URLs by job.
    pub fn urls(&self) -> &BTreeMap<JobKind, QueueUrls> {
        &self.urls
    }

    /// Creates, for every job, the FIFO queue `<prefix>-<job>.fifo` and its dead-letter queue
    /// `<prefix>-<job>-dlq.fifo` (redrive after `settings.max_receive_count` receives).
    /// Idempotent: existing queues get the configured attributes. Returns the URLs by job.
    pub async fn create_queues(
        client: &Client,
        prefix: &str,
        settings: &QueueSettings,
    ) -> Result<BTreeMap<JobKind, QueueUrls>, AwsError> {
        let mut urls = BTreeMap::new();
        for job in JobKind::ALL {
            let dlq_attributes = BTreeMap::from([(
                QueueAttributeName::MessageRetentionPeriod,
                settings.dlq_retention.as_secs().to_string(),
            )]);
            let dlq = ensure_fifo_queue(client, &dlq_name(prefix, job), dlq_attributes).await?;
            let arn = queue_arn(client, &dlq).await?;
            let redrive = serde_json::json!({
                "deadLetterTargetArn": arn,
                "maxReceiveCount": settings.max_receive_count.to_string(),
            })
            .to_string();
            let attributes = BTreeMap::from([
                (QueueAttributeName::VisibilityTimeout, settings.visibility_timeout.as_secs().to_string()),
                (QueueAttributeName::RedrivePolicy, redrive),
            ]);
            let queue = ensure_fifo_queue(client, &queue_name(prefix, job), attributes).await?;
            tracing::info!(job = job.as_str(), "queues ready");
            urls.insert(job, QueueUrls { queue, dlq: Some(dlq) });
        }
        Ok(urls)
    }

    /// Looks up, for every job, the existing queue `<prefix>-<job>.fifo` and its dead-letter
    /// queue `<prefix>-<job>-dlq.fifo` (`GetQueueUrl` only: nothing is created or changed, so
    /// it is safe against a deployed stack). A missing queue is an error naming it.
    pub async fn find_queues(client: &Client, prefix: &str) -> Result<BTreeMap<JobKind, QueueUrls>, AwsError> {
        let mut urls = BTreeMap::new();
        for job in JobKind::ALL {
            let queue = find_queue(client, &queue_name(prefix, job)).await?;
            let dlq = find_queue(client, &dlq_name(prefix, job)).await?;
            urls.insert(job, QueueUrls { queue, dlq: Some(dlq) });
        }
        Ok(urls)
    }

    /// Receives up to `max` (1-10) messages from the job's queue, long-polling up to
    /// `wait_secs` (0-20) seconds.
    pub async fn receive(&self, job: JobKind, max: u32, wait_secs: u32) -> PortResult<Vec<ReceivedMessage>> {
        let url = self.queue_url(job)?;
        self.receive_from(url, max, wait_secs).await
    }

    /// Deletes processed messages from the job's queue, up to 10 per request. Returns the
    /// receipt handles SQS did not delete (they will be received again, and skipped as done).
    pub async fn delete_many(&self, job: JobKind, receipt_handles: &[String]) -> PortResult<Vec<String>> {
        let url = self.queue_url(job)?;
        let mut failed = Vec::new();
        for chunk in receipt_handles.chunks(MAX_BATCH as usize) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, handle)| {
                    DeleteMessageBatchRequestEntry::builder().id(i.to_string()).receipt_handle(handle).build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PortError::rejected(Service::Queue, e.to_string()))?;
            let out = self
                .client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(queue_error)?;
            failed.extend(
                out.failed.iter().filter_map(|f| f.id.parse::<usize>().ok()).filter_map(|i| chunk.get(i).cloned()),
            );
        }
        Ok(failed)
    }

    /// Makes a received message visible again after `secs` seconds (0 = now; at most 12 h).
    pub async fn change_visibility(&self, job: JobKind, receipt_handle: &str, secs: u32) -> PortResult<()> {
        let url = self.queue_url(job)?;
        let secs = i32::try_from(secs.min(MAX_VISIBILITY_SECS)).unwrap_or(0);
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    /// Receives up to 10 messages from the job's dead-letter queue (they stay there until
    /// deleted with [`SqsQueue::delete_dead_letter`]).
    pub async fn dlq_messages(&self, job: JobKind) -> PortResult<Vec<ReceivedMessage>> {
        let url = self.dlq_url(job)?;
        self.receive_from(url, MAX_BATCH, 1).await
    }

    /// Every message on the job's dead-letter queue (up to `max`), left in place: they are
    /// received in rounds, then made visible again at once.
    pub async fn peek_dead_letters(&self, job: JobKind, max: usize) -> PortResult<Vec<ReceivedMessage>> {
        let url = self.dlq_url(job)?.to_string();
        let mut all: Vec<ReceivedMessage> = Vec::new();
        while all.len() < max {
            let batch = self.receive_from(&url, MAX_BATCH, 0).await?;
            if batch.is_empty() {
                break;
            }
            all.extend(batch);
        }
        for m in &all {
            self.release_dead_letter(job, &m.receipt_handle).await?;
        }
        Ok(all)
    }

    /// Makes a received dead letter visible again (after a look or a failed replay).
    pub async fn release_dead_letter(&self, job: JobKind, receipt_handle: &str) -> PortResult<()> {
        let url = self.dlq_url(job)?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    /// Puts a message on the job's dead-letter queue with its context (the body is the
    /// caller's JSON envelope), in the message group of the entity it is about.
    /// Deduplicated by content for SQS's five-minute window.
    pub async fn send_dead_letter(&self, job: JobKind, group: &str, body: &str) -> PortResult<()> {
        let url = self.dlq_url(job)?;
        let digest = hex::encode(Sha256::digest(body.as_bytes()));
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_group_id(message_group_id(group))
            .message_deduplication_id(digest)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    /// Puts a command (a JSON body such as `{"action": "backfill-continue"}`) on `job`'s own
    /// queue, in message group `group`, deduplicated by `dedup` for SQS's five-minute window:
    /// how `profile-sync` hands a paused backfill to its next invocation at once.
    pub async fn send_command(&self, job: JobKind, body: &str, group: &str, dedup: &str) -> PortResult<()> {
        let url = self.queue_url(job)?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_group_id(message_group_id(group))
            .message_deduplication_id(message_group_id(dedup))
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    /// Deletes a message from the job's dead-letter queue (after a replay).
    pub async fn delete_dead_letter(&self, job: JobKind, receipt_handle: &str) -> PortResult<()> {
        let url = self.dlq_url(job)?;
        self.delete_from(url, receipt_handle).await
    }

    fn queue_url(&self, job: JobKind) -> PortResult<&str> {
        self.urls
            .get(&job)
            .map(|u| u.queue.as_str())
            .ok_or_else(|| PortError::rejected(Service::Queue, format!("no queue configured for job {}", job.as_str())))
    }

    fn dlq_url(&self, job: JobKind) -> PortResult<&str> {
        self.urls.get(&job).and_then(|u| u.dlq.as_deref()).ok_or_else(|| {
            PortError::rejected(Service::Queue, format!("no dead-letter queue configured for job {}", job.as_str()))
        })
    }

    async fn receive_from(&self, url: &str, max: u32, wait_secs: u32) -> PortResult<Vec<ReceivedMessage>> {
        let max = i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(1);
        let wait = i32::try_from(wait_secs.min(MAX_WAIT_SECS)).unwrap_or(0);
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                Some(ReceivedMessage {
                    receipt_handle: m.receipt_handle?,
                    message_id: m.message_id.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    receive_count,
                })
            })
            .collect())
    }

    async fn delete_from(&self, url: &str, receipt_handle: &str) -> PortResult<()> {
        self.client.delete_message().queue_url(url).receipt_handle(receipt_handle).send().await.map_err(queue_error)?;
        Ok(())
    }
}

impl SqsQueue {
    /// Sends `event` to `job`'s queue with `trace_header` as its `AWSTraceHeader` system
    /// attribute (the X-Ray trace the worker continues), when it is a valid trace header.
    pub async fn send_traced(&self, job: JobKind, event: &QueuedEvent, trace_header: Option<&str>) -> PortResult<()> {
        let url = self.queue_url(job)?;
        let body = serde_json::to_string(event)
            .map_err(|e| PortError::Rejected { service: Service::Queue, source: Box::new(e) })?;
        let mut send = self
            .client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_group_id(message_group_id(&event.entity.to_string()))
            .message_deduplication_id(deduplication_id(job, event));
        if let Some(value) = trace_header.and_then(trace_header_attribute) {
            send = send.message_system_attributes(MessageSystemAttributeNameForSends::AwsTraceHeader, value);
        }
        send.send().await.map_err(queue_error)?;
        Ok(())
    }
}

impl Queue for SqsQueue {
    /// Sends with the invocation's X-Ray trace (`_X_AMZN_TRACE_ID`, set by the Lambda runtime
    /// for each invocation) as the message's `AWSTraceHeader`, so the trace goes on through SQS
    /// to the worker.
    async fn send(&self, job: JobKind, event: &QueuedEvent) -> PortResult<()> {
        let trace = std::env::var(TRACE_ENV).ok();
        self.send_traced(job, event, trace.as_deref()).await
    }
}

/// Where the Lambda runtime puts the invocation's X-Ray trace header.
pub const TRACE_ENV: &str = "_X_AMZN_TRACE_ID";
/// The SQS system attribute that carries an X-Ray trace header to the consumer.
pub const TRACE_ATTRIBUTE: &str = "AWSTraceHeader";

/// The `AWSTraceHeader` value for `header`, when it looks like an X-Ray trace header
/// (`Root=1-...`, printable ASCII, at most 256 characters); SQS rejects the send otherwise.
pub fn trace_header_attribute(header: &str) -> Option<MessageSystemAttributeValue> {
    let header = header.trim();
    let valid = header.len() <= 256 && header.contains("Root=1-") && header.bytes().all(|b| b.is_ascii_graphic());
    valid
        .then(|| MessageSystemAttributeValue::builder().data_type("String").string_value(header).build().ok())
        .flatten()
}

/// `<prefix>-<job>.fifo`.
pub fn queue_name(prefix: &str, job: JobKind) -> String {
    format!("{prefix}-{}.fifo", job.as_str())
}

/// `<prefix>-<job>-dlq.fifo`.
pub fn dlq_name(prefix: &str, job: JobKind) -> String {
    format!("{prefix}-{}-dlq.fifo", job.as_str())
}

/// The FIFO deduplication id of an event: hex SHA-256 of job, vendor and delivery id
/// (64 characters, always valid for SQS).
pub fn deduplication_id(job: JobKind, event: &QueuedEvent) -> String {
    let mut hasher = Sha256::new();
    for part in [job.as_str(), event.vendor.as_str(), &event.delivery_id] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

/// The FIFO message group of an entity: the entity itself when SQS accepts it (1-128 printable
/// ASCII characters), else `h-` and its hex SHA-256, so one entity always maps to one group.
pub fn message_group_id(entity: &str) -> String {
    let valid = !entity.is_empty() && entity.len() <= MAX_GROUP_ID && entity.bytes().all(|b| b.is_ascii_graphic());
    if valid { entity.to_owned() } else { format!("h-{}", hex::encode(Sha256::digest(entity.as_bytes()))) }
}

/// Creates a FIFO queue with `attributes`, or brings an existing one to them; returns its URL.
async fn ensure_fifo_queue(
    client: &Client,
    name: &str,
    attributes: BTreeMap<QueueAttributeName, String>,
) -> Result<String, AwsError> {
    let mut create = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false");
    for (k, v) in &attributes {
        create = create.attributes(k.clone(), v);
    }
    match create.send().await {
        Ok(out) => out.queue_url.ok_or(AwsError::MissingField { operation: "CreateQueue", field: "QueueUrl" }),
        // Exists with other attributes: converge it.
        Err(e) if e.as_service_error().is_some_and(|e| e.is_queue_name_exists()) => {
            let url = client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| sqs("GetQueueUrl", e))?
                .queue_url
                .ok_or(AwsError::MissingField { operation: "GetQueueUrl", field: "QueueUrl" })?;
            let mut set = client.set_queue_attributes().queue_url(&url);
            for (k, v) in attributes {
                set = set.attributes(k, v);
            }
            set.send().await.map_err(|e| sqs("SetQueueAttributes", e))?;
            Ok(url)
        }
        Err(e) => Err(sqs("CreateQueue", e)),
    }
}

async fn find_queue(client: &Client, name: &str) -> Result<String, AwsError> {
    match client.get_queue_url().queue_name(name).send().await {
        Ok(out) => out.queue_url.ok_or(AwsError::MissingField { operation: "GetQueueUrl", field: "QueueUrl" }),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()) => Err(AwsError::QueueNotFound {
            name: name.to_string(),
            hint: "check BRIDGE_QUEUE_PREFIX (a deployed stack's prefix is its name) or set BRIDGE_QUEUE_URL_<JOB>; \
                   for local development run `bridge init` first",
        }),
        Err(e) => Err(sqs("GetQueueUrl", e)),
    }
}

async fn queue_arn(client: &Client, url: &str) -> Result<String, AwsError> {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sqs("GetQueueAttributes", e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or(AwsError::MissingField { operation: "GetQueueAttributes", field: "QueueArn" })
}

fn queue_error<E>(err: aws_sdk_sqs::error::SdkError<E, aws_sdk_sqs::config::http::HttpResponse>) -> PortError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    port_error(Service::Queue, err)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bridge_domain::model::Timestamp;

    fn event(delivery: &str, entity: &str) -> QueuedEvent {
        QueuedEvent {
            vendor: bridge_domain::event::Vendor::Intercom,
            delivery_id: delivery.into(),
            topic: "conversation.admin.noted".into(),
            entity: entity.parse().unwrap(),
            received_at: Timestamp(0),
            payload: serde_json::json!({}),
            trace_id: None,
            actors: Vec::new(),
        }
    }

    #[test]
    fn dedup_id_is_stable_hex_and_job_scoped() {
        let a = deduplication_id(JobKind::Escalate, &event("d1", "conversation:1"));
        let b = deduplication_id(JobKind::Escalate, &event("d1", "conversation:2"));
        let c = deduplication_id(JobKind::TagSync, &event("d1", "conversation:1"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn only_x_ray_trace_headers_become_the_aws_trace_header_attribute() {
        let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        let value = trace_header_attribute(header).unwrap();
        assert_eq!((value.data_type(), value.string_value()), ("String", Some(header)));
        assert!(trace_header_attribute("").is_none());
        assert!(trace_header_attribute("not a trace").is_none());
        assert!(trace_header_attribute(&format!("Root=1-{}", "a".repeat(300))).is_none());
    }

    #[test]
    fn group_id_keeps_valid_entities_and_hashes_the_rest() {
        assert_eq!(message_group_id("ticket:42"), "ticket:42");
        let long = "x".repeat(200);
        let hashed = message_group_id(&long);
        assert!(hashed.starts_with("h-") && hashed.len() <= MAX_GROUP_ID);
        assert!(message_group_id("").starts_with("h-"));
        assert!(message_group_id("conversation:é").starts_with("h-"));
    }

    #[test]
    fn queue_names_fit_the_pattern() {
        assert_eq!(queue_name("br", JobKind::TicketStatus), "br-ticket-status.fifo");
        assert_eq!(dlq_name("br", JobKind::TagSync), "br-tag-sync-dlq.fifo");
    }

    #[test]
    fn received_message_parses_its_event() {
        let e = event("d9", "ticket:1");
        let m = ReceivedMessage {
            receipt_handle: "r".into(),
            message_id: "m".into(),
            body: serde_json::to_string(&e).unwrap(),
            receive_count: 1,
        };
        assert_eq!(m.event().unwrap(), e);
    }
}
