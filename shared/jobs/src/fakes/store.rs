//! The store in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bridge_domain::ids::*;
use bridge_domain::keys::{DocKey, Intent};
use bridge_domain::model::*;
use bridge_domain::ports::*;

/// The store in memory; keys are kept in their stored text form, documents as JSON values.
#[derive(Default)]
pub struct MemStore {
    intents: Mutex<HashMap<String, Marker>>,
    links: Mutex<HashMap<String, Link>>,
    ticket_index: Mutex<HashMap<u64, String>>,
    docs: Mutex<HashMap<String, Doc<serde_json::Value>>>,
    pub fail_next_link_write: AtomicBool,
    /// Requests a DynamoDB store would make: reads (a batched read counts once) and writes.
    pub requests: Requests,
}

/// Store requests made, by kind.
#[derive(Default, Debug)]
pub struct Requests {
    /// Reads.
    pub reads: AtomicUsize,
    /// Writes (conditional or not; a transaction counts once).
    pub writes: AtomicUsize,
}

impl Requests {
    /// (reads, writes) so far.
    pub fn get(&self) -> (usize, usize) {
        (self.reads.load(Ordering::SeqCst), self.writes.load(Ordering::SeqCst))
    }
    fn read(&self) {
        self.reads.fetch_add(1, Ordering::SeqCst);
    }
    fn write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Clone)]
enum Marker {
    Claimed { holder: String, until: Timestamp },
    Done(String),
}

impl Store for MemStore {
    async fn claim(&self, intent: &Intent, holder: &str, lease: Duration, now: Timestamp) -> PortResult<Claim> {
        self.requests.write();
        let mut m = self.intents.lock().unwrap();
        let key = intent.to_string();
        match m.get(&key) {
            Some(Marker::Done(r)) => return Ok(Claim::Done(r.clone())),
            // Like the DynamoDB store: a holder may claim again what it holds (re-entrant).
            Some(Marker::Claimed { until, holder: h }) if *until > now && h != holder => return Ok(Claim::Busy),
            _ => {}
        }
        m.insert(key, Marker::Claimed { holder: holder.into(), until: now.plus(lease.as_secs() as i64) });
        Ok(Claim::Acquired)
    }
    async fn intent_state(&self, intent: &Intent) -> PortResult<Option<Claim>> {
        self.requests.read();
        Ok(self.intents.lock().unwrap().get(&intent.to_string()).map(|i| match i {
            Marker::Done(r) => Claim::Done(r.clone()),
            Marker::Claimed { .. } => Claim::Busy,
        }))
    }
    async fn complete(&self, intent: &Intent, result: &str) -> PortResult<()> {
        self.requests.write();
        self.intents.lock().unwrap().insert(intent.to_string(), Marker::Done(result.into()));
        Ok(())
    }
    async fn complete_for(&self, intent: &Intent, result: &str, _keep: Duration) -> PortResult<()> {
        self.complete(intent, result).await
    }
    async fn release(&self, intent: &Intent, holder: &str) -> PortResult<()> {
        self.requests.write();
        let mut m = self.intents.lock().unwrap();
        let key = intent.to_string();
        if let Some(Marker::Claimed { holder: h, until }) = m.get_mut(&key)
            && h == holder
        {
            *until = Timestamp(0);
        }
        Ok(())
    }
    async fn link_by_conversation(&self, c: &ConversationId) -> PortResult<Option<Link>> {
        self.requests.read();
        Ok(self.links.lock().unwrap().get(c.as_str()).cloned())
    }
    async fn link_by_ticket(&self, t: TicketId) -> PortResult<Option<Link>> {
        self.requests.read();
        let conv = self.ticket_index.lock().unwrap().get(&t.get()).cloned();
        Ok(conv.and_then(|c| self.links.lock().unwrap().get(&c).cloned()))
    }
    async fn create_link_with(&self, link: &Link, with: WithLink<'_>) -> PortResult<LinkCreated> {
        self.requests.write();
        if self.fail_next_link_write.swap(false, Ordering::SeqCst) {
            return Err(PortError::unavailable(Service::Store, "injected crash before link write"));
        }
        let mut links = self.links.lock().unwrap();
        if let Some(existing) = links.get(link.conversation_id.as_str()) {
            return Ok(LinkCreated::AlreadyLinked(existing.clone()));
        }
        // One transaction: everything is encoded before anything is written.
        let mut docs = Vec::with_capacity(with.docs.len());
        for (key, doc) in &with.docs {
            let json = doc.to_json().map_err(|e| PortError::rejected(Service::Store, format!("{key}: {e}")))?;
            docs.push((key.to_string(), serde_json::from_str(&json).unwrap()));
        }
        links.insert(link.conversation_id.to_string(), link.clone());
        for t in &link.tickets {
            self.ticket_index.lock().unwrap().insert(t.get(), link.conversation_id.to_string());
        }
        for (key, value) in docs {
            self.docs.lock().unwrap().insert(key, Doc { value, version: 1 });
        }
        Ok(LinkCreated::Created)
    }
    async fn update_link(&self, link: &Link, expected: u64) -> PortResult<bool> {
        self.requests.write();
        let mut links = self.links.lock().unwrap();
        match links.get(link.conversation_id.as_str()) {
            Some(l) if l.version == expected => {
                // Like the DynamoDB store: the version is bumped and every ticket is indexed.
                let mut stored = link.clone();
                stored.version = expected + 1;
                for t in &stored.tickets {
                    self.ticket_index.lock().unwrap().insert(t.get(), link.conversation_id.to_string());
                }
                links.insert(link.conversation_id.to_string(), stored);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn load<T: serde::de::DeserializeOwned + Send>(&self, key: &DocKey) -> PortResult<Option<Doc<T>>> {
        self.requests.read();
        let Some(doc) = self.docs.lock().unwrap().get(&key.to_string()).cloned() else { return Ok(None) };
        let value = serde_json::from_value(doc.value).map_err(|e| PortError::Rejected {
            service: Service::Store,
            source: format!("document {key} does not read back: {e}").into(),
        })?;
        Ok(Some(Doc { value, version: doc.version }))
    }
    async fn save<T: serde::Serialize + Sync>(
        &self,
        key: &DocKey,
        value: &T,
        expected: Option<u64>,
    ) -> PortResult<bool> {
        self.requests.write();
        let value = serde_json::to_value(value).unwrap();
        let mut docs = self.docs.lock().unwrap();
        let current = docs.get(&key.to_string()).map(|v| v.version);
        if current != expected {
            return Ok(false);
        }
        docs.insert(key.to_string(), Doc { value, version: current.unwrap_or(0) + 1 });
        Ok(true)
    }
    async fn delete(&self, key: &DocKey) -> PortResult<bool> {
        self.requests.write();
        Ok(self.docs.lock().unwrap().remove(&key.to_string()).is_some())
    }
    async fn link_and_doc<T: serde::de::DeserializeOwned + Send>(
        &self,
        conversation: &ConversationId,
        key: &DocKey,
    ) -> PortResult<(Option<Link>, Option<Doc<T>>)> {
        // One batched read: the load counts it.
        let link = self.links.lock().unwrap().get(conversation.as_str()).cloned();
        Ok((link, self.load(key).await?))
    }
    async fn links_of_person(&self, contacts: &[ContactId], users: &[UserId]) -> PortResult<Vec<Link>> {
        self.requests.read();
        let links = self.links.lock().unwrap();
        Ok(links
            .values()
            .filter(|l| {
                l.contact_id.as_ref().is_some_and(|c| contacts.contains(c))
                    || l.requester_id.is_some_and(|u| users.contains(&u))
            })
            .cloned()
            .collect())
    }
    async fn delete_link(&self, link: &Link) -> PortResult<()> {
        self.requests.write();
        self.links.lock().unwrap().remove(link.conversation_id.as_str());
        // Like the DynamoDB store: every ticket entry of the link goes, whoever it points at.
        self.ticket_index.lock().unwrap().retain(|t, _| !link.tickets.iter().any(|lt| lt.get() == *t));
        Ok(())
    }
}

impl MemStore {
    /// Every document key (as stored), for tests that print what is left.
    pub fn doc_keys(&self) -> Vec<String> {
        self.docs.lock().unwrap().keys().cloned().collect()
    }

    /// Whether a document is stored under `key`.
    pub fn has_doc(&self, key: &DocKey) -> bool {
        self.docs.lock().unwrap().contains_key(&key.to_string())
    }

    /// Stores a document as JSON text under `key`, as a record written by an earlier version
    /// or another job would be.
    pub fn seed(&self, key: &DocKey, json: &str) {
        let value = serde_json::from_str(json).expect("seeded JSON");
        self.docs.lock().unwrap().insert(key.to_string(), Doc { value, version: 1 });
    }

    /// The JSON of a document, for tests that look inside.
    pub fn doc_json(&self, key: &DocKey) -> Option<serde_json::Value> {
        self.docs.lock().unwrap().get(&key.to_string()).map(|d| d.value.clone())
    }
}
