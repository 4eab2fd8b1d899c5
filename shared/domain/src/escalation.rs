//! Job 1 rules: does a conversation escalate, and what ticket does it become.
//!
//! Decisions are taken on the conversation as re-read from Intercom (the webhook is only a
//! hint), so a missed or reordered webhook converges on the next event.

use std::collections::BTreeMap;

use crate::attachments::FileReport;
use crate::config::{Config, EscalationConfig, EscalationRule, Trigger};
use crate::ids::{AdminId, ConversationId, OrganizationId, PartId, UserId};
use crate::model::{
    AuthorRole, Conversation, FieldValue, NewTicket, Part, PartKind, Ticket, TicketComment, TicketPriority,
    TicketStatus, TicketUpdate, Timestamp,
};
use crate::text::{contains_word, escape_html, html_to_text, render, slug};

/// The first rule that holds for the conversation, if any.
pub fn matching_rule<'c>(
    conversation: &Conversation,
    config: &'c EscalationConfig,
    now: Timestamp,
) -> Option<&'c EscalationRule> {
    config.rules.iter().find(|rule| rule_holds(&rule.when, conversation, now))
}

fn rule_holds(when: &Trigger, c: &Conversation, now: Timestamp) -> bool {
    if let Some(tag) = &when.tag_added {
        return c.tags.iter().any(|t| t.eq_ignore_ascii_case(tag.trim()));
    }
    if !when.assigned_to_team.is_empty() {
        return c.team_assignee.as_ref().is_some_and(|t| when.assigned_to_team.contains(t));
    }
    if !when.assigned_to_admin.is_empty() {
        return c.admin_assignee.as_ref().is_some_and(|a| when.assigned_to_admin.contains(a));
    }
    if !when.keyword.is_empty() {
        return customer_parts(c).any(|p| {
            let text = html_to_text(p.body.as_deref().unwrap_or(""));
            when.keyword.iter().any(|k| contains_word(&text, k))
        });
    }
    if let Some(t) = &when.threshold {
        let replies_ok = t.customer_replies.is_none_or(|n| unanswered_customer_messages(c) >= n as usize);
        let waiting_ok = t
            .waiting_minutes
            .is_none_or(|m| waiting_since(c).is_some_and(|since| now.0.saturating_sub(since.0) >= i64::from(m) * 60));
        let priority_ok = t.priority_at_least.is_none_or(|p| c.priority >= p);
        return replies_ok && waiting_ok && priority_ok;
    }
    false
}

fn customer_parts(c: &Conversation) -> impl Iterator<Item = &Part> {
    c.parts.iter().filter(|p| p.author.role.is_customer() && matches!(p.kind, PartKind::Opening | PartKind::Comment))
}

/// Customer messages since the last admin (or bot) reply.
pub fn unanswered_customer_messages(c: &Conversation) -> usize {
    c.parts
        .iter()
        .rev()
        .filter(|p| matches!(p.kind, PartKind::Opening | PartKind::Comment))
        .take_while(|p| p.author.role.is_customer())
        .count()
}

/// The shortest `waiting_minutes` of the rules: a conversation waiting longer may match a
/// time-based rule with no new event (job 1's sweep reads those).
pub fn shortest_wait(config: &EscalationConfig) -> Option<u32> {
    config.rules.iter().filter_map(|r| r.when.threshold.as_ref()?.waiting_minutes).min()
}

/// Since when the customer waits: Intercom's `waiting_since`, else the first unanswered
/// customer message.
pub fn waiting_since(c: &Conversation) -> Option<Timestamp> {
    if c.waiting_since.is_some() {
        return c.waiting_since;
    }
    let n = unanswered_customer_messages(c);
    if n == 0 {
        return None;
    }
    c.parts
        .iter()
        .filter(|p| matches!(p.kind, PartKind::Opening | PartKind::Comment))
        .rev()
        .nth(n - 1)
        .map(|p| p.created_at)
}

/// Who the ticket is for, as resolved by the job.
#[derive(Debug, Clone, PartialEq)]
pub struct Requester {
    /// Zendesk user.
    pub user_id: UserId,
    /// Their organization, if any.
    pub organization_id: Option<OrganizationId>,
    /// Display name for the subject.
    pub display_name: String,
}

/// The ticket external id for a conversation.
pub fn external_id(config: &Config, conversation: &ConversationId) -> String {
    format!("{}{}", config.zendesk.external_id_prefix, conversation)
}

/// The Zendesk `Idempotency-Key` for escalating a conversation (stable across retries).
pub fn idempotency_key(conversation: &ConversationId) -> String {
    format!("escalate-{conversation}")
}

/// What became of the parts' files, by part id (parts without files have no entry). `None`
/// where files are not carried: the transcript links to Intercom's URLs instead.
pub type PartFiles = BTreeMap<PartId, FileReport>;

/// Builds the ticket for a conversation that matched `rule`. The caller puts the upload tokens
/// of the files `files` reports as attached on the comment.
pub fn build_ticket(
    config: &Config,
    esc: &EscalationConfig,
    rule: &EscalationRule,
    conversation: &Conversation,
    requester: &Requester,
    bot: &AdminId,
    files: Option<&PartFiles>,
) -> NewTicket {
    let title = conversation
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| first_line_of_opening(conversation))
        .unwrap_or_else(|| format!("Intercom conversation {}", conversation.id));
    let subject = render(
        &esc.subject_template,
        &[
            ("title", &title),
            ("conversation_id", conversation.id.as_str()),
            ("customer", &requester.display_name),
            ("rule", &rule.name),
        ],
    );
    let priority =
        rule.priority.or_else(|| esc.priority_map.get(&conversation.priority).copied()).or(esc.default_priority);
    let mut custom_fields = BTreeMap::new();
    if let Some(field) = config.zendesk.conversation_field_id {
        custom_fields.insert(field, FieldValue::Text(conversation.id.to_string()));
    }
    NewTicket {
        subject: truncate_chars(&subject, 250),
        comment: TicketComment {
            id: None,
            html_body: transcript_html(conversation, bot, &rule.name, files),
            public: false,
            author_id: None,
            created_at: None,
            uploads: Vec::new(),
            attachments: Vec::new(),
        },
        requester_id: requester.user_id,
        organization_id: requester.organization_id,
        priority,
        group_id: rule.group_id,
        tags: ticket_tags(esc, rule, conversation),
        external_id: Some(external_id(config, &conversation.id)),
        custom_fields,
        followup_source_id: None,
    }
}

fn first_line_of_opening(c: &Conversation) -> Option<String> {
    let opening = c.parts.iter().find(|p| p.kind == PartKind::Opening)?;
    let text = html_to_text(opening.body.as_deref()?);
    let line = text.lines().find(|l| !l.trim().is_empty())?.trim().to_string();
    Some(truncate_chars(&line, 80))
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Tags for the ticket: the config's, the rule's, and the conversation's (mapped, or slugged
/// when `copy_unmapped_tags`), de-duplicated, in a stable order.
pub fn ticket_tags(esc: &EscalationConfig, rule: &EscalationRule, c: &Conversation) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut push = |t: String| {
        let t = slug(&t);
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    };
    esc.tags.iter().cloned().for_each(&mut push);
    rule.tags.iter().cloned().for_each(&mut push);
    for tag in &c.tags {
        let mapped = esc.tag_map.iter().find(|(k, _)| k.eq_ignore_ascii_case(tag)).map(|(_, v)| v.clone());
        match mapped {
            Some(m) => push(m),
            None if esc.copy_unmapped_tags => push(tag.clone()),
            None => {}
        }
    }
    tags
}

/// Whether a part belongs in the transcript: messages and notes with content, not the bridge's
/// own notes.
pub fn is_transcript_part(p: &Part, bot: &AdminId) -> bool {
    let has_content = p.body.as_deref().is_some_and(|b| !html_to_text(b).is_empty()) || !p.attachments.is_empty();
    let is_message = matches!(p.kind, PartKind::Opening | PartKind::Comment | PartKind::Note);
    is_message && has_content && !is_own(p, bot)
}

/// True when the bridge itself wrote the part.
pub fn is_own(p: &Part, bot: &AdminId) -> bool {
    p.author.role == AuthorRole::Admin && p.author.id.as_deref() == Some(bot.as_str())
}

/// The transcript as HTML: one block per message (author, role, time, text, its files) and a
/// completeness line (parts included / parts in the conversation).
pub fn transcript_html(c: &Conversation, bot: &AdminId, rule: &str, files: Option<&PartFiles>) -> String {
    let included: Vec<&Part> = c.parts.iter().filter(|p| is_transcript_part(p, bot)).collect();
    let mut html = String::new();
    html.push_str(&format!(
        "<p><strong>Escalated from Intercom conversation {}</strong> (rule: {})</p>\n",
        escape_html(c.id.as_str()),
        escape_html(rule)
    ));
    for p in &included {
        html.push_str(&part_html(p, files.map(|f| f.get(&p.id))));
    }
    let total = c.parts_total.max(c.parts.len());
    let mut line = format!(
        "Transcript: {} messages included; {} of {} conversation parts retrieved.",
        included.len(),
        c.parts.len(),
        total
    );
    if total > c.parts.len() {
        line.push_str(&format!(
            " Intercom returned only the most recent parts: {} earlier parts are not included; see the conversation in Intercom.",
            total - c.parts.len()
        ));
    }
    html.push_str(&format!("<p><em>{}</em></p>", escape_html(&line)));
    html
}

/// One message as an HTML block (also used for follow-up comments). `files`: what became of its
/// files (`Some(None)`: it had none to carry); `None` links them to Intercom's URLs.
pub fn part_html(p: &Part, files: Option<Option<&FileReport>>) -> String {
    let who = p.author.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "Unknown".into());
    let mut role = p.author.role.label().to_string();
    if p.kind == PartKind::Note {
        role.push_str(", internal note");
    }
    let mut html = format!(
        "<p><strong>{}</strong> ({}) &middot; {}</p>\n",
        escape_html(&who),
        escape_html(&role),
        escape_html(&p.created_at.to_rfc3339())
    );
    let text = html_to_text(p.body.as_deref().unwrap_or(""));
    if !text.is_empty() {
        html.push_str("<p>");
        html.push_str(&escape_html(&text).replace('\n', "<br>"));
        html.push_str("</p>\n");
    }
    if let Some(report) = files {
        html.push_str(&report.map(FileReport::html).unwrap_or_default());
    } else if !p.attachments.is_empty() {
        html.push_str("<ul>");
        for a in &p.attachments {
            html.push_str(&format!("<li><a href=\"{}\">{}</a></li>", escape_html(&a.url), escape_html(&a.name)));
        }
        html.push_str("</ul>\n");
    }
    html
}

/// Marker text appended to follow-up comments so a retry can see the part was already copied.
pub fn part_marker(part: &crate::ids::PartId) -> String {
    format!("[intercom part {part}]")
}

/// What to do with a part of an already escalated conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUp {
    /// Add as a public comment authored by the requester.
    PublicReply,
    /// A teammate's reply to the customer: a public comment authored by the Zendesk agent with
    /// the same email, else by the API user (the part names its author).
    AgentReply,
    /// Add as an internal note (authored like [`FollowUp::AgentReply`]).
    InternalNote,
}

/// Decides whether a later part is appended to the ticket, and how: customer replies always,
/// teammates' replies and notes as `esc` says (`append_admin_replies`, `append_admin_notes`).
/// Our own parts, bot and system parts are skipped.
pub fn follow_up_for(p: &Part, bot: &AdminId, esc: &EscalationConfig) -> Option<FollowUp> {
    if is_own(p, bot) || !is_transcript_part(p, bot) {
        return None;
    }
    match (&p.kind, p.author.role) {
        (PartKind::Comment | PartKind::Opening, r) if r.is_customer() => Some(FollowUp::PublicReply),
        (PartKind::Comment, AuthorRole::Admin) if esc.append_admin_replies => Some(FollowUp::AgentReply),
        (PartKind::Note, AuthorRole::Admin) if esc.append_admin_notes => Some(FollowUp::InternalNote),
        _ => None,
    }
}

/// What the linked ticket should become after a change of the escalated conversation, as
/// `esc` configures it (`sync_priority`, `on_close`, `on_reopen`); `None` when nothing differs.
/// Only the change the event names is mirrored (`conversation.priority.updated`,
/// `conversation.admin.closed`, `conversation.admin.opened`); a closed ticket takes no change.
pub fn mirrored_change(esc: &EscalationConfig, topic: &str, c: &Conversation, ticket: &Ticket) -> Option<TicketUpdate> {
    if ticket.status == TicketStatus::Closed {
        return None;
    }
    let mut update = TicketUpdate::default();
    match topic {
        "conversation.priority.updated" if esc.sync_priority => {
            update.priority = esc.priority_map.get(&c.priority).copied().filter(|p| ticket.priority != Some(*p));
        }
        "conversation.admin.closed" => update.status = esc.on_close.filter(|s| *s != ticket.status),
        "conversation.admin.opened" => update.status = esc.on_reopen.filter(|s| *s != ticket.status),
        _ => {}
    }
    (update.priority.is_some() || update.status.is_some()).then_some(update)
}

/// The Zendesk external id of the end user made for an Intercom lead or visitor that has
/// neither email nor external id: the same person is found again by it.
pub fn visitor_external_id(contact: &crate::ids::ContactId) -> String {
    format!("intercom-contact-{contact}")
}

/// The name of such an end user when the contact has none: "Visitor" and a short id.
pub fn visitor_name(contact: &crate::ids::ContactId) -> String {
    let id = contact.as_str();
    let short = id.char_indices().rev().nth(5).map_or(id, |(i, _)| &id[i..]);
    format!("Visitor {short}")
}

/// Default priority when nothing maps.
pub fn fallback_priority() -> TicketPriority {
    TicketPriority::Normal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ContactId, PartId, TeamId};
    use crate::model::{Author, ConversationPriority, ConversationState};

    fn part(id: &str, kind: PartKind, role: AuthorRole, author_id: &str, body: &str, at: i64) -> Part {
        Part {
            id: PartId::parse(id).unwrap(),
            kind,
            author: Author { role, id: Some(author_id.into()), name: Some(format!("N{author_id}")), email: None },
            body: Some(body.into()),
            created_at: Timestamp(at),
            attachments: vec![],
            app_package_code: None,
        }
    }

    fn conv() -> Conversation {
        Conversation {
            id: ConversationId::parse("100").unwrap(),
            title: None,
            created_at: Timestamp(1000),
            updated_at: Timestamp(1000),
            waiting_since: None,
            state: ConversationState::Open,
            priority: ConversationPriority::None,
            admin_assignee: None,
            team_assignee: None,
            contacts: vec![ContactId::parse("c1").unwrap()],
            tags: vec![],
            attributes: BTreeMap::new(),
            parts: vec![part("s", PartKind::Opening, AuthorRole::User, "c1", "<p>My invoice is wrong</p>", 1000)],
            parts_total: 1,
        }
    }

    fn config(rules: &str) -> Config {
        Config::from_yaml(&format!("version: 1\nintercom: {{ bot_admin_id: '9' }}\nescalation:\n  rules:\n{rules}"))
            .unwrap()
    }

    #[test]
    fn tag_rule_needs_the_tag_on_the_conversation() {
        let cfg = config("    - { name: t, when: { tag_added: Escalate } }\n");
        let esc = cfg.escalation.as_ref().unwrap();
        let mut c = conv();
        assert!(matching_rule(&c, esc, Timestamp(2000)).is_none());
        c.tags.push("escalate".into());
        assert_eq!(matching_rule(&c, esc, Timestamp(2000)).map(|r| r.name.as_str()), Some("t"));
    }

    #[test]
    fn team_rule_matches_current_assignee() {
        let cfg = config("    - { name: inbox, when: { assigned_to_team: ['77'] } }\n");
        let esc = cfg.escalation.as_ref().unwrap();
        let mut c = conv();
        c.team_assignee = Some(TeamId::parse("78").unwrap());
        assert!(matching_rule(&c, esc, Timestamp(2000)).is_none());
        c.team_assignee = Some(TeamId::parse("77").unwrap());
        assert!(matching_rule(&c, esc, Timestamp(2000)).is_some());
    }

    #[test]
    fn keyword_rule_reads_customer_messages_only() {
        let cfg = config("    - { name: k, when: { keyword: [refund] } }\n");
        let esc = cfg.escalation.as_ref().unwrap();
        let mut c = conv();
        c.parts.push(part("a1", PartKind::Comment, AuthorRole::Admin, "5", "No refund possible", 1100));
        assert!(matching_rule(&c, esc, Timestamp(2000)).is_none());
        c.parts.push(part("u1", PartKind::Comment, AuthorRole::User, "c1", "I want a <b>refund</b>", 1200));
        assert!(matching_rule(&c, esc, Timestamp(2000)).is_some());
    }

    #[test]
    fn threshold_counts_unanswered_messages_and_waiting_time() {
        let cfg = config("    - { name: w, when: { threshold: { customer_replies: 3, waiting_minutes: 10 } } }\n");
        let esc = cfg.escalation.as_ref().unwrap();
        let mut c = conv();
        c.parts.push(part("a1", PartKind::Comment, AuthorRole::Admin, "5", "hi", 1100));
        c.parts.push(part("u1", PartKind::Comment, AuthorRole::User, "c1", "1", 1200));
        c.parts.push(part("u2", PartKind::Comment, AuthorRole::User, "c1", "2", 1300));
        assert_eq!(unanswered_customer_messages(&c), 2);
        assert!(matching_rule(&c, esc, Timestamp(1200 + 3600)).is_none());
        c.parts.push(part("u3", PartKind::Comment, AuthorRole::User, "c1", "3", 1400));
        assert!(matching_rule(&c, esc, Timestamp(1200 + 599)).is_none(), "not waiting long enough");
        assert!(matching_rule(&c, esc, Timestamp(1200 + 600)).is_some());
    }

    #[test]
    fn priority_threshold() {
        let cfg = config("    - { name: p, when: { threshold: { priority_at_least: high } } }\n");
        let esc = cfg.escalation.as_ref().unwrap();
        let mut c = conv();
        c.priority = ConversationPriority::Medium;
        assert!(matching_rule(&c, esc, Timestamp(2000)).is_none());
        c.priority = ConversationPriority::Urgent;
        assert!(matching_rule(&c, esc, Timestamp(2000)).is_some());
    }

    #[test]
    fn ticket_has_mapped_priority_tags_and_external_id() {
        let cfg = config(
            "    - { name: t, when: { tag_added: escalate }, group_id: 12, tags: [tier2] }\n  tags: [intercom]\n  tag_map: { escalate: escalated }\n",
        );
        let esc = cfg.escalation.as_ref().unwrap();
        let mut c = conv();
        c.tags = vec!["escalate".into(), "VIP".into()];
        c.priority = ConversationPriority::High;
        let req = Requester { user_id: UserId::new(5).unwrap(), organization_id: None, display_name: "Ada".into() };
        let t = build_ticket(&cfg, esc, &esc.rules[0], &c, &req, &AdminId::parse("9").unwrap(), None);
        assert_eq!(t.priority, Some(TicketPriority::High));
        assert_eq!(t.tags, vec!["intercom", "tier2", "escalated"]);
        assert_eq!(t.external_id.as_deref(), Some("intercom-conversation-100"));
        assert_eq!(t.subject, "My invoice is wrong");
        assert_eq!(t.group_id.map(|g| g.get()), Some(12));
    }

    #[test]
    fn transcript_skips_own_notes_and_reports_truncation() {
        let mut c = conv();
        c.parts.push(part("n1", PartKind::Note, AuthorRole::Admin, "9", "Escalated to Zendesk", 1100));
        c.parts.push(part("n2", PartKind::Note, AuthorRole::Admin, "5", "VIP &lt;customer&gt;", 1200));
        c.parts_total = 603;
        let html = transcript_html(&c, &AdminId::parse("9").unwrap(), "r", None);
        assert!(!html.contains("Escalated to Zendesk"));
        assert!(html.contains("VIP &lt;customer&gt;"));
        assert!(html.contains("internal note"));
        assert!(html.contains("2 messages included; 3 of 603 conversation parts retrieved"), "{html}");
        assert!(html.contains("600 earlier parts are not included"));
    }

    #[test]
    fn complete_transcript_has_no_truncation_line() {
        let c = conv();
        let html = transcript_html(&c, &AdminId::parse("9").unwrap(), "r", None);
        assert!(html.contains("1 messages included; 1 of 1 conversation parts retrieved."));
        assert!(!html.contains("not included"));
    }

    #[test]
    fn carried_files_are_named_in_the_transcript_instead_of_linked() {
        let mut c = conv();
        let file = |name: &str| crate::model::Attachment {
            name: name.into(),
            url: format!("https://cdn.example/{name}?sig=1"),
            content_type: None,
            size: None,
        };
        c.parts[0].attachments = vec![file("shot.png"), file("report.zip")];
        let bot = AdminId::parse("9").unwrap();
        let linked = transcript_html(&c, &bot, "r", None);
        assert!(linked.contains("https://cdn.example/shot.png"), "off: links as before");
        let report = crate::attachments::FileReport {
            attached: vec!["shot.png".into()],
            skipped: vec![crate::attachments::Skipped {
                name: "report.zip".into(),
                reason: crate::attachments::SkipReason::TooLarge {
                    size: 62 * crate::attachments::MB,
                    limit: 20 * crate::attachments::MB,
                },
            }],
        };
        let files = PartFiles::from([(c.parts[0].id.clone(), report)]);
        let html = transcript_html(&c, &bot, "r", Some(&files));
        assert!(!html.contains("cdn.example"), "no expiring link: {html}");
        assert!(html.contains("Attached: shot.png"), "{html}");
        assert!(html.contains("Not attached: report.zip (62 MB, over the 20 MB limit)"), "{html}");
    }

    #[test]
    fn follow_ups_skip_our_own_notes() {
        let bot = AdminId::parse("9").unwrap();
        let own = part("n1", PartKind::Note, AuthorRole::Admin, "9", "ours", 1);
        let theirs = part("n2", PartKind::Note, AuthorRole::Admin, "5", "theirs", 1);
        let reply = part("u1", PartKind::Comment, AuthorRole::User, "c1", "hello", 1);
        let admin_reply = part("a1", PartKind::Comment, AuthorRole::Admin, "5", "hi", 1);
        let esc: EscalationConfig = serde_norway::from_str("rules: [{ name: t, when: { tag_added: x } }]").unwrap();
        assert_eq!(follow_up_for(&own, &bot, &esc), None);
        assert_eq!(follow_up_for(&theirs, &bot, &esc), Some(FollowUp::InternalNote));
        assert_eq!(follow_up_for(&reply, &bot, &esc), Some(FollowUp::PublicReply));
        assert_eq!(follow_up_for(&admin_reply, &bot, &esc), Some(FollowUp::AgentReply));
        let quiet: EscalationConfig = serde_norway::from_str(
            "rules: [{ name: t, when: { tag_added: x } }]\nappend_admin_replies: false\nappend_admin_notes: false",
        )
        .unwrap();
        assert_eq!(follow_up_for(&theirs, &bot, &quiet), None);
        assert_eq!(follow_up_for(&admin_reply, &bot, &quiet), None);
        assert_eq!(follow_up_for(&reply, &bot, &quiet), Some(FollowUp::PublicReply));
    }

    #[test]
    fn a_priority_change_close_or_reopen_is_mirrored_only_as_configured() {
        let esc: EscalationConfig = serde_norway::from_str(
            "rules: [{ name: t, when: { tag_added: x } }]\nsync_priority: true\non_close: solved\non_reopen: open",
        )
        .unwrap();
        let mut c = conv();
        c.priority = ConversationPriority::Urgent;
        let ticket = |status: TicketStatus, priority: Option<TicketPriority>| Ticket {
            id: crate::ids::TicketId::new(5).unwrap(),
            subject: None,
            status,
            priority,
            requester_id: None,
            assignee_id: None,
            group_id: None,
            organization_id: None,
            tags: vec![],
            external_id: None,
            via_channel: None,
            followup_source_id: None,
            custom_fields: Default::default(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let open = ticket(TicketStatus::Open, Some(TicketPriority::Normal));
        let change = mirrored_change(&esc, "conversation.priority.updated", &c, &open).unwrap();
        assert_eq!((change.priority, change.status), (Some(TicketPriority::Urgent), None));
        let urgent = ticket(TicketStatus::Open, Some(TicketPriority::Urgent));
        assert!(mirrored_change(&esc, "conversation.priority.updated", &c, &urgent).is_none(), "already so");
        let change = mirrored_change(&esc, "conversation.admin.closed", &c, &open).unwrap();
        assert_eq!(change.status, Some(TicketStatus::Solved));
        let solved = ticket(TicketStatus::Solved, None);
        assert_eq!(
            mirrored_change(&esc, "conversation.admin.opened", &c, &solved).unwrap().status,
            Some(TicketStatus::Open)
        );
        assert!(mirrored_change(&esc, "conversation.admin.closed", &c, &ticket(TicketStatus::Closed, None)).is_none());
        let off: EscalationConfig = serde_norway::from_str("rules: [{ name: t, when: { tag_added: x } }]").unwrap();
        for topic in ["conversation.priority.updated", "conversation.admin.closed", "conversation.admin.opened"] {
            assert!(mirrored_change(&off, topic, &c, &open).is_none(), "{topic}: every mapping is optional");
        }
    }
}
