//! Job 3 rules: what a Zendesk ticket status change and a Zendesk comment do to the linked
//! Intercom conversation.
//!
//! The rules are pure: given the status the bridge last acted on, the status the ticket has
//! now and the `ticket_status:` configuration, they return the list of Intercom actions
//! (message, state change, tags) in the order they are performed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::ids::{AdminId, UserId};
use crate::model::{ConversationChange, TicketComment, TicketStatus, Timestamp};
use crate::text::{escape_html, render};

/// A status transition the configuration can react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusEvent {
    /// The ticket became solved.
    Solved,
    /// The ticket became closed.
    Closed,
    /// The ticket became pending (waiting on the customer).
    Pending,
    /// The ticket was put on hold.
    #[serde(alias = "on-hold", alias = "on_hold")]
    Hold,
    /// The ticket became open again after being solved or closed.
    Reopened,
    /// The ticket became open from new, pending or on-hold.
    Open,
}

impl StatusEvent {
    /// Config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusEvent::Solved => "solved",
            StatusEvent::Closed => "closed",
            StatusEvent::Pending => "pending",
            StatusEvent::Hold => "hold",
            StatusEvent::Reopened => "reopened",
            StatusEvent::Open => "open",
        }
    }
}

/// What to do with the conversation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationAction {
    /// Close it.
    Close,
    /// Open it.
    Open,
    /// Snooze it for `snooze_minutes`.
    Snooze,
}

/// How the message of a status event reaches the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// A reply the customer sees (with `conversation: close`, the close carries it: one call).
    #[default]
    Reply,
    /// An internal note for the team.
    Note,
    /// No message: only the state change, the tags and `status_attribute`.
    Silent,
}

/// The effects of one status event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusEffects {
    /// Message posted to the conversation (plain text; `{ticket_id}`, `{subject}`,
    /// `{agent_name}`, `{status}`, `{ticket_url}` are replaced), as `deliver` says.
    #[serde(default)]
    pub message: Option<String>,
    /// `reply` (default), `note` or `silent`.
    #[serde(default)]
    pub deliver: Delivery,
    /// Close, open or snooze the conversation afterwards.
    #[serde(default)]
    pub conversation: Option<ConversationAction>,
    /// Snooze duration, required with `conversation: snooze`.
    #[serde(default)]
    pub snooze_minutes: Option<u32>,
    /// Tags put on the conversation.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `ticket_status:` — job 3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketStatusConfig {
    /// Effects per status event; events not listed do nothing.
    #[serde(default)]
    pub on: BTreeMap<StatusEvent, StatusEffects>,
    /// Public agent comments become admin replies in the conversation.
    #[serde(default = "yes")]
    pub relay_public_comments: bool,
    /// Internal notes become internal notes in the conversation (written by the bot admin).
    #[serde(default)]
    pub relay_internal_notes: bool,
    /// A conversation attribute set to the ticket's status (`solved`, `pending`, ...) on every
    /// status event the section lists, whatever its delivery.
    #[serde(default)]
    pub status_attribute: Option<String>,
    /// A conversation attribute set to the ticket's priority (`low` .. `urgent`) whenever it
    /// changes. Intercom's API has no way to set a conversation's own priority, so a Zendesk
    /// priority reaches the conversation here (and a view or workflow can use it).
    #[serde(default)]
    pub priority_attribute: Option<String>,
    /// The files of relayed comments: sent with the Intercom reply or note, within a size and
    /// count limit; files left out are named in it.
    #[serde(default)]
    pub attachments: crate::attachments::ToIntercomAttachments,
}

fn yes() -> bool {
    true
}

impl TicketStatusConfig {
    /// Checks the section; errors name the field path under `ticket_status`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.attachments.validate("ticket_status.attachments")?;
        for (event, effects) in &self.on {
            let at = |f: &str| format!("ticket_status.on.{}.{f}", event.as_str());
            if effects.message.as_deref().is_some_and(|m| m.trim().is_empty()) {
                return Err(ConfigError::new(at("message"), "must not be empty when set"));
            }
            if effects.deliver == Delivery::Silent && effects.message.is_some() {
                return Err(ConfigError::new(
                    at("message"),
                    "is never sent with `deliver: silent`; remove one of them",
                ));
            }
            match (effects.conversation, effects.snooze_minutes) {
                (Some(ConversationAction::Snooze), None | Some(0)) => {
                    return Err(ConfigError::new(at("snooze_minutes"), "a positive number is needed to snooze"));
                }
                (Some(ConversationAction::Close | ConversationAction::Open) | None, Some(_)) => {
                    return Err(ConfigError::new(at("snooze_minutes"), "only used with `conversation: snooze`"));
                }
                _ => {}
            }
            if effects.tags.iter().any(|t| t.trim().is_empty()) {
                return Err(ConfigError::new(at("tags"), "tags must not be empty"));
            }
        }
        if self.status_attribute.as_deref().is_some_and(|a| a.trim().is_empty()) {
            return Err(ConfigError::new("ticket_status.status_attribute", "must not be empty when set"));
        }
        if self.priority_attribute.as_deref().is_some_and(|a| a.trim().is_empty()) {
            return Err(ConfigError::new("ticket_status.priority_attribute", "must not be empty when set"));
        }
        Ok(())
    }

    /// Every tag the status effects put on conversations (tag sync leaves these alone).
    pub fn all_tags(&self) -> impl Iterator<Item = &str> {
        self.on.values().flat_map(|e| e.tags.iter().map(String::as_str))
    }
}

/// Which event, if any, a move from `previous` (the status last acted on; `None` = never seen,
/// treated as new) to `current` is.
pub fn classify(previous: Option<TicketStatus>, current: TicketStatus) -> Option<StatusEvent> {
    let previous = previous.unwrap_or(TicketStatus::New);
    if previous == current {
        return None;
    }
    Some(match current {
        TicketStatus::Solved => StatusEvent::Solved,
        TicketStatus::Closed => StatusEvent::Closed,
        TicketStatus::Pending => StatusEvent::Pending,
        TicketStatus::Hold => StatusEvent::Hold,
        TicketStatus::New => return None,
        TicketStatus::Open => match previous {
            TicketStatus::Solved | TicketStatus::Closed => StatusEvent::Reopened,
            _ => StatusEvent::Open,
        },
    })
}

/// Values for the message template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateValues {
    /// Ticket id.
    pub ticket_id: String,
    /// Ticket subject.
    pub subject: String,
    /// Assignee's display name (or "our team").
    pub agent_name: String,
    /// Status, as Zendesk spells it.
    pub status: String,
    /// Agent URL of the ticket.
    pub ticket_url: String,
}

/// One Intercom action of a status event, in execution order.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusAction {
    /// Reply to the customer with this HTML (as the bot admin).
    Reply(String),
    /// An internal note with this HTML (as the bot admin).
    Note(String),
    /// Change the conversation's state (a close may carry the reply).
    Change(ConversationChange),
    /// Tag the conversation.
    Tag(String),
    /// Set a conversation attribute (name, value).
    Attribute(String, String),
}

impl StatusAction {
    /// A stable name for the action's done marker.
    pub fn key(&self) -> String {
        match self {
            StatusAction::Reply(_) => "reply".into(),
            StatusAction::Note(_) => "note".into(),
            StatusAction::Attribute(name, _) => format!("attribute:{name}"),
            StatusAction::Change(ConversationChange::Close { .. }) => "close".into(),
            StatusAction::Change(ConversationChange::Open) => "open".into(),
            StatusAction::Change(ConversationChange::Snooze { .. }) => "snooze".into(),
            StatusAction::Change(ConversationChange::Assign { .. }) => "assign".into(),
            StatusAction::Tag(t) => format!("tag:{t}"),
        }
    }
}

/// The actions for `event` under the config: message first, then the state change, then tags.
pub fn actions(
    config: &TicketStatusConfig,
    event: StatusEvent,
    values: &TemplateValues,
    now: Timestamp,
) -> Vec<StatusAction> {
    let Some(effects) = config.on.get(&event) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut message = None;
    if let Some(template) = &effects.message {
        let text = render(
            template,
            &[
                ("ticket_id", &values.ticket_id),
                ("subject", &values.subject),
                ("agent_name", &values.agent_name),
                ("status", &values.status),
                ("ticket_url", &values.ticket_url),
            ],
        );
        message = Some(text_to_html(&text));
    }
    let close = effects.conversation == Some(ConversationAction::Close);
    match (effects.deliver, message) {
        // Intercom's close takes a body the customer sees: one call instead of two.
        (Delivery::Reply, Some(html)) if close => {
            out.push(StatusAction::Change(ConversationChange::Close { body: Some(html) }));
        }
        (Delivery::Reply, Some(html)) => out.push(StatusAction::Reply(html)),
        (Delivery::Note, Some(html)) => out.push(StatusAction::Note(html)),
        (Delivery::Silent, _) | (_, None) => {}
    }
    let closed_with_message = out.iter().any(|a| matches!(a, StatusAction::Change(_)));
    match effects.conversation {
        Some(ConversationAction::Close) if closed_with_message => {}
        Some(ConversationAction::Close) => out.push(StatusAction::Change(ConversationChange::Close { body: None })),
        Some(ConversationAction::Open) => out.push(StatusAction::Change(ConversationChange::Open)),
        Some(ConversationAction::Snooze) => {
            let minutes = i64::from(effects.snooze_minutes.unwrap_or(60));
            out.push(StatusAction::Change(ConversationChange::Snooze { until: now.plus(minutes * 60) }));
        }
        None => {}
    }
    out.extend(effects.tags.iter().map(|t| StatusAction::Tag(t.trim().to_string())));
    if let Some(name) = &config.status_attribute {
        out.push(StatusAction::Attribute(name.trim().to_string(), values.status.clone()));
    }
    out
}

/// Plain text to HTML paragraphs (escaped).
pub fn text_to_html(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p.trim()).replace('\n', "<br>")))
        .collect()
}

/// How a Zendesk comment reaches the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// An admin reply the customer sees (as the agent's Intercom admin, else the bot).
    Reply,
    /// An internal note (as the bot admin).
    Note,
}

/// Who wrote a Zendesk comment, as far as relaying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAuthor {
    /// The bridge's own API user.
    Bridge,
    /// An agent or admin.
    Agent,
    /// An end user (the requester, or anyone else on the customer side).
    EndUser,
}

/// Classifies an author from the comment's author id, the bridge's user and the author's role.
pub fn comment_author(author: Option<UserId>, own: UserId, role: Option<&str>) -> CommentAuthor {
    match author {
        None => CommentAuthor::Bridge,
        Some(a) if a == own => CommentAuthor::Bridge,
        Some(_) => match role {
            Some("agent" | "admin") => CommentAuthor::Agent,
            _ => CommentAuthor::EndUser,
        },
    }
}

/// Whether (and how) a comment is relayed. The bridge's own comments (transcripts, appended
/// Intercom parts carrying a part marker) and customer comments are never relayed back.
pub fn relay_for(config: &TicketStatusConfig, comment: &TicketComment, author: CommentAuthor) -> Option<Relay> {
    if author != CommentAuthor::Agent || comment.html_body.contains("[intercom part ") {
        return None;
    }
    if comment.html_body.trim().is_empty() {
        return None;
    }
    match comment.public {
        true if config.relay_public_comments => Some(Relay::Reply),
        false if config.relay_internal_notes => Some(Relay::Note),
        _ => None,
    }
}

/// The admin a relayed reply is written as: the agent's matching Intercom admin, else the bot.
pub fn reply_admin(matched: Option<AdminId>, bot: &AdminId) -> AdminId {
    matched.unwrap_or_else(|| bot.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> TicketStatusConfig {
        serde_norway::from_str(
            r#"
on:
  solved: { message: "Ticket #{ticket_id} ({subject}) solved by {agent_name}.", conversation: close, tags: [zd-solved] }
  pending: { conversation: snooze, snooze_minutes: 30 }
  reopened: { conversation: open }
  on-hold: { tags: [zd-hold] }
"#,
        )
        .unwrap()
    }

    #[test]
    fn transitions_classify_as_configured_events() {
        use TicketStatus::*;
        let table = [
            (None, New, None),
            (None, Open, Some(StatusEvent::Open)),
            (Some(Open), Open, None),
            (Some(Open), Solved, Some(StatusEvent::Solved)),
            (Some(Solved), Closed, Some(StatusEvent::Closed)),
            (Some(Solved), Open, Some(StatusEvent::Reopened)),
            (Some(Closed), Open, Some(StatusEvent::Reopened)),
            (Some(Pending), Open, Some(StatusEvent::Open)),
            (Some(Open), Pending, Some(StatusEvent::Pending)),
            (Some(Open), Hold, Some(StatusEvent::Hold)),
            (Some(Open), New, None),
            (None, Solved, Some(StatusEvent::Solved)),
        ];
        for (prev, cur, want) in table {
            assert_eq!(classify(prev, cur), want, "{prev:?} -> {cur:?}");
        }
    }

    #[test]
    fn actions_follow_the_config_in_order() {
        let v = TemplateValues {
            ticket_id: "42".into(),
            subject: "Refund <now>".into(),
            agent_name: "Zoe".into(),
            ..TemplateValues::default()
        };
        let now = Timestamp(1000);
        let solved = actions(&cfg(), StatusEvent::Solved, &v, now);
        assert_eq!(
            solved,
            vec![
                // The message rides on the close: one Intercom call.
                StatusAction::Change(ConversationChange::Close {
                    body: Some("<p>Ticket #42 (Refund &lt;now&gt;) solved by Zoe.</p>".into())
                }),
                StatusAction::Tag("zd-solved".into()),
            ]
        );
        let pending = actions(&cfg(), StatusEvent::Pending, &v, now);
        assert_eq!(pending, vec![StatusAction::Change(ConversationChange::Snooze { until: Timestamp(1000 + 1800) })]);
        assert_eq!(actions(&cfg(), StatusEvent::Hold, &v, now), vec![StatusAction::Tag("zd-hold".into())]);
        assert!(actions(&cfg(), StatusEvent::Closed, &v, now).is_empty(), "not configured: nothing");
        let keys: Vec<String> = solved.iter().map(StatusAction::key).collect();
        assert_eq!(keys, ["close", "tag:zd-solved"]);
    }

    #[test]
    fn a_message_is_a_reply_a_note_or_nothing_as_delivered_and_the_status_attribute_is_set() {
        let yaml = "status_attribute: zendesk_status\non:\n  pending: { message: 'Waiting on #{ticket_id}', deliver: note }\n  hold: { deliver: silent, tags: [zd-hold] }\n  open: { message: 'Back on #{ticket_id}' }\n";
        let c: TicketStatusConfig = serde_norway::from_str(yaml).unwrap();
        c.validate().unwrap();
        let v = TemplateValues { ticket_id: "7".into(), status: "pending".into(), ..TemplateValues::default() };
        let attr = |s: &str| StatusAction::Attribute("zendesk_status".into(), s.into());
        assert_eq!(
            actions(&c, StatusEvent::Pending, &v, Timestamp(0)),
            vec![StatusAction::Note("<p>Waiting on #7</p>".into()), attr("pending")]
        );
        let v = TemplateValues { status: "hold".into(), ..v };
        assert_eq!(
            actions(&c, StatusEvent::Hold, &v, Timestamp(0)),
            vec![StatusAction::Tag("zd-hold".into()), attr("hold")]
        );
        let v = TemplateValues { status: "open".into(), ..v };
        assert_eq!(
            actions(&c, StatusEvent::Open, &v, Timestamp(0)),
            vec![StatusAction::Reply("<p>Back on #7</p>".into()), attr("open")]
        );
        let silent_with_message: TicketStatusConfig =
            serde_norway::from_str("on: { hold: { message: hi, deliver: silent } }").unwrap();
        assert_eq!(silent_with_message.validate().unwrap_err().field, "ticket_status.on.hold.message");
    }

    #[test]
    fn validation_names_the_field() {
        let table = [
            ("on: { pending: { conversation: snooze } }", "ticket_status.on.pending.snooze_minutes"),
            ("on: { solved: { conversation: close, snooze_minutes: 3 } }", "ticket_status.on.solved.snooze_minutes"),
            ("on: { solved: { message: ' ' } }", "ticket_status.on.solved.message"),
            ("on: { closed: { tags: [''] } }", "ticket_status.on.closed.tags"),
        ];
        for (yaml, field) in table {
            let c: TicketStatusConfig = serde_norway::from_str(yaml).unwrap();
            assert_eq!(c.validate().unwrap_err().field, field, "{yaml}");
        }
        assert!(cfg().validate().is_ok());
    }

    #[test]
    fn only_agent_comments_are_relayed() {
        let mut c = cfg();
        let comment = |public: bool, body: &str| TicketComment {
            id: None,
            html_body: body.into(),
            public,
            author_id: None,
            created_at: None,
            uploads: Vec::new(),
            attachments: Vec::new(),
        };
        let own = UserId::new(1).unwrap();
        let agent = UserId::new(2).unwrap();
        assert_eq!(comment_author(Some(own), own, Some("admin")), CommentAuthor::Bridge);
        assert_eq!(comment_author(None, own, None), CommentAuthor::Bridge);
        assert_eq!(comment_author(Some(agent), own, Some("agent")), CommentAuthor::Agent);
        assert_eq!(comment_author(Some(agent), own, Some("end-user")), CommentAuthor::EndUser);

        let table = [
            (true, "<p>hi</p>", CommentAuthor::Agent, Some(Relay::Reply)),
            (false, "<p>internal</p>", CommentAuthor::Agent, None),
            (true, "<p>hi</p>", CommentAuthor::EndUser, None),
            (true, "<p>hi</p>", CommentAuthor::Bridge, None),
            (true, "<p>x</p><p>[intercom part 7]</p>", CommentAuthor::Agent, None),
        ];
        for (public, body, author, want) in table {
            assert_eq!(relay_for(&c, &comment(public, body), author), want, "{body} {author:?}");
        }
        c.relay_internal_notes = true;
        assert_eq!(relay_for(&c, &comment(false, "<p>n</p>"), CommentAuthor::Agent), Some(Relay::Note));
        c.relay_public_comments = false;
        assert_eq!(relay_for(&c, &comment(true, "<p>n</p>"), CommentAuthor::Agent), None);
    }
}
