//! Finding the peer of a profile on the other side: the stored id, then the external id, then
//! the normalised email; several candidates are reported, never guessed.

use serde::{Deserialize, Serialize};

use super::Profile;
use crate::event::Kind;

/// Normalised email: trimmed, lower case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// How a peer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The id stored by an earlier sync (or written on the record).
    StoredId,
    /// The external id.
    ExternalId,
    /// The normalised email.
    Email,
}

/// Result of [`match_peer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerMatch {
    /// Exactly one peer.
    Found {
        /// Its id.
        id: String,
        /// How.
        by: MatchedBy,
    },
    /// No peer: create one (if configured).
    None,
    /// Several candidates: reported, never guessed.
    Ambiguous {
        /// The step that found several.
        by: MatchedBy,
        /// Their ids (sorted).
        ids: Vec<String>,
    },
}

/// Candidates for the peer of a profile, as looked up by the job.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The peer id from the store or the id field written on the record, if it still exists.
    pub stored: Option<String>,
    /// Peers with the same external id.
    pub by_external_id: Vec<Profile>,
    /// Peers with the same normalised email (persons only).
    pub by_email: Vec<Profile>,
}

/// Picks the peer: stored id first, then external id, then normalised email.
pub fn match_peer(source: &Profile, c: &Candidates) -> PeerMatch {
    if let Some(id) = &c.stored {
        return PeerMatch::Found { id: id.clone(), by: MatchedBy::StoredId };
    }
    let pick = |list: Vec<&Profile>, by: MatchedBy| -> Option<PeerMatch> {
        let mut ids: Vec<String> = list.iter().map(|p| p.id.clone()).collect();
        ids.sort();
        ids.dedup();
        match ids.len() {
            0 => None,
            1 => ids.pop().map(|id| PeerMatch::Found { id, by }),
            _ => Some(PeerMatch::Ambiguous { by, ids }),
        }
    };
    if let Some(ext) = source.external_id() {
        let list = c.by_external_id.iter().filter(|p| p.external_id() == Some(ext)).collect();
        if let Some(m) = pick(list, MatchedBy::ExternalId) {
            return m;
        }
    }
    if source.kind == Kind::Person
        && let Some(email) = source.email().map(normalise_email)
    {
        let list = c.by_email.iter().filter(|p| p.email().map(normalise_email).as_deref() == Some(email.as_str()));
        if let Some(m) = pick(list.collect(), MatchedBy::Email) {
            return m;
        }
    }
    PeerMatch::None
}
