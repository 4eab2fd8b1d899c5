//! Account metadata (groups, field definitions), CSAT ratings and incremental exports.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{Call, ZdResult, ZendeskClient, take};
use crate::types::{Export, ExportStart, FieldDefinition, Group, RatingsQuery, SatisfactionRating, ZdTicket, ZdUser};

/// Export pages followed in one call at most; the caller resumes from `after_cursor`.
const MAX_EXPORT_PAGES: usize = 50;

impl ZendeskClient {
    /// `GET /groups`, every page (cursor).
    pub async fn list_groups(&self) -> ZdResult<Vec<Group>> {
        self.list_groups_paged(100).await
    }

    /// Like [`Self::list_groups`] with an explicit page size.
    pub async fn list_groups_paged(&self, page_size: u32) -> ZdResult<Vec<Group>> {
        self.list_cursor(Call::get("/groups"), "groups", page_size.clamp(1, 100)).await
    }

    /// `GET /ticket_fields`.
    pub async fn ticket_fields(&self) -> ZdResult<Vec<FieldDefinition>> {
        self.send(&Call::get("/ticket_fields")).await?.take("ticket_fields")
    }

    /// `GET /user_fields`.
    pub async fn user_fields(&self) -> ZdResult<Vec<FieldDefinition>> {
        self.send(&Call::get("/user_fields")).await?.take("user_fields")
    }

    /// `GET /organization_fields`.
    pub async fn organization_fields(&self) -> ZdResult<Vec<FieldDefinition>> {
        self.send(&Call::get("/organization_fields")).await?.take("organization_fields")
    }

    /// `GET /satisfaction_ratings` with filters, every page (cursor).
    pub async fn satisfaction_ratings(&self, query: &RatingsQuery) -> ZdResult<Vec<SatisfactionRating>> {
        self.satisfaction_ratings_paged(query, 100).await
    }

    /// Like [`Self::satisfaction_ratings`] with an explicit page size.
    pub async fn satisfaction_ratings_paged(
        &self,
        query: &RatingsQuery,
        page_size: u32,
    ) -> ZdResult<Vec<SatisfactionRating>> {
        let mut call = Call::get("/satisfaction_ratings");
        if let Some(score) = &query.score {
            call = call.query("score", score);
        }
        if let Some(start) = query.start_time {
            call = call.query("start_time", start);
        }
        if let Some(end) = query.end_time {
            call = call.query("end_time", end);
        }
        self.list_cursor(call, "satisfaction_ratings", page_size.clamp(1, 100)).await
    }

    /// `GET /incremental/tickets/cursor`: from a start time (first run) or a stored cursor,
    /// until `end_of_stream`. Store the returned `after_cursor` for the next run.
    pub async fn export_tickets(&self, start: &ExportStart, per_page: Option<u32>) -> ZdResult<Export<ZdTicket>> {
        self.export("/incremental/tickets/cursor", "tickets", start, per_page).await
    }

    /// One page of `GET /incremental/tickets/cursor` (`start_time` or `cursor`): its tickets,
    /// `after_cursor` and `end_of_stream`.
    pub async fn export_tickets_page(&self, start: &ExportStart, per_page: Option<u32>) -> ZdResult<Export<ZdTicket>> {
        self.export_page("/incremental/tickets/cursor", "tickets", start, per_page).await
    }

    /// `GET /incremental/users/cursor`, like [`Self::export_tickets`].
    pub async fn export_users(&self, start: &ExportStart, per_page: Option<u32>) -> ZdResult<Export<ZdUser>> {
        self.export("/incremental/users/cursor", "users", start, per_page).await
    }

    async fn export<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        start: &ExportStart,
        per_page: Option<u32>,
    ) -> ZdResult<Export<T>> {
        let mut items = Vec::new();
        let mut position = start.clone();
        let mut after_cursor = match start {
            ExportStart::Cursor(c) => Some(c.clone()),
            ExportStart::StartTime(_) => None,
        };
        for _ in 0..MAX_EXPORT_PAGES {
            let page: Export<T> = self.export_page(path, key, &position, per_page).await?;
            items.extend(page.items);
            if let Some(next) = page.after_cursor {
                after_cursor = Some(next.clone());
                position = ExportStart::Cursor(next);
            } else if !page.end_of_stream {
                // No cursor to follow: stop rather than loop on the same page.
                return Ok(Export { items, after_cursor, end_of_stream: false });
            }
            if page.end_of_stream {
                return Ok(Export { items, after_cursor, end_of_stream: true });
            }
        }
        Ok(Export { items, after_cursor, end_of_stream: false })
    }

    /// One page of a cursor-based export; `end_of_stream` absent counts as true.
    async fn export_page<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        position: &ExportStart,
        per_page: Option<u32>,
    ) -> ZdResult<Export<T>> {
        let mut call = match position {
            ExportStart::StartTime(t) => Call::get(path).query("start_time", t),
            ExportStart::Cursor(c) => Call::get(path).query("cursor", c),
        };
        if let Some(n) = per_page {
            call = call.query("per_page", n.clamp(1, 1000));
        }
        let mut page = self.send(&call).await?.json()?;
        let items: Vec<T> = take(&mut page, key)?;
        let end_of_stream = page.get("end_of_stream").and_then(Value::as_bool).unwrap_or(true);
        let after_cursor = page.get("after_cursor").and_then(Value::as_str).map(str::to_string);
        Ok(Export { items, after_cursor, end_of_stream })
    }
}
