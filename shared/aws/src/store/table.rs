//! Creating the table: on-demand billing, string keys, TTL on `expires_at`.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};

use super::{DynamoStore, PK, SK, TABLE_ACTIVE_TIMEOUT, TTL_ATTRIBUTE};
use crate::error::{AwsError, dynamo};

impl DynamoStore {
    /// Creates the table (on-demand billing, string keys `pk`/`sk`), waits until it is active
    /// and enables TTL on `expires_at`. Idempotent: an existing table is left as it is and
    /// only TTL is switched on if it is off.
    pub async fn create_table(client: &Client, name: &str) -> Result<(), AwsError> {
        let created = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute_definition(PK)?)
            .attribute_definitions(attribute_definition(SK)?)
            .key_schema(key_element(PK, KeyType::Hash)?)
            .key_schema(key_element(SK, KeyType::Range)?)
            .send()
            .await;
        match created {
            Ok(_) => tracing::info!(table = name, "created table"),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
                tracing::debug!(table = name, "table already exists");
            }
            Err(e) => return Err(dynamo("CreateTable", e)),
        }
        wait_until_active(client, name).await?;

        let ttl = client
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| dynamo("DescribeTimeToLive", e))?;
        let enabled = ttl.time_to_live_description().is_some_and(|d| {
            d.attribute_name() == Some(TTL_ATTRIBUTE)
                && matches!(d.time_to_live_status(), Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling))
        });
        if !enabled {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(|e| AwsError::Dynamo { operation: "UpdateTimeToLive", source: Box::new(e) })?;
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| dynamo("UpdateTimeToLive", e))?;
        }
        Ok(())
    }
}

async fn wait_until_active(client: &Client, name: &str) -> Result<(), AwsError> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let out = client.describe_table().table_name(name).send().await.map_err(|e| dynamo("DescribeTable", e))?;
        let status = out
            .table()
            .and_then(|t| t.table_status())
            .ok_or(AwsError::MissingField { operation: "DescribeTable", field: "Table.TableStatus" })?;
        if *status == TableStatus::Active {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AwsError::Dynamo {
                operation: "DescribeTable",
                source: format!("table not active after {}s", TABLE_ACTIVE_TIMEOUT.as_secs()).into(),
            });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn attribute_definition(name: &str) -> Result<AttributeDefinition, AwsError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| AwsError::Dynamo { operation: "CreateTable", source: Box::new(e) })
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, AwsError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| AwsError::Dynamo { operation: "CreateTable", source: Box::new(e) })
}
