//! The shared rate budget: one document per vendor account and endpoint class
//! (`RL#<vendor>#<class>`), read and written with optimistic versions by every concurrent
//! function, so together they stay under the vendor's limit.
//!
//! The rule is a fixed window mirrored from the vendor's own headers: each call takes one token;
//! an empty window answers how long to wait; the vendor's `X-RateLimit-Remaining` /
//! `X-RateLimit-Reset` (and `Retry-After` on a 429) correct the window.

use serde::{Deserialize, Serialize};

use super::directory::RateObservation;

/// The shared window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Calls allowed per window.
    pub limit: u32,
    /// Window length in milliseconds.
    pub window_ms: i64,
    /// Calls left in the current window.
    pub remaining: u32,
    /// When the current window ends (Unix ms).
    pub reset_at_ms: i64,
}

/// Answer of [`Budget::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Go ahead.
    Granted,
    /// Wait this many milliseconds, then ask again.
    Wait(i64),
}

impl Budget {
    /// A fresh budget of `limit` calls per `window_ms`, keeping `headroom` (a fraction, e.g.
    /// 0.1) for other clients of the account.
    pub fn new(limit: u32, window_ms: i64, headroom: f64, now_ms: i64) -> Self {
        let limit = ((f64::from(limit)) * (1.0 - headroom.clamp(0.0, 0.9))).floor().max(1.0) as u32;
        Self { limit, window_ms: window_ms.max(1), remaining: limit, reset_at_ms: now_ms + window_ms.max(1) }
    }

    /// Takes one call.
    pub fn take(&mut self, now_ms: i64) -> Take {
        self.take_n(1, now_ms)
    }

    /// Takes `n` calls at once (an operation known to make several requests, such as a bulk
    /// write and its job polls), or none when the window cannot hold them all. A request for more
    /// than a whole window is capped at the window's limit, so it can always be granted.
    pub fn take_n(&mut self, n: u32, now_ms: i64) -> Take {
        if now_ms >= self.reset_at_ms {
            // Windows follow each other; skip the ones nobody used.
            let windows = (now_ms - self.reset_at_ms) / self.window_ms + 1;
            self.reset_at_ms += windows * self.window_ms;
            self.remaining = self.limit;
        }
        let n = n.clamp(1, self.limit.max(1));
        if self.remaining < n {
            return Take::Wait((self.reset_at_ms - now_ms).max(1));
        }
        self.remaining -= n;
        Take::Granted
    }

    /// Adopts a lower limit the vendor announced (`X-RateLimit-Limit`), keeping the same
    /// fraction of headroom as the configured one (`configured` = the vendor limit the budget was
    /// built from). Never raises the limit.
    pub fn adopt_vendor_limit(&mut self, configured: u32, announced: u32) {
        if announced == 0 || announced >= configured {
            return;
        }
        let scaled = (u64::from(self.limit) * u64::from(announced) / u64::from(configured.max(1))).max(1);
        let scaled = u32::try_from(scaled).unwrap_or(self.limit);
        if scaled < self.limit {
            self.remaining = self.remaining.min(scaled);
            self.limit = scaled;
        }
    }

    /// Folds in what the vendor's headers said: never more left than the vendor says, and the
    /// vendor's reset time when it is later than ours.
    pub fn observe(&mut self, seen: &RateObservation, now_ms: i64) {
        if let Some(reset) = seen.reset_at_ms
            && reset > self.reset_at_ms
            && reset - now_ms <= 10 * self.window_ms
        {
            self.reset_at_ms = reset;
        }
        if let Some(left) = seen.remaining {
            self.remaining = self.remaining.min(left);
        }
    }

    /// A 429 arrived: nothing is left until `retry_after_ms` has passed, and then the vendor's
    /// window starts afresh (the vendor knows its window better than our estimate).
    pub fn throttled(&mut self, retry_after_ms: i64, now_ms: i64) {
        self.remaining = 0;
        self.reset_at_ms = now_ms + retry_after_ms.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_grants_limit_then_waits_then_refills() {
        let mut b = Budget::new(10, 1000, 0.2, 0);
        assert_eq!(b.limit, 8, "headroom is kept for others");
        for _ in 0..8 {
            assert_eq!(b.take(100), Take::Granted);
        }
        assert_eq!(b.take(100), Take::Wait(900));
        assert_eq!(b.take(1000), Take::Granted, "a new window");
        assert_eq!(b.remaining, 7);
        assert_eq!(b.take(5_500), Take::Granted, "idle windows are skipped");
        assert_eq!(b.reset_at_ms, 6000);
    }

    #[test]
    fn headers_and_retry_after_tighten_the_window() {
        let mut b = Budget::new(100, 10_000, 0.0, 0);
        b.observe(&RateObservation { limit: Some(100), remaining: Some(3), reset_at_ms: Some(12_000) }, 1);
        assert_eq!((b.remaining, b.reset_at_ms), (3, 12_000));
        b.throttled(30_000, 2);
        assert_eq!(b.take(3), Take::Wait(29_999));
    }

    #[test]
    fn several_calls_are_taken_together_or_not_at_all() {
        let mut b = Budget::new(10, 1000, 0.0, 0);
        assert_eq!(b.take_n(3, 10), Take::Granted);
        assert_eq!(b.take_n(3, 10), Take::Granted);
        assert_eq!(b.take_n(3, 10), Take::Granted);
        assert_eq!(b.take_n(3, 10), Take::Wait(990), "only one left");
        assert_eq!(b.remaining, 1, "a refused take takes nothing");
        assert_eq!(b.take_n(50, 1000), Take::Granted, "capped at a whole window");
        assert_eq!(b.remaining, 0);
    }

    #[test]
    fn a_lower_vendor_limit_is_adopted_with_the_same_headroom() {
        let mut b = Budget::new(700, 60_000, 0.1, 0);
        assert_eq!(b.limit, 630);
        b.adopt_vendor_limit(700, 200);
        assert_eq!(b.limit, 180);
        assert!(b.remaining <= 180);
        b.adopt_vendor_limit(700, 2000);
        assert_eq!(b.limit, 180, "never raised");
    }
}
