//! Hardware targets: data-driven descriptions of neuromorphic chips (constraints, timing, energy per operation)
//! loaded from TOML presets in which every constant is `{ value, source }`: the loader refuses a constant
//! without its source.
//!
//! `lookup("spinnaker1")` finds a bundled preset (`targets/presets/*.toml`); `lookup("my.toml")` reads a file, so
//! a user can copy a preset, change a number and compile against it. Families: the SpiNNaker-style digital
//! many-core ([`spinnaker`]) the resistive in-memory crossbar ([`crossbar`]) and
//! superconducting SFQ pulse circuits ([`sfq`]).

mod constants;
pub mod crossbar;
pub mod sfq;
pub mod spinnaker;

pub use constants::ParameterError;

use serde::Deserialize;
use thiserror::Error;

/// A constant with its provenance.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Constant {
    /// The value, in the unit the field's name gives (`_hz`, `_bytes`, `_w`, `_j`) or a count.
    pub value: f64,
    /// The paper, datasheet or reasoning it comes from.
    pub source: String,
    /// No sourced value exists: the term is not priced (its value must be 0), and reports name it as unknown
    /// instead of counting it as zero.
    #[serde(default)]
    pub unknown: bool,
}

/// A problem with a target description.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum TargetError {
    /// No preset of that name and no such file.
    #[error("no target `{name}`: the presets are {}; or give the path of a .toml file", presets().iter().map(|p| p.0).collect::<Vec<_>>().join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        message: String,
    },
    /// The TOML does not describe a target.
    #[error("{file}: {problem}")]
    Invalid {
        /// The file (or preset) name.
        file: String,
        /// What is wrong, with the field and, for syntax errors, the line and column.
        problem: ParameterError,
    },
}

/// A target: its name, description and family-specific model.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// Short name (`spinnaker1`).
    pub name: String,
    /// One line for listings.
    pub description: String,
    /// The family and its parameters.
    pub family: Family,
    /// A hash of every value, recorded in images so that an image runs only on the target it was built for.
    pub fingerprint: u64,
    /// The description it was parsed from (TOML), carried in images so that they run without the preset file.
    pub text: String,
}

/// Target families (each boxed: their tables are hundreds of bytes and of different sizes).
#[derive(Clone, Debug, PartialEq)]
pub enum Family {
    /// SpiNNaker-style digital many-core.
    SpiNNaker(Box<spinnaker::SpiNNaker>),
    /// Resistive in-memory crossbar.
    Crossbar(Box<crossbar::Crossbar>),
    /// Superconducting single-flux-quantum pulse circuits.
    Sfq(Box<sfq::Sfq>),
}

const PRESETS: &[(&str, &str)] = &[
    ("spinnaker1", include_str!("../presets/spinnaker1.toml")),
    ("spinnaker2", include_str!("../presets/spinnaker2.toml")),
    ("reram_128", include_str!("../presets/reram_128.toml")),
    ("reram_40nm_lsm", include_str!("../presets/reram_40nm_lsm.toml")),
    ("sfq_mitll", include_str!("../presets/sfq_mitll.toml")),
];

/// The bundled presets: name and description.
pub fn presets() -> Vec<(&'static str, String)> {
    PRESETS
        .iter()
        .map(|(name, text)| (*name, parse(name, text).map(|t| t.description).unwrap_or_else(|e| e.to_string())))
        .collect()
}

/// The TOML text of a bundled preset.
pub fn preset_text(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Finds a preset by name, or reads a `.toml` file.
pub fn lookup(name_or_path: &str) -> Result<Target, TargetError> {
    parse(name_or_path, &text_of(name_or_path)?)
}

#[derive(Deserialize)]
struct Header {
    name: String,
    family: String,
    description: String,
    #[serde(flatten)]
    rest: toml::Table,
}

/// Parses a target description; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Target, TargetError> {
    let invalid = |problem: ParameterError| TargetError::Invalid { file: file.to_string(), problem };
    let header: Header =
        toml::from_str(text).map_err(|e| invalid(ParameterError::Syntax(e.to_string().trim_end().to_string())))?;
    let family = match header.family.as_str() {
        "spinnaker" => Family::SpiNNaker(Box::new(spinnaker::SpiNNaker::from_table(header.rest).map_err(invalid)?)),
        "crossbar" => Family::Crossbar(Box::new(crossbar::Crossbar::from_table(header.rest).map_err(invalid)?)),
        "sfq" => Family::Sfq(Box::new(sfq::Sfq::from_table(header.rest).map_err(invalid)?)),
        other => return Err(invalid(ParameterError::UnknownFamily(other.to_string()))),
    };
    let mut target =
        Target { name: header.name, description: header.description, family, fingerprint: 0, text: text.to_string() };
    target.fingerprint = soma_isa::codec::fnv1a(
        target.constants().iter().flat_map(|(k, c)| k.bytes().chain(c.value.to_bits().to_le_bytes())),
    );
    Ok(target)
}

/// The TOML text of a preset name or a `.toml` path.
pub fn text_of(name_or_path: &str) -> Result<String, TargetError> {
    if let Some(text) = preset_text(name_or_path) {
        return Ok(text.to_string());
    }
    if name_or_path.ends_with(".toml") {
        let io = |message: String| TargetError::Io { path: name_or_path.to_string(), message };
        let bytes = std::fs::read(name_or_path).map_err(|e| io(e.to_string()))?;
        return String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            TargetError::Invalid { file: name_or_path.to_string(), problem: ParameterError::NotUtf8(at) }
        });
    }
    Err(TargetError::Unknown { name: name_or_path.to_string() })
}

/// A target with some constants replaced (design-space sweeps, `--target-set`): `overrides` are `(name, value)` with `name`
/// a section-qualified constant (`mapping.neurons_per_core`) or an unambiguous field name (`neurons_per_core`).
/// The source of a replaced constant says so. The result is validated like any target.
pub fn with_overrides(name_or_path: &str, overrides: &[(String, f64)]) -> Result<Target, TargetError> {
    let invalid = |problem: ParameterError| TargetError::Invalid { file: name_or_path.to_string(), problem };
    let syntax = |e: &dyn std::fmt::Display| invalid(ParameterError::Syntax(e.to_string().trim_end().to_string()));
    let base = lookup(name_or_path)?;
    let mut table: toml::Table = toml::from_str(&text_of(name_or_path)?).map_err(|e| syntax(&e))?;
    for (key, value) in overrides {
        let names: Vec<String> = base.constants().into_iter().map(|(n, _)| n).collect();
        let matches: Vec<&String> = names.iter().filter(|n| *n == key || n.ends_with(&format!(".{key}"))).collect();
        let full = match matches.as_slice() {
            [one] => (*one).clone(),
            [] => return Err(invalid(ParameterError::NoConstant { key: key.clone(), constants: names.join(", ") })),
            _ => {
                let matches = matches.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                return Err(invalid(ParameterError::Ambiguous { key: key.clone(), matches }));
            }
        };
        let (section, field) = full.split_once('.').unwrap_or(("", &full));
        let entry = table
            .get_mut(section)
            .and_then(|s| s.as_table_mut())
            .and_then(|s| s.get_mut(field))
            .and_then(|f| f.as_table_mut())
            .ok_or_else(|| invalid(ParameterError::Rule(format!("`{full}` is not a {{ value, source }} constant"))))?;
        entry.insert("value".into(), toml::Value::Float(*value));
        entry.insert("source".into(), toml::Value::String(format!("overridden: set to {value}")));
        entry.remove("unknown");
    }
    let mut t = parse(name_or_path, &toml::to_string(&table).map_err(|e| syntax(&e))?)?;
    if !overrides.is_empty() {
        t.name = base.name;
    }
    Ok(t)
}

impl Target {
    /// Every constant with its section-qualified name, for `soma targets show`.
    pub fn constants(&self) -> Vec<(String, &Constant)> {
        match &self.family {
            Family::SpiNNaker(s) => s.constants(),
            Family::Crossbar(c) => c.constants(),
            Family::Sfq(s) => s.constants(),
        }
    }

    /// The constants whose values differ from `other`'s: `(name, other's value, this one's)`, in declaration order;
    /// empty for targets of different families (their constants are not comparable one by one).
    pub fn differences(&self, other: &Target) -> Vec<(String, f64, f64)> {
        if self.family_name() != other.family_name() {
            return Vec::new();
        }
        other
            .constants()
            .into_iter()
            .zip(self.constants())
            .filter(|((_, a), (_, b))| a.value != b.value)
            .map(|((name, a), (_, b))| (name, a.value, b.value))
            .collect()
    }

    /// The constants no source gives a value for (`unknown = true`): terms a report must name as not priced.
    pub fn unknowns(&self) -> Vec<(String, &Constant)> {
        self.constants().into_iter().filter(|(_, c)| c.unknown).collect()
    }

    /// The SpiNNaker-style parameters, if that is the family.
    pub fn spinnaker(&self) -> Option<&spinnaker::SpiNNaker> {
        match &self.family {
            Family::SpiNNaker(s) => Some(s),
            _ => None,
        }
    }

    /// The crossbar parameters, if that is the family.
    pub fn crossbar(&self) -> Option<&crossbar::Crossbar> {
        match &self.family {
            Family::Crossbar(c) => Some(c),
            _ => None,
        }
    }

    /// The SFQ parameters, if that is the family.
    pub fn sfq(&self) -> Option<&sfq::Sfq> {
        match &self.family {
            Family::Sfq(s) => Some(s),
            _ => None,
        }
    }

    /// The family's name.
    pub fn family_name(&self) -> &'static str {
        match self.family {
            Family::SpiNNaker(_) => "spinnaker",
            Family::Crossbar(_) => "crossbar",
            Family::Sfq(_) => "sfq",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_load_with_a_source_for_every_constant() {
        for (name, _) in PRESETS {
            let t = lookup(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(t.constants().len() > 10);
            assert!(t.constants().iter().all(|(_, c)| !c.source.trim().is_empty()));
        }
        assert_ne!(lookup("spinnaker1").expect("1").fingerprint, lookup("spinnaker2").expect("2").fingerprint);
    }

    #[test]
    fn overrides_replace_values_and_say_so() {
        let t = with_overrides("spinnaker1", &[("neurons_per_core".into(), 64.0), ("dvfs.pl1_clock_hz".into(), 1e8)])
            .expect("overrides");
        let get = |n: &str| t.constants().into_iter().find(|(k, _)| k == n).map(|(_, c)| c.clone()).expect("constant");
        assert_eq!(get("mapping.neurons_per_core").value, 64.0);
        assert!(get("mapping.neurons_per_core").source.contains("overridden"));
        assert_eq!(get("dvfs.pl1_clock_hz").value, 1e8);
        assert_eq!(t.spinnaker().expect("spinnaker").level().clock_hz, 1e8, "the level's clock is the one set");
        assert_ne!(t.fingerprint, lookup("spinnaker1").expect("preset").fingerprint);
        assert!(with_overrides("spinnaker1", &[("nonsense".into(), 1.0)]).is_err());
        assert!(with_overrides("spinnaker1", &[("neurons_per_core".into(), 0.0)]).is_err(), "validated");
    }

    #[test]
    fn differences_name_the_constants_that_differ_within_a_family() {
        let (one, two) = (lookup("spinnaker1").expect("1"), lookup("spinnaker2").expect("2"));
        let d = two.differences(&one);
        assert!(d.contains(&("machine.cores_per_chip".into(), 18.0, 153.0)), "{d:?}");
        assert!(d.contains(&("dvfs.performance_level".into(), 1.0, 2.0)), "{d:?}");
        assert!(!d.iter().any(|(n, _, _)| n == "mapping.neurons_per_core"), "equal values are not differences");
        assert!(one.differences(&one).is_empty());
        assert!(lookup("reram_128").expect("crossbar").differences(&one).is_empty(), "across families: none");
    }

    #[test]
    fn a_file_that_is_not_utf8_says_at_which_byte() {
        let path = std::env::temp_dir().join(format!("soma-not-utf8-{}.toml", std::process::id()));
        let mut bytes = b"name = \"x\"\n".to_vec();
        bytes.push(0xff);
        std::fs::write(&path, bytes).expect("write");
        let err = lookup(path.to_str().expect("path")).expect_err("not UTF-8").to_string();
        std::fs::remove_file(&path).expect("cleanup");
        assert!(err.contains("not UTF-8 text at byte 11"), "{err}");
    }

    #[test]
    fn bad_descriptions_say_what_and_where() {
        let base = preset_text("spinnaker1").expect("preset");
        let err = |text: &str| parse("my.toml", text).expect_err("must fail").to_string();
        assert!(err("name = ").contains("my.toml"), "syntax errors name the file");
        let missing =
            base.replace("pl1_clock_hz = { value = 200e6, source = \"200 MHz core clock (version_spin1.py)\" }\n", "");
        assert!(err(&missing).contains("pl1_clock_hz"), "{}", err(&missing));
        let unsourced = base.replace("source = \"200 MHz core clock (version_spin1.py)\"", "source = \"\"");
        assert!(err(&unsourced).contains("dvfs.pl1_clock_hz has no source"), "{}", err(&unsourced));
        let level = base.replace("performance_level = { value = 1,", "performance_level = { value = 4,");
        assert!(err(&level).contains("dvfs.performance_level"), "{}", err(&level));
        let no_source = base.replace(", source = \"200 MHz core clock (version_spin1.py)\"", "");
        assert!(err(&no_source).contains("source"), "{}", err(&no_source));
        let zero = base.replace("neurons_per_core = { value = 256", "neurons_per_core = { value = 0");
        assert!(err(&zero).contains("mapping.neurons_per_core"), "{}", err(&zero));
        let boards = base.replace("boards = { value = 1,", "boards = { value = 2,");
        assert!(err(&boards).contains("boards"), "{}", err(&boards));
        let priced_unknown = base.replace("box_w = { value = 5.04,", "box_w = { value = 5.04, unknown = true,");
        assert!(err(&priced_unknown).contains("system.box_w is marked unknown"), "{}", err(&priced_unknown));
        let stopped = base.replace("time_scale_factor = { value = 1,", "time_scale_factor = { value = 0,");
        assert!(err(&stopped).contains("machine.time_scale_factor must be positive"), "{}", err(&stopped));
        assert!(matches!(lookup("nonsense"), Err(TargetError::Unknown { .. })));
    }

    #[test]
    fn unknown_constants_are_listed_and_an_override_makes_them_known() {
        let two = lookup("spinnaker2").expect("2");
        let names: Vec<String> = two.unknowns().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["system.box_w", "system.frame_idle_w", "system.frame_active_w"]);
        assert!(lookup("spinnaker1").expect("1").unknowns().is_empty());
        let set = with_overrides("spinnaker2", &[("box_w".into(), 4.0)]).expect("valid");
        assert_eq!(set.unknowns().len(), 2, "a value given is no longer unknown");
    }
}
