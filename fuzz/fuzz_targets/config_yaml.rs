//! The one YAML configuration: arbitrary text must parse or give an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = bridge_domain::Config::from_yaml(text) {
        // The error's rendering (line, field) is part of the contract too.
        let _ = e.to_string();
    }
});
