//! Attachment downloads: the credentials go to the account's own origin only, never to the host
//! a redirect leads to; the byte limit stops a download.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use bridge_domain::model::{Download, TicketAttachment};
use bridge_domain::ports::Helpdesk;
use bridge_zendesk::{Auth, ZendeskClient, ZendeskConfig};

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn attachment(url: String) -> TicketAttachment {
    TicketAttachment {
        id: Some(bridge_domain::ids::AttachmentId::new(1).unwrap()),
        file_name: "invoice.pdf".into(),
        content_url: url,
        content_type: Some("application/pdf".into()),
        size: None,
        inline: false,
    }
}

#[tokio::test]
async fn credentials_reach_the_account_and_never_the_cdn_it_redirects_to() {
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let cdn_seen = seen.clone();
    let cdn = serve(Router::new().route(
        "/file",
        get(move |headers: HeaderMap| {
            let seen = cdn_seen.clone();
            async move {
                seen.lock().unwrap().push(("cdn".into(), headers.contains_key(header::AUTHORIZATION)));
                (StatusCode::OK, b"%PDF-1.4 bytes".to_vec())
            }
        }),
    ))
    .await;
    let account_seen = seen.clone();
    let target = format!("{cdn}/file");
    let account = serve(Router::new().route(
        "/attachments/token/abc/",
        get(move |headers: HeaderMap| {
            let seen = account_seen.clone();
            let target = target.clone();
            async move {
                seen.lock().unwrap().push(("account".into(), headers.contains_key(header::AUTHORIZATION)));
                (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
            }
        }),
    ))
    .await;
    let client = ZendeskClient::new(ZendeskConfig {
        base_url: account.parse().unwrap(),
        auth: Auth::OAuth { token: "secret-token".into() },
        timeout: Duration::from_secs(5),
    })
    .unwrap();

    let url = format!("{account}/attachments/token/abc/?name=invoice.pdf");
    let got = client.fetch_comment_file(&attachment(url.clone()), 1024).await.unwrap();
    let Download::File(file) = got else { panic!("a file") };
    assert_eq!(file.bytes, b"%PDF-1.4 bytes");
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![("account".to_string(), true), ("cdn".to_string(), false)],
        "the token went to the account only"
    );

    // A content URL on another host: fetched without the credentials.
    seen.lock().unwrap().clear();
    client.fetch_comment_file(&attachment(format!("{cdn}/file")), 1024).await.unwrap();
    assert_eq!(seen.lock().unwrap().clone(), vec![("cdn".to_string(), false)]);

    // Over the limit: the download stops.
    let capped = client.fetch_comment_file(&attachment(url), 4).await.unwrap();
    assert!(matches!(capped, Download::TooLarge { size } if size > 4), "{capped:?}");
}
