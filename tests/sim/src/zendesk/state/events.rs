//! The webhook events each state change queues in `outbox`.

use serde_json::{Value, json};

use super::{Actor, State};
use crate::zendesk::model::{CommentRec, OrgRec, TicketRec, UserRec, iso};

/// A webhook waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub enum OutEvent {
    /// An event-subscribed payload (without envelope id/time, added when sent).
    Subscribed {
        /// Short type, e.g. `ticket.status_changed`.
        event_type: String,
        /// `zen:ticket:<id>` etc.
        subject: String,
        /// Snapshot.
        detail: Value,
        /// Change.
        event: Value,
        /// `2022-11-06` for tickets, `2022-06-20` for users/orgs.
        version: &'static str,
    },
    /// A trigger-connected webhook with the documented template body.
    Trigger(Value),
}

fn upper(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |v| json!(v.to_uppercase().replace('-', "_")))
}

fn id_str(id: Option<u64>) -> Value {
    id.map_or(Value::Null, |v| json!(v.to_string()))
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

impl State {
    fn ticket_detail(&self, t: &TicketRec, actor: Actor) -> Value {
        let via = match t.channel.as_str() {
            "api" => "web_service",
            "web" => "web_form",
            other => other,
        };
        json!({
            "actor_id": actor.user_id.to_string(),
            "assignee_id": id_str(t.assignee_id),
            "brand_id": "1",
            "created_at": iso(t.created_at),
            "custom_status": upper(Some(&t.status)),
            "description": t.comments.first().map(|c| c.body.clone()).unwrap_or_default(),
            "external_id": t.external_id,
            "form_id": "1",
            "group_id": id_str(t.group_id),
            "id": t.id.to_string(),
            "is_public": t.comments.iter().any(|c| c.public),
            "organization_id": id_str(t.organization_id),
            "priority": upper(t.priority.as_deref()),
            "requester_id": t.requester_id.to_string(),
            "status": upper(Some(&t.status)),
            "subject": t.subject,
            "submitter_id": t.submitter_id.to_string(),
            "tags": t.tags,
            "type": upper(t.ticket_type.as_deref()),
            "updated_at": iso(t.updated_at),
            "via": { "channel": via },
        })
    }

    pub(super) fn ticket_event(&self, t: &TicketRec, actor: Actor, kind: &str, event: Value) -> OutEvent {
        OutEvent::Subscribed {
            event_type: format!("ticket.{kind}"),
            subject: format!("zen:ticket:{}", t.id),
            detail: self.ticket_detail(t, actor),
            event,
            version: "2022-11-06",
        }
    }

    pub(super) fn queue_ticket_events(
        &mut self,
        actor: Actor,
        before: Option<&TicketRec>,
        t: &TicketRec,
        comments: &[CommentRec],
    ) {
        let mut changes: Vec<(&str, Value)> = Vec::new();
        match before {
            None => changes.push(("created", json!({}))),
            Some(b) => {
                if b.status != t.status {
                    changes.push((
                        "status_changed",
                        json!({ "previous": upper(Some(&b.status)), "current": upper(Some(&t.status)) }),
                    ));
                }
                if b.priority != t.priority {
                    changes.push((
                        "priority_changed",
                        json!({ "previous": upper(b.priority.as_deref()), "current": upper(t.priority.as_deref()) }),
                    ));
                }
                if b.group_id != t.group_id {
                    changes.push((
                        "group_assignment_changed",
                        json!({ "previous": id_str(b.group_id), "current": id_str(t.group_id) }),
                    ));
                }
                if b.assignee_id != t.assignee_id {
                    changes.push((
                        "agent_assignment_changed",
                        json!({ "previous": id_str(b.assignee_id), "current": id_str(t.assignee_id) }),
                    ));
                }
                if b.subject != t.subject {
                    changes.push(("subject_changed", json!({ "previous": b.subject, "current": t.subject })));
                }
                if b.external_id != t.external_id {
                    changes
                        .push(("external_id_changed", json!({ "previous": b.external_id, "current": t.external_id })));
                }
                if b.tags != t.tags {
                    let added: Vec<&String> = t.tags.iter().filter(|x| !b.tags.contains(x)).collect();
                    let removed: Vec<&String> = b.tags.iter().filter(|x| !t.tags.contains(x)).collect();
                    changes.push(("tags_changed", json!({ "tags_added": added, "tags_removed": removed })));
                }
                for (fid, value) in &t.custom_fields {
                    let old = b.custom_fields.get(fid).cloned().unwrap_or(Value::Null);
                    if old != *value {
                        let title = self
                            .ticket_fields
                            .iter()
                            .find(|f| f.id == *fid)
                            .map(|f| f.title.clone())
                            .unwrap_or_default();
                        changes.push(("custom_field_changed", json!({ "field": { "id": fid.to_string(), "title": title }, "previous": old, "current": value })));
                    }
                }
            }
        }
        for c in comments {
            let author = self.users.get(&c.author_id);
            changes.push(("comment_added", json!({ "comment": {
                "id": c.id.to_string(),
                "body": c.body,
                "is_public": c.public,
                "author": { "id": c.author_id.to_string(), "is_staff": author.is_some_and(|u| u.role != "end-user"), "name": author.map(|u| u.name.clone()).unwrap_or_default() },
            } })));
        }
        let sequence = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let total = changes.len();
        for (i, (kind, mut event)) in changes.into_iter().enumerate() {
            if let Some(o) = event.as_object_mut() {
                o.insert("meta".into(), json!({ "sequence": { "id": sequence, "position": i + 1, "total": total } }));
            }
            let e = self.ticket_event(t, actor, kind, event);
            self.outbox.push(e);
        }
        if self.trigger_webhooks && total > 0 {
            let updated_by = actor.user_id;
            let latest = t.comments.iter().rev().find(|c| c.public).map(|c| c.body.clone()).unwrap_or_default();
            let via = match t.channel.as_str() {
                "api" => "Web Service",
                "web" => "Web form",
                "email" => "Mail",
                other => other,
            };
            // Two triggers: "Ticket is Created" (kind ticket_created) and one for updates.
            let kind = if before.is_none() { "ticket_created" } else { "ticket_trigger" };
            self.outbox.push(OutEvent::Trigger(json!({
                "kind": kind,
                "ticket_id": t.id.to_string(),
                "status": title_case(&t.status),
                "external_id": t.external_id.clone().unwrap_or_default(),
                "updated_by": updated_by.to_string(),
                "via": via,
                "tags": t.tags.join(" "),
                "latest_public_comment": latest,
            })));
        }
    }

    pub(super) fn queue_user_events(&mut self, actor: Actor, before: Option<&UserRec>, u: &UserRec) {
        let mut changes: Vec<(&str, Value)> = Vec::new();
        match before {
            None => changes.push(("created", json!({}))),
            Some(b) => {
                if b.name != u.name {
                    changes.push(("name_changed", json!({ "previous": b.name, "current": u.name })));
                }
                if b.external_id != u.external_id {
                    changes
                        .push(("external_id_changed", json!({ "previous": b.external_id, "current": u.external_id })));
                }
                if b.role != u.role {
                    changes.push(("role_changed", json!({ "previous": b.role, "current": u.role })));
                }
                if b.tags != u.tags {
                    let added: Vec<&String> = u.tags.iter().filter(|x| !b.tags.contains(x)).collect();
                    let removed: Vec<&String> = b.tags.iter().filter(|x| !u.tags.contains(x)).collect();
                    changes.push(("tags_changed", json!({ "tags_added": added, "tags_removed": removed })));
                }
                if b.organization_id != u.organization_id {
                    changes.push((
                        "organization_membership_created",
                        json!({ "current": { "organization_id": id_str(u.organization_id) } }),
                    ));
                }
                if b.phone != u.phone {
                    let kind = if b.phone.is_none() { "identity_created" } else { "identity_changed" };
                    changes.push((kind, json!({ "current": { "type": "phone_number", "value": u.phone } , "previous": { "type": "phone_number", "value": b.phone } })));
                }
                for e in u.secondary_emails.iter().filter(|e| !b.secondary_emails.contains(e)) {
                    changes.push(("identity_created", json!({ "current": { "type": "email", "value": e } })));
                }
                for (key, value) in &u.user_fields {
                    let old = b.user_fields.get(key).cloned().unwrap_or(Value::Null);
                    if old != *value {
                        changes.push(("custom_field_changed", json!({ "field": { "key": key, "id": self.user_fields.iter().find(|f| f.key.as_deref() == Some(key)).map(|f| f.id.to_string()) }, "previous": old, "current": value })));
                    }
                }
            }
        }
        let detail = json!({
            "actor_id": actor.user_id.to_string(),
            "created_at": iso(u.created_at),
            "default_group_id": "0",
            "email": u.email,
            "external_id": u.external_id,
            "id": u.id.to_string(),
            "organization_id": u.organization_id.map_or_else(|| "0".to_string(), |o| o.to_string()),
            "role": u.role.to_uppercase().replace('-', "_"),
            "updated_at": iso(u.updated_at),
        });
        for (kind, event) in changes {
            self.outbox.push(OutEvent::Subscribed {
                event_type: format!("user.{kind}"),
                subject: format!("zen:user:{}", u.id),
                detail: detail.clone(),
                event,
                version: "2022-06-20",
            });
        }
    }

    pub(super) fn queue_org_events(&mut self, actor: Actor, before: Option<&OrgRec>, o: &OrgRec) {
        let mut changes: Vec<(&str, Value)> = Vec::new();
        match before {
            None => changes.push(("created", json!({}))),
            Some(b) => {
                if b.name != o.name {
                    changes.push(("name_changed", json!({ "previous": b.name, "current": o.name })));
                }
                if b.external_id != o.external_id {
                    changes
                        .push(("external_id_changed", json!({ "previous": b.external_id, "current": o.external_id })));
                }
                if b.tags != o.tags {
                    let added: Vec<&String> = o.tags.iter().filter(|x| !b.tags.contains(x)).collect();
                    let removed: Vec<&String> = b.tags.iter().filter(|x| !o.tags.contains(x)).collect();
                    changes.push(("tags_changed", json!({ "tags_added": added, "tags_removed": removed })));
                }
                for (key, value) in &o.organization_fields {
                    let old = b.organization_fields.get(key).cloned().unwrap_or(Value::Null);
                    if old != *value {
                        changes.push((
                            "custom_field_changed",
                            json!({ "field": { "key": key }, "previous": old, "current": value }),
                        ));
                    }
                }
            }
        }
        let detail = json!({
            "actor_id": actor.user_id.to_string(),
            "created_at": iso(o.created_at),
            "external_id": o.external_id,
            "group_id": id_str(o.group_id),
            "id": o.id.to_string(),
            "name": o.name,
            "shared_comments": false,
            "shared_tickets": false,
            "updated_at": iso(o.updated_at),
        });
        for (kind, event) in changes {
            self.outbox.push(OutEvent::Subscribed {
                event_type: format!("organization.{kind}"),
                subject: format!("zen:organization:{}", o.id),
                detail: detail.clone(),
                event,
                version: "2022-06-20",
            });
        }
    }
}
