//! `ticket-status`: SQS FIFO batch -> job 3 -> partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use bridge_domain::routing::JobKind;
use bridge_runtime::App;
use bridge_runtime::app::aws_config;
use bridge_runtime::settings::{ProcessEnv, WorkerSettings};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::process::init();
    let settings = WorkerSettings::from_env(&ProcessEnv)?;
    let app = App::build(&settings, &aws_config().await).await?;
    lambda_runtime::run(service_fn(|event| handle(&app, event))).await
}

async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    Ok(app.handle_sqs_batch(JobKind::TicketStatus, event.payload).await)
}
