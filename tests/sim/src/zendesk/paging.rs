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

/// How far in the past an export's `start_time` must be: "Must be at least one minute in the
/// past. Data isn't provided for the most recent minute." (OpenAPI `OptionalIncrementalUnixTime`).
pub const EXPORT_MIN_AGE_SECS: i64 = 60;

/// One page of a cursor-based incremental export over `(updated_at, id, json)` rows sorted by
/// `(updated_at, id)`, at the simulated time `now`. A `start_time` within the last minute (or in
/// the future) is a 400, as Zendesk answers the cursor-based exports.
pub fn export_page(rows: Vec<(i64, u64, Value)>, key: &str, q: &Query, url: &str, now: i64) -> Result<Value, ApiError> {
    let per_page: usize = param(q, "per_page").and_then(|p| p.parse().ok()).unwrap_or(1000).clamp(1, 1000);
    let from: (i64, u64, bool) = if let Some(c) = param(q, "cursor") {
        let (t, id) = parse_export_cursor(c).ok_or_else(invalid_cursor)?;
        (t, id, false)
    } else if let Some(s) = param(q, "start_time") {
        let t: i64 =
            s.parse().map_err(|_| ApiError::bad_request("InvalidValue", "start_time must be a Unix timestamp"))?;
        if t > now - EXPORT_MIN_AGE_SECS {
            return Err(ApiError::bad_request(
                "InvalidValue",
                "Too recent start_time. Use a start_time older than 1 minute",
            ));
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn an_export_start_time_must_be_a_minute_old() {
        let rows = vec![(900, 1, json!({"id": 1})), (950, 2, json!({"id": 2}))];
        let now = 1_000;
        let err = export_page(rows.clone(), "tickets", &q(&[("start_time", "941")]), "u", now).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.body["description"].as_str().unwrap().starts_with("Too recent start_time"));
        assert!(export_page(rows.clone(), "tickets", &q(&[("start_time", "5000")]), "u", now).is_err(), "future");
        let page = export_page(rows, "tickets", &q(&[("start_time", "940")]), "u", now).unwrap();
        assert_eq!(page["tickets"], json!([{"id": 2}]));
        assert_eq!(page["end_of_stream"], json!(true));
    }

    #[test]
    fn export_cursors_page_to_the_end_of_the_stream() {
        let rows: Vec<(i64, u64, Value)> = (1..=3).map(|i| (i as i64 * 10, i, json!({"id": i}))).collect();
        let first = export_page(rows.clone(), "tickets", &q(&[("start_time", "0"), ("per_page", "2")]), "u", 1_000);
        let first = first.unwrap();
        assert_eq!((first["tickets"].as_array().unwrap().len(), &first["end_of_stream"]), (2, &json!(false)));
        let cursor = first["after_cursor"].as_str().unwrap();
        let next = export_page(rows, "tickets", &q(&[("cursor", cursor), ("per_page", "2")]), "u", 1_000).unwrap();
        assert_eq!((&next["tickets"], &next["end_of_stream"]), (&json!([{"id": 3}]), &json!(true)));
    }
}
