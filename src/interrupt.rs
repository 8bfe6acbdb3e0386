//! Ctrl-C (and SIGTERM): the first asks the running simulation to stop where it reports progress, and the command
//! ends with exit code 130 without writing its outputs; a second ends the process at once. Outputs are written to
//! a temporary file and renamed into place, so neither way leaves a half-written file.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once, at start-up). A failure to install leaves Ctrl-C's default: the process ends.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: stopping at the next progress point (Ctrl-C again to quit at once)");
    });
}

/// The flag the engines and the reference watch.
pub fn flag() -> &'static AtomicBool {
    &STOP
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}
