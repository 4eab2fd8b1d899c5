//! Background jobs (`job_statuses`).

use serde_json::{Value, json};

use super::State;
use crate::zendesk::model::iso;

/// A background job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRec {
    /// The finished `job_status`.
    pub done: Value,
    /// Polls answered `working` before it reports completion.
    pub polls_left: u32,
}

impl State {
    /// Stores a job that reports `working` once, then `completed` with `results`.
    pub fn new_job(&mut self, job_type: &str, results: Vec<Value>) -> String {
        let id = format!("V3-{}", uuid::Uuid::new_v4().simple());
        let total = results.len();
        let done = json!({
            "id": id,
            "url": format!("{}/api/v2/job_statuses/{id}.json", self.base),
            "job_type": job_type,
            "status": "completed",
            "total": total,
            "progress": total,
            "message": format!("Completed at {}", iso(self.now())),
            "results": results,
        });
        self.jobs.insert(id.clone(), JobRec { done, polls_left: 1 });
        id
    }

    /// The job's current `job_status` (advancing it by one poll when `poll`).
    pub fn job_json(&mut self, id: &str, poll: bool) -> Option<Value> {
        let job = self.jobs.get_mut(id)?;
        if job.polls_left == 0 {
            return Some(job.done.clone());
        }
        let mut v = job.done.clone();
        if poll {
            job.polls_left -= 1;
        }
        if let Some(o) = v.as_object_mut() {
            o.insert("status".into(), json!(if poll { "working" } else { "queued" }));
            o.insert("progress".into(), json!(0));
            o.insert("message".into(), Value::Null);
            o.insert("results".into(), Value::Null);
        }
        Some(v)
    }
}
