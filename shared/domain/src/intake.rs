//! Jobs 5 and 6: what to do with a new Zendesk ticket, given what Intercom knows about its
//! requester.
//!
//! Both jobs start from the same facts, kept here: how the requester was looked up in Intercom
//! ([`Lookup`], [`CustomerProfile`]) and whether the bridge created the ticket itself
//! ([`bridge_origin`]). Each job has its own file: `route` (job 6: rules, three-valued
//! evaluation, the flagged default route; its configuration in `route_config`) and `ack` (job 5:
//! the acknowledgement message and its SLA text). Everything is re-exported here.
//!
//! Nothing here does I/O; the `ticket-intake` job gathers the facts and performs the decisions.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::ids::UserId;
use crate::model::{Company, Contact, Ticket};
use crate::settings::ZendeskSettings;

mod ack;
mod route;
mod route_config;

pub use ack::{
    AckConfig, AckDecision, AckFacts, SlaTexts, acknowledgement, describe_minutes, normalize_channel, sla_text,
};
pub use route::{RouteDecision, RouteFlag, customer_plan, primary_company, route, route_marker, route_note_html};
pub use route_config::{ReasonTarget, RouteAction, RouteCondition, RouteRule, RoutingConfig};

/// Checks the `routing:` and `acknowledgement:` sections; errors name the field path.
pub fn validate(routing: Option<&RoutingConfig>, acknowledgement: Option<&AckConfig>) -> Result<(), ConfigError> {
    if let Some(r) = routing {
        r.validate()?;
    }
    if let Some(a) = acknowledgement {
        a.validate()?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------ the requester

/// How the requester was found in Intercom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// The stored Zendesk user -> Intercom contact mapping.
    StoredMapping,
    /// The Zendesk user's external id.
    ExternalId,
    /// The Zendesk user's email (exactly one contact).
    Email,
}

impl FoundBy {
    fn label(self) -> &'static str {
        match self {
            FoundBy::StoredMapping => "stored mapping",
            FoundBy::ExternalId => "external id",
            FoundBy::Email => "email",
        }
    }
}

/// What Intercom knows about a requester.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerProfile {
    /// The contact.
    pub contact: Contact,
    /// How it was found.
    pub found_by: FoundBy,
    /// Names of the segments the contact is in.
    pub segments: Vec<String>,
    /// The contact's companies.
    pub companies: Vec<Company>,
}

/// The outcome of looking the requester up.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// One contact.
    Found(Box<CustomerProfile>),
    /// No contact by stored id, external id or email (or the ticket has no requester).
    NotFound,
    /// The email matches several contacts.
    Ambiguous(usize),
}

impl Lookup {
    /// The profile, when found.
    pub fn profile(&self) -> Option<&CustomerProfile> {
        match self {
            Lookup::Found(p) => Some(p),
            _ => None,
        }
    }
}

/// Why a ticket is the bridge's own (never acknowledged, never re-routed), if it is.
pub fn bridge_origin(
    ticket: &Ticket,
    zendesk: &ZendeskSettings,
    linked: bool,
    creator: Option<UserId>,
    own_user: Option<UserId>,
) -> Option<&'static str> {
    if ticket.external_id.as_deref().is_some_and(|e| e.starts_with(&zendesk.external_id_prefix)) {
        return Some("external id carries the escalation prefix");
    }
    if linked {
        return Some("ticket is linked to an Intercom conversation");
    }
    if creator.is_some() && creator == own_user {
        return Some("created by the bridge's Zendesk user");
    }
    None
}

#[cfg(test)]
mod tests;
