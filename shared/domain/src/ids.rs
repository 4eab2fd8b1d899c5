//! Identifier newtypes. Intercom ids are opaque strings; Zendesk ids are 64-bit integers.
//! Parsing rejects empty or malformed values so they never reach the rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An id that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct IdError {
    /// Which id type was being parsed.
    pub kind: &'static str,
    /// What was wrong with it.
    pub reason: &'static str,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "StringOrNumber", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an id: non-empty, at most 128 characters, no whitespace or '#'.
            pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                let err = |reason| IdError { kind: stringify!($name), reason };
                if raw.is_empty() {
                    return Err(err("empty"));
                }
                if raw.len() > 128 {
                    return Err(err("longer than 128 characters"));
                }
                if raw.chars().any(|c| c.is_whitespace() || c == '#' || c.is_control()) {
                    return Err(err("contains whitespace, control characters or '#'"));
                }
                Ok(Self(raw))
            }
            /// The id as sent to the vendor.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<StringOrNumber> for $name {
            type Error = IdError;
            fn try_from(v: StringOrNumber) -> Result<Self, Self::Error> {
                Self::parse(v.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "StringOrNumber", into = "u64")]
        pub struct $name(u64);

        impl $name {
            /// Wraps a positive id.
            pub fn new(raw: u64) -> Result<Self, IdError> {
                if raw == 0 {
                    return Err(IdError { kind: stringify!($name), reason: "zero" });
                }
                Ok(Self(raw))
            }
            /// Parses a decimal id (Zendesk event payloads send ids as strings).
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let n: u64 = raw
                    .trim()
                    .parse()
                    .map_err(|_| IdError { kind: stringify!($name), reason: "not a positive integer" })?;
                Self::new(n)
            }
            /// The numeric value.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<StringOrNumber> for $name {
            type Error = IdError;
            fn try_from(v: StringOrNumber) -> Result<Self, Self::Error> {
                Self::parse(&v.0)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }
    };
}

/// Accepts `"123"` or `123` when deserializing an id (vendors mix both).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrNumberRepr {
    S(String),
    U(u64),
    I(i64),
}

#[derive(Debug)]
#[doc(hidden)]
pub struct StringOrNumber(String);

impl<'de> Deserialize<'de> for StringOrNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match StringOrNumberRepr::deserialize(d)? {
            StringOrNumberRepr::S(s) => StringOrNumber(s),
            StringOrNumberRepr::U(u) => StringOrNumber(u.to_string()),
            StringOrNumberRepr::I(i) => StringOrNumber(i.to_string()),
        })
    }
}

string_id!(
    /// Intercom conversation id (long numeric string; kept as text).
    ConversationId
);
string_id!(
    /// Intercom contact id (user or lead).
    ContactId
);
string_id!(
    /// Intercom company id (Intercom's own id, not the customer's `company_id`).
    CompanyId
);
string_id!(
    /// Intercom admin (teammate) id.
    AdminId
);
string_id!(
    /// Intercom team id.
    TeamId
);
string_id!(
    /// Intercom conversation part id.
    PartId
);
string_id!(
    /// Intercom tag id.
    TagId
);
string_id!(
    /// Intercom segment id.
    SegmentId
);
string_id!(
    /// A webhook delivery id (`notif_…` for Intercom, the event id or invocation id for Zendesk).
    DeliveryId
);

numeric_id!(
    /// Zendesk ticket id.
    TicketId
);
numeric_id!(
    /// Zendesk user id (end user or agent).
    UserId
);
numeric_id!(
    /// Zendesk organization id.
    OrganizationId
);
numeric_id!(
    /// Zendesk group id.
    GroupId
);
numeric_id!(
    /// Zendesk comment id.
    CommentId
);
numeric_id!(
    /// Zendesk attachment id (a file on a comment).
    AttachmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_ids_reject_empty_and_separator() {
        assert!(ConversationId::parse("").is_err());
        assert!(ConversationId::parse("a#b").is_err());
        assert!(ConversationId::parse("12 3").is_err());
        assert_eq!(ConversationId::parse("215472621202693").map(|c| c.to_string()), Ok("215472621202693".into()));
    }

    #[test]
    fn numeric_ids_accept_strings_and_numbers() {
        let a: TicketId = serde_json::from_str("\"5158\"").unwrap();
        let b: TicketId = serde_json::from_str("5158").unwrap();
        assert_eq!(a, b);
        assert!(serde_json::from_str::<TicketId>("0").is_err());
        assert!(serde_json::from_str::<TicketId>("\"x\"").is_err());
    }

    #[test]
    fn string_ids_accept_numbers() {
        let a: AdminId = serde_json::from_str("814860").unwrap();
        assert_eq!(a.as_str(), "814860");
    }
}
