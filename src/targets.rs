//! `soma targets` (or `soma targets list`): list the presets; `soma targets show NAME`: one with the source of
//! every constant; `--json` for either as JSON.

use crate::{Failure, TargetsArgs};

/// Runs the command.
pub fn run(args: &TargetsArgs) -> Result<(), Failure> {
    match args.words.as_slice() {
        [] => list(args.json),
        [list_word] if list_word == "list" => list(args.json),
        [show, name] if show == "show" => {
            let t = soma_targets::lookup(name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
            if args.json {
                let constants: Vec<serde_json::Value> = t
                    .constants()
                    .into_iter()
                    .map(|(key, c)| serde_json::json!({ "key": key, "value": c.value, "source": c.source }))
                    .collect();
                let json = serde_json::json!({
                    "name": t.name,
                    "family": t.family_name(),
                    "description": t.description,
                    "fingerprint": format!("{:016x}", t.fingerprint),
                    "constants": constants,
                });
                return crate::output::stdout(&format!("{json:#}\n"));
            }
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

/// Every preset with its description (as JSON: with its family too).
fn list(json: bool) -> Result<(), Failure> {
    if json {
        let mut rows = Vec::new();
        for (name, description) in soma_targets::presets() {
            let t = soma_targets::lookup(name).map_err(|e| Failure::User(format!("error: {e}\n")))?;
            rows.push(serde_json::json!({ "name": name, "family": t.family_name(), "description": description }));
        }
        return crate::output::stdout(&format!("{:#}\n", serde_json::Value::Array(rows)));
    }
    let mut text = format!("{:<16} description\n", "target");
    for (name, description) in soma_targets::presets() {
        text += &format!("{name:<16} {description}\n");
    }
    text += "\nShow one with `soma targets show NAME`; compile against a copy with --target my.toml.\n";
    crate::output::stdout(&text)
}
