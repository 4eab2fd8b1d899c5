//! Contract tests of the DynamoDB store and the SQS queue against a real moto server.
//!
//! Each test starts its own server (killed on drop) and uses its own table / queue names. A
//! missing `.venv` fails the test with a message to run `make setup`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use bridge_aws::{DynamoStore, QueueSettings, SqsQueue};
use bridge_domain::event::QueuedEvent;
use bridge_domain::event::Vendor;
use bridge_domain::ids::{ContactId, ConversationId, PartId, TicketId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{Link, LinkEvent, Timestamp};
use bridge_domain::ports::{Claim, Doc, Document, LinkCreated, Queue, Store, WithLink};
use bridge_domain::routing::JobKind;
use bridge_sim::moto::{Moto, unique_name};

async fn store() -> (Moto, DynamoStore) {
    let moto = Moto::start().expect("moto server (run `make setup`)");
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = unique_name("table");
    DynamoStore::create_table(&client, &table).await.expect("create table");
    (moto, DynamoStore::new(client, table))
}

async fn queues(settings: QueueSettings) -> (Moto, SqsQueue) {
    let moto = Moto::start().expect("moto server (run `make setup`)");
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let urls = SqsQueue::create_queues(&client, &unique_name("q"), &settings).await.expect("create queues");
    (moto, SqsQueue::new(client, urls))
}

fn conv(id: &str) -> ConversationId {
    ConversationId::parse(id).unwrap()
}

fn contact(id: &str) -> ContactId {
    ContactId::parse(id).unwrap()
}

fn ticket(id: u64) -> TicketId {
    TicketId::new(id).unwrap()
}

fn link(conversation: &str, ticket_id: u64) -> Link {
    Link::new(conv(conversation), ticket(ticket_id), None, None, Timestamp(1_000))
}

fn event(delivery: &str, entity: &str) -> QueuedEvent {
    QueuedEvent {
        vendor: bridge_domain::event::Vendor::Intercom,
        delivery_id: delivery.into(),
        topic: "conversation.admin.noted".into(),
        entity: entity.parse().unwrap(),
        received_at: Timestamp(1_000),
        payload: serde_json::json!({"id": delivery}),
        trace_id: None,
        actors: Vec::new(),
    }
}

#[tokio::test]
async fn create_table_is_idempotent() {
    let moto = Moto::start().expect("moto server");
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let table = unique_name("idem");

    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::create_table(&client, &table).await.unwrap();

    let ttl = client.describe_time_to_live().table_name(&table).send().await.unwrap();
    let desc = ttl.time_to_live_description().unwrap();
    assert_eq!(desc.attribute_name(), Some("expires_at"));
}

#[tokio::test]
async fn claim_lease_expiry_and_completion() {
    let (_moto, store) = store().await;
    let lease = Duration::from_secs(60);
    let intent = &Intent::Writeback(conv("c1"), ticket(42));

    // Arrange / Act / Assert: a free intent is acquired.
    assert_eq!(store.claim(intent, "h1", lease, Timestamp(1_000)).await.unwrap(), Claim::Acquired);
    // Another holder during the lease: busy. The holder itself may re-claim.
    assert_eq!(store.claim(intent, "h2", lease, Timestamp(1_030)).await.unwrap(), Claim::Busy);
    assert_eq!(store.claim(intent, "h1", lease, Timestamp(1_030)).await.unwrap(), Claim::Acquired);
    // After the (renewed) lease expired, another holder takes over.
    assert_eq!(store.claim(intent, "h2", lease, Timestamp(1_091)).await.unwrap(), Claim::Acquired);
    assert_eq!(store.claim(intent, "h1", lease, Timestamp(1_100)).await.unwrap(), Claim::Busy);

    store.complete(intent, "ticket:42").await.unwrap();
    assert_eq!(store.claim(intent, "h3", lease, Timestamp(99_999)).await.unwrap(), Claim::Done("ticket:42".into()));
    // A second completion keeps the first result; a release does not undo it.
    store.complete(intent, "ticket:43").await.unwrap();
    store.release(intent, "h2").await.unwrap();
    assert_eq!(store.claim(intent, "h4", lease, Timestamp(99_999)).await.unwrap(), Claim::Done("ticket:42".into()));
}

#[tokio::test]
async fn a_delivery_marker_expires_and_an_effect_intent_does_not() {
    let (moto, store) = store().await;
    // A second client on the same server, to read the raw items.
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let table = store.table().to_string();
    let keep = Duration::from_secs(3600);
    let delivery = Intent::Delivery { job: JobKind::Escalate, vendor: Vendor::Intercom, delivery_id: "d1".into() };
    let effect = Intent::Writeback(conv("c1"), ticket(42));
    store.complete_for(&delivery, "done", keep).await.unwrap();
    store.complete(&effect, "ticket:42").await.unwrap();

    let expires_at = |intent: &Intent| {
        let (client, table) = (client.clone(), table.clone());
        let key = [
            (bridge_aws::PK.to_string(), AttributeValue::S(bridge_aws::intent_key(intent))),
            (bridge_aws::SK.to_string(), AttributeValue::S("INTENT".into())),
        ];
        async move {
            let item =
                client.get_item().table_name(table).set_key(Some(key.into())).send().await.unwrap().item.unwrap();
            item.get(bridge_aws::TTL_ATTRIBUTE).map(|v| v.as_n().unwrap().parse::<u64>().unwrap())
        }
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let at = expires_at(&delivery).await.expect("the delivery marker has a TTL");
    assert!((now + 3590..=now + 3610).contains(&at), "expires in about an hour: {at} vs now {now}");
    assert_eq!(expires_at(&effect).await, None, "an effect's done-marker is kept");
    // The expiring marker still answers Done while it lives.
    let claim = store.claim(&delivery, "h", keep, Timestamp(1)).await.unwrap();
    assert_eq!(claim, Claim::Done("done".into()));

    // A released claim stays, its lease run out, and is forgotten after a week.
    let given_up = Intent::Append(conv("c1"), PartId::parse("9").unwrap());
    store.claim(&given_up, "h", keep, Timestamp(1)).await.unwrap();
    assert_eq!(expires_at(&given_up).await, None, "a held claim is kept");
    store.release(&given_up, "h").await.unwrap();
    let at = expires_at(&given_up).await.expect("the released claim has a TTL");
    assert!((now + 7 * 86_400 - 10..=now + 7 * 86_400 + 10).contains(&at), "expires in a week: {at} vs now {now}");
    assert_eq!(store.claim(&given_up, "h2", keep, Timestamp(1)).await.unwrap(), Claim::Acquired);
}

#[tokio::test]
async fn release_frees_only_the_holders_lease() {
    let (_moto, store) = store().await;
    let lease = Duration::from_secs(600);
    let now = Timestamp(5_000);
    let note = &Intent::Append(conv("c1"), PartId::parse("7").unwrap());

    assert_eq!(store.claim(note, "h1", lease, now).await.unwrap(), Claim::Acquired);
    // Someone else's release is a no-op.
    store.release(note, "h2").await.unwrap();
    assert_eq!(store.claim(note, "h2", lease, now).await.unwrap(), Claim::Busy);
    // The holder's release frees it immediately.
    store.release(note, "h1").await.unwrap();
    assert_eq!(store.claim(note, "h2", lease, now).await.unwrap(), Claim::Acquired);
    // Releasing an unknown intent is fine.
    store.release(&Intent::TagSync(conv("never-claimed")), "h1").await.unwrap();
}

#[tokio::test]
async fn create_link_twice_answers_already_linked() {
    let (_moto, store) = store().await;
    let first = link("c1", 100);

    assert_eq!(store.create_link(&first).await.unwrap(), LinkCreated::Created);
    assert_eq!(store.create_link(&link("c1", 101)).await.unwrap(), LinkCreated::AlreadyLinked(first.clone()));
    // The ticket is taken too: another conversation cannot claim it.
    assert_eq!(store.create_link(&link("c2", 100)).await.unwrap(), LinkCreated::AlreadyLinked(first.clone()));
    assert_eq!(store.link_by_conversation(&conv("c1")).await.unwrap(), Some(first.clone()));
    assert_eq!(store.link_by_ticket(ticket(100)).await.unwrap(), Some(first));
    assert_eq!(store.link_by_conversation(&conv("c2")).await.unwrap(), None);
    assert_eq!(store.link_by_ticket(ticket(101)).await.unwrap(), None);
}

#[tokio::test]
async fn a_link_carries_its_documents_or_none_of_them() {
    let (_moto, store) = store().await;
    let (record, person) = (DocKey::Escalation(conv("c1")), DocKey::IntercomPerson(contact("k1")));
    let with = || WithLink {
        docs: vec![(record.clone(), &["p1", "p2"] as &dyn Document), (person.clone(), &"zendesk user 7")],
    };

    // Nothing yet: one batched read answers both.
    let (found, doc) = store.link_and_doc::<Vec<String>>(&conv("c1"), &record).await.unwrap();
    assert_eq!((found, doc), (None, None));

    assert_eq!(store.create_link_with(&link("c1", 100), with()).await.unwrap(), LinkCreated::Created);
    let (found, doc) = store.link_and_doc::<Vec<String>>(&conv("c1"), &record).await.unwrap();
    assert_eq!(found, Some(link("c1", 100)));
    assert_eq!(doc, Some(Doc { value: vec!["p1".to_string(), "p2".to_string()], version: 1 }));
    assert_eq!(store.load::<String>(&person).await.unwrap().unwrap().value, "zendesk user 7");

    // A second link for the same conversation writes none of its companions.
    store.delete(&person).await.unwrap();
    assert!(matches!(store.create_link_with(&link("c1", 101), with()).await.unwrap(), LinkCreated::AlreadyLinked(_)));
    assert_eq!(store.load::<String>(&person).await.unwrap(), None);
}

#[tokio::test]
async fn concurrent_create_link_creates_exactly_one() {
    let (_moto, store) = store().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20u64 {
        let store = store.clone();
        tasks.spawn(async move { (i, store.create_link(&link("c-race", 500 + i)).await) });
    }

    let mut created = Vec::new();
    let mut existing = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.unwrap();
        match result.unwrap() {
            LinkCreated::Created => created.push(500 + i),
            LinkCreated::AlreadyLinked(l) => existing.push(l),
        }
    }

    assert_eq!(created.len(), 1, "exactly one Created, got {created:?}");
    let winner = created[0];
    assert_eq!(existing.len(), 19);
    assert!(existing.iter().all(|l| l.ticket_id.get() == winner));
    let stored = store.link_by_conversation(&conv("c-race")).await.unwrap().unwrap();
    assert_eq!(stored.ticket_id.get(), winner);
    for i in 0..20u64 {
        let found = store.link_by_ticket(ticket(500 + i)).await.unwrap();
        assert_eq!(found.is_some(), 500 + i == winner, "ticket {}", 500 + i);
    }
}

#[tokio::test]
async fn update_link_indexes_every_ticket_and_checks_the_version() {
    let (_moto, store) = store().await;
    let original = link("c1", 100);
    assert_eq!(store.create_link(&original).await.unwrap(), LinkCreated::Created);

    // Ticket 100 was merged into 200: the link moves to 200 and keeps 100 in its history.
    let mut moved = original.clone();
    moved.ticket_id = ticket(200);
    moved.tickets.push(ticket(200));
    moved.history.push(LinkEvent::Merged { from: ticket(100), to: ticket(200), at: Timestamp(2_000) });
    assert!(store.update_link(&moved, 1).await.unwrap());

    let by_old = store.link_by_ticket(ticket(100)).await.unwrap().unwrap();
    let by_new = store.link_by_ticket(ticket(200)).await.unwrap().unwrap();
    let by_conv = store.link_by_conversation(&conv("c1")).await.unwrap().unwrap();
    assert_eq!(by_old, by_new);
    assert_eq!(by_new, by_conv);
    assert_eq!(by_conv.ticket_id, ticket(200));
    assert_eq!(by_conv.tickets, vec![ticket(100), ticket(200)]);
    assert_eq!(by_conv.version, 2);
    assert_eq!(by_conv.history.len(), 2);

    // A writer that still holds version 1 loses and changes nothing.
    let mut stale = original.clone();
    stale.tickets.push(ticket(300));
    stale.ticket_id = ticket(300);
    assert!(!store.update_link(&stale, 1).await.unwrap());
    assert_eq!(store.link_by_ticket(ticket(300)).await.unwrap(), None);
    assert_eq!(store.link_by_conversation(&conv("c1")).await.unwrap().unwrap(), by_conv);
    // Updating a link that does not exist fails the version check.
    assert!(!store.update_link(&link("c-none", 9), 1).await.unwrap());
}

#[tokio::test]
async fn documents_are_versioned() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Cursor {
        cursor: String,
    }
    let cursor = |c: &str| Cursor { cursor: c.into() };
    let (moto, store) = store().await;
    let key = &DocKey::ProfileBackfill;

    assert_eq!(store.load::<Cursor>(key).await.unwrap(), None);
    assert!(store.save(key, &cursor("a"), None).await.unwrap());
    assert!(!store.save(key, &cursor("x"), None).await.unwrap());
    assert_eq!(store.load(key).await.unwrap(), Some(Doc { value: cursor("a"), version: 1 }));

    assert!(store.save(key, &cursor("b"), Some(1)).await.unwrap());
    assert!(!store.save(key, &cursor("y"), Some(1)).await.unwrap());
    assert_eq!(store.load(key).await.unwrap(), Some(Doc { value: cursor("b"), version: 2 }));
    // A version for a missing document is a mismatch too.
    assert!(!store.save(&DocKey::ProfileDrift, &cursor("z"), Some(3)).await.unwrap());

    // The item keeps the key text of earlier versions, so a table written by them reads back.
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let item = client
        .get_item()
        .table_name(store.table())
        .key(bridge_aws::PK, AttributeValue::S("DOC#PROFILE#BACKFILL#contact".into()))
        .key(bridge_aws::SK, AttributeValue::S("DOC".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("stored under the earlier key text");
    assert_eq!(item["body"].as_s().unwrap(), r#"{"cursor":"b"}"#);

    // A document of another shape is an error naming the key, not a default.
    let err = store.load::<Vec<u64>>(key).await.unwrap_err();
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(e) = source {
        chain.push_str(&format!(": {e}"));
        source = e.source();
    }
    assert!(chain.contains("PROFILE#BACKFILL#contact"), "{chain}");
}

#[tokio::test]
async fn create_queues_is_idempotent() {
    let moto = Moto::start().expect("moto server");
    let client = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let prefix = unique_name("idem");

    let first = SqsQueue::create_queues(&client, &prefix, &QueueSettings::default()).await.unwrap();
    let changed = QueueSettings { visibility_timeout: Duration::from_secs(45), ..QueueSettings::default() };
    let second = SqsQueue::create_queues(&client, &prefix, &changed).await.unwrap();

    assert_eq!(first, second);
    assert_eq!(first.keys().copied().collect::<BTreeSet<_>>(), JobKind::ALL.into_iter().collect());
    let urls = &first[&JobKind::TicketStatus];
    assert!(urls.queue.ends_with("-ticket-status.fifo"));
    assert!(urls.dlq.as_deref().unwrap().ends_with("-ticket-status-dlq.fifo"));
    let attrs = client
        .get_queue_attributes()
        .queue_url(&urls.queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(attrs[&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout], "45");
    assert!(attrs[&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy].contains("dlq.fifo"));
}

#[tokio::test]
async fn fifo_deduplicates_by_delivery_id() {
    let (_moto, queue) = queues(QueueSettings::default()).await;

    queue.send(JobKind::Escalate, &event("d-1", "conversation:1")).await.unwrap();
    queue.send(JobKind::Escalate, &event("d-1", "conversation:1")).await.unwrap();
    queue.send(JobKind::Escalate, &event("d-2", "conversation:2")).await.unwrap();

    let mut received = Vec::new();
    for _ in 0..3 {
        let batch = queue.receive(JobKind::Escalate, 10, 1).await.unwrap();
        let handles: Vec<String> = batch.iter().map(|m| m.receipt_handle.clone()).collect();
        assert!(queue.delete_many(JobKind::Escalate, &handles).await.unwrap().is_empty());
        received.extend(batch);
    }
    let mut deliveries: Vec<String> = received.iter().map(|m| m.event().unwrap().delivery_id).collect();
    deliveries.sort();
    assert_eq!(deliveries, vec!["d-1".to_owned(), "d-2".to_owned()]);
    assert_eq!(received[0].receive_count, 1);
    // Other jobs' queues stay empty.
    assert!(queue.receive(JobKind::TagSync, 10, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn message_moves_to_dlq_after_max_receives() {
    let settings = QueueSettings { visibility_timeout: Duration::from_secs(30), ..QueueSettings::default() };
    assert_eq!(settings.max_receive_count, 5);
    let (_moto, queue) = queues(settings).await;
    let sent = event("d-poison", "ticket:9");
    queue.send(JobKind::TicketStatus, &sent).await.unwrap();

    // Five failed attempts: each makes the message visible again at once.
    for attempt in 1..=5u32 {
        let batch = queue.receive(JobKind::TicketStatus, 1, 1).await.unwrap();
        assert_eq!(batch.len(), 1, "attempt {attempt}");
        assert_eq!(batch[0].receive_count, attempt);
        queue.change_visibility(JobKind::TicketStatus, &batch[0].receipt_handle, 0).await.unwrap();
    }

    // The sixth receive finds the message gone to the DLQ, with its full context.
    assert!(queue.receive(JobKind::TicketStatus, 1, 1).await.unwrap().is_empty());
    let dead = queue.dlq_messages(JobKind::TicketStatus).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event().unwrap(), sent);
    queue.delete_dead_letter(JobKind::TicketStatus, &dead[0].receipt_handle).await.unwrap();
    assert!(queue.dlq_messages(JobKind::TicketStatus).await.unwrap().is_empty());
}

/// `delete_many` deletes in chunks of ten; run on the keep-alive moto the benchmarks use, whose
/// access log the request counter reads.
#[tokio::test]
async fn delete_many_deletes_every_processed_message_on_the_keep_alive_server() {
    let moto = Moto::start_keepalive().expect("keep-alive moto server (run `make setup`)");
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let settings = QueueSettings { visibility_timeout: Duration::from_secs(2), ..QueueSettings::default() };
    let urls = SqsQueue::create_queues(&client, &unique_name("q"), &settings).await.unwrap();
    let queue = SqsQueue::new(client, urls);
    for i in 0..12 {
        queue.send(JobKind::Escalate, &event(&format!("d{i}"), &format!("conversation:{i}"))).await.unwrap();
    }
    let mut handles = Vec::new();
    while handles.len() < 12 {
        let got = queue.receive(JobKind::Escalate, 10, 1).await.unwrap();
        assert!(!got.is_empty(), "all 12 messages are receivable");
        handles.extend(got.into_iter().map(|m| m.receipt_handle));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = moto.requests();
    let failed = queue.delete_many(JobKind::Escalate, &handles).await.unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    // The access log is read by another thread: give it the time to count (and the messages
    // the time to come back, were they not deleted).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(moto.requests() - before, 2, "two batch requests for 12 messages");
    assert_eq!(moto.requests_by_action().get("AmazonSQS.DeleteMessageBatch"), Some(&2));
    assert!(queue.receive(JobKind::Escalate, 10, 1).await.unwrap().is_empty(), "none came back");
}

#[tokio::test]
async fn find_queues_looks_up_without_creating_or_changing_anything() {
    let moto = Moto::start().expect("moto server");
    let client = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let prefix = unique_name("find");

    let missing = SqsQueue::find_queues(&client, &prefix).await.unwrap_err().to_string();
    assert!(missing.contains(&format!("{prefix}-escalate.fifo")) && missing.contains("bridge init"), "{missing}");
    let listed = client.list_queues().queue_name_prefix(&prefix).send().await.unwrap();
    assert!(listed.queue_urls().is_empty(), "the lookup created nothing");

    let settings = QueueSettings { visibility_timeout: Duration::from_secs(720), ..QueueSettings::default() };
    let created = SqsQueue::create_queues(&client, &prefix, &settings).await.unwrap();
    let found = SqsQueue::find_queues(&client, &prefix).await.unwrap();
    assert_eq!(found, created);
    let attrs = client
        .get_queue_attributes()
        .queue_url(&found[&JobKind::ProfileSync].queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
        .send()
        .await
        .unwrap();
    assert_eq!(attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout], "720");
}

#[tokio::test]
async fn s3_objects_read_text_write_bytes_and_name_the_object_on_failure() {
    use std::error::Error as _;

    use bridge_aws::{AwsError, S3Objects};

    let moto = Moto::start().expect("moto server");
    let objects = S3Objects::new(&moto.sdk_config().await);
    let bucket = unique_name("objects");
    objects.client().create_bucket().bucket(&bucket).send().await.unwrap();

    objects.put(&bucket, "config/bridge.yaml", b"version: 1\n".to_vec(), "application/yaml").await.unwrap();
    assert_eq!(objects.get_text(&bucket, "config/bridge.yaml").await.unwrap(), "version: 1\n");
    let head = objects.client().head_object().bucket(&bucket).key("config/bridge.yaml").send().await.unwrap();
    assert_eq!(head.content_type(), Some("application/yaml"));

    let missing = objects.get_text(&bucket, "config/missing.yaml").await.unwrap_err();
    assert!(matches!(&missing, AwsError::S3 { operation: "GetObject", .. }), "{missing:?}");
    assert_eq!(missing.to_string(), format!("s3 GetObject s3://{bucket}/config/missing.yaml failed"));
    assert!(missing.source().is_some(), "the SDK error is kept as the source");

    objects.put(&bucket, "binary", vec![0xff, 0xfe], "application/octet-stream").await.unwrap();
    let binary = objects.get_text(&bucket, "binary").await.unwrap_err();
    assert!(matches!(&binary, AwsError::NotText { object, .. } if *object == format!("s3://{bucket}/binary")));

    let nowhere = objects.put(&unique_name("no-such-bucket"), "k", Vec::new(), "text/plain").await.unwrap_err();
    assert!(matches!(&nowhere, AwsError::S3 { operation: "PutObject", .. }), "{nowhere:?}");
}

#[tokio::test]
async fn sns_topic_publishes_and_maps_failures_to_notifications() {
    use std::error::Error as _;

    use bridge_aws::sdk::{sns, sqs};
    use bridge_aws::{AwsError, SnsTopic};
    use bridge_domain::ports::{PortError, Service};

    let moto = Moto::start().expect("moto server");
    let sdk = moto.sdk_config().await;
    let (sns, sqs) = (sns::Client::new(&sdk), sqs::Client::new(&sdk));
    let arn = sns.create_topic().name(unique_name("drift")).send().await.unwrap().topic_arn().unwrap().to_string();
    let inbox =
        sqs.create_queue().queue_name(unique_name("inbox")).send().await.unwrap().queue_url().unwrap().to_string();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&inbox)
        .attribute_names(sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let inbox_arn = attrs.attributes().unwrap()[&sqs::types::QueueAttributeName::QueueArn].clone();
    sns.subscribe().topic_arn(&arn).protocol("sqs").endpoint(inbox_arn).send().await.unwrap();

    let topic = SnsTopic::new(&sdk, &arn);
    let long_subject = format!("Profile drift: {} — new fields", "x".repeat(120));
    topic.publish(&long_subject, "{\"findings\": []}").await.unwrap();
    let received = sqs.receive_message().queue_url(&inbox).wait_time_seconds(2).send().await.unwrap();
    let envelope: serde_json::Value = serde_json::from_str(received.messages()[0].body().unwrap()).unwrap();
    let subject = envelope["Subject"].as_str().unwrap();
    assert!(subject.len() <= 100 && subject.is_ascii() && subject.starts_with("Profile drift: x"), "{subject}");
    assert_eq!(envelope["Message"], "{\"findings\": []}");

    let gone = format!("{}-gone", arn);
    let err = SnsTopic::new(&sdk, &gone).publish("s", "b").await.unwrap_err();
    let PortError::Rejected { service: Service::Notifications, source } = &err else { panic!("{err:?}") };
    assert_eq!(err.to_string(), "sns: rejected");
    let aws = source.downcast_ref::<AwsError>().expect("an AwsError names the topic");
    assert!(matches!(aws, AwsError::Sns { operation: "Publish", topic, .. } if *topic == gone), "{aws:?}");
    assert!(aws.source().is_some(), "the SDK error is kept as the source");
}

#[tokio::test]
async fn json_secrets_merge_keeps_other_keys_and_writes_only_changes() {
    use bridge_aws::sdk::secretsmanager;
    use bridge_aws::{AwsError, JsonSecrets, SecretChange};
    use secrecy::SecretString;

    let moto = Moto::start().expect("moto server");
    let sdk = moto.sdk_config().await;
    let client = secretsmanager::Client::new(&sdk);
    let secrets = JsonSecrets::new(&sdk);
    let id = unique_name("stack/vendor-credentials");
    let value = |v: &str| SecretString::from(v);

    assert_eq!(secrets.merge(&id, &[("zendesk_webhook_secret", value("one"))]).await.unwrap(), SecretChange::Created);
    assert_eq!(secrets.merge(&id, &[("zendesk_webhook_secret", value("one"))]).await.unwrap(), SecretChange::Unchanged);
    client
        .put_secret_value()
        .secret_id(&id)
        .secret_string(r#"{"intercom_access_token":"keep-me","zendesk_webhook_secret":"one"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(secrets.merge(&id, &[("zendesk_webhook_secret", value("two"))]).await.unwrap(), SecretChange::Updated);
    let stored = client.get_secret_value().secret_id(&id).send().await.unwrap();
    let stored: serde_json::Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    assert_eq!(stored, serde_json::json!({"intercom_access_token": "keep-me", "zendesk_webhook_secret": "two"}));

    let plain = unique_name("plain");
    client.create_secret().name(&plain).secret_string("hunter2-not-json").send().await.unwrap();
    let err = secrets.merge(&plain, &[("k", value("v"))]).await.unwrap_err();
    assert!(matches!(&err, AwsError::SecretNotJsonObject { secret } if *secret == plain), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"), "the value never shows: {err}");
}

#[tokio::test]
async fn the_trace_header_rides_on_the_message_as_aws_trace_header() {
    let moto = Moto::start().expect("moto server (run `make setup`)");
    let client = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let urls = SqsQueue::create_queues(&client, &unique_name("q"), &QueueSettings::default()).await.unwrap();
    let url = urls[&JobKind::Escalate].queue.clone();
    let queue = SqsQueue::new(client.clone(), urls);
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    queue.send_traced(JobKind::Escalate, &event("d-1", "conversation:1"), Some(header)).await.unwrap();
    queue.send_traced(JobKind::Escalate, &event("d-2", "conversation:2"), None).await.unwrap();
    let received = client
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::AwsTraceHeader)
        .send()
        .await
        .unwrap();
    let traces: std::collections::BTreeMap<String, Option<String>> = received
        .messages()
        .iter()
        .map(|m| {
            let event: QueuedEvent = serde_json::from_str(m.body().unwrap()).unwrap();
            let trace = m
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::AwsTraceHeader))
                .cloned();
            (event.delivery_id, trace)
        })
        .collect();
    assert_eq!(traces, [("d-1".to_string(), Some(header.to_string())), ("d-2".to_string(), None)].into());
}
