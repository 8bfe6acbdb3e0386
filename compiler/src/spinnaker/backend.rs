//! The SpiNNaker family behind [`crate::backend::Backend`]: the machine size (`--boards`: the preset's, a count,
//! or the smallest that fits, tried upward), the target's description carried in the image, and the mapping
//! report as JSON and text.

use soma_isa::instance::Instance;
use soma_isa::report::{Json, Report as AnyReport, thousands, to_json};
use soma_isa::spinnaker::Image;
use soma_targets::Target;

use crate::backend::{self, Boards, CompileError, Passes};
use crate::weights::{WeightError, weight_error_text};

/// The SpiNNaker-style family's backend.
pub struct Backend;

/// What the mapping used (the `compile --json` report, with the command's own fields beside it).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Mapping {
    /// Boards of the machine.
    pub boards: usize,
    /// Cores used.
    pub cores: usize,
    /// Neuron cores.
    pub neuron_cores: usize,
    /// Source cores.
    pub source_cores: usize,
    /// Delay-extension cores.
    pub delay_cores: usize,
    /// Chips with a core used.
    pub chips: usize,
    /// Largest routing table after compression.
    pub routing_entries_max: usize,
    /// Mean routing table after compression.
    pub routing_entries_mean: f64,
    /// Largest routing table before compression.
    pub routing_entries_max_uncompressed: usize,
    /// Bytes of synaptic words.
    pub synaptic_bytes: u64,
    /// RMS relative weight quantisation error over all synapses.
    pub weight_error_rms: f64,
    /// Quantisation error per projection.
    pub weight_errors: Vec<WeightError>,
}

impl AnyReport for Mapping {
    fn json(&self) -> Json {
        to_json(self)
    }

    fn text(&self) -> String {
        let mut s = match self.boards {
            0 => "machine: a single chip\n".to_string(),
            1 => "machine: 1 board\n".to_string(),
            n => format!("machine: {n} boards\n"),
        };
        s += &format!(
            "cores {} ({} neuron, {} source, {} delay extension) on {} chip{}\n",
            thousands(self.cores as u64),
            self.neuron_cores,
            self.source_cores,
            self.delay_cores,
            self.chips,
            if self.chips == 1 { "" } else { "s" }
        );
        s += &format!(
            "routing entries per chip: max {} (before compression {}), mean {:.1}\n",
            self.routing_entries_max, self.routing_entries_max_uncompressed, self.routing_entries_mean
        );
        s += &format!("synaptic memory {:.1} MB\n", self.synaptic_bytes as f64 / 1e6);
        s + &weight_error_text(self.weight_error_rms, &self.weight_errors)
    }
}

impl Backend {
    /// The machine sizes to try for `boards`: the preset's, the one asked for, or from a first guess upward (from
    /// a single chip when the preset's machine is one).
    fn attempts(inst: &Instance, spinn: &soma_targets::spinnaker::SpiNNaker, boards: Option<Boards>) -> Vec<usize> {
        match boards {
            None => vec![spinn.machine.boards.value as usize],
            Some(Boards::Count(n)) => vec![n],
            Some(Boards::Smallest) => {
                let cores_guess =
                    inst.populations.iter().map(|p| p.size().div_ceil(spinn.neurons_per_core())).sum::<usize>();
                let single_chip = spinn.machine.boards.value == 0.0 && cores_guess <= spinn.app_cores();
                let first = if single_chip { 0 } else { super::boards_for(cores_guess, spinn) };
                let larger = (1..=64).map(|k| (first / 3 + k) * 3);
                std::iter::once(first).chain(single_chip.then_some(1)).chain(larger).collect()
            }
        }
    }
}

impl backend::FamilyBackend for Backend {
    type Image = Image;
    const FAMILY: &'static str = "spinnaker";
    const SIZED_IN_BOARDS: bool = true;
    const NO_PLASTICITY: Option<&'static str> = None;
    /// Measured 2026-12-05 (`/usr/bin/time`, `soma compile examples/microcircuit.snn`): at scale 0.2 (1.2e7
    /// synapses) 197 MiB peak and a 60.5 MB image, at full scale (3.0e8) 4.8 GB and 1.5 GB.
    const FOOTPRINT: backend::Footprint =
        backend::Footprint { compile_bytes_per_synapse: 17.5, image_bytes_per_synapse: 5.1 };

    fn compile(
        &self,
        inst: &Instance,
        target: &Target,
        boards: Option<Boards>,
        passes: &mut Passes,
    ) -> Result<backend::Lowered<Image>, CompileError> {
        let spinn = target
            .spinnaker()
            .ok_or_else(|| CompileError::WrongFamily(format!("{} is not a spinnaker", target.name)))?;
        if let Some(Boards::Count(n)) = boards
            && !(n == 1 || n % 3 == 0)
        {
            return Err(CompileError::MachineSize(format!(
                "{n} boards: SpiNNaker machines are a single chip (0 boards), 1 board or a multiple of 3"
            )));
        }
        let (mut image, report) = super::compile_first_fit(
            inst,
            spinn,
            (&target.name, target.fingerprint),
            &Self::attempts(inst, spinn, boards),
            passes,
        )?;
        image.header.target_text = target.text.clone();
        let [neuron_cores, source_cores, delay_cores] = report.core_kinds;
        let mapping = Mapping {
            boards: report.boards,
            cores: report.cores,
            neuron_cores,
            source_cores,
            delay_cores,
            chips: report.chips,
            routing_entries_max: report.routing_entries_max,
            routing_entries_mean: report.routing_entries_mean,
            routing_entries_max_uncompressed: report.routing_entries_max_uncompressed,
            synaptic_bytes: report.synaptic_bytes,
            weight_error_rms: report.weight_error_rms(),
            weight_errors: report.weight_errors,
        };
        Ok((image, Box::new(mapping)))
    }
}
