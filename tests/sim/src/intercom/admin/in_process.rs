//! The `/__admin` actions as in-process methods on [`IntercomSim`], for Rust tests.

use serde_json::Value;

use crate::common::{Faults, lock};
use crate::intercom::actions::{self, AssignTo, ConversationSeed, Manage, Writer};
use crate::intercom::state::{self, Admin, Company, Contact, ConversationAttribute, DataAttribute, Segment, Team};
use crate::intercom::{ApiError, IntercomSim};

use super::{admin_tags, customer_replies};

/// Seeding, human actions and inspection for Rust tests (the same logic as `/__admin`).
impl IntercomSim {
    /// Adds a teammate; returns its id.
    pub fn seed_admin(&self, name: &str, email: &str) -> String {
        self.shared.seed_admin(Admin { name: name.into(), email: email.into(), ..Admin::default() })
    }
    /// Adds a team with members; returns its id.
    pub fn seed_team(&self, name: &str, admin_ids: &[String]) -> String {
        self.shared.seed_team(Team { name: name.into(), admin_ids: admin_ids.to_vec(), ..Team::default() })
    }
    /// Finds or creates a tag; returns its id.
    pub fn seed_tag(&self, name: &str) -> Result<String, ApiError> {
        self.shared.seed_tag(name)
    }
    /// Adds a segment with explicit members; returns its id.
    pub fn seed_segment(&self, name: &str, contact_ids: &[String]) -> String {
        self.shared.seed_segment(Segment { name: name.into(), contact_ids: contact_ids.to_vec(), ..Segment::default() })
    }
    /// Adds a contact (ids and times filled in when empty); 409-style error on a duplicate.
    pub fn seed_contact(&self, contact: Contact) -> Result<String, ApiError> {
        self.shared.seed_contact(contact)
    }
    /// Adds many contacts at once (see [`Self::seed_contact`]); returns their ids in order.
    pub fn seed_contacts(&self, contacts: Vec<Contact>) -> Result<Vec<String>, ApiError> {
        self.shared.seed_contacts(contacts)
    }
    /// Adds a company; returns its Intercom id.
    pub fn seed_company(&self, company: Company) -> String {
        self.shared.seed_company(company)
    }
    /// Defines a contact or company data attribute (`model` = `contact`|`company`).
    pub fn seed_data_attribute(&self, model: &str, name: &str, data_type: &str, custom: bool) {
        self.shared.seed_data_attribute(DataAttribute {
            model: model.into(),
            name: name.into(),
            data_type: data_type.into(),
            custom,
            ..DataAttribute::default()
        });
    }
    /// Defines a conversation attribute.
    pub fn seed_conversation_attribute(&self, name: &str, data_type: &str) {
        self.shared.seed_conversation_attribute(ConversationAttribute {
            name: name.into(),
            data_type: data_type.into(),
            ..ConversationAttribute::default()
        });
    }
    /// Adds a conversation with history, without webhooks; returns its id.
    pub fn seed_conversation(&self, seed: ConversationSeed) -> Result<String, ApiError> {
        self.shared.mutate(|st, ev| actions::start_conversation(st, ev, seed, false))
    }
    /// A customer starts a conversation (`conversation.user.created`); returns its id.
    pub fn customer_starts_conversation(&self, contact_id: &str, body: &str) -> Result<String, ApiError> {
        let seed = ConversationSeed { contact_id: contact_id.into(), body: body.into(), ..ConversationSeed::default() };
        self.shared.mutate(|st, ev| actions::start_conversation(st, ev, seed, true))
    }
    /// The conversation's customer replies (`conversation.user.replied`); returns the part id.
    pub fn customer_replies(&self, conversation_id: &str, body: &str) -> Result<String, ApiError> {
        customer_replies(&self.shared, conversation_id, body)
    }
    /// The customer replies with files, each `(name, content_type, bytes)`, served at public
    /// URLs on the simulator; returns the part id.
    pub fn customer_replies_with_files(
        &self,
        conversation_id: &str,
        body: &str,
        files: &[(&str, &str, &[u8])],
    ) -> Result<String, ApiError> {
        let base = self.shared.base_url();
        self.shared.mutate(|st, ev| {
            let contact = st
                .conversations
                .get(conversation_id)
                .and_then(|c| c.contact_ids.first().cloned())
                .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
            let attachments =
                files.iter().map(|(name, ty, bytes)| st.store_file(&base, name, ty, bytes.to_vec())).collect();
            actions::reply_with_files(st, ev, conversation_id, Writer::Contact(contact), false, body, None, attachments)
        })
    }
    /// The bytes of a part's file as served at its URL.
    pub fn file_bytes(&self, url: &str) -> Option<Vec<u8>> {
        let id = url.split("/files/").nth(1)?.split('/').next()?.to_string();
        self.shared.read(|st| st.files.get(&id).map(|f| f.bytes.clone()))
    }
    /// A teammate replies in the inbox (`conversation.admin.replied`).
    pub fn admin_replies(&self, conversation_id: &str, admin_id: &str, body: &str) -> Result<String, ApiError> {
        self.shared
            .mutate(|st, ev| actions::reply(st, ev, conversation_id, Writer::Admin(admin_id.into()), false, body, None))
    }
    /// A teammate adds a note (`conversation.admin.noted`).
    pub fn admin_notes(&self, conversation_id: &str, admin_id: &str, body: &str) -> Result<String, ApiError> {
        self.shared
            .mutate(|st, ev| actions::reply(st, ev, conversation_id, Writer::Admin(admin_id.into()), true, body, None))
    }
    /// A teammate tags the conversation by tag name (`conversation_part.tag.created`).
    pub fn admin_tags(&self, conversation_id: &str, admin_id: &str, tag: &str) -> Result<(), ApiError> {
        admin_tags(&self.shared, conversation_id, admin_id, tag).map(|_| ())
    }
    /// A teammate removes a tag by name (Intercom emits no webhook for this).
    pub fn admin_untags(&self, conversation_id: &str, admin_id: &str, tag: &str) -> Result<(), ApiError> {
        self.shared
            .mutate(|st, _ev| {
                let tag_id = st.tag_by_name(tag).map(|t| t.id.clone()).ok_or_else(|| {
                    ApiError::new(axum::http::StatusCode::NOT_FOUND, "tag_not_found", "Tag not found")
                })?;
                actions::untag_conversation(st, conversation_id, &tag_id, admin_id)
            })
            .map(|_| ())
    }
    /// Tag names on a conversation.
    pub fn conversation_tags(&self, conversation_id: &str) -> Vec<String> {
        self.shared.read(|st| {
            st.conversations
                .get(conversation_id)
                .map(|c| c.tags.iter().filter_map(|t| st.tags.get(&t.id).map(|x| x.name.clone())).collect())
                .unwrap_or_default()
        })
    }
    /// A teammate assigns to an admin or team (`conversation.admin.assigned`).
    pub fn admin_assigns(&self, conversation_id: &str, admin_id: &str, to: AssignTo) -> Result<(), ApiError> {
        self.shared
            .mutate(|st, ev| actions::manage(st, ev, conversation_id, admin_id, Manage::Assign(to, None), None))
            .map(|_| ())
    }
    /// A teammate sets the priority (`conversation.priority.updated`).
    pub fn admin_sets_priority(&self, conversation_id: &str, admin_id: &str, priority: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::set_priority(st, ev, conversation_id, admin_id, priority))
    }
    /// A teammate closes the conversation (`conversation.admin.closed`).
    pub fn admin_closes(&self, conversation_id: &str, admin_id: &str) -> Result<(), ApiError> {
        self.shared
            .mutate(|st, ev| actions::manage(st, ev, conversation_id, admin_id, Manage::Close(None), None))
            .map(|_| ())
    }
    /// A teammate reopens the conversation (`conversation.admin.opened`).
    pub fn admin_reopens(&self, conversation_id: &str, admin_id: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::manage(st, ev, conversation_id, admin_id, Manage::Open, None)).map(|_| ())
    }
    /// The customer rates the conversation (`conversation.rating.added`).
    pub fn customer_rates(&self, conversation_id: &str, rating: u8, remark: Option<&str>) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::rate(st, ev, conversation_id, rating, remark.map(str::to_string)))
    }
    /// Merges contact `from` into `into` (`contact.merged`); later GETs of `from` answer 410.
    pub fn merge_contacts(&self, from: &str, into: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::merge_contacts(st, ev, from, into)).map(|_| ())
    }
    /// A teammate edits contact fields, e.g. `{"custom_attributes": {"plan": "pro"}}`
    /// (`contact.user.updated`).
    pub fn edit_contact(&self, contact_id: &str, fields: Value) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::update_contact(st, ev, contact_id, &fields)).map(|_| ())
    }
    /// A conversation with every part, as stored.
    pub fn conversation(&self, id: &str) -> Option<state::Conversation> {
        self.shared.read(|st| st.conversations.get(id).cloned())
    }
    /// A teammate deletes a contact (`contact.deleted`).
    pub fn delete_contact(&self, contact_id: &str) -> Result<(), ApiError> {
        self.shared.mutate(|st, ev| actions::delete_contact(st, ev, contact_id)).map(|_| ())
    }
    /// A contact, as stored.
    pub fn contact(&self, id: &str) -> Option<Contact> {
        self.shared.read(|st| st.contacts.get(id).cloned())
    }
    /// Sets faults (replacing the current ones).
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.gate.faults) = faults;
    }
}
