//! Pagination: Intercom's cursor pages and page-numbered lists, and the paging and sort of search
//! bodies.

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

use crate::intercom::ApiError;

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({"offset": offset}).to_string())
}

pub(super) fn decode_cursor(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    base64::engine::general_purpose::STANDARD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("offset").and_then(Value::as_u64))
        .map(|n| n as usize)
        .ok_or_else(|| ApiError::invalid("Invalid starting_after value"))
}

/// One page of `items` with Intercom's cursor `pages` object.
pub(super) fn cursor_page<T>(items: impl IntoIterator<Item = T>, per_page: usize, offset: usize) -> (Vec<T>, Value) {
    let items: Vec<T> = items.into_iter().collect();
    let total = items.len();
    let per_page = per_page.clamp(1, 150);
    let page_items: Vec<T> = items.into_iter().skip(offset).take(per_page).collect();
    let page = offset / per_page + 1;
    let total_pages = total.div_ceil(per_page).max(1);
    let mut pages = json!({"type": "pages", "page": page, "per_page": per_page, "total_pages": total_pages});
    if offset + per_page < total {
        // `starting_after_paging`: `{per_page, starting_after}` (no `page`).
        pages["next"] = json!({"per_page": per_page, "starting_after": encode_cursor(offset + per_page)});
    }
    (page_items, pages)
}

fn per_page_of(v: Option<&Value>, default: usize) -> usize {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|n| n as usize).unwrap_or(default),
        Some(Value::String(s)) => s.parse().unwrap_or(default),
        _ => default,
    }
}

pub(super) fn search_params(b: &Value, default_per_page: usize) -> Result<(Value, usize, usize), ApiError> {
    let query = b
        .get("query")
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "parameter_not_found", "query is required"))?;
    let pagination = b.get("pagination");
    let per_page = per_page_of(pagination.and_then(|p| p.get("per_page")), default_per_page);
    if per_page > 150 {
        return Err(ApiError::invalid("per_page must be 150 or less"));
    }
    let offset = decode_cursor(pagination.and_then(|p| p.get("starting_after")).and_then(Value::as_str))?;
    if let Some(order) = b.get("sort").and_then(|s| s.get("order")).and_then(Value::as_str)
        && order != "ascending"
        && order != "descending"
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_sort_order",
            "sort order must be ascending or descending",
        ));
    }
    Ok((query, per_page, offset))
}

/// The `sort` of a search body: `(field, ascending)`; the order defaults to `descending`.
pub(super) fn search_sort(b: &Value) -> Result<Option<(String, bool)>, ApiError> {
    let Some(sort) = b.get("sort").filter(|s| !s.is_null()) else {
        return Ok(None);
    };
    let field = sort
        .get("field")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::invalid("sort field is required"))?;
    let ascending = sort.get("order").and_then(Value::as_str) == Some("ascending");
    Ok(Some((field.to_string(), ascending)))
}

/// Orders two sort values: numbers numerically, text by text; a missing value sorts last
/// whatever the order.
pub(super) fn sort_cmp(a: Option<&Value>, b: Option<&Value>, ascending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let o = match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => x.to_string().cmp(&y.to_string()),
            };
            if ascending { o } else { o.reverse() }
        }
    }
}

/// Page-numbered list (`data`, `pages.next` as a URL or null).
pub(super) fn page_numbered(all: Vec<Value>, page: usize, per_page: usize, path: &str) -> Value {
    let total = all.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let data: Vec<Value> = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let next = if page < total_pages {
        json!(format!("https://api.intercom.io{path}?page={}&per_page={per_page}", page + 1))
    } else {
        Value::Null
    };
    json!({"type": "list", "data": data, "pages": {"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": total_pages}, "total_count": total})
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;

    #[test]
    fn sort_values_order_numbers_and_put_missing_ones_last() {
        let (one, two, null) = (json!(1), json!(2), Value::Null);
        assert_eq!(sort_cmp(Some(&one), Some(&two), true), Ordering::Less);
        assert_eq!(sort_cmp(Some(&one), Some(&two), false), Ordering::Greater);
        assert_eq!(sort_cmp(Some(&null), Some(&one), true), Ordering::Greater);
        assert_eq!(sort_cmp(None, Some(&one), false), Ordering::Greater);
        assert_eq!(
            search_sort(&json!({"sort": {"field": "updated_at"}})).ok().flatten(),
            Some(("updated_at".into(), false))
        );
        assert!(search_sort(&json!({"sort": {"order": "ascending"}})).is_err());
        assert_eq!(search_sort(&json!({})).ok().flatten(), None);
    }
}
