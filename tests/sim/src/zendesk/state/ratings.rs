//! CSAT ratings.

use super::{ApiError, State};
use crate::zendesk::model::RatingRec;

impl State {
    /// Records a CSAT rating for a ticket (what the customer does in the survey).
    pub fn rate(&mut self, ticket_id: u64, score: &str, comment: Option<String>) -> Result<u64, ApiError> {
        if !["offered", "unoffered", "good", "bad"].contains(&score) {
            return Err(ApiError::invalid("score", "InvalidValue", "Score: is invalid"));
        }
        let now = self.now();
        let t = self.tickets.get(&ticket_id).cloned().ok_or_else(ApiError::not_found)?;
        let id = match t.rating_id {
            Some(id) => id,
            None => self.new_id(),
        };
        let created_at = self.ratings.get(&id).map_or(now, |r| r.created_at);
        self.ratings.insert(
            id,
            RatingRec {
                id,
                ticket_id,
                requester_id: t.requester_id,
                assignee_id: t.assignee_id,
                group_id: t.group_id,
                score: score.into(),
                comment: comment.filter(|c| !c.is_empty()),
                created_at,
                updated_at: now,
            },
        );
        if let Some(t) = self.tickets.get_mut(&ticket_id) {
            t.rating_id = Some(id);
        }
        Ok(id)
    }
}
