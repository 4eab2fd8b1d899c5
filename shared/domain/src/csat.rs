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
//!
//! Submodules, in dependency order: `period` (whole UTC days), `records` (the normalised
//! inputs), `report` (the dataset of a period), `output` (table cells, CSV, S3 keys) and
//! `config` (`reporting:` in the configuration). Everything is re-exported here.

mod config;
mod output;
mod period;
mod records;
mod report;

#[cfg(test)]
mod tests;

pub use config::{ReportingConfig, S3Output, SheetsOutput};
pub use output::{
    DAILY_COLUMNS, RATING_COLUMNS, dashboard_key, figure_cells, partition_keys, rating_cells, sheet_rows, to_csv,
};
pub use period::{MAX_PERIOD_DAYS, Period, PeriodError, PeriodKind};
pub use records::{Answer, IntercomRatingInput, RatingRow, RecordId, Scope, Source, WorkItem, ZendeskRatingInput};
pub use report::{DailyAggregate, Figures, RESOLUTION_BUCKETS, Report, ResolutionBucket, build_report};
