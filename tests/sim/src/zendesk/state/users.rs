//! Users: the email / external-id index, creates, updates and upserts.

use super::{Actor, ApiError, State, UserInput, normalize_tags};
use crate::zendesk::model::UserRec;

impl State {
    /// The user with this email (primary or secondary), case-insensitive.
    pub fn user_by_email(&self, email: &str) -> Option<&UserRec> {
        self.user_keys.get(&email_key(email)).and_then(|id| self.users.get(id))
    }

    /// The user with this external id, case-insensitive.
    pub fn user_by_external_id(&self, ext: &str) -> Option<&UserRec> {
        self.user_keys.get(&external_key(ext)).and_then(|id| self.users.get(id))
    }

    /// Stores a user (new or changed) and re-indexes its emails and external id.
    pub fn put_user(&mut self, u: UserRec) {
        self.unindex_user(u.id);
        let keys = u.email.iter().chain(&u.secondary_emails).map(|e| email_key(e));
        for key in keys.chain(u.external_id.as_deref().map(external_key)) {
            self.user_keys.insert(key, u.id);
        }
        self.users.insert(u.id, u);
    }

    /// Removes a user and its index entries.
    pub fn remove_user(&mut self, id: u64) -> Option<UserRec> {
        self.unindex_user(id);
        self.users.remove(&id)
    }

    fn unindex_user(&mut self, id: u64) {
        if let Some(old) = self.users.get(&id) {
            let keys = old.email.iter().chain(&old.secondary_emails).map(|e| email_key(e));
            for key in keys.chain(old.external_id.as_deref().map(external_key)).collect::<Vec<_>>() {
                self.user_keys.remove(&key);
            }
        }
    }

    /// Creates a user; 422 on a duplicate email or external id.
    pub fn create_user(&mut self, actor: Actor, input: UserInput) -> Result<u64, ApiError> {
        let name = input
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("name", "BlankValue", "Name: is too short (minimum one character)"))?;
        if let Some(e) = &input.email {
            if !e.contains('@') || e.contains(char::is_whitespace) {
                return Err(ApiError::invalid(
                    "email",
                    "InvalidValue",
                    format!("Email: {e} is not properly formatted"),
                ));
            }
            if self.user_by_email(e).is_some() {
                return Err(ApiError::invalid(
                    "email",
                    "DuplicateValue",
                    format!("Email: {e} is already being used by another user"),
                ));
            }
        }
        if input.external_id.as_deref().is_some_and(|x| self.user_by_external_id(x).is_some()) {
            return Err(ApiError::invalid("external_id", "DuplicateValue", "External: has already been taken"));
        }
        let role = input.role.clone().unwrap_or_else(|| "end-user".into());
        if !["end-user", "agent", "admin"].contains(&role.as_str()) {
            return Err(ApiError::invalid("role", "InvalidValue", "Role: is invalid"));
        }
        if input.organization_id.is_some_and(|o| !self.orgs.contains_key(&o)) {
            return Err(ApiError::invalid("organization_id", "InvalidValue", "Organization: is invalid"));
        }
        let now = self.now();
        let id = self.new_id();
        let u = UserRec {
            id,
            name,
            email: input.email.as_ref().map(|e| e.trim().to_lowercase()),
            secondary_emails: Vec::new(),
            role,
            external_id: input.external_id.clone(),
            organization_id: input.organization_id,
            phone: input.phone.clone(),
            tags: input.tags.as_deref().map(normalize_tags).unwrap_or_default(),
            user_fields: self.known_fields(&self.user_fields, input.user_fields.as_ref()),
            created_at: now,
            updated_at: now,
        };
        self.put_user(u.clone());
        self.queue_user_events(actor, None, &u);
        Ok(id)
    }

    /// Updates a user (`PUT /users/{id}`): an email adds a secondary identity.
    pub fn update_user(&mut self, actor: Actor, id: u64, input: UserInput) -> Result<(), ApiError> {
        let before = self.users.get(&id).cloned().ok_or_else(ApiError::not_found)?;
        let mut u = before.clone();
        if let Some(n) = input.name.filter(|n| !n.trim().is_empty()) {
            u.name = n;
        }
        if let Some(e) = input.email.map(|e| e.trim().to_lowercase()) {
            if u.email.is_none() {
                u.email = Some(e);
            } else if u.email.as_deref() != Some(e.as_str()) && !u.secondary_emails.contains(&e) {
                if self.user_by_email(&e).is_some_and(|o| o.id != id) {
                    return Err(ApiError::invalid(
                        "email",
                        "DuplicateValue",
                        format!("Email: {e} is already being used by another user"),
                    ));
                }
                u.secondary_emails.push(e);
            }
        }
        if let Some(x) = input.external_id {
            if self.user_by_external_id(&x).is_some_and(|o| o.id != id) {
                return Err(ApiError::invalid("external_id", "DuplicateValue", "External: has already been taken"));
            }
            u.external_id = Some(x);
        }
        if let Some(p) = input.phone {
            u.phone = Some(p);
        }
        if let Some(o) = input.organization_id {
            if !self.orgs.contains_key(&o) {
                return Err(ApiError::invalid("organization_id", "InvalidValue", "Organization: is invalid"));
            }
            u.organization_id = Some(o);
        }
        if let Some(r) = input.role {
            u.role = r;
        }
        if let Some(t) = input.tags {
            u.tags = normalize_tags(&t);
        }
        let known = self.known_fields(&self.user_fields, input.user_fields.as_ref());
        u.user_fields.extend(known);
        if u != before {
            u.updated_at = self.now();
        }
        self.put_user(u.clone());
        self.queue_user_events(actor, Some(&before), &u);
        Ok(())
    }

    /// `create_or_update`: matched on email or external id. Returns (id, created).
    pub fn upsert_user(&mut self, actor: Actor, input: UserInput) -> Result<(u64, bool), ApiError> {
        let matched = input
            .external_id
            .as_deref()
            .and_then(|x| self.user_by_external_id(x))
            .or_else(|| input.email.as_deref().and_then(|e| self.user_by_email(e)))
            .map(|u| u.id);
        match matched {
            Some(id) => self.update_user(actor, id, input).map(|()| (id, false)),
            None => self.create_user(actor, input).map(|id| (id, true)),
        }
    }
}

fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

fn external_key(external_id: &str) -> String {
    format!("external:{}", external_id.to_lowercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(email: &str, external_id: Option<&str>) -> UserInput {
        UserInput {
            name: Some("Ada".into()),
            email: Some(email.into()),
            external_id: external_id.map(str::to_string),
            ..UserInput::default()
        }
    }

    #[test]
    fn the_user_index_follows_creates_email_changes_upserts_and_deletes() {
        let mut st = State::new("https://x.zendesk.com".into(), "bot@example.test");
        let actor = Actor { user_id: st.api_user_id, api: true };
        assert_eq!(st.user_by_email(" BOT@example.test").map(|u| u.id), Some(st.api_user_id));

        let id = st.create_user(actor, input("Ada@Example.test", Some("IC-1"))).unwrap();
        assert_eq!(st.user_by_email("ada@example.test").map(|u| u.id), Some(id));
        assert_eq!(st.user_by_external_id("ic-1").map(|u| u.id), Some(id));
        assert!(st.create_user(actor, input("ada@example.test", None)).is_err(), "duplicate email");
        assert!(st.create_user(actor, input("other@example.test", Some("ic-1"))).is_err(), "duplicate external id");

        // A new email is a secondary identity: both find the user. A new external id replaces the old.
        st.update_user(actor, id, UserInput { email: Some("ada2@example.test".into()), ..UserInput::default() })
            .unwrap();
        st.update_user(actor, id, UserInput { external_id: Some("IC-2".into()), ..UserInput::default() }).unwrap();
        assert_eq!(st.user_by_email("ada2@example.test").map(|u| u.id), Some(id));
        assert_eq!(st.user_by_email("ada@example.test").map(|u| u.id), Some(id));
        assert!(st.user_by_external_id("IC-1").is_none());
        assert_eq!(st.upsert_user(actor, input("ada2@example.test", None)).unwrap(), (id, false));

        assert!(st.remove_user(id).is_some());
        assert!(st.user_by_email("ada@example.test").is_none());
        assert!(st.user_by_external_id("IC-2").is_none());
        let (again, created) = st.upsert_user(actor, input("ada@example.test", Some("IC-2"))).unwrap();
        assert!(created && again != id);
    }
}
