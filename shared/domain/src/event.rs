//! A verified webhook as the ingress queues it for a job, parsed into types at the edge: which
//! vendor sent it, what it is about ([`Entity`], also its FIFO message group), and who caused it
//! ([`Actor`]s, for the loop guard).
//!
//! On the queue it is JSON with plain strings (`"vendor": "intercom"`, `"entity":
//! "conversation:215"`, `"actors": ["admin:9"]`), so messages queued by an older version still
//! read; [`QueuedEvent`] converts at the serde boundary and nothing inside builds or splits
//! those strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AdminId, CompanyId, ContactId, ConversationId, IdError, OrganizationId, TicketId, UserId};
use crate::model::{AuthorRole, Timestamp};

/// The vendor a webhook came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    /// Intercom.
    Intercom,
    /// Zendesk.
    Zendesk,
}

impl Vendor {
    /// `intercom` / `zendesk` (metric dimension, ledger key, log field).
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Intercom => "intercom",
            Vendor::Zendesk => "zendesk",
        }
    }
}

impl Vendor {
    /// The other vendor.
    pub fn other(self) -> Self {
        match self {
            Vendor::Intercom => Vendor::Zendesk,
            Vendor::Zendesk => Vendor::Intercom,
        }
    }

    /// `IC` / `ZD`, as in stored keys.
    pub fn short(self) -> &'static str {
        match self {
            Vendor::Intercom => "IC",
            Vendor::Zendesk => "ZD",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Vendor {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "intercom" => Ok(Vendor::Intercom),
            "zendesk" => Ok(Vendor::Zendesk),
            other => Err(EventError::Vendor(other.chars().take(32).collect())),
        }
    }
}

/// A queued event that does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not `intercom` or `zendesk`.
    #[error("unknown vendor {0:?}")]
    Vendor(String),
    /// Not `<kind>:<id>` with a known kind.
    #[error("unknown entity kind {0:?}")]
    EntityKind(String),
    /// An actor that is not `<role>:<id>`.
    #[error("unreadable actor {0:?}")]
    Actor(String),
    /// A malformed id.
    #[error(transparent)]
    Id(#[from] IdError),
}

/// What an event is about; one FIFO message group per entity, so a conversation's or a ticket's
/// events are handled in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// An Intercom conversation.
    Conversation(ConversationId),
    /// An Intercom contact (user or lead).
    Contact(ContactId),
    /// An Intercom company.
    Company(CompanyId),
    /// A Zendesk ticket.
    Ticket(TicketId),
    /// A Zendesk user.
    User(UserId),
    /// A Zendesk organization.
    Organization(OrganizationId),
}

impl Entity {
    /// The vendor the entity lives in.
    pub fn vendor(&self) -> Vendor {
        match self {
            Entity::Conversation(_) | Entity::Contact(_) | Entity::Company(_) => Vendor::Intercom,
            Entity::Ticket(_) | Entity::User(_) | Entity::Organization(_) => Vendor::Zendesk,
        }
    }

    /// The kind, as on the queue (`conversation`, `ticket`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Conversation(_) => "conversation",
            Entity::Contact(_) => "contact",
            Entity::Company(_) => "company",
            Entity::Ticket(_) => "ticket",
            Entity::User(_) => "user",
            Entity::Organization(_) => "organization",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind();
        match self {
            Entity::Conversation(id) => write!(f, "{kind}:{id}"),
            Entity::Contact(id) => write!(f, "{kind}:{id}"),
            Entity::Company(id) => write!(f, "{kind}:{id}"),
            Entity::Ticket(id) => write!(f, "{kind}:{id}"),
            Entity::User(id) => write!(f, "{kind}:{id}"),
            Entity::Organization(id) => write!(f, "{kind}:{id}"),
        }
    }
}

impl FromStr for Entity {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, id) = s.split_once(':').ok_or_else(|| EventError::EntityKind(s.chars().take(32).collect()))?;
        Ok(match kind {
            "conversation" => Entity::Conversation(ConversationId::parse(id)?),
            "contact" => Entity::Contact(ContactId::parse(id)?),
            "company" => Entity::Company(CompanyId::parse(id)?),
            "ticket" => Entity::Ticket(TicketId::parse(id)?),
            "user" => Entity::User(UserId::parse(id)?),
            "organization" => Entity::Organization(OrganizationId::parse(id)?),
            other => return Err(EventError::EntityKind(other.chars().take(32).collect())),
        })
    }
}

impl Serialize for Entity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Entity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Which kind of profile a record is (job 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An Intercom contact / a Zendesk user.
    Person,
    /// An Intercom company / a Zendesk organization.
    Org,
}

impl Kind {
    /// The entity word on a side (`contact`, `company`, `user`, `organization`).
    pub fn entity_word(self, side: Vendor) -> &'static str {
        match (self, side) {
            (Kind::Person, Vendor::Intercom) => "contact",
            (Kind::Org, Vendor::Intercom) => "company",
            (Kind::Person, Vendor::Zendesk) => "user",
            (Kind::Org, Vendor::Zendesk) => "organization",
        }
    }

    /// The side, kind and id of a profile entity (contact, company, user, organization);
    /// `None` for conversations and tickets.
    pub fn of_entity(entity: &Entity) -> Option<(Vendor, Kind, String)> {
        Some(match entity {
            Entity::Contact(id) => (Vendor::Intercom, Kind::Person, id.to_string()),
            Entity::Company(id) => (Vendor::Intercom, Kind::Org, id.to_string()),
            Entity::User(id) => (Vendor::Zendesk, Kind::Person, id.to_string()),
            Entity::Organization(id) => (Vendor::Zendesk, Kind::Org, id.to_string()),
            Entity::Conversation(_) | Entity::Ticket(_) => return None,
        })
    }
}

/// Who caused an event, as the webhook named them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The author of an Intercom conversation part: an admin, a user or lead contact, a bot or a
    /// team, with the id Intercom gives it.
    Intercom {
        /// The author's role.
        role: AuthorRole,
        /// The admin's or contact's id.
        id: String,
    },
    /// A Zendesk user (agent, end user, or the API user the bridge acts as).
    Zendesk(UserId),
}

impl Actor {
    /// The Intercom admin `id` (the bridge's bot admin, for the loop guard).
    pub fn intercom_admin(id: &AdminId) -> Self {
        Actor::Intercom { role: AuthorRole::Admin, id: id.as_str().to_string() }
    }

    fn role_name(role: AuthorRole) -> &'static str {
        match role {
            AuthorRole::Admin => "admin",
            AuthorRole::User => "user",
            AuthorRole::Lead => "lead",
            AuthorRole::Bot => "bot",
            AuthorRole::Team => "team",
        }
    }

    /// Reads an actor as queued (`admin:9`, `user:42`) for the events of `vendor`.
    pub fn parse(vendor: Vendor, raw: &str) -> Result<Self, EventError> {
        let bad = || EventError::Actor(raw.chars().take(48).collect());
        let (role, id) = raw.split_once(':').ok_or_else(bad)?;
        match vendor {
            Vendor::Zendesk if role == "user" => Ok(Actor::Zendesk(UserId::parse(id)?)),
            Vendor::Zendesk => Err(bad()),
            Vendor::Intercom => {
                let role = match role {
                    "admin" => AuthorRole::Admin,
                    "user" => AuthorRole::User,
                    "lead" => AuthorRole::Lead,
                    "bot" => AuthorRole::Bot,
                    "team" => AuthorRole::Team,
                    _ => return Err(bad()),
                };
                if id.is_empty() {
                    return Err(bad());
                }
                Ok(Actor::Intercom { role, id: id.to_string() })
            }
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Intercom { role, id } => write!(f, "{}:{id}", Self::role_name(*role)),
            Actor::Zendesk(id) => write!(f, "user:{id}"),
        }
    }
}

/// A verified webhook, as queued for a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireEvent", into = "WireEvent")]
pub struct QueuedEvent {
    /// Who sent it.
    pub vendor: Vendor,
    /// The vendor's delivery id (the queue's deduplication key).
    pub delivery_id: String,
    /// Topic (`conversation.admin.noted`, `zen:event-type:ticket.status_changed`, `trigger`).
    pub topic: String,
    /// What it is about (the message group).
    pub entity: Entity,
    /// When the ingress received it.
    pub received_at: Timestamp,
    /// The verified payload, as the vendor sent it.
    pub payload: serde_json::Value,
    /// Who caused it, as the payload names them; empty when it does not say.
    pub actors: Vec<Actor>,
    /// The API Gateway X-Ray trace header of the webhook request, when present: logged by the
    /// worker so the ingress's and the worker's lines join up.
    pub trace_id: Option<String>,
}

impl QueuedEvent {
    /// True when the payload names who caused the event and every one is `own` (the bridge):
    /// the bridge's own change coming back, droppable before any vendor call.
    pub fn only_caused_by(&self, own: &Actor) -> bool {
        !self.actors.is_empty() && self.actors.iter().all(|a| a == own)
    }
}

/// The queue's JSON shape of [`QueuedEvent`]: plain strings.
#[derive(Serialize, Deserialize)]
struct WireEvent {
    vendor: String,
    delivery_id: String,
    topic: String,
    entity: String,
    received_at: Timestamp,
    payload: serde_json::Value,
    #[serde(default)]
    actors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
}

impl TryFrom<WireEvent> for QueuedEvent {
    type Error = EventError;
    fn try_from(w: WireEvent) -> Result<Self, Self::Error> {
        let vendor: Vendor = w.vendor.parse()?;
        let actors = w.actors.iter().map(|a| Actor::parse(vendor, a)).collect::<Result<_, _>>()?;
        Ok(QueuedEvent {
            vendor,
            delivery_id: w.delivery_id,
            topic: w.topic,
            entity: w.entity.parse()?,
            received_at: w.received_at,
            payload: w.payload,
            actors,
            trace_id: w.trace_id,
        })
    }
}

impl From<QueuedEvent> for WireEvent {
    fn from(e: QueuedEvent) -> Self {
        WireEvent {
            vendor: e.vendor.as_str().to_string(),
            delivery_id: e.delivery_id,
            topic: e.topic,
            entity: e.entity.to_string(),
            received_at: e.received_at,
            payload: e.payload,
            actors: e.actors.iter().map(ToString::to_string).collect(),
            trace_id: e.trace_id,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_queue_shape_is_plain_strings_both_ways() {
        let json = serde_json::json!({
            "vendor": "intercom", "delivery_id": "d1", "topic": "conversation.admin.noted",
            "entity": "conversation:215", "received_at": 7, "payload": {"a": 1},
            "actors": ["admin:9", "user:c1"]
        });
        let e: QueuedEvent = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(e.vendor, Vendor::Intercom);
        assert_eq!(e.entity, Entity::Conversation(ConversationId::parse("215").unwrap()));
        assert_eq!(e.actors[0], Actor::intercom_admin(&AdminId::parse("9").unwrap()));
        assert_eq!(e.actors[1], Actor::Intercom { role: AuthorRole::User, id: "c1".into() });
        assert_eq!(serde_json::to_value(&e).unwrap(), json, "written back as it was read");
    }

    #[test]
    fn zendesk_actors_are_users_and_bad_strings_are_refused() {
        let json = serde_json::json!({
            "vendor": "zendesk", "delivery_id": "d", "topic": "t", "entity": "ticket:5",
            "received_at": 1, "payload": null, "actors": ["user:42"]
        });
        let e: QueuedEvent = serde_json::from_value(json).unwrap();
        assert_eq!(e.actors, vec![Actor::Zendesk(UserId::new(42).unwrap())]);
        assert_eq!(e.entity.vendor(), Vendor::Zendesk);
        for (vendor, entity, actor) in [
            ("hubspot", "ticket:5", "user:1"),
            ("zendesk", "widget:5", "user:1"),
            ("zendesk", "ticket:abc", "user:1"),
            ("zendesk", "ticket:5", "admin:1"),
            ("intercom", "conversation:1", "robot:1"),
        ] {
            let json = serde_json::json!({
                "vendor": vendor, "delivery_id": "d", "topic": "t", "entity": entity,
                "received_at": 1, "payload": null, "actors": [actor]
            });
            assert!(serde_json::from_value::<QueuedEvent>(json).is_err(), "{vendor} {entity} {actor}");
        }
    }

    #[test]
    fn an_event_caused_only_by_the_bridge_is_its_own() {
        let bot = Actor::intercom_admin(&AdminId::parse("9").unwrap());
        let mut e = QueuedEvent {
            vendor: Vendor::Intercom,
            delivery_id: "d".into(),
            topic: "t".into(),
            entity: Entity::Conversation(ConversationId::parse("1").unwrap()),
            received_at: Timestamp(0),
            payload: serde_json::Value::Null,
            actors: vec![],
            trace_id: None,
        };
        assert!(!e.only_caused_by(&bot), "no actor named: not known to be ours");
        e.actors = vec![bot.clone()];
        assert!(e.only_caused_by(&bot));
        e.actors.push(Actor::Intercom { role: AuthorRole::User, id: "c".into() });
        assert!(!e.only_caused_by(&bot));
    }
}
