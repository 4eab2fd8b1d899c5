//! Checks every id and name the configuration refers to against both live accounts
//! ([`bridge_domain::references`]): one line per check with what to fix. Used by `bridge doctor`
//! and `bridge config check --live`.

use std::collections::{BTreeMap, BTreeSet};

use bridge_domain::Config;
use bridge_intercom::IntercomClient;
use bridge_zendesk::ZendeskClient;

/// One line per reference kind (or per missing item); `ok` false means something to fix.
pub async fn check_references(
    intercom: &IntercomClient,
    zendesk: &ZendeskClient,
    config: &Config,
    line: &mut dyn FnMut(bool, &str, String),
) {
    let refs = config.references();

    match intercom.list_conversation_attributes().await {
        Ok(list) => {
            let types: BTreeMap<&str, &str> = list.iter().map(|a| (a.name.as_str(), a.data_type.as_str())).collect();
            for name in &refs.conversation_attributes {
                let what = format!("conversation attribute {name}");
                match types.get(name.as_str()) {
                    Some(&"string") => line(true, &what, "exists (text)".into()),
                    Some(other) => line(
                        false,
                        &what,
                        format!("is of type {other}; the bridge writes text: create a Text attribute or name another"),
                    ),
                    None => line(
                        false,
                        &what,
                        "missing: create it in Intercom (Settings > Data > Conversations, type Text) or remove it from the config".into(),
                    ),
                }
            }
        }
        Err(e) => line(false, "conversation attributes", format!("could not be listed: {e}")),
    }

    let admins = intercom.list_admins().await.map(|l| l.into_iter().map(|a| a.id).collect::<BTreeSet<_>>());
    let wanted: Vec<String> = refs.admins.iter().map(|a| a.to_string()).collect();
    check_ids(
        line,
        "intercom admins",
        "admin",
        &wanted,
        admins.map_err(|e| e.to_string()),
        "in this Intercom workspace",
    );

    if !refs.teams.is_empty() {
        let teams = intercom.list_teams().await.map(|l| l.into_iter().map(|t| t.id).collect::<BTreeSet<_>>());
        let wanted: Vec<String> = refs.teams.iter().map(|t| t.to_string()).collect();
        check_ids(
            line,
            "intercom teams",
            "team",
            &wanted,
            teams.map_err(|e| e.to_string()),
            "in this Intercom workspace",
        );
    }
    if !refs.groups.is_empty() {
        let groups = zendesk.list_groups().await.map(|l| l.into_iter().map(|g| g.id.to_string()).collect());
        let wanted: Vec<String> = refs.groups.iter().map(|g| g.to_string()).collect();
        check_ids(
            line,
            "zendesk groups",
            "group",
            &wanted,
            groups.map_err(|e| e.to_string()),
            "in this Zendesk account",
        );
    }
    if !refs.ticket_fields.is_empty() {
        let fields = zendesk.ticket_fields().await.map(|l| l.into_iter().map(|f| f.id.to_string()).collect());
        let wanted: Vec<String> = refs.ticket_fields.iter().map(u64::to_string).collect();
        check_ids(
            line,
            "zendesk ticket fields",
            "ticket field",
            &wanted,
            fields.map_err(|e| e.to_string()),
            "in this Zendesk account",
        );
    }
    for agent in &refs.agents {
        let what = format!("zendesk agent {agent}");
        match zendesk.show_user(agent.get()).await {
            Ok(u) if matches!(u.role.as_deref(), Some("agent" | "admin")) => line(true, &what, "exists".into()),
            Ok(u) => line(
                false,
                &what,
                format!("is a {}, not an agent: tickets cannot be assigned to it", u.role.unwrap_or_default()),
            ),
            Err(e) => line(false, &what, format!("not found: {e}")),
        }
    }
}

/// One line for a set of ids found in a live list, or one line per missing id.
fn check_ids(
    line: &mut dyn FnMut(bool, &str, String),
    what: &str,
    one: &str,
    wanted: &[String],
    live: Result<BTreeSet<String>, String>,
    place: &str,
) {
    match live {
        Err(e) => line(false, what, format!("could not be listed: {e}")),
        Ok(live) => {
            let missing: Vec<&String> = wanted.iter().filter(|id| !live.contains(*id)).collect();
            if missing.is_empty() {
                line(true, what, format!("{} referenced, all exist", wanted.len()));
            }
            for id in missing {
                line(false, &format!("{one} {id}"), format!("not found {place}: fix the id in the config"));
            }
        }
    }
}
