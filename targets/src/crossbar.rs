//! The resistive in-memory crossbar family: tiles of `rows x cols` resistive cells (rows = presynaptic axons on word
//! lines, columns = postsynaptic neurons on bit lines), signed weights as differential column pairs, multi-bit
//! weights sliced over cells, column currents digitised by shared ADCs, neurons in a digital periphery, tiles on a
//! mesh network on chip. Device non-idealities come with magnitudes here and are switched on at run time.
//! Plastic projections learn in place on analog cells of their own ([`Learning`], [`Curve`]).

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
    /// The analog cells plastic projections learn on (one per synapse) and how they are written.
    learning Learning {
        /// Lowest conductance of a plastic cell, S.
        g_min_s,
        /// Highest conductance of a plastic cell, S.
        g_max_s,
        /// Identical potentiation pulses from `g_min_s` to `g_max_s`.
        pulses_ltp,
        /// Identical depression pulses from `g_max_s` to `g_min_s`.
        pulses_ltd,
        /// Shape of the potentiation curve, NeuroSim's A over the pulse count (small: strongly non-linear).
        a_ltp,
        /// Shape of the depression curve, as `a_ltp`.
        a_ltd,
        /// Relative standard deviation of each cell's `a_ltp` and `a_ltd` (device-to-device variation).
        device_to_device,
        /// Standard deviation of a write's conductance change, as a fraction of the range, per square root of
        /// its pulses (cycle-to-cycle variation).
        cycle_to_cycle,
        /// Potentiation pulse amplitude, V.
        write_v_ltp,
        /// Depression pulse amplitude, V.
        write_v_ltd,
        /// Potentiation pulse width, s.
        write_pulse_ltp_s,
        /// Depression pulse width, s.
        write_pulse_ltd_s,
        /// Write pulses a cell takes before it wears out and sticks at its conductance.
        endurance_pulses,
        /// Rows at `g_max_s` a plastic tile's ADC range spans above the off-state baseline.
        adc_rows,
        /// How a weight change becomes whole pulses: 0 to the nearest, 1 stochastically.
        pulse_rounding,
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
        let l = &c.learning;
        let g_min = positive("learning.g_min_s", &l.g_min_s)?;
        if l.g_max_s.value <= g_min {
            return Err(crate::ParameterError::Rule(format!(
                "learning.g_max_s ({}) must exceed learning.g_min_s ({g_min})",
                l.g_max_s.value
            )));
        }
        // A plastic cell's programmed pulse position is a cell level (a byte).
        whole("learning.pulses_ltp", &l.pulses_ltp, 1.0, 255.0)?;
        whole("learning.pulses_ltd", &l.pulses_ltd, 1.0, 255.0)?;
        for (name, a) in [("learning.a_ltp", &l.a_ltp), ("learning.a_ltd", &l.a_ltd)] {
            if !(MIN_SHAPE..=MAX_SHAPE).contains(&a.value) {
                return Err(crate::ParameterError::Rule(format!(
                    "{name} must be in {MIN_SHAPE}..={MAX_SHAPE} (NeuroSim's normalized A: 126 is all but linear, \
                     0.05 very non-linear), got {}",
                    a.value
                )));
            }
        }
        for (name, c) in [
            ("learning.write_v_ltp", &l.write_v_ltp),
            ("learning.write_v_ltd", &l.write_v_ltd),
            ("learning.write_pulse_ltp_s", &l.write_pulse_ltp_s),
            ("learning.write_pulse_ltd_s", &l.write_pulse_ltd_s),
            ("learning.endurance_pulses", &l.endurance_pulses),
        ] {
            positive(name, c)?;
        }
        whole("learning.adc_rows", &l.adc_rows, 1.0, 65536.0)?;
        whole("learning.pulse_rounding", &l.pulse_rounding, 0.0, 1.0)?;
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

/// The narrowest and the widest curve shape a preset may give (NeuroSim's table spans labels 0.01..9, A 126..0.05).
const MIN_SHAPE: f64 = 0.01;
const MAX_SHAPE: f64 = 1000.0;

impl Learning {
    /// The potentiation and depression curves of a cell whose shapes are the preset's times `ltp_factor` and
    /// `ltd_factor` (1 for the nominal device; drawn around 1 for device-to-device variation).
    pub fn curves(&self, ltp_factor: f64, ltd_factor: f64) -> (Curve, Curve) {
        let shape = |a: f64, f: f64| (a * f).clamp(MIN_SHAPE, MAX_SHAPE);
        (
            Curve::new(self.pulses_ltp.value, shape(self.a_ltp.value, ltp_factor), true),
            Curve::new(self.pulses_ltd.value, shape(self.a_ltd.value, ltd_factor), false),
        )
    }

    /// Whether weight changes round stochastically to whole pulses (else to the nearest).
    pub fn stochastic_rounding(&self) -> bool {
        self.pulse_rounding.value == 1.0
    }
}

/// One direction of an analog cell's update, NeuroSim's weight-update model: over pulse positions `p` in
/// `0..=P`, the cell's conductance as a fraction of its range is `x(p) = (1 - exp(-p / A)) / (1 - exp(-P / A))`
/// with `A = a P` for potentiation and `A = -a P` for depression, so steps are largest near the low end while
/// potentiating and near the high end while depressing. A write of `n` pulses moves a cell from `x` to
/// `x(p(x) + n)` (`n < 0` depresses), clamped to the range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curve {
    /// Pulses across the range, `P`.
    pub pulses: f64,
    /// `A` in pulses, signed as above.
    a: f64,
}

impl Curve {
    /// The potentiation (`rising`) or depression curve of `pulses` pulses with normalised shape `a` (> 0).
    pub fn new(pulses: f64, a: f64, rising: bool) -> Curve {
        let a = a * pulses;
        Curve { pulses, a: if rising { a } else { -a } }
    }

    /// The conductance fraction at pulse position `p`.
    pub fn fraction(&self, p: f64) -> f64 {
        ((-p / self.a).exp_m1() / (-self.pulses / self.a).exp_m1()).clamp(0.0, 1.0)
    }

    /// The pulse position of conductance fraction `x`.
    pub fn position(&self, x: f64) -> f64 {
        (-self.a * (x.clamp(0.0, 1.0) * (-self.pulses / self.a).exp_m1()).ln_1p()).clamp(0.0, self.pulses)
    }

    /// The conductance fraction after `n` pulses from `x` (`n < 0` on the depression curve).
    pub fn step(&self, x: f64, n: f64) -> f64 {
        self.fraction((self.position(x) + n).clamp(0.0, self.pulses))
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
        let e = err("a_ltd = { value = 0.200303", "a_ltd = { value = 0.001");
        assert!(e.contains("learning.a_ltd") && e.contains("normalized A"), "{e}");
        let e = err("pulse_rounding = { value = 0", "pulse_rounding = { value = 2");
        assert!(e.contains("learning.pulse_rounding"), "{e}");
        let e = err("g_max_s = { value = 3.8462e-8", "g_max_s = { value = 1e-9");
        assert!(e.contains("must exceed learning.g_min_s"), "{e}");
    }

    #[test]
    fn analog_cells_follow_neurosims_curves() {
        let (ltp, ltd) = crossbar("reram_128").learning.curves(1.0, 1.0);
        // The ends of the range, and NeuroSim's formula at one inner point: 10 pulses of Ag:a-Si's LTP (A = 0.499181 *
        // 97) from G_min give (1 - exp(-10 / A)) / (1 - exp(-97 / A)) of the range.
        assert_eq!(
            (ltp.fraction(0.0), ltp.fraction(97.0), ltd.fraction(0.0), ltd.fraction(100.0)),
            (0.0, 1.0, 0.0, 1.0)
        );
        let a = 0.499181 * 97.0;
        let by_hand = (1.0 - (-10.0f64 / a).exp()) / (1.0 - (-97.0f64 / a).exp());
        assert!((ltp.step(0.0, 10.0) - by_hand).abs() < 1e-12, "{} vs {by_hand}", ltp.step(0.0, 10.0));
        // Asymmetric and non-linear: potentiation takes big steps near G_min, depression near G_max.
        assert!(ltp.step(0.0, 1.0) > ltp.step(0.9, 1.0) - 0.9 && ltp.step(0.0, 1.0) > 2.0 / 97.0);
        assert!(0.9 - ltd.step(0.9, -1.0) > ltd.step(0.1, 0.0) - ltd.step(0.1, -1.0));
        for x in [0.0, 0.01, 0.3, 0.77, 1.0] {
            assert!(
                (ltp.fraction(ltp.position(x)) - x).abs() < 1e-12 && (ltd.fraction(ltd.position(x)) - x).abs() < 1e-12
            );
        }
        // Whatever the pulses, a cell stays in its range; a nearly linear device steps by 1 / P.
        assert_eq!((ltp.step(0.99, 50.0), ltd.step(0.01, -50.0)), (1.0, 0.0));
        let linear = super::Curve::new(100.0, 1000.0, true);
        assert!((linear.step(0.5, 1.0) - 0.51).abs() < 1e-4);
    }
}
