//! Intercom in memory: conversations, contacts, companies, segments; writes recorded.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bridge_domain::ids::*;
use bridge_domain::model::*;
use bridge_domain::ports::*;

use super::FakeDirectory;

pub struct FakeIntercom {
    /// Contacts and companies as job 2 and erasure see them.
    pub profiles: FakeDirectory,
    pub conversations: Mutex<HashMap<String, Conversation>>,
    pub contacts: Mutex<HashMap<String, Contact>>,
    pub companies: Mutex<HashMap<String, Vec<Company>>>,
    pub attributes: Mutex<Vec<(String, BTreeMap<String, FieldValue>)>>,
    /// Conversation attributes the workspace does not have: a write naming one is refused.
    pub missing_attributes: Mutex<Vec<String>>,
    pub notes: Mutex<Vec<(String, String)>>,
    /// Messages the customer sees, as (conversation, admin, html): replies, and the body of a
    /// close that carries one.
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
    /// Files served by URL (a URL not here answers not found).
    pub files: Mutex<HashMap<String, Vec<u8>>>,
    /// Files posted with replies or notes, as (conversation, files).
    pub sent_files: Mutex<Vec<(String, Vec<FileData>)>>,
}

impl Default for FakeIntercom {
    fn default() -> Self {
        Self {
            profiles: FakeDirectory::new(bridge_domain::event::Vendor::Intercom),
            conversations: Mutex::default(),
            contacts: Mutex::default(),
            companies: Mutex::default(),
            attributes: Mutex::default(),
            missing_attributes: Mutex::default(),
            notes: Mutex::default(),
            replies: Mutex::default(),
            changes: Mutex::default(),
            tag_writes: Mutex::default(),
            admins: Mutex::default(),
            calls: AtomicU64::default(),
            next_part: AtomicU64::default(),
            segments: Mutex::default(),
            messages: Mutex::default(),
            files: Mutex::default(),
            sent_files: Mutex::default(),
        }
    }
}

super::directory::profiles_of!(FakeIntercom);

impl FakeIntercom {
    fn call(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

fn not_found(what: &str) -> PortError {
    PortError::NotFound { service: Service::Intercom, what: what.into() }
}

impl Messenger for FakeIntercom {
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
        if a.keys().any(|name| self.missing_attributes.lock().unwrap().contains(name)) {
            return Err(PortError::rejected(Service::Intercom, "custom attribute does not exist"));
        }
        self.attributes.lock().unwrap().push((id.to_string(), a.clone()));
        // Like Intercom: the conversation shows them from now on.
        if let Some(c) = self.conversations.lock().unwrap().get_mut(id.as_str()) {
            c.attributes.extend(a.clone());
        }
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
    async fn change_conversation(&self, id: &ConversationId, a: &AdminId, c: &ConversationChange) -> PortResult<()> {
        self.call();
        // Like Intercom: a close's body is a message the customer sees.
        if let ConversationChange::Close { body: Some(html) } = c {
            self.replies.lock().unwrap().push((id.to_string(), a.to_string(), html.clone()));
        }
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
    async fn fetch_part_file(&self, a: &Attachment, max_bytes: u64) -> PortResult<Download> {
        self.call();
        let bytes = self
            .files
            .lock()
            .unwrap()
            .get(&a.url)
            .cloned()
            .ok_or_else(|| PortError::NotFound { service: Service::Intercom, what: "attachment".into() })?;
        if bytes.len() as u64 > max_bytes {
            return Ok(Download::TooLarge { size: bytes.len() as u64 });
        }
        let content_type = a.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
        Ok(Download::File(FileData { name: a.name.clone(), content_type, bytes }))
    }
    async fn post_with_files(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        post: AdminPost,
        html: &str,
        files: &[FileData],
    ) -> PortResult<PartId> {
        self.sent_files.lock().unwrap().push((id.to_string(), files.to_vec()));
        match post {
            AdminPost::Reply => self.reply(id, admin, html).await,
            AdminPost::Note => self.add_note(id, admin, html).await,
        }
    }
}

/// Pages of two, so tests page too.
const FEED_PAGE: usize = 2;

/// One page of `items` (sorted) from the numeric `cursor`.
pub(super) fn feed_page<T: Clone>(items: &[T], cursor: Option<&str>) -> bridge_domain::sweep::FeedPage<T> {
    let start: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let end = (start + FEED_PAGE).min(items.len());
    bridge_domain::sweep::FeedPage {
        items: items.get(start..end).unwrap_or_default().to_vec(),
        next: (end < items.len()).then(|| end.to_string()),
    }
}

impl bridge_domain::sweep::ConversationFeed for FakeIntercom {
    async fn changed_conversations(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<bridge_domain::sweep::FeedPage<bridge_domain::sweep::Changed<ConversationId>>> {
        self.call();
        let mut items: Vec<_> = self
            .conversations
            .lock()
            .unwrap()
            .values()
            .filter(|c| c.updated_at >= since)
            .map(|c| bridge_domain::sweep::Changed {
                id: c.id.clone(),
                created_at: c.created_at,
                updated_at: c.updated_at,
            })
            .collect();
        items.sort_by(|a, b| (a.updated_at, a.id.as_str()).cmp(&(b.updated_at, b.id.as_str())));
        Ok(feed_page(&items, cursor))
    }

    async fn waiting_conversations(
        &self,
        from: Timestamp,
        until: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<bridge_domain::sweep::FeedPage<bridge_domain::sweep::Changed<ConversationId>>> {
        self.call();
        let mut items: Vec<_> = self
            .conversations
            .lock()
            .unwrap()
            .values()
            .filter(|c| c.state == ConversationState::Open && c.waiting_since.is_some_and(|w| w >= from && w <= until))
            .map(|c| bridge_domain::sweep::Changed {
                id: c.id.clone(),
                created_at: c.created_at,
                updated_at: c.updated_at,
            })
            .collect();
        items.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        Ok(feed_page(&items, cursor))
    }
}
