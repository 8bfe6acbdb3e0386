//! Physical dimensions of quantities, as exponents of the three base units soma needs: second, volt, ampere.
//!
//! Every other unit of the domain is a product of these (ohm = V/A, farad = A·s/V, siemens = A/V, hertz = 1/s),
//! so three small integers are enough to check that `20 ms` is a time and `1 nF` a capacitance.

use std::fmt;

/// Exponents of (second, volt, ampere).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dim {
    /// Exponent of the second.
    pub s: i8,
    /// Exponent of the volt.
    pub v: i8,
    /// Exponent of the ampere.
    pub a: i8,
}

impl Dim {
    /// A pure number.
    pub const NONE: Dim = Dim::new(0, 0, 0);
    /// Seconds.
    pub const TIME: Dim = Dim::new(1, 0, 0);
    /// Hertz.
    pub const RATE: Dim = Dim::new(-1, 0, 0);
    /// Volts.
    pub const VOLTAGE: Dim = Dim::new(0, 1, 0);
    /// Amperes.
    pub const CURRENT: Dim = Dim::new(0, 0, 1);
    /// Farads (A·s/V).
    pub const CAPACITANCE: Dim = Dim::new(1, -1, 1);
    /// Ohms (V/A).
    pub const RESISTANCE: Dim = Dim::new(0, 1, -1);
    /// Siemens (A/V).
    pub const CONDUCTANCE: Dim = Dim::new(0, -1, 1);

    /// A dimension from its exponents.
    pub const fn new(s: i8, v: i8, a: i8) -> Dim {
        Dim { s, v, a }
    }

    /// The dimension of a product.
    pub fn times(self, o: Dim) -> Dim {
        Dim::new(self.s + o.s, self.v + o.v, self.a + o.a)
    }

    /// The dimension of a quotient.
    pub fn per(self, o: Dim) -> Dim {
        Dim::new(self.s - o.s, self.v - o.v, self.a - o.a)
    }

    /// The square root, if every exponent is even.
    pub fn sqrt(self) -> Option<Dim> {
        (self.s % 2 == 0 && self.v % 2 == 0 && self.a % 2 == 0).then(|| Dim::new(self.s / 2, self.v / 2, self.a / 2))
    }

    /// The SI unit named for this dimension (`s`, `Hz`, `V`, `A`, `F`, `Ohm`, `S`), if it has one.
    pub fn si_symbol(self) -> Option<&'static str> {
        [
            (Dim::TIME, "s"),
            (Dim::RATE, "Hz"),
            (Dim::VOLTAGE, "V"),
            (Dim::CURRENT, "A"),
            (Dim::CAPACITANCE, "F"),
            (Dim::RESISTANCE, "Ohm"),
            (Dim::CONDUCTANCE, "S"),
        ]
        .iter()
        .find(|(d, _)| *d == self)
        .map(|(_, s)| *s)
    }

    /// A value of this dimension written in SI units: `-0.01 s`, `2e-10 F`, `3 s·V^-1`.
    pub fn format(self, value: f64) -> String {
        match (self, self.si_symbol()) {
            (Dim::NONE, _) => format!("{value}"),
            (_, Some(symbol)) => format!("{value} {symbol}"),
            (_, None) => format!("{value} {self}"),
        }
    }

    /// A readable name: a known quantity's name, or the exponents in base units.
    pub fn describe(self) -> String {
        let known = [
            (Dim::NONE, "a pure number"),
            (Dim::TIME, "a time (s)"),
            (Dim::RATE, "a rate (Hz)"),
            (Dim::VOLTAGE, "a voltage (V)"),
            (Dim::CURRENT, "a current (A)"),
            (Dim::CAPACITANCE, "a capacitance (F)"),
            (Dim::RESISTANCE, "a resistance (Ohm)"),
            (Dim::CONDUCTANCE, "a conductance (S)"),
        ];
        match known.iter().find(|(d, _)| *d == self) {
            Some((_, name)) => (*name).to_string(),
            None => format!("a quantity in {self}"),
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (sym, e) in [("s", self.s), ("V", self.v), ("A", self.a)] {
            match e {
                0 => {}
                1 => parts.push(sym.to_string()),
                e => parts.push(format!("{sym}^{e}")),
            }
        }
        if parts.is_empty() { f.write_str("1") } else { f.write_str(&parts.join("·")) }
    }
}

/// Named units the text language accepts, with their dimension and scale to SI.
pub const UNITS: &[(&str, Dim, f64)] = &[
    ("s", Dim::TIME, 1.0),
    ("ms", Dim::TIME, 1e-3),
    ("us", Dim::TIME, 1e-6),
    ("Hz", Dim::RATE, 1.0),
    ("kHz", Dim::RATE, 1e3),
    ("V", Dim::VOLTAGE, 1.0),
    ("mV", Dim::VOLTAGE, 1e-3),
    ("A", Dim::CURRENT, 1.0),
    ("mA", Dim::CURRENT, 1e-3),
    ("uA", Dim::CURRENT, 1e-6),
    ("nA", Dim::CURRENT, 1e-9),
    ("pA", Dim::CURRENT, 1e-12),
    ("F", Dim::CAPACITANCE, 1.0),
    ("uF", Dim::CAPACITANCE, 1e-6),
    ("nF", Dim::CAPACITANCE, 1e-9),
    ("pF", Dim::CAPACITANCE, 1e-12),
    ("Ohm", Dim::RESISTANCE, 1.0),
    ("kOhm", Dim::RESISTANCE, 1e3),
    ("MOhm", Dim::RESISTANCE, 1e6),
    ("GOhm", Dim::RESISTANCE, 1e9),
    ("S", Dim::CONDUCTANCE, 1.0),
    ("mS", Dim::CONDUCTANCE, 1e-3),
    ("uS", Dim::CONDUCTANCE, 1e-6),
    ("nS", Dim::CONDUCTANCE, 1e-9),
];

/// Looks up a unit name.
pub fn unit(name: &str) -> Option<(Dim, f64)> {
    UNITS.iter().find(|(n, _, _)| *n == name).map(|&(_, d, k)| (d, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_units_are_consistent() {
        // C = Q/V = A·s/V; tau = R·C must be a time.
        assert_eq!(Dim::RESISTANCE.times(Dim::CAPACITANCE), Dim::TIME);
        assert_eq!(Dim::CURRENT.times(Dim::RESISTANCE), Dim::VOLTAGE);
        assert_eq!(Dim::NONE.per(Dim::TIME), Dim::RATE);
        assert_eq!(Dim::CONDUCTANCE.times(Dim::RESISTANCE), Dim::NONE);
        assert_eq!(Dim::RATE.times(Dim::RATE).sqrt(), Some(Dim::RATE));
        assert_eq!(Dim::TIME.sqrt(), None);
        assert_eq!(format!("{}", Dim::CAPACITANCE), "s·V^-1·A");
    }
}
