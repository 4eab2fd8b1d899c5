//! GDPR erasure rules: when a person is deleted on one side (Intercom `contact.deleted`, Zendesk
//! `zen:event-type:user.deleted`), what to do with the linked person on the other side and which
//! of the bridge's own records to purge.
//!
//! Everything here is pure. The job (`bridge_jobs::erasure`) gathers what the store knows about
//! the person, asks [`plan`] what to do, performs it and logs the [`Receipt`] (ids and counts
//! only).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::event::{Entity, Kind, Vendor};
use crate::ids::{ContactId, ConversationId, TicketId, UserId};
use crate::keys::DocKey;
use crate::model::FieldValue;
use crate::ports::PortResult;

/// The `erasure:` section of the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureConfig {
    /// What to do with the linked Zendesk user when an Intercom contact is deleted.
    #[serde(default)]
    pub on_intercom_deletion: VendorAction,
    /// What to do with the linked Intercom contact when a Zendesk user is deleted.
    #[serde(default)]
    pub on_zendesk_deletion: VendorAction,
    /// Fields overwritten by `redact` (side field paths: `name`, `phone`, `external_id`,
    /// `custom_attributes.<key>`, `user_fields.<key>`). `name` receives `redacted_name`, every
    /// other field is cleared.
    #[serde(default)]
    pub redact_fields: RedactFields,
    /// The name a redacted person gets.
    #[serde(default = "default_redacted_name")]
    pub redacted_name: String,
}

impl Default for ErasureConfig {
    fn default() -> Self {
        Self {
            on_intercom_deletion: VendorAction::default(),
            on_zendesk_deletion: VendorAction::default(),
            redact_fields: RedactFields::default(),
            redacted_name: default_redacted_name(),
        }
    }
}

fn default_redacted_name() -> String {
    "Redacted".into()
}

/// The fields `redact` overwrites on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactFields {
    /// On an Intercom contact.
    #[serde(default = "default_redact_fields")]
    pub intercom: Vec<String>,
    /// On a Zendesk user.
    #[serde(default = "default_redact_fields")]
    pub zendesk: Vec<String>,
}

impl Default for RedactFields {
    fn default() -> Self {
        Self { intercom: default_redact_fields(), zendesk: default_redact_fields() }
    }
}

fn default_redact_fields() -> Vec<String> {
    vec!["name".into(), "phone".into(), "external_id".into()]
}

/// What happens to the linked person on the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorAction {
    /// Delete the person (Zendesk: delete, then permanently delete).
    Delete,
    /// Overwrite the configured fields.
    #[default]
    Redact,
    /// Leave the other side alone; only purge the bridge's own records.
    Keep,
}

/// A person deleted on one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// Where the person was deleted.
    pub side: Vendor,
    /// Their id there.
    pub id: String,
}

/// True for the topics that announce a person's deletion.
pub fn is_erasure_topic(topic: &str) -> bool {
    matches!(topic, "contact.deleted" | "zen:event-type:user.deleted" | "user.deleted")
}

/// The deletion a queued event announces (a contact's or a Zendesk user's), if any.
pub fn deletion(topic: &str, entity: &Entity) -> Option<Deletion> {
    if !is_erasure_topic(topic) {
        return None;
    }
    let (side, kind, id) = Kind::of_entity(entity)?;
    (kind == Kind::Person).then_some(Deletion { side, id })
}

/// Everything known to identify one person on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Person {
    /// Intercom contact ids.
    pub intercom: BTreeSet<String>,
    /// Zendesk user ids.
    pub zendesk: BTreeSet<String>,
    /// Email addresses (lowercased).
    pub emails: BTreeSet<String>,
}

impl Person {
    /// The person as the deletion names them.
    pub fn from_deletion(d: &Deletion) -> Self {
        let mut p = Person::default();
        p.ids_mut(d.side).insert(d.id.clone());
        p
    }

    /// The ids on one side.
    pub fn ids(&self, side: Vendor) -> &BTreeSet<String> {
        match side {
            Vendor::Intercom => &self.intercom,
            Vendor::Zendesk => &self.zendesk,
        }
    }

    fn ids_mut(&mut self, side: Vendor) -> &mut BTreeSet<String> {
        match side {
            Vendor::Intercom => &mut self.intercom,
            Vendor::Zendesk => &mut self.zendesk,
        }
    }

    /// Adds an id on a side (blank ids and `"0"`, Zendesk's "none", are ignored).
    pub fn add_id(&mut self, side: Vendor, id: &str) {
        let id = id.trim();
        if !id.is_empty() && id != "0" {
            self.ids_mut(side).insert(id.to_string());
        }
    }

    /// Adds an email address.
    pub fn add_email(&mut self, email: &str) {
        let email = email.trim().to_lowercase();
        if email.contains('@') {
            self.emails.insert(email);
        }
    }

    /// Reads the person references of one of the bridge's documents into `self`: escalation's
    /// `PERSON#IC#…` (`zendesk_user_id`), intake's `PERSON#ZD#…` (`intercom_contact_id`),
    /// profile sync's pair state (`intercom_id`, `zendesk_id`, `baseline.email`) and pointer
    /// (`intercom_id`). Unknown documents add nothing.
    pub fn learn_from_doc(&mut self, doc: &serde_json::Value) {
        for (field, side) in [
            ("zendesk_user_id", Vendor::Zendesk),
            ("zendesk_id", Vendor::Zendesk),
            ("intercom_contact_id", Vendor::Intercom),
            ("intercom_id", Vendor::Intercom),
        ] {
            if let Some(id) = scalar(doc.get(field)) {
                self.add_id(side, &id);
            }
        }
        if let Some(email) = doc.pointer("/baseline/email").and_then(|v| v.as_str()) {
            self.add_email(email);
        }
    }
}

fn scalar(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The bridge's documents about a person: escalation's and intake's person caches, profile
/// sync's pair state, pointer and ambiguity records, and the loop-guard records of the person.
/// Ids that are not valid ids (a Zendesk `0` means none) have no documents.
pub fn person_keys(person: &Person) -> BTreeSet<DocKey> {
    let mut keys = BTreeSet::new();
    for (side, ids) in [(Vendor::Intercom, &person.intercom), (Vendor::Zendesk, &person.zendesk)] {
        for id in ids {
            let cache = match side {
                Vendor::Intercom => ContactId::parse(id.as_str()).ok().map(DocKey::IntercomPerson),
                Vendor::Zendesk => UserId::parse(id).ok().map(DocKey::ZendeskPerson),
            };
            let Some(cache) = cache else { continue };
            keys.insert(cache);
            keys.insert(DocKey::Profile { side, kind: Kind::Person, id: id.clone() });
            keys.insert(DocKey::ProfileAmbiguous { side, kind: Kind::Person, id: id.clone() });
            keys.insert(DocKey::written_profile(side, Kind::Person, id));
        }
    }
    keys
}

/// The documents the jobs keep per linked conversation and ticket (escalation, ticket status,
/// tag sync, loop-guard records), purged with the person's links.
pub fn conversation_keys(conversation: &ConversationId, tickets: &[TicketId]) -> BTreeSet<DocKey> {
    let mut keys = BTreeSet::from([
        DocKey::Escalation(conversation.clone()),
        DocKey::TicketStatus(conversation.clone()),
        DocKey::Tags(conversation.clone()),
        DocKey::written(&Entity::Conversation(conversation.clone())),
    ]);
    for t in tickets {
        keys.insert(DocKey::written(&Entity::Ticket(*t)));
    }
    keys
}

/// One write on a vendor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorStep {
    /// Which side.
    pub side: Vendor,
    /// The person's id there.
    pub id: String,
    /// Delete or redact (never `Keep`).
    pub action: VendorAction,
    /// For `Redact`: the values to write (side field paths).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, FieldValue>,
}

/// The vendor writes an erasure makes: the configured action on every linked id of the other
/// side (the deleted side is already gone).
pub fn vendor_steps(config: &ErasureConfig, deletion: &Deletion, person: &Person) -> Vec<VendorStep> {
    let (other, action, fields) = match deletion.side {
        Vendor::Intercom => (Vendor::Zendesk, config.on_intercom_deletion, &config.redact_fields.zendesk),
        Vendor::Zendesk => (Vendor::Intercom, config.on_zendesk_deletion, &config.redact_fields.intercom),
    };
    if action == VendorAction::Keep {
        return Vec::new();
    }
    let values: BTreeMap<String, FieldValue> = match action {
        VendorAction::Redact => fields
            .iter()
            .map(|f| {
                let v = if f == "name" { FieldValue::Text(config.redacted_name.clone()) } else { FieldValue::Null };
                (f.clone(), v)
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    person
        .ids(other)
        .iter()
        .map(|id| VendorStep { side: other, id: id.clone(), action, values: values.clone() })
        .collect()
}

/// Payload keys whose value may be a Zendesk user id.
const USER_ID_KEYS: [&str; 9] = [
    "requester_id",
    "submitter_id",
    "assignee_id",
    "actor_id",
    "author_id",
    "user_id",
    "updated_by",
    "zendesk_user_id",
    "zendesk_id",
];

/// True when a queued event (a dead letter's body) is about the person or carries their data:
/// its entity is the person, or its payload holds one of their emails, an Intercom id (ids are
/// unique strings), or a Zendesk id under a user-id key (numbers alone are too ambiguous).
pub fn mentions(entity: &Entity, payload: &serde_json::Value, person: &Person) -> bool {
    if let Some((side, Kind::Person, id)) = Kind::of_entity(entity)
        && person.ids(side).contains(&id)
    {
        return true;
    }
    mentions_value(None, payload, person)
}

fn mentions_value(key: Option<&str>, v: &serde_json::Value, person: &Person) -> bool {
    match v {
        serde_json::Value::String(s) => {
            let lower = s.to_lowercase();
            person.emails.iter().any(|e| lower.contains(e.as_str()))
                || person.intercom.contains(s)
                || (key.is_some_and(|k| USER_ID_KEYS.contains(&k)) && person.zendesk.contains(s))
        }
        serde_json::Value::Number(n) => {
            key.is_some_and(|k| USER_ID_KEYS.contains(&k)) && person.zendesk.contains(&n.to_string())
        }
        serde_json::Value::Array(items) => items.iter().any(|i| mentions_value(key, i, person)),
        serde_json::Value::Object(map) => map.iter().any(|(k, i)| mentions_value(Some(k), i, person)),
        _ => false,
    }
}

/// What an erasure removed, logged once: ids and counts only, never an email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Receipt {
    /// Where the person was deleted (`intercom` / `zendesk`).
    pub deleted_on: String,
    /// Their id there.
    pub deleted_id: String,
    /// The linked ids found on the other side.
    pub linked_ids: Vec<String>,
    /// Vendor writes made: `delete zendesk user 5`, `redact intercom contact abc`.
    pub vendor_actions: Vec<String>,
    /// Linked people already gone on the other side.
    pub already_gone: usize,
    /// Documents removed from the store.
    pub documents_removed: usize,
    /// Links removed (conversation <-> tickets).
    pub links_removed: usize,
    /// Dead letters removed.
    pub dead_letters_removed: usize,
}

impl Receipt {
    /// A receipt for a deletion, before anything was done.
    pub fn new(d: &Deletion, person: &Person) -> Self {
        let other = match d.side {
            Vendor::Intercom => Vendor::Zendesk,
            Vendor::Zendesk => Vendor::Intercom,
        };
        Receipt {
            deleted_on: side_name(d.side).into(),
            deleted_id: d.id.clone(),
            linked_ids: person.ids(other).iter().cloned().collect(),
            ..Receipt::default()
        }
    }

    /// Counts only (no ids): safe to store, e.g. as a delivery's outcome.
    pub fn counts(&self) -> String {
        format!(
            "erasure: {} vendor actions, {} already gone, {} documents, {} links, {} dead letters",
            self.vendor_actions.len(),
            self.already_gone,
            self.documents_removed,
            self.links_removed,
            self.dead_letters_removed
        )
    }

    /// One-line summary (ids and counts), for the log.
    pub fn summary(&self) -> String {
        format!(
            "erased {} person {}: linked {:?}, vendor actions {:?}, already gone {}, documents {}, links {}, dead letters {}",
            self.deleted_on,
            self.deleted_id,
            self.linked_ids,
            self.vendor_actions,
            self.already_gone,
            self.documents_removed,
            self.links_removed,
            self.dead_letters_removed
        )
    }
}

/// `intercom` / `zendesk`.
pub fn side_name(side: Vendor) -> &'static str {
    match side {
        Vendor::Intercom => "intercom",
        Vendor::Zendesk => "zendesk",
    }
}

/// Describes a vendor step for the receipt (ids only).
pub fn describe(step: &VendorStep) -> String {
    let verb = match step.action {
        VendorAction::Delete => "delete",
        VendorAction::Redact => "redact",
        VendorAction::Keep => "keep",
    };
    let what = match step.side {
        Vendor::Intercom => "intercom contact",
        Vendor::Zendesk => "zendesk user",
    };
    format!("{verb} {what} {}", step.id)
}

/// Deletes persons on one side; implemented by both vendor clients. Redaction goes through
/// [`crate::profiles::directory::ProfileDirectory::write`].
pub trait PersonEraser: Send + Sync {
    /// Which side this is.
    fn side(&self) -> Vendor;
    /// Deletes the person for good. `Ok(false)` when they were already gone.
    fn delete_person(&self, id: &str) -> impl Future<Output = PortResult<bool>> + Send;
}

/// Removes dead letters (DLQ payloads) that mention a person; implemented over SQS.
pub trait DeadLetterPurge: Send + Sync {
    /// Removes, from every dead-letter queue, the letters whose event satisfies `matches`
    /// (entity, payload); returns how many were removed.
    fn purge_dead_letters(
        &self,
        matches: &(dyn Fn(&Entity, &serde_json::Value) -> bool + Send + Sync),
    ) -> impl Future<Output = PortResult<usize>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(side: Vendor, id: &str) -> Deletion {
        Deletion { side, id: id.into() }
    }

    #[test]
    fn only_person_deletions_are_erasures() {
        assert_eq!(deletion("contact.deleted", &"contact:abc".parse().unwrap()), Some(d(Vendor::Intercom, "abc")));
        assert_eq!(
            deletion("zen:event-type:user.deleted", &"user:42".parse().unwrap()),
            Some(d(Vendor::Zendesk, "42"))
        );
        assert_eq!(deletion("contact.user.updated", &"contact:abc".parse().unwrap()), None);
        assert_eq!(deletion("zen:event-type:organization.deleted", &"organization:1".parse().unwrap()), None);
        assert_eq!(deletion("contact.deleted", &"company:1".parse().unwrap()), None);
    }

    #[test]
    fn docs_of_every_job_reveal_the_peer() {
        let mut p = Person::from_deletion(&d(Vendor::Intercom, "c1"));
        p.learn_from_doc(
            &serde_json::json!({"zendesk_user_id":300,"zendesk_organization_id":null,"display_name":"Ada"}),
        );
        p.learn_from_doc(
            &serde_json::json!({"intercom_id":"c1","zendesk_id":"301","baseline":{"email":"Ada@X.example"}}),
        );
        p.learn_from_doc(&serde_json::json!({"intercom_contact_id":"c2"}));
        p.learn_from_doc(&serde_json::json!("not an object"));
        assert_eq!(p.zendesk, BTreeSet::from(["300".to_string(), "301".to_string()]));
        assert_eq!(p.intercom, BTreeSet::from(["c1".to_string(), "c2".to_string()]));
        assert_eq!(p.emails, BTreeSet::from(["ada@x.example".to_string()]));
    }

    #[test]
    fn keys_cover_every_job_document() {
        let mut p = Person::default();
        p.add_id(Vendor::Intercom, "c1");
        p.add_id(Vendor::Zendesk, "7");
        p.add_id(Vendor::Zendesk, "0");
        let keys = person_keys(&p);
        let profile = |side, id: &str| DocKey::Profile { side, kind: Kind::Person, id: id.into() };
        for k in [
            DocKey::IntercomPerson(ContactId::parse("c1").unwrap()),
            DocKey::ZendeskPerson(UserId::new(7).unwrap()),
            profile(Vendor::Intercom, "c1"),
            profile(Vendor::Zendesk, "7"),
            DocKey::ProfileAmbiguous { side: Vendor::Intercom, kind: Kind::Person, id: "c1".into() },
            DocKey::written_profile(Vendor::Intercom, Kind::Person, "c1"),
            DocKey::written_profile(Vendor::Zendesk, Kind::Person, "7"),
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        assert_eq!(keys.len(), 8, "the Zendesk id 0 means none");
        let conv = ConversationId::parse("99").unwrap();
        let ticket = TicketId::new(5).unwrap();
        let ck = conversation_keys(&conv, &[ticket]);
        assert!(
            ck.contains(&DocKey::Escalation(conv.clone()))
                && ck.contains(&DocKey::written(&Entity::Ticket(ticket)))
                && ck.contains(&DocKey::TicketStatus(conv.clone())),
            "{ck:?}"
        );
    }

    #[test]
    fn the_configured_action_applies_to_the_other_side_only() {
        let mut p = Person::from_deletion(&d(Vendor::Intercom, "c1"));
        p.add_id(Vendor::Zendesk, "7");
        let mut config = ErasureConfig::default();
        let steps = vendor_steps(&config, &d(Vendor::Intercom, "c1"), &p);
        assert_eq!(steps.len(), 1);
        assert_eq!(
            (steps[0].side, steps[0].id.as_str(), steps[0].action),
            (Vendor::Zendesk, "7", VendorAction::Redact)
        );
        assert_eq!(steps[0].values.get("name"), Some(&FieldValue::Text("Redacted".into())));
        assert_eq!(steps[0].values.get("phone"), Some(&FieldValue::Null));
        config.on_intercom_deletion = VendorAction::Delete;
        let steps = vendor_steps(&config, &d(Vendor::Intercom, "c1"), &p);
        assert_eq!(steps[0].action, VendorAction::Delete);
        assert!(steps[0].values.is_empty());
        config.on_intercom_deletion = VendorAction::Keep;
        assert!(vendor_steps(&config, &d(Vendor::Intercom, "c1"), &p).is_empty());
        // A Zendesk deletion acts on the Intercom ids (here: the default action, redact).
        let steps = vendor_steps(&config, &d(Vendor::Zendesk, "7"), &p);
        assert_eq!((steps[0].side, steps[0].id.as_str()), (Vendor::Intercom, "c1"));
    }

    #[test]
    fn dead_letters_match_by_entity_email_or_user_id_key() {
        let mut p = Person::default();
        p.add_id(Vendor::Intercom, "6651aa");
        p.add_id(Vendor::Zendesk, "42");
        p.add_email("ada@x.example");
        let none = serde_json::Value::Null;
        assert!(mentions(&"user:42".parse().unwrap(), &none, &p));
        assert!(mentions(&"contact:6651aa".parse().unwrap(), &none, &p));
        assert!(!mentions(&"ticket:42".parse().unwrap(), &none, &p), "a ticket with the same number is someone else");
        assert!(mentions(&"ticket:1".parse().unwrap(), &serde_json::json!({"detail": {"requester_id": "42"}}), &p));
        assert!(mentions(&"ticket:1".parse().unwrap(), &serde_json::json!({"detail": {"requester_id": 42}}), &p));
        assert!(!mentions(&"ticket:1".parse().unwrap(), &serde_json::json!({"detail": {"id": 42}}), &p));
        assert!(mentions(
            &"conversation:1".parse().unwrap(),
            &serde_json::json!({"author": {"email": "ADA@x.example"}}),
            &p
        ));
        assert!(mentions(&"conversation:1".parse().unwrap(), &serde_json::json!({"contacts": [{"id": "6651aa"}]}), &p));
        assert!(!mentions(&"conversation:1".parse().unwrap(), &serde_json::json!({"contacts": [{"id": "other"}]}), &p));
    }

    #[test]
    fn the_receipt_holds_ids_and_counts_only() {
        let mut p = Person::from_deletion(&d(Vendor::Intercom, "c1"));
        p.add_id(Vendor::Zendesk, "7");
        p.add_email("ada@x.example");
        let mut r = Receipt::new(&d(Vendor::Intercom, "c1"), &p);
        r.documents_removed = 3;
        let s = r.summary();
        assert!(s.contains("c1") && s.contains("\"7\"") && s.contains("documents 3"), "{s}");
        assert!(!s.contains("ada@"), "{s}");
        assert!(!r.counts().contains("c1") && r.counts().contains("3 documents"), "{}", r.counts());
        assert_eq!(serde_norway::from_str::<ErasureConfig>("{}").unwrap(), ErasureConfig::default());
    }
}
