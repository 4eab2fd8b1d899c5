//! Translation between the wire types and the vendor-neutral domain model.

use std::collections::BTreeMap;

use bridge_domain::ids::{CommentId, GroupId, OrganizationId, TicketId, UserId};
use bridge_domain::model::{
    FieldValue, NewTicket, Organization, OrganizationUpsert, Ticket, TicketComment, TicketPriority, TicketStatus,
    TicketUpdate, Timestamp, User, UserUpsert,
};
use serde_json::Value;

use crate::error::ZendeskError;
use crate::types::{
    CommentWrite, CustomFieldValue, OrganizationWrite, TicketWrite, UserWrite, ZdComment, ZdOrganization, ZdTicket,
    ZdUser,
};

/// A JSON custom-field value as a domain value. Multiselect arrays become their values joined
/// by spaces (they are tags, which never contain spaces); objects become their JSON text.
pub fn field_value(v: &Value) -> FieldValue {
    match v {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Number(n) => {
            n.as_i64().map_or_else(|| FieldValue::Float(n.as_f64().unwrap_or_default()), FieldValue::Int)
        }
        Value::String(s) => FieldValue::Text(s.clone()),
        Value::Array(items) => FieldValue::Text(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Value::Object(_) => FieldValue::Text(v.to_string()),
    }
}

/// A domain value as JSON for a custom field.
pub fn field_json(v: &FieldValue) -> Value {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Int(i) => Value::from(*i),
        FieldValue::Float(f) => Value::from(*f),
        FieldValue::Text(s) => Value::String(s.clone()),
    }
}

fn ts(raw: Option<&str>) -> Timestamp {
    raw.and_then(Timestamp::parse_rfc3339).unwrap_or_default()
}

fn opt<T>(raw: Option<u64>, make: impl Fn(u64) -> Result<T, bridge_domain::ids::IdError>) -> Option<T> {
    raw.and_then(|v| make(v).ok())
}

fn id_or_decode<T>(
    raw: u64,
    make: impl Fn(u64) -> Result<T, bridge_domain::ids::IdError>,
    what: &str,
) -> Result<T, ZendeskError> {
    make(raw).map_err(|_| ZendeskError::Decode(format!("{what} without a valid id")))
}

/// The parent of a follow-up: `via.source.rel == "follow_up"`, `via.source.from.ticket_id`.
fn followup_source(t: &ZdTicket) -> Option<TicketId> {
    let source = t.via.as_ref()?.source.as_ref()?;
    if source.rel.as_deref() != Some("follow_up") {
        return None;
    }
    match source.from.get("ticket_id")? {
        Value::Number(n) => n.as_u64().and_then(|v| TicketId::new(v).ok()),
        Value::String(s) => TicketId::parse(s).ok(),
        _ => None,
    }
}

/// A REST ticket as a domain ticket.
pub fn ticket(t: &ZdTicket) -> Result<Ticket, ZendeskError> {
    let status = t
        .status
        .as_deref()
        .and_then(TicketStatus::parse)
        .ok_or_else(|| ZendeskError::Decode("ticket with an unknown status".into()))?;
    Ok(Ticket {
        id: id_or_decode(t.id, TicketId::new, "ticket")?,
        subject: t.subject.clone(),
        status,
        priority: t.priority.as_deref().and_then(TicketPriority::parse),
        requester_id: opt(t.requester_id, UserId::new),
        assignee_id: opt(t.assignee_id, UserId::new),
        group_id: opt(t.group_id, GroupId::new),
        organization_id: opt(t.organization_id, OrganizationId::new),
        tags: t.tags.clone(),
        external_id: t.external_id.clone().filter(|e| !e.is_empty()),
        via_channel: t.via.as_ref().and_then(|v| v.channel_name()),
        followup_source_id: followup_source(t),
        custom_fields: t.custom_fields.iter().map(|f| (f.id, field_value(&f.value))).collect(),
        created_at: ts(t.created_at.as_deref()),
        updated_at: ts(t.updated_at.as_deref()),
    })
}

/// A REST comment as a domain comment (HTML body preferred).
pub fn comment(c: &ZdComment) -> TicketComment {
    TicketComment {
        id: CommentId::new(c.id).ok(),
        html_body: c.html_body.clone().or_else(|| c.body.clone()).unwrap_or_default(),
        public: c.public,
        author_id: opt(c.author_id, UserId::new),
        created_at: c.created_at.as_deref().and_then(Timestamp::parse_rfc3339),
        uploads: Vec::new(),
        attachments: c.attachments.iter().map(attachment).collect(),
    }
}

/// A REST attachment as a domain one.
pub fn attachment(a: &crate::types::ZdAttachment) -> bridge_domain::model::TicketAttachment {
    bridge_domain::model::TicketAttachment {
        id: bridge_domain::ids::AttachmentId::new(a.id).ok(),
        file_name: a.file_name.clone(),
        content_url: a.content_url.clone(),
        content_type: a.content_type.clone(),
        size: a.size,
        inline: a.inline,
    }
}

/// A REST user as a domain user.
pub fn user(u: &ZdUser) -> Result<User, ZendeskError> {
    Ok(User {
        id: id_or_decode(u.id, UserId::new, "user")?,
        name: u.name.clone(),
        email: u.email.clone(),
        phone: u.phone.clone(),
        external_id: u.external_id.clone(),
        role: u.role.clone().unwrap_or_else(|| "end-user".into()),
        org_ids: opt(u.organization_id, OrganizationId::new).into_iter().collect(),
        fields: u.user_fields.iter().map(|(k, v)| (k.clone(), field_value(v))).collect(),
        tags: u.tags.clone(),
        updated_at: ts(u.updated_at.as_deref()),
    })
}

/// A REST organization as a domain organization.
pub fn organization(o: &ZdOrganization) -> Result<Organization, ZendeskError> {
    Ok(Organization {
        id: id_or_decode(o.id, OrganizationId::new, "organization")?,
        name: o.name.clone(),
        external_id: o.external_id.clone(),
        plan: None,
        monthly_spend: None,
        fields: o.organization_fields.iter().map(|(k, v)| (k.clone(), field_value(v))).collect(),
        tags: o.tags.clone(),
        updated_at: ts(o.updated_at.as_deref()),
    })
}

fn custom_fields(fields: &BTreeMap<u64, FieldValue>) -> Vec<CustomFieldValue> {
    fields.iter().map(|(id, v)| CustomFieldValue { id: *id, value: field_json(v) }).collect()
}

fn comment_write(c: &TicketComment) -> CommentWrite {
    CommentWrite {
        body: None,
        html_body: Some(c.html_body.clone()),
        public: c.public,
        author_id: c.author_id.map(UserId::get),
        uploads: c.uploads.iter().map(|t| t.as_str().to_string()).collect(),
    }
}

/// The create body for a domain ticket.
pub fn new_ticket(t: &NewTicket) -> TicketWrite {
    TicketWrite {
        subject: Some(t.subject.clone()),
        comment: Some(comment_write(&t.comment)),
        requester_id: Some(t.requester_id.get()),
        organization_id: t.organization_id.map(OrganizationId::get),
        priority: t.priority.map(|p| p.as_str().to_string()),
        group_id: t.group_id.map(GroupId::get),
        tags: Some(t.tags.clone()),
        external_id: t.external_id.clone(),
        custom_fields: custom_fields(&t.custom_fields),
        via_followup_source_id: t.followup_source_id.map(TicketId::get),
        ..TicketWrite::default()
    }
}

/// The update body for a domain change (never carries `tags`, which would replace them).
pub fn ticket_update(u: &TicketUpdate) -> TicketWrite {
    TicketWrite {
        status: u.status.map(|s| s.as_str().to_string()),
        priority: u.priority.map(|p| p.as_str().to_string()),
        group_id: u.group_id.map(GroupId::get),
        assignee_id: u.assignee_id.map(UserId::get),
        comment: u.comment.as_ref().map(comment_write),
        custom_fields: custom_fields(&u.custom_fields),
        ..TicketWrite::default()
    }
}

/// The create_or_update body for a domain user.
pub fn user_upsert(u: &UserUpsert) -> UserWrite {
    UserWrite {
        name: Some(u.name.clone()),
        email: u.email.clone(),
        external_id: u.external_id.clone(),
        phone: u.phone.clone(),
        organization_id: u.organization_id.map(OrganizationId::get),
        role: None,
        user_fields: u.fields.iter().map(|(k, v)| (k.clone(), field_json(v))).collect(),
        skip_verify_email: Some(true),
    }
}

/// The create_or_update body for a domain organization.
pub fn organization_upsert(o: &OrganizationUpsert) -> OrganizationWrite {
    OrganizationWrite {
        name: Some(o.name.clone()),
        external_id: o.external_id.clone(),
        organization_fields: o.fields.iter().map(|(k, v)| (k.clone(), field_json(v))).collect(),
        tags: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Via, ViaSource};
    use serde_json::json;

    #[test]
    fn converts_followup_and_fields() {
        let t = ZdTicket {
            id: 7,
            status: Some("open".into()),
            priority: Some("high".into()),
            via: Some(Via {
                channel: json!("api"),
                source: Some(ViaSource { from: json!({"ticket_id": 5}), to: json!({}), rel: Some("follow_up".into()) }),
            }),
            custom_fields: vec![
                CustomFieldValue { id: 1, value: json!(["a", "b"]) },
                CustomFieldValue { id: 2, value: json!(3) },
            ],
            created_at: Some("2024-01-01T00:00:00Z".into()),
            ..ZdTicket::default()
        };
        let d = ticket(&t).unwrap();
        assert_eq!(d.followup_source_id, TicketId::new(5).ok());
        assert_eq!(d.priority, Some(TicketPriority::High));
        assert_eq!(d.custom_fields[&1], FieldValue::Text("a b".into()));
        assert_eq!(d.custom_fields[&2], FieldValue::Int(3));
        assert_eq!(d.via_channel.as_deref(), Some("api"));
        assert_eq!(d.created_at, Timestamp(1_704_067_200));
    }

    #[test]
    fn unknown_status_is_a_decode_error() {
        let t = ZdTicket { id: 1, status: Some("weird".into()), ..ZdTicket::default() };
        assert!(matches!(ticket(&t), Err(ZendeskError::Decode(_))));
    }

    #[test]
    fn update_never_sends_tags() {
        let w = ticket_update(&TicketUpdate { status: Some(TicketStatus::Solved), ..TicketUpdate::default() });
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(v, json!({"status": "solved"}));
    }
}
