//! Synaptic matrices and weight quantisation. For every neuron core: a per-synapse-type left shift chosen from
//! the expected summed input (sPyNNaker's heuristic: mean plus `ring_buffer_sigma` standard deviations of the
//! input per step at `expected_rate_hz`, and room for the largest single weight), 16-bit weight magnitudes, and
//! rows keyed by sending core and atom. Delays beyond the core's ring buffer go through delay-extension cores.
//! Plastic projections put their synapses in the rows' plastic part with the core's fixed-point rule
//! ([`soma_isa::spinnaker::stdp`]); their weight bound `w_max` counts as a weight in the shifts (it is where the
//! weights may go, as sPyNNaker's `get_weight_maximum` says for STDP).

use rayon::prelude::*;
use soma_isa::instance::{Instance, Pre, ProjectionInstance};
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
    /// The longest delay of any synapse, steps.
    pub longest_delay: usize,
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

/// One core's synapses as pass 2 of [`build`] finds them, keyed by row (`sending vertex << 32 | atom`): the static
/// ones as parallel keys and words (12 bytes a synapse, the largest transient of a compile), the plastic ones with
/// their origin (`plastic projection << 32 | synapse`).
#[derive(Default)]
struct CoreEntries {
    keys: Vec<u64>,
    words: Vec<u32>,
    plastic: Vec<(u64, u32, u64)>,
}

/// Lays out one core's entries as blocks of rows, one block per sending vertex in vertex order holding all of its
/// atoms; within a row the static words ascend, the plastic part (under `rule`, model weight `unit` per weight
/// unit) ascends by word and origin. The static words are placed by counting sort: no sort of the whole core.
fn matrix(e: CoreEntries, vertices: &[Vertex], rule: Option<(FixedStdp, f64)>) -> SynapticMatrix {
    let CoreEntries { keys, words, mut plastic } = e;
    plastic.sort_unstable();
    let atoms_of = |v: usize| match vertices[v].kind {
        VertexKind::Delay { stages, .. } => vertices[v].count * stages as usize,
        _ => vertices[v].count,
    };
    let mut present = vec![false; vertices.len()];
    for k in keys.iter().copied().chain(plastic.iter().map(|p| p.0)) {
        present[(k >> 32) as usize] = true;
    }
    let (mut blocks, mut first_row, mut rows) = (Vec::new(), vec![0usize; vertices.len()], 0usize);
    for v in (0..vertices.len()).filter(|&v| present[v]) {
        blocks.push(Block { key: vertices[v].key, first_row: rows as u32, atoms: atoms_of(v) as u32 });
        first_row[v] = rows;
        rows += atoms_of(v);
    }
    let row_of = |k: u64| first_row[(k >> 32) as usize] + k as u32 as usize;
    let offsets = |rows_of: &mut dyn Iterator<Item = usize>| {
        let mut offsets = vec![0u32; rows + 1];
        for r in rows_of {
            offsets[r + 1] += 1;
        }
        for r in 0..rows {
            offsets[r + 1] += offsets[r];
        }
        offsets
    };
    let row_offsets = offsets(&mut keys.iter().map(|&k| row_of(k)));
    let mut next = row_offsets.clone();
    let mut placed = vec![0u32; words.len()];
    for (&k, &w) in keys.iter().zip(&words) {
        let r = row_of(k);
        placed[next[r] as usize] = w;
        next[r] += 1;
    }
    for r in 0..rows {
        placed[row_offsets[r] as usize..row_offsets[r + 1] as usize].sort_unstable();
    }
    let plastic = rule.map(|(rule, unit)| {
        Box::new(PlasticRows {
            rule,
            unit,
            row_offsets: offsets(&mut plastic.iter().map(|p| row_of(p.0))),
            words: plastic.iter().map(|p| p.1).collect(),
            origin: plastic.iter().map(|p| p.2).collect(),
        })
    });
    SynapticMatrix { blocks, row_offsets, words: placed, plastic }
}

/// A weight magnitude in weight units (`>= 0`) as the 16-bit integer it is stored as: rounded half away from
/// zero and clamped to `0..=65535`, exactly `x.round().clamp(0.0, 65535.0)` (proptested) without the library call.
#[inline(always)]
fn quantise(x: f64) -> f64 {
    if x >= 65535.0 {
        return 65535.0;
    }
    let whole = x as u32 as f64; // truncation: NaN and negatives give 0
    whole + f64::from(u8::from(x - whole >= 0.5))
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

/// How one population's incoming synapses become words: where each target lives, the weight unit of each core
/// and type, and how a delay splits into delay-extension stages and the ring's residual.
struct Lowering<'a> {
    kind: ModelKind,
    /// Model weight units per ampere (or the model's unit).
    scale: f64,
    core_of: &'a [u32],
    slice_size: usize,
    /// Per core and type, the weight unit and its inverse.
    steps: &'a [[(f64, f64); 2]],
    /// Per delay, its stage and residual.
    split_delay: &'a [(usize, u8)],
    layout: &'a Layout,
    vertices: &'a [Vertex],
}

impl Lowering<'_> {
    /// Lowers each synapse of `pr` in row order, handing `place` its core, row key (`sending vertex << 32 | atom`),
    /// word and index; returns the projection's quantisation error.
    fn each(
        &self,
        inst: &Instance,
        pr: &ProjectionInstance,
        mut place: impl FnMut(usize, u64, u32, usize) -> Result<(), CompileError>,
    ) -> Result<WeightError, CompileError> {
        let at = || Object::Projection(pr.name.clone());
        let mut tally = ErrorTally::default();
        for pre in 0..inst.pre_size(pr.pre) {
            let (vertex, atom) = self.layout.locate(pr.pre, pre);
            for s in pr.rows.row(pre) {
                let (t, w, d) = (pr.rows.targets[s] as usize, pr.rows.weights[s] as f64, pr.rows.delays[s] as usize);
                let (ty, m) = typed(self.kind, pr.receptor, w, self.scale)
                    .map_err(|e| CompileError::Unsupported(e.to_string()).at(at()))?;
                let core = self.core_of[t] as usize;
                let (step, per_step) = self.steps[core][ty];
                let q = quantise(m * per_step);
                tally.record(m, q * step);
                let (stage, residual) = self.split_delay[d];
                let (sender, sender_atom) = if stage == 0 {
                    (vertex, atom)
                } else {
                    let Some(dv) = self.layout.delay_of[vertex] else {
                        return Err(CompileError::Unsupported(format!(
                            "projection {}: delay {d} steps needs a delay extension",
                            pr.name
                        ))
                        .at(at()));
                    };
                    (dv, (stage - 1) * self.vertices[vertex].count + atom)
                };
                let word = word::pack(q as u16, residual, ty == 1, (t - core * self.slice_size) as u16);
                place(core, (sender as u64) << 32 | sender_atom as u64, word, s)?;
            }
        }
        Ok(tally.finish(&pr.name, pr.rows.len()))
    }
}

/// What pass 1 finds of one population's incoming synapses.
struct Plan {
    /// The projections onto it.
    incoming: Vec<usize>,
    /// Each neuron's core (its slice).
    core_of: Vec<u32>,
    /// Each core's left shift per synapse type.
    shifts: Vec<[u8; 2]>,
    /// Per incoming projection, its static synapses per core.
    static_counts: Vec<Vec<usize>>,
}

/// Pass 1 for population `pop_index`: the expected input per neuron and type, and the largest weight, for the
/// shifts (`sigma` standard deviations above the mean at firing probability `p` per step); each incoming static
/// projection's synapses per core; and the refusals a population's synapses can raise.
fn plan(
    inst: &Instance,
    pop_index: usize,
    layout: &Layout,
    slots: usize,
    (sigma, p): (f64, f64),
) -> Result<Plan, CompileError> {
    let pop = &inst.populations[pop_index];
    let kind = pop.model.kind();
    let scale = units(&pop.model).weight;
    let (slices, slice_size) = &layout.pop_slices[pop_index];
    // Each target neuron's core, looked up rather than divided for (twice per synapse).
    let core_of: Vec<u32> = (0..pop.size()).map(|t| (t / slice_size) as u32).collect();
    let incoming: Vec<usize> = (0..inst.projections.len()).filter(|&k| inst.projections[k].post == pop_index).collect();
    let n = pop.size();
    let (mut mean, mut var, mut max_w) = (vec![[0.0f64; 2]; n], vec![[0.0f64; 2]; n], vec![[0.0f64; 2]; slices.len()]);
    // Each incoming static projection's synapses per core, to size pass 2's entries exactly (growing them
    // would hold up to twice) and give each projection its segment.
    let mut static_counts = vec![vec![0usize; slices.len()]; incoming.len()];
    for (&k, counts) in incoming.iter().zip(&mut static_counts) {
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
            let core = core_of[t] as usize;
            let slot = &mut max_w[core][ty];
            *slot = slot.max(m).max(reach);
            counts[core] += usize::from(pr.plasticity.is_none());
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
    Ok(Plan { incoming, core_of, shifts, static_counts })
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
    // Each delay's stage (delay-extension hops of `slots` steps) and the residual on the ring, looked up.
    let split_delay: Vec<(usize, u8)> = (0..=layout.longest_delay)
        .map(|d| {
            let stage = d.saturating_sub(1) / slots;
            (stage, (d - stage * slots) as u8)
        })
        .collect();
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
    // Pass 1 of every population at once (small: two sums per neuron), then pass 2 population by population (its
    // entries are the largest transient of a compile).
    let plans = (0..inst.populations.len())
        .into_par_iter()
        .map(|pop| plan(inst, pop, layout, slots, (sigma, p)))
        .collect::<Vec<_>>();
    for (pop_index, plan) in plans.into_iter().enumerate() {
        let Plan { incoming, core_of, shifts, static_counts } = plan?;
        let pop = &inst.populations[pop_index];
        let kind = pop.model.kind();
        let scale = units(&pop.model).weight;
        let (slices, slice_size) = &layout.pop_slices[pop_index];
        // A weight unit of each core and type, and its inverse: powers of two, so multiplying by the inverse is
        // dividing by the unit, to the bit.
        let steps: Vec<[(f64, f64); 2]> =
            shifts.iter().map(|sh| sh.map(|k| ((1u64 << k) as f64 / 32768.0, 32768.0 / (1u64 << k) as f64))).collect();
        let lowering = Lowering {
            kind,
            scale,
            core_of: &core_of,
            slice_size: *slice_size,
            steps: &steps,
            split_delay: &split_delay,
            layout,
            vertices,
        };
        // Pass 2: the words of every core, keyed by (sending vertex, atom). Static projections in parallel, each
        // into its own segment (counted in pass 1) of every core's entries, in projection order.
        let mut entries: Vec<CoreEntries> = (0..slices.len())
            .map(|c| {
                let n = static_counts.iter().map(|counts| counts[c]).sum();
                CoreEntries { keys: vec![0; n], words: vec![0; n], plastic: Vec::new() }
            })
            .collect();
        let mut segments: Vec<Vec<(&mut [u64], &mut [u32])>> =
            incoming.iter().map(|_| Vec::with_capacity(slices.len())).collect();
        for (c, e) in entries.iter_mut().enumerate() {
            let (mut keys, mut words) = (&mut e.keys[..], &mut e.words[..]);
            for (segment, counts) in segments.iter_mut().zip(&static_counts) {
                let (k, rest) = std::mem::take(&mut keys).split_at_mut(counts[c]);
                let (w, rest_words) = std::mem::take(&mut words).split_at_mut(counts[c]);
                segment.push((k, w));
                (keys, words) = (rest, rest_words);
            }
        }
        let static_errors: Vec<(usize, Result<WeightError, CompileError>)> = incoming
            .par_iter()
            .zip(segments)
            .filter(|(k, _)| inst.projections[**k].plasticity.is_none())
            .map(|(&k, mut segment)| {
                let mut filled = vec![0usize; segment.len()];
                let pr = &inst.projections[k];
                let tally = lowering.each(inst, pr, |core, key, word, _| {
                    let (keys, words) = &mut segment[core];
                    keys[filled[core]] = key;
                    words[filled[core]] = word;
                    filled[core] += 1;
                    Ok(())
                });
                (k, tally)
            })
            .collect();
        for (k, tally) in static_errors {
            errors[k] = tally?;
        }
        // Plastic projections in order: each core's rule comes from the first projection onto it.
        let mut rules: Vec<Option<(FixedStdp, f64, usize, &str)>> = vec![None; slices.len()];
        for &k in &incoming {
            let (pr, rule, index) = match (&inst.projections[k], plastic_of[k]) {
                (pr @ ProjectionInstance { plasticity: Some(rule), .. }, Some(index)) => (pr, rule, index),
                _ => continue,
            };
            errors[k] = lowering.each(inst, pr, |core, key, word, s| {
                let unit = steps[core][usize::from(word::inhibitory(word))].0 / scale;
                core_rule(&mut rules[core], rule, (inst.dt, unit, write_back), (k, &pr.name)).map_err(|e| {
                    CompileError::Unsupported(format!("plastic projection {}: {e}", pr.name))
                        .at(Object::Projection(pr.name.clone()))
                })?;
                entries[core].plastic.push((key, word, (index as u64) << 32 | s as u64));
                Ok(())
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The layout by one sort of every entry (what `matrix` computed before it placed words by counting): rows
    /// in key order, a block per sender with all its atoms.
    fn by_sorting(mut e: Vec<(u64, u32)>, vertices: &[Vertex]) -> (Vec<Block>, Vec<u32>, Vec<u32>) {
        e.sort_unstable();
        let (mut blocks, mut offsets, mut words, mut i) = (Vec::new(), vec![0u32], Vec::new(), 0);
        while i < e.len() {
            let sender = (e[i].0 >> 32) as usize;
            blocks.push(Block { key: vertices[sender].key, first_row: offsets.len() as u32 - 1, atoms: 3 });
            for atom in 0..3u64 {
                while i < e.len() && e[i].0 == (sender as u64) << 32 | atom {
                    words.push(e[i].1);
                    i += 1;
                }
                offsets.push(words.len() as u32);
            }
        }
        (blocks, offsets, words)
    }

    proptest! {
        #[test]
        fn quantise_is_round_and_clamp(x in prop_oneof![0.0..70000.0f64, (0u32..70000).prop_map(|i| i as f64 + 0.5),
            (0u32..70000).prop_map(|i| i as f64 - f64::EPSILON * i as f64), Just(0.49999999999999994), Just(f64::INFINITY)]) {
            prop_assert_eq!(quantise(x).to_bits(), x.round().clamp(0.0, 65535.0).to_bits());
        }

        #[test]
        fn counting_layout_is_the_sorted_one(entries in proptest::collection::vec((0u64..5, 0u64..3, 0u32..40), 0..200)) {
            let vertices: Vec<Vertex> = (0..5)
                .map(|v| Vertex { kind: VertexKind::Source { src: 0 }, first: 0, count: 3, key: v << 11 })
                .collect();
            let mut core = CoreEntries::default();
            for &(sender, atom, word) in &entries {
                core.keys.push(sender << 32 | atom);
                core.words.push(word);
            }
            let m = matrix(core, &vertices, None);
            let plain = entries.iter().map(|&(s, a, w)| (s << 32 | a, w)).collect();
            let (blocks, offsets, words) = by_sorting(plain, &vertices);
            prop_assert_eq!(m.blocks, blocks);
            prop_assert_eq!(m.row_offsets, offsets);
            prop_assert_eq!(m.words, words);
        }
    }
}
