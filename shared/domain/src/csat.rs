//! Job 7: consolidated CSAT, volume and resolution reporting (pure rules).
//!
//! Adapters collect vendor records and turn them into the normalised inputs below
//! ([`RatingRow`] per survey answer or offer, [`WorkItem`] per conversation or ticket); the
//! rules here compute one dataset from them: the rating rows of the period, daily aggregates per
//! source and combined, period totals and the resolution-time distribution.
//!
//! Definitions, the same on both sides:
//! - **CSAT** = positive / rated. Intercom ratings 4 and 5 are positive (1-3 negative); Zendesk
//!   `good` is positive, `bad` negative. Surveys sent but not answered (Zendesk `offered`,
//!   `unoffered`) are not ratings: they count toward the response rate, never the score.
//! - **Response rate** = rated / (rated + unanswered), over the sources that report unanswered
//!   surveys. Intercom's API exposes a rating only once given, so the response rate is Zendesk's
//!   (the Intercom column shows none).
//! - **Volume** = conversations/tickets created that day; **resolved** = closed/solved that day.
//!   A Zendesk ticket closed by a merge is counted once: through the ticket it was merged into.
//! - Days are UTC calendar days. Normalised score: Intercom (r - 1) / 4, Zendesk good 1, bad 0.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

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

    fn includes(self, source: Source) -> bool {
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

fn day_of(ts: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.date_naive())
}

fn start_of(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0).map(|d| d.and_utc().timestamp()).unwrap_or(0)
}

/// How a period is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Yesterday (UTC).
    Daily,
    /// Last complete ISO week, Monday to Sunday (UTC).
    Weekly,
    /// Explicit dates (on demand).
    Custom,
}

impl PeriodKind {
    /// `daily` / `weekly` / `custom`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Custom => "custom",
        }
    }
}

/// A period that cannot be reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// `from` after `to`.
    #[error("the period starts ({from}) after it ends ({to})")]
    Reversed {
        /// Start.
        from: NaiveDate,
        /// End.
        to: NaiveDate,
    },
    /// Too long for one run.
    #[error("the period has {days} days; at most {max} are reported in one run")]
    TooLong {
        /// Days asked for.
        days: i64,
        /// The limit.
        max: i64,
    },
}

/// Longest period one run reports.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// A reporting period: whole UTC days, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Daily, weekly or custom.
    pub kind: PeriodKind,
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
}

impl Period {
    /// The last complete period of `kind` before `today`: yesterday, or last Monday-Sunday week.
    /// `Custom` is treated as daily.
    pub fn previous(kind: PeriodKind, today: NaiveDate) -> Self {
        let yesterday = today - Duration::days(1);
        match kind {
            PeriodKind::Weekly => {
                let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
                Self { kind, from: this_monday - Duration::days(7), to: this_monday - Duration::days(1) }
            }
            PeriodKind::Daily | PeriodKind::Custom => Self { kind: PeriodKind::Daily, from: yesterday, to: yesterday },
        }
    }

    /// An explicit period (`bridge report csat --from --to`, scheduler input with dates).
    pub fn custom(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if from > to {
            return Err(PeriodError::Reversed { from, to });
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_PERIOD_DAYS {
            return Err(PeriodError::TooLong { days, max: MAX_PERIOD_DAYS });
        }
        Ok(Self { kind: PeriodKind::Custom, from, to })
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.from.iter_days().take_while(|d| *d <= self.to).collect()
    }

    /// First second of the period (Unix seconds).
    pub fn start_ts(&self) -> i64 {
        start_of(self.from)
    }

    /// First second after the period (exclusive end).
    pub fn end_ts(&self) -> i64 {
        start_of(self.to) + 86_400
    }

    /// Whether a timestamp falls in the period.
    pub fn contains(&self, ts: i64) -> bool {
        (self.start_ts()..self.end_ts()).contains(&ts)
    }

    /// `2024-05-01_2024-05-07`.
    pub fn label(&self) -> String {
        format!("{}_{}", self.from, self.to)
    }
}

/// Figures for one scope over a day or the whole period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Ratings given.
    pub rated: u32,
    /// Positive ratings.
    pub positive: u32,
    /// Unanswered surveys (sources that report them).
    pub unanswered: u32,
    /// Ratings from sources that report unanswered surveys (the response-rate numerator).
    pub rated_tracked: u32,
    /// Conversations/tickets created.
    pub created: u32,
    /// Conversations/tickets resolved.
    pub resolved: u32,
    /// Median minutes to first reply (items created in the bucket that got one).
    pub median_first_reply_minutes: Option<f64>,
    /// Median minutes to resolution (items resolved in the bucket).
    pub median_resolution_minutes: Option<f64>,
}

impl Figures {
    /// positive / rated.
    pub fn csat(&self) -> Option<f64> {
        (self.rated > 0).then(|| f64::from(self.positive) / f64::from(self.rated))
    }

    /// rated / (rated + unanswered), over the sources that report unanswered surveys.
    pub fn response_rate(&self) -> Option<f64> {
        let offered = self.rated_tracked + self.unanswered;
        (offered > 0).then(|| f64::from(self.rated_tracked) / f64::from(offered))
    }
}

/// A day's figures for one scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyAggregate {
    /// The day.
    pub day: NaiveDate,
    /// Intercom, Zendesk or combined.
    pub scope: Scope,
    /// The figures.
    pub figures: Figures,
}

/// Resolution-time buckets of the distribution chart (upper bounds in hours, last unbounded).
pub const RESOLUTION_BUCKETS: [(&str, Option<i64>); 6] = [
    ("< 1 h", Some(1)),
    ("1-4 h", Some(4)),
    ("4-8 h", Some(8)),
    ("8-24 h", Some(24)),
    ("1-3 d", Some(72)),
    ("> 3 d", None),
];

/// One bar group of the resolution-time distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionBucket {
    /// Label (`< 1 h`).
    pub label: String,
    /// Intercom items resolved in the period within the bucket.
    pub intercom: u32,
    /// Zendesk items.
    pub zendesk: u32,
}

/// The whole dataset of one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The period.
    pub period: Period,
    /// Ratings and unanswered offers in the period, by time then source and id.
    pub ratings: Vec<RatingRow>,
    /// Every day x scope, days in order, scopes in [`Scope::ALL`] order.
    pub daily: Vec<DailyAggregate>,
    /// Period totals per scope, in [`Scope::ALL`] order.
    pub totals: Vec<(Scope, Figures)>,
    /// Resolution-time distribution of items resolved in the period.
    pub resolution: Vec<ResolutionBucket>,
}

fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let mid = n / 2;
    let secs = if n % 2 == 1 { values[mid] as f64 } else { (values[mid - 1] as f64 + values[mid] as f64) / 2.0 };
    Some(secs / 60.0)
}

fn figures<'a>(
    ratings: impl Iterator<Item = &'a RatingRow> + Clone,
    items: impl Iterator<Item = &'a WorkItem> + Clone,
    in_bucket: impl Fn(i64) -> bool,
) -> Figures {
    let mut f = Figures {
        rated: 0,
        positive: 0,
        unanswered: 0,
        rated_tracked: 0,
        created: 0,
        resolved: 0,
        median_first_reply_minutes: None,
        median_resolution_minutes: None,
    };
    for r in ratings.filter(|r| in_bucket(r.rated_at)) {
        match r.answer {
            Answer::Positive | Answer::Negative => {
                f.rated += 1;
                f.positive += u32::from(r.answer == Answer::Positive);
                f.rated_tracked += u32::from(r.source == Source::Zendesk);
            }
            Answer::Unanswered => f.unanswered += 1,
        }
    }
    let created: Vec<&WorkItem> = items.clone().filter(|i| in_bucket(i.created_at)).collect();
    let resolved: Vec<&WorkItem> = items.filter(|i| i.resolved_at.is_some_and(&in_bucket)).collect();
    f.created = u32::try_from(created.len()).unwrap_or(u32::MAX);
    f.resolved = u32::try_from(resolved.len()).unwrap_or(u32::MAX);
    f.median_first_reply_minutes = median(created.iter().filter_map(|i| i.first_reply_secs).collect());
    f.median_resolution_minutes = median(resolved.iter().filter_map(|i| i.resolution_secs).collect());
    f
}

/// Builds the period's dataset. Ratings outside the period are dropped; repeats (same source
/// and rating id, as exports and pages may repeat) are kept once, the latest answer winning;
/// work items are deduplicated by source and id, and tickets merged away are left out.
pub fn build_report(period: Period, ratings: Vec<RatingRow>, items: Vec<WorkItem>) -> Report {
    let mut unique: BTreeMap<(Source, RecordId), RatingRow> = BTreeMap::new();
    for r in ratings.into_iter().filter(|r| period.contains(r.rated_at)) {
        match unique.get(&(r.source, r.rating_id.clone())) {
            Some(existing) if existing.rated_at > r.rated_at => {}
            _ => {
                unique.insert((r.source, r.rating_id.clone()), r);
            }
        }
    }
    let mut ratings: Vec<RatingRow> = unique.into_values().collect();
    ratings.sort_by(|a, b| (a.rated_at, a.source, &a.rating_id).cmp(&(b.rated_at, b.source, &b.rating_id)));

    let mut seen = BTreeSet::new();
    let items: Vec<WorkItem> =
        items.into_iter().filter(|i| !i.merged_away && seen.insert((i.source, i.id.clone()))).collect();

    let mut daily = Vec::new();
    for day in period.days() {
        let (start, end) = (start_of(day), start_of(day) + 86_400);
        for scope in Scope::ALL {
            let figures = figures(
                ratings.iter().filter(|r| scope.includes(r.source)),
                items.iter().filter(|i| scope.includes(i.source)),
                |ts| (start..end).contains(&ts),
            );
            daily.push(DailyAggregate { day, scope, figures });
        }
    }
    let totals = Scope::ALL
        .iter()
        .map(|scope| {
            let f = figures(
                ratings.iter().filter(|r| scope.includes(r.source)),
                items.iter().filter(|i| scope.includes(i.source)),
                |ts| period.contains(ts),
            );
            (*scope, f)
        })
        .collect();
    let mut resolution: Vec<ResolutionBucket> = RESOLUTION_BUCKETS
        .iter()
        .map(|(label, _)| ResolutionBucket { label: (*label).to_string(), intercom: 0, zendesk: 0 })
        .collect();
    for item in items.iter().filter(|i| i.resolved_at.is_some_and(|t| period.contains(t))) {
        let Some(secs) = item.resolution_secs else { continue };
        let index = RESOLUTION_BUCKETS
            .iter()
            .position(|(_, max)| max.is_none_or(|h| secs < h * 3600))
            .unwrap_or(RESOLUTION_BUCKETS.len() - 1);
        if let Some(bucket) = resolution.get_mut(index) {
            match item.source {
                Source::Intercom => bucket.intercom += 1,
                Source::Zendesk => bucket.zendesk += 1,
            }
        }
    }
    Report { period, ratings, daily, totals, resolution }
}

impl Report {
    /// The period totals of one scope.
    pub fn total(&self, scope: Scope) -> Option<&Figures> {
        self.totals.iter().find(|(s, _)| *s == scope).map(|(_, f)| f)
    }

    /// One day's aggregate for a scope.
    pub fn day(&self, day: NaiveDate, scope: Scope) -> Option<&Figures> {
        self.daily.iter().find(|a| a.day == day && a.scope == scope).map(|a| &a.figures)
    }

    /// The ratings of one day.
    pub fn ratings_on(&self, day: NaiveDate) -> Vec<&RatingRow> {
        self.ratings.iter().filter(|r| r.day() == Some(day)).collect()
    }

    /// The aggregates of one day.
    pub fn daily_on(&self, day: NaiveDate) -> Vec<&DailyAggregate> {
        self.daily.iter().filter(|a| a.day == day).collect()
    }
}

// ------------------------------------------------------------------------------ tabular output

/// Column names of the ratings table (CSV, Parquet).
pub const RATING_COLUMNS: [&str; 11] = [
    "date",
    "source",
    "rating_id",
    "record_id",
    "raw_score",
    "score",
    "answer",
    "comment_length",
    "team",
    "agent",
    "rated_at",
];

/// Column names of the daily table (CSV, Parquet, Sheets).
pub const DAILY_COLUMNS: [&str; 11] = [
    "date",
    "scope",
    "rated",
    "positive",
    "csat",
    "unanswered",
    "response_rate",
    "created",
    "resolved",
    "median_first_reply_minutes",
    "median_resolution_minutes",
];

fn fmt_ratio(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

fn fmt_minutes(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_default()
}

fn rfc3339(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// A rating as text cells, in [`RATING_COLUMNS`] order.
pub fn rating_cells(r: &RatingRow) -> Vec<String> {
    vec![
        r.day().map(|d| d.to_string()).unwrap_or_default(),
        r.source.as_str().to_string(),
        r.rating_id.to_string(),
        r.record_id.to_string(),
        r.raw_score.clone(),
        r.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
        r.answer.as_str().to_string(),
        r.comment_length.to_string(),
        r.team.clone().unwrap_or_default(),
        r.agent.clone().unwrap_or_default(),
        rfc3339(r.rated_at),
    ]
}

/// Figures as text cells after `date` and `scope`, in [`DAILY_COLUMNS`] order.
pub fn figure_cells(date: &str, scope: Scope, f: &Figures) -> Vec<String> {
    vec![
        date.to_string(),
        scope.as_str().to_string(),
        f.rated.to_string(),
        f.positive.to_string(),
        fmt_ratio(f.csat()),
        f.unanswered.to_string(),
        fmt_ratio(f.response_rate()),
        f.created.to_string(),
        f.resolved.to_string(),
        fmt_minutes(f.median_first_reply_minutes),
        fmt_minutes(f.median_resolution_minutes),
    ]
}

fn csv_cell(cell: &str) -> String {
    // Also neutralises spreadsheet formulas in cells that start with = + - @.
    let cell = if cell.starts_with(['=', '+', '@']) { format!("'{cell}") } else { cell.to_string() };
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell }
}

/// RFC 4180 CSV (CRLF line ends) of a header and rows.
pub fn to_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.iter().map(|h| csv_cell(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The Sheets table of a report: the header, one row per day and scope, then the period
/// totals (date `total`). Always the same shape for the same period, so rewriting it replaces
/// the previous run's values cell for cell.
pub fn sheet_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![DAILY_COLUMNS.iter().map(|c| (*c).to_string()).collect::<Vec<_>>()];
    rows.extend(report.daily.iter().map(|a| figure_cells(&a.day.to_string(), a.scope, &a.figures)));
    rows.extend(report.totals.iter().map(|(scope, f)| figure_cells("total", *scope, f)));
    rows
}

// ------------------------------------------------------------------------------ configuration

/// `reporting:` in the configuration (job 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingConfig {
    /// Periods the schedule runs (`daily`, `weekly`); default both.
    #[serde(default = "default_periods")]
    pub periods: Vec<PeriodKind>,
    /// Page size of the vendor list/search calls (1-100).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// S3 output (the bucket comes from `BRIDGE_REPORTS_BUCKET`).
    #[serde(default)]
    pub s3: S3Output,
    /// Google Sheets output (off when absent).
    #[serde(default)]
    pub sheets: Option<SheetsOutput>,
    /// Dashboard title.
    #[serde(default = "default_title")]
    pub title: String,
}

impl Default for ReportingConfig {
    fn default() -> Self {
        Self {
            periods: default_periods(),
            page_size: default_page_size(),
            s3: S3Output::default(),
            sheets: None,
            title: default_title(),
        }
    }
}

fn default_periods() -> Vec<PeriodKind> {
    vec![PeriodKind::Daily, PeriodKind::Weekly]
}

fn default_page_size() -> u32 {
    100
}

fn default_title() -> String {
    "Customer satisfaction".into()
}

/// S3 layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Output {
    /// Key prefix (`csat` -> `csat/date=2024-05-01/ratings.csv`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

impl Default for S3Output {
    fn default() -> Self {
        Self { prefix: default_prefix() }
    }
}

fn default_prefix() -> String {
    "csat".into()
}

/// Google Sheets target: one named range per period kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetsOutput {
    /// Spreadsheet id (from its URL).
    pub spreadsheet_id: String,
    /// Named range per period kind (`daily: CsatDaily`); a period without one is not written.
    pub ranges: BTreeMap<PeriodKind, String>,
}

impl ReportingConfig {
    /// Checks values serde cannot: returns `(field, message)` of the first problem.
    pub fn problems(&self) -> Option<(String, String)> {
        if self.periods.is_empty() {
            return Some(("reporting.periods".into(), "list at least one of daily, weekly".into()));
        }
        if self.periods.contains(&PeriodKind::Custom) {
            return Some(("reporting.periods".into(), "only daily and weekly run on a schedule".into()));
        }
        if !(1..=100).contains(&self.page_size) {
            return Some(("reporting.page_size".into(), "must be between 1 and 100".into()));
        }
        let prefix = self.s3.prefix.trim_matches('/');
        if prefix.is_empty() || prefix.contains("//") || prefix.contains(char::is_whitespace) {
            return Some(("reporting.s3.prefix".into(), "must be a non-empty key prefix without spaces".into()));
        }
        if let Some(sheets) = &self.sheets {
            if sheets.spreadsheet_id.trim().is_empty() {
                return Some(("reporting.sheets.spreadsheet_id".into(), "must not be empty".into()));
            }
            if sheets.ranges.is_empty() {
                return Some(("reporting.sheets.ranges".into(), "name at least one range".into()));
            }
            for (kind, name) in &sheets.ranges {
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit());
                if !valid {
                    return Some((
                        format!("reporting.sheets.ranges.{}", kind.as_str()),
                        "must be a named range (letters, digits, _)".into(),
                    ));
                }
            }
        }
        None
    }
}

// ------------------------------------------------------------------------------ S3 layout

/// The S3 object keys of one day's partition: ratings and daily aggregates, CSV and Parquet.
pub fn partition_keys(prefix: &str, day: NaiveDate) -> [String; 4] {
    let base = format!("{}/date={day}", prefix.trim_matches('/'));
    [
        format!("{base}/ratings.csv"),
        format!("{base}/ratings.parquet"),
        format!("{base}/daily.csv"),
        format!("{base}/daily.parquet"),
    ]
}

/// The S3 key of a period's dashboard.
pub fn dashboard_key(prefix: &str, period: &Period) -> String {
    format!("{}/dashboard/{}/{}.html", prefix.trim_matches('/'), period.kind.as_str(), period.label())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(day: &str, hour: i64) -> i64 {
        start_of(d(day)) + hour * 3600
    }

    fn ic(id: &str, rating: u64, ts: i64) -> RatingRow {
        RatingRow::from_intercom(&IntercomRatingInput {
            conversation_id: id,
            rating,
            remark: Some("  très bien  "),
            rated_at: ts,
            team: Some("0"),
            agent: Some("7"),
        })
        .unwrap()
    }

    fn zd(id: u64, score: &str, ts: i64) -> RatingRow {
        RatingRow::from_zendesk(&ZendeskRatingInput {
            id,
            ticket_id: Some(id * 10),
            score,
            comment: None,
            created_at: ts,
            group_id: Some(5),
            assignee_id: None,
        })
        .unwrap()
    }

    fn item(source: Source, id: &str, created: i64, resolved: Option<i64>) -> WorkItem {
        WorkItem {
            source,
            id: RecordId::new(id),
            created_at: created,
            first_reply_secs: Some(600),
            resolved_at: resolved,
            resolution_secs: resolved.map(|r| r - created),
            merged_away: false,
        }
    }

    #[test]
    fn intercom_four_and_five_are_positive_and_scores_normalise() {
        assert_eq!(ic("1", 4, 0).answer, Answer::Positive);
        assert_eq!(ic("1", 5, 0).score, Some(1.0));
        assert_eq!(ic("1", 3, 0).answer, Answer::Negative);
        assert_eq!(ic("1", 1, 0).score, Some(0.0));
        assert!(RatingRow::from_intercom(&IntercomRatingInput { rating: 6, ..input() }).is_none());
        let row = ic("1", 3, 0);
        assert_eq!(row.comment_length, 9, "trimmed characters (10 bytes), not bytes");
        assert_eq!(row.team, None, "team 0 means unassigned");
    }

    fn input() -> IntercomRatingInput<'static> {
        IntercomRatingInput { conversation_id: "c", rating: 5, remark: None, rated_at: 0, team: None, agent: None }
    }

    #[test]
    fn zendesk_offers_are_unanswered_and_unknown_scores_dropped() {
        assert_eq!(zd(1, "good", 0).answer, Answer::Positive);
        assert_eq!(zd(1, "bad", 0).score, Some(0.0));
        assert_eq!(zd(1, "offered", 0).answer, Answer::Unanswered);
        assert_eq!(zd(1, "unoffered", 0).score, None);
        assert!(
            RatingRow::from_zendesk(&ZendeskRatingInput {
                id: 1,
                ticket_id: None,
                score: "good_with_comment",
                comment: None,
                created_at: 0,
                group_id: None,
                assignee_id: None
            })
            .is_none()
        );
    }

    #[test]
    fn csat_and_response_rate_per_day_and_scope() {
        let period = Period::custom(d("2024-05-01"), d("2024-05-02")).unwrap();
        let ratings = vec![
            ic("a", 5, at("2024-05-01", 9)),
            ic("b", 3, at("2024-05-01", 10)),
            zd(1, "good", at("2024-05-01", 11)),
            zd(2, "bad", at("2024-05-02", 11)),
            zd(3, "offered", at("2024-05-02", 12)),
            zd(4, "unoffered", at("2024-05-02", 13)),
            zd(5, "good", at("2024-05-03", 0)), // after the period
        ];
        let r = build_report(period, ratings, vec![]);
        assert_eq!(r.ratings.len(), 6);
        let day1 = r.day(d("2024-05-01"), Scope::Combined).unwrap();
        assert_eq!((day1.rated, day1.positive), (3, 2));
        assert_eq!(day1.csat(), Some(2.0 / 3.0));
        assert_eq!(day1.response_rate(), Some(1.0), "one Zendesk rating, no unanswered offers");
        let ic1 = r.day(d("2024-05-01"), Scope::Intercom).unwrap();
        assert_eq!(ic1.csat(), Some(0.5));
        assert_eq!(ic1.response_rate(), None, "Intercom does not report unanswered surveys");
        let zd2 = r.day(d("2024-05-02"), Scope::Zendesk).unwrap();
        assert_eq!((zd2.rated, zd2.unanswered), (1, 2));
        assert_eq!(zd2.csat(), Some(0.0));
        assert_eq!(zd2.response_rate(), Some(1.0 / 3.0));
        let total = r.total(Scope::Combined).unwrap();
        assert_eq!((total.rated, total.positive, total.unanswered), (4, 2, 2));
        assert_eq!(total.response_rate(), Some(2.0 / 4.0));
    }

    #[test]
    fn repeated_ratings_count_once_with_the_latest_answer() {
        let period = Period::custom(d("2024-05-01"), d("2024-05-01")).unwrap();
        let ratings = vec![zd(1, "offered", at("2024-05-01", 1)), zd(1, "good", at("2024-05-01", 2))];
        let r = build_report(period, ratings.clone(), vec![]);
        assert_eq!(r.ratings.len(), 1);
        assert_eq!(r.ratings[0].answer, Answer::Positive);
        let reversed = build_report(period, ratings.into_iter().rev().collect(), vec![]);
        assert_eq!(reversed.ratings, r.ratings);
    }

    #[test]
    fn volume_resolution_and_merged_tickets() {
        let period = Period::custom(d("2024-05-01"), d("2024-05-02")).unwrap();
        let mut merged = item(Source::Zendesk, "3", at("2024-05-01", 1), Some(at("2024-05-01", 2)));
        merged.merged_away = true;
        let items = vec![
            item(Source::Zendesk, "1", at("2024-05-01", 0), Some(at("2024-05-01", 3))), // 3 h
            item(Source::Zendesk, "1", at("2024-05-01", 0), Some(at("2024-05-01", 3))), // repeat
            item(Source::Zendesk, "2", at("2024-05-01", 0), Some(at("2024-05-02", 12))), // 36 h
            merged,
            item(Source::Intercom, "9", at("2024-04-30", 0), Some(at("2024-05-02", 0))), // created before
            item(Source::Intercom, "8", at("2024-05-02", 0), None),
        ];
        let r = build_report(period, vec![], items);
        let z1 = r.day(d("2024-05-01"), Scope::Zendesk).unwrap();
        assert_eq!((z1.created, z1.resolved), (2, 1));
        assert_eq!(z1.median_resolution_minutes, Some(180.0));
        assert_eq!(z1.median_first_reply_minutes, Some(10.0));
        let c2 = r.day(d("2024-05-02"), Scope::Combined).unwrap();
        assert_eq!((c2.created, c2.resolved), (1, 2));
        assert_eq!(c2.median_resolution_minutes, Some((36.0 * 60.0 + 48.0 * 60.0) / 2.0));
        let total = r.total(Scope::Combined).unwrap();
        assert_eq!((total.created, total.resolved), (3, 3));
        let counts: Vec<(u32, u32)> = r.resolution.iter().map(|b| (b.intercom, b.zendesk)).collect();
        assert_eq!(counts, vec![(0, 0), (0, 1), (0, 0), (0, 0), (1, 1), (0, 0)]);
    }

    #[test]
    fn periods_daily_weekly_custom() {
        // Wednesday 2024-05-08.
        let p = Period::previous(PeriodKind::Daily, d("2024-05-08"));
        assert_eq!((p.from, p.to), (d("2024-05-07"), d("2024-05-07")));
        let w = Period::previous(PeriodKind::Weekly, d("2024-05-08"));
        assert_eq!((w.from, w.to), (d("2024-04-29"), d("2024-05-05")));
        let monday = Period::previous(PeriodKind::Weekly, d("2024-05-06"));
        assert_eq!((monday.from, monday.to), (d("2024-04-29"), d("2024-05-05")));
        assert_eq!(w.days().len(), 7);
        assert_eq!(w.end_ts() - w.start_ts(), 7 * 86_400);
        assert!(matches!(Period::custom(d("2024-05-02"), d("2024-05-01")), Err(PeriodError::Reversed { .. })));
        assert!(matches!(Period::custom(d("2023-01-01"), d("2024-05-01")), Err(PeriodError::TooLong { .. })));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let csv = to_csv(&["a", "b"], &[vec!["x,y".into(), "=SUM(A1)".into()], vec!["say \"hi\"".into(), "".into()]]);
        assert_eq!(csv, "a,b\r\n\"x,y\",'=SUM(A1)\r\n\"say \"\"hi\"\"\",\r\n");
    }

    #[test]
    fn sheet_rows_have_a_fixed_shape_for_a_period() {
        let period = Period::custom(d("2024-05-01"), d("2024-05-03")).unwrap();
        let rows = sheet_rows(&build_report(period, vec![ic("a", 5, at("2024-05-02", 1))], vec![]));
        assert_eq!(rows.len(), 1 + 3 * 3 + 3);
        assert!(rows.iter().all(|r| r.len() == DAILY_COLUMNS.len()));
        assert_eq!(rows[4][..5], ["2024-05-02", "intercom", "1", "1", "1.0000"].map(String::from));
    }

    #[test]
    fn config_problems_are_named() {
        let mut c = ReportingConfig::default();
        assert_eq!(c.problems(), None);
        c.page_size = 0;
        assert_eq!(c.problems().unwrap().0, "reporting.page_size");
        c.page_size = 50;
        c.sheets = Some(SheetsOutput {
            spreadsheet_id: "abc".into(),
            ranges: [(PeriodKind::Daily, "Csat Daily".to_string())].into_iter().collect(),
        });
        assert_eq!(c.problems().unwrap().0, "reporting.sheets.ranges.daily");
    }

    #[test]
    fn keys_partition_by_date() {
        let keys = partition_keys("/csat/", d("2024-05-01"));
        assert_eq!(keys[0], "csat/date=2024-05-01/ratings.csv");
        assert_eq!(keys[3], "csat/date=2024-05-01/daily.parquet");
        let p = Period::previous(PeriodKind::Weekly, d("2024-05-08"));
        assert_eq!(dashboard_key("csat", &p), "csat/dashboard/weekly/2024-04-29_2024-05-05.html");
    }
}
