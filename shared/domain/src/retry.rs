//! The one retry and rate-limit policy every adapter follows.
//!
//! Inside a request, only short waits are spent: a 429 whose wait is short, or a transient
//! failure, is retried a few times with jittered exponential backoff. Anything longer is
//! returned to the caller, and the queue driver delays the whole message (visibility timeout)
//! instead of sleeping inside the function.

use std::time::Duration;

use crate::ports::PortError;

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (first try included).
    pub max_attempts: u32,
    /// Longest wait spent inside a request; longer waits go back to the queue.
    pub max_inline_wait: Duration,
    /// First backoff for transient failures; doubled each attempt.
    pub base_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 4, max_inline_wait: Duration::from_secs(3), base_backoff: Duration::from_millis(100) }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give the error back to the caller.
    GiveUp,
}

impl RetryPolicy {
    /// Decides after attempt number `attempt` (1-based) failed with `error`. `jitter` in
    /// [0, 1) spreads concurrent retries; pass a random number.
    pub fn decide(&self, attempt: u32, error: &PortError, jitter: f64) -> RetryDecision {
        if attempt >= self.max_attempts || !error.is_retryable() {
            return RetryDecision::GiveUp;
        }
        let wait = match error.retry_after() {
            Some(asked) => asked + self.base_backoff.mul_f64(jitter.clamp(0.0, 1.0)),
            None => {
                let exp = self.base_backoff.saturating_mul(1u32 << (attempt - 1).min(16));
                exp + exp.mul_f64(jitter.clamp(0.0, 1.0))
            }
        };
        if wait > self.max_inline_wait { RetryDecision::GiveUp } else { RetryDecision::RetryAfter(wait) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Service;

    fn limited(secs: u64) -> PortError {
        PortError::RateLimited { service: Service::Zendesk, retry_after: Duration::from_secs(secs) }
    }

    #[test]
    fn short_rate_limit_waits_inline() {
        let p = RetryPolicy::default();
        assert_eq!(p.decide(1, &limited(1), 0.0), RetryDecision::RetryAfter(Duration::from_secs(1)));
    }

    #[test]
    fn long_rate_limit_goes_back_to_the_queue() {
        let p = RetryPolicy::default();
        assert_eq!(p.decide(1, &limited(30), 0.0), RetryDecision::GiveUp);
    }

    #[test]
    fn transient_failures_back_off_exponentially_then_give_up() {
        let p = RetryPolicy::default();
        let e = || PortError::unavailable(Service::Intercom, "502");
        assert_eq!(p.decide(1, &e(), 0.0), RetryDecision::RetryAfter(Duration::from_millis(100)));
        assert_eq!(p.decide(2, &e(), 0.0), RetryDecision::RetryAfter(Duration::from_millis(200)));
        assert_eq!(p.decide(3, &e(), 0.0), RetryDecision::RetryAfter(Duration::from_millis(400)));
        assert_eq!(p.decide(4, &e(), 0.0), RetryDecision::GiveUp);
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        let p = RetryPolicy::default();
        assert_eq!(p.decide(1, &PortError::rejected(Service::Zendesk, "422"), 0.5), RetryDecision::GiveUp);
    }
}
