//! Files written whole: through a temporary file beside the output and a rename, so a reader (or a run that
//! failed half-way) never leaves half a file; temporary files of writers that were killed are removed. The CLI's
//! outputs and the Python package's both write through here.

use std::io::{self, Write};
use std::path::Path;

/// Removes the temporary files `.NAME.PID.tmp` that killed writers of `dir/NAME` left behind (their process is gone;
/// checked where the system says which processes exist).
fn remove_stale(dir: &Path, file_name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{file_name}.");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix(&prefix).and_then(|rest| rest.strip_suffix(".tmp"));
        if let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok())
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `e` with what was being done in front of its message.
fn context(e: io::Error, what: String) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Writes `path` whole: `write` fills a temporary file beside it, which then replaces it. The error says which
/// file could not be written or moved into place, and why.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output path names no file"))?
        .to_string_lossy();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    remove_stale(dir, &file_name);
    let cannot_write = |e| context(e, format!("cannot write {}", path.display()));
    let result = (|| -> io::Result<()> {
        let file = std::fs::File::create(&tmp).map_err(cannot_write)?;
        let mut buf = io::BufWriter::new(file);
        write(&mut buf).map_err(cannot_write)?;
        buf.flush().map_err(cannot_write)?;
        buf.into_inner().map_err(|e| cannot_write(e.into_error()))?.sync_all().map_err(cannot_write)?;
        std::fs::rename(&tmp, path).map_err(|e| context(e, format!("cannot move the output into {}", path.display())))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
