//! [`DynamoStore`]: the [`Store`] port over one DynamoDB table (schema in the crate docs).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use bridge_domain::ids::{ContactId, ConversationId, TicketId, UserId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{Link, Timestamp};
use bridge_domain::ports::{Claim, Doc, LinkCreated, PortError, PortResult, Service, Store, WithLink};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::port_error;

mod items;
mod table;

pub use items::{conversation_key, doc_key, intent_key, ticket_key};
use items::{
    decode_doc, decode_link, encode_link, get_s, intent_claim, jitter, key, link_tickets, num, text, unix_now,
};

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";
/// TTL attribute (epoch seconds) of the items that expire (a delivery's done marker).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Sort key of each item type.
pub(crate) mod sort {
    pub const INTENT: &str = "INTENT";
    pub const LINK: &str = "LINK";
    pub const DOC: &str = "DOC";
}

/// Intent states.
pub(crate) const CLAIMED: &str = "claimed";
pub(crate) const DONE: &str = "done";

/// Attempts at a link transaction that DynamoDB cancelled for a conflicting concurrent
/// transaction (not for a failed condition).
const TRANSACTION_ATTEMPTS: u32 = 6;
/// Attempts at a claim whose conflicting item vanished before it could be read.
const CLAIM_ATTEMPTS: u32 = 3;
/// How long a released claim is kept (its TTL), its lease run out: the same week a delivery's
/// done marker is kept.
const RELEASED_KEEP_SECS: i64 = 7 * 24 * 3600;
/// How long `create_table` waits for a new table to become active.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// The [`Store`] port over one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

pub(crate) type Item = HashMap<String, AttributeValue>;

impl DynamoStore {
    /// A store over `table`, which must exist (see [`DynamoStore::create_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn put(&self, item: Item) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        self.client.put_item().table_name(&self.table).set_item(Some(item))
    }

    async fn get(&self, pk: String, sk: &str) -> PortResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.item)
    }

    /// Records an intent as done (the first recorded result wins), expiring at `expires_at`.
    async fn put_done(&self, intent: &Intent, result: &str, expires_at: Option<i64>) -> PortResult<()> {
        let mut item = key(intent_key(intent), sort::INTENT);
        item.insert("state".into(), text(DONE));
        item.insert("result".into(), text(result));
        item.insert("completed_at".into(), num(unix_now()));
        if let Some(at) = expires_at {
            item.insert(TTL_ATTRIBUTE.into(), num(at));
        }
        let put = self
            .put(item)
            .condition_expression("attribute_not_exists(pk) OR #st <> :done")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":done", text(DONE))
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Reads an intent item and says what a claimer should hear.
    async fn claim_state(&self, pk: &str) -> PortResult<Option<Claim>> {
        Ok(self.get(pk.to_owned(), sort::INTENT).await?.map(|item| intent_claim(&item)))
    }

    async fn link_at(&self, pk: String) -> PortResult<Option<Link>> {
        match self.get(pk.clone(), sort::LINK).await? {
            Some(item) => decode_link(&pk, &item).map(Some),
            None => Ok(None),
        }
    }

    /// The link that blocks a new link, if any: the conversation's, else one of the tickets'.
    async fn existing_link(&self, link: &Link, tickets: &[TicketId]) -> PortResult<Option<Link>> {
        if let Some(found) = self.link_by_conversation(&link.conversation_id).await? {
            return Ok(Some(found));
        }
        for ticket in tickets {
            if let Some(found) = self.link_by_ticket(*ticket).await? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Runs a link transaction, retrying when DynamoDB cancels it for a concurrent transaction.
    /// `Ok(true)` committed, `Ok(false)` a condition failed.
    async fn transact_link(&self, items: Vec<TransactWriteItem>) -> PortResult<bool> {
        let mut backoff = Duration::from_millis(20);
        for attempt in 1..=TRANSACTION_ATTEMPTS {
            let result = self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
            let err = match result {
                Ok(_) => return Ok(true),
                Err(err) => err,
            };
            let reasons: Vec<String> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                    e.cancellation_reasons().iter().filter_map(|r| r.code().map(str::to_owned)).collect()
                }
                Some(e) if e.is_transaction_in_progress_exception() => {
                    vec!["TransactionConflict".to_owned()]
                }
                _ => return Err(store_error(err)),
            };
            if reasons.iter().any(|r| r == "ConditionalCheckFailed") {
                return Ok(false);
            }
            let conflict = reasons.iter().any(|r| r == "TransactionConflict");
            if !conflict || attempt == TRANSACTION_ATTEMPTS {
                tracing::warn!(reasons = reasons.join(",").as_str(), attempt, "link transaction cancelled");
                return Err(cancelled_error(&reasons, err));
            }
            tokio::time::sleep(jitter(backoff)).await;
            backoff = backoff.saturating_mul(2);
        }
        Err(PortError::unavailable(Service::Store, "link transaction kept conflicting"))
    }
}

impl Store for DynamoStore {
    async fn claim(&self, intent: &Intent, holder: &str, lease: Duration, now: Timestamp) -> PortResult<Claim> {
        let pk = intent_key(intent);
        let lease_secs = i64::try_from(lease.as_secs()).unwrap_or(i64::MAX);
        for _ in 0..CLAIM_ATTEMPTS {
            let mut item = key(pk.clone(), sort::INTENT);
            item.insert("state".into(), text(CLAIMED));
            item.insert("holder".into(), text(holder));
            item.insert("lease_until".into(), num(now.0.saturating_add(lease_secs)));
            // Free, or claimed with an expired lease, or claimed by the same holder (re-entrant).
            let result = self
                .put(item)
                .condition_expression(
                    "attribute_not_exists(pk) OR (#st = :claimed AND (lease_until < :now OR holder = :holder))",
                )
                .expression_attribute_names("#st", "state")
                .expression_attribute_values(":claimed", text(CLAIMED))
                .expression_attribute_values(":now", num(now.0))
                .expression_attribute_values(":holder", text(holder))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(Claim::Acquired),
                Err(err) => err,
            };
            let Some(PutItemError::ConditionalCheckFailedException(failed)) = err.as_service_error() else {
                return Err(store_error(err));
            };
            if let Some(existing) = failed.item() {
                return Ok(intent_claim(existing));
            }
            // Older DynamoDB-compatible servers do not return the item: read it.
            if let Some(claim) = self.claim_state(&pk).await? {
                return Ok(claim);
            }
            // Released between our put and our read: try again.
        }
        Ok(Claim::Busy)
    }

    async fn intent_state(&self, intent: &Intent) -> PortResult<Option<Claim>> {
        self.claim_state(&intent_key(intent)).await
    }

    async fn complete(&self, intent: &Intent, result: &str) -> PortResult<()> {
        self.put_done(intent, result, None).await
    }

    async fn complete_for(&self, intent: &Intent, result: &str, keep: Duration) -> PortResult<()> {
        let keep = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
        self.put_done(intent, result, Some(unix_now().saturating_add(keep))).await
    }

    async fn release(&self, intent: &Intent, holder: &str) -> PortResult<()> {
        // The item stays, its lease run out (0 is before any `now`), until its TTL. A put, not
        // an update: the roles already grant it, and the claim is all the item holds.
        let mut item = key(intent_key(intent), sort::INTENT);
        item.insert("state".into(), text(CLAIMED));
        item.insert("holder".into(), text(holder));
        item.insert("lease_until".into(), num(0));
        item.insert(TTL_ATTRIBUTE.into(), num(unix_now().saturating_add(RELEASED_KEEP_SECS)));
        let released = self
            .put(item)
            .condition_expression("#st = :claimed AND holder = :holder")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":claimed", text(CLAIMED))
            .expression_attribute_values(":holder", text(holder))
            .send()
            .await;
        match released {
            Ok(_) => Ok(()),
            // Not ours any more (expired and taken, done, or gone): nothing to release.
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn link_by_conversation(&self, conversation: &ConversationId) -> PortResult<Option<Link>> {
        self.link_at(conversation_key(conversation)).await
    }

    async fn link_by_ticket(&self, ticket: TicketId) -> PortResult<Option<Link>> {
        let Some(from_ticket) = self.link_at(ticket_key(ticket)).await? else {
            return Ok(None);
        };
        // The conversation half is authoritative; the ticket half is a copy written in the same
        // transaction, which may be stale only if a later update dropped this ticket.
        match self.link_by_conversation(&from_ticket.conversation_id).await? {
            Some(current) if current.tickets.contains(&ticket) || current.ticket_id == ticket => Ok(Some(current)),
            Some(_) => Ok(None),
            None => Ok(Some(from_ticket)),
        }
    }

    async fn link_and_doc<T: DeserializeOwned + Send>(
        &self,
        conversation: &ConversationId,
        key_: &DocKey,
    ) -> PortResult<(Option<Link>, Option<Doc<T>>)> {
        let link_pk = conversation_key(conversation);
        let doc_pk = doc_key(key_);
        let keys = KeysAndAttributes::builder()
            .keys(key(link_pk.clone(), sort::LINK))
            .keys(key(doc_pk.clone(), sort::DOC))
            .consistent_read(true)
            .build()
            .map_err(|e| PortError::Rejected { service: Service::Store, source: Box::new(e) })?;
        let mut request = HashMap::from([(self.table.clone(), keys)]);
        let (mut link, mut doc) = (None, None);
        // DynamoDB may leave keys unprocessed under load: ask again for those.
        for _ in 0..CLAIM_ATTEMPTS {
            let out =
                self.client.batch_get_item().set_request_items(Some(request)).send().await.map_err(store_error)?;
            for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                match item.get(PK) {
                    Some(AttributeValue::S(pk)) if *pk == link_pk => link = Some(decode_link(&link_pk, &item)?),
                    Some(AttributeValue::S(pk)) if *pk == doc_pk => doc = Some(decode_doc(&doc_pk, &item)?),
                    _ => {}
                }
            }
            match out.unprocessed_keys.filter(|u| !u.is_empty()) {
                Some(unprocessed) => request = unprocessed,
                None => return Ok((link, doc)),
            }
        }
        Err(PortError::unavailable(Service::Store, "batch read kept leaving keys unprocessed"))
    }

    async fn create_link_with(&self, link: &Link, with: WithLink<'_>) -> PortResult<LinkCreated> {
        let tickets = link_tickets(link);
        let body = encode_link(link)?;
        let mut items = Vec::with_capacity(tickets.len() + 1 + with.docs.len());
        items.push(self.link_put(
            conversation_key(&link.conversation_id),
            link,
            &body,
            link.version,
            Condition::Absent,
        )?);
        for ticket in &tickets {
            items.push(self.link_put(ticket_key(*ticket), link, &body, link.version, Condition::Absent)?);
        }
        for (doc, value) in &with.docs {
            let body =
                value.to_json().map_err(|e| PortError::Rejected { service: Service::Store, source: Box::new(e) })?;
            let mut item = key(doc_key(doc), sort::DOC);
            item.insert("body".into(), text(body));
            item.insert("version".into(), num(1));
            items.push(transact_put(&self.table, item)?);
        }
        for _ in 0..CLAIM_ATTEMPTS {
            if self.transact_link(items.clone()).await? {
                return Ok(LinkCreated::Created);
            }
            if let Some(existing) = self.existing_link(link, &tickets).await? {
                return Ok(LinkCreated::AlreadyLinked(existing));
            }
            // The blocking item vanished before we could read it: try again.
        }
        Err(PortError::unavailable(Service::Store, "link creation kept failing on a vanishing item"))
    }

    async fn update_link(&self, link: &Link, expected_version: u64) -> PortResult<bool> {
        let version = expected_version.saturating_add(1);
        let mut stored = link.clone();
        stored.version = version;
        let body = encode_link(&stored)?;
        let mut items = Vec::with_capacity(stored.tickets.len() + 1);
        items.push(self.link_put(
            conversation_key(&stored.conversation_id),
            &stored,
            &body,
            version,
            Condition::Version(expected_version),
        )?);
        for ticket in link_tickets(&stored) {
            items.push(self.link_put(ticket_key(ticket), &stored, &body, version, Condition::None)?);
        }
        self.transact_link(items).await
    }

    async fn load<T: DeserializeOwned + Send>(&self, key_: &DocKey) -> PortResult<Option<Doc<T>>> {
        let pk = doc_key(key_);
        match self.get(pk.clone(), sort::DOC).await? {
            Some(item) => decode_doc(&pk, &item).map(Some),
            None => Ok(None),
        }
    }

    async fn save<T: Serialize + Sync>(&self, key_: &DocKey, value: &T, expected: Option<u64>) -> PortResult<bool> {
        let body = serde_json::to_string(value)
            .map_err(|e| PortError::Rejected { service: Service::Store, source: Box::new(e) })?;
        let version = expected.map_or(1, |v| v.saturating_add(1));
        let mut item = key(doc_key(key_), sort::DOC);
        item.insert("body".into(), text(&body));
        item.insert("version".into(), num(version));
        let put = self.put(item);
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(v) => put.condition_expression("version = :expected").expression_attribute_values(":expected", num(v)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(store_error(e)),
        }
    }

    async fn delete(&self, key_: &DocKey) -> PortResult<bool> {
        self.delete_item(doc_key(key_), sort::DOC).await
    }

    async fn links_of_person(&self, contacts: &[ContactId], users: &[UserId]) -> PortResult<Vec<Link>> {
        if contacts.is_empty() && users.is_empty() {
            return Ok(Vec::new());
        }
        // Erasures are rare: a filtered scan of the conversation halves beats an index kept
        // for them. The filter runs here, on the decoded link.
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("sk = :link AND begins_with(pk, :conv)")
                .expression_attribute_values(":link", text(sort::LINK))
                .expression_attribute_values(":conv", text("IC#CONV#"))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items() {
                let pk = get_s("link", item, PK)?.to_owned();
                let link = decode_link(&pk, item)?;
                let by_contact = link.contact_id.as_ref().is_some_and(|c| contacts.contains(c));
                let by_user = link.requester_id.is_some_and(|u| users.contains(&u));
                if by_contact || by_user {
                    found.push(link);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(found)
    }

    async fn delete_link(&self, link: &Link) -> PortResult<()> {
        for ticket in link_tickets(link) {
            self.delete_item(ticket_key(ticket), sort::LINK).await?;
        }
        self.delete_item(conversation_key(&link.conversation_id), sort::LINK).await?;
        Ok(())
    }
}

impl DynamoStore {
    /// Deletes one item; `Ok(true)` when it existed.
    async fn delete_item(&self, pk: String, sk: &str) -> PortResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}

/// The condition on one half of a link.
#[derive(Debug, Clone, Copy)]
enum Condition {
    /// Unconditional.
    None,
    /// Must not exist yet.
    Absent,
    /// Stored version must equal this.
    Version(u64),
}

impl DynamoStore {
    fn link_put(
        &self,
        pk: String,
        link: &Link,
        body: &str,
        version: u64,
        condition: Condition,
    ) -> PortResult<TransactWriteItem> {
        let mut item = key(pk, sort::LINK);
        item.insert("link".into(), text(body));
        item.insert("version".into(), num(version));
        item.insert("conversation_id".into(), text(link.conversation_id.as_str()));
        item.insert("ticket_id".into(), num(link.ticket_id.get()));
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        let put = match condition {
            Condition::None => put,
            Condition::Absent => put.condition_expression("attribute_not_exists(pk)"),
            Condition::Version(v) => {
                put.condition_expression("version = :expected").expression_attribute_values(":expected", num(v))
            }
        };
        let put = put.build().map_err(|e| PortError::Rejected { service: Service::Store, source: Box::new(e) })?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

/// An unconditional put inside a transaction.
fn transact_put(table: &str, item: Item) -> PortResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(|e| PortError::Rejected { service: Service::Store, source: Box::new(e) })?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Classifies a cancelled transaction by its reasons: throttled items -> `RateLimited`,
/// conflicts and transient failures -> `Unavailable`, anything else (validation, item too
/// large) -> `Rejected`; the SDK error is kept as the source where the variant has one.
fn cancelled_error(
    reasons: &[String],
    err: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> PortError {
    let any = |codes: &[&str]| reasons.iter().any(|r| codes.contains(&r.as_str()));
    if any(&["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"]) {
        PortError::RateLimited { service: Service::Store, retry_after: crate::error::THROTTLE_BACKOFF }
    } else if any(&["TransactionConflict", "InternalServerError"]) || reasons.is_empty() {
        PortError::Unavailable { service: Service::Store, source: Box::new(err) }
    } else {
        PortError::Rejected { service: Service::Store, source: Box::new(err) }
    }
}

fn store_error<E>(err: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> PortError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    port_error(Service::Store, err)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
