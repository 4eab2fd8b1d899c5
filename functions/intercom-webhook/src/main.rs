//! `intercom-webhook`: API Gateway -> verify `X-Hub-Signature` -> enqueue -> 200.

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
        .intercom(WebhookRequest { method: req.method(), headers: req.headers(), body: req.body().as_ref() })
        .await;
    ingress.after_request();
    Ok(Response::builder()
        .status(reply.status)
        .header("content-type", "application/json")
        .body(Body::from(reply.body))?)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bridge_runtime::metrics::Counters;
    use bridge_runtime::routing::JobKind;
    use bridge_runtime::testing::RecordingQueue;
    use secrecy::SecretString;

    use super::*;

    fn ingress() -> Ingress<RecordingQueue> {
        Ingress::new(
            RecordingQueue::default(),
            Some(SecretString::from("test-intercom-client-secret")),
            None,
            [JobKind::Escalate].into_iter().collect(),
            1024 * 1024,
            Duration::from_secs(300),
            Counters::default(),
        )
    }

    fn fixture(name: &str) -> Request {
        let path = format!("{}/../../infra/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        lambda_http::request::from_str(&text).unwrap()
    }

    #[tokio::test]
    async fn base64_encoded_api_gateway_body_is_verified_on_the_decoded_bytes() {
        let i = ingress();
        let resp = handle(&i, fixture("apigw-v2-intercom-tag-created-base64.json")).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(i.queue().count(), 1);
    }

    #[tokio::test]
    async fn head_and_ping_fixtures_answer_200_and_queue_nothing() {
        let i = ingress();
        for name in ["apigw-v2-intercom-head.json", "apigw-v2-intercom-ping.json"] {
            let resp = handle(&i, fixture(name)).await.unwrap();
            assert_eq!(resp.status(), 200, "{name}");
        }
        assert_eq!(i.queue().count(), 0);
    }
}
