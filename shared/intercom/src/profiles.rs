//! Job 2's [`ProfileDirectory`] over Intercom: contacts and companies as neutral profiles.
//!
//! Field paths: `name`, `email`, `phone`, `external_id`, `custom_attributes.<name>` on
//! contacts; `name`, `external_id` (the `company_id`), `plan`, `monthly_spend`,
//! `custom_attributes.<name>` on companies. Standard text fields are never cleared (the contact
//! API has no way to send an explicit null for them); custom attributes are.

use std::collections::BTreeMap;

use bridge_domain::event::Kind;
use bridge_domain::event::Vendor;
use bridge_domain::ids::{CompanyId, ContactId};
use bridge_domain::model::{FieldValue, Timestamp};
use bridge_domain::ports::{PortError, PortResult, Service};
use bridge_domain::profiles::directory::{BulkRecord, BulkStarted, ProfileDirectory, ProfilePage, RateObservation};
use bridge_domain::profiles::{CatalogField, Profile};

use crate::convert::field_value;
use crate::endpoints::{AttributeModel, CompanyWrite, ContactWrite};
use crate::error::IntercomError;
use crate::query::Query;
use crate::{IntercomClient, wire};

/// Prefix of custom attribute paths.
const CUSTOM: &str = "custom_attributes.";
/// One day: contact date filters are truncated to the day.
const DAY: i64 = 86_400;

fn text(v: Option<String>) -> FieldValue {
    v.filter(|s| !s.is_empty()).map(FieldValue::Text).unwrap_or(FieldValue::Null)
}

fn contact_profile(c: wire::Contact) -> Profile {
    let mut values = BTreeMap::new();
    values.insert("name".to_string(), text(c.name));
    values.insert("email".to_string(), text(c.email));
    values.insert("phone".to_string(), text(c.phone));
    values.insert("external_id".to_string(), text(c.external_id));
    for (k, v) in &c.custom_attributes {
        values.insert(format!("{CUSTOM}{k}"), field_value(v));
    }
    Profile {
        side: Vendor::Intercom,
        kind: Kind::Person,
        id: c.id,
        values,
        orgs: c.companies.map(|l| l.data.into_iter().filter_map(|r| r.id).collect()).unwrap_or_default(),
        role: Some(c.role),
        updated_at: Timestamp(c.updated_at.unwrap_or_default()),
    }
}

fn company_profile(c: wire::Company) -> Profile {
    let mut values = BTreeMap::new();
    values.insert("plan".to_string(), text(c.plan_name()));
    values.insert("name".to_string(), text(c.name));
    values.insert("external_id".to_string(), text(c.company_id));
    values.insert("monthly_spend".to_string(), c.monthly_spend.map(FieldValue::Float).unwrap_or(FieldValue::Null));
    for (k, v) in &c.custom_attributes {
        values.insert(format!("{CUSTOM}{k}"), field_value(v));
    }
    Profile {
        side: Vendor::Intercom,
        kind: Kind::Org,
        id: c.id,
        values,
        orgs: Vec::new(),
        role: None,
        updated_at: Timestamp(c.updated_at.unwrap_or_default()),
    }
}

fn contact_write(values: &BTreeMap<String, FieldValue>) -> ContactWrite {
    let mut w = ContactWrite::default();
    for (path, v) in values {
        match path.as_str() {
            "name" => w.name = v.as_text(),
            "email" => w.email = v.as_text(),
            "phone" => w.phone = v.as_text(),
            "external_id" => w.external_id = v.as_text(),
            "role" => w.role = v.as_text(),
            other => {
                if let Some(key) = other.strip_prefix(CUSTOM) {
                    w.custom_attributes.insert(key.to_string(), v.clone());
                }
            }
        }
    }
    w
}

fn company_write(company_id: String, values: &BTreeMap<String, FieldValue>) -> CompanyWrite {
    let mut w = CompanyWrite { company_id, ..CompanyWrite::default() };
    for (path, v) in values {
        match path.as_str() {
            "name" => w.name = v.as_text(),
            "plan" => w.plan = v.as_text(),
            "monthly_spend" => {
                w.monthly_spend = match v {
                    FieldValue::Int(n) => Some(*n as f64),
                    FieldValue::Float(f) => Some(*f),
                    FieldValue::Text(s) => s.trim().parse().ok(),
                    _ => None,
                }
            }
            other => {
                if let Some(key) = other.strip_prefix(CUSTOM) {
                    w.custom_attributes.insert(key.to_string(), v.clone());
                }
            }
        }
    }
    w
}

fn absent_on_404<T>(r: Result<T, IntercomError>) -> PortResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(IntercomError::NotFound { .. } | IntercomError::Merged { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn contact_id(id: &str) -> PortResult<ContactId> {
    ContactId::parse(id).map_err(|e| PortError::rejected(Service::Intercom, format!("contact id: {e}")))
}

fn company_id(id: &str) -> PortResult<CompanyId> {
    CompanyId::parse(id).map_err(|e| PortError::rejected(Service::Intercom, format!("company id: {e}")))
}

impl IntercomClient {
    async fn profile_write(
        &self,
        kind: Kind,
        id: Option<&str>,
        values: &BTreeMap<String, FieldValue>,
    ) -> PortResult<Profile> {
        match (kind, id) {
            (Kind::Person, Some(id)) => {
                Ok(contact_profile(self.update_contact(&contact_id(id)?, &contact_write(values)).await?))
            }
            (Kind::Person, None) => {
                let mut w = contact_write(values);
                w.role.get_or_insert_with(|| "user".to_string());
                Ok(contact_profile(self.create_contact(&w).await?))
            }
            (Kind::Org, id) => {
                let company_id = match id {
                    Some(id) => self.retrieve_company(&company_id(id)?).await?.company_id,
                    None => values.get("external_id").and_then(FieldValue::as_text),
                };
                let company_id = company_id
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| PortError::rejected(Service::Intercom, "a company needs a company_id"))?;
                Ok(company_profile(self.upsert_company(&company_write(company_id, values)).await?))
            }
        }
    }

    async fn profile_search(&self, query: Query, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
        let page = self.search_contacts(&query, per_page, cursor.map(str::to_string)).await?;
        Ok(ProfilePage {
            items: page.items.into_iter().map(contact_profile).collect(),
            next: page.next,
            total: page.total_count,
        })
    }

    async fn company_page(&self, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
        let page: u32 = cursor.and_then(|c| c.parse().ok()).unwrap_or(1);
        let (items, more) = self.list_companies(page, per_page).await?;
        Ok(ProfilePage {
            items: items.into_iter().map(company_profile).collect(),
            next: more.then(|| (page + 1).to_string()),
            total: None,
        })
    }
}

impl ProfileDirectory for IntercomClient {
    fn side(&self) -> Vendor {
        Vendor::Intercom
    }

    async fn get(&self, kind: Kind, id: &str) -> PortResult<Option<Profile>> {
        Ok(match kind {
            Kind::Person => absent_on_404(self.retrieve_contact(&contact_id(id)?).await)?.map(contact_profile),
            Kind::Org => absent_on_404(self.retrieve_company(&company_id(id)?).await)?.map(company_profile),
        })
    }

    async fn find_by_external_id(&self, kind: Kind, external_id: &str) -> PortResult<Vec<Profile>> {
        match kind {
            Kind::Person => {
                let query = Query::eq("external_id", external_id);
                Ok(self.search_all_contacts(&query).await?.into_iter().map(contact_profile).collect())
            }
            Kind::Org => {
                // `POST /companies` is an upsert; look the company up without creating it.
                let all = self.list_all_companies().await?;
                Ok(all
                    .into_iter()
                    .filter(|c| c.company_id.as_deref() == Some(external_id))
                    .map(company_profile)
                    .collect())
            }
        }
    }

    async fn find_by_email(&self, email: &str) -> PortResult<Vec<Profile>> {
        let query = Query::eq("email", email.trim());
        Ok(self.search_all_contacts(&query).await?.into_iter().map(contact_profile).collect())
    }

    async fn write(&self, kind: Kind, id: Option<&str>, values: &BTreeMap<String, FieldValue>) -> PortResult<Profile> {
        self.profile_write(kind, id, values).await
    }

    async fn join_org(&self, person: &str, org: &str) -> PortResult<()> {
        self.attach_company(&contact_id(person)?, &company_id(org)?).await?;
        Ok(())
    }

    async fn changed_since(&self, kind: Kind, since: Timestamp, cursor: Option<&str>) -> PortResult<ProfilePage> {
        match kind {
            // Intercom compares contact dates by day: ask from the day before and let the
            // caller skip what it already saw.
            Kind::Person => self.profile_search(Query::gt("updated_at", since.0 - DAY), cursor, 150).await,
            Kind::Org => {
                let mut page = self.company_page(cursor, 60).await?;
                page.items.retain(|p| p.updated_at >= since);
                Ok(page)
            }
        }
    }

    async fn list_page(&self, kind: Kind, cursor: Option<&str>, per_page: u32) -> PortResult<ProfilePage> {
        match kind {
            Kind::Person => self.profile_search(Query::gt("created_at", 0), cursor, per_page.clamp(1, 150)).await,
            Kind::Org => self.company_page(cursor, per_page.clamp(1, 60)).await,
        }
    }

    async fn start_many(&self, kind: Kind, records: &[BulkRecord]) -> PortResult<BulkStarted> {
        // Intercom has no bulk contact write: one call per record.
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            out.push(Some(self.profile_write(kind, None, r).await?.id));
        }
        Ok(BulkStarted::Done(out))
    }

    async fn catalog(&self, kind: Kind) -> PortResult<Vec<CatalogField>> {
        let model = match kind {
            Kind::Person => AttributeModel::Contact,
            Kind::Org => AttributeModel::Company,
        };
        let attrs = self.list_data_attributes(model).await?;
        Ok(attrs
            .into_iter()
            .filter(|a| a.custom == Some(true) && a.archived != Some(true))
            .map(|a| CatalogField { path: format!("{CUSTOM}{}", a.name), data_type: a.data_type, options: vec![] })
            .collect())
    }

    fn rate_limit(&self) -> Option<RateObservation> {
        self.last_rate_limit().map(|s| RateObservation {
            limit: s.limit,
            remaining: s.remaining,
            reset_at_ms: s.reset_at.map(|r| r * 1000),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn writes_split_standard_and_custom_fields() {
        let mut v = BTreeMap::new();
        v.insert("phone".to_string(), FieldValue::Text("+1 555".into()));
        v.insert("custom_attributes.plan".to_string(), FieldValue::Text("pro".into()));
        v.insert("custom_attributes.gone".to_string(), FieldValue::Null);
        let w = contact_write(&v);
        assert_eq!(w.phone.as_deref(), Some("+1 555"));
        assert_eq!(w.custom_attributes.get("plan"), Some(&FieldValue::Text("pro".into())));
        assert_eq!(w.custom_attributes.get("gone"), Some(&FieldValue::Null));
        let c = company_write("acme".into(), &v);
        assert_eq!(c.company_id, "acme");
        assert!(c.custom_attributes.contains_key("plan"));
    }
}
