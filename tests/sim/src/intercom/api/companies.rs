//! Companies: upsert, show and list.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use super::paging::page_numbered;
use super::{ApiResult, Params, Sh, body};
use crate::intercom::ApiError;
use crate::intercom::actions;

pub(super) async fn upsert_company(State(sh): Sh, raw: Bytes) -> ApiResult {
    let b = body(&raw)?;
    sh.mutate(|st, ev| actions::upsert_company(st, ev, &b).map(Json))
}

pub(super) async fn get_company(State(sh): Sh, Path(id): Path<String>) -> ApiResult {
    sh.read(|st| {
        st.companies
            .get(&id)
            .map(|c| Json(st.company_json(c, false)))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"))
    })
}

/// `GET /companies`: by `company_id`/`name` a single company; otherwise a page-numbered list
/// of companies that have at least one contact (Intercom hides the others).
pub(super) async fn list_companies(State(sh): Sh, Query(q): Params) -> ApiResult {
    sh.read(|st| {
        if let Some(cid) = q.get("company_id") {
            return st
                .companies
                .values()
                .find(|c| &c.company_id == cid)
                .map(|c| Json(st.company_json(c, false)))
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"));
        }
        if let Some(name) = q.get("name") {
            return st
                .companies
                .values()
                .find(|c| c.name.as_deref() == Some(name.as_str()))
                .map(|c| Json(st.company_json(c, false)))
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "company_not_found", "Company Not Found"));
        }
        let page: usize = q.get("page").and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
        let per_page: usize = q.get("per_page").and_then(|s| s.parse().ok()).unwrap_or(15).clamp(1, 60);
        let mut visible: Vec<_> =
            st.companies.values().filter(|c| st.contacts.values().any(|p| p.company_ids.contains(&c.id))).collect();
        visible.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        let all = visible.into_iter().map(|c| st.company_json(c, false)).collect();
        Ok(Json(page_numbered(all, page, per_page, "/companies")))
    })
}
