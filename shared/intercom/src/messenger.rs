//! [`Messenger`] implemented over the Intercom REST client.

use std::collections::BTreeMap;

use bridge_domain::ids::{AdminId, CompanyId, ContactId, ConversationId, PartId};
use bridge_domain::model::{
    AdminPost, Attachment, Company, Contact, Conversation, ConversationChange, Download, FieldValue, FileData,
    OutboundMessage, Segment,
};
use bridge_domain::ports::{Messenger, PortError, PortResult};

use crate::client::IntercomClient;
use crate::convert;
use crate::endpoints::{ReplyKind, UpdateConversation};
use crate::error::IntercomError;
use crate::query::Query;
use crate::wire;

/// The id of the part an admin reply created: the newest part of that type by that admin in
/// the returned conversation (Intercom returns the conversation, not the part).
fn new_part_id(conversation: wire::Conversation, admin: &AdminId, part_type: &str) -> Result<PartId, IntercomError> {
    let parts = conversation.conversation_parts.unwrap_or_default().conversation_parts;
    let by_admin = |p: &&wire::ConversationPart| {
        p.part_type == part_type && p.author.as_ref().and_then(|a| a.id.as_deref()) == Some(admin.as_str())
    };
    let part = parts
        .iter()
        .filter(by_admin)
        .max_by_key(|p| p.created_at)
        .or_else(|| parts.iter().max_by_key(|p| p.created_at))
        .ok_or_else(|| IntercomError::Decode {
            what: format!("reply to conversation {}", conversation.id),
            reason: "no parts returned".into(),
        })?;
    PartId::parse(part.id.clone()).map_err(|e| IntercomError::Decode { what: "reply".into(), reason: e.to_string() })
}

impl IntercomClient {
    /// A contact in the domain model, with tag names (fetched only when the contact has tags)
    /// and every company id (fetched only when the embedded list is truncated).
    async fn domain_contact(&self, c: wire::Contact) -> Result<Contact, IntercomError> {
        let id = ContactId::parse(c.id.clone())
            .map_err(|e| IntercomError::Decode { what: "contact".into(), reason: e.to_string() })?;
        let has_tags = c.tags.as_ref().is_some_and(|t| !t.data.is_empty() || t.total_count.unwrap_or(0) > 0);
        let tags = if has_tags {
            self.list_contact_tags(&id).await?.into_iter().map(|t| t.name).collect()
        } else {
            Vec::new()
        };
        let truncated = c.companies.as_ref().is_some_and(|l| l.has_more == Some(true));
        let mut contact = convert::contact(c, tags)?;
        if truncated {
            contact.org_ids = self
                .list_contact_companies(&id)
                .await?
                .into_iter()
                .filter_map(|co| CompanyId::parse(co.id).ok())
                .collect();
        }
        Ok(contact)
    }
}

impl Messenger for IntercomClient {
    async fn conversation(&self, id: &ConversationId) -> PortResult<Conversation> {
        let wire = self.retrieve_conversation(id, false).await?;
        Ok(convert::conversation(wire)?)
    }

    async fn contact(&self, id: &ContactId) -> PortResult<Contact> {
        let wire = self.retrieve_contact(id).await?;
        Ok(self.domain_contact(wire).await?)
    }

    async fn contact_by_external_id(&self, external_id: &str) -> PortResult<Option<Contact>> {
        match self.find_contact_by_external_id(external_id).await? {
            Some(c) => Ok(Some(self.domain_contact(c).await?)),
            None => Ok(None),
        }
    }

    async fn contacts_by_email(&self, email: &str) -> PortResult<Vec<Contact>> {
        let found = self.search_all_contacts(&Query::eq("email", email)).await?;
        let mut out = Vec::with_capacity(found.len());
        for c in found {
            out.push(self.domain_contact(c).await?);
        }
        Ok(out)
    }

    async fn contact_companies(&self, id: &ContactId) -> PortResult<Vec<Company>> {
        let list = self.list_contact_companies(id).await?;
        Ok(list.into_iter().map(convert::company).collect::<Result<_, _>>()?)
    }

    async fn contact_segments(&self, id: &ContactId) -> PortResult<Vec<Segment>> {
        let list = self.list_contact_segments(id).await?;
        Ok(list.into_iter().map(convert::segment).collect::<Result<_, _>>()?)
    }

    async fn company(&self, id: &CompanyId) -> PortResult<Company> {
        Ok(convert::company(self.retrieve_company(id).await?)?)
    }

    async fn set_conversation_attributes(
        &self,
        id: &ConversationId,
        attributes: &BTreeMap<String, FieldValue>,
    ) -> PortResult<()> {
        if attributes.is_empty() {
            return Ok(());
        }
        let update = UpdateConversation { custom_attributes: attributes.clone(), ..Default::default() };
        self.update_conversation(id, &update).await?;
        Ok(())
    }

    async fn add_note(&self, id: &ConversationId, admin: &AdminId, html: &str) -> PortResult<PartId> {
        let conv = self.reply_as_admin(id, admin, ReplyKind::Note, html).await?;
        Ok(new_part_id(conv, admin, "note")?)
    }

    async fn reply(&self, id: &ConversationId, admin: &AdminId, html: &str) -> PortResult<PartId> {
        let conv = self.reply_as_admin(id, admin, ReplyKind::Comment, html).await?;
        Ok(new_part_id(conv, admin, "comment")?)
    }

    async fn change_conversation(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        change: &ConversationChange,
    ) -> PortResult<()> {
        self.manage_conversation(id, admin, change).await?;
        Ok(())
    }

    async fn tag_conversation(&self, id: &ConversationId, admin: &AdminId, tag: &str) -> PortResult<()> {
        let tag_id = self
            .resolve_tag(tag, true)
            .await?
            .ok_or_else(|| PortError::rejected(bridge_domain::ports::Service::Intercom, "tag could not be created"))?;
        self.add_conversation_tag(id, &tag_id, admin).await?;
        Ok(())
    }

    async fn untag_conversation(&self, id: &ConversationId, admin: &AdminId, tag: &str) -> PortResult<()> {
        let Some(tag_id) = self.resolve_tag(tag, false).await? else {
            return Ok(());
        };
        match self.remove_conversation_tag(id, &tag_id, admin).await {
            Ok(_) => Ok(()),
            // The tag is not on the conversation (tag_not_found): already in the wanted state.
            Err(IntercomError::NotFound { ref code, .. }) if code != "not_found" => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn admin_by_email(&self, email: &str) -> PortResult<Option<AdminId>> {
        let admins = self.list_admins().await?;
        Ok(admins
            .into_iter()
            .find(|a| a.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email.trim())))
            .and_then(|a| AdminId::parse(a.id).ok()))
    }

    async fn send_message(&self, message: &OutboundMessage) -> PortResult<String> {
        let sent = IntercomClient::send_message(self, message).await?;
        if sent.id.is_empty() {
            return Err(IntercomError::Decode { what: "message".into(), reason: "no id".into() }.into());
        }
        Ok(sent.id)
    }

    async fn fetch_part_file(&self, attachment: &Attachment, max_bytes: u64) -> PortResult<Download> {
        let name = bridge_domain::attachments::safe_file_name(&attachment.name);
        Ok(self.download_file(&attachment.url, attachment.content_type.as_deref(), &name, max_bytes).await?)
    }

    async fn post_with_files(
        &self,
        id: &ConversationId,
        admin: &AdminId,
        post: AdminPost,
        html: &str,
        files: &[FileData],
    ) -> PortResult<PartId> {
        let (kind, part_type) = match post {
            AdminPost::Reply => (ReplyKind::Comment, "comment"),
            AdminPost::Note => (ReplyKind::Note, "note"),
        };
        let conv = self.reply_with_files(id, admin, kind, html, files).await?;
        Ok(new_part_id(conv, admin, part_type)?)
    }
}
