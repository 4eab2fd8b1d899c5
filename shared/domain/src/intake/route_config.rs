//! `routing:` in the configuration (job 6): the rules, the default route and their checks.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::ids::{GroupId, UserId};
use crate::model::TicketPriority;

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

pub(super) fn default_flag_tag() -> String {
    "routing_unverified".into()
}
pub(super) fn default_health_attribute() -> String {
    "health_score".into()
}
pub(super) fn default_plan_attribute() -> String {
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

impl RoutingConfig {
    /// Checks the section; errors name the field path (`routing.rules[0].when`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, rule) in self.rules.iter().enumerate() {
            let at = |f: &str| format!("routing.rules[{i}].{f}");
            if rule.name.trim().is_empty() {
                return Err(ConfigError::new(at("name"), "must not be empty"));
            }
            if rule.when.count_set() == 0 {
                return Err(ConfigError::new(
                    at("when"),
                    "set at least one of plan, segment, contact_tag, health_score_below, health_score_at_least, monthly_spend_at_least, monthly_spend_below",
                ));
            }
            let lists =
                [("plan", &rule.when.plan), ("segment", &rule.when.segment), ("contact_tag", &rule.when.contact_tag)];
            for (name, list) in lists {
                if list.iter().any(|v| v.trim().is_empty()) {
                    return Err(ConfigError::new(at(&format!("when.{name}")), "values must not be empty"));
                }
            }
            if rule.action().is_empty() {
                return Err(ConfigError::new(
                    at("group_id"),
                    "a rule must set at least one of group_id, assignee_id, priority, tags",
                ));
            }
            if rule.tags.iter().any(|t| t.trim().is_empty() || t.contains(char::is_whitespace)) {
                return Err(ConfigError::new(at("tags"), "tags must be single non-empty words"));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, t) in self.plan_tiers.iter().enumerate() {
            if !seen.insert(t.trim().to_lowercase()) {
                return Err(ConfigError::new(format!("routing.plan_tiers[{i}]"), "listed twice"));
            }
        }
        if self.flag_tag.trim().is_empty() || self.flag_tag.contains(char::is_whitespace) {
            return Err(ConfigError::new("routing.flag_tag", "must be one non-empty word"));
        }
        if self.max_attribute_age_hours == Some(0) {
            return Err(ConfigError::new("routing.max_attribute_age_hours", "must be at least 1"));
        }
        if self.reason_to == ReasonTarget::CustomField && self.reason_field_id.is_none() {
            return Err(ConfigError::new("routing.reason_field_id", "reason_to: custom_field needs the field's id"));
        }
        if self.health_score_attribute.trim().is_empty() {
            return Err(ConfigError::new("routing.health_score_attribute", "must not be empty"));
        }
        Ok(())
    }
}
