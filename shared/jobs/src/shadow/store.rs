//! The shadow store: reads go to the real store, writes land in an in-memory overlay that
//! later reads of the same run see.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bridge_domain::ids::{ContactId, ConversationId, TicketId, UserId};
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::{Link, Timestamp};
use bridge_domain::ports::{Claim, Doc, LinkCreated, PortError, PortResult, Service, Store, WithLink};
use serde::Serialize;

/// A store whose writes stay in memory.
#[derive(Debug)]
pub struct ShadowStore<'a, S> {
    inner: &'a S,
    overlay: Mutex<Overlay>,
}

#[derive(Debug, Default)]
struct Overlay {
    /// Intents claimed in this run: `None` held, `Some(result)` done.
    intents: HashMap<String, Option<String>>,
    links: HashMap<String, Link>,
    tickets: HashMap<u64, String>,
    /// Documents written (`Some`) or deleted (`None`) in this run.
    docs: HashMap<String, Option<Doc<serde_json::Value>>>,
}

impl<'a, S> ShadowStore<'a, S> {
    /// Reads through to `inner`.
    pub fn new(inner: &'a S) -> Self {
        Self { inner, overlay: Mutex::default() }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Overlay) -> T) -> T {
        let mut guard = self.overlay.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

fn unreadable(key: &DocKey, e: serde_json::Error) -> PortError {
    PortError::Rejected { service: Service::Store, source: format!("document {key}: {e}").into() }
}

impl<S: Store> Store for ShadowStore<'_, S> {
    async fn claim(&self, intent: &Intent, holder: &str, lease: Duration, now: Timestamp) -> PortResult<Claim> {
        let key = intent.to_string();
        if let Some(state) = self.with(|o| o.intents.get(&key).cloned()) {
            return Ok(match state {
                Some(result) => Claim::Done(result),
                None => Claim::Acquired,
            });
        }
        // Read the real state without changing it: a real "done" stays done.
        let _ = (holder, lease, now);
        match self.inner.intent_state(intent).await? {
            Some(Claim::Done(r)) => Ok(Claim::Done(r)),
            _ => {
                self.with(|o| o.intents.insert(key, None));
                Ok(Claim::Acquired)
            }
        }
    }
    async fn intent_state(&self, intent: &Intent) -> PortResult<Option<Claim>> {
        match self.with(|o| o.intents.get(&intent.to_string()).cloned()) {
            Some(Some(result)) => Ok(Some(Claim::Done(result))),
            Some(None) => Ok(Some(Claim::Busy)),
            None => self.inner.intent_state(intent).await,
        }
    }
    async fn complete(&self, intent: &Intent, result: &str) -> PortResult<()> {
        self.with(|o| o.intents.insert(intent.to_string(), Some(result.to_string())));
        Ok(())
    }
    async fn complete_for(&self, intent: &Intent, result: &str, _keep: Duration) -> PortResult<()> {
        self.complete(intent, result).await
    }
    async fn release(&self, _intent: &Intent, _holder: &str) -> PortResult<()> {
        // The overlay's claim stays (a claim here always answers Acquired again).
        Ok(())
    }
    async fn link_by_conversation(&self, c: &ConversationId) -> PortResult<Option<Link>> {
        if let Some(l) = self.with(|o| o.links.get(c.as_str()).cloned()) {
            return Ok(Some(l));
        }
        self.inner.link_by_conversation(c).await
    }
    async fn link_by_ticket(&self, t: TicketId) -> PortResult<Option<Link>> {
        if let Some(l) = self.with(|o| o.tickets.get(&t.get()).and_then(|c| o.links.get(c)).cloned()) {
            return Ok(Some(l));
        }
        self.inner.link_by_ticket(t).await
    }
    async fn create_link_with(&self, link: &Link, with: WithLink<'_>) -> PortResult<LinkCreated> {
        if let Some(existing) = self.link_by_conversation(&link.conversation_id).await? {
            return Ok(LinkCreated::AlreadyLinked(existing));
        }
        let mut docs = Vec::with_capacity(with.docs.len());
        for (key, doc) in &with.docs {
            let json = doc.to_json().map_err(|e| unreadable(key, e))?;
            docs.push((key.to_string(), serde_json::from_str(&json).map_err(|e| unreadable(key, e))?));
        }
        self.with(|o| {
            o.links.insert(link.conversation_id.to_string(), link.clone());
            for t in &link.tickets {
                o.tickets.insert(t.get(), link.conversation_id.to_string());
            }
            for (key, value) in docs {
                o.docs.insert(key, Some(Doc { value, version: 1 }));
            }
        });
        Ok(LinkCreated::Created)
    }
    async fn update_link(&self, link: &Link, _expected_version: u64) -> PortResult<bool> {
        self.with(|o| {
            o.links.insert(link.conversation_id.to_string(), link.clone());
            for t in &link.tickets {
                o.tickets.insert(t.get(), link.conversation_id.to_string());
            }
        });
        Ok(true)
    }
    async fn links_of_person(&self, contacts: &[ContactId], users: &[UserId]) -> PortResult<Vec<Link>> {
        self.inner.links_of_person(contacts, users).await
    }
    async fn delete_link(&self, link: &Link) -> PortResult<()> {
        // Planned, not made: the real links stay; this run reads them as gone from now on.
        self.with(|o| o.links.remove(link.conversation_id.as_str()));
        Ok(())
    }
    async fn load<T: serde::de::DeserializeOwned + Send>(&self, key: &DocKey) -> PortResult<Option<Doc<T>>> {
        match self.with(|o| o.docs.get(&key.to_string()).cloned()) {
            Some(Some(doc)) => {
                let value = serde_json::from_value(doc.value).map_err(|e| unreadable(key, e))?;
                Ok(Some(Doc { value, version: doc.version }))
            }
            Some(None) => Ok(None),
            None => self.inner.load(key).await,
        }
    }
    async fn save<T: Serialize + Sync>(&self, key: &DocKey, value: &T, expected: Option<u64>) -> PortResult<bool> {
        let current = self.load::<serde_json::Value>(key).await?.map(|v| v.version);
        if current != expected {
            return Ok(false);
        }
        let value = serde_json::to_value(value).map_err(|e| unreadable(key, e))?;
        let version = current.unwrap_or(0) + 1;
        self.with(|o| o.docs.insert(key.to_string(), Some(Doc { value, version })));
        Ok(true)
    }
    async fn delete(&self, key: &DocKey) -> PortResult<bool> {
        let existed = self.load::<serde_json::Value>(key).await?.is_some();
        self.with(|o| o.docs.insert(key.to_string(), None));
        Ok(existed)
    }
}
