//! `soma targets`: list the presets, or show one with the source of every constant.

use crate::{Failure, TargetsArgs};

/// Runs the command.
#[allow(clippy::print_stdout)]
pub fn run(args: &TargetsArgs) -> Result<(), Failure> {
    match args.words.as_slice() {
        [] => {
            println!("{:<16} description", "target");
            for (name, description) in soma_targets::presets() {
                println!("{name:<16} {description}");
            }
            println!("\nShow one with `soma targets show NAME`; compile against a copy with --target my.toml.");
            Ok(())
        }
        [show, name] if show == "show" => {
            let t = soma_targets::lookup(name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
            println!("{} ({} family): {}", t.name, t.family_name(), t.description);
            println!("fingerprint {:016x}\n", t.fingerprint);
            for (key, c) in t.constants() {
                println!("{key:<28} {:<14} {}", format!("{}", c.value), c.source);
            }
            Ok(())
        }
        other => Err(Failure::User(format!(
            "error: expected `soma targets` or `soma targets show NAME`, got `{}`\n",
            other.join(" ")
        ))),
    }
}
