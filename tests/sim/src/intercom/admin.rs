//! `/__admin` routes (JSON, unauthenticated, not recorded) and the same actions as in-process
//! methods on [`IntercomSim`]: seed data, act as a customer or teammate, inspect, set faults.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::actions::{self, AssignTo, ConversationSeed, Manage, Writer};
use super::state::{self, Admin, Company, Contact, ConversationAttribute, DataAttribute, PartsView, Segment, Team};
use super::{ApiError, IntercomSim, Shared};
use crate::common::{Faults, lock};

type Sh = State<Arc<Shared>>;
type AdminResult = Result<Json<Value>, ApiError>;

/// Admin routes, mounted under `/__admin`.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/state", get(get_state))
        .route("/reset", post(reset))
        .route("/seed", post(seed_bulk))
        .route("/admins", post(seed_admin))
        .route("/teams", post(seed_team))
        .route("/tags", post(seed_tag))
        .route("/segments", post(seed_segment))
        .route("/contacts", post(seed_contact))
        .route("/companies", post(seed_company))
        .route("/data_attributes", post(seed_data_attribute))
        .route("/conversation_attributes", post(seed_conversation_attribute))
        .route("/conversations", post(seed_conversation))
        .route("/conversations/start", post(start_conversation))
        .route("/conversations/{id}", get(get_conversation))
        .route("/conversations/{id}/customer_reply", post(customer_reply))
        .route("/conversations/{id}/admin_reply", post(admin_reply))
        .route("/conversations/{id}/note", post(admin_note))
        .route("/conversations/{id}/tag", post(admin_tag))
        .route("/conversations/{id}/assign", post(admin_assign))
        .route("/conversations/{id}/priority", post(admin_priority))
        .route("/conversations/{id}/close", post(admin_close))
        .route("/conversations/{id}/open", post(admin_open))
        .route("/conversations/{id}/rate", post(customer_rate))
        .route("/contacts/merge", post(merge))
        .route("/contacts/{id}", axum::routing::patch(edit_contact))
        .route("/exchanges", get(exchanges).delete(clear_exchanges))
        .route("/webhooks", get(webhooks))
        .route("/notifications", get(notifications))
        .route("/faults", get(get_faults).put(set_faults))
        .route("/rate_limit", put(set_rate_limit))
        .route("/webhook_target", put(set_webhook_target))
        .route("/clock/advance", post(advance_clock))
}

fn parse<T: for<'de> Deserialize<'de>>(raw: &Bytes) -> Result<T, ApiError> {
    let raw: &[u8] = if raw.is_empty() { b"{}" } else { raw };
    serde_json::from_slice(raw).map_err(|e| ApiError::invalid(format!("invalid admin body: {e}")))
}

// ---------- seeding (shared by HTTP and in-process) ----------

/// The keys two contacts may not share: the email (case-insensitive) and the external id.
fn contact_keys(c: &Contact) -> Vec<String> {
    let email = c.email.as_deref().map(|e| format!("email:{}", e.to_ascii_lowercase()));
    let external = c.external_id.as_deref().map(|x| format!("external:{x}"));
    email.into_iter().chain(external).collect()
}

impl Shared {
    fn seed_admin(&self, mut a: Admin) -> String {
        self.mutate(|st, _| {
            if a.id.is_empty() {
                a.id = st.numeric_id(800_000);
            }
            let id = a.id.clone();
            st.admins.insert(id.clone(), a);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_team(&self, mut t: Team) -> String {
        self.mutate(|st, _| {
            if t.id.is_empty() {
                t.id = st.numeric_id(5_000_000);
            }
            for a in &t.admin_ids {
                if let Some(admin) = st.admins.get_mut(a)
                    && !admin.team_ids.contains(&t.id)
                {
                    admin.team_ids.push(t.id.clone());
                }
            }
            let id = t.id.clone();
            st.teams.insert(id.clone(), t);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_tag(&self, name: &str) -> Result<String, ApiError> {
        self.mutate(|st, _| actions::ensure_tag(st, name))
    }

    fn seed_segment(&self, mut s: Segment) -> String {
        self.mutate(|st, _| {
            if s.id.is_empty() {
                s.id = st.hex_id();
            }
            if s.person_type.is_empty() {
                s.person_type = "user".into();
            }
            if s.created_at == 0 {
                s.created_at = st.now();
            }
            let id = s.id.clone();
            st.segments.insert(id.clone(), s);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_contact(&self, c: Contact) -> Result<String, ApiError> {
        self.seed_contacts(vec![c]).map(|mut ids| ids.remove(0))
    }

    /// Adds contacts in one state change; a duplicate email or external id is a 409 (the
    /// contacts before it stay). The existing keys are collected once, so seeding N contacts is
    /// linear, not quadratic.
    pub(super) fn seed_contacts(&self, contacts: Vec<Contact>) -> Result<Vec<String>, ApiError> {
        self.mutate(|st, _| {
            let mut taken: std::collections::HashMap<String, String> = std::collections::HashMap::new();
            for o in st.contacts.values() {
                for key in contact_keys(o) {
                    taken.insert(key, o.id.clone());
                }
            }
            let mut ids = Vec::with_capacity(contacts.len());
            for mut c in contacts {
                if let Some(other) = contact_keys(&c).iter().find_map(|k| taken.get(k)) {
                    return Err(ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "conflict",
                        format!("A contact matching those details already exists with id={other}"),
                    ));
                }
                if c.id.is_empty() {
                    c.id = st.hex_id();
                }
                if c.role.is_empty() {
                    c.role = "user".into();
                }
                if c.created_at == 0 {
                    c.created_at = st.now();
                }
                c.updated_at = c.updated_at.max(c.created_at);
                for key in contact_keys(&c) {
                    taken.insert(key, c.id.clone());
                }
                ids.push(c.id.clone());
                st.contacts.insert(c.id.clone(), c);
            }
            Ok(ids)
        })
    }

    fn seed_company(&self, mut c: Company) -> String {
        self.mutate(|st, _| {
            if c.id.is_empty() {
                c.id = st.hex_id();
            }
            if c.company_id.is_empty() {
                c.company_id = c.id.clone();
            }
            if c.created_at == 0 {
                c.created_at = st.now();
            }
            c.updated_at = c.updated_at.max(c.created_at);
            let id = c.id.clone();
            st.companies.insert(id.clone(), c);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_data_attribute(&self, mut a: DataAttribute) {
        let _ = self.mutate(|st, _| {
            if a.id == 0 {
                a.id = st.numeric_id(0).parse().unwrap_or(0);
            }
            if a.data_type.is_empty() {
                a.data_type = "string".into();
            }
            st.data_attributes.retain(|x| !(x.model == a.model && x.name == a.name));
            st.data_attributes.push(a);
            Ok(())
        });
    }

    fn seed_conversation_attribute(&self, mut a: ConversationAttribute) {
        let _ = self.mutate(|st, _| {
            if a.id == 0 {
                a.id = st.numeric_id(0).parse().unwrap_or(0);
            }
            if a.data_type.is_empty() {
                a.data_type = "string".into();
            }
            if a.created_at == 0 {
                a.created_at = st.now();
            }
            st.conversation_attributes.retain(|x| x.name != a.name);
            st.conversation_attributes.push(a);
            Ok(())
        });
    }
}

// ---------- HTTP handlers ----------

async fn get_state(State(sh): Sh) -> Json<Value> {
    Json(sh.read(|st| serde_json::to_value(st).unwrap_or(Value::Null)))
}

async fn reset(State(sh): Sh) -> Json<Value> {
    sh.reset();
    Json(json!({"ok": true}))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Bulk {
    admins: Vec<Admin>,
    teams: Vec<Team>,
    tags: Vec<String>,
    segments: Vec<Segment>,
    contacts: Vec<Contact>,
    companies: Vec<Company>,
    data_attributes: Vec<DataAttribute>,
    conversation_attributes: Vec<ConversationAttribute>,
    conversations: Vec<ConversationSeed>,
}

async fn seed_bulk(State(sh): Sh, raw: Bytes) -> AdminResult {
    let b: Bulk = parse(&raw)?;
    let admins: Vec<String> = b.admins.into_iter().map(|a| sh.seed_admin(a)).collect();
    let teams: Vec<String> = b.teams.into_iter().map(|t| sh.seed_team(t)).collect();
    let tags = b.tags.iter().map(|t| sh.seed_tag(t)).collect::<Result<Vec<_>, _>>()?;
    let companies: Vec<String> = b.companies.into_iter().map(|c| sh.seed_company(c)).collect();
    let contacts = sh.seed_contacts(b.contacts)?;
    let segments: Vec<String> = b.segments.into_iter().map(|s| sh.seed_segment(s)).collect();
    b.data_attributes.into_iter().for_each(|a| sh.seed_data_attribute(a));
    b.conversation_attributes.into_iter().for_each(|a| sh.seed_conversation_attribute(a));
    let conversations = b
        .conversations
        .into_iter()
        .map(|c| sh.mutate(|st, ev| actions::start_conversation(st, ev, c, false)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"admins": admins, "teams": teams, "tags": tags, "companies": companies, "contacts": contacts,
        "segments": segments, "conversations": conversations})))
}

async fn seed_admin(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_admin(parse(&raw)?)})))
}

async fn seed_team(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_team(parse(&raw)?)})))
}

async fn seed_tag(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        name: String,
    }
    let b: B = parse(&raw)?;
    Ok(Json(json!({"id": sh.seed_tag(&b.name)?})))
}

async fn seed_segment(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_segment(parse(&raw)?)})))
}

async fn seed_contact(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_contact(parse(&raw)?)?})))
}

async fn seed_company(State(sh): Sh, raw: Bytes) -> AdminResult {
    Ok(Json(json!({"id": sh.seed_company(parse(&raw)?)})))
}

async fn seed_data_attribute(State(sh): Sh, raw: Bytes) -> AdminResult {
    sh.seed_data_attribute(parse(&raw)?);
    Ok(Json(json!({"ok": true})))
}

async fn seed_conversation_attribute(State(sh): Sh, raw: Bytes) -> AdminResult {
    sh.seed_conversation_attribute(parse(&raw)?);
    Ok(Json(json!({"ok": true})))
}

async fn seed_conversation(State(sh): Sh, raw: Bytes) -> AdminResult {
    let seed: ConversationSeed = parse(&raw)?;
    Ok(Json(json!({"id": sh.mutate(|st, ev| actions::start_conversation(st, ev, seed, false))?})))
}

async fn start_conversation(State(sh): Sh, raw: Bytes) -> AdminResult {
    let seed: ConversationSeed = parse(&raw)?;
    Ok(Json(json!({"id": sh.mutate(|st, ev| actions::start_conversation(st, ev, seed, true))?})))
}

async fn get_conversation(State(sh): Sh, Path(id): Path<String>) -> AdminResult {
    sh.read(|st| {
        st.conversations
            .get(&id)
            .map(|c| Json(st.conversation_json(c, PartsView::All)))
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Act {
    admin_id: String,
    body: String,
    tag: String,
    priority: String,
    assignee: Option<AssignTo>,
    rating: u8,
    remark: Option<String>,
}

async fn customer_reply(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    Ok(Json(json!({"part_id": customer_replies(&sh, &id, &a.body)?})))
}

async fn admin_reply(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let part =
        sh.mutate(|st, ev| actions::reply(st, ev, &id, Writer::Admin(a.admin_id.clone()), false, &a.body, None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_note(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let part =
        sh.mutate(|st, ev| actions::reply(st, ev, &id, Writer::Admin(a.admin_id.clone()), true, &a.body, None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_tag(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    Ok(Json(admin_tags(&sh, &id, &a.admin_id, &a.tag)?))
}

async fn admin_assign(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let to = a.assignee.ok_or_else(|| ApiError::invalid("assignee is required"))?;
    let part = sh.mutate(|st, ev| actions::manage(st, ev, &id, &a.admin_id, Manage::Assign(to, None), None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_priority(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    sh.mutate(|st, ev| actions::set_priority(st, ev, &id, &a.admin_id, &a.priority))?;
    Ok(Json(json!({"ok": true})))
}

async fn admin_close(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let body = Some(a.body).filter(|b| !b.is_empty());
    let part = sh.mutate(|st, ev| actions::manage(st, ev, &id, &a.admin_id, Manage::Close(body), None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn admin_open(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    let part = sh.mutate(|st, ev| actions::manage(st, ev, &id, &a.admin_id, Manage::Open, None))?;
    Ok(Json(json!({"part_id": part})))
}

async fn customer_rate(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let a: Act = parse(&raw)?;
    sh.mutate(|st, ev| actions::rate(st, ev, &id, a.rating, a.remark.clone()))?;
    Ok(Json(json!({"ok": true})))
}

async fn merge(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        from: String,
        into: String,
    }
    let b: B = parse(&raw)?;
    sh.mutate(|st, ev| actions::merge_contacts(st, ev, &b.from, &b.into)).map(Json)
}

async fn edit_contact(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> AdminResult {
    let b: Value = parse(&raw)?;
    sh.mutate(|st, ev| actions::update_contact(st, ev, &id, &b)).map(Json)
}

async fn exchanges(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(sh.gate.recorder.all()).unwrap_or(Value::Null))
}

async fn clear_exchanges(State(sh): Sh) -> Json<Value> {
    sh.gate.recorder.clear();
    Json(json!({"ok": true}))
}

async fn webhooks(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(sh.webhooks.sent()).unwrap_or(Value::Null))
}

async fn notifications(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(lock(&sh.notifications).clone()).unwrap_or(Value::Null))
}

async fn get_faults(State(sh): Sh) -> Json<Value> {
    Json(serde_json::to_value(lock(&sh.gate.faults).clone()).unwrap_or(Value::Null))
}

async fn set_faults(State(sh): Sh, raw: Bytes) -> AdminResult {
    let f: Faults = parse(&raw)?;
    *lock(&sh.gate.faults) = f.clone();
    Ok(Json(serde_json::to_value(f).unwrap_or(Value::Null)))
}

async fn set_rate_limit(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        limit: u32,
        #[serde(default = "ten")]
        window_secs: u64,
    }
    fn ten() -> u64 {
        10
    }
    let b: B = parse(&raw)?;
    sh.gate.set_rate_limit(b.limit, Duration::from_secs(b.window_secs.max(1)));
    Ok(Json(json!({"limit": b.limit, "window_secs": b.window_secs})))
}

async fn set_webhook_target(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        url: Option<String>,
    }
    let b: B = parse(&raw)?;
    sh.webhooks.set_target(b.url.clone());
    lock(&sh.options).webhook_target = b.url.clone();
    Ok(Json(json!({"url": b.url})))
}

/// `{seconds}` (negative moves the clock back): answers the simulated `now`.
async fn advance_clock(State(sh): Sh, raw: Bytes) -> AdminResult {
    #[derive(Deserialize)]
    struct B {
        seconds: i64,
    }
    let b: B = parse(&raw)?;
    Ok(Json(json!({"now": sh.advance_clock(b.seconds)})))
}

fn customer_replies(sh: &Shared, conv_id: &str, body: &str) -> Result<String, ApiError> {
    sh.mutate(|st, ev| {
        let contact = st
            .conversations
            .get(conv_id)
            .and_then(|c| c.contact_ids.first().cloned())
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
        actions::reply(st, ev, conv_id, Writer::Contact(contact), false, body, None)
    })
}

fn admin_tags(sh: &Shared, conv_id: &str, admin_id: &str, tag: &str) -> Result<Value, ApiError> {
    sh.mutate(|st, ev| {
        let tag_id = actions::ensure_tag(st, tag)?;
        actions::tag_conversation(st, ev, conv_id, &tag_id, admin_id)
    })
}

// ---------- in-process API ----------

/// Seeding, human actions and inspection for Rust tests (the same logic as `/__admin`).
impl IntercomSim {
    /// Adds a teammate; returns its id.
    pub fn seed_admin(&self, name: &str, email: &str) -> String {
        self.shared.seed_admin(Admin { name: name.into(), email: email.into(), ..Admin::default() })
    }
    /// Adds a team with members; returns its id.
    pub fn seed_team(&self, name: &str, admin_ids: &[String]) -> String {
        self.shared.seed_team(Team { name: name.into(), admin_ids: admin_ids.to_vec(), ..Team::default() })
    }
    /// Finds or creates a tag; returns its id.
    pub fn seed_tag(&self, name: &str) -> Result<String, ApiError> {
        self.shared.seed_tag(name)
    }
    /// Adds a segment with explicit members; returns its id.
    pub fn seed_segment(&self, name: &str, contact_ids: &[String]) -> String {
        self.shared.seed_segment(Segment { name: name.into(), contact_ids: contact_ids.to_vec(), ..Segment::default() })
    }
    /// Adds a contact (ids and times filled in when empty); 409-style error on a duplicate.
    pub fn seed_contact(&self, contact: Contact) -> Result<String, ApiError> {
        self.shared.seed_contact(contact)
    }
    /// Adds many contacts at once (see [`Self::seed_contact`]); returns their ids in order.
    pub fn seed_contacts(&self, contacts: Vec<Contact>) -> Result<Vec<String>, ApiError> {
        self.shared.seed_contacts(contacts)
    }
    /// Adds a company; returns its Intercom id.
    pub fn seed_company(&self, company: Company) -> String {
        self.shared.seed_company(company)
    }
    /// Defines a contact or company data attribute (`model` = `contact`|`company`).
    pub fn seed_data_attribute(&self, model: &str, name: &str, data_type: &str, custom: bool) {
        self.shared.seed_data_attribute(DataAttribute {
            model: model.into(),
            name: name.into(),
            data_type: data_type.into(),
            custom,
            ..DataAttribute::default()
        });
    }
    /// Defines a conversation attribute.
    pub fn seed_conversation_attribute(&self, name: &str, data_type: &str) {
        self.shared.seed_conversation_attribute(ConversationAttribute {
            name: name.into(),
            data_type: data_type.into(),
            ..ConversationAttribute::default()
        });
    }
    /// Adds a conversation with history, without webhooks; returns its id.
    pub fn seed_conversation(&self, seed: ConversationSeed) -> Result<String, ApiError> {
        self.shared.mutate(|st, ev| actions::start_conversation(st, ev, seed, false))
    }
    /// A customer starts a conversation (`conversation.user.created`); returns its id.
    pub fn customer_starts_conversation(&self, contact_id: &str, body: &str) -> Result<String, ApiError> {
        let seed = ConversationSeed { contact_id: contact_id.into(), body: body.into(), ..ConversationSeed::default() };
        self.shared.mutate(|st, ev| actions::start_conversation(st, ev, seed, true))
    }
    /// The conversation's customer replies (`conversation.user.replied`); returns the part id.
    pub fn customer_replies(&self, conversation_id: &str, body: &str) -> Result<String, ApiError> {
        customer_replies(&self.shared, conversation_id, body)
    }
    /// The customer replies with files, each `(name, content_type, bytes)`, served at public
    /// URLs on the simulator; returns the part id.
    pub fn customer_replies_with_files(
        &self,
        conversation_id: &str,
        body: &str,
        files: &[(&str, &str, &[u8])],
    ) -> Result<String, ApiError> {
        let base = self.shared.base_url();
        self.shared.mutate(|st, ev| {
            let contact = st
                .conversations
                .get(conversation_id)
                .and_then(|c| c.contact_ids.first().cloned())
                .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
            let attachments =
                files.iter().map(|(name, ty, bytes)| st.store_file(&base, name, ty, bytes.to_vec())).collect();
            actions::reply_with_files(st, ev, conversation_id, Writer::Contact(contact), false, body, None, attachments)
        })
    }
    /// The bytes of a part's file as served at its URL.
    pub fn file_bytes(&self, url: &str) -> Option<Vec<u8>> {
        let id = url.split("/files/").nth(1)?.split('/').next()?.to_string();
        self.shared.read(|st| st.files.get(&id).map(|f| f.bytes.clone()))
    }
    /// A teammate replies in the inbox (`conversation.admin.replied`).
    pub fn admin_replies(&self, conversation_id: &str, admin_id: &str, body: &str) -> Result<String, ApiError> {
        self.shared
            .mutate(|st, ev| actions::reply(st, ev, conversation_id, Writer::Admin(admin_id.into()), false, body, None))
    }
    /// A teammate adds a note (`conversation.admin.noted`).
    pub fn admin_notes(&self, conversation_id: &str, admin_id: &str, body: &str) -> Result<String, ApiError> {
        self.shared
            .mutate(|st, ev| actions::reply(st, ev, conversation_id, Writer::Admin(admin_id.into()), true, body, None))
    }
    /// A teammate tags the conversation by tag name (`conversation_part.tag.created`).
    pub fn admin_tags(&self, conversation_id: &str, admin_id: &str, tag: &str) -> Result<(), ApiError> {
        admin_tags(&self.shared, conversation_id, admin_id, tag).map(|_| ())
    }
    /// A teammate removes a tag by name (Intercom emits no webhook for this).
    pub fn admin_untags(&self, conversation_id: &str, admin_id: &str, tag: &str) -> Result<(), ApiError> {
        self.shared
            .mutate(|st, _ev| {
                let tag_id = st.tag_by_name(tag).map(|t| t.id.clone()).ok_or_else(|| {
                    ApiError::new(axum::http::StatusCode::NOT_FOUND, "tag_not_found", "Tag not found")
                })?;
                actions::untag_conversation(st, conversation_id, &tag_id, admin_id)
            })
            .map(|_| ())
    }
    /// Tag names on a conversation.
    pub fn conversation_tags(&self, conversation_id: &str) -> Vec<String> {
        self.shared.read(|st| {
            st.conversations
                .get(conversation_id)
                .map(|c| c.tags.iter().filter_map(|t| st.tags.get(&t.id).map(|x| x.name.clone())).collect())
                .unwrap_or_default()
        })
    }
    /// A teammate assigns to an admin or team (`conversation.admin.assigned`).
    pub fn admin_assigns(&self, conversation_id: &str, admin_id: &str, to: AssignTo) -> Result<(), ApiError> {
        self.shared
            .mutate(|st, ev| actions::manage(st, ev, conversation_id, admin_id, Manage::Assign(to, None), None))
            .map(|_| ())
    }
    /// A teammate sets the priority (`conversation.priority.updated`).
    pub fn admin_sets_priority(&self, conversation_id: &str, admin_id: &str, priority: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::set_priority(st, ev, conversation_id, admin_id, priority))
    }
    /// A teammate closes the conversation (`conversation.admin.closed`).
    pub fn admin_closes(&self, conversation_id: &str, admin_id: &str) -> Result<(), ApiError> {
        self.shared
            .mutate(|st, ev| actions::manage(st, ev, conversation_id, admin_id, Manage::Close(None), None))
            .map(|_| ())
    }
    /// A teammate reopens the conversation (`conversation.admin.opened`).
    pub fn admin_reopens(&self, conversation_id: &str, admin_id: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::manage(st, ev, conversation_id, admin_id, Manage::Open, None)).map(|_| ())
    }
    /// The customer rates the conversation (`conversation.rating.added`).
    pub fn customer_rates(&self, conversation_id: &str, rating: u8, remark: Option<&str>) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::rate(st, ev, conversation_id, rating, remark.map(str::to_string)))
    }
    /// Merges contact `from` into `into` (`contact.merged`); later GETs of `from` answer 410.
    pub fn merge_contacts(&self, from: &str, into: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::merge_contacts(st, ev, from, into)).map(|_| ())
    }
    /// A teammate edits contact fields, e.g. `{"custom_attributes": {"plan": "pro"}}`
    /// (`contact.user.updated`).
    pub fn edit_contact(&self, contact_id: &str, fields: Value) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::update_contact(st, ev, contact_id, &fields)).map(|_| ())
    }
    /// A conversation with every part, as stored.
    pub fn conversation(&self, id: &str) -> Option<state::Conversation> {
        self.shared.read(|st| st.conversations.get(id).cloned())
    }
    /// A teammate deletes a contact (`contact.deleted`).
    pub fn delete_contact(&self, contact_id: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::delete_contact(st, ev, contact_id)).map(|_| ())
    }
    /// A contact, as stored.
    pub fn contact(&self, id: &str) -> Option<Contact> {
        self.shared.read(|st| st.contacts.get(id).cloned())
    }
    /// Sets faults (replacing the current ones).
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.gate.faults) = faults;
    }
}
