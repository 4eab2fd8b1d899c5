//! `zendesk-webhook`: API Gateway -> verify `X-Zendesk-Webhook-Signature` -> enqueue -> 200.

use bridge_runtime::app::{build_ingress, lambda_aws_config};
use bridge_runtime::ingress::Ingress;
use bridge_runtime::ingress::WebhookRequest;
use bridge_runtime::ports::Queue;
use bridge_runtime::settings::{IngressSettings, ProcessEnv};
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    bridge_runtime::process::init();
    let settings = IngressSettings::from_env(&ProcessEnv)?;
    let ingress = build_ingress(&settings, &lambda_aws_config(&ProcessEnv)?).await?;
    lambda_http::run(service_fn(|req| handle(&ingress, req))).await
}

/// One API Gateway request: the body bytes are exactly what was signed (lambda_http has
/// already decoded a base64 body).
async fn handle<Q: Queue>(ingress: &Ingress<Q>, req: Request) -> Result<Response<Body>, Error> {
    let reply = ingress
        .zendesk(WebhookRequest { method: req.method(), headers: req.headers(), body: req.body().as_ref() })
        .await;
    ingress.after_request();
    Ok(Response::builder()
        .status(reply.status)
        .header("content-type", "application/json")
        .body(Body::from(reply.body))?)
}
