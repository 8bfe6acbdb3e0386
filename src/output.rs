//! Output helpers: files written atomically (a temporary file renamed into place, so a failed run never leaves
//! a half-written file) and human-readable numbers.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

pub use soma_isa::report::thousands;
pub use soma_runtime::report::{PopulationRate, all_spikes, population_names, population_rates, rate_table};

/// What an output flag writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One file (`-` is stdout where a command allows it).
    File,
    /// A folder the command creates if needed.
    Folder,
}

/// Checks every output path before any work: its folder exists, a file's path is not a folder, and no output is
/// one of the inputs. `outputs` are `(flag, path, kind)`; the error names the flag and the user's path.
pub fn check_outputs(inputs: &[&Path], outputs: &[(&str, Option<&Path>, Output)]) -> Result<(), crate::Failure> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    for &(flag, path, kind) in outputs {
        let Some(path) = path else { continue };
        if path == Path::new("-") && kind == Output::File {
            continue;
        }
        let fail = |why: String| Err(crate::Failure::User(format!("error: {flag} {}: {why}\n", path.display())));
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        match kind {
            Output::File if path.is_dir() => return fail("is a folder; give a file name".into()),
            Output::Folder if path.exists() && !path.is_dir() => return fail("exists and is not a folder".into()),
            _ => {}
        }
        if !(parent.is_dir() || path.is_dir() && kind == Output::Folder) {
            return fail(format!("the folder {} does not exist; create it first", parent.display()));
        }
        if let Some(input) = inputs.iter().find(|i| same(i, path)) {
            return fail(format!("is also an input ({}); writing it would destroy it", input.display()));
        }
    }
    Ok(())
}

/// Writes a file through a temporary one beside it and a rename ([`soma_isa::file::write_atomic`]).
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    Ok(soma_isa::file::write_atomic(path, write)?)
}

/// Writes a set of files into `dir` so that a reader sees the old set or the new one, never a mix: the new set is
/// written into a temporary folder beside it, which then takes the folder's place (other files in an existing
/// folder are kept).
pub fn write_folder_atomic(dir: &Path, files: &[(&str, String)]) -> anyhow::Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = dir.file_name().context("the output folder has no name")?.to_string_lossy().into_owned();
    let (fresh, old) = (
        parent.join(format!(".{name}.{}.tmp", std::process::id())),
        parent.join(format!(".{name}.{}.old", std::process::id())),
    );
    let result = (|| -> anyhow::Result<()> {
        std::fs::create_dir_all(&fresh).with_context(|| format!("cannot write {}", dir.display()))?;
        if dir.is_dir() {
            for entry in std::fs::read_dir(dir)?.flatten() {
                let keep = !files.iter().any(|(f, _)| entry.file_name() == std::ffi::OsStr::new(f));
                if keep && entry.path().is_file() {
                    std::fs::copy(entry.path(), fresh.join(entry.file_name()))?;
                }
            }
        }
        for (file, body) in files {
            write_atomic(&fresh.join(file), |w: &mut dyn Write| w.write_all(body.as_bytes()))?;
        }
        if dir.exists() {
            std::fs::rename(dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
        }
        std::fs::rename(&fresh, dir).with_context(|| format!("cannot move the tables into {}", dir.display()))?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
        if old.exists() && !dir.exists() {
            let _ = std::fs::rename(&old, dir);
        }
    }
    result
}

/// Writes spikes `(step, population index, neuron)` as CSV `time_s,population,neuron`, a spike of step `k`
/// stamped `(k + 1) dt`.
pub fn write_spikes(path: &Path, dt: f64, names: &[String], spikes: &[(u32, u32, u32)]) -> Result<(), crate::Failure> {
    write_atomic(path, |w: &mut dyn Write| {
        writeln!(w, "time_s,population,neuron")?;
        for &(t, p, n) in spikes {
            writeln!(w, "{},{},{n}", soma_isa::report::step_end_s(t.into(), dt), names[p as usize])?;
        }
        Ok(())
    })
    .map_err(|e| crate::Failure::User(format!("error: {e:#}\n")))
}

/// The recall tests of `--recall FILE`, if given.
pub fn recall_tests(path: Option<&std::path::Path>) -> Result<Vec<soma_runtime::recall::RecallTest>, crate::Failure> {
    let Some(path) = path else { return Ok(Vec::new()) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::Failure::User(format!("error: --recall {}: {e}\n", path.display())))?;
    soma_runtime::recall::read_tests(&text, &path.display().to_string())
        .map_err(|e| crate::Failure::User(format!("error: {e}\n")))
}

/// Prints a command's report: the text on stdout, or with `json` the JSON on stdout and the text on stderr.
#[allow(clippy::print_stdout)]
pub fn emit(text: &str, json: bool, report: &impl serde::Serialize) -> Result<(), crate::Failure> {
    if json {
        eprint!("{text}");
        let json = serde_json::to_string_pretty(report).map_err(|e| crate::Failure::Internal(e.into()))?;
        stdout(&(json + "\n"))
    } else {
        stdout(text)
    }
}

/// A note on stderr about what was done (a file written), unless `quiet`.
pub fn note(quiet: bool, text: &str) {
    if !quiet {
        eprintln!("{text}");
    }
}

/// Writes `text` to standard output: a closed pipe (`| head`) ends the output quietly, any other failure (a
/// full disk) is an error, never a panic.
pub fn stdout(text: &str) -> Result<(), crate::Failure> {
    use std::io::ErrorKind;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(crate::Failure::User(format!("error: cannot write to standard output: {e}\n"))),
    }
}

/// A progress bar over `steps` time steps on stderr labelled `verb` (drawn only on a terminal; hidden when `quiet`).
pub fn step_bar(steps: u64, quiet: bool, verb: &str) -> Result<indicatif::ProgressBar, crate::Failure> {
    if quiet {
        return Ok(indicatif::ProgressBar::hidden());
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(steps), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {verb} [{{bar:30}}] {{pos}}/{{len}} steps, eta {{eta}}"
        ))
        .map_err(|e| crate::Failure::Internal(e.into()))?
        .progress_chars("=> "),
    );
    Ok(bar)
}

/// Every plastic synapse of `inst` whose projection is in `learned` (`(projection, final weights in synapse
/// order)`), one line each: `projection,pre,post,delay_s,weight_before,weight_after`.
pub fn write_weights(
    path: &Path,
    inst: &soma_isa::instance::Instance,
    learned: &[(usize, &[f64])],
) -> Result<(), crate::Failure> {
    write_atomic(path, |w: &mut dyn Write| {
        writeln!(w, "projection,pre,post,delay_s,weight_before,weight_after")?;
        for &(projection, after) in learned {
            let p = &inst.projections[projection];
            for (s, pre) in p.rows.pres().enumerate() {
                let (post, delay) = (p.rows.targets[s], p.rows.delays[s] as f64 * inst.dt);
                writeln!(w, "{},{pre},{post},{delay},{},{}", p.name, p.rows.weights[s], after[s])?;
            }
        }
        Ok(())
    })
    .map_err(|e| crate::Failure::User(format!("error: {e:#}\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_leaves_no_partial_file() {
        let dir = std::env::temp_dir().join(format!("soma-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("a.csv");
        let failed = write_atomic(&path, |w: &mut dyn Write| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 0, "the temporary file is removed");
        write_atomic(&path, |w: &mut dyn Write| w.write_all(b"ok")).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"ok");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
