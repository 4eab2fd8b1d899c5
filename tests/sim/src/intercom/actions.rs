//! State changes shared by the REST handlers and the admin API, with the webhooks each one
//! emits. `via_api` marks changes made through the REST API (parts get the app's
//! `app_package_code`, as real Intercom sets it for API-created parts).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::state::{AppliedTag, AuthorRef, Company, Contact, Conversation, Part, PartsView, Rating, Source, State};
use super::{ApiError, Events};

/// Who writes a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    /// A teammate.
    Admin(String),
    /// A contact.
    Contact(String),
}

/// A new assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum AssignTo {
    /// An admin (`"0"` unassigns).
    Admin(String),
    /// A team (`"0"` unassigns).
    Team(String),
}

/// A state change through `/parts`.
#[derive(Debug, Clone, PartialEq)]
pub enum Manage {
    /// Close (optional message to the customer).
    Close(Option<String>),
    /// Reopen.
    Open,
    /// Snooze until.
    Snooze(i64),
    /// Assign.
    Assign(AssignTo, Option<String>),
}

/// A conversation to seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConversationSeed {
    /// The customer (must exist).
    pub contact_id: String,
    /// Opening message.
    pub body: String,
    /// Subject / title.
    pub subject: Option<String>,
    /// Creation time (default: now minus the part count).
    pub created_at: Option<i64>,
    /// Extra parts, alternating customer comments and replies from `admin_id`.
    pub extra_parts: usize,
    /// Admin for the extra replies and the assignment.
    pub admin_id: Option<String>,
    /// Assigned team.
    pub team_assignee_id: Option<String>,
    /// Priority (`none` by default).
    pub priority: Option<String>,
    /// Tag names (created when missing).
    pub tags: Vec<String>,
    /// Conversation attributes.
    pub custom_attributes: Map<String, Value>,
    /// `open` (default), `closed` or `snoozed`.
    pub state: Option<String>,
    /// History in the past (reporting): a reply from `admin_id` at this time.
    pub admin_reply_at: Option<i64>,
    /// History in the past: closed by `admin_id` at this time (state becomes `closed`).
    pub closed_at: Option<i64>,
    /// History in the past: the customer's rating.
    pub rating: Option<RatingSeed>,
}

/// A rating given in the past.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RatingSeed {
    /// 1-5.
    pub rating: u8,
    /// Remark.
    pub remark: Option<String>,
    /// When the customer answered.
    pub rated_at: i64,
}

fn conv_mut<'a>(st: &'a mut State, id: &str) -> Result<&'a mut Conversation, ApiError> {
    st.conversations.get_mut(id).ok_or_else(|| ApiError::not_found("Resource Not Found"))
}

fn require_admin(st: &State, id: &str) -> Result<(), ApiError> {
    if st.admins.contains_key(id) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))
    }
}

fn author_of(st: &State, writer: &Writer) -> AuthorRef {
    match writer {
        Writer::Admin(id) => {
            let a = st.admins.get(id);
            AuthorRef {
                kind: "admin".into(),
                id: id.clone(),
                name: a.map(|a| a.name.clone()),
                email: a.map(|a| a.email.clone()),
            }
        }
        Writer::Contact(id) => {
            let c = st.contacts.get(id);
            AuthorRef {
                kind: c.map(|c| c.role.clone()).unwrap_or_else(|| "user".into()),
                id: id.clone(),
                name: c.and_then(|c| c.name.clone()),
                email: c.and_then(|c| c.email.clone()),
            }
        }
    }
}

/// Appends a part and returns its id.
fn push_part(st: &mut State, conv_id: &str, mut part: Part, via_api: Option<&str>) -> Result<String, ApiError> {
    let id = st.numeric_id(1_000_000_000);
    part.id = id.clone();
    part.created_at = part.created_at.max(st.now());
    part.app_package_code = via_api.map(str::to_string);
    let conv = conv_mut(st, conv_id)?;
    conv.updated_at = part.created_at;
    conv.parts.push(part);
    Ok(id)
}

fn conversation_item(st: &State, conv_id: &str, part_ids: &[String]) -> Value {
    st.conversations.get(conv_id).map(|c| st.conversation_json(c, PartsView::Only(part_ids))).unwrap_or(Value::Null)
}

/// The conversation as reply/manage calls return it.
pub fn conversation_response(st: &State, conv_id: &str) -> Result<Value, ApiError> {
    st.conversations
        .get(conv_id)
        .map(|c| st.conversation_json(c, PartsView::Capped))
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))
}

/// A reply: admin comment (`conversation.admin.replied`), admin note
/// (`conversation.admin.noted`) or contact comment (`conversation.user.replied`).
pub fn reply(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    writer: Writer,
    note: bool,
    body: &str,
    via_api: Option<&str>,
) -> Result<String, ApiError> {
    reply_with_files(st, ev, conv_id, writer, note, body, via_api, Vec::new())
}

/// Like [`reply`], with files on the new part.
#[allow(clippy::too_many_arguments)]
pub fn reply_with_files(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    writer: Writer,
    note: bool,
    body: &str,
    via_api: Option<&str>,
    attachments: Vec<crate::intercom::state::PartFile>,
) -> Result<String, ApiError> {
    if !st.conversations.contains_key(conv_id) {
        return Err(ApiError::not_found("Resource Not Found"));
    }
    if body.trim().is_empty() {
        return Err(ApiError::invalid("Body is required"));
    }
    if let Writer::Admin(id) = &writer {
        require_admin(st, id)?;
    }
    let author = author_of(st, &writer);
    let part_type = if note { "note" } else { "comment" };
    let part =
        Part { part_type: part_type.into(), body: Some(body.to_string()), author, attachments, ..Part::default() };
    let part_id = push_part(st, conv_id, part, via_api)?;
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let topic = match (&writer, note) {
        (Writer::Admin(_), true) => "conversation.admin.noted",
        (Writer::Admin(_), false) => {
            conv.waiting_since = None;
            "conversation.admin.replied"
        }
        (Writer::Contact(_), _) => {
            // "The time a customer started waiting for a response": kept by a second message.
            conv.waiting_since = conv.waiting_since.or(Some(ts));
            if conv.state != "open" {
                conv.state = "open".into();
                conv.snoozed_until = None;
            }
            "conversation.user.replied"
        }
    };
    ev.push(topic, conversation_item(st, conv_id, std::slice::from_ref(&part_id)));
    Ok(part_id)
}

/// Close, open, snooze or assign.
pub fn manage(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    admin_id: &str,
    change: Manage,
    via_api: Option<&str>,
) -> Result<String, ApiError> {
    if !st.conversations.contains_key(conv_id) {
        return Err(ApiError::not_found("Resource Not Found"));
    }
    require_admin(st, admin_id)?;
    let author = author_of(st, &Writer::Admin(admin_id.to_string()));
    let (part, topic) = match &change {
        Manage::Close(body) => (
            Part { part_type: "close".into(), body: body.clone(), author, ..Part::default() },
            "conversation.admin.closed",
        ),
        Manage::Open => (Part { part_type: "open".into(), author, ..Part::default() }, "conversation.admin.opened"),
        Manage::Snooze(until) => {
            if *until <= st.now() {
                return Err(ApiError::invalid("snoozed_until must be in the future"));
            }
            (Part { part_type: "snoozed".into(), author, ..Part::default() }, "conversation.admin.snoozed")
        }
        Manage::Assign(to, body) => {
            let (kind, id) = match to {
                AssignTo::Admin(id) => ("admin", id),
                AssignTo::Team(id) => ("team", id),
            };
            let unassign = id == "0" || id.is_empty();
            if !unassign && kind == "admin" && !st.admins.contains_key(id) {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Assignee admin not found"));
            }
            if !unassign && kind == "team" && !st.teams.contains_key(id) {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "Team not found"));
            }
            let assigned =
                if unassign { ("nobody_admin".to_string(), "0".to_string()) } else { (kind.to_string(), id.clone()) };
            let part = Part {
                part_type: "assignment".into(),
                body: body.clone(),
                author,
                assigned_to: Some(assigned),
                ..Part::default()
            };
            (part, "conversation.admin.assigned")
        }
    };
    let part_id = push_part(st, conv_id, part, via_api)?;
    let conv = conv_mut(st, conv_id)?;
    match change {
        Manage::Close(_) => {
            conv.state = "closed".into();
            conv.snoozed_until = None;
        }
        Manage::Open => {
            conv.state = "open".into();
            conv.snoozed_until = None;
        }
        Manage::Snooze(until) => {
            conv.state = "snoozed".into();
            conv.snoozed_until = Some(until);
        }
        Manage::Assign(AssignTo::Admin(id), _) => {
            conv.admin_assignee_id = Some(id).filter(|i| i != "0" && !i.is_empty())
        }
        Manage::Assign(AssignTo::Team(id), _) => conv.team_assignee_id = Some(id).filter(|i| i != "0" && !i.is_empty()),
    }
    ev.push(topic, conversation_item(st, conv_id, std::slice::from_ref(&part_id)));
    Ok(part_id)
}

/// Sets the priority (`conversation.priority.updated`).
pub fn set_priority(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    admin_id: &str,
    priority: &str,
) -> Result<(), ApiError> {
    if !["none", "low", "medium", "high", "urgent"].contains(&priority) {
        return Err(ApiError::invalid(format!("priority must be none, low, medium, high or urgent, got {priority}")));
    }
    require_admin(st, admin_id)?;
    let author = author_of(st, &Writer::Admin(admin_id.to_string()));
    let part = Part { part_type: "priority_changed".into(), author, ..Part::default() };
    let part_id = push_part(st, conv_id, part, None)?;
    conv_mut(st, conv_id)?.priority = priority.to_string();
    ev.push("conversation.priority.updated", conversation_item(st, conv_id, &[part_id]));
    Ok(())
}

/// Tags a conversation; the newest part carries the tag in the
/// `conversation_part.tag.created` webhook. Returns the tag object.
pub fn tag_conversation(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    tag_id: &str,
    admin_id: &str,
) -> Result<Value, ApiError> {
    require_admin(st, admin_id)?;
    if !st.tags.contains_key(tag_id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let already = conv.tags.iter().any(|t| t.id == tag_id);
    let mut part_ids = Vec::new();
    if !already {
        conv.tags.push(AppliedTag { id: tag_id.to_string(), applied_at: ts, applied_by: Some(admin_id.to_string()) });
        conv.updated_at = ts;
        if let Some(last) = conv.parts.last_mut() {
            last.tag_ids.push(tag_id.to_string());
            part_ids.push(last.id.clone());
        }
    }
    let applied_at = conv.tags.iter().find(|t| t.id == tag_id).map(|t| t.applied_at).unwrap_or(ts);
    if !already {
        ev.push("conversation_part.tag.created", conversation_item(st, conv_id, &part_ids));
    }
    let mut tag = st.tag_json(tag_id);
    tag["applied_at"] = json!(applied_at);
    tag["applied_by"] = json!({"type": "admin", "id": admin_id});
    Ok(tag)
}

/// Removes a tag (no webhook topic exists for it). 404 `tag_not_found` when absent.
pub fn untag_conversation(st: &mut State, conv_id: &str, tag_id: &str, admin_id: &str) -> Result<Value, ApiError> {
    require_admin(st, admin_id)?;
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let before = conv.tags.len();
    conv.tags.retain(|t| t.id != tag_id);
    if conv.tags.len() == before {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    for p in &mut conv.parts {
        p.tag_ids.retain(|t| t != tag_id);
    }
    conv.updated_at = ts;
    Ok(st.tag_json(tag_id))
}

/// Finds or creates a tag by name; returns its id.
pub fn ensure_tag(st: &mut State, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name is required"));
    }
    if let Some(t) = st.tag_by_name(name) {
        return Ok(t.id.clone());
    }
    let id = st.numeric_id(9_000_000);
    st.tags.insert(id.clone(), super::state::Tag { id: id.clone(), name: name.to_string() });
    Ok(id)
}

/// A customer starts a conversation (`conversation.user.created`), or a seeded conversation
/// with history (no webhook for the seeded parts).
pub fn start_conversation(
    st: &mut State,
    ev: &mut Events,
    seed: ConversationSeed,
    emit: bool,
) -> Result<String, ApiError> {
    let contact = st.contacts.get(&seed.contact_id).cloned().ok_or_else(|| ApiError::not_found("User Not Found"))?;
    if let Some(a) = &seed.admin_id {
        require_admin(st, a)?;
    }
    let created = seed.created_at.unwrap_or_else(|| st.now() - seed.extra_parts as i64 - 1);
    let id = st.numeric_id(215_470_000_000_000);
    let source_id = st.numeric_id(3_000_000_000);
    let customer = author_of(st, &Writer::Contact(contact.id.clone()));
    let mut tags = Vec::new();
    for name in &seed.tags {
        let tag_id = ensure_tag(st, name)?;
        tags.push(AppliedTag { id: tag_id, applied_at: created, applied_by: seed.admin_id.clone() });
    }
    let mut parts = Vec::with_capacity(seed.extra_parts);
    let admin_author = seed.admin_id.as_ref().map(|a| author_of(st, &Writer::Admin(a.clone())));
    for i in 0..seed.extra_parts {
        let by_admin = i % 2 == 1 && admin_author.is_some();
        let author = if by_admin { admin_author.clone().unwrap_or_default() } else { customer.clone() };
        parts.push(Part {
            id: st.numeric_id(1_000_000_000),
            part_type: "comment".into(),
            body: Some(format!("<p>message {}</p>", i + 1)),
            created_at: created + 1 + i as i64,
            author,
            ..Part::default()
        });
    }
    if let (Some(at), Some(author)) = (seed.admin_reply_at, admin_author.clone()) {
        let id = st.numeric_id(1_000_000_000);
        parts.push(Part {
            id,
            part_type: "comment".into(),
            body: Some("<p>reply</p>".into()),
            created_at: at,
            author,
            ..Part::default()
        });
    }
    if let (Some(at), Some(author)) = (seed.closed_at, admin_author.clone()) {
        let id = st.numeric_id(1_000_000_000);
        parts.push(Part { id, part_type: "close".into(), created_at: at, author, ..Part::default() });
    }
    parts.sort_by_key(|p| p.created_at);
    let rating = seed.rating.as_ref().map(|r| Rating {
        rating: r.rating,
        remark: r.remark.clone(),
        created_at: seed.closed_at.unwrap_or(r.rated_at),
        updated_at: r.rated_at,
        contact_id: contact.id.clone(),
        teammate_id: seed.admin_id.clone(),
    });
    let mut updated = parts.last().map(|p| p.created_at).unwrap_or(created);
    if let Some(r) = &rating {
        updated = updated.max(r.updated_at);
    }
    let state = if seed.closed_at.is_some() { Some("closed".to_string()) } else { seed.state.clone() };
    // The first customer message after the last admin comment (null when an admin spoke last).
    let mut waiting_since = Some(created);
    for p in parts.iter().filter(|p| p.part_type == "comment") {
        waiting_since = if p.author.kind == "admin" { None } else { waiting_since.or(Some(p.created_at)) };
    }
    let conv = Conversation {
        id: id.clone(),
        title: seed.subject.clone(),
        created_at: created,
        updated_at: updated,
        waiting_since,
        snoozed_until: None,
        state: state.unwrap_or_else(|| "open".into()),
        read: false,
        priority: seed.priority.clone().unwrap_or_else(|| "none".into()),
        admin_assignee_id: None,
        team_assignee_id: seed.team_assignee_id.clone(),
        contact_ids: vec![contact.id.clone()],
        tags,
        custom_attributes: seed.custom_attributes.clone(),
        source: Source {
            id: source_id,
            kind: "conversation".into(),
            delivered_as: "customer_initiated".into(),
            subject: seed.subject.clone().unwrap_or_default(),
            body: seed.body.clone(),
            author: customer,
        },
        parts,
        rating,
    };
    st.conversations.insert(id.clone(), conv);
    if emit {
        ev.push("conversation.user.created", conversation_item(st, &id, &[]));
    }
    Ok(id)
}

/// The customer rates the conversation (`conversation.rating.added`).
pub fn rate(
    st: &mut State,
    ev: &mut Events,
    conv_id: &str,
    rating: u8,
    remark: Option<String>,
) -> Result<(), ApiError> {
    if !(1..=5).contains(&rating) {
        return Err(ApiError::invalid("rating must be 1-5"));
    }
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    let contact_id = conv.contact_ids.first().cloned().unwrap_or_default();
    let requested = conv.parts.iter().rev().find(|p| p.part_type == "close").map(|p| p.created_at).unwrap_or(ts);
    conv.rating = Some(Rating {
        rating,
        remark,
        created_at: requested,
        updated_at: ts,
        contact_id,
        teammate_id: conv.admin_assignee_id.clone(),
    });
    conv.updated_at = ts;
    ev.push("conversation.rating.added", conversation_item(st, conv_id, &[]));
    Ok(())
}

fn str_field(body: &Value, key: &str) -> Option<String> {
    match body.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn conflict_with(st: &State, email: Option<&str>, external_id: Option<&str>, except: Option<&str>) -> Option<String> {
    st.contacts
        .values()
        .filter(|c| Some(c.id.as_str()) != except)
        .find(|c| {
            let same_email = matches!((email, c.email.as_deref()), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
            let same_ext = matches!((external_id, c.external_id.as_deref()), (Some(a), Some(b)) if a == b);
            same_email || same_ext
        })
        .map(|c| c.id.clone())
}

fn conflict_error(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!("A contact matching those details already exists with id={id}"),
    )
}

fn apply_contact_fields(c: &mut Contact, body: &Value) {
    if let Some(v) = str_field(body, "role") {
        c.role = v;
    }
    for (key, slot) in [
        ("email", &mut c.email),
        ("external_id", &mut c.external_id),
        ("phone", &mut c.phone),
        ("name", &mut c.name),
        ("owner_id", &mut c.owner_id),
    ] {
        match body.get(key) {
            Some(Value::Null) => *slot = None,
            Some(_) => *slot = str_field(body, key),
            None => {}
        }
    }
    for (key, slot) in [("signed_up_at", &mut c.signed_up_at), ("last_seen_at", &mut c.last_seen_at)] {
        if let Some(v) = body.get(key) {
            *slot = v.as_i64();
        }
    }
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for (k, v) in attrs {
            c.custom_attributes.insert(k.clone(), v.clone());
        }
    }
}

fn validate_timestamps(body: &Value) -> Result<(), ApiError> {
    for key in ["signed_up_at", "last_seen_at", "remote_created_at"] {
        if let Some(v) = body.get(key)
            && !v.is_null()
            && v.as_i64().is_none_or(|n| n >= 100_000_000_000)
        {
            return Err(ApiError::invalid(format!("{key} must be a Unix timestamp in seconds")));
        }
    }
    Ok(())
}

fn contact_topic(c: &Contact, what: &str) -> String {
    format!("contact.{}.{what}", if c.role == "lead" { "lead" } else { "user" })
}

/// `POST /contacts` (409 on a duplicate email or external id).
pub fn create_contact(st: &mut State, ev: &mut Events, body: &Value) -> Result<Value, ApiError> {
    let email = str_field(body, "email");
    let external_id = str_field(body, "external_id");
    if email.is_none() && external_id.is_none() && str_field(body, "role").is_none() {
        return Err(ApiError::invalid("Email, external_id or role is required"));
    }
    validate_timestamps(body)?;
    if let Some(existing) = conflict_with(st, email.as_deref(), external_id.as_deref(), None) {
        return Err(conflict_error(&existing));
    }
    let ts = st.now();
    let mut c = Contact { id: st.hex_id(), role: "user".into(), created_at: ts, updated_at: ts, ..Contact::default() };
    apply_contact_fields(&mut c, body);
    if c.role != "lead" && c.role != "user" {
        return Err(ApiError::invalid("role must be user or lead"));
    }
    let out = st.contact_json(&c, false);
    ev.push(&contact_topic(&c, "created"), st.contact_json(&c, true));
    st.contacts.insert(c.id.clone(), c);
    Ok(out)
}

/// `PUT /contacts/{id}` (410 for merged contacts, 409 on a duplicate).
pub fn update_contact(st: &mut State, ev: &mut Events, id: &str, body: &Value) -> Result<Value, ApiError> {
    let id = live_contact(st, id)?;
    validate_timestamps(body)?;
    let email = str_field(body, "email");
    let external_id = str_field(body, "external_id");
    if let Some(existing) = conflict_with(st, email.as_deref(), external_id.as_deref(), Some(&id)) {
        return Err(conflict_error(&existing));
    }
    let ts = st.now();
    let c = st.contacts.get_mut(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let before = c.clone();
    apply_contact_fields(c, body);
    if *c != before {
        c.updated_at = ts.max(before.updated_at);
    }
    let c = c.clone();
    if c != before {
        ev.push(&contact_topic(&c, "updated"), st.contact_json(&c, true));
        if c.email != before.email {
            ev.push("contact.email.updated", st.contact_json(&c, true));
        }
    }
    Ok(st.contact_json(&c, false))
}

/// Deletes a contact (`DELETE /contacts/{id}` or a teammate): `contact.deleted` carries only
/// identifying fields.
pub fn delete_contact(st: &mut State, ev: &mut Events, id: &str) -> Result<Value, ApiError> {
    let id = live_contact(st, id)?;
    let c = st.contacts.remove(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let item = json!({"type": "contact", "id": c.id, "external_id": c.external_id, "role": c.role});
    ev.push("contact.deleted", item);
    Ok(json!({"id": c.id, "external_id": c.external_id, "type": "contact", "deleted": true}))
}

/// Resolves a contact id: 410 with a canonical `Link` for merged ones, 404 when unknown.
pub fn live_contact(st: &State, id: &str) -> Result<String, ApiError> {
    if st.contacts.contains_key(id) {
        return Ok(id.to_string());
    }
    match st.canonical_contact(id) {
        Some(canonical) => {
            let mut e = ApiError::new(
                StatusCode::GONE,
                "contact_merged",
                "This contact has been merged. See the 'Link' header for the canonical contact.",
            );
            e.link = Some(format!("</contacts/{canonical}>; rel=\"canonical\""));
            Err(e)
        }
        None => Err(ApiError::not_found("User Not Found")),
    }
}

/// Merges `from` (a lead) into `into` (a user): tags, companies and conversations move;
/// `contact.merged` fires with the surviving contact.
pub fn merge_contacts(st: &mut State, ev: &mut Events, from: &str, into: &str) -> Result<Value, ApiError> {
    let from_c = st.contacts.get(from).cloned().ok_or_else(|| ApiError::not_found("User Not Found"))?;
    if !st.contacts.contains_key(into) || from == into {
        return Err(ApiError::not_found("User Not Found"));
    }
    st.contacts.remove(from);
    st.merged.insert(from.to_string(), into.to_string());
    let ts = st.now();
    if let Some(target) = st.contacts.get_mut(into) {
        for t in from_c.tag_ids {
            if !target.tag_ids.contains(&t) {
                target.tag_ids.push(t);
            }
        }
        for co in from_c.company_ids {
            if !target.company_ids.contains(&co) {
                target.company_ids.push(co);
            }
        }
        target.updated_at = ts;
    }
    for conv in st.conversations.values_mut() {
        for c in &mut conv.contact_ids {
            if c == from {
                *c = into.to_string();
            }
        }
        if conv.source.author.id == from {
            conv.source.author.id = into.to_string();
        }
    }
    for seg in st.segments.values_mut() {
        seg.contact_ids.retain(|c| c != from);
    }
    let target = st.contacts.get(into).cloned().ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let mut item = st.contact_json(&target, true);
    item["merged_from"] = json!({"type": "contact", "id": from});
    ev.push("contact.merged", item);
    Ok(st.contact_json(&target, false))
}

/// Tags or untags a contact (`contact.<role>.tag.created|deleted`).
pub fn contact_tag(
    st: &mut State,
    ev: &mut Events,
    contact_id: &str,
    tag_id: &str,
    add: bool,
) -> Result<Value, ApiError> {
    let contact_id = live_contact(st, contact_id)?;
    if !st.tags.contains_key(tag_id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    let c = st.contacts.get_mut(&contact_id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
    let had = c.tag_ids.iter().any(|t| t == tag_id);
    let changed = if add && !had {
        c.tag_ids.push(tag_id.to_string());
        true
    } else if !add && had {
        c.tag_ids.retain(|t| t != tag_id);
        true
    } else {
        false
    };
    if !add && !had {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "tag_not_found", "Tag not found"));
    }
    let c = c.clone();
    if changed {
        let what = if add { "tag.created" } else { "tag.deleted" };
        let item = json!({"type": "contact_tag", "created_at": st.now(), "tag": st.tag_json(tag_id),
            "contact": {"type": "contact", "id": c.id, "external_id": c.external_id}});
        ev.push(&contact_topic(&c, what), item);
    }
    Ok(st.tag_json(tag_id))
}

/// Attaches a contact to a company (by Intercom company id).
pub fn attach_company(st: &mut State, contact_id: &str, company_id: &str) -> Result<Value, ApiError> {
    let contact_id = live_contact(st, contact_id)?;
    if !st.companies.contains_key(company_id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"));
    }
    if let Some(c) = st.contacts.get_mut(&contact_id)
        && !c.company_ids.iter().any(|x| x == company_id)
    {
        c.company_ids.push(company_id.to_string());
    }
    let co = st.companies.get(company_id).cloned().ok_or_else(|| ApiError::not_found("Company Not Found"))?;
    Ok(st.company_json(&co, false))
}

fn check_custom_attributes(st: &State, model: &str, body: &Value) -> Result<(), ApiError> {
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for k in attrs.keys() {
            if !st.data_attributes.iter().any(|a| a.model == model && a.custom && a.name == *k) {
                return Err(ApiError::invalid(format!("Custom attribute '{k}' does not exist")));
            }
        }
    }
    Ok(())
}

/// `POST /companies`: upsert keyed by `company_id` (`company.created` / `company.updated`).
pub fn upsert_company(st: &mut State, ev: &mut Events, body: &Value) -> Result<Value, ApiError> {
    let company_id = str_field(body, "company_id").filter(|s| !s.is_empty());
    let name = str_field(body, "name");
    let Some(company_id) = company_id.or_else(|| name.clone()) else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "company_id or name is required"));
    };
    validate_timestamps(body)?;
    check_custom_attributes(st, "company", body)?;
    if let Some(plan) = body.get("plan")
        && !plan.is_string()
        && !plan.is_null()
    {
        return Err(ApiError::invalid("plan must be a string"));
    }
    let ts = st.now();
    let existing = st.companies.values().find(|c| c.company_id == company_id).map(|c| c.id.clone());
    let created = existing.is_none();
    let id = existing.unwrap_or_else(|| st.hex_id());
    let mut c = st.companies.get(&id).cloned().unwrap_or(Company {
        id: id.clone(),
        company_id: company_id.clone(),
        created_at: ts,
        ..Company::default()
    });
    if let Some(n) = name {
        c.name = Some(n);
    }
    if let Some(p) = str_field(body, "plan") {
        c.plan = Some(p);
    }
    for (key, slot) in [("website", &mut c.website), ("industry", &mut c.industry)] {
        if let Some(v) = str_field(body, key) {
            *slot = Some(v);
        }
    }
    if let Some(n) = body.get("size").and_then(Value::as_f64) {
        c.size = Some(n as i64);
    }
    if let Some(n) = body.get("monthly_spend").and_then(Value::as_f64) {
        c.monthly_spend = n.trunc() as i64;
    }
    if let Some(n) = body.get("remote_created_at").and_then(Value::as_i64) {
        c.remote_created_at = Some(n);
    }
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for (k, v) in attrs {
            c.custom_attributes.insert(k.clone(), v.clone());
        }
    }
    c.updated_at = ts;
    st.companies.insert(id, c.clone());
    ev.push(if created { "company.created" } else { "company.updated" }, st.company_json(&c, true));
    Ok(st.company_json(&c, false))
}

/// `PUT /conversations/{id}`: `read`, `title`, `custom_attributes` (which must exist).
pub fn update_conversation(st: &mut State, conv_id: &str, body: &Value) -> Result<Value, ApiError> {
    let known: Vec<String> =
        st.conversation_attributes.iter().filter(|a| !a.archived).map(|a| a.name.clone()).collect();
    if let Some(attrs) = body.get("custom_attributes") {
        let Some(attrs) = attrs.as_object() else {
            return Err(ApiError::invalid("custom_attributes must be an object"));
        };
        if let Some(k) = attrs.keys().find(|k| !known.contains(k)) {
            return Err(ApiError::invalid(format!("Conversation attribute '{k}' does not exist")));
        }
    }
    let ts = st.now();
    let conv = conv_mut(st, conv_id)?;
    if let Some(read) = body.get("read").and_then(Value::as_bool) {
        conv.read = read;
    }
    if let Some(title) = body.get("title").and_then(Value::as_str) {
        conv.title = Some(title.to_string());
    }
    if let Some(Value::Object(attrs)) = body.get("custom_attributes") {
        for (k, v) in attrs {
            conv.custom_attributes.insert(k.clone(), v.clone());
        }
    }
    conv.updated_at = ts;
    conversation_response(st, conv_id)
}
