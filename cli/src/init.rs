//! `bridge init`: the DynamoDB table and the SQS queues for local development (moto or
//! LocalStack through `AWS_ENDPOINT_URL`); deployed stacks get them from the template.

use anyhow::Context as _;
use bridge_aws::{DynamoStore, QueueSettings, SqsQueue};
use bridge_runtime::app::aws_config;

/// Creates the table and queues.
pub async fn init() -> anyhow::Result<()> {
    let table = std::env::var("BRIDGE_TABLE").context("BRIDGE_TABLE: not set")?;
    let prefix = std::env::var("BRIDGE_QUEUE_PREFIX").context("BRIDGE_QUEUE_PREFIX: not set")?;
    let sdk = aws_config().await;
    let ddb = bridge_aws::sdk::dynamodb::Client::new(&sdk);
    DynamoStore::create_table(&ddb, &table).await.with_context(|| format!("creating table {table}"))?;
    let sqs = bridge_aws::sdk::sqs::Client::new(&sdk);
    let urls = SqsQueue::create_queues(&sqs, &prefix, &QueueSettings::default()).await.context("creating queues")?;
    println!("table {table} ready");
    for (job, url) in urls {
        println!("queue {} ready: {}", job.as_str(), url.queue);
    }
    Ok(())
}
