//! One rate budget per vendor account and endpoint class, shared by every concurrent function.
//!
//! The budget is a store document (`RL#<vendor>#<class>`, see
//! [`bridge_domain::profiles::budget`]) read and written with optimistic versions: a caller
//! takes its calls from it before talking to the vendor, waits when the window is spent, and
//! afterwards folds in what the vendor's headers said (`X-RateLimit-Remaining`, the reset time,
//! `Retry-After` on a 429). So several Lambdas, or a Lambda and `bridge backfill`, stay under one
//! limit together instead of each assuming it owns the account.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bridge_domain::event::Vendor;
use bridge_domain::keys::DocKey;
use bridge_domain::ports::{PortError, PortResult, Store};
use bridge_domain::profiles::budget::{Budget, Take};
use bridge_domain::profiles::directory::RateObservation;
use serde::{Deserialize, Serialize};

use crate::JobError;

/// Attempts of one metered operation answered 429 before giving up.
const MAX_THROTTLED: u32 = 8;
/// Store races lost in a row before giving up (many writers on one budget).
const MAX_RACES: u32 = 50;
/// Longest single wait; a longer one is spent in steps (the window may be corrected meanwhile).
const MAX_WAIT: Duration = Duration::from_secs(10);

/// A vendor account's endpoint class and what it allows.
#[derive(Debug, Clone, PartialEq)]
pub struct RateClass {
    /// The vendor account.
    pub vendor: Vendor,
    /// Endpoint class (`api` for the account-wide limit, `incremental` for Zendesk exports).
    pub class: &'static str,
    /// Calls the vendor allows per window.
    pub limit: u32,
    /// The vendor's window.
    pub window: Duration,
    /// Fraction of the limit left for everything else using the account (0.0 to 0.9).
    pub headroom: f64,
}

impl RateClass {
    /// Zendesk's account-wide limit: `per_minute` requests a minute (700 on Enterprise).
    pub fn zendesk(per_minute: u32) -> Self {
        Self::new(Vendor::Zendesk, "api", per_minute, Duration::from_secs(60))
    }

    /// Intercom's per-app limit, enforced in 10-second windows (10,000 a minute = 1,666 per 10 s).
    pub fn intercom(per_ten_seconds: u32) -> Self {
        Self::new(Vendor::Intercom, "api", per_ten_seconds, Duration::from_secs(10))
    }

    /// Any class; 10 % headroom.
    pub fn new(vendor: Vendor, class: &'static str, limit: u32, window: Duration) -> Self {
        Self { vendor, class, limit: limit.max(1), window, headroom: 0.1 }
    }

    /// The store key of its budget.
    pub fn key(&self) -> DocKey {
        DocKey::RateBudget { vendor: self.vendor, class: self.class }
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(60_000).max(1)
    }
}

/// The stored document: the budget and the vendor limit it was built from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BudgetDoc {
    budget: Budget,
    configured_limit: u32,
}

/// What a budget did for this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateStats {
    /// Calls granted.
    pub granted: u64,
    /// Milliseconds spent waiting for the window.
    pub waited_ms: u64,
    /// Operations the vendor answered 429 anyway (then waited out and retried).
    pub throttled: u64,
}

/// A shared budget over the store.
#[derive(Debug)]
pub struct SharedBudget<'a, S: Store> {
    store: &'a S,
    class: RateClass,
    stats: Mutex<RateStats>,
}

/// Wall-clock milliseconds (budgets are shared across machines, so the wall clock it is).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl<'a, S: Store> SharedBudget<'a, S> {
    /// The budget of `class` in `store`.
    pub fn new(store: &'a S, class: RateClass) -> Self {
        Self { store, class, stats: Mutex::new(RateStats::default()) }
    }

    /// The class.
    pub fn class(&self) -> &RateClass {
        &self.class
    }

    /// What this process did with it so far.
    pub fn stats(&self) -> RateStats {
        self.stats.lock().map(|s| *s).unwrap_or_else(|p| *p.into_inner())
    }

    fn count(&self, f: impl FnOnce(&mut RateStats)) {
        match self.stats.lock() {
            Ok(mut s) => f(&mut s),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    async fn load(&self, now: i64) -> Result<(BudgetDoc, Option<u64>), JobError> {
        let fresh = || BudgetDoc {
            budget: Budget::new(self.class.limit, self.class.window_ms(), self.class.headroom, now),
            configured_limit: self.class.limit,
        };
        Ok(match self.store.load::<BudgetDoc>(&self.class.key()).await? {
            Some(v) => (v.value, Some(v.version)),
            None => (fresh(), None),
        })
    }

    /// Changes the stored budget with `f`, retrying lost races; returns what `f` returned.
    async fn update<T>(&self, mut f: impl FnMut(&mut Budget, i64, u32) -> T) -> Result<T, JobError> {
        for _ in 0..MAX_RACES {
            let now = now_ms();
            let (mut doc, version) = self.load(now).await?;
            let out = f(&mut doc.budget, now, doc.configured_limit);
            if self.store.save(&self.class.key(), &doc, version).await? {
                return Ok(out);
            }
        }
        Err(JobError::Retry {
            after: Some(Duration::from_secs(1)),
            source: PortError::Conflict {
                service: bridge_domain::ports::Service::Store,
                detail: format!("rate budget {} is contended", self.class.key()),
            },
        })
    }

    /// Takes `calls` calls, waiting while the shared window is spent.
    pub async fn acquire(&self, calls: u32) -> Result<(), JobError> {
        self.acquire_before(calls, None).await.map(|_| ())
    }

    /// Takes `calls` calls, waiting while the shared window is spent, unless the window allows
    /// them only after `deadline`: then nothing is taken and the answer is `false` (a caller
    /// with a deadline pauses instead of waiting past it).
    pub async fn acquire_before(&self, calls: u32, deadline: Option<Instant>) -> Result<bool, JobError> {
        loop {
            match self.update(|b, now, _| b.take_n(calls, now)).await? {
                Take::Granted => {
                    self.count(|s| s.granted += u64::from(calls));
                    return Ok(true);
                }
                Take::Wait(ms) => {
                    let full = Duration::from_millis(u64::try_from(ms).unwrap_or(1));
                    if deadline.is_some_and(|d| Instant::now() + full > d) {
                        return Ok(false);
                    }
                    let wait = full.min(MAX_WAIT);
                    self.count(|s| s.waited_ms += u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Folds in the vendor's latest headers.
    pub async fn observe(&self, seen: Option<RateObservation>) -> Result<(), JobError> {
        let Some(seen) = seen else { return Ok(()) };
        self.update(|b, now, configured| {
            if let Some(limit) = seen.limit {
                b.adopt_vendor_limit(configured, limit);
            }
            b.observe(&seen, now);
        })
        .await
    }

    /// The vendor answered 429: nobody calls before `retry_after` has passed.
    pub async fn throttled(&self, retry_after: Duration) -> Result<(), JobError> {
        self.count(|s| s.throttled += 1);
        let ms = i64::try_from(retry_after.as_millis()).unwrap_or(60_000);
        self.update(|b, now, _| b.throttled(ms, now)).await
    }

    /// Runs one vendor operation of about `calls` requests under the budget: acquire, call,
    /// fold in the headers (`headers` reads the client's last snapshot), and on a 429 wait out
    /// `Retry-After` / the reset and try again. `None` (the operation not run, or its 429 not
    /// retried) when the budget allows the calls only after `deadline`.
    pub async fn metered<T, Fut>(
        &self,
        calls: u32,
        deadline: Option<Instant>,
        headers: impl Fn() -> Option<RateObservation>,
        mut op: impl FnMut() -> Fut,
    ) -> Result<Option<T>, JobError>
    where
        Fut: Future<Output = PortResult<T>>,
    {
        let mut throttled = 0;
        loop {
            if !self.acquire_before(calls, deadline).await? {
                return Ok(None);
            }
            let result = op().await;
            self.observe(headers()).await?;
            match result {
                Err(PortError::RateLimited { retry_after, .. }) if throttled < MAX_THROTTLED => {
                    throttled += 1;
                    tracing::warn!(budget = %self.class.key(), wait_ms = retry_after.as_millis() as u64, "vendor answered 429 despite the budget");
                    self.throttled(retry_after).await?;
                }
                other => return other.map(Some).map_err(JobError::from),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::fakes::MemStore;

    #[tokio::test]
    async fn concurrent_holders_share_one_window() {
        let store = MemStore::default();
        let class =
            RateClass { headroom: 0.0, ..RateClass::new(Vendor::Zendesk, "api", 5, Duration::from_millis(400)) };
        let a = SharedBudget::new(&store, class.clone());
        let b = SharedBudget::new(&store, class);
        let started = std::time::Instant::now();
        for _ in 0..3 {
            a.acquire(1).await.unwrap();
            b.acquire(1).await.unwrap();
        }
        // Six calls against five per window: the sixth had to wait for the next window.
        assert!(started.elapsed() >= Duration::from_millis(100), "{:?}", started.elapsed());
        assert_eq!(a.stats().granted + b.stats().granted, 6);
        assert!(a.stats().waited_ms + b.stats().waited_ms > 0);
        let doc: BudgetDoc =
            store.load(&DocKey::RateBudget { vendor: Vendor::Zendesk, class: "api" }).await.unwrap().unwrap().value;
        assert_eq!(doc.budget.limit, 5);
    }

    #[tokio::test]
    async fn a_429_is_waited_out_and_retried() {
        let store = MemStore::default();
        let budget = SharedBudget::new(&store, RateClass::new(Vendor::Intercom, "api", 100, Duration::from_secs(10)));
        let calls = std::sync::atomic::AtomicU32::new(0);
        let started = std::time::Instant::now();
        let out = budget
            .metered(
                1,
                None,
                || None,
                || async {
                    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        Err(PortError::RateLimited {
                            service: bridge_domain::ports::Service::Intercom,
                            retry_after: Duration::from_millis(300),
                        })
                    } else {
                        Ok(7)
                    }
                },
            )
            .await
            .unwrap();
        assert_eq!(out, Some(7));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(started.elapsed() >= Duration::from_millis(250), "Retry-After honoured");
        assert_eq!(budget.stats().throttled, 1);
    }

    #[tokio::test]
    async fn vendor_headers_tighten_the_shared_window() {
        let store = MemStore::default();
        let budget = SharedBudget::new(&store, RateClass::new(Vendor::Zendesk, "api", 700, Duration::from_secs(60)));
        budget.acquire(1).await.unwrap();
        let reset = now_ms() + 60_000;
        budget
            .observe(Some(RateObservation { limit: Some(700), remaining: Some(0), reset_at_ms: Some(reset) }))
            .await
            .unwrap();
        let doc: BudgetDoc =
            store.load(&DocKey::RateBudget { vendor: Vendor::Zendesk, class: "api" }).await.unwrap().unwrap().value;
        assert_eq!(doc.budget.remaining, 0, "the vendor said nothing is left");
        assert!(doc.budget.reset_at_ms >= reset - 1000);
    }

    #[tokio::test]
    async fn a_caller_with_a_deadline_is_not_kept_waiting_past_it() {
        let store = MemStore::default();
        let class = RateClass { headroom: 0.0, ..RateClass::new(Vendor::Zendesk, "api", 2, Duration::from_secs(60)) };
        let budget = SharedBudget::new(&store, class);
        let soon = Some(Instant::now() + Duration::from_secs(5));
        assert_eq!(budget.metered(2, soon, || None, || async { Ok(1) }).await.unwrap(), Some(1));
        // The window is spent until a minute from now: the call is not made, nothing is taken.
        let started = Instant::now();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let out = budget
            .metered(
                1,
                soon,
                || None,
                || async {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Ok(2)
                },
            )
            .await
            .unwrap();
        assert_eq!((out, calls.load(std::sync::atomic::Ordering::SeqCst)), (None, 0));
        assert!(started.elapsed() < Duration::from_secs(1), "answered at once, {:?}", started.elapsed());
        assert_eq!(budget.stats().granted, 2);
    }
}
