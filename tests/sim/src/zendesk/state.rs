//! The simulator's in-memory account and every state change, API-made or "human".
//!
//! Each mutation records the webhook events it causes in `outbox`; the server flushes them
//! (signed) after releasing the lock.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{
    CommentRec, FieldRec, GroupRec, MetricsRec, OrgRec, RatingRec, TicketRec, UserRec, escape_html, iso, strip_tags,
};

/// Ticket statuses, in workflow order.
pub const STATUSES: [&str; 6] = ["new", "open", "pending", "hold", "solved", "closed"];
/// Ticket priorities.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
/// Ticket types.
pub const TYPES: [&str; 4] = ["question", "incident", "problem", "task"];
/// How long an idempotency key is remembered (seconds).
pub const IDEMPOTENCY_TTL: i64 = 2 * 3600;

/// An error answer in one of Zendesk's shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

impl ApiError {
    /// 404 `RecordNotFound`.
    pub fn not_found() -> Self {
        Self { status: 404, body: json!({ "error": "RecordNotFound", "description": "Not found" }) }
    }
    /// 422 `RecordInvalid` with one field error.
    pub fn invalid(field: &str, code: &str, description: impl Into<String>) -> Self {
        Self {
            status: 422,
            body: json!({
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": { field: [{ "description": description.into(), "error": code }] },
            }),
        }
    }
    /// 400 with a classic `{error, description}` body.
    pub fn bad_request(code: &str, description: &str) -> Self {
        Self { status: 400, body: json!({ "error": code, "description": description }) }
    }
    /// 422 for an update of a closed ticket.
    pub fn closed() -> Self {
        Self::invalid("status", "InvalidValue", "Status: closed prevents ticket update")
    }
}

/// Who makes a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// User id of the actor.
    pub user_id: u64,
    /// Through the REST API (true) or the agent UI / customer channels (false).
    pub api: bool,
}

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

/// A background job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRec {
    /// The finished `job_status`.
    pub done: Value,
    /// Polls answered `working` before it reports completion.
    pub polls_left: u32,
}

/// A remembered ticket create.
#[derive(Debug, Clone, PartialEq)]
pub struct IdemRec {
    /// The request body it was made with.
    pub fingerprint: Value,
    /// The response body.
    pub body: Value,
    /// When (sim clock).
    pub at: i64,
}

/// The comment part of a ticket write.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CommentInput {
    /// Plain text.
    pub body: Option<String>,
    /// HTML.
    pub html_body: Option<String>,
    /// Public (default true).
    pub public: Option<bool>,
    /// Author.
    pub author_id: Option<u64>,
    /// Upload tokens whose files become the comment's attachments.
    pub uploads: Vec<String>,
}

/// `{id, value}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FieldInput {
    /// Field id.
    pub id: u64,
    /// Value.
    pub value: Value,
}

/// A ticket create/update body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TicketInput {
    /// Subject.
    pub subject: Option<String>,
    /// Comment.
    pub comment: Option<CommentInput>,
    /// Requester id.
    pub requester_id: Option<u64>,
    /// Requester as `{name, email}`, an email or an id.
    pub requester: Option<Value>,
    /// Submitter.
    pub submitter_id: Option<u64>,
    /// Organization.
    pub organization_id: Option<u64>,
    /// Priority.
    pub priority: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    /// Group.
    pub group_id: Option<u64>,
    /// Assignee.
    pub assignee_id: Option<u64>,
    /// Tags (replace).
    pub tags: Option<Vec<String>>,
    /// External id.
    pub external_id: Option<String>,
    /// Custom fields.
    pub custom_fields: Option<Vec<FieldInput>>,
    /// Alias of `custom_fields`.
    pub fields: Option<Vec<FieldInput>>,
    /// Follow-up source.
    pub via_followup_source_id: Option<u64>,
    /// Collision guard.
    pub safe_update: Option<bool>,
    /// `updated_at` the writer read.
    pub updated_stamp: Option<String>,
}

/// A user create/update body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserInput {
    /// Id (update by id).
    pub id: Option<u64>,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Organization.
    pub organization_id: Option<u64>,
    /// Phone.
    pub phone: Option<String>,
    /// Tags (replace).
    pub tags: Option<Vec<String>>,
    /// Custom fields by key.
    pub user_fields: Option<BTreeMap<String, Value>>,
    /// Ignored.
    pub skip_verify_email: Option<bool>,
}

/// An organization create/update body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OrgInput {
    /// Id (match by id).
    pub id: Option<u64>,
    /// Name.
    pub name: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Domains.
    pub domain_names: Option<Vec<String>>,
    /// Tags (replace).
    pub tags: Option<Vec<String>>,
    /// Custom fields by key.
    pub organization_fields: Option<BTreeMap<String, Value>>,
    /// Group.
    pub group_id: Option<u64>,
}

/// The simulated account.
#[derive(Debug)]
pub struct State {
    /// Server URL (for `url` fields).
    pub base: String,
    /// Seconds added to the real clock.
    pub clock_offset: i64,
    next_id: u64,
    /// The API user (integration agent).
    pub api_user_id: u64,
    /// Tickets.
    pub tickets: BTreeMap<u64, TicketRec>,
    /// Users. Written only through `put_user` / `remove_user`, which keep `user_keys` in step.
    pub users: BTreeMap<u64, UserRec>,
    /// Email (primary and secondary) and external id -> user id, so look-ups do not scan every
    /// user (a 100,000-contact backfill upserts each one).
    user_keys: HashMap<String, u64>,
    /// Organizations.
    pub orgs: BTreeMap<u64, OrgRec>,
    /// Groups.
    pub groups: BTreeMap<u64, GroupRec>,
    /// Ticket field definitions.
    pub ticket_fields: Vec<FieldRec>,
    /// User field definitions.
    pub user_fields: Vec<FieldRec>,
    /// Organization field definitions.
    pub org_fields: Vec<FieldRec>,
    /// CSAT ratings.
    pub ratings: BTreeMap<u64, RatingRec>,
    /// Background jobs.
    pub jobs: HashMap<String, JobRec>,
    /// Idempotency keys of ticket creates.
    pub idempotency: HashMap<String, IdemRec>,
    /// Webhooks not sent yet.
    pub outbox: Vec<OutEvent>,
    /// Also emit the trigger-template webhook on ticket changes.
    pub trigger_webhooks: bool,
    /// Webhooks and triggers (vendor setup).
    pub setup: super::setup::SetupState,
    /// Seeded SLA policies (`include=slas` sideload).
    pub sla: super::sla::SlaState,
    /// Files uploaded and not yet attached, by token.
    pub uploads: HashMap<String, Vec<super::model::AttachmentRec>>,
    /// Every file's bytes, by attachment id.
    pub files: HashMap<u64, Vec<u8>>,
}

fn normalize_tags(tags: &[String]) -> Vec<String> {
    let set: BTreeSet<String> = tags
        .iter()
        .flat_map(|t| t.split_whitespace().map(|s| s.trim_matches(',').to_lowercase()).collect::<Vec<_>>())
        .filter(|t| !t.is_empty())
        .collect();
    set.into_iter().collect()
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
    /// An empty account whose API user is `api_email` (an admin).
    pub fn new(base: String, api_email: &str) -> Self {
        let mut s = Self {
            base,
            clock_offset: 0,
            next_id: 10_000,
            api_user_id: 0,
            tickets: BTreeMap::new(),
            users: BTreeMap::new(),
            user_keys: HashMap::new(),
            orgs: BTreeMap::new(),
            groups: BTreeMap::new(),
            ticket_fields: Vec::new(),
            user_fields: Vec::new(),
            org_fields: Vec::new(),
            ratings: BTreeMap::new(),
            jobs: HashMap::new(),
            idempotency: HashMap::new(),
            outbox: Vec::new(),
            trigger_webhooks: false,
            setup: super::setup::SetupState::default(),
            sla: super::sla::SlaState::default(),
            uploads: HashMap::new(),
            files: HashMap::new(),
        };
        let now = s.now();
        let id = s.new_id();
        s.put_user(UserRec {
            id,
            name: "Integration Bot".into(),
            email: Some(api_email.to_lowercase()),
            secondary_emails: Vec::new(),
            role: "admin".into(),
            external_id: None,
            organization_id: None,
            phone: None,
            tags: Vec::new(),
            user_fields: BTreeMap::new(),
            created_at: now,
            updated_at: now,
        });
        s.api_user_id = id;
        let gid = s.new_id();
        s.groups.insert(
            gid,
            GroupRec {
                id: gid,
                name: "Support".into(),
                description: "Default group".into(),
                default: true,
                created_at: now,
            },
        );
        s
    }

    /// The simulated clock (Unix seconds).
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset
    }

    /// A fresh id (one sequence for every record type).
    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn field_ids(&self) -> Vec<u64> {
        self.ticket_fields.iter().map(|f| f.id).collect()
    }

    fn keys(fields: &[FieldRec]) -> Vec<String> {
        fields.iter().filter_map(|f| f.key.clone()).collect()
    }

    /// REST JSON of a ticket.
    pub fn ticket_json(&self, t: &TicketRec) -> Value {
        let rating = t.rating_id.and_then(|r| self.ratings.get(&r));
        t.to_json(&self.base, &self.field_ids(), rating)
    }
    /// REST JSON of a user.
    pub fn user_json(&self, u: &UserRec) -> Value {
        u.to_json(&self.base, &Self::keys(&self.user_fields))
    }
    /// REST JSON of an organization.
    pub fn org_json(&self, o: &OrgRec) -> Value {
        o.to_json(&self.base, &Self::keys(&self.org_fields))
    }

    fn is_agent(&self, user_id: u64) -> bool {
        self.users.get(&user_id).is_some_and(|u| u.role != "end-user")
    }

    /// The user with this email (primary or secondary), case-insensitive.
    pub fn user_by_email(&self, email: &str) -> Option<&UserRec> {
        self.user_keys.get(&email_key(email)).and_then(|id| self.users.get(id))
    }

    /// The user with this external id, case-insensitive.
    pub fn user_by_external_id(&self, ext: &str) -> Option<&UserRec> {
        self.user_keys.get(&external_key(ext)).and_then(|id| self.users.get(id))
    }

    /// Stores a user (new or changed) and re-indexes its emails and external id.
    pub fn put_user(&mut self, u: UserRec) {
        self.unindex_user(u.id);
        let keys = u.email.iter().chain(&u.secondary_emails).map(|e| email_key(e));
        for key in keys.chain(u.external_id.as_deref().map(external_key)) {
            self.user_keys.insert(key, u.id);
        }
        self.users.insert(u.id, u);
    }

    /// Removes a user and its index entries.
    pub fn remove_user(&mut self, id: u64) -> Option<UserRec> {
        self.unindex_user(id);
        self.users.remove(&id)
    }

    fn unindex_user(&mut self, id: u64) {
        if let Some(old) = self.users.get(&id) {
            let keys = old.email.iter().chain(&old.secondary_emails).map(|e| email_key(e));
            for key in keys.chain(old.external_id.as_deref().map(external_key)).collect::<Vec<_>>() {
                self.user_keys.remove(&key);
            }
        }
    }

    // ----------------------------------------------------------------------------- tickets

    /// Creates a ticket through `channel` (`api`, `web`, `email`).
    pub fn create_ticket(&mut self, actor: Actor, input: TicketInput, channel: &str) -> Result<u64, ApiError> {
        let now = self.now();
        let comment = input.comment.clone().unwrap_or_default();
        let html = comment.html_body.clone().filter(|h| !h.trim().is_empty());
        let text = comment.body.clone().filter(|b| !b.trim().is_empty());
        if html.is_none() && text.is_none() {
            return Err(ApiError::invalid("base", "BlankValue", "Description: cannot be blank"));
        }
        self.validate_enums(&input)?;
        let followup = match input.via_followup_source_id {
            Some(src) => {
                let source = self.tickets.get(&src).ok_or_else(|| {
                    ApiError::invalid("via_followup_source_id", "InvalidValue", "Via followup source: is invalid")
                })?;
                if source.status != "closed" {
                    return Err(ApiError::invalid(
                        "via_followup_source_id",
                        "InvalidValue",
                        "Via followup source: ticket must be closed to create a follow-up",
                    ));
                }
                Some((src, source.subject.clone(), source.tags.clone(), source.requester_id, source.organization_id))
            }
            None => None,
        };
        let requester_id = match self.resolve_requester(actor, &input)? {
            Some(id) => id,
            None => followup.as_ref().map_or(actor.user_id, |f| f.3),
        };
        self.check_refs(input.group_id, input.assignee_id, input.organization_id)?;
        let organization_id = input
            .organization_id
            .or_else(|| followup.as_ref().and_then(|f| f.4))
            .or_else(|| self.users.get(&requester_id).and_then(|u| u.organization_id));
        let submitter_id = input.submitter_id.filter(|s| self.users.contains_key(s)).unwrap_or(actor.user_id);
        let author_id = comment.author_id.filter(|a| self.users.contains_key(a)).unwrap_or(submitter_id);
        let status = input
            .status
            .clone()
            .unwrap_or_else(|| if input.assignee_id.is_some() { "open".into() } else { "new".into() });
        let tags = match (&input.tags, &followup) {
            (Some(t), _) => normalize_tags(t),
            (None, Some(f)) => f.2.clone(),
            (None, None) => Vec::new(),
        };
        let id = self.new_id();
        let audit_id = self.new_id();
        let comment_id = self.new_id();
        let (body, html_body) = bodies(text, html);
        let mut t = TicketRec {
            id,
            subject: input.subject.clone().unwrap_or_else(|| body.chars().take(60).collect()),
            status: "new".into(),
            priority: input.priority.clone(),
            ticket_type: input.ticket_type.clone(),
            requester_id,
            submitter_id,
            assignee_id: input.assignee_id,
            group_id: input.group_id,
            organization_id,
            tags,
            external_id: input.external_id.clone(),
            channel: channel.to_string(),
            followup_source: followup.as_ref().map(|f| (f.0, f.1.clone())),
            followup_ids: Vec::new(),
            custom_fields: BTreeMap::new(),
            comments: vec![CommentRec {
                id: comment_id,
                author_id,
                body,
                html_body,
                public: comment.public.unwrap_or(true),
                audit_id,
                channel: channel.to_string(),
                created_at: now,
                attachments: self.take_uploads(&comment.uploads),
            }],
            created_at: now,
            updated_at: now,
            metrics: MetricsRec { latest_comment_added_at: Some(now), ..MetricsRec::default() },
            rating_id: None,
        };
        self.apply_custom_fields(&mut t, input.custom_fields.as_ref().or(input.fields.as_ref()))?;
        track_assignment(&mut t, None, None, now);
        set_status(&mut t, &status, now);
        if let Some((src, ..)) = followup
            && let Some(parent) = self.tickets.get_mut(&src)
        {
            parent.followup_ids.push(id);
        }
        self.tickets.insert(id, t.clone());
        self.queue_ticket_events(actor, None, &t, &[]);
        Ok(id)
    }

    fn validate_enums(&self, input: &TicketInput) -> Result<(), ApiError> {
        if let Some(s) = &input.status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(ApiError::invalid("status", "InvalidValue", format!("Status: {s} is not valid")));
        }
        if let Some(p) = &input.priority
            && !PRIORITIES.contains(&p.as_str())
        {
            return Err(ApiError::invalid("priority", "InvalidValue", format!("Priority: {p} is not valid")));
        }
        if let Some(t) = &input.ticket_type
            && !TYPES.contains(&t.as_str())
        {
            return Err(ApiError::invalid("type", "InvalidValue", format!("Type: {t} is not valid")));
        }
        Ok(())
    }

    fn check_refs(&self, group: Option<u64>, assignee: Option<u64>, org: Option<u64>) -> Result<(), ApiError> {
        if group.is_some_and(|g| !self.groups.contains_key(&g)) {
            return Err(ApiError::invalid("group", "InvalidValue", "Group: is invalid"));
        }
        if assignee.is_some_and(|a| !self.is_agent(a)) {
            return Err(ApiError::invalid("assignee", "InvalidValue", "Assignee: is not an agent"));
        }
        if org.is_some_and(|o| !self.orgs.contains_key(&o)) {
            return Err(ApiError::invalid("organization", "InvalidValue", "Organization: is invalid"));
        }
        Ok(())
    }

    fn resolve_requester(&mut self, actor: Actor, input: &TicketInput) -> Result<Option<u64>, ApiError> {
        if let Some(id) = input.requester_id {
            return if self.users.contains_key(&id) {
                Ok(Some(id))
            } else {
                Err(ApiError::invalid("requester", "InvalidValue", "Requester: is invalid"))
            };
        }
        let (name, email) = match &input.requester {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => {
                let id = n.as_u64().unwrap_or_default();
                return if self.users.contains_key(&id) {
                    Ok(Some(id))
                } else {
                    Err(ApiError::invalid("requester", "InvalidValue", "Requester: is invalid"))
                };
            }
            Some(Value::String(e)) => (None, e.clone()),
            Some(obj) => (
                obj.get("name").and_then(Value::as_str).map(str::to_string),
                obj.get("email").and_then(Value::as_str).unwrap_or_default().to_string(),
            ),
        };
        if !email.contains('@') {
            return Err(ApiError::invalid("requester", "InvalidValue", "Requester: Email is invalid"));
        }
        if let Some(u) = self.user_by_email(&email) {
            return Ok(Some(u.id));
        }
        let input = UserInput {
            name: Some(name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string())),
            email: Some(email),
            ..UserInput::default()
        };
        self.create_user(actor, input).map(Some)
    }

    fn apply_custom_fields(&mut self, t: &mut TicketRec, fields: Option<&Vec<FieldInput>>) -> Result<(), ApiError> {
        let Some(fields) = fields else { return Ok(()) };
        for f in fields {
            let Some(def) = self.ticket_fields.iter().find(|d| d.id == f.id) else {
                continue; // Zendesk ignores unknown field ids.
            };
            let old = t.custom_fields.get(&f.id).cloned().unwrap_or(Value::Null);
            match def.field_type.as_str() {
                "tagger" => {
                    let new = f.value.as_str().filter(|v| !v.is_empty());
                    if let Some(v) = new
                        && !def.options.iter().any(|(_, ov)| ov == v)
                    {
                        return Err(ApiError::invalid(
                            &format!("custom_field_{}", def.id),
                            "InvalidValue",
                            format!("{} is not a valid option", def.title),
                        ));
                    }
                    if let Some(o) = old.as_str() {
                        t.tags.retain(|x| x != o);
                    }
                    if let Some(v) = new {
                        t.tags.push(v.to_string());
                    }
                }
                "checkbox" => {
                    if let Some(tag) = &def.tag {
                        t.tags.retain(|x| x != tag);
                        if f.value.as_bool() == Some(true) {
                            t.tags.push(tag.clone());
                        }
                    }
                }
                "multiselect" => {
                    if let Some(olds) = old.as_array() {
                        t.tags.retain(|x| !olds.iter().any(|o| o.as_str() == Some(x)));
                    }
                    if let Some(news) = f.value.as_array() {
                        t.tags.extend(news.iter().filter_map(Value::as_str).map(str::to_string));
                    }
                }
                _ => {}
            }
            t.tags = normalize_tags(&t.tags);
            t.custom_fields.insert(f.id, f.value.clone());
        }
        Ok(())
    }

    /// Updates a ticket (`PUT /tickets/{id}` or an agent in the UI).
    pub fn update_ticket(&mut self, actor: Actor, id: u64, input: TicketInput) -> Result<(), ApiError> {
        let now = self.now();
        let before = self.tickets.get(&id).cloned().ok_or_else(ApiError::not_found)?;
        if before.status == "closed" {
            return Err(ApiError::closed());
        }
        if input.safe_update == Some(true)
            && let Some(stamp) = &input.updated_stamp
            && *stamp != iso(before.updated_at)
        {
            return Err(ApiError {
                status: 409,
                body: json!({ "error": "UpdateConflict", "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again." }),
            });
        }
        self.validate_enums(&input)?;
        self.check_refs(input.group_id, input.assignee_id, input.organization_id)?;
        if input.requester_id.is_some_and(|r| !self.users.contains_key(&r)) {
            return Err(ApiError::invalid("requester", "InvalidValue", "Requester: is invalid"));
        }
        let mut t = before.clone();
        if let Some(s) = &input.subject {
            t.subject = s.clone();
        }
        if let Some(p) = &input.priority {
            t.priority = Some(p.clone());
        }
        if let Some(ty) = &input.ticket_type {
            t.ticket_type = Some(ty.clone());
        }
        if let Some(r) = input.requester_id {
            t.requester_id = r;
        }
        if let Some(o) = input.organization_id {
            t.organization_id = Some(o);
        }
        if let Some(e) = &input.external_id {
            t.external_id = Some(e.clone());
        }
        if let Some(g) = input.group_id {
            t.group_id = Some(g);
        }
        if let Some(a) = input.assignee_id {
            t.assignee_id = Some(a);
        }
        track_assignment(&mut t, before.group_id, before.assignee_id, now);
        if let Some(tags) = &input.tags {
            t.tags = normalize_tags(tags);
        }
        self.apply_custom_fields(&mut t, input.custom_fields.as_ref().or(input.fields.as_ref()))?;
        let mut added = Vec::new();
        if let Some(c) = &input.comment {
            let html = c.html_body.clone().filter(|h| !h.trim().is_empty());
            let text = c.body.clone().filter(|b| !b.trim().is_empty());
            if html.is_none() && text.is_none() {
                return Err(ApiError::invalid("comment", "BlankValue", "Comment: cannot be blank"));
            }
            let author = c.author_id.filter(|a| self.users.contains_key(a)).unwrap_or(actor.user_id);
            let channel = if actor.api { "api" } else { "web" };
            let files = self.take_uploads(&c.uploads);
            let mut added_comment =
                self.add_comment(&mut t, author, text, html, c.public.unwrap_or(true), channel, now);
            added_comment.attachments = files;
            if let Some(last) = t.comments.last_mut() {
                last.attachments = added_comment.attachments.clone();
            }
            added.push(added_comment);
        }
        if let Some(s) = &input.status {
            set_status(&mut t, s, now);
        } else if t.status == "new" && t.assignee_id.is_some() {
            set_status(&mut t, "open", now);
        }
        if t != before {
            t.updated_at = now;
        }
        self.tickets.insert(id, t.clone());
        self.queue_ticket_events(actor, Some(&before), &t, &added);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn add_comment(
        &mut self,
        t: &mut TicketRec,
        author: u64,
        text: Option<String>,
        html: Option<String>,
        public: bool,
        channel: &str,
        now: i64,
    ) -> CommentRec {
        let (body, html_body) = bodies(text, html);
        let c = CommentRec {
            id: self.new_id(),
            author_id: author,
            body,
            html_body,
            public,
            audit_id: self.new_id(),
            channel: channel.into(),
            created_at: now,
            attachments: Vec::new(),
        };
        let agent = self.is_agent(author);
        if agent && public {
            t.metrics.replies += 1;
            t.metrics.first_reply_at.get_or_insert(now);
        }
        if !agent && matches!(t.status.as_str(), "pending" | "solved" | "hold") {
            set_status(t, "open", now);
        }
        t.metrics.latest_comment_added_at = Some(now);
        t.comments.push(c.clone());
        c
    }

    /// `PUT /tickets/{id}/tags` (add), `POST` (set) or `DELETE` (remove).
    pub fn change_tags(&mut self, actor: Actor, id: u64, op: TagOp, tags: &[String]) -> Result<Vec<String>, ApiError> {
        let now = self.now();
        let before = self.tickets.get(&id).cloned().ok_or_else(ApiError::not_found)?;
        if before.status == "closed" {
            return Err(ApiError::closed());
        }
        let tags = normalize_tags(tags);
        let mut t = before.clone();
        match op {
            TagOp::Add => t.tags.extend(tags),
            TagOp::Set => t.tags = tags,
            TagOp::Remove => t.tags.retain(|x| !tags.contains(x)),
        }
        t.tags = normalize_tags(&t.tags);
        if t.tags != before.tags {
            t.updated_at = now;
        }
        let result = t.tags.clone();
        self.tickets.insert(id, t.clone());
        self.queue_ticket_events(actor, Some(&before), &t, &[]);
        Ok(result)
    }

    /// Merges `sources` into `target`; returns the job id.
    pub fn merge(
        &mut self,
        actor: Actor,
        target: u64,
        sources: &[u64],
        comments: MergeComments,
    ) -> Result<String, ApiError> {
        let MergeComments { target_comment, source_comment, target_public, source_public } = comments;
        let now = self.now();
        let tgt = self.tickets.get(&target).ok_or_else(ApiError::not_found)?;
        if matches!(tgt.status.as_str(), "solved" | "closed") {
            return Err(ApiError::invalid("base", "InvalidValue", "Target ticket must not be solved or closed"));
        }
        if sources.is_empty() || sources.len() > 5 {
            return Err(ApiError::bad_request("InvalidValue", "Between 1 and 5 source tickets are required"));
        }
        for s in sources {
            let src = self.tickets.get(s).ok_or_else(ApiError::not_found)?;
            if *s == target || src.status == "closed" {
                return Err(ApiError::invalid("base", "InvalidValue", format!("Ticket {s} cannot be merged")));
            }
        }
        for s in sources {
            let Some(before) = self.tickets.get(s).cloned() else {
                continue;
            };
            let mut t = before.clone();
            let text = source_comment.clone().unwrap_or_else(|| {
                format!(
                    "This request was closed and merged into request #{target} \"{}\".",
                    self.tickets.get(&target).map(|x| x.subject.clone()).unwrap_or_default()
                )
            });
            let c = self.add_comment(
                &mut t,
                actor.user_id,
                Some(text),
                None,
                source_public,
                if actor.api { "api" } else { "web" },
                now,
            );
            t.tags.push("closed_by_merge".into());
            t.tags = normalize_tags(&t.tags);
            set_status(&mut t, "closed", now);
            t.updated_at = now;
            self.tickets.insert(*s, t.clone());
            self.queue_ticket_events(actor, Some(&before), &t, &[c]);
            self.outbox.push(self.ticket_event(&t, actor, "merged", json!({ "target_ticket_id": target.to_string() })));
        }
        if let Some(before) = self.tickets.get(&target).cloned() {
            let mut t = before.clone();
            let list = sources.iter().map(|s| format!("#{s}")).collect::<Vec<_>>().join(", ");
            let text =
                target_comment.unwrap_or_else(|| format!("Requests {list} were closed and merged into this request."));
            let c = self.add_comment(
                &mut t,
                actor.user_id,
                Some(text),
                None,
                target_public,
                if actor.api { "api" } else { "web" },
                now,
            );
            t.updated_at = now;
            self.tickets.insert(target, t.clone());
            self.queue_ticket_events(actor, Some(&before), &t, &[c]);
        }
        let results: Vec<Value> = sources
            .iter()
            .map(|s| json!({ "action": "merge", "id": s, "status": "Merged", "success": true }))
            .collect();
        Ok(self.new_job("ticket_merge", results))
    }

    /// Records a CSAT rating for a ticket (what the customer does in the survey).
    pub fn rate(&mut self, ticket_id: u64, score: &str, comment: Option<String>) -> Result<u64, ApiError> {
        if !["offered", "unoffered", "good", "bad"].contains(&score) {
            return Err(ApiError::invalid("score", "InvalidValue", "Score: is invalid"));
        }
        let now = self.now();
        let t = self.tickets.get(&ticket_id).cloned().ok_or_else(ApiError::not_found)?;
        let id = match t.rating_id {
            Some(id) => id,
            None => self.new_id(),
        };
        let created_at = self.ratings.get(&id).map_or(now, |r| r.created_at);
        self.ratings.insert(
            id,
            RatingRec {
                id,
                ticket_id,
                requester_id: t.requester_id,
                assignee_id: t.assignee_id,
                group_id: t.group_id,
                score: score.into(),
                comment: comment.filter(|c| !c.is_empty()),
                created_at,
                updated_at: now,
            },
        );
        if let Some(t) = self.tickets.get_mut(&ticket_id) {
            t.rating_id = Some(id);
        }
        Ok(id)
    }

    // ----------------------------------------------------------------------------- users

    /// Creates a user; 422 on a duplicate email or external id.
    pub fn create_user(&mut self, actor: Actor, input: UserInput) -> Result<u64, ApiError> {
        let name = input
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("name", "BlankValue", "Name: is too short (minimum one character)"))?;
        if let Some(e) = &input.email {
            if !e.contains('@') || e.contains(char::is_whitespace) {
                return Err(ApiError::invalid(
                    "email",
                    "InvalidValue",
                    format!("Email: {e} is not properly formatted"),
                ));
            }
            if self.user_by_email(e).is_some() {
                return Err(ApiError::invalid(
                    "email",
                    "DuplicateValue",
                    format!("Email: {e} is already being used by another user"),
                ));
            }
        }
        if input.external_id.as_deref().is_some_and(|x| self.user_by_external_id(x).is_some()) {
            return Err(ApiError::invalid("external_id", "DuplicateValue", "External: has already been taken"));
        }
        let role = input.role.clone().unwrap_or_else(|| "end-user".into());
        if !["end-user", "agent", "admin"].contains(&role.as_str()) {
            return Err(ApiError::invalid("role", "InvalidValue", "Role: is invalid"));
        }
        if input.organization_id.is_some_and(|o| !self.orgs.contains_key(&o)) {
            return Err(ApiError::invalid("organization_id", "InvalidValue", "Organization: is invalid"));
        }
        let now = self.now();
        let id = self.new_id();
        let u = UserRec {
            id,
            name,
            email: input.email.as_ref().map(|e| e.trim().to_lowercase()),
            secondary_emails: Vec::new(),
            role,
            external_id: input.external_id.clone(),
            organization_id: input.organization_id,
            phone: input.phone.clone(),
            tags: input.tags.as_deref().map(normalize_tags).unwrap_or_default(),
            user_fields: self.known_fields(&self.user_fields, input.user_fields.as_ref()),
            created_at: now,
            updated_at: now,
        };
        self.put_user(u.clone());
        self.queue_user_events(actor, None, &u);
        Ok(id)
    }

    fn known_fields(&self, defs: &[FieldRec], input: Option<&BTreeMap<String, Value>>) -> BTreeMap<String, Value> {
        input
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| defs.iter().any(|d| d.key.as_deref() == Some(k.as_str())))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Updates a user (`PUT /users/{id}`): an email adds a secondary identity.
    pub fn update_user(&mut self, actor: Actor, id: u64, input: UserInput) -> Result<(), ApiError> {
        let before = self.users.get(&id).cloned().ok_or_else(ApiError::not_found)?;
        let mut u = before.clone();
        if let Some(n) = input.name.filter(|n| !n.trim().is_empty()) {
            u.name = n;
        }
        if let Some(e) = input.email.map(|e| e.trim().to_lowercase()) {
            if u.email.is_none() {
                u.email = Some(e);
            } else if u.email.as_deref() != Some(e.as_str()) && !u.secondary_emails.contains(&e) {
                if self.user_by_email(&e).is_some_and(|o| o.id != id) {
                    return Err(ApiError::invalid(
                        "email",
                        "DuplicateValue",
                        format!("Email: {e} is already being used by another user"),
                    ));
                }
                u.secondary_emails.push(e);
            }
        }
        if let Some(x) = input.external_id {
            if self.user_by_external_id(&x).is_some_and(|o| o.id != id) {
                return Err(ApiError::invalid("external_id", "DuplicateValue", "External: has already been taken"));
            }
            u.external_id = Some(x);
        }
        if let Some(p) = input.phone {
            u.phone = Some(p);
        }
        if let Some(o) = input.organization_id {
            if !self.orgs.contains_key(&o) {
                return Err(ApiError::invalid("organization_id", "InvalidValue", "Organization: is invalid"));
            }
            u.organization_id = Some(o);
        }
        if let Some(r) = input.role {
            u.role = r;
        }
        if let Some(t) = input.tags {
            u.tags = normalize_tags(&t);
        }
        let known = self.known_fields(&self.user_fields, input.user_fields.as_ref());
        u.user_fields.extend(known);
        if u != before {
            u.updated_at = self.now();
        }
        self.put_user(u.clone());
        self.queue_user_events(actor, Some(&before), &u);
        Ok(())
    }

    /// `create_or_update`: matched on email or external id. Returns (id, created).
    pub fn upsert_user(&mut self, actor: Actor, input: UserInput) -> Result<(u64, bool), ApiError> {
        let matched = input
            .external_id
            .as_deref()
            .and_then(|x| self.user_by_external_id(x))
            .or_else(|| input.email.as_deref().and_then(|e| self.user_by_email(e)))
            .map(|u| u.id);
        match matched {
            Some(id) => self.update_user(actor, id, input).map(|()| (id, false)),
            None => self.create_user(actor, input).map(|id| (id, true)),
        }
    }

    // ----------------------------------------------------------------------------- orgs

    /// `create_or_update`: matched on id or external id only. Returns (id, created).
    pub fn upsert_org(&mut self, actor: Actor, input: OrgInput) -> Result<(u64, bool), ApiError> {
        let matched = input.id.filter(|i| self.orgs.contains_key(i)).or_else(|| {
            input
                .external_id
                .as_deref()
                .and_then(|x| {
                    self.orgs.values().find(|o| o.external_id.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(x)))
                })
                .map(|o| o.id)
        });
        let now = self.now();
        if let Some(name) = &input.name
            && self.orgs.values().any(|o| o.name.eq_ignore_ascii_case(name) && Some(o.id) != matched)
        {
            return Err(ApiError::invalid("name", "DuplicateValue", "Name: has already been taken"));
        }
        let known = self.known_fields(&self.org_fields, input.organization_fields.as_ref());
        let (before, mut o, created) = match matched {
            Some(id) => {
                let b = self.orgs.get(&id).cloned().ok_or_else(ApiError::not_found)?;
                (Some(b.clone()), b, false)
            }
            None => {
                let name = input
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| ApiError::invalid("name", "BlankValue", "Name: cannot be blank"))?;
                let id = self.new_id();
                let o = OrgRec {
                    id,
                    name,
                    external_id: None,
                    domain_names: Vec::new(),
                    tags: Vec::new(),
                    organization_fields: BTreeMap::new(),
                    group_id: None,
                    created_at: now,
                    updated_at: now,
                };
                (None, o, true)
            }
        };
        if let Some(n) = input.name {
            o.name = n;
        }
        if let Some(x) = input.external_id {
            o.external_id = Some(x);
        }
        if let Some(d) = input.domain_names {
            o.domain_names = d;
        }
        if let Some(t) = input.tags {
            o.tags = normalize_tags(&t);
        }
        if let Some(g) = input.group_id {
            o.group_id = Some(g);
        }
        o.organization_fields.extend(known);
        if before.as_ref() != Some(&o) {
            o.updated_at = now;
        }
        self.orgs.insert(o.id, o.clone());
        self.queue_org_events(actor, before.as_ref(), &o);
        Ok((o.id, created))
    }

    // ----------------------------------------------------------------------------- jobs

    /// Stores a job that reports `working` once, then `completed` with `results`.
    pub fn new_job(&mut self, job_type: &str, results: Vec<Value>) -> String {
        let id = format!("V3-{}", uuid::Uuid::new_v4().simple());
        let total = results.len();
        let done = json!({
            "id": id,
            "url": format!("{}/api/v2/job_statuses/{id}.json", self.base),
            "job_type": job_type,
            "status": "completed",
            "total": total,
            "progress": total,
            "message": format!("Completed at {}", iso(self.now())),
            "results": results,
        });
        self.jobs.insert(id.clone(), JobRec { done, polls_left: 1 });
        id
    }

    /// The job's current `job_status` (advancing it by one poll when `poll`).
    pub fn job_json(&mut self, id: &str, poll: bool) -> Option<Value> {
        let job = self.jobs.get_mut(id)?;
        if job.polls_left == 0 {
            return Some(job.done.clone());
        }
        let mut v = job.done.clone();
        if poll {
            job.polls_left -= 1;
        }
        if let Some(o) = v.as_object_mut() {
            o.insert("status".into(), json!(if poll { "working" } else { "queued" }));
            o.insert("progress".into(), json!(0));
            o.insert("message".into(), Value::Null);
            o.insert("results".into(), Value::Null);
        }
        Some(v)
    }

    // ----------------------------------------------------------------------------- events

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

    fn ticket_event(&self, t: &TicketRec, actor: Actor, kind: &str, event: Value) -> OutEvent {
        OutEvent::Subscribed {
            event_type: format!("ticket.{kind}"),
            subject: format!("zen:ticket:{}", t.id),
            detail: self.ticket_detail(t, actor),
            event,
            version: "2022-11-06",
        }
    }

    fn queue_ticket_events(
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

    fn queue_user_events(&mut self, actor: Actor, before: Option<&UserRec>, u: &UserRec) {
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

    fn queue_org_events(&mut self, actor: Actor, before: Option<&OrgRec>, o: &OrgRec) {
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

/// The comments a merge adds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeComments {
    /// Comment on the target (default: Zendesk's text).
    pub target_comment: Option<String>,
    /// Comment on each source (default: Zendesk's text).
    pub source_comment: Option<String>,
    /// Target comment public.
    pub target_public: bool,
    /// Source comments public.
    pub source_public: bool,
}

/// How a tag call changes the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOp {
    /// PUT: add.
    Add,
    /// POST: replace.
    Set,
    /// DELETE: remove.
    Remove,
}

fn bodies(text: Option<String>, html: Option<String>) -> (String, String) {
    match (text, html) {
        (_, Some(h)) => (strip_tags(&h), h),
        (Some(t), None) => {
            let html = format!("<div class=\"zd-comment\" dir=\"auto\"><p>{}</p></div>", escape_html(&t));
            (t, html)
        }
        (None, None) => (String::new(), String::new()),
    }
}

fn track_assignment(t: &mut TicketRec, old_group: Option<u64>, old_assignee: Option<u64>, now: i64) {
    if t.group_id.is_some() && t.group_id != old_group {
        t.metrics.group_stations += 1;
    }
    if t.assignee_id.is_some() && t.assignee_id != old_assignee {
        t.metrics.assignee_stations += 1;
        t.metrics.initially_assigned_at.get_or_insert(now);
        t.metrics.assigned_at = Some(now);
    }
}

fn set_status(t: &mut TicketRec, new: &str, now: i64) {
    let old = t.status.clone();
    if old == new {
        return;
    }
    if old == "hold"
        && let Some(since) = t.metrics.hold_since.take()
    {
        t.metrics.on_hold_minutes += (now - since) / 60;
    }
    if new == "hold" {
        t.metrics.hold_since = Some(now);
    }
    if new == "solved" {
        t.metrics.solved_at = Some(now);
        t.metrics.first_solved_at.get_or_insert(now);
    }
    if old == "solved" && new != "closed" {
        t.metrics.reopens += 1;
        t.metrics.solved_at = None;
    }
    if new == "closed" && t.metrics.solved_at.is_none() {
        t.metrics.solved_at = Some(now);
        t.metrics.first_solved_at.get_or_insert(now);
    }
    t.status = new.to_string();
    t.updated_at = now;
}

fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

fn external_key(external_id: &str) -> String {
    format!("external:{}", external_id.to_lowercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(email: &str, external_id: Option<&str>) -> UserInput {
        UserInput {
            name: Some("Ada".into()),
            email: Some(email.into()),
            external_id: external_id.map(str::to_string),
            ..UserInput::default()
        }
    }

    #[test]
    fn the_user_index_follows_creates_email_changes_upserts_and_deletes() {
        let mut st = State::new("https://x.zendesk.com".into(), "bot@example.test");
        let actor = Actor { user_id: st.api_user_id, api: true };
        assert_eq!(st.user_by_email(" BOT@example.test").map(|u| u.id), Some(st.api_user_id));

        let id = st.create_user(actor, input("Ada@Example.test", Some("IC-1"))).unwrap();
        assert_eq!(st.user_by_email("ada@example.test").map(|u| u.id), Some(id));
        assert_eq!(st.user_by_external_id("ic-1").map(|u| u.id), Some(id));
        assert!(st.create_user(actor, input("ada@example.test", None)).is_err(), "duplicate email");
        assert!(st.create_user(actor, input("other@example.test", Some("ic-1"))).is_err(), "duplicate external id");

        // A new email is a secondary identity: both find the user. A new external id replaces the old.
        st.update_user(actor, id, UserInput { email: Some("ada2@example.test".into()), ..UserInput::default() })
            .unwrap();
        st.update_user(actor, id, UserInput { external_id: Some("IC-2".into()), ..UserInput::default() }).unwrap();
        assert_eq!(st.user_by_email("ada2@example.test").map(|u| u.id), Some(id));
        assert_eq!(st.user_by_email("ada@example.test").map(|u| u.id), Some(id));
        assert!(st.user_by_external_id("IC-1").is_none());
        assert_eq!(st.upsert_user(actor, input("ada2@example.test", None)).unwrap(), (id, false));

        assert!(st.remove_user(id).is_some());
        assert!(st.user_by_email("ada@example.test").is_none());
        assert!(st.user_by_external_id("IC-2").is_none());
        let (again, created) = st.upsert_user(actor, input("ada@example.test", Some("IC-2"))).unwrap();
        assert!(created && again != id);
    }
}
