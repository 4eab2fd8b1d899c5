//! The chaos suite (`make chaos`): DESIGN.md's invariants (one effect per intent, nothing lost,
//! both sides consistent at the end) under crashes at every step of every job, duplicated,
//! reordered and delayed deliveries, concurrent replays, 429 storms, 5xx bursts and a vendor
//! outage that drops webhooks.
//!
//! Crashes: the ports (store, Intercom, Zendesk) are wrapped so that the N-th call of a run
//! fails and every later call fails too (the process is dead: not even the lease is released),
//! for every N until a run completes without reaching N. Two flavours: the N-th call is never
//! made ("crash before"), or it is made and its answer lost ("crash after": the vendor or
//! DynamoDB did the write, the worker never heard). Then the message is redelivered, with the
//! clock moved past the leases, until it is acknowledged, and the effects are counted on the
//! simulators and in the store. Events come from the simulators' real webhooks through the real
//! ingress (signature check, parse, classify), captured instead of queued.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bridge_aws::DynamoStore;
use bridge_domain::Config;
use bridge_domain::erasure::{DeadLetterPurge, PersonEraser};
use bridge_domain::event::{Entity, Kind, QueuedEvent, Vendor};
use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, OrganizationId, PartId, TicketId, UserId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{
    Company, Contact, Conversation, ConversationChange, Download, FieldValue, FileData, Link, NewTicket, Organization,
    OrganizationUpsert, OutboundMessage, Segment, SlaTarget, Ticket, TicketComment, TicketUpdate, Timestamp, User,
    UserUpsert,
};
use bridge_domain::ports::{
    Claim, Clock, Doc, Helpdesk, LinkCreated, Messenger, PortError, PortResult, Queue, Service, Store, WithLink,
};
use bridge_domain::profiles::directory::{
    BulkPoll, BulkRecord, BulkStarted, ProfileDirectory, ProfilePage, RateObservation,
};
use bridge_domain::profiles::{CatalogField, Profile};
use bridge_domain::routing::JobKind;
use bridge_e2e::{World, bot_parts, comments_containing, eventually, post_intercom, settle, tickets_for};
use bridge_intercom::IntercomClient;
use bridge_runtime::driver::{Disposition, process};
use bridge_runtime::ingress::{Ingress, WebhookRequest};
use bridge_runtime::metrics::Counters;
use bridge_sim::common::Faults;
use bridge_sim::zendesk::ZendeskSimOptions;
use bridge_zendesk::ZendeskClient;
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(40);
const QUIET: Duration = Duration::from_millis(1500);

/// Jobs 3 and 4, and jobs 5 and 6, on top of the harness configuration (job 1).
const SECTIONS: &str = r#"
ticket_status:
  on:
    solved:
      message: "Your ticket #{ticket_id} ({subject}) was solved by {agent_name}."
      conversation: close
      tags: [zendesk-solved]
tag_sync:
  map: { VIP: vip_customer, Billing: billing }
  unmapped: slug
  ignore_intercom: [escalate]
  ignore_zendesk: [intercom, tier2, closed_by_merge]
routing:
  plan_tiers: [enterprise, pro, starter]
  max_attribute_age_hours: 720
  default: { group_id: {general} }
  rules:
    - name: enterprise customers
      when: { plan: [enterprise] }
      group_id: {enterprise}
      priority: high
      tags: [enterprise]
acknowledgement:
  channels: [web, email]
  message_type: email
  subject_template: "We received your request #{ticket_id}"
  body_template: "Thanks! Request #{ticket_id} \"{subject}\" is with our team."
  sla:
    default: within one business day
"#;

// ---- crash injection ----------------------------------------------------------------------------

/// Where a run dies.
#[derive(Debug)]
struct Plan {
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
    fn new(fail_at: usize, after: bool) -> Arc<Self> {
        Arc::new(Plan {
            fail_at,
            after,
            calls: AtomicUsize::new(0),
            fired: AtomicBool::new(false),
            steps: Mutex::new(Vec::new()),
        })
    }
    fn never() -> Arc<Self> {
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
    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
    fn step_name(&self, n: usize) -> &'static str {
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

struct CStore<S> {
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

struct CMessenger<M> {
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

struct CHelpdesk<H> {
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

struct CrashPorts {
    store: CStore<bridge_aws::DynamoStore>,
    messenger: CMessenger<bridge_intercom::IntercomClient>,
    helpdesk: CHelpdesk<bridge_zendesk::ZendeskClient>,
    clock: Shifted,
    config: Config,
}

impl CrashPorts {
    fn new(world: &World, plan: &Arc<Plan>, clock_offset: i64) -> Self {
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
    fn ports(
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
struct NoDeadLetters;

impl DeadLetterPurge for NoDeadLetters {
    async fn purge_dead_letters(
        &self,
        _matches: &(dyn Fn(&Entity, &Value) -> bool + Send + Sync),
    ) -> PortResult<usize> {
        Ok(0)
    }
}

// ---- event capture through the real ingress -----------------------------------------------------

/// A queue that keeps what the ingress sends.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(JobKind, QueuedEvent)>>>);

impl Queue for Capture {
    async fn send(&self, job: JobKind, event: &QueuedEvent) -> PortResult<()> {
        self.0.lock().unwrap().push((job, event.clone()));
        Ok(())
    }
}

/// A world whose simulators' webhooks are captured (no bridge running): every vendor change
/// becomes queued events through the real ingress, handed to the test instead of SQS.
struct Chaos {
    world: World,
    ingress: Ingress<Capture>,
    capture: Capture,
    seen: usize,
    requester: u64,
    enterprise_group: u64,
    /// Clock offset for the next redelivery; grows so every redelivery finds leases expired.
    later: i64,
}

impl Chaos {
    async fn start() -> Chaos {
        let mut world = World::start().await.unwrap();
        world.stop_bridge().await;
        let enterprise_group = world.zendesk.add_group("Enterprise");
        let general = world.zendesk.add_group("General");
        let text = format!(
            "{}{}",
            world.config_text,
            SECTIONS.replace("{general}", &general.to_string()).replace("{enterprise}", &enterprise_group.to_string())
        );
        world.config = Config::from_yaml(&text).unwrap();
        world.config_text = text;
        let requester = world
            .zendesk
            .add_user(bridge_sim::zendesk::UserInput {
                name: Some("Ada Lovelace".into()),
                email: Some("ada@acme.example".into()),
                external_id: Some("cust-1".into()),
                ..Default::default()
            })
            .unwrap();
        let capture = Capture::default();
        let ingress = Ingress::new(
            capture.clone(),
            Some(SecretString::from(world.intercom.client_secret())),
            Some(SecretString::from(ZendeskSimOptions::default().webhook_secret)),
            JobKind::ALL.into_iter().collect(),
            1024 * 1024,
            Duration::from_secs(300),
            Counters::default(),
        );
        let seen = world.intercom.notifications().len();
        Chaos { world, ingress, capture, seen, requester, enterprise_group, later: 0 }
    }

    /// Every Intercom notification generated since the last call, through the ingress.
    async fn intercom_events(&mut self) -> Vec<(JobKind, QueuedEvent)> {
        let all = self.world.intercom.notifications();
        for n in &all[self.seen..] {
            let mut headers = http::HeaderMap::new();
            headers.insert("x-hub-signature", n.signature.parse().unwrap());
            let method = http::Method::POST;
            let reply = self
                .ingress
                .intercom(WebhookRequest { method: &method, headers: &headers, body: n.raw.as_bytes() })
                .await;
            assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        }
        self.seen = all.len();
        std::mem::take(&mut *self.capture.0.lock().unwrap())
    }

    /// A signed Zendesk event about `ticket` (what an event-subscribed webhook sends), through
    /// the ingress.
    async fn zendesk_event(&self, kind: &str, ticket: u64, event: Value) -> Vec<(JobKind, QueuedEvent)> {
        let t = self.world.zendesk.ticket(ticket).unwrap();
        let body = json!({
            "type": format!("zen:event-type:{kind}"), "account_id": 1, "id": uuid::Uuid::new_v4().to_string(),
            "time": chrono::Utc::now().to_rfc3339(), "zendesk_event_version": "2022-11-06",
            "subject": format!("zen:ticket:{ticket}"),
            "detail": { "id": ticket.to_string(), "status": t["status"].as_str().unwrap_or("open").to_uppercase(),
                        "requester_id": t["requester_id"].as_u64().unwrap_or(0).to_string(),
                        "external_id": t["external_id"].clone(), "subject": t["subject"].clone(),
                        "via": { "channel": t["via"]["channel"].clone() } },
            "event": event,
        })
        .to_string()
        .into_bytes();
        let secret = ZendeskSimOptions::default().webhook_secret;
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let sig = bridge_zendesk::webhook::sign(secret.as_bytes(), &ts, &body);
        let mut headers = http::HeaderMap::new();
        headers.insert("x-zendesk-webhook-signature", sig.parse().unwrap());
        headers.insert("x-zendesk-webhook-signature-timestamp", ts.parse().unwrap());
        headers.insert("x-zendesk-webhook-invocation-id", uuid::Uuid::new_v4().simple().to_string().parse().unwrap());
        let method = http::Method::POST;
        let reply = self.ingress.zendesk(WebhookRequest { method: &method, headers: &headers, body: &body }).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        std::mem::take(&mut *self.capture.0.lock().unwrap())
    }

    /// Processes `event` without faults, redelivering (later each time) until acknowledged.
    async fn deliver(&mut self, job: JobKind, event: &QueuedEvent) {
        let body = serde_json::to_string(event).unwrap();
        for _ in 0..6 {
            let ports = CrashPorts::new(&self.world, &Plan::never(), self.later);
            match process(&ports.ports(), &NoDeadLetters, job, &body, &Counters::default()).await {
                Disposition::Ack(_) => return,
                Disposition::Retry { .. } => self.later += 600,
                other => panic!("{job:?} {}: {other:?}", event.topic),
            }
        }
        panic!("{job:?} {} was never acknowledged", event.topic);
    }

    /// Runs `event` once with a crash at call `n` (made or not per `after`); then redelivers it
    /// until acknowledged. Returns the crash (None once the run completed without reaching
    /// call `n`).
    async fn crash_then_recover(&mut self, job: JobKind, event: &QueuedEvent, n: usize, after: bool) -> Option<Crash> {
        let plan = Plan::new(n, after);
        let ports = CrashPorts::new(&self.world, &plan, self.later);
        let body = serde_json::to_string(event).unwrap();
        let first = process(&ports.ports(), &NoDeadLetters, job, &body, &Counters::default()).await;
        if !plan.fired() {
            assert!(matches!(first, Disposition::Ack(_)), "{job:?} without a crash: {first:?}");
            return None;
        }
        let crash = Crash { step: plan.step_name(n), previous: if n == 0 { "" } else { plan.step_name(n - 1) }, after };
        assert!(
            !matches!(first, Disposition::DeadLetter(_)),
            "{job:?}: a crash at step {n} ({crash:?}) must be retried, not dead-lettered: {first:?}"
        );
        self.later += 600;
        self.deliver(job, event).await;
        Some(crash)
    }
}

/// Where a run died.
#[derive(Debug, Clone)]
struct Crash {
    step: &'static str,
    previous: &'static str,
    after: bool,
}

/// Intercom writes with no idempotency key and no marker the bridge can look for (a reply, a
/// message, or a close carrying the status message, all seen by the customer). DESIGN.md's one
/// accepted window: the write was made and its answer lost (the worker died before recording
/// it), so a retry repeats it.
const UNMARKED_WRITES: [&str; 3] = ["intercom.reply", "intercom.send_message", "intercom.change_conversation"];

impl Crash {
    /// True when this crash is in that window.
    fn lost_an_unmarked_write(&self) -> bool {
        (self.after && UNMARKED_WRITES.contains(&self.step))
            || (!self.after && UNMARKED_WRITES.contains(&self.previous))
    }
}

/// Asserts one effect, or two only when the crash lost the answer of an unmarked write.
fn assert_once_or_window(count: usize, crash: Option<&Crash>, what: &str, windows: &mut Vec<String>) {
    match crash {
        Some(c) if count == 2 && c.lost_an_unmarked_write() => windows.push(format!("{what}: {c:?}")),
        _ => assert_eq!(count, 1, "{what}: exactly once ({crash:?})"),
    }
}

fn only(events: Vec<(JobKind, QueuedEvent)>, job: JobKind, topic: &str) -> QueuedEvent {
    let mut found: Vec<QueuedEvent> =
        events.into_iter().filter(|(j, e)| *j == job && e.topic.ends_with(topic)).map(|(_, e)| e).collect();
    assert!(!found.is_empty(), "no {job:?} event with topic {topic}");
    found.pop().unwrap()
}

/// The escalation invariants: one ticket, the link both ways, one note with the URL, the
/// attribute written back.
async fn assert_escalated_once(world: &World, conv: &str, what: &str) -> u64 {
    let tickets = tickets_for(world, conv);
    assert_eq!(tickets.len(), 1, "{what}: exactly one ticket");
    let id = tickets[0]["id"].as_u64().unwrap();
    assert_eq!(comments_containing(world, id, "conversation parts retrieved"), 1, "{what}: one transcript");
    let store = bridge_aws::DynamoStore::new(bridge_aws::sdk::dynamodb::Client::new(&world.sdk), world.table.clone());
    let link = store.link_by_conversation(&ConversationId::parse(conv).unwrap()).await.unwrap();
    assert_eq!(link.map(|l| l.ticket_id.get()), Some(id), "{what}: link by conversation");
    let back = store.link_by_ticket(TicketId::new(id).unwrap()).await.unwrap();
    assert_eq!(back.map(|l| l.conversation_id.as_str().to_string()), Some(conv.to_string()), "{what}: link by ticket");
    assert_eq!(bot_parts(world, conv, "note", &format!("/agent/tickets/{id}")), 1, "{what}: one note");
    let c = world.intercom.conversation(conv).unwrap();
    assert_eq!(
        c.custom_attributes.get("zendesk_ticket_id").and_then(Value::as_str),
        Some(id.to_string().as_str()),
        "{what}: attribute"
    );
    id
}

/// A conversation escalated (without faults); returns (conversation, ticket id).
async fn escalated(ch: &mut Chaos, body: &str) -> (String, u64) {
    let s = ch.world.seeded.clone();
    let conv = ch.world.intercom.customer_starts_conversation(&s.customer, body).unwrap();
    ch.world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    let event = only(ch.intercom_events().await, JobKind::Escalate, "tag.created");
    ch.deliver(JobKind::Escalate, &event).await;
    let id = assert_escalated_once(&ch.world, &conv, "setup").await;
    ch.intercom_events().await; // the bridge's own writes
    (conv, id)
}

// ---- crash at every step ------------------------------------------------------------------------

#[tokio::test]
async fn crash_at_every_step_of_an_escalation_gives_one_ticket_link_and_note() {
    let mut ch = Chaos::start().await;
    let s = ch.world.seeded.clone();
    let mut steps = 0;
    for after in [false, true] {
        for n in 0.. {
            let conv = ch.world.intercom.customer_starts_conversation(&s.customer, "Crash me please").unwrap();
            ch.world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
            let event = only(ch.intercom_events().await, JobKind::Escalate, "tag.created");
            let crashed = ch.crash_then_recover(JobKind::Escalate, &event, n, after).await.is_some();
            assert_escalated_once(&ch.world, &conv, &format!("crash at step {n} (after={after})")).await;
            ch.intercom_events().await;
            if !crashed {
                steps = steps.max(n);
                break;
            }
        }
    }
    assert!(steps >= 8, "an escalation has at least 8 port calls, saw {steps}");
}

#[tokio::test]
async fn crash_at_every_step_of_a_follow_up_append_gives_one_comment() {
    let mut ch = Chaos::start().await;
    let s = ch.world.seeded.clone();
    for after in [false, true] {
        for n in 0.. {
            let (conv, ticket) = escalated(&mut ch, "Escalate, then reply").await;
            let text = format!("Follow-up {n} {after}");
            ch.world.intercom.customer_replies(&conv, &text).unwrap();
            let event = only(ch.intercom_events().await, JobKind::Escalate, "user.replied");
            let crashed = ch.crash_then_recover(JobKind::Escalate, &event, n, after).await.is_some();
            assert_eq!(comments_containing(&ch.world, ticket, &text), 1, "crash at step {n} (after={after})");
            assert_escalated_once(&ch.world, &conv, "after the follow-up").await;
            ch.intercom_events().await;
            let _ = &s;
            if !crashed {
                break;
            }
        }
    }
}

#[tokio::test]
async fn crash_at_every_step_of_a_follow_up_with_a_file_gives_one_comment_with_the_file() {
    let mut ch = Chaos::start().await;
    for after in [false, true] {
        for n in 0.. {
            let (conv, ticket) = escalated(&mut ch, "Escalate, then send a file").await;
            let text = format!("File {n} {after}");
            let files: [(&str, &str, &[u8]); 1] = [("log.txt", "text/plain", b"export failed")];
            ch.world.intercom.customer_replies_with_files(&conv, &text, &files).unwrap();
            let event = only(ch.intercom_events().await, JobKind::Escalate, "user.replied");
            let crashed = ch.crash_then_recover(JobKind::Escalate, &event, n, after).await.is_some();
            let what = format!("crash at step {n} (after={after})");
            let t = ch.world.zendesk.ticket(ticket).unwrap();
            let comments: Vec<&Value> = t["comments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["html_body"].as_str().unwrap_or("").contains(&text))
                .collect();
            assert_eq!(comments.len(), 1, "{what}: one comment");
            let names: Vec<&str> =
                comments[0]["attachments"].as_array().unwrap().iter().filter_map(|a| a["file_name"].as_str()).collect();
            assert_eq!(names, vec!["log.txt"], "{what}: the file attached once");
            ch.intercom_events().await;
            if !crashed {
                break;
            }
        }
    }
}

#[tokio::test]
async fn crash_at_every_step_of_ticket_status_gives_one_message_close_and_tag() {
    let mut ch = Chaos::start().await;
    let agent = ch.world.seeded.zendesk_agent;
    let mut windows = Vec::new();
    for after in [false, true] {
        for n in 0.. {
            let (conv, ticket) = escalated(&mut ch, "Solve me").await;
            ch.world.zendesk.set_status(agent, ticket, "solved").unwrap();
            let events = ch
                .zendesk_event("ticket.status_changed", ticket, json!({"current": "SOLVED", "previous": "OPEN"}))
                .await;
            let event = only(events, JobKind::TicketStatus, "status_changed");
            let crash = ch.crash_then_recover(JobKind::TicketStatus, &event, n, after).await;
            let what = format!("crash at step {n} (after={after})");
            let messages = bot_parts(&ch.world, &conv, "close", "was solved");
            assert_once_or_window(messages, crash.as_ref(), &format!("{what}: solve message"), &mut windows);
            let c = ch.world.intercom.conversation(&conv).unwrap();
            assert_eq!(c.state, "closed", "{what}: closed");
            let tags = ch.world.intercom.conversation_tags(&conv);
            assert_eq!(tags.iter().filter(|t| *t == "zendesk-solved").count(), 1, "{what}: tag once: {tags:?}");
            ch.intercom_events().await;
            if crash.is_none() {
                break;
            }
        }
    }
    // The close carrying the message has no idempotency key: exactly the two crash points around
    // it may repeat it.
    assert!(windows.len() <= 2, "duplicates outside the reply's window: {windows:#?}");
    eprintln!("ticket-status: accepted duplicate windows: {windows:#?}");
}

#[tokio::test]
async fn crash_at_every_step_of_intake_routes_once_and_acknowledges_at_most_once() {
    let mut ch = Chaos::start().await;
    let mut windows = Vec::new();
    for after in [false, true] {
        for n in 0.. {
            let before = ch.world.intercom.state().messages.len();
            let id =
                ch.world.zendesk.submit_ticket(ch.requester, "Export fails", "The export errors out.", "web").unwrap();
            let event = only(ch.zendesk_event("ticket.created", id, json!({})).await, JobKind::TicketIntake, "created");
            let crash = ch.crash_then_recover(JobKind::TicketIntake, &event, n, after).await;
            let what = format!("crash at step {n} (after={after})");
            let t = ch.world.zendesk.ticket(id).unwrap();
            assert_eq!(t["group_id"].as_u64(), Some(ch.enterprise_group), "{what}: routed");
            assert_eq!(comments_containing(&ch.world, id, "[bridge-routing:"), 1, "{what}: one routing note");
            let acks = ch.world.intercom.state().messages.len() - before;
            // The documented window (jobs/src/intake.rs): Intercom accepted the message and the
            // worker died before recording it.
            assert_once_or_window(acks, crash.as_ref(), &format!("{what}: acknowledgement"), &mut windows);
            if crash.is_none() {
                break;
            }
        }
    }
    assert!(windows.len() <= 2, "duplicates outside the send_message window: {windows:#?}");
    eprintln!("intake: accepted duplicate windows: {windows:#?}");
}

#[tokio::test]
async fn crash_at_every_step_of_tag_sync_converges_to_the_same_tags() {
    let mut ch = Chaos::start().await;
    let agent = ch.world.seeded.zendesk_agent;
    for after in [false, true] {
        for n in 0.. {
            let (conv, ticket) = escalated(&mut ch, "Tag me").await;
            ch.world.zendesk.agent_tags(agent, ticket, &["needs_review".into()], &[]).unwrap();
            let events = ch
                .zendesk_event(
                    "ticket.tags_changed",
                    ticket,
                    json!({"tags_added": ["needs_review"], "tags_removed": []}),
                )
                .await;
            let event = only(events, JobKind::TagSync, "tags_changed");
            let crashed = ch.crash_then_recover(JobKind::TagSync, &event, n, after).await.is_some();
            let what = format!("crash at step {n} (after={after})");
            let tags = ch.world.intercom.conversation_tags(&conv);
            assert_eq!(tags.iter().filter(|t| *t == "needs_review").count(), 1, "{what}: {tags:?}");
            ch.intercom_events().await;
            if !crashed {
                break;
            }
        }
    }
}

// ---- delivery chaos on the live bridge ----------------------------------------------------------

fn ext_tickets(world: &World, conv: &str) -> usize {
    tickets_for(world, conv).len()
}

#[tokio::test]
async fn duplicated_reordered_delayed_and_concurrent_deliveries_give_one_effect_each() {
    let mut world = World::start().await.unwrap();
    let s = world.seeded.clone();
    let url = world.bridge_url();
    let secret = world.intercom.client_secret();
    // Slow vendors widen every race window.
    let slow = Faults { latency_ms: 40, ..Faults::default() };
    world.intercom.set_faults(slow.clone());
    world.zendesk.set_faults(slow);

    // Capture a conversation's whole history without delivering it.
    world.intercom.set_webhook_target(None);
    let before = world.intercom.notifications().len();
    let conv = world.intercom.customer_starts_conversation(&s.customer, "Shuffled deliveries").unwrap();
    world.intercom.customer_replies(&conv, "first reply").unwrap();
    world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    world.intercom.customer_replies(&conv, "second reply").unwrap();
    world.intercom.admin_notes(&conv, &s.agent, "agent note").unwrap();
    let captured: Vec<_> = world.intercom.notifications()[before..].to_vec();
    world.intercom.set_webhook_target(Some(format!("{url}/webhooks/intercom")));

    // Reversed, every delivery three times, each copy after a random delay, and 50 concurrent
    // replays of the tag event with fresh delivery ids.
    let mut posts = Vec::new();
    for (i, n) in captured.iter().rev().enumerate() {
        for copy in 0..3u64 {
            let (url, secret, raw) = (url.clone(), secret.clone(), n.raw.clone());
            let delay = Duration::from_millis(u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 2 + 20 * i as u64 + copy);
            posts.push(tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                post_intercom(&url, &secret, raw.as_bytes(), None).await.unwrap().0
            }));
        }
    }
    let tag = captured.iter().rfind(|n| n.topic == "conversation_part.tag.created").unwrap();
    for i in 0..50 {
        let mut v: Value = serde_json::from_str(&tag.raw).unwrap();
        v["id"] = Value::String(format!("notif_replay_{i}"));
        let (url, secret, body) = (url.clone(), secret.clone(), serde_json::to_vec(&v).unwrap());
        posts.push(tokio::spawn(async move { post_intercom(&url, &secret, &body, None).await.unwrap().0 }));
    }
    for p in posts {
        assert_eq!(p.await.unwrap(), 200);
    }

    eventually(WAIT, "one ticket", || ext_tickets(&world, &conv) == 1).await.unwrap();
    let id = tickets_for(&world, &conv)[0]["id"].as_u64().unwrap();
    eventually(WAIT, "the follow-ups", || {
        comments_containing(&world, id, "second reply") >= 1 && comments_containing(&world, id, "agent note") >= 1
    })
    .await
    .unwrap();
    settle(QUIET, WAIT, || (world.tickets().len(), world.zendesk.exchanges().len())).await.unwrap();
    assert_escalated_once(&world, &conv, "shuffled").await;
    // Nothing lost, nothing twice: every message exactly once on the ticket.
    for text in ["Shuffled deliveries", "first reply", "second reply", "agent note"] {
        assert_eq!(comments_containing(&world, id, text), 1, "{text} exactly once");
    }
    world.stop_bridge().await;
}

#[tokio::test]
async fn rate_limit_storms_and_server_error_bursts_lose_nothing() {
    let mut world = World::start().await.unwrap();
    let s = world.seeded.clone();
    // A storm: the next 8 requests to each vendor answer 429, then 4 answer 5xx.
    let storm = Faults { rate_limit_next: 8, fail_next: 4, ..Faults::default() };
    world.intercom.set_faults(storm.clone());
    world.zendesk.set_faults(storm);
    let mut convs = Vec::new();
    for i in 0..4 {
        let conv = world.intercom.customer_starts_conversation(&s.customer, &format!("Storm {i}")).unwrap();
        world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
        convs.push(conv);
    }
    eventually(Duration::from_secs(55), "every conversation escalated through the storm", || {
        convs.iter().all(|c| ext_tickets(&world, c) == 1 && bot_parts(&world, c, "note", "/agent/tickets/") == 1)
    })
    .await
    .unwrap();
    settle(QUIET, WAIT, || (world.tickets().len(), world.zendesk.exchanges().len())).await.unwrap();
    for c in &convs {
        assert_escalated_once(&world, c, "after the storm").await;
    }
    let throttled = world.intercom.gate().throttled_count() + world.zendesk.gate().throttled_count();
    assert!(throttled >= 16, "the storm happened: {throttled} 429s");
    let errors = world.zendesk.exchanges().iter().filter(|e| e.status >= 500).count()
        + world.intercom.gate().recorder.all().iter().filter(|e| e.status >= 500).count();
    assert!(errors >= 8, "the 5xx burst happened: {errors}");
    world.stop_bridge().await;
}

#[tokio::test]
async fn webhooks_dropped_during_an_outage_are_recovered_by_the_next_event() {
    let mut world =
        World::start_with(|c| format!("{c}{}", &SECTIONS[..SECTIONS.find("tag_sync:").unwrap()])).await.unwrap();
    let s = world.seeded.clone();

    // Intercom outage: every webhook is dropped; the tag that should escalate is lost.
    world.intercom.set_faults(Faults { drop_webhooks_percent: 100, ..Faults::default() });
    let conv = world.intercom.customer_starts_conversation(&s.customer, "Outage conversation").unwrap();
    world.intercom.admin_tags(&conv, &s.agent, "escalate").unwrap();
    world.intercom.customer_replies(&conv, "written during the outage").unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(ext_tickets(&world, &conv), 0, "the outage dropped the escalation");
    assert!(world.intercom.webhooks().sent().iter().all(|w| w.dropped));

    // Recovery: the next event about the conversation re-reads it and converges.
    world.intercom.set_faults(Faults::default());
    world.intercom.customer_replies(&conv, "after the outage").unwrap();
    eventually(WAIT, "the escalation after recovery", || ext_tickets(&world, &conv) == 1).await.unwrap();
    settle(QUIET, WAIT, || (world.tickets().len(), world.zendesk.exchanges().len())).await.unwrap();
    let id = assert_escalated_once(&world, &conv, "after the outage").await;
    for text in ["Outage conversation", "written during the outage", "after the outage"] {
        assert_eq!(comments_containing(&world, id, text), 1, "nothing lost: {text}");
    }

    // Zendesk outage: the solve is dropped; the next event about the ticket converges.
    world.zendesk.set_faults(Faults { drop_webhooks_percent: 100, ..Faults::default() });
    world.zendesk.set_status(s.zendesk_agent, id, "solved").unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(bot_parts(&world, &conv, "close", "was solved"), 0, "the outage dropped the status");
    world.zendesk.set_faults(Faults::default());
    world.zendesk.comment(s.zendesk_agent, id, "Internal: checked after the outage", false).unwrap();
    eventually(WAIT, "the solve message after recovery", || bot_parts(&world, &conv, "close", "was solved") == 1)
        .await
        .unwrap();
    settle(QUIET, WAIT, || (world.intercom.gate().recorder.all().len(), world.zendesk.exchanges().len()))
        .await
        .unwrap();
    assert_eq!(bot_parts(&world, &conv, "close", "was solved"), 1);
    assert_eq!(world.intercom.conversation(&conv).unwrap().state, "closed", "both sides consistent");
    world.stop_bridge().await;
}
