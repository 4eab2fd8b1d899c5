//! `zendesk-webhook`: API Gateway -> verify `X-Zendesk-Webhook-Signature` -> enqueue -> 200.

use bridge_runtime::app::{SqsIngress, aws_config, build_ingress};
use bridge_runtime::ingress::WebhookRequest;
use bridge_runtime::settings::{IngressSettings, ProcessEnv};
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::telemetry::init();
    let settings = IngressSettings::from_env(&ProcessEnv)?;
    let ingress = build_ingress(&settings, &aws_config().await).await?;
    lambda_http::run(service_fn(|req| handle(&ingress, req))).await
}

async fn handle(ingress: &SqsIngress, req: Request) -> Result<Response<Body>, Error> {
    let reply = ingress
        .zendesk(WebhookRequest {
            method: req.method(),
            headers: req.headers(),
            body: req.body().as_ref(),
        })
        .await;
    Ok(Response::builder()
        .status(reply.status)
        .header("content-type", "application/json")
        .body(Body::from(reply.body))?)
}
