//! Reading a network file: parse (by extension), apply `--set` overrides, validate, and render every problem as
//! a diagnostic naming the file.

use std::path::Path;

use soma_compiler::diag::{Diagnostic, Span, render};
use soma_compiler::front::snn::{self, Overrides};
use soma_compiler::ir::Network;
use soma_compiler::valid::validate;

use crate::{Failure, InputArgs};

/// A network read from a file and validated.
pub struct Loaded {
    /// The network.
    pub network: Network,
    /// The file's display name.
    pub name: String,
    /// The file's text, for rendering later diagnostics.
    pub text: String,
}

/// At most this many diagnostics are printed; the rest are counted.
const MAX_DIAGNOSTICS: usize = 12;

/// Renders diagnostics of one source.
pub fn render_all(diags: &[Diagnostic], name: &str, text: &str) -> String {
    let mut out = diags.iter().take(MAX_DIAGNOSTICS).map(|d| render(d, name, text)).collect::<Vec<_>>().join("\n");
    if diags.len() > MAX_DIAGNOSTICS {
        out += &format!("\n... and {} more errors in {name}\n", diags.len() - MAX_DIAGNOSTICS);
    }
    out
}

fn overrides(set: &[String]) -> Result<Overrides, Failure> {
    let mut out = Overrides::new();
    for item in set {
        let Some((name, value)) = item.split_once('=') else {
            return Err(Failure::User(format!("error: --set {item}: expected NAME=VALUE, e.g. --set scale=0.1\n")));
        };
        let name = name.trim();
        let label = format!("--set {name}");
        let q =
            snn::eval_quantity(value).map_err(|e| Failure::User(render_all(&e.diagnostics(value), &label, value)))?;
        out.insert(name.to_string(), q);
    }
    Ok(out)
}

/// Reads, lowers and validates the input file.
pub fn load(args: &InputArgs) -> Result<Loaded, Failure> {
    let path: &Path = &args.file;
    let name = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "snn" {
        return Err(Failure::User(format!(
            "error: {name}: unsupported file type `.{ext}`\n  = soma reads .snn network descriptions (see docs/language.md)\n"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Failure::User(format!("error: cannot read {name}: {e}\n")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
        let d = Diagnostic {
            message: "the file is not UTF-8 text".into(),
            span: Span::new(at, at),
            label: "invalid byte here".into(),
        };
        Failure::User(render(&d, &name, &valid))
    })?;
    let overrides = overrides(&args.set)?;
    let network =
        snn::parse(&text, &overrides).map_err(|e| Failure::User(render_all(&e.diagnostics(&text), &name, &text)))?;
    if let Err(errors) = validate(&network) {
        let diags: Vec<Diagnostic> = errors.iter().map(|e| e.diagnostic()).collect();
        return Err(Failure::User(render_all(&diags, &name, &text)));
    }
    Ok(Loaded { network, name, text })
}
