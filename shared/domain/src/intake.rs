//! Jobs 5 and 6: what to do with a new Zendesk ticket, given what Intercom knows about its
//! requester.
//!
//! **Routing (job 6).** The requester's Intercom profile (plan, segments, contact tags and the
//! attributes of their company) is matched against `routing.rules`, first match wins; a rule
//! sets any of group, assignee, priority and tags. The rules are evaluated with three-valued
//! logic: every condition of a rule must hold; a condition that fails settles the rule as "no
//! match"; a condition that cannot be evaluated (the attribute is missing, or older than
//! `max_attribute_age_hours`) makes the outcome unknowable, so evaluation stops there and the
//! *default route, flagged* is applied. Flagged means the ticket also gets `flag_tag` and the
//! reason says what was missing. A requester not found in Intercom (or whose email matches
//! several contacts) also gets the flagged default route. No rule matching gives the default
//! route, unflagged.
//!
//! **Several companies.** A contact in several companies is routed on exactly one of them: the
//! company whose plan ranks highest in `plan_tiers` (listed highest first; plans not listed rank
//! below every listed plan); ties go to the higher monthly spend, then to the smaller Intercom
//! company id. The customer's *plan* is that company's plan, or, for a contact without a
//! company, the contact attribute `contact_plan_attribute`.
//!
//! **Acknowledgement (job 5).** A proactive Intercom message goes to the requester when the
//! ticket arrived through one of `acknowledgement.channels` (`via.channel`), the requester is a
//! known Intercom user (or a lead, when `allow_leads`), and the bridge did not create the ticket
//! itself (escalations). The text carries the ticket reference, the subject and the SLA for the
//! customer's plan: the ticket's own SLA policy target when Zendesk applied one, otherwise the
//! configured text for the plan.
//!
//! Nothing here does I/O; the `ticket-intake` job gathers the facts and performs the decisions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError, ZendeskSettings};
use crate::ids::{AdminId, CompanyId, GroupId, UserId};
use crate::model::{
    Company, Contact, FieldValue, MessageChannel, OutboundMessage, SlaTarget, Ticket, TicketPriority, Timestamp,
};
use crate::text::{escape_html, render};

// ------------------------------------------------------------------------------ configuration

/// `routing:` — job 6.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Rules, first match wins.
    #[serde(default)]
    pub rules: Vec<RouteRule>,
    /// The route when no rule matches, or (flagged) when the profile is incomplete.
    #[serde(default)]
    pub default: RouteAction,
    /// Plans from the highest tier down; decides which company counts for a contact in several.
    #[serde(default)]
    pub plan_tiers: Vec<String>,
    /// Tag added to tickets that got the default route because data was missing or stale.
    #[serde(default = "default_flag_tag")]
    pub flag_tag: String,
    /// Plan, health score and monthly spend older than this (by the `updated_at` of the company
    /// or contact carrying them) count as missing. None = no limit.
    #[serde(default)]
    pub max_attribute_age_hours: Option<u32>,
    /// Company custom attribute holding the health score.
    #[serde(default = "default_health_attribute")]
    pub health_score_attribute: String,
    /// Contact custom attribute holding the plan, for contacts without a company.
    #[serde(default = "default_plan_attribute")]
    pub contact_plan_attribute: String,
    /// Where the reason for the decision is written on the ticket.
    #[serde(default)]
    pub reason_to: ReasonTarget,
    /// The text ticket field receiving the reason when `reason_to: custom_field`.
    #[serde(default)]
    pub reason_field_id: Option<u64>,
}

fn default_flag_tag() -> String {
    "routing_unverified".into()
}
fn default_health_attribute() -> String {
    "health_score".into()
}
fn default_plan_attribute() -> String {
    "plan".into()
}

/// Where the routing reason goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonTarget {
    /// An internal note (private comment) on the ticket.
    #[default]
    InternalNote,
    /// A text custom field (`reason_field_id`).
    CustomField,
}

/// One routing rule: a condition and what to set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// Name, shown in the reason and the logs.
    pub name: String,
    /// Every condition set must hold.
    pub when: RouteCondition,
    /// Group to set.
    #[serde(default)]
    pub group_id: Option<GroupId>,
    /// Agent to assign.
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// Priority to set.
    #[serde(default)]
    pub priority: Option<TicketPriority>,
    /// Tags to add.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl RouteRule {
    /// What the rule sets.
    pub fn action(&self) -> RouteAction {
        RouteAction {
            group_id: self.group_id,
            assignee_id: self.assignee_id,
            priority: self.priority,
            tags: self.tags.clone(),
        }
    }
}

/// What a route sets on the ticket; unset fields are left alone.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteAction {
    /// Group.
    #[serde(default)]
    pub group_id: Option<GroupId>,
    /// Assignee.
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// Priority.
    #[serde(default)]
    pub priority: Option<TicketPriority>,
    /// Tags to add (never replacing the ticket's tags).
    #[serde(default)]
    pub tags: Vec<String>,
}

impl RouteAction {
    /// True when the route changes nothing.
    pub fn is_empty(&self) -> bool {
        self.group_id.is_none() && self.assignee_id.is_none() && self.priority.is_none() && self.tags.is_empty()
    }
}

/// Conditions of a rule; all that are set must hold, at least one is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCondition {
    /// The customer's plan is one of these (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<String>,
    /// The contact is in one of these segments (by name, case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segment: Vec<String>,
    /// The contact has one of these tags (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_tag: Vec<String>,
    /// The company's health score is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_score_below: Option<f64>,
    /// The company's health score is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_score_at_least: Option<f64>,
    /// The company's monthly spend is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_spend_at_least: Option<f64>,
    /// The company's monthly spend is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_spend_below: Option<f64>,
}

impl RouteCondition {
    fn count_set(&self) -> usize {
        usize::from(!self.plan.is_empty())
            + usize::from(!self.segment.is_empty())
            + usize::from(!self.contact_tag.is_empty())
            + usize::from(self.health_score_below.is_some())
            + usize::from(self.health_score_at_least.is_some())
            + usize::from(self.monthly_spend_at_least.is_some())
            + usize::from(self.monthly_spend_below.is_some())
    }
}

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

fn err(field: String, message: &str) -> ConfigError {
    ConfigError { line: None, column: None, field, message: message.into() }
}

/// Checks the `routing:` and `acknowledgement:` sections; errors name the field path.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    if let Some(r) = &config.routing {
        for (i, rule) in r.rules.iter().enumerate() {
            let at = |f: &str| format!("routing.rules[{i}].{f}");
            if rule.name.trim().is_empty() {
                return Err(err(at("name"), "must not be empty"));
            }
            if rule.when.count_set() == 0 {
                return Err(err(
                    at("when"),
                    "set at least one of plan, segment, contact_tag, health_score_below, health_score_at_least, monthly_spend_at_least, monthly_spend_below",
                ));
            }
            let lists =
                [("plan", &rule.when.plan), ("segment", &rule.when.segment), ("contact_tag", &rule.when.contact_tag)];
            for (name, list) in lists {
                if list.iter().any(|v| v.trim().is_empty()) {
                    return Err(err(at(&format!("when.{name}")), "values must not be empty"));
                }
            }
            if rule.action().is_empty() {
                return Err(err(
                    at("group_id"),
                    "a rule must set at least one of group_id, assignee_id, priority, tags",
                ));
            }
            if rule.tags.iter().any(|t| t.trim().is_empty() || t.contains(char::is_whitespace)) {
                return Err(err(at("tags"), "tags must be single non-empty words"));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, t) in r.plan_tiers.iter().enumerate() {
            if !seen.insert(t.trim().to_lowercase()) {
                return Err(err(format!("routing.plan_tiers[{i}]"), "listed twice"));
            }
        }
        if r.flag_tag.trim().is_empty() || r.flag_tag.contains(char::is_whitespace) {
            return Err(err("routing.flag_tag".into(), "must be one non-empty word"));
        }
        if r.max_attribute_age_hours == Some(0) {
            return Err(err("routing.max_attribute_age_hours".into(), "must be at least 1"));
        }
        if r.reason_to == ReasonTarget::CustomField && r.reason_field_id.is_none() {
            return Err(err("routing.reason_field_id".into(), "reason_to: custom_field needs the field's id"));
        }
        if r.health_score_attribute.trim().is_empty() {
            return Err(err("routing.health_score_attribute".into(), "must not be empty"));
        }
    }
    if let Some(a) = &config.acknowledgement {
        if a.channels.is_empty() {
            return Err(err("acknowledgement.channels".into(), "list at least one channel (web, email, …)"));
        }
        for (i, c) in a.channels.iter().enumerate() {
            if c.trim().is_empty() {
                return Err(err(format!("acknowledgement.channels[{i}]"), "must not be empty"));
            }
        }
        if a.body_template.trim().is_empty() {
            return Err(err("acknowledgement.body_template".into(), "must not be empty"));
        }
        if a.message_type == MessageChannel::Email && a.subject_template.trim().is_empty() {
            return Err(err("acknowledgement.subject_template".into(), "email messages need a subject"));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------ facts

/// How the requester was found in Intercom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// The stored Zendesk user -> Intercom contact mapping.
    StoredMapping,
    /// The Zendesk user's external id.
    ExternalId,
    /// The Zendesk user's email (exactly one contact).
    Email,
}

impl FoundBy {
    fn label(self) -> &'static str {
        match self {
            FoundBy::StoredMapping => "stored mapping",
            FoundBy::ExternalId => "external id",
            FoundBy::Email => "email",
        }
    }
}

/// What Intercom knows about a requester.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerProfile {
    /// The contact.
    pub contact: Contact,
    /// How it was found.
    pub found_by: FoundBy,
    /// Names of the segments the contact is in.
    pub segments: Vec<String>,
    /// The contact's companies.
    pub companies: Vec<Company>,
}

/// The outcome of looking the requester up.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// One contact.
    Found(Box<CustomerProfile>),
    /// No contact by stored id, external id or email (or the ticket has no requester).
    NotFound,
    /// The email matches several contacts.
    Ambiguous(usize),
}

impl Lookup {
    /// The profile, when found.
    pub fn profile(&self) -> Option<&CustomerProfile> {
        match self {
            Lookup::Found(p) => Some(p),
            _ => None,
        }
    }
}

/// Why the default route was applied with the flag tag.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteFlag {
    /// The requester is not in Intercom.
    ContactNotFound,
    /// The email matches several contacts.
    Ambiguous(usize),
    /// An attribute a rule needs is missing.
    Missing {
        /// Rule being evaluated.
        rule: String,
        /// Attribute (`plan`, `health_score`, `monthly_spend`).
        attribute: String,
    },
    /// An attribute a rule needs is older than the freshness limit.
    Stale {
        /// Rule being evaluated.
        rule: String,
        /// Attribute.
        attribute: String,
        /// Its age in hours.
        age_hours: i64,
        /// The limit.
        limit_hours: u32,
    },
}

impl RouteFlag {
    /// A short code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            RouteFlag::ContactNotFound => "contact_not_found",
            RouteFlag::Ambiguous(_) => "ambiguous_contact",
            RouteFlag::Missing { .. } => "attribute_missing",
            RouteFlag::Stale { .. } => "attribute_stale",
        }
    }
    fn describe(&self) -> String {
        match self {
            RouteFlag::ContactNotFound => {
                "the requester was not found in Intercom (by stored mapping, external id or email)".into()
            }
            RouteFlag::Ambiguous(n) => format!("the requester's email matches {n} Intercom contacts"),
            RouteFlag::Missing { rule, attribute } => {
                format!("rule \"{rule}\" needs the customer's {attribute}, which Intercom does not have")
            }
            RouteFlag::Stale { rule, attribute, age_hours, limit_hours } => format!(
                "rule \"{rule}\" needs the customer's {attribute}, which is {age_hours} hours old (limit {limit_hours})"
            ),
        }
    }
}

/// A routing decision.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteDecision {
    /// The rule that matched; None for the default route.
    pub rule: Option<String>,
    /// Set when the default route was applied because data was missing.
    pub flag: Option<RouteFlag>,
    /// What to set (the flag tag included when flagged).
    pub action: RouteAction,
    /// The company the decision was based on.
    pub company: Option<CompanyId>,
    /// The customer's plan (fresh), used for the SLA.
    pub plan: Option<String>,
    /// Human-readable reason, written on the ticket.
    pub reason: String,
}

// ------------------------------------------------------------------------------ routing

/// The company a contact is routed on: highest tier in `plan_tiers`, then highest monthly
/// spend, then smallest company id.
pub fn primary_company<'a>(companies: &'a [Company], plan_tiers: &[String]) -> Option<&'a Company> {
    let rank = |c: &Company| -> usize {
        let plan = c.plan.as_deref().map(|p| p.trim().to_lowercase());
        plan.and_then(|p| plan_tiers.iter().position(|t| t.trim().to_lowercase() == p)).unwrap_or(plan_tiers.len())
    };
    companies.iter().min_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| {
                let (x, y) = (a.monthly_spend.unwrap_or(f64::MIN), b.monthly_spend.unwrap_or(f64::MIN));
                y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| a.id.cmp(&b.id))
    })
}

/// A value with the time its record was last updated.
#[derive(Debug, Clone, PartialEq)]
struct Fact<T> {
    value: T,
    as_of: Timestamp,
}

/// The attributes rules look at, resolved once.
struct Facts<'a> {
    plan: Option<Fact<String>>,
    health: Option<Fact<f64>>,
    spend: Option<Fact<f64>>,
    segments: &'a [String],
    tags: &'a [String],
    company: Option<&'a Company>,
    companies: usize,
}

fn number(v: &FieldValue) -> Option<f64> {
    match v {
        FieldValue::Int(i) => Some(*i as f64),
        FieldValue::Float(f) => Some(*f),
        FieldValue::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn facts<'a>(profile: &'a CustomerProfile, cfg: &RoutingConfig) -> Facts<'a> {
    let company = primary_company(&profile.companies, &cfg.plan_tiers);
    let contact_plan = profile.contact.fields.get(&cfg.contact_plan_attribute).and_then(|v| match v {
        FieldValue::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => None,
    });
    let plan = match company {
        Some(c) => c.plan.clone().filter(|p| !p.trim().is_empty()).map(|p| Fact { value: p, as_of: c.updated_at }),
        None => contact_plan.map(|p| Fact { value: p, as_of: profile.contact.updated_at }),
    };
    let health = company.and_then(|c| {
        c.fields.get(&cfg.health_score_attribute).and_then(number).map(|v| Fact { value: v, as_of: c.updated_at })
    });
    let spend = company.and_then(|c| c.monthly_spend.map(|v| Fact { value: v, as_of: c.updated_at }));
    Facts {
        plan,
        health,
        spend,
        segments: &profile.segments,
        tags: &profile.contact.tags,
        company,
        companies: profile.companies.len(),
    }
}

/// Result of one condition: holds, fails, or cannot be told.
enum Truth {
    Yes,
    No,
    Unknown(RouteFlag),
}

fn any_ci(have: &[String], want: &[String]) -> bool {
    have.iter().any(|h| want.iter().any(|w| w.trim().eq_ignore_ascii_case(h.trim())))
}

fn check<T>(
    fact: &Option<Fact<T>>,
    attribute: &str,
    rule: &str,
    cfg: &RoutingConfig,
    now: Timestamp,
    test: impl Fn(&T) -> bool,
) -> Truth {
    let Some(f) = fact else {
        return Truth::Unknown(RouteFlag::Missing { rule: rule.into(), attribute: attribute.into() });
    };
    if let Some(limit) = cfg.max_attribute_age_hours {
        let age_hours = (now.0 - f.as_of.0) / 3600;
        if age_hours >= i64::from(limit) {
            return Truth::Unknown(RouteFlag::Stale {
                rule: rule.into(),
                attribute: attribute.into(),
                age_hours,
                limit_hours: limit,
            });
        }
    }
    if test(&f.value) { Truth::Yes } else { Truth::No }
}

fn evaluate(rule: &RouteRule, facts: &Facts<'_>, cfg: &RoutingConfig, now: Timestamp) -> Truth {
    let w = &rule.when;
    let n = rule.name.as_str();
    let mut results: Vec<Truth> = Vec::new();
    if !w.segment.is_empty() {
        results.push(if any_ci(facts.segments, &w.segment) { Truth::Yes } else { Truth::No });
    }
    if !w.contact_tag.is_empty() {
        results.push(if any_ci(facts.tags, &w.contact_tag) { Truth::Yes } else { Truth::No });
    }
    if !w.plan.is_empty() {
        results.push(check(&facts.plan, "plan", n, cfg, now, |p| any_ci(std::slice::from_ref(p), &w.plan)));
    }
    let health = &cfg.health_score_attribute;
    if let Some(limit) = w.health_score_below {
        results.push(check(&facts.health, health, n, cfg, now, |h| *h < limit));
    }
    if let Some(limit) = w.health_score_at_least {
        results.push(check(&facts.health, health, n, cfg, now, |h| *h >= limit));
    }
    if let Some(limit) = w.monthly_spend_at_least {
        results.push(check(&facts.spend, "monthly_spend", n, cfg, now, |s| *s >= limit));
    }
    if let Some(limit) = w.monthly_spend_below {
        results.push(check(&facts.spend, "monthly_spend", n, cfg, now, |s| *s < limit));
    }
    if results.iter().any(|t| matches!(t, Truth::No)) {
        return Truth::No;
    }
    results.into_iter().find(|t| matches!(t, Truth::Unknown(_))).unwrap_or(Truth::Yes)
}

fn describe_action(a: &RouteAction) -> String {
    let mut parts = Vec::new();
    if let Some(g) = a.group_id {
        parts.push(format!("group {g}"));
    }
    if let Some(u) = a.assignee_id {
        parts.push(format!("assignee {u}"));
    }
    if let Some(p) = a.priority {
        parts.push(format!("priority {}", p.as_str()));
    }
    if !a.tags.is_empty() {
        parts.push(format!("tags {}", a.tags.join(", ")));
    }
    if parts.is_empty() { "nothing changed".into() } else { parts.join("; ") }
}

fn describe_profile(profile: &CustomerProfile, facts: &Facts<'_>) -> String {
    let mut s = format!("Intercom contact {} (found by {})", profile.contact.id, profile.found_by.label());
    match (&facts.company, facts.companies) {
        (Some(c), n) if n > 1 => {
            let _ = write!(s, "; company {} chosen by plan tier from {n} companies", c.id);
        }
        (Some(c), _) => {
            let _ = write!(s, "; company {}", c.id);
        }
        (None, _) => s.push_str("; no company"),
    }
    if let Some(p) = &facts.plan {
        let _ = write!(s, "; plan {}", p.value);
    }
    if !facts.segments.is_empty() {
        let _ = write!(s, "; segments {}", facts.segments.join(", "));
    }
    s
}

fn flagged(cfg: &RoutingConfig, flag: RouteFlag, context: Option<String>, plan: Option<String>) -> RouteDecision {
    let mut action = cfg.default.clone();
    if !action.tags.iter().any(|t| t == &cfg.flag_tag) {
        action.tags.push(cfg.flag_tag.clone());
    }
    let mut reason = format!("Default route, flagged for review: {}.", flag.describe());
    if let Some(c) = context {
        let _ = write!(reason, " {c}.");
    }
    let _ = write!(reason, " Set: {}.", describe_action(&action));
    RouteDecision { rule: None, flag: Some(flag), action, company: None, plan, reason }
}

/// Decides the route of a new ticket from the requester's profile.
pub fn route(lookup: &Lookup, cfg: &RoutingConfig, now: Timestamp) -> RouteDecision {
    let profile = match lookup {
        Lookup::Found(p) => p,
        Lookup::NotFound => return flagged(cfg, RouteFlag::ContactNotFound, None, None),
        Lookup::Ambiguous(n) => return flagged(cfg, RouteFlag::Ambiguous(*n), None, None),
    };
    let facts = facts(profile, cfg);
    let context = describe_profile(profile, &facts);
    let plan = fresh_plan(&facts, cfg, now);
    for rule in &cfg.rules {
        match evaluate(rule, &facts, cfg, now) {
            Truth::No => continue,
            Truth::Unknown(flag) => {
                let mut d = flagged(cfg, flag, Some(context), plan);
                d.company = facts.company.map(|c| c.id.clone());
                return d;
            }
            Truth::Yes => {
                let action = rule.action();
                let reason = format!("Routed by rule \"{}\": {context}. Set: {}.", rule.name, describe_action(&action));
                return RouteDecision {
                    rule: Some(rule.name.clone()),
                    flag: None,
                    action,
                    company: facts.company.map(|c| c.id.clone()),
                    plan,
                    reason,
                };
            }
        }
    }
    let action = cfg.default.clone();
    let reason = format!("No routing rule matched: {context}. Default route. Set: {}.", describe_action(&action));
    RouteDecision { rule: None, flag: None, action, company: facts.company.map(|c| c.id.clone()), plan, reason }
}

fn fresh_plan(facts: &Facts<'_>, cfg: &RoutingConfig, now: Timestamp) -> Option<String> {
    let p = facts.plan.as_ref()?;
    let stale = cfg.max_attribute_age_hours.is_some_and(|h| (now.0 - p.as_of.0) / 3600 >= i64::from(h));
    (!stale).then(|| p.value.clone())
}

/// The customer's plan for the SLA text when routing is not configured: the primary company's
/// plan, or the contact's plan attribute.
pub fn customer_plan(profile: &CustomerProfile, cfg: Option<&RoutingConfig>, now: Timestamp) -> Option<String> {
    let fallback;
    let cfg = match cfg {
        Some(c) => c,
        None => {
            fallback = RoutingConfig {
                rules: Vec::new(),
                default: RouteAction::default(),
                plan_tiers: Vec::new(),
                flag_tag: default_flag_tag(),
                max_attribute_age_hours: None,
                health_score_attribute: default_health_attribute(),
                contact_plan_attribute: default_plan_attribute(),
                reason_to: ReasonTarget::default(),
                reason_field_id: None,
            };
            &fallback
        }
    };
    fresh_plan(&facts(profile, cfg), cfg, now)
}

/// The marker carried by the routing note, so a retry can see the note is already there.
pub fn route_marker(ticket: crate::ids::TicketId) -> String {
    format!("[bridge-routing:{ticket}]")
}

/// The internal note that records the routing reason.
pub fn route_note_html(decision: &RouteDecision, ticket: crate::ids::TicketId) -> String {
    format!("<p>{}</p><p>{}</p>", escape_html(&decision.reason), escape_html(&route_marker(ticket)))
}

// ------------------------------------------------------------------------------ acknowledgement

/// Why a ticket is the bridge's own (never acknowledged, never re-routed), if it is.
pub fn bridge_origin(
    ticket: &Ticket,
    zendesk: &ZendeskSettings,
    linked: bool,
    creator: Option<UserId>,
    own_user: Option<UserId>,
) -> Option<&'static str> {
    if ticket.external_id.as_deref().is_some_and(|e| e.starts_with(&zendesk.external_id_prefix)) {
        return Some("external id carries the escalation prefix");
    }
    if linked {
        return Some("ticket is linked to an Intercom conversation");
    }
    if creator.is_some() && creator == own_user {
        return Some("created by the bridge's Zendesk user");
    }
    None
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
    /// Why the bridge created it, if it did ([`bridge_origin`]).
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

#[cfg(test)]
mod tests;
