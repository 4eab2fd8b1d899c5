//! Rate-limit headers, both generations, read from every response.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::HeaderMap;

/// One `zendesk-ratelimit-<bucket>: total=N; remaining=N; resets=S` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Requests allowed in the bucket's window.
    pub total: u32,
    /// Requests left.
    pub remaining: u32,
    /// Seconds until the bucket resets.
    pub resets: u64,
}

/// What the last response said about the budgets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    /// Account limit per minute (`x-rate-limit` or `ratelimit-limit`).
    pub limit: Option<u32>,
    /// Requests left in the window (`x-rate-limit-remaining` or `ratelimit-remaining`).
    pub remaining: Option<u32>,
    /// Time until the window resets (`ratelimit-reset`).
    pub reset_in: Option<Duration>,
    /// Per-endpoint buckets by name (`tickets-index`, `per-ticket-updates`, …).
    pub buckets: BTreeMap<String, Bucket>,
}

impl RateLimitSnapshot {
    /// Reads the headers; None when the response carried none of them.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let num = |names: &[&str]| -> Option<u64> {
            names.iter().find_map(|n| headers.get(*n)?.to_str().ok()?.trim().parse().ok())
        };
        let mut snap = Self {
            limit: num(&["x-rate-limit", "ratelimit-limit", "rate-limit-limit"]).and_then(|v| u32::try_from(v).ok()),
            remaining: num(&["x-rate-limit-remaining", "ratelimit-remaining", "rate-limit-remaining"])
                .and_then(|v| u32::try_from(v).ok()),
            reset_in: num(&["ratelimit-reset", "rate-limit-reset"]).map(Duration::from_secs),
            buckets: BTreeMap::new(),
        };
        for (name, value) in headers {
            let Some(bucket) = name.as_str().strip_prefix("zendesk-ratelimit-") else {
                continue;
            };
            if let Some(parsed) = value.to_str().ok().and_then(parse_bucket) {
                snap.buckets.insert(bucket.to_string(), parsed);
            }
        }
        let empty =
            snap.limit.is_none() && snap.remaining.is_none() && snap.reset_in.is_none() && snap.buckets.is_empty();
        (!empty).then_some(snap)
    }
}

/// Parses `total=30; remaining=29; resets=468`.
fn parse_bucket(raw: &str) -> Option<Bucket> {
    let (mut total, mut remaining, mut resets) = (None, None, None);
    for part in raw.split([';', ',']) {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        match k.trim() {
            "total" => total = v.trim().parse().ok(),
            "remaining" => remaining = v.trim().parse().ok(),
            "resets" => resets = v.trim().parse().ok(),
            _ => {}
        }
    }
    Some(Bucket { total: total?, remaining: remaining?, resets: resets.unwrap_or(0) })
}

/// The wait a 429 asked for: `Retry-After` seconds, else `ratelimit-reset`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    ["retry-after", "ratelimit-reset"].iter().find_map(|n| {
        let raw = headers.get(*n)?.to_str().ok()?.trim();
        raw.parse::<u64>().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(*k), HeaderValue::from_str(v)) {
                h.insert(k, v);
            }
        }
        h
    }

    #[test]
    fn reads_both_generations_and_buckets() {
        let h = headers(&[
            ("x-rate-limit", "700"),
            ("x-rate-limit-remaining", "699"),
            ("ratelimit-reset", "41"),
            ("zendesk-ratelimit-per-ticket-updates", "total=30; remaining=29; resets=468"),
        ]);
        let s = RateLimitSnapshot::from_headers(&h).unwrap();
        assert_eq!(s.limit, Some(700));
        assert_eq!(s.remaining, Some(699));
        assert_eq!(s.reset_in, Some(Duration::from_secs(41)));
        assert_eq!(s.buckets["per-ticket-updates"], Bucket { total: 30, remaining: 29, resets: 468 });
    }

    #[test]
    fn new_generation_only() {
        let h = headers(&[("ratelimit-limit", "400"), ("ratelimit-remaining", "3")]);
        let s = RateLimitSnapshot::from_headers(&h).unwrap();
        assert_eq!((s.limit, s.remaining), (Some(400), Some(3)));
        assert!(RateLimitSnapshot::from_headers(&HeaderMap::new()).is_none());
    }

    #[test]
    fn retry_after_prefers_retry_after() {
        let h = headers(&[("retry-after", "12"), ("ratelimit-reset", "40")]);
        assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
        assert_eq!(parse_bucket("garbage"), None);
    }
}
