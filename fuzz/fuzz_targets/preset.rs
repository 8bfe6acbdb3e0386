//! Bytes read as a target preset (TOML of `{ value, source }` constants of any family).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = soma_targets::parse("fuzzed.toml", text);
    }
});
