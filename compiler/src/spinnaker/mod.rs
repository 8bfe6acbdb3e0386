//! The SpiNNaker-style backend: maps an instantiated network onto a machine of chips and cores and emits an
//! `isa` image.
//!
//! Passes: **partition** (populations into slices of at most `neurons_per_core`, sources into slices of
//! `sources_per_core`, a delay-extension core for every slice that sends delays beyond the ring buffer),
//! **quantise and build synapses** ([`synapses`]), **lower** neuron models to programs ([`lower`]), **place**
//! (populations in the order of a breadth-first walk of the projection graph, each kept together, onto chips in
//! breadth-first order from chip (0, 0), within each chip's cores and SDRAM), **route** ([`route`]), and
//! assemble the image.

mod backend;
pub mod lower;
pub mod route;
pub mod synapses;

use std::collections::{HashMap, VecDeque};

use rayon::prelude::*;

use soma_isa::instance::{Instance, Pre, SourceKind};
use soma_isa::spinnaker::{
    ATOM_BITS, Core, CoreKind, Header, Image, NeuronCore, PopulationInfo, Router, SourceCore, stdp,
};
use soma_targets::spinnaker::{Geometry, SpiNNaker};

pub use crate::backend::PassTime;
use crate::backend::{CompileError, Object, Passes};
pub use crate::weights::WeightError;
pub use backend::{Backend, Mapping};

/// What a vertex (one core's worth of work) is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VertexKind {
    /// A slice of population `pop`.
    Neurons {
        /// Population index.
        pop: usize,
    },
    /// A slice of source `src`.
    Source {
        /// Source index.
        src: usize,
    },
    /// Delays the spikes of vertex `of` by 16, 32, ... steps.
    Delay {
        /// The delayed vertex.
        of: usize,
        /// Stages of `delay_slots` steps.
        stages: u8,
    },
}

/// One core's worth of work.
#[derive(Clone, Debug, PartialEq)]
pub struct Vertex {
    /// What it is.
    pub kind: VertexKind,
    /// First atom of its population or source.
    pub first: usize,
    /// Atoms.
    pub count: usize,
    /// Key base of its spikes.
    pub key: u32,
}

/// What compilation produced, for reports.
#[derive(Clone, Debug)]
pub struct Report {
    /// Boards of the machine used.
    pub boards: usize,
    /// Cores used.
    pub cores: usize,
    /// Chips with at least one core used.
    pub chips: usize,
    /// Neuron, source and delay-extension cores.
    pub core_kinds: [usize; 3],
    /// Largest routing table after compression.
    pub routing_entries_max: usize,
    /// Mean routing table after compression (chips with entries).
    pub routing_entries_mean: f64,
    /// Largest routing table before compression.
    pub routing_entries_max_uncompressed: usize,
    /// Bytes of synaptic words.
    pub synaptic_bytes: u64,
    /// Quantisation error per projection.
    pub weight_errors: Vec<WeightError>,
}

impl Report {
    /// RMS relative weight error over all synapses.
    pub fn weight_error_rms(&self) -> f64 {
        crate::weights::overall_rms(&self.weight_errors)
    }
}

/// The constant current into each neuron of each population (uniform and per-neuron DC from step 0 on);
/// time-varying currents and gap junctions are not supported.
fn drives(inst: &Instance) -> Result<Vec<Vec<f64>>, CompileError> {
    if !inst.gap_junctions.is_empty() {
        return Err(CompileError::Unsupported(
            "the SpiNNaker-style target has no electrical synapses (gap junctions)".into(),
        ));
    }
    let mut d: Vec<Vec<f64>> = inst.populations.iter().map(|p| vec![0.0; p.size()]).collect();
    for c in &inst.currents {
        if c.change_steps.as_slice() != [0] {
            return Err(CompileError::Unsupported(format!(
                "a current into `{}` changes over time; the target supports constant currents from the start",
                inst.populations[c.target].name
            ))
            .at(Object::Population(inst.populations[c.target].name.clone())));
        }
        let amp = &c.amplitudes[0];
        for (i, x) in d[c.target].iter_mut().enumerate() {
            *x += if amp.len() == 1 { amp[0] } else { amp[i] };
        }
    }
    Ok(d)
}

fn slices(size: usize, per_core: usize) -> (usize, usize) {
    let n = size.div_ceil(per_core.max(1)).max(1);
    (n, size.div_ceil(n))
}

/// Populations ordered by a breadth-first walk of the projection graph (heaviest projections first), so that
/// connected populations sit on neighbouring chips.
fn population_order(inst: &Instance) -> Vec<usize> {
    let n = inst.populations.len();
    let mut weight: HashMap<(usize, usize), usize> = HashMap::new();
    for p in &inst.projections {
        if let Pre::Population(a) = p.pre {
            *weight.entry((a.min(p.post), a.max(p.post))).or_default() += p.rows.len();
        }
    }
    let mut order = Vec::new();
    let mut seen = vec![false; n];
    for start in 0..n {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut q = VecDeque::from([start]);
        while let Some(a) = q.pop_front() {
            order.push(a);
            let mut next: Vec<(usize, usize)> = (0..n)
                .filter(|&b| !seen[b])
                .filter_map(|b| weight.get(&(a.min(b), a.max(b))).map(|&w| (w, b)))
                .collect();
            next.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
            for (_, b) in next {
                seen[b] = true;
                q.push_back(b);
            }
        }
    }
    order
}

/// Compiles an instantiated network for a SpiNNaker-style target on `boards` boards.
pub fn compile(
    inst: &Instance,
    target: &SpiNNaker,
    target_name: &str,
    fingerprint: u64,
    boards: usize,
) -> Result<(Image, Report), CompileError> {
    compile_first_fit(inst, target, (target_name, fingerprint), &[boards], &mut Passes::unwatched())
}

/// Compiles an instantiated network for a SpiNNaker-style target (named, with its fingerprint) on the first of the
/// machine sizes `boards` whose chips hold it: partition and synapses once (they do not depend on the machine),
/// placement on each size in turn until one fits, routing and assembly on that one.
pub fn compile_first_fit(
    inst: &Instance,
    target: &SpiNNaker,
    (target_name, fingerprint): (&str, u64),
    boards: &[usize],
    passes: &mut Passes,
) -> Result<(Image, Report), CompileError> {
    passes.start("partition");
    let slots = target.mapping.delay_slots.value as usize;
    let max_delay = target.mapping.max_delay_steps.value as usize;
    // A neuron core's DTCM holds its ring buffers (slots x 2 synapse types x 16 bits) and 8 registers of 32 bits
    // per neuron, and with plastic synapses onto it a postsynaptic history per neuron and the rule's decay tables:
    // fewer neurons per core if the preset's count would not fit.
    let dtcm = target.machine.dtcm_bytes.value as usize;
    let npc = |p: usize| {
        let mut per_neuron = slots * 2 * 2 + soma_isa::program::REGISTERS * 4;
        let mut tables = 0;
        if let Some(rule) = inst.projections.iter().filter(|q| q.post == p).find_map(|q| q.plasticity) {
            per_neuron += stdp::POST_HISTORY_BYTES;
            tables = stdp::FixedStdp::table_bytes(inst.dt, rule.tau_plus, rule.tau_minus);
        }
        target.neurons_per_core().min(dtcm.saturating_sub(tables) / per_neuron).max(1)
    };
    let spc = target.mapping.sources_per_core.value as usize;
    let drive = drives(inst)?;

    // Partition.
    let mut vertices: Vec<Vertex> = Vec::new();
    let push = |vertices: &mut Vec<Vertex>, kind, first, count| {
        let id = vertices.len();
        vertices.push(Vertex { kind, first, count, key: ((id as u32) + 1) << ATOM_BITS });
        id
    };
    let mut src_slices = Vec::new();
    for (s, src) in inst.sources.iter().enumerate() {
        let (n, size) = slices(src.size, spc);
        let ids: Vec<usize> = (0..n)
            .map(|k| push(&mut vertices, VertexKind::Source { src: s }, k * size, size.min(src.size - k * size)))
            .collect();
        src_slices.push((ids, size));
    }
    let mut pop_slices = Vec::new();
    for (p, pop) in inst.populations.iter().enumerate() {
        let (n, size) = slices(pop.size(), npc(p));
        let ids: Vec<usize> = (0..n)
            .map(|k| push(&mut vertices, VertexKind::Neurons { pop: p }, k * size, size.min(pop.size() - k * size)))
            .collect();
        pop_slices.push((ids, size));
    }
    // Delay extensions for senders with delays beyond the ring buffer: each sender's longest delay, over the
    // projections in parallel.
    let mut longest = vec![0usize; vertices.len()];
    let per_projection: Vec<Vec<(usize, usize)>> = inst
        .projections
        .par_iter()
        .map(|pr| {
            let (ids, size) = match pr.pre {
                Pre::Population(p) => &pop_slices[p],
                Pre::Source(s) => &src_slices[s],
            };
            let n = inst.pre_size(pr.pre);
            ids.iter()
                .enumerate()
                .map(|(slice, &v)| {
                    let rows = (slice * size).min(n)..((slice + 1) * size).min(n);
                    let synapses = pr.rows.offsets[rows.start] as usize..pr.rows.offsets[rows.end] as usize;
                    (v, pr.rows.delays[synapses].iter().copied().max().unwrap_or(0) as usize)
                })
                .collect()
        })
        .collect();
    for (v, d) in per_projection.into_iter().flatten() {
        longest[v] = longest[v].max(d);
    }
    if (vertices.len() as u64 + longest.iter().filter(|&&d| d > slots).count() as u64) >= (1u64 << (32 - ATOM_BITS)) - 1
    {
        return Err(CompileError::DoesNotFit("more cores than 32-bit keys can name".into()));
    }
    let mut delay_of = vec![None; vertices.len()];
    for v in 0..longest.len() {
        if longest[v] > max_delay {
            return Err(CompileError::Unsupported(format!(
                "a delay of {} steps exceeds the target's longest delay of {max_delay} steps (with delay extensions)",
                longest[v]
            )));
        }
        if longest[v] > slots {
            let stages = (longest[v] - 1) / slots;
            let (first, count) = (vertices[v].first, vertices[v].count);
            if count * stages >= 1 << ATOM_BITS {
                return Err(CompileError::Unsupported(format!(
                    "{count} neurons x {stages} delay stages do not fit a key"
                )));
            }
            delay_of[v] = Some(push(&mut vertices, VertexKind::Delay { of: v, stages: stages as u8 }, first, count));
        }
    }
    let longest_delay = longest.iter().copied().max().unwrap_or(0);
    let layout = synapses::Layout { pop_slices, src_slices, delay_of, longest_delay };

    passes.start("quantize+synapses");
    let (matrices, weight_errors) = synapses::build(inst, &vertices, &layout, slots, &target.mapping)?;

    passes.start("place");
    let mut last_error = CompileError::DoesNotFit("no machine size tried".into());
    let mut placed = None;
    for &b in boards {
        match place(inst, target, &layout, &matrices, b) {
            Ok(p) => {
                placed = Some((b, p));
                break;
            }
            Err(e @ CompileError::DoesNotFit(_)) => last_error = e,
            Err(e) => return Err(e),
        }
    }
    let Some((boards, (geometry, placement))) = placed else { return Err(last_error) };

    passes.start("route");
    // Every sender to the cores that hold rows for its key (and a delayed vertex to its extension).
    let mut destinations: Vec<Vec<((usize, usize), usize)>> = vec![Vec::new(); vertices.len()];
    let key_to_vertex: HashMap<u32, usize> = vertices.iter().enumerate().map(|(i, v)| (v.key, i)).collect();
    for (v, m) in matrices.iter().enumerate() {
        if let Some((_, m)) = m {
            let (x, y, c) = placement[v];
            for b in &m.blocks {
                destinations[key_to_vertex[&b.key]].push(((x, y), c));
            }
        }
    }
    for (v, d) in layout.delay_of.iter().enumerate() {
        if let Some(d) = d {
            let (x, y, c) = placement[*d];
            destinations[v].push(((x, y), c));
        }
    }
    let senders: Vec<route::Sender> = vertices
        .iter()
        .enumerate()
        .map(|(v, vx)| route::Sender {
            key: vx.key,
            chip: (placement[v].0, placement[v].1),
            destinations: std::mem::take(&mut destinations[v]),
        })
        .collect();
    let tables = route::route(&geometry, &senders, target.machine.router_entries.value as usize)?;

    passes.start("assemble");
    let mut populations: Vec<PopulationInfo> = inst
        .populations
        .iter()
        .map(|p| PopulationInfo {
            name: p.name.clone(),
            size: p.size() as u32,
            model: p.model.kind().name().to_string(),
            v_unit: lower::units(&p.model).v_unit.to_string(),
        })
        .collect();
    let source_base = populations.len();
    populations.extend(inst.sources.iter().map(|s| PopulationInfo {
        name: s.name.clone(),
        size: s.size as u32,
        model: "source".into(),
        v_unit: String::new(),
    }));
    let mut synaptic_bytes = 0u64;
    let mut matrices = matrices;
    let mut cores = Vec::with_capacity(vertices.len());
    let mut kinds = [0usize; 3];
    for (v, vx) in vertices.iter().enumerate() {
        let (x, y, c) = placement[v];
        let (population, kind) = match vx.kind {
            VertexKind::Neurons { pop } => {
                let (shifts, synapses) = matrices[v].take().unwrap_or_default();
                synaptic_bytes += synapses.sdram_bytes();
                let (program, registers) =
                    lower::lower(&inst.populations[pop], inst.dt, &drive[pop], vx.first, vx.count);
                kinds[0] += 1;
                (pop, CoreKind::Neurons(NeuronCore { program, registers, shifts, synapses }))
            }
            VertexKind::Source { src } => {
                kinds[1] += 1;
                let kind = match &inst.sources[src].kind {
                    SourceKind::Poisson { rate, stream } => SourceCore::Poisson { rate: *rate, stream: *stream },
                    SourceKind::SpikeArray { steps } => {
                        SourceCore::Array { stamps: steps[vx.first..vx.first + vx.count].to_vec() }
                    }
                };
                (source_base + src, CoreKind::Source(kind))
            }
            VertexKind::Delay { of, stages } => {
                kinds[2] += 1;
                let population = match vertices[of].kind {
                    VertexKind::Neurons { pop } => pop,
                    VertexKind::Source { src } => source_base + src,
                    VertexKind::Delay { .. } => unreachable!("delay extensions delay neuron or source cores"),
                };
                (population, CoreKind::DelayExtension { source: of as u32, stages })
            }
        };
        cores.push(Core {
            chip: (x as u16, y as u16),
            index: c as u16,
            key: vx.key,
            population: population as u32,
            first: vx.first as u32,
            count: vx.count as u32,
            kind,
        });
    }
    let mut routers: Vec<Router> = tables
        .tables
        .iter()
        .map(|(&(x, y), entries)| Router { chip: (x as u16, y as u16), entries: entries.clone() })
        .collect();
    routers.sort_by_key(|r| (r.chip.1, r.chip.0));
    let image = Image {
        header: Header {
            target: target_name.to_string(),
            fingerprint,
            boards: boards as u32,
            width: geometry.width as u16,
            height: geometry.height as u16,
            cores_per_chip: target.machine.cores_per_chip.value as u16,
            dt: inst.dt,
            seed: inst.seed,
            delay_slots: slots as u8,
            target_text: String::new(),
        },
        populations,
        cores,
        routers,
        plastic: synapses::plastic_projections(inst),
    };
    let chips_used = image.cores.iter().map(|c| c.chip).collect::<std::collections::HashSet<_>>().len();
    let report = Report {
        boards,
        cores: image.cores.len(),
        chips: chips_used,
        core_kinds: kinds,
        routing_entries_max: tables.max_compressed,
        routing_entries_mean: tables.mean_compressed,
        routing_entries_max_uncompressed: tables.max_uncompressed,
        synaptic_bytes,
        weight_errors,
    };
    Ok((image, report))
}

/// Places the vertices onto a machine of `boards` boards: sources first, then populations in projection order
/// (each followed by its delay extension), then the sources' delay extensions, onto chips in breadth-first order
/// from chip (0, 0), within each chip's cores and SDRAM. The machine's geometry and each vertex's (x, y, core).
#[allow(clippy::type_complexity)]
fn place(
    inst: &Instance,
    target: &SpiNNaker,
    layout: &synapses::Layout,
    matrices: &[Option<([u8; 2], soma_isa::spinnaker::SynapticMatrix)>],
    boards: usize,
) -> Result<(Geometry, Vec<(usize, usize, usize)>), CompileError> {
    let geometry = Geometry::boards(boards);
    let app_cores = target.app_cores();
    let sdram = target.machine.sdram_bytes.value as u64;
    let mut order: Vec<usize> = Vec::new();
    for s in 0..inst.sources.len() {
        order.extend(&layout.src_slices[s].0);
    }
    for p in population_order(inst) {
        for &v in &layout.pop_slices[p].0 {
            order.push(v);
            if let Some(d) = layout.delay_of[v] {
                order.push(d);
            }
        }
    }
    for (s, _) in inst.sources.iter().enumerate() {
        for &v in &layout.src_slices[s].0 {
            if let Some(d) = layout.delay_of[v] {
                order.push(d);
            }
        }
    }
    let chips = {
        // Breadth-first from (0, 0): compact regions for consecutive vertices.
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let start = geometry.chips()[0];
        let mut q = VecDeque::from([start]);
        seen.insert(start);
        while let Some(c) = q.pop_front() {
            out.push(c);
            for l in 0..6 {
                if let Some(n) = geometry.neighbour(c, l)
                    && seen.insert(n)
                {
                    q.push_back(n);
                }
            }
        }
        out
    };
    let mut placement: Vec<(usize, usize, usize)> = vec![(0, 0, 0); matrices.len()]; // (x, y, core)
    let (mut chip_i, mut core, mut chip_bytes) = (0usize, 1usize, 0u64);
    for &v in &order {
        let bytes = matrices[v].as_ref().map_or(0, |(_, m)| m.sdram_bytes());
        if bytes > sdram {
            return Err(CompileError::DoesNotFit(format!(
                "one core's synapses need {bytes} B of SDRAM, a chip has {sdram} B"
            )));
        }
        if core > app_cores || chip_bytes + bytes > sdram {
            chip_i += 1;
            core = 1;
            chip_bytes = 0;
        }
        if chip_i >= chips.len() {
            let machine = match boards {
                0 => "a single chip".to_string(),
                1 => format!("{} chips (1 board)", chips.len()),
                n => format!("{} chips ({n} boards)", chips.len()),
            };
            return Err(CompileError::DoesNotFit(format!(
                "the network needs more than the {} cores of {machine}; use more boards (--boards auto finds the smallest machine)",
                chips.len() * app_cores,
            )));
        }
        placement[v] = (chips[chip_i].0, chips[chip_i].1, core);
        core += 1;
        chip_bytes += bytes;
    }
    Ok((geometry, placement))
}

/// The smallest machine (1 board, then 3, 6, 9, ... boards) with enough cores for the network's vertices, as a
/// first guess for `--boards auto`.
pub fn boards_for(cores_needed: usize, target: &SpiNNaker) -> usize {
    let per_chip = target.app_cores();
    if cores_needed <= 48 * per_chip {
        return 1;
    }
    let triads = cores_needed.div_ceil(144 * per_chip);
    triads * 3
}
