//! The bridge's configuration: one YAML file with the rules and mappings of every job.
//!
//! Parse errors name the line, the column and the field path; semantic checks name the field
//! path. The file is validated once at cold start; a bad file fails the start, not a request.
//!
//! Dependencies point one way: this module assembles the sections each job module defines and
//! checks (`status`, `tags`, `intake`, `csat`, `profiles`, `erasure`) and those modules never use
//! this one back. What both sides need sits lower: [`ConfigError`] in `crate::error`, the
//! vendor settings in `crate::settings` (both re-exported here). Job 1's section stays here:
//! `escalation` takes the whole [`Config`] and sits above this module.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::error::ConfigError;
use crate::ids::{AdminId, GroupId, TeamId};
use crate::model::{ConversationPriority, TicketPriority};
pub use crate::settings::{IntercomSettings, ZendeskSettings};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version; only 1 exists.
    pub version: u32,
    /// Intercom-side settings.
    pub intercom: IntercomSettings,
    /// Zendesk-side settings.
    #[serde(default)]
    pub zendesk: ZendeskSettings,
    /// Job 1: escalation rules.
    #[serde(default)]
    pub escalation: Option<EscalationConfig>,
    /// Job 3: Zendesk ticket status and comments back to Intercom.
    #[serde(default)]
    pub ticket_status: Option<crate::status::TicketStatusConfig>,
    /// Job 4: shared tags.
    #[serde(default)]
    pub tag_sync: Option<crate::tags::TagSyncConfig>,
    /// Jobs in shadow mode: they compute and log the actions they would take and write nothing
    /// to the vendors (nor to the store).
    #[serde(default)]
    pub shadow: Vec<crate::job::JobKind>,
    /// Job 6: routing of new Zendesk tickets by the requester's Intercom profile.
    #[serde(default)]
    pub routing: Option<crate::intake::RoutingConfig>,
    /// Job 5: acknowledging new Zendesk tickets with a proactive Intercom message.
    #[serde(default)]
    pub acknowledgement: Option<crate::intake::AckConfig>,
    /// Job 7: CSAT, volume and resolution reporting.
    #[serde(default)]
    pub reporting: Option<crate::csat::ReportingConfig>,
    /// Job 2: two-way profile sync (contacts <-> users, companies <-> organizations).
    #[serde(default)]
    pub profiles: Option<crate::profiles::ProfilesConfig>,
    /// GDPR erasure: what a person's deletion on one side does on the other.
    #[serde(default)]
    pub erasure: Option<crate::erasure::ErasureConfig>,
    /// The repair sweeps of jobs 1 and 3 to 6 (on by default).
    #[serde(default)]
    pub sweeps: crate::sweep::SweepsConfig,
}

/// Job 1: when and how to escalate a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// Rules, first match wins.
    pub rules: Vec<EscalationRule>,
    /// Intercom priority -> Zendesk priority.
    #[serde(default = "default_priority_map")]
    pub priority_map: BTreeMap<ConversationPriority, TicketPriority>,
    /// Priority when the map has no entry.
    #[serde(default)]
    pub default_priority: Option<TicketPriority>,
    /// Ticket subject; `{title}`, `{conversation_id}`, `{customer}` are replaced.
    #[serde(default = "default_subject")]
    pub subject_template: String,
    /// Tags put on every escalated ticket.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Intercom tag name -> Zendesk tag, for the conversation's tags copied onto the ticket.
    /// Tags not in the map are copied as a normalised slug when `copy_unmapped_tags` is true.
    #[serde(default)]
    pub tag_map: BTreeMap<String, String>,
    /// Copy unmapped conversation tags as slugs.
    #[serde(default)]
    pub copy_unmapped_tags: bool,
    /// Append later parts of the conversation to the ticket (customer replies always; the
    /// two switches below for teammates' parts).
    #[serde(default = "yes")]
    pub append_followups: bool,
    /// Teammates' replies become public ticket comments, authored by the Zendesk agent with
    /// the same email when there is one.
    #[serde(default = "yes")]
    pub append_admin_replies: bool,
    /// Teammates' notes become internal ticket notes.
    #[serde(default = "yes")]
    pub append_admin_notes: bool,
    /// After the escalation, a priority change of the conversation sets the ticket's priority
    /// (through `priority_map`).
    #[serde(default)]
    pub sync_priority: bool,
    /// The ticket status a teammate's close of the conversation sets (`solved`, `pending`, ...).
    #[serde(default)]
    pub on_close: Option<crate::model::TicketStatus>,
    /// The ticket status a reopen of the conversation sets (`open`).
    #[serde(default)]
    pub on_reopen: Option<crate::model::TicketStatus>,
    /// Text of the internal note written on the conversation; `{ticket_id}` and `{ticket_url}`
    /// are replaced.
    #[serde(default = "default_note")]
    pub note_template: String,
    /// The files of the conversation's messages: uploaded to the ticket's comments, within a
    /// size limit; files left out are named in the comment.
    #[serde(default)]
    pub attachments: crate::attachments::ToZendeskAttachments,
}

fn yes() -> bool {
    true
}

fn default_subject() -> String {
    "{title}".into()
}

fn default_note() -> String {
    "Escalated to Zendesk ticket #{ticket_id}: {ticket_url}".into()
}

fn default_priority_map() -> BTreeMap<ConversationPriority, TicketPriority> {
    BTreeMap::from([
        (ConversationPriority::Urgent, TicketPriority::Urgent),
        (ConversationPriority::High, TicketPriority::High),
        (ConversationPriority::Medium, TicketPriority::Normal),
        (ConversationPriority::Low, TicketPriority::Low),
    ])
}

/// One escalation rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRule {
    /// Name, shown in logs and on the ticket.
    pub name: String,
    /// The condition.
    pub when: Trigger,
    /// Zendesk group for the ticket.
    #[serde(default)]
    pub group_id: Option<GroupId>,
    /// Priority override for this rule.
    #[serde(default)]
    pub priority: Option<TicketPriority>,
    /// Extra tags for this rule.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// What makes a conversation escalate. Exactly one field is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// A tag with this name (case-insensitive) was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_added: Option<String>,
    /// Assigned to one of these teams (inboxes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assigned_to_team: Vec<TeamId>,
    /// Assigned to one of these admins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assigned_to_admin: Vec<AdminId>,
    /// A customer message contains one of these words (case-insensitive, whole words).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keyword: Vec<String>,
    /// Customer waits: all the set limits must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
}

impl Trigger {
    fn count_set(&self) -> usize {
        usize::from(self.tag_added.is_some())
            + usize::from(!self.assigned_to_team.is_empty())
            + usize::from(!self.assigned_to_admin.is_empty())
            + usize::from(!self.keyword.is_empty())
            + usize::from(self.threshold.is_some())
    }
}

/// Threshold condition; every field set must be reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// At least this many customer messages since the last admin reply.
    #[serde(default)]
    pub customer_replies: Option<u32>,
    /// Waiting for at least this many minutes.
    #[serde(default)]
    pub waiting_minutes: Option<u32>,
    /// Priority at least this.
    #[serde(default)]
    pub priority_at_least: Option<ConversationPriority>,
}

impl Config {
    /// Parses and validates YAML text.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let de = serde_norway::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let loc = inner.location().map(|l| (l.line(), l.column()));
            let loc = loc.map(|(line, column)| refine_location(text, line, column, &field));
            let message = clean_message(&inner.to_string(), &field);
            ConfigError::new(field, message).at(loc.map(|l| l.0), loc.map(|l| l.1))
        })?;
        config.validate()?;
        Ok(config)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.version != 1 {
            return Err(ConfigError::new("version", format!("unsupported version {}; expected 1", self.version)));
        }
        if self.intercom.ticket_id_attribute.trim().is_empty() {
            return Err(ConfigError::new("intercom.ticket_id_attribute", "must not be empty"));
        }
        if let Some(esc) = &self.escalation {
            if esc.rules.is_empty() {
                return Err(ConfigError::new("escalation.rules", "at least one rule is needed"));
            }
            esc.attachments.validate("escalation.attachments")?;
            for (field, status) in [("on_close", esc.on_close), ("on_reopen", esc.on_reopen)] {
                if status == Some(crate::model::TicketStatus::New) {
                    return Err(ConfigError::new(
                        format!("escalation.{field}"),
                        "a ticket cannot be set back to new; use open, pending, hold or solved",
                    ));
                }
            }
            for (i, rule) in esc.rules.iter().enumerate() {
                let at = |f: &str| format!("escalation.rules[{i}].{f}");
                if rule.name.trim().is_empty() {
                    return Err(ConfigError::new(at("name"), "must not be empty"));
                }
                let when = &rule.when;
                if when.count_set() != 1 {
                    return Err(ConfigError::new(
                        at("when"),
                        "set exactly one of tag_added, assigned_to_team, assigned_to_admin, keyword, threshold",
                    ));
                }
                if when.tag_added.as_deref().is_some_and(|t| t.trim().is_empty()) {
                    return Err(ConfigError::new(at("when.tag_added"), "must not be empty"));
                }
                if when.keyword.iter().any(|k| k.trim().is_empty()) {
                    return Err(ConfigError::new(at("when.keyword"), "keywords must not be empty"));
                }
                if let Some(t) = &when.threshold
                    && t.customer_replies.is_none()
                    && t.waiting_minutes.is_none()
                    && t.priority_at_least.is_none()
                {
                    return Err(ConfigError::new(
                        at("when.threshold"),
                        "set at least one of customer_replies, waiting_minutes, priority_at_least",
                    ));
                }
            }
            if esc.subject_template.trim().is_empty() {
                return Err(ConfigError::new("escalation.subject_template", "must not be empty"));
            }
        }
        if let Some(ts) = &self.ticket_status {
            ts.validate()?;
        }
        if let Some(tags) = &self.tag_sync {
            tags.validate()?;
        }
        crate::intake::validate(self.routing.as_ref(), self.acknowledgement.as_ref())?;
        if let Some((field, message)) = self.reporting.as_ref().and_then(crate::csat::ReportingConfig::problems) {
            return Err(ConfigError::new(field, message));
        }
        if let Some(profiles) = &self.profiles {
            profiles.validate()?;
        }
        self.sweeps.validate()
    }
}

/// serde_norway reports errors raised while converting a value (an id that does not parse) at the
/// start of the enclosing mapping. Move the location to the line of the field's own key when
/// that key appears at or after the reported line.
fn refine_location(text: &str, line: usize, column: usize, field: &str) -> (usize, usize) {
    let key = field.rsplit('.').next().unwrap_or("");
    let key = key.split('[').next().unwrap_or("");
    if key.is_empty() || key == "?" {
        return (line, column);
    }
    let needle = format!("{key}:");
    for (i, l) in text.lines().enumerate().skip(line.saturating_sub(1)) {
        let trimmed = l.trim_start().trim_start_matches("- ");
        if trimmed.starts_with(&needle) {
            let col = l.len() - l.trim_start().len() + 1;
            return (i + 1, col);
        }
        if i + 1 > line && !l.starts_with(' ') && !l.trim().is_empty() {
            break;
        }
    }
    (line, column)
}

/// serde_norway prefixes the path and appends " at line X column Y"; both are reported
/// separately.
pub(crate) fn clean_message(msg: &str, field: &str) -> String {
    let mut msg = msg.strip_prefix(field).and_then(|m| m.strip_prefix(": ")).unwrap_or(msg);
    // Conversion errors carry the enclosing mapping's path instead.
    if let Some((prefix, rest)) = msg.split_once(": ")
        && field.starts_with(prefix)
        && !prefix.contains(' ')
    {
        msg = rest;
    }
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

mod merge;

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
version: 1
intercom:
  bot_admin_id: "991"
escalation:
  rules:
    - name: tagged
      when: { tag_added: escalate }
      group_id: 42
    - name: waiting
      when:
        threshold: { customer_replies: 3, waiting_minutes: 30 }
"#;

    #[test]
    fn parses_a_good_file_with_defaults() {
        let c = Config::from_yaml(GOOD).unwrap();
        let esc = c.escalation.unwrap();
        assert_eq!(esc.rules.len(), 2);
        assert_eq!(esc.priority_map.get(&ConversationPriority::High), Some(&TicketPriority::High));
        assert_eq!(c.intercom.ticket_id_attribute, "zendesk_ticket_id");
        assert!(esc.append_followups);
    }

    #[test]
    fn type_error_names_line_and_field() {
        let bad = GOOD.replace("group_id: 42", "group_id: forty-two");
        let e = Config::from_yaml(&bad).unwrap_err();
        assert_eq!(e.line, Some(9), "{e}");
        assert_eq!(e.field, "escalation.rules[0].group_id");
        assert!(e.to_string().starts_with("line 9, column"), "{e}");
    }

    #[test]
    fn unknown_field_is_refused_with_its_line() {
        let bad = GOOD.replace("      group_id: 42", "      grup_id: 42");
        let e = Config::from_yaml(&bad).unwrap_err();
        assert_eq!(e.line, Some(9), "{e}");
        assert!(e.message.contains("grup_id"), "{e}");
    }

    #[test]
    fn empty_threshold_is_refused_by_path() {
        let bad = GOOD.replace("threshold: { customer_replies: 3, waiting_minutes: 30 }", "threshold: {}");
        let e = Config::from_yaml(&bad).unwrap_err();
        assert_eq!(e.field, "escalation.rules[1].when.threshold");
    }

    #[test]
    fn missing_bot_admin_is_named() {
        let e = Config::from_yaml("version: 1\nintercom: {}\n").unwrap_err();
        assert!(e.to_string().contains("bot_admin_id"), "{e}");
    }
}
