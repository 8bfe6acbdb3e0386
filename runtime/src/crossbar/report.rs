//! The crossbar family behind [`crate::engine::Engine`]: the non-idealities a run asks for, a run of an image
//! (its tiles' program and the network its periphery updates), and its report (rates, energy by component with
//! the ADCs' share, the counts behind it, the slowest step), as JSON and as text.

use std::time::Instant;

use serde::Serialize;
use soma_isa::crossbar::CrossbarImage;
use soma_isa::instance::Instance;
use soma_isa::report::{Json, Report as AnyReport, si, thousands, to_json};
use soma_targets::crossbar::Crossbar;

use super::{Ledger, Nonideal, run as emulate};
use crate::engine::{self, Devices, Job, Run, RunError};
use crate::reference::RunOptions;
use crate::report::{
    Learned, PopulationRate, RunSummary, all_spikes, learned, learned_text, population_rates, rate_table,
};

/// The tile mesh of a run, in at most [`TileMap::SIDE`] x [`TileMap::SIDE`] cells (a cell covers `tiles_per_side`^2
/// mesh positions): per cell, row-major from `(0, 0)`, the tiles in it and the reads of its most-read tile.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct TileMap {
    /// Cells across.
    pub columns: usize,
    /// Cells down.
    pub rows: usize,
    /// Mesh positions along a cell's side.
    pub tiles_per_side: usize,
    /// Programmed tiles in each cell.
    pub tiles: Vec<u32>,
    /// Reads of each cell's most-read tile.
    pub reads: Vec<u64>,
}

impl TileMap {
    /// The most cells along a side: a page stays small whatever the mesh.
    pub const SIDE: usize = 64;

    /// The map of `program`'s tiles, read `reads[i]` times each.
    pub fn of(program: &soma_isa::crossbar::CrossbarProgram, reads: &[u64]) -> TileMap {
        let width = (program.mesh_width as usize).max(1);
        let height = program.tiles.iter().map(|t| t.at.1 as usize + 1).max().unwrap_or(1);
        let tiles_per_side = width.max(height).div_ceil(TileMap::SIDE);
        let (columns, rows) = (width.div_ceil(tiles_per_side), height.div_ceil(tiles_per_side));
        let mut map =
            TileMap { columns, rows, tiles_per_side, tiles: vec![0; columns * rows], reads: vec![0; columns * rows] };
        for (t, &n) in program.tiles.iter().zip(reads) {
            let cell = (t.at.1 as usize / tiles_per_side) * columns + t.at.0 as usize / tiles_per_side;
            map.tiles[cell] += 1;
            map.reads[cell] = map.reads[cell].max(n);
        }
        map
    }
}

/// The in-memory multiply-accumulates of a run, in the terms a compute-in-memory macro's figures use.
#[derive(Clone, Debug, Serialize)]
pub struct InMemoryMacs {
    /// Multiply-accumulates: synaptic events, each a 1-bit input (a spike) times one weight.
    pub count: u64,
    /// Bits of a weight (the preset's `mapping.weight_bits`).
    pub weight_bits: u32,
    /// Their energy in the arrays and the readout: cells, drivers, conversions, partial sums, J.
    pub energy_j: f64,
    /// Energy a multiply-accumulate, J (none without any).
    pub energy_per_mac_j: Option<f64>,
    /// Tera-operations per second and watt at two operations a multiply-accumulate (the convention of
    /// compute-in-memory papers, e.g. NeuRRAM, Wan et al., Nature 608:504, 2022).
    pub tops_per_w: Option<f64>,
}

impl InMemoryMacs {
    /// The multiply-accumulates of `events` synaptic events whose ledger is `l`, with weights of `weight_bits`.
    pub fn of(events: u64, l: &Ledger, weight_bits: u32) -> InMemoryMacs {
        let energy_j = l.in_memory_mac_j();
        let energy_per_mac_j = (events > 0).then(|| energy_j / events as f64);
        let tops_per_w = energy_per_mac_j.filter(|&e| e > 0.0).map(|e| 2.0 / e / 1e12);
        InMemoryMacs { count: events, weight_bits, energy_j, energy_per_mac_j, tops_per_w }
    }

    fn text(&self) -> String {
        match (self.energy_per_mac_j, self.tops_per_w) {
            (Some(each), Some(tops)) => format!(
                "in-memory MACs {} (1-bit spike x {}-bit weight): {} each in the arrays and their readout \
                 (cells, drivers, ADCs, partial sums), {} at 2 operations a MAC\n",
                thousands(self.count),
                self.weight_bits,
                si(each, "J"),
                si(tops * 1e12, "OPS/W")
            ),
            _ => format!("in-memory MACs {}\n", thousands(self.count)),
        }
    }
}

/// The report of a crossbar run (the `--json` output).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What ran.
    pub network: String,
    /// Target name.
    pub target: String,
    /// The non-idealities that were on.
    pub nonideal: String,
    /// The mapping (the backend's report).
    pub mapping: Json,
    /// The mapping as text.
    #[serde(skip)]
    pub mapping_text: String,
    /// Populations.
    pub populations: Vec<PopulationRate>,
    /// Total energy, J.
    pub energy_j: f64,
    /// The ADCs' share of the energy.
    pub adc_energy_share: f64,
    /// The in-memory multiply-accumulates: one a synaptic event (a spike on a row times one weight).
    pub in_memory_macs: InMemoryMacs,
    /// Energy by component (`*_j`), the counts behind it, and the hardware step times.
    pub ledger: Ledger,
    /// What each plastic projection learned (its cells' conductances as weights); empty without any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub learned: Vec<Learned>,
    /// The write pulses' share of the energy.
    pub write_energy_share: f64,
    /// How often the tiles were read, over the tile mesh.
    pub tile_map: TileMap,
    /// Events, step time, durations, constants and the reference comparison.
    #[serde(flatten)]
    pub run: RunSummary,
}

impl AnyReport for Report {
    fn json(&self) -> Json {
        to_json(self)
    }

    fn text(&self) -> String {
        let r = self;
        let mut s = format!(
            "ran {} on {} for {} s ({} steps), non-idealities: {}\n",
            r.network, r.target, r.run.duration_s, r.run.steps, r.nonideal
        );
        s += &r.mapping_text;
        s += &rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons, p.spikes, p.rate_hz)));
        let l = &r.ledger;
        s += &format!(
            "energy {}: cells {}, drivers {}, ADCs {} ({:.0}%), partial sums {}, neurons {}, mesh {}\n",
            si(r.energy_j, "J"),
            si(l.cells_j, "J"),
            si(l.drivers_j, "J"),
            si(l.adc_j, "J"),
            100.0 * r.adc_energy_share,
            si(l.partial_sums_j, "J"),
            si(l.neurons_j, "J"),
            si(l.noc_j, "J")
        );
        s += &r.in_memory_macs.text();
        s += &format!(
            "tile reads {}, row activations {}, ADC conversions {}, neuron updates {}, packets {} ({} hops)\n",
            thousands(l.tile_reads),
            thousands(l.row_activations),
            thousands(l.adc_conversions),
            thousands(l.neuron_updates),
            thousands(l.packets),
            thousands(l.hops)
        );
        s += &format!("slowest step {} of hardware time\n", si(l.step_latency_max_s, "s"));
        if !r.learned.is_empty() {
            s += &format!(
                "learning: {} cell writes of {} pulses ({}, {:.1}% of the energy; rows written for {} of \
                 hardware time); {} changes rounded to no pulse, {} refused by stuck or worn cells, {} cells worn out\n",
                thousands(l.writes),
                thousands(l.write_pulses),
                si(l.write_j, "J"),
                100.0 * r.write_energy_share,
                si(l.write_time_s, "s"),
                thousands(l.rounded_away),
                thousands(l.writes_refused),
                thousands(l.worn_cells)
            );
            s += &learned_text(&r.learned);
        }
        s + &r.run.text("crossbar")
    }
}

/// The non-idealities of `devices` (`nonideal`: `none`, `all`, or some of `program_noise,read_noise,stuck,drift`)
/// at the preset's magnitudes, with drift read `read_after_s` after programming, the ADC range, and the
/// projections of `inst` whose weights the devices draw.
pub fn nonideal(devices: &Devices, xb: &Crossbar, inst: &Instance) -> Result<Nonideal, RunError> {
    let read_after = devices.read_after_s;
    let preset = Nonideal { drift_after_s: read_after, ..Nonideal::from_preset(xb) };
    let mut n = Nonideal::default();
    for item in devices.nonideal.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            "none" => {}
            "all" => n = preset.clone(),
            "cycle_to_cycle" => n.cycle_to_cycle = preset.cycle_to_cycle,
            "device_to_device" => n.device_to_device = preset.device_to_device,
            "program_noise" => n.program_noise = preset.program_noise,
            "read_noise" => n.read_noise = preset.read_noise,
            "stuck" => (n.stuck_on, n.stuck_off) = (preset.stuck_on, preset.stuck_off),
            "drift" => (n.drift_nu, n.drift_after_s) = (preset.drift_nu, read_after),
            other => {
                return Err(RunError::Option(format!(
                    "--nonideal: unknown `{other}`; expected none, all, or a list of program_noise, read_noise, \
                     stuck, drift, cycle_to_cycle, device_to_device (the last two: of plastic cells)"
                )));
            }
        }
    }
    n.switching_probability = preset.switching_probability;
    if !(devices.adc_range > 0.0 && devices.adc_range <= 1.0) {
        return Err(RunError::Option(format!("--adc-range {}: expected a fraction in (0, 1]", devices.adc_range)));
    }
    n.adc_range = devices.adc_range;
    for wanted in &devices.device_random {
        let k = inst.projections.iter().position(|p| &p.name == wanted).ok_or_else(|| {
            let names: Vec<&str> = inst.projections.iter().map(|p| p.name.as_str()).collect();
            RunError::Option(format!(
                "--device-random: no projection `{wanted}`; the projections are {}",
                names.join(", ")
            ))
        })?;
        n.device_random.push(k);
    }
    Ok(n)
}

/// The non-idealities as the user asked for them, with the projections whose weights the devices drew.
fn describe(list: &str, n: &Nonideal, inst: &Instance) -> String {
    let mut s = list.to_string();
    if n.adc_range < 1.0 {
        s += &format!("; ADC range {} of full scale", n.adc_range);
    }
    if !n.device_random.is_empty() {
        let names: Vec<&str> = n.device_random.iter().map(|&k| inst.projections[k].name.as_str()).collect();
        s += &format!("; device-random weights on {}", names.join(", "));
    }
    s
}

/// The crossbar family's engine.
pub struct Engine;

impl engine::FamilyEngine for Engine {
    type Image = CrossbarImage;
    const FAMILY: &'static str = "crossbar";
    const MODELS_DEVICES: bool = true;
    const RECORDS_TRACES: bool = false;
    const SAMPLES_WEIGHTS: bool = true;
    /// Measured 2026-12-05 (`/usr/bin/time soma run IMAGE`): CUBA on reram_128, 48 MB peak for a 10.0 MB image.
    const RUN_BYTES_PER_IMAGE_BYTE: f64 = 4.8;

    fn network(image: &CrossbarImage) -> Option<&Instance> {
        Some(&image.network)
    }

    fn run(&self, image: &CrossbarImage, job: &Job) -> Result<Run, RunError> {
        let wall = Instant::now();
        let target = job.target;
        let xb = target.crossbar().ok_or_else(|| {
            RunError::Unsupported(format!("{} is a {} target, not a crossbar", target.name, target.family_name()))
        })?;
        let inst = &image.network;
        let devices = job.devices.cloned().unwrap_or_default();
        let nonideal = nonideal(&devices, xb, inst)?;
        let steps = job.steps;
        let opts = RunOptions { steps, record_all_spikes: true };
        let out = emulate(inst, &image.program, xb, &nonideal, &opts, Some(job));
        let spikes = all_spikes(&out.result);
        let l = &out.ledger;
        let total = l.total_j();
        let run = RunSummary::of(job, inst, &out.result, &spikes, total, l.hardware_time_s / steps.max(1) as f64, wall);
        let figures = run.figures(total, total, image.program.tiles.len() as u64, "tiles");
        let report = Report {
            network: job.network.to_string(),
            target: target.name.clone(),
            nonideal: describe(&devices.nonideal, &nonideal, inst),
            mapping: job.mapping.map_or(Json::Null, |m| m.json()),
            mapping_text: job.mapping.map_or_else(String::new, |m| m.text()),
            populations: population_rates(inst, &out.result.spike_counts, job.duration_s),
            energy_j: total,
            adc_energy_share: if total > 0.0 { l.adc_j / total } else { 0.0 },
            in_memory_macs: InMemoryMacs::of(run.synaptic_events, l, xb.mapping.weight_bits.value as u32),
            write_energy_share: if total > 0.0 { l.write_j / total } else { 0.0 },
            learned: learned(inst, &out.result.learned),
            ledger: l.clone(),
            tile_map: TileMap::of(&image.program, &out.tile_reads),
            run,
        };
        let mut run = Run::of_instance(inst, spikes, out.result.steps, Box::new(report), figures);
        run.learned =
            out.result.learned.into_iter().map(|l| (inst.projections[l.projection].name.clone(), l.weights)).collect();
        run.weight_traces = out.result.weight_traces;
        Ok(run)
    }
}
