//! In-memory fakes of the ports, for the jobs' unit tests (and the runtime's): one test world,
//! [`TestPorts`], whose [`TestPorts::ports`] a use case runs on. The real adapters are tested
//! against moto and the vendor simulators elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_debug_implementations)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use bridge_domain::Config;
use bridge_domain::erasure::DeadLetterPurge;
use bridge_domain::event::Entity;
use bridge_domain::ids::*;
use bridge_domain::model::*;
use bridge_domain::ports::*;

use crate::Ports;

mod directory;
mod intercom;
mod store;
mod zendesk;

pub use directory::{FakeDirectory, FakeJob};
pub use intercom::FakeIntercom;
pub use store::MemStore;
pub use zendesk::FakeZendesk;

/// The time the test world starts at: the clock's first reading, and when the fake helpdesk
/// says the tickets it creates were created.
pub const START: Timestamp = Timestamp(10_000);

/// A clock that says what it is told.
pub struct FixedClock(pub Mutex<Timestamp>);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// Dead letters as (entity, payload); a purge removes the matching ones.
#[derive(Default)]
pub struct FakeDeadLetters(pub Mutex<Vec<(String, serde_json::Value)>>);

impl DeadLetterPurge for FakeDeadLetters {
    async fn purge_dead_letters(
        &self,
        matches: &(dyn Fn(&Entity, &serde_json::Value) -> bool + Send + Sync),
    ) -> PortResult<usize> {
        let mut letters = self.0.lock().unwrap();
        let before = letters.len();
        letters.retain(|(e, p)| !matches(&e.parse().unwrap(), p));
        Ok(before - letters.len())
    }
}

/// The test world: every fake, the clock, the configuration.
pub struct TestPorts {
    pub store: MemStore,
    pub intercom: FakeIntercom,
    pub zendesk: FakeZendesk,
    pub dead_letters: FakeDeadLetters,
    pub clock: FixedClock,
    pub config: Config,
    pub worker: String,
}

impl TestPorts {
    /// An empty world at time 10,000 with `config_yaml`.
    pub fn new(config_yaml: &str) -> Self {
        Self {
            store: MemStore::default(),
            intercom: FakeIntercom::default(),
            zendesk: FakeZendesk::default(),
            dead_letters: FakeDeadLetters::default(),
            clock: FixedClock(Mutex::new(START)),
            config: Config::from_yaml(config_yaml).unwrap(),
            worker: "w1".into(),
        }
    }

    /// The ports a use case runs on.
    pub fn ports(&self) -> Ports<'_, MemStore, FakeIntercom, FakeZendesk> {
        Ports {
            store: &self.store,
            intercom: &self.intercom,
            zendesk: &self.zendesk,
            clock: &self.clock,
            config: &self.config,
            worker: &self.worker,
        }
    }

    /// Intercom's profiles (job 2, erasure).
    pub fn ic(&self) -> &FakeDirectory {
        &self.intercom.profiles
    }

    /// Zendesk's profiles (job 2, erasure).
    pub fn zd(&self) -> &FakeDirectory {
        &self.zendesk.profiles
    }
}

impl TestPorts {
    /// Seeds conversation `id` tagged `escalate`, opened by contact `c1` (Ada, with an email):
    /// the smallest conversation job 1 escalates.
    pub fn seed_tagged_conversation(&self, id: &str) {
        let part = Part {
            id: PartId::parse("src").unwrap(),
            kind: PartKind::Opening,
            author: Author { role: AuthorRole::User, id: Some("c1".into()), name: Some("Ada".into()), email: None },
            body: Some("Help".into()),
            created_at: Timestamp(1),
            attachments: vec![],
            app_package_code: None,
        };
        self.intercom.conversations.lock().unwrap().insert(
            id.into(),
            Conversation {
                id: ConversationId::parse(id).unwrap(),
                title: None,
                created_at: Timestamp(1),
                updated_at: Timestamp(1),
                waiting_since: None,
                state: ConversationState::Open,
                priority: ConversationPriority::None,
                admin_assignee: None,
                team_assignee: None,
                contacts: vec![ContactId::parse("c1").unwrap()],
                tags: vec!["escalate".into()],
                attributes: BTreeMap::new(),
                parts: vec![part],
                parts_total: 1,
            },
        );
        self.intercom.contacts.lock().unwrap().insert(
            "c1".into(),
            Contact {
                id: ContactId::parse("c1").unwrap(),
                name: Some("Ada".into()),
                email: Some("ada@example.com".into()),
                phone: None,
                external_id: None,
                role: "user".into(),
                org_ids: vec![],
                fields: BTreeMap::new(),
                tags: vec![],
                updated_at: Timestamp(1),
            },
        );
    }
}
