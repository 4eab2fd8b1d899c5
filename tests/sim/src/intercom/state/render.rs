//! The state's JSON rendering in Intercom's API 2.16 shapes (and its webhook items').

use serde_json::{Value, json};

use super::{Admin, AuthorRef, Company, Contact, Conversation, PART_CAP, Part, PartsView, Segment, State, Team, iso};

/// References embedded in a contact's addressable lists.
const ADDRESSABLE_CAP: usize = 10;

impl State {
    /// Renders a tag.
    pub fn tag_json(&self, id: &str) -> Value {
        match self.tags.get(id) {
            Some(t) => json!({"type": "tag", "id": t.id, "name": t.name}),
            None => json!({"type": "tag", "id": id, "name": ""}),
        }
    }

    /// Renders an admin (`GET /admins`).
    pub fn admin_json(&self, a: &Admin) -> Value {
        json!({
            "type": "admin", "id": a.id, "name": a.name, "email": a.email, "job_title": "",
            "away_mode_enabled": a.away_mode_enabled, "away_mode_reassign": false, "has_inbox_seat": true,
            "team_ids": a.team_ids.iter().filter_map(|t| t.parse::<i64>().ok()).collect::<Vec<_>>(),
            "avatar": null,
        })
    }

    /// Renders a team.
    pub fn team_json(&self, t: &Team) -> Value {
        json!({"type": "team", "id": t.id, "name": t.name,
            "admin_ids": t.admin_ids.iter().filter_map(|a| a.parse::<i64>().ok()).collect::<Vec<_>>()})
    }

    /// Renders a segment.
    pub fn segment_json(&self, s: &Segment, include_count: bool) -> Value {
        let mut v = json!({"type": "segment", "id": s.id, "name": s.name, "created_at": s.created_at,
            "updated_at": s.created_at, "person_type": s.person_type});
        if include_count {
            v["count"] = json!(s.contact_ids.len());
        }
        v
    }

    /// Renders a contact; `iso_times` for webhook items.
    pub fn contact_json(&self, c: &Contact, iso_times: bool) -> Value {
        let t = |ts: i64| if iso_times { json!(iso(ts)) } else { json!(ts) };
        let ot = |ts: Option<i64>| ts.map(t).unwrap_or(Value::Null);
        let list = |kind: &str, ids: &[String], url: String| {
            json!({"type": "list",
                "data": ids.iter().take(ADDRESSABLE_CAP).map(|id| json!({"type": kind, "id": id, "url": format!("/{kind}s/{id}")})).collect::<Vec<_>>(),
                "url": url, "total_count": ids.len(), "has_more": ids.len() > ADDRESSABLE_CAP})
        };
        json!({
            "type": "contact", "id": c.id, "workspace_id": self.app_id, "external_id": c.external_id,
            "role": c.role, "email": c.email.clone().unwrap_or_default(),
            "email_domain": c.email.as_deref().and_then(|e| e.split_once('@')).map(|(_, d)| d.to_string()).unwrap_or_default(),
            "phone": c.phone, "name": c.name, "owner_id": c.owner_id, "has_hard_bounced": false,
            "marked_email_as_spam": false, "unsubscribed_from_emails": false,
            "created_at": t(c.created_at), "updated_at": t(c.updated_at), "signed_up_at": ot(c.signed_up_at),
            "last_seen_at": ot(c.last_seen_at), "last_replied_at": null, "last_contacted_at": null,
            "last_email_opened_at": null, "last_email_clicked_at": null, "language_override": null,
            "browser": null, "browser_version": null, "browser_language": null, "os": null,
            "custom_attributes": c.custom_attributes, "avatar": null,
            "tags": list("tag", &c.tag_ids, format!("/contacts/{}/tags", c.id)),
            "notes": list("note", &[], format!("/contacts/{}/notes", c.id)),
            "companies": list("company", &c.company_ids, format!("/contacts/{}/companies", c.id)),
            "location": {"type": "location", "country": null, "region": null, "city": null},
            "social_profiles": {"type": "list", "data": []},
        })
    }

    /// Renders a company (`webhook` = ISO times and `tag_ids` as Intercom's webhook items do).
    pub fn company_json(&self, c: &Company, webhook: bool) -> Value {
        let t = |ts: i64| if webhook { json!(iso(ts)) } else { json!(ts) };
        let user_count = self.contacts.values().filter(|p| p.company_ids.contains(&c.id)).count();
        let plan = match &c.plan {
            Some(name) => {
                json!({"type": "plan", "id": format!("plan_{}", name.to_lowercase().replace(' ', "_")), "name": name})
            }
            None => json!({}),
        };
        let mut v = json!({
            "type": "company", "id": c.id, "company_id": c.company_id, "app_id": self.app_id,
            "name": c.name.clone().unwrap_or_default(), "plan": plan,
            "remote_created_at": c.remote_created_at.unwrap_or(c.created_at), "created_at": t(c.created_at),
            "updated_at": t(c.updated_at), "last_request_at": c.updated_at, "monthly_spend": c.monthly_spend,
            "session_count": 0, "user_count": user_count, "custom_attributes": c.custom_attributes,
        });
        if let Some(size) = c.size {
            v["size"] = json!(size);
        }
        if let Some(w) = &c.website {
            v["website"] = json!(w);
        }
        if let Some(i) = &c.industry {
            v["industry"] = json!(i);
        }
        if webhook {
            v["tag_ids"] = json!(c.tag_ids);
        } else {
            v["tags"] =
                json!({"type": "tag.list", "tags": c.tag_ids.iter().map(|id| self.tag_json(id)).collect::<Vec<_>>()});
            let segments: Vec<Value> = Vec::new();
            v["segments"] = json!({"type": "segment.list", "segments": segments});
        }
        v
    }

    fn author_json(&self, a: &AuthorRef) -> Value {
        json!({"type": a.kind, "id": a.id, "name": a.name, "email": a.email.clone().unwrap_or_default(),
            "from_ai_agent": false, "is_ai_answer": false})
    }

    fn part_json(&self, p: &Part) -> Value {
        json!({
            "type": "conversation_part", "id": p.id, "part_type": p.part_type, "body": p.body,
            "created_at": p.created_at, "updated_at": p.created_at, "notified_at": p.created_at,
            "assigned_to": p.assigned_to.as_ref().map(|(kind, id)| json!({"type": kind, "id": id})),
            "author": self.author_json(&p.author), "external_id": null, "redacted": false,
            "attachments": p.attachments.iter().map(|a| json!({"type": "upload", "name": a.name, "url": a.url,
                "content_type": a.content_type, "filesize": a.filesize})).collect::<Vec<_>>(),
            "tags": p.tag_ids.iter().map(|id| self.tag_json(id)).collect::<Vec<_>>(),
            "app_package_code": p.app_package_code,
        })
    }

    /// Renders a conversation with the chosen parts.
    pub fn conversation_json(&self, c: &Conversation, parts: PartsView<'_>) -> Value {
        let assignee = |id: &Option<String>| id.as_deref().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
        let tags: Vec<Value> = c
            .tags
            .iter()
            .map(|t| {
                let mut v = self.tag_json(&t.id);
                v["applied_at"] = json!(t.applied_at);
                v["applied_by"] = json!({"type": "admin", "id": t.applied_by});
                v
            })
            .collect();
        let contacts: Vec<Value> = c
            .contact_ids
            .iter()
            .map(|id| json!({"type": "contact", "id": id, "external_id": self.contacts.get(id).and_then(|p| p.external_id.clone())}))
            .collect();
        let teammates: Vec<Value> = {
            let mut ids: Vec<&String> =
                c.parts.iter().filter(|p| p.author.kind == "admin").map(|p| &p.author.id).collect();
            ids.sort();
            ids.dedup();
            ids.into_iter().map(|id| json!({"type": "admin", "id": id})).collect()
        };
        let mut v = json!({
            "type": "conversation", "id": c.id, "title": c.title, "created_at": c.created_at,
            "updated_at": c.updated_at, "waiting_since": c.waiting_since, "snoozed_until": c.snoozed_until,
            "open": c.state != "closed", "state": c.state, "read": c.read, "priority": c.priority,
            "admin_assignee_id": assignee(&c.admin_assignee_id), "team_assignee_id": assignee(&c.team_assignee_id),
            "tags": {"type": "tag.list", "tags": tags},
            "conversation_rating": c.rating.as_ref().map(|r| json!({
                "rating": r.rating, "remark": r.remark.clone().unwrap_or_default(), "created_at": r.created_at,
                "updated_at": r.updated_at, "contact": {"type": "contact", "id": r.contact_id, "external_id": null},
                "teammate": {"type": "admin", "id": r.teammate_id}})),
            "source": {
                "type": c.source.kind, "id": c.source.id, "delivered_as": c.source.delivered_as,
                "subject": c.source.subject, "body": c.source.body, "author": {
                    "type": c.source.author.kind, "id": c.source.author.id, "name": c.source.author.name,
                    "email": c.source.author.email},
                "attachments": [], "url": null, "redacted": false},
            "contacts": {"type": "contact.list", "contacts": contacts},
            "teammates": {"type": "admin.list", "teammates": teammates},
            "custom_attributes": c.custom_attributes,
            "first_contact_reply": null,
            "statistics": self.statistics_json(c),
            "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
            "ai_agent_participated": false,
        });
        let listed: Option<Vec<Value>> = match parts {
            PartsView::Omit => None,
            PartsView::All => Some(c.parts.iter().map(|p| self.part_json(p)).collect()),
            PartsView::Capped => {
                let skip = c.parts.len().saturating_sub(PART_CAP);
                Some(c.parts.iter().skip(skip).map(|p| self.part_json(p)).collect())
            }
            PartsView::Only(ids) => {
                Some(c.parts.iter().filter(|p| ids.contains(&p.id)).map(|p| self.part_json(p)).collect())
            }
        };
        if let Some(list) = listed {
            let total = if matches!(parts, PartsView::Only(_)) { list.len() } else { c.parts.len() };
            v["conversation_parts"] =
                json!({"type": "conversation_part.list", "conversation_parts": list, "total_count": total});
        }
        v
    }

    fn statistics_json(&self, c: &Conversation) -> Value {
        let first = |pred: &dyn Fn(&Part) -> bool| c.parts.iter().find(|p| pred(p)).map(|p| p.created_at);
        let last = |pred: &dyn Fn(&Part) -> bool| c.parts.iter().rev().find(|p| pred(p)).map(|p| p.created_at);
        let admin_reply = |p: &Part| p.part_type == "comment" && p.author.kind == "admin";
        let close = |p: &Part| p.part_type == "close";
        json!({
            "type": "conversation_statistics",
            "first_admin_reply_at": first(&admin_reply), "last_admin_reply_at": last(&admin_reply),
            "first_close_at": first(&close), "last_close_at": last(&close),
            "count_reopens": c.parts.iter().filter(|p| p.part_type == "open").count(),
            "count_assignments": c.parts.iter().filter(|p| p.part_type == "assignment").count(),
            "count_conversation_parts": c.parts.len() + 1,
        })
    }
}
