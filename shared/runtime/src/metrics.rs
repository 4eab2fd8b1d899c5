//! Counters, kept in memory (tests and `bridge serve` read them) and, in a Lambda, written as
//! CloudWatch Embedded Metric Format (EMF) documents, the convention of AWS Lambda Powertools:
//!
//! - written when a run ends ([`Counters::flush`], called by `App::after_run` for an SQS batch
//!   or a schedule, and by the ingress after each request), or per call ([`Flush::EachCall`]);
//! - as few documents as the run's sets of dimension values allow: one `_aws.CloudWatchMetrics`
//!   directive per set, and sets share a document when neither a dimension nor a metric name
//!   clashes (`Job=escalate` with `Vendor=zendesk,Status=200`, but not with `Job=tag-sync`), so a
//!   run usually writes one log line of metrics;
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
/// One set of dimension values and its counts: a directive of an EMF document.
type Group = (Dimensions, BTreeMap<String, u64>);

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
        let mut groups: Vec<Group> = Vec::new();
        if self.cold_start.swap(false, Ordering::SeqCst) {
            groups.push((Vec::new(), BTreeMap::from([(COLD_START.to_string(), 1)])));
        }
        groups.extend(std::mem::take(&mut *lock(&self.pending)));
        let timestamp = chrono::Utc::now().timestamp_millis();
        let documents: Vec<Value> = pack(&groups).iter().map(|doc| self.document(timestamp, doc)).collect();
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

    /// One EMF document: a directive per set of dimension values, their values and counts at
    /// the root (the sets were packed so that none clash).
    fn document(&self, timestamp: i64, groups: &[&Group]) -> Value {
        let mut root = Map::new();
        let mut directives = Vec::with_capacity(groups.len());
        for (dims, metrics) in groups {
            let names: Vec<&str> = dims.iter().map(|(k, _)| k.as_str()).collect();
            let with_service: Vec<&str> = std::iter::once(SERVICE_DIMENSION).chain(names.iter().copied()).collect();
            let sets: Vec<Vec<&str>> = match names.is_empty() {
                true => vec![with_service],
                false => vec![names, with_service],
            };
            directives.push(json!({
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": metrics.keys().map(|name| json!({ "Name": name, "Unit": "Count" })).collect::<Vec<_>>(),
            }));
            for (k, v) in dims {
                root.insert(k.clone(), Value::from(v.as_str()));
            }
            for (name, n) in metrics {
                root.insert(name.clone(), Value::from(*n));
            }
        }
        root.insert("_aws".into(), json!({ "Timestamp": timestamp, "CloudWatchMetrics": directives }));
        root.insert(SERVICE_DIMENSION.into(), Value::from(self.service.as_str()));
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

/// Groups the sets of dimension values into documents, in order: each set joins the first
/// document in which none of its dimension names and none of its metric names is taken (one
/// root member per name, and a dimension has one value per document).
fn pack(groups: &[Group]) -> Vec<Vec<&Group>> {
    let mut documents: Vec<(std::collections::BTreeSet<&str>, Vec<&Group>)> = Vec::new();
    for group in groups {
        let (dims, metrics) = group;
        let names: Vec<&str> = dims.iter().map(|(k, _)| k.as_str()).chain(metrics.keys().map(String::as_str)).collect();
        match documents.iter_mut().find(|(taken, _)| names.iter().all(|n| !taken.contains(n))) {
            Some((taken, members)) => {
                taken.extend(names);
                members.push(group);
            }
            None => documents.push((names.into_iter().collect(), vec![group])),
        }
    }
    documents.into_iter().map(|(_, members)| members).collect()
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

    /// The directive of `doc` whose metrics include `metric`.
    fn directive<'a>(doc: &'a Value, metric: &str) -> &'a Value {
        doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["Metrics"].as_array().unwrap().iter().any(|m| m["Name"] == metric))
            .unwrap_or_else(|| panic!("no directive for {metric} in {doc}"))
    }

    #[test]
    fn a_run_packs_its_sets_of_dimension_values_into_as_few_documents_as_do_not_clash() {
        let (c, buffer) = Counters::capturing(Flush::PerRun);
        let c = c.with_service("stack-escalate");
        c.incr("ActionsDone", ("Job", "escalate"));
        c.incr("ActionsDone", ("Job", "escalate"));
        c.incr("Retries", ("Job", "escalate"));
        c.add2("VendorCalls", ("Vendor", "zendesk"), ("Status", "200"), 3);
        c.add2("VendorCalls", ("Vendor", "zendesk"), ("Status", "429"), 1);
        assert!(lock(&buffer).is_empty(), "nothing is written before the run ends");
        c.flush();
        let docs = documents(&buffer);
        // The cold start, the job's counters and one vendor status share a document; the
        // second status cannot (Vendor and Status already have values there).
        assert_eq!(docs.len(), 2, "{docs:#?}");
        let first = &docs[0];
        let aws = first["_aws"].as_object().unwrap();
        assert!(aws["Timestamp"].as_i64().unwrap() > 1_600_000_000_000, "milliseconds since the epoch");
        assert_eq!(aws["CloudWatchMetrics"].as_array().unwrap().len(), 3, "one directive per set: {first}");
        assert_eq!(first["service"], "stack-escalate");
        assert!(first.get("level").is_none() && first.get("message").is_none(), "not a log line");

        // The cold start: ["service"] only.
        assert_eq!(first["ColdStart"], 1);
        assert_eq!(directive(first, "ColdStart")["Dimensions"], json!([["service"]]));

        // The job's counters: the alarms' dimension set and the service's.
        let job = directive(first, "ActionsDone");
        assert_eq!(job["Namespace"], NAMESPACE);
        assert_eq!(job["Dimensions"], json!([["Job"], ["service", "Job"]]));
        assert_eq!(
            job["Metrics"],
            json!([{ "Name": "ActionsDone", "Unit": "Count" }, { "Name": "Retries", "Unit": "Count" }])
        );
        assert_eq!(first["Job"], "escalate");
        assert_eq!((first["ActionsDone"].as_u64(), first["Retries"].as_u64()), (Some(2), Some(1)));

        let vendor = directive(first, "VendorCalls");
        assert_eq!(vendor["Dimensions"], json!([["Vendor", "Status"], ["service", "Vendor", "Status"]]));
        assert_eq!((first["Status"].as_str(), first["VendorCalls"].as_u64()), (Some("200"), Some(3)));
        let second = &docs[1];
        assert_eq!(second["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(), 1);
        assert_eq!((second["Vendor"].as_str(), second["Status"].as_str()), (Some("zendesk"), Some("429")));
        assert_eq!((second["VendorCalls"].as_u64(), second["service"].as_str()), (Some(1), Some("stack-escalate")));
        assert!(second.get("Job").is_none() && second.get("ColdStart").is_none());

        // The next run: no second cold start; an empty run writes nothing.
        c.incr("ActionsDone", ("Job", "escalate"));
        c.flush();
        c.flush();
        let docs = documents(&buffer);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[2]["ActionsDone"], 1);
        assert!(docs[2].get("ColdStart").is_none());
        assert_eq!(c.get("ActionsDone", ("Job", "escalate")), 3, "the in-memory totals keep counting");
    }

    #[test]
    fn the_same_metric_under_two_dimension_names_takes_two_documents() {
        let (c, buffer) = Counters::capturing(Flush::PerRun);
        c.flush(); // the cold start
        c.incr("Errors", ("Job", "escalate"));
        c.incr("Errors", ("Vendor", "zendesk"));
        c.flush();
        let docs = documents(&buffer);
        assert_eq!(docs.len(), 3, "one root member per metric name: {docs:#?}");
        assert_eq!((docs[1]["Job"].as_str(), docs[1]["Errors"].as_u64()), (Some("escalate"), Some(1)));
        assert_eq!((docs[2]["Vendor"].as_str(), docs[2]["Errors"].as_u64()), (Some("zendesk"), Some(1)));
    }

    #[test]
    fn each_call_writes_at_once_and_in_memory_counters_write_nothing() {
        let (c, buffer) = Counters::capturing(Flush::EachCall);
        c.incr("EventsReceived", ("Vendor", "intercom"));
        let docs = documents(&buffer);
        assert_eq!(docs.len(), 1, "the count, with the cold start");
        assert_eq!((docs[0]["EventsReceived"].as_u64(), docs[0]["ColdStart"].as_u64()), (Some(1), Some(1)));
        assert_eq!(docs[0]["service"], c.service());
        c.incr("EventsQueued", ("Vendor", "intercom"));
        assert_eq!(documents(&buffer).len(), 2);

        let quiet = Counters::default();
        quiet.incr("EventsReceived", ("Vendor", "intercom"));
        quiet.flush();
        assert_eq!(quiet.get("EventsReceived", ("Vendor", "intercom")), 1);
    }
}
