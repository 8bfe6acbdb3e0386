//! Synaptic matrices and weight quantisation. For every neuron core: a per-synapse-type left shift chosen from
//! the expected summed input (sPyNNaker's heuristic: mean plus `ring_buffer_sigma` standard deviations of the
//! input per step at `expected_rate_hz`, and room for the largest single weight), 16-bit weight magnitudes, and
//! rows keyed by sending core and atom. Delays beyond the core's ring buffer go through delay-extension cores.
//! Plastic projections put their synapses in the rows' plastic part with the core's fixed-point rule
//! ([`soma_isa::spinnaker::stdp`]); their weight bound `w_max` counts as a weight in the shifts (it is where the
//! weights may go, as sPyNNaker's `get_weight_maximum` says for STDP).

use rayon::prelude::*;
use soma_isa::instance::{Instance, Pre};
use soma_isa::model::{ModelKind, Receptor};
use soma_isa::plasticity::Stdp;
use soma_isa::spinnaker::stdp::{FixedStdp, WriteBack};
use soma_isa::spinnaker::{Block, PlasticProjection, PlasticRows, SynapticMatrix, word};
use soma_targets::spinnaker::Mapping;

use super::lower::units;
use super::{Vertex, VertexKind};
use crate::backend::{CompileError, Object};
use crate::weights::{ErrorTally, WeightError};

/// A weight whose sign its receptor cannot store.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error(
    "a {} weight of {weight} A: the target stores weight magnitudes per receptor (excitatory >= 0, inhibitory <= 0)",
    if *.receptor == Receptor::Excitatory { "excitatory" } else { "inhibitory" }
)]
struct WrongSign {
    receptor: Receptor,
    weight: f64,
}

/// Type of a synapse (0 adds to input 0, 1 to input 1) and its magnitude in the model's fixed units, or why the
/// target cannot store it.
fn typed(kind: ModelKind, receptor: Receptor, w: f64, scale: f64) -> Result<(usize, f64), WrongSign> {
    if kind == ModelKind::IfCurrExp {
        return match receptor {
            Receptor::Excitatory if w >= 0.0 => Ok((0, w * scale)),
            Receptor::Inhibitory if w <= 0.0 => Ok((1, -w * scale)),
            _ => Err(WrongSign { receptor, weight: w }),
        };
    }
    Ok(if w < 0.0 { (1, -w * scale) } else { (0, w * scale) })
}

/// Where each neuron of each population lives: `(vertex, local index)` by population and neuron.
pub struct Layout {
    /// Per population, the vertex of each slice and the slice size.
    pub pop_slices: Vec<(Vec<usize>, usize)>,
    /// Per source, the vertex of each slice and the slice size.
    pub src_slices: Vec<(Vec<usize>, usize)>,
    /// Delay-extension vertex of each vertex, if any.
    pub delay_of: Vec<Option<usize>>,
}

impl Layout {
    fn locate(&self, pre: Pre, i: usize) -> (usize, usize) {
        let (slices, size) = match pre {
            Pre::Population(p) => &self.pop_slices[p],
            Pre::Source(s) => &self.src_slices[s],
        };
        (slices[i / size], i % size)
    }
}

/// One synapse of a core: its row key (`sending vertex << 32 | atom`), its word, and for a plastic one, its origin
/// (`plastic projection << 32 | synapse`).
type Entry = (u64, u32, Option<u64>);

/// Lays out one core's entries as blocks of rows, one block per sending vertex; plastic entries go to the rows'
/// plastic part under `rule` (model weight `unit` per weight unit).
fn matrix(mut e: Vec<Entry>, vertices: &[Vertex], rule: Option<(FixedStdp, f64)>) -> SynapticMatrix {
    e.sort_unstable_by_key(|&(key, word, origin)| (key, origin.is_some(), word, origin));
    let mut m = SynapticMatrix { row_offsets: vec![0], ..Default::default() };
    let mut plastic = rule.map(|(rule, unit)| PlasticRows {
        rule,
        unit,
        row_offsets: vec![0],
        words: Vec::new(),
        origin: Vec::new(),
    });
    let mut i = 0;
    while i < e.len() {
        let sender = (e[i].0 >> 32) as usize;
        let atoms = match vertices[sender].kind {
            VertexKind::Delay { stages, .. } => vertices[sender].count * stages as usize,
            _ => vertices[sender].count,
        };
        let first_row = m.row_offsets.len() as u32 - 1;
        m.blocks.push(Block { key: vertices[sender].key, first_row, atoms: atoms as u32 });
        for atom in 0..atoms {
            while i < e.len() && e[i].0 == (sender as u64) << 32 | atom as u64 {
                match (e[i].2, plastic.as_mut()) {
                    (Some(origin), Some(p)) => {
                        p.words.push(e[i].1);
                        p.origin.push(origin);
                    }
                    _ => m.words.push(e[i].1),
                }
                i += 1;
            }
            m.row_offsets.push(m.words.len() as u32);
            if let Some(p) = plastic.as_mut() {
                p.row_offsets.push(p.words.len() as u32);
            }
        }
    }
    m.plastic = plastic.map(Box::new);
    m
}

/// Why a plastic projection cannot be lowered onto SpiNNaker, if it cannot.
fn plastic_problem(rule: &Stdp, kind: ModelKind, receptor: Receptor, slots: usize, longest: usize) -> Option<String> {
    if rule.modulation.is_some() {
        return Some(
            "a third factor (`modulation`) is not lowered: sPyNNaker's neuromodulated STDP takes reward spikes on \
             their own synapse type, which soma does not model yet"
                .into(),
        );
    }
    if rule.w_min < 0.0 || !matches!(typed(kind, receptor, rule.w_max, 1.0), Ok((0, _))) {
        return Some(format!(
            "its weights [{}, {}] must be excitatory magnitudes (w_min >= 0 on an excitatory receptor): a synaptic \
             word's type is fixed",
            rule.w_min, rule.w_max
        ));
    }
    if longest > slots {
        return Some(format!(
            "a delay of {longest} steps needs a delay-extension core, which re-sends the spike late and so moves the \
             presynaptic spike time STDP sees (sPyNNaker's behaviour); keep plastic delays within the {slots} \
             ring-buffer slots"
        ));
    }
    None
}

/// Sets a core's plastic rule from `rule` of projection `k` named `name` (model weight `unit` per weight unit), or
/// checks that the rule already set is the same: sPyNNaker runs one synapse dynamics per population.
fn core_rule<'a>(
    slot: &mut Option<(FixedStdp, f64, usize, &'a str)>,
    rule: &Stdp,
    (dt, unit, write_back): (f64, f64, WriteBack),
    (k, name): (usize, &'a str),
) -> Result<(), String> {
    match slot {
        Some((_, _, first, _)) if *first == k => Ok(()),
        Some((fixed, _, _, first)) => {
            if *fixed == FixedStdp::new(rule, dt, unit, write_back)? {
                Ok(())
            } else {
                Err(format!(
                    "its rule differs from that of the projection {first} onto the same core; sPyNNaker runs one \
                     synapse dynamics per population, so give both projections the same rule"
                ))
            }
        }
        None => {
            *slot = Some((FixedStdp::new(rule, dt, unit, write_back)?, unit, k, name));
            Ok(())
        }
    }
}

/// The plastic projections of `inst`, in projection order, for the image.
pub fn plastic_projections(inst: &Instance) -> Vec<PlasticProjection> {
    inst.projections
        .iter()
        .filter_map(|p| {
            p.plasticity.map(|r| PlasticProjection {
                name: p.name.clone(),
                synapses: p.rows.len() as u32,
                w_min: r.w_min,
                w_max: r.w_max,
            })
        })
        .collect()
}

/// Builds the synaptic matrix and shifts of every neuron vertex. Returns, per vertex, `Some((shifts, matrix))`
/// for neuron vertices, and the weight errors per projection.
#[allow(clippy::type_complexity)]
pub fn build(
    inst: &Instance,
    vertices: &[Vertex],
    layout: &Layout,
    slots: usize,
    mapping: &Mapping,
) -> Result<(Vec<Option<([u8; 2], SynapticMatrix)>>, Vec<WeightError>), CompileError> {
    let dt = inst.dt;
    let (sigma, p) = (mapping.ring_buffer_sigma.value, (mapping.expected_rate_hz.value * dt).min(1.0));
    let write_back = if mapping.stdp_rounding.value == 1.0 { WriteBack::Nearest } else { WriteBack::Truncate };
    let mut out: Vec<Option<([u8; 2], SynapticMatrix)>> = vec![None; vertices.len()];
    let mut errors: Vec<WeightError> =
        inst.projections.iter().map(|pr| WeightError { projection: pr.name.clone(), ..Default::default() }).collect();
    let mut plastic_count = 0u32;
    let plastic_of: Vec<Option<u32>> = inst
        .projections
        .iter()
        .map(|p| {
            p.plasticity.map(|_| {
                plastic_count += 1;
                plastic_count - 1
            })
        })
        .collect();
    for (pop_index, pop) in inst.populations.iter().enumerate() {
        let kind = pop.model.kind();
        let scale = units(&pop.model).weight;
        let (slices, slice_size) = &layout.pop_slices[pop_index];
        let incoming: Vec<usize> =
            (0..inst.projections.len()).filter(|&k| inst.projections[k].post == pop_index).collect();
        // Pass 1: expected input per neuron and type, and the largest weight, for the shifts.
        let n = pop.size();
        let (mut mean, mut var, mut max_w) =
            (vec![[0.0f64; 2]; n], vec![[0.0f64; 2]; n], vec![[0.0f64; 2]; slices.len()]);
        for &k in &incoming {
            let pr = &inst.projections[k];
            let at = || Object::Projection(pr.name.clone());
            let reach = match pr.plasticity {
                Some(rule) => {
                    let longest = pr.rows.delays.iter().copied().max().unwrap_or(1) as usize;
                    if let Some(problem) = plastic_problem(&rule, kind, pr.receptor, slots, longest) {
                        return Err(CompileError::Unsupported(format!(
                            "plastic projection {} cannot be lowered: {problem}",
                            pr.name
                        ))
                        .at(at()));
                    }
                    rule.w_max * scale
                }
                None => 0.0,
            };
            for (s, (&t, &w)) in pr.rows.targets.iter().zip(&pr.rows.weights).enumerate() {
                let (ty, m) = typed(kind, pr.receptor, w as f64, scale).map_err(|e| {
                    CompileError::Unsupported(format!("projection {} (synapse {s}): {e}", pr.name))
                        .at(Object::Projection(pr.name.clone()))
                })?;
                let t = t as usize;
                mean[t][ty] += m * p;
                var[t][ty] += m * m * p * (1.0 - p);
                let slot = &mut max_w[t / slice_size][ty];
                *slot = slot.max(m).max(reach);
            }
        }
        let shifts: Vec<[u8; 2]> = (0..slices.len())
            .map(|c| {
                let range = c * slice_size..((c + 1) * slice_size).min(n);
                std::array::from_fn(|ty| {
                    let peak = range.clone().map(|i| mean[i][ty] + sigma * var[i][ty].sqrt()).fold(0.0, f64::max);
                    let need = peak.max(max_w[c][ty]) * 32768.0 / 65535.0;
                    if need <= 1.0 { 0 } else { need.log2().ceil().min(31.0) as u8 }
                })
            })
            .collect();
        // Pass 2: the words of every core, keyed by (sending vertex, atom), and each core's plastic rule with the
        // projection that set it.
        let mut entries: Vec<Vec<Entry>> = vec![Vec::new(); slices.len()];
        let mut rules: Vec<Option<(FixedStdp, f64, usize, &str)>> = vec![None; slices.len()];
        for &k in &incoming {
            let pr = &inst.projections[k];
            let at = || Object::Projection(pr.name.clone());
            let err = &mut errors[k];
            let mut tally = ErrorTally::default();
            for pre in 0..inst.pre_size(pr.pre) {
                let (vertex, atom) = layout.locate(pr.pre, pre);
                for s in pr.rows.row(pre) {
                    let (t, w, d) =
                        (pr.rows.targets[s] as usize, pr.rows.weights[s] as f64, pr.rows.delays[s] as usize);
                    let (ty, m) = typed(kind, pr.receptor, w, scale).map_err(|e| {
                        CompileError::Unsupported(e.to_string()).at(Object::Projection(pr.name.clone()))
                    })?;
                    let core = t / slice_size;
                    let step = (1u64 << shifts[core][ty]) as f64 / 32768.0;
                    let q = (m / step).round().clamp(0.0, 65535.0);
                    tally.record(m, q * step);
                    let stage = (d - 1) / slots;
                    let residual = d - stage * slots;
                    let (sender, sender_atom) = if stage == 0 {
                        (vertex, atom)
                    } else {
                        let Some(dv) = layout.delay_of[vertex] else {
                            return Err(CompileError::Unsupported(format!(
                                "projection {}: delay {d} steps needs a delay extension",
                                pr.name
                            ))
                            .at(Object::Projection(pr.name.clone())));
                        };
                        (dv, (stage - 1) * vertices[vertex].count + atom)
                    };
                    let row_key = (sender as u64) << 32 | sender_atom as u64;
                    let origin = match (pr.plasticity, plastic_of[k]) {
                        (Some(rule), Some(index)) => {
                            core_rule(&mut rules[core], &rule, (inst.dt, step / scale, write_back), (k, &pr.name))
                                .map_err(|e| {
                                    CompileError::Unsupported(format!("plastic projection {}: {e}", pr.name)).at(at())
                                })?;
                            Some((index as u64) << 32 | s as u64)
                        }
                        _ => None,
                    };
                    entries[core].push((
                        row_key,
                        word::pack(q as u16, residual as u8, ty == 1, (t % slice_size) as u16),
                        origin,
                    ));
                }
            }
            *err = tally.finish(&pr.name, pr.rows.len());
        }
        // Sort and lay out each core's rows (cores in parallel).
        let built: Vec<SynapticMatrix> = entries
            .into_par_iter()
            .zip(rules)
            .map(|(e, rule)| matrix(e, vertices, rule.map(|(r, unit, ..)| (r, unit))))
            .collect();
        for (c, m) in built.into_iter().enumerate() {
            out[slices[c]] = Some((shifts[c], m));
        }
    }
    Ok((out, errors))
}
