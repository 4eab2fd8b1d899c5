//! Intercom webhook: signature check over arbitrary bytes and headers, then the parser.
//!
//! Input layout (so raw webhook bodies make good seeds): byte 0 selects the mode. Even: the
//! body (the rest) is signed with the secret, must verify, and reaches both parsers (the full
//! decode and the ingress's light view). Odd: byte 1 is the length of an arbitrary
//! `X-Hub-Signature` header taken next, the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-client-secret";

/// Both readings of a body: the full decode, and the ingress's light view, which must accept
/// every notification the full decode accepts and agree on its id and topic.
fn parse(body: &[u8]) {
    use bridge_intercom::webhook::{delivery_from_json, notification_from_json, parse_json};
    let Ok(json) = parse_json(body) else { return };
    let view = delivery_from_json(&json);
    if let Ok(full) = notification_from_json(&json) {
        let view = view.expect("the light view accepts what the full decode accepts");
        assert_eq!((view.id, view.topic), (full.id, full.topic));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let signed = bridge_intercom::webhook::sign(SECRET, rest);
        let verified = bridge_intercom::webhook::verify_signature(SECRET, rest, Some(&signed));
        assert!(verified.is_ok(), "a body signed with the secret must verify");
        parse(rest);
    } else {
        let Some((&len, rest)) = rest.split_first() else { return };
        let (header, body) = rest.split_at(usize::from(len).min(rest.len()));
        let header = String::from_utf8_lossy(header);
        if bridge_intercom::webhook::verify_signature(SECRET, body, Some(&header)).is_ok() {
            parse(body);
        }
        let _ = bridge_intercom::webhook::verify_signature(SECRET, body, None);
    }
});
