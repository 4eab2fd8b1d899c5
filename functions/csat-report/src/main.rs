//! `csat-report`: EventBridge Scheduler input (`{"period": "daily"|"weekly"}` or
//! `{"from": DATE, "to": DATE}`) -> job 7 -> S3, Google Sheets, dashboard. The reporter is
//! built once; each run takes the configuration again once `BRIDGE_CONFIG_TTL_SECS` has passed.

use bridge_runtime::app::lambda_aws_config;
use bridge_runtime::reports::{LiveReporter, ReportSettings};
use bridge_runtime::settings::ProcessEnv;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::process::init();
    let settings = ReportSettings::from_env(&ProcessEnv)?;
    let reporter = bridge_runtime::reports::build(&settings, &lambda_aws_config(&ProcessEnv)?).await?;
    lambda_runtime::run(service_fn(|event| handle(&reporter, event))).await
}

async fn handle(reporter: &LiveReporter, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let today = chrono::Utc::now().date_naive();
    Ok(reporter.handle_scheduled(event.payload, today).await?)
}
