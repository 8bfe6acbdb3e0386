//! Bytes read as a NIR graph's spike input (a 0/1 matrix or a `time_s,index` event list) for three channels.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soma_compiler::front::nir::input;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = input::parse(text, 3, 1e-4);
    }
});
