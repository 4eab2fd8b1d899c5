//! Counters, emitted as CloudWatch Embedded Metric Format lines (one JSON object on stdout per
//! increment, which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics) and
//! kept in memory so tests and `bridge serve` can read them.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The metrics namespace in CloudWatch.
pub const NAMESPACE: &str = "IntercomZendeskBridge";

/// In-process counters by name.
#[derive(Debug, Default)]
pub struct Counters {
    values: Mutex<BTreeMap<String, u64>>,
    emit: bool,
}

impl Counters {
    /// Counters that also print EMF lines (Lambda).
    pub fn emitting() -> Self {
        Self { values: Mutex::default(), emit: true }
    }

    /// Adds one to `name`, tagged with a dimension such as the vendor or job.
    pub fn incr(&self, name: &str, dimension: (&str, &str)) {
        let key = format!("{name}{{{}={}}}", dimension.0, dimension.1);
        *self.values.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default() += 1;
        if self.emit {
            let line = serde_json::json!({
                "_aws": {
                    "Timestamp": chrono::Utc::now().timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [[dimension.0]],
                        "Metrics": [{ "Name": name, "Unit": "Count" }],
                    }],
                },
                dimension.0: dimension.1,
                name: 1,
            });
            println!("{line}");
        }
    }

    /// Adds `n` to `name`, tagged with a dimension; one EMF line per call.
    pub fn add(&self, name: &str, dimension: (&str, &str), n: u64) {
        let key = format!("{name}{{{}={}}}", dimension.0, dimension.1);
        *self.values.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default() += n;
        if self.emit {
            let line = serde_json::json!({
                "_aws": {
                    "Timestamp": chrono::Utc::now().timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [[dimension.0]],
                        "Metrics": [{ "Name": name, "Unit": "Count" }],
                    }],
                },
                dimension.0: dimension.1,
                name: n,
            });
            println!("{line}");
        }
    }

    /// Adds `n` to `name`, tagged with two dimensions (e.g. vendor and HTTP status); one EMF
    /// line per call.
    pub fn add2(&self, name: &str, first: (&str, &str), second: (&str, &str), n: u64) {
        let key = format!("{name}{{{}={},{}={}}}", first.0, first.1, second.0, second.1);
        *self.values.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default() += n;
        if self.emit {
            let line = serde_json::json!({
                "_aws": {
                    "Timestamp": chrono::Utc::now().timestamp_millis(),
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [[first.0, second.0]],
                        "Metrics": [{ "Name": name, "Unit": "Count" }],
                    }],
                },
                first.0: first.1,
                second.0: second.1,
                name: n,
            });
            println!("{line}");
        }
    }

    /// The value of `name{first=value,second=value}`.
    pub fn get2(&self, name: &str, first: (&str, &str), second: (&str, &str)) -> u64 {
        let key = format!("{name}{{{}={},{}={}}}", first.0, first.1, second.0, second.1);
        self.values.lock().unwrap_or_else(|p| p.into_inner()).get(&key).copied().unwrap_or(0)
    }

    /// Records vendor responses by HTTP status (`VendorCalls{Vendor,Status}`) and rate limits
    /// (`VendorThrottled{Vendor}`, the 429s).
    pub fn vendor_calls(&self, vendor: &str, statuses: &BTreeMap<u16, u64>) {
        for (status, n) in statuses {
            self.add2("VendorCalls", ("Vendor", vendor), ("Status", &status.to_string()), *n);
            if *status == 429 {
                for _ in 0..*n {
                    self.incr("VendorThrottled", ("Vendor", vendor));
                }
            }
        }
    }

    /// The value of `name{dim=value}`.
    pub fn get(&self, name: &str, dimension: (&str, &str)) -> u64 {
        let key = format!("{name}{{{}={}}}", dimension.0, dimension.1);
        self.values.lock().unwrap_or_else(|p| p.into_inner()).get(&key).copied().unwrap_or(0)
    }

    /// Every counter.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.values.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod vendor_call_tests {
    use super::*;

    #[test]
    fn vendor_calls_are_counted_by_status_and_429s_separately() {
        let c = Counters::default();
        c.vendor_calls("zendesk", &BTreeMap::from([(200, 3), (429, 2)]));
        c.vendor_calls("zendesk", &BTreeMap::from([(200, 1)]));
        assert_eq!(c.get2("VendorCalls", ("Vendor", "zendesk"), ("Status", "200")), 4);
        assert_eq!(c.get2("VendorCalls", ("Vendor", "zendesk"), ("Status", "429")), 2);
        assert_eq!(c.get("VendorThrottled", ("Vendor", "zendesk")), 2);
        assert_eq!(c.get("VendorThrottled", ("Vendor", "intercom")), 0);
    }
}
