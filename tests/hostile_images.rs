//! Images with a valid checksum and hostile contents, for every family: the checksum is FNV, not a MAC, so
//! anyone can repair it. Every length field set to huge values and random byte flips must give an error (or a
//! valid image), never a panic or an allocation beyond a small multiple of the image (which would abort the test
//! process).

mod common;

use common::{soma, stderr, temp_dir};
use soma_isa::codec::{self, Artifact, CodecError};
use soma_isa::crossbar::CrossbarImage;
use soma_isa::rng::Rng;
use soma_isa::sfq::SfqImage;
use soma_isa::spinnaker::Image;

const TINY: &str = "timestep 0.1 ms
source noise[20] : poisson { rate = 100 Hz }
population p[30] : lif { tau = 10 ms, r = 1, v_leak = 0, v_threshold = 1 }
projection noise -> p : fixed_probability(0.3) { weight = 0.5, delay = 1 ms }
projection p -> p : fixed_probability(0.1) { weight = -0.2, delay = 2 ms }
";

/// The image of the tiny network on `target`.
fn image_bytes(target: &str) -> Vec<u8> {
    let dir = temp_dir(&format!("hostile-{target}"));
    let (net, img) = (dir.join("tiny.snn"), dir.join("tiny.img"));
    std::fs::write(&net, TINY).expect("write");
    let o = soma(&["compile", net.to_str().expect("path"), "--target", target, "-o", img.to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&img).expect("image");
    std::fs::remove_dir_all(&dir).expect("cleanup");
    bytes
}

/// The bytes with the checksum made to match the (edited) payload.
fn repaired(mut bytes: Vec<u8>) -> Vec<u8> {
    let sum = codec::fnv1a(bytes[28..].iter().copied());
    bytes[20..28].copy_from_slice(&sum.to_le_bytes());
    bytes
}

/// Every offset of the payload overwritten with huge lengths, and random flips: decoding returns.
fn survives<A: Artifact + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> (usize, usize) {
    let original: A = codec::decode(bytes).expect("the image decodes");
    let (mut refused, mut limit) = (0, 0);
    let mut check = |edited: Vec<u8>| match codec::decode::<A>(&repaired(edited)) {
        Ok(image) => assert!(image.validate().is_ok()),
        Err(e) => {
            refused += 1;
            if let CodecError::Payload { problem, at, len, .. } = &e {
                assert!(at <= len, "the error's offset is in the payload: {e}");
                limit += usize::from(problem.contains("claims more bytes"));
            }
        }
    };
    // Every offset of the first KiB (the header, the first tables and their lengths), a sample after it.
    let mut rng = Rng::new(1, 2);
    let end = bytes.len().saturating_sub(8);
    let offsets: Vec<usize> =
        (28..end.min(1024)).chain((0..1000).map(|_| 28 + rng.below((end - 28) as u64) as usize)).collect();
    for at in offsets {
        for huge in [u64::MAX, 1 << 40, 0xFFFF_FFFF] {
            let mut edited = bytes.to_vec();
            edited[at..at + 8].copy_from_slice(&huge.to_le_bytes());
            check(edited);
        }
    }
    for _ in 0..2000 {
        let mut edited = bytes.to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = 28 + rng.below((bytes.len() - 28) as u64) as usize;
            edited[at] ^= 1 << rng.below(8);
        }
        check(edited);
    }
    assert_eq!(codec::decode::<A>(bytes).expect("still decodes"), original);
    (refused, limit)
}

#[test]
fn hostile_lengths_and_flips_with_a_repaired_checksum_are_errors_on_every_family() {
    for (target, run) in [
        ("spinnaker1", survives::<Image> as fn(&[u8]) -> (usize, usize)),
        ("reram_128", survives::<CrossbarImage>),
        ("sfq_mitll", survives::<SfqImage>),
    ] {
        let bytes = image_bytes(target);
        let (refused, limit) = run(&bytes);
        eprintln!("{target}: {} bytes, {refused} edits refused, {limit} by the length limit", bytes.len());
        assert!(refused > 3000, "{target}: most edits break the image");
        assert!(limit > 0, "{target}: some edit hit a length field");
    }
}
