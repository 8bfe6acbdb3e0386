//! The SFQ pulse simulator against hand-computed timing and energy with the `sfq_mitll` cell library, and
//! deliberately provoked merger collisions and DFF setup violations.

use soma_runtime::sfq::{CellKind, Netlist, Simulation};
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
        (n.add(CellKind::Jtl), n.add(CellKind::Jtl), n.add(CellKind::Splitter), n.add(CellKind::Merger));
    n.connect(j1, 0, j2, 0);
    n.connect(j2, 0, split, 0);
    n.connect(split, 0, merge, 0); // the splitter's second output leaves the netlist
    let mut sim = Simulation::new(&n, &lib, 1);
    sim.inject(1_000, j1, 0);
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
    // One pulse split in two; the branches meet again at a merger after 1 or 2 JTL stages on one side.
    for (stages, lost) in [(1, 1), (2, 0)] {
        let mut n = Netlist::default();
        let (split, merge) = (n.add(CellKind::Splitter), n.add(CellKind::Merger));
        n.connect(split, 0, merge, 0);
        let mut prev = (split, 1u8);
        for _ in 0..stages {
            let j = n.add(CellKind::Jtl);
            n.connect(prev.0, prev.1, j, 0);
            prev = (j, 0);
        }
        n.connect(prev.0, prev.1, merge, 1);
        let mut sim = Simulation::new(&n, &lib, 1);
        sim.inject(0, split, 0);
        sim.run_until(1_000_000);
        // 5.7 ps apart (< 8.2 ps window): one lost; 11.4 ps apart: both pass.
        assert_eq!(sim.counts[merge].collisions, lost, "{stages} stages");
        assert_eq!(sim.outputs.len() as u64, 2 - lost, "{stages} stages");
    }
}

#[test]
fn data_inside_the_setup_window_is_a_violation_and_not_stored() {
    let lib = lib();
    let mut n = Netlist::default();
    let dff = n.add(CellKind::Dff);
    let mut sim = Simulation::new(&n, &lib, 1);
    sim.inject(100_000, dff, 0); // data at 100 ps
    sim.inject(101_000, dff, 1); // clock 1 ps later: inside the 2.3 ps setup window
    sim.inject(200_000, dff, 0);
    sim.inject(203_000, dff, 1); // 3 ps later: fine
    sim.run_until(1_000_000);
    assert_eq!(sim.counts[dff].setup_violations, 1);
    assert_eq!(sim.outputs, vec![(208_100, dff, 0)], "clock at 203 ps + 5.1 ps clk->q");
}

#[test]
fn a_stochastic_synapse_into_a_neuron_fires_at_input_rate_times_pass_over_threshold() {
    let lib = lib();
    let mut n = Netlist::default();
    let (syn, neuron) = (n.add(CellKind::Synapse { pass: 0.3 }), n.add(CellKind::Neuron { threshold: 4 }));
    n.connect(syn, 0, neuron, 0);
    let mut sim = Simulation::new(&n, &lib, 7);
    // 100,000 input pulses every 20 ps (a 50 GHz clock of spikes): expect 100,000 x 0.3 / 4 = 7,500 outputs.
    for k in 0..100_000u64 {
        sim.inject(k * 20_000, syn, 0);
    }
    sim.run_until(u64::MAX);
    let fired = sim.outputs.len() as f64;
    // Binomial(1e5, 0.3) has a standard deviation of 145 pulses, 36 outputs: 4 sigma is 150.
    assert!((fired - 7_500.0).abs() < 150.0, "{fired}");
    // A leak clock that removes one fluxon per input slot silences it: 0.3 in, 1 out per slot.
    let mut n2 = n.clone();
    let leak = n2.add(CellKind::Jtl);
    n2.connect(leak, 0, neuron, 1);
    let mut sim = Simulation::new(&n2, &lib, 7);
    for k in 0..10_000u64 {
        sim.inject(k * 20_000, syn, 0);
        sim.inject(k * 20_000 + 1_000, leak, 0);
    }
    sim.run_until(u64::MAX);
    assert!(sim.outputs.len() < 10, "{}", sim.outputs.len());
}
