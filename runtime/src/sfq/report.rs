//! The SFQ family behind [`crate::engine::Engine`]: a pulse-level run of an image (its netlist and the network
//! it was lowered from) and its report (rates, energy at 4 K and at the wall, junctions, timing trouble, first
//! spikes in ps), as JSON and as text.

use std::time::Instant;

use serde::Serialize;
use soma_isa::instance::Instance;
use soma_isa::report::{Json, Report as AnyReport, si, thousands, to_json};
use soma_isa::sfq::SfqImage;

use super::{Ledger, run as simulate};
use crate::engine::{self, Job, Run, RunError};
use crate::report::{PopulationRate, RunSummary, all_spikes, population_rates, rate_table};

/// The report of an SFQ run (the `--json` output).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What ran.
    pub network: String,
    /// Target name.
    pub target: String,
    /// The lowering (the backend's report).
    pub mapping: Json,
    /// The lowering as text.
    #[serde(skip)]
    pub mapping_text: String,
    /// Populations.
    pub populations: Vec<PopulationRate>,
    /// Energy at 4 K (switching and static bias), J.
    pub energy_j: f64,
    /// Energy at the wall, with the cryocooler, J.
    pub wall_plug_energy_j: f64,
    /// Switching energy by cell kind, junction counts, timing trouble and the chip time.
    pub ledger: Ledger,
    /// Pulses simulated per wall second: the engine's speed, as SpiNNaker's report gives synaptic events.
    pub pulses_per_wall_s: f64,
    /// Per population, when its first spike left the circuit, ps after the run's start.
    pub first_spike_ps: Vec<Option<f64>>,
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
        let l = &r.ledger;
        let mut s = format!(
            "ran {} on {} for {} s of model time ({} steps = {:.1} ps on chip)\n",
            r.network,
            r.target,
            r.run.duration_s,
            r.run.steps,
            l.chip_s * 1e12
        );
        s += &r.mapping_text;
        s += &rate_table(r.populations.iter().map(|p| (p.name.as_str(), p.neurons, p.spikes, p.rate_hz)));
        let by_kind: Vec<String> = l.dynamic_j.iter().map(|(k, j)| format!("{k} {}", si(*j, "J"))).collect();
        s += &format!(
            "energy at 4 K {}: switching {} ({}), static bias {}\n\
             at the wall x{} (cryocooler): {}\n",
            si(r.energy_j, "J"),
            si(l.dynamic_total_j, "J"),
            by_kind.join(", "),
            si(l.static_j, "J"),
            l.cooling_w_per_w,
            si(r.wall_plug_energy_j, "J")
        );
        s += &format!(
            "pulses {} ({} per s of chip time, {} per wall second); merger collisions {}, setup violations {}, \
             hold violations {}\n",
            thousands(l.pulses),
            si(l.pulses_per_s, ""),
            si(r.pulses_per_wall_s, ""),
            thousands(l.collisions),
            thousands(l.setup_violations),
            thousands(l.hold_violations)
        );
        for t in l.worst_cells.iter().take(3) {
            s += &format!("  cell {} ({}): {} collisions\n", t.cell, t.kind, thousands(t.collisions));
        }
        let firsts: Vec<String> = r
            .populations
            .iter()
            .zip(&r.first_spike_ps)
            .filter_map(|(p, f)| f.map(|t| format!("{} {t:.1} ps", p.name)))
            .collect();
        if !firsts.is_empty() {
            s += &format!("first spike: {}\n", firsts.join(", "));
        }
        s + &r.run.text("sfq")
    }
}

/// The SFQ family's engine.
pub struct Engine;

impl engine::FamilyEngine for Engine {
    type Image = SfqImage;
    const FAMILY: &'static str = "sfq";
    const MODELS_DEVICES: bool = false;
    const RECORDS_TRACES: bool = false;
    const SAMPLES_WEIGHTS: bool = false;
    /// Measured 2026-12-05 (`/usr/bin/time soma run IMAGE`): CUBA, 388 MB peak for a 30.8 MB netlist; the
    /// microcircuit at scale 0.2, 12.6 GB for 1.14 GB (the pulse engine's state per cell).
    const RUN_BYTES_PER_IMAGE_BYTE: f64 = 12.6;

    fn network(image: &SfqImage) -> Option<&Instance> {
        Some(&image.network)
    }

    fn run(&self, image: &SfqImage, job: &Job) -> Result<Run, RunError> {
        let wall = Instant::now();
        let target = job.target;
        let lib = target.sfq().ok_or_else(|| {
            RunError::Unsupported(format!("{} is a {} target, not an SFQ one", target.name, target.family_name()))
        })?;
        let steps = job.steps;
        let out = simulate(image, lib, steps, job.stop, job.progress);
        let inst = &image.network;
        let spikes = all_spikes(&out.result);
        let l = &out.ledger;
        // As the lowering reports it (ps), so the figure is the bits the mapping report shows.
        let step_ps = image.program.step_fs as f64 / 1000.0;
        let run = RunSummary::of(job, inst, &out.result, &spikes, l.chip_j, step_ps * 1e-12, wall);
        let figures = run.figures(l.chip_j, l.wall_j, l.junctions, "junctions");
        let report = Report {
            network: job.network.to_string(),
            target: target.name.clone(),
            mapping: job.mapping.map_or(Json::Null, |m| m.json()),
            mapping_text: job.mapping.map_or_else(String::new, |m| m.text()),
            populations: population_rates(inst, &out.result.spike_counts, job.duration_s),
            energy_j: l.chip_j,
            wall_plug_energy_j: l.wall_j,
            first_spike_ps: l.first_spike_fs.iter().map(|f| f.map(|t| t as f64 / 1000.0)).collect(),
            ledger: l.clone(),
            pulses_per_wall_s: l.pulses as f64 / run.wall_s.max(1e-9),
            run,
        };
        Ok(Run::of_instance(inst, spikes, out.result.steps, Box::new(report), figures))
    }
}
