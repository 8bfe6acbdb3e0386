//! The SpiNNaker-style backend on random networks: every routing table delivers each key to exactly the cores
//! that hold rows for it, no capacity is exceeded, images round-trip through the codec, and corrupted images are
//! rejected or decode to a validated image.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::spinnaker::compile;
use soma_compiler::valid::validate;
use soma_isa::codec::{decode, encode};
use soma_isa::spinnaker::{CoreKind, Image, KEY_MASK, RouteEntry};
use soma_targets::lookup;
use soma_targets::spinnaker::Geometry;

/// A random network: populations, Poisson sources and random projections with delays up to 40 steps.
fn network(sizes: &[usize], links: &[(usize, usize, u8, u8)], seed: u64) -> soma_isa::instance::Instance {
    let mut text = String::from("timestep 0.1 ms\nsource noise[300] : poisson { rate = 10 Hz }\n");
    for (i, n) in sizes.iter().enumerate() {
        text += &format!(
            "population p{i}[{n}] : if_curr_exp {{ tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV, tau_refrac = 2 ms, tau_syn_e = 5 ms, tau_syn_i = 5 ms }}\n"
        );
    }
    for &(a, b, p, d) in links {
        let (a, b) = (a % (sizes.len() + 1), b % sizes.len());
        let pre = if a == sizes.len() { "noise".to_string() } else { format!("p{a}") };
        let (w, receptor) = if p % 2 == 0 { ("0.1 nA", "excitatory") } else { ("-0.3 nA", "inhibitory") };
        text += &format!(
            "projection {pre} -> p{b} : fixed_probability({}) {{ weight = {w}, delay = uniform(0.1 ms, {} ms), receptor = {receptor} }}\n",
            (p as f64 + 1.0) / 512.0,
            (d as f64 % 40.0 + 1.0) / 10.0 + 0.1
        );
    }
    let net = parse(&text, &Overrides::new()).expect("parses");
    instantiate(&validate(&net).expect("valid"), seed).expect("instantiates")
}

fn compile_for(inst: &soma_isa::instance::Instance, boards: usize) -> Image {
    let target = lookup("spinnaker1").expect("preset");
    let s = target.spinnaker().expect("a SpiNNaker preset");
    compile(inst, s, &target.name, target.fingerprint, boards).unwrap_or_else(|e| panic!("{e}")).0
}

fn check_image(image: &Image) {
    image.validate().expect("valid image");
    let target = lookup("spinnaker1").expect("preset");
    let s = target.spinnaker().expect("a SpiNNaker preset");
    let geometry = Geometry::boards(image.header.boards as usize);
    // Capacities.
    let mut per_chip: HashMap<(u16, u16), usize> = HashMap::new();
    for c in &image.cores {
        *per_chip.entry(c.chip).or_default() += 1;
        assert!(geometry.has(c.chip.0 as usize, c.chip.1 as usize));
        if let CoreKind::Neurons(_) = c.kind {
            assert!(c.count as usize <= s.neurons_per_core());
        }
    }
    assert!(per_chip.values().all(|&n| n <= s.app_cores()));
    assert!(image.routers.iter().all(|r| r.entries.len() <= s.machine.router_entries.value as usize));
    // Every key reaches exactly the cores that hold rows for it (or delay it).
    let tables: HashMap<(usize, usize), Vec<RouteEntry>> =
        image.routers.iter().map(|r| ((r.chip.0 as usize, r.chip.1 as usize), r.entries.clone())).collect();
    type CoreAt = ((usize, usize), usize);
    let mut wanted: HashMap<u32, BTreeSet<CoreAt>> = HashMap::new();
    for c in &image.cores {
        let at = ((c.chip.0 as usize, c.chip.1 as usize), c.index as usize);
        match &c.kind {
            CoreKind::Neurons(n) => {
                for b in &n.synapses.blocks {
                    wanted.entry(b.key).or_default().insert(at);
                }
            }
            CoreKind::DelayExtension { source, .. } => {
                wanted.entry(image.cores[*source as usize].key).or_default().insert(at);
            }
            CoreKind::Source(_) => {}
        }
    }
    for c in &image.cores {
        let want: Vec<_> = wanted.get(&c.key).map(|s| s.iter().copied().collect()).unwrap_or_default();
        if want.is_empty() {
            continue;
        }
        for atom in [0, c.count.saturating_sub(1)] {
            let key = c.key | atom;
            assert_eq!(key & KEY_MASK, c.key);
            let walk = soma_targets::spinnaker::walk(&geometry, &tables, (c.chip.0 as usize, c.chip.1 as usize), key)
                .expect("delivered");
            let mut got: Vec<_> = walk.deliveries.iter().map(|&(chip, core, _)| (chip, core)).collect();
            got.sort_unstable();
            assert_eq!(got, want, "key {key:#x} from core {:?}", (c.chip, c.index));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn routing_delivers_exactly_and_capacities_hold(
        sizes in proptest::collection::vec(1usize..700, 1..6),
        links in proptest::collection::vec((0usize..7, 0usize..6, any::<u8>(), any::<u8>()), 1..10),
        seed in any::<u64>(),
        big in any::<bool>(),
    ) {
        let inst = network(&sizes, &links, seed);
        let image = compile_for(&inst, if big { 3 } else { 1 });
        check_image(&image);
        let bytes = encode(&image).expect("encodes");
        prop_assert_eq!(decode::<Image>(&bytes).expect("decodes"), image);
    }
}

#[test]
fn every_single_byte_flip_is_rejected_or_valid() {
    let inst = network(&[40, 20], &[(0, 1, 2, 5), (1, 0, 3, 30), (2, 0, 0, 1)], 3);
    let image = compile_for(&inst, 1);
    let bytes = encode(&image).expect("encodes");
    let mut rejected = 0;
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            match decode::<Image>(&b) {
                Ok(img) => img.validate().expect("a decoded image is valid"),
                Err(_) => rejected += 1,
            }
        }
    }
    assert!(rejected > 0);
    assert!(decode::<Image>(&bytes[..bytes.len() - 1]).is_err());
    assert!(decode::<Image>(b"not an image").is_err());
}
