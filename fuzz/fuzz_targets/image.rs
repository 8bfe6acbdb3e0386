//! Bytes decoded as an image of each family (which validates it). libFuzzer would seldom get past the checksum, so
//! the input's checksum is repaired first when its first byte is even: both the checksum's refusal and the
//! payload's validation are fuzzed, as in tests/mutations.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soma_isa::codec;

fuzz_target!(|bytes: &[u8]| {
    let mut bytes = bytes.to_vec();
    if bytes.len() >= 28 && bytes[0] % 2 == 0 {
        let sum = codec::fnv1a(bytes[28..].iter().copied());
        bytes[20..28].copy_from_slice(&sum.to_le_bytes());
    }
    let _ = codec::decode::<soma_isa::spinnaker::Image>(&bytes);
    let _ = codec::decode::<soma_isa::crossbar::CrossbarImage>(&bytes);
    let _ = codec::decode::<soma_isa::sfq::SfqImage>(&bytes);
});
