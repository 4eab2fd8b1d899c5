//! [`TicketFeed`] over the cursor-based incremental ticket export: what the repair sweeps read.
//!
//! The first page is `GET /incremental/tickets/cursor?start_time=<since>`, the next ones
//! `?cursor=<after_cursor>` until `end_of_stream`. Zendesk refuses a `start_time` less than a
//! minute in the past ("Must be at least one minute in the past. Data isn't provided for the most
//! recent minute."), so `since` is clamped to now minus 60 seconds. The export may list a ticket
//! more than once: a page keeps only its latest entry.

use std::collections::HashMap;

use bridge_domain::ids::TicketId;
use bridge_domain::model::Timestamp;
use bridge_domain::ports::PortResult;
use bridge_domain::sweep::{Changed, FeedPage, TicketFeed};

use crate::client::{ZdResult, ZendeskClient};
use crate::types::{Export, ExportStart, ZdTicket};

/// How far in the past `start_time` must be.
const EXPORT_MIN_AGE_SECS: i64 = 60;

/// The `start_time` for a window starting at `since`: never within the last minute of `now`.
fn start_time(since: Timestamp, now: i64) -> i64 {
    since.0.min(now - EXPORT_MIN_AGE_SECS).max(0)
}

fn parse_ts(raw: Option<&str>) -> Option<Timestamp> {
    raw.and_then(Timestamp::parse_rfc3339)
}

/// The page's tickets as feed entries: one per ticket (its latest entry, at that entry's
/// place), deleted tickets and entries without an id left out.
fn entries(tickets: Vec<ZdTicket>) -> Vec<Changed<TicketId>> {
    let mut latest: HashMap<u64, usize> = HashMap::new();
    let mut kept: Vec<Option<Changed<TicketId>>> = Vec::with_capacity(tickets.len());
    for t in tickets {
        let Ok(id) = TicketId::new(t.id) else {
            tracing::warn!("exported ticket without a valid id skipped");
            continue;
        };
        if t.status.as_deref() == Some("deleted") {
            // Nothing can be done on a deleted ticket (reads answer 404).
            if let Some(i) = latest.remove(&t.id) {
                kept[i] = None;
            }
            continue;
        }
        let created_at = parse_ts(t.created_at.as_deref()).unwrap_or_default();
        let updated_at = parse_ts(t.updated_at.as_deref()).unwrap_or(created_at);
        let entry = Changed { id, created_at, updated_at };
        if let Some(&i) = latest.get(&t.id)
            && kept[i].as_ref().is_some_and(|e| e.updated_at > entry.updated_at)
        {
            // An older repeat after a newer entry: keep the newer one.
            continue;
        }
        if let Some(i) = latest.insert(t.id, kept.len()) {
            kept[i] = None;
        }
        kept.push(Some(entry));
    }
    kept.into_iter().flatten().collect()
}

fn feed_page(export: Export<ZdTicket>) -> FeedPage<Changed<TicketId>> {
    let next = if export.end_of_stream {
        None
    } else {
        if export.after_cursor.is_none() {
            tracing::warn!("ticket export page without end_of_stream or after_cursor: treated as the last");
        }
        export.after_cursor
    };
    FeedPage { items: entries(export.items), next }
}

impl ZendeskClient {
    /// One page of tickets changed at or after `since` (clamped to a minute ago), or the page at
    /// `cursor`; `per_page` defaults to Zendesk's 1000.
    pub async fn changed_tickets_page(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
        per_page: Option<u32>,
    ) -> ZdResult<FeedPage<Changed<TicketId>>> {
        let position = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => ExportStart::Cursor(c.to_string()),
            None => ExportStart::StartTime(start_time(since, chrono::Utc::now().timestamp())),
        };
        Ok(feed_page(self.export_tickets_page(&position, per_page).await?))
    }
}

impl TicketFeed for ZendeskClient {
    async fn changed_tickets(&self, since: Timestamp, cursor: Option<&str>) -> PortResult<FeedPage<Changed<TicketId>>> {
        Ok(self.changed_tickets_page(since, cursor, None).await?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn ticket(id: u64, status: &str, updated: &str) -> ZdTicket {
        ZdTicket {
            id,
            status: Some(status.into()),
            created_at: Some("2026-01-01T00:00:00Z".into()),
            updated_at: Some(updated.into()),
            ..ZdTicket::default()
        }
    }

    #[test]
    fn start_time_is_never_within_the_last_minute() {
        assert_eq!(start_time(Timestamp(1_000), 10_000), 1_000);
        assert_eq!(start_time(Timestamp(9_990), 10_000), 9_940);
        assert_eq!(start_time(Timestamp(20_000), 10_000), 9_940, "a future since too");
        assert_eq!(start_time(Timestamp(-5), 10_000), 0);
    }

    #[test]
    fn a_repeated_ticket_keeps_its_latest_entry() {
        let page = entries(vec![
            ticket(1, "open", "2026-01-01T00:01:00Z"),
            ticket(2, "open", "2026-01-01T00:02:00Z"),
            ticket(1, "pending", "2026-01-01T00:03:00Z"),
            ticket(2, "open", "2026-01-01T00:01:30Z"),
        ]);
        let got: Vec<(u64, i64)> = page.iter().map(|c| (c.id.get(), c.updated_at.0)).collect();
        assert_eq!(got, vec![(2, 1_767_225_720), (1, 1_767_225_780)]);
        assert_eq!(page[0].created_at, Timestamp(1_767_225_600));
    }

    #[test]
    fn deleted_tickets_and_bad_ids_are_left_out() {
        let page = entries(vec![
            ticket(0, "open", "2026-01-01T00:01:00Z"),
            ticket(3, "open", "2026-01-01T00:01:00Z"),
            ticket(3, "deleted", "2026-01-01T00:02:00Z"),
            ticket(4, "new", "2026-01-01T00:02:00Z"),
        ]);
        assert_eq!(page.iter().map(|c| c.id.get()).collect::<Vec<_>>(), vec![4]);
    }

    #[test]
    fn the_last_page_has_no_next() {
        let more = Export { items: vec![], after_cursor: Some("c".into()), end_of_stream: false };
        assert_eq!(feed_page(more).next.as_deref(), Some("c"));
        let last = Export { items: vec![], after_cursor: Some("c".into()), end_of_stream: true };
        assert_eq!(feed_page(last).next, None);
    }
}
