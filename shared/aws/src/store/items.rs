//! The item shapes of the table: keys, attribute values, links and intents as stored.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use bridge_domain::ids::{ConversationId, TicketId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::Link;
use bridge_domain::ports::{Claim, Doc, PortError, PortResult, Service};
use serde::de::DeserializeOwned;

use super::{DONE, Item, PK, SK};
use crate::error::DecodeError;

/// `INTENT#<intent>`.
pub fn intent_key(intent: &Intent) -> String {
    format!("INTENT#{intent}")
}

/// `IC#CONV#<conversation id>`.
pub fn conversation_key(conversation: &ConversationId) -> String {
    format!("IC#CONV#{conversation}")
}

/// `ZD#TICKET#<ticket id>`.
pub fn ticket_key(ticket: TicketId) -> String {
    format!("ZD#TICKET#{ticket}")
}

/// `DOC#<key>`.
pub fn doc_key(key: &DocKey) -> String {
    format!("DOC#{key}")
}

pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), AttributeValue::S(pk)), (SK.to_owned(), AttributeValue::S(sk.to_owned()))])
}

pub(super) fn text(s: impl Into<String>) -> AttributeValue {
    AttributeValue::S(s.into())
}

pub(super) fn num(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

pub(super) fn get_s<'a>(pk: &str, item: &'a Item, attribute: &'static str) -> PortResult<&'a str> {
    match item.get(attribute) {
        Some(AttributeValue::S(s)) => Ok(s),
        _ => Err(DecodeError::Attribute { key: pk.to_owned(), attribute }.into_port()),
    }
}

pub(super) fn get_u64(pk: &str, item: &Item, attribute: &'static str) -> PortResult<u64> {
    match item.get(attribute) {
        Some(AttributeValue::N(n)) => {
            n.parse().map_err(|_| DecodeError::Attribute { key: pk.to_owned(), attribute }.into_port())
        }
        _ => Err(DecodeError::Attribute { key: pk.to_owned(), attribute }.into_port()),
    }
}

/// What an existing intent item means to someone who could not claim it.
pub(super) fn intent_claim(item: &Item) -> Claim {
    match (item.get("state"), item.get("result")) {
        (Some(AttributeValue::S(state)), Some(AttributeValue::S(result))) if state == DONE => {
            Claim::Done(result.clone())
        }
        (Some(AttributeValue::S(state)), None) if state == DONE => Claim::Done(String::new()),
        _ => Claim::Busy,
    }
}

pub(super) fn encode_link(link: &Link) -> PortResult<String> {
    serde_json::to_string(link).map_err(|e| PortError::Rejected { service: Service::Store, source: Box::new(e) })
}

pub(super) fn decode_doc<T: DeserializeOwned>(pk: &str, item: &Item) -> PortResult<Doc<T>> {
    let body = get_s(pk, item, "body")?;
    let value =
        serde_json::from_str(body).map_err(|source| DecodeError::Json { key: pk.to_owned(), source }.into_port())?;
    Ok(Doc { value, version: get_u64(pk, item, "version")? })
}

pub(super) fn decode_link(pk: &str, item: &Item) -> PortResult<Link> {
    let body = get_s(pk, item, "link")?;
    let mut link: Link =
        serde_json::from_str(body).map_err(|source| DecodeError::Json { key: pk.to_owned(), source }.into_port())?;
    link.version = get_u64(pk, item, "version")?;
    Ok(link)
}

/// Every ticket of a link, live one included, each once, in order.
pub(super) fn link_tickets(link: &Link) -> Vec<TicketId> {
    let mut out: Vec<TicketId> = Vec::with_capacity(link.tickets.len() + 1);
    for t in link.tickets.iter().copied().chain(std::iter::once(link.ticket_id)) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// `base` plus up to 100% random jitter, so concurrent retries spread out.
pub(super) fn jitter(base: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
    let millis = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
    base + Duration::from_millis(u64::from(nanos) % millis.max(1))
}
