//! Zendesk in memory: tickets, users, organizations; writes recorded.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bridge_domain::ids::*;
use bridge_domain::model::*;
use bridge_domain::ports::*;

use super::FakeDirectory;

pub struct FakeZendesk {
    /// Users and organizations as job 2 and erasure see them.
    pub profiles: FakeDirectory,
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
    /// Uploaded files by token.
    pub uploads: Mutex<BTreeMap<String, FileData>>,
    /// Files served by content URL (a URL not here answers not found).
    pub files: Mutex<HashMap<String, Vec<u8>>>,
}

impl Default for FakeZendesk {
    fn default() -> Self {
        Self {
            profiles: FakeDirectory::new(bridge_domain::event::Vendor::Zendesk),
            tickets: Mutex::default(),
            users: Mutex::default(),
            orgs: Mutex::default(),
            idempotency: Mutex::default(),
            calls: AtomicU64::default(),
            creates: AtomicU64::default(),
            next_id: AtomicU64::default(),
            updates: Mutex::default(),
            added_tags: Mutex::default(),
            slas: Mutex::default(),
            uploads: Mutex::default(),
            files: Mutex::default(),
        }
    }
}

super::directory::profiles_of!(FakeZendesk);

impl FakeZendesk {
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

impl Helpdesk for FakeZendesk {
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
        let ticket = Ticket::created_from(t, TicketId::new(id).unwrap(), super::START);
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
        // Like Zendesk's create_or_update: matched on external id, then email.
        let mut users = self.users.lock().unwrap();
        let matched = users
            .iter()
            .position(|x| u.external_id.is_some() && x.external_id == u.external_id)
            .or_else(|| users.iter().position(|x| u.email.is_some() && x.email == u.email));
        if let Some(i) = matched {
            let existing = &mut users[i];
            existing.name = Some(u.name.clone());
            if u.email.is_some() {
                existing.email = u.email.clone();
            }
            return Ok(existing.clone());
        }
        drop(users);
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
    async fn upload_file(&self, file: FileData) -> PortResult<UploadToken> {
        self.call();
        let mut uploads = self.uploads.lock().unwrap();
        let token = format!("upload{}", uploads.len() + 1);
        uploads.insert(token.clone(), file);
        Ok(UploadToken(token))
    }
    async fn fetch_comment_file(&self, a: &TicketAttachment, max_bytes: u64) -> PortResult<Download> {
        self.call();
        let bytes = self
            .files
            .lock()
            .unwrap()
            .get(&a.content_url)
            .cloned()
            .ok_or_else(|| PortError::NotFound { service: Service::Zendesk, what: "attachment".into() })?;
        if bytes.len() as u64 > max_bytes {
            return Ok(Download::TooLarge { size: bytes.len() as u64 });
        }
        let content_type = a.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
        Ok(Download::File(FileData { name: a.file_name.clone(), content_type, bytes }))
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

impl bridge_domain::sweep::TicketFeed for FakeZendesk {
    async fn changed_tickets(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<bridge_domain::sweep::FeedPage<bridge_domain::sweep::Changed<TicketId>>> {
        self.call();
        let mut items: Vec<_> = self
            .tickets
            .lock()
            .unwrap()
            .values()
            .filter(|(t, _)| t.updated_at >= since)
            .map(|(t, _)| bridge_domain::sweep::Changed {
                id: t.id,
                created_at: t.created_at,
                updated_at: t.updated_at,
            })
            .collect();
        items.sort_by_key(|c| (c.updated_at, c.id.get()));
        Ok(super::intercom::feed_page(&items, cursor))
    }
}
