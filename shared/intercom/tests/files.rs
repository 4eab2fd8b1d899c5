//! Attachment downloads: Intercom's file links are public and signed, so the access token is
//! never sent with them; the byte limit stops a download.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;
use bridge_domain::model::{Attachment, Download};
use bridge_domain::ports::{Messenger, PortError};
use bridge_intercom::{IntercomClient, IntercomConfig};

#[tokio::test]
async fn file_links_are_fetched_without_the_token_and_within_the_limit() {
    let with_token: Arc<Mutex<Vec<bool>>> = Arc::default();
    let seen = with_token.clone();
    let app = Router::new()
        .route(
            "/files/1/log.txt",
            get(move |headers: HeaderMap| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(headers.contains_key(header::AUTHORIZATION));
                    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], b"export failed".to_vec())
                }
            }),
        )
        .route("/files/2/expired.txt", get(|| async { (StatusCode::FORBIDDEN, "Request has expired") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // The API base is the same host: the token still stays home.
    let client = IntercomClient::new(IntercomConfig::new(base.parse().unwrap(), "secret-token".into())).unwrap();
    let file = |path: &str| Attachment {
        name: "log.txt".into(),
        url: format!("{base}{path}"),
        content_type: None,
        size: None,
    };

    let got = client.fetch_part_file(&file("/files/1/log.txt"), 1024).await.unwrap();
    let Download::File(data) = got else { panic!("a file") };
    assert_eq!((data.bytes.as_slice(), data.content_type.as_str()), (&b"export failed"[..], "text/plain"));
    assert_eq!(with_token.lock().unwrap().clone(), vec![false], "no token sent");

    let capped = client.fetch_part_file(&file("/files/1/log.txt"), 5).await.unwrap();
    assert!(matches!(capped, Download::TooLarge { size } if size > 5), "{capped:?}");

    let expired = client.fetch_part_file(&file("/files/2/expired.txt"), 1024).await.unwrap_err();
    assert!(matches!(expired, PortError::Rejected { .. }), "an expired link is permanent: {expired:?}");
}
