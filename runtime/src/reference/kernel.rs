//! Per-population update kernels of the reference simulator: the `f64` interpreter of each model's
//! [`Dynamics`] (defined once in `isa::model`: exact propagators for the linear models as NEST's `iaf_psc_exp`,
//! NEST's Euler scheme for Izhikevich, the stateless threshold). Nothing here derives a coefficient.

use soma_isa::model::{Dynamics, Linear};

/// The state of one population.
#[derive(Clone, Debug)]
pub struct State {
    /// Membrane potential (SI, or the model's pure number).
    pub v: Vec<f64>,
    /// Synaptic currents, one vector per receptor with a current.
    pub i_syn: Vec<Vec<f64>>,
    /// Izhikevich recovery variable (mV), empty otherwise.
    pub u: Vec<f64>,
    /// Remaining refractory steps.
    pub refractory: Vec<u32>,
    /// Scratch of the linear kernel: the membrane after this step's update, before resets and the flush.
    pub next: Vec<f64>,
}

/// Fresh state for neurons of `kernel` starting at `v_init`.
pub fn state(kernel: &Dynamics, v_init: &[f64]) -> State {
    let n = v_init.len();
    let (i_syn, u) = match kernel {
        Dynamics::Linear(l) => (vec![vec![0.0; n]; l.p11.len()], Vec::new()),
        Dynamics::Izhikevich(z) => (Vec::new(), v_init.iter().map(|v| z.b * v * 1e3).collect()),
        Dynamics::Threshold { .. } => (Vec::new(), Vec::new()),
    };
    State { v: v_init.to_vec(), i_syn, u, refractory: vec![0; n], next: Vec::new() }
}

/// Advances every neuron of `kernel` by one step. `input[k]` holds receptor `k`'s arriving weights per neuron,
/// `drive` the injected current (same for all), `extra` a per-neuron current (gap junctions, per-neuron
/// injection; empty if none). Indices of neurons that spiked are appended to `spiked`.
///
/// Compiled a second time for AVX2 and chosen at run time when the CPU has it (4-wide `f64` arithmetic; no fused
/// multiply-add, so the same bits on either path). What it calls is inlined into each copy.
#[multiversion::multiversion(targets("x86_64+avx2"))]
pub fn step(kernel: &Dynamics, s: &mut State, input: &[&[f64]], drive: f64, extra: &[f64], spiked: &mut Vec<u32>) {
    let n = s.v.len();
    match kernel {
        Dynamics::Linear(l) => match s.i_syn.len() {
            0 => linear::<0>(l, s, input, drive, extra, spiked),
            1 => linear::<1>(l, s, input, drive, extra, spiked),
            _ => linear::<2>(l, s, input, drive, extra, spiked),
        },
        Dynamics::Izhikevich(z) => {
            let (a, b, c, d, v_peak, i_offset, h) = (&z.a, &z.b, &z.c, &z.d, &z.v_peak, &z.i_offset, &z.h);
            for i in 0..n {
                let (v0, u0) = (s.v[i] * 1e3, s.u[i]);
                let jump = input.first().map_or(0.0, |x| x[i] * 1e3);
                let drive_mv = (i_offset + (drive + extra.get(i).copied().unwrap_or(0.0)) * 1e3) * h;
                let mut v = v0 + h * (0.04 * v0 * v0 + 5.0 * v0 + 140.0 - u0) + drive_mv + jump;
                let mut u = u0 + h * a * (b * v0 - u0);
                if v >= *v_peak {
                    v = *c;
                    u += d;
                    spiked.push(i as u32);
                }
                s.v[i] = v * 1e-3;
                s.u[i] = u;
            }
        }
        Dynamics::Threshold { theta } => {
            for i in 0..n {
                let x = input.first().map_or(0.0, |x| x[i]) + drive + extra.get(i).copied().unwrap_or(0.0);
                s.v[i] = x;
                if x > *theta {
                    spiked.push(i as u32);
                }
            }
        }
    }
}

/// The linear form for models with `K` synaptic currents, with the per-model choices hoisted out of the loop.
#[inline(always)]
fn linear<const K: usize>(
    l: &Linear,
    s: &mut State,
    input: &[&[f64]],
    drive: f64,
    extra: &[f64],
    spiked: &mut Vec<u32>,
) {
    let n = s.v.len();
    let c = l.c0() + l.p20 * (l.i_offset + drive);
    let p21: [f64; K] = std::array::from_fn(|k| l.p21[k]);
    let p11: [f64; K] = std::array::from_fn(|k| l.p11[k]);
    let scale: [f64; K] = std::array::from_fn(|k| l.syn_scale[k]);
    let inputs: [&[f64]; K] = std::array::from_fn(|k| &input[k][..n]);
    let Ok(currents) = <&mut [Vec<f64>; K]>::try_from(&mut s.i_syn[..K]) else {
        return;
    };
    let pulse = if l.pulse_to_v != 0.0 { input.first().map(|x| &x[..n]) } else { None };
    let extra = if extra.is_empty() { None } else { Some(&extra[..n]) };
    let (v, refractory) = (&mut s.v[..n], &mut s.refractory[..n]);
    s.next.resize(n, 0.0);
    let next = &mut s.next[..n];
    let currents: [&mut [f64]; K] = currents.each_mut().map(|c| c.as_mut_slice());
    // In passes, each a loop without branches on the neuron's values (so that it vectorises), the operations on each
    // neuron in the order one pass per neuron would do them: the membrane and currents of every neuron, the
    // refractory ones keeping their potential, then the few that cross, then the flush into `v`.
    let terms = Terms { c, p21, p11, scale };
    match (extra, pulse) {
        (None, None) => integrate::<K, false, false>(l, &terms, v, &[], &[], currents, inputs, next),
        (Some(e), None) => integrate::<K, true, false>(l, &terms, v, e, &[], currents, inputs, next),
        (None, Some(x)) => integrate::<K, false, true>(l, &terms, v, &[], x, currents, inputs, next),
        (Some(e), Some(x)) => integrate::<K, true, true>(l, &terms, v, e, x, currents, inputs, next),
    }
    for ((next, &v), left) in next.iter_mut().zip(v.iter()).zip(refractory.iter_mut()) {
        if *left > 0 {
            *next = v;
            *left -= 1;
        }
    }
    if let Some(sp) = &l.spiking {
        let first = spiked.len();
        let theta = sp.theta;
        if sp.strict {
            crossings(next, |x| x > theta, spiked);
        } else {
            crossings(next, |x| x >= theta, spiked);
        }
        for &i in &spiked[first..] {
            let i = i as usize;
            next[i] = match sp.in_step_reset {
                true if K == 0 => {
                    // The step's current, from the affine update v_new = P22 v + C0 + P20 I.
                    let current = (l.i_offset + drive)
                        + extra.map_or(0.0, |e| e[i])
                        + pulse.map_or(0.0, |x| x[i] * l.pulse_to_v / l.p20);
                    reset_within_step(l, v[i], sp.theta, sp.v_reset, current)
                }
                _ => sp.v_reset,
            };
            refractory[i] = sp.refractory_steps;
        }
    }
    for (v, &x) in v.iter_mut().zip(next.iter()) {
        *v = flush(x);
    }
}

/// The per-step constants of [`integrate`]: the membrane's constant term, the currents' coefficients into it, their
/// decays and the scale of their inputs.
struct Terms<const K: usize> {
    c: f64,
    p21: [f64; K],
    p11: [f64; K],
    scale: [f64; K],
}

/// Every neuron's membrane after the step (into `next`) and its currents: `next = P22 v + C [+ P20 extra] + Σ P21_k
/// I_k [+ Q pulse]` in that order, then `I_k = P11_k I_k + S_k in_k`. Which optional terms there are is a constant of
/// the loop, which has no branch (so it vectorises); `extra` and `pulse` are empty when absent.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn integrate<const K: usize, const EXTRA: bool, const PULSE: bool>(
    l: &Linear,
    t: &Terms<K>,
    v: &[f64],
    extra: &[f64],
    pulse: &[f64],
    currents: [&mut [f64]; K],
    inputs: [&[f64]; K],
    next: &mut [f64],
) {
    let n = next.len();
    let (v, extra, pulse) = (&v[..n], &extra[..if EXTRA { n } else { 0 }], &pulse[..if PULSE { n } else { 0 }]);
    let mut currents: [&mut [f64]; K] = currents.map(|c| &mut c[..n]);
    let inputs: [&[f64]; K] = inputs.map(|x| &x[..n]);
    for i in 0..n {
        let mut vi = l.p22 * v[i] + t.c;
        if EXTRA {
            vi += l.p20 * extra[i];
        }
        for (k, current) in currents.iter().enumerate() {
            vi += t.p21[k] * current[i];
        }
        if PULSE {
            vi += l.pulse_to_v * pulse[i];
        }
        next[i] = vi;
        for (k, current) in currents.iter_mut().enumerate() {
            current[i] = flush(t.p11[k] * current[i] + t.scale[k] * inputs[k][i]);
        }
    }
}

/// Appends the indices of the `values` that `cross`, in order. Few do: a block of 16 is tested at once (the
/// comparisons OR-ed, which vectorises) and searched only if one of its values crosses.
#[inline(always)]
fn crossings(values: &[f64], cross: impl Fn(f64) -> bool, out: &mut Vec<u32>) {
    for (block, chunk) in values.chunks(16).enumerate() {
        if chunk.iter().fold(false, |any, &x| any | cross(x)) {
            out.extend(chunk.iter().enumerate().filter(|&(_, &x)| cross(x)).map(|(i, _)| (block * 16 + i) as u32));
        }
    }
}

/// Zero for subnormal values (below f64's smallest normal, 2^-1022), the value otherwise. Decaying currents and
/// potentials of quiet neurons sink into subnormals, whose arithmetic is ~100x slower; a value this small moves a
/// membrane near any threshold by less than half its ulp, so no spike changes unless the membrane itself lies
/// within 2^-1022 of its threshold (a NIR neuron with `v_threshold = 0` and no input at all).
#[inline]
fn flush(x: f64) -> f64 {
    if x.abs() < f64::MIN_POSITIVE { 0.0 } else { x }
}

/// A membrane `tau dv/dt = (v_leak - v) + r I` (or `dv/dt = r I` when `P22 = 1`) under a current `I` constant
/// over the step crosses `theta` at `t*` inside the step, resets to `v_reset` and integrates for the rest of it:
/// the value at the end of the step. (At most one spike per step: a second crossing is not followed.)
fn reset_within_step(l: &Linear, v0: f64, theta: f64, v_reset: f64, current: f64) -> f64 {
    let h = l.h;
    if l.p22 >= 1.0 {
        let slope = l.p20 / h * current; // r I
        let t_cross = if slope > 0.0 { ((theta - v0) / slope).clamp(0.0, h) } else { 0.0 };
        return v_reset + slope * (h - t_cross);
    }
    let tau = -h / l.p22.ln();
    let v_inf = (l.c0() + l.p20 * current) / (1.0 - l.p22);
    let t_cross =
        if v0 < theta && theta < v_inf { (tau * ((v0 - v_inf) / (theta - v_inf)).ln()).clamp(0.0, h) } else { 0.0 };
    v_inf + (v_reset - v_inf) * (-(h - t_cross) / tau).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use soma_isa::model::{IfCurrExp, Lif, NeuronModel};

    fn cuba_neuron() -> IfCurrExp {
        IfCurrExp {
            tau_m: 20e-3,
            cm: 1e-9,
            v_rest: -49e-3,
            v_reset: -60e-3,
            v_thresh: -50e-3,
            tau_refrac: 5e-3,
            tau_syn_e: 5e-3,
            tau_syn_i: 10e-3,
            i_offset: 0.0,
        }
    }

    /// The closed-form PSP of a current-based synapse: v(t) = R I0 ts/(tm - ts) (e^{-t/tm} - e^{-t/ts}).
    #[test]
    fn psp_matches_the_closed_form_at_every_step() {
        let m = IfCurrExp { v_rest: 0.0, v_reset: -1.0, v_thresh: 1.0, ..cuba_neuron() };
        let h = 1e-4;
        let k = Dynamics::new(&NeuronModel::IfCurrExp(m.clone()), h);
        let mut s = state(&k, &[0.0]);
        let mut spikes = Vec::new();
        let w = 1e-9;
        step(&k, &mut s, &[&[w], &[0.0]], 0.0, &[], &mut spikes);
        let r = m.tau_m / m.cm;
        for step in 1..400 {
            super::step(&k, &mut s, &[&[0.0], &[0.0]], 0.0, &[], &mut spikes);
            let t = step as f64 * h;
            let exact =
                r * w * m.tau_syn_e / (m.tau_m - m.tau_syn_e) * ((-t / m.tau_m).exp() - (-t / m.tau_syn_e).exp());
            assert!((s.v[0] - exact).abs() < 1e-12, "step {step}: {} vs {exact}", s.v[0]);
        }
    }

    #[test]
    fn dc_drive_reaches_threshold_at_the_analytic_time_then_stays_refractory() {
        // tau_m dv/dt = -(v - v_rest) + R I: crosses v_thresh at t* = -tau ln(1 - (vth - vrest)/(R I)).
        let m = IfCurrExp { v_rest: -65e-3, v_reset: -65e-3, ..cuba_neuron() };
        let h = 1e-4;
        let k = Dynamics::new(&NeuronModel::IfCurrExp(m.clone()), h);
        let mut s = state(&k, &[m.v_rest]);
        let i = 1e-9; // R I = 20 mV > 15 mV
        let t_star = -m.tau_m * (1.0 - (m.v_thresh - m.v_rest) / (m.tau_m / m.cm * i)).ln();
        let mut spikes = Vec::new();
        let mut first = None;
        let mut steps_at_reset = 0;
        for step in 0..2000u32 {
            spikes.clear();
            super::step(&k, &mut s, &[&[0.0], &[0.0]], i, &[], &mut spikes);
            if !spikes.is_empty() && first.is_none() {
                first = Some(step);
            }
            if first.is_some() && s.v[0] == m.v_reset {
                steps_at_reset += 1;
            }
            if first.is_some() && s.v[0] != m.v_reset {
                break;
            }
        }
        let first = first.expect("the neuron must fire");
        assert_eq!(first, (t_star / h).ceil() as u32 - 1, "t* = {t_star}");
        assert_eq!(steps_at_reset, 1 + 50, "the spike step plus 5 ms of refractoriness");
    }

    #[test]
    fn nir_lif_input_is_a_one_step_pulse_and_threshold_is_strict() {
        // The NIR paper's exact reference (lif_exact.csv, tau 2.5 ms, r 1, dt 0.1 ms): one input spike of weight 1
        // takes v from 0 to 1 - e^{-dt/tau} in its own step (the file's tau is the f32 nearest 2.5 ms).
        let m = Lif { tau: 2.5e-3f32 as f64, r: 1.0, v_leak: 0.0, v_threshold: 0.1, v_reset: 0.0 };
        let k = Dynamics::new(&NeuronModel::Lif(m), 1e-4);
        let mut s = state(&k, &[0.0]);
        let mut spikes = Vec::new();
        step(&k, &mut s, &[&[1.0]], 0.0, &[], &mut spikes);
        assert!((s.v[0] - 0.03921056170668949).abs() < 1e-15, "{}", s.v[0]);
        step(&k, &mut s, &[&[0.0]], 0.0, &[], &mut spikes);
        assert!((s.v[0] - 0.037673093557335384).abs() < 1e-15, "{}", s.v[0]);
        // Exactly at threshold does not fire (strict); above does, and resets.
        let (tau, h, w): (f64, f64, f64) = (1e-2, 1e-3, 3.0);
        let at_threshold = (1.0 - (-h / tau).exp()) * w;
        let m = Lif { tau, r: 1.0, v_leak: 0.0, v_threshold: at_threshold, v_reset: 0.0 };
        let k = Dynamics::new(&NeuronModel::Lif(m), h);
        let mut s = state(&k, &[0.0]);
        step(&k, &mut s, &[&[w]], 0.0, &[], &mut spikes);
        assert!(s.v[0] == at_threshold && spikes.is_empty());
        step(&k, &mut s, &[&[w]], 0.0, &[], &mut spikes);
        assert_eq!(spikes, vec![0]);
        // It crossed at the start of the step, reset to 0 and charged for the whole step: back at the threshold.
        assert!((s.v[0] - at_threshold).abs() < 1e-12, "{}", s.v[0]);
    }

    #[test]
    fn quiet_state_decays_to_zero_not_into_subnormals() {
        // A CUBA-like current and a NIR membrane leaking to 0, left alone for 200,000 steps (20 s at 0.1 ms):
        // every value is zero or normal (subnormal arithmetic is ~100x slower; a silent microcircuit at scale 0.1
        // ran 8 s instead of 1 s before the flush).
        let h = 1e-4;
        for model in [
            NeuronModel::IfCurrExp(IfCurrExp { v_rest: 0.0, v_reset: 0.0, v_thresh: 1.0, ..cuba_neuron() }),
            NeuronModel::Lif(Lif { tau: 10e-3, r: 1.0, v_leak: 0.0, v_threshold: 1.0, v_reset: 0.0 }),
        ] {
            let k = Dynamics::new(&model, h);
            let mut s = state(&k, &[0.5]);
            let mut spikes = Vec::new();
            let kick: Vec<Vec<f64>> = (0..s.i_syn.len().max(1)).map(|_| vec![1e-9]).collect();
            let views: Vec<&[f64]> = kick.iter().map(|x| x.as_slice()).collect();
            super::step(&k, &mut s, &views, 0.0, &[], &mut spikes);
            let quiet: Vec<Vec<f64>> = (0..views.len()).map(|_| vec![0.0]).collect();
            let views: Vec<&[f64]> = quiet.iter().map(|x| x.as_slice()).collect();
            for _ in 0..200_000 {
                super::step(&k, &mut s, &views, 0.0, &[], &mut spikes);
                let all = s.v.iter().chain(s.i_syn.iter().flatten());
                assert!(all.clone().all(|x| *x == 0.0 || x.is_normal()), "{:?} {:?}", s.v, s.i_syn);
            }
            assert!(s.v[0] == 0.0 && s.i_syn.iter().flatten().all(|&x| x == 0.0));
        }
    }
}
