//! Mutated inputs through every reader, in process: the .snn frontend (parse, lower, validate), NIR graphs, connectome
//! CSV, spike-input CSV, target presets and the three image decoders (half of the image mutations with the checksum
//! repaired, since FNV is no MAC); a plastic SpiNNaker image that still decodes is also run for 20 steps on the
//! machine, whose plastic rows index histories and tables by what the image says. Each mutated input must give a value or an error: a panic is counted and fails
//! the test, an abort (an allocation the input asked for) kills it, and the slowest input is reported.
//!
//! CI runs `SOMA_MUTATIONS` (default 600) mutations per reader, spread over its seed files; the campaign in
//! docs/robustness.md runs `SOMA_MUTATIONS=1000000 cargo test --release --test mutations -- --nocapture`.
//! `SOMA_MUTATE=NIR,.snn` runs only the readers named; an input that panics is written to
//! `$TMPDIR/soma-mutations/` and named on stderr.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use common::{soma, stderr, temp_dir};
use soma_compiler::front::load::{Format, Options, read};
use soma_compiler::front::nir::input;
use soma_isa::codec;
use soma_isa::crossbar::CrossbarImage;
use soma_isa::rng::Rng;
use soma_isa::sfq::SfqImage;
use soma_isa::spinnaker::Image;

/// Numbers a mutation splices in where a number was: the edges of every range a reader might trust.
const HOSTILE_NUMBERS: &[&[u8]] = &[
    b"0",
    b"-1",
    b"4294967296",
    b"18446744073709551616",
    b"1e308",
    b"-1e308",
    b"1e-320",
    b"nan",
    b"inf",
    b"99999999999999999999",
    b"0.0",
    b"-0",
];

/// One mutation of `seed`: byte flips, inserted or deleted runs, a duplicated chunk, a truncation, or a number
/// replaced by a hostile one (for binary inputs: a little-endian length word set huge).
fn mutate(seed: &[u8], rng: &mut Rng, binary: bool) -> Vec<u8> {
    let mut b = seed.to_vec();
    let at = |rng: &mut Rng, len: usize| rng.below(len.max(1) as u64) as usize;
    for _ in 0..1 + rng.below(3) {
        let len = b.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = at(rng, len);
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = at(rng, len + 1).min(len);
                let run: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.below(256) as u8).collect();
                b.splice(i..i, run);
            }
            2 if len > 0 => {
                let i = at(rng, len);
                let end = (i + 1 + rng.below(64) as usize).min(len);
                b.drain(i..end);
            }
            3 if len > 0 => {
                let i = at(rng, len);
                let end = (i + 1 + rng.below(256) as usize).min(len);
                let chunk = b[i..end].to_vec();
                let j = at(rng, len + 1).min(len);
                b.splice(j..j, chunk);
            }
            4 if len > 0 => b.truncate(at(rng, len)),
            _ if binary && len >= 8 => {
                let i = at(rng, len - 7);
                let huge = [u64::MAX, 1 << 40, 0xFFFF_FFFF, 1 << 31][rng.below(4) as usize];
                b[i..i + 8].copy_from_slice(&huge.to_le_bytes());
            }
            _ => {
                // A run of digits replaced by a hostile number.
                let digits: Vec<usize> = (0..len).filter(|&i| b[i].is_ascii_digit()).collect();
                if let Some(&i) = digits.get(at(rng, digits.len())) {
                    let end = (i..len).find(|&k| !b[k].is_ascii_digit() && b[k] != b'.').unwrap_or(len);
                    let n = HOSTILE_NUMBERS[rng.below(HOSTILE_NUMBERS.len() as u64) as usize];
                    b.splice(i..end, n.iter().copied());
                }
            }
        }
    }
    b
}

/// What a reader did with its mutations.
#[derive(Default)]
struct Tally {
    inputs: u64,
    accepted: u64,
    refused: u64,
    panics: u64,
    slowest: Duration,
}

/// Runs `reader` on `count` mutations spread over the seeds; `true`: read, `false`: refused.
fn campaign(name: &str, seeds: &[Vec<u8>], binary: bool, count: u64, reader: impl Fn(Vec<u8>) -> bool) -> Tally {
    let mut t = Tally::default();
    if std::env::var("SOMA_MUTATE").is_ok_and(|only| !only.split(',').any(|r| r == name)) {
        return t;
    }
    let mut rng = Rng::new(0x5eed, name.len() as u64);
    let per_seed = count.div_ceil(seeds.len() as u64);
    for seed in seeds {
        assert!(reader(seed.clone()), "{name}: an unmutated seed is read");
        // Panics are counted, not printed (the hook is the process's: restored after each seed).
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        for _ in 0..per_seed {
            let input = mutate(seed, &mut rng, binary);
            let kept = input.clone();
            let start = Instant::now();
            match catch_unwind(AssertUnwindSafe(|| reader(input))) {
                Ok(true) => t.accepted += 1,
                Ok(false) => t.refused += 1,
                Err(_) => {
                    // Kept for reproducing: `soma check FILE` (with --dt for NIR) or the reader on these bytes.
                    let dir = std::env::temp_dir().join("soma-mutations");
                    let path = dir.join(format!("{}-{}.bin", name.replace(' ', "_"), t.inputs));
                    if std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &kept)).is_ok() {
                        eprintln!("{name}: a panic on {}", path.display());
                    }
                    t.panics += 1
                }
            }
            t.slowest = t.slowest.max(start.elapsed());
            t.inputs += 1;
        }
        std::panic::set_hook(hook);
    }
    eprintln!(
        "{name:<16} {:>9} inputs: {:>8} read, {:>9} refused, {} panics; slowest {:.1} ms",
        t.inputs,
        t.accepted,
        t.refused,
        t.panics,
        t.slowest.as_secs_f64() * 1e3
    );
    t
}

fn files(paths: &[&str]) -> Vec<Vec<u8>> {
    paths.iter().map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"))).collect()
}

/// A network through the frontend and validation, as `soma check` takes it.
fn loads(bytes: Vec<u8>, format: Format, dt: Option<f64>) -> bool {
    let options = Options { dt, ..Options::default() };
    read("mutated", bytes, format, &options).is_ok_and(|loaded| loaded.valid().is_ok())
}

/// The image of `examples/xor_sfq.snn` compiled for `target`.
fn image(target: &str) -> Vec<u8> {
    image_of("examples/xor_sfq.snn", target)
}

/// The image of `network` compiled for `target`.
fn image_of(network: &str, target: &str) -> Vec<u8> {
    let dir = temp_dir(&format!("mutations-{target}"));
    let img = dir.join("net.img");
    let o = soma(&["compile", network, "--target", target, "-o", img.to_str().expect("path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&img).expect("image");
    std::fs::remove_dir_all(&dir).expect("cleanup");
    bytes
}

/// `bytes` decoded as a SpiNNaker image (the checksum repaired as [`decodes`] does) and, if it decodes and loads
/// on spinnaker1 (its header's fingerprint taken as the target's), run for 20 steps.
fn runs(bytes: Vec<u8>) -> bool {
    let Ok(image) = codec::decode::<Image>(&repaired(bytes)) else { return false };
    let target = soma_targets::lookup("spinnaker1").expect("preset");
    let spinn = target.spinnaker().expect("a SpiNNaker preset");
    if let Ok(mut machine) = soma_runtime::spinnaker::Machine::new(&image, spinn, image.header.fingerprint) {
        for _ in 0..20 {
            machine.advance();
        }
    }
    true
}

/// `bytes` with the checksum repaired, for half of the inputs (by a hash of their bytes).
fn repaired(mut bytes: Vec<u8>) -> Vec<u8> {
    if codec::fnv1a(bytes.iter().copied()) % 2 == 0 && bytes.len() >= 28 {
        let sum = codec::fnv1a(bytes[28..].iter().copied());
        bytes[20..28].copy_from_slice(&sum.to_le_bytes());
    }
    bytes
}

/// `bytes` decoded as `A` (which validates it), for half of the inputs (by a hash of their bytes) with the checksum
/// repaired first.
fn decodes<A: codec::Artifact>(bytes: Vec<u8>) -> bool {
    codec::decode::<A>(&repaired(bytes)).is_ok()
}

#[test]
fn mutated_inputs_give_values_or_errors_in_every_reader() {
    let count: u64 = std::env::var("SOMA_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let snn = files(&["examples/cuba.snn", "examples/lsm.snn", "examples/xor_sfq.snn", "tests/in/nir_layers.snn"]);
    let nir =
        files(&["tests/data/nir/rsnn_small.nir", "tests/data/nir/nodes/conv2d.nir", "tests/data/nir/nodes/affine.nir"]);
    // The header and first 200 edges of White et al.'s connectome: every column kind, small enough to read fast.
    let whole = std::fs::read_to_string("tests/data/connectomes/white1986_whole.csv").expect("connectome");
    let connectome_head = whole.lines().take(201).collect::<Vec<_>>().join("\n").into_bytes();
    let spinnaker = image("spinnaker1");
    let crossbar = image("reram_128");
    let sfq = image("sfq_mitll");
    let tallies = [
        campaign(".snn", &snn, false, count, |b| loads(b, Format::Snn, None)),
        campaign("NIR", &nir, true, count, |b| loads(b, Format::Nir, Some(1e-4))),
        campaign("connectome CSV", &[connectome_head], false, count, |b| loads(b, Format::Edges, None)),
        campaign(
            "spike input",
            &[b"time_s,index\n0.001,0\n0.0025,1\n0.004,0\n0.01,2\n".to_vec(), b"0,1,0\n1,0,0\n0,0,2\n".to_vec()],
            false,
            count,
            |b| String::from_utf8(b).is_ok_and(|t| input::parse(&t, 3, 1e-4).is_ok()),
        ),
        campaign(
            "target preset",
            &files(&[
                "targets/presets/spinnaker1.toml",
                "targets/presets/spinnaker2.toml",
                "targets/presets/reram_128.toml",
                "targets/presets/sfq_mitll.toml",
            ]),
            false,
            count,
            |b| String::from_utf8(b).is_ok_and(|t| soma_targets::parse("mutated.toml", &t).is_ok()),
        ),
        campaign("spinnaker image", &[spinnaker], true, count, decodes::<Image>),
        campaign("plastic spinnaker image", &[image_of("examples/stdp_window.snn", "spinnaker1")], true, count, runs),
        campaign("crossbar image", &[crossbar], true, count, decodes::<CrossbarImage>),
        campaign("sfq image", &[sfq], true, count, decodes::<SfqImage>),
    ];
    let panics: u64 = tallies.iter().map(|t| t.panics).sum();
    assert_eq!(panics, 0, "mutated inputs panicked a reader");
    let slowest = tallies.iter().map(|t| t.slowest).max().unwrap_or_default();
    assert!(slowest < Duration::from_secs(10), "an input took {slowest:?}");
}
