//! Port traits: what the jobs need from the outside world. Adapters (the Intercom and Zendesk
//! clients, the DynamoDB store, the SQS queue) implement them; tests use in-memory fakes.
//!
//! Methods return `impl Future + Send` so handlers generic over the ports can run under
//! `lambda_http::run`, which requires `Send` futures.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::keys::{DocKey, Intent};

use crate::event::QueuedEvent;
use crate::job::JobKind;

use crate::ids::{AdminId, CompanyId, ContactId, ConversationId, OrganizationId, PartId, TicketId, UserId};
use crate::model::{
    AdminPost, Attachment, Company, Contact, Conversation, ConversationChange, Download, FieldValue, FileData, Link,
    NewTicket, Organization, OrganizationUpsert, OutboundMessage, Segment, Ticket, TicketAttachment, TicketComment,
    TicketUpdate, Timestamp, UploadToken, User, UserUpsert,
};

/// A boxed error kept as the source of a [`PortError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which outside system an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Intercom REST API.
    Intercom,
    /// Zendesk Support API.
    Zendesk,
    /// DynamoDB.
    Store,
    /// SQS.
    Queue,
    /// SNS: notifications to operators (the profile drift report).
    Notifications,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::Intercom => "intercom",
            Service::Zendesk => "zendesk",
            Service::Store => "store",
            Service::Queue => "queue",
            Service::Notifications => "sns",
        })
    }
}

/// A failure at a port, classified so the caller knows whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The service asked us to slow down; retry after the given delay.
    #[error("{service}: rate limited, retry after {}s", retry_after.as_secs())]
    RateLimited {
        /// Which service.
        service: Service,
        /// How long to wait.
        retry_after: Duration,
    },
    /// A transient failure (5xx, timeout, connection reset): retry with backoff.
    #[error("{service}: temporarily unavailable")]
    Unavailable {
        /// Which service.
        service: Service,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// The object does not exist (404).
    #[error("{service}: {what} not found")]
    NotFound {
        /// Which service.
        service: Service,
        /// What was looked up (type and id, no personal data).
        what: String,
    },
    /// An Intercom contact was merged into another (410 with a canonical link).
    #[error("{service}: merged into {new_id}")]
    Merged {
        /// Which service.
        service: Service,
        /// The surviving id.
        new_id: String,
    },
    /// The write conflicts with existing state (409, duplicate, closed ticket).
    #[error("{service}: conflict: {detail}")]
    Conflict {
        /// Which service.
        service: Service,
        /// What conflicted (no personal data).
        detail: String,
    },
    /// The request was refused and retrying will not help (400/401/403/422).
    #[error("{service}: rejected")]
    Rejected {
        /// Which service.
        service: Service,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
}

impl PortError {
    /// True when retrying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PortError::RateLimited { .. } | PortError::Unavailable { .. })
    }
    /// The delay the service asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PortError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
    /// Shorthand for a permanent rejection with a message.
    pub fn rejected(service: Service, msg: impl Into<String>) -> Self {
        PortError::Rejected { service, source: msg.into().into() }
    }
    /// Shorthand for a transient failure with a message.
    pub fn unavailable(service: Service, msg: impl Into<String>) -> Self {
        PortError::Unavailable { service, source: msg.into().into() }
    }
}

/// Result type of every port method.
pub type PortResult<T> = Result<T, PortError>;

/// The current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// Outcome of [`Store::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the lease and should act.
    Acquired,
    /// Another worker holds an unexpired lease: retry later.
    Busy,
    /// The intent was already carried out; the recorded result.
    Done(String),
}

/// Outcome of [`Store::create_link`].
#[derive(Debug, Clone, PartialEq)]
pub enum LinkCreated {
    /// The link was written.
    Created,
    /// A link for the conversation or ticket already existed; here it is.
    AlreadyLinked(Link),
}

/// A stored document with its version, for optimistic updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc<T> {
    /// The document.
    pub value: T,
    /// Its version (1 on first write).
    pub version: u64,
}

/// A value the store can keep as a document: anything serde can write. The store serialises it;
/// a use case never does.
pub trait Document: Send + Sync {
    /// The document as JSON text.
    fn to_json(&self) -> serde_json::Result<String>;
}

impl<T: Serialize + Send + Sync> Document for T {
    fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
}

/// Writes made in the same transaction as a new link: they happen if and only if the link is
/// created (see [`Store::create_link_with`]). Folding them in saves a request each.
#[derive(Default)]
pub struct WithLink<'a> {
    /// Documents written as version 1, replacing what was there.
    pub docs: Vec<(DocKey, &'a dyn Document)>,
}

impl std::fmt::Debug for WithLink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let docs: Vec<String> = self.docs.iter().map(|(k, _)| k.to_string()).collect();
        f.debug_struct("WithLink").field("docs", &docs).finish()
    }
}

/// Durable state: intent claims and done markers, links, documents (cursors, person state,
/// loop-guard records). Documents are typed values: the store serialises them, a use case
/// never does; one that does not read back is a [`PortError::Rejected`] naming its key.
pub trait Store: Send + Sync {
    /// Takes a lease on an intent, or reports that another holder has it, or that it is done.
    fn claim(
        &self,
        intent: &Intent,
        holder: &str,
        lease: Duration,
        now: Timestamp,
    ) -> impl Future<Output = PortResult<Claim>> + Send;

    /// What [`Store::claim`] would answer now, without taking anything: `None` when nobody holds
    /// or finished the intent. Used by shadow runs, which must not write.
    fn intent_state(&self, intent: &Intent) -> impl Future<Output = PortResult<Option<Claim>>> + Send;

    /// Marks an intent done with its result; later claims answer [`Claim::Done`].
    fn complete(&self, intent: &Intent, result: &str) -> impl Future<Output = PortResult<()>> + Send;

    /// Like [`Store::complete`], for an intent that only needs remembering for `keep` (a
    /// delivery's done-marker: vendors stop redelivering after a day or so); the record may
    /// expire after that.
    fn complete_for(
        &self,
        intent: &Intent,
        result: &str,
        keep: Duration,
    ) -> impl Future<Output = PortResult<()>> + Send;

    /// Gives up a lease early (after a failure) so a retry need not wait for it to expire. The
    /// intent stays claimed, its lease run out (a store may forget it after a while): an intent
    /// with no record at all can mean something else to its use case (job 1's write-back lease
    /// is implied by the link it came with while nothing is recorded).
    fn release(&self, intent: &Intent, holder: &str) -> impl Future<Output = PortResult<()>> + Send;

    /// The link of a conversation.
    fn link_by_conversation(
        &self,
        conversation: &ConversationId,
    ) -> impl Future<Output = PortResult<Option<Link>>> + Send;

    /// The link that a ticket (live or former) belongs to.
    fn link_by_ticket(&self, ticket: TicketId) -> impl Future<Output = PortResult<Option<Link>>> + Send;

    /// The link of a conversation and a document, read together (one request where the store
    /// can batch reads).
    fn link_and_doc<T: DeserializeOwned + Send>(
        &self,
        conversation: &ConversationId,
        key: &DocKey,
    ) -> impl Future<Output = PortResult<(Option<Link>, Option<Doc<T>>)>> + Send {
        async move { Ok((self.link_by_conversation(conversation).await?, self.load(key).await?)) }
    }

    /// Writes both halves of a new link in one transaction, only if neither exists.
    fn create_link(&self, link: &Link) -> impl Future<Output = PortResult<LinkCreated>> + Send {
        self.create_link_with(link, WithLink::default())
    }

    /// Like [`Store::create_link`], with `with`'s documents written in the same
    /// transaction: all of them, or (when the link already exists) none.
    fn create_link_with(&self, link: &Link, with: WithLink<'_>)
    -> impl Future<Output = PortResult<LinkCreated>> + Send;

    /// Replaces a link if its stored version is `expected_version`; writes an index entry for
    /// every ticket in `link.tickets`. `Ok(false)` when the version did not match.
    fn update_link(&self, link: &Link, expected_version: u64) -> impl Future<Output = PortResult<bool>> + Send;

    /// Every link whose Intercom contact or Zendesk requester is one of these (GDPR erasure and
    /// contact merges; may scan).
    fn links_of_person(
        &self,
        contacts: &[ContactId],
        users: &[UserId],
    ) -> impl Future<Output = PortResult<Vec<Link>>> + Send;

    /// Deletes both halves of a link (the conversation entry and every ticket entry).
    fn delete_link(&self, link: &Link) -> impl Future<Output = PortResult<()>> + Send;

    /// Reads a document.
    fn load<T: DeserializeOwned + Send>(&self, key: &DocKey)
    -> impl Future<Output = PortResult<Option<Doc<T>>>> + Send;

    /// Writes a document if its version is still `expected` (None = must not exist).
    /// `Ok(false)` on a version mismatch.
    fn save<T: Serialize + Sync>(
        &self,
        key: &DocKey,
        value: &T,
        expected: Option<u64>,
    ) -> impl Future<Output = PortResult<bool>> + Send;

    /// Deletes a document (GDPR erasure). `Ok(true)` when it existed.
    fn delete(&self, key: &DocKey) -> impl Future<Output = PortResult<bool>> + Send;
}

/// Sends events to a job's FIFO queue.
pub trait Queue: Send + Sync {
    /// Enqueues `event` for `job`, grouped by `event.entity`, deduplicated by `event.delivery_id`.
    fn send(&self, job: JobKind, event: &QueuedEvent) -> impl Future<Output = PortResult<()>> + Send;
}

/// The Intercom side, as the jobs need it.
pub trait Messenger: Send + Sync {
    /// A conversation with all the parts the API returns (oldest first; opening message first).
    fn conversation(&self, id: &ConversationId) -> impl Future<Output = PortResult<Conversation>> + Send;
    /// A contact. A merged contact answers [`PortError::Merged`].
    fn contact(&self, id: &ContactId) -> impl Future<Output = PortResult<Contact>> + Send;
    /// Finds a user contact by the customer's external id.
    fn contact_by_external_id(&self, external_id: &str) -> impl Future<Output = PortResult<Option<Contact>>> + Send;
    /// Finds contacts by email (may be several: ambiguous).
    fn contacts_by_email(&self, email: &str) -> impl Future<Output = PortResult<Vec<Contact>>> + Send;
    /// The companies a contact belongs to.
    fn contact_companies(&self, id: &ContactId) -> impl Future<Output = PortResult<Vec<Company>>> + Send;
    /// The segments a contact is in.
    fn contact_segments(&self, id: &ContactId) -> impl Future<Output = PortResult<Vec<Segment>>> + Send;
    /// A company.
    fn company(&self, id: &CompanyId) -> impl Future<Output = PortResult<Company>> + Send;
    /// Sets conversation custom attributes (idempotent).
    fn set_conversation_attributes(
        &self,
        id: &ConversationId,
        attributes: &BTreeMap<String, FieldValue>,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Adds an internal note as `admin`; returns the new part's id.
    fn add_note(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        html: &str,
    ) -> impl Future<Output = PortResult<PartId>> + Send;
    /// Replies to the customer as `admin`; returns the new part's id.
    fn reply(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        html: &str,
    ) -> impl Future<Output = PortResult<PartId>> + Send;
    /// Closes, opens, snoozes or assigns the conversation as `admin`.
    fn change_conversation(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        change: &ConversationChange,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Tags the conversation (creating the tag if needed).
    fn tag_conversation(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        tag: &str,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Removes a tag from the conversation (absent tag is Ok).
    fn untag_conversation(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        tag: &str,
    ) -> impl Future<Output = PortResult<()>> + Send;
    /// Finds the admin with this email.
    fn admin_by_email(&self, email: &str) -> impl Future<Output = PortResult<Option<AdminId>>> + Send;
    /// Sends a proactive message; returns the message id.
    fn send_message(&self, message: &OutboundMessage) -> impl Future<Output = PortResult<String>> + Send;
    /// Downloads a part's file, stopping once it is larger than `max_bytes`
    /// ([`Download::TooLarge`]). Intercom's file URLs are public signed links: no credentials
    /// are sent with them. An expired or missing file is a permanent error.
    fn fetch_part_file(
        &self,
        attachment: &Attachment,
        max_bytes: u64,
    ) -> impl Future<Output = PortResult<Download>> + Send;
    /// Replies to the customer or adds a note as `admin`, with files attached (at most 10);
    /// returns the new part's id. Without files it is [`Messenger::reply`] or
    /// [`Messenger::add_note`].
    fn post_with_files(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        post: AdminPost,
        html: &str,
        files: &[FileData],
    ) -> impl Future<Output = PortResult<PartId>> + Send;
}

/// The Zendesk side, as the jobs need it.
pub trait Helpdesk: Send + Sync {
    /// A ticket.
    fn ticket(&self, id: TicketId) -> impl Future<Output = PortResult<Ticket>> + Send;
    /// Tickets carrying this external id (not unique in Zendesk).
    fn tickets_by_external_id(&self, external_id: &str) -> impl Future<Output = PortResult<Vec<Ticket>>> + Send;
    /// Creates a ticket; the same `idempotency_key` returns the first ticket instead of a new one.
    fn create_ticket(
        &self,
        ticket: &NewTicket,
        idempotency_key: &str,
    ) -> impl Future<Output = PortResult<Ticket>> + Send;
    /// Applies a change (status, priority, group, assignee, comment) in one update.
    fn update_ticket(&self, id: TicketId, update: &TicketUpdate) -> impl Future<Output = PortResult<Ticket>> + Send;
    /// The ticket's comments, oldest first.
    fn ticket_comments(&self, id: TicketId) -> impl Future<Output = PortResult<Vec<TicketComment>>> + Send;
    /// Adds tags without replacing the list.
    fn add_ticket_tags(&self, id: TicketId, tags: &[String]) -> impl Future<Output = PortResult<()>> + Send;
    /// Removes tags without replacing the list.
    fn remove_ticket_tags(&self, id: TicketId, tags: &[String]) -> impl Future<Output = PortResult<()>> + Send;
    /// A user.
    fn user(&self, id: UserId) -> impl Future<Output = PortResult<User>> + Send;
    /// Finds a user by external id.
    fn user_by_external_id(&self, external_id: &str) -> impl Future<Output = PortResult<Option<User>>> + Send;
    /// Finds users by email.
    fn users_by_email(&self, email: &str) -> impl Future<Output = PortResult<Vec<User>>> + Send;
    /// Creates or updates a user (matched on email or external id).
    fn upsert_user(&self, user: &UserUpsert) -> impl Future<Output = PortResult<User>> + Send;
    /// Finds an organization by external id.
    fn organization_by_external_id(
        &self,
        external_id: &str,
    ) -> impl Future<Output = PortResult<Option<Organization>>> + Send;
    /// Creates or updates an organization (matched on external id).
    fn upsert_organization(&self, org: &OrganizationUpsert) -> impl Future<Output = PortResult<Organization>> + Send;
    /// The ticket's web URL for agents.
    fn ticket_url(&self, id: TicketId) -> String;
    /// Which Zendesk user the bridge acts as.
    fn own_user_id(&self) -> impl Future<Output = PortResult<UserId>> + Send;
    /// The organization of a user, if any (convenience for routing).
    fn organization(&self, id: OrganizationId) -> impl Future<Output = PortResult<Organization>> + Send;
    /// Uploads a file to attach to a comment (name it in [`TicketComment::uploads`]). Takes the
    /// file, so a large one is held in memory once.
    fn upload_file(&self, file: FileData) -> impl Future<Output = PortResult<UploadToken>> + Send;
    /// Downloads a comment's file, stopping once it is larger than `max_bytes`
    /// ([`Download::TooLarge`]). The API credentials go only to the account's own host.
    fn fetch_comment_file(
        &self,
        attachment: &TicketAttachment,
        max_bytes: u64,
    ) -> impl Future<Output = PortResult<Download>> + Send;
    /// The SLA target Zendesk applied to the ticket, if any. Helpdesks that cannot tell answer
    /// `None` (the default).
    fn ticket_sla(&self, id: TicketId) -> impl Future<Output = PortResult<Option<crate::model::SlaTarget>>> + Send {
        let _ = id;
        async { Ok(None) }
    }
}
