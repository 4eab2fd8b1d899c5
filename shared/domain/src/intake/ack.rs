//! Job 5: acknowledging a new Zendesk ticket with a proactive Intercom message.
//!
//! A proactive Intercom message goes to the requester when the
//! ticket arrived through one of `acknowledgement.channels` (`via.channel`), the requester is a
//! known Intercom user (or a lead, when `allow_leads`), and the bridge did not create the ticket
//! itself (escalations). The text carries the ticket reference, the subject and the SLA for the
//! customer's plan: the ticket's own SLA policy target when Zendesk applied one, otherwise the
//! configured text for the plan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Lookup;
use crate::error::ConfigError;
use crate::ids::AdminId;
use crate::model::{MessageChannel, OutboundMessage, SlaTarget, Ticket, Timestamp};
use crate::text::{escape_html, render};

/// `acknowledgement:` — job 5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckConfig {
    /// Ticket channels (`via.channel`) that are acknowledged, e.g. `[web, email]`.
    pub channels: Vec<String>,
    /// `email` or `in_app`.
    #[serde(default = "default_message_type")]
    pub message_type: MessageChannel,
    /// Sending admin; the bridge's admin when unset.
    #[serde(default)]
    pub from_admin_id: Option<AdminId>,
    /// Also acknowledge requesters who are Intercom leads.
    #[serde(default)]
    pub allow_leads: bool,
    /// Email subject; `{ticket_id}`, `{subject}` are replaced.
    #[serde(default = "default_ack_subject")]
    pub subject_template: String,
    /// Body; `{ticket_id}`, `{subject}`, `{sla}`, `{plan}` are replaced (values HTML-escaped).
    #[serde(default = "default_ack_body")]
    pub body_template: String,
    /// SLA texts.
    #[serde(default)]
    pub sla: SlaTexts,
}

fn default_message_type() -> MessageChannel {
    MessageChannel::Email
}
fn default_ack_subject() -> String {
    "We received your request #{ticket_id}".into()
}
fn default_ack_body() -> String {
    "Thanks for contacting us. Your request #{ticket_id} \"{subject}\" has been received; we will reply {sla}.".into()
}

/// The SLA wording per plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTexts {
    /// Plan name (case-insensitive) -> text, e.g. `enterprise: within 1 hour`.
    #[serde(default)]
    pub plans: BTreeMap<String, String>,
    /// Text for other plans and unknown plans.
    #[serde(default = "default_sla")]
    pub default: String,
    /// Text when Zendesk applied an SLA policy; `{target}` (e.g. `2 hours`) and `{due}`
    /// (UTC time) are replaced.
    #[serde(default = "default_policy_sla")]
    pub policy_template: String,
}

impl Default for SlaTexts {
    fn default() -> Self {
        Self { plans: BTreeMap::new(), default: default_sla(), policy_template: default_policy_sla() }
    }
}

fn default_sla() -> String {
    "within one business day".into()
}
fn default_policy_sla() -> String {
    "within {target} (by {due})".into()
}

impl AckConfig {
    /// Checks the section; errors name the field path (`acknowledgement.channels[0]`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.channels.is_empty() {
            return Err(ConfigError::new("acknowledgement.channels", "list at least one channel (web, email, …)"));
        }
        for (i, c) in self.channels.iter().enumerate() {
            if c.trim().is_empty() {
                return Err(ConfigError::new(format!("acknowledgement.channels[{i}]"), "must not be empty"));
            }
        }
        if self.body_template.trim().is_empty() {
            return Err(ConfigError::new("acknowledgement.body_template", "must not be empty"));
        }
        if self.message_type == MessageChannel::Email && self.subject_template.trim().is_empty() {
            return Err(ConfigError::new("acknowledgement.subject_template", "email messages need a subject"));
        }
        Ok(())
    }
}

/// `via.channel` in one spelling: REST `web`/`email`/`api`, event payloads `web_form`/`mail`/
/// `web_service`, trigger text `Web form`/`Mail`/`Web Service`.
pub fn normalize_channel(raw: &str) -> String {
    let c = raw.trim().to_lowercase().replace([' ', '-'], "_");
    match c.as_str() {
        "web_form" | "webform" => "web".into(),
        "mail" => "email".into(),
        "web_service" | "api" => "api".into(),
        _ => c,
    }
}

/// The acknowledgement decision.
#[derive(Debug, Clone, PartialEq)]
pub enum AckDecision {
    /// Send this message.
    Send(OutboundMessage),
    /// Do not acknowledge, and why (ids only).
    Skip(String),
}

/// What the acknowledgement rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct AckFacts<'a> {
    /// The ticket, as re-read from Zendesk.
    pub ticket: &'a Ticket,
    /// Why the bridge created it, if it did ([`bridge_origin`](super::bridge_origin)).
    pub bridge_origin: Option<&'static str>,
    /// The requester's profile.
    pub lookup: &'a Lookup,
    /// The customer's plan.
    pub plan: Option<&'a str>,
    /// The SLA target Zendesk applied, if any.
    pub sla: Option<&'a SlaTarget>,
}

/// "2 hours", "45 minutes", "1 day 3 hours".
pub fn describe_minutes(minutes: u64) -> String {
    let plural = |n: u64, w: &str| if n == 1 { format!("1 {w}") } else { format!("{n} {w}s") };
    let (d, h, m) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(plural(d, "day"));
    }
    if h > 0 {
        parts.push(plural(h, "hour"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(plural(m, "minute"));
    }
    parts.join(" ")
}

/// The SLA text for a customer: the ticket's policy target when Zendesk has one, else the
/// configured text for the plan, else the default text.
pub fn sla_text(texts: &SlaTexts, plan: Option<&str>, sla: Option<&SlaTarget>, created_at: Timestamp) -> String {
    if let Some(s) = sla {
        let due = s.breach_at.or_else(|| s.target_minutes.map(|m| created_at.plus((m as i64).saturating_mul(60))));
        let target = s
            .target_minutes
            .or_else(|| s.breach_at.map(|b| u64::try_from((b.0 - created_at.0).max(0) / 60).unwrap_or_default()));
        if let (Some(target), Some(due)) = (target, due) {
            let due = chrono::DateTime::from_timestamp(due.0, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| due.to_rfc3339());
            return render(&texts.policy_template, &[("target", &describe_minutes(target)), ("due", &due)]);
        }
    }
    plan.and_then(|p| texts.plans.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(p.trim())).map(|(_, v)| v))
        .cloned()
        .unwrap_or_else(|| texts.default.clone())
}

/// Decides whether and how to acknowledge a new ticket.
pub fn acknowledgement(facts: AckFacts<'_>, cfg: &AckConfig, bot: &AdminId) -> AckDecision {
    let t = facts.ticket;
    if let Some(why) = facts.bridge_origin {
        return AckDecision::Skip(format!("ticket {} was created by the bridge ({why})", t.id));
    }
    let channel = t.via_channel.as_deref().map(normalize_channel).unwrap_or_default();
    if !cfg.channels.iter().any(|c| normalize_channel(c) == channel) {
        return AckDecision::Skip(format!("ticket {} came by channel {channel:?}, not acknowledged", t.id));
    }
    let contact = match facts.lookup {
        Lookup::Found(p) => &p.contact,
        Lookup::NotFound => return AckDecision::Skip(format!("ticket {}: requester not in Intercom", t.id)),
        Lookup::Ambiguous(n) => {
            return AckDecision::Skip(format!("ticket {}: requester matches {n} Intercom contacts", t.id));
        }
    };
    if contact.role == "lead" && !cfg.allow_leads {
        return AckDecision::Skip(format!("ticket {}: requester {} is a lead", t.id, contact.id));
    }
    let subject = t.subject.clone().unwrap_or_default();
    let sla = sla_text(&cfg.sla, facts.plan, facts.sla, t.created_at);
    let id = t.id.to_string();
    let plan = facts.plan.unwrap_or("");
    let escaped = [
        ("ticket_id", escape_html(&id)),
        ("subject", escape_html(&subject)),
        ("sla", escape_html(&sla)),
        ("plan", escape_html(plan)),
    ];
    let values: Vec<(&str, &str)> = escaped.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = render(&escape_html(&cfg.body_template), &values);
    let body = body.split("\n\n").map(|p| format!("<p>{}</p>", p.trim())).collect::<String>();
    let subject_line = (cfg.message_type == MessageChannel::Email)
        .then(|| render(&cfg.subject_template, &[("ticket_id", &id), ("subject", &subject)]));
    AckDecision::Send(OutboundMessage {
        channel: cfg.message_type,
        from: cfg.from_admin_id.clone().unwrap_or_else(|| bot.clone()),
        to: contact.id.clone(),
        subject: subject_line,
        body,
    })
}
