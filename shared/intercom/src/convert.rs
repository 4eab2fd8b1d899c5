//! Conversion of Intercom wire types into the vendor-neutral domain model.

use std::collections::BTreeMap;

use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, PartId, SegmentId, TeamId};
use bridge_domain::model::{
    Attachment, Author, AuthorRole, Company, Contact, Conversation, ConversationPriority, ConversationState,
    FieldValue, Part, PartKind, Segment, Timestamp,
};
use serde_json::{Map, Value};

use crate::error::IntercomError;
use crate::wire;

fn invalid(what: &str, reason: impl Into<String>) -> IntercomError {
    IntercomError::Decode { what: what.to_string(), reason: reason.into() }
}

fn ts(v: Option<i64>) -> Timestamp {
    Timestamp(v.unwrap_or(0))
}

/// Maps an Intercom author type to a role. Unknown types are treated as bots (system senders).
pub(crate) fn author_role(kind: &str) -> AuthorRole {
    match kind {
        "admin" => AuthorRole::Admin,
        "user" | "contact" => AuthorRole::User,
        "lead" => AuthorRole::Lead,
        "team" => AuthorRole::Team,
        _ => AuthorRole::Bot,
    }
}

pub(crate) fn author(a: Option<wire::Author>) -> Author {
    let a = a.unwrap_or_default();
    Author { role: author_role(&a.kind), id: a.id, name: a.name, email: a.email }
}

/// Maps `part_type` onto the kinds the bridge distinguishes.
pub(crate) fn part_kind(part_type: &str) -> PartKind {
    match part_type {
        "comment" => PartKind::Comment,
        "note" => PartKind::Note,
        "assignment" => PartKind::Assignment,
        "close" => PartKind::Close,
        "open" => PartKind::Open,
        other => PartKind::Other(other.to_string()),
    }
}

fn attachments(list: Option<Vec<wire::PartAttachment>>) -> Vec<Attachment> {
    list.unwrap_or_default()
        .into_iter()
        .map(|a| Attachment { name: a.name, url: a.url, content_type: a.content_type, size: a.filesize })
        .collect()
}

/// Converts a scalar custom attribute; objects and arrays are kept as their JSON text.
pub(crate) fn field_value(v: &Value) -> FieldValue {
    match v {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Number(n) => {
            n.as_i64().map(FieldValue::Int).unwrap_or_else(|| FieldValue::Float(n.as_f64().unwrap_or(0.0)))
        }
        Value::String(s) => FieldValue::Text(s.clone()),
        other => FieldValue::Text(other.to_string()),
    }
}

/// Converts a domain value back to JSON for writes.
pub(crate) fn field_json(v: &FieldValue) -> Value {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Int(i) => Value::from(*i),
        FieldValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        FieldValue::Text(s) => Value::String(s.clone()),
    }
}

fn fields(map: &Map<String, Value>) -> BTreeMap<String, FieldValue> {
    map.iter().map(|(k, v)| (k.clone(), field_value(v))).collect()
}

/// The opening message as a part; its id falls back to `source-<conversation id>`.
fn opening_part(conversation_id: &str, created_at: Option<i64>, source: wire::Source) -> Result<Part, IntercomError> {
    let id = source.id.clone().unwrap_or_else(|| format!("source-{conversation_id}"));
    Ok(Part {
        id: PartId::parse(id).map_err(|e| invalid("conversation source", e.to_string()))?,
        kind: PartKind::Opening,
        author: author(source.author),
        body: source.body,
        created_at: ts(created_at),
        attachments: attachments(source.attachments),
        app_package_code: None,
    })
}

/// Converts one conversation part.
pub(crate) fn part(p: wire::ConversationPart) -> Result<Part, IntercomError> {
    Ok(Part {
        id: PartId::parse(p.id).map_err(|e| invalid("conversation part", e.to_string()))?,
        kind: part_kind(&p.part_type),
        author: author(p.author),
        body: p.body,
        created_at: ts(p.created_at),
        attachments: attachments(p.attachments),
        app_package_code: p.app_package_code,
    })
}

fn state(c: &wire::Conversation) -> ConversationState {
    match c.state.as_deref() {
        Some("closed") => ConversationState::Closed,
        Some("snoozed") => ConversationState::Snoozed,
        Some("open") => ConversationState::Open,
        _ if c.open == Some(false) => ConversationState::Closed,
        _ => ConversationState::Open,
    }
}

fn priority(p: Option<&str>) -> ConversationPriority {
    match p {
        Some("low") => ConversationPriority::Low,
        Some("medium") => ConversationPriority::Medium,
        Some("high") | Some("priority") => ConversationPriority::High,
        Some("urgent") => ConversationPriority::Urgent,
        _ => ConversationPriority::None,
    }
}

/// Converts a conversation: the opening message (`source`) first, then the parts oldest first.
/// `parts_total` is `conversation_parts.total_count + 1` (the API caps the list at 500 parts).
pub(crate) fn conversation(c: wire::Conversation) -> Result<Conversation, IntercomError> {
    let (conv, _) = conversation_with_event_parts(c)?;
    Ok(conv)
}

/// Like [`conversation`], also returning the conversation parts alone (for webhooks, where
/// they are the parts that caused the event).
pub(crate) fn conversation_with_event_parts(
    mut c: wire::Conversation,
) -> Result<(Conversation, Vec<Part>), IntercomError> {
    let id = ConversationId::parse(c.id.clone()).map_err(|e| invalid("conversation", e.to_string()))?;
    let list = c.conversation_parts.take().unwrap_or_default();
    let listed = list.conversation_parts.len();
    let mut event_parts = list.conversation_parts.into_iter().map(part).collect::<Result<Vec<_>, _>>()?;
    event_parts.sort_by_key(|p| p.created_at);
    let mut parts = Vec::with_capacity(event_parts.len() + 1);
    let subject = c.source.as_ref().and_then(|s| s.subject.clone()).filter(|t| !t.trim().is_empty());
    let mut total = list.total_count.map(|n| n as usize).unwrap_or(listed).max(listed);
    if let Some(source) = c.source.take() {
        parts.push(opening_part(&c.id, c.created_at, source)?);
        total += 1;
    }
    parts.extend(event_parts.iter().cloned());
    let title = c.title.clone().filter(|t| !t.trim().is_empty()).or(subject);
    let conv = Conversation {
        title,
        created_at: ts(c.created_at),
        updated_at: ts(c.updated_at.or(c.created_at)),
        waiting_since: c.waiting_since.map(Timestamp),
        state: state(&c),
        priority: priority(c.priority.as_deref()),
        admin_assignee: c.admin_assignee_id.as_deref().and_then(|s| AdminId::parse(s).ok()),
        team_assignee: c.team_assignee_id.as_deref().and_then(|s| TeamId::parse(s).ok()),
        contacts: c
            .contacts
            .take()
            .unwrap_or_default()
            .contacts
            .into_iter()
            .filter_map(|r| r.id.and_then(|id| ContactId::parse(id).ok()))
            .collect(),
        tags: c.tags.take().unwrap_or_default().tags.into_iter().map(|t| t.name).collect(),
        attributes: fields(&c.custom_attributes),
        parts,
        parts_total: total,
        id,
    };
    Ok((conv, event_parts))
}

/// Converts a contact. Tag names are not on the contact (only references): pass them in.
pub(crate) fn contact(c: wire::Contact, tag_names: Vec<String>) -> Result<Contact, IntercomError> {
    Ok(Contact {
        id: ContactId::parse(c.id).map_err(|e| invalid("contact", e.to_string()))?,
        name: c.name,
        email: c.email,
        phone: c.phone,
        external_id: c.external_id.filter(|s| !s.is_empty()),
        role: c.role,
        org_ids: c
            .companies
            .unwrap_or_default()
            .data
            .into_iter()
            .filter_map(|r| r.id.and_then(|id| CompanyId::parse(id).ok()))
            .collect(),
        fields: fields(&c.custom_attributes),
        tags: tag_names,
        updated_at: ts(c.updated_at.or(c.created_at)),
    })
}

/// Converts a company.
pub(crate) fn company(c: wire::Company) -> Result<Company, IntercomError> {
    let plan = c.plan_name();
    Ok(Company {
        id: CompanyId::parse(c.id).map_err(|e| invalid("company", e.to_string()))?,
        name: c.name,
        external_id: c.company_id.filter(|s| !s.is_empty()),
        plan,
        monthly_spend: c.monthly_spend,
        fields: fields(&c.custom_attributes),
        tags: c.tags.unwrap_or_default().tags.into_iter().map(|t| t.name).collect(),
        updated_at: ts(c.updated_at.or(c.created_at)),
    })
}

/// Converts a segment.
pub(crate) fn segment(s: wire::Segment) -> Result<Segment, IntercomError> {
    Ok(Segment { id: SegmentId::parse(s.id).map_err(|e| invalid("segment", e.to_string()))?, name: s.name })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire_conv(v: Value) -> wire::Conversation {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn source_becomes_the_opening_part_and_parts_are_sorted() {
        let c = conversation(wire_conv(json!({
            "id": "123", "created_at": 100, "updated_at": 300, "state": "open", "priority": "urgent",
            "admin_assignee_id": 0, "team_assignee_id": 77,
            "source": {"id": "9", "body": "<p>help</p>", "author": {"type": "user", "id": "c1"}},
            "contacts": {"contacts": [{"type": "contact", "id": "c1"}]},
            "tags": {"tags": [{"id": "1", "name": "vip"}]},
            "custom_attributes": {"zendesk_ticket_id": "55", "n": 3, "f": 1.5, "b": true},
            "conversation_parts": {"total_count": 2, "conversation_parts": [
                {"id": "p2", "part_type": "note", "created_at": 250, "author": {"type": "admin", "id": "a1"}, "app_package_code": "bridge"},
                {"id": "p1", "part_type": "comment", "created_at": 200, "author": {"type": "admin", "id": "a1"}}
            ]}
        })))
        .unwrap();
        assert_eq!(c.parts.len(), 3);
        assert_eq!(c.parts_total, 3);
        assert_eq!(c.parts[0].kind, PartKind::Opening);
        assert_eq!(c.parts[0].author.role, AuthorRole::User);
        assert_eq!(c.parts[1].id.as_str(), "p1");
        assert_eq!(c.parts[2].kind, PartKind::Note);
        assert_eq!(c.parts[2].app_package_code.as_deref(), Some("bridge"));
        assert_eq!(c.priority, ConversationPriority::Urgent);
        assert_eq!(c.admin_assignee, None);
        assert_eq!(c.team_assignee.map(|t| t.to_string()), Some("77".into()));
        assert_eq!(c.tags, vec!["vip".to_string()]);
        assert_eq!(c.attributes.get("n"), Some(&FieldValue::Int(3)));
        assert_eq!(c.attributes.get("b"), Some(&FieldValue::Bool(true)));
    }

    #[test]
    fn source_without_id_gets_a_synthetic_one() {
        let c = conversation(wire_conv(json!({"id": "5", "source": {"id": null, "body": "x"}}))).unwrap();
        assert_eq!(c.parts[0].id.as_str(), "source-5");
        assert_eq!(c.parts_total, 1);
    }

    #[test]
    fn invalid_id_is_a_decode_error() {
        assert!(conversation(wire_conv(json!({"id": ""}))).is_err());
    }
}
