//! In-memory state of the Intercom simulator and its JSON rendering (API 2.16 shapes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod conversation;
mod render;
mod workspace;

pub use conversation::{AppliedTag, AuthorRef, Conversation, Message, Part, PartFile, Rating, Source, StoredFile};
pub use workspace::{Admin, Company, Contact, ConversationAttribute, DataAttribute, Segment, Tag, Team};

/// Most recent parts returned by `GET /conversations/{id}`.
pub const PART_CAP: usize = 500;

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// ISO-8601 text as webhooks send it (`2026-01-10T04:22:28.000+00:00`).
pub fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string())
        .unwrap_or_default()
}

/// Everything the simulator knows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// Workspace id.
    pub app_id: String,
    /// Id counter.
    pub next_id: u64,
    /// Admins by id.
    pub admins: BTreeMap<String, Admin>,
    /// Teams by id.
    pub teams: BTreeMap<String, Team>,
    /// Tags by id.
    pub tags: BTreeMap<String, Tag>,
    /// Segments by id.
    pub segments: BTreeMap<String, Segment>,
    /// Contacts by id (merged-away contacts are removed and listed in `merged`).
    pub contacts: BTreeMap<String, Contact>,
    /// Companies by id.
    pub companies: BTreeMap<String, Company>,
    /// Conversations by id.
    pub conversations: BTreeMap<String, Conversation>,
    /// Contact data attributes and company data attributes.
    pub data_attributes: Vec<DataAttribute>,
    /// Conversation attributes.
    pub conversation_attributes: Vec<ConversationAttribute>,
    /// Sent messages.
    pub messages: Vec<Message>,
    /// Merged contact id -> the contact it was merged into.
    pub merged: BTreeMap<String, String>,
    /// Seconds added to the real clock ([`State::now`]); negative moves it back.
    pub clock_offset: i64,
    /// Files served under `/files/{id}/{name}`, by id.
    #[serde(skip)]
    pub files: BTreeMap<String, StoredFile>,
}

/// Which parts a rendered conversation carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartsView<'a> {
    /// None (list and search items).
    Omit,
    /// The 500 most recent, with the true total (retrieve, reply responses).
    Capped,
    /// Every part (admin inspection).
    All,
    /// Only these parts (webhooks: the parts that caused the event).
    Only(&'a [String]),
}

impl State {
    /// Stores a file served at `{base}/files/{id}/{name}`; returns it as a part's attachment.
    pub fn store_file(&mut self, base: &str, name: &str, content_type: &str, bytes: Vec<u8>) -> PartFile {
        let id = self.hex_id();
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let file = PartFile {
            name: name.to_string(),
            url: format!("{base}/files/{id}/{encoded}?expires=signed"),
            content_type: content_type.to_string(),
            filesize: bytes.len() as u64,
        };
        self.files.insert(id, StoredFile { content_type: content_type.to_string(), bytes });
        file
    }

    /// The simulated clock (Unix seconds): the real one moved by `clock_offset`. It stamps new
    /// conversations, parts, `waiting_since`, `updated_at` and notifications.
    pub fn now(&self) -> i64 {
        now() + self.clock_offset
    }

    /// A fresh id: numeric text of at least `digits` digits.
    pub fn numeric_id(&mut self, base: u64) -> String {
        self.next_id += 1;
        (base + self.next_id).to_string()
    }

    /// A fresh 24-hex-digit id (contacts, companies, segments, messages).
    pub fn hex_id(&mut self) -> String {
        self.next_id += 1;
        format!("65a{:021x}", self.next_id)
    }

    /// Follows merges to the surviving contact id.
    pub fn canonical_contact(&self, id: &str) -> Option<String> {
        let mut cur = id.to_string();
        for _ in 0..8 {
            match self.merged.get(&cur) {
                Some(next) => cur = next.clone(),
                None => break,
            }
        }
        (cur != id).then_some(cur)
    }

    /// A tag by name (case-insensitive).
    pub fn tag_by_name(&self, name: &str) -> Option<&Tag> {
        self.tags.values().find(|t| t.name.eq_ignore_ascii_case(name.trim()))
    }
}
