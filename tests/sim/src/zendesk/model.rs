//! Records the Zendesk simulator keeps, and their JSON renderings (REST shapes from the
//! official OpenAPI file).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A ticket comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentRec {
    /// Comment id.
    pub id: u64,
    /// Author.
    pub author_id: u64,
    /// Plain text body.
    pub body: String,
    /// HTML body.
    pub html_body: String,
    /// Public reply or internal note.
    pub public: bool,
    /// Audit id.
    pub audit_id: u64,
    /// Channel (`api`, `web`, `email`).
    pub channel: String,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// Files attached through `uploads` tokens.
    #[serde(default)]
    pub attachments: Vec<AttachmentRec>,
}

/// A file: uploaded (`POST /uploads`), then on a comment once a token names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRec {
    /// Attachment id.
    pub id: u64,
    /// File name (the upload's `filename`).
    pub file_name: String,
    /// The upload's `Content-Type`.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the simulator serves it (only with valid API credentials: private attachments).
    pub content_url: String,
}

impl AttachmentRec {
    /// REST shape (`AttachmentObject`; `width`/`height` only for images, omitted here).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "file_name": self.file_name,
            "content_url": self.content_url,
            "mapped_content_url": self.content_url,
            "content_type": self.content_type,
            "size": self.size,
            "inline": false,
            "deleted": false,
            "malware_access_override": false,
            "malware_scan_result": "malware_not_found",
            "url": self.content_url,
            "thumbnails": [],
        })
    }
}

/// A ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRec {
    /// Ticket id.
    pub id: u64,
    /// Subject.
    pub subject: String,
    /// Status.
    pub status: String,
    /// Priority.
    pub priority: Option<String>,
    /// Type.
    pub ticket_type: Option<String>,
    /// Requester.
    pub requester_id: u64,
    /// Submitter.
    pub submitter_id: u64,
    /// Assignee.
    pub assignee_id: Option<u64>,
    /// Group.
    pub group_id: Option<u64>,
    /// Organization.
    pub organization_id: Option<u64>,
    /// Tags (sorted, unique).
    pub tags: Vec<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Creation channel (`api`, `web`, `email`).
    pub channel: String,
    /// Follow-up parent.
    pub followup_source: Option<(u64, String)>,
    /// Follow-ups of this ticket.
    pub followup_ids: Vec<u64>,
    /// Custom field values.
    pub custom_fields: BTreeMap<u64, Value>,
    /// Comments, oldest first.
    pub comments: Vec<CommentRec>,
    /// Creation time.
    pub created_at: i64,
    /// Last update.
    pub updated_at: i64,
    /// Metrics bookkeeping.
    pub metrics: MetricsRec,
    /// Satisfaction rating id.
    pub rating_id: Option<u64>,
}

/// What the metrics are computed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsRec {
    /// First public agent reply.
    pub first_reply_at: Option<i64>,
    /// First solve.
    pub first_solved_at: Option<i64>,
    /// Latest solve.
    pub solved_at: Option<i64>,
    /// Times reopened after solve.
    pub reopens: i64,
    /// Public agent replies.
    pub replies: i64,
    /// Distinct assignees.
    pub assignee_stations: i64,
    /// Distinct groups.
    pub group_stations: i64,
    /// First assignment.
    pub initially_assigned_at: Option<i64>,
    /// Latest assignment.
    pub assigned_at: Option<i64>,
    /// Latest comment.
    pub latest_comment_added_at: Option<i64>,
    /// When the ticket went on hold (open interval).
    pub hold_since: Option<i64>,
    /// Minutes on hold, closed intervals.
    pub on_hold_minutes: i64,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRec {
    /// User id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Primary email.
    pub email: Option<String>,
    /// Secondary emails (added by updates).
    pub secondary_emails: Vec<String>,
    /// Role.
    pub role: String,
    /// External id.
    pub external_id: Option<String>,
    /// Default organization.
    pub organization_id: Option<u64>,
    /// Phone.
    pub phone: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom field values by key.
    pub user_fields: BTreeMap<String, Value>,
    /// Creation time.
    pub created_at: i64,
    /// Last update.
    pub updated_at: i64,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgRec {
    /// Organization id.
    pub id: u64,
    /// Unique name.
    pub name: String,
    /// External id.
    pub external_id: Option<String>,
    /// Domains.
    pub domain_names: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom field values by key.
    pub organization_fields: BTreeMap<String, Value>,
    /// Group.
    pub group_id: Option<u64>,
    /// Creation time.
    pub created_at: i64,
    /// Last update.
    pub updated_at: i64,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRec {
    /// Group id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Default group.
    pub default: bool,
    /// Creation time.
    pub created_at: i64,
}

/// A custom field definition (ticket, user or organization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldRec {
    /// Field id.
    pub id: u64,
    /// Key (user/org fields).
    pub key: Option<String>,
    /// Type (`text`, `tagger`, `checkbox`, `integer`, `decimal`, `date`, `multiselect`, …).
    pub field_type: String,
    /// Title.
    pub title: String,
    /// Options `(name, value)` for dropdowns.
    pub options: Vec<(String, String)>,
    /// Tag added by a checkbox.
    pub tag: Option<String>,
    /// Creation time.
    pub created_at: i64,
}

/// A satisfaction rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingRec {
    /// Rating id.
    pub id: u64,
    /// Ticket.
    pub ticket_id: u64,
    /// Requester.
    pub requester_id: u64,
    /// Assignee at rating time.
    pub assignee_id: Option<u64>,
    /// Group at rating time.
    pub group_id: Option<u64>,
    /// `offered`, `unoffered`, `good`, `bad`.
    pub score: String,
    /// Comment.
    pub comment: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last update.
    pub updated_at: i64,
}

/// ISO 8601 with seconds and `Z`.
pub fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Crude HTML-to-text for `body` / `plain_body`.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// Minimal HTML escaping for rendering plain bodies as HTML.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Business minutes between two instants: Monday-Friday, 09:00-17:00 UTC (the simulated
/// account's schedule).
pub fn business_minutes(start: i64, end: i64) -> i64 {
    use chrono::{Datelike, Weekday};
    if end <= start {
        return 0;
    }
    let mut total = 0;
    let mut day = start - start.rem_euclid(86_400);
    while day < end {
        let weekday = chrono::DateTime::from_timestamp(day, 0).map(|d| d.weekday());
        if !matches!(weekday, Some(Weekday::Sat | Weekday::Sun) | None) {
            let open = day + 9 * 3600;
            let close = day + 17 * 3600;
            let from = start.max(open);
            let to = end.min(close);
            if to > from {
                total += (to - from) / 60;
            }
        }
        day += 86_400;
    }
    total
}

fn via(channel: &str, source: Value) -> Value {
    json!({ "channel": channel, "source": source })
}

fn empty_source() -> Value {
    json!({ "from": {}, "to": {}, "rel": null })
}

impl CommentRec {
    /// REST shape.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "html_body": self.html_body,
            "plain_body": self.body,
            "public": self.public,
            "attachments": self.attachments.iter().map(AttachmentRec::to_json).collect::<Vec<_>>(),
            "audit_id": self.audit_id,
            "via": via(&self.channel, empty_source()),
            "created_at": iso(self.created_at),
            "metadata": { "system": {}, "custom": {} },
        })
    }
}

impl TicketRec {
    /// REST shape; `fields` lists every defined ticket custom field.
    pub fn to_json(&self, base: &str, field_ids: &[u64], rating: Option<&RatingRec>) -> Value {
        // Only fields with a value: the OpenAPI file types `custom_fields[].value` as string,
        // number, boolean or string array, never null.
        let custom: Vec<Value> = field_ids
            .iter()
            .filter_map(|id| {
                let value = self.custom_fields.get(id).filter(|v| !v.is_null())?;
                Some(json!({ "id": id, "value": value }))
            })
            .collect();
        let source = match &self.followup_source {
            Some((id, subject)) => {
                json!({ "from": { "ticket_id": id, "subject": subject }, "to": {}, "rel": "follow_up" })
            }
            None => empty_source(),
        };
        let description = self.comments.first().map(|c| c.body.clone()).unwrap_or_default();
        // The account has CSAT: an unrated ticket says `unoffered` (null is for plans without
        // CSAT, and the OpenAPI file does not allow null here).
        let satisfaction = rating.map_or_else(
            || json!({ "score": "unoffered" }),
            |r| json!({ "id": r.id, "score": r.score, "comment": r.comment }),
        );
        json!({
            "id": self.id,
            "url": format!("{base}/api/v2/tickets/{}.json", self.id),
            "external_id": self.external_id,
            "via": via(&self.channel, source),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "generated_timestamp": self.updated_at,
            "type": self.ticket_type,
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": description,
            "priority": self.priority,
            "status": self.status,
            "requester_id": self.requester_id,
            "submitter_id": self.submitter_id,
            "assignee_id": self.assignee_id,
            "organization_id": self.organization_id,
            "group_id": self.group_id,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "problem_id": null,
            "has_incidents": false,
            "is_public": self.comments.iter().any(|c| c.public),
            "due_at": null,
            "tags": self.tags,
            "custom_fields": custom,
            "fields": custom,
            "satisfaction_rating": satisfaction,
            "sharing_agreement_ids": [],
            "followup_ids": self.followup_ids,
            "ticket_form_id": null,
            "brand_id": null,
            "allow_channelback": false,
            "allow_attachments": true,
            "from_messaging_channel": false,
        })
    }

    /// `ticket_metric` computed from the ticket's history, at `now`.
    pub fn metric_json(&self, base: &str, now: i64) -> Value {
        let m = &self.metrics;
        let pair = |start: i64, end: Option<i64>| match end {
            Some(e) => {
                json!({ "calendar": (e - start) / 60, "business": business_minutes(start, e) })
            }
            None => json!({ "calendar": null, "business": null }),
        };
        let hold = m.on_hold_minutes + m.hold_since.map_or(0, |s| (now - s) / 60);
        let wait_end = m.solved_at.unwrap_or(now);
        json!({
            "id": self.id,
            "url": format!("{base}/api/v2/ticket_metrics/{}.json", self.id),
            "ticket_id": self.id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "group_stations": m.group_stations,
            "assignee_stations": m.assignee_stations,
            "reopens": m.reopens,
            "replies": m.replies,
            "assignee_updated_at": m.assigned_at.map(iso),
            "requester_updated_at": iso(self.created_at),
            "status_updated_at": iso(self.updated_at),
            "initially_assigned_at": m.initially_assigned_at.map(iso),
            "assigned_at": m.assigned_at.map(iso),
            "solved_at": m.solved_at.map(iso),
            "latest_comment_added_at": m.latest_comment_added_at.map(iso),
            "reply_time_in_minutes": pair(self.created_at, m.first_reply_at),
            "first_resolution_time_in_minutes": pair(self.created_at, m.first_solved_at),
            "full_resolution_time_in_minutes": pair(self.created_at, m.solved_at),
            "agent_wait_time_in_minutes": json!({ "calendar": 0, "business": 0 }),
            "requester_wait_time_in_minutes": pair(self.created_at, Some(wait_end)),
            "on_hold_time_in_minutes": json!({ "calendar": hold, "business": hold }),
            "custom_status_updated_at": iso(self.updated_at),
        })
    }
}

impl UserRec {
    /// REST shape; `field_keys` lists every defined user field.
    pub fn to_json(&self, base: &str, field_keys: &[String]) -> Value {
        let fields: serde_json::Map<String, Value> =
            field_keys.iter().map(|k| (k.clone(), self.user_fields.get(k).cloned().unwrap_or(Value::Null))).collect();
        json!({
            "id": self.id,
            "url": format!("{base}/api/v2/users/{}.json", self.id),
            "name": self.name,
            "email": self.email,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "time_zone": "UTC",
            "iana_time_zone": "Etc/UTC",
            "phone": self.phone,
            "shared_phone_number": null,
            "photo": null,
            "locale_id": 1,
            "locale": "en-US",
            "organization_id": self.organization_id,
            "role": self.role,
            "verified": true,
            "external_id": self.external_id,
            "tags": self.tags,
            "alias": "",
            "active": true,
            "shared": false,
            "shared_agent": false,
            "last_login_at": null,
            "two_factor_auth_enabled": false,
            "signature": null,
            "details": "",
            "notes": "",
            "role_type": null,
            "custom_role_id": null,
            "moderator": self.role != "end-user",
            "ticket_restriction": if self.role == "end-user" { json!("requested") } else { Value::Null },
            "only_private_comments": false,
            "restricted_agent": false,
            "suspended": false,
            "default_group_id": null,
            "report_csv": false,
            "user_fields": fields,
        })
    }
}

impl OrgRec {
    /// REST shape; `field_keys` lists every defined organization field.
    pub fn to_json(&self, base: &str, field_keys: &[String]) -> Value {
        let fields: serde_json::Map<String, Value> = field_keys
            .iter()
            .map(|k| (k.clone(), self.organization_fields.get(k).cloned().unwrap_or(Value::Null)))
            .collect();
        json!({
            "id": self.id,
            "url": format!("{base}/api/v2/organizations/{}.json", self.id),
            "name": self.name,
            "shared_tickets": false,
            "shared_comments": false,
            "external_id": self.external_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "domain_names": self.domain_names,
            "details": "",
            "notes": "",
            "group_id": self.group_id,
            "tags": self.tags,
            "organization_fields": fields,
        })
    }
}

impl GroupRec {
    /// REST shape.
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base}/api/v2/groups/{}.json", self.id),
            "name": self.name,
            "description": self.description,
            "default": self.default,
            "deleted": false,
            "is_public": true,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.created_at),
        })
    }
}

impl FieldRec {
    /// REST shape; `kind` is `ticket_fields`, `user_fields` or `organization_fields`.
    pub fn to_json(&self, base: &str, kind: &str) -> Value {
        let options: Vec<Value> = self
            .options
            .iter()
            .enumerate()
            .map(|(i, (name, value))| json!({ "id": self.id * 1000 + i as u64 + 1, "name": name, "raw_name": name, "value": value }))
            .collect();
        let mut v = json!({
            "id": self.id,
            "url": format!("{base}/api/v2/{kind}/{}.json", self.id),
            "type": self.field_type,
            "title": self.title,
            "raw_title": self.title,
            "description": "",
            "raw_description": "",
            "position": 0,
            "active": true,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.created_at),
            "regexp_for_validation": null,
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(key) = &self.key {
                obj.insert("key".into(), json!(key));
            }
            if kind == "ticket_fields" {
                obj.insert("required".into(), json!(false));
                obj.insert("visible_in_portal".into(), json!(true));
                obj.insert("editable_in_portal".into(), json!(true));
                obj.insert("removable".into(), json!(true));
            }
            if !options.is_empty() {
                obj.insert("custom_field_options".into(), Value::Array(options));
            }
            if let Some(tag) = &self.tag {
                obj.insert("tag".into(), json!(tag));
            }
        }
        v
    }
}

impl RatingRec {
    /// REST shape.
    pub fn to_json(&self, base: &str) -> Value {
        let mut v = json!({
            "id": self.id,
            "url": format!("{base}/api/v2/satisfaction_ratings/{}.json", self.id),
            "assignee_id": self.assignee_id,
            "group_id": self.group_id,
            "requester_id": self.requester_id,
            "ticket_id": self.ticket_id,
            "score": self.score,
            "comment": self.comment,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        });
        // The OpenAPI file declares none of these nullable: absent rather than null.
        if let Some(obj) = v.as_object_mut() {
            obj.retain(|_, value| !value.is_null());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_minutes_counts_weekday_office_hours() {
        // Monday 2024-01-01 08:00 UTC to 10:00 UTC: one business hour.
        let mon_8 = 1_704_096_000;
        assert_eq!(business_minutes(mon_8, mon_8 + 2 * 3600), 60);
        // Saturday 2024-01-06 all day: none.
        let sat = 1_704_499_200;
        assert_eq!(business_minutes(sat, sat + 86_400), 0);
    }
}
