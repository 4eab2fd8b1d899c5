//! Shadow execution: run a job against the real state but write nothing. Reads go to the real
//! adapters; every vendor write is recorded as a planned [`Action`] and answered with a
//! stand-in value; store writes land in an in-memory overlay, so later reads in the same run see
//! them but the real store never does. The recorded plan is what live mode would have done.
//!
//! Used by shadow mode (a config flag per job) and by `bridge dlq replay --dry-run`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bridge_domain::Config;
use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, OrganizationId, PartId, TicketId, UserId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{
    Company, Contact, Conversation, ConversationChange, FieldValue, Link, NewTicket, Organization, OrganizationUpsert,
    OutboundMessage, Segment, Ticket, TicketComment, TicketStatus, TicketUpdate, Timestamp, User, UserUpsert,
};
use bridge_domain::ports::{
    Claim, Clock, Doc, Helpdesk, LinkCreated, Messenger, PortError, PortResult, Service, Store,
};
use serde::Serialize;

use crate::Ports;

mod profiles;

pub use profiles::ShadowDirectory;

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

/// Ports that read through to `inner` and write nothing.
#[derive(Debug)]
pub struct ShadowPorts<'a, P: Ports> {
    inner: &'a P,
    store: ShadowStore<'a, P::Store>,
    messenger: ShadowMessenger<'a, P::Messenger>,
    helpdesk: ShadowHelpdesk<'a, P::Helpdesk>,
    directories: Option<(ShadowDirectory<'a>, ShadowDirectory<'a>)>,
    plan: &'a Plan,
}

impl<'a, P: Ports> ShadowPorts<'a, P> {
    /// Wraps `inner`, recording into `plan`.
    pub fn new(inner: &'a P, plan: &'a Plan) -> Self {
        Self {
            inner,
            store: ShadowStore { inner: inner.store(), overlay: Mutex::default() },
            messenger: ShadowMessenger { inner: inner.messenger(), plan },
            helpdesk: ShadowHelpdesk { inner: inner.helpdesk(), plan },
            directories: inner
                .profile_directories()
                .map(|d| (ShadowDirectory::new(d.intercom, plan), ShadowDirectory::new(d.zendesk, plan))),
            plan,
        }
    }
    /// The plan being recorded.
    pub fn plan(&self) -> &Plan {
        self.plan
    }
}

impl<'a, P: Ports> Ports for ShadowPorts<'a, P> {
    type Store = ShadowStore<'a, P::Store>;
    type Messenger = ShadowMessenger<'a, P::Messenger>;
    type Helpdesk = ShadowHelpdesk<'a, P::Helpdesk>;
    fn store(&self) -> &Self::Store {
        &self.store
    }
    fn messenger(&self) -> &Self::Messenger {
        &self.messenger
    }
    fn helpdesk(&self) -> &Self::Helpdesk {
        &self.helpdesk
    }
    fn clock(&self) -> &dyn Clock {
        self.inner.clock()
    }
    fn config(&self) -> &Config {
        self.inner.config()
    }
    fn worker_id(&self) -> &str {
        self.inner.worker_id()
    }
    fn profile_directories(&self) -> Option<crate::profile_sync::Directories<'_>> {
        self.directories.as_ref().map(|(intercom, zendesk)| crate::profile_sync::Directories { intercom, zendesk })
    }
}

/// A store whose writes stay in memory.
#[derive(Debug)]
pub struct ShadowStore<'a, S> {
    inner: &'a S,
    overlay: Mutex<Overlay>,
}

#[derive(Debug, Default)]
struct Overlay {
    /// Intents claimed in this run: `None` held, `Some(result)` done.
    intents: HashMap<String, Option<String>>,
    links: HashMap<String, Link>,
    tickets: HashMap<u64, String>,
    /// Documents written (`Some`) or deleted (`None`) in this run.
    docs: HashMap<String, Option<Doc<serde_json::Value>>>,
}

impl<S> ShadowStore<'_, S> {
    fn with<T>(&self, f: impl FnOnce(&mut Overlay) -> T) -> T {
        let mut guard = self.overlay.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

fn unreadable(key: &DocKey, e: serde_json::Error) -> PortError {
    PortError::Rejected { service: Service::Store, source: format!("document {key}: {e}").into() }
}

impl<S: Store> Store for ShadowStore<'_, S> {
    async fn claim(&self, intent: &Intent, holder: &str, lease: Duration, now: Timestamp) -> PortResult<Claim> {
        let key = intent.to_string();
        if let Some(state) = self.with(|o| o.intents.get(&key).cloned()) {
            return Ok(match state {
                Some(result) => Claim::Done(result),
                None => Claim::Acquired,
            });
        }
        // Read the real state without changing it: a real "done" stays done.
        let _ = (holder, lease, now);
        match self.inner.intent_state(intent).await? {
            Some(Claim::Done(r)) => Ok(Claim::Done(r)),
            _ => {
                self.with(|o| o.intents.insert(key, None));
                Ok(Claim::Acquired)
            }
        }
    }
    async fn intent_state(&self, intent: &Intent) -> PortResult<Option<Claim>> {
        match self.with(|o| o.intents.get(&intent.to_string()).cloned()) {
            Some(Some(result)) => Ok(Some(Claim::Done(result))),
            Some(None) => Ok(Some(Claim::Busy)),
            None => self.inner.intent_state(intent).await,
        }
    }
    async fn complete(&self, intent: &Intent, result: &str) -> PortResult<()> {
        self.with(|o| o.intents.insert(intent.to_string(), Some(result.to_string())));
        Ok(())
    }
    async fn complete_for(&self, intent: &Intent, result: &str, _keep: Duration) -> PortResult<()> {
        self.complete(intent, result).await
    }
    async fn release(&self, intent: &Intent, _holder: &str) -> PortResult<()> {
        self.with(|o| o.intents.remove(&intent.to_string()));
        Ok(())
    }
    async fn link_by_conversation(&self, c: &ConversationId) -> PortResult<Option<Link>> {
        if let Some(l) = self.with(|o| o.links.get(c.as_str()).cloned()) {
            return Ok(Some(l));
        }
        self.inner.link_by_conversation(c).await
    }
    async fn link_by_ticket(&self, t: TicketId) -> PortResult<Option<Link>> {
        if let Some(l) = self.with(|o| o.tickets.get(&t.get()).and_then(|c| o.links.get(c)).cloned()) {
            return Ok(Some(l));
        }
        self.inner.link_by_ticket(t).await
    }
    async fn create_link(&self, link: &Link) -> PortResult<LinkCreated> {
        if let Some(existing) = self.link_by_conversation(&link.conversation_id).await? {
            return Ok(LinkCreated::AlreadyLinked(existing));
        }
        self.with(|o| {
            o.links.insert(link.conversation_id.to_string(), link.clone());
            for t in &link.tickets {
                o.tickets.insert(t.get(), link.conversation_id.to_string());
            }
        });
        Ok(LinkCreated::Created)
    }
    async fn update_link(&self, link: &Link, _expected_version: u64) -> PortResult<bool> {
        self.with(|o| {
            o.links.insert(link.conversation_id.to_string(), link.clone());
            for t in &link.tickets {
                o.tickets.insert(t.get(), link.conversation_id.to_string());
            }
        });
        Ok(true)
    }
    async fn links_of_person(&self, contacts: &[ContactId], users: &[UserId]) -> PortResult<Vec<Link>> {
        self.inner.links_of_person(contacts, users).await
    }
    async fn delete_link(&self, link: &Link) -> PortResult<()> {
        // Planned, not made: the real links stay; this run reads them as gone from now on.
        self.with(|o| o.links.remove(link.conversation_id.as_str()));
        Ok(())
    }
    async fn load<T: serde::de::DeserializeOwned + Send>(&self, key: &DocKey) -> PortResult<Option<Doc<T>>> {
        match self.with(|o| o.docs.get(&key.to_string()).cloned()) {
            Some(Some(doc)) => {
                let value = serde_json::from_value(doc.value).map_err(|e| unreadable(key, e))?;
                Ok(Some(Doc { value, version: doc.version }))
            }
            Some(None) => Ok(None),
            None => self.inner.load(key).await,
        }
    }
    async fn save<T: Serialize + Sync>(&self, key: &DocKey, value: &T, expected: Option<u64>) -> PortResult<bool> {
        let current = self.load::<serde_json::Value>(key).await?.map(|v| v.version);
        if current != expected {
            return Ok(false);
        }
        let value = serde_json::to_value(value).map_err(|e| unreadable(key, e))?;
        let version = current.unwrap_or(0) + 1;
        self.with(|o| o.docs.insert(key.to_string(), Some(Doc { value, version })));
        Ok(true)
    }
    async fn delete(&self, key: &DocKey) -> PortResult<bool> {
        let existed = self.load::<serde_json::Value>(key).await?.is_some();
        self.with(|o| o.docs.insert(key.to_string(), None));
        Ok(existed)
    }
}

/// Intercom reads through, writes recorded.
#[derive(Debug)]
pub struct ShadowMessenger<'a, M> {
    inner: &'a M,
    plan: &'a Plan,
}

impl<M: Messenger> Messenger for ShadowMessenger<'_, M> {
    async fn conversation(&self, id: &ConversationId) -> PortResult<Conversation> {
        self.inner.conversation(id).await
    }
    async fn contact(&self, id: &ContactId) -> PortResult<Contact> {
        self.inner.contact(id).await
    }
    async fn contact_by_external_id(&self, external_id: &str) -> PortResult<Option<Contact>> {
        self.inner.contact_by_external_id(external_id).await
    }
    async fn contacts_by_email(&self, email: &str) -> PortResult<Vec<Contact>> {
        self.inner.contacts_by_email(email).await
    }
    async fn contact_companies(&self, id: &ContactId) -> PortResult<Vec<Company>> {
        self.inner.contact_companies(id).await
    }
    async fn contact_segments(&self, id: &ContactId) -> PortResult<Vec<Segment>> {
        self.inner.contact_segments(id).await
    }
    async fn company(&self, id: &CompanyId) -> PortResult<Company> {
        self.inner.company(id).await
    }
    async fn set_conversation_attributes(
        &self,
        id: &ConversationId,
        attributes: &BTreeMap<String, FieldValue>,
    ) -> PortResult<()> {
        self.plan.record(Action::SetConversationAttributes {
            conversation: id.clone(),
            names: attributes.keys().cloned().collect(),
        });
        Ok(())
    }
    async fn add_note(&self, id: &ConversationId, _admin: &AdminId, _html: &str) -> PortResult<PartId> {
        self.plan.record(Action::AddNote { conversation: id.clone() });
        stand_in_part(self.plan)
    }
    async fn reply(&self, id: &ConversationId, _admin: &AdminId, _html: &str) -> PortResult<PartId> {
        self.plan.record(Action::Reply { conversation: id.clone() });
        stand_in_part(self.plan)
    }
    async fn change_conversation(
        &self,
        id: &ConversationId,
        _admin: &AdminId,
        change: &ConversationChange,
    ) -> PortResult<()> {
        let change = match change {
            ConversationChange::Close { .. } => "close",
            ConversationChange::Open => "open",
            ConversationChange::Snooze { .. } => "snooze",
            ConversationChange::Assign { .. } => "assign",
        };
        self.plan.record(Action::ChangeConversation { conversation: id.clone(), change: change.into() });
        Ok(())
    }
    async fn tag_conversation(&self, id: &ConversationId, _admin: &AdminId, tag: &str) -> PortResult<()> {
        self.plan.record(Action::TagConversation { conversation: id.clone(), tag: tag.into() });
        Ok(())
    }
    async fn untag_conversation(&self, id: &ConversationId, _admin: &AdminId, tag: &str) -> PortResult<()> {
        self.plan.record(Action::UntagConversation { conversation: id.clone(), tag: tag.into() });
        Ok(())
    }
    async fn admin_by_email(&self, email: &str) -> PortResult<Option<AdminId>> {
        self.inner.admin_by_email(email).await
    }
    async fn send_message(&self, message: &OutboundMessage) -> PortResult<String> {
        self.plan.record(Action::SendMessage { to: message.to.clone() });
        Ok(format!("shadow-{}", self.plan.stand_in_id()))
    }
}

fn stand_in_part(plan: &Plan) -> PortResult<PartId> {
    PartId::parse(format!("shadow-{}", plan.stand_in_id()))
        .map_err(|e| PortError::rejected(Service::Intercom, e.to_string()))
}

fn stand_in<T>(plan: &Plan, make: impl FnOnce(u64) -> Result<T, bridge_domain::ids::IdError>) -> PortResult<T> {
    make(plan.stand_in_id()).map_err(|e| PortError::rejected(Service::Zendesk, e.to_string()))
}

/// Zendesk reads through, writes recorded.
#[derive(Debug)]
pub struct ShadowHelpdesk<'a, H> {
    inner: &'a H,
    plan: &'a Plan,
}

impl<H: Helpdesk> Helpdesk for ShadowHelpdesk<'_, H> {
    async fn ticket(&self, id: TicketId) -> PortResult<Ticket> {
        self.inner.ticket(id).await
    }
    async fn tickets_by_external_id(&self, external_id: &str) -> PortResult<Vec<Ticket>> {
        self.inner.tickets_by_external_id(external_id).await
    }
    async fn create_ticket(&self, t: &NewTicket, _key: &str) -> PortResult<Ticket> {
        self.plan.record(Action::CreateTicket {
            external_id: t.external_id.clone(),
            subject: t.subject.clone(),
            priority: t.priority.map(|p| p.as_str().to_string()),
            tags: t.tags.clone(),
        });
        Ok(Ticket {
            id: stand_in(self.plan, TicketId::new)?,
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
            followup_source_id: t.followup_source_id,
            custom_fields: t.custom_fields.clone(),
            created_at: Timestamp::default(),
            updated_at: Timestamp::default(),
        })
    }
    async fn update_ticket(&self, id: TicketId, update: &TicketUpdate) -> PortResult<Ticket> {
        self.plan.record(Action::UpdateTicket {
            ticket: id,
            status: update.status.map(|s| s.as_str().to_string()),
            comment: update.comment.as_ref().map(|c| if c.public { "public" } else { "internal" }),
        });
        self.inner.ticket(id).await
    }
    async fn ticket_comments(&self, id: TicketId) -> PortResult<Vec<TicketComment>> {
        self.inner.ticket_comments(id).await
    }
    async fn add_ticket_tags(&self, id: TicketId, tags: &[String]) -> PortResult<()> {
        self.plan.record(Action::AddTicketTags { ticket: id, tags: tags.to_vec() });
        Ok(())
    }
    async fn remove_ticket_tags(&self, id: TicketId, tags: &[String]) -> PortResult<()> {
        self.plan.record(Action::RemoveTicketTags { ticket: id, tags: tags.to_vec() });
        Ok(())
    }
    async fn user(&self, id: UserId) -> PortResult<User> {
        self.inner.user(id).await
    }
    async fn user_by_external_id(&self, external_id: &str) -> PortResult<Option<User>> {
        self.inner.user_by_external_id(external_id).await
    }
    async fn users_by_email(&self, email: &str) -> PortResult<Vec<User>> {
        self.inner.users_by_email(email).await
    }
    async fn upsert_user(&self, user: &UserUpsert) -> PortResult<User> {
        self.plan.record(Action::UpsertUser { external_id: user.external_id.clone() });
        Ok(User {
            id: stand_in(self.plan, UserId::new)?,
            name: Some(user.name.clone()),
            email: user.email.clone(),
            phone: user.phone.clone(),
            external_id: user.external_id.clone(),
            role: "end-user".into(),
            org_ids: user.organization_id.into_iter().collect(),
            fields: user.fields.clone(),
            tags: Vec::new(),
            updated_at: Timestamp::default(),
        })
    }
    async fn organization_by_external_id(&self, external_id: &str) -> PortResult<Option<Organization>> {
        self.inner.organization_by_external_id(external_id).await
    }
    async fn upsert_organization(&self, org: &OrganizationUpsert) -> PortResult<Organization> {
        self.plan.record(Action::UpsertOrganization { external_id: org.external_id.clone() });
        Ok(Organization {
            id: stand_in(self.plan, OrganizationId::new)?,
            name: Some(org.name.clone()),
            external_id: org.external_id.clone(),
            plan: None,
            monthly_spend: None,
            fields: org.fields.clone(),
            tags: Vec::new(),
            updated_at: Timestamp::default(),
        })
    }
    fn ticket_url(&self, id: TicketId) -> String {
        self.inner.ticket_url(id)
    }
    async fn own_user_id(&self) -> PortResult<UserId> {
        self.inner.own_user_id().await
    }
    async fn organization(&self, id: OrganizationId) -> PortResult<Organization> {
        self.inner.organization(id).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use bridge_domain::event::QueuedEvent;

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
        crate::escalate::run(&ShadowPorts::new(&p, &plan), &event()).await.unwrap();
        assert_eq!(kinds(&plan.actions()), ["upsert_user", "create_ticket", "set_conversation_attributes", "add_note"]);
        assert!(p.helpdesk.tickets.lock().unwrap().is_empty(), "no ticket written");
        assert!(p.messenger.notes.lock().unwrap().is_empty(), "no note written");
        assert!(p.store.link_by_conversation(&ConversationId::parse("42").unwrap()).await.unwrap().is_none());

        // Live mode does exactly the planned writes.
        let before = p.helpdesk.calls.load(Ordering::SeqCst);
        crate::escalate::run(&p, &event()).await.unwrap();
        assert!(p.helpdesk.calls.load(Ordering::SeqCst) > before);
        assert_eq!(p.helpdesk.tickets.lock().unwrap().len(), 1);
        assert_eq!(p.helpdesk.users.lock().unwrap().len(), 1);
        assert_eq!(p.messenger.notes.lock().unwrap().len(), 1);
        assert_eq!(p.messenger.attributes.lock().unwrap().len(), 1);

        // Once done, a shadow run plans nothing.
        let again = Plan::default();
        crate::escalate::run(&ShadowPorts::new(&p, &again), &event()).await.unwrap();
        assert!(again.actions().is_empty(), "{:?}", again.actions());
    }
}
