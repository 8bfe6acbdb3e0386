//! The neuron-program instruction set: a few fixed-point register operations executed for every neuron of a
//! core, once per time step. The compiler lowers each neuron model to a program; the runtime executes programs
//! without knowing the models, so a new model needs no runtime change. [`Program::step`] is the executable
//! specification of every instruction.
//!
//! A neuron has [`REGISTERS`] `Accum` registers (state and per-neuron constants, initialised by the image), a
//! refractory counter, and reads two inputs per step: `In(0)` and `In(1)`, the positive (excitatory) and negative
//! (inhibitory) synaptic input of the step.

use crate::Invalid;
use serde::{Deserialize, Serialize};

use crate::fixed::{Accum, Decay};

/// Registers per neuron.
pub const REGISTERS: usize = 8;

/// Where an operand comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    /// A register.
    Reg(u8),
    /// Synaptic input 0 (positive) or 1 (negative) of this step.
    In(u8),
    /// A constant.
    Const(Accum),
}

/// Comparison of a spike test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compare {
    /// `>=` (PyNN/NEST).
    Ge,
    /// `>` (NIR).
    Gt,
}

/// One instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Instr {
    /// `dst = a + b`, saturating.
    Add {
        /// Destination register.
        dst: u8,
        /// First operand.
        a: Operand,
        /// Second operand.
        b: Operand,
    },
    /// `dst = a - b`, saturating.
    Sub {
        /// Destination register.
        dst: u8,
        /// First operand.
        a: Operand,
        /// Second operand.
        b: Operand,
    },
    /// `dst = a * b` (s16.15), rounded and saturating.
    Mul {
        /// Destination register.
        dst: u8,
        /// First operand.
        a: Operand,
        /// Second operand.
        b: Operand,
    },
    /// `dst = a * factor` with a u0.32 factor.
    Decay {
        /// Destination register.
        dst: u8,
        /// Operand.
        a: Operand,
        /// Factor in [0, 1).
        factor: Decay,
    },
    /// If the refractory counter is positive: decrement it and skip the next `n` instructions.
    SkipIfRefractory {
        /// Instructions to skip.
        n: u8,
    },
    /// If `reg` compares to `threshold`: emit a spike, set `reg = reset`, add `bump` to register `bump_reg`
    /// (unless it is [`NO_REGISTER`]) and start a refractory period of `refractory` steps.
    SpikeIf {
        /// Register tested.
        reg: u8,
        /// Comparison.
        cmp: Compare,
        /// Threshold.
        threshold: Operand,
        /// Value after a spike.
        reset: Operand,
        /// Register bumped after a spike (Izhikevich's `u += d`).
        bump_reg: u8,
        /// The bump.
        bump: Accum,
        /// Refractory steps after a spike.
        refractory: u32,
    },
    /// `dst = max(a, b)`.
    Max {
        /// Destination register.
        dst: u8,
        /// First operand.
        a: Operand,
        /// Second operand.
        b: Operand,
    },
}

/// "No register" for [`Instr::SpikeIf::bump_reg`].
pub const NO_REGISTER: u8 = u8::MAX;

/// A neuron program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// The instructions, executed in order.
    pub code: Vec<Instr>,
    /// The register holding the membrane potential (for probes).
    pub v_register: u8,
}

/// A neuron's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NeuronState {
    /// Registers.
    pub regs: [Accum; REGISTERS],
    /// Remaining refractory steps.
    pub refractory: u32,
}

impl Program {
    /// Why the program is malformed, if it is (register, input or skip out of range).
    pub fn check(&self) -> Result<(), Invalid> {
        let reg = |r: u8| -> Result<(), Invalid> {
            if (r as usize) < REGISTERS { Ok(()) } else { Err(format!("register r{r} does not exist").into()) }
        };
        let op = |o: Operand| -> Result<(), Invalid> {
            match o {
                Operand::Reg(r) => reg(r),
                Operand::In(i) if i < 2 => Ok(()),
                Operand::In(i) => Err(format!("input in{i} does not exist").into()),
                Operand::Const(_) => Ok(()),
            }
        };
        reg(self.v_register)?;
        for (k, ins) in self.code.iter().enumerate() {
            match *ins {
                Instr::Add { dst, a, b }
                | Instr::Sub { dst, a, b }
                | Instr::Mul { dst, a, b }
                | Instr::Max { dst, a, b } => {
                    reg(dst)?;
                    op(a)?;
                    op(b)?;
                }
                Instr::Decay { dst, a, .. } => {
                    reg(dst)?;
                    op(a)?;
                }
                Instr::SkipIfRefractory { n } => {
                    if k + 1 + n as usize > self.code.len() {
                        return Err(format!("instruction {k} skips past the end").into());
                    }
                }
                Instr::SpikeIf { reg: r, threshold, reset, bump_reg, .. } => {
                    reg(r)?;
                    op(threshold)?;
                    op(reset)?;
                    if bump_reg != NO_REGISTER {
                        reg(bump_reg)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Executes the program for one neuron and one step; returns whether it spiked. `self` must pass
    /// [`Program::check`].
    pub fn step(&self, s: &mut NeuronState, input: [Accum; 2]) -> bool {
        let get = |s: &NeuronState, o: Operand| match o {
            Operand::Reg(r) => s.regs[r as usize],
            Operand::In(i) => input[i as usize & 1],
            Operand::Const(c) => c,
        };
        let mut spiked = false;
        let mut pc = 0;
        while pc < self.code.len() {
            match self.code[pc] {
                Instr::Add { dst, a, b } => s.regs[dst as usize] = get(s, a).saturating_add(get(s, b)),
                Instr::Sub { dst, a, b } => s.regs[dst as usize] = get(s, a).saturating_sub(get(s, b)),
                Instr::Mul { dst, a, b } => s.regs[dst as usize] = get(s, a).mul_round(get(s, b)),
                Instr::Max { dst, a, b } => s.regs[dst as usize] = get(s, a).max(get(s, b)),
                Instr::Decay { dst, a, factor } => s.regs[dst as usize] = get(s, a).decay(factor),
                Instr::SkipIfRefractory { n } => {
                    if s.refractory > 0 {
                        s.refractory -= 1;
                        pc += n as usize;
                    }
                }
                Instr::SpikeIf { reg, cmp, threshold, reset, bump_reg, bump, refractory } => {
                    let (v, t) = (s.regs[reg as usize], get(s, threshold));
                    if match cmp {
                        Compare::Ge => v >= t,
                        Compare::Gt => v > t,
                    } {
                        s.regs[reg as usize] = get(s, reset);
                        if bump_reg != NO_REGISTER {
                            s.regs[bump_reg as usize] = s.regs[bump_reg as usize].saturating_add(bump);
                        }
                        s.refractory = refractory;
                        spiked = true;
                    }
                }
            }
            pc += 1;
        }
        spiked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refractory_skips_and_spikes_reset() {
        let p = Program {
            code: vec![
                Instr::SkipIfRefractory { n: 1 },
                Instr::Add { dst: 0, a: Operand::Reg(0), b: Operand::In(0) },
                Instr::SpikeIf {
                    reg: 0,
                    cmp: Compare::Ge,
                    threshold: Operand::Const(Accum::from_f64(1.0)),
                    reset: Operand::Const(Accum::ZERO),
                    bump_reg: 1,
                    bump: Accum::from_f64(0.5),
                    refractory: 2,
                },
            ],
            v_register: 0,
        };
        p.check().expect("valid");
        let mut s = NeuronState::default();
        let one = [Accum::from_f64(0.6), Accum::ZERO];
        assert!(!p.step(&mut s, one));
        assert!(p.step(&mut s, one));
        assert_eq!((s.regs[0], s.regs[1].to_f64(), s.refractory), (Accum::ZERO, 0.5, 2));
        assert!(!p.step(&mut s, one) && !p.step(&mut s, one), "two refractory steps ignore input");
        assert_eq!(s.regs[0], Accum::ZERO);
        assert!(!p.step(&mut s, one));
        assert_eq!(s.regs[0].to_f64(), Accum::from_f64(0.6).to_f64());
    }

    #[test]
    fn malformed_programs_are_refused() {
        let bad = |code: Vec<Instr>| Program { code, v_register: 0 }.check().is_err();
        assert!(bad(vec![Instr::Add { dst: 9, a: Operand::Reg(0), b: Operand::Reg(0) }]));
        assert!(bad(vec![Instr::Add { dst: 0, a: Operand::In(2), b: Operand::Reg(0) }]));
        assert!(bad(vec![Instr::SkipIfRefractory { n: 1 }]));
    }
}
