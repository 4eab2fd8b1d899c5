//! In-memory state of the Intercom simulator and its JSON rendering (API 2.16 shapes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Most recent parts returned by `GET /conversations/{id}`.
pub const PART_CAP: usize = 500;
/// References embedded in a contact's addressable lists.
const ADDRESSABLE_CAP: usize = 10;

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// ISO-8601 text as webhooks send it (`2026-01-10T04:22:28.000+00:00`).
pub fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string())
        .unwrap_or_default()
}

/// A teammate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Admin {
    /// Id (numeric string).
    pub id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Team ids.
    pub team_ids: Vec<String>,
    /// Away mode.
    pub away_mode_enabled: bool,
}

/// A team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    /// Id (numeric string).
    pub id: String,
    /// Name.
    pub name: String,
    /// Member admin ids.
    pub admin_ids: Vec<String>,
}

/// A tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tag {
    /// Id (numeric string).
    pub id: String,
    /// Name (case-insensitive).
    pub name: String,
}

/// A segment with explicit members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Segment {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `user` or `contact`.
    pub person_type: String,
    /// Contacts in the segment.
    pub contact_ids: Vec<String>,
    /// Creation time.
    pub created_at: i64,
}

/// A contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// Intercom id.
    pub id: String,
    /// `user` or `lead`.
    pub role: String,
    /// Customer's id.
    pub external_id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Owner admin id.
    pub owner_id: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Signed up.
    pub signed_up_at: Option<i64>,
    /// Last seen.
    pub last_seen_at: Option<i64>,
    /// Custom attributes.
    pub custom_attributes: Map<String, Value>,
    /// Tag ids.
    pub tag_ids: Vec<String>,
    /// Company ids (Intercom ids).
    pub company_ids: Vec<String>,
}

/// A company.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Company {
    /// Intercom id.
    pub id: String,
    /// Customer's id.
    pub company_id: String,
    /// Name.
    pub name: Option<String>,
    /// Plan name.
    pub plan: Option<String>,
    /// Size.
    pub size: Option<i64>,
    /// Website.
    pub website: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Monthly spend (integer).
    pub monthly_spend: i64,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Remote created.
    pub remote_created_at: Option<i64>,
    /// Custom attributes.
    pub custom_attributes: Map<String, Value>,
    /// Tag ids.
    pub tag_ids: Vec<String>,
}

/// Author of a part or source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthorRef {
    /// `admin`, `user`, `lead`, `bot`, `team`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// The opening message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Source {
    /// Message id.
    pub id: String,
    /// Channel type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `customer_initiated` / `admin_initiated`.
    pub delivered_as: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Author.
    pub author: AuthorRef,
}

/// A conversation part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Part {
    /// Id.
    pub id: String,
    /// `comment`, `note`, `assignment`, `close`, `open`, `snoozed`, …
    pub part_type: String,
    /// Body.
    pub body: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Author.
    pub author: AuthorRef,
    /// Assignee set by this part: (`admin`|`team`|`nobody_admin`, id).
    pub assigned_to: Option<(String, String)>,
    /// Set for parts created through the API.
    pub app_package_code: Option<String>,
    /// Tags applied to this part.
    pub tag_ids: Vec<String>,
    /// Files attached to this part.
    pub attachments: Vec<PartFile>,
}

/// A file on a part, served at `url` (public, like Intercom's signed CDN links).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartFile {
    /// File name.
    pub name: String,
    /// Where it is served.
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub filesize: u64,
}

/// A stored file's type and bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredFile {
    /// MIME type.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// CSAT rating.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rating {
    /// 1-5.
    pub rating: u8,
    /// Remark.
    pub remark: Option<String>,
    /// Requested at.
    pub created_at: i64,
    /// Answered/updated at.
    pub updated_at: i64,
    /// Rating contact.
    pub contact_id: String,
    /// Rated admin.
    pub teammate_id: Option<String>,
}

/// A conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Conversation {
    /// Id (long numeric string).
    pub id: String,
    /// Title.
    pub title: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Customer waiting since.
    pub waiting_since: Option<i64>,
    /// Snoozed until.
    pub snoozed_until: Option<i64>,
    /// `open`, `closed`, `snoozed`.
    pub state: String,
    /// Read.
    pub read: bool,
    /// `none|low|medium|high|urgent`.
    pub priority: String,
    /// Assigned admin.
    pub admin_assignee_id: Option<String>,
    /// Assigned team.
    pub team_assignee_id: Option<String>,
    /// Contacts.
    pub contact_ids: Vec<String>,
    /// Tags with the time they were applied and by whom.
    pub tags: Vec<AppliedTag>,
    /// Conversation attributes.
    pub custom_attributes: Map<String, Value>,
    /// Opening message.
    pub source: Source,
    /// Parts, oldest first.
    pub parts: Vec<Part>,
    /// CSAT rating.
    pub rating: Option<Rating>,
}

/// A tag on a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppliedTag {
    /// Tag id.
    pub id: String,
    /// When.
    pub applied_at: i64,
    /// Admin who applied it.
    pub applied_by: Option<String>,
}

/// A contact or company data attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataAttribute {
    /// Id.
    pub id: u64,
    /// `contact` or `company`.
    pub model: String,
    /// Name.
    pub name: String,
    /// `string|integer|float|boolean|date`.
    pub data_type: String,
    /// Label.
    pub label: Option<String>,
    /// Custom (true) or standard.
    pub custom: bool,
    /// Archived.
    pub archived: bool,
}

/// A conversation attribute (2.16).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConversationAttribute {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Data type.
    pub data_type: String,
    /// Description.
    pub description: Option<String>,
    /// Required.
    pub required: bool,
    /// Archived.
    pub archived: bool,
    /// Created.
    pub created_at: i64,
}

/// A proactive message sent through `POST /messages`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    /// Id.
    pub id: String,
    /// `inapp` or `email`.
    pub message_type: String,
    /// Subject.
    pub subject: Option<String>,
    /// Body.
    pub body: String,
    /// Sending admin.
    pub from_admin: String,
    /// Recipient contact.
    pub to_contact: String,
    /// Created.
    pub created_at: i64,
}

/// Everything the simulator knows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// Workspace id.
    pub app_id: String,
    /// Id counter.
    pub next_id: u64,
    /// Admins by id.
    pub admins: BTreeMap<String, Admin>,
    /// Teams by id.
    pub teams: BTreeMap<String, Team>,
    /// Tags by id.
    pub tags: BTreeMap<String, Tag>,
    /// Segments by id.
    pub segments: BTreeMap<String, Segment>,
    /// Contacts by id (merged-away contacts are removed and listed in `merged`).
    pub contacts: BTreeMap<String, Contact>,
    /// Companies by id.
    pub companies: BTreeMap<String, Company>,
    /// Conversations by id.
    pub conversations: BTreeMap<String, Conversation>,
    /// Contact data attributes and company data attributes.
    pub data_attributes: Vec<DataAttribute>,
    /// Conversation attributes.
    pub conversation_attributes: Vec<ConversationAttribute>,
    /// Sent messages.
    pub messages: Vec<Message>,
    /// Merged contact id -> the contact it was merged into.
    pub merged: BTreeMap<String, String>,
    /// Seconds added to the real clock ([`State::now`]); negative moves it back.
    pub clock_offset: i64,
    /// Files served under `/files/{id}/{name}`, by id.
    #[serde(skip)]
    pub files: BTreeMap<String, StoredFile>,
}

/// Which parts a rendered conversation carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartsView<'a> {
    /// None (list and search items).
    Omit,
    /// The 500 most recent, with the true total (retrieve, reply responses).
    Capped,
    /// Every part (admin inspection).
    All,
    /// Only these parts (webhooks: the parts that caused the event).
    Only(&'a [String]),
}

impl State {
    /// Stores a file served at `{base}/files/{id}/{name}`; returns it as a part's attachment.
    pub fn store_file(&mut self, base: &str, name: &str, content_type: &str, bytes: Vec<u8>) -> PartFile {
        let id = self.hex_id();
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let file = PartFile {
            name: name.to_string(),
            url: format!("{base}/files/{id}/{encoded}?expires=signed"),
            content_type: content_type.to_string(),
            filesize: bytes.len() as u64,
        };
        self.files.insert(id, StoredFile { content_type: content_type.to_string(), bytes });
        file
    }

    /// The simulated clock (Unix seconds): the real one moved by `clock_offset`. It stamps new
    /// conversations, parts, `waiting_since`, `updated_at` and notifications.
    pub fn now(&self) -> i64 {
        now() + self.clock_offset
    }

    /// A fresh id: numeric text of at least `digits` digits.
    pub fn numeric_id(&mut self, base: u64) -> String {
        self.next_id += 1;
        (base + self.next_id).to_string()
    }

    /// A fresh 24-hex-digit id (contacts, companies, segments, messages).
    pub fn hex_id(&mut self) -> String {
        self.next_id += 1;
        format!("65a{:021x}", self.next_id)
    }

    /// Follows merges to the surviving contact id.
    pub fn canonical_contact(&self, id: &str) -> Option<String> {
        let mut cur = id.to_string();
        for _ in 0..8 {
            match self.merged.get(&cur) {
                Some(next) => cur = next.clone(),
                None => break,
            }
        }
        (cur != id).then_some(cur)
    }

    /// A tag by name (case-insensitive).
    pub fn tag_by_name(&self, name: &str) -> Option<&Tag> {
        self.tags.values().find(|t| t.name.eq_ignore_ascii_case(name.trim()))
    }

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
