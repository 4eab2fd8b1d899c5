//! The simulator's in-memory account and every state change, API-made or "human".
//!
//! Each mutation records the webhook events it causes in `outbox`; the server flushes them
//! (signed) after releasing the lock.

mod events;
mod fields;
mod inputs;
mod jobs;
mod merge;
mod orgs;
mod ratings;
mod tickets;
mod users;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::model::{FieldRec, GroupRec, OrgRec, RatingRec, TicketRec, UserRec};

pub use events::OutEvent;
pub use inputs::{CommentInput, FieldInput, OrgInput, TicketInput, UserInput};
pub use jobs::JobRec;
pub use merge::MergeComments;
pub use tickets::TagOp;

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
}
