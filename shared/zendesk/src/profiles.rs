//! Job 2's [`ProfileDirectory`] over Zendesk: users and organizations as neutral profiles.
//!
//! Field paths: `name`, `email`, `phone`, `external_id`, `user_fields.<key>` on users; `name`,
//! `external_id`, `organization_fields.<key>` on organizations (custom fields are keyed by field
//! KEY, not id). Zendesk quirk kept visible: writing `email` onto an existing user adds a
//! secondary identity rather than replacing the primary one.

use std::collections::BTreeMap;

use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::{PortError, PortResult, Service};
use bridge_domain::profiles::directory::{
    BulkPoll, BulkRecord, BulkStarted, ProfileDirectory, ProfilePage, RateObservation,
};
use bridge_domain::profiles::{CatalogField, Profile};

use crate::ZendeskClient;
use crate::client::JOB_STATUSES_MAX;
use crate::convert::{field_json, field_value};
use crate::error::ZendeskError;
use crate::types::{ExportStart, JobStatus, OrganizationWrite, UserWrite, ZdOrganization, ZdUser};

const USER_FIELDS: &str = "user_fields.";
const ORG_FIELDS: &str = "organization_fields.";

fn text(v: Option<String>) -> FieldValue {
    v.filter(|s| !s.is_empty()).map(FieldValue::Text).unwrap_or(FieldValue::Null)
}

fn ts(raw: Option<&str>) -> Timestamp {
    raw.and_then(Timestamp::parse_rfc3339).unwrap_or_default()
}

fn user_profile(u: ZdUser) -> Profile {
    let mut values = BTreeMap::new();
    values.insert("name".to_string(), text(u.name));
    values.insert("email".to_string(), text(u.email));
    values.insert("phone".to_string(), text(u.phone));
    values.insert("external_id".to_string(), text(u.external_id));
    for (k, v) in &u.user_fields {
        values.insert(format!("{USER_FIELDS}{k}"), field_value(v));
    }
    Profile {
        side: Vendor::Zendesk,
        kind: Kind::Person,
        id: u.id.to_string(),
        values,
        orgs: u.organization_id.map(|o| vec![o.to_string()]).unwrap_or_default(),
        role: u.role,
        updated_at: ts(u.updated_at.as_deref()),
    }
}

fn org_profile(o: ZdOrganization) -> Profile {
    let mut values = BTreeMap::new();
    values.insert("name".to_string(), text(o.name));
    values.insert("external_id".to_string(), text(o.external_id));
    for (k, v) in &o.organization_fields {
        values.insert(format!("{ORG_FIELDS}{k}"), field_value(v));
    }
    Profile {
        side: Vendor::Zendesk,
        kind: Kind::Org,
        id: o.id.to_string(),
        values,
        orgs: Vec::new(),
        role: None,
        updated_at: ts(o.updated_at.as_deref()),
    }
}

fn user_write(values: &BTreeMap<String, FieldValue>) -> UserWrite {
    let mut w = UserWrite::default();
    for (path, v) in values {
        match path.as_str() {
            "name" => w.name = v.as_text(),
            "email" => w.email = v.as_text(),
            "phone" => w.phone = v.as_text(),
            "external_id" => w.external_id = v.as_text(),
            other => {
                if let Some(key) = other.strip_prefix(USER_FIELDS) {
                    w.user_fields.insert(key.to_string(), field_json(v));
                }
            }
        }
    }
    w
}

fn org_write(values: &BTreeMap<String, FieldValue>) -> OrganizationWrite {
    let mut w = OrganizationWrite::default();
    for (path, v) in values {
        match path.as_str() {
            "name" => w.name = v.as_text(),
            "external_id" => w.external_id = v.as_text(),
            other => {
                if let Some(key) = other.strip_prefix(ORG_FIELDS) {
                    w.organization_fields.insert(key.to_string(), field_json(v));
                }
            }
        }
    }
    w
}

fn numeric(id: &str) -> PortResult<u64> {
    id.parse().map_err(|_| PortError::rejected(Service::Zendesk, "not a numeric Zendesk id"))
}

fn absent_on_404<T>(r: Result<T, ZendeskError>) -> PortResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(ZendeskError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl ZendeskClient {
    async fn profile_write(
        &self,
        kind: Kind,
        id: Option<&str>,
        values: &BTreeMap<String, FieldValue>,
    ) -> PortResult<Profile> {
        match (kind, id) {
            (Kind::Person, Some(id)) => Ok(user_profile(self.update_user(numeric(id)?, &user_write(values)).await?)),
            (Kind::Person, None) => {
                let mut w = user_write(values);
                if w.name.is_none() {
                    // Zendesk needs a name on create: the email's local part, else the external id.
                    w.name = w.email.as_deref().and_then(|e| e.split('@').next()).map(str::to_string);
                    w.name = w.name.clone().or_else(|| w.external_id.clone());
                }
                w.skip_verify_email = Some(true);
                Ok(user_profile(self.create_or_update_user(&w).await?.record))
            }
            (Kind::Org, id) => {
                let mut w = org_write(values);
                if let Some(id) = id {
                    // Organizations are written through create_or_update, matched on external id.
                    let current = self.show_organization(numeric(id)?).await?;
                    w.external_id = current.external_id.clone().or(w.external_id);
                    if w.name.is_none() {
                        w.name = current.name;
                    }
                }
                if w.external_id.is_none() {
                    return Err(PortError::rejected(Service::Zendesk, "an organization needs an external id"));
                }
                Ok(org_profile(self.create_or_update_organization(&w).await?.record))
            }
        }
    }

    async fn user_export(&self, since: Timestamp, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
        let start = match cursor {
            Some(c) => ExportStart::Cursor(c.to_string()),
            None => ExportStart::StartTime(since.0.max(0)),
        };
        let export = self.export_users(&start, Some(per_page)).await?;
        Ok(ProfilePage {
            items: export.items.into_iter().map(user_profile).collect(),
            next: if export.end_of_stream { None } else { export.after_cursor },
            total: None,
        })
    }
}

impl ProfileDirectory for ZendeskClient {
    fn side(&self) -> Vendor {
        Vendor::Zendesk
    }

    async fn get(&self, kind: Kind, id: &str) -> PortResult<Option<Profile>> {
        let id = numeric(id)?;
        Ok(match kind {
            Kind::Person => absent_on_404(self.show_user(id).await)?.map(user_profile),
            Kind::Org => absent_on_404(self.show_organization(id).await)?.map(org_profile),
        })
    }

    async fn find_by_external_id(&self, kind: Kind, external_id: &str) -> PortResult<Vec<Profile>> {
        Ok(match kind {
            Kind::Person => {
                self.search_users_by_external_id(external_id).await?.into_iter().map(user_profile).collect()
            }
            Kind::Org => {
                self.search_organizations_by_external_id(external_id).await?.into_iter().map(org_profile).collect()
            }
        })
    }

    async fn find_by_email(&self, email: &str) -> PortResult<Vec<Profile>> {
        Ok(self.search_users_by_email(email.trim()).await?.into_iter().map(user_profile).collect())
    }

    async fn write(&self, kind: Kind, id: Option<&str>, values: &BTreeMap<String, FieldValue>) -> PortResult<Profile> {
        self.profile_write(kind, id, values).await
    }

    async fn join_org(&self, person: &str, org: &str) -> PortResult<()> {
        let w = UserWrite { organization_id: Some(numeric(org)?), ..UserWrite::default() };
        self.update_user(numeric(person)?, &w).await?;
        Ok(())
    }

    async fn changed_since(&self, kind: Kind, since: Timestamp, cursor: Option<&str>) -> PortResult<ProfilePage> {
        match kind {
            Kind::Person => self.user_export(since, cursor, 1000).await,
            // No organization export in this client: organization changes arrive by webhook
            // and with their members' reconciliation.
            Kind::Org => Ok(ProfilePage::default()),
        }
    }

    async fn list_page(&self, kind: Kind, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
        match kind {
            Kind::Person => self.user_export(Timestamp(0), cursor, per_page.clamp(1, 1000)).await,
            Kind::Org => Ok(ProfilePage::default()),
        }
    }

    async fn start_many(&self, kind: Kind, records: &[BulkRecord]) -> PortResult<BulkStarted> {
        match kind {
            Kind::Person => {
                let writes: Vec<UserWrite> = records
                    .iter()
                    .map(|r| {
                        let mut w = user_write(r);
                        if w.name.is_none() {
                            w.name = w.email.clone().or_else(|| w.external_id.clone());
                        }
                        w.skip_verify_email = Some(true);
                        w
                    })
                    .collect();
                let job = self.start_create_or_update_many_users(&writes).await?;
                Ok(BulkStarted::Job(job.id))
            }
            Kind::Org => {
                let mut out = Vec::with_capacity(records.len());
                for r in records {
                    out.push(Some(self.profile_write(Kind::Org, None, r).await?.id));
                }
                Ok(BulkStarted::Done(out))
            }
        }
    }

    async fn poll_many(&self, job: &str, records: usize) -> PortResult<BulkPoll> {
        match self.job_status(job).await {
            Ok(status) => Ok(bulk_poll(&status, records)),
            Err(e) if e.is_not_found() => Ok(BulkPoll::Gone),
            Err(e) => Err(e.into()),
        }
    }

    async fn poll_jobs(&self, jobs: &[(&str, usize)]) -> PortResult<Vec<BulkPoll>> {
        let mut out = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(JOB_STATUSES_MAX) {
            let ids: Vec<&str> = chunk.iter().map(|(id, _)| *id).collect();
            let statuses = self.job_statuses(&ids).await?;
            // A job left out of the answer is one Zendesk no longer knows, as a 404 of the
            // single-job endpoint says.
            out.extend(chunk.iter().map(|(id, records)| {
                statuses.iter().find(|s| s.id == *id).map_or(BulkPoll::Gone, |s| bulk_poll(s, *records))
            }));
        }
        Ok(out)
    }

    async fn catalog(&self, kind: Kind) -> PortResult<Vec<CatalogField>> {
        let (defs, prefix) = match kind {
            Kind::Person => (self.user_fields().await?, USER_FIELDS),
            Kind::Org => (self.organization_fields().await?, ORG_FIELDS),
        };
        Ok(defs
            .into_iter()
            .filter(|d| d.active)
            .filter_map(|d| {
                let key = d.key?;
                Some(CatalogField {
                    path: format!("{prefix}{key}"),
                    data_type: d.field_type,
                    options: d.custom_field_options.into_iter().map(|o| o.value).collect(),
                })
            })
            .collect())
    }

    fn rate_limit(&self) -> Option<RateObservation> {
        self.last_rate_limit().map(|s| RateObservation {
            limit: s.limit,
            remaining: s.remaining,
            reset_at_ms: s.reset_in.map(|d| now_ms() + i64::try_from(d.as_millis()).unwrap_or(60_000)),
        })
    }
}

/// A job status as the port says it: running, or per record of a batch of `records` the id
/// written (a failed job counts every record as refused).
fn bulk_poll(status: &JobStatus, records: usize) -> BulkPoll {
    match status.status.as_str() {
        "completed" => {}
        // A failed job wrote nothing we can vouch for: every record counts as failed.
        "failed" => return BulkPoll::Done(vec![None; records]),
        _ => return BulkPoll::Running,
    }
    let mut out = vec![None; records];
    for (n, item) in status.result_items().into_iter().enumerate() {
        let at = item.index.and_then(|i| usize::try_from(i).ok()).unwrap_or(n);
        let ok = item.success != Some(false) && item.error.is_none();
        if let (true, Some(id), Some(slot)) = (ok, item.id, out.get_mut(at)) {
            *slot = Some(id.to_string());
        }
    }
    BulkPoll::Done(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn writes_key_custom_fields_by_key() {
        let mut v = BTreeMap::new();
        v.insert("phone".to_string(), FieldValue::Text("+1".into()));
        v.insert("user_fields.plan".to_string(), FieldValue::Text("pro".into()));
        v.insert("organization_fields.tier".to_string(), FieldValue::Int(2));
        let w = user_write(&v);
        assert_eq!(w.phone.as_deref(), Some("+1"));
        assert_eq!(w.user_fields.get("plan"), Some(&serde_json::json!("pro")));
        assert!(!w.user_fields.contains_key("tier"));
        let o = org_write(&v);
        assert_eq!(o.organization_fields.get("tier"), Some(&serde_json::json!(2)));
    }
}
