//! The syntax tree of a `.snn` file, exactly as written (expressions unevaluated), with spans.

use crate::diag::Span;

/// A name as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Items in order.
    pub items: Vec<Item>,
}

/// A top-level statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// What it says.
    pub kind: ItemKind,
    /// The whole statement.
    pub span: Span,
}

/// The top-level statements.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `timestep EXPR`
    Timestep(Expr),
    /// `const NAME = EXPR`
    Const {
        /// Constant name.
        name: Ident,
        /// Value.
        value: Expr,
    },
    /// `def NAME(A, B) = EXPR`
    Def {
        /// Function name.
        name: Ident,
        /// Parameter names.
        params: Vec<Ident>,
        /// Body.
        body: Expr,
    },
    /// `population NAME[SIZE] : MODEL { ... }`
    Population {
        /// Name.
        name: Ident,
        /// Number of neurons.
        size: Expr,
        /// Neuron model name.
        model: Ident,
        /// Parameters.
        block: Block,
    },
    /// `projection PRE -> POST : CONNECTOR { ... }` and `gap A -> B : CONNECTOR { ... }`
    Projection {
        /// Whether this is `gap` (electrical) rather than `projection` (chemical).
        electrical: bool,
        /// Presynaptic side.
        pre: Ident,
        /// Postsynaptic side.
        post: Ident,
        /// Connector name and arguments.
        connector: Call,
        /// Synapse parameters.
        block: Block,
    },
    /// `source NAME[SIZE] : KIND { ... }`
    Source {
        /// Name.
        name: Ident,
        /// Number of channels.
        size: Expr,
        /// `poisson` or `spikes`.
        kind: Ident,
        /// Parameters.
        block: Block,
    },
    /// `current POP : KIND { ... }`
    Current {
        /// Target population.
        target: Ident,
        /// `dc` or `step`.
        kind: Ident,
        /// Parameters.
        block: Block,
    },
    /// `probe POP[A..B] : KIND`
    Probe {
        /// Population.
        population: Ident,
        /// Neuron range.
        range: Option<(Expr, Expr)>,
        /// `spikes` or `v`.
        kind: Ident,
    },
}

/// `{ key = value, ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Entries in order.
    pub entries: Vec<(Ident, Expr)>,
    /// The braces and all between.
    pub span: Span,
}

/// A name with optional arguments: `fixed_probability(0.02, autapses = false)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The callee.
    pub name: Ident,
    /// Arguments.
    pub args: Vec<Arg>,
    /// Whole call.
    pub span: Span,
}

/// A positional or named argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some` for `name = value`.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// Its shape.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// Expression shapes.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number, with its unit if one follows it: `20 ms`.
    Number(f64, Option<Ident>),
    /// A constant, parameter, unit or symbol.
    Name(Ident),
    /// `-x`
    Neg(Box<Expr>),
    /// `a op b`
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args)`
    Call(Call),
    /// `[a, b, c]`
    List(Vec<Expr>),
}
