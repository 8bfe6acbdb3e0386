//! Neuron models and their parameter tables.
//!
//! One table per model (name, physical dimension, default, allowed range) drives the text language (which
//! names and units are accepted), the validation pass (which ranges are checked) and the docs, so a model is
//! described exactly once. Values are SI `f64`. NIR models are unitless in NIR itself apart from their time
//! constants, so their voltages, resistances and weights are pure numbers here too.

use crate::units::Dim;

mod dynamics;
pub use dynamics::{Dynamics, Input, IzhikevichStep, Linear, Spiking};

/// The allowed range of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// Any finite value.
    Finite,
    /// Strictly greater than zero.
    Positive,
    /// Zero or greater.
    NonNegative,
}

impl Range {
    /// Whether `x` lies in the range (NaN and infinities never do).
    pub fn contains(self, x: f64) -> bool {
        x.is_finite()
            && match self {
                Range::Finite => true,
                Range::Positive => x > 0.0,
                Range::NonNegative => x >= 0.0,
            }
    }

    /// What the range requires, for diagnostics.
    pub fn describe(self) -> &'static str {
        match self {
            Range::Finite => "a finite number",
            Range::Positive => "greater than zero",
            Range::NonNegative => "zero or greater",
        }
    }
}

/// One parameter of a neuron model.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// Its name in the text language and in NIR.
    pub name: &'static str,
    /// Its physical dimension.
    pub dim: Dim,
    /// The value used when a network leaves it out; `None` makes it required.
    pub default: Option<f64>,
    /// The values it may take.
    pub range: Range,
    /// One line of documentation.
    pub doc: &'static str,
}

macro_rules! neuron_models {
    ($(
        $(#[$meta:meta])*
        $variant:ident $lang:literal {
            $( $field:ident : $dim:expr, $default:expr, $range:ident, $doc:literal; )*
        }
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
            pub struct $variant {
                $( #[doc = $doc] pub $field: f64, )*
            }
        )*

        /// Which neuron model, without its parameters.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ModelKind { $( #[doc = $lang] $variant, )* }

        /// A neuron model with its parameter values.
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        pub enum NeuronModel { $( #[doc = $lang] $variant($variant), )* }

        impl ModelKind {
            /// Every model.
            pub const ALL: &'static [ModelKind] = &[ $( ModelKind::$variant, )* ];

            /// The model's name in the text language.
            pub fn name(self) -> &'static str {
                match self { $( ModelKind::$variant => $lang, )* }
            }

            /// The parameter table, in declaration order.
            pub fn params(self) -> &'static [ParamSpec] {
                match self { $( ModelKind::$variant => &[ $( ParamSpec {
                    name: stringify!($field), dim: $dim, default: $default, range: Range::$range, doc: $doc,
                }, )* ], )* }
            }

            /// Builds the model from values in [`ModelKind::params`] order.
            ///
            /// # Panics
            /// If `values` does not have one value per parameter (a caller bug, not an input error).
            pub fn build(self, values: &[f64]) -> NeuronModel {
                assert_eq!(values.len(), self.params().len(), "one value per parameter of {}", self.name());
                match self { $( ModelKind::$variant => {
                    let mut it = values.iter().copied();
                    NeuronModel::$variant($variant { $( $field: it.next().unwrap_or(f64::NAN), )* })
                } )* }
            }
        }

        impl NeuronModel {
            /// Which model this is.
            pub fn kind(&self) -> ModelKind {
                match self { $( NeuronModel::$variant(_) => ModelKind::$variant, )* }
            }

            /// The parameter values in [`ModelKind::params`] order.
            pub fn values(&self) -> Vec<f64> {
                match self { $( NeuronModel::$variant(m) => vec![ $( m.$field, )* ], )* }
            }
        }
    };
}

const NONE: Dim = Dim::NONE;
const TIME: Dim = Dim::TIME;
const VOLTAGE: Dim = Dim::VOLTAGE;
const CURRENT: Dim = Dim::CURRENT;

neuron_models! {
    /// PyNN `IF_curr_exp` / NEST `iaf_psc_exp`: leaky integrate-and-fire with exponential current synapses
    /// (excitatory and inhibitory receptors), absolute refractory period, spike when `v >= v_thresh`.
    IfCurrExp "if_curr_exp" {
        tau_m: TIME, None, Positive, "membrane time constant";
        cm: Dim::CAPACITANCE, None, Positive, "membrane capacitance";
        v_rest: VOLTAGE, None, Finite, "resting potential";
        v_reset: VOLTAGE, None, Finite, "reset potential after a spike";
        v_thresh: VOLTAGE, None, Finite, "spike threshold";
        tau_refrac: TIME, None, NonNegative, "absolute refractory period (v held at v_reset)";
        tau_syn_e: TIME, None, Positive, "excitatory synaptic current time constant";
        tau_syn_i: TIME, None, Positive, "inhibitory synaptic current time constant";
        i_offset: CURRENT, Some(0.0), Finite, "constant injected current";
    }
    /// NIR `LIF`: `tau dv/dt = (v_leak - v) + r I`, spike when `v > v_threshold`, then `v = v_reset`.
    Lif "lif" {
        tau: TIME, None, Positive, "membrane time constant";
        r: NONE, None, Finite, "input resistance";
        v_leak: NONE, None, Finite, "leak potential";
        v_threshold: NONE, None, Finite, "spike threshold (strict)";
        v_reset: NONE, Some(0.0), Finite, "reset potential";
    }
    /// NIR `LI`: the leaky integrator, `tau dv/dt = (v_leak - v) + r I`, no spikes.
    Li "li" {
        tau: TIME, None, Positive, "membrane time constant";
        r: NONE, None, Finite, "input resistance";
        v_leak: NONE, None, Finite, "leak potential";
    }
    /// NIR `IF`: `dv/dt = r I`, spike when `v > v_threshold`, then `v = v_reset`.
    If "if" {
        r: NONE, None, Finite, "input resistance";
        v_threshold: NONE, None, Finite, "spike threshold (strict)";
        v_reset: NONE, Some(0.0), Finite, "reset potential";
    }
    /// NIR `I`: the integrator, `dv/dt = r I`, no spikes.
    Integrator "integrator" {
        r: NONE, None, Finite, "input resistance";
    }
    /// NIR `CubaLIF`: `tau_syn dI/dt = -I + w_in S`, `tau_mem dv/dt = (v_leak - v) + r I`, spike when
    /// `v > v_threshold`, then `v = v_reset`.
    CubaLif "cuba_lif" {
        tau_syn: TIME, None, Positive, "synaptic current time constant";
        tau_mem: TIME, None, Positive, "membrane time constant";
        r: NONE, None, Finite, "input resistance";
        v_leak: NONE, None, Finite, "leak potential";
        v_threshold: NONE, None, Finite, "spike threshold (strict)";
        v_reset: NONE, Some(0.0), Finite, "reset potential";
        w_in: NONE, Some(1.0), Finite, "input weight into the synaptic current";
    }
    /// NIR `CubaLI`: `tau_syn dI/dt = -I + w_in S`, `tau_mem dv/dt = (v_leak - v) + r I`, no spikes.
    CubaLi "cuba_li" {
        tau_syn: TIME, None, Positive, "synaptic current time constant";
        tau_mem: TIME, None, Positive, "membrane time constant";
        r: NONE, None, Finite, "input resistance";
        v_leak: NONE, None, Finite, "leak potential";
        w_in: NONE, Some(1.0), Finite, "input weight into the synaptic current";
    }
    /// NIR `Threshold`: stateless, spikes in a step whose summed input is `> threshold`.
    Threshold "threshold" {
        threshold: NONE, None, Finite, "threshold on the summed input of one step (strict)";
    }
    /// Izhikevich (2003), as NEST's `izhikevich`: `dv/dt = (0.04/mV v^2 + 5 v + 140 mV - u + i_offset) / ms`,
    /// `du/dt = a (b v - u)`; spike when `v >= v_peak`, then `v = c`, `u += d`. Synaptic weights are jumps in v.
    Izhikevich "izhikevich" {
        a: Dim::RATE, None, Finite, "recovery rate (0.02/ms for regular spiking)";
        b: NONE, None, Finite, "recovery sensitivity to v";
        c: VOLTAGE, None, Finite, "reset potential";
        d: VOLTAGE, None, Finite, "recovery jump after a spike";
        v_peak: VOLTAGE, Some(30e-3), Finite, "spike cut-off";
        i_offset: VOLTAGE, Some(0.0), Finite, "constant drive, in voltage units as in the original equations";
    }
}

/// Where an incoming synapse acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Receptor {
    /// The excitatory synapse (the only one of single-input models).
    Excitatory,
    /// The inhibitory synapse of two-receptor models.
    Inhibitory,
}

impl Receptor {
    /// Its index into per-receptor arrays.
    pub fn index(self) -> usize {
        match self {
            Receptor::Excitatory => 0,
            Receptor::Inhibitory => 1,
        }
    }
}

impl ModelKind {
    /// Looks a model up by its text-language name.
    pub fn by_name(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// How many receptors (synapse types) the model has.
    pub fn receptors(self) -> usize {
        match self {
            ModelKind::IfCurrExp => 2,
            _ => 1,
        }
    }

    /// The dimension of a chemical synaptic weight onto this model.
    pub fn weight_dim(self) -> Dim {
        match self {
            ModelKind::IfCurrExp => Dim::CURRENT,
            ModelKind::Izhikevich => Dim::VOLTAGE,
            _ => Dim::NONE,
        }
    }

    /// The dimension of a gap-junction weight onto this model (its membrane's `(v_pre - v_post)` coupling), or
    /// `None` where the model has no membrane potential to couple.
    pub fn gap_dim(self) -> Option<Dim> {
        match self {
            ModelKind::IfCurrExp => Some(Dim::CONDUCTANCE),
            ModelKind::Threshold | ModelKind::Izhikevich => None,
            _ => Some(Dim::NONE),
        }
    }

    /// Whether the model can emit spikes.
    pub fn spikes(self) -> bool {
        !matches!(self, ModelKind::Li | ModelKind::Integrator | ModelKind::CubaLi)
    }

    /// The dimension of its membrane variable `v` (pure number for NIR models).
    pub fn voltage_dim(self) -> Dim {
        match self {
            ModelKind::IfCurrExp | ModelKind::Izhikevich => Dim::VOLTAGE,
            _ => Dim::NONE,
        }
    }
}

impl NeuronModel {
    /// The membrane potential a neuron starts at unless the network says otherwise.
    pub fn default_v(&self) -> f64 {
        match self {
            NeuronModel::IfCurrExp(m) => m.v_rest,
            NeuronModel::Lif(m) => m.v_leak,
            NeuronModel::Li(m) => m.v_leak,
            NeuronModel::CubaLif(m) => m.v_leak,
            NeuronModel::CubaLi(m) => m.v_leak,
            NeuronModel::If(_) | NeuronModel::Integrator(_) | NeuronModel::Threshold(_) => 0.0,
            NeuronModel::Izhikevich(m) => m.c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_values_round_trip() {
        for &kind in ModelKind::ALL {
            let values: Vec<f64> = (0..kind.params().len()).map(|i| i as f64 + 0.5).collect();
            let model = kind.build(&values);
            assert_eq!(model.kind(), kind);
            assert_eq!(model.values(), values);
            assert_eq!(ModelKind::by_name(kind.name()), Some(kind));
        }
    }

    #[test]
    fn ranges() {
        assert!(Range::Positive.contains(1e-9) && !Range::Positive.contains(0.0));
        assert!(Range::NonNegative.contains(0.0) && !Range::NonNegative.contains(-1.0));
        assert!(!Range::Finite.contains(f64::NAN) && !Range::Finite.contains(f64::INFINITY));
    }
}
