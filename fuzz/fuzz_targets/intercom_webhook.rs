//! Intercom webhook: signature check over arbitrary bytes and headers, then the parser.
//!
//! Input layout (so raw webhook bodies make good seeds): byte 0 selects the mode. Even: the
//! body (the rest) is signed with the secret, must verify, and reaches the parser as ingress
//! would. Odd: byte 1 is the length of an arbitrary `X-Hub-Signature` header taken next, the
//! rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-client-secret";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let signed = bridge_intercom::webhook::sign(SECRET, rest);
        let verified = bridge_intercom::webhook::verify_signature(SECRET, rest, Some(&signed));
        assert!(verified.is_ok(), "a body signed with the secret must verify");
        let _ = bridge_intercom::webhook::parse_notification(rest);
    } else {
        let Some((&len, rest)) = rest.split_first() else { return };
        let (header, body) = rest.split_at(usize::from(len).min(rest.len()));
        let header = String::from_utf8_lossy(header);
        if bridge_intercom::webhook::verify_signature(SECRET, body, Some(&header)).is_ok() {
            let _ = bridge_intercom::webhook::parse_notification(body);
        }
        let _ = bridge_intercom::webhook::verify_signature(SECRET, body, None);
    }
});
