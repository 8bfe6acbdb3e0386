//! `soma report`: reads the JSON of `soma run --json` (errors at the field's place) and a `--trace` file, and
//! writes the report's text summary, HTML page and CSV tables ([`soma_runtime::report::page`] makes them).

use std::io::Write;
use std::path::Path;

use crate::output::write_atomic;
use crate::{Failure, ReportArgs};
use soma_runtime::report::page::{NeuronTrace, RunJson, parse};

/// Reads a run report.
pub fn read(path: &Path) -> Result<RunJson, Failure> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Failure::User(format!("error: cannot read {name}: {e}\n")))?;
    // serde_json's errors end in "at line L column C": the message names the place as `FILE:L:C` and quotes the
    // line, so a wrong field is found in a pretty-printed report.
    let not_a_report = |e: serde_json::Error| {
        let message = e.to_string();
        let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
        let line = text.lines().nth(e.line().saturating_sub(1)).unwrap_or("").trim();
        let path = json_path(&text, e.line(), e.column());
        let at = if path.is_empty() { String::new() } else { format!(" (at {path})") };
        Failure::User(format!(
            "error: {name}:{}:{}{at}: not a `soma run --json` report: {message}\n  {} | {line}\n",
            e.line(),
            e.column(),
            e.line()
        ))
    };
    parse(&text).map_err(not_a_report)
}

/// Where in the document JSON `text` the place `line:column` (1-based, as serde_json reports it) is, as a field
/// path: `populations[2].energy_j`; empty at the top level.
fn json_path(text: &str, line: usize, column: usize) -> String {
    enum Level {
        Object(Option<String>),
        Array(usize),
    }
    let offset = text.lines().take(line.saturating_sub(1)).map(|l| l.len() + 1).sum::<usize>() + column;
    let (mut levels, mut string, mut in_string, mut escaped, mut last) =
        (Vec::new(), String::new(), false, false, String::new());
    for c in text.chars().take(offset) {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_string = false;
                    last = std::mem::take(&mut string);
                }
                _ => string.push(c),
            }
            continue;
        }
        match (c, levels.last_mut()) {
            ('"', _) => in_string = true,
            ('{', _) => levels.push(Level::Object(None)),
            ('[', _) => levels.push(Level::Array(0)),
            ('}' | ']', _) => {
                levels.pop();
            }
            (':', Some(Level::Object(key))) => *key = Some(std::mem::take(&mut last)),
            (',', Some(Level::Object(key))) => *key = None,
            (',', Some(Level::Array(i))) => *i += 1,
            _ => {}
        }
    }
    let mut path = String::new();
    for level in &levels {
        match level {
            Level::Object(Some(key)) if path.is_empty() => path += key,
            Level::Object(Some(key)) => path += &format!(".{key}"),
            Level::Object(None) => break,
            Level::Array(i) => path += &format!("[{i}]"),
        }
    }
    path
}

/// Runs the command.
pub fn run(args: &ReportArgs) -> Result<(), Failure> {
    let inputs: Vec<&Path> = std::iter::once(args.run.as_path()).chain(args.trace.as_deref()).collect();
    crate::output::check_outputs(
        &inputs,
        &[
            ("--html", args.html.as_deref(), crate::output::Output::File),
            ("--csv", args.csv.as_deref(), crate::output::Output::Folder),
        ],
    )?;
    let traces = args.trace.as_deref().map(read_traces).transpose()?.unwrap_or_default();
    let report = read(&args.run)?;
    let (text, html, tables) = (report.text(), report.html(&traces), report.csv_tables());
    crate::output::emit(&text, args.json, &report)?;
    if let Some(path) = &args.html {
        write_atomic(path, |w: &mut dyn Write| w.write_all(html.as_bytes()))
            .map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
        crate::output::note(args.quiet, &format!("wrote {}", path.display()));
    }
    if let Some(dir) = &args.csv {
        crate::output::write_folder_atomic(dir, &tables).map_err(|e| Failure::User(format!("error: {e:#}\n")))?;
        crate::output::note(args.quiet, &format!("wrote CSV tables to {}", dir.display()));
    }
    Ok(())
}

/// The traces of `soma run --trace FILE`, by neuron in the order they first appear.
fn read_traces(path: &Path) -> Result<Vec<NeuronTrace>, Failure> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Failure::User(format!("error: cannot read {name}: {e}\n")))?;
    let header = crate::run::TRACE_HEADER;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(header) {
        return Err(Failure::User(format!("error: {name}:1: expected the header `{header}` of `soma run --trace`\n")));
    }
    let mut traces: Vec<NeuronTrace> = Vec::new();
    for (i, line) in lines.enumerate() {
        let bad = |what: &str| Failure::User(format!("error: {name}:{}: {what}: `{line}`\n", i + 2));
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 6 {
            return Err(bad("expected 6 fields"));
        }
        let number = |s: &str, what: &str| s.trim().parse::<f64>().map_err(|_| bad(&format!("{what} is not a number")));
        let (t, v) = (number(f[0], "time_s")?, number(f[3], "v")?);
        let neuron: u32 = f[2].trim().parse().map_err(|_| bad("neuron is not a whole number"))?;
        let at = match traces.iter().position(|tr| tr.population == f[1] && tr.neuron == neuron) {
            Some(at) => at,
            None => {
                let fresh = NeuronTrace { population: f[1].to_string(), neuron, machine: vec![], reference: vec![] };
                traces.push(fresh);
                traces.len() - 1
            }
        };
        traces[at].machine.push((t, v));
        if !f[5].trim().is_empty() {
            let r = number(f[5], "reference_v")?;
            traces[at].reference.push((t, r));
        }
    }
    Ok(traces)
}

#[cfg(test)]
mod tests {
    use super::json_path;

    #[test]
    fn a_place_in_a_json_document_has_a_field_path() {
        let text = "{\n  \"a\": 1,\n  \"list\": [\n    {\"x\": 1},\n    {\"x\": \"oops\", \"y\": 2}\n  ],\n  \"b\": {\"c\": [1, 2, 3]}\n}\n";
        let at = |needle: &str| {
            let offset = text.find(needle).expect("needle") + needle.len();
            let line = text[..offset].matches('\n').count() + 1;
            let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
            json_path(text, line, column)
        };
        assert_eq!(at("\"a\": 1"), "a");
        assert_eq!(at("\"oops\""), "list[1].x");
        assert_eq!(at("[1, 2"), "b.c[1]");
        assert_eq!(json_path(text, 1, 1), "");
    }
}
