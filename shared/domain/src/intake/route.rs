//! Job 6: routing a new Zendesk ticket by what Intercom knows about its requester.
//!
//! The requester's Intercom profile (plan, segments, contact tags and the
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
//! The configuration (`routing:`) is in `route_config`.

use std::fmt::Write as _;

use super::route_config::{
    ReasonTarget, RouteAction, RouteRule, RoutingConfig, default_flag_tag, default_health_attribute,
    default_plan_attribute,
};
use super::{CustomerProfile, Lookup};
use crate::ids::{CompanyId, TicketId};
use crate::model::{Company, FieldValue, Timestamp};
use crate::text::escape_html;

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
pub fn route_marker(ticket: TicketId) -> String {
    format!("[bridge-routing:{ticket}]")
}

/// The internal note that records the routing reason.
pub fn route_note_html(decision: &RouteDecision, ticket: TicketId) -> String {
    format!("<p>{}</p><p>{}</p>", escape_html(&decision.reason), escape_html(&route_marker(ticket)))
}
