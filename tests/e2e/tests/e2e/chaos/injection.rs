//! Crash injection: the store, Intercom and Zendesk ports wrapped so that a run dies at the N-th
//! call (before it is made, or after its answer is lost), and the job ports built from them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_aws::DynamoStore;
use bridge_domain::Config;
use bridge_domain::erasure::{DeadLetterPurge, PersonEraser};
use bridge_domain::event::{Entity, Kind, Vendor};
use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, OrganizationId, PartId, TicketId, UserId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{
    Company, Contact, Conversation, ConversationChange, Download, FieldValue, FileData, Link, NewTicket, Organization,
    OrganizationUpsert, OutboundMessage, Segment, SlaTarget, Ticket, TicketComment, TicketUpdate, Timestamp, User,
    UserUpsert,
};
use bridge_domain::ports::{
    Claim, Clock, Doc, Helpdesk, LinkCreated, Messenger, PortError, PortResult, Service, Store, WithLink,
};
use bridge_domain::profiles::directory::{
    BulkPoll, BulkRecord, BulkStarted, ProfileDirectory, ProfilePage, RateObservation,
};
use bridge_domain::profiles::{CatalogField, Profile};
use bridge_e2e::World;
use bridge_intercom::IntercomClient;
use bridge_zendesk::ZendeskClient;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where a run dies.
#[derive(Debug)]
pub(super) struct Plan {
    fail_at: usize,
    after: bool,
    calls: AtomicUsize,
    fired: AtomicBool,
    steps: Mutex<Vec<&'static str>>,
}

enum Step {
    Go,
    Die,
    GoThenDie,
}

impl Plan {
    pub(super) fn new(fail_at: usize, after: bool) -> Arc<Self> {
        Arc::new(Plan {
            fail_at,
            after,
            calls: AtomicUsize::new(0),
            fired: AtomicBool::new(false),
            steps: Mutex::new(Vec::new()),
        })
    }
    pub(super) fn never() -> Arc<Self> {
        Self::new(usize::MAX, false)
    }
    fn step(&self, name: &'static str) -> Step {
        self.steps.lock().unwrap().push(name);
        let i = self.calls.fetch_add(1, Ordering::SeqCst);
        match i.cmp(&self.fail_at) {
            std::cmp::Ordering::Less => Step::Go,
            std::cmp::Ordering::Equal => {
                self.fired.store(true, Ordering::SeqCst);
                if self.after { Step::GoThenDie } else { Step::Die }
            }
            std::cmp::Ordering::Greater => Step::Die,
        }
    }
    pub(super) fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
    pub(super) fn step_name(&self, n: usize) -> &'static str {
        self.steps.lock().unwrap().get(n).copied().unwrap_or("?")
    }
}

/// Runs `$call` (a future) under the plan.
macro_rules! guarded {
    ($self:ident, $service:expr, $name:expr, $call:expr) => {{
        match $self.plan.step($name) {
            Step::Go => $call.await,
            Step::Die => Err(PortError::unavailable($service, format!("crashed before {}", $name))),
            Step::GoThenDie => {
                let _ = $call.await;
                Err(PortError::unavailable($service, format!("crashed after {}", $name)))
            }
        }
    }};
}

pub(super) struct CStore<S> {
    inner: S,
    plan: Arc<Plan>,
}

impl<S: Store> Store for CStore<S> {
    async fn claim(&self, i: &Intent, h: &str, l: Duration, n: Timestamp) -> PortResult<Claim> {
        guarded!(self, Service::Store, "store.claim", self.inner.claim(i, h, l, n))
    }
    async fn intent_state(&self, i: &Intent) -> PortResult<Option<Claim>> {
        guarded!(self, Service::Store, "store.intent_state", self.inner.intent_state(i))
    }
    async fn complete(&self, i: &Intent, r: &str) -> PortResult<()> {
        guarded!(self, Service::Store, "store.complete", self.inner.complete(i, r))
    }
    async fn complete_for(&self, i: &Intent, r: &str, keep: Duration) -> PortResult<()> {
        guarded!(self, Service::Store, "store.complete_for", self.inner.complete_for(i, r, keep))
    }
    async fn release(&self, i: &Intent, h: &str) -> PortResult<()> {
        guarded!(self, Service::Store, "store.release", self.inner.release(i, h))
    }
    async fn link_by_conversation(&self, c: &ConversationId) -> PortResult<Option<Link>> {
        guarded!(self, Service::Store, "store.link_by_conversation", self.inner.link_by_conversation(c))
    }
    async fn link_by_ticket(&self, t: TicketId) -> PortResult<Option<Link>> {
        guarded!(self, Service::Store, "store.link_by_ticket", self.inner.link_by_ticket(t))
    }
    async fn create_link_with(&self, link: &Link, with: WithLink<'_>) -> PortResult<LinkCreated> {
        guarded!(self, Service::Store, "store.create_link", self.inner.create_link_with(link, with))
    }
    async fn update_link(&self, link: &Link, v: u64) -> PortResult<bool> {
        guarded!(self, Service::Store, "store.update_link", self.inner.update_link(link, v))
    }
    async fn load<T: DeserializeOwned + Send>(&self, k: &DocKey) -> PortResult<Option<Doc<T>>> {
        guarded!(self, Service::Store, "store.load", self.inner.load::<T>(k))
    }
    async fn save<T: Serialize + Sync>(&self, k: &DocKey, v: &T, e: Option<u64>) -> PortResult<bool> {
        guarded!(self, Service::Store, "store.save", self.inner.save(k, v, e))
    }
    async fn delete(&self, k: &DocKey) -> PortResult<bool> {
        guarded!(self, Service::Store, "store.delete", self.inner.delete(k))
    }
    async fn links_of_person(&self, c: &[ContactId], u: &[UserId]) -> PortResult<Vec<Link>> {
        guarded!(self, Service::Store, "store.links_of_person", self.inner.links_of_person(c, u))
    }
    async fn delete_link(&self, link: &Link) -> PortResult<()> {
        guarded!(self, Service::Store, "store.delete_link", self.inner.delete_link(link))
    }
}

pub(super) struct CMessenger<M> {
    inner: M,
    plan: Arc<Plan>,
}

const IC: Service = Service::Intercom;
const ZD: Service = Service::Zendesk;

impl<M: Messenger> Messenger for CMessenger<M> {
    async fn conversation(&self, id: &ConversationId) -> PortResult<Conversation> {
        guarded!(self, IC, "intercom.conversation", self.inner.conversation(id))
    }
    async fn contact(&self, id: &ContactId) -> PortResult<Contact> {
        guarded!(self, IC, "intercom.contact", self.inner.contact(id))
    }
    async fn contact_by_external_id(&self, e: &str) -> PortResult<Option<Contact>> {
        guarded!(self, IC, "intercom.contact_by_external_id", self.inner.contact_by_external_id(e))
    }
    async fn contacts_by_email(&self, e: &str) -> PortResult<Vec<Contact>> {
        guarded!(self, IC, "intercom.contacts_by_email", self.inner.contacts_by_email(e))
    }
    async fn contact_companies(&self, id: &ContactId) -> PortResult<Vec<Company>> {
        guarded!(self, IC, "intercom.contact_companies", self.inner.contact_companies(id))
    }
    async fn contact_segments(&self, id: &ContactId) -> PortResult<Vec<Segment>> {
        guarded!(self, IC, "intercom.contact_segments", self.inner.contact_segments(id))
    }
    async fn company(&self, id: &CompanyId) -> PortResult<Company> {
        guarded!(self, IC, "intercom.company", self.inner.company(id))
    }
    async fn set_conversation_attributes(
        &self,
        id: &ConversationId,
        a: &BTreeMap<String, FieldValue>,
    ) -> PortResult<()> {
        guarded!(self, IC, "intercom.set_conversation_attributes", self.inner.set_conversation_attributes(id, a))
    }
    async fn add_note(&self, id: &ConversationId, admin: &AdminId, html: &str) -> PortResult<PartId> {
        guarded!(self, IC, "intercom.add_note", self.inner.add_note(id, admin, html))
    }
    async fn reply(&self, id: &ConversationId, admin: &AdminId, html: &str) -> PortResult<PartId> {
        guarded!(self, IC, "intercom.reply", self.inner.reply(id, admin, html))
    }
    async fn change_conversation(&self, id: &ConversationId, a: &AdminId, c: &ConversationChange) -> PortResult<()> {
        guarded!(self, IC, "intercom.change_conversation", self.inner.change_conversation(id, a, c))
    }
    async fn tag_conversation(&self, id: &ConversationId, a: &AdminId, t: &str) -> PortResult<()> {
        guarded!(self, IC, "intercom.tag_conversation", self.inner.tag_conversation(id, a, t))
    }
    async fn untag_conversation(&self, id: &ConversationId, a: &AdminId, t: &str) -> PortResult<()> {
        guarded!(self, IC, "intercom.untag_conversation", self.inner.untag_conversation(id, a, t))
    }
    async fn admin_by_email(&self, e: &str) -> PortResult<Option<AdminId>> {
        guarded!(self, IC, "intercom.admin_by_email", self.inner.admin_by_email(e))
    }
    async fn send_message(&self, m: &OutboundMessage) -> PortResult<String> {
        guarded!(self, IC, "intercom.send_message", self.inner.send_message(m))
    }
    async fn fetch_part_file(&self, a: &bridge_domain::model::Attachment, max: u64) -> PortResult<Download> {
        guarded!(self, IC, "intercom.fetch_part_file", self.inner.fetch_part_file(a, max))
    }
    async fn post_with_files(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        post: bridge_domain::model::AdminPost,
        html: &str,
        files: &[FileData],
    ) -> PortResult<PartId> {
        guarded!(self, IC, "intercom.post_with_files", self.inner.post_with_files(id, admin, post, html, files))
    }
}

pub(super) struct CHelpdesk<H> {
    inner: H,
    plan: Arc<Plan>,
}

impl<H: Helpdesk> Helpdesk for CHelpdesk<H> {
    async fn ticket(&self, id: TicketId) -> PortResult<Ticket> {
        guarded!(self, ZD, "zendesk.ticket", self.inner.ticket(id))
    }
    async fn tickets_by_external_id(&self, e: &str) -> PortResult<Vec<Ticket>> {
        guarded!(self, ZD, "zendesk.tickets_by_external_id", self.inner.tickets_by_external_id(e))
    }
    async fn create_ticket(&self, t: &NewTicket, key: &str) -> PortResult<Ticket> {
        guarded!(self, ZD, "zendesk.create_ticket", self.inner.create_ticket(t, key))
    }
    async fn update_ticket(&self, id: TicketId, u: &TicketUpdate) -> PortResult<Ticket> {
        guarded!(self, ZD, "zendesk.update_ticket", self.inner.update_ticket(id, u))
    }
    async fn ticket_comments(&self, id: TicketId) -> PortResult<Vec<TicketComment>> {
        guarded!(self, ZD, "zendesk.ticket_comments", self.inner.ticket_comments(id))
    }
    async fn add_ticket_tags(&self, id: TicketId, t: &[String]) -> PortResult<()> {
        guarded!(self, ZD, "zendesk.add_ticket_tags", self.inner.add_ticket_tags(id, t))
    }
    async fn remove_ticket_tags(&self, id: TicketId, t: &[String]) -> PortResult<()> {
        guarded!(self, ZD, "zendesk.remove_ticket_tags", self.inner.remove_ticket_tags(id, t))
    }
    async fn user(&self, id: UserId) -> PortResult<User> {
        guarded!(self, ZD, "zendesk.user", self.inner.user(id))
    }
    async fn user_by_external_id(&self, e: &str) -> PortResult<Option<User>> {
        guarded!(self, ZD, "zendesk.user_by_external_id", self.inner.user_by_external_id(e))
    }
    async fn users_by_email(&self, e: &str) -> PortResult<Vec<User>> {
        guarded!(self, ZD, "zendesk.users_by_email", self.inner.users_by_email(e))
    }
    async fn upsert_user(&self, u: &UserUpsert) -> PortResult<User> {
        guarded!(self, ZD, "zendesk.upsert_user", self.inner.upsert_user(u))
    }
    async fn organization_by_external_id(&self, e: &str) -> PortResult<Option<Organization>> {
        guarded!(self, ZD, "zendesk.organization_by_external_id", self.inner.organization_by_external_id(e))
    }
    async fn upsert_organization(&self, o: &OrganizationUpsert) -> PortResult<Organization> {
        guarded!(self, ZD, "zendesk.upsert_organization", self.inner.upsert_organization(o))
    }
    fn ticket_url(&self, id: TicketId) -> String {
        self.inner.ticket_url(id)
    }
    async fn own_user_id(&self) -> PortResult<UserId> {
        guarded!(self, ZD, "zendesk.own_user_id", self.inner.own_user_id())
    }
    async fn organization(&self, id: OrganizationId) -> PortResult<Organization> {
        guarded!(self, ZD, "zendesk.organization", self.inner.organization(id))
    }
    async fn ticket_sla(&self, id: TicketId) -> PortResult<Option<SlaTarget>> {
        guarded!(self, ZD, "zendesk.ticket_sla", self.inner.ticket_sla(id))
    }
    async fn upload_file(&self, f: FileData) -> PortResult<bridge_domain::model::UploadToken> {
        guarded!(self, ZD, "zendesk.upload_file", self.inner.upload_file(f))
    }
    async fn fetch_comment_file(&self, a: &bridge_domain::model::TicketAttachment, max: u64) -> PortResult<Download> {
        guarded!(self, ZD, "zendesk.fetch_comment_file", self.inner.fetch_comment_file(a, max))
    }
}

/// The wall clock shifted by `offset` seconds: a redelivery "later" finds expired leases.
struct Shifted(i64);

impl Clock for Shifted {
    fn now(&self) -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp() + self.0)
    }
}

pub(super) struct CrashPorts {
    store: CStore<bridge_aws::DynamoStore>,
    messenger: CMessenger<bridge_intercom::IntercomClient>,
    helpdesk: CHelpdesk<bridge_zendesk::ZendeskClient>,
    clock: Shifted,
    config: Config,
}

impl CrashPorts {
    pub(super) fn new(world: &World, plan: &Arc<Plan>, clock_offset: i64) -> Self {
        let store =
            bridge_aws::DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(&world.sdk), world.table.clone());
        CrashPorts {
            store: CStore { inner: store, plan: plan.clone() },
            messenger: CMessenger { inner: world.intercom_client().unwrap(), plan: plan.clone() },
            helpdesk: CHelpdesk { inner: world.zendesk_client().unwrap(), plan: plan.clone() },
            clock: Shifted(clock_offset),
            config: world.config.clone(),
        }
    }
}

impl CrashPorts {
    pub(super) fn ports(
        &self,
    ) -> bridge_jobs::Ports<'_, CStore<DynamoStore>, CMessenger<IntercomClient>, CHelpdesk<ZendeskClient>> {
        bridge_jobs::Ports {
            store: &self.store,
            intercom: &self.messenger,
            zendesk: &self.helpdesk,
            clock: &self.clock,
            config: &self.config,
            worker: "chaos",
        }
    }
}

/// Job 2's and erasure's ports of a crashing vendor: each call is a step of the plan too.
macro_rules! guarded_profiles {
    ($wrapper:ident, $service:expr, $side:literal) => {
        impl<D: ProfileDirectory> ProfileDirectory for $wrapper<D> {
            fn side(&self) -> Vendor {
                self.inner.side()
            }
            async fn get(&self, kind: Kind, id: &str) -> PortResult<Option<Profile>> {
                guarded!(self, $service, concat!($side, ".profile"), self.inner.get(kind, id))
            }
            async fn find_by_external_id(&self, kind: Kind, external_id: &str) -> PortResult<Vec<Profile>> {
                guarded!(
                    self,
                    $service,
                    concat!($side, ".profiles_by_external_id"),
                    self.inner.find_by_external_id(kind, external_id)
                )
            }
            async fn find_by_email(&self, email: &str) -> PortResult<Vec<Profile>> {
                guarded!(self, $service, concat!($side, ".profiles_by_email"), self.inner.find_by_email(email))
            }
            async fn write(
                &self,
                kind: Kind,
                id: Option<&str>,
                values: &BTreeMap<String, FieldValue>,
            ) -> PortResult<Profile> {
                guarded!(self, $service, concat!($side, ".write_profile"), self.inner.write(kind, id, values))
            }
            async fn join_org(&self, person: &str, org: &str) -> PortResult<()> {
                guarded!(self, $service, concat!($side, ".join_org"), self.inner.join_org(person, org))
            }
            async fn changed_since(
                &self,
                kind: Kind,
                since: Timestamp,
                cursor: Option<&str>,
            ) -> PortResult<ProfilePage> {
                guarded!(
                    self,
                    $service,
                    concat!($side, ".changed_since"),
                    self.inner.changed_since(kind, since, cursor)
                )
            }
            async fn list_page(&self, kind: Kind, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
                guarded!(self, $service, concat!($side, ".list_page"), self.inner.list_page(kind, cursor, per_page))
            }
            async fn start_many(&self, kind: Kind, records: &[BulkRecord]) -> PortResult<BulkStarted> {
                guarded!(self, $service, concat!($side, ".start_many"), self.inner.start_many(kind, records))
            }
            async fn poll_many(&self, job: &str, records: usize) -> PortResult<BulkPoll> {
                guarded!(self, $service, concat!($side, ".poll_many"), self.inner.poll_many(job, records))
            }
            async fn poll_jobs(&self, jobs: &[(&str, usize)]) -> PortResult<Vec<BulkPoll>> {
                guarded!(self, $service, concat!($side, ".poll_jobs"), self.inner.poll_jobs(jobs))
            }
            async fn catalog(&self, kind: Kind) -> PortResult<Vec<CatalogField>> {
                guarded!(self, $service, concat!($side, ".catalog"), self.inner.catalog(kind))
            }
            fn rate_limit(&self) -> Option<RateObservation> {
                self.inner.rate_limit()
            }
        }

        impl<E: PersonEraser> PersonEraser for $wrapper<E> {
            fn side(&self) -> Vendor {
                self.inner.side()
            }
            async fn delete_person(&self, id: &str) -> PortResult<bool> {
                guarded!(self, $service, concat!($side, ".delete_person"), self.inner.delete_person(id))
            }
        }
    };
}

guarded_profiles!(CMessenger, IC, "intercom");
guarded_profiles!(CHelpdesk, ZD, "zendesk");

/// The dead-letter queues, untouched: these jobs never erase anyone.
pub(super) struct NoDeadLetters;

impl DeadLetterPurge for NoDeadLetters {
    async fn purge_dead_letters(
        &self,
        _matches: &(dyn Fn(&Entity, &Value) -> bool + Send + Sync),
    ) -> PortResult<usize> {
        Ok(0)
    }
}
