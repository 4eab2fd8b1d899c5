//! Ticket creates and updates, their comments and tags, and the metrics they move.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Actor, ApiError, PRIORITIES, STATUSES, State, TYPES, TicketInput, UserInput, normalize_tags};
use crate::zendesk::model::{CommentRec, MetricsRec, TicketRec, escape_html, iso, strip_tags};

impl State {
    /// Creates a ticket through `channel` (`api`, `web`, `email`).
    pub fn create_ticket(&mut self, actor: Actor, input: TicketInput, channel: &str) -> Result<u64, ApiError> {
        let now = self.now();
        let comment = input.comment.clone().unwrap_or_default();
        let html = comment.html_body.clone().filter(|h| !h.trim().is_empty());
        let text = comment.body.clone().filter(|b| !b.trim().is_empty());
        if html.is_none() && text.is_none() {
            return Err(ApiError::invalid("base", "BlankValue", "Description: cannot be blank"));
        }
        self.validate_enums(&input)?;
        let followup = match input.via_followup_source_id {
            Some(src) => {
                let source = self.tickets.get(&src).ok_or_else(|| {
                    ApiError::invalid("via_followup_source_id", "InvalidValue", "Via followup source: is invalid")
                })?;
                if source.status != "closed" {
                    return Err(ApiError::invalid(
                        "via_followup_source_id",
                        "InvalidValue",
                        "Via followup source: ticket must be closed to create a follow-up",
                    ));
                }
                Some((src, source.subject.clone(), source.tags.clone(), source.requester_id, source.organization_id))
            }
            None => None,
        };
        let requester_id = match self.resolve_requester(actor, &input)? {
            Some(id) => id,
            None => followup.as_ref().map_or(actor.user_id, |f| f.3),
        };
        self.check_refs(input.group_id, input.assignee_id, input.organization_id)?;
        let organization_id = input
            .organization_id
            .or_else(|| followup.as_ref().and_then(|f| f.4))
            .or_else(|| self.users.get(&requester_id).and_then(|u| u.organization_id));
        let submitter_id = input.submitter_id.filter(|s| self.users.contains_key(s)).unwrap_or(actor.user_id);
        let author_id = comment.author_id.filter(|a| self.users.contains_key(a)).unwrap_or(submitter_id);
        let status = input
            .status
            .clone()
            .unwrap_or_else(|| if input.assignee_id.is_some() { "open".into() } else { "new".into() });
        let tags = match (&input.tags, &followup) {
            (Some(t), _) => normalize_tags(t),
            (None, Some(f)) => f.2.clone(),
            (None, None) => Vec::new(),
        };
        let id = self.new_id();
        let audit_id = self.new_id();
        let comment_id = self.new_id();
        let (body, html_body) = bodies(text, html);
        let mut t = TicketRec {
            id,
            subject: input.subject.clone().unwrap_or_else(|| body.chars().take(60).collect()),
            status: "new".into(),
            priority: input.priority.clone(),
            ticket_type: input.ticket_type.clone(),
            requester_id,
            submitter_id,
            assignee_id: input.assignee_id,
            group_id: input.group_id,
            organization_id,
            tags,
            external_id: input.external_id.clone(),
            channel: channel.to_string(),
            followup_source: followup.as_ref().map(|f| (f.0, f.1.clone())),
            followup_ids: Vec::new(),
            custom_fields: BTreeMap::new(),
            comments: vec![CommentRec {
                id: comment_id,
                author_id,
                body,
                html_body,
                public: comment.public.unwrap_or(true),
                audit_id,
                channel: channel.to_string(),
                created_at: now,
                attachments: self.take_uploads(&comment.uploads),
            }],
            created_at: now,
            updated_at: now,
            metrics: MetricsRec { latest_comment_added_at: Some(now), ..MetricsRec::default() },
            rating_id: None,
        };
        self.apply_custom_fields(&mut t, input.custom_fields.as_ref().or(input.fields.as_ref()))?;
        track_assignment(&mut t, None, None, now);
        set_status(&mut t, &status, now);
        if let Some((src, ..)) = followup
            && let Some(parent) = self.tickets.get_mut(&src)
        {
            parent.followup_ids.push(id);
        }
        self.tickets.insert(id, t.clone());
        self.queue_ticket_events(actor, None, &t, &[]);
        Ok(id)
    }

    fn validate_enums(&self, input: &TicketInput) -> Result<(), ApiError> {
        if let Some(s) = &input.status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(ApiError::invalid("status", "InvalidValue", format!("Status: {s} is not valid")));
        }
        if let Some(p) = &input.priority
            && !PRIORITIES.contains(&p.as_str())
        {
            return Err(ApiError::invalid("priority", "InvalidValue", format!("Priority: {p} is not valid")));
        }
        if let Some(t) = &input.ticket_type
            && !TYPES.contains(&t.as_str())
        {
            return Err(ApiError::invalid("type", "InvalidValue", format!("Type: {t} is not valid")));
        }
        Ok(())
    }

    fn check_refs(&self, group: Option<u64>, assignee: Option<u64>, org: Option<u64>) -> Result<(), ApiError> {
        if group.is_some_and(|g| !self.groups.contains_key(&g)) {
            return Err(ApiError::invalid("group", "InvalidValue", "Group: is invalid"));
        }
        if assignee.is_some_and(|a| !self.is_agent(a)) {
            return Err(ApiError::invalid("assignee", "InvalidValue", "Assignee: is not an agent"));
        }
        if org.is_some_and(|o| !self.orgs.contains_key(&o)) {
            return Err(ApiError::invalid("organization", "InvalidValue", "Organization: is invalid"));
        }
        Ok(())
    }

    fn resolve_requester(&mut self, actor: Actor, input: &TicketInput) -> Result<Option<u64>, ApiError> {
        if let Some(id) = input.requester_id {
            return if self.users.contains_key(&id) {
                Ok(Some(id))
            } else {
                Err(ApiError::invalid("requester", "InvalidValue", "Requester: is invalid"))
            };
        }
        let (name, email) = match &input.requester {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => {
                let id = n.as_u64().unwrap_or_default();
                return if self.users.contains_key(&id) {
                    Ok(Some(id))
                } else {
                    Err(ApiError::invalid("requester", "InvalidValue", "Requester: is invalid"))
                };
            }
            Some(Value::String(e)) => (None, e.clone()),
            Some(obj) => (
                obj.get("name").and_then(Value::as_str).map(str::to_string),
                obj.get("email").and_then(Value::as_str).unwrap_or_default().to_string(),
            ),
        };
        if !email.contains('@') {
            return Err(ApiError::invalid("requester", "InvalidValue", "Requester: Email is invalid"));
        }
        if let Some(u) = self.user_by_email(&email) {
            return Ok(Some(u.id));
        }
        let input = UserInput {
            name: Some(name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string())),
            email: Some(email),
            ..UserInput::default()
        };
        self.create_user(actor, input).map(Some)
    }

    /// Updates a ticket (`PUT /tickets/{id}` or an agent in the UI).
    pub fn update_ticket(&mut self, actor: Actor, id: u64, input: TicketInput) -> Result<(), ApiError> {
        let now = self.now();
        let before = self.tickets.get(&id).cloned().ok_or_else(ApiError::not_found)?;
        if before.status == "closed" {
            return Err(ApiError::closed());
        }
        if input.safe_update == Some(true)
            && let Some(stamp) = &input.updated_stamp
            && *stamp != iso(before.updated_at)
        {
            return Err(ApiError {
                status: 409,
                body: json!({ "error": "UpdateConflict", "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again." }),
            });
        }
        self.validate_enums(&input)?;
        self.check_refs(input.group_id, input.assignee_id, input.organization_id)?;
        if input.requester_id.is_some_and(|r| !self.users.contains_key(&r)) {
            return Err(ApiError::invalid("requester", "InvalidValue", "Requester: is invalid"));
        }
        let mut t = before.clone();
        if let Some(s) = &input.subject {
            t.subject = s.clone();
        }
        if let Some(p) = &input.priority {
            t.priority = Some(p.clone());
        }
        if let Some(ty) = &input.ticket_type {
            t.ticket_type = Some(ty.clone());
        }
        if let Some(r) = input.requester_id {
            t.requester_id = r;
        }
        if let Some(o) = input.organization_id {
            t.organization_id = Some(o);
        }
        if let Some(e) = &input.external_id {
            t.external_id = Some(e.clone());
        }
        if let Some(g) = input.group_id {
            t.group_id = Some(g);
        }
        if let Some(a) = input.assignee_id {
            t.assignee_id = Some(a);
        }
        track_assignment(&mut t, before.group_id, before.assignee_id, now);
        if let Some(tags) = &input.tags {
            t.tags = normalize_tags(tags);
        }
        self.apply_custom_fields(&mut t, input.custom_fields.as_ref().or(input.fields.as_ref()))?;
        let mut added = Vec::new();
        if let Some(c) = &input.comment {
            let html = c.html_body.clone().filter(|h| !h.trim().is_empty());
            let text = c.body.clone().filter(|b| !b.trim().is_empty());
            if html.is_none() && text.is_none() {
                return Err(ApiError::invalid("comment", "BlankValue", "Comment: cannot be blank"));
            }
            let author = c.author_id.filter(|a| self.users.contains_key(a)).unwrap_or(actor.user_id);
            let channel = if actor.api { "api" } else { "web" };
            let files = self.take_uploads(&c.uploads);
            let mut added_comment =
                self.add_comment(&mut t, author, text, html, c.public.unwrap_or(true), channel, now);
            added_comment.attachments = files;
            if let Some(last) = t.comments.last_mut() {
                last.attachments = added_comment.attachments.clone();
            }
            added.push(added_comment);
        }
        if let Some(s) = &input.status {
            set_status(&mut t, s, now);
        } else if t.status == "new" && t.assignee_id.is_some() {
            set_status(&mut t, "open", now);
        }
        if t != before {
            t.updated_at = now;
        }
        self.tickets.insert(id, t.clone());
        self.queue_ticket_events(actor, Some(&before), &t, &added);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_comment(
        &mut self,
        t: &mut TicketRec,
        author: u64,
        text: Option<String>,
        html: Option<String>,
        public: bool,
        channel: &str,
        now: i64,
    ) -> CommentRec {
        let (body, html_body) = bodies(text, html);
        let c = CommentRec {
            id: self.new_id(),
            author_id: author,
            body,
            html_body,
            public,
            audit_id: self.new_id(),
            channel: channel.into(),
            created_at: now,
            attachments: Vec::new(),
        };
        let agent = self.is_agent(author);
        if agent && public {
            t.metrics.replies += 1;
            t.metrics.first_reply_at.get_or_insert(now);
        }
        if !agent && matches!(t.status.as_str(), "pending" | "solved" | "hold") {
            set_status(t, "open", now);
        }
        t.metrics.latest_comment_added_at = Some(now);
        t.comments.push(c.clone());
        c
    }

    /// `PUT /tickets/{id}/tags` (add), `POST` (set) or `DELETE` (remove).
    pub fn change_tags(&mut self, actor: Actor, id: u64, op: TagOp, tags: &[String]) -> Result<Vec<String>, ApiError> {
        let now = self.now();
        let before = self.tickets.get(&id).cloned().ok_or_else(ApiError::not_found)?;
        if before.status == "closed" {
            return Err(ApiError::closed());
        }
        let tags = normalize_tags(tags);
        let mut t = before.clone();
        match op {
            TagOp::Add => t.tags.extend(tags),
            TagOp::Set => t.tags = tags,
            TagOp::Remove => t.tags.retain(|x| !tags.contains(x)),
        }
        t.tags = normalize_tags(&t.tags);
        if t.tags != before.tags {
            t.updated_at = now;
        }
        let result = t.tags.clone();
        self.tickets.insert(id, t.clone());
        self.queue_ticket_events(actor, Some(&before), &t, &[]);
        Ok(result)
    }
}

/// How a tag call changes the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOp {
    /// PUT: add.
    Add,
    /// POST: replace.
    Set,
    /// DELETE: remove.
    Remove,
}

fn bodies(text: Option<String>, html: Option<String>) -> (String, String) {
    match (text, html) {
        (_, Some(h)) => (strip_tags(&h), h),
        (Some(t), None) => {
            let html = format!("<div class=\"zd-comment\" dir=\"auto\"><p>{}</p></div>", escape_html(&t));
            (t, html)
        }
        (None, None) => (String::new(), String::new()),
    }
}

fn track_assignment(t: &mut TicketRec, old_group: Option<u64>, old_assignee: Option<u64>, now: i64) {
    if t.group_id.is_some() && t.group_id != old_group {
        t.metrics.group_stations += 1;
    }
    if t.assignee_id.is_some() && t.assignee_id != old_assignee {
        t.metrics.assignee_stations += 1;
        t.metrics.initially_assigned_at.get_or_insert(now);
        t.metrics.assigned_at = Some(now);
    }
}

pub(super) fn set_status(t: &mut TicketRec, new: &str, now: i64) {
    let old = t.status.clone();
    if old == new {
        return;
    }
    if old == "hold"
        && let Some(since) = t.metrics.hold_since.take()
    {
        t.metrics.on_hold_minutes += (now - since) / 60;
    }
    if new == "hold" {
        t.metrics.hold_since = Some(now);
    }
    if new == "solved" {
        t.metrics.solved_at = Some(now);
        t.metrics.first_solved_at.get_or_insert(now);
    }
    if old == "solved" && new != "closed" {
        t.metrics.reopens += 1;
        t.metrics.solved_at = None;
    }
    if new == "closed" && t.metrics.solved_at.is_none() {
        t.metrics.solved_at = Some(now);
        t.metrics.first_solved_at.get_or_insert(now);
    }
    t.status = new.to_string();
    t.updated_at = now;
}
