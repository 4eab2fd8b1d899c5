//! Reporting periods: whole UTC days, daily, weekly or explicit.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// The UTC day of a timestamp (Unix seconds).
pub(super) fn day_of(ts: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(ts, 0).map(|d| d.date_naive())
}

/// The first second of a UTC day (Unix seconds).
pub(super) fn start_of(day: NaiveDate) -> i64 {
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
