//! `soma import`: read any supported network file and write it as `.snn` text (which reads back to the same
//! network).

use std::io::Write;

use soma_compiler::front::snn::print::print;

use crate::output::write_atomic;
use crate::{Failure, ImportArgs, load};

/// Runs the command.
pub fn run(args: &ImportArgs) -> Result<(), Failure> {
    let output = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    crate::output::check_outputs(&[&args.input.file], &[("-o", output, crate::output::Output::File)])?;
    let loaded = load::load(&args.input, None, &[])?;
    let header = vec![
        format!("Imported by soma {} from {}.", env!("CARGO_PKG_VERSION"), loaded.name),
        "Every value is in SI base units (s, V, A, F, S) or a pure number.".to_string(),
    ];
    let text = print(&loaded.network, &header);
    let Some(output) = output else {
        return crate::output::stdout(&text);
    };
    write_atomic(output, |w: &mut dyn Write| w.write_all(text.as_bytes()))
        .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
    crate::output::note(
        args.quiet,
        &format!(
            "wrote {} ({} populations, {} projections)",
            output.display(),
            loaded.network.populations.len(),
            loaded.network.projections.len()
        ),
    );
    Ok(())
}
