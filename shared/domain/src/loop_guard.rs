//! Loop guard: recognising the bridge's own changes when they come back as webhooks.
//!
//! Two signals, both checked:
//! - **who**: the change was made by the bridge's own Zendesk user or Intercom bot admin;
//! - **what**: the incoming value equals what the bridge last wrote, recorded per entity and
//!   per side as a hash of the fields written ([`Written`]).
//!
//! A change recognised by either is dropped (and counted by the caller).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{AdminId, UserId};

/// A short, stable hash of a set of values (order-insensitive).
pub fn fingerprint<I, S>(values: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut sorted: Vec<String> = values.into_iter().map(|v| v.as_ref().to_string()).collect();
    sorted.sort();
    sorted.dedup();
    let mut h = Sha256::new();
    for v in &sorted {
        h.update(v.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..12])
}

/// What the bridge last wrote on one entity: field name -> fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Written {
    /// Fingerprints by field (`tags`, `status`, …).
    pub fields: BTreeMap<String, String>,
}

impl Written {
    /// Records a write.
    pub fn record(&mut self, field: &str, fingerprint: String) {
        self.fields.insert(field.to_string(), fingerprint);
    }
    /// True when `fingerprint` is exactly what the bridge last wrote to `field`.
    pub fn is_echo(&self, field: &str, fingerprint: &str) -> bool {
        self.fields.get(field).is_some_and(|f| f == fingerprint)
    }
}

/// The identities the bridge writes as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnIds {
    /// The Zendesk API user.
    pub zendesk_user: UserId,
    /// The Intercom bot admin.
    pub intercom_admin: AdminId,
}

impl OwnIds {
    /// True when a Zendesk change was made by the bridge.
    pub fn is_own_zendesk(&self, actor: Option<UserId>) -> bool {
        actor == Some(self.zendesk_user)
    }
    /// True when an Intercom change was made by the bridge.
    pub fn is_own_intercom(&self, admin: Option<&str>) -> bool {
        admin == Some(self.intercom_admin.as_str())
    }
}

/// Why an incoming change is dropped, or that it is fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A human change: act on it.
    Fresh,
    /// Made by the bridge's own user.
    OwnActor,
    /// Equal to what the bridge last wrote.
    EqualsWritten,
}

impl Verdict {
    /// True when the change must be dropped.
    pub fn is_echo(self) -> bool {
        self != Verdict::Fresh
    }
}

/// Judges an incoming value of `field`.
pub fn judge(written: &Written, field: &str, incoming: &str, actor_is_own: bool) -> Verdict {
    if actor_is_own {
        Verdict::OwnActor
    } else if written.is_echo(field, incoming) {
        Verdict::EqualsWritten
    } else {
        Verdict::Fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_order_and_duplicates() {
        assert_eq!(fingerprint(["b", "a"]), fingerprint(["a", "b", "a"]));
        assert_ne!(fingerprint(["a"]), fingerprint(["a", "b"]));
        assert_ne!(fingerprint(["ab"]), fingerprint(["a", "b"]), "values are delimited");
        assert_eq!(fingerprint(Vec::<String>::new()).len(), 24);
    }

    #[test]
    fn verdicts() {
        let mut w = Written::default();
        w.record("tags", fingerprint(["vip"]));
        let table = [
            ("tags", fingerprint(["vip"]), false, Verdict::EqualsWritten),
            ("tags", fingerprint(["vip", "x"]), false, Verdict::Fresh),
            ("tags", fingerprint(["vip", "x"]), true, Verdict::OwnActor),
            ("status", fingerprint(["vip"]), false, Verdict::Fresh),
        ];
        for (field, fp, own, want) in table {
            assert_eq!(judge(&w, field, &fp, own), want, "{field} {own}");
        }
    }

    #[test]
    fn own_ids() {
        let own = OwnIds { zendesk_user: UserId::new(7).unwrap(), intercom_admin: AdminId::parse("991").unwrap() };
        assert!(own.is_own_zendesk(Some(UserId::new(7).unwrap())));
        assert!(!own.is_own_zendesk(None));
        assert!(own.is_own_intercom(Some("991")));
        assert!(!own.is_own_intercom(Some("992")));
    }
}
