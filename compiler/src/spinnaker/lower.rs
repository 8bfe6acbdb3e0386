//! Lowering neuron models to neuron programs in fixed point. Values are expressed in the units the fixed-point
//! range suits (as sPyNNaker does): millivolts, nanoamperes and milliseconds for PyNN/NEST-style models, the
//! model's own units for the unitless NIR models. Every coefficient comes from the model's [`Dynamics`] (the one
//! definition in `isa::model`, which the reference simulator interprets in `f64`); here it is only quantised and
//! laid out as instructions, with the threshold test and reset at the end of the step.

use soma_isa::fixed::{Accum, Decay};
use soma_isa::instance::PopulationInstance;
use soma_isa::model::{Dynamics, Input, NeuronModel};
use soma_isa::program::{Compare, Instr, NO_REGISTER, Operand, Program, REGISTERS};

/// How values of a model map to fixed-point units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Units {
    /// Multiply an SI membrane potential by this.
    pub voltage: f64,
    /// Multiply a synaptic weight (the model's weight unit) by this.
    pub weight: f64,
    /// Multiply an injected current (the model's current unit) by this.
    pub current: f64,
    /// Unit of v for reports.
    pub v_unit: &'static str,
}

/// The units of a model.
pub fn units(model: &NeuronModel) -> Units {
    match model {
        // mV and nA; weights are currents (A -> nA).
        NeuronModel::IfCurrExp(_) => Units { voltage: per_mv(), weight: 1e9, current: 1e9, v_unit: "mV" },
        // mV; weights and drive are voltages.
        NeuronModel::Izhikevich(_) => Units { voltage: per_mv(), weight: per_mv(), current: per_mv(), v_unit: "mV" },
        _ => Units { voltage: 1.0, weight: 1.0, current: 1.0, v_unit: "" },
    }
}

/// Millivolts per volt, from the one statement of what an image's `mV` means.
fn per_mv() -> f64 {
    1.0 / soma_isa::spinnaker::si_per_v_unit("mV")
}

fn c(x: f64) -> Operand {
    Operand::Const(Accum::from_f64(x))
}

fn reg(r: u8) -> Operand {
    Operand::Reg(r)
}

/// `dst = a k`: a u0.32 factor for `0 <= k < 1` (error 2^-33 relative), an s16.15 constant otherwise.
fn scale(dst: u8, a: Operand, k: f64) -> Instr {
    if (0.0..1.0).contains(&k) {
        Instr::Decay { dst, a, factor: Decay::from_f64(k) }
    } else {
        Instr::Mul { dst, a, b: c(k) }
    }
}

/// Register of the per-neuron constant drive (leak, offset and injected DC current).
const DRIVE: u8 = 7;

/// A population's program and initial registers on a core holding neurons `first..first + count`.
/// `drive[i]` is the constant current injected into neuron `i` (SI, the model's current unit).
pub fn lower(
    pop: &PopulationInstance,
    dt: f64,
    drive: &[f64],
    first: usize,
    count: usize,
) -> (Program, Vec<Vec<Accum>>) {
    let u = units(&pop.model);
    let v0: Vec<Accum> = pop.v_init[first..first + count].iter().map(|&v| Accum::from_f64(v * u.voltage)).collect();
    let mut regs: Vec<Vec<Accum>> = vec![vec![Accum::ZERO]; REGISTERS];
    regs[0] = v0;
    let in_net = [Operand::In(0), Operand::In(1)];
    let sub_in = |dst: u8| Instr::Sub { dst, a: in_net[0], b: in_net[1] };
    // The constant part of the membrane update, per neuron: `leak + gain * (offset + drive)`.
    let set_drive = |leak: f64, gain: f64, offset: f64| -> Vec<Accum> {
        let values: Vec<Accum> = drive[first..first + count]
            .iter()
            .map(|&d| Accum::from_f64(leak + gain * (offset + d * u.current)))
            .collect();
        if values.iter().all(|&v| v == values[0]) { vec![values[0]] } else { values }
    };
    let spike = |reg: u8, cmp: Compare, threshold: f64, reset: Operand, refractory: u32| Instr::SpikeIf {
        reg,
        cmp,
        threshold: c(threshold),
        reset,
        bump_reg: NO_REGISTER,
        bump: Accum::ZERO,
        refractory,
    };
    let (code, drive_values) = match Dynamics::new(&pop.model, dt) {
        Dynamics::Linear(l) => {
            // Coefficients from the model's units into the fixed-point units: v per current, v per v.
            let per_current = u.voltage / u.current;
            // An injected current into a current synapse (a NIR bias into `cuba_*`) is an input each step, held in
            // register 6 in the weight unit; otherwise it drives the membrane through P20.
            let into_synapse = l.current_into_synapse && drive[first..first + count].iter().any(|&d| d != 0.0);
            let membrane_gain = if l.current_into_synapse { 0.0 } else { l.p20 * per_current };
            let d = set_drive(l.c0() * u.voltage, membrane_gain, l.i_offset * u.current);
            if into_synapse {
                let inputs: Vec<Accum> =
                    drive[first..first + count].iter().map(|&x| Accum::from_f64(x * u.weight)).collect();
                regs[6] = if inputs.iter().all(|&v| v == inputs[0]) { vec![inputs[0]] } else { inputs };
            }
            let mut code = Vec::new();
            match (l.input, l.p11.len()) {
                (Input::CurrentJump, receptors) => {
                    // v = P22 v + drive + Σ ±P21_k I_k; then I_k = P11_k I_k + in_k, the currents in the weight unit
                    // (the inhibitory receptor's weights and current are magnitudes, subtracted from v).
                    let membrane = 2 + 2 * receptors;
                    if l.spiking.is_some_and(|s| s.refractory_steps > 0) {
                        code.push(Instr::SkipIfRefractory { n: membrane as u8 });
                    }
                    code.push(Instr::Decay { dst: 3, a: reg(0), factor: Decay::from_f64(l.p22) });
                    code.push(Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) });
                    for k in 0..receptors {
                        let (current, dst) = (1 + k as u8, if k + 1 == receptors { 0 } else { 3 });
                        let p21 = l.p21[k] * per_current;
                        code.push(Instr::Mul { dst: 4, a: reg(current), b: c(p21) });
                        code.push(if k == 0 {
                            Instr::Add { dst, a: reg(3), b: reg(4) }
                        } else {
                            Instr::Sub { dst, a: reg(3), b: reg(4) }
                        });
                    }
                    for k in 0..receptors {
                        let current = 1 + k as u8;
                        code.push(Instr::Decay { dst: current, a: reg(current), factor: Decay::from_f64(l.p11[k]) });
                        code.push(Instr::Add { dst: current, a: reg(current), b: Operand::In(k as u8) });
                    }
                }
                (Input::Pulse, 0) => {
                    // v = P22 v + drive + Q (in0 - in1).
                    if l.p22 < 1.0 {
                        code.push(Instr::Decay { dst: 3, a: reg(0), factor: Decay::from_f64(l.p22) });
                    } else {
                        code.push(Instr::Add { dst: 3, a: reg(0), b: c(0.0) });
                    }
                    code.push(Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) });
                    code.push(sub_in(4));
                    code.push(Instr::Mul { dst: 4, a: reg(4), b: c(l.pulse_to_v) });
                    code.push(Instr::Add { dst: 0, a: reg(3), b: reg(4) });
                }
                (Input::Pulse, _) => {
                    // v = P22 v + drive + P21 I + Q in; I = P11 I + S in, with in = in0 - in1.
                    code.extend([
                        Instr::Decay { dst: 3, a: reg(0), factor: Decay::from_f64(l.p22) },
                        Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) },
                        Instr::Mul { dst: 4, a: reg(1), b: c(l.p21[0]) },
                        Instr::Add { dst: 3, a: reg(3), b: reg(4) },
                        sub_in(5),
                    ]);
                    if into_synapse {
                        code.push(Instr::Add { dst: 5, a: reg(5), b: reg(6) });
                    }
                    code.extend([
                        Instr::Mul { dst: 4, a: reg(5), b: c(l.pulse_to_v) },
                        Instr::Add { dst: 0, a: reg(3), b: reg(4) },
                        Instr::Decay { dst: 1, a: reg(1), factor: Decay::from_f64(l.p11[0]) },
                        Instr::Mul { dst: 4, a: reg(5), b: c(l.syn_scale[0]) },
                        Instr::Add { dst: 1, a: reg(1), b: reg(4) },
                    ]);
                }
            }
            if let Some(sp) = l.spiking {
                let cmp = if sp.strict { Compare::Gt } else { Compare::Ge };
                let reset = match (sp.in_step_reset, l.p22 < 1.0) {
                    // A non-leaky membrane under a current constant over the step moves linearly from v0 to v:
                    // crossing at t* and restarting from v_reset ends the step at `v_reset + v - max(v0, theta)`,
                    // the reference's rule exactly (t* = 0 when the step starts at or above the threshold, which
                    // a volley larger than the threshold leaves behind: reset by subtraction would keep that
                    // excess). `max(v0, theta)` is taken before the update, in a register the update leaves alone.
                    (true, false) => {
                        let start = if matches!(l.input, Input::Pulse) { 2 } else { 5 };
                        code.insert(0, Instr::Max { dst: start, a: reg(0), b: c(sp.theta * u.voltage) });
                        code.push(Instr::Sub { dst: 6, a: reg(0), b: reg(start) });
                        code.push(Instr::Add { dst: 6, a: reg(6), b: c(sp.v_reset * u.voltage) });
                        reg(6)
                    }
                    // A leaky membrane's in-step crossing needs a division per neuron, which the target's integer
                    // core does not have (nor does sPyNNaker): it resets at the end of the step (docs/isa.md).
                    (true, true) | (false, _) => c(sp.v_reset * u.voltage),
                };
                code.push(spike(0, cmp, sp.theta * u.voltage, reset, sp.refractory_steps));
            }
            (code, d)
        }
        Dynamics::Threshold { theta } => {
            let d = set_drive(0.0, 1.0, 0.0);
            (
                vec![
                    sub_in(3),
                    Instr::Add { dst: 0, a: reg(3), b: reg(DRIVE) },
                    spike(0, Compare::Gt, theta, reg(0), 0),
                ],
                d,
            )
        }
        Dynamics::Izhikevich(z) => {
            // NEST's scheme in mV and ms: v' = v + h (0.04 v^2 + 5 v + 140 - u + I) + in, u' = u + h a (b v - u).
            // Coefficients below one are u0.32 factors: as s16.15 constants, 0.04 h (0.004 at 0.1 ms) would be
            // 0.8% off and h a b (0.0004) 3%, enough to move spikes by steps.
            let h = z.h;
            let d = set_drive(h * 140.0, h, z.i_offset);
            let mut code = vec![Instr::Mul { dst: 3, a: reg(0), b: reg(0) }];
            code.push(scale(3, reg(3), 0.04 * h));
            code.push(scale(4, reg(0), 1.0 + 5.0 * h));
            code.push(Instr::Add { dst: 3, a: reg(3), b: reg(4) });
            code.push(scale(4, reg(1), h));
            code.extend([
                Instr::Sub { dst: 3, a: reg(3), b: reg(4) },
                Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) },
                Instr::Add { dst: 3, a: reg(3), b: Operand::In(0) },
                Instr::Sub { dst: 3, a: reg(3), b: Operand::In(1) },
            ]);
            code.push(scale(4, reg(0), h * z.a * z.b));
            code.push(scale(5, reg(1), 1.0 - h * z.a));
            code.extend([
                Instr::Add { dst: 1, a: reg(4), b: reg(5) },
                Instr::Add { dst: 0, a: reg(3), b: c(0.0) },
                Instr::SpikeIf {
                    reg: 0,
                    cmp: Compare::Ge,
                    threshold: c(z.v_peak),
                    reset: c(z.c),
                    bump_reg: 1,
                    bump: Accum::from_f64(z.d),
                    refractory: 0,
                },
            ]);
            regs[1] = regs[0].iter().map(|v| v.mul_round(Accum::from_f64(z.b))).collect();
            (code, d)
        }
    };
    regs[DRIVE as usize] = drive_values;
    (Program { code, v_register: 0 }, regs)
}
