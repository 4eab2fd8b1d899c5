//! The dataset of one period: the rating rows, daily aggregates per source and combined, period
//! totals and the resolution-time distribution ([`build_report`]). Independent of how it is
//! rendered (tables, dashboard).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::period::{Period, start_of};
use super::records::{Answer, RatingRow, RecordId, Scope, Source, WorkItem};

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
