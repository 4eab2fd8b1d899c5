//! Data collection: the [`ReportSource`] port and its two adapters (the Intercom and Zendesk
//! clients). Each reads the period's ratings and the conversations/tickets active in it, and
//! normalises them into the domain's [`RatingRow`] and [`WorkItem`].

use std::future::Future;

use bridge_domain::csat::{IntercomRatingInput, Period, RatingRow, RecordId, Source, WorkItem, ZendeskRatingInput};
use bridge_intercom::{IntercomClient, IntercomError, Query};
use bridge_zendesk::{ExportStart, RatingsQuery, ZendeskClient, ZendeskError};
use serde_json::Value;

/// Safety cap on pages followed per search or list.
const MAX_PAGES: usize = 500;
/// Zendesk tag on a ticket closed by a merge into another one.
const CLOSED_BY_MERGE: &str = "closed_by_merge";

/// A collection failure (no personal data in the message).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// Intercom answered with an error.
    #[error("intercom: {0}")]
    Intercom(#[from] IntercomError),
    /// Zendesk answered with an error.
    #[error("zendesk: {0}")]
    Zendesk(#[from] ZendeskError),
    /// Too many pages: the safety cap stopped the walk.
    #[error("{0}: more than {MAX_PAGES} pages")]
    TooManyPages(&'static str),
}

/// What one vendor contributes to a report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    /// Ratings and unanswered offers (possibly outside the period; the domain filters).
    pub ratings: Vec<RatingRow>,
    /// Conversations/tickets created or resolved around the period.
    pub items: Vec<WorkItem>,
}

/// A vendor the report reads from (a port of its own: the Messenger/Helpdesk ports serve
/// the other jobs and stay unchanged).
pub trait ReportSource {
    /// Which source this is.
    fn source(&self) -> Source;
    /// Ratings and work items of the period, paging `page_size` at a time.
    fn collect(&self, period: &Period, page_size: u32) -> impl Future<Output = Result<Collected, CollectError>> + Send;
}

/// A time from Intercom: Unix seconds, or an ISO string (webhook statistics).
fn unix(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().filter(|t| *t > 0),
        Value::String(s) => iso(s),
        _ => None,
    }
}

fn iso(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp())
}

impl ReportSource for IntercomClient {
    fn source(&self) -> Source {
        Source::Intercom
    }

    /// Two conversation searches: ratings answered in the period
    /// (`conversation_rating.replied_at`), and conversations updated since the period began
    /// (a superset of those created or closed in it; `statistics` gives the reply and close
    /// times, so no per-conversation call is needed).
    async fn collect(&self, period: &Period, page_size: u32) -> Result<Collected, CollectError> {
        let (start, end) = (period.start_ts(), period.end_ts());
        let rated = Query::And(vec![
            Query::gt("conversation_rating.replied_at", start - 1),
            Query::lt("conversation_rating.replied_at", end),
        ]);
        let mut out = Collected::default();
        for c in search(self, &rated, page_size).await? {
            let Some(r) = &c.conversation_rating else { continue };
            let Some(rating) = r.rating else { continue };
            let input = IntercomRatingInput {
                conversation_id: &c.id,
                rating,
                remark: r.remark.as_deref(),
                rated_at: r.updated_at.or(r.created_at).unwrap_or_default(),
                team: c.team_assignee_id.as_deref(),
                agent: r.teammate.as_ref().and_then(|t| t.id.as_deref()),
            };
            out.ratings.extend(RatingRow::from_intercom(&input));
        }
        for c in search(self, &Query::gt("updated_at", start - 1), page_size).await? {
            let Some(created) = c.created_at else { continue };
            let stats = c.statistics.as_ref();
            let stat = |k: &str| unix(stats.and_then(|s| s.get(k)));
            let secs = |k: &str| stats.and_then(|s| s.get(k)).and_then(Value::as_i64);
            let closed = c.state.as_deref() == Some("closed");
            let resolved_at = if closed { stat("last_close_at") } else { None };
            out.items.push(WorkItem {
                source: Source::Intercom,
                id: RecordId::new(&c.id),
                created_at: created,
                first_reply_secs: stat("first_admin_reply_at")
                    .map(|t| t - created)
                    .or_else(|| secs("time_to_admin_reply")),
                resolved_at,
                resolution_secs: resolved_at
                    .map(|t| t - created)
                    .or_else(|| closed.then(|| secs("time_to_last_close")).flatten()),
                merged_away: false,
            });
        }
        Ok(out)
    }
}

async fn search(
    client: &IntercomClient,
    query: &Query,
    page_size: u32,
) -> Result<Vec<bridge_intercom::wire::Conversation>, CollectError> {
    let mut all = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = client.search_conversations(query, page_size, cursor).await?;
        all.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
    Err(CollectError::TooManyPages("intercom conversation search"))
}

impl ReportSource for ZendeskClient {
    fn source(&self) -> Source {
        Source::Zendesk
    }

    /// Satisfaction ratings created in the period (all scores: `offered`/`unoffered` feed the
    /// response rate), the incremental ticket export from the period's start (volume; merged
    /// tickets flagged), and the ticket metrics of the tickets created in the period or
    /// solved/closed since it began (first reply and full resolution times).
    async fn collect(&self, period: &Period, page_size: u32) -> Result<Collected, CollectError> {
        let (start, end) = (period.start_ts(), period.end_ts());
        let query = RatingsQuery { score: None, start_time: Some(start), end_time: Some(end - 1) };
        let mut out = Collected::default();
        for r in self.satisfaction_ratings_paged(&query, page_size).await? {
            let input = ZendeskRatingInput {
                id: r.id,
                ticket_id: r.ticket_id,
                score: &r.score,
                comment: r.comment.as_deref(),
                created_at: r.created_at.as_deref().and_then(iso).unwrap_or_default(),
                group_id: r.group_id,
                assignee_id: r.assignee_id,
            };
            out.ratings.extend(RatingRow::from_zendesk(&input));
        }
        let mut tickets = Vec::new();
        let mut position = ExportStart::StartTime(start);
        for _ in 0..MAX_PAGES {
            let export = self.export_tickets(&position, Some(page_size.max(100))).await?;
            tickets.extend(export.items);
            match (export.end_of_stream, export.after_cursor) {
                (false, Some(cursor)) => position = ExportStart::Cursor(cursor),
                _ => break,
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in tickets.into_iter().rev() {
            // Newest version first: the export repeats tickets that changed more than once.
            if !seen.insert(t.id) || t.status.as_deref() == Some("deleted") {
                continue;
            }
            let Some(created) = t.created_at.as_deref().and_then(iso) else { continue };
            let done = matches!(t.status.as_deref(), Some("solved" | "closed"));
            if !period.contains(created) && !done {
                continue;
            }
            let metric = self.ticket_metric(t.id).await?;
            let minutes = |m: Option<i64>| m.map(|x| x * 60);
            let resolved_at = if done { metric.solved_at.as_deref().and_then(iso) } else { None };
            out.items.push(WorkItem {
                source: Source::Zendesk,
                id: RecordId::new(t.id.to_string()),
                created_at: created,
                first_reply_secs: minutes(metric.reply_time_in_minutes.calendar),
                resolved_at,
                resolution_secs: resolved_at.and(minutes(metric.full_resolution_time_in_minutes.calendar)),
                merged_away: t.tags.iter().any(|tag| tag == CLOSED_BY_MERGE),
            });
        }
        Ok(out)
    }
}
