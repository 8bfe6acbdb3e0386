//! The SFQ pulse simulator against hand-computed timing and energy with the `sfq_mitll` cell library, and
//! deliberately provoked merger collisions and DFF setup violations.

use soma_isa::sfq::{Cell, Netlist, Port};
use soma_runtime::sfq::Simulation;
use soma_targets::lookup;
use soma_targets::sfq::Sfq;

fn lib() -> Sfq {
    lookup("sfq_mitll").expect("preset").sfq().expect("an SFQ preset").clone()
}

#[test]
fn a_jtl_splitter_merger_chain_takes_the_sum_of_the_cell_delays_and_costs_its_junction_switches() {
    let lib = lib();
    let mut n = Netlist::default();
    let (j1, j2, split, merge) =
        (n.add(Cell::Jtl { stages: 1 }), n.add(Cell::Jtl { stages: 1 }), n.add(Cell::Splitter), n.add(Cell::Merger));
    n.connect(j1, 0, Port { cell: j2, input: 0 });
    n.connect(j2, 0, Port { cell: split, input: 0 });
    n.connect(split, 0, Port { cell: merge, input: 0 }); // the splitter's second output leaves the netlist
    let mut sim = Simulation::new(&n, &lib, 16, 1);
    sim.inject(1_000, Port { cell: j1, input: 0 });
    sim.run_until(100_000);
    // 1 ps + 5.7 + 5.7 + 4.3 = 16.7 ps at the free splitter output; + 8.2 = 24.9 ps out of the merger.
    let mut out = sim.outputs.clone();
    out.sort_unstable();
    assert_eq!(out, vec![(16_700, split, 1), (24_900, merge, 0)]);
    // Every junction switches once: 2 + 2 + 3 + 7 = 14 switches of I_c Phi0 = 100 uA x 2.0678e-15 Wb.
    assert_eq!(sim.switches(), 14);
    let (dynamic, static_) = sim.energy_j();
    assert!((dynamic - 14.0 * 100e-6 * 2.067_833_848e-15).abs() < 1e-30, "{dynamic}");
    // RSFQ bias: 14 junctions x 175 nW over the 100 ps simulated.
    assert!((static_ - 14.0 * 1.75e-7 * 100e-12).abs() < 1e-27, "{static_}");
    assert!(static_ > 10.0 * dynamic, "RSFQ static bias dwarfs switching at one pulse per 100 ps");
}

#[test]
fn pulses_closer_than_the_merger_window_collide_and_one_is_lost() {
    let lib = lib();
    // One pulse split in two; the branches meet again at a merger directly or after one JTL stage on one side.
    for (stages, lost) in [(0, 1), (1, 0)] {
        let mut n = Netlist::default();
        let (split, merge) = (n.add(Cell::Splitter), n.add(Cell::Merger));
        n.connect(split, 0, Port { cell: merge, input: 0 });
        let mut prev = (split, 1u8);
        for _ in 0..stages {
            let j = n.add(Cell::Jtl { stages: 1 });
            n.connect(prev.0, prev.1, Port { cell: j, input: 0 });
            prev = (j, 0);
        }
        n.connect(prev.0, prev.1, Port { cell: merge, input: 1 });
        let mut sim = Simulation::new(&n, &lib, 16, 1);
        sim.inject(0, Port { cell: split, input: 0 });
        sim.run_until(1_000_000);
        // Together (< the 4 ps window): one lost; 5.7 ps apart: both pass.
        assert_eq!(sim.counts()[merge as usize].collisions, lost, "{stages} stages");
        assert_eq!(sim.outputs.len() as u64, 2 - lost, "{stages} stages");
    }
}

#[test]
fn data_inside_the_setup_window_is_a_violation_and_not_stored() {
    let lib = lib();
    let mut n = Netlist::default();
    let dff = n.add(Cell::Dff);
    let mut sim = Simulation::new(&n, &lib, 16, 1);
    sim.inject(100_000, Port { cell: dff, input: 0 }); // data at 100 ps
    sim.inject(101_000, Port { cell: dff, input: 1 }); // clock 1 ps later: inside the 2.3 ps setup window
    sim.inject(200_000, Port { cell: dff, input: 0 });
    sim.inject(203_000, Port { cell: dff, input: 1 }); // 3 ps later: fine
    sim.run_until(1_000_000);
    assert_eq!(sim.counts()[dff as usize].setup_violations, 1);
    assert_eq!(sim.outputs, vec![(208_100, dff, 0)], "clock at 203 ps + 5.1 ps clk->q");
}

#[test]
fn a_stochastic_synapse_into_a_neuron_fires_at_input_rate_times_pass_over_threshold() {
    let lib = lib();
    let mut n = Netlist::default();
    let syn = n.add(Cell::Synapse { pulses: 1, pass: 3 });
    let neuron = n.add(Cell::Neuron { threshold: 4, floor: 4, leak: 0, refractory: 0 });
    n.connect(syn, 0, Port { cell: neuron, input: 0 });
    let mut sim = Simulation::new(&n, &lib, 10, 7);
    // 100,000 input pulses every 20 ps, passed with 3/10: expect 100,000 x 0.3 / 4 = 7,500 firings.
    for k in 0..100_000u64 {
        sim.inject(k * 20_000, Port { cell: syn, input: 0 });
    }
    sim.run_until(u64::MAX);
    let fired = sim.fired.len() as f64;
    // Binomial(1e5, 0.3) has a standard deviation of 145 pulses, 36 firings: 4 sigma is 150.
    assert!((fired - 7_500.0).abs() < 150.0, "{fired}");
    assert_eq!(sim.outputs.len(), sim.fired.len(), "the neuron's output is unconnected");
}

#[test]
fn the_multiplier_spaces_its_pulses_and_the_loop_leaks_by_the_integer_rule() {
    let lib = lib();
    let mut n = Netlist::default();
    let syn = n.add(Cell::Synapse { pulses: 3, pass: 16 });
    let mut sim = Simulation::new(&n, &lib, 16, 1);
    sim.inject(0, Port { cell: syn, input: 0 });
    sim.run_until(u64::MAX);
    // Synapse delay 5.7 ps, then every 13.9 ps.
    assert_eq!(sim.outputs, vec![(5_700, syn, 0), (19_600, syn, 0), (33_500, syn, 0)]);
    assert_eq!(sim.switches(), 3 * 4, "one switch of its 4 junctions per pulse made");

    let mut n = Netlist::default();
    let neuron = n.add(Cell::Neuron { threshold: 100, floor: 3, leak: 16_384, refractory: 0 });
    let mut sim = Simulation::new(&n, &lib, 16, 1);
    let (excite, leak, inhibit) =
        (Port { cell: neuron, input: 0 }, Port { cell: neuron, input: 1 }, Port { cell: neuron, input: 2 });
    for k in 0..40 {
        sim.inject(k, excite);
    }
    let mut seen = Vec::new();
    for k in 0..3 {
        sim.inject(1_000 + k, leak);
        sim.run_until(1_000 + k);
        seen.push(sim.fluxons(neuron));
    }
    // a += |n| 16384; n -= a >> 16; a &= 0xffff: 40 -> 30 (a 0) -> 23 (a 32768) -> 17 (a 16384).
    assert_eq!(seen, vec![30, 23, 17]);
    for k in 0..25 {
        sim.inject(2_000 + k, inhibit);
    }
    sim.run_until(3_000);
    assert_eq!(sim.fluxons(neuron), -3, "inhibition saturates at the floor");
}

#[test]
fn a_current_loop_releases_its_leak_share_as_pulses_of_its_sign() {
    let lib = lib();
    let mut n = Netlist::default();
    let current = n.add(Cell::Current { capacity: 50, leak: 16_384 });
    let mut sim = Simulation::new(&n, &lib, 16, 1);
    let port = |input| Port { cell: current, input };
    for k in 0..60 {
        sim.inject(k, port(0)); // saturates at the capacity, 50
    }
    sim.inject(1_000, port(1));
    sim.run_until(2_000_000);
    // 50 x 16384 >> 16 = 12 fluxons out (a = 32768 left), 8 ps after the clock, one multiplier burst
    // (8 pulses x 13.9 ps = 111.2 ps) apart, on output 0.
    let positive: Vec<u64> = sim.outputs.iter().filter(|o| o.2 == 0).map(|o| o.0).collect();
    assert_eq!(positive.len(), 12);
    assert_eq!((positive[0], positive[11]), (9_000, 9_000 + 11 * 111_200));
    assert_eq!(sim.fluxons(current), 38);
    for k in 0..100 {
        sim.inject(3_000_000 + k, port(2)); // 38 - 100 saturates at -50
    }
    sim.inject(3_100_000, port(1));
    sim.run_until(6_000_000);
    // a = 32768 + 50 x 16384 = 851968: 13 out, on output 1 (the count is negative).
    assert_eq!(sim.outputs.iter().filter(|o| o.2 == 1).count(), 13);
    assert_eq!(sim.fluxons(current), -37);
}
