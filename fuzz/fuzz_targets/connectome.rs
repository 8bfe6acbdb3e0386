//! Bytes read as a connectome network through the frontend and validation, as `soma check` reads a file: any input
//! gives a network or an error, never a panic, an abort or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soma_compiler::front::load::{Format, Options, read};

fuzz_target!(|bytes: &[u8]| {
    let options = Options { dt: None, ..Options::default() };
    if let Ok(loaded) = read("fuzzed", bytes.to_vec(), Format::Edges, &options) {
        let _ = loaded.valid();
    }
});
