//! The superconducting single-flux-quantum (SFQ) family at PyLSE's abstraction: a library of pulse cells, each with
//! a Josephson-junction count, a firing delay and timing windows; junction critical current and the flux quantum
//! for the switching energy; static bias power (RSFQ) and the cryocooler's overhead for the wall-plug figure.

use soma_isa::sfq::{Cell, Netlist};

use crate::constants::{positive, whole};

crate::sections! {
    Sfq "An SFQ target's parameters."
    /// The cell library.
    cells Cells {
        /// Junctions of a Josephson transmission line stage.
        jtl_jjs,
        /// Delay of a JTL stage, ps.
        jtl_delay_ps,
        /// Junctions of a splitter (one pulse in, two out).
        splitter_jjs,
        /// Delay of a splitter, ps.
        splitter_delay_ps,
        /// Junctions of a merger (two inputs, one output).
        merger_jjs,
        /// Delay of a merger, ps.
        merger_delay_ps,
        /// A second input within this window after the first is lost (merger collision), ps.
        merger_window_ps,
        /// Junctions of a destructive-readout D flip-flop.
        dff_jjs,
        /// Clock-to-output delay of the DFF, ps.
        dff_delay_ps,
        /// Data must arrive this long before the clock, ps.
        dff_setup_ps,
        /// Data must not arrive within this long after the clock, ps.
        dff_hold_ps,
        /// Junctions of the clocked AND gate (library cell; the lowering does not place logic gates).
        and_jjs,
        /// Clock-to-output delay of the AND gate, ps.
        and_delay_ps,
        /// Setup window of the AND gate's inputs before its clock, ps.
        and_setup_ps,
        /// Hold window after the AND gate's clock, ps.
        and_hold_ps,
        /// Junctions of the clocked OR gate.
        or_jjs,
        /// Clock-to-output delay of the OR gate, ps.
        or_delay_ps,
        /// Setup window of the OR gate, ps.
        or_setup_ps,
        /// Hold window of the OR gate, ps.
        or_hold_ps,
        /// Junctions of the clocked XOR gate.
        xor_jjs,
        /// Clock-to-output delay of the XOR gate, ps.
        xor_delay_ps,
        /// Setup window of the XOR gate, ps.
        xor_setup_ps,
        /// Hold window of the XOR gate, ps.
        xor_hold_ps,
        /// Junctions of the clocked NOT gate.
        not_jjs,
        /// Clock-to-output delay of the NOT gate, ps.
        not_delay_ps,
        /// Setup window of the NOT gate, ps.
        not_setup_ps,
        /// Hold window of the NOT gate, ps.
        not_hold_ps,
        /// Junctions of the C-element (coincidence junction).
        c_element_jjs,
        /// Delay of the C-element from its second input, ps.
        c_element_delay_ps,
        /// Junctions of the integrate-and-fire neuron circuit.
        neuron_jjs,
        /// Delay from the threshold fluxon to the output pulse, ps.
        neuron_delay_ps,
        /// Junctions of the stochastic synapse circuit.
        synapse_jjs,
        /// Delay of a passed pulse through the synapse, ps.
        synapse_delay_ps,
        /// Fluxons the neuron's storage loop holds at most (its threshold's upper bound).
        neuron_max_fluxons,
        /// Fluxons a synaptic-current loop holds at most, either way.
        current_max_fluxons,
        /// Pulses the synapse's multiplier makes of one input pulse at most.
        synapse_max_pulses,
        /// Time between the multiplier's pulses, ps.
        synapse_pulse_spacing_ps,
        /// Bias-current settings of the synapse's pass gate: pass probabilities `k / levels`.
        synapse_pass_levels,
        /// JTL stages a wire needs per neuron-cell pitch of distance on the chip.
        jtl_stages_per_pitch,
    }
    /// Junctions and power.
    power Power {
        /// Critical current of a typical junction, A.
        critical_current_a,
        /// Flux quantum, Wb.
        flux_quantum_wb,
        /// Static bias power per junction, W (RSFQ's resistive bias; zero for ERSFQ/eSFQ).
        static_w_per_jj,
        /// Wall-plug watts per watt dissipated at 4 K.
        cooling_w_per_w,
        /// Clock frequency, Hz.
        clock_hz,
        /// Clock periods per network time step: the leak clock divides the main clock by this.
        clocks_per_step,
    }
}

impl Sfq {
    pub(crate) fn from_table(table: toml::Table) -> Result<Sfq, crate::ParameterError> {
        let s: Sfq = crate::constants::from_table(table, Sfq::constants)?;
        for (name, c) in [
            ("cells.jtl_jjs", &s.cells.jtl_jjs),
            ("cells.splitter_jjs", &s.cells.splitter_jjs),
            ("cells.merger_jjs", &s.cells.merger_jjs),
            ("cells.dff_jjs", &s.cells.dff_jjs),
            ("cells.neuron_jjs", &s.cells.neuron_jjs),
            ("cells.synapse_jjs", &s.cells.synapse_jjs),
            ("cells.neuron_max_fluxons", &s.cells.neuron_max_fluxons),
            ("cells.and_jjs", &s.cells.and_jjs),
            ("cells.or_jjs", &s.cells.or_jjs),
            ("cells.xor_jjs", &s.cells.xor_jjs),
            ("cells.not_jjs", &s.cells.not_jjs),
            ("cells.c_element_jjs", &s.cells.c_element_jjs),
            ("cells.jtl_stages_per_pitch", &s.cells.jtl_stages_per_pitch),
        ] {
            whole(name, c, 1.0, 1000.0)?;
        }
        whole("power.clocks_per_step", &s.power.clocks_per_step, 1.0, 1e6)?;
        whole("cells.synapse_pass_levels", &s.cells.synapse_pass_levels, 1.0, 65535.0)?;
        // An image stores a synapse's pulses in a byte.
        whole("cells.synapse_max_pulses", &s.cells.synapse_max_pulses, 1.0, f64::from(u8::MAX))?;
        whole("cells.neuron_max_fluxons", &s.cells.neuron_max_fluxons, 1.0, 65535.0)?;
        whole("cells.current_max_fluxons", &s.cells.current_max_fluxons, 1.0, 65535.0)?;
        for (name, c) in [
            ("cells.jtl_delay_ps", &s.cells.jtl_delay_ps),
            ("cells.splitter_delay_ps", &s.cells.splitter_delay_ps),
            ("cells.merger_delay_ps", &s.cells.merger_delay_ps),
            ("cells.dff_delay_ps", &s.cells.dff_delay_ps),
            ("cells.neuron_delay_ps", &s.cells.neuron_delay_ps),
            ("cells.synapse_delay_ps", &s.cells.synapse_delay_ps),
            ("cells.synapse_pulse_spacing_ps", &s.cells.synapse_pulse_spacing_ps),
            ("cells.and_delay_ps", &s.cells.and_delay_ps),
            ("cells.or_delay_ps", &s.cells.or_delay_ps),
            ("cells.xor_delay_ps", &s.cells.xor_delay_ps),
            ("cells.not_delay_ps", &s.cells.not_delay_ps),
            ("cells.c_element_delay_ps", &s.cells.c_element_delay_ps),
            ("power.critical_current_a", &s.power.critical_current_a),
            ("power.flux_quantum_wb", &s.power.flux_quantum_wb),
            ("power.clock_hz", &s.power.clock_hz),
        ] {
            positive(name, c)?;
        }
        if s.power.cooling_w_per_w.value < 1.0 {
            return Err(crate::ParameterError::Rule(format!(
                "power.cooling_w_per_w is wall-plug watts per watt at 4 K, at least 1, got {}",
                s.power.cooling_w_per_w.value
            )));
        }
        Ok(s)
    }

    /// The library's delays and windows in whole femtoseconds: the one statement of when a cell's output leaves,
    /// used by the pulse simulator and by the lowering that staggers clocked inputs.
    pub fn timing(&self) -> Timing {
        let c = &self.cells;
        Timing {
            jtl: fs(c.jtl_delay_ps.value),
            splitter: fs(c.splitter_delay_ps.value),
            merger: fs(c.merger_delay_ps.value),
            merger_window: fs(c.merger_window_ps.value),
            dff: fs(c.dff_delay_ps.value),
            dff_setup: fs(c.dff_setup_ps.value),
            dff_hold: fs(c.dff_hold_ps.value),
            neuron: fs(c.neuron_delay_ps.value),
            synapse: fs(c.synapse_delay_ps.value),
            spacing: fs(c.synapse_pulse_spacing_ps.value),
            burst: fs(c.synapse_pulse_spacing_ps.value) * c.synapse_max_pulses.value as u64,
        }
    }

    /// Junctions of a cell.
    pub fn junctions(&self, cell: Cell) -> u64 {
        let c = &self.cells;
        (match cell {
            Cell::Jtl { stages } => c.jtl_jjs.value * stages as f64,
            Cell::Splitter => c.splitter_jjs.value,
            Cell::Merger => c.merger_jjs.value,
            Cell::Dff => c.dff_jjs.value,
            Cell::Neuron { .. } | Cell::Current { .. } => c.neuron_jjs.value,
            Cell::Synapse { .. } | Cell::Bias { .. } => c.synapse_jjs.value,
        }) as u64
    }

    /// Junctions of a netlist.
    pub fn netlist_junctions(&self, netlist: &Netlist) -> u64 {
        netlist.cells.iter().map(|&c| self.junctions(c)).sum()
    }

    /// One network step (`clocks_per_step` clock periods), fs.
    pub fn step_fs(&self) -> u64 {
        (1e15 * self.power.clocks_per_step.value / self.power.clock_hz.value).round().max(1.0) as u64
    }

    /// Energy of one junction switching: I_c Phi0, J.
    pub fn switch_j(&self) -> f64 {
        self.power.critical_current_a.value * self.power.flux_quantum_wb.value
    }
}

/// Picoseconds to whole femtoseconds (nearest).
pub fn fs(ps: f64) -> u64 {
    (ps * 1000.0).round() as u64
}

/// A library's delays and timing windows in fs ([`Sfq::timing`]). A cell's first output leaves `delay(cell)` after
/// the pulse that makes it arrives; a multiplier's (synapse's) and a bias generator's further pulses follow `spacing`
/// apart, a current loop's released fluxons one `burst` apart (so that the bursts they become never overlap), and a
/// merger loses a pulse within `merger_window` of the last one it passed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)]
pub struct Timing {
    pub jtl: u64,
    pub splitter: u64,
    pub merger: u64,
    pub merger_window: u64,
    pub dff: u64,
    pub dff_setup: u64,
    pub dff_hold: u64,
    pub neuron: u64,
    pub synapse: u64,
    pub spacing: u64,
    /// A multiplier's whole burst: `synapse_max_pulses` spacings.
    pub burst: u64,
}

impl Timing {
    /// From a pulse at a cell's input to its first output pulse, fs.
    pub fn delay(&self, cell: Cell) -> u64 {
        match cell {
            Cell::Jtl { stages } => stages as u64 * self.jtl,
            Cell::Splitter => self.splitter,
            Cell::Merger => self.merger,
            Cell::Dff => self.dff,
            Cell::Neuron { .. } | Cell::Current { .. } => self.neuron,
            Cell::Synapse { .. } | Cell::Bias { .. } => self.synapse,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{lookup, parse, preset_text};

    #[test]
    fn one_switch_is_ic_times_phi0_and_bad_values_are_named() {
        let t = lookup("sfq_mitll").expect("preset");
        let s = t.sfq().expect("an SFQ preset");
        assert!((s.switch_j() - 100e-6 * 2.067_833_848e-15).abs() < 1e-25, "2.1e-19 J at 100 uA");
        let base = preset_text("sfq_mitll").expect("text");
        let e = parse("bad.toml", &base.replacen("merger_jjs = { value = 7", "merger_jjs = { value = 0", 1))
            .expect_err("zero junctions")
            .to_string();
        assert!(e.contains("cells.merger_jjs"), "{e}");
        let e =
            parse("bad.toml", &base.replacen("cooling_w_per_w = { value = 400", "cooling_w_per_w = { value = 0.5", 1))
                .expect_err("cooling below 1")
                .to_string();
        assert!(e.contains("power.cooling_w_per_w"), "{e}");
    }
}
