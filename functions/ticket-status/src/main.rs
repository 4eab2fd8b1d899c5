//! `ticket-status`: job 3 (ticket status and public comments back to Intercom). An SQS FIFO batch -> the job -> partial batch failures; or
//! `{"action": "sweep"}` from its schedule -> job 3's repair sweep (`bridge_runtime::schedules`).

use bridge_domain::routing::JobKind;
use bridge_runtime::App;
use bridge_runtime::app::lambda_aws_config;
use bridge_runtime::schedules::{WorkerInput, handle_worker};
use bridge_runtime::settings::{ProcessEnv, WorkerSettings};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::process::init();
    let settings = WorkerSettings::from_env(&ProcessEnv)?;
    let app = App::build(&settings, &lambda_aws_config(&ProcessEnv)?).await?;
    lambda_runtime::run(service_fn(|event| handle(&app, event))).await
}

async fn handle(app: &App, event: LambdaEvent<WorkerInput>) -> Result<Value, Error> {
    Ok(handle_worker(app, JobKind::TicketStatus, event.payload, event.context.deadline()).await?)
}
