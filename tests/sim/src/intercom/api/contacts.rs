//! Contacts: create, show, update, delete, find, search, merge, companies, tags and segments.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::paging::{cursor_page, page_numbered, search_params};
use super::{ApiResult, Params, Sh, body, required};
use crate::intercom::ApiError;
use crate::intercom::actions;
use crate::intercom::search::{self, Model};

pub(super) async fn create_contact(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, ev| actions::create_contact(st, ev, &b).map(Json))
}

pub(super) async fn get_contact(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        st.contacts
            .get(&id)
            .map(|c| Json(st.contact_json(c, false)))
            .ok_or_else(|| ApiError::not_found("User Not Found"))
    })
}

pub(super) async fn delete_contact(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.mutate(|st, ev| actions::delete_contact(st, ev, &id).map(Json))
}

pub(super) async fn update_contact(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, ev| actions::update_contact(st, ev, &id, &b).map(Json))
}

pub(super) async fn find_by_external_id(State(sh): Sh, Path(external_id): Path<String>) -> ApiResult {
    sh.read(|st| {
        if let Some(c) =
            st.contacts.values().find(|c| c.role == "user" && c.external_id.as_deref() == Some(external_id.as_str()))
        {
            return Ok(Json(st.contact_json(c, false)));
        }
        Err(ApiError::not_found("User Not Found"))
    })
}

pub(super) async fn search_contacts(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let (query, per_page, offset) = search_params(&b, 50)?;
    let ids = sh.cached_search(query.to_string(), |st| {
        let mut list: Vec<_> = st.contacts.values().collect();
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        let mut ids = Vec::new();
        for c in list {
            if search::matches(Model::Contacts, &query, &search::contact_doc(c)).map_err(ApiError::invalid)? {
                ids.push(c.id.clone());
            }
        }
        Ok(ids)
    })?;
    let total = ids.len();
    let (page, pages) = cursor_page(ids.iter(), per_page, offset);
    sh.read(|st| {
        let data: Vec<Value> =
            page.into_iter().filter_map(|id| st.contacts.get(id)).map(|c| st.contact_json(c, false)).collect();
        Ok(Json(json!({"type": "list", "data": data, "total_count": total, "pages": pages})))
    })
}

pub(super) async fn merge_contacts(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let from = required(&b, "from")?;
    let into = required(&b, "into")?;
    sh.mutate(|st, ev| actions::merge_contacts(st, ev, &from, &into).map(Json))
}

pub(super) async fn contact_companies(State(sh): Sh, Path(id): Path<String>, Query(q): Params) -> ApiResult {
    let page: usize = q.get("page").and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
    let per_page: usize = q.get("per_page").and_then(|s| s.parse().ok()).unwrap_or(50).clamp(1, 150);
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        let c = st.contacts.get(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
        let all: Vec<Value> =
            c.company_ids.iter().filter_map(|co| st.companies.get(co)).map(|co| st.company_json(co, false)).collect();
        Ok(Json(page_numbered(all, page, per_page, &format!("/contacts/{id}/companies"))))
    })
}

pub(super) async fn attach_company(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let company = required(&b, "id")?;
    sh.mutate(|st, _| actions::attach_company(st, &id, &company).map(Json))
}

pub(super) async fn contact_tags(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        let c = st.contacts.get(&id).ok_or_else(|| ApiError::not_found("User Not Found"))?;
        Ok(Json(json!({"type": "list", "data": c.tag_ids.iter().map(|t| st.tag_json(t)).collect::<Vec<_>>()})))
    })
}

pub(super) async fn add_contact_tag(State(sh): Sh, Path(id): Path<String>, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    let tag = required(&b, "id")?;
    sh.mutate(|st, ev| actions::contact_tag(st, ev, &id, &tag, true).map(Json))
}

pub(super) async fn remove_contact_tag(State(sh): Sh, Path((id, tag)): Path<(String, String)>) -> ApiResult {
    sh.mutate(|st, ev| actions::contact_tag(st, ev, &id, &tag, false).map(Json))
}

pub(super) async fn contact_segments(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        let id = actions::live_contact(st, &id)?;
        let data: Vec<Value> =
            st.segments.values().filter(|s| s.contact_ids.contains(&id)).map(|s| st.segment_json(s, false)).collect();
        Ok(Json(json!({"type": "list", "data": data})))
    })
}
