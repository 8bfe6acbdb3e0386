//! Evaluation of `.snn` expressions: quantities with dimensions, lists, distributions, constants, units, builtin
//! and user-defined functions. Every result carries its dimension, so `20 ms + 1 mV` is an error at its span.

use std::collections::HashMap;

use soma_isa::units::{Dim, unit};

use super::ast::{BinOp, Call, Expr, ExprKind, Ident};
use super::lower::{LowerError, LowerErrorKind};
use crate::diag::Span;
use crate::ir::Values;

/// The value of an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number with its dimension (SI scale).
    Num(f64, Dim),
    /// A list.
    List(Vec<Value>),
    /// A distribution (`Values::Normal` or `Values::Uniform`) of quantities of one dimension.
    Dist(Values, Dim),
}

impl Value {
    /// What kind of value this is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Num(_, d) => d.describe(),
            Value::List(_) => "a list".into(),
            Value::Dist(_, d) => format!("a distribution of {}", d.describe()),
        }
    }
}

/// A user function: `def f(a, b) = body`.
#[derive(Clone, Debug)]
pub struct Def {
    /// Parameter names.
    pub params: Vec<String>,
    /// Body.
    pub body: Expr,
}

/// Constants and functions in scope.
#[derive(Default)]
pub struct Scope {
    /// Constants, in SI.
    pub consts: HashMap<String, Value>,
    /// User functions.
    pub defs: HashMap<String, Def>,
    /// Function calls evaluated so far, against [`CALL_BUDGET`]: `def`s calling each other several times expand
    /// exponentially, and a file must not hang the tool.
    calls: std::cell::Cell<u64>,
}

/// The most user-function calls one network may evaluate (a million: far beyond any real file, reached in well
/// under a second).
pub const CALL_BUDGET: u64 = 1_000_000;

fn err(kind: LowerErrorKind, span: Span, message: String, label: impl Into<String>) -> LowerError {
    LowerError { kind, span, message, label: label.into() }
}

const BUILTINS: &[&str] =
    &["sqrt", "exp", "ln", "log10", "abs", "round", "floor", "ceil", "min", "max", "normal", "uniform"];

/// Whether a name is taken by the language itself (units and builtin functions).
pub fn reserved(name: &str) -> bool {
    unit(name).is_some() || BUILTINS.contains(&name)
}

impl Scope {
    /// Evaluates an expression.
    pub fn eval(&self, e: &Expr) -> Result<Value, LowerError> {
        self.eval_in(e, &HashMap::new(), 0)
    }

    fn eval_in(&self, e: &Expr, locals: &HashMap<String, Value>, depth: u32) -> Result<Value, LowerError> {
        if depth > 64 {
            return Err(err(LowerErrorKind::Invalid, e.span, "functions nest too deeply (recursion?)".into(), ""));
        }
        match &e.kind {
            ExprKind::Number(x, None) => Ok(Value::Num(*x, Dim::NONE)),
            ExprKind::Number(x, Some(u)) => {
                let (dim, scale) = lookup_unit(u)?;
                // Divide by the exact power of ten of a sub-unit so that `-51 mV` is the double nearest -0.051.
                let si = if scale < 1.0 { x / (1.0 / scale).round() } else { x * scale };
                Ok(Value::Num(si, dim))
            }
            ExprKind::Name(id) => {
                if let Some(v) = locals.get(&id.name).or_else(|| self.consts.get(&id.name)) {
                    return Ok(v.clone());
                }
                if let Some((dim, scale)) = unit(&id.name) {
                    return Ok(Value::Num(scale, dim));
                }
                let mut known: Vec<&str> = locals.keys().chain(self.consts.keys()).map(String::as_str).collect();
                known.sort_unstable();
                let label = if known.is_empty() {
                    "no constants are defined before this point".to_string()
                } else {
                    format!("defined before this point: {}", known.join(", "))
                };
                Err(err(LowerErrorKind::UnknownName, id.span, format!("unknown name `{}`", id.name), label))
            }
            ExprKind::Neg(inner) => match self.eval_in(inner, locals, depth)? {
                Value::Num(x, d) => Ok(Value::Num(-x, d)),
                other => Err(type_error(inner.span, "a number", &other)),
            },
            ExprKind::Binary(op, l, r) => {
                let (a, b) = (self.eval_in(l, locals, depth)?, self.eval_in(r, locals, depth)?);
                let (Value::Num(x, dx), Value::Num(y, dy)) = (&a, &b) else {
                    let (span, v) = if matches!(a, Value::Num(..)) { (r.span, &b) } else { (l.span, &a) };
                    return Err(type_error(span, "a number", v));
                };
                binary(*op, (*x, *dx), (*y, *dy), e.span, r.span)
            }
            ExprKind::List(items) => {
                Ok(Value::List(items.iter().map(|i| self.eval_in(i, locals, depth)).collect::<Result<_, _>>()?))
            }
            ExprKind::Call(call) => self.call(call, locals, depth),
        }
    }

    fn call(&self, call: &Call, locals: &HashMap<String, Value>, depth: u32) -> Result<Value, LowerError> {
        let name = call.name.name.as_str();
        if let Some(def) = self.defs.get(name) {
            self.calls.set(self.calls.get() + 1);
            if self.calls.get() > CALL_BUDGET {
                return Err(err(
                    LowerErrorKind::Invalid,
                    call.span,
                    format!(
                        "more than {CALL_BUDGET} function calls to evaluate: `def`s that call each other expand exponentially; compute the value once in a `const`"
                    ),
                    "",
                ));
            }
            if call.args.len() != def.params.len() || call.args.iter().any(|a| a.name.is_some()) {
                return Err(err(
                    LowerErrorKind::Invalid,
                    call.span,
                    format!("`{name}` takes {} positional arguments ({})", def.params.len(), def.params.join(", ")),
                    "",
                ));
            }
            let mut inner = HashMap::new();
            for (p, a) in def.params.iter().zip(&call.args) {
                inner.insert(p.clone(), self.eval_in(&a.value, locals, depth)?);
            }
            return self.eval_in(&def.body, &inner, depth + 1);
        }
        let args: Vec<(Option<&Ident>, Value, Span)> = call
            .args
            .iter()
            .map(|a| Ok((a.name.as_ref(), self.eval_in(&a.value, locals, depth)?, a.value.span)))
            .collect::<Result<_, LowerError>>()?;
        match name {
            "normal" | "uniform" => distribution(call, &args),
            "min" | "max" => {
                let nums = numbers(call, &args, None)?;
                let Some(&(_, d, _)) = nums.first() else {
                    return Err(err(LowerErrorKind::Invalid, call.span, format!("`{name}` needs arguments"), ""));
                };
                if let Some(&(_, dd, span)) = nums.iter().find(|n| n.1 != d) {
                    return Err(dimension_error(span, d, dd));
                }
                let pick = |a: f64, b: f64| if name == "min" { a.min(b) } else { a.max(b) };
                Ok(Value::Num(nums.iter().map(|n| n.0).reduce(pick).unwrap_or(f64::NAN), d))
            }
            "sqrt" | "exp" | "ln" | "log10" | "abs" | "round" | "floor" | "ceil" => {
                let nums = numbers(call, &args, Some(1))?;
                let (x, d, span) = nums[0];
                let keeps_dim = matches!(name, "abs" | "round" | "floor" | "ceil");
                if !keeps_dim && name != "sqrt" && d != Dim::NONE {
                    return Err(dimension_error(span, Dim::NONE, d));
                }
                let (y, dim) = match name {
                    "sqrt" => {
                        let Some(h) = d.sqrt() else {
                            return Err(err(
                                LowerErrorKind::Dimension,
                                span,
                                format!("cannot take the square root of {}", d.describe()),
                                "",
                            ));
                        };
                        (x.sqrt(), h)
                    }
                    "exp" => (x.exp(), d),
                    "ln" => (x.ln(), d),
                    "log10" => (x.log10(), d),
                    "abs" => (x.abs(), d),
                    "round" => (x.round(), d),
                    "floor" => (x.floor(), d),
                    _ => (x.ceil(), d),
                };
                Ok(Value::Num(y, dim))
            }
            _ => {
                let mut known: Vec<&str> =
                    self.defs.keys().map(String::as_str).chain(BUILTINS.iter().copied()).collect();
                known.sort_unstable();
                Err(err(
                    LowerErrorKind::UnknownName,
                    call.name.span,
                    format!("unknown function `{name}`"),
                    format!("known functions: {}", known.join(", ")),
                ))
            }
        }
    }
}

fn lookup_unit(u: &Ident) -> Result<(Dim, f64), LowerError> {
    unit(&u.name).ok_or_else(|| {
        let known: Vec<&str> = soma_isa::units::UNITS.iter().map(|u| u.0).collect();
        err(
            LowerErrorKind::UnknownUnit,
            u.span,
            format!("unknown unit `{}`", u.name),
            format!("known units: {}", known.join(", ")),
        )
    })
}

fn binary(op: BinOp, (x, dx): (f64, Dim), (y, dy): (f64, Dim), span: Span, rspan: Span) -> Result<Value, LowerError> {
    Ok(match op {
        BinOp::Add | BinOp::Sub => {
            if dx != dy {
                return Err(err(
                    LowerErrorKind::Dimension,
                    span,
                    format!(
                        "cannot {} {} and {}",
                        if op == BinOp::Add { "add" } else { "subtract" },
                        dx.describe(),
                        dy.describe()
                    ),
                    "both sides must have the same unit",
                ));
            }
            Value::Num(if op == BinOp::Add { x + y } else { x - y }, dx)
        }
        BinOp::Mul => Value::Num(x * y, dx.times(dy)),
        BinOp::Div => Value::Num(x / y, dx.per(dy)),
        BinOp::Pow => {
            if dy != Dim::NONE {
                return Err(dimension_error(rspan, Dim::NONE, dy));
            }
            if dx == Dim::NONE {
                Value::Num(x.powf(y), dx)
            } else if y.fract() == 0.0 && y.abs() <= 8.0 {
                let n = y as i8;
                Value::Num(x.powi(n as i32), Dim::new(dx.s * n, dx.v * n, dx.a * n))
            } else {
                return Err(err(
                    LowerErrorKind::Dimension,
                    rspan,
                    format!("a quantity with units ({}) can only be raised to a small whole power", dx.describe()),
                    "",
                ));
            }
        }
    })
}

/// A dimension mismatch at `span`.
pub fn dimension_error(span: Span, expected: Dim, found: Dim) -> LowerError {
    err(
        LowerErrorKind::Dimension,
        span,
        format!("expected {}, found {}", expected.describe(), found.describe()),
        format!("expected {}", expected.describe()),
    )
}

/// A value of the wrong kind at `span`.
pub fn type_error(span: Span, expected: &str, found: &Value) -> LowerError {
    err(
        LowerErrorKind::Type,
        span,
        format!("expected {expected}, found {}", found.describe()),
        format!("expected {expected}"),
    )
}

fn numbers(
    call: &Call,
    args: &[(Option<&Ident>, Value, Span)],
    arity: Option<usize>,
) -> Result<Vec<(f64, Dim, Span)>, LowerError> {
    if let Some(n) = arity
        && args.len() != n
    {
        return Err(err(
            LowerErrorKind::Invalid,
            call.span,
            format!("`{}` takes {n} argument(s), got {}", call.name.name, args.len()),
            "",
        ));
    }
    args.iter()
        .map(|(name, v, span)| match (name, v) {
            (Some(n), _) => {
                Err(err(LowerErrorKind::Invalid, n.span, format!("`{}` takes no named arguments", call.name.name), ""))
            }
            (None, Value::Num(x, d)) => Ok((*x, *d, *span)),
            (None, other) => Err(type_error(*span, "a number", other)),
        })
        .collect()
}

fn distribution(call: &Call, args: &[(Option<&Ident>, Value, Span)]) -> Result<Value, LowerError> {
    let is_normal = call.name.name == "normal";
    let names: &[&str] = if is_normal { &["mean", "sd", "min", "max"] } else { &["low", "high"] };
    let mut slots: Vec<Option<(f64, Dim, Span)>> = vec![None; names.len()];
    for (i, (name, v, span)) in args.iter().enumerate() {
        let slot = match name {
            Some(n) => names.iter().position(|&k| k == n.name).ok_or_else(|| {
                err(
                    LowerErrorKind::UnknownKey,
                    n.span,
                    format!("`{}` has no argument `{}`", call.name.name, n.name),
                    format!("expected one of: {}", names.join(", ")),
                )
            })?,
            None if i < names.len() => i,
            None => {
                return Err(err(
                    LowerErrorKind::Invalid,
                    *span,
                    format!("too many arguments to `{}`", call.name.name),
                    "",
                ));
            }
        };
        let Value::Num(x, d) = v else {
            return Err(type_error(*span, "a number", v));
        };
        slots[slot] = Some((*x, *d, *span));
    }
    let required = 2;
    for (k, slot) in slots.iter().enumerate().take(required) {
        if slot.is_none() {
            return Err(err(
                LowerErrorKind::MissingKey,
                call.span,
                format!("`{}` needs `{}`", call.name.name, names[k]),
                format!(
                    "e.g. {}",
                    if is_normal {
                        "normal(mean = -58 mV, sd = 10 mV)"
                    } else {
                        "uniform(low = -60 mV, high = -50 mV)"
                    }
                ),
            ));
        }
    }
    let dim = slots[0].map_or(Dim::NONE, |s| s.1);
    for s in slots.iter().flatten() {
        if s.1 != dim {
            return Err(dimension_error(s.2, dim, s.1));
        }
    }
    let get = |k: usize| slots[k].map(|s| s.0);
    let dist = if is_normal {
        Values::Normal { mean: get(0).unwrap_or(f64::NAN), sd: get(1).unwrap_or(f64::NAN), min: get(2), max: get(3) }
    } else {
        Values::Uniform { low: get(0).unwrap_or(f64::NAN), high: get(1).unwrap_or(f64::NAN) }
    };
    Ok(Value::Dist(dist, dim))
}
