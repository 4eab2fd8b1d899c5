//! `bridge config check --live`: the profile mapping checked against both live field catalogs
//! (names, types, dropdown options), with the same rules as the scheduled drift run.

use std::time::Duration;

use anyhow::Context as _;
use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::profiles::directory::ProfileDirectory;
use bridge_domain::profiles::{self, DriftFinding, ProfilesConfig};
use bridge_intercom::{AccessToken, IntercomClient, IntercomConfig};
use bridge_jobs::Side;
use bridge_zendesk::{ZendeskClient, ZendeskConfig};

use crate::settings::ZendeskAuth;

/// What the live check needs: the vendors' addresses and credentials.
#[derive(Debug, Clone)]
pub struct VendorAccess {
    /// `INTERCOM_API_BASE`.
    pub intercom_api_base: String,
    /// `INTERCOM_ACCESS_TOKEN`.
    pub intercom_access_token: crate::settings::Secret,
    /// `ZENDESK_BASE_URL`.
    pub zendesk_base_url: String,
    /// Zendesk credentials.
    pub zendesk_auth: ZendeskAuth,
}

/// Reads both live catalogs and compares them with the mapping. Findings for which
/// [`DriftFinding::is_error`] holds make the mapping wrong; the others (unmapped fields) inform.
pub async fn check_live(access: &VendorAccess, cfg: &ProfilesConfig) -> anyhow::Result<Vec<DriftFinding>> {
    let intercom = IntercomClient::new(
        IntercomConfig::new(&access.intercom_api_base, AccessToken::new(access.intercom_access_token.expose()))
            .context("INTERCOM_API_BASE")?,
    )
    .context("building the Intercom client")?;
    let auth = match &access.zendesk_auth {
        ZendeskAuth::ApiToken { email, token } => {
            bridge_zendesk::Auth::ApiToken { email: email.clone(), token: token.expose().into() }
        }
        ZendeskAuth::OAuth(token) => bridge_zendesk::Auth::OAuth { token: token.expose().into() },
    };
    let zendesk = ZendeskClient::new(ZendeskConfig {
        base_url: access.zendesk_base_url.clone(),
        auth,
        timeout: Duration::from_secs(10),
    })
    .context("ZENDESK_BASE_URL")?;
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
