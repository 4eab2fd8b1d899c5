//! `/__admin` routes (JSON, unauthenticated, not recorded) and the same actions as in-process
//! methods on [`IntercomSim`]: seed data, act as a customer or teammate, inspect, set faults.

use serde_json::Value;

use super::actions::{self, Writer};
use super::state::{Admin, Company, Contact, ConversationAttribute, DataAttribute, Segment, Team};
use super::{ApiError, Shared};

mod handlers;
mod in_process;

pub use handlers::routes;

// ---------- seeding (shared by HTTP and in-process) ----------

/// The keys two contacts may not share: the email (case-insensitive) and the external id.
fn contact_keys(c: &Contact) -> Vec<String> {
    let email = c.email.as_deref().map(|e| format!("email:{}", e.to_ascii_lowercase()));
    let external = c.external_id.as_deref().map(|x| format!("external:{x}"));
    email.into_iter().chain(external).collect()
}

impl Shared {
    fn seed_admin(&self, mut a: Admin) -> String {
        self.mutate(|st, _| {
            if a.id.is_empty() {
                a.id = st.numeric_id(800_000);
            }
            let id = a.id.clone();
            st.admins.insert(id.clone(), a);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_team(&self, mut t: Team) -> String {
        self.mutate(|st, _| {
            if t.id.is_empty() {
                t.id = st.numeric_id(5_000_000);
            }
            for a in &t.admin_ids {
                if let Some(admin) = st.admins.get_mut(a)
                    && !admin.team_ids.contains(&t.id)
                {
                    admin.team_ids.push(t.id.clone());
                }
            }
            let id = t.id.clone();
            st.teams.insert(id.clone(), t);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_tag(&self, name: &str) -> Result<String, ApiError> {
        self.mutate(|st, _| actions::ensure_tag(st, name))
    }

    fn seed_segment(&self, mut s: Segment) -> String {
        self.mutate(|st, _| {
            if s.id.is_empty() {
                s.id = st.hex_id();
            }
            if s.person_type.is_empty() {
                s.person_type = "user".into();
            }
            if s.created_at == 0 {
                s.created_at = st.now();
            }
            let id = s.id.clone();
            st.segments.insert(id.clone(), s);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_contact(&self, c: Contact) -> Result<String, ApiError> {
        self.seed_contacts(vec![c]).map(|mut ids| ids.remove(0))
    }

    /// Adds contacts in one state change; a duplicate email or external id is a 409 (the
    /// contacts before it stay). The existing keys are collected once, so seeding N contacts is
    /// linear, not quadratic.
    pub(super) fn seed_contacts(&self, contacts: Vec<Contact>) -> Result<Vec<String>, ApiError> {
        self.mutate(|st, _| {
            let mut taken: std::collections::HashMap<String, String> = std::collections::HashMap::new();
            for o in st.contacts.values() {
                for key in contact_keys(o) {
                    taken.insert(key, o.id.clone());
                }
            }
            let mut ids = Vec::with_capacity(contacts.len());
            for mut c in contacts {
                if let Some(other) = contact_keys(&c).iter().find_map(|k| taken.get(k)) {
                    return Err(ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "conflict",
                        format!("A contact matching those details already exists with id={other}"),
                    ));
                }
                if c.id.is_empty() {
                    c.id = st.hex_id();
                }
                if c.role.is_empty() {
                    c.role = "user".into();
                }
                if c.created_at == 0 {
                    c.created_at = st.now();
                }
                c.updated_at = c.updated_at.max(c.created_at);
                for key in contact_keys(&c) {
                    taken.insert(key, c.id.clone());
                }
                ids.push(c.id.clone());
                st.contacts.insert(c.id.clone(), c);
            }
            Ok(ids)
        })
    }

    fn seed_company(&self, mut c: Company) -> String {
        self.mutate(|st, _| {
            if c.id.is_empty() {
                c.id = st.hex_id();
            }
            if c.company_id.is_empty() {
                c.company_id = c.id.clone();
            }
            if c.created_at == 0 {
                c.created_at = st.now();
            }
            c.updated_at = c.updated_at.max(c.created_at);
            let id = c.id.clone();
            st.companies.insert(id.clone(), c);
            Ok(id)
        })
        .unwrap_or_default()
    }

    fn seed_data_attribute(&self, mut a: DataAttribute) {
        let _ = self.mutate(|st, _| {
            if a.id == 0 {
                a.id = st.numeric_id(0).parse().unwrap_or(0);
            }
            if a.data_type.is_empty() {
                a.data_type = "string".into();
            }
            st.data_attributes.retain(|x| !(x.model == a.model && x.name == a.name));
            st.data_attributes.push(a);
            Ok(())
        });
    }

    fn seed_conversation_attribute(&self, mut a: ConversationAttribute) {
        let _ = self.mutate(|st, _| {
            if a.id == 0 {
                a.id = st.numeric_id(0).parse().unwrap_or(0);
            }
            if a.data_type.is_empty() {
                a.data_type = "string".into();
            }
            if a.created_at == 0 {
                a.created_at = st.now();
            }
            st.conversation_attributes.retain(|x| x.name != a.name);
            st.conversation_attributes.push(a);
            Ok(())
        });
    }
}

fn customer_replies(sh: &Shared, conv_id: &str, body: &str) -> Result<String, ApiError> {
    sh.mutate(|st, ev| {
        let contact = st
            .conversations
            .get(conv_id)
            .and_then(|c| c.contact_ids.first().cloned())
            .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
        actions::reply(st, ev, conv_id, Writer::Contact(contact), false, body, None)
    })
}

fn admin_tags(sh: &Shared, conv_id: &str, admin_id: &str, tag: &str) -> Result<Value, ApiError> {
    sh.mutate(|st, ev| {
        let tag_id = actions::ensure_tag(st, tag)?;
        actions::tag_conversation(st, ev, conv_id, &tag_id, admin_id)
    })
}
