//! The shipped templates (`infra/config/*.yaml`) as an operator runs them: every file read from
//! the repository, only the account ids (admins, teams, groups, fields, agents) swapped for the
//! simulators' own. Used by the templates e2e test and by `make demo`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bridge_sim::intercom::IntercomSim;
use bridge_sim::zendesk::ZendeskSim;

use crate::Seeded;

/// Where the templates are.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/config")
}

/// The Google spreadsheet the CSAT template writes to.
pub const SPREADSHEET_ID: &str = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg";

/// The account ids the templates carry, and what replaces each on the simulators.
pub type Swaps = Vec<(&'static str, String)>;

/// Creates on the simulators what the templates refer to (groups, the conversation ticket
/// field, the profile fields on both sides) and returns the id swaps. Call before the bridge
/// starts.
pub fn prepare(intercom: &IntercomSim, zendesk: &ZendeskSim, s: &Seeded) -> Swaps {
    let group = |name: &str| zendesk.add_group(name).to_string();
    let field = zendesk.add_ticket_field("Intercom conversation", "text", &[], None);
    for (name, ty) in [
        ("plan", "string"),
        ("seats", "integer"),
        ("vip", "boolean"),
        ("renewal_date", "date"),
        ("notes", "string"),
        ("zendesk_user_id", "string"),
    ] {
        intercom.seed_data_attribute("contact", name, ty, true);
    }
    zendesk.add_user_dropdown("plan", "Plan", &[("Free", "free"), ("Pro", "pro"), ("Enterprise", "enterprise")]);
    zendesk.add_user_field("seats", "Seats", "integer");
    zendesk.add_user_field("vip", "VIP", "checkbox");
    zendesk.add_user_field("renewal_date", "Renewal date", "date");
    zendesk.add_user_field("notes", "Notes", "text");
    zendesk.add_user_field("intercom_contact_id", "Intercom contact", "text");
    zendesk.add_organization_field("plan", "Plan", "text");
    vec![
        ("\"5512345\"", format!("\"{}\"", s.bot_admin)),
        ("\"4567890\"", format!("\"{}\"", s.escalations_team)),
        ("\"5510001\"", format!("\"{}\"", s.agent)),
        ("\"5510002\"", format!("\"{}\"", s.agent)),
        ("360000111111", s.tier2_group.to_string()),
        ("360000222222", group("Billing")),
        ("360012345678", field.to_string()),
        ("360000100000", group("General support")),
        ("360000200000", group("VIP desk")),
        ("360000300000", group("Enterprise")),
        ("360000400000", group("Pro")),
        ("360000500000", group("Product feedback")),
        ("360009876543", s.zendesk_agent.to_string()),
    ]
}

/// Every shipped template (or those named in `only`), as (file name, text with the ids swapped).
pub fn shipped(swaps: &Swaps, only: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
    let dir = dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter(|n| only.is_empty() || only.contains(&n.as_str()))
        .map(|name| {
            let mut text = std::fs::read_to_string(dir.join(&name)).with_context(|| format!("reading {name}"))?;
            for (placeholder, id) in swaps {
                text = text.replace(placeholder, id);
            }
            Ok((name, text))
        })
        .collect()
}

/// Writes the shipped templates (ids swapped) into `folder`, as an operator's `BRIDGE_CONFIG`
/// folder; returns the folder.
pub fn write_folder(swaps: &Swaps, folder: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(folder)?;
    for (name, text) in shipped(swaps, &[])? {
        std::fs::write(folder.join(&name), text).with_context(|| format!("writing {name}"))?;
    }
    Ok(folder.to_path_buf())
}
