//! `bridge config check --live`: the profile mapping checked against both live field catalogs
//! (names, types, dropdown options), with the same rules as the scheduled drift run.

use std::time::Duration;

use anyhow::Context as _;
use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::profiles::directory::ProfileDirectory;
use bridge_domain::profiles::{self, DriftFinding, ProfilesConfig};
use bridge_intercom::IntercomClient;
use bridge_jobs::Side;
use bridge_zendesk::ZendeskClient;

use crate::settings::{IntercomAccess, ZendeskAccess};

/// Reads both live catalogs and compares them with the mapping. Findings for which
/// [`DriftFinding::is_error`] holds make the mapping wrong; the others (unmapped fields) inform.
pub async fn check_live(
    intercom: &IntercomAccess,
    zendesk: &ZendeskAccess,
    cfg: &ProfilesConfig,
) -> anyhow::Result<Vec<DriftFinding>> {
    let intercom = intercom.client()?;
    let zendesk = zendesk.client(Duration::from_secs(10))?;
    let mut kinds = vec![Kind::Person];
    if cfg.companies.is_some() {
        kinds.push(Kind::Org);
    }
    let mut out = Vec::new();
    for kind in kinds {
        for side in [Vendor::Intercom, Vendor::Zendesk] {
            let dir: Side<'_, IntercomClient, ZendeskClient> = match side {
                Vendor::Intercom => Side::Intercom(&intercom),
                Vendor::Zendesk => Side::Zendesk(&zendesk),
            };
            let catalog = dir.catalog(kind).await.with_context(|| format!("reading the {side:?} {kind:?} fields"))?;
            out.extend(profiles::drift(cfg, side, kind, &catalog));
        }
    }
    Ok(out)
}
