//! Intercom webhooks: `X-Hub-Signature` verification and notification parsing.
//!
//! Verify first, over the exact bytes received (decode API Gateway's base64 before), then
//! parse. Neither function panics on any input; limiting body sizes is the caller's job.

use bridge_domain::ids::{CompanyId, ContactId, ConversationId, DeliveryId, TagId};
use bridge_domain::model::{Author, Company, Contact, Conversation, Part, Timestamp};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;

use crate::{convert, de, wire};

type HmacSha1 = Hmac<sha1::Sha1>;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature` header.
    #[error("missing X-Hub-Signature header")]
    Missing,
    /// The header is not `sha1=<40 hex digits>`.
    #[error("malformed X-Hub-Signature header")]
    Malformed,
    /// The signature does not match the body.
    #[error("X-Hub-Signature does not match the body")]
    Mismatch,
}

/// Checks `X-Hub-Signature: sha1=<hex>`: HMAC-SHA1 of `raw_body` keyed with the app's client
/// secret, compared in constant time.
pub fn verify_signature(client_secret: &[u8], raw_body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let (scheme, hex_sig) = header.split_once('=').ok_or(SignatureError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("sha1") || hex_sig.len() != 40 {
        return Err(SignatureError::Malformed);
    }
    let expected = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(client_secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(raw_body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// Computes the header value Intercom would send for `raw_body` (for simulators and tests).
pub fn sign(client_secret: &[u8], raw_body: &[u8]) -> String {
    match <HmacSha1 as KeyInit>::new_from_slice(client_secret) {
        Ok(mut mac) => {
            mac.update(raw_body);
            format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
        }
        // HMAC accepts keys of any length; unreachable in practice.
        Err(_) => String::new(),
    }
}

/// Why a body is not a usable notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON (position only; the body is never quoted).
    #[error("invalid JSON at line {line} column {column}")]
    InvalidJson {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// JSON, but not a `notification_event` envelope with a topic and `data.item`.
    #[error("not an Intercom notification: {0}")]
    NotANotification(&'static str),
    /// The item of a known type lacks what the bridge needs (e.g. an id).
    #[error("unusable {item_type} item in {topic}: {reason}")]
    InvalidItem {
        /// Topic of the notification.
        topic: String,
        /// `data.item.type`.
        item_type: String,
        /// What is wrong (no payload content).
        reason: String,
    },
}

/// A parsed notification envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Delivery id (`notif_…`); `None` for pings.
    pub id: Option<DeliveryId>,
    /// Topic, e.g. `conversation.admin.noted`.
    pub topic: String,
    /// Workspace the event belongs to.
    pub app_id: Option<String>,
    /// When the event was created.
    pub created_at: Option<Timestamp>,
    /// Attempt number of this delivery.
    pub delivery_attempts: Option<u64>,
    /// First delivery attempt.
    pub first_sent_at: Option<Timestamp>,
    /// The decoded item.
    pub item: NotificationItem,
}

/// `data.item`, decoded by its type.
#[derive(Debug, Clone, PartialEq)]
pub enum NotificationItem {
    /// `ping`.
    Ping {
        /// The ping message.
        message: Option<String>,
    },
    /// A conversation topic (`conversation.*`, `conversation_part.*`).
    Conversation(Box<ConversationEvent>),
    /// `contact.*.tag.created|deleted`.
    ContactTag {
        /// The contact.
        contact_id: Option<ContactId>,
        /// The tag id.
        tag_id: Option<TagId>,
        /// The tag name.
        tag_name: Option<String>,
    },
    /// A contact topic.
    Contact(Box<Contact>),
    /// A company topic.
    Company(Box<Company>),
    /// Anything else (tickets, visitors, …): the bridge accepts and ignores it.
    Other {
        /// Topic.
        topic: String,
        /// `data.item.type`, when present.
        item_type: Option<String>,
    },
}

/// A conversation webhook: the conversation (opening message included) and the parts that
/// caused the event (webhooks carry only those, `total_count` 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationEvent {
    /// The conversation; `parts` holds the opening message and the event's parts.
    pub conversation: Conversation,
    /// The parts that caused the event, oldest first.
    pub event_parts: Vec<Part>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type", default, deserialize_with = "de::opt_string")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    topic: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    app_id: Option<String>,
    #[serde(default, deserialize_with = "de::timestamp")]
    created_at: Option<i64>,
    #[serde(default, deserialize_with = "de::opt_u64")]
    delivery_attempts: Option<u64>,
    #[serde(default, deserialize_with = "de::timestamp")]
    first_sent_at: Option<i64>,
}

/// Parses a notification envelope and decodes its item by `data.item.type`.
pub fn parse_notification(raw_body: &[u8]) -> Result<Notification, ParseError> {
    notification_from_json(&parse_json(raw_body)?)
}

/// Reads a webhook body as JSON, for [`notification_from_json`].
pub fn parse_json(raw_body: &[u8]) -> Result<Value, ParseError> {
    serde_json::from_slice(raw_body).map_err(|e| ParseError::InvalidJson { line: e.line(), column: e.column() })
}

/// [`parse_notification`] of a body already read as JSON.
pub fn notification_from_json(json: &Value) -> Result<Notification, ParseError> {
    let (id, env, topic, item) = envelope(json)?;
    Ok(Notification {
        id,
        app_id: env.app_id,
        created_at: env.created_at.map(Timestamp),
        delivery_attempts: env.delivery_attempts,
        first_sent_at: env.first_sent_at.map(Timestamp),
        item: decode_item(&topic, item)?,
        topic,
    })
}

/// What the ingress routes a notification by: its delivery id, its topic and what its item is
/// about, read from the JSON without decoding the item (the jobs read the rest themselves, most
/// by fetching the entity fresh).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Delivery id (`notif_…`); `None` for pings.
    pub id: Option<DeliveryId>,
    /// Topic, e.g. `conversation.admin.noted`.
    pub topic: String,
    /// What the item is about.
    pub subject: Subject,
}

/// The entity a notification's item is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// `ping`.
    Ping,
    /// A conversation topic.
    Conversation {
        /// The conversation.
        id: ConversationId,
        /// The authors of the parts that caused the event (webhooks carry only those), read as
        /// [`parse_notification`] reads them.
        event_authors: Vec<Author>,
    },
    /// `contact.*.tag.created|deleted`: the contact, when the item names one.
    ContactTag(Option<ContactId>),
    /// A contact topic.
    Contact(ContactId),
    /// A company topic.
    Company(CompanyId),
    /// Anything else (tickets, visitors, …).
    Other,
}

/// Reads a notification as [`Delivery`]: the same envelope checks as
/// [`notification_from_json`] and the same item ids, without decoding the rest of the item.
pub fn delivery_from_json(json: &Value) -> Result<Delivery, ParseError> {
    let (id, _, topic, item) = envelope(json)?;
    let item_type = item.get("type").and_then(Value::as_str).unwrap_or_default();
    let invalid = |e: bridge_domain::ids::IdError| ParseError::InvalidItem {
        topic: topic.clone(),
        item_type: item_type.to_string(),
        reason: format!("id: {e}"),
    };
    let item_id = || item.get("id").map(de::string_value).unwrap_or_default();
    let subject = match item_type {
        "ping" => Subject::Ping,
        "conversation" => Subject::Conversation {
            id: ConversationId::parse(item_id()).map_err(invalid)?,
            event_authors: event_authors(item),
        },
        "contact_tag" | "user_tag" => Subject::ContactTag(tagged_contact(item)),
        "contact" | "user" | "lead" => Subject::Contact(ContactId::parse(item_id()).map_err(invalid)?),
        "company" => Subject::Company(CompanyId::parse(item_id()).map_err(invalid)?),
        _ => Subject::Other,
    };
    Ok(Delivery { id, topic, subject })
}

/// The authors of `conversation_parts.conversation_parts`, each as the full decode reads it;
/// empty when the list is not there or not a list of objects (the full decode keeps no event
/// parts then).
fn event_authors(item: &Value) -> Vec<Author> {
    let Some(parts) = item.pointer("/conversation_parts/conversation_parts").and_then(Value::as_array) else {
        return Vec::new();
    };
    if !parts.iter().all(Value::is_object) {
        return Vec::new();
    }
    parts
        .iter()
        .map(|part| convert::author(part.get("author").and_then(|a| wire::Author::deserialize(a).ok())))
        .collect()
}

/// The envelope checked: its delivery id (`None` when absent or unusable), the rest of its
/// fields, its topic and its `data.item`.
fn envelope(json: &Value) -> Result<(Option<DeliveryId>, Envelope, String, &Value), ParseError> {
    if !json.is_object() {
        return Err(ParseError::NotANotification("not a JSON object"));
    }
    let mut env = Envelope::deserialize(json).map_err(|_| ParseError::NotANotification("envelope fields"))?;
    if env.kind.as_deref() != Some("notification_event") {
        return Err(ParseError::NotANotification("type is not notification_event"));
    }
    let topic = env.topic.take().filter(|t| !t.is_empty()).ok_or(ParseError::NotANotification("missing topic"))?;
    let item = json
        .pointer("/data/item")
        .filter(|i| i.is_object())
        .ok_or(ParseError::NotANotification("missing data.item"))?;
    let id = env.id.take().and_then(|id| DeliveryId::parse(id).ok());
    Ok((id, env, topic, item))
}

fn decode_item(topic: &str, item: &Value) -> Result<NotificationItem, ParseError> {
    let item_type = item.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
    let invalid =
        |reason: String| ParseError::InvalidItem { topic: topic.to_string(), item_type: item_type.clone(), reason };
    let decode_err = |e: crate::IntercomError| invalid(e.to_string());
    match item_type.as_str() {
        "ping" => {
            Ok(NotificationItem::Ping { message: item.get("message").and_then(Value::as_str).map(str::to_string) })
        }
        "conversation" => {
            let wire = wire::Conversation::deserialize(item).map_err(|e| invalid(shape_error(&e)))?;
            let (conversation, event_parts) = convert::conversation_with_event_parts(wire).map_err(decode_err)?;
            Ok(NotificationItem::Conversation(Box::new(ConversationEvent { conversation, event_parts })))
        }
        "contact_tag" | "user_tag" => Ok(contact_tag(item)),
        "contact" | "user" | "lead" => {
            let wire = wire::Contact::deserialize(item).map_err(|e| invalid(shape_error(&e)))?;
            Ok(NotificationItem::Contact(Box::new(convert::contact(wire, Vec::new()).map_err(decode_err)?)))
        }
        "company" => {
            let wire = wire::Company::deserialize(item).map_err(|e| invalid(shape_error(&e)))?;
            Ok(NotificationItem::Company(Box::new(convert::company(wire).map_err(decode_err)?)))
        }
        _ => Ok(NotificationItem::Other {
            topic: topic.to_string(),
            item_type: (!item_type.is_empty()).then_some(item_type),
        }),
    }
}

/// The contact of a `contact_tag` item (`contact`, or `user` in older versions).
fn tagged_contact(item: &Value) -> Option<ContactId> {
    let contact = item.get("contact").or_else(|| item.get("user"));
    contact.and_then(|c| c.get("id")).and_then(de::id_value).and_then(|id| ContactId::parse(id).ok())
}

/// Why an item does not decode, without the offending value (it may be personal data).
fn shape_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde's messages quote the value after "invalid type: " / "invalid value: "; keep the
    // part that names what was expected.
    match text.split_once(", expected ") {
        Some((_, expected)) => format!("shape: expected {expected}"),
        None if text.starts_with("missing field") => format!("shape: {text}"),
        None => "shape: does not match".to_string(),
    }
}

fn contact_tag(item: &Value) -> NotificationItem {
    let tag = item.get("tag");
    NotificationItem::ContactTag {
        contact_id: tagged_contact(item),
        tag_id: tag.and_then(|t| t.get("id")).and_then(de::id_value).and_then(|id| TagId::parse(id).ok()),
        tag_name: tag.and_then(|t| t.get("name")).and_then(Value::as_str).map(str::to_string),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use bridge_domain::model::{AuthorRole, PartKind};
    use serde_json::json;

    fn signed(secret: &[u8], body: &[u8]) -> String {
        let mut mac = <HmacSha1 as KeyInit>::new_from_slice(secret).unwrap();
        mac.update(body);
        format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn signature_vectors() {
        let body = br#"{"type":"notification_event","topic":"ping"}"#;
        let header = signed(b"client-secret", body);
        assert_eq!(header, sign(b"client-secret", body));
        assert_eq!(verify_signature(b"client-secret", body, Some(&header)), Ok(()));
        assert_eq!(
            verify_signature(b"client-secret", body, Some(&header.to_uppercase().replace("SHA1", "sha1"))),
            Ok(())
        );
        assert_eq!(verify_signature(b"other-secret", body, Some(&header)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(b"client-secret", b"{}", Some(&header)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(b"client-secret", body, None), Err(SignatureError::Missing));
        assert_eq!(verify_signature(b"client-secret", body, Some("sha256=abc")), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(b"client-secret", body, Some("sha1=zz")), Err(SignatureError::Malformed));
        assert_eq!(
            verify_signature(b"client-secret", body, Some(&format!("sha1={}", "g".repeat(40)))),
            Err(SignatureError::Malformed)
        );
        assert_eq!(verify_signature(b"client-secret", body, Some("")), Err(SignatureError::Malformed));
    }

    #[test]
    fn known_hmac_sha1_vector() {
        // RFC 2202 test case 2.
        let header = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(header, "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn parses_ping_with_null_id() {
        let body = json!({"type": "notification_event", "id": null, "topic": "ping", "app_id": "abc",
            "created_at": 1_700_000_000, "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "hi"}}});
        let n = parse_notification(body.to_string().as_bytes()).unwrap();
        assert_eq!(n.id, None);
        assert_eq!(n.item, NotificationItem::Ping { message: Some("hi".into()) });
    }

    #[test]
    fn parses_conversation_with_causing_part_and_null_assignees() {
        let body = json!({"type": "notification_event", "id": "notif_1", "topic": "conversation.admin.noted",
            "app_id": "abc", "created_at": 1_700_000_100, "delivery_attempts": 1, "first_sent_at": 1_700_000_100,
            "data": {"item": {"type": "conversation", "id": "42", "created_at": 1_700_000_000,
                "admin_assignee_id": null, "team_assignee_id": null, "state": "open", "new_field": {"x": 1},
                "statistics": {"first_contact_reply_at": "2026-01-10T04:22:28.240+00:00"},
                "tags": {"type": "tag.list", "tags": [{"id": "5", "name": "escalate"}]},
                "source": {"id": "s1", "body": "help", "author": {"type": "lead", "id": "c1"}},
                "conversation_parts": {"total_count": 1, "conversation_parts": [
                    {"id": "p9", "part_type": "note", "body": "internal", "created_at": 1_700_000_099,
                     "author": {"type": "admin", "id": "7"}, "app_package_code": null}]}}}});
        let n = parse_notification(body.to_string().as_bytes()).unwrap();
        assert_eq!(n.id.map(|d| d.to_string()), Some("notif_1".into()));
        let NotificationItem::Conversation(ev) = n.item else { panic!("not a conversation") };
        assert_eq!(ev.conversation.admin_assignee, None);
        assert_eq!(ev.conversation.tags, vec!["escalate".to_string()]);
        assert_eq!(ev.event_parts.len(), 1);
        assert_eq!(ev.event_parts[0].kind, PartKind::Note);
        assert_eq!(ev.conversation.parts.len(), 2);
    }

    #[test]
    fn parses_contact_with_iso_times_and_company() {
        let body = json!({"type": "notification_event", "id": "notif_2", "topic": "contact.user.updated",
            "created_at": "2026-01-10T04:22:28.240+00:00",
            "data": {"item": {"type": "contact", "id": "c1", "role": "user", "email": "a@example.com",
                "created_at": "2026-01-10T04:22:28.240+00:00", "updated_at": "2026-01-10T04:22:28.240+00:00",
                "custom_attributes": {"tier": "gold"}}}});
        let n = parse_notification(body.to_string().as_bytes()).unwrap();
        assert_eq!(n.created_at, Some(Timestamp(1_768_018_948)));
        let NotificationItem::Contact(c) = n.item else { panic!("not a contact") };
        assert_eq!(c.updated_at, Timestamp(1_768_018_948));
        let body = json!({"type": "notification_event", "id": "notif_3", "topic": "company.updated",
            "data": {"item": {"type": "company", "id": "co1", "company_id": "acme", "tag_ids": ["1"],
                "plan": {"name": "Pro"}, "updated_at": "2026-01-10T04:22:28Z"}}});
        let NotificationItem::Company(co) = parse_notification(body.to_string().as_bytes()).unwrap().item else {
            panic!()
        };
        assert_eq!(co.plan.as_deref(), Some("Pro"));
    }

    #[test]
    fn parses_contact_tag_and_unknown_items() {
        let body = json!({"type": "notification_event", "id": "notif_4", "topic": "contact.user.tag.created",
            "data": {"item": {"type": "contact_tag", "tag": {"id": 5, "name": "vip"}, "contact": {"type": "contact", "id": "c1"}}}});
        let n = parse_notification(body.to_string().as_bytes()).unwrap();
        assert!(matches!(n.item, NotificationItem::ContactTag { tag_name: Some(ref t), .. } if t == "vip"));
        let body = json!({"type": "notification_event", "id": "notif_5", "topic": "ticket.created", "data": {"item": {"type": "ticket", "id": "1"}}});
        assert!(matches!(
            parse_notification(body.to_string().as_bytes()).unwrap().item,
            NotificationItem::Other { .. }
        ));
    }

    /// Notifications of every item kind, with the odd shapes Intercom sends.
    fn samples() -> Vec<Value> {
        let env = |id: &str, topic: &str, item: Value| json!({"type": "notification_event", "id": id, "topic": topic, "app_id": "abc", "data": {"item": item}});
        vec![
            env("notif_1", "ping", json!({"type": "ping", "message": "hi"})),
            env(
                "notif_2",
                "conversation.admin.noted",
                json!({"type": "conversation", "id": 42,
                "source": {"id": "s1", "body": "help", "author": {"type": "lead", "id": "c1"}},
                "conversation_parts": {"total_count": 2, "conversation_parts": [
                    {"id": "p9", "part_type": "note", "created_at": 9, "author": {"type": "admin", "id": 7}},
                    {"id": "p8", "part_type": "comment", "created_at": 8, "author": {"type": "contact", "id": "u1"}}]}}),
            ),
            env(
                "notif_3",
                "conversation.user.created",
                json!({"type": "conversation", "id": "43",
                "conversation_parts": {"conversation_parts": [{"id": "p1", "part_type": "comment", "author": "bot"}]}}),
            ),
            env(
                "notif_4",
                "conversation.user.replied",
                json!({"type": "conversation", "id": "44",
                "conversation_parts": {"conversation_parts": ["not a part"]}}),
            ),
            env(
                "notif_5",
                "conversation.admin.closed",
                json!({"type": "conversation", "id": "45", "conversation_parts": "x"}),
            ),
            env("notif_6", "contact.user.updated", json!({"type": "contact", "id": "c1", "role": "user"})),
            env("notif_7", "contact.lead.created", json!({"type": "lead", "id": 77})),
            env("notif_8", "company.updated", json!({"type": "company", "id": "co1", "plan": {"name": "Pro"}})),
            env(
                "notif_9",
                "contact.user.tag.created",
                json!({"type": "contact_tag", "tag": {"id": 5, "name": "vip"},
                "contact": {"type": "contact", "id": "c1"}}),
            ),
            env(
                "notif_10",
                "contact.user.tag.deleted",
                json!({"type": "user_tag", "tag": {"id": 5}, "user": {"id": 0}}),
            ),
            env("notif_11", "ticket.created", json!({"type": "ticket", "id": "1"})),
        ]
    }

    #[test]
    fn delivery_view_reads_what_the_full_decode_reads() {
        let sorted = |mut authors: Vec<Author>| {
            authors.sort_by_key(|a| format!("{a:?}"));
            authors
        };
        for json in samples() {
            let full = notification_from_json(&json).unwrap();
            let view = delivery_from_json(&json).unwrap();
            assert_eq!((&view.id, &view.topic), (&full.id, &full.topic));
            match (full.item, view.subject) {
                (NotificationItem::Ping { .. }, Subject::Ping) | (NotificationItem::Other { .. }, Subject::Other) => {}
                (NotificationItem::Conversation(ev), Subject::Conversation { id, event_authors }) => {
                    assert_eq!(id, ev.conversation.id);
                    let full_authors = ev.event_parts.into_iter().map(|p| p.author).collect();
                    assert_eq!(sorted(event_authors), sorted(full_authors), "{json}");
                }
                (NotificationItem::Contact(c), Subject::Contact(id)) => assert_eq!(id, c.id),
                (NotificationItem::Company(c), Subject::Company(id)) => assert_eq!(id, c.id),
                (NotificationItem::ContactTag { contact_id, .. }, Subject::ContactTag(id)) => {
                    assert_eq!(id, contact_id)
                }
                (item, subject) => panic!("{item:?} read as {subject:?}"),
            }
        }
        // The samples cover every kind, authors with numeric ids, and lists that are not lists.
        let views: Vec<_> = samples().iter().map(|j| delivery_from_json(j).unwrap().subject).collect();
        let authors: Vec<_> = views
            .iter()
            .filter_map(|s| match s {
                Subject::Conversation { event_authors, .. } => Some(event_authors.len()),
                _ => None,
            })
            .collect();
        assert_eq!(authors, vec![2, 1, 0, 0]);
        assert!(matches!(&views[1], Subject::Conversation { event_authors, .. }
            if event_authors.iter().any(|a| a.role == AuthorRole::Admin && a.id.as_deref() == Some("7"))));
    }

    #[test]
    fn item_shape_errors_name_the_expectation_never_the_value() {
        use serde::de::Error as _;
        // serde quotes the offending value in type errors; the reason keeps only the expectation.
        let quoted = serde_json::from_value::<u64>(json!("ada@example.com")).unwrap_err();
        assert!(quoted.to_string().contains("ada@example.com"));
        assert_eq!(shape_error(&quoted), "shape: expected u64");
        let other = serde_json::Error::custom("a message naming no value");
        assert_eq!(shape_error(&other), "shape: does not match");
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for body in [&b""[..], b"null", b"[]", b"{}", b"\xff\xfe", b"{\"type\":\"notification_event\"}",
            b"{\"type\":\"notification_event\",\"topic\":\"x\",\"data\":{\"item\":1}}",
            b"{\"type\":\"notification_event\",\"topic\":\"x\",\"data\":{\"item\":{\"type\":\"conversation\",\"id\":\"\"}}}"] {
            assert!(parse_notification(body).is_err(), "{body:?}");
            assert!(parse_json(body).and_then(|j| delivery_from_json(&j)).is_err(), "{body:?}");
        }
    }
}
