//! The `Helpdesk` port, implemented over the typed client.

use bridge_domain::ids::{OrganizationId, TicketId, UserId};
use bridge_domain::model::{
    Download, FileData, NewTicket, Organization, OrganizationUpsert, Ticket, TicketAttachment, TicketComment,
    TicketUpdate, UploadToken, User, UserUpsert,
};
use bridge_domain::ports::{Helpdesk, PortError, PortResult};

use crate::client::ZendeskClient;
use crate::convert;

impl Helpdesk for ZendeskClient {
    async fn ticket(&self, id: TicketId) -> PortResult<Ticket> {
        let t = self.show_ticket(id.get()).await?;
        Ok(convert::ticket(&t)?)
    }

    async fn tickets_by_external_id(&self, external_id: &str) -> PortResult<Vec<Ticket>> {
        let found = ZendeskClient::tickets_by_external_id(self, external_id).await?;
        Ok(found.iter().map(convert::ticket).collect::<Result<_, _>>()?)
    }

    async fn create_ticket(&self, ticket: &NewTicket, idempotency_key: &str) -> PortResult<Ticket> {
        let created = ZendeskClient::create_ticket(self, &convert::new_ticket(ticket), idempotency_key).await?;
        if created.idempotency_hit {
            tracing::info!(ticket_id = created.ticket.id, "ticket create replayed by idempotency key");
        }
        Ok(convert::ticket(&created.ticket)?)
    }

    async fn update_ticket(&self, id: TicketId, update: &TicketUpdate) -> PortResult<Ticket> {
        let t = ZendeskClient::update_ticket(self, id.get(), &convert::ticket_update(update)).await?;
        Ok(convert::ticket(&t)?)
    }

    async fn ticket_comments(&self, id: TicketId) -> PortResult<Vec<TicketComment>> {
        let comments = self.list_comments(id.get()).await?;
        Ok(comments.iter().map(convert::comment).collect())
    }

    async fn add_ticket_tags(&self, id: TicketId, tags: &[String]) -> PortResult<()> {
        if !tags.is_empty() {
            ZendeskClient::add_ticket_tags(self, id.get(), tags).await?;
        }
        Ok(())
    }

    async fn remove_ticket_tags(&self, id: TicketId, tags: &[String]) -> PortResult<()> {
        if !tags.is_empty() {
            ZendeskClient::remove_ticket_tags(self, id.get(), tags).await?;
        }
        Ok(())
    }

    async fn user(&self, id: UserId) -> PortResult<User> {
        let u = self.show_user(id.get()).await?;
        Ok(convert::user(&u)?)
    }

    async fn user_by_external_id(&self, external_id: &str) -> PortResult<Option<User>> {
        let found = self.search_users_by_external_id(external_id).await?;
        Ok(found.first().map(convert::user).transpose()?)
    }

    async fn users_by_email(&self, email: &str) -> PortResult<Vec<User>> {
        let found = self.search_users_by_email(email).await?;
        Ok(found.iter().map(convert::user).collect::<Result<_, _>>()?)
    }

    async fn upsert_user(&self, user: &UserUpsert) -> PortResult<User> {
        if user.email.is_none() && user.external_id.is_none() {
            return Err(PortError::rejected(
                bridge_domain::ports::Service::Zendesk,
                "user upsert needs an email or an external id",
            ));
        }
        let up = self.create_or_update_user(&convert::user_upsert(user)).await?;
        Ok(convert::user(&up.record)?)
    }

    async fn organization_by_external_id(&self, external_id: &str) -> PortResult<Option<Organization>> {
        let found = self.search_organizations_by_external_id(external_id).await?;
        Ok(found.first().map(convert::organization).transpose()?)
    }

    async fn upsert_organization(&self, org: &OrganizationUpsert) -> PortResult<Organization> {
        if org.external_id.is_none() {
            return Err(PortError::rejected(
                bridge_domain::ports::Service::Zendesk,
                "organization upsert needs an external id (Zendesk matches on it only)",
            ));
        }
        let up = self.create_or_update_organization(&convert::organization_upsert(org)).await?;
        Ok(convert::organization(&up.record)?)
    }

    fn ticket_url(&self, id: TicketId) -> String {
        format!("{}/agent/tickets/{}", self.base_url(), id)
    }

    async fn own_user_id(&self) -> PortResult<UserId> {
        let id = ZendeskClient::own_user_id(self).await?;
        UserId::new(id).map_err(|e| PortError::rejected(bridge_domain::ports::Service::Zendesk, e.to_string()))
    }

    async fn organization(&self, id: OrganizationId) -> PortResult<Organization> {
        let o = self.show_organization(id.get()).await?;
        Ok(convert::organization(&o)?)
    }

    async fn upload_file(&self, file: FileData) -> PortResult<UploadToken> {
        Ok(UploadToken(self.upload(file).await?.token))
    }

    async fn fetch_comment_file(&self, attachment: &TicketAttachment, max_bytes: u64) -> PortResult<Download> {
        let name = bridge_domain::attachments::safe_file_name(&attachment.file_name);
        Ok(self.download(&attachment.content_url, &name, attachment.content_type.as_deref(), max_bytes).await?)
    }

    async fn ticket_sla(&self, id: TicketId) -> PortResult<Option<bridge_domain::model::SlaTarget>> {
        let metrics = self.ticket_policy_metrics(id.get()).await?;
        Ok(crate::sla::target(&metrics))
    }
}
