//! `soma run`: execute an image (its family read from its tag) or a network on a target (its family from the
//! target's preset), through the registry ([`crate::family`]).

use crate::{Failure, RunArgs, family};

/// Runs the command.
pub fn run(args: &RunArgs) -> Result<(), Failure> {
    let inputs: Vec<&std::path::Path> =
        std::iter::once(args.input.file.as_path()).chain(args.spike_input.as_deref()).collect();
    crate::output::check_outputs(&inputs, &[("--spikes", args.spikes.as_deref(), crate::output::Output::File)])?;
    let path = &args.input.file;
    if path.extension().is_some_and(|e| e == "img") {
        if args.spike_input.is_some() {
            return Err(Failure::User("error: --input feeds a .nir graph; an image carries its inputs\n".into()));
        }
        let fixed: Vec<&str> = [
            (!args.input.set.is_empty(), "--set"),
            (args.input.dt.is_some(), "--dt"),
            (args.input.format.is_some(), "--format"),
            (args.boards.is_some(), "--boards"),
            (args.seed != 1, "--seed"),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect();
        if !fixed.is_empty() {
            return Err(Failure::User(format!(
                "error: {}: an image fixes its network, machine size and seed; run the network file with --target to \
                 change them\n",
                fixed.join(", ")
            )));
        }
        let bytes =
            std::fs::read(path).map_err(|e| Failure::User(format!("error: cannot read {}: {e}\n", path.display())))?;
        return family::for_image(&bytes, path)?.run_image(args);
    }
    let target = soma_targets::lookup(args.target.as_deref().unwrap_or("spinnaker1"))
        .map_err(|e| Failure::User(format!("error: {e}\n")))?;
    family::for_target(&target)?.run_network(args, &target)
}
