//! In-memory fakes of the ports, for the jobs' unit tests. The real adapters are tested against
//! moto and the vendor simulators elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_debug_implementations)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::ids::*;
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::*;
use bridge_domain::ports::*;

use crate::Ports;

/// The store in memory; keys are kept in their stored text form, documents as JSON values.
#[derive(Default)]
pub struct MemStore {
    intents: Mutex<HashMap<String, Marker>>,
    links: Mutex<HashMap<String, Link>>,
    ticket_index: Mutex<HashMap<u64, String>>,
    docs: Mutex<HashMap<String, Doc<serde_json::Value>>>,
    pub fail_next_link_write: AtomicBool,
}

#[derive(Clone)]
enum Marker {
    Claimed { holder: String, until: Timestamp },
    Done(String),
}

impl Store for MemStore {
    async fn claim(&self, intent: &Intent, holder: &str, lease: Duration, now: Timestamp) -> PortResult<Claim> {
        let mut m = self.intents.lock().unwrap();
        let key = intent.to_string();
        match m.get(&key) {
            Some(Marker::Done(r)) => return Ok(Claim::Done(r.clone())),
            Some(Marker::Claimed { until, .. }) if *until > now => return Ok(Claim::Busy),
            _ => {}
        }
        m.insert(key, Marker::Claimed { holder: holder.into(), until: now.plus(lease.as_secs() as i64) });
        Ok(Claim::Acquired)
    }
    async fn intent_state(&self, intent: &Intent) -> PortResult<Option<Claim>> {
        Ok(self.intents.lock().unwrap().get(&intent.to_string()).map(|i| match i {
            Marker::Done(r) => Claim::Done(r.clone()),
            Marker::Claimed { .. } => Claim::Busy,
        }))
    }
    async fn complete(&self, intent: &Intent, result: &str) -> PortResult<()> {
        self.intents.lock().unwrap().insert(intent.to_string(), Marker::Done(result.into()));
        Ok(())
    }
    async fn complete_for(&self, intent: &Intent, result: &str, _keep: Duration) -> PortResult<()> {
        self.complete(intent, result).await
    }
    async fn release(&self, intent: &Intent, holder: &str) -> PortResult<()> {
        let mut m = self.intents.lock().unwrap();
        let key = intent.to_string();
        if matches!(m.get(&key), Some(Marker::Claimed { holder: h, .. }) if h == holder) {
            m.remove(&key);
        }
        Ok(())
    }
    async fn link_by_conversation(&self, c: &ConversationId) -> PortResult<Option<Link>> {
        Ok(self.links.lock().unwrap().get(c.as_str()).cloned())
    }
    async fn link_by_ticket(&self, t: TicketId) -> PortResult<Option<Link>> {
        let conv = self.ticket_index.lock().unwrap().get(&t.get()).cloned();
        Ok(conv.and_then(|c| self.links.lock().unwrap().get(&c).cloned()))
    }
    async fn create_link(&self, link: &Link) -> PortResult<LinkCreated> {
        if self.fail_next_link_write.swap(false, Ordering::SeqCst) {
            return Err(PortError::unavailable(Service::Store, "injected crash before link write"));
        }
        let mut links = self.links.lock().unwrap();
        if let Some(existing) = links.get(link.conversation_id.as_str()) {
            return Ok(LinkCreated::AlreadyLinked(existing.clone()));
        }
        links.insert(link.conversation_id.to_string(), link.clone());
        for t in &link.tickets {
            self.ticket_index.lock().unwrap().insert(t.get(), link.conversation_id.to_string());
        }
        Ok(LinkCreated::Created)
    }
    async fn update_link(&self, link: &Link, expected: u64) -> PortResult<bool> {
        let mut links = self.links.lock().unwrap();
        match links.get(link.conversation_id.as_str()) {
            Some(l) if l.version == expected => {
                // Like the DynamoDB store: the version is bumped and every ticket is indexed.
                let mut stored = link.clone();
                stored.version = expected + 1;
                for t in &stored.tickets {
                    self.ticket_index.lock().unwrap().insert(t.get(), link.conversation_id.to_string());
                }
                links.insert(link.conversation_id.to_string(), stored);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn load<T: serde::de::DeserializeOwned + Send>(&self, key: &DocKey) -> PortResult<Option<Doc<T>>> {
        let Some(doc) = self.docs.lock().unwrap().get(&key.to_string()).cloned() else { return Ok(None) };
        let value = serde_json::from_value(doc.value).map_err(|e| PortError::Rejected {
            service: Service::Store,
            source: format!("document {key} does not read back: {e}").into(),
        })?;
        Ok(Some(Doc { value, version: doc.version }))
    }
    async fn save<T: serde::Serialize + Sync>(
        &self,
        key: &DocKey,
        value: &T,
        expected: Option<u64>,
    ) -> PortResult<bool> {
        let value = serde_json::to_value(value).unwrap();
        let mut docs = self.docs.lock().unwrap();
        let current = docs.get(&key.to_string()).map(|v| v.version);
        if current != expected {
            return Ok(false);
        }
        docs.insert(key.to_string(), Doc { value, version: current.unwrap_or(0) + 1 });
        Ok(true)
    }
    async fn delete(&self, key: &DocKey) -> PortResult<bool> {
        Ok(self.docs.lock().unwrap().remove(&key.to_string()).is_some())
    }
    async fn links_of_person(&self, contacts: &[ContactId], users: &[UserId]) -> PortResult<Vec<Link>> {
        let links = self.links.lock().unwrap();
        Ok(links
            .values()
            .filter(|l| {
                l.contact_id.as_ref().is_some_and(|c| contacts.contains(c))
                    || l.requester_id.is_some_and(|u| users.contains(&u))
            })
            .cloned()
            .collect())
    }
    async fn delete_link(&self, link: &Link) -> PortResult<()> {
        self.links.lock().unwrap().remove(link.conversation_id.as_str());
        self.ticket_index.lock().unwrap().retain(|_, c| c != link.conversation_id.as_str());
        Ok(())
    }
}

impl MemStore {
    /// Every document key (as stored), for tests that check what is left.
    pub fn doc_keys(&self) -> Vec<String> {
        self.docs.lock().unwrap().keys().cloned().collect()
    }

    /// Stores a document under its stored key text, as a record written by an earlier
    /// version or another job would be.
    pub fn seed(&self, key: &str, json: &str) {
        let value = serde_json::from_str(json).expect("seeded JSON");
        self.docs.lock().unwrap().insert(key.to_string(), Doc { value, version: 1 });
    }

    /// The JSON of a document, for tests that look inside.
    pub fn doc_json(&self, key: &DocKey) -> Option<serde_json::Value> {
        self.docs.lock().unwrap().get(&key.to_string()).map(|d| d.value.clone())
    }
}

#[derive(Default)]
pub struct FakeMessenger {
    pub conversations: Mutex<HashMap<String, Conversation>>,
    pub contacts: Mutex<HashMap<String, Contact>>,
    pub companies: Mutex<HashMap<String, Vec<Company>>>,
    pub attributes: Mutex<Vec<(String, BTreeMap<String, FieldValue>)>>,
    pub notes: Mutex<Vec<(String, String)>>,
    /// Replies as (conversation, admin, html).
    pub replies: Mutex<Vec<(String, String, String)>>,
    /// State changes as (conversation, change).
    pub changes: Mutex<Vec<(String, ConversationChange)>>,
    /// Tag writes as (conversation, tag, added?).
    pub tag_writes: Mutex<Vec<(String, String, bool)>>,
    /// Admins by email.
    pub admins: Mutex<HashMap<String, AdminId>>,
    pub calls: AtomicU64,
    next_part: AtomicU64,
    /// Segments by contact id.
    pub segments: Mutex<HashMap<String, Vec<Segment>>>,
    /// Proactive messages sent.
    pub messages: Mutex<Vec<OutboundMessage>>,
}

impl FakeMessenger {
    fn call(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

fn not_found(what: &str) -> PortError {
    PortError::NotFound { service: Service::Intercom, what: what.into() }
}

impl Messenger for FakeMessenger {
    async fn conversation(&self, id: &ConversationId) -> PortResult<Conversation> {
        self.call();
        self.conversations.lock().unwrap().get(id.as_str()).cloned().ok_or_else(|| not_found("conversation"))
    }
    async fn contact(&self, id: &ContactId) -> PortResult<Contact> {
        self.call();
        self.contacts.lock().unwrap().get(id.as_str()).cloned().ok_or_else(|| not_found("contact"))
    }
    async fn contact_by_external_id(&self, e: &str) -> PortResult<Option<Contact>> {
        self.call();
        Ok(self
            .contacts
            .lock()
            .unwrap()
            .values()
            .find(|c| c.role == "user" && c.external_id.as_deref() == Some(e))
            .cloned())
    }
    async fn contacts_by_email(&self, e: &str) -> PortResult<Vec<Contact>> {
        self.call();
        Ok(self.contacts.lock().unwrap().values().filter(|c| c.email.as_deref() == Some(e)).cloned().collect())
    }
    async fn contact_companies(&self, id: &ContactId) -> PortResult<Vec<Company>> {
        self.call();
        Ok(self.companies.lock().unwrap().get(id.as_str()).cloned().unwrap_or_default())
    }
    async fn contact_segments(&self, id: &ContactId) -> PortResult<Vec<Segment>> {
        self.call();
        Ok(self.segments.lock().unwrap().get(id.as_str()).cloned().unwrap_or_default())
    }
    async fn company(&self, _id: &CompanyId) -> PortResult<Company> {
        self.call();
        Err(not_found("company"))
    }
    async fn set_conversation_attributes(
        &self,
        id: &ConversationId,
        a: &BTreeMap<String, FieldValue>,
    ) -> PortResult<()> {
        self.call();
        self.attributes.lock().unwrap().push((id.to_string(), a.clone()));
        Ok(())
    }
    async fn add_note(&self, id: &ConversationId, admin: &AdminId, html: &str) -> PortResult<PartId> {
        self.call();
        self.notes.lock().unwrap().push((id.to_string(), html.into()));
        let n = self.next_part.fetch_add(1, Ordering::SeqCst);
        let part_id = PartId::parse(format!("note{n}")).unwrap();
        if let Some(c) = self.conversations.lock().unwrap().get_mut(id.as_str()) {
            c.parts.push(Part {
                id: part_id.clone(),
                kind: PartKind::Note,
                author: Author {
                    role: AuthorRole::Admin,
                    id: Some(admin.to_string()),
                    name: Some("Bridge".into()),
                    email: None,
                },
                body: Some(html.into()),
                created_at: Timestamp(5000),
                attachments: vec![],
                app_package_code: Some("bridge".into()),
            });
            c.parts_total += 1;
        }
        Ok(part_id)
    }
    async fn reply(&self, id: &ConversationId, admin: &AdminId, html: &str) -> PortResult<PartId> {
        self.call();
        self.replies.lock().unwrap().push((id.to_string(), admin.to_string(), html.into()));
        Ok(PartId::parse("r").unwrap())
    }
    async fn change_conversation(&self, id: &ConversationId, _a: &AdminId, c: &ConversationChange) -> PortResult<()> {
        self.call();
        self.changes.lock().unwrap().push((id.to_string(), c.clone()));
        Ok(())
    }
    async fn tag_conversation(&self, id: &ConversationId, _a: &AdminId, t: &str) -> PortResult<()> {
        self.call();
        self.tag_writes.lock().unwrap().push((id.to_string(), t.into(), true));
        if let Some(c) = self.conversations.lock().unwrap().get_mut(id.as_str())
            && !c.tags.iter().any(|x| x.eq_ignore_ascii_case(t))
        {
            c.tags.push(t.into());
        }
        Ok(())
    }
    async fn untag_conversation(&self, id: &ConversationId, _a: &AdminId, t: &str) -> PortResult<()> {
        self.call();
        self.tag_writes.lock().unwrap().push((id.to_string(), t.into(), false));
        if let Some(c) = self.conversations.lock().unwrap().get_mut(id.as_str()) {
            c.tags.retain(|x| !x.eq_ignore_ascii_case(t));
        }
        Ok(())
    }
    async fn admin_by_email(&self, e: &str) -> PortResult<Option<AdminId>> {
        self.call();
        Ok(self.admins.lock().unwrap().get(e).cloned())
    }
    async fn send_message(&self, m: &OutboundMessage) -> PortResult<String> {
        self.call();
        let mut sent = self.messages.lock().unwrap();
        sent.push(m.clone());
        Ok(format!("m{}", sent.len()))
    }
}

#[derive(Default)]
pub struct FakeHelpdesk {
    pub tickets: Mutex<BTreeMap<u64, (Ticket, Vec<TicketComment>)>>,
    pub users: Mutex<Vec<User>>,
    pub orgs: Mutex<Vec<Organization>>,
    pub idempotency: Mutex<HashMap<String, u64>>,
    pub calls: AtomicU64,
    pub creates: AtomicU64,
    next_id: AtomicU64,
    /// Every ticket update, in order.
    pub updates: Mutex<Vec<(u64, TicketUpdate)>>,
    /// Every tag addition, in order.
    pub added_tags: Mutex<Vec<(u64, Vec<String>)>>,
    /// SLA targets by ticket id.
    pub slas: Mutex<HashMap<u64, SlaTarget>>,
}

impl FakeHelpdesk {
    fn call(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst) + 1000
    }
    pub fn comments(&self, t: TicketId) -> Vec<TicketComment> {
        self.tickets.lock().unwrap().get(&t.get()).map(|x| x.1.clone()).unwrap_or_default()
    }
}

impl Helpdesk for FakeHelpdesk {
    async fn ticket(&self, id: TicketId) -> PortResult<Ticket> {
        self.call();
        self.tickets
            .lock()
            .unwrap()
            .get(&id.get())
            .map(|t| t.0.clone())
            .ok_or(PortError::NotFound { service: Service::Zendesk, what: "ticket".into() })
    }
    async fn tickets_by_external_id(&self, e: &str) -> PortResult<Vec<Ticket>> {
        self.call();
        Ok(self
            .tickets
            .lock()
            .unwrap()
            .values()
            .filter(|t| t.0.external_id.as_deref() == Some(e))
            .map(|t| t.0.clone())
            .collect())
    }
    async fn create_ticket(&self, t: &NewTicket, key: &str) -> PortResult<Ticket> {
        self.call();
        let mut idem = self.idempotency.lock().unwrap();
        if let Some(id) = idem.get(key) {
            return Ok(self.tickets.lock().unwrap()[id].0.clone());
        }
        self.creates.fetch_add(1, Ordering::SeqCst);
        let id = self.id();
        let ticket = Ticket {
            id: TicketId::new(id).unwrap(),
            subject: Some(t.subject.clone()),
            status: TicketStatus::New,
            priority: t.priority,
            requester_id: Some(t.requester_id),
            assignee_id: None,
            group_id: t.group_id,
            organization_id: t.organization_id,
            tags: t.tags.clone(),
            external_id: t.external_id.clone(),
            via_channel: Some("api".into()),
            followup_source_id: None,
            custom_fields: t.custom_fields.clone(),
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
        };
        self.tickets.lock().unwrap().insert(id, (ticket.clone(), vec![t.comment.clone()]));
        idem.insert(key.into(), id);
        Ok(ticket)
    }
    async fn update_ticket(&self, id: TicketId, u: &TicketUpdate) -> PortResult<Ticket> {
        self.call();
        let mut tickets = self.tickets.lock().unwrap();
        let entry = tickets
            .get_mut(&id.get())
            .ok_or(PortError::NotFound { service: Service::Zendesk, what: "ticket".into() })?;
        if let Some(c) = &u.comment {
            entry.1.push(c.clone());
        }
        self.updates.lock().unwrap().push((id.get(), u.clone()));
        entry.0.group_id = u.group_id.or(entry.0.group_id);
        entry.0.assignee_id = u.assignee_id.or(entry.0.assignee_id);
        entry.0.priority = u.priority.or(entry.0.priority);
        entry.0.custom_fields.extend(u.custom_fields.clone());
        Ok(entry.0.clone())
    }
    async fn ticket_comments(&self, id: TicketId) -> PortResult<Vec<TicketComment>> {
        self.call();
        Ok(self.comments(id))
    }
    async fn add_ticket_tags(&self, id: TicketId, t: &[String]) -> PortResult<()> {
        self.call();
        self.added_tags.lock().unwrap().push((id.get(), t.to_vec()));
        if let Some(entry) = self.tickets.lock().unwrap().get_mut(&id.get()) {
            entry.0.tags.extend(t.iter().cloned());
        }
        Ok(())
    }
    async fn remove_ticket_tags(&self, id: TicketId, t: &[String]) -> PortResult<()> {
        self.call();
        if let Some(entry) = self.tickets.lock().unwrap().get_mut(&id.get()) {
            entry.0.tags.retain(|x| !t.contains(x));
        }
        Ok(())
    }
    async fn user(&self, id: UserId) -> PortResult<User> {
        self.call();
        self.users
            .lock()
            .unwrap()
            .iter()
            .find(|u| u.id == id)
            .cloned()
            .ok_or(PortError::NotFound { service: Service::Zendesk, what: "user".into() })
    }
    async fn user_by_external_id(&self, e: &str) -> PortResult<Option<User>> {
        self.call();
        Ok(self.users.lock().unwrap().iter().find(|u| u.external_id.as_deref() == Some(e)).cloned())
    }
    async fn users_by_email(&self, e: &str) -> PortResult<Vec<User>> {
        self.call();
        Ok(self.users.lock().unwrap().iter().filter(|u| u.email.as_deref() == Some(e)).cloned().collect())
    }
    async fn upsert_user(&self, u: &UserUpsert) -> PortResult<User> {
        self.call();
        let user = User {
            id: UserId::new(self.id()).unwrap(),
            name: Some(u.name.clone()),
            email: u.email.clone(),
            phone: u.phone.clone(),
            external_id: u.external_id.clone(),
            role: "end-user".into(),
            org_ids: u.organization_id.into_iter().collect(),
            fields: BTreeMap::new(),
            tags: vec![],
            updated_at: Timestamp(1),
        };
        self.users.lock().unwrap().push(user.clone());
        Ok(user)
    }
    async fn organization_by_external_id(&self, e: &str) -> PortResult<Option<Organization>> {
        self.call();
        Ok(self.orgs.lock().unwrap().iter().find(|o| o.external_id.as_deref() == Some(e)).cloned())
    }
    async fn upsert_organization(&self, o: &OrganizationUpsert) -> PortResult<Organization> {
        self.call();
        let org = Organization {
            id: OrganizationId::new(self.id()).unwrap(),
            name: Some(o.name.clone()),
            external_id: o.external_id.clone(),
            plan: None,
            monthly_spend: None,
            fields: BTreeMap::new(),
            tags: vec![],
            updated_at: Timestamp(1),
        };
        self.orgs.lock().unwrap().push(org.clone());
        Ok(org)
    }
    fn ticket_url(&self, id: TicketId) -> String {
        format!("https://acme.zendesk.test/agent/tickets/{id}")
    }
    async fn own_user_id(&self) -> PortResult<UserId> {
        Ok(UserId::new(1).unwrap())
    }
    async fn ticket_sla(&self, id: TicketId) -> PortResult<Option<SlaTarget>> {
        self.call();
        Ok(self.slas.lock().unwrap().get(&id.get()).cloned())
    }
    async fn organization(&self, id: OrganizationId) -> PortResult<Organization> {
        self.call();
        self.orgs
            .lock()
            .unwrap()
            .iter()
            .find(|o| o.id == id)
            .cloned()
            .ok_or(PortError::NotFound { service: Service::Zendesk, what: "org".into() })
    }
}

pub struct FixedClock(pub Mutex<Timestamp>);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

pub struct TestPorts {
    pub store: MemStore,
    pub messenger: FakeMessenger,
    pub helpdesk: FakeHelpdesk,
    pub clock: FixedClock,
    pub config: Config,
    pub worker: String,
}

impl TestPorts {
    pub fn new(config_yaml: &str) -> Self {
        Self {
            store: MemStore::default(),
            messenger: FakeMessenger::default(),
            helpdesk: FakeHelpdesk::default(),
            clock: FixedClock(Mutex::new(Timestamp(10_000))),
            config: Config::from_yaml(config_yaml).unwrap(),
            worker: "w1".into(),
        }
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
        self.messenger.conversations.lock().unwrap().insert(
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
        self.messenger.contacts.lock().unwrap().insert(
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

impl Ports for TestPorts {
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
        &self.worker
    }
}
