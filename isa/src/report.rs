//! What a family's report offers across the family boundary: every backend's mapping report and every engine's
//! run report is a typed struct of its own, seen by the commands (and a Python binding) through [`Report`] as
//! JSON (the `--json` contract) and as the text a person reads. [`thousands`] formats counts the same way in every
//! family's text.

/// A JSON value (so the families need no JSON library of their own).
pub use serde_json::Value as Json;

/// A typed report, as JSON and as text.
pub trait Report: Send + Sync {
    /// The report as JSON (the `--json` output).
    fn json(&self) -> Json;
    /// The report as lines of text, each ending in a newline.
    fn text(&self) -> String;
}

/// JSON of a serialisable report; a value serde cannot write (a map with non-string keys) becomes `null`, which
/// no report here has.
pub fn to_json(report: &impl serde::Serialize) -> Json {
    serde_json::to_value(report).unwrap_or(Json::Null)
}

/// The time a step's outcome is reported at: the end of step `step`, `(step + 1) dt` s (a spike made in a step,
/// the state read after it).
pub fn step_end_s(step: u64, dt: f64) -> f64 {
    (step as f64 + 1.0) * dt
}

/// `x` with an SI prefix and at most three significant digits: `0.0123, "V"` -> `12.3 mV`.
pub fn si(x: f64, unit: &str) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x} {unit}").trim_end().to_string();
    }
    let prefixes = [
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "u"),
        (1e-9, "n"),
        (1e-12, "p"),
        (1e-15, "f"),
    ];
    let (scale, prefix) = prefixes.iter().copied().find(|&(p, _)| x.abs() >= p * 0.9995).unwrap_or((1e-15, "f"));
    let v = x / scale;
    let digits = if v.abs() >= 99.95 {
        0
    } else if v.abs() >= 9.995 {
        1
    } else {
        2
    };
    format!("{} {prefix}{unit}", fixed(v, digits)).trim_end().to_string()
}

/// A value in `unit` with an SI prefix ([`si`]), or, for a pure number (`unit` empty), four significant digits
/// and an exponent only outside 1e-3 ..= 1e6.
pub fn quantity(x: f64, unit: &str) -> String {
    match unit {
        "" if x == 0.0 => "0".into(),
        "" if (1e-3..1e6).contains(&x.abs()) => fixed(x, (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize),
        "" => format!("{x:.3e}"),
        _ => si(x, unit),
    }
}

/// A fraction as a percentage with three significant digits and no exponent: `7.11e-5` -> `0.00711%`, `0.0577`
/// -> `5.77%`, `1.0` -> `100%`.
pub fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p == 0.0 || !p.is_finite() {
        return format!("{p}%");
    }
    format!("{}%", fixed(p, (2 - p.abs().log10().floor() as i32).clamp(0, 12) as usize))
}

/// `x` with `digits` decimals, trailing zeros (and a bare point) dropped.
fn fixed(x: f64, digits: usize) -> String {
    let text = format!("{x:.digits$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// `x` exactly (the shortest digits that read back as `x`), without a run of zeros: whole numbers with thousands
/// separators, `1e-8` rather than `0.00000001`, `2.5` as it is. For constants, where three digits would hide
/// what the preset says.
pub fn exact(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let whole = thousands(x.abs() as u64);
        if x < 0.0 { format!("-{whole}") } else { whole }
    } else if x != 0.0 && x.is_finite() && !(1e-3..1e6).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A count with thousands separators (`1,234,567`).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::si;

    #[test]
    fn si_prefixes_keep_three_digits() {
        assert_eq!(si(0.0123, "V"), "12.3 mV");
        assert_eq!(si(-0.065, "V"), "-65 mV");
        assert_eq!(si(17.4, "J"), "17.4 J");
        assert_eq!(si(9.5e-6, "J"), "9.5 uJ");
        assert_eq!(si(0.0, "s"), "0 s");
        assert_eq!(si(1500.0, ""), "1.5 k");
        assert_eq!(si(2.874e12, "OPS/W"), "2.87 TOPS/W");
    }

    #[test]
    fn quantities_in_a_unit_or_pure() {
        assert_eq!(super::quantity(4.021973e-12, "A"), "4.02 pA");
        assert_eq!(super::quantity(0.5, ""), "0.5");
        assert_eq!(super::quantity(0.012345, ""), "0.01235");
        assert_eq!(super::quantity(2e-7, ""), "2.000e-7");
        assert_eq!(super::quantity(0.0, ""), "0");
    }

    #[test]
    fn exact_values_read_back_and_have_no_runs_of_zeros() {
        assert_eq!(super::exact(1e-8), "1e-8");
        assert_eq!(super::exact(3.0769e-9), "3.0769e-9");
        assert_eq!(super::exact(16128.0), "16,128");
        assert_eq!(super::exact(-65.0), "-65");
        assert_eq!(super::exact(0.499181), "0.499181");
        assert_eq!(super::exact(2.5e-7), "2.5e-7");
        assert_eq!(super::exact(2.5e7), "25,000,000");
        assert_eq!(super::exact(0.0), "0");
        for x in [1e-8, 3.0769e-9, 0.499181, 2.5e-7, 1.0 / 3.0, 1234.5] {
            let text = super::exact(x);
            assert_eq!(text.parse::<f64>().expect("a number"), x, "{text}");
        }
    }

    #[test]
    fn percentages_keep_three_digits() {
        assert_eq!(super::percent(7.11e-5), "0.00711%");
        assert_eq!(super::percent(0.0577), "5.77%");
        assert_eq!(super::percent(1.0), "100%");
        assert_eq!(super::percent(0.0), "0%");
        assert_eq!(super::percent(0.25), "25%");
    }

    use super::*;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
