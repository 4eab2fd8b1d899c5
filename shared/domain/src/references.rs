//! Every id and name the configuration refers to in the two accounts: what `bridge doctor`
//! and `bridge config check --live` look up before go-live, so a setup slip (a conversation
//! attribute never created, a team id from another workspace) is found then, not by the first
//! escalation.

use std::collections::BTreeSet;

use crate::config::Config;
use crate::ids::{AdminId, GroupId, TeamId, UserId};

/// What the configuration refers to, each set sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Intercom conversation attributes the bridge writes (text values).
    pub conversation_attributes: BTreeSet<String>,
    /// Intercom admins: the bot, the admins of `assigned_to_admin` rules and acknowledgements.
    pub admins: BTreeSet<AdminId>,
    /// Intercom teams of `assigned_to_team` rules.
    pub teams: BTreeSet<TeamId>,
    /// Zendesk groups of escalation and routing rules.
    pub groups: BTreeSet<GroupId>,
    /// Zendesk agents routing assigns tickets to.
    pub agents: BTreeSet<UserId>,
    /// Zendesk ticket fields (the conversation id field, routing's reason field).
    pub ticket_fields: BTreeSet<u64>,
}

impl Config {
    /// Every id and name this configuration refers to (see [`References`]).
    pub fn references(&self) -> References {
        let mut r = References::default();
        r.conversation_attributes.insert(self.intercom.ticket_id_attribute.clone());
        r.conversation_attributes.extend(self.intercom.ticket_url_attribute.clone());
        if let Some(status) = &self.ticket_status {
            r.conversation_attributes.extend(status.status_attribute.clone());
            r.conversation_attributes.extend(status.priority_attribute.clone());
        }
        r.admins.insert(self.intercom.bot_admin_id.clone());
        if let Some(esc) = &self.escalation {
            for rule in &esc.rules {
                r.admins.extend(rule.when.assigned_to_admin.iter().cloned());
                r.teams.extend(rule.when.assigned_to_team.iter().cloned());
                r.groups.extend(rule.group_id);
            }
        }
        if let Some(ack) = &self.acknowledgement {
            r.admins.extend(ack.from_admin_id.clone());
        }
        if let Some(routing) = &self.routing {
            for action in routing.rules.iter().map(|rule| (rule.group_id, rule.assignee_id)) {
                r.groups.extend(action.0);
                r.agents.extend(action.1);
            }
            r.groups.extend(routing.default.group_id);
            r.agents.extend(routing.default.assignee_id);
            r.ticket_fields.extend(routing.reason_field_id);
        }
        r.ticket_fields.extend(self.zendesk.conversation_field_id);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_and_name_in_the_config_is_listed_once() {
        let config = Config::from_yaml(
            r#"
version: 1
intercom: { bot_admin_id: "9", ticket_url_attribute: zendesk_ticket_url }
zendesk: { conversation_field_id: 360001 }
escalation:
  rules:
    - { name: a, when: { assigned_to_team: ["77"] }, group_id: 5 }
    - { name: b, when: { assigned_to_admin: ["12", "9"] }, group_id: 5 }
ticket_status: { status_attribute: zendesk_status, on: {} }
routing:
  rules:
    - { name: ent, when: { plan: [enterprise] }, group_id: 6, assignee_id: 42 }
  default: { group_id: 7 }
"#,
        )
        .unwrap();
        let r = config.references();
        let names = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
        assert_eq!(names(&r.conversation_attributes), ["zendesk_status", "zendesk_ticket_id", "zendesk_ticket_url"]);
        assert_eq!(r.admins.iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["12", "9"]);
        assert_eq!(r.teams.iter().map(|t| t.as_str()).collect::<Vec<_>>(), ["77"]);
        assert_eq!(r.groups.iter().map(|g| g.get()).collect::<Vec<_>>(), [5, 6, 7]);
        assert_eq!(r.agents.iter().map(|u| u.get()).collect::<Vec<_>>(), [42]);
        assert_eq!(r.ticket_fields.iter().copied().collect::<Vec<_>>(), [360001]);
    }
}
