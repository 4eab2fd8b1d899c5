//! Organizations: upserts.

use std::collections::BTreeMap;

use super::{Actor, ApiError, OrgInput, State, normalize_tags};
use crate::zendesk::model::OrgRec;

impl State {
    /// `create_or_update`: matched on id or external id only. Returns (id, created).
    pub fn upsert_org(&mut self, actor: Actor, input: OrgInput) -> Result<(u64, bool), ApiError> {
        let matched = input.id.filter(|i| self.orgs.contains_key(i)).or_else(|| {
            input
                .external_id
                .as_deref()
                .and_then(|x| {
                    self.orgs.values().find(|o| o.external_id.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(x)))
                })
                .map(|o| o.id)
        });
        let now = self.now();
        if let Some(name) = &input.name
            && self.orgs.values().any(|o| o.name.eq_ignore_ascii_case(name) && Some(o.id) != matched)
        {
            return Err(ApiError::invalid("name", "DuplicateValue", "Name: has already been taken"));
        }
        let known = self.known_fields(&self.org_fields, input.organization_fields.as_ref());
        let (before, mut o, created) = match matched {
            Some(id) => {
                let b = self.orgs.get(&id).cloned().ok_or_else(ApiError::not_found)?;
                (Some(b.clone()), b, false)
            }
            None => {
                let name = input
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| ApiError::invalid("name", "BlankValue", "Name: cannot be blank"))?;
                let id = self.new_id();
                let o = OrgRec {
                    id,
                    name,
                    external_id: None,
                    domain_names: Vec::new(),
                    tags: Vec::new(),
                    organization_fields: BTreeMap::new(),
                    group_id: None,
                    created_at: now,
                    updated_at: now,
                };
                (None, o, true)
            }
        };
        if let Some(n) = input.name {
            o.name = n;
        }
        if let Some(x) = input.external_id {
            o.external_id = Some(x);
        }
        if let Some(d) = input.domain_names {
            o.domain_names = d;
        }
        if let Some(t) = input.tags {
            o.tags = normalize_tags(&t);
        }
        if let Some(g) = input.group_id {
            o.group_id = Some(g);
        }
        o.organization_fields.extend(known);
        if before.as_ref() != Some(&o) {
            o.updated_at = now;
        }
        self.orgs.insert(o.id, o.clone());
        self.queue_org_events(actor, before.as_ref(), &o);
        Ok((o.id, created))
    }
}
