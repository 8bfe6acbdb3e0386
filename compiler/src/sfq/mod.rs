//! The SFQ backend: lowers a network of pulse-integrating neurons (NIR `lif`, `if`, `cuba_lif`, PyNN
//! `if_curr_exp`) to a netlist of
//! single-flux-quantum cells ([`soma_isa::sfq`]), one network time step per `clocks_per_step` clock periods.
//!
//! - **Neurons** become storage loops. Population by population, one fluxon stands for `q` of membrane potential
//!   above `v_reset`, with `q = max(theta / neuron_max_fluxons, w_max / synapse_max_pulses)` (`theta = v_threshold
//!   - v_reset`, `w_max` the largest input one event brings): the finest quantum at which the loop holds the
//!   threshold and the multiplier holds the largest weight. The loop fires on the first fluxon above `theta / q`
//!   (NIR's thresholds are strict; PyNN's `v >= v_thresh` fires on reaching it). A refractory period holds the
//!   loop empty for its steps. The membrane decay `e^{-dt/tau}` per step becomes the leak clock's
//!   `leak = round((1 - e^{-dt/tau}) 65536)`; `if` neurons do not leak.
//! - **Current synapses** (`cuba_lif`; `if_curr_exp` per receptor) get a loop per neuron that holds the synaptic
//!   current: synapses
//!   drive it, the clock releases `1 - e^{-dt/tau_syn}` of it per step, and each released fluxon becomes a
//!   bias-set number of membrane fluxons (a multiplier and pass gate), so that a weight brings the membrane the
//!   charge it brings in the reference (its in-step share arrives with the current's decay instead).
//! - **Readouts** (models that do not spike: `li`, `integrator`, `cuba_li`) are left off chip, with the synapses
//!   into them.
//! - **Synapses** become a JTL wire and a pulse multiplier with a pass gate: weight `w` brings `|w| g / q` fluxons
//!   per spike (`g` the model's voltage per unit of input over a step), realised as `m` pulses passed with
//!   probability `l / pass_levels`, the `(m, l)` closest to it. Negative weights drive the loop's inhibitory
//!   input. Constant drive (`v_leak` off `v_reset`, `i_offset`, injected DC currents) becomes a clock-fed bias
//!   generator per neuron, exact to 1/65536 of a fluxon per step.
//! - **Fan-out** from a neuron or a source channel is a balanced splitter tree, **fan-in** to each loop input a
//!   balanced merger tree; the clock reaches every leak input, current loop, bias generator and delay line through
//!   one splitter tree. Clocked drivers of one loop input (a bias generator, current loops' outflows) would pulse
//!   in step and collide in its merger tree: JTL stages after them keep their pulses out of the merger window.
//!   A current loop gets an outflow only on the sides its weights can drive.
//! - **Delays**: an element whose longest delay is `D` steps drives a line of `D - 1` DRO DFFs; synapses of delay
//!   `d` hang off its `(d - 1)`th stage. Each line is clocked counter-flow (its last stage first, each earlier one a
//!   splitter later), so a pulse advances one stage per step clock.
//! - **Placement**: source channels, then neurons, row-major on a square grid of neuron-cell pitches; a wire's JTL
//!   stages are its Manhattan length times `jtl_stages_per_pitch` (at least one).
//!
//! Not lowered (clear errors): `izhikevich` and `threshold` neurons, gap junctions, currents that change during
//! the run.

mod backend;

use std::collections::BTreeMap;

pub use backend::Backend;

use soma_isa::instance::{self, Instance};
use soma_isa::model::{Dynamics, NeuronModel, Receptor};
use soma_isa::sfq::{Cell, Netlist, Port, SfqProgram, Tap};
use soma_targets::sfq::Sfq;

use crate::backend::{CompileError, Object};
use crate::weights::{ErrorTally, WeightError, overall_rms};

/// How one population was mapped.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PopulationMap {
    /// Population name.
    pub name: String,
    /// Membrane potential per fluxon.
    pub fluxon: f64,
    /// Fluxons to fire.
    pub threshold_fluxons: u16,
    /// Leak per clock, fraction of the stored flux.
    pub leak: f64,
    /// Steps the membrane is held after a spike.
    pub refractory_steps: u16,
    /// Synaptic current per fluxon of each current loop (`cuba_lif`: one, `if_curr_exp`: one per receptor with
    /// synapses).
    pub current_fluxons: Vec<f64>,
    /// A non-spiking population (a readout): computed off chip, not lowered.
    pub readout: bool,
    /// Neurons with a constant drive (a clock-fed bias generator).
    pub biased_neurons: usize,
}

impl PopulationMap {
    /// A population that does not spike: a readout, left off chip.
    fn readout(name: &str) -> PopulationMap {
        PopulationMap {
            name: name.to_string(),
            fluxon: 0.0,
            threshold_fluxons: 0,
            leak: 0.0,
            refractory_steps: 0,
            current_fluxons: Vec::new(),
            readout: true,
            biased_neurons: 0,
        }
    }
}

/// What the lowering built.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Report {
    /// Cells per kind.
    pub cells: BTreeMap<&'static str, usize>,
    /// JTL stages in all wires.
    pub jtl_stages: u64,
    /// Josephson junctions.
    pub junctions: u64,
    /// Static bias power at 4 K, W.
    pub static_w: f64,
    /// One network step on chip (`clocks_per_step` clock periods), ps.
    pub step_ps: f64,
    /// Deepest splitter tree (levels).
    pub max_fan_out_depth: u32,
    /// Deepest merger tree (levels).
    pub max_fan_in_depth: u32,
    /// Slowest neuron-to-neuron path: splitters, wire, synapse, mergers and the loop, ps.
    pub longest_path_ps: f64,
    /// Per population.
    pub populations: Vec<PopulationMap>,
    /// Synapses whose weight rounds to no pulse at all (dropped).
    pub dropped_synapses: u64,
    /// Synapses onto non-spiking populations (readouts computed off chip, not lowered).
    pub readout_synapses: u64,
    /// RMS relative weight quantisation error over all synapses.
    pub weight_error_rms: f64,
    /// Quantisation error per projection.
    pub weight_errors: Vec<WeightError>,
}

/// A population's membrane arithmetic in the shared linear form: `v <- p22 v + (1 - p22) v_leak + gain I`.
struct Membrane {
    p22: f64,
    gain: f64,
    v_leak: f64,
    v_reset: f64,
    theta: f64,
    /// The model's own constant current (PyNN `i_offset`).
    i_offset: f64,
    /// Membrane potential per step per unit of injected current: `gain`, or for a current that enters through the
    /// synapse (a NIR bias into `cuba_lif`) its whole charge per step at steady state (the synaptic rise at the
    /// start is not followed: the bias generator drives the membrane).
    drive_gain: f64,
    /// Fires at `v > theta` (NIR) rather than `v >= theta` (PyNN).
    strict: bool,
    /// Steps the membrane is held at `v_reset` after a spike.
    refractory: u16,
    /// For current synapses, per receptor, the synaptic current's loop (`cuba_lif`: one, `if_curr_exp`: two).
    currents: Vec<CurrentLoop>,
}

/// A synaptic current `I <- p11 I + per_weight w` that flows into the membrane: a weight `w` eventually brings
/// `to_v per_weight w` of membrane potential (the reference's in-step share included, so the charge is kept;
/// on chip it arrives with the current's decay instead of within the step).
struct CurrentLoop {
    p11: f64,
    per_weight: f64,
    to_v: f64,
}

/// The membrane of a population's model (from its [`Dynamics`], the one definition), `None` for a model that does
/// not spike (a readout, computed off chip).
fn membrane(model: &NeuronModel, dt: f64, name: &str) -> Result<Option<Membrane>, CompileError> {
    let unsupported = || {
        CompileError::Unsupported(format!(
            "population `{name}` is `{}`: the SFQ target lowers linear integrate-and-fire neurons (`lif`, `if`, \
             `cuba_lif`, `if_curr_exp`: storage loops integrating pulses, with current loops for current synapses) \
             and leaves non-spiking readouts off chip",
            model.kind().name()
        ))
        .at(Object::Population(name.to_string()))
    };
    let l = match Dynamics::new(model, dt) {
        Dynamics::Linear(l) => l,
        Dynamics::Izhikevich(_) | Dynamics::Threshold { .. } => return Err(unsupported()),
    };
    let Some(spiking) = l.spiking else { return Ok(None) };
    // A synaptic current `I <- p11 I + per_weight w`: a weight eventually brings `to_v per_weight w` of v.
    let currents = (0..l.p11.len())
        .map(|k| CurrentLoop {
            p11: l.p11[k],
            per_weight: l.syn_scale[k],
            to_v: l.charge_per_weight(k) / l.syn_scale[k],
        })
        .collect();
    let m = Membrane {
        p22: l.p22,
        gain: l.p20,
        v_leak: l.v_leak,
        v_reset: spiking.v_reset,
        theta: spiking.theta,
        i_offset: l.i_offset,
        drive_gain: if l.current_into_synapse { l.charge_per_weight(0) } else { l.p20 },
        strict: spiking.strict,
        refractory: spiking.refractory_steps.min(u32::from(u16::MAX)) as u16,
        currents,
    };
    let sane = m.theta > m.v_reset && m.gain > 0.0 && m.currents.iter().all(|c| c.to_v > 0.0 && c.per_weight > 0.0);
    if !sane {
        return Err(CompileError::Unsupported(format!(
            "population `{name}`: the threshold must lie above the reset, and the input resistance and weight be \
             positive"
        ))
        .at(Object::Population(name.to_string())));
    }
    Ok(Some(m))
}

/// A presynaptic element: `(is a source, source or population index, channel or neuron)`.
type Pre = (bool, usize, usize);

/// A presynaptic element's spikes after `delay` steps: the element itself for one step, the `delay - 1`th DFF of
/// its delay line otherwise.
type Tapped = (Pre, u32);

/// One synapse's path, for the critical-path estimate.
struct Path {
    pre: Tapped,
    /// Its leaf in the splitter tree of its delay tap.
    leaf: usize,
    /// The loop input it drives.
    input: Port,
    stages: u64,
    pulses: u8,
}

/// The `(pulses, pass level)` closest to `x` fluxons per event, `None` if even one pulse at the lowest level is
/// nearer to nothing.
fn quantise(x: f64, max_pulses: u8, levels: u16) -> Option<(u8, u16)> {
    let mut best: Option<(f64, u8, u16)> = None;
    for m in 1..=max_pulses {
        let l = (x / m as f64 * levels as f64).round().clamp(0.0, levels as f64) as u16;
        let err = (m as f64 * l as f64 / levels as f64 - x).abs();
        if best.is_none_or(|(e, ..)| err < e - 1e-12) {
            best = Some((err, m, l));
        }
    }
    best.filter(|&(_, _, l)| l > 0).map(|(_, m, l)| (m, l))
}

/// A balanced splitter tree from one entry to `leaves`; records each leaf's depth.
fn split_tree(n: &mut Netlist, leaves: &[Port], depth: u32, depths: &mut Vec<u32>) -> Port {
    if let [leaf] = leaves {
        depths.push(depth);
        return *leaf;
    }
    let (a, b) = leaves.split_at(leaves.len() / 2);
    let s = n.add(Cell::Splitter);
    let left = split_tree(n, a, depth + 1, depths);
    let right = split_tree(n, b, depth + 1, depths);
    n.connect(s, 0, left);
    n.connect(s, 1, right);
    Port { cell: s, input: 0 }
}

/// A balanced merger tree from `drivers` (cell outputs) to one output; records each driver's depth (the mergers its
/// pulses pass), in the drivers' order.
fn merge_tree(n: &mut Netlist, drivers: &[(u32, u8)], depth: u32, depths: &mut Vec<u32>) -> (u32, u8) {
    if let [d] = drivers {
        depths.push(depth);
        return *d;
    }
    let (a, b) = drivers.split_at(drivers.len() / 2);
    let (la, lo) = merge_tree(n, a, depth + 1, depths);
    let (ra, ro) = merge_tree(n, b, depth + 1, depths);
    let m = n.add(Cell::Merger);
    n.connect(la, lo, Port { cell: m, input: 0 });
    n.connect(ra, ro, Port { cell: m, input: 1 });
    (m, 0)
}

/// JTL stages that may be put after a clocked driver to stagger it: enough for `n x jtl` to take about every phase
/// of a pulse spacing (5.7 ps stages over a 13.9 ps spacing come within 0.7 ps of any phase).
const STAGGER_STAGES: u16 = 12;

/// JTL stages for each of the clocked drivers of one loop input, whose first pulses reach it at `phases` (fs after
/// the step clock enters) and whose further pulses follow on a grid of `spacing`: the fewest stages that keep every
/// two of them more than `window` plus 1 ps apart modulo the spacing (so that they never meet in the merger tree
/// within its window; more distance buys nothing, and every stage delays the input), or if none does, the choice
/// that keeps them furthest apart. The first driver keeps 0. At most three clocked drivers share an input (two
/// current loops and a bias generator), so trying every choice is at most 13^2 cases.
fn stagger(phases: &[u64], spacing: u64, window: u64, jtl: u64) -> Vec<u16> {
    let gap = |a: u64, b: u64| {
        let d = a.abs_diff(b) % spacing;
        d.min(spacing - d)
    };
    let enough = window + 1000;
    let score = |stages: &[u16]| {
        let at: Vec<u64> = phases.iter().zip(stages).map(|(&p, &s)| p + s as u64 * jtl).collect();
        let closest = (0..at.len())
            .flat_map(|i| (i + 1..at.len()).map(move |j| (i, j)))
            .map(|(i, j)| gap(at[i], at[j]))
            .min()
            .unwrap_or(spacing);
        (closest.min(enough), std::cmp::Reverse(stages.iter().map(|&s| s as u32).sum::<u32>()), closest)
    };
    let mut best = vec![0u16; phases.len()];
    let mut stages = best.clone();
    let choices = (STAGGER_STAGES as usize + 1).pow(phases.len().saturating_sub(1) as u32);
    for mut choice in 0..choices {
        for s in stages.iter_mut().skip(1) {
            *s = (choice % (STAGGER_STAGES as usize + 1)) as u16;
            choice /= STAGGER_STAGES as usize + 1;
        }
        if score(&stages) > score(&best) {
            best.clone_from(&stages);
        }
    }
    best
}

/// The clock of a delay line `line` (its DFFs from the last stage to the first): a splitter chain that reaches the
/// last stage first and each earlier stage one splitter delay later, so that a stage's output never meets the next
/// stage's clock of the same step (counter-flow clocking). `None` for no DFFs.
fn counter_flow_clock(n: &mut Netlist, line: &[u32]) -> Option<Port> {
    let (&first_stage, later) = line.split_last()?;
    let mut entry = Port { cell: first_stage, input: 1 };
    for &dff in later.iter().rev() {
        let s = n.add(Cell::Splitter);
        n.connect(s, 0, Port { cell: dff, input: 1 });
        n.connect(s, 1, entry);
        entry = Port { cell: s, input: 0 };
    }
    Some(entry)
}

/// Lowers `inst` onto the cell library `lib`.
pub fn compile(
    inst: &Instance,
    lib: &Sfq,
    target: &str,
    fingerprint: u64,
) -> Result<(SfqProgram, Report), CompileError> {
    if !inst.gap_junctions.is_empty() {
        return Err(CompileError::Unsupported("the SFQ target has no gap junctions".into()));
    }
    if let Some(c) =
        inst.currents.iter().find(|c| c.change_steps.len() > 1 || c.change_steps.first().is_some_and(|&s| s > 0))
    {
        return Err(CompileError::Unsupported(format!(
            "the current into `{}` changes during the run; SFQ bias currents are set once, before it",
            inst.populations[c.target].name
        ))
        .at(Object::Population(inst.populations[c.target].name.clone())));
    }
    let c = &lib.cells;
    let (max_fluxons, max_pulses, levels) =
        (c.neuron_max_fluxons.value, c.synapse_max_pulses.value as u8, c.synapse_pass_levels.value as u16);
    let current_capacity = c.current_max_fluxons.value as u16;
    let membranes: Vec<Option<Membrane>> =
        inst.populations.iter().map(|p| membrane(&p.model, inst.dt, &p.name)).collect::<Result<_, _>>()?;
    // Constant drive per neuron per step, in membrane units.
    let drive: Vec<Vec<f64>> = inst
        .populations
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let Some(m) = &membranes[i] else { return Vec::new() };
            let mut d = vec![(1.0 - m.p22) * (m.v_leak - m.v_reset) + m.gain * m.i_offset; p.size()];
            for cur in inst.currents.iter().filter(|c| c.target == i) {
                if let Some(amps) = cur.amplitudes.first() {
                    for (k, dk) in d.iter_mut().enumerate() {
                        *dk += m.drive_gain * if amps.len() == 1 { amps[0] } else { amps[k] };
                    }
                }
            }
            d
        })
        .collect();
    let mut fan_in: BTreeMap<Port, Vec<(u32, u8)>> = BTreeMap::new();
    // The largest |weight| onto each population, per receptor (single-receptor models use index 0).
    let receptor = |post: usize, r: Receptor| r.index().min(inst.populations[post].model.kind().receptors() - 1);
    // And whether any weight onto it is positive, any negative: a current loop only ever holds the signs its
    // weights bring, so it gets an outflow (multiplier and pass gate) only on those sides.
    let mut w_max = vec![[0.0f64; 2]; inst.populations.len()];
    let mut signs = vec![[[false; 2]; 2]; inst.populations.len()];
    for pr in &inst.projections {
        let k = receptor(pr.post, pr.receptor);
        for &w in &pr.rows.weights {
            w_max[pr.post][k] = w_max[pr.post][k].max((w as f64).abs());
            signs[pr.post][k][(w < 0.0) as usize] |= w != 0.0;
        }
    }
    let mut net = Netlist::default();
    let mut maps = Vec::new();
    let mut neurons = Vec::new();
    // Per population and receptor: the loop each neuron's synapses drive (a current loop, or the neuron itself),
    // and the loop's potential per unit of weight and per fluxon.
    let mut entries: Vec<Vec<Vec<u32>>> = Vec::new();
    let mut input_scale: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut fluxon = Vec::new();
    let mut initial_fluxons = Vec::new();
    let mut clocked = Vec::new();
    let timing = lib.timing();
    // Drivers of loop inputs that the step clock makes pulse: the clock leaf they hang off and the delay from it
    // to their first pulse, fs.
    let mut clocked_drivers: BTreeMap<(u32, u8), (usize, u64)> = BTreeMap::new();
    for (i, p) in inst.populations.iter().enumerate() {
        let Some(m) = &membranes[i] else {
            maps.push(PopulationMap::readout(&p.name));
            neurons.push(Vec::new());
            entries.push(Vec::new());
            input_scale.push(Vec::new());
            fluxon.push(0.0);
            initial_fluxons.push(Vec::new());
            continue;
        };
        let theta = m.theta - m.v_reset;
        let drive_max = drive[i].iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let fits = |per_event: f64| per_event / max_pulses as f64;
        // A current loop's fluxon holds its largest weight in the multiplier's range (a receptor without synapses
        // gets no loop); the membrane's fluxon is as fine as the threshold, the direct inputs, the currents'
        // outflow per fluxon and the drive allow.
        let loops: Vec<(usize, &CurrentLoop, f64)> = m
            .currents
            .iter()
            .enumerate()
            .filter(|(k, _)| w_max[i][*k] > 0.0)
            .map(|(k, c)| (k, c, fits(c.per_weight * w_max[i][k])))
            .collect();
        let direct = if m.currents.is_empty() { fits(m.gain * w_max[i][0]) } else { 0.0 };
        let q = loops
            .iter()
            .map(|&(_, c, q_current)| fits(c.to_v * q_current))
            .fold((theta / max_fluxons).max(direct).max(fits(drive_max)), f64::max);
        let x = theta / q;
        let on_threshold = (x - x.round()).abs() < 1e-9;
        let threshold = match (on_threshold, m.strict) {
            (true, true) => x.round() + 1.0,
            (true, false) => x.round(),
            (false, _) => x.ceil(),
        }
        .clamp(1.0, 65535.0) as u16;
        let leak = ((1.0 - m.p22) * 65536.0).round().min(65535.0) as u16;
        let mut outflows = Vec::new();
        for &(k, c, q_current) in &loops {
            let outflow = quantise(c.to_v * q_current / q, max_pulses, levels).ok_or_else(|| {
                CompileError::Unsupported(format!(
                    "population `{}`: its synaptic current is too weak for one pulse",
                    p.name
                ))
                .at(Object::Population(p.name.clone()))
            })?;
            outflows.push((k, ((1.0 - c.p11) * 65536.0).round().clamp(1.0, 65535.0) as u16, outflow));
        }
        let receptors = p.model.kind().receptors();
        let mut cells = Vec::with_capacity(p.size());
        let mut inputs = vec![Vec::with_capacity(p.size()); receptors];
        for _ in 0..p.size() {
            let neuron = net.add(Cell::Neuron { threshold, floor: threshold, leak, refractory: m.refractory });
            if leak > 0 || m.refractory > 0 {
                clocked.push(Port { cell: neuron, input: 1 });
            }
            cells.push(neuron);
            for list in inputs.iter_mut() {
                list.push(neuron);
            }
            for &(k, leak, (pulses, pass)) in &outflows {
                let current = Cell::Current { capacity: current_capacity, leak };
                let loop_ = net.add(current);
                clocked.push(Port { cell: loop_, input: 1 });
                for (output, input) in [(0u8, 0u8), (1, 2)].into_iter().filter(|&(o, _)| signs[i][k][o as usize]) {
                    let synapse = Cell::Synapse { pulses, pass };
                    let syn = net.add(synapse);
                    net.connect(loop_, output, Port { cell: syn, input: 0 });
                    fan_in.entry(Port { cell: neuron, input }).or_default().push((syn, 0));
                    clocked_drivers
                        .insert((syn, 0), (clocked.len() - 1, timing.delay(current) + timing.delay(synapse)));
                }
                *inputs[k].last_mut().expect("this neuron's entry") = loop_;
            }
        }
        neurons.push(cells);
        entries.push(inputs);
        input_scale.push(
            (0..receptors)
                .map(|k| match loops.iter().find(|l| l.0 == k) {
                    Some(&(_, c, q_current)) => (c.per_weight, q_current),
                    None => (m.gain, q),
                })
                .collect(),
        );
        fluxon.push(q);
        // The loops start at `v_init`, to the nearest fluxon below the threshold they can hold. One whose first
        // step (decay and drive, as the reference takes it) crosses the threshold starts full: it fires at once.
        let start: Vec<i32> = p
            .v_init
            .iter()
            .zip(&drive[i])
            .map(|(v, d)| {
                let first = m.p22 * (v - m.v_reset) + d;
                if first > theta || (!m.strict && first == theta) {
                    threshold as i32
                } else {
                    ((v - m.v_reset) / q).round().clamp(-(threshold as f64), threshold as f64 - 1.0) as i32
                }
            })
            .collect();
        initial_fluxons.push(if start.iter().all(|&n| n == 0) { Vec::new() } else { start });
        maps.push(PopulationMap {
            name: p.name.clone(),
            fluxon: q,
            threshold_fluxons: threshold,
            leak: leak as f64 / 65536.0,
            refractory_steps: m.refractory,
            current_fluxons: loops.iter().map(|l| l.2).collect(),
            readout: false,
            biased_neurons: 0,
        });
    }
    // Grid positions: source channels first, then neurons.
    let total = inst.sources.iter().map(|s| s.size).sum::<usize>() + inst.neuron_count();
    let width = (total as f64).sqrt().ceil().max(1.0) as usize;
    let source_base: Vec<usize> =
        inst.sources.iter().scan(0, |acc, s| Some(std::mem::replace(acc, *acc + s.size))).collect();
    let sources_total = inst.sources.iter().map(|s| s.size).sum::<usize>();
    let pop_base: Vec<usize> =
        inst.populations.iter().scan(sources_total, |acc, p| Some(std::mem::replace(acc, *acc + p.size()))).collect();
    let at = |slot: usize| ((slot % width) as i64, (slot / width) as i64);
    let stages_per_pitch = c.jtl_stages_per_pitch.value as u64;

    // Synapse chains, grouped by their presynaptic element and by the loop input they drive.
    let mut fan_out: BTreeMap<Tapped, Vec<Port>> = BTreeMap::new();
    let mut paths: Vec<Path> = Vec::new();
    let mut errors = Vec::new();
    let mut dropped = 0u64;
    let mut jtl_stages = 0u64;
    let mut readout_synapses = 0u64;
    for pr in &inst.projections {
        if membranes[pr.post].is_none() {
            readout_synapses += pr.rows.len() as u64;
            continue;
        }
        let k = receptor(pr.post, pr.receptor);
        let (g, q) = input_scale[pr.post][k];
        let mut tally = ErrorTally::default();
        for i in 0..inst.pre_size(pr.pre) {
            let (key, slot) = match pr.pre {
                instance::Pre::Source(s) => ((true, s, i), source_base[s] + i),
                instance::Pre::Population(p) => ((false, p, i), pop_base[p] + i),
            };
            for s in pr.rows.row(i) {
                let (w, post) = (pr.rows.weights[s] as f64, pr.rows.targets[s] as usize);
                let key = (key, pr.rows.delays[s] as u32);
                let Some((pulses, pass)) = quantise(w.abs() * g / q, max_pulses, levels) else {
                    dropped += (w != 0.0) as u64;
                    tally.record(w.abs(), 0.0);
                    continue;
                };
                tally.record(w.abs(), pulses as f64 * pass as f64 / levels as f64 * q / g);
                let (from, to) = (at(slot), at(pop_base[pr.post] + post));
                let stages = (((from.0 - to.0).abs() + (from.1 - to.1).abs()) as u64 * stages_per_pitch).max(1);
                jtl_stages += stages;
                let jtl = net.add(Cell::Jtl { stages: stages.min(u16::MAX as u64) as u16 });
                let syn = net.add(Cell::Synapse { pulses, pass });
                net.connect(jtl, 0, Port { cell: syn, input: 0 });
                let input = Port { cell: entries[pr.post][k][post], input: if w > 0.0 { 0 } else { 2 } };
                let leaves = fan_out.entry(key).or_default();
                paths.push(Path { pre: key, leaf: leaves.len(), input, stages, pulses });
                leaves.push(Port { cell: jtl, input: 0 });
                fan_in.entry(input).or_default().push((syn, 0));
            }
        }
        errors.push(tally.finish(&pr.name, pr.rows.len()));
    }
    // Bias generators on the clock: the constant drive of each neuron, to 1/65536 of a fluxon per step.
    for (i, cells) in neurons.iter().enumerate() {
        for (k, &cell) in cells.iter().enumerate() {
            let d = drive[i][k];
            let rate = (d.abs() / fluxon[i] * 65536.0).round().min(u32::MAX as f64) as u32;
            if rate > 0 {
                let bias = net.add(Cell::Bias { rate });
                clocked.push(Port { cell: bias, input: 0 });
                clocked_drivers.insert((bias, 0), (clocked.len() - 1, timing.delay(Cell::Bias { rate })));
                fan_in.entry(Port { cell, input: if d > 0.0 { 0 } else { 2 } }).or_default().push((bias, 0));
                maps[i].biased_neurons += 1;
            }
        }
    }
    let mut out_depths: BTreeMap<Tapped, Vec<u32>> = BTreeMap::new();
    let mut taps: Vec<Vec<Option<Tap>>> = inst.sources.iter().map(|s| vec![None; s.size]).collect();
    let step_fs = lib.step_fs();
    // Delay lines: an element whose longest delay is `D` steps drives a chain of `D - 1` DFFs on the step clock;
    // the synapses of delay `d` hang off the `d - 1`th (the element itself for `d = 1`), each stage's splitter tree
    // also feeding the next DFF. Built from the last stage back, so each tree knows the DFF it feeds.
    let mut longest: BTreeMap<Pre, u32> = BTreeMap::new();
    for &(pre, delay) in fan_out.keys() {
        longest.entry(pre).and_modify(|d| *d = (*d).max(delay)).or_insert(delay);
    }
    for (pre, longest) in longest {
        let mut next_stage: Option<Port> = None;
        let mut line = Vec::new();
        for delay in (1..=longest).rev() {
            let mut leaves = fan_out.remove(&(pre, delay)).unwrap_or_default();
            leaves.extend(next_stage);
            if leaves.is_empty() {
                continue;
            }
            let mut depths = Vec::with_capacity(leaves.len());
            let entry = split_tree(&mut net, &leaves, 0, &mut depths);
            out_depths.insert((pre, delay), depths);
            if delay > 1 {
                let dff = net.add(Cell::Dff);
                net.connect(dff, 0, entry);
                line.push(dff);
                next_stage = Some(Port { cell: dff, input: 0 });
                continue;
            }
            if let Some(clock) = counter_flow_clock(&mut net, &line) {
                clocked.push(clock);
            }
            match pre {
                (true, s, ch) => {
                    // Channels enter at phases spread over the step (golden-ratio sequence), as asynchronous
                    // inputs do.
                    let slot = (source_base[s] + ch) as f64;
                    let phase_fs = ((slot * 0.618_033_988_749_895).fract() * step_fs as f64) as u64;
                    taps[s][ch] = Some(Tap { port: entry, phase_fs: phase_fs.min(step_fs - 1) });
                }
                (false, p, i) => net.connect(neurons[p][i], 0, entry),
            }
        }
    }
    let mut clock_depths = Vec::with_capacity(clocked.len());
    let clock = if clocked.is_empty() { None } else { Some(split_tree(&mut net, &clocked, 0, &mut clock_depths)) };
    let mut in_depths: BTreeMap<Port, u32> = BTreeMap::new();
    for (&input, drivers) in &fan_in {
        let mut depths = Vec::with_capacity(drivers.len());
        let (cell, output) = merge_tree(&mut net, drivers, 0, &mut depths);
        net.connect(cell, output, input);
        in_depths.insert(input, depths.iter().copied().max().unwrap_or(0));
        // Clocked drivers of one input would pulse in step with each other: staggered by JTL stages so that
        // their pulses reach the input (and so every merger they share) out of each other's merger window.
        let clocked_here: Vec<((u32, u8), u64)> = drivers
            .iter()
            .zip(&depths)
            .filter_map(|(d, &depth)| {
                let &(leaf, delay) = clocked_drivers.get(d)?;
                Some((*d, clock_depths[leaf] as u64 * timing.splitter + delay + depth as u64 * timing.merger))
            })
            .collect();
        if clocked_here.len() < 2 || timing.merger_window == 0 || timing.spacing == 0 {
            continue;
        }
        let phases: Vec<u64> = clocked_here.iter().map(|c| c.1).collect();
        for (&((driver, output), _), stages) in
            clocked_here.iter().zip(stagger(&phases, timing.spacing, timing.merger_window, timing.jtl))
        {
            if stages > 0 {
                let to = net.wires[driver as usize][output as usize].expect("a driver of a merger tree is wired");
                let jtl = net.add(Cell::Jtl { stages });
                net.connect(jtl, 0, to);
                net.connect(driver, output, Port { cell: jtl, input: 0 });
                jtl_stages += stages as u64;
            }
        }
    }

    let ps = |v: f64, n: u64| v * n as f64;
    let longest_path_ps = paths
        .iter()
        .map(|p| {
            let start = if p.pre.1 > 1 { c.dff_delay_ps.value } else { 0.0 };
            start
                + ps(c.splitter_delay_ps.value, out_depths[&p.pre][p.leaf] as u64)
                + ps(c.jtl_delay_ps.value, p.stages)
                + c.synapse_delay_ps.value
                + ps(c.synapse_pulse_spacing_ps.value, p.pulses as u64 - 1)
                + ps(c.merger_delay_ps.value, in_depths[&p.input] as u64)
                + c.neuron_delay_ps.value
        })
        .fold(0.0, f64::max);
    let mut cells: BTreeMap<&'static str, usize> = BTreeMap::new();
    for cell in &net.cells {
        *cells.entry(cell.kind()).or_default() += 1;
    }
    let junctions = lib.netlist_junctions(&net);
    let report = Report {
        cells,
        jtl_stages,
        junctions,
        static_w: junctions as f64 * lib.power.static_w_per_jj.value,
        step_ps: step_fs as f64 / 1000.0,
        max_fan_out_depth: out_depths.values().flatten().copied().max().unwrap_or(0),
        max_fan_in_depth: in_depths.values().copied().max().unwrap_or(0),
        longest_path_ps,
        populations: maps,
        dropped_synapses: dropped,
        readout_synapses,
        weight_error_rms: overall_rms(&errors),
        weight_errors: errors,
    };
    let program = SfqProgram {
        target: target.to_string(),
        fingerprint,
        step_fs,
        pass_levels: levels,
        netlist: net,
        clock,
        sources: taps,
        neurons,
        fluxon,
        initial_fluxons,
    };
    Ok((program, report))
}

/// The netlist as text, one cell per line: `index kind parameters -> driven inputs`.
pub fn dump(program: &SfqProgram) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# soma SFQ netlist for {}: {} cells, one step = {} fs",
        program.target,
        program.netlist.cells.len(),
        program.step_fs
    );
    let _ = writeln!(
        out,
        "# ports: neuron in0 excite, in1 leak clock, in2 inhibit; merger in0/in1; dff in0 data, in1 clock"
    );
    let port = |p: Port| format!("{}.in{}", p.cell, p.input);
    if let Some(clock) = program.clock {
        let _ = writeln!(out, "clock -> {}", port(clock));
    }
    for (s, taps) in program.sources.iter().enumerate() {
        for (ch, tap) in taps.iter().enumerate() {
            if let Some(t) = tap {
                let _ = writeln!(out, "source {s}[{ch}] at +{} fs -> {}", t.phase_fs, port(t.port));
            }
        }
    }
    for (i, (cell, wires)) in program.netlist.cells.iter().zip(&program.netlist.wires).enumerate() {
        let params = match *cell {
            Cell::Jtl { stages } => format!(" stages={stages}"),
            Cell::Neuron { threshold, floor, leak, refractory } => {
                format!(" threshold={threshold} floor={floor} leak={leak}/65536 refractory={refractory}")
            }
            Cell::Current { capacity, leak } => format!(" capacity={capacity} leak={leak}/65536"),
            Cell::Bias { rate } => format!(" rate={rate}/65536"),
            Cell::Synapse { pulses, pass } => format!(" pulses={pulses} pass={pass}/{}", program.pass_levels),
            _ => String::new(),
        };
        let to: Vec<String> = wires.iter().map(|w| w.map_or("out".to_string(), port)).collect();
        let _ = writeln!(out, "{i} {}{params} -> {}", cell.kind(), to.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::stagger;

    /// Smallest distance between two of `at`, modulo `spacing`.
    fn closest(at: &[u64], spacing: u64) -> u64 {
        let mut best = spacing;
        for (i, &a) in at.iter().enumerate() {
            for &b in &at[i + 1..] {
                let d = a.abs_diff(b) % spacing;
                best = best.min(d.min(spacing - d));
            }
        }
        best
    }

    #[test]
    fn stagger_takes_clocked_drivers_out_of_the_merger_window_with_the_fewest_stages() {
        // sfq_mitll: 13.9 ps spacing, 4 ps merger window, 5.7 ps JTL stages.
        let (spacing, window, jtl) = (13_900, 4_000, 5_700);
        assert_eq!(stagger(&[26_000], spacing, window, jtl), [0], "one driver stays as it is");
        assert_eq!(stagger(&[0, 6_950], spacing, window, jtl), [0, 0], "drivers already apart need no stages");
        // 0.2 ps apart (a bias generator and a current loop, unstaggered): one stage takes them 5.5 ps apart.
        assert_eq!(stagger(&[26_000, 26_200], spacing, window, jtl), [0, 1]);
        for phases in [[26_000, 26_200, 21_900], [0, 13_900, 27_800]] {
            let stages = stagger(&phases, spacing, window, jtl);
            assert_eq!(stages[0], 0, "the first driver keeps its phase");
            let at: Vec<u64> = phases.iter().zip(&stages).map(|(&p, &s)| p + s as u64 * jtl).collect();
            // Three cannot all be 5 ps apart on a 13.9 ps circle: as far apart as 12 stages allow (a third of the
            // spacing, within a stage's rounding).
            let apart = closest(&at, spacing);
            assert!(apart >= spacing / 3 - 800, "{phases:?} -> {stages:?}: {apart} fs apart");
        }
    }
}
