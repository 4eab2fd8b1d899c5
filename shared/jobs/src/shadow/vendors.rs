//! Intercom and Zendesk in a shadow run: reads go through, every write is recorded as a planned
//! [`Action`] and answered with a stand-in.

use std::collections::BTreeMap;

use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, OrganizationId, PartId, TicketId, UserId};
use bridge_domain::model::{
    AdminPost, Attachment, Company, Contact, Conversation, ConversationChange, Download, FieldValue, FileData,
    NewTicket, Organization, OrganizationUpsert, OutboundMessage, Segment, Ticket, TicketAttachment, TicketComment,
    TicketUpdate, Timestamp, UploadToken, User, UserUpsert,
};
use bridge_domain::ports::{Helpdesk, Messenger, PortError, PortResult, Service};

use super::{Action, Plan, Shadowed};

impl<M: Messenger> Messenger for Shadowed<'_, M> {
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
    /// Not downloaded in a shadow run (the bytes would only be thrown away): an empty stand-in
    /// (the declared size still decides what is skipped).
    async fn fetch_part_file(&self, attachment: &Attachment, _max_bytes: u64) -> PortResult<Download> {
        Ok(stand_in_file(&attachment.name, attachment.content_type.as_deref()))
    }
    async fn post_with_files(
        &self,
        id: &ConversationId,
        _admin: &AdminId,
        post: AdminPost,
        _html: &str,
        _files: &[FileData],
    ) -> PortResult<PartId> {
        self.plan.record(match post {
            AdminPost::Reply => Action::Reply { conversation: id.clone() },
            AdminPost::Note => Action::AddNote { conversation: id.clone() },
        });
        stand_in_part(self.plan)
    }
}

fn stand_in_file(name: &str, content_type: Option<&str>) -> Download {
    Download::File(FileData {
        name: name.to_string(),
        content_type: content_type.unwrap_or("application/octet-stream").to_string(),
        bytes: Vec::new(),
    })
}

fn stand_in_part(plan: &Plan) -> PortResult<PartId> {
    PartId::parse(format!("shadow-{}", plan.stand_in_id()))
        .map_err(|e| PortError::rejected(Service::Intercom, e.to_string()))
}

fn stand_in<T>(plan: &Plan, make: impl FnOnce(u64) -> Result<T, bridge_domain::ids::IdError>) -> PortResult<T> {
    make(plan.stand_in_id()).map_err(|e| PortError::rejected(Service::Zendesk, e.to_string()))
}

impl<H: Helpdesk> Helpdesk for Shadowed<'_, H> {
    async fn ticket(&self, id: TicketId) -> PortResult<Ticket> {
        self.inner.ticket(id).await
    }
    /// Not uploaded in a shadow run: a stand-in token (the comment's write is the planned action).
    async fn upload_file(&self, _file: FileData) -> PortResult<UploadToken> {
        Ok(UploadToken(format!("shadow-{}", self.plan.stand_in_id())))
    }
    /// Not downloaded in a shadow run: an empty stand-in.
    async fn fetch_comment_file(&self, attachment: &TicketAttachment, _max_bytes: u64) -> PortResult<Download> {
        Ok(stand_in_file(&attachment.file_name, attachment.content_type.as_deref()))
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
        Ok(Ticket::created_from(t, stand_in(self.plan, TicketId::new)?, Timestamp::default()))
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

impl<F: bridge_domain::sweep::ConversationFeed> bridge_domain::sweep::ConversationFeed for Shadowed<'_, F> {
    async fn changed_conversations(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<bridge_domain::sweep::FeedPage<bridge_domain::sweep::Changed<ConversationId>>> {
        self.inner.changed_conversations(since, cursor).await
    }
    async fn waiting_conversations(
        &self,
        from: Timestamp,
        until: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<bridge_domain::sweep::FeedPage<bridge_domain::sweep::Changed<ConversationId>>> {
        self.inner.waiting_conversations(from, until, cursor).await
    }
}

impl<F: bridge_domain::sweep::TicketFeed> bridge_domain::sweep::TicketFeed for Shadowed<'_, F> {
    async fn changed_tickets(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<bridge_domain::sweep::FeedPage<bridge_domain::sweep::Changed<TicketId>>> {
        self.inner.changed_tickets(since, cursor).await
    }
}
