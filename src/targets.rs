//! `soma targets`: list the presets, or show one with the source of every constant.

use crate::{Failure, TargetsArgs};

/// Runs the command.
pub fn run(args: &TargetsArgs) -> Result<(), Failure> {
    match args.words.as_slice() {
        [] => {
            crate::output::stdout(&format!("{:<16} description\n", "target"))?;
            for (name, description) in soma_targets::presets() {
                crate::output::stdout(&format!("{name:<16} {description}\n"))?;
            }
            crate::output::stdout(&format!(
                "\nShow one with `soma targets show NAME`; compile against a copy with --target my.toml.\n"
            ))?;
            Ok(())
        }
        [show, name] if show == "show" => {
            let t = soma_targets::lookup(name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
            crate::output::stdout(&format!("{} ({} family): {}\n", t.name, t.family_name(), t.description))?;
            crate::output::stdout(&format!("fingerprint {:016x}\n\n", t.fingerprint))?;
            for (key, c) in t.constants() {
                crate::output::stdout(&format!("{key:<28} {:<14} {}\n", format!("{}", c.value), c.source))?;
            }
            Ok(())
        }
        other => Err(Failure::User(format!(
            "error: expected `soma targets` or `soma targets show NAME`, got `{}`\n",
            other.join(" ")
        ))),
    }
}
