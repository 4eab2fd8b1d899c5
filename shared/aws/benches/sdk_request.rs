//! What one AWS request costs in CPU on the client side, and how much of it is the AWS SDK's own.
//!
//! `cargo bench -p bridge-aws --bench sdk_request` (run by `make bench`). A canned HTTP/1.1 server
//! on its own thread answers every request at once with a fixed body for its `X-Amz-Target`, so
//! neither moto nor the network is measured. The client runs on the main thread in a
//! current-thread runtime, and the main thread's CPU time (user and system, from
//! `/proc/thread-self/schedstat`; the client's socket calls included, the server's excluded) is
//! divided by the number of requests. Each request kind is measured three ways:
//!
//! - `plain HTTP`: the same method, path, headers and body sent with `reqwest` over one kept-alive
//!   connection: what any HTTP request costs here;
//! - `SDK`: the DynamoDB or SQS client built with the bridge's settings
//!   ([`bridge_aws::sdk_settings`]), as the functions build it;
//! - `SDK, retries off`: the same, with the standard retry strategy disabled (the token bucket
//!   and the retry classifiers are skipped), to show what that part costs.
//!
//! The SDK's own cost is `SDK - plain HTTP`. Figures are medians of 5 rounds of 2,000 requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use bridge_aws::sdk::{dynamodb, sqs};

const ROUNDS: usize = 5;
const PER_ROUND: usize = 2_000;
const WARM_UP: usize = 200;

/// The canned answer for a request's `X-Amz-Target`.
fn canned_body(target: &str) -> &'static str {
    match target {
        "DynamoDB_20120810.GetItem" => {
            r#"{"Item":{"pk":{"S":"IC#CONV#123456789"},"sk":{"S":"LINK"},"version":{"N":"3"},"link":{"S":"{\"conversation_id\":\"123456789\",\"tickets\":[4321],\"version\":3}"}}}"#
        }
        "AmazonSQS.SendMessage" => {
            r#"{"MD5OfMessageBody":"0123456789abcdef0123456789abcdef","MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","SequenceNumber":"18849496460467696128"}"#
        }
        _ => "{}",
    }
}

/// Serves one kept-alive connection: reads each request (headers, then `Content-Length` bytes)
/// and answers it with its canned body.
fn serve_connection(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut target = String::new();
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(()); // the client closed the connection
            }
            let header = line.trim_end();
            if header.is_empty() && !first {
                break;
            }
            first = false;
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("x-amz-target") {
                    target = value.to_string();
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let answer = canned_body(&target);
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: bench\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        )?;
        writer.flush()?;
    }
}

/// Starts the canned server on a free loopback port, one OS thread per connection.
fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_connection(stream));
        }
    });
    format!("http://{address}")
}

/// CPU time of the calling thread (user + system), in nanoseconds: the first field of
/// `/proc/thread-self/schedstat` (Linux).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux /proc/thread-self/schedstat");
    let nanos = stat.split_whitespace().next().and_then(|n| n.parse().ok()).expect("schedstat's first field");
    Duration::from_nanos(nanos)
}

/// Median CPU microseconds per call of `one`, over [`ROUNDS`] rounds of [`PER_ROUND`] calls.
async fn cpu_per_call<F, Fut>(mut one: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARM_UP {
        one().await;
    }
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = thread_cpu();
        for _ in 0..PER_ROUND {
            one().await;
        }
        rounds.push((thread_cpu() - start).as_secs_f64() * 1e6 / PER_ROUND as f64);
    }
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

/// The SDK configuration the functions use ([`bridge_aws::sdk_settings`]), pointed at `endpoint`
/// with fixed credentials.
async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    let credentials = dynamodb::config::Credentials::new("AKIDBENCH", "bench-secret", None, None, "bench");
    bridge_aws::sdk_settings(aws_config::defaults(aws_config::BehaviorVersion::latest()))
        .region(dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .load()
        .await
}

/// A link-sized item, as the store writes it.
fn item(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [
        ("pk", AttributeValue::S(pk.to_string())),
        ("sk", AttributeValue::S("LINK".to_string())),
        ("version", AttributeValue::N("3".to_string())),
        ("link", AttributeValue::S(r#"{"conversation_id":"123456789","tickets":[4321],"version":3}"#.to_string())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// One request kind: its `X-Amz-Target`, the JSON body the SDK sends for it (for the plain
/// HTTP baseline), and the SDK call.
struct Kind {
    name: &'static str,
    target: &'static str,
    body: &'static str,
}

const KINDS: [Kind; 4] = [
    Kind {
        name: "DynamoDB GetItem",
        target: "DynamoDB_20120810.GetItem",
        body: r#"{"TableName":"bridge","Key":{"pk":{"S":"IC#CONV#123456789"},"sk":{"S":"LINK"}},"ConsistentRead":true}"#,
    },
    Kind {
        name: "DynamoDB PutItem (conditional)",
        target: "DynamoDB_20120810.PutItem",
        body: r#"{"TableName":"bridge","Item":{"pk":{"S":"IC#CONV#123456789"},"sk":{"S":"LINK"},"version":{"N":"3"},"link":{"S":"{\"conversation_id\":\"123456789\",\"tickets\":[4321],\"version\":3}"}},"ConditionExpression":"attribute_not_exists(pk)"}"#,
    },
    Kind {
        name: "DynamoDB TransactWriteItems (2 puts)",
        target: "DynamoDB_20120810.TransactWriteItems",
        body: r#"{"TransactItems":[{"Put":{"TableName":"bridge","Item":{"pk":{"S":"IC#CONV#123456789"},"sk":{"S":"LINK"},"version":{"N":"3"},"link":{"S":"{\"conversation_id\":\"123456789\",\"tickets\":[4321],\"version\":3}"}},"ConditionExpression":"attribute_not_exists(pk)"}},{"Put":{"TableName":"bridge","Item":{"pk":{"S":"ZD#TICKET#4321"},"sk":{"S":"LINK"},"version":{"N":"3"},"link":{"S":"{\"conversation_id\":\"123456789\",\"tickets\":[4321],\"version\":3}"}},"ConditionExpression":"attribute_not_exists(pk)"}}]}"#,
    },
    Kind {
        name: "SQS SendMessage (FIFO)",
        target: "AmazonSQS.SendMessage",
        body: r#"{"QueueUrl":"http://127.0.0.1/000000000000/bridge-escalate.fifo","MessageBody":"{\"vendor\":\"intercom\",\"topic\":\"conversation_part.tag.created\",\"entity\":\"conversation:123456789\"}","MessageGroupId":"conversation:123456789","MessageDeduplicationId":"notif_0123456789abcdef"}"#,
    },
];

/// Sends `kind` once through `sdk`'s DynamoDB or SQS client.
async fn sdk_call(kind: &Kind, ddb: &dynamodb::Client, sqs: &sqs::Client) {
    let ok = match kind.target {
        "DynamoDB_20120810.GetItem" => ddb
            .get_item()
            .table_name("bridge")
            .key("pk", AttributeValue::S("IC#CONV#123456789".into()))
            .key("sk", AttributeValue::S("LINK".into()))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item.is_some())
            .map_err(|e| format!("{e:?}")),
        "DynamoDB_20120810.PutItem" => ddb
            .put_item()
            .table_name("bridge")
            .set_item(Some(item("IC#CONV#123456789")))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| true)
            .map_err(|e| format!("{e:?}")),
        "DynamoDB_20120810.TransactWriteItems" => {
            let put = |pk: &str| {
                let put = Put::builder()
                    .table_name("bridge")
                    .set_item(Some(item(pk)))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .expect("a complete Put");
                TransactWriteItem::builder().put(put).build()
            };
            ddb.transact_write_items()
                .transact_items(put("IC#CONV#123456789"))
                .transact_items(put("ZD#TICKET#4321"))
                .send()
                .await
                .map(|_| true)
                .map_err(|e| format!("{e:?}"))
        }
        _ => sqs
            .send_message()
            .queue_url("http://127.0.0.1/000000000000/bridge-escalate.fifo")
            .message_body(
                r#"{"vendor":"intercom","topic":"conversation_part.tag.created","entity":"conversation:123456789"}"#,
            )
            .message_group_id("conversation:123456789")
            .message_deduplication_id("notif_0123456789abcdef")
            .send()
            .await
            .map(|out| out.message_id.is_some())
            .map_err(|e| format!("{e:?}")),
    };
    match ok {
        Ok(true) => {}
        Ok(false) => panic!("{}: the canned answer was not read", kind.name),
        Err(e) => panic!("{}: {e}", kind.name),
    }
}

fn main() -> Result<(), Infallible> {
    // `cargo bench` passes `--bench`; a filter argument is not supported here.
    let endpoint = start_server();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        let sdk = sdk_config(&endpoint).await;
        let ddb = dynamodb::Client::new(&sdk);
        let sqs = sqs::Client::new(&sdk);
        let no_retries = {
            let mut builder = sdk.to_builder();
            builder.set_retry_config(Some(aws_config::retry::RetryConfig::disabled()));
            builder.build()
        };
        let ddb_no_retries = dynamodb::Client::new(&no_retries);
        let sqs_no_retries = sqs::Client::new(&no_retries);
        let http = bridge_http::client_builder().expect("a TLS configuration").build().expect("a reqwest client");

        println!("CPU per request on the client thread, microseconds (median of {ROUNDS} rounds of {PER_ROUND}):");
        println!();
        println!("| request | plain HTTP | SDK | SDK, retries off | SDK's own (SDK - plain) |");
        println!("| --- | --- | --- | --- | --- |");
        for kind in &KINDS {
            let plain = cpu_per_call(|| async {
                let response = http
                    .post(format!("{endpoint}/"))
                    .header("content-type", "application/x-amz-json-1.0")
                    .header("x-amz-target", kind.target)
                    .body(kind.body)
                    .send()
                    .await
                    .expect("the canned server answers");
                let body = response.bytes().await.expect("the canned body");
                assert!(!body.is_empty());
            })
            .await;
            let with_sdk = cpu_per_call(|| sdk_call(kind, &ddb, &sqs)).await;
            let without_retries = cpu_per_call(|| sdk_call(kind, &ddb_no_retries, &sqs_no_retries)).await;
            println!("| {} | {plain:.1} | {with_sdk:.1} | {without_retries:.1} | {:.1} |", kind.name, with_sdk - plain);
        }
    });
    Ok(())
}
