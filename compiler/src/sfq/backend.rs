//! The SFQ family behind [`crate::backend::Backend`]: an image of the netlist and the network it was lowered
//! from, the netlist as text (`--emit netlist`), and the lowering report as JSON and text.

use soma_isa::instance::Instance;
use soma_isa::report::{Json, Report as AnyReport, quantity, si, thousands, to_json};
use soma_isa::sfq::SfqImage;
use soma_targets::Target;

use super::Report;
use crate::backend::{self, Boards, CompileError, Passes};
use crate::weights::weight_error_text;

/// The SFQ family's backend.
pub struct Backend;

impl AnyReport for Report {
    fn json(&self) -> Json {
        to_json(self)
    }

    fn text(&self) -> String {
        let cells: Vec<String> = self.cells.iter().map(|(k, n)| format!("{} {k}", thousands(*n as u64))).collect();
        let mut s = format!(
            "cells: {} ({} JTL stages); {} junctions, static bias {} at 4 K\n\
             network step {} ps on chip; trees up to {} splitters and {} mergers deep; longest neuron-to-neuron path \
             {:.1} ps\n",
            cells.join(", "),
            thousands(self.jtl_stages),
            thousands(self.junctions),
            si(self.static_w, "W"),
            self.step_ps,
            self.max_fan_out_depth,
            self.max_fan_in_depth,
            self.longest_path_ps
        );
        for p in &self.populations {
            if p.readout {
                s += &format!("  {:<16} a readout (does not spike): computed off chip, not lowered\n", p.name);
                continue;
            }
            let loops: Vec<String> = p.current_fluxons.iter().map(|&q| quantity(q, "")).collect();
            let mut current = match loops.len() {
                0 => String::new(),
                1 => format!(", current loop fluxon {}", loops[0]),
                _ => format!(", current loop fluxons {}", loops.join(" / ")),
            };
            if p.refractory_steps > 0 {
                current += &format!(", refractory {} steps", p.refractory_steps);
            }
            s += &format!(
                "  {:<16} fluxon {}, threshold {} fluxons, leak {:.4} per step{current}, {} biased neurons\n",
                p.name,
                quantity(p.fluxon, ""),
                p.threshold_fluxons,
                p.leak,
                p.biased_neurons
            );
        }
        if self.readout_synapses > 0 {
            s += &format!("{} synapses onto readouts: off chip\n", thousands(self.readout_synapses));
        }
        if self.dropped_synapses > 0 {
            s += &format!(
                "{} synapses too weak for one pulse at the lowest pass level: dropped\n",
                self.dropped_synapses
            );
        }
        if self.longest_path_ps > self.step_ps {
            s += &format!(
                "warning: the longest path ({:.1} ps) is longer than a step ({} ps): its pulses land in the next step, \
                 a step later than the reference's. clocks_per_step x {:.2} or more makes every path fit in a step (a \
                 slower chip); whether that improves the rates depends on the network (docs/sfq.md: sweep \
                 clocks_per_step and compare)\n",
                self.longest_path_ps,
                self.step_ps,
                self.longest_path_ps / self.step_ps
            );
        }
        s + &weight_error_text(self.weight_error_rms, &self.weight_errors)
    }
}

impl backend::FamilyBackend for Backend {
    type Image = SfqImage;
    const FAMILY: &'static str = "sfq";
    const SIZED_IN_BOARDS: bool = false;
    const NO_PLASTICITY: Option<&'static str> =
        Some("its synapses are fixed pulse multipliers and no sourced SFQ learning circuit is modelled");
    /// Measured 2026-12-05 (`/usr/bin/time`, `soma compile`): CUBA (3.2e5 synapses) 123 MiB peak and a 30.8 MB
    /// netlist, the microcircuit at scale 0.2 (1.2e7) 4.2 GiB and 1.14 GB.
    const FOOTPRINT: backend::Footprint =
        backend::Footprint { compile_bytes_per_synapse: 410.0, image_bytes_per_synapse: 96.0 };
    const FORMS: &'static [&'static str] = &["netlist"];

    fn compile(
        &self,
        inst: &Instance,
        target: &Target,
        _boards: Option<Boards>,
        passes: &mut Passes,
    ) -> Result<backend::Lowered<SfqImage>, CompileError> {
        passes.start("lower");
        let (program, mapping) = lower(inst, target)?;
        let image = SfqImage { program, network: inst.clone(), target_text: target.text.clone() };
        Ok((image, Box::new(mapping)))
    }

    /// The lowering of the image's network again: the same constants give the same netlist.
    fn mapping_of(&self, image: &SfqImage, target: &Target) -> Result<Option<Box<dyn AnyReport>>, CompileError> {
        Ok(Some(Box::new(lower(&image.network, target)?.1)))
    }

    fn emit(&self, image: &SfqImage, form: &str) -> Result<String, CompileError> {
        match form {
            "netlist" => Ok(super::dump(&image.program)),
            other => Err(backend::no_form(other, Self::FAMILY)),
        }
    }
}

/// Lowers `inst` onto `target`'s cells (the blanket [`backend::Backend`] checked its family).
fn lower(inst: &Instance, target: &Target) -> Result<(soma_isa::sfq::SfqProgram, Report), CompileError> {
    let lib = target.sfq().ok_or_else(|| CompileError::WrongFamily(format!("{} is not an SFQ target", target.name)))?;
    super::compile(inst, lib, &target.name, target.fingerprint)
}
