//! Each neuron model's update over one time step, as data: the one definition of neuron dynamics in soma.
//!
//! [`Dynamics::new`] turns a model's parameters and the time step into the coefficients of its update. The
//! float reference simulator interprets them in `f64` (`runtime::reference::kernel`), the SpiNNaker lowering
//! quantises them into a neuron program, and the SFQ lowering turns them into storage-loop rules; nobody else
//! derives a propagator. The match on the model is exhaustive, so a new model does not compile until it has
//! dynamics here, and every consumer matches [`Dynamics`] exhaustively in turn.
//!
//! Linear models share one form (exact integration, Rotter & Diesmann 1999, as NEST's `iaf_psc_exp`). With `h`
//! the time step, per neuron and step:
//! ```text
//! if refractory:  count down, v stays at v_reset
//! else:           v ← P22·v + (1 − P22)·v_leak + P20·(i_offset + i_injected) + Σ_k P21_k·I_k + Q·in_0
//! I_k ← P11_k·I_k + S_k·in_k               (in_k: weights arriving this step on receptor k)
//! spike if v ≥ θ (PyNN/NEST) or v > θ (NIR); then v ← v_reset and the refractory count starts
//! ```
//! How a weight enters is the model family's definition ([`Input`]):
//! - PyNN/NEST (`if_curr_exp`): a spike of weight `w` makes the synaptic current jump by `w` (`S = 1`, `Q = 0`).
//! - NIR models: a spike is a pulse of amplitude 1 held for one step (the discretisation of the NIR paper's
//!   exact reference, `lif_exact.csv`), so weight `w` is a current `w` over the step. It enters `v` through the
//!   membrane filter (`Q = P20`) or, for `cuba_*`, through the synaptic filter (`S = w_in (1 − P11)`, and `Q`
//!   is the pulse's contribution to `v` within the same step through both filters).
//!
//! Values are in the model's own units (SI for PyNN models and Izhikevich's parameters, pure numbers for NIR);
//! [`IzhikevichStep`] is in NEST's mV and ms, as the model's equations are written.

use super::NeuronModel;

/// How a population is updated each step.
#[derive(Clone, Debug, PartialEq)]
pub enum Dynamics {
    /// The shared exact linear form.
    Linear(Linear),
    /// Izhikevich's quadratic model, NEST's forward-Euler scheme.
    Izhikevich(IzhikevichStep),
    /// Stateless: spikes when the step's summed input exceeds `theta` (strictly).
    Threshold {
        /// The threshold.
        theta: f64,
    },
}

/// How an arriving weight enters a linear model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// PyNN/NEST: the weight is a jump of receptor `k`'s synaptic current (one current per receptor; the
    /// inhibitory receptor's weights are magnitudes, subtracted).
    CurrentJump,
    /// NIR: the weight is a current pulse held over one step, net of the two receptors (`in_0 − in_1`).
    Pulse,
}

/// The spiking rule of a linear model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spiking {
    /// The threshold.
    pub theta: f64,
    /// `v > theta` (NIR) rather than `v >= theta` (PyNN/NEST).
    pub strict: bool,
    /// The potential after a spike.
    pub v_reset: f64,
    /// Steps held at `v_reset` after a spike.
    pub refractory_steps: u32,
    /// The crossing is placed inside the step (NIR LIF and IF, whose membrane under a current constant over the
    /// step has a closed form): reset there and integrate the rest of the step from `v_reset`. `false` resets
    /// at the end of the step.
    pub in_step_reset: bool,
}

/// Coefficients of the shared linear form.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// The time step, s.
    pub h: f64,
    /// Membrane decay per step (`1` for non-leaky membranes).
    pub p22: f64,
    /// The potential the membrane leaks towards (`0` for non-leaky membranes).
    pub v_leak: f64,
    /// Gain from a constant current held over the step into `v`.
    pub p20: f64,
    /// Synaptic current decays per step (one per receptor with a current).
    pub p11: Vec<f64>,
    /// Gains from synaptic currents into `v`.
    pub p21: Vec<f64>,
    /// Jump of each synaptic current per unit of weight.
    pub syn_scale: Vec<f64>,
    /// Gain from a unit input pulse on receptor 0 into `v` within the step (`0` for current jumps).
    pub pulse_to_v: f64,
    /// How weights enter.
    pub input: Input,
    /// The model's own constant current.
    pub i_offset: f64,
    /// An injected current (a NIR bias) is a constant input on receptor 0, through the synaptic filter and
    /// `w_in`, as NIR defines `tau_syn dI/dt = -I + w_in (W x + b)` for `cuba_*`; otherwise it drives the
    /// membrane directly (through `P20`).
    pub current_into_synapse: bool,
    /// The spiking rule, `None` for models that do not spike.
    pub spiking: Option<Spiking>,
}

impl Linear {
    /// The leak's drive per step, `(1 − P22) v_leak`.
    pub fn c0(&self) -> f64 {
        (1.0 - self.p22) * self.v_leak
    }

    /// The membrane potential one unit of weight on receptor `k` eventually adds, summed over every step (the
    /// in-step pulse share plus the synaptic current's whole decay through `P21`). Defined for leaky currents.
    pub fn charge_per_weight(&self, k: usize) -> f64 {
        let pulse = if k == 0 { self.pulse_to_v } else { 0.0 };
        pulse + self.syn_scale[k] * self.p21[k] / (1.0 - self.p11[k])
    }
}

/// Izhikevich (2003) as NEST's `izhikevich`, in mV and ms:
/// `v ← v + h (0.04 v² + 5 v + 140 − u + I) + in`, `u ← u + h a (b v − u)`; spike at `v ≥ v_peak`, then `v = c`,
/// `u += d`.
#[derive(Clone, Debug, PartialEq)]
pub struct IzhikevichStep {
    /// Recovery rate, 1/ms.
    pub a: f64,
    /// Recovery sensitivity.
    pub b: f64,
    /// Reset, mV.
    pub c: f64,
    /// Recovery jump, mV.
    pub d: f64,
    /// Spike cut-off, mV.
    pub v_peak: f64,
    /// Drive, mV/ms.
    pub i_offset: f64,
    /// Time step, ms.
    pub h: f64,
}

impl Dynamics {
    /// The update of `model` over a step of `h` seconds.
    pub fn new(model: &NeuronModel, h: f64) -> Dynamics {
        let leaky = |tau: f64, r: f64, v_leak: f64| {
            let p22 = (-h / tau).exp();
            (p22, v_leak, r * (1.0 - p22))
        };
        let base = |(p22, v_leak, p20): (f64, f64, f64), input: Input| Linear {
            h,
            p22,
            v_leak,
            p20,
            p11: Vec::new(),
            p21: Vec::new(),
            syn_scale: Vec::new(),
            pulse_to_v: 0.0,
            input,
            i_offset: 0.0,
            current_into_synapse: false,
            spiking: None,
        };
        // NIR membranes: an input pulse enters like a current held over the step.
        let pulse = |m: (f64, f64, f64)| Linear { pulse_to_v: m.2, ..base(m, Input::Pulse) };
        let cuba = |ts: f64, tm: f64, r: f64, v_leak: f64, w_in: f64| {
            let p11 = (-h / ts).exp();
            Linear {
                p11: vec![p11],
                p21: vec![p21(r, tm, ts, h)],
                syn_scale: vec![w_in * (1.0 - p11)],
                pulse_to_v: w_in * pulse_through_synapse(r, tm, ts, h),
                current_into_synapse: true,
                ..base(leaky(tm, r, v_leak), Input::Pulse)
            }
        };
        let nir_spiking = |theta: f64, v_reset: f64, in_step_reset: bool| {
            Some(Spiking { theta, strict: true, v_reset, refractory_steps: 0, in_step_reset })
        };
        Dynamics::Linear(match model {
            NeuronModel::IfCurrExp(m) => {
                let r = m.tau_m / m.cm;
                Linear {
                    p11: vec![(-h / m.tau_syn_e).exp(), (-h / m.tau_syn_i).exp()],
                    p21: vec![p21(r, m.tau_m, m.tau_syn_e, h), p21(r, m.tau_m, m.tau_syn_i, h)],
                    syn_scale: vec![1.0, 1.0],
                    i_offset: m.i_offset,
                    spiking: Some(Spiking {
                        theta: m.v_thresh,
                        strict: false,
                        v_reset: m.v_reset,
                        refractory_steps: (m.tau_refrac / h).round() as u32,
                        in_step_reset: false,
                    }),
                    ..base(leaky(m.tau_m, r, m.v_rest), Input::CurrentJump)
                }
            }
            NeuronModel::Lif(m) => {
                Linear { spiking: nir_spiking(m.v_threshold, m.v_reset, true), ..pulse(leaky(m.tau, m.r, m.v_leak)) }
            }
            NeuronModel::Li(m) => pulse(leaky(m.tau, m.r, m.v_leak)),
            NeuronModel::If(m) => {
                Linear { spiking: nir_spiking(m.v_threshold, m.v_reset, true), ..pulse((1.0, 0.0, m.r * h)) }
            }
            NeuronModel::Integrator(m) => pulse((1.0, 0.0, m.r * h)),
            NeuronModel::CubaLif(m) => Linear {
                spiking: nir_spiking(m.v_threshold, m.v_reset, false),
                ..cuba(m.tau_syn, m.tau_mem, m.r, m.v_leak, m.w_in)
            },
            NeuronModel::CubaLi(m) => cuba(m.tau_syn, m.tau_mem, m.r, m.v_leak, m.w_in),
            NeuronModel::Threshold(m) => return Dynamics::Threshold { theta: m.threshold },
            NeuronModel::Izhikevich(m) => {
                return Dynamics::Izhikevich(IzhikevichStep {
                    a: m.a * 1e-3,
                    b: m.b,
                    c: m.c * 1e3,
                    d: m.d * 1e3,
                    v_peak: m.v_peak * 1e3,
                    i_offset: m.i_offset * 1e3,
                    h: h * 1e3,
                });
            }
        })
    }
}

/// `(e^x − 1) / x`, accurate near zero.
fn phi(x: f64) -> f64 {
    if x.abs() < 1e-9 { 1.0 + 0.5 * x } else { x.exp_m1() / x }
}

/// Propagator from a synaptic current with time constant `ts` into a leaky membrane with time constant `tm` and
/// input resistance `r`, over one step `h`: `r (h/tm) e^{−h/tm} phi(h (1/tm − 1/ts))`, which is also right for
/// `tm == ts` (where the textbook formula divides by zero).
fn p21(r: f64, tm: f64, ts: f64, h: f64) -> f64 {
    r * (h / tm) * (-h / tm).exp() * phi(h * (1.0 / tm - 1.0 / ts))
}

/// Response of a leaky membrane (`tm`, resistance `r`) after one step `h` to a unit current pulse held over the
/// step and filtered by a synaptic current (`ts`): `r (1 − (tm e^{−h/tm} − ts e^{−h/ts}) / (tm − ts))`, with its
/// limit `r (1 − e^{−h/tm} (1 + h/tm))` for `tm == ts`.
fn pulse_through_synapse(r: f64, tm: f64, ts: f64, h: f64) -> f64 {
    let (p22, p11) = ((-h / tm).exp(), (-h / ts).exp());
    if (tm - ts).abs() < 1e-9 * tm {
        r * (1.0 - p22 * (1.0 + h / tm))
    } else {
        r * (1.0 - (tm * p22 - ts * p11) / (tm - ts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_time_constants_use_the_limit() {
        let (r, tau, h): (f64, f64, f64) = (2.0, 10e-3, 1e-4);
        let limit = r * h / tau * (-h / tau).exp();
        assert!((p21(r, tau, tau, h) - limit).abs() < 1e-15);
        assert!((p21(r, tau, tau * (1.0 + 1e-10), h) - limit).abs() < 1e-12);
    }

    #[test]
    fn cuba_pulse_matches_the_closed_form_for_equal_and_unequal_time_constants() {
        // A unit pulse held over [0, h] through tau_syn and tau_mem: numerically integrate the ODEs finely.
        for (ts, tm) in [(2e-3, 8e-3), (5e-3, 5e-3)] {
            let (h, r) = (1e-3, 2.0);
            let (mut i, mut v) = (0.0f64, 0.0f64);
            let fine = 100_000;
            let dt = h / fine as f64;
            for _ in 0..fine {
                let di = (1.0 - i) / ts;
                let dv = (-v + r * i) / tm;
                i += di * dt;
                v += dv * dt;
            }
            let exact = pulse_through_synapse(r, tm, ts, h);
            assert!((v - exact).abs() < 1e-5 * exact.abs(), "ts {ts} tm {tm}: euler {v}, closed form {exact}");
        }
    }

    #[test]
    fn charge_per_weight_is_the_sum_of_the_pulse_and_the_current_decay() {
        // A current jump w decays by P11 per step and feeds v through P21 each step: w P21 / (1 - P11) in all.
        let cuba = crate::model::CubaLif {
            tau_syn: 2e-3,
            tau_mem: 8e-3,
            r: 2.0,
            v_leak: 0.0,
            v_threshold: 1.0,
            v_reset: 0.0,
            w_in: 1.5,
        };
        let Dynamics::Linear(l) = Dynamics::new(&NeuronModel::CubaLif(cuba), 1e-4) else { panic!("linear") };
        let mut total = l.pulse_to_v;
        let mut current = l.syn_scale[0];
        for _ in 0..100_000 {
            total += l.p21[0] * current;
            current *= l.p11[0];
        }
        assert!((l.charge_per_weight(0) - total).abs() < 1e-12 * total, "{} vs {total}", l.charge_per_weight(0));
        // Without leak the membrane would gain r w_in h / tau_mem from a unit pulse (the synapse passes its whole
        // charge); the leak during the current's decay (tau_syn << tau_mem) takes about tau_syn / tau_mem of it.
        let no_leak = 2.0 * 1.5 * 1e-4 / 8e-3;
        assert!(total < no_leak && total > no_leak * (1.0 - 2.0 * 2e-3 / 8e-3), "{total} vs {no_leak}");
    }
}
