//! The SpiNNaker-style machine against a straightforward implementation written here (per neuron, with
//! `Program::step`, rows looked up directly without routing tables): bit-exact spikes on random networks, for
//! any thread count and with cores processed in parallel or in sequence; and the energy ledger on a case small
//! enough to compute by hand.

use std::collections::HashMap;

use proptest::prelude::*;
use soma_compiler::front::snn::{Overrides, parse};
use soma_compiler::instantiate::instantiate;
use soma_compiler::spinnaker::compile;
use soma_compiler::valid::validate;
use soma_isa::fixed::{Accum, ring_add};
use soma_isa::program::NeuronState;
use soma_isa::source::PoissonTrain;
use soma_isa::spinnaker::{CoreKind, Image, SourceCore, word};
use soma_runtime::spinnaker::{Ledger, Machine};
use soma_targets::{Target, lookup, with_overrides};

fn target() -> Target {
    lookup("spinnaker1").expect("preset")
}

/// spinnaker1 with rings (and delay stages) of `slots` steps and source cores of `sources` channels.
fn target_with(slots: u8, sources: u32) -> Target {
    let overrides =
        [("delay_slots".to_string(), f64::from(slots)), ("sources_per_core".to_string(), f64::from(sources))];
    with_overrides("spinnaker1", &overrides).expect("overrides")
}

fn image(text: &str, seed: u64) -> Image {
    image_for(text, seed, &target())
}

fn image_for(text: &str, seed: u64, t: &Target) -> Image {
    let net = parse(text, &Overrides::new()).unwrap_or_else(|e| panic!("{:?}", e.diagnostics(text)));
    let inst = instantiate(&validate(&net).expect("valid"), seed).expect("instantiates");
    let s = t.spinnaker().expect("a SpiNNaker preset");
    compile(&inst, s, &t.name, t.fingerprint, 1).expect("compiles").0
}

/// Spikes `(step, core, neuron)` of the machine.
fn machine_spikes_on(img: &Image, steps: u64, parallel: bool, t: &Target) -> Vec<(u64, usize, u32)> {
    let s = t.spinnaker().expect("a SpiNNaker preset");
    let mut m = Machine::new(img, s, t.fingerprint).expect("loads");
    m.set_parallel(parallel);
    let mut out = Vec::new();
    for step in 0..steps {
        m.advance();
        for c in 0..img.cores.len() {
            out.extend(m.spiked(c).iter().map(|&n| (step, c, n)));
        }
    }
    assert_eq!(m.dropped_packets, 0, "the comparison needs uncongested links");
    out
}

/// The straightforward implementation.
fn simple_spikes(img: &Image, steps: u64) -> Vec<(u64, usize, u32)> {
    let seed = img.header.seed;
    let mut state: HashMap<usize, Vec<NeuronState>> = HashMap::new();
    // One train per source, whatever cores its channels are sliced into.
    let mut trains: HashMap<u32, (PoissonTrain, Vec<u32>)> = HashMap::new();
    for (c, core) in img.cores.iter().enumerate() {
        match &core.kind {
            CoreKind::Neurons(n) => {
                let neurons = (0..core.count as usize)
                    .map(|i| {
                        let mut s = NeuronState::default();
                        for (r, init) in n.registers.iter().enumerate() {
                            s.regs[r] = if init.len() == 1 { init[0] } else { init[i] };
                        }
                        s
                    })
                    .collect();
                state.insert(c, neurons);
            }
            CoreKind::Source(SourceCore::Poisson { stream, rate }) => {
                let channels = img.populations[core.population as usize].size as usize;
                let train = PoissonTrain::new(seed, *stream, *rate, img.header.dt, channels);
                trains.entry(core.population).or_insert((train, vec![0; channels]));
            }
            _ => {}
        }
    }
    // ring[(core, step, type, neuron)]
    let mut ring: HashMap<(usize, i64, usize, u32), u16> = HashMap::new();
    let mut due: Vec<(i64, usize, u32)> = Vec::new();
    let deliver = |sender: usize,
                   atom: u32,
                   base: i64,
                   ring: &mut HashMap<(usize, i64, usize, u32), u16>,
                   due: &mut Vec<(i64, usize, u32)>| {
        for (c, core) in img.cores.iter().enumerate() {
            match &core.kind {
                CoreKind::Neurons(n) => {
                    let m = &n.synapses;
                    if let Some(b) = m.blocks.iter().find(|b| b.key == img.cores[sender].key) {
                        let row = (b.first_row + atom) as usize;
                        for &w in &m.words[m.row_offsets[row] as usize..m.row_offsets[row + 1] as usize] {
                            let at =
                                (c, base + word::delay(w) as i64, word::inhibitory(w) as usize, word::index(w) as u32);
                            let e = ring.entry(at).or_insert(0);
                            *e = ring_add(*e, word::weight(w));
                        }
                    }
                }
                CoreKind::DelayExtension { source, stages } if *source as usize == sender => {
                    for stage in 1..=*stages as i64 {
                        let stage_steps = i64::from(img.header.delay_slots);
                        due.push((base + stage_steps * stage, c, (stage as u32 - 1) * core.count + atom));
                    }
                }
                _ => {}
            }
        }
    };
    let mut out = Vec::new();
    for t in 0..steps as i64 {
        let mut events = Vec::new();
        for (train, counts) in trains.values_mut() {
            counts.fill(0);
            train.step(|ch, n| counts[ch as usize] = n);
        }
        for (c, core) in img.cores.iter().enumerate() {
            match &core.kind {
                CoreKind::Source(SourceCore::Poisson { .. }) => {
                    let counts = &trains[&core.population].1;
                    for atom in 0..core.count {
                        for _ in 0..counts[(core.first + atom) as usize] {
                            events.push((c, atom));
                        }
                    }
                }
                CoreKind::Source(SourceCore::Array { stamps }) => {
                    for (atom, list) in stamps.iter().enumerate() {
                        events.extend(list.iter().filter(|&&s| s as i64 == t).map(|_| (c, atom as u32)));
                    }
                }
                _ => {}
            }
        }
        let now: Vec<(i64, usize, u32)> = due.iter().copied().filter(|d| d.0 == t - 1).collect();
        due.retain(|d| d.0 != t - 1);
        events.extend(now.into_iter().map(|(_, c, atom)| (c, atom)));
        for (c, atom) in events {
            deliver(c, atom, t - 1, &mut ring, &mut due);
        }
        let mut spikes = Vec::new();
        for (c, core) in img.cores.iter().enumerate() {
            let CoreKind::Neurons(n) = &core.kind else { continue };
            for (i, s) in state.get_mut(&c).expect("state").iter_mut().enumerate() {
                let input: [Accum; 2] = std::array::from_fn(|ty| {
                    Accum::from_ring(ring.remove(&(c, t, ty, i as u32)).unwrap_or(0), n.shifts[ty])
                });
                if n.program.step(s, input) {
                    spikes.push((c, i as u32));
                    out.push((t as u64, c, i as u32));
                }
            }
        }
        for (c, atom) in spikes {
            deliver(c, atom, t, &mut ring, &mut due);
        }
    }
    out
}

fn network(sizes: &[usize], links: &[(usize, usize, u8, u8)], model: u8) -> String {
    let mut text = String::from(
        "timestep 0.1 ms\nsource noise[60] : poisson { rate = 400 Hz }\nsource kick[3] : spikes { times = [[1 ms, 2 ms], [0 ms], [5 ms]] }\n",
    );
    for (i, n) in sizes.iter().enumerate() {
        let m = match (model + i as u8) % 3 {
            0 => {
                "if_curr_exp { tau_m = 20 ms, cm = 1 nF, v_rest = -65 mV, v_reset = -65 mV, v_thresh = -50 mV, tau_refrac = 2 ms, tau_syn_e = 5 ms, tau_syn_i = 5 ms, v_init = uniform(-65 mV, -51 mV) }"
            }
            1 => "lif { tau = 10 ms, r = 1, v_leak = 0, v_threshold = 1, v_init = uniform(0, 0.9) }",
            _ => "cuba_lif { tau_syn = 5 ms, tau_mem = 10 ms, r = 1, v_leak = 0, v_threshold = 1 }",
        };
        text += &format!("population p{i}[{n}] : {m}\n");
        // Every population is driven by the noise, strongly enough to fire.
        let drive = if (model + i as u8).is_multiple_of(3) { "0.2 nA" } else { "5" };
        text += &format!("projection noise -> p{i} : fixed_indegree(10) {{ weight = {drive} }}\n");
    }
    for (k, &(a, b, p, d)) in links.iter().enumerate() {
        let (a, b) = (a % (sizes.len() + 2), b % sizes.len());
        let pre = match a {
            x if x == sizes.len() => "noise".to_string(),
            x if x == sizes.len() + 1 => "kick".to_string(),
            x => format!("p{x}"),
        };
        let post_model = (model + b as u8) % 3;
        let (w, receptor) = match (post_model, k % 2) {
            (0, 0) => ("1.5 nA", "excitatory"),
            (0, _) => ("-0.05 nA", "inhibitory"),
            (_, 0) => ("0.4", "excitatory"),
            (_, _) => ("-0.2", "excitatory"),
        };
        text += &format!(
            "projection {pre} -> p{b} : fixed_probability({}) {{ weight = {w}, delay = uniform(0.1 ms, {} ms), receptor = {receptor} }}\n",
            (p as f64 + 1.0) / 300.0,
            (d as f64 % 30.0 + 1.0) / 10.0 + 0.1
        );
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn machine_spikes_equal_the_straightforward_implementation(
        sizes in proptest::collection::vec(1usize..300, 1..4),
        links in proptest::collection::vec((0usize..6, 0usize..4, any::<u8>(), any::<u8>()), 1..8),
        model in 0u8..3,
        seed in any::<u64>(),
        slots in proptest::sample::select(vec![16u8, 8, 5]),
        sources in proptest::sample::select(vec![500u32, 50]),
    ) {
        // Ring depths other than 16 and sources sliced over several cores run as the plain implementation says.
        let t = target_with(slots, sources);
        let img = image_for(&network(&sizes, &links, model), seed, &t);
        let reference = simple_spikes(&img, 300);
        // A network that never spikes in 300 steps (its inhibition wins) compares nothing: drawn again.
        prop_assume!(!reference.is_empty());
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
        prop_assert_eq!(&machine_spikes_on(&img, 300, false, &t), &reference);
        prop_assert_eq!(&one.install(|| machine_spikes_on(&img, 300, true, &t)), &reference);
        prop_assert_eq!(&two.install(|| machine_spikes_on(&img, 300, true, &t)), &reference);
    }
}

#[test]
fn the_energy_ledger_is_spynnakers_formula() {
    // Ten source spikes into one neuron that sends nothing; source and neuron on chip (0, 0) of one board.
    let text = "timestep 0.1 ms\nsource s[1] : spikes { times = [[1 ms, 2 ms, 3 ms, 4 ms, 5 ms, 6 ms, 7 ms, 8 ms, 9 ms, 10 ms]] }\n\
                population n[1] : lif { tau = 10 ms, r = 1, v_leak = 0, v_threshold = 1000 }\n\
                projection s -> n : one_to_one { weight = 0.5 }\n";
    let img = image(text, 1);
    let t = target();
    let s = t.spinnaker().expect("a SpiNNaker preset");
    let mut m = Machine::new(&img, s, t.fingerprint).expect("loads");
    let steps = 200;
    for _ in 0..steps {
        m.advance();
    }
    let l = Ledger::new(s, img.header.boards, m.chips, m.counters(), m.router_traversals, steps, img.header.dt);
    let seconds = 200.0 * 1e-4;
    // idle: one 48-chip board at 26.84 W x 20 ms (spinn_machine's board model, not 48 x 0.35 W = 16.8 W);
    // active: 0.034 W x 2 cores x 20 ms; packets: 1 nJ x 10 packets x 1 router.
    assert_eq!((img.header.boards, l.chips), (1, 48));
    assert_eq!(l.cores, 2);
    assert_eq!(l.router_traversals, 10);
    assert!((l.idle_chips_j - 26.84 * seconds).abs() < 1e-12);
    assert!((l.active_cores_j - 0.034 * 2.0 * seconds).abs() < 1e-12);
    assert!((l.packets_j - 10.0 * 1e-9).abs() < 1e-18);
    assert!((l.total_j() - (26.84 + 0.034 * 2.0) * seconds - 10e-9).abs() < 1e-12);
    // Below a board (spinn_machine's `n_boards = 0`), chip by chip: 0.35 W x 4 chips.
    let sub_board = Ledger::new(s, 0, 4, m.counters(), m.router_traversals, steps, img.header.dt);
    assert!((sub_board.idle_chips_j - 0.35 * 4.0 * seconds).abs() < 1e-12);
    // Three boards: three times the board.
    let three = Ledger::new(s, 3, 144, m.counters(), m.router_traversals, steps, img.header.dt);
    assert!((three.idle_chips_j - 3.0 * 26.84 * seconds).abs() < 1e-12);
    assert_eq!(l.synaptic_events, 10);
    assert!((l.per_synaptic_event_j() - l.total_j() / 10.0).abs() < 1e-15);
    // The system level: a single board adds its box, 5.04 W; six boards one frame of 24, 117 + 37.163558 W.
    assert!((l.enclosure_j - 5.04 * seconds).abs() < 1e-12);
    assert!((l.system_j() - l.total_j() - l.enclosure_j).abs() < 1e-15);
    let six = Ledger::new(s, 6, 288, m.counters(), m.router_traversals, steps, img.header.dt);
    assert!((six.enclosure_j - (117.0 + 37.163558) * seconds).abs() < 1e-12);
    // 20x slower than real time: every power draws for 20 times the model time, packets cost the same.
    let slow_target = soma_targets::with_overrides("spinnaker1", &[("time_scale_factor".into(), 20.0)]).expect("valid");
    let slow = slow_target.spinnaker().expect("spinnaker");
    let l20 = Ledger::new(slow, 6, 288, m.counters(), m.router_traversals, steps, img.header.dt);
    assert!((l20.machine_time_s - 20.0 * seconds).abs() < 1e-15);
    assert!((l20.idle_chips_j - 6.0 * 26.84 * 20.0 * seconds).abs() < 1e-12);
    assert!((l20.active_cores_j - 0.034 * 2.0 * 20.0 * seconds).abs() < 1e-12);
    assert!((l20.enclosure_j - 20.0 * six.enclosure_j).abs() < 1e-12);
    assert_eq!(l20.packets_j, six.packets_j);
    // Cycles: every step updates one neuron; ten packets each fetch a one-word row.
    let c = &m.counters()[1];
    let cy = &s.cycles;
    let expected = steps * cy.neuron_update.value as u64
        + 10 * (cy.packet_receive.value + cy.row_fetch.value + cy.dma_word.value + cy.synaptic_event.value) as u64;
    assert_eq!(c.cycles, expected);
    assert_eq!(c.overruns, 0);
}

/// Asserts two spike lists are equal, naming the first difference (the lists are too long to print).
fn same_spikes(got: &[(u64, u32, u32)], want: &[(u64, u32, u32)]) {
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    assert!(
        got.len() == want.len() && first.is_none(),
        "{} spikes against {}; first difference at {first:?}: {:?} against {:?}",
        got.len(),
        want.len(),
        first.and_then(|i| got.get(i)),
        first.and_then(|i| want.get(i))
    );
}

/// Spikes `(step, population, neuron)` of the machine, whatever cores hold them.
fn population_spikes(img: &Image, steps: u64, t: &Target) -> Vec<(u64, u32, u32)> {
    let s = t.spinnaker().expect("a SpiNNaker preset");
    let mut m = Machine::new(img, s, t.fingerprint).expect("loads");
    let mut out = Vec::new();
    for step in 0..steps {
        m.advance();
        for (c, core) in img.cores.iter().enumerate() {
            out.extend(m.spiked(c).iter().map(|&n| (step, core.population, core.first + n)));
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn the_ring_depth_is_the_images_so_shorter_rings_give_the_same_synfire_chain() {
    // The chain's 5 ms links need delay extensions with rings of 8 steps; the spikes must not move.
    let text = std::fs::read_to_string("examples/synfire.snn").expect("example");
    let (deep, shallow) = (target_with(16, 500), target_with(8, 500));
    let steps = 800;
    let reference = population_spikes(&image_for(&text, 1, &deep), steps, &deep);
    let shallow_image = image_for(&text, 1, &shallow);
    assert_eq!(shallow_image.header.delay_slots, 8);
    assert!(shallow_image.cores.iter().any(|c| matches!(c.kind, CoreKind::DelayExtension { .. })));
    assert!(reference.len() > 500, "the chain runs: {} spikes", reference.len());
    same_spikes(&population_spikes(&shallow_image, steps, &shallow), &reference);
}

#[test]
fn a_poisson_source_sliced_over_cores_is_the_references_input() {
    // 1000 channels, more than a source core holds: every spike of the threshold neurons as in the reference.
    let text = "timestep 1 ms\nsource noise[1000] : poisson { rate = 80 Hz }\n\
                population t[1000] : threshold { threshold = 0.5 }\n\
                projection noise -> t : one_to_one { weight = 1 }\n";
    let net = parse(text, &Overrides::new()).expect("parses");
    let inst = instantiate(&validate(&net).expect("valid"), 3).expect("instantiates");
    let t = target();
    let img = image_for(text, 3, &t);
    let source_cores = img.cores.iter().filter(|c| matches!(c.kind, CoreKind::Source(_))).count();
    assert!(source_cores >= 2, "the source is sliced ({source_cores} cores)");
    let steps = 200;
    let mut sim = soma_runtime::reference::Simulator::new(&inst);
    let mut reference = Vec::new();
    for step in 0..steps {
        sim.advance();
        reference.extend(sim.spiked(0).iter().map(|&n| (step, 0u32, n)));
    }
    assert!(reference.len() > 10_000, "{} spikes", reference.len());
    same_spikes(&population_spikes(&img, steps, &t), &reference);
}
