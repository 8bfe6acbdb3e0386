//! The shape every family's parameters share: named sections of `{ value, source }` constants, declared once with
//! [`sections!`](crate::sections), and the checks every family applies (a source for each constant, finite
//! non-negative values, whole numbers where counts are meant).

use crate::Constant;

/// Why a preset's table is not a target: the field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParameterError {
    /// The TOML does not parse, or lacks or misnames a field (the decoder's message, with line and column).
    #[error("{0}")]
    Syntax(String),
    /// A constant without a source.
    #[error("{field} has no source: every constant cites a paper, datasheet or reasoning")]
    NoSource {
        /// Section-qualified name.
        field: String,
    },
    /// A negative or non-finite constant.
    #[error("{field} must be a finite non-negative number, got {value}")]
    Negative {
        /// Section-qualified name.
        field: String,
        /// Its value.
        value: f64,
    },
    /// A count that is not a whole number in its range.
    #[error("{field} must be a whole number in {min}..={max}, got {value}")]
    NotWhole {
        /// Section-qualified name.
        field: String,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
        /// Its value.
        value: f64,
    },
    /// A constant that must be strictly positive.
    #[error("{field} must be positive, got {value}")]
    NotPositive {
        /// Section-qualified name.
        field: String,
        /// Its value.
        value: f64,
    },
    /// A family's rule over one or more constants, naming them (`machine.boards must be 1 or a multiple of 3`).
    #[error("{0}")]
    Rule(String),
    /// A `family` no registry has.
    #[error("unknown family `{0}`; known: spinnaker, crossbar, sfq")]
    UnknownFamily(String),
    /// An override names no constant.
    #[error("no constant `{key}`; constants: {constants}")]
    NoConstant {
        /// The name given.
        key: String,
        /// Every constant, comma-separated.
        constants: String,
    },
    /// An override names several constants.
    #[error("`{key}` is ambiguous: {matches}")]
    Ambiguous {
        /// The name given.
        key: String,
        /// The constants it names, comma-separated.
        matches: String,
    },
    /// The file is not UTF-8.
    #[error("not UTF-8 text at byte {0}")]
    NotUtf8(usize),
}

/// Declares a family's parameter struct `$family` made of sections of constants, with `constants()` listing every
/// constant section-qualified (`machine.clock_hz`).
#[macro_export]
macro_rules! sections {
    ($family:ident $doc:literal
     $( $(#[$meta:meta])* $section:ident $ty:ident { $( $(#[$fmeta:meta])* $field:ident ),* $(,)? } )*) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Debug, serde::Deserialize, PartialEq)]
            #[serde(deny_unknown_fields)]
            pub struct $ty { $( $(#[$fmeta])* pub $field: $crate::Constant, )* }

            impl $ty {
                fn constants(&self) -> Vec<(String, &$crate::Constant)> {
                    vec![ $( (format!("{}.{}", stringify!($section), stringify!($field)), &self.$field), )* ]
                }
            }
        )*

        #[doc = $doc]
        #[derive(Clone, Debug, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct $family { $( #[doc = stringify!($section)] pub $section: $ty, )* }

        impl $family {
            /// Every constant, section-qualified.
            pub fn constants(&self) -> Vec<(String, &$crate::Constant)> {
                let mut all = Vec::new();
                $( all.extend(self.$section.constants()); )*
                all
            }
        }
    };
}

/// Deserialises a family's table and checks that every constant has a source and a finite non-negative value.
pub(crate) fn from_table<F: serde::de::DeserializeOwned>(
    table: toml::Table,
    constants: impl Fn(&F) -> Vec<(String, &Constant)>,
) -> Result<F, ParameterError> {
    let family: F = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ParameterError::Syntax(e.to_string().trim_end().to_string()))?;
    for (field, c) in constants(&family) {
        if c.source.trim().is_empty() {
            return Err(ParameterError::NoSource { field });
        }
        if !c.value.is_finite() || c.value < 0.0 {
            return Err(ParameterError::Negative { field, value: c.value });
        }
        if c.unknown && c.value != 0.0 {
            return Err(ParameterError::Rule(format!(
                "{field} is marked unknown, so its value must be 0 (an unknown term is named, not priced), got {}",
                c.value
            )));
        }
    }
    Ok(family)
}

/// The constant as a whole number in `min..=max`.
pub(crate) fn whole(name: &str, c: &Constant, min: f64, max: f64) -> Result<u64, ParameterError> {
    if c.value.fract() == 0.0 && c.value >= min && c.value <= max {
        Ok(c.value as u64)
    } else {
        Err(ParameterError::NotWhole { field: name.into(), min, max, value: c.value })
    }
}

/// The constant, which must be strictly positive.
pub(crate) fn positive(name: &str, c: &Constant) -> Result<f64, ParameterError> {
    if c.value > 0.0 { Ok(c.value) } else { Err(ParameterError::NotPositive { field: name.into(), value: c.value }) }
}
