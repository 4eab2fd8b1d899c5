//! The vendor-account settings of the configuration (`intercom:` and `zendesk:`), shared by
//! several jobs.
//!
//! They live below [`crate::config`] so that a job module can take them without depending on
//! the whole configuration (`intake::bridge_origin` reads the ticket external-id prefix).

use serde::{Deserialize, Serialize};

use crate::ids::AdminId;

/// Intercom-side settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntercomSettings {
    /// The admin the bridge acts as (notes, replies, state changes). Its own writes are
    /// recognised by this id.
    pub bot_admin_id: AdminId,
    /// Conversation attribute that receives the Zendesk ticket id.
    #[serde(default = "default_ticket_attribute")]
    pub ticket_id_attribute: String,
    /// Conversation attribute that receives the Zendesk ticket URL (optional).
    #[serde(default)]
    pub ticket_url_attribute: Option<String>,
}

fn default_ticket_attribute() -> String {
    "zendesk_ticket_id".into()
}

/// Zendesk-side settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZendeskSettings {
    /// Custom ticket field (by id) that receives the Intercom conversation id.
    #[serde(default)]
    pub conversation_field_id: Option<u64>,
    /// Prefix of the ticket `external_id` (`<prefix><conversation id>`).
    #[serde(default = "default_external_id_prefix")]
    pub external_id_prefix: String,
}

impl Default for ZendeskSettings {
    fn default() -> Self {
        Self { conversation_field_id: None, external_id_prefix: default_external_id_prefix() }
    }
}

fn default_external_id_prefix() -> String {
    "intercom-conversation-".into()
}
