//! Lowering neuron models to neuron programs in fixed point. Values are expressed in the units the fixed-point
//! range suits (as sPyNNaker does): millivolts, nanoamperes and milliseconds for PyNN/NEST-style models, the
//! model's own units for the unitless NIR models. The update of every model is the reference simulator's exact
//! propagator form (see `runtime::reference::kernel`), with the threshold test and reset at the end of the step.

use soma_isa::fixed::{Accum, Decay};
use soma_isa::instance::PopulationInstance;
use soma_isa::model::{NeuronModel, p21, pulse_through_synapse};
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
        NeuronModel::IfCurrExp(_) => Units { voltage: 1e3, weight: 1e9, current: 1e9, v_unit: "mV" },
        // mV; weights and drive are voltages.
        NeuronModel::Izhikevich(_) => Units { voltage: 1e3, weight: 1e3, current: 1e3, v_unit: "mV" },
        _ => Units { voltage: 1.0, weight: 1.0, current: 1.0, v_unit: "" },
    }
}

fn c(x: f64) -> Operand {
    Operand::Const(Accum::from_f64(x))
}

fn reg(r: u8) -> Operand {
    Operand::Reg(r)
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
    let h_ms = dt * 1e3;
    let spike = |reg: u8, cmp: Compare, threshold: f64, reset: Operand, refractory: u32| Instr::SpikeIf {
        reg,
        cmp,
        threshold: c(threshold),
        reset,
        bump_reg: NO_REGISTER,
        bump: Accum::ZERO,
        refractory,
    };
    // A leaky or non-leaky membrane driven by a one-step input pulse: v = P22 v + drive + P20 (in0 - in1).
    let membrane = |p22: f64, p20: f64| -> Vec<Instr> {
        let mut code = Vec::new();
        if p22 < 1.0 {
            code.push(Instr::Decay { dst: 3, a: reg(0), factor: Decay::from_f64(p22) });
        } else {
            code.push(Instr::Add { dst: 3, a: reg(0), b: c(0.0) });
        }
        code.push(Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) });
        code.push(sub_in(4));
        code.push(Instr::Mul { dst: 4, a: reg(4), b: c(p20) });
        code.push(Instr::Add { dst: 0, a: reg(3), b: reg(4) });
        code
    };
    let (code, drive_values) = match &pop.model {
        NeuronModel::IfCurrExp(m) => {
            let r = m.tau_m / m.cm; // ohm
            let p22 = (-dt / m.tau_m).exp();
            let to_mv_per_na = 1e-6; // ohm -> mV/nA
            let d = set_drive(m.v_rest * 1e3 * (1.0 - p22), r * (1.0 - p22) * to_mv_per_na, m.i_offset * 1e9);
            let (p11e, p11i) = ((-dt / m.tau_syn_e).exp(), (-dt / m.tau_syn_i).exp());
            let (p21e, p21i) =
                (p21(r, m.tau_m, m.tau_syn_e, dt) * to_mv_per_na, p21(r, m.tau_m, m.tau_syn_i, dt) * to_mv_per_na);
            let code = vec![
                Instr::SkipIfRefractory { n: 6 },
                Instr::Decay { dst: 3, a: reg(0), factor: Decay::from_f64(p22) },
                Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) },
                Instr::Mul { dst: 4, a: reg(1), b: c(p21e) },
                Instr::Add { dst: 3, a: reg(3), b: reg(4) },
                Instr::Mul { dst: 4, a: reg(2), b: c(p21i) },
                Instr::Sub { dst: 0, a: reg(3), b: reg(4) },
                // Currents: r1 excitatory, r2 the inhibitory magnitude (type-1 weights are magnitudes).
                Instr::Decay { dst: 1, a: reg(1), factor: Decay::from_f64(p11e) },
                Instr::Add { dst: 1, a: reg(1), b: Operand::In(0) },
                Instr::Decay { dst: 2, a: reg(2), factor: Decay::from_f64(p11i) },
                Instr::Add { dst: 2, a: reg(2), b: Operand::In(1) },
                spike(0, Compare::Ge, m.v_thresh * 1e3, c(m.v_reset * 1e3), (m.tau_refrac / dt).round() as u32),
            ];
            (code, d)
        }
        NeuronModel::Lif(m) => {
            let p22 = (-dt / m.tau).exp();
            let d = set_drive(m.v_leak * (1.0 - p22), m.r * (1.0 - p22), 0.0);
            let mut code = membrane(p22, m.r * (1.0 - p22));
            code.push(spike(0, Compare::Gt, m.v_threshold, c(m.v_reset), 0));
            (code, d)
        }
        NeuronModel::Li(m) => {
            let p22 = (-dt / m.tau).exp();
            let d = set_drive(m.v_leak * (1.0 - p22), m.r * (1.0 - p22), 0.0);
            (membrane(p22, m.r * (1.0 - p22)), d)
        }
        NeuronModel::If(m) => {
            let d = set_drive(0.0, m.r * dt, 0.0);
            let mut code = membrane(1.0, m.r * dt);
            code.push(spike(0, Compare::Gt, m.v_threshold, c(m.v_reset), 0));
            (code, d)
        }
        NeuronModel::Integrator(m) => {
            let d = set_drive(0.0, m.r * dt, 0.0);
            (membrane(1.0, m.r * dt), d)
        }
        NeuronModel::CubaLif(_) | NeuronModel::CubaLi(_) => {
            let (ts, tm, r, v_leak, w_in, threshold) = match &pop.model {
                NeuronModel::CubaLif(m) => {
                    (m.tau_syn, m.tau_mem, m.r, m.v_leak, m.w_in, Some((m.v_threshold, m.v_reset)))
                }
                NeuronModel::CubaLi(m) => (m.tau_syn, m.tau_mem, m.r, m.v_leak, m.w_in, None),
                _ => unreachable!("matched above"),
            };
            let (p22, p11) = ((-dt / tm).exp(), (-dt / ts).exp());
            let d = set_drive(v_leak * (1.0 - p22), r * (1.0 - p22), 0.0);
            let mut code = vec![
                Instr::Decay { dst: 3, a: reg(0), factor: Decay::from_f64(p22) },
                Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) },
                Instr::Mul { dst: 4, a: reg(1), b: c(p21(r, tm, ts, dt)) },
                Instr::Add { dst: 3, a: reg(3), b: reg(4) },
                sub_in(5),
                Instr::Mul { dst: 4, a: reg(5), b: c(w_in * pulse_through_synapse(r, tm, ts, dt)) },
                Instr::Add { dst: 0, a: reg(3), b: reg(4) },
                Instr::Decay { dst: 1, a: reg(1), factor: Decay::from_f64(p11) },
                Instr::Mul { dst: 4, a: reg(5), b: c(w_in * (1.0 - p11)) },
                Instr::Add { dst: 1, a: reg(1), b: reg(4) },
            ];
            if let Some((theta, reset)) = threshold {
                code.push(spike(0, Compare::Gt, theta, c(reset), 0));
            }
            (code, d)
        }
        NeuronModel::Threshold(m) => {
            let d = set_drive(0.0, 1.0, 0.0);
            (
                vec![
                    sub_in(3),
                    Instr::Add { dst: 0, a: reg(3), b: reg(DRIVE) },
                    spike(0, Compare::Gt, m.threshold, reg(0), 0),
                ],
                d,
            )
        }
        NeuronModel::Izhikevich(m) => {
            // NEST's scheme in mV and ms: v' = v + h (0.04 v^2 + 5 v + 140 - u + I) + in, u' = u + h a (b v - u).
            let a = m.a * 1e-3; // per ms
            let d = set_drive(h_ms * 140.0, h_ms, m.i_offset * 1e3);
            let code = vec![
                Instr::Mul { dst: 3, a: reg(0), b: reg(0) },
                Instr::Mul { dst: 3, a: reg(3), b: c(0.04 * h_ms) },
                Instr::Mul { dst: 4, a: reg(0), b: c(1.0 + 5.0 * h_ms) },
                Instr::Add { dst: 3, a: reg(3), b: reg(4) },
                Instr::Mul { dst: 4, a: reg(1), b: c(h_ms) },
                Instr::Sub { dst: 3, a: reg(3), b: reg(4) },
                Instr::Add { dst: 3, a: reg(3), b: reg(DRIVE) },
                Instr::Add { dst: 3, a: reg(3), b: Operand::In(0) },
                Instr::Sub { dst: 3, a: reg(3), b: Operand::In(1) },
                Instr::Mul { dst: 4, a: reg(0), b: c(h_ms * a * m.b) },
                Instr::Mul { dst: 5, a: reg(1), b: c(1.0 - h_ms * a) },
                Instr::Add { dst: 1, a: reg(4), b: reg(5) },
                Instr::Add { dst: 0, a: reg(3), b: c(0.0) },
                Instr::SpikeIf {
                    reg: 0,
                    cmp: Compare::Ge,
                    threshold: c(m.v_peak * 1e3),
                    reset: c(m.c * 1e3),
                    bump_reg: 1,
                    bump: Accum::from_f64(m.d * 1e3),
                    refractory: 0,
                },
            ];
            (code, d)
        }
    };
    regs[DRIVE as usize] = drive_values;
    if let NeuronModel::Izhikevich(m) = &pop.model {
        regs[1] = regs[0].iter().map(|v| v.mul_round(Accum::from_f64(m.b))).collect();
    }
    (Program { code, v_register: 0 }, regs)
}
