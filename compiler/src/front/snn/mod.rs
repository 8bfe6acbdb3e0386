//! The `.snn` text language: a small declarative language for spiking networks with physical units.
//!
//! [`parse`] runs the three steps: [`parse::parse_file`] (syntax, nom 8), [`lower::lower`] (names, units and
//! dimensions, statement keys) and leaves range checks to [`crate::valid`]. The grammar is in `docs/language.md`.

pub mod ast;
pub mod lower;
pub mod parse;
pub mod print;
pub mod value;

use soma_isa::units::Dim;

pub use lower::{LowerError, LowerErrorKind, Overrides};
pub use parse::SyntaxError;

use crate::diag::Diagnostic;
use crate::ir::Network;

/// Why a `.snn` text could not be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SnnError {
    /// The text does not follow the grammar.
    #[error("syntax error")]
    Syntax(SyntaxError),
    /// Names, units or keys are wrong.
    #[error("{} error(s) in the network description", .0.len())]
    Lower(Vec<LowerError>),
}

impl SnnError {
    /// The errors as diagnostics against `text`.
    pub fn diagnostics(&self, text: &str) -> Vec<Diagnostic> {
        match self {
            SnnError::Syntax(e) => vec![e.diagnostic(text)],
            SnnError::Lower(es) => es.iter().map(LowerError::diagnostic).collect(),
        }
    }
}

/// Reads a `.snn` text into the IR (not yet validated).
pub fn parse(text: &str, overrides: &Overrides) -> Result<Network, SnnError> {
    let file = parse::parse_file(text).map_err(SnnError::Syntax)?;
    lower::lower(&file, overrides).map_err(SnnError::Lower)
}

/// Evaluates a standalone constant expression such as `5 ms` or `0.1` (for `--set` and `--duration`).
pub fn eval_quantity(text: &str) -> Result<(f64, Dim), SnnError> {
    let expr = parse::parse_expr(text).map_err(SnnError::Syntax)?;
    match value::Scope::default().eval(&expr) {
        Ok(value::Value::Num(x, d)) => Ok((x, d)),
        Ok(other) => Err(SnnError::Lower(vec![value::type_error(expr.span, "a number", &other)])),
        Err(e) => Err(SnnError::Lower(vec![e])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_constants() {
        assert_eq!(eval_quantity("0.5").ok(), Some((0.5, Dim::NONE)));
        assert_eq!(eval_quantity("5 ms").ok(), Some((5e-3, Dim::TIME)));
        let text = "timestep 0.1 ms\nconst scale = 1\npopulation p[round(10 * scale)] : integrator { r = 1 }\n";
        let mut o = Overrides::new();
        o.insert("scale".into(), (0.5, Dim::NONE));
        let net = parse(text, &o).expect("parses");
        assert_eq!(net.populations.iter().next().map(|(_, p)| p.size), Some(5));
    }
}
