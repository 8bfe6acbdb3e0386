//! The crossbar family behind [`crate::backend::Backend`]: an image of the tiles' program and the network its
//! digital periphery updates, and the mapping report as JSON and text.

use soma_isa::crossbar::CrossbarImage;
use soma_isa::instance::Instance;
use soma_isa::report::{Json, Report as AnyReport, thousands, to_json};
use soma_targets::Target;

use super::Report;
use crate::backend::{self, Boards, CompileError, Passes};
use crate::weights::weight_error_text;

/// The crossbar family's backend.
pub struct Backend;

impl AnyReport for Report {
    fn json(&self) -> Json {
        to_json(self)
    }

    fn text(&self) -> String {
        let plastic = if self.plastic_tiles > 0 {
            format!("; {} of them plastic: one analog cell per synapse, one column per neuron", self.plastic_tiles)
        } else {
            String::new()
        };
        format!(
            "tiles {} of {} ({} neurons per tile, {} cells per weight{plastic})\n\
             utilisation: {:.1}% of the used tiles' cells in mapped blocks, {:.2}% holding a synapse\n",
            thousands(self.tiles as u64),
            thousands(self.tiles_available as u64),
            self.neurons_per_tile,
            self.cells_per_weight,
            100.0 * self.block_utilisation,
            100.0 * self.cell_utilisation,
        ) + &weight_error_text(self.weight_error_rms, &self.weight_errors)
    }
}

impl backend::FamilyBackend for Backend {
    type Image = CrossbarImage;
    const FAMILY: &'static str = "crossbar";
    const SIZED_IN_BOARDS: bool = false;
    const NO_PLASTICITY: Option<&'static str> = None;
    /// Measured 2026-12-05 (`/usr/bin/time`, `soma compile examples/cuba.snn --target reram_128`): 3.2e5
    /// synapses, 24.4 MiB peak and a 10.0 MB image (a chip's tiles bound what fits).
    const FOOTPRINT: backend::Footprint =
        backend::Footprint { compile_bytes_per_synapse: 80.0, image_bytes_per_synapse: 31.0 };

    fn compile(
        &self,
        inst: &Instance,
        target: &Target,
        _boards: Option<Boards>,
        passes: &mut Passes,
    ) -> Result<backend::Lowered<CrossbarImage>, CompileError> {
        passes.start("map");
        let (program, mapping) = map(inst, target)?;
        let image = CrossbarImage { program, network: inst.clone(), target_text: target.text.clone() };
        Ok((image, Box::new(mapping)))
    }

    /// The mapping of the image's network again: the same target constants give the same tiles.
    fn mapping_of(&self, image: &CrossbarImage, target: &Target) -> Result<Option<Box<dyn AnyReport>>, CompileError> {
        Ok(Some(Box::new(map(&image.network, target)?.1)))
    }
}

/// Maps `inst` onto `target`'s tiles (the blanket [`backend::Backend`] checked its family).
fn map(inst: &Instance, target: &Target) -> Result<(soma_isa::crossbar::CrossbarProgram, Report), CompileError> {
    let xb =
        target.crossbar().ok_or_else(|| CompileError::WrongFamily(format!("{} is not a crossbar", target.name)))?;
    super::compile(inst, xb, &target.name, target.fingerprint)
}
