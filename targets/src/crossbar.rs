//! The resistive in-memory crossbar family: tiles of `rows x cols` resistive cells (rows = presynaptic axons on word
//! lines, columns = postsynaptic neurons on bit lines), signed weights as differential column pairs, multi-bit
//! weights sliced over cells, column currents digitised by shared ADCs, neurons in a digital periphery, tiles on a
//! mesh network on chip. Device non-idealities come with magnitudes here and are switched on at run time.

use crate::constants::{positive, whole};

crate::sections! {
    Crossbar "A resistive crossbar target's parameters."
    /// The resistive array.
    array Array {
        /// Word lines per tile.
        rows,
        /// Bit lines per tile.
        cols,
        /// Bits stored per cell (`2^cell_bits` conductance levels).
        cell_bits,
        /// Low-resistance (on) state, Ohm.
        r_on_ohm,
        /// High-resistance (off) state, Ohm.
        r_off_ohm,
        /// Read voltage on an active word line, V.
        read_v,
        /// Read pulse width, s.
        read_pulse_s,
        /// Tiles on the chip.
        tiles,
    }
    /// The mixed-signal and digital periphery of a tile.
    periphery Periphery {
        /// ADC resolution, bits.
        adc_bits,
        /// Energy per ADC conversion, J.
        adc_conversion_j,
        /// Time per ADC conversion, s.
        adc_conversion_s,
        /// Bit lines sharing one ADC (conversions are serialised over them).
        cols_per_adc,
        /// Energy to drive one word line for one read (1-bit input driver), J.
        row_driver_j,
        /// Energy per digital neuron update, J.
        neuron_update_j,
        /// Time to update a tile's neurons, s.
        neuron_update_s,
        /// Energy per digital partial-sum addition (slices, differential pairs, split fan-in), J.
        partial_sum_add_j,
    }
    /// The network on chip between tiles.
    noc Noc {
        /// Energy per spike packet per hop, J.
        hop_j,
        /// Time per hop, s.
        hop_s,
    }
    /// How networks are mapped.
    mapping Mapping {
        /// Bits of a synaptic weight magnitude, sliced over `weight_bits / cell_bits` cells.
        weight_bits,
    }
    /// Device non-idealities: their magnitudes when switched on.
    variation Variation {
        /// Programming noise: relative standard deviation of a programmed conductance.
        program_noise,
        /// Read noise: relative standard deviation of a conductance at each read.
        read_noise,
        /// Fraction of cells stuck in the on state.
        stuck_on_rate,
        /// Fraction of cells stuck in the off state.
        stuck_off_rate,
        /// Drift exponent nu: G(t) = G(t0) (t / t0)^-nu.
        drift_nu,
        /// Probability that one identical set pulse switches a cell on, for weights drawn by the devices.
        switching_probability,
    }
}

impl Crossbar {
    pub(crate) fn from_table(table: toml::Table) -> Result<Crossbar, crate::ParameterError> {
        let c: Crossbar = crate::constants::from_table(table, Crossbar::constants)?;
        whole("array.rows", &c.array.rows, 1.0, 65536.0)?;
        let cols = whole("array.cols", &c.array.cols, 1.0, 65536.0)?;
        let cell_bits = whole("array.cell_bits", &c.array.cell_bits, 1.0, 8.0)?;
        whole("array.tiles", &c.array.tiles, 1.0, 1e7)?;
        let r_on = positive("array.r_on_ohm", &c.array.r_on_ohm)?;
        if c.array.r_off_ohm.value <= r_on {
            return Err(crate::ParameterError::Rule(format!(
                "array.r_off_ohm ({}) must exceed array.r_on_ohm ({r_on}): the off state conducts less",
                c.array.r_off_ohm.value
            )));
        }
        positive("array.read_v", &c.array.read_v)?;
        positive("array.read_pulse_s", &c.array.read_pulse_s)?;
        whole("periphery.adc_bits", &c.periphery.adc_bits, 1.0, 16.0)?;
        whole("periphery.cols_per_adc", &c.periphery.cols_per_adc, 1.0, cols as f64)?;
        positive("periphery.adc_conversion_s", &c.periphery.adc_conversion_s)?;
        let weight_bits = whole("mapping.weight_bits", &c.mapping.weight_bits, 1.0, 16.0)?;
        if weight_bits < cell_bits {
            return Err(crate::ParameterError::Rule(format!(
                "mapping.weight_bits ({weight_bits}) must be at least array.cell_bits ({cell_bits})"
            )));
        }
        for (name, rate) in [
            ("stuck_on_rate", &c.variation.stuck_on_rate),
            ("stuck_off_rate", &c.variation.stuck_off_rate),
            ("switching_probability", &c.variation.switching_probability),
        ] {
            if rate.value > 1.0 {
                return Err(crate::ParameterError::Rule(format!(
                    "variation.{name} is a fraction, in 0..=1, got {}",
                    rate.value
                )));
            }
        }
        if c.variation.stuck_on_rate.value + c.variation.stuck_off_rate.value > 1.0 {
            return Err(crate::ParameterError::Rule(
                "variation.stuck_on_rate + variation.stuck_off_rate must not exceed 1".into(),
            ));
        }
        Ok(c)
    }

    /// Word lines per tile.
    pub fn rows(&self) -> usize {
        self.array.rows.value as usize
    }

    /// Bit lines per tile.
    pub fn cols(&self) -> usize {
        self.array.cols.value as usize
    }

    /// Cells a weight's magnitude is sliced over.
    pub fn slices(&self) -> usize {
        (self.mapping.weight_bits.value / self.array.cell_bits.value).ceil() as usize
    }

    /// Conductance levels of one cell.
    pub fn levels(&self) -> u32 {
        1 << self.array.cell_bits.value as u32
    }

    /// Conductance of a cell at `level` in `0..levels()`, S: evenly spaced from 1/R_off to 1/R_on, so level 0 still
    /// leaks (finite on/off ratio).
    pub fn conductance(&self, level: u32) -> f64 {
        let (g_off, g_on) = (1.0 / self.array.r_off_ohm.value, 1.0 / self.array.r_on_ohm.value);
        g_off + (g_on - g_off) * level as f64 / (self.levels() - 1) as f64
    }

    /// Energy of one cell read at conductance `g`: V^2 G t_read, J.
    pub fn cell_read_j(&self, g: f64) -> f64 {
        self.array.read_v.value.powi(2) * g * self.array.read_pulse_s.value
    }

    /// Energy of reading a tile with `active_rows` word lines driven over cells of summed conductance
    /// `active_conductance` (S) and `conversions` ADC conversions: cell reads + word-line drivers + ADC, J.
    pub fn tile_read_j(&self, active_rows: usize, active_conductance: f64, conversions: usize) -> f64 {
        self.cell_read_j(active_conductance)
            + active_rows as f64 * self.periphery.row_driver_j.value
            + conversions as f64 * self.periphery.adc_conversion_j.value
    }

    /// Time of one tile read with `used_cols` bit lines: the read pulse, then the ADC conversions serialised over the
    /// columns that share an ADC, s.
    pub fn tile_read_s(&self, used_cols: usize) -> f64 {
        let per_adc = (self.periphery.cols_per_adc.value as usize).min(used_cols.max(1));
        self.array.read_pulse_s.value + per_adc as f64 * self.periphery.adc_conversion_s.value
    }
}

#[cfg(test)]
mod tests {
    use crate::{Family, lookup, parse, preset_text};

    fn crossbar(name: &str) -> super::Crossbar {
        match lookup(name).unwrap_or_else(|e| panic!("{e}")).family {
            Family::Crossbar(c) => *c,
            other => panic!("{name} is {other:?}"),
        }
    }

    #[test]
    fn one_full_tile_read_costs_cell_reads_plus_drivers_plus_adc_conversions() {
        let c = crossbar("reram_128");
        // All 128 rows driven, every cell at level 0 (R_off) except one column of on cells, all 128 columns converted.
        let g = 127.0 * 128.0 / c.array.r_off_ohm.value + 128.0 / c.array.r_on_ohm.value;
        let by_hand = 0.5f64 * 0.5 * g * 10e-9 + 128.0 * 3.9e-15 + 128.0 * 10.1e-12;
        assert!((c.tile_read_j(128, g, 128) - by_hand).abs() < 1e-18, "{} vs {by_hand}", c.tile_read_j(128, g, 128));
        // Reading one on cell: 0.25 V^2 / 100 kOhm * 10 ns = 25 fJ, the figure in shared/reference/crossbar.md.
        assert!((c.cell_read_j(c.conductance(c.levels() - 1)) - 25e-15).abs() < 1e-20);
        // 8 columns share an ADC: a full tile takes the read pulse plus 8 serialised 8 ns conversions.
        assert!((c.tile_read_s(128) - (10e-9 + 8.0 * 8e-9)).abs() < 1e-15);
        assert_eq!(c.slices(), c.mapping.weight_bits.value as usize / c.array.cell_bits.value as usize);
    }

    #[test]
    fn bad_crossbar_presets_say_which_field_and_why() {
        let base = preset_text("reram_128").expect("preset");
        let err = |from: &str, to: &str| {
            assert!(base.contains(from), "{from}");
            parse("bad.toml", &base.replacen(from, to, 1)).expect_err("must fail").to_string()
        };
        let e = err("rows = { value = 128", "rows = { value = 0");
        assert!(e.contains("bad.toml") && e.contains("array.rows"), "{e}");
        let e = err("adc_bits = { value = 6", "adc_bits = { value = 17");
        assert!(e.contains("periphery.adc_bits") && e.contains("1..=16"), "{e}");
        let e = err("r_off_ohm = { value = 1.7e6", "r_off_ohm = { value = 5e4");
        assert!(e.contains("must exceed array.r_on_ohm"), "{e}");
        let e = err("stuck_off_rate = { value = 0.09", "stuck_off_rate = { value = 1.5");
        assert!(e.contains("variation.stuck_off_rate"), "{e}");
    }
}
