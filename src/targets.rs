//! `soma targets` (or `soma targets list`): list the presets; `soma targets show NAME`: one with the source of
//! every constant.

use crate::{Failure, TargetsArgs};

/// Runs the command.
pub fn run(args: &TargetsArgs) -> Result<(), Failure> {
    match args.words.as_slice() {
        [] => list(),
        [list_word] if list_word == "list" => list(),
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
            "error: expected `soma targets`, `soma targets list` or `soma targets show NAME`, got `{}`\n",
            other.join(" ")
        ))),
    }
}

/// Every preset with its description.
fn list() -> Result<(), Failure> {
    let mut text = format!("{:<16} description\n", "target");
    for (name, description) in soma_targets::presets() {
        text += &format!("{name:<16} {description}\n");
    }
    text += "\nShow one with `soma targets show NAME`; compile against a copy with --target my.toml.\n";
    crate::output::stdout(&text)
}
