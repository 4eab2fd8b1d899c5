//! Ticket merges.

use serde_json::{Value, json};

use super::tickets::set_status;
use super::{Actor, ApiError, State, normalize_tags};

impl State {
    /// Merges `sources` into `target`; returns the job id.
    pub fn merge(
        &mut self,
        actor: Actor,
        target: u64,
        sources: &[u64],
        comments: MergeComments,
    ) -> Result<String, ApiError> {
        let MergeComments { target_comment, source_comment, target_public, source_public } = comments;
        let now = self.now();
        let tgt = self.tickets.get(&target).ok_or_else(ApiError::not_found)?;
        if matches!(tgt.status.as_str(), "solved" | "closed") {
            return Err(ApiError::invalid("base", "InvalidValue", "Target ticket must not be solved or closed"));
        }
        if sources.is_empty() || sources.len() > 5 {
            return Err(ApiError::bad_request("InvalidValue", "Between 1 and 5 source tickets are required"));
        }
        for s in sources {
            let src = self.tickets.get(s).ok_or_else(ApiError::not_found)?;
            if *s == target || src.status == "closed" {
                return Err(ApiError::invalid("base", "InvalidValue", format!("Ticket {s} cannot be merged")));
            }
        }
        for s in sources {
            let Some(before) = self.tickets.get(s).cloned() else {
                continue;
            };
            let mut t = before.clone();
            let text = source_comment.clone().unwrap_or_else(|| {
                format!(
                    "This request was closed and merged into request #{target} \"{}\".",
                    self.tickets.get(&target).map(|x| x.subject.clone()).unwrap_or_default()
                )
            });
            let c = self.add_comment(
                &mut t,
                actor.user_id,
                Some(text),
                None,
                source_public,
                if actor.api { "api" } else { "web" },
                now,
            );
            t.tags.push("closed_by_merge".into());
            t.tags = normalize_tags(&t.tags);
            set_status(&mut t, "closed", now);
            t.updated_at = now;
            self.tickets.insert(*s, t.clone());
            self.queue_ticket_events(actor, Some(&before), &t, &[c]);
            self.outbox.push(self.ticket_event(&t, actor, "merged", json!({ "target_ticket_id": target.to_string() })));
        }
        if let Some(before) = self.tickets.get(&target).cloned() {
            let mut t = before.clone();
            let list = sources.iter().map(|s| format!("#{s}")).collect::<Vec<_>>().join(", ");
            let text =
                target_comment.unwrap_or_else(|| format!("Requests {list} were closed and merged into this request."));
            let c = self.add_comment(
                &mut t,
                actor.user_id,
                Some(text),
                None,
                target_public,
                if actor.api { "api" } else { "web" },
                now,
            );
            t.updated_at = now;
            self.tickets.insert(target, t.clone());
            self.queue_ticket_events(actor, Some(&before), &t, &[c]);
        }
        let results: Vec<Value> = sources
            .iter()
            .map(|s| json!({ "action": "merge", "id": s, "status": "Merged", "success": true }))
            .collect();
        Ok(self.new_job("ticket_merge", results))
    }
}

/// The comments a merge adds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeComments {
    /// Comment on the target (default: Zendesk's text).
    pub target_comment: Option<String>,
    /// Comment on each source (default: Zendesk's text).
    pub source_comment: Option<String>,
    /// Target comment public.
    pub target_public: bool,
    /// Source comments public.
    pub source_public: bool,
}
