//! [`ConversationFeed`] over `POST /conversations/search`: what the repair sweeps read.
//!
//! - Changed: `updated_at > since - 1`, so "at or after `since`" whether Intercom's `>` is strict
//!   or, as the 2.16 conversation search docs say, "Greater (or equal) than" (a second of overlap
//!   is harmless: the sweep's use cases are idempotent).
//! - Waiting: `state = open AND waiting_since > from - 1 AND waiting_since < until + 1`
//!   (`waiting_since` is a searchable "Date (UNIX timestamp)" field of conversation search).
//! - Both sorted by `updated_at` ascending (oldest change first), 150 a page (the documented
//!   maximum), paged with `pagination.starting_after`.

use bridge_domain::ids::ConversationId;
use bridge_domain::model::Timestamp;
use bridge_domain::ports::PortResult;
use bridge_domain::sweep::{Changed, ConversationFeed, FeedPage};

use crate::client::{IntercomClient, Page};
use crate::query::{Query, Sort};
use crate::wire;

/// Conversations a page: "The default is `20` results per page and maximum is `150`."
const FEED_PER_PAGE: u32 = 150;

/// Conversations updated at or after `since`.
fn changed_query(since: Timestamp) -> Query {
    Query::gt("updated_at", since.0.saturating_sub(1))
}

/// Open conversations whose customer has waited since a time in `[from, until]`.
fn waiting_query(from: Timestamp, until: Timestamp) -> Query {
    Query::And(vec![
        Query::eq("state", "open"),
        Query::gt("waiting_since", from.0.saturating_sub(1)),
        Query::lt("waiting_since", until.0.saturating_add(1)),
    ])
}

fn feed_sort() -> Sort {
    Sort::ascending("updated_at")
}

/// A search item as a feed entry; an item without a valid id is skipped (and logged) rather
/// than failing the page, so one odd record cannot stall a sweep.
fn entry(c: wire::Conversation) -> Option<Changed<ConversationId>> {
    let id = match ConversationId::parse(c.id.clone()) {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(error = %e, "conversation search item without a valid id skipped");
            return None;
        }
    };
    let created_at = Timestamp(c.created_at.unwrap_or_default());
    let updated_at = c.updated_at.map_or(created_at, Timestamp);
    Some(Changed { id, created_at, updated_at })
}

fn feed_page(page: Page<wire::Conversation>) -> FeedPage<Changed<ConversationId>> {
    FeedPage { items: page.items.into_iter().filter_map(entry).collect(), next: page.next }
}

impl IntercomClient {
    async fn feed_search(&self, query: &Query, cursor: Option<&str>) -> PortResult<FeedPage<Changed<ConversationId>>> {
        let starting_after = cursor.filter(|c| !c.is_empty()).map(str::to_string);
        let page = self.search_conversations_sorted(query, Some(&feed_sort()), FEED_PER_PAGE, starting_after).await?;
        Ok(feed_page(page))
    }
}

impl ConversationFeed for IntercomClient {
    async fn changed_conversations(
        &self,
        since: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<FeedPage<Changed<ConversationId>>> {
        self.feed_search(&changed_query(since), cursor).await
    }

    async fn waiting_conversations(
        &self,
        from: Timestamp,
        until: Timestamp,
        cursor: Option<&str>,
    ) -> PortResult<FeedPage<Changed<ConversationId>>> {
        self.feed_search(&waiting_query(from, until), cursor).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_changed_query_includes_since_itself() {
        assert_eq!(
            changed_query(Timestamp(1_700_000_000)).to_json(),
            json!({"field": "updated_at", "operator": ">", "value": 1_699_999_999})
        );
    }

    #[test]
    fn the_waiting_query_is_open_and_inclusive_at_both_ends() {
        assert_eq!(
            waiting_query(Timestamp(100), Timestamp(200)).to_json(),
            json!({"operator": "AND", "value": [
                {"field": "state", "operator": "=", "value": "open"},
                {"field": "waiting_since", "operator": ">", "value": 99},
                {"field": "waiting_since", "operator": "<", "value": 201},
            ]})
        );
    }

    #[test]
    fn items_map_to_entries_and_odd_ones_are_skipped() {
        let items: Vec<wire::Conversation> = serde_json::from_value(json!([
            {"id": "215470000000001", "created_at": 10, "updated_at": 20},
            {"id": "", "created_at": 10, "updated_at": 20},
            {"id": 215470000000002_u64, "created_at": 30},
        ]))
        .unwrap();
        let page = feed_page(Page { items, next: Some("c2".into()), total_count: None });
        assert_eq!(page.next.as_deref(), Some("c2"));
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].id.as_str(), "215470000000001");
        assert_eq!((page.items[0].created_at, page.items[0].updated_at), (Timestamp(10), Timestamp(20)));
        assert_eq!(page.items[1].updated_at, Timestamp(30), "no updated_at: the creation time");
    }
}
