//! Counters, kept in memory (tests and `bridge serve` read them) and, in a Lambda, written as
//! CloudWatch Embedded Metric Format (EMF) documents, the convention of AWS Lambda Powertools:
//!
//! - one document per run (an SQS batch, a schedule) and per set of dimension values, written
//!   when the run ends ([`Counters::flush`], called by `App::after_run`); the ingress, which has
//!   no end-of-request hook, writes one per call ([`Flush::EachCall`]);
//! - every metric under its own dimension set (`["Job"]`, `["Vendor", "Status"]`: the alarms
//!   read those) and the same set with `service` first (`["service", "Job"]`), `service` being
//!   the function's name (`AWS_LAMBDA_FUNCTION_NAME`, else `bridge`);
//! - `ColdStart` = 1 under `["service"]` with the first document of the process;
//! - written straight to stdout, one line per document, never through `tracing`: neither
//!   `RUST_LOG` nor the level of a log line can drop them. (Lambda's own application log-level
//!   filter would count them as INFO lines: the template leaves that filter open, `TRACE`, and
//!   filters with `RUST_LOG`.)

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// The metrics namespace in CloudWatch.
pub const NAMESPACE: &str = "IntercomZendeskBridge";
/// The dimension every metric also carries: the function's name.
pub const SERVICE_DIMENSION: &str = "service";
/// The metric written once per process, with its first document.
pub const COLD_START: &str = "ColdStart";
/// The service name outside Lambda (`bridge serve`, the CLI, tests).
pub const LOCAL_SERVICE: &str = "bridge";

/// When EMF documents are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// On [`Counters::flush`], at the end of a batch or scheduled run.
    PerRun,
    /// After each count (the ingress: a request has no end-of-run hook).
    EachCall,
}

/// Where EMF documents go.
#[derive(Debug, Clone, Default)]
enum Sink {
    /// Nowhere: in-memory counters only (tests, `bridge serve`).
    #[default]
    Off,
    /// Standard output, one line per document (Lambda ships it to CloudWatch Logs).
    Stdout,
    /// Kept in memory (tests of the documents).
    Capture(Arc<Mutex<Vec<String>>>),
}

/// Dimension values of one group of metrics, in the order they were given.
type Dimensions = Vec<(String, String)>;

/// In-process counters by name, and their EMF documents.
#[derive(Debug)]
pub struct Counters {
    values: Mutex<BTreeMap<String, u64>>,
    pending: Mutex<BTreeMap<Dimensions, BTreeMap<String, u64>>>,
    sink: Sink,
    flush: Flush,
    service: String,
    cold_start: AtomicBool,
}

impl Default for Counters {
    fn default() -> Self {
        Self::with_sink(Sink::Off, Flush::PerRun)
    }
}

impl Counters {
    fn with_sink(sink: Sink, flush: Flush) -> Self {
        let service = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| LOCAL_SERVICE.to_string());
        Self {
            values: Mutex::default(),
            pending: Mutex::default(),
            sink,
            flush,
            service,
            cold_start: AtomicBool::new(true),
        }
    }

    /// Counters that write EMF documents to stdout (Lambda), at the end of each run or after
    /// each count.
    pub fn emitting(flush: Flush) -> Self {
        Self::with_sink(Sink::Stdout, flush)
    }

    /// Counters whose EMF documents are kept in the returned buffer, one string per document.
    pub fn capturing(flush: Flush) -> (Self, Arc<Mutex<Vec<String>>>) {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        (Self::with_sink(Sink::Capture(buffer.clone()), flush), buffer)
    }

    /// The same counters under another `service` name.
    pub fn with_service(mut self, service: &str) -> Self {
        self.service = service.to_string();
        self
    }

    /// The `service` dimension's value.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Adds one to `name`, tagged with a dimension such as the vendor or job.
    pub fn incr(&self, name: &str, dimension: (&str, &str)) {
        self.add(name, dimension, 1);
    }

    /// Adds `n` to `name`, tagged with a dimension.
    pub fn add(&self, name: &str, dimension: (&str, &str), n: u64) {
        self.record(name, &[dimension], n);
    }

    /// Adds `n` to `name`, tagged with two dimensions (e.g. vendor and HTTP status).
    pub fn add2(&self, name: &str, first: (&str, &str), second: (&str, &str), n: u64) {
        self.record(name, &[first, second], n);
    }

    fn record(&self, name: &str, dimensions: &[(&str, &str)], n: u64) {
        *lock(&self.values).entry(key(name, dimensions)).or_default() += n;
        if matches!(self.sink, Sink::Off) {
            return;
        }
        let dims = dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        *lock(&self.pending).entry(dims).or_default().entry(name.to_string()).or_default() += n;
        if self.flush == Flush::EachCall {
            self.flush();
        }
    }

    /// Writes what was counted since the last flush: one EMF document per set of dimension
    /// values (and `ColdStart` with the process's first flush). Nothing when nothing was counted
    /// and the cold start is written.
    pub fn flush(&self) {
        if matches!(self.sink, Sink::Off) {
            return;
        }
        let pending = std::mem::take(&mut *lock(&self.pending));
        let timestamp = chrono::Utc::now().timestamp_millis();
        let mut documents = Vec::new();
        if self.cold_start.swap(false, Ordering::SeqCst) {
            documents.push(self.document(timestamp, &[], &BTreeMap::from([(COLD_START.to_string(), 1)])));
        }
        for (dims, metrics) in &pending {
            documents.push(self.document(timestamp, dims, metrics));
        }
        match &self.sink {
            Sink::Off => {}
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                for doc in &documents {
                    // One write per line, so a document never interleaves with another line.
                    let _ = out.write_all(format!("{doc}\n").as_bytes());
                }
                let _ = out.flush();
            }
            Sink::Capture(buffer) => lock(buffer).extend(documents.iter().map(Value::to_string)),
        }
    }

    /// One EMF document: the metrics of one set of dimension values.
    fn document(&self, timestamp: i64, dims: &[(String, String)], metrics: &BTreeMap<String, u64>) -> Value {
        let names: Vec<&str> = dims.iter().map(|(k, _)| k.as_str()).collect();
        let with_service: Vec<&str> = std::iter::once(SERVICE_DIMENSION).chain(names.iter().copied()).collect();
        let sets: Vec<Vec<&str>> = match names.is_empty() {
            true => vec![with_service],
            false => vec![names, with_service],
        };
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": sets,
                    "Metrics": metrics.keys().map(|name| json!({ "Name": name, "Unit": "Count" })).collect::<Vec<_>>(),
                }],
            }),
        );
        root.insert(SERVICE_DIMENSION.into(), Value::from(self.service.as_str()));
        for (k, v) in dims {
            root.insert(k.clone(), Value::from(v.as_str()));
        }
        for (name, n) in metrics {
            root.insert(name.clone(), Value::from(*n));
        }
        Value::Object(root)
    }

    /// The value of `name{first=value,second=value}`.
    pub fn get2(&self, name: &str, first: (&str, &str), second: (&str, &str)) -> u64 {
        lock(&self.values).get(&key(name, &[first, second])).copied().unwrap_or(0)
    }

    /// Records vendor responses by HTTP status (`VendorCalls{Vendor,Status}`) and rate limits
    /// (`VendorThrottled{Vendor}`, the 429s).
    pub fn vendor_calls(&self, vendor: &str, statuses: &BTreeMap<u16, u64>) {
        for (status, n) in statuses {
            self.add2("VendorCalls", ("Vendor", vendor), ("Status", &status.to_string()), *n);
            if *status == 429 {
                self.add("VendorThrottled", ("Vendor", vendor), *n);
            }
        }
    }

    /// The value of `name{dim=value}`.
    pub fn get(&self, name: &str, dimension: (&str, &str)) -> u64 {
        lock(&self.values).get(&key(name, &[dimension])).copied().unwrap_or(0)
    }

    /// Every counter.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        lock(&self.values).clone()
    }
}

fn key(name: &str, dimensions: &[(&str, &str)]) -> String {
    let dims: Vec<String> = dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{name}{{{}}}", dims.join(","))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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

#[cfg(test)]
mod emf_tests {
    use super::*;

    fn documents(buffer: &Arc<Mutex<Vec<String>>>) -> Vec<Value> {
        lock(buffer).iter().map(|line| serde_json::from_str(line).unwrap()).collect()
    }

    #[test]
    fn a_run_is_one_document_per_set_of_dimension_values_with_service_and_cold_start() {
        let (c, buffer) = Counters::capturing(Flush::PerRun);
        let c = c.with_service("stack-escalate");
        c.incr("ActionsDone", ("Job", "escalate"));
        c.incr("ActionsDone", ("Job", "escalate"));
        c.incr("Retries", ("Job", "escalate"));
        c.add2("VendorCalls", ("Vendor", "zendesk"), ("Status", "200"), 3);
        assert!(lock(&buffer).is_empty(), "nothing is written before the run ends");
        c.flush();
        let docs = documents(&buffer);
        assert_eq!(docs.len(), 3, "{docs:#?}");

        // The cold start: ["service"] only.
        let cold = &docs[0];
        assert_eq!(cold["ColdStart"], 1);
        assert_eq!(cold["service"], "stack-escalate");
        assert_eq!(cold["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["service"]]));

        // The job's counters: one document, the alarms' dimension set and the service's.
        let job = docs.iter().find(|d| d.get("Job").is_some()).unwrap();
        let aws = job["_aws"].as_object().unwrap();
        assert!(aws["Timestamp"].as_i64().unwrap() > 1_600_000_000_000, "milliseconds since the epoch");
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1, "one _aws.CloudWatchMetrics directive");
        assert_eq!(directives[0]["Namespace"], NAMESPACE);
        assert_eq!(directives[0]["Dimensions"], json!([["Job"], ["service", "Job"]]));
        assert_eq!(
            directives[0]["Metrics"],
            json!([{ "Name": "ActionsDone", "Unit": "Count" }, { "Name": "Retries", "Unit": "Count" }])
        );
        assert_eq!((job["service"].as_str(), job["Job"].as_str()), (Some("stack-escalate"), Some("escalate")));
        assert_eq!((job["ActionsDone"].as_u64(), job["Retries"].as_u64()), (Some(2), Some(1)));
        assert!(job.get("level").is_none() && job.get("message").is_none(), "not a log line");

        let vendor = docs.iter().find(|d| d.get("Vendor").is_some()).unwrap();
        assert_eq!(
            vendor["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Vendor", "Status"], ["service", "Vendor", "Status"]])
        );
        assert_eq!((vendor["Status"].as_str(), vendor["VendorCalls"].as_u64()), (Some("200"), Some(3)));

        // The next run: no second cold start; an empty run writes nothing.
        c.incr("ActionsDone", ("Job", "escalate"));
        c.flush();
        c.flush();
        let docs = documents(&buffer);
        assert_eq!(docs.len(), 4);
        assert_eq!(docs[3]["ActionsDone"], 1);
        assert!(docs[3].get("ColdStart").is_none());
        assert_eq!(c.get("ActionsDone", ("Job", "escalate")), 3, "the in-memory totals keep counting");
    }

    #[test]
    fn each_call_writes_at_once_and_in_memory_counters_write_nothing() {
        let (c, buffer) = Counters::capturing(Flush::EachCall);
        c.incr("EventsReceived", ("Vendor", "intercom"));
        let docs = documents(&buffer);
        assert_eq!(docs.len(), 2, "the cold start and the count");
        assert_eq!(docs[1]["EventsReceived"], 1);
        assert_eq!(docs[1]["service"], c.service());
        c.incr("EventsQueued", ("Vendor", "intercom"));
        assert_eq!(documents(&buffer).len(), 3);

        let quiet = Counters::default();
        quiet.incr("EventsReceived", ("Vendor", "intercom"));
        quiet.flush();
        assert_eq!(quiet.get("EventsReceived", ("Vendor", "intercom")), 1);
    }
}
