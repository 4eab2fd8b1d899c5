//! Zendesk webhook: signature check (timestamp window included) over arbitrary bytes and
//! headers, then the parser.
//!
//! Input layout (so raw webhook bodies make good seeds): byte 0 selects the mode. Even: the
//! body (the rest) is signed now with the secret, must verify, and reaches the parser as
//! ingress would. Odd: bytes 1 and 2 are the lengths of an arbitrary timestamp header and
//! signature header taken next, the rest is the body.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-webhook-secret";
const MAX_AGE: Duration = Duration::from_secs(300);

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let now = chrono::Utc::now();
    if mode % 2 == 0 {
        let ts = now.to_rfc3339();
        let sig = bridge_zendesk::webhook::sign(SECRET, &ts, rest);
        let ok = bridge_zendesk::webhook::verify_signature(SECRET, Some(&ts), rest, Some(&sig), now, MAX_AGE);
        assert!(ok.is_ok(), "a fresh body signed with the secret must verify");
        let _ = bridge_zendesk::webhook::parse_event(rest);
    } else {
        let [ts_len, sig_len, rest @ ..] = rest else { return };
        let (ts, rest) = rest.split_at(usize::from(*ts_len).min(rest.len()));
        let (sig, body) = rest.split_at(usize::from(*sig_len).min(rest.len()));
        let (ts, sig) = (String::from_utf8_lossy(ts), String::from_utf8_lossy(sig));
        // A huge max_age drives the age arithmetic to its edges.
        let max_age = if mode & 2 == 0 { MAX_AGE } else { Duration::from_secs(u64::MAX) };
        if bridge_zendesk::webhook::verify_signature(SECRET, Some(&ts), body, Some(&sig), now, max_age).is_ok() {
            let _ = bridge_zendesk::webhook::parse_event(body);
        }
    }
});
