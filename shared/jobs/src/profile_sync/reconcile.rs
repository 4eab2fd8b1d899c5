//! Scheduled reconciliation and schema drift for job 2.
//!
//! Reconciliation walks what changed on each side since a stored cursor
//! (`PROFILE#CURSOR#<IC|ZD>#<contact|user|company>`: Intercom contact search by `updated_at`,
//! asked from the previous day because Intercom compares those dates by day; the Zendesk
//! incremental user export) and syncs every changed profile with the same rules as the
//! webhooks, without the echo check, so whatever a dropped webhook missed is repaired. The cursor
//! only moves when every profile of the pass succeeded.

use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::model::Timestamp;
use bridge_domain::ports::Store;
use bridge_domain::profiles::directory::ProfileDirectory;
use bridge_domain::profiles::{self, DriftFinding};
use serde::{Deserialize, Serialize};

use super::{Skip, Sync};
use bridge_domain::keys::DocKey;
use bridge_domain::ports::Doc;

use crate::{JobError, Ports};

/// Margin kept behind "now" when moving the cursor (clock skew, Zendesk's one-minute rule).
const CURSOR_MARGIN: i64 = 120;
/// Pages walked per side and pass (a safety cap).
const MAX_PAGES: usize = 1000;

/// What a reconciliation pass did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReconcileReport {
    /// Profiles looked at.
    pub examined: usize,
    /// Pairs where something was written.
    pub repaired: usize,
    /// Pairs with a conflict settled.
    pub conflicts: usize,
    /// Ambiguous matches (reported, not synced).
    pub ambiguous: usize,
    /// Profiles that failed (the cursor did not move past them).
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CursorDoc {
    since: Timestamp,
}

/// Runs one reconciliation pass. A side without a stored cursor starts `first_lookback_secs` ago.
pub async fn reconcile<S: Store, I: ProfileDirectory, Z: ProfileDirectory>(
    p: &Ports<'_, S, I, Z>,
    first_lookback_secs: i64,
) -> Result<ReconcileReport, JobError> {
    let mut report = ReconcileReport::default();
    let Some(cfg) = p.config.profiles.as_ref() else {
        return Ok(report);
    };
    let sync = Sync::new(p, cfg);
    let started = sync.now;
    let mut passes = vec![(Vendor::Intercom, Kind::Person), (Vendor::Zendesk, Kind::Person)];
    if cfg.companies.is_some() {
        passes.push((Vendor::Intercom, Kind::Org));
    }
    for (side, kind) in passes {
        let key = DocKey::ProfileCursor { side, kind };
        let stored = p.store.load::<CursorDoc>(&key).await?;
        let version = stored.as_ref().map(|v| v.version);
        let since = stored.map(|c| c.value.since).unwrap_or(started.plus(-first_lookback_secs));
        let failed_before = report.failed;
        let mut page_cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = p.side(side).changed_since(kind, since, page_cursor.as_deref()).await?;
            for profile in page.items.into_iter().filter(|p| p.updated_at >= since) {
                report.examined += 1;
                let entity = profile.entity();
                match sync.sync_profile(profile, false).await {
                    Ok(Ok(o)) => {
                        if o.to_intercom + o.to_zendesk > 0 || o.created_peer {
                            report.repaired += 1;
                        }
                        if o.conflicts > 0 {
                            report.conflicts += 1;
                        }
                    }
                    Ok(Err(Skip::Ambiguous(_))) => report.ambiguous += 1,
                    Ok(Err(_)) => {}
                    Err(e) => {
                        tracing::warn!(entity = %entity, error = %e, "reconciliation of a profile failed");
                        report.failed += 1;
                    }
                }
            }
            match page.next {
                Some(next) => page_cursor = Some(next),
                None => break,
            }
        }
        if report.failed == failed_before {
            let doc = CursorDoc { since: started.plus(-CURSOR_MARGIN) };
            // A concurrent pass moved it: theirs is as good as ours.
            let _ = p.store.save(&key, &doc, version).await?;
        }
    }
    tracing::info!(
        examined = report.examined,
        repaired = report.repaired,
        conflicts = report.conflicts,
        ambiguous = report.ambiguous,
        failed = report.failed,
        "profile reconciliation"
    );
    Ok(report)
}

/// Reads both live catalogs and compares them with the mapping.
pub async fn drift_report<S: Store, I: ProfileDirectory, Z: ProfileDirectory>(
    p: &Ports<'_, S, I, Z>,
) -> Result<Vec<DriftFinding>, JobError> {
    let Some(cfg) = p.config.profiles.as_ref() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut kinds = vec![Kind::Person];
    if cfg.companies.is_some() {
        kinds.push(Kind::Org);
    }
    for kind in kinds {
        for side in [Vendor::Intercom, Vendor::Zendesk] {
            let catalog = p.side(side).catalog(kind).await?;
            out.extend(profiles::drift(cfg, side, kind, &catalog));
        }
    }
    Ok(out)
}

/// The last drift report stored, if any.
pub async fn last_drift<S: Store>(store: &S) -> Result<Option<Doc<Vec<DriftFinding>>>, JobError> {
    Ok(store.load::<Vec<DriftFinding>>(&DocKey::ProfileDrift).await?)
}

/// Saves the report (replacing the previous one) and answers whether it changed.
pub async fn save_drift<S: Store>(store: &S, findings: &[DriftFinding]) -> Result<bool, JobError> {
    let old = last_drift(store).await?;
    if old.as_ref().is_some_and(|v| v.value == findings) {
        return Ok(false);
    }
    let _ = store.save(&DocKey::ProfileDrift, &findings, old.map(|v| v.version)).await?;
    Ok(true)
}
