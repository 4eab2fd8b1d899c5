#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use bridge_domain::Config;
use bridge_domain::erasure::{DeadLetterPurge, PersonEraser};
use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::event::{Entity, QueuedEvent};
use bridge_domain::ids::{ContactId, ConversationId, TicketId, UserId};
use bridge_domain::model::{FieldValue, Link, Timestamp};
use bridge_domain::ports::{Clock, Store};
use bridge_domain::profiles::directory::{
    BulkRecord, BulkStarted, DirFuture, ProfileDirectory, ProfilePage, RateObservation,
};
use bridge_domain::profiles::{CatalogField, Profile};

use super::*;
use crate::fakes::{FakeHelpdesk, FakeMessenger, FixedClock, MemStore};

/// One side's persons: deletions and writes are recorded.
struct FakeSide {
    side: Vendor,
    people: Mutex<BTreeMap<String, Profile>>,
    deleted: Mutex<Vec<String>>,
    written: Mutex<Vec<(String, BTreeMap<String, FieldValue>)>>,
}

impl FakeSide {
    fn new(side: Vendor) -> Self {
        Self { side, people: Mutex::default(), deleted: Mutex::default(), written: Mutex::default() }
    }
    fn add(&self, id: &str, email: &str) {
        let values = BTreeMap::from([("email".to_string(), FieldValue::Text(email.into()))]);
        let p = Profile {
            side: self.side,
            kind: Kind::Person,
            id: id.into(),
            values,
            orgs: vec![],
            role: None,
            updated_at: Timestamp(1),
        };
        self.people.lock().unwrap().insert(id.into(), p);
    }
}

impl PersonEraser for FakeSide {
    fn side(&self) -> Vendor {
        self.side
    }
    fn delete_person<'a>(&'a self, id: &'a str) -> DirFuture<'a, bool> {
        let existed = self.people.lock().unwrap().remove(id).is_some();
        self.deleted.lock().unwrap().push(id.into());
        Box::pin(async move { Ok(existed) })
    }
}

impl ProfileDirectory for FakeSide {
    fn side(&self) -> Vendor {
        self.side
    }
    fn get<'a>(&'a self, _kind: Kind, id: &'a str) -> DirFuture<'a, Option<Profile>> {
        let r = self.people.lock().unwrap().get(id).cloned();
        Box::pin(async move { Ok(r) })
    }
    fn find_by_external_id<'a>(&'a self, _k: Kind, _e: &'a str) -> DirFuture<'a, Vec<Profile>> {
        Box::pin(async { Ok(vec![]) })
    }
    fn find_by_email<'a>(&'a self, _e: &'a str) -> DirFuture<'a, Vec<Profile>> {
        Box::pin(async { Ok(vec![]) })
    }
    fn write<'a>(
        &'a self,
        _kind: Kind,
        id: Option<&'a str>,
        values: &'a BTreeMap<String, FieldValue>,
    ) -> DirFuture<'a, Profile> {
        let id = id.unwrap_or_default().to_string();
        self.written.lock().unwrap().push((id.clone(), values.clone()));
        let p = self.people.lock().unwrap().get(&id).cloned();
        Box::pin(async move {
            p.ok_or_else(|| PortError::NotFound { service: bridge_domain::ports::Service::Intercom, what: id })
        })
    }
    fn join_org<'a>(&'a self, _p: &'a str, _o: &'a str) -> DirFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn changed_since<'a>(&'a self, _k: Kind, _s: Timestamp, _c: Option<&'a str>) -> DirFuture<'a, ProfilePage> {
        Box::pin(async { Ok(ProfilePage::default()) })
    }
    fn list_page<'a>(&'a self, _k: Kind, _c: Option<&'a str>, _n: u32) -> DirFuture<'a, ProfilePage> {
        Box::pin(async { Ok(ProfilePage::default()) })
    }
    fn start_many<'a>(&'a self, _k: Kind, _r: &'a [BulkRecord]) -> DirFuture<'a, BulkStarted> {
        Box::pin(async { Ok(BulkStarted::Done(vec![])) })
    }
    fn catalog(&self, _kind: Kind) -> DirFuture<'_, Vec<CatalogField>> {
        Box::pin(async { Ok(vec![]) })
    }
    fn rate_limit(&self) -> Option<RateObservation> {
        None
    }
}

/// Dead letters as (entity, payload).
#[derive(Default)]
struct Dlq(Mutex<Vec<(String, serde_json::Value)>>);

impl DeadLetterPurge for Dlq {
    fn purge_dead_letters<'a>(
        &'a self,
        matches: &'a (dyn Fn(&Entity, &serde_json::Value) -> bool + Send + Sync),
    ) -> DirFuture<'a, usize> {
        let mut letters = self.0.lock().unwrap();
        let before = letters.len();
        letters.retain(|(e, p)| !matches(&e.parse().unwrap(), p));
        let removed = before - letters.len();
        Box::pin(async move { Ok(removed) })
    }
}

struct P {
    store: MemStore,
    messenger: FakeMessenger,
    helpdesk: FakeHelpdesk,
    clock: FixedClock,
    config: Config,
    ic: FakeSide,
    zd: FakeSide,
    dlq: Dlq,
    wired: bool,
}

impl Ports for P {
    type Store = MemStore;
    type Messenger = FakeMessenger;
    type Helpdesk = FakeHelpdesk;
    fn store(&self) -> &MemStore {
        &self.store
    }
    fn messenger(&self) -> &FakeMessenger {
        &self.messenger
    }
    fn helpdesk(&self) -> &FakeHelpdesk {
        &self.helpdesk
    }
    fn clock(&self) -> &dyn Clock {
        &self.clock
    }
    fn config(&self) -> &Config {
        &self.config
    }
    fn worker_id(&self) -> &str {
        "test"
    }
    fn erasure(&self) -> Option<Erasers<'_>> {
        self.wired.then_some(Erasers {
            intercom: &self.ic,
            zendesk: &self.zd,
            directories: Directories { intercom: &self.ic, zendesk: &self.zd },
            dead_letters: Some(&self.dlq),
        })
    }
}

const BASE: &str = "version: 1\nintercom: { bot_admin_id: '9' }\n";

/// Contact c1 <-> user 300 (known to escalation, profile sync and a link on conversation 77 /
/// ticket 5); contact c2 <-> user 400 is someone else.
async fn world(extra: &str) -> P {
    let p = P {
        store: MemStore::default(),
        messenger: FakeMessenger::default(),
        helpdesk: FakeHelpdesk::default(),
        clock: FixedClock(Mutex::new(Timestamp(1000))),
        config: Config::from_yaml(&format!("{BASE}{extra}")).unwrap(),
        ic: FakeSide::new(Vendor::Intercom),
        zd: FakeSide::new(Vendor::Zendesk),
        dlq: Dlq::default(),
        wired: true,
    };
    p.ic.add("c1", "ada@x.example");
    p.ic.add("c2", "bob@x.example");
    p.zd.add("300", "ada@x.example");
    p.zd.add("400", "bob@x.example");
    let s = &p.store;
    s.seed("PERSON#IC#c1", r#"{"zendesk_user_id":300,"zendesk_organization_id":null,"display_name":"Ada"}"#);
    s.seed("PROFILE#IC#contact:c1", r#"{"intercom_id":"c1","zendesk_id":"300","baseline":{"email":"ada@x.example"}}"#);
    s.seed("PROFILE#ZD#user:300", r#"{"intercom_id":"c1"}"#);
    s.seed("ESC#77", r#"{"ticket":5,"copied_parts":["p1"]}"#);
    s.seed("LOOP#ZD#ticket:5", "{}");
    s.seed("PERSON#IC#c2", r#"{"zendesk_user_id":400,"display_name":"Bob"}"#);
    s.seed("ESC#88", r#"{"ticket":6}"#);
    let link = |conv: &str, t: u64, u: u64, c: &str| {
        Link::new(
            ConversationId::parse(conv).unwrap(),
            TicketId::new(t).unwrap(),
            Some(UserId::new(u).unwrap()),
            Some(ContactId::parse(c).unwrap()),
            Timestamp(1),
        )
    };
    s.create_link(&link("77", 5, 300, "c1")).await.unwrap();
    s.create_link(&link("88", 6, 400, "c2")).await.unwrap();
    p.dlq.0.lock().unwrap().extend([
        ("ticket:5".to_string(), serde_json::json!({"detail": {"requester_id": "300"}})),
        ("conversation:9".to_string(), serde_json::json!({"source": {"author": {"email": "ADA@x.example"}}})),
        ("ticket:6".to_string(), serde_json::json!({"detail": {"requester_id": "400", "id": "300"}})),
    ]);
    p
}

fn deleted(topic: &str, entity: &str) -> QueuedEvent {
    let entity: Entity = entity.parse().unwrap();
    QueuedEvent {
        vendor: entity.vendor(),
        delivery_id: "d1".into(),
        topic: topic.into(),
        entity,
        received_at: Timestamp(1000),
        payload: serde_json::Value::Null,
        trace_id: None,
        actors: Vec::new(),
    }
}

async fn ada_is_gone_from_the_store(p: &P) {
    let keys = p.store.doc_keys();
    for k in ["PERSON#IC#c1", "PROFILE#IC#contact:c1", "PROFILE#ZD#user:300", "ESC#77", "LOOP#ZD#ticket:5"] {
        assert!(!keys.contains(&k.to_string()), "{k} survived: {keys:?}");
    }
    assert!(p.store.link_by_conversation(&ConversationId::parse("77").unwrap()).await.unwrap().is_none());
    assert!(p.store.link_by_ticket(TicketId::new(5).unwrap()).await.unwrap().is_none());
    // Bob's records stay.
    assert!(keys.contains(&"PERSON#IC#c2".to_string()) && keys.contains(&"ESC#88".to_string()));
    assert!(p.store.link_by_conversation(&ConversationId::parse("88").unwrap()).await.unwrap().is_some());
    let dlq = p.dlq.0.lock().unwrap();
    assert_eq!(dlq.len(), 1, "only Bob's dead letter stays: {dlq:?}");
    assert_eq!(dlq[0].0, "ticket:6");
}

#[tokio::test]
async fn an_intercom_deletion_deletes_the_zendesk_user_and_purges_every_record() {
    let p = world("erasure: { on_intercom_deletion: delete }\n").await;
    let out = run(&p, &deleted("contact.deleted", "contact:c1")).await.unwrap();
    let Outcome::Done(summary) = out else { panic!("{out:?}") };
    assert_eq!(*p.zd.deleted.lock().unwrap(), vec!["300"]);
    assert!(p.ic.deleted.lock().unwrap().is_empty(), "the deleted side is not touched");
    assert_eq!(summary, "erasure: 1 vendor actions, 0 already gone, 5 documents, 1 links, 2 dead letters");
    ada_is_gone_from_the_store(&p).await;

    // The echo (Zendesk's user.deleted for 300) finds nothing left and deletes nothing else.
    let again = run(&p, &deleted("zen:event-type:user.deleted", "user:300")).await.unwrap();
    assert!(matches!(again, Outcome::Done(_)), "{again:?}");
    assert!(p.ic.deleted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_zendesk_deletion_redacts_the_intercom_contact() {
    let p = world("erasure: { on_zendesk_deletion: redact, redacted_name: Gone }\n").await;
    run(&p, &deleted("zen:event-type:user.deleted", "user:300")).await.unwrap();
    let written = p.ic.written.lock().unwrap().clone();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].0, "c1");
    assert_eq!(written[0].1.get("name"), Some(&FieldValue::Text("Gone".into())));
    assert_eq!(written[0].1.get("phone"), Some(&FieldValue::Null));
    assert!(p.zd.deleted.lock().unwrap().is_empty() && p.ic.deleted.lock().unwrap().is_empty());
    ada_is_gone_from_the_store(&p).await;
}

#[tokio::test]
async fn without_configuration_only_the_bridge_records_are_purged() {
    let p = world("").await;
    run(&p, &deleted("contact.deleted", "contact:c1")).await.unwrap();
    assert!(p.zd.deleted.lock().unwrap().is_empty() && p.zd.written.lock().unwrap().is_empty());
    ada_is_gone_from_the_store(&p).await;
}

#[tokio::test]
async fn an_unwired_runtime_touches_nothing() {
    let mut p = world("erasure: { on_intercom_deletion: delete }\n").await;
    p.wired = false;
    let out = run(&p, &deleted("contact.deleted", "contact:c1")).await.unwrap();
    assert!(matches!(out, Outcome::Skipped(_)), "{out:?}");
    assert!(p.store.doc_keys().contains(&"PERSON#IC#c1".to_string()));
    assert!(p.zd.deleted.lock().unwrap().is_empty());
}
