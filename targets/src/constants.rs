//! The shape every family's parameters share: named sections of `{ value, source }` constants, declared once with
//! [`sections!`](crate::sections), and the checks every family applies (a source for each constant, finite
//! non-negative values, whole numbers where counts are meant).

use crate::Constant;

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
) -> Result<F, String> {
    let family: F =
        toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| e.to_string().trim_end().to_string())?;
    for (name, c) in constants(&family) {
        if c.source.trim().is_empty() {
            return Err(format!("{name} has no source: every constant cites a paper, datasheet or reasoning"));
        }
        if !c.value.is_finite() || c.value < 0.0 {
            return Err(format!("{name} must be a finite non-negative number, got {}", c.value));
        }
    }
    Ok(family)
}

/// The constant as a whole number in `min..=max`.
pub(crate) fn whole(name: &str, c: &Constant, min: f64, max: f64) -> Result<u64, String> {
    if c.value.fract() == 0.0 && c.value >= min && c.value <= max {
        Ok(c.value as u64)
    } else {
        Err(format!("{name} must be a whole number in {min}..={max}, got {}", c.value))
    }
}

/// The constant, which must be strictly positive.
pub(crate) fn positive(name: &str, c: &Constant) -> Result<f64, String> {
    if c.value > 0.0 { Ok(c.value) } else { Err(format!("{name} must be positive, got {}", c.value)) }
}
