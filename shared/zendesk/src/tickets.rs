//! Ticket endpoints.

use reqwest::Method;
use serde_json::json;

use crate::client::{Call, ZdResult, ZendeskClient, join_ids};
use crate::types::{CreatedTicket, JobStatus, MergeRequest, TicketMetric, TicketWrite, ZdComment, ZdTicket};

/// Ids per `show_many` call.
const SHOW_MANY_CHUNK: usize = 100;
/// Comments per page.
const COMMENTS_PAGE: u32 = 100;

impl ZendeskClient {
    /// `POST /tickets` with an `Idempotency-Key`: a retry with the same key and body returns
    /// the first ticket (`idempotency_hit`), a different body fails with
    /// [`crate::ZendeskError::IdempotencyMismatch`].
    pub async fn create_ticket(&self, ticket: &TicketWrite, idempotency_key: &str) -> ZdResult<CreatedTicket> {
        let call = Call::new(Method::POST, "/tickets")
            .header("idempotency-key", idempotency_key)
            .json(&json!({ "ticket": ticket }))?;
        let reply = self.send(&call).await?;
        let idempotency_hit = reply
            .headers
            .get("x-idempotency-lookup")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("hit"));
        Ok(CreatedTicket { ticket: reply.take("ticket")?, idempotency_hit })
    }

    /// Creates a follow-up of a closed ticket (`via_followup_source_id`).
    pub async fn create_followup(
        &self,
        source: u64,
        ticket: &TicketWrite,
        idempotency_key: &str,
    ) -> ZdResult<CreatedTicket> {
        let body = TicketWrite { via_followup_source_id: Some(source), ..ticket.clone() };
        self.create_ticket(&body, idempotency_key).await
    }

    /// `GET /tickets/{id}`.
    pub async fn show_ticket(&self, id: u64) -> ZdResult<ZdTicket> {
        self.send(&Call::get(format!("/tickets/{id}"))).await?.take("ticket")
    }

    /// `GET /tickets/show_many?ids=` in chunks of 100. Unknown ids are simply absent.
    pub async fn show_many_tickets(&self, ids: &[u64]) -> ZdResult<Vec<ZdTicket>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(SHOW_MANY_CHUNK) {
            let call = Call::get("/tickets/show_many").query("ids", join_ids(chunk));
            let tickets: Vec<ZdTicket> = self.send(&call).await?.take("tickets")?;
            out.extend(tickets);
        }
        Ok(out)
    }

    /// `PUT /tickets/{id}`: fields and an optional comment in one update (one audit). A closed
    /// ticket answers an error for which `is_closed_ticket()` is true.
    pub async fn update_ticket(&self, id: u64, ticket: &TicketWrite) -> ZdResult<ZdTicket> {
        let call = Call::new(Method::PUT, format!("/tickets/{id}")).json(&json!({ "ticket": ticket }))?;
        self.send(&call).await?.take("ticket")
    }

    /// `GET /tickets/{id}/comments`, every page (cursor), oldest first.
    pub async fn list_comments(&self, id: u64) -> ZdResult<Vec<ZdComment>> {
        self.list_comments_paged(id, COMMENTS_PAGE).await
    }

    /// Like [`Self::list_comments`] with an explicit page size (1-100).
    pub async fn list_comments_paged(&self, id: u64, page_size: u32) -> ZdResult<Vec<ZdComment>> {
        let call = Call::get(format!("/tickets/{id}/comments"));
        self.list_cursor(call, "comments", page_size.clamp(1, 100)).await
    }

    /// `PUT /tickets/{id}/tags`: adds tags, keeps the others. Returns the resulting list.
    pub async fn add_ticket_tags(&self, id: u64, tags: &[String]) -> ZdResult<Vec<String>> {
        let call = Call::new(Method::PUT, format!("/tickets/{id}/tags")).json(&json!({ "tags": tags }))?;
        self.send(&call).await?.take("tags")
    }

    /// `DELETE /tickets/{id}/tags?tags=a,b`: removes tags, keeps the others. Returns the
    /// resulting list. The tags go in the query string, the form the OpenAPI file documents
    /// (it declares no request body for this DELETE); Zendesk tags never contain commas.
    pub async fn remove_ticket_tags(&self, id: u64, tags: &[String]) -> ZdResult<Vec<String>> {
        let call = Call::new(Method::DELETE, format!("/tickets/{id}/tags")).query("tags", tags.join(","));
        self.send(&call).await?.take("tags")
    }

    /// `POST /tickets/{target}/merge`, then polls the job until it finishes.
    pub async fn merge_tickets(&self, target: u64, merge: &MergeRequest) -> ZdResult<JobStatus> {
        let call = Call::new(Method::POST, format!("/tickets/{target}/merge")).json(&json!(merge))?;
        let job: JobStatus = self.send(&call).await?.take("job_status")?;
        self.wait_for_job(job).await
    }

    /// `GET /tickets?external_id=`: every ticket carrying the external id (not unique).
    pub async fn tickets_by_external_id(&self, external_id: &str) -> ZdResult<Vec<ZdTicket>> {
        let call = Call::get("/tickets").query("external_id", external_id);
        self.list_offset(call, "tickets").await
    }

    /// `GET /tickets/{id}/metrics`. Accepts an object or a one-element array under
    /// `ticket_metric` (the OpenAPI file declares an array; the live API returns an object).
    pub async fn ticket_metric(&self, ticket_id: u64) -> ZdResult<TicketMetric> {
        let mut json = self.send(&Call::get(format!("/tickets/{ticket_id}/metrics"))).await?.json()?;
        let value = json.get_mut("ticket_metric").map(serde_json::Value::take).unwrap_or_default();
        let value = match value {
            serde_json::Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        serde_json::from_value(value).map_err(|_| crate::ZendeskError::Decode("ticket_metric".into()))
    }

    /// `GET /ticket_metrics`, every page (cursor).
    pub async fn list_ticket_metrics(&self) -> ZdResult<Vec<TicketMetric>> {
        self.list_ticket_metrics_paged(100).await
    }

    /// Like [`Self::list_ticket_metrics`] with an explicit page size.
    pub async fn list_ticket_metrics_paged(&self, page_size: u32) -> ZdResult<Vec<TicketMetric>> {
        self.list_cursor(Call::get("/ticket_metrics"), "ticket_metrics", page_size.clamp(1, 100)).await
    }
}
