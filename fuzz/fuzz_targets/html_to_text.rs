//! html_to_text over arbitrary text, plus the escape/slug helpers next to it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|html: &str| {
    let text = bridge_domain::text::html_to_text(html);
    let _ = bridge_domain::text::escape_html(&text);
    let _ = bridge_domain::text::slug(html);
});
