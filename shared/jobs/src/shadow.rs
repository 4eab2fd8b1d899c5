//! Shadow execution: run a job against the real state but write nothing. Reads go to the real
//! adapters; every vendor write is recorded as a planned [`Action`] and answered with a
//! stand-in value; store writes land in an in-memory overlay, so later reads in the same run see
//! them but the real store never does. The recorded plan is what live mode would have done.
//!
//! Used by shadow mode (a config flag per job) and by `bridge dlq replay --dry-run`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bridge_domain::event::Kind;
use bridge_domain::ids::{ContactId, ConversationId, TicketId};
use bridge_domain::profiles::Profile;
use serde::Serialize;

use crate::Ports;

mod profiles;
mod store;
mod vendors;

pub use profiles::ShadowDeadLetters;
pub use store::ShadowStore;

/// One write the job would have made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Create a Zendesk ticket.
    CreateTicket {
        /// External id (the conversation reference).
        external_id: Option<String>,
        /// Subject.
        subject: String,
        /// Priority.
        priority: Option<String>,
        /// Tags.
        tags: Vec<String>,
    },
    /// Update a ticket (status, fields, or a comment).
    UpdateTicket {
        /// Ticket.
        ticket: TicketId,
        /// New status.
        status: Option<String>,
        /// A comment is added (public or internal).
        comment: Option<&'static str>,
    },
    /// Add ticket tags.
    AddTicketTags {
        /// Ticket.
        ticket: TicketId,
        /// Tags.
        tags: Vec<String>,
    },
    /// Remove ticket tags.
    RemoveTicketTags {
        /// Ticket.
        ticket: TicketId,
        /// Tags.
        tags: Vec<String>,
    },
    /// Create or update a Zendesk user.
    UpsertUser {
        /// Matching external id.
        external_id: Option<String>,
    },
    /// Create or update a Zendesk organization.
    UpsertOrganization {
        /// Matching external id.
        external_id: Option<String>,
    },
    /// Set conversation attributes.
    SetConversationAttributes {
        /// Conversation.
        conversation: ConversationId,
        /// Attribute names.
        names: Vec<String>,
    },
    /// Add an internal note to a conversation.
    AddNote {
        /// Conversation.
        conversation: ConversationId,
    },
    /// Reply to the customer.
    Reply {
        /// Conversation.
        conversation: ConversationId,
    },
    /// Close, open, snooze or assign a conversation.
    ChangeConversation {
        /// Conversation.
        conversation: ConversationId,
        /// What.
        change: String,
    },
    /// Tag a conversation.
    TagConversation {
        /// Conversation.
        conversation: ConversationId,
        /// Tag.
        tag: String,
    },
    /// Untag a conversation.
    UntagConversation {
        /// Conversation.
        conversation: ConversationId,
        /// Tag.
        tag: String,
    },
    /// Send a proactive message.
    SendMessage {
        /// Recipient.
        to: ContactId,
    },
    /// Create (`id` None) or update a profile (job 2).
    WriteProfile {
        /// `intercom` or `zendesk`.
        side: &'static str,
        /// `contact`, `company`, `user` or `organization`.
        entity: &'static str,
        /// The profile, when it exists.
        id: Option<String>,
        /// Field paths written (values left out: personal data).
        fields: Vec<String>,
    },
    /// Make a person a member of an organization (job 2).
    JoinOrganization {
        /// `intercom` or `zendesk`.
        side: &'static str,
        /// The person's id.
        person: String,
        /// The organization's id.
        org: String,
    },
    /// Delete a person for good (erasure).
    DeletePerson {
        /// `intercom` or `zendesk`.
        side: &'static str,
        /// The person's id.
        id: String,
    },
    /// Remove the dead letters that mention an erased person.
    PurgeDeadLetters,
    /// Create or update profiles in bulk (job 2 backfill).
    WriteProfiles {
        /// `intercom` or `zendesk`.
        side: &'static str,
        /// The entity word.
        entity: &'static str,
        /// How many records.
        count: usize,
    },
}

/// The plan recorded by a shadow run.
#[derive(Debug, Default)]
pub struct Plan {
    actions: Mutex<Vec<Action>>,
    next_id: AtomicU64,
}

impl Plan {
    fn record(&self, action: Action) {
        if let Ok(mut a) = self.actions.lock() {
            a.push(action);
        }
    }
    fn stand_in_id(&self) -> u64 {
        // Far above real ids, so a stand-in never collides with a real object.
        u64::MAX / 2 + self.next_id.fetch_add(1, Ordering::Relaxed)
    }
    /// The actions recorded so far.
    pub fn actions(&self) -> Vec<Action> {
        self.actions.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

/// A real adapter in a shadow run: reads go through to `inner`, writes are recorded into the
/// plan. The same wrapper serves Intercom and Zendesk; it is whichever ports its inner adapter
/// is (messenger or help desk, profile directory, person eraser).
#[derive(Debug)]
pub struct Shadowed<'a, T> {
    inner: &'a T,
    plan: &'a Plan,
    /// Profiles as written in this run (job 2), so later reads see them.
    written: Mutex<BTreeMap<(Kind, String), Profile>>,
}

impl<'a, T> Shadowed<'a, T> {
    fn new(inner: &'a T, plan: &'a Plan) -> Self {
        Self { inner, plan, written: Mutex::default() }
    }
}

/// The adapters of one shadow run over the real ones: build it, run the job on
/// [`Shadow::ports`], read the plan.
#[derive(Debug)]
pub struct Shadow<'a, S, I, Z> {
    real: Ports<'a, S, I, Z>,
    store: ShadowStore<'a, S>,
    intercom: Shadowed<'a, I>,
    zendesk: Shadowed<'a, Z>,
    dead_letters: ShadowDeadLetters<'a>,
}

impl<'a, S, I, Z> Shadow<'a, S, I, Z> {
    /// Wraps the real adapters of `real`, recording into `plan`.
    pub fn new(real: &Ports<'a, S, I, Z>, plan: &'a Plan) -> Self {
        Self {
            real: *real,
            store: ShadowStore::new(real.store),
            intercom: Shadowed::new(real.intercom, plan),
            zendesk: Shadowed::new(real.zendesk, plan),
            dead_letters: ShadowDeadLetters { plan },
        }
    }

    /// The ports a job runs on: the shadow adapters, the real clock, configuration and worker.
    pub fn ports(&self) -> Ports<'_, ShadowStore<'a, S>, Shadowed<'a, I>, Shadowed<'a, Z>> {
        Ports {
            store: &self.store,
            intercom: &self.intercom,
            zendesk: &self.zendesk,
            clock: self.real.clock,
            config: self.real.config,
            worker: self.real.worker,
        }
    }

    /// Where an erasure's dead-letter purge is recorded.
    pub fn dead_letters(&self) -> &ShadowDeadLetters<'a> {
        &self.dead_letters
    }
}
#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use bridge_domain::event::QueuedEvent;
    use bridge_domain::model::Timestamp;
    use bridge_domain::ports::Store;

    use super::*;
    use crate::fakes::TestPorts;

    const CONFIG: &str = "version: 1\nintercom: { bot_admin_id: '9' }\nescalation:\n  rules:\n    - { name: t, when: { tag_added: escalate } }\n";

    fn event() -> QueuedEvent {
        QueuedEvent {
            vendor: bridge_domain::event::Vendor::Intercom,
            delivery_id: "n1".into(),
            topic: "conversation_part.tag.created".into(),
            entity: "conversation:42".parse().unwrap(),
            received_at: Timestamp(1),
            payload: serde_json::Value::Null,
            trace_id: None,
            actors: Vec::new(),
        }
    }

    fn kinds(actions: &[Action]) -> Vec<String> {
        actions.iter().map(|a| serde_json::to_value(a).unwrap()["action"].as_str().unwrap().to_string()).collect()
    }

    #[tokio::test]
    async fn shadow_run_plans_what_live_does_and_writes_nothing() {
        let p = TestPorts::new(CONFIG);
        p.seed_tagged_conversation("42");
        let plan = Plan::default();
        crate::escalate::run(&Shadow::new(&p.ports(), &plan).ports(), &event()).await.unwrap();
        assert_eq!(kinds(&plan.actions()), ["upsert_user", "create_ticket", "add_note", "set_conversation_attributes"]);
        assert!(p.zendesk.tickets.lock().unwrap().is_empty(), "no ticket written");
        assert!(p.intercom.notes.lock().unwrap().is_empty(), "no note written");
        assert!(p.store.link_by_conversation(&ConversationId::parse("42").unwrap()).await.unwrap().is_none());

        // Live mode does exactly the planned writes.
        let before = p.zendesk.calls.load(Ordering::SeqCst);
        crate::escalate::run(&p.ports(), &event()).await.unwrap();
        assert!(p.zendesk.calls.load(Ordering::SeqCst) > before);
        assert_eq!(p.zendesk.tickets.lock().unwrap().len(), 1);
        assert_eq!(p.zendesk.users.lock().unwrap().len(), 1);
        assert_eq!(p.intercom.notes.lock().unwrap().len(), 1);
        assert_eq!(p.intercom.attributes.lock().unwrap().len(), 1);

        // Once done, a shadow run plans nothing.
        let again = Plan::default();
        crate::escalate::run(&Shadow::new(&p.ports(), &again).ports(), &event()).await.unwrap();
        assert!(again.actions().is_empty(), "{:?}", again.actions());
    }
}
