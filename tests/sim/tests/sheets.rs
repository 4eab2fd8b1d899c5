//! The Sheets simulator refuses what Google refuses: unsigned or foreign assertions, missing
//! bearer tokens, unknown ranges and writes beyond a named range.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bridge_sim::sheets::{CLIENT_EMAIL, SheetsSim};
use serde_json::{Value, json};

fn jwt(key: &RsaKeyPair, aud: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!(
        "{}.{}",
        enc(json!({"alg": "RS256", "typ": "JWT"})),
        enc(json!({"iss": CLIENT_EMAIL, "aud": aud, "scope": "https://www.googleapis.com/auth/spreadsheets",
            "iat": now, "exp": now + 3600}))
    );
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

async fn token(http: &reqwest::Client, uri: &str, assertion: &str) -> (u16, Value) {
    let resp = http
        .post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        // A JWT is base64url and dots: nothing to escape.
        .body(format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn tokens_bearer_and_range_bounds_are_enforced() {
    let sim = SheetsSim::start().await.unwrap();
    sim.add_named_range("s1", "Small", 2, 2);
    let key: Value = serde_json::from_str(&sim.service_account_json()).unwrap();
    let uri = key["token_uri"].as_str().unwrap().to_string();
    let pem = key["private_key"].as_str().unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let own = RsaKeyPair::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap();
    let http = bridge_sim::http_client();

    let foreign = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let (status, body) = token(&http, &uri, &jwt(&foreign, &uri)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let (status, _) = token(&http, &uri, &jwt(&own, "https://elsewhere/token")).await;
    assert_eq!(status, 400, "aud must be the token_uri");
    assert_eq!(sim.refused_tokens(), 2);
    let (status, body) = token(&http, &uri, &jwt(&own, &uri)).await;
    assert_eq!(status, 200);
    let bearer = body["access_token"].as_str().unwrap().to_string();

    let url = |range: &str| format!("{}/v4/spreadsheets/s1/values/{range}?valueInputOption=RAW", sim.base_url());
    let put = |range: &str, values: Value, auth: Option<&str>| {
        let mut req = http.put(url(range)).json(&json!({"range": range, "values": values}));
        if let Some(t) = auth {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_eq!(put("Small", json!([["a"]]), None).await.unwrap().status().as_u16(), 401);
    assert_eq!(put("Small", json!([["a"]]), Some("ya29.forged")).await.unwrap().status().as_u16(), 401);
    assert_eq!(put("Other", json!([["a"]]), Some(&bearer)).await.unwrap().status().as_u16(), 400);
    let too_big = put("Small", json!([["a", "b", "c"]]), Some(&bearer)).await.unwrap();
    assert_eq!(too_big.status().as_u16(), 400);
    let ok = put("Small", json!([["a", 1], ["b", 2]]), Some(&bearer)).await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["updatedCells"], 4);
    assert_eq!(sim.values("s1", "Small"), vec![vec![json!("a"), json!(1)], vec![json!("b"), json!(2)]]);
    let cleared = http
        .post(format!("{}/v4/spreadsheets/s1/values/Small:clear", sim.base_url()))
        .bearer_auth(&bearer)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status().as_u16(), 200);
    assert!(sim.values("s1", "Small").is_empty());
}
