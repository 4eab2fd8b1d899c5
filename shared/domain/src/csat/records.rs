//! The normalised inputs of job 7: where a record comes from, survey answers ([`RatingRow`],
//! built from the vendors' ratings) and conversations/tickets ([`WorkItem`]).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::period::day_of;

/// Where a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Intercom conversations.
    Intercom,
    /// Zendesk tickets.
    Zendesk,
}

impl Source {
    /// `intercom` / `zendesk`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intercom => "intercom",
            Self::Zendesk => "zendesk",
        }
    }
}

/// One source, or both together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Intercom only.
    Intercom,
    /// Zendesk only.
    Zendesk,
    /// Both sources.
    Combined,
}

impl Scope {
    /// Every scope, in display order.
    pub const ALL: [Scope; 3] = [Scope::Intercom, Scope::Zendesk, Scope::Combined];

    /// `intercom` / `zendesk` / `combined`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intercom => "intercom",
            Self::Zendesk => "zendesk",
            Self::Combined => "combined",
        }
    }

    pub(super) fn includes(self, source: Source) -> bool {
        matches!(
            (self, source),
            (Scope::Combined, _) | (Scope::Intercom, Source::Intercom) | (Scope::Zendesk, Source::Zendesk)
        )
    }
}

/// A vendor record id (Intercom conversation id, Zendesk ticket or rating id) as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordId(String);

impl RecordId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the customer answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Intercom 4-5, Zendesk `good`.
    Positive,
    /// Intercom 1-3, Zendesk `bad`.
    Negative,
    /// Survey sent, no answer (Zendesk `offered` / `unoffered`).
    Unanswered,
}

impl Answer {
    /// `positive` / `negative` / `unanswered`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
            Self::Unanswered => "unanswered",
        }
    }
}

/// One survey answer (or unanswered offer), normalised. Carries the comment's length, never
/// its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingRow {
    /// Source.
    pub source: Source,
    /// Rating id (Zendesk rating id; Intercom conversation id, one rating per conversation).
    pub rating_id: RecordId,
    /// Conversation or ticket id.
    pub record_id: RecordId,
    /// The vendor's score as given (`1`..`5`, `good`, `bad`, `offered`, `unoffered`).
    pub raw_score: String,
    /// Normalised score in 0..=1 (None when unanswered).
    pub score: Option<f64>,
    /// Positive, negative or unanswered.
    pub answer: Answer,
    /// Characters in the customer's comment (0 without one).
    pub comment_length: u32,
    /// Intercom team / Zendesk group id.
    pub team: Option<String>,
    /// Rated Intercom teammate / Zendesk assignee id.
    pub agent: Option<String>,
    /// When answered (Unix seconds; for unanswered offers, when offered).
    pub rated_at: i64,
}

fn comment_length(comment: Option<&str>) -> u32 {
    comment.map(|c| u32::try_from(c.trim().chars().count()).unwrap_or(u32::MAX)).unwrap_or(0)
}

/// An Intercom conversation rating as read from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntercomRatingInput<'a> {
    /// Conversation id.
    pub conversation_id: &'a str,
    /// 1-5.
    pub rating: u64,
    /// The remark (only its length is kept).
    pub remark: Option<&'a str>,
    /// When answered (`conversation_rating.updated_at`, else `created_at`).
    pub rated_at: i64,
    /// Assigned team id.
    pub team: Option<&'a str>,
    /// Rated teammate id.
    pub agent: Option<&'a str>,
}

/// A Zendesk satisfaction rating as read from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZendeskRatingInput<'a> {
    /// Rating id.
    pub id: u64,
    /// Ticket id.
    pub ticket_id: Option<u64>,
    /// `good`, `bad`, `offered`, `unoffered`.
    pub score: &'a str,
    /// Customer comment (only its length is kept).
    pub comment: Option<&'a str>,
    /// When created (Unix seconds).
    pub created_at: i64,
    /// Group id.
    pub group_id: Option<u64>,
    /// Assignee id.
    pub assignee_id: Option<u64>,
}

impl RatingRow {
    /// Normalises an Intercom rating; None unless it is 1-5.
    pub fn from_intercom(input: &IntercomRatingInput<'_>) -> Option<Self> {
        if !(1..=5).contains(&input.rating) {
            return None;
        }
        let answer = if input.rating >= 4 { Answer::Positive } else { Answer::Negative };
        Some(Self {
            source: Source::Intercom,
            rating_id: RecordId::new(input.conversation_id),
            record_id: RecordId::new(input.conversation_id),
            raw_score: input.rating.to_string(),
            score: Some((input.rating as f64 - 1.0) / 4.0),
            answer,
            comment_length: comment_length(input.remark),
            team: input.team.filter(|t| !t.is_empty() && *t != "0").map(str::to_string),
            agent: input.agent.filter(|a| !a.is_empty() && *a != "0").map(str::to_string),
            rated_at: input.rated_at,
        })
    }

    /// Normalises a Zendesk rating; None for a score it does not know.
    pub fn from_zendesk(input: &ZendeskRatingInput<'_>) -> Option<Self> {
        let (answer, score) = match input.score {
            "good" => (Answer::Positive, Some(1.0)),
            "bad" => (Answer::Negative, Some(0.0)),
            "offered" | "unoffered" => (Answer::Unanswered, None),
            _ => return None,
        };
        Some(Self {
            source: Source::Zendesk,
            rating_id: RecordId::new(input.id.to_string()),
            record_id: RecordId::new(input.ticket_id.map(|t| t.to_string()).unwrap_or_default()),
            raw_score: input.score.to_string(),
            score,
            answer,
            comment_length: comment_length(input.comment),
            team: input.group_id.map(|g| g.to_string()),
            agent: input.assignee_id.map(|a| a.to_string()),
            rated_at: input.created_at,
        })
    }

    /// The UTC day of the rating.
    pub fn day(&self) -> Option<NaiveDate> {
        day_of(self.rated_at)
    }
}

/// A conversation or ticket, for volume and resolution figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// Source.
    pub source: Source,
    /// Conversation or ticket id.
    pub id: RecordId,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Seconds from creation to the first agent reply.
    pub first_reply_secs: Option<i64>,
    /// When closed/solved (latest), if it is.
    pub resolved_at: Option<i64>,
    /// Seconds from creation to the (full) resolution.
    pub resolution_secs: Option<i64>,
    /// Closed by a merge into another ticket: counted through the target only.
    pub merged_away: bool,
}
