//! Cursor and offset pagination as Zendesk does it, plus incremental-export cursors.

use base64::Engine as _;
use serde_json::{Value, json};

use super::state::ApiError;

/// Query string pairs.
pub type Query = Vec<(String, String)>;

/// The first value of a query parameter.
pub fn param<'a>(q: &'a Query, name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn encode(raw: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()
}

fn invalid_cursor() -> ApiError {
    ApiError::bad_request("InvalidPaginationParameter", "cursor is invalid")
}

fn item_id(v: &Value) -> u64 {
    v.get("id").and_then(Value::as_u64).unwrap_or_default()
}

/// Pages `items` (already ordered) under `key`: cursor pagination when `page[size]` is given,
/// offset pagination (`page`, `per_page`) otherwise. `url` is the list URL without query.
pub fn page(items: Vec<Value>, key: &str, q: &Query, url: &str) -> Result<Value, ApiError> {
    match param(q, "page[size]") {
        Some(size) => cursor_page(items, key, q, url, size),
        None => offset_page(items, key, q, url),
    }
}

fn cursor_page(items: Vec<Value>, key: &str, q: &Query, url: &str, size: &str) -> Result<Value, ApiError> {
    let size: usize =
        size.parse().map_err(|_| ApiError::bad_request("InvalidPaginationParameter", "page[size] must be a number"))?;
    if size == 0 || size > 100 {
        return Err(ApiError::bad_request("InvalidPaginationParameter", "page[size] must be between 1 and 100"));
    }
    let position = |cursor: &str| -> Result<usize, ApiError> {
        let raw = decode(cursor).ok_or_else(invalid_cursor)?;
        let id: u64 = raw.strip_prefix("id:").and_then(|n| n.parse().ok()).ok_or_else(invalid_cursor)?;
        items.iter().position(|v| item_id(v) == id).ok_or_else(invalid_cursor)
    };
    let (start, end) = if let Some(after) = param(q, "page[after]") {
        let s = position(after)? + 1;
        (s, (s + size).min(items.len()))
    } else if let Some(before) = param(q, "page[before]") {
        let e = position(before)?;
        (e.saturating_sub(size), e)
    } else {
        (0, size.min(items.len()))
    };
    let slice: Vec<Value> = items.get(start..end).map(<[Value]>::to_vec).unwrap_or_default();
    let has_more = end < items.len();
    let after_cursor = slice.last().map(|v| encode(&format!("id:{}", item_id(v))));
    let before_cursor = slice.first().map(|v| encode(&format!("id:{}", item_id(v))));
    let link = |name: &str, c: &Option<String>| {
        c.as_ref().map(|c| format!("{url}?page%5B{name}%5D={c}&page%5Bsize%5D={size}"))
    };
    Ok(json!({
        key: slice,
        "meta": { "has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor },
        "links": {
            "next": if has_more { link("after", &after_cursor) } else { None },
            "prev": if start > 0 { link("before", &before_cursor) } else { None },
        },
    }))
}

fn offset_page(items: Vec<Value>, key: &str, q: &Query, url: &str) -> Result<Value, ApiError> {
    let page: usize = param(q, "page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    let per_page: usize = param(q, "per_page").and_then(|p| p.parse().ok()).unwrap_or(100).clamp(1, 100);
    if (page - 1) * per_page >= 10_000 {
        return Err(ApiError::bad_request(
            "InvalidPaginationParameter",
            "Offset pagination is limited to the first 10,000 records; use cursor pagination",
        ));
    }
    let count = items.len();
    let start = ((page - 1) * per_page).min(count);
    let end = (start + per_page).min(count);
    let slice: Vec<Value> = items.get(start..end).map(<[Value]>::to_vec).unwrap_or_default();
    let extra: String = q
        .iter()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .map(|(k, v)| format!("&{}={}", enc(k), enc(v)))
        .collect();
    let at = |p: usize| format!("{url}?page={p}&per_page={per_page}{extra}");
    Ok(json!({
        key: slice,
        "next_page": if end < count { Some(at(page + 1)) } else { None },
        "previous_page": if page > 1 { Some(at(page - 1)) } else { None },
        "count": count,
    }))
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A position in an incremental export: `(updated_at, id)`.
pub fn export_cursor(updated_at: i64, id: u64) -> String {
    encode(&format!("t:{updated_at}:{id}"))
}

/// Decodes an export cursor.
pub fn parse_export_cursor(cursor: &str) -> Option<(i64, u64)> {
    let raw = decode(cursor)?;
    let mut parts = raw.strip_prefix("t:")?.splitn(2, ':');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// One page of a cursor-based incremental export over `(updated_at, id, json)` rows sorted by
/// `(updated_at, id)`.
pub fn export_page(rows: Vec<(i64, u64, Value)>, key: &str, q: &Query, url: &str) -> Result<Value, ApiError> {
    let per_page: usize = param(q, "per_page").and_then(|p| p.parse().ok()).unwrap_or(1000).clamp(1, 1000);
    let from: (i64, u64, bool) = if let Some(c) = param(q, "cursor") {
        let (t, id) = parse_export_cursor(c).ok_or_else(invalid_cursor)?;
        (t, id, false)
    } else if let Some(s) = param(q, "start_time") {
        let t: i64 =
            s.parse().map_err(|_| ApiError::bad_request("InvalidValue", "start_time must be a Unix timestamp"))?;
        (t, 0, true)
    } else {
        return Err(ApiError::bad_request("InvalidValue", "start_time or cursor is required"));
    };
    let remaining: Vec<(i64, u64, Value)> = rows
        .into_iter()
        .filter(|(t, id, _)| if from.2 { *t >= from.0 } else { (*t, *id) > (from.0, from.1) })
        .collect();
    let end_of_stream = remaining.len() <= per_page;
    let page: Vec<(i64, u64, Value)> = remaining.into_iter().take(per_page).collect();
    let after = page.last().map_or_else(|| export_cursor(from.0, from.1), |(t, id, _)| export_cursor(*t, *id));
    let before = page.first().map(|(t, id, _)| export_cursor(*t, id.saturating_sub(1)));
    Ok(json!({
        key: page.into_iter().map(|(_, _, v)| v).collect::<Vec<_>>(),
        "after_cursor": after,
        "after_url": format!("{url}?cursor={after}"),
        "before_cursor": before,
        "before_url": before.as_ref().map(|b| format!("{url}?cursor={b}")),
        "end_of_stream": end_of_stream,
    }))
}
