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
