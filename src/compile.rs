//! `soma compile`: instantiate a network, map it onto a hardware target and write the image; the target's
//! family (found in the registry, [`crate::family`]) does the work.

use crate::{CompileArgs, Failure, family};

/// Runs the command.
pub fn run(args: &CompileArgs) -> Result<(), Failure> {
    crate::output::check_outputs(&[&args.input.file], &[("-o", args.output.as_deref(), crate::output::Output::File)])?;
    let target = soma_targets::lookup(&args.target).map_err(|e| Failure::User(format!("error: {e}\n")))?;
    family::for_target(&target)?.compile(args, &target)
}
